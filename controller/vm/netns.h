#ifndef SWAPCHAOS_CONTROLLER_VM_NETNS_H_
#define SWAPCHAOS_CONTROLLER_VM_NETNS_H_

#include <sys/types.h>

#include <functional>
#include <memory>

#include "absl/status/statusor.h"

namespace swapchaos::controller {

// A new, anonymous network namespace, held only by a descriptor and by the
// processes spawned into it. Nothing names it in /run/netns, so nothing can
// be left behind: when the controller and its children are gone, the
// kernel frees the namespace and every device in it, whatever the exit path.
class NetNamespace {
 public:
  static absl::StatusOr<std::unique_ptr<NetNamespace>> Create();
  ~NetNamespace();
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;

  int fd() const { return fd_; }
  ino_t inode() const { return inode_; }

  // Runs `fn` on a thread that has entered the namespace (sockets and tap
  // devices it opens belong to it) and returns its status.
  absl::Status Run(const std::function<absl::Status()>& fn) const;

 private:
  NetNamespace(int fd, ino_t inode) : fd_(fd), inode_(inode) {}
  const int fd_;
  const ino_t inode_;
};

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_VM_NETNS_H_
