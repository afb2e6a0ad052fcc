#ifndef SWAPCHAOS_AGENTS_WORKLOAD_SPIKE_H_
#define SWAPCHAOS_AGENTS_WORKLOAD_SPIKE_H_

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace swapchaos::agents::workload {

struct SpikeParams {
  uint64_t mib = 0;
  uint32_t seconds = 0;  // 0: until killed
  uint64_t seed = 0;
  bool mlock = false;
};

// A spike is a child process that maps `mib` MiB of anonymous memory, writes
// a per-page pattern derived from (seed, page), optionally mlocks it (a
// failed lock is reported on stderr, the spike goes on: what got locked is
// read from /proc), then reads every page back in a loop until `seconds`
// pass, checking each against its pattern. The child is the OOM killer's
// first choice (oom_score_adj 1000), never the agent. It exits 0 when every
// page came back intact, 2 on the first wrong page (after printing page,
// expected and found to stderr).
//
// Spike processes are started ahead of time, each blocked on its own socket
// until it is given its parameters: starting a spike when a scenario wants
// one, under memory pressure, is then one send(2) with no new process and
// no new thread. Measured: in a victim swapping with its link down, forking
// the spike from the agent blocked 20 s and the fault was never in effect,
// though the kernel recovered (a false fail). A used child is replaced only
// once it has ended, so no process is started while the spike eats the
// memory. A started child tells on its socket how long its memory took to
// be full. Thread-safe.
class SpikePool {
 public:
  // Called once per started child that exits ("exit N" or "signal N"),
  // from a reaper thread of its own.
  using Ended = std::function<void(pid_t, const std::string& how)>;

  // `exe`: the binary whose --spike-child mode runs a spike (child.h).
  SpikePool(int ready, Ended ended, std::string exe);
  ~SpikePool();  // waiting children exit; started ones are killed; all reaped
  SpikePool(const SpikePool&) = delete;
  SpikePool& operator=(const SpikePool&) = delete;

  // A waiting child runs `params` and its pid comes back at once. With none
  // waiting (more spikes at once than the pool holds), one is started here.
  absl::StatusOr<pid_t> Start(const SpikeParams& params);

  // How long a running spike took to touch (and lock) all of its memory;
  // nullopt while it has not yet, or once it has ended.
  std::optional<uint32_t> FullAfterMs(pid_t pid);

 private:
  struct Waiting {
    pid_t pid;
    int fd;  // our end of its socket pair
  };
  struct Started {
    int fd;  // the child reports on it when its memory is full
    std::optional<uint32_t> full_after_ms;
  };
  void Refill();
  absl::StatusOr<Waiting> SpawnWaiting();
  void Reap(pid_t pid);
  bool Go(const Waiting& w, const SpikeParams& params);  // with mu_ held

  const size_t target_;
  const Ended ended_;
  const std::string exe_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Waiting> waiting_;      // guarded by mu_
  std::map<pid_t, Started> started_;  // running spikes; guarded by mu_
  std::vector<std::thread> reapers_;  // guarded by mu_
  bool stop_ = false;                 // guarded by mu_
  std::thread refill_;
};

// The pattern a spike page's marks (page_marks.h) derive from.
uint64_t PagePattern(uint64_t seed, uint64_t page);

}  // namespace swapchaos::agents::workload

#endif  // SWAPCHAOS_AGENTS_WORKLOAD_SPIKE_H_
