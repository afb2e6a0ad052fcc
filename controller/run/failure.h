#ifndef SWAPCHAOS_CONTROLLER_RUN_FAILURE_H_
#define SWAPCHAOS_CONTROLLER_RUN_FAILURE_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "swapchaos/controller.pb.h"

namespace swapchaos::controller {

// Who failed, when a run could not go on (syzkaller's BootError against
// InfraError), never confused:
enum class FailureClass {
  kKernel,          // the kernel under test: did not boot, refused swap on NBD. A finding.
  kInfrastructure,  // the host, QEMU, nbd-server, the wire, our own code. Never a finding.
  kBadInput,        // the user's input. Refused before anything starts.
};

// The kernel under test failed before the run could start. `record` is the
// run's meta.json as it stands, its kernel_failure the verdict's signature
// and its outcome what happened; it travels inside the status, so a caller
// can write the run's record and judge it (RunScenario does).
absl::Status KernelFailure(const RunMeta& record);

// The class a failed status belongs to: a KernelFailure is the kernel's,
// InvalidArgument and NotFound the user's, anything else ours.
FailureClass ClassOf(const absl::Status& s);

// The record a KernelFailure carries.
std::optional<RunMeta> KernelFailureRecord(const absl::Status& s);

// The exit status a failure of this class ends a command with (README):
// 1 the kernel failed, 2 bad input, 3 ours.
int ExitCode(FailureClass c);

std::string_view ClassName(FailureClass c);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_RUN_FAILURE_H_
