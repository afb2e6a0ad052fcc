#ifndef SWAPCHAOS_AGENTS_TELEMETRY_THROTTLE_H_
#define SWAPCHAOS_AGENTS_TELEMETRY_THROTTLE_H_

#include <cstdint>
#include <map>

#include "swapchaos/agent.pb.h"

namespace swapchaos::agents::telemetry {

// The kernel function a direct reclaimer sleeps in while kswapd has not
// freed enough for it (mm/vmscan.c: the PFMEMALLOC throttle of the 2012
// series).
inline constexpr char kThrottleWchan[] = "throttle_direct_reclaim";

// Turns the workload tasks' wchans, sample after sample, into throttle
// episodes (task, start, end), and pgscan_direct_throttle into deltas.
// One tracker per telemetry stream.
class ThrottleTracker {
 public:
  // Reads the sample's tasks (wchan, state), uptime and vmstat; fills its
  // throttled_now, throttles_ended and pgscan_direct_throttle_delta.
  void Annotate(agent::Sample* s);

 private:
  std::map<int32_t, uint64_t> open_;  // pid -> start uptime (ms)
  uint64_t last_pgscan_ = 0;
  bool seen_ = false;
};

}  // namespace swapchaos::agents::telemetry

#endif  // SWAPCHAOS_AGENTS_TELEMETRY_THROTTLE_H_
