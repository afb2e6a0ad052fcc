#ifndef SWAPCHAOS_CONTROLLER_RUN_BOOT_H_
#define SWAPCHAOS_CONTROLLER_RUN_BOOT_H_

#include <functional>
#include <iosfwd>
#include <string>

#include "absl/status/status.h"
#include "swapchaos/controller.pb.h"

namespace swapchaos::controller {

struct BootEnv {
  std::string cache_dir;   // guest images, the acceleration probe's answer
  std::string agent_path;  // the swapchaos-agent binary to put in the guests
  // Polled; true ends the run in order (Ctrl-C, SIGTERM).
  std::function<bool()> stop_requested = [] { return false; };
  std::ostream* progress = nullptr;  // step-by-step messages and live figures
};

// Boots a run's two VMs (victim on the kernel under test, wire on the default
// kernel) with swap over NBD through the wire, streams telemetry into
// `request.out_dir` until the duration passes or a stop is requested, then
// tears everything down. The returned status tells bad input
// (InvalidArgument, NotFound: exit 2) from infrastructure failures (exit 3).
absl::Status RunBoot(const BootRequest& request, const BootEnv& env);

// runs/boot-<UTC time>, the results directory when none is given.
std::string DefaultOutDir();

// Whether a failed status is the user's to fix (exit 2) or ours (exit 3).
bool IsBadInput(const absl::Status& s);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_RUN_BOOT_H_
