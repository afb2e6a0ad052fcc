#include "controller/vm/qemu.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "controller/vm/qmp.h"
#include "controller/vm/unix_socket.h"

namespace swapchaos::controller {

namespace {

constexpr int kConsoleFdSet = 1;

// Who QEMU runs as: not root beside a kernel under test. Under KVM it keeps
// /dev/kvm's group.
std::optional<process::Credentials> QemuCredentials(const std::string& accel) {
  if (geteuid() != 0) return std::nullopt;
  process::Credentials c{.uid = 65534, .gid = 65534, .groups = {}};
  struct stat st;
  if (accel == "kvm" && stat("/dev/kvm", &st) == 0) c.groups = {st.st_gid};
  return c;
}

// `path` for QEMU to read as /proc/self/fd/N, which checks the file's own
// mode: when others may not read it, a copy in memory that they may.
absl::StatusOr<int> OpenReadable(const std::string& path, const char* what) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    std::string err = std::strerror(errno);
    if (fd >= 0) close(fd);
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", what, " ", path, ": ", err));
  }
  if (st.st_mode & S_IROTH) return fd;
  int copy = memfd_create(what, MFD_CLOEXEC);
  off_t offset = 0;
  while (copy >= 0 && offset < st.st_size) {
    ssize_t n = sendfile(copy, fd, &offset, static_cast<size_t>(st.st_size - offset));
    if (n <= 0) {
      close(copy);
      copy = -1;
    }
  }
  close(fd);
  if (copy < 0) return absl::UnavailableError(absl::StrCat("cannot copy ", what, " ", path));
  return copy;
}

// Closes every descriptor it holds when it goes.
struct OwnedFds {
  std::vector<int> fds;
  ~OwnedFds() {
    for (int fd : fds) close(fd);
  }
  int Keep(int fd) {
    fds.push_back(fd);
    return fd;
  }
};

}  // namespace

std::vector<std::string> QemuArgv(const QemuSpec& s, const QemuFds& fds) {
  // loglevel=7, never quiet: hung-task reports need their call traces.
  // zswap off or it absorbs the swap traffic under test. panic=-1 with
  // -no-reboot turns a panic into QEMU's exit, with the console kept.
  std::string append =
      absl::StrCat("console=ttyS0,115200 loglevel=7 zswap.enabled=0 panic=-1 ", s.append);
  // QEMU runs beside a guest whose kernel is under test: besides not being
  // root (Start), seccomp denies it new programs, privilege changes and
  // obsolete calls.
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
                                   absl::StrCat("/proc/self/fd/", fds.kernel),
                                   "-initrd",
                                   absl::StrCat("/proc/self/fd/", fds.initrd),
                                   "-append",
                                   append,
                                   "-add-fd",
                                   absl::StrCat("fd=", fds.console, ",set=", kConsoleFdSet),
                                   "-chardev",
                                   absl::StrCat("file,id=console,path=/dev/fdset/", kConsoleFdSet),
                                   "-serial",
                                   "chardev:console"};
  if (fds.qmp >= 0) {
    argv.insert(argv.end(),
                {"-chardev", absl::StrCat("socket,id=qmp,fd=", fds.qmp, ",server=on,wait=off"),
                 "-mon", "chardev=qmp,mode=control"});
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
  // QEMU holds its own copies once started; ours go on every path.
  OwnedFds owned;
  QemuFds fds;
  auto kernel = OpenReadable(spec.kernel, "kernel");
  if (!kernel.ok()) return kernel.status();
  fds.kernel = owned.Keep(*kernel);
  auto initrd = OpenReadable(spec.initrd, "initrd");
  if (!initrd.ok()) return initrd.status();
  fds.initrd = owned.Keep(*initrd);
  int console = open(spec.console_path.c_str(),
                     O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (console < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", spec.console_path, ": ", std::strerror(errno)));
  }
  fds.console = owned.Keep(console);
  if (!spec.qmp_path.empty()) {
    auto qmp = ListenOwnerOnly(spec.qmp_path, 4, "QMP");
    if (!qmp.ok()) return qmp.status();
    fds.qmp = owned.Keep(*qmp);
  }
  std::vector<int> keep = owned.fds;
  for (const NicSpec& n : spec.nics) {
    if (n.tap_fd >= 0) keep.push_back(n.tap_fd);
  }
  auto p = process::Subprocess::Spawn({.argv = QemuArgv(spec, fds),
                                       .log_path = spec.log_path,
                                       .keep_fds = keep,
                                       .netns_fd = spec.netns_fd,
                                       .run_as = QemuCredentials(spec.accel)});
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
