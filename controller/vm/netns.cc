#include "controller/vm/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"

namespace swapchaos::controller {

absl::StatusOr<std::unique_ptr<NetNamespace>> NetNamespace::Create() {
  int fd = -1;
  int err = 0;
  // unshare() moves only the calling thread, so a throwaway thread does it.
  std::thread([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      err = errno;
      return;
    }
    fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) err = errno;
  }).join();
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create a network namespace: ", std::strerror(err),
        err == EPERM ? " (swapchaos needs root, or CAP_SYS_ADMIN and CAP_NET_ADMIN)" : ""));
  }
  struct stat st;
  fstat(fd, &st);
  return std::unique_ptr<NetNamespace>(new NetNamespace(fd, st.st_ino));
}

NetNamespace::~NetNamespace() { close(fd_); }

absl::Status NetNamespace::Run(const std::function<absl::Status()>& fn) const {
  absl::Status result;
  std::thread([&] {
    if (setns(fd_, CLONE_NEWNET) != 0) {
      result = absl::UnavailableError(
          absl::StrCat("cannot enter the run's network namespace: ", std::strerror(errno)));
      return;
    }
    result = fn();
  }).join();
  return result;
}

}  // namespace swapchaos::controller
