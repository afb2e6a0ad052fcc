#ifndef SWAPCHAOS_PROCESS_SUBPROCESS_H_
#define SWAPCHAOS_PROCESS_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace swapchaos::process {

struct Credentials {
  uid_t uid;
  gid_t gid;
  std::vector<gid_t> groups;  // supplementary; none by default
};

struct SpawnOptions {
  std::vector<std::string> argv;
  // Standard output and error both go here (created, appended to).
  std::string log_path;
  // Descriptors the child inherits at the same numbers; all others close on exec.
  std::vector<int> keep_fds;
  // When >= 0, the child enters this network namespace before exec.
  int netns_fd = -1;
  // When set, the child drops to this user and groups once in its
  // namespace and its log open, before exec.
  std::optional<Credentials> run_as;
};

// A supervised child process (QEMU, nbd-server). The child:
// - dies with the controller (PR_SET_PDEATHSIG), even on SIGKILL of it;
// - runs in its own process group, so a terminal's Ctrl-C reaches only the
//   controller, which then shuts everything down in order;
// - has its output captured to a file from its first byte.
// Destroying a Subprocess kills and reaps the child if it still runs.
// Not thread-safe; spawn from the main thread (PDEATHSIG follows the thread).
class Subprocess {
 public:
  // Fails with NotFound naming the program when it cannot be executed.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Spawn(const SpawnOptions& options);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  const std::string& log_path() const { return log_path_; }

  // Non-blocking: true while the child has not exited.
  bool Running();
  // Waits up to `timeout` for exit; true if it has exited.
  bool WaitFor(std::chrono::milliseconds timeout);
  void Signal(int sig);
  // SIGTERM, up to `grace` to exit, then SIGKILL, each to the child's whole
  // process group (make's compilers too); always reaps.
  void Stop(std::chrono::milliseconds grace);
  // "exited with status 1" / "killed by signal 9" / "running".
  std::string DescribeExit();
  // The last `max_bytes` of the captured output, for error messages.
  std::string LogTail(size_t max_bytes = 2000) const;

 private:
  Subprocess(pid_t pid, std::string name, std::string log_path)
      : pid_(pid), name_(std::move(name)), log_path_(std::move(log_path)) {}

  const pid_t pid_;
  const std::string name_;
  const std::string log_path_;
  std::optional<int> wait_status_;
};

// Runs a tool to its end: OK when it exits 0 within `timeout`. Otherwise
// (or when `stopped` turns true, e.g. on Ctrl-C, checked every 20 ms) the
// tool's process group is killed and reaped, and the error (Aborted;
// Cancelled when stopped) names the program, how it ended and the tail of
// its output (`options.log_path`).
absl::Status RunToEnd(const SpawnOptions& options, std::chrono::seconds timeout,
                      const std::function<bool()>& stopped = nullptr);

// A short tool's output (stdout and stderr), run as RunToEnd runs it.
absl::StatusOr<std::string> OutputOf(const std::vector<std::string>& argv,
                                     std::chrono::seconds timeout);

}  // namespace swapchaos::process

#endif  // SWAPCHAOS_PROCESS_SUBPROCESS_H_
