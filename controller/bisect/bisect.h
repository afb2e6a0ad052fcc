#ifndef SWAPCHAOS_CONTROLLER_BISECT_BISECT_H_
#define SWAPCHAOS_CONTROLLER_BISECT_BISECT_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "swapchaos/kernel.pb.h"

// Bisection of a patch series against a scenario: which patch makes it fail.
namespace swapchaos::controller {

// Builds the kernel with the series' first `patches` patches and runs the
// scenario on it over the seeds: runs, passes and each failing run's
// signature (Bisect fills in the rest).
using BisectStepFn = std::function<absl::StatusOr<kernels::BisectStep>(int patches)>;

// The whole series is tried first: the signatures it fails with are the
// target, and a step fails when any of its runs fails with one of them
// (another failure, e.g. a flaky one unrelated to the series, is recorded
// but does not count). Then no patch at all, which must not fail; then
// halving between the last passing and the first failing step. Each step
// runs once; an error from a step ends the search with that error.
absl::StatusOr<kernels::BisectReport> Bisect(const std::vector<std::string>& patch_names,
                                             const BisectStepFn& step);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_BISECT_BISECT_H_
