#ifndef SWAPCHAOS_CONTROLLER_VM_QEMU_H_
#define SWAPCHAOS_CONTROLLER_VM_QEMU_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "process/subprocess.h"

namespace swapchaos::controller {

struct NicSpec {
  std::string id;  // QMP name, e.g. for set_link
  std::string mac;
  int tap_fd = -1;  // a data NIC: a tap made in the run's namespace
  // A control NIC (tap_fd < 0): user networking, restrict=on, with only
  // 127.0.0.1:host_port forwarded to guest_ip:guest_port.
  uint16_t host_port = 0;
  std::string guest_ip;
  uint16_t guest_port = 0;
};

struct QemuSpec {
  std::string name;  // "victim", "wire"
  std::string kernel;
  std::string initrd;
  std::string append;  // beyond the console and logging parameters every guest gets
  uint32_t memory_mib = 512;
  uint32_t cpus = 1;
  std::string accel = "tcg";  // "tcg" or "kvm"
  std::vector<NicSpec> nics;
  std::string console_path;  // serial console, captured from the first byte
  std::string qmp_path;      // empty: no QMP socket
  std::string log_path;      // QEMU's own output
  int netns_fd = -1;         // >= 0: QEMU runs in this network namespace
};

// What QEMU is handed open rather than by path: it may run as another user
// than the files' owner (QemuVm::Start), and no path reaches an option
// string.
struct QemuFds {
  int kernel = -1;   // read as /proc/self/fd/N
  int initrd = -1;   // likewise
  int console = -1;  // written through -add-fd's /dev/fdset
  int qmp = -1;      // a listening Unix socket; -1: no QMP
};

// The command line for `spec` with `fds`: pure, so tests read it without
// starting QEMU.
std::vector<std::string> QemuArgv(const QemuSpec& spec, const QemuFds& fds);

// A running QEMU, supervised. Destroying it kills QEMU if it still runs.
// Started by root, QEMU runs as `nobody` (with /dev/kvm's group under KVM):
// the controller opens its files and binds its QMP socket (0600) for it.
class QemuVm {
 public:
  static absl::StatusOr<std::unique_ptr<QemuVm>> Start(const QemuSpec& spec);

  const QemuSpec& spec() const { return spec_; }
  process::Subprocess& process() { return *process_; }
  std::chrono::steady_clock::time_point started() const { return started_; }

  // Bytes the guest has written to its console so far.
  uint64_t ConsoleBytes() const;
  bool ConsoleContains(const std::string& text) const;
  // Asks QEMU to quit over QMP, then waits; kills it if that fails.
  void Quit(std::chrono::milliseconds grace);
  // QMP set_link: the cable of NIC `netdev` (its -netdev id) in or out.
  absl::Status SetLink(const std::string& netdev, bool up);

 private:
  QemuVm(QemuSpec spec, std::unique_ptr<process::Subprocess> p)
      : spec_(std::move(spec)),
        process_(std::move(p)),
        started_(std::chrono::steady_clock::now()) {}
  const QemuSpec spec_;
  std::unique_ptr<process::Subprocess> process_;
  const std::chrono::steady_clock::time_point started_;
};

// Boots `spec` and returns the seconds from QEMU's start until its console
// shows `marker`; QEMU is stopped either way. DeadlineExceeded after `timeout`.
absl::StatusOr<double> SecondsToConsoleMarker(const QemuSpec& spec, const std::string& marker,
                                              std::chrono::milliseconds timeout);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_VM_QEMU_H_
