#ifndef SWAPCHAOS_CONTROLLER_SERVICE_LISTENER_H_
#define SWAPCHAOS_CONTROLLER_SERVICE_LISTENER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <ostream>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace swapchaos::controller {

// The controller's Unix socket, accepted by us rather than by gRPC so each
// peer's kernel-given credentials (SO_PEERCRED) are checked before gRPC sees
// a byte: the socket is created 0600 and only root or the controller's own
// user is admitted, whatever the socket's mode becomes later. Admitted
// connections are handed to the gRPC server; refused ones are closed and
// logged with the peer's uid and pid.
class PeerCheckedListener {
 public:
  // Binds `path` (which must not exist: `serve` decides what to do with a
  // stale socket before) with mode 0600.
  static absl::StatusOr<std::unique_ptr<PeerCheckedListener>> Bind(const std::string& path,
                                                                   std::ostream* log);
  ~PeerCheckedListener();  // stops accepting, closes and removes the socket

  // Starts accepting for `server`, which must outlive this listener.
  void Serve(grpc::Server* server);

 private:
  PeerCheckedListener(std::string path, int fd, int stop_fd, std::ostream* log)
      : path_(std::move(path)), fd_(fd), stop_fd_(stop_fd), log_(log) {}
  void AcceptLoop(grpc::Server* server);

  const std::string path_;
  const int fd_;       // the listening socket
  const int stop_fd_;  // an eventfd the destructor signals
  std::ostream* const log_;
  std::thread thread_;
};

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_SERVICE_LISTENER_H_
