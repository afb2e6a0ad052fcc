#ifndef SWAPCHAOS_CONTROLLER_RUN_RUN_H_
#define SWAPCHAOS_CONTROLLER_RUN_RUN_H_

#include <google/protobuf/message.h>

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/run/work_dir.h"
#include "controller/vm/agent_client.h"
#include "controller/vm/nbd_server.h"
#include "controller/vm/qemu.h"
#include "controller/vm/topology.h"
#include "swapchaos/controller.pb.h"

namespace swapchaos::controller {

struct BootEnv {
  std::string cache_dir;   // guest images, the acceleration probe's answer
  std::string agent_path;  // the swapchaos-agent binary to put in the guests
  std::vector<std::string> guest_tools;  // more host programs for the guests (benchmarks)
  // Polled; true ends the run in order (Ctrl-C, SIGTERM).
  std::function<bool()> stop_requested = [] { return false; };
  std::ostream* progress = nullptr;  // step-by-step messages
};

// One run's live parts: scratch directory, network namespace, nbd-server,
// the wire and the victim VMs and their agents, swap on in the victim.
// Start() brings them up in order; Finish() shuts them down in order and
// writes meta.json; destroying a Run that was not finished kills everything
// and leaves no meta.json, so a half-done run never passes for a finished one.
class Run {
 public:
  // Bad input comes back as InvalidArgument or NotFound (exit 2), the
  // harness's own failures as anything else (exit 3).
  static absl::StatusOr<std::unique_ptr<Run>> Start(const BootRequest& request, const BootEnv& env);
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  AgentClient& victim_agent() { return *victim_agent_; }
  AgentClient& wire_agent() { return *wire_agent_; }
  QemuVm& victim_vm() { return *victim_; }
  QemuVm& wire_vm() { return *wire_; }
  NbdServer& nbd_server() { return *server_; }
  const std::string& out_dir() const { return out_; }
  RunMeta& meta() { return meta_; }

  // Powers both VMs off, stops the server, records `outcome` in meta.json.
  void Finish(const std::string& outcome);

 private:
  Run() = default;
  absl::Status Boot(const BootRequest& request, const BootEnv& env);

  // Destroyed bottom-up: agents, VMs, relays, server, network, then the
  // scratch dir.
  std::unique_ptr<WorkDir> work_;
  std::unique_ptr<RunNetwork> net_;
  std::unique_ptr<NbdServer> server_;
  std::unique_ptr<AgentRelay> wire_relay_;
  std::unique_ptr<AgentRelay> victim_relay_;
  std::unique_ptr<QemuVm> wire_;
  std::unique_ptr<QemuVm> victim_;
  std::unique_ptr<AgentClient> wire_agent_;
  std::unique_ptr<AgentClient> victim_agent_;
  std::string out_;
  RunMeta meta_;
  std::chrono::steady_clock::time_point started_;
  double started_cpu_s_ = 0;
};

// runs/<name>-<UTC time>, the results directory when none is given.
std::string DefaultOutDir(const std::string& name);
// <prefix>-<UTC time>.
std::string StampedDir(const std::string& prefix);

// Whether a failed status is the user's to fix (exit 2) or ours (exit 3).
bool IsBadInput(const absl::Status& s);

// One line of JSON, proto field names, as telemetry.jsonl and meta.json hold.
std::string ToJson(const google::protobuf::Message& m);

// Writes `m` as JSON to `path` whole or not at all (a hidden temporary file
// beside it, then rename), so a reader never mistakes half a file for a
// result. On an error the file is as it was.
[[nodiscard]] absl::Status WriteJsonAtomically(const std::string& path,
                                               const google::protobuf::Message& m);
[[nodiscard]] absl::Status WriteFileAtomically(const std::string& path, const std::string& text);

double Seconds(std::chrono::steady_clock::duration d);

// "swapchaos VERSION (commit C)": what --version prints and runs record.
std::string ToolVersion();
// This host's name, as runs record it.
std::string HostName();

// CPU (user + system) this process has used so far, in seconds.
double ProcessCpuSeconds();

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_RUN_RUN_H_
