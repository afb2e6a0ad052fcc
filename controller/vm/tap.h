#ifndef SWAPCHAOS_CONTROLLER_VM_TAP_H_
#define SWAPCHAOS_CONTROLLER_VM_TAP_H_

#include <string>

#include "absl/status/statusor.h"

namespace swapchaos::controller {

// A tap device (no packet info header) in the calling thread's namespace;
// returns its descriptor, to be handed to QEMU. The device lives as long as
// the descriptor does.
absl::StatusOr<int> CreateTap(const std::string& name);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_VM_TAP_H_
