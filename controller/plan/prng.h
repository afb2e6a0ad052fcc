#ifndef SWAPCHAOS_CONTROLLER_PLAN_PRNG_H_
#define SWAPCHAOS_CONTROLLER_PLAN_PRNG_H_

#include <cstdint>
#include <string_view>
#include <vector>

namespace swapchaos::controller {

// A PRNG whose every output is specified here, so a seed gives the same
// schedule on every build and standard library (std::uniform_*_distribution
// does not promise that): xoshiro256** seeded through splitmix64, and
// sampling functions written out below.
class Prng {
 public:
  // One independent stream per (seed, purpose): the fault schedule and, say,
  // page patterns never share draws.
  Prng(uint64_t seed, std::string_view stream);

  uint64_t Next();
  // [0, 1): the top 53 bits of Next(), scaled.
  double Uniform();
  // [lo, hi], inclusive: lo + Uniform() * (hi - lo).
  double Uniform(double lo, double hi);
  // An index with probability weights[i] / sum(weights); weights > 0.
  size_t Weighted(const std::vector<double>& weights);

 private:
  uint64_t s_[4];
};

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_PLAN_PRNG_H_
