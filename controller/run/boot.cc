#include "controller/run/boot.h"

#include <google/protobuf/util/json_util.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/vm/accel.h"
#include "controller/vm/agent_client.h"
#include "controller/vm/nbd_server.h"
#include "controller/vm/qemu.h"
#include "controller/vm/topology.h"
#include "kernels/guest_image.h"
#include "kernels/kernel_image.h"

namespace swapchaos::controller {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

namespace {

// A booting kernel prints within this long, even under TCG.
constexpr auto kMaxConsoleSilence = std::chrono::seconds(60);
constexpr char kInitMarker[] = "swapchaos-init:";

double Seconds(steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A scratch directory for sockets, configs and the swap image; removed on
// every exit path that runs destructors (children die with us otherwise).
class WorkDir {
 public:
  static absl::StatusOr<WorkDir> Create() {
    std::string tmpl = (fs::temp_directory_path() / "swapchaos-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("cannot create a work directory in ", fs::temp_directory_path().string()));
    }
    return WorkDir(tmpl);
  }
  WorkDir(WorkDir&& o) noexcept : path_(std::exchange(o.path_, "")) {}
  ~WorkDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit WorkDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  return out;
}

std::string UtcNow(const char* format) {
  time_t t = time(nullptr);
  tm utc;
  gmtime_r(&t, &utc);
  char buf[64];
  strftime(buf, sizeof buf, format, &utc);
  return buf;
}

KernelIdentity Identity(const kernels::KernelImage& k) {
  KernelIdentity id;
  id.set_path(k.path);
  id.set_release(k.release);
  id.set_sha256(k.sha256);
  return id;
}

absl::Status Validate(const BootRequest& r) {
  if (r.victim().memory_mib() < 128 || r.victim().memory_mib() > 16384) {
    return absl::InvalidArgumentError(
        absl::StrCat("--memory must be 128..16384 MiB, got ", r.victim().memory_mib()));
  }
  if (r.victim().cpus() < 1 || r.victim().cpus() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("--cpus must be 1..64, got ", r.victim().cpus()));
  }
  if (r.swap().size_bytes() < (16u << 20)) {
    return absl::InvalidArgumentError("--swap-size must be at least 16M");
  }
  if (r.telemetry_hz() < 1 || r.telemetry_hz() > 100) {
    return absl::InvalidArgumentError("--telemetry-hz must be 1..100");
  }
  if (r.boot_timeout_s() < 5) return absl::InvalidArgumentError("--boot-timeout must be >= 5 s");
  if (r.out_dir().empty()) return absl::InvalidArgumentError("--out DIR is required");
  std::error_code ec;
  if (fs::exists(r.out_dir(), ec) && !fs::is_empty(r.out_dir(), ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--out ", r.out_dir(),
                     " already holds files; choose a new directory (results are never "
                     "overwritten)"));
  }
  return absl::OkStatus();
}

absl::Status SilentKernel(QemuVm& vm, const std::string& role, std::chrono::seconds waited) {
  return absl::InvalidArgumentError(absl::StrCat(
      "kernel ", vm.spec().kernel, " printed nothing on the ", role, " VM's console within ",
      waited.count(), " s (console: ", vm.spec().console_path, ")"));
}

// OK while a booting guest may still come up; otherwise why it never will.
// A guest that stops by itself before our init ran (with -no-reboot, QEMU
// exits 0 on the guest's reset, panic or power-off) or stays silent has a
// kernel that does not boot: bad input. QEMU failing is ours.
absl::Status BootWatch(QemuVm& vm, const std::string& role, std::chrono::seconds silence,
                       const std::function<bool()>& stop) {
  if (stop()) return absl::CancelledError("interrupted while booting");
  if (!vm.process().Running()) {
    std::string how = vm.process().DescribeExit();
    if (how == "exited with status 0" && !vm.ConsoleContains(kInitMarker)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "kernel ", vm.spec().kernel,
          " stopped (reset, panic or power-off) before reaching "
          "init in the ",
          role, " VM (console: ", vm.spec().console_path, ", ", vm.ConsoleBytes(), " bytes)"));
    }
    return absl::UnavailableError(absl::StrCat("QEMU for the ", role, " ", how, "; its output:\n",
                                               vm.process().LogTail(1500)));
  }
  if (steady_clock::now() - vm.started() > silence && vm.ConsoleBytes() == 0) {
    return SilentKernel(vm, role, silence);
  }
  return absl::OkStatus();
}

// The agent not answering in time: the kernel's fault if it never reached
// our init, ours if it did.
absl::Status ClassifyBootFailure(const absl::Status& s, QemuVm& vm, const std::string& role,
                                 std::chrono::seconds timeout) {
  if (!absl::IsDeadlineExceeded(s)) return s;
  if (vm.ConsoleBytes() == 0) return SilentKernel(vm, role, timeout);
  if (!vm.ConsoleContains(kInitMarker)) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel ", vm.spec().kernel, " did not reach init in the ", role,
                     " VM: ", s.message(), " (console: ", vm.spec().console_path, ")"));
  }
  return absl::UnavailableError(absl::StrCat("the ", role, " VM reached init but its agent ",
                                             "never answered: ", s.message(),
                                             " (console: ", vm.spec().console_path, ")"));
}

uint64_t Get(const google::protobuf::Map<std::string, uint64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

std::string LiveLine(double t, const agent::Sample& s) {
  const auto& mi = s.meminfo_kib();
  uint64_t swap_total = Get(mi, "SwapTotal"), swap_free = Get(mi, "SwapFree");
  return absl::StrFormat(
      "[%6.1fs] free %5d MiB  avail %5d MiB  swap used %5d/%d MiB  pswpin %d  pswpout %d  "
      "throttled %d  psi some %.2f full %.2f  nbd inflight %d/%d",
      t, Get(mi, "MemFree") / 1024, Get(mi, "MemAvailable") / 1024, (swap_total - swap_free) / 1024,
      swap_total / 1024, Get(s.vmstat(), "pswpin"), Get(s.vmstat(), "pswpout"),
      Get(s.vmstat(), "pgscan_direct_throttle"), s.memory_some().avg10(), s.memory_full().avg10(),
      s.nbd_inflight_reads(), s.nbd_inflight_writes());
}

// Streams the victim's telemetry into telemetry.jsonl on its own thread.
class TelemetryRecorder {
 public:
  TelemetryRecorder(AgentClient& client, uint32_t hz, const std::string& path)
      : out_(path, std::ios::app) {
    agent::TelemetryRequest req;
    req.set_rate_hz(hz);
    thread_ = std::thread([this, &client, req] {
      auto reader = client.stub().Telemetry(&ctx_, req);
      agent::Sample s;
      while (reader->Read(&s)) {
        out_ << ToJson(s) << "\n";
        out_.flush();
        std::lock_guard<std::mutex> lock(mu_);
        latest_ = s;
        ++count_;
      }
      reader->Finish().IgnoreError();
    });
  }
  ~TelemetryRecorder() {
    ctx_.TryCancel();
    thread_.join();
  }
  std::optional<agent::Sample> Latest() {
    std::lock_guard<std::mutex> lock(mu_);
    return latest_;
  }
  uint64_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }

 private:
  grpc::ClientContext ctx_;
  std::ofstream out_;
  std::mutex mu_;
  std::optional<agent::Sample> latest_;
  uint64_t count_ = 0;
  std::thread thread_;
};

}  // namespace

std::string DefaultOutDir() { return UtcNow("runs/boot-%Y%m%d-%H%M%S"); }

bool IsBadInput(const absl::Status& s) { return absl::IsInvalidArgument(s) || absl::IsNotFound(s); }

absl::Status RunBoot(const BootRequest& request, const BootEnv& env) {
  std::ostream& say = *env.progress;
  auto wall_start = steady_clock::now();
  if (absl::Status s = Validate(request); !s.ok()) return s;

  auto victim_path = request.victim().kernel().empty()
                         ? kernels::DefaultKernelPath()
                         : absl::StatusOr<std::string>(request.victim().kernel());
  if (!victim_path.ok()) return victim_path.status();
  auto victim_kernel = kernels::ReadKernelImage(*victim_path, request.victim().modules_dir());
  if (!victim_kernel.ok()) return victim_kernel.status();
  if (victim_kernel->modules_dir.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no modules for kernel ", victim_kernel->release, " (looked in /lib/modules/",
                     victim_kernel->release, "); pass --modules DIR"));
  }
  auto wire_path = kernels::DefaultKernelPath();
  if (!wire_path.ok()) return wire_path.status();
  auto wire_kernel = kernels::ReadKernelImage(*wire_path);
  if (!wire_kernel.ok()) return wire_kernel.status();

  std::error_code ec;
  fs::create_directories(request.out_dir(), ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create --out ", request.out_dir(), ": ", ec.message()));
  }
  const std::string out = fs::absolute(request.out_dir()).string();
  auto work = WorkDir::Create();
  if (!work.ok()) return work.status();

  say << "kernel under test: " << victim_kernel->release << " (" << victim_kernel->path << ")\n";
  auto victim_image = kernels::BuildGuestImage(
      kernels::AgentImageSpec(*victim_kernel, env.agent_path), env.cache_dir);
  if (!victim_image.ok()) return victim_image.status();
  auto wire_image = kernels::BuildGuestImage(kernels::AgentImageSpec(*wire_kernel, env.agent_path),
                                             env.cache_dir);
  if (!wire_image.ok()) return wire_image.status();
  auto probe_image = kernels::BuildGuestImage(kernels::ProbeImageSpec(), env.cache_dir);
  if (!probe_image.ok()) return probe_image.status();

  auto accel = ChooseAccel(env.cache_dir, wire_kernel->path, *probe_image, work->path());
  if (!accel.ok()) return accel.status();
  say << "acceleration: " << accel->accel << " (" << accel->reason << ")\n";

  RunMeta meta;
  meta.set_command("boot");
  meta.set_started_at(UtcNow("%Y-%m-%dT%H:%M:%SZ"));
  *meta.mutable_kernel() = Identity(*victim_kernel);
  *meta.mutable_wire_kernel() = Identity(*wire_kernel);
  meta.set_accel(accel->accel);
  meta.set_accel_reason(accel->reason);
  *meta.mutable_request() = request;

  auto net = CreateRunNetwork();
  if (!net.ok()) return net.status();
  auto server = NbdServer::Start({.dir = work->path(),
                                  .listen_ip = topology::kServerIp,
                                  .port = topology::kNbdPort,
                                  .size_bytes = request.swap().size_bytes(),
                                  .ns = (*net)->ns.get(),
                                  .log_path = out + "/nbd-server.log"});
  if (!server.ok()) return server.status();
  say << "nbd-server listening on " << topology::kServerIp << ":" << topology::kNbdPort
      << " in the run's network namespace\n";

  auto victim_port = FreeLoopbackPort();
  auto wire_port = FreeLoopbackPort();
  if (!victim_port.ok()) return victim_port.status();
  if (!wire_port.ok()) return wire_port.status();
  VmPaths paths{out, work->path()};
  QemuSpec wire_spec =
      WireQemuSpec(**net, wire_kernel->path, *wire_image, accel->accel, *wire_port, paths);
  QemuSpec victim_spec =
      VictimQemuSpec(**net, victim_kernel->path, *victim_image, request.victim().memory_mib(),
                     request.victim().cpus(), accel->accel, *victim_port, paths);
  auto wire = QemuVm::Start(wire_spec);
  if (!wire.ok()) return wire.status();
  auto victim = QemuVm::Start(victim_spec);
  if (!victim.ok()) return victim.status();
  say << "booting victim and wire VMs (console: " << victim_spec.console_path << ")\n";

  AgentClient victim_agent(*victim_port);
  AgentClient wire_agent(*wire_port);
  const auto timeout = std::chrono::seconds(request.boot_timeout_s());
  const auto silence = std::min<std::chrono::seconds>(kMaxConsoleSilence, timeout);
  auto deadline = steady_clock::now() + timeout;
  auto wire_ready = std::async(std::launch::async, [&] {
    auto r = wire_agent.WaitReady(
        deadline, [&] { return BootWatch(**wire, "wire", silence, env.stop_requested); });
    return std::pair(r.status(), steady_clock::now());
  });
  auto victim_info = victim_agent.WaitReady(
      deadline, [&] { return BootWatch(**victim, "victim", silence, env.stop_requested); });
  auto victim_ready_at = steady_clock::now();
  auto [wire_status, wire_ready_at] = wire_ready.get();
  if (absl::Status s = ClassifyBootFailure(victim_info.status(), **victim, "victim", timeout);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ClassifyBootFailure(wire_status, **wire, "wire", timeout); !s.ok()) return s;
  meta.set_boot_to_ready_s(Seconds(victim_ready_at - (*victim)->started()));
  meta.set_wire_boot_to_ready_s(Seconds(wire_ready_at - (*wire)->started()));
  say << absl::StrFormat("victim agent ready after %.1f s (kernel %s), wire after %.1f s\n",
                         meta.boot_to_ready_s(), victim_info->kernel_release(),
                         meta.wire_boot_to_ready_s());

  agent::SwapConnectRequest swap_req;
  swap_req.set_server_address(topology::kServerIp);
  swap_req.set_server_port(topology::kNbdPort);
  swap_req.set_export_name(NbdServer::kExportName);
  swap_req.set_request_timeout_s(request.swap().request_timeout_s());
  swap_req.set_dead_conn_timeout_s(request.swap().dead_conn_timeout_s());
  swap_req.set_swap_priority(-1);
  auto swap = victim_agent.SwapConnect(swap_req);
  if (!swap.ok()) {
    return absl::UnavailableError(absl::StrCat("swap over NBD failed: ", swap.status().message()));
  }
  meta.mutable_swap()->set_device(swap->device());
  meta.mutable_swap()->set_export_size_bytes(swap->export_size_bytes());
  say << "swap on " << swap->device() << " (" << (swap->export_size_bytes() >> 20)
      << " MiB over NBD through the wire)\n";

  absl::Status outcome;
  {
    TelemetryRecorder telemetry(victim_agent, request.telemetry_hz(), out + "/telemetry.jsonl");
    // The wire's counters show the NBD traffic really crossed it.
    TelemetryRecorder wire_telemetry(wire_agent, request.telemetry_hz(),
                                     out + "/wire-telemetry.jsonl");
    if (request.spike_mib() > 0) {
      agent::SpikeRequest spike;
      spike.set_mib(request.spike_mib());
      spike.set_seconds(request.duration_s() > 0 ? request.duration_s() : 86400);
      auto pid = victim_agent.Spike(spike);
      if (!pid.ok()) return pid.status();
      say << "memory spike of " << request.spike_mib() << " MiB started (pid " << pid->pid()
          << ")\n";
    }
    auto run_start = steady_clock::now();
    auto next_print = run_start;
    while (true) {
      auto now = steady_clock::now();
      if (env.stop_requested()) {
        meta.set_outcome("interrupted");
        break;
      }
      if (request.duration_s() > 0 &&
          now - run_start >= std::chrono::seconds(request.duration_s())) {
        meta.set_outcome("completed");
        break;
      }
      if (!(*victim)->process().Running() || !(*wire)->process().Running()) {
        outcome = absl::UnavailableError(absl::StrCat(
            "a VM ended during the run: victim QEMU ", (*victim)->process().DescribeExit(),
            ", wire QEMU ", (*wire)->process().DescribeExit(), " (consoles in ", out, ")"));
        meta.set_outcome(std::string(outcome.message()));
        break;
      }
      if (now >= next_print) {
        if (auto s = telemetry.Latest()) say << LiveLine(Seconds(now - run_start), *s) << "\n";
        next_print += std::chrono::seconds(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    say << "shutting down (" << telemetry.count() << " telemetry samples in " << out
        << "/telemetry.jsonl)\n";
  }

  victim_agent.Shutdown().IgnoreError();
  wire_agent.Shutdown().IgnoreError();
  (*victim)->Quit(std::chrono::seconds(10));
  (*wire)->Quit(std::chrono::seconds(10));
  meta.set_wall_s(Seconds(steady_clock::now() - wall_start));
  // meta.json appears whole or not at all.
  std::string tmp = out + "/.meta.json.tmp";
  std::ofstream(tmp) << ToJson(meta) << "\n";
  fs::rename(tmp, out + "/meta.json", ec);
  return outcome;
}

}  // namespace swapchaos::controller
