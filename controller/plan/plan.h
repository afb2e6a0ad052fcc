#ifndef SWAPCHAOS_CONTROLLER_PLAN_PLAN_H_
#define SWAPCHAOS_CONTROLLER_PLAN_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "swapchaos/scenario.pb.h"

// The plan: a scenario with its fault schedule resolved for one seed.
namespace swapchaos::controller {

// A generator setting the loader refuses; `field` is relative to the
// scenario ("generator.kinds[0].params[1].field").
struct PlanError {
  std::string field;
  std::string what;
};

// Checks a scenario's generator without drawing: weights, ranges, parameter
// paths that name numeric fields, each kind valid at both ends of its
// ranges, and a window the faults fit in.
std::optional<PlanError> CheckGenerator(const scenario::Scenario& s);

// The scenario with `generator` replaced by the faults it draws for `seed`
// (after the fixed ones), every time rounded to 0.1 s. The same seed gives
// the same plan, byte for byte, on every build.
scenario::Scenario ResolvePlan(const scenario::Scenario& s, uint64_t seed);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_PLAN_PLAN_H_
