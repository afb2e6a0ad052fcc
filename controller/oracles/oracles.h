#ifndef SWAPCHAOS_CONTROLLER_ORACLES_ORACLES_H_
#define SWAPCHAOS_CONTROLLER_ORACLES_ORACLES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "swapchaos/agent.pb.h"
#include "swapchaos/controller.pb.h"
#include "swapchaos/scenario.pb.h"

namespace swapchaos::controller {

// Everything a chaos run recorded, as its results directory holds it. The
// oracles are pure functions of it, so a finished run can be judged again
// from its files alone (swapchaos analyze).
struct History {
  scenario::Scenario scenario;        // scenario.json
  RunMeta meta;                       // meta.json
  std::vector<agent::Sample> victim;  // telemetry.jsonl
  std::vector<FaultEvent> faults;     // trace.jsonl
  std::string console;                // console.log
};

absl::StatusOr<History> LoadHistory(const std::string& run_dir);

// One JSON message of a run directory (meta.json, verdict.json, ...):
// NotFound when unreadable, DataLoss when not that message.
absl::Status ReadJsonFile(const std::string& path, google::protobuf::Message* m);

// Runs every oracle (oracles.cc: one table, one row each) and derives the
// verdict: fail if any fails, its signature the first failing one's.
Verdict Judge(const History& h);

// For a run still going, from what it has recorded so far (the latest
// sample is enough): the failure no later telemetry can change, if the run
// has reached one. That is: every fault reverted, the grace period over,
// and every workload task still running throttled since before it ended,
// never woken (kswapd-no-wake's mark; such a run would otherwise sit out
// its deadline). The run may stop there; Judge gives the verdict.
std::optional<OracleResult> DecidedEarly(const History& h);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_ORACLES_ORACLES_H_
