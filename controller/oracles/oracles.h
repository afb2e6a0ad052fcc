#ifndef SWAPCHAOS_CONTROLLER_ORACLES_ORACLES_H_
#define SWAPCHAOS_CONTROLLER_ORACLES_ORACLES_H_

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

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_ORACLES_ORACLES_H_
