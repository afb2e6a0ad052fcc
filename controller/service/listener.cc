#include "controller/service/listener.h"

#include <grpcpp/server_posix.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace swapchaos::controller {

absl::StatusOr<std::unique_ptr<PeerCheckedListener>> PeerCheckedListener::Bind(
    const std::string& path, std::ostream* log) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket path must be 1..", sizeof addr.sun_path - 1, " bytes: ", path));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  // 0600 from the moment the name exists: no window for another user.
  mode_t before = umask(0177);
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int bind_errno = errno;
  umask(before);
  if (rc != 0 || listen(fd, 64) != 0) {
    int err = rc != 0 ? bind_errno : errno;
    close(fd);
    if (rc == 0) unlink(path.c_str());
    return absl::UnavailableError(absl::StrCat("cannot listen at ", path, ": ", std::strerror(err)));
  }
  int stop_fd = eventfd(0, EFD_CLOEXEC);
  if (stop_fd < 0) {
    close(fd);
    unlink(path.c_str());
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  return std::unique_ptr<PeerCheckedListener>(new PeerCheckedListener(path, fd, stop_fd, log));
}

PeerCheckedListener::~PeerCheckedListener() {
  uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof one) != sizeof one && log_ != nullptr) {
    *log_ << "listener: cannot signal its thread: " << std::strerror(errno) << "\n";
  }
  if (thread_.joinable()) thread_.join();
  close(fd_);
  close(stop_fd_);
  unlink(path_.c_str());
}

void PeerCheckedListener::Serve(grpc::Server* server) {
  thread_ = std::thread([this, server] { AcceptLoop(server); });
}

void PeerCheckedListener::AcceptLoop(grpc::Server* server) {
  const uid_t self = geteuid();
  while (true) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      if (log_ != nullptr) *log_ << "listener: poll: " << std::strerror(errno) << "\n";
      return;
    }
    if (fds[1].revents != 0) return;
    // gRPC polls what it is given: the descriptor must not block.
    int conn = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn < 0) continue;  // the peer left before we took it, or a transient error
    ucred peer{};
    socklen_t len = sizeof peer;
    if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 ||
        (peer.uid != 0 && peer.uid != self)) {
      if (log_ != nullptr) {
        *log_ << "refused a connection from uid " << peer.uid << " (pid " << peer.pid
              << "): only root and uid " << self << " may drive this controller\n";
      }
      close(conn);
      continue;
    }
    grpc::AddInsecureChannelFromFd(server, conn);  // gRPC owns it from here
  }
}

}  // namespace swapchaos::controller
