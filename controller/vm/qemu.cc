#include "controller/vm/qemu.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "controller/vm/qmp.h"

namespace swapchaos::controller {

namespace {

// A value inside a QEMU option string: a comma there would start another
// option (a run directory named "x,y" once added options to -chardev).
std::string OptionValue(const std::string& v) { return absl::StrReplaceAll(v, {{",", ",,"}}); }

}  // namespace

std::vector<std::string> QemuArgv(const QemuSpec& s) {
  // loglevel=7, never quiet: hung-task reports need their call traces.
  // zswap off or it absorbs the swap traffic under test. panic=-1 with
  // -no-reboot turns a panic into QEMU's exit, with the console kept.
  std::string append =
      absl::StrCat("console=ttyS0,115200 loglevel=7 zswap.enabled=0 panic=-1 ", s.append);
  // QEMU runs as root beside a guest whose kernel is under test: seccomp
  // denies it new programs, privilege changes and obsolete calls.
  std::vector<std::string> argv = {"qemu-system-x86_64",
                                   "-name",
                                   s.name,
                                   "-sandbox",
                                   "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
                                   "resourcecontrol=deny",
                                   "-nodefaults",
                                   "-no-user-config",
                                   "-no-reboot",
                                   "-display",
                                   "none",
                                   "-machine",
                                   "pc",
                                   "-accel",
                                   s.accel == "kvm" ? "kvm" : "tcg,thread=multi",
                                   "-cpu",
                                   s.accel == "kvm" ? "host" : "max",
                                   "-m",
                                   absl::StrCat(s.memory_mib),
                                   "-smp",
                                   absl::StrCat(s.cpus),
                                   "-kernel",
                                   s.kernel,
                                   "-initrd",
                                   s.initrd,
                                   "-append",
                                   append,
                                   "-chardev",
                                   absl::StrCat("file,id=console,path=", OptionValue(s.console_path)),
                                   "-serial",
                                   "chardev:console"};
  if (!s.qmp_path.empty()) {
    argv.insert(argv.end(),
                {"-qmp", absl::StrCat("unix:", OptionValue(s.qmp_path), ",server=on,wait=off")});
  }
  for (const NicSpec& n : s.nics) {
    std::string netdev =
        n.tap_fd >= 0
            ? absl::StrCat("tap,id=", n.id, ",fd=", n.tap_fd)
            : absl::StrCat("user,id=", n.id, ",restrict=on,hostfwd=tcp:127.0.0.1:", n.host_port,
                           "-", n.guest_ip, ":", n.guest_port);
    // No option ROM: the firmware would spend boot time on a PXE ROM we never use.
    argv.insert(argv.end(),
                {"-netdev", netdev, "-device",
                 absl::StrCat("virtio-net-pci,netdev=", n.id, ",mac=", n.mac, ",romfile=")});
  }
  return argv;
}

absl::StatusOr<std::unique_ptr<QemuVm>> QemuVm::Start(const QemuSpec& spec) {
  std::vector<int> fds;
  for (const NicSpec& n : spec.nics) {
    if (n.tap_fd >= 0) fds.push_back(n.tap_fd);
  }
  auto p = Subprocess::Spawn({QemuArgv(spec), spec.log_path, fds, spec.netns_fd});
  if (!p.ok()) return p.status();
  return std::unique_ptr<QemuVm>(new QemuVm(spec, std::move(*p)));
}

uint64_t QemuVm::ConsoleBytes() const {
  struct stat st;
  return stat(spec_.console_path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

bool QemuVm::ConsoleContains(const std::string& text) const {
  std::ifstream in(spec_.console_path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str().find(text) != std::string::npos;
}

void QemuVm::Quit(std::chrono::milliseconds grace) {
  if (!process_->Running()) return;
  if (!spec_.qmp_path.empty()) {
    if (auto qmp = QmpClient::Connect(spec_.qmp_path, std::chrono::milliseconds(1000)); qmp.ok()) {
      (*qmp)->Execute("quit").IgnoreError();  // QEMU may close before replying
    }
  }
  if (!process_->WaitFor(grace)) process_->Stop(std::chrono::milliseconds(0));
}

absl::Status QemuVm::SetLink(const std::string& netdev, bool up) {
  auto qmp = QmpClient::Connect(spec_.qmp_path, std::chrono::milliseconds(2000));
  if (!qmp.ok()) return qmp.status();
  auto reply = (*qmp)->Execute(
      "set_link", absl::StrCat(R"({"name": ")", netdev, R"(", "up": )", up ? "true" : "false", "}"));
  return reply.status();
}

absl::StatusOr<double> SecondsToConsoleMarker(const QemuSpec& spec, const std::string& marker,
                                              std::chrono::milliseconds timeout) {
  auto vm = QemuVm::Start(spec);
  if (!vm.ok()) return vm.status();
  auto deadline = (*vm)->started() + timeout;
  while (!(*vm)->ConsoleContains(marker)) {
    if (!(*vm)->process().Running()) {
      return absl::UnavailableError(
          absl::StrCat("QEMU (", spec.accel, ") ", (*vm)->process().DescribeExit(),
                       " before the guest reached init: ", (*vm)->process().LogTail(500)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      (*vm)->process().Stop(std::chrono::milliseconds(0));
      return absl::DeadlineExceededError(absl::StrCat(
          "guest did not reach init within ", timeout.count() / 1000, " s with ", spec.accel));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - (*vm)->started()).count();
  (*vm)->process().Stop(std::chrono::milliseconds(0));
  return seconds;
}

}  // namespace swapchaos::controller
