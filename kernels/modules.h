#ifndef SWAPCHAOS_KERNELS_MODULES_H_
#define SWAPCHAOS_KERNELS_MODULES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace swapchaos::kernels {

struct ModuleRequest {
  std::string name;  // "virtio_net"; '-' and '_' are the same
  std::string args;  // module parameters, e.g. "nbds_max=1"
};

struct ModuleLoad {
  std::string relpath;  // as modules.dep names it, e.g. "kernel/net/sched/sch_netem.ko"
  std::string args;
};

// The modules to insmod, dependencies first, each once, resolved from
// `modules_dir`/modules.dep. Modules built into the kernel (modules.builtin)
// need no load and are skipped; a name that is neither is NotFound.
absl::StatusOr<std::vector<ModuleLoad>> ResolveModules(const std::string& modules_dir,
                                                       const std::vector<ModuleRequest>& wanted);

}  // namespace swapchaos::kernels

#endif  // SWAPCHAOS_KERNELS_MODULES_H_
