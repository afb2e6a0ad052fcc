#ifndef SWAPCHAOS_CONTROLLER_RUN_REPLAY_H_
#define SWAPCHAOS_CONTROLLER_RUN_REPLAY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/run/chaos.h"
#include "controller/run/run.h"
#include "controller/scenario/scenario.h"
#include "swapchaos/controller.pb.h"

namespace swapchaos::controller {

// A finished run as recorded, ready to run again: its plan (scenario.json,
// the schedule it drew), seed, telemetry rate and verdict, and its kernel
// image checked unchanged (sha256). A run without meta.json or
// verdict.json, or whose kernel changed, is bad input.
struct RecordedRun {
  LoadedScenario plan;
  RunOptions options;
  Verdict verdict;
  // How this replay's setting differs from the original's (another host,
  // another swapchaos), one line each; empty when it does not.
  std::vector<std::string> differences;
};
absl::StatusOr<RecordedRun> LoadRecordedRun(const std::string& run_dir);

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

// The report as the Controller service's Replay RPC returns it.
ReplayResult ToProto(const ReplayReport& report);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_RUN_REPLAY_H_
