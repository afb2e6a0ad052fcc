#ifndef SWAPCHAOS_AGENTS_BENCH_NETEM_BENCH_H_
#define SWAPCHAOS_AGENTS_BENCH_NETEM_BENCH_H_

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace swapchaos::agents::bench {

struct NetemBenchResult {
  std::vector<double> libnl_ms;  // the agent's own path, as a fault applies netem
  std::vector<double> tc_ms;     // `tc qdisc replace ... netem`, fork and exec
  int tc_timeouts = 0;           // tc runs that had not returned within the bound
};

// The same netem change made `rounds` times each way on `iface`,
// alternating, each followed by an untimed revert: through the fault
// library (rtnetlink from this process) and through the tc program. A tc
// still running after `bound` is killed and counted, not timed.
absl::StatusOr<NetemBenchResult> BenchNetemApply(const std::string& iface, int rounds,
                                                 const std::string& tc_path,
                                                 std::chrono::milliseconds bound);

}  // namespace swapchaos::agents::bench

#endif  // SWAPCHAOS_AGENTS_BENCH_NETEM_BENCH_H_
