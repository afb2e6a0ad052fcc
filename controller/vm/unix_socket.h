// The controller's listening Unix sockets (agent relays, QEMU's QMP).
#ifndef SWAPCHAOS_CONTROLLER_VM_UNIX_SOCKET_H_
#define SWAPCHAOS_CONTROLLER_VM_UNIX_SOCKET_H_

#include <string>

#include "absl/status/statusor.h"

namespace swapchaos::controller {

// A socket listening at `path` (whatever was there is replaced), mode 0600
// before it listens: nobody but its owner (and root) can connect, whatever
// the umask or the directory's mode. `what` names it in errors.
absl::StatusOr<int> ListenOwnerOnly(const std::string& path, int backlog, const char* what);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_VM_UNIX_SOCKET_H_
