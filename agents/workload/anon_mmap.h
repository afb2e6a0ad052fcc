#ifndef SWAPCHAOS_AGENTS_WORKLOAD_ANON_MMAP_H_
#define SWAPCHAOS_AGENTS_WORKLOAD_ANON_MMAP_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agents/workload/child.h"

namespace swapchaos::agents::workload {

// The 2012 series' test (mmtests vmscan-anon-mmap-read/-write): `procs`
// processes, each mapping `bytes_per_proc` of anonymous memory and walking
// it linearly for `passes` passes. Every page carries a pattern derived
// from (seed, process, page, pass): written, then checked on the next touch,
// so a page that comes back wrong from swap is caught and reported.
struct AnonMmapParams {
  uint32_t procs = 1;
  uint64_t bytes_per_proc = 0;
  uint32_t passes = 1;
  bool write = false;  // rewrite every page each pass (else read only)
  uint64_t seed = 0;
  // The binary whose --workload-task mode runs a task (child.h).
  std::string exe = kSelf;
};

struct TaskProgress {
  enum class State { kRunning, kDone, kDataLoss, kFailed, kKilled };
  pid_t pid = 0;
  uint32_t index = 0;
  uint32_t pass = 0;   // passes completed
  uint64_t pages = 0;  // pages touched so far, all passes
  uint64_t base = 0;   // address of the task's mapping (0 until mapped)
  State state = State::kRunning;
  std::string detail;  // how it ended: the wrong page, the signal, the error
};

// The pattern a page's marks (page_marks.h) derive from in `pass`.
uint64_t AnonPagePattern(uint64_t seed, uint32_t proc, uint64_t page, uint32_t pass);

// The running workload. Children are the OOM killer's first choice, never
// the agent. Progress lives in a shared mapping the children update, so
// reading it costs no syscall per task. Destroying it kills the children.
// Thread-safe.
class AnonMmapWorkload {
 public:
  static absl::StatusOr<std::unique_ptr<AnonMmapWorkload>> Start(const AnonMmapParams& p);
  ~AnonMmapWorkload();
  AnonMmapWorkload(const AnonMmapWorkload&) = delete;
  AnonMmapWorkload& operator=(const AnonMmapWorkload&) = delete;

  // Reaps children that ended and returns every task's progress.
  std::vector<TaskProgress> Progress();
  bool Finished();
  const AnonMmapParams& params() const { return params_; }

 private:
  friend void RunWorkloadTaskChild(int argc, char** argv);
  struct Shared;
  AnonMmapWorkload(AnonMmapParams p, Shared* shared, size_t shared_bytes)
      : params_(p), shared_(shared), shared_bytes_(shared_bytes) {}

  const AnonMmapParams params_;
  Shared* const shared_;
  const size_t shared_bytes_;
  std::vector<pid_t> pids_;  // constant after Start()
  std::mutex mu_;
  std::vector<TaskProgress> ended_;  // by index; state kRunning until reaped; guarded by mu_
};

}  // namespace swapchaos::agents::workload

#endif  // SWAPCHAOS_AGENTS_WORKLOAD_ANON_MMAP_H_
