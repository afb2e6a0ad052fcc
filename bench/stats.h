#ifndef SWAPCHAOS_BENCH_STATS_H_
#define SWAPCHAOS_BENCH_STATS_H_

#include <algorithm>
#include <cmath>
#include <vector>

namespace swapchaos::bench {

// Nearest-rank percentile `p` (0..100) of `v`; NaN for none.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size(), std::max<size_t>(rank, 1)) - 1];
}

}  // namespace swapchaos::bench

#endif  // SWAPCHAOS_BENCH_STATS_H_
