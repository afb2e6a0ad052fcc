#ifndef SWAPCHAOS_CONTROLLER_VM_NBD_SERVER_H_
#define SWAPCHAOS_CONTROLLER_VM_NBD_SERVER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "controller/vm/netns.h"
#include "process/subprocess.h"

namespace swapchaos::controller {

// Debian's nbd-server exporting a sparse image, supervised. It runs in
// nbd-server's non-forking mode (-d), so the pid we hold is the process
// serving the victim: freezing or killing it acts on the live session.
// Readiness is its listening socket appearing in its own namespace's
// /proc/<pid>/net/tcp: a probe connection would use up a -d server.
// Started by root, it runs as the `nbd` user (else `nobody`): the guest
// under test talks to it. Its config and image are that user's, handed
// over open.
class NbdServer {
 public:
  static constexpr char kExportName[] = "swap";

  struct Options {
    std::string dir;  // config and image go here
    std::string listen_ip;
    uint16_t port = 0;
    uint64_t size_bytes = 0;
    const NetNamespace* ns = nullptr;  // null: the controller's namespace
    std::string log_path;
    std::chrono::milliseconds ready_timeout{10000};
  };

  // Unavailable, naming nbd-server and quoting its log, when it does not
  // listen within the timeout or exits first.
  static absl::StatusOr<std::unique_ptr<NbdServer>> Start(const Options& options);
  ~NbdServer();

  process::Subprocess& process() { return *process_; }
  const std::string& image_path() const { return image_; }

  // A new server on the same export, image and port, once the old one is
  // dead (a crash and restart); readiness as for Start.
  absl::Status Restart();

 private:
  NbdServer(Options o, std::optional<process::Credentials> user, std::string image, int config_fd,
            int image_fd)
      : options_(std::move(o)),
        user_(user),
        image_(std::move(image)),
        config_fd_(config_fd),
        image_fd_(image_fd) {}
  // nbd-server on the config, as `user_`, once it listens.
  absl::StatusOr<std::unique_ptr<process::Subprocess>> Spawn();
  const Options options_;
  const std::optional<process::Credentials> user_;
  const std::string image_;
  const int config_fd_;  // kept open for every restart
  const int image_fd_;
  std::unique_ptr<process::Subprocess> process_;
};

// True if `pid` itself holds a socket listening on `port` (per its
// namespace's /proc/<pid>/net/tcp and its own descriptors).
bool IsListening(pid_t pid, uint16_t port);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_VM_NBD_SERVER_H_
