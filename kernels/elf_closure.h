#ifndef SWAPCHAOS_KERNELS_ELF_CLOSURE_H_
#define SWAPCHAOS_KERNELS_ELF_CLOSURE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace swapchaos::kernels {

// Every file the dynamic loader would map to run `binary`: its interpreter
// and the transitive DT_NEEDED libraries, found the way ld.so finds them
// (DT_RPATH, DT_RUNPATH, then the system directories). Read from the ELF
// files themselves, so a new dependency of the agent needs no list edited.
// Paths are as found (symlinks not resolved), sorted, without `binary`.
absl::StatusOr<std::vector<std::string>> ResolveLibraryClosure(const std::string& binary);

}  // namespace swapchaos::kernels

#endif  // SWAPCHAOS_KERNELS_ELF_CLOSURE_H_
