#include "controller/run/run.h"

#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "commit.h"  // generated at build time: SWAPCHAOS_COMMIT
#include "controller/oracles/signatures.h"
#include "controller/run/failure.h"
#include "controller/vm/accel.h"
#include "kernels/guest_image.h"
#include "kernels/kernel_image.h"
#include "proto/json.h"

namespace swapchaos::controller {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

namespace {

// A booting kernel prints within this long, even under TCG.
constexpr auto kMaxConsoleSilence = std::chrono::seconds(60);
constexpr char kInitMarker[] = "swapchaos-init:";

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
  if (uint32_t k = r.swap().min_free_kbytes();
      k != 0 && (k < 128 || k > r.victim().memory_mib() * 256)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--min-free-kbytes must be 0 (the kernel's own) or 128 up to a quarter of --memory, got ",
        k));
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

// The kernel under test failed: `signature` titles the verdict.
absl::Status VictimKernelFailed(const std::string& signature, const std::string& message) {
  RunMeta partial;
  partial.set_kernel_failure(signature);
  partial.set_outcome(message);
  return KernelFailure(partial);
}

// The title of the first report on `vm`'s console that says the kernel
// broke (a panic, an oops, a BUG), or "".
std::string FatalReport(const QemuVm& vm) {
  std::ifstream in(vm.spec().console_path, std::ios::binary);
  std::string console((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const ConsoleFinding& f : ScanConsole(console)) {
    if (f.severity == Severity::kFatal) return f.title;
  }
  return "";
}

// A guest that never came up. The victim's kernel is the one under test:
// its failing to boot is a finding, titled by what its console says. The
// wire's is the default kernel: its failing is the user's installation.
absl::Status DidNotBoot(QemuVm& vm, const std::string& role, const std::string& otherwise,
                        const std::string& message) {
  if (role != "victim") return absl::InvalidArgumentError(message);
  std::string title = FatalReport(vm);
  return VictimKernelFailed(
      absl::StrCat("kernel did not boot: ", title.empty() ? otherwise : title), message);
}

absl::Status SilentKernel(QemuVm& vm, const std::string& role, std::chrono::seconds waited) {
  return DidNotBoot(vm, role, "no console output",
                    absl::StrCat("kernel ", vm.spec().kernel, " printed nothing on the ", role,
                                 " VM's console within ", waited.count(),
                                 " s (console: ", vm.spec().console_path, ")"));
}

// OK while a booting guest may still come up; otherwise why it never will.
// A guest that stops by itself before our init ran (with -no-reboot, QEMU
// exits 0 on the guest's reset, panic or power-off) or stays silent has a
// kernel that does not boot. QEMU failing is ours.
absl::Status BootWatch(QemuVm& vm, const std::string& role, std::chrono::seconds silence,
                       const std::function<bool()>& stop) {
  if (stop()) return absl::CancelledError("interrupted while booting");
  if (!vm.process().Running()) {
    std::string how = vm.process().DescribeExit();
    if (how == "exited with status 0" && !vm.ConsoleContains(kInitMarker)) {
      return DidNotBoot(vm, role, "reset before init",
                        absl::StrCat("kernel ", vm.spec().kernel,
                                     " stopped (reset, panic or power-off) before reaching init in "
                                     "the ",
                                     role, " VM (console: ", vm.spec().console_path, ", ",
                                     vm.ConsoleBytes(), " bytes)"));
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
// our init or reported itself broken, ours if it did neither.
absl::Status ClassifyBootFailure(const absl::Status& s, QemuVm& vm, const std::string& role,
                                 std::chrono::seconds timeout) {
  if (!absl::IsDeadlineExceeded(s)) return s;
  if (vm.ConsoleBytes() == 0) return SilentKernel(vm, role, timeout);
  if (!vm.ConsoleContains(kInitMarker)) {
    return DidNotBoot(
        vm, role, "hung before init",
        absl::StrCat("kernel ", vm.spec().kernel, " did not reach init in the ", role,
                     " VM: ", s.message(), " (console: ", vm.spec().console_path, ")"));
  }
  std::string message =
      absl::StrCat("the ", role, " VM reached init but its agent never answered: ", s.message(),
                   " (console: ", vm.spec().console_path, ")");
  if (role != "victim") return absl::UnavailableError(message);
  std::string title = FatalReport(vm);
  if (title.empty()) return absl::UnavailableError(message);
  return VictimKernelFailed(absl::StrCat("kernel did not boot: ", title), message);
}

// Swap over NBD not coming up: the victim kernel's doing if it reported
// itself broken or refused a step (the agent says so with ABORTED: the
// netlink connect, the device, swapon); else the path to the server, ours.
absl::Status ClassifySwapFailure(const absl::Status& s, QemuVm& victim) {
  std::string message = absl::StrCat("swap over NBD failed: ", s.message());
  std::string title = FatalReport(victim);
  if (!title.empty()) {
    return VictimKernelFailed(absl::StrCat("swap on NBD could not be enabled: ", title), message);
  }
  if (absl::IsAborted(s)) {
    absl::string_view why = s.message();
    why.remove_prefix(std::min(why.size(), why.find(": ") + 2));  // past "SwapConnect: "
    return VictimKernelFailed(absl::StrCat("swap on NBD could not be enabled: ", why), message);
  }
  return absl::UnavailableError(message);
}

}  // namespace

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  AppendJson(m, &out);
  return out;
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  fs::path target(path);
  // mkstemp: a name nobody can guess and O_EXCL, so a planted symlink
  // cannot redirect the write (a fixed ".NAME.tmp" did).
  std::string tmp =
      (target.parent_path() / ("." + target.filename().string() + ".XXXXXX")).string();
  int fd = mkstemp(tmp.data());
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("writing ", path, ": ", std::strerror(errno)));
  }
  size_t done = 0;
  int err = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : ENOSPC;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (err == 0 && fchmod(fd, 0644) != 0) err = errno;
  if (close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    unlink(tmp.c_str());  // the old file, if any, stays whole
    return absl::InternalError(absl::StrCat("writing ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

absl::Status WriteJsonAtomically(const std::string& path, const google::protobuf::Message& m) {
  return WriteFileAtomically(path, ToJson(m) + "\n");
}

std::string HostName() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

std::string ToolVersion() {
  return absl::StrCat("swapchaos ", SWAPCHAOS_VERSION, " (commit ", SWAPCHAOS_COMMIT, ")");
}

double Seconds(steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

double ProcessCpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

std::string StampedDir(const std::string& prefix) {
  return absl::StrCat(prefix, "-",
                      absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::UTCTimeZone()));
}

std::string DefaultOutDir(const std::string& name) {
  return StampedDir("runs/" + (name.empty() ? std::string("run") : name));
}

bool IsBadInput(const absl::Status& s) { return ClassOf(s) == FailureClass::kBadInput; }

absl::StatusOr<std::unique_ptr<Run>> Run::Start(const BootRequest& request, const BootEnv& env) {
  std::unique_ptr<Run> run(new Run());
  run->started_ = steady_clock::now();
  run->started_cpu_s_ = ProcessCpuSeconds();
  absl::Status s = run->Boot(request, env);
  if (std::optional<RunMeta> failed = KernelFailureRecord(s)) {
    // The run's record as far as it got, for the caller to keep and judge.
    RunMeta record = run->meta_;
    record.set_kernel_failure(failed->kernel_failure());
    record.set_outcome(failed->outcome());
    record.set_wall_s(Seconds(steady_clock::now() - run->started_));
    record.set_controller_cpu_s(ProcessCpuSeconds() - run->started_cpu_s_);
    return KernelFailure(record);
  }
  if (!s.ok()) return s;
  return run;
}

Run::~Run() {
  // Children first: the VMs and the server hold files in the scratch dir.
  victim_agent_.reset();
  wire_agent_.reset();
  victim_.reset();
  wire_.reset();
  server_.reset();
  net_.reset();
  work_.reset();
}

void Run::Finish(const std::string& outcome) {
  if (victim_agent_) victim_agent_->Shutdown().IgnoreError();
  if (wire_agent_) wire_agent_->Shutdown().IgnoreError();
  if (victim_) victim_->Quit(std::chrono::seconds(10));
  if (wire_) wire_->Quit(std::chrono::seconds(10));
  meta_.set_outcome(outcome);
  meta_.set_wall_s(Seconds(steady_clock::now() - started_));
  meta_.set_controller_cpu_s(ProcessCpuSeconds() - started_cpu_s_);
  // Finish runs on every exit path, error paths too: it says, not returns.
  if (absl::Status st = WriteJsonAtomically(out_ + "/meta.json", meta_); !st.ok()) {
    std::cerr << "swapchaos: " << st.message() << "\n";
  }
}

absl::Status Run::Boot(const BootRequest& request, const BootEnv& env) {
  std::ostream& say = *env.progress;
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
  out_ = fs::absolute(request.out_dir()).string();
  const std::string& out = out_;
  const std::string work_base = WorkDirBase();
  if (int swept = SweepAbandonedWorkDirs(work_base); swept > 0) {
    say << "removed " << swept << " work directories of runs whose controller was killed\n";
  }
  auto work = WorkDir::Create(work_base);
  if (!work.ok()) return work.status();
  work_ = std::move(*work);
  const std::string& scratch = work_->path();

  say << "kernel under test: " << victim_kernel->release << " (" << victim_kernel->path << ")\n";
  auto victim_image = kernels::BuildGuestImage(
      kernels::AgentImageSpec(*victim_kernel, env.agent_path, env.guest_tools), env.cache_dir);
  if (!victim_image.ok()) return victim_image.status();
  auto wire_image = kernels::BuildGuestImage(
      kernels::AgentImageSpec(*wire_kernel, env.agent_path, env.guest_tools), env.cache_dir);
  if (!wire_image.ok()) return wire_image.status();
  auto probe_image = kernels::BuildGuestImage(kernels::ProbeImageSpec(), env.cache_dir);
  if (!probe_image.ok()) return probe_image.status();

  auto accel = ChooseAccel(env.cache_dir, wire_kernel->path, *probe_image, scratch);
  if (!accel.ok()) return accel.status();
  say << "acceleration: " << accel->accel << " (" << accel->reason << ")\n";

  RunMeta& meta = meta_;
  meta.set_command("boot");
  meta.set_tool(ToolVersion());
  meta.set_host(HostName());
  meta.set_started_at(JsonTimeNow());
  *meta.mutable_kernel() = Identity(*victim_kernel);
  *meta.mutable_wire_kernel() = Identity(*wire_kernel);
  meta.set_accel(accel->accel);
  meta.set_accel_reason(accel->reason);
  *meta.mutable_request() = request;

  auto net = CreateRunNetwork();
  if (!net.ok()) return net.status();
  net_ = std::move(*net);
  auto server = NbdServer::Start({.dir = scratch,
                                  .listen_ip = topology::kServerIp,
                                  .port = topology::kNbdPort,
                                  .size_bytes = request.swap().size_bytes(),
                                  .ns = net_->ns.get(),
                                  .log_path = out + "/nbd-server.log"});
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  say << "nbd-server listening on " << topology::kServerIp << ":" << topology::kNbdPort
      << " in the run's network namespace\n";

  // The agents are reachable through these relays alone (agent_relay.h).
  auto victim_relay = StartAgentRelay(*net_, GuestRole::kVictim, scratch);
  if (!victim_relay.ok()) return victim_relay.status();
  victim_relay_ = std::move(*victim_relay);
  auto wire_relay = StartAgentRelay(*net_, GuestRole::kWire, scratch);
  if (!wire_relay.ok()) return wire_relay.status();
  wire_relay_ = std::move(*wire_relay);
  VmPaths paths{out, scratch};
  QemuSpec wire_spec = WireQemuSpec(*net_, wire_kernel->path, *wire_image, accel->accel, paths);
  QemuSpec victim_spec =
      VictimQemuSpec(*net_, victim_kernel->path, *victim_image, request.victim().memory_mib(),
                     request.victim().cpus(), accel->accel, paths);
  auto wire = QemuVm::Start(wire_spec);
  if (!wire.ok()) return wire.status();
  wire_ = std::move(*wire);
  auto victim = QemuVm::Start(victim_spec);
  if (!victim.ok()) return victim.status();
  victim_ = std::move(*victim);
  say << "booting victim and wire VMs (console: " << victim_spec.console_path << ")\n";

  victim_agent_ = std::make_unique<AgentClient>(victim_relay_->target());
  wire_agent_ = std::make_unique<AgentClient>(wire_relay_->target());
  const auto timeout = std::chrono::seconds(request.boot_timeout_s());
  const auto silence = std::min<std::chrono::seconds>(kMaxConsoleSilence, timeout);
  auto deadline = steady_clock::now() + timeout;
  auto wire_ready = std::async(std::launch::async, [&] {
    auto r = wire_agent_->WaitReady(
        deadline, [&] { return BootWatch(*wire_, "wire", silence, env.stop_requested); });
    return std::pair(r.status(), steady_clock::now());
  });
  auto victim_info = victim_agent_->WaitReady(
      deadline, [&] { return BootWatch(*victim_, "victim", silence, env.stop_requested); });
  auto victim_ready_at = steady_clock::now();
  auto [wire_status, wire_ready_at] = wire_ready.get();
  if (absl::Status s = ClassifyBootFailure(victim_info.status(), *victim_, "victim", timeout);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ClassifyBootFailure(wire_status, *wire_, "wire", timeout); !s.ok()) return s;
  meta.set_boot_to_ready_s(Seconds(victim_ready_at - victim_->started()));
  meta.set_wire_boot_to_ready_s(Seconds(wire_ready_at - wire_->started()));
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
  swap_req.set_no_reconnect(request.swap().no_reconnect());
  swap_req.set_min_free_kbytes(request.swap().min_free_kbytes());
  if (request.swap().has_watermark_boost_factor()) {
    swap_req.set_watermark_boost_factor(request.swap().watermark_boost_factor());
  }
  auto swap = victim_agent_->SwapConnect(swap_req);
  if (!swap.ok()) return ClassifySwapFailure(swap.status(), *victim_);
  meta.mutable_swap()->set_device(swap->device());
  meta.mutable_swap()->set_export_size_bytes(swap->export_size_bytes());
  meta.mutable_swap()->set_min_free_kbytes(swap->min_free_kbytes());
  say << "swap on " << swap->device() << " (" << (swap->export_size_bytes() >> 20)
      << " MiB over NBD through the wire), vm.min_free_kbytes " << swap->min_free_kbytes() << "\n";

  return absl::OkStatus();
}

}  // namespace swapchaos::controller
