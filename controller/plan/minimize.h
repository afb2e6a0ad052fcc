#ifndef SWAPCHAOS_CONTROLLER_PLAN_MINIMIZE_H_
#define SWAPCHAOS_CONTROLLER_PLAN_MINIMIZE_H_

#include <cstddef>
#include <functional>
#include <vector>

// A generic minimizer: it knows nothing of faults, only lists of things and
// a test that says whether a list still fails.
namespace swapchaos::controller {

// Delta debugging (Zeller's ddmin): a sub-list of `items`, in order, for
// which `fails` holds and from which no single item can be dropped with it
// still holding (1-minimal). `fails(items)` is assumed true and not asked.
template <typename T>
std::vector<T> MinimizeList(std::vector<T> items,
                            const std::function<bool(const std::vector<T>&)>& fails) {
  size_t n = 2;
  while (items.size() >= 2) {
    size_t chunk = (items.size() + n - 1) / n;
    bool reduced = false;
    // Try each chunk alone, then each complement.
    for (int complement = 0; complement < 2 && !reduced; ++complement) {
      for (size_t start = 0; start < items.size(); start += chunk) {
        std::vector<T> candidate;
        for (size_t i = 0; i < items.size(); ++i) {
          bool in_chunk = i >= start && i < start + chunk;
          if (in_chunk != static_cast<bool>(complement)) candidate.push_back(items[i]);
        }
        if (candidate.empty() || candidate.size() == items.size() || !fails(candidate)) continue;
        items = std::move(candidate);
        n = complement ? std::max<size_t>(n - 1, 2) : 2;
        reduced = true;
        break;
      }
    }
    if (reduced) continue;
    if (n >= items.size()) break;
    n = std::min(items.size(), n * 2);
  }
  return items;
}

// Then each item made simpler while `fails` holds: `simpler(item)` lists
// simpler variants, the first that still fails replaces it, and that one is
// simplified again, until none does.
template <typename T>
std::vector<T> SimplifyEach(std::vector<T> items, const std::function<std::vector<T>(const T&)>& simpler,
                            const std::function<bool(const std::vector<T>&)>& fails) {
  for (size_t i = 0; i < items.size(); ++i) {
    bool progress = true;
    while (progress) {
      progress = false;
      for (const T& variant : simpler(items[i])) {
        std::vector<T> candidate = items;
        candidate[i] = variant;
        if (fails(candidate)) {
          items = std::move(candidate);
          progress = true;
          break;
        }
      }
    }
  }
  return items;
}

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_PLAN_MINIMIZE_H_
