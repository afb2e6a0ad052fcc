#ifndef SWAPCHAOS_AGENTS_WORKLOAD_CHILD_H_
#define SWAPCHAOS_AGENTS_WORKLOAD_CHILD_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

// Workload tasks and spikes are the agent's binary run again in a child
// mode (posix_spawn, then exec), never forks of the agent: a forked child
// shares every page of the agent copy-on-write, and the agent's next write
// to one of them needs a new page. Measured: the victim's telemetry thread
// stuck 24 s in a write fault (wp_page_copy -> direct reclaim) until the
// link to the swap server came back, its Spike call lost with it (a false
// fail in 2 of 20 runs of spike-during-drop).
namespace swapchaos::agents::workload {

// The agent itself, as its children run it.
inline constexpr char kSelf[] = "/proc/self/exe";

// Runs `exe` with `args` (args[0] is the child's name) and `fd` as the
// child's descriptor 3. The caller's memory is not copied: the child is
// started with CLONE_VM|CLONE_VFORK and execs at once.
absl::StatusOr<pid_t> SpawnChild(const std::string& exe, const std::vector<std::string>& args,
                                 int fd);

// For main(): if argv names a child mode (--workload-task, --spike-child),
// runs it and never returns.
void RunIfChild(int argc, char** argv);

// The child modes, defined beside what they run.
[[noreturn]] void RunWorkloadTaskChild(int argc, char** argv);
[[noreturn]] void RunSpikeChild();

// For a workload child: its own name and first place in the OOM killer's
// queue, never the agent.
void BecomeExpendableChild(const char* name);

}  // namespace swapchaos::agents::workload

#endif  // SWAPCHAOS_AGENTS_WORKLOAD_CHILD_H_
