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
  std::vector<agent::Sample> wire;    // wire-telemetry.jsonl, for the report
};

absl::StatusOr<History> LoadHistory(const std::string& run_dir);

// One JSON message of a run directory (meta.json, verdict.json, ...):
// NotFound when unreadable, DataLoss when not that message.
absl::Status ReadJsonFile(const std::string& path, google::protobuf::Message* m);

// Runs every oracle (oracles.cc: one table, one row each) and derives the
// verdict: fail if any fails, its signature the first failing one's.
Verdict Judge(const History& h);

// For a run still going, from what it has recorded so far: the failure no
// later telemetry can change, if the run has reached one. The run may stop
// there; Judge gives the verdict. `h.victim` needs only the sample where
// the workload last moved and the latest one, and `h.meta`'s
// observed_until the present. Decided are: swap stalled for 20 s before the
// first fault; after every fault healed and the grace period ended, nothing
// moving for 60 s with tasks running (a request never resent, a link never
// back), or every task still running throttled since before the grace
// period ended, never woken (kswapd-no-wake's mark). Such runs would
// otherwise sit out their deadline.
std::optional<OracleResult> DecidedEarly(const History& h);

// Whether the workload moved from `since` to `now` (a page touched, a swap
// request answered), or has no task running: what DecidedEarly's caller
// keeps the last such sample by.
bool Moved(const agent::Sample& since, const agent::Sample& now);

// How long NBD requests may stay in flight once the workload has ended and
// every fault healed, before nbd_requests_completed calls them lost: a
// request sent on a link that then died is resent at the first expiry of
// its timer (the block layer's default 30 s) after the socket was replaced,
// so two expiries and a margin. The run waits up to this long for them.
inline constexpr int64_t kDrainMs = 90000;

// No NBD request in flight (or no NBD device): what ends that wait.
bool Drained(const agent::Sample& s);

// The workload had tasks and none is running any more: when that wait starts.
bool WorkloadEnded(const agent::Sample& s);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_ORACLES_ORACLES_H_
