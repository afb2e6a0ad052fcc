#ifndef SWAPCHAOS_CONTROLLER_RUN_REPLAY_H_
#define SWAPCHAOS_CONTROLLER_RUN_REPLAY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/run/run.h"
#include "swapchaos/controller.pb.h"

namespace swapchaos::controller {

struct ReplayReport {
  Verdict original;
  std::vector<Verdict> replays;
  std::vector<std::string> dirs;
  // Replays that reached the original's verdict and signature.
  int reproduced = 0;
};

// `swapchaos replay`: runs a finished run's recorded plan again (its
// scenario.json: the schedule it drew, not a new draw) with its seed, on the
// same kernel image (checked by sha256), `times` times, into out_dir/1, 2, ...
// A run without meta.json or verdict.json, or whose kernel image changed,
// is bad input and nothing starts.
absl::StatusOr<ReplayReport> Replay(const std::string& run_dir, int times,
                                    const std::string& out_dir, const BootEnv& env);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_RUN_REPLAY_H_
