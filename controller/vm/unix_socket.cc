#include "controller/vm/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace swapchaos::controller {

absl::StatusOr<int> ListenOwnerOnly(const std::string& path, int backlog, const char* what) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) {
    return absl::InvalidArgumentError(absl::StrCat(what, " socket path too long: ", path));
  }
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  unlink(path.c_str());
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      chmod(path.c_str(), 0600) != 0 || listen(fd, backlog) != 0) {
    int err = errno;
    if (fd >= 0) close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot listen at ", path, " (", what, "): ", std::strerror(err)));
  }
  return fd;
}

}  // namespace swapchaos::controller
