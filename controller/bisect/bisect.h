#ifndef SWAPCHAOS_CONTROLLER_BISECT_BISECT_H_
#define SWAPCHAOS_CONTROLLER_BISECT_BISECT_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/campaign/campaign.h"
#include "controller/dispatch/dispatch.h"
#include "controller/run/boot.h"
#include "kernels/build.h"
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

// What `swapchaos bisect` asks for.
struct BisectRequest {
  kernels::KernelRecipe recipe;  // the whole series; each step builds a prefix of it
  std::string kernels_dir;       // the kernel cache
  std::string scenario;
  std::string out;  // empty: runs/bisect-<UTC time>
  SeedRange seeds;
  int build_jobs = 2;
  DispatchOptions dispatch;  // runs_dir is out/step-K/runs
};

// Bisect over real steps: each builds the kernel of the series' first K
// patches (into the cache, so a step built before is found) and runs the
// scenario on it over the seeds as a campaign (out/step-K/campaign.yaml).
// Then out/bisect.json. Everything is checked before anything is built:
// bad input, also a step's kernel that cannot be built from what was given,
// is InvalidArgument or NotFound (ClassOf).
struct Bisection {
  kernels::BisectReport report;
  std::string out;  // bisect.json, step-K/
};
absl::StatusOr<Bisection> BisectSeries(BisectRequest request, const BootEnv& env);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_BISECT_BISECT_H_
