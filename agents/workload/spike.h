#ifndef SWAPCHAOS_AGENTS_WORKLOAD_SPIKE_H_
#define SWAPCHAOS_AGENTS_WORKLOAD_SPIKE_H_

#include <sys/types.h>

#include <cstdint>

#include "absl/status/statusor.h"

namespace swapchaos::agents::workload {

struct SpikeParams {
  uint64_t mib = 0;
  uint32_t seconds = 0;  // 0: until killed
  uint64_t seed = 0;
  bool mlock = false;
};

// Starts a child process that maps `mib` MiB of anonymous memory, writes a
// per-page pattern derived from (seed, page), optionally mlocks it (a failed
// lock is reported on stderr, the spike goes on: what got locked is read from
// /proc), then reads every page back in a loop until `seconds` pass, checking
// each against its pattern. The child is
// the OOM killer's first choice (oom_score_adj 1000), never the agent. It
// exits 0 when every page came back intact, 2 on the first wrong page (after
// printing page, expected and found to stderr).
absl::StatusOr<pid_t> StartSpike(const SpikeParams& params);

// The pattern a spike page's marks (page_marks.h) derive from.
uint64_t PagePattern(uint64_t seed, uint64_t page);

// For a freshly forked workload child: its own name (else it keeps the
// forking gRPC thread's, which is what OOM and hung-task reports would call
// it) and first place in the OOM killer's queue, never the agent.
void BecomeExpendableChild(const char* name);

}  // namespace swapchaos::agents::workload

#endif  // SWAPCHAOS_AGENTS_WORKLOAD_SPIKE_H_
