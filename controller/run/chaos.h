#ifndef SWAPCHAOS_CONTROLLER_RUN_CHAOS_H_
#define SWAPCHAOS_CONTROLLER_RUN_CHAOS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "controller/run/run.h"
#include "controller/scenario/scenario.h"
#include "swapchaos/controller.pb.h"

namespace swapchaos::controller {

// `swapchaos run`: boots the scenario's VMs, starts its workload, applies and
// reverts its faults on their timeline (each read back from the kernel),
// records telemetry, the fault trace and the consoles into `out_dir`, then
// judges the run from those files and writes verdict.json. The verdict is the
// kernel's; an error status is the harness's or the input's (IsBadInput).
struct RunOptions {
  uint64_t seed = 1;
  uint32_t telemetry_hz = 2;  // samples per second from each agent
};
absl::StatusOr<Verdict> RunScenario(const LoadedScenario& scenario, const RunOptions& options,
                                    const std::string& out_dir, const BootEnv& env);

// `swapchaos analyze`: judges a finished run again from its files alone.
absl::StatusOr<Verdict> AnalyzeRun(const std::string& run_dir);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_RUN_CHAOS_H_
