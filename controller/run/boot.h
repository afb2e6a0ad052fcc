#ifndef SWAPCHAOS_CONTROLLER_RUN_BOOT_H_
#define SWAPCHAOS_CONTROLLER_RUN_BOOT_H_

#include "absl/status/status.h"
#include "controller/run/run.h"
#include "swapchaos/controller.pb.h"

namespace swapchaos::controller {

// `swapchaos boot`: starts a Run (victim on the kernel under test, wire on
// the default kernel, swap over NBD through the wire), streams both VMs'
// telemetry into `request.out_dir`, prints the victim's figures each second
// until the duration passes or a stop is requested, then finishes the run.
absl::Status RunBoot(const BootRequest& request, const BootEnv& env);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_RUN_BOOT_H_
