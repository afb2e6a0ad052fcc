#include "controller/bisect/bisect.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace swapchaos::controller {

absl::StatusOr<kernels::BisectReport> Bisect(const std::vector<std::string>& patch_names,
                                             const BisectStepFn& step) {
  kernels::BisectReport report;
  const int n = static_cast<int>(patch_names.size());
  auto is_target = [&report](const std::string& sig) {
    const auto& t = report.target_signatures();
    return std::find(t.begin(), t.end(), sig) != t.end();
  };
  // Runs step k, records it, and says whether it failed as the series does.
  auto failed = [&](int k) -> absl::StatusOr<bool> {
    auto s = step(k);
    if (!s.ok()) return s.status();
    s->set_patches(static_cast<uint32_t>(k));
    s->set_patch(k == 0 ? "" : patch_names[static_cast<size_t>(k - 1)]);
    if (k == n) {
      for (const std::string& sig : s->signatures()) {
        if (!is_target(sig)) report.add_target_signatures(sig);
      }
    }
    uint32_t target = 0;
    for (const std::string& sig : s->signatures()) target += is_target(sig);
    s->set_target_failures(target);
    *report.add_steps() = *std::move(s);
    return target > 0;
  };

  auto whole = failed(n);
  if (!whole.ok()) return whole.status();
  if (!*whole) {
    report.set_first_failing(-1);
    report.set_conclusion(absl::StrCat("the whole series (", n,
                                       " patches) passes the scenario on every seed: nothing to "
                                       "bisect (more seeds, if its failure is rare)"));
    return report;
  }
  auto none = failed(0);
  if (!none.ok()) return none.status();
  if (*none) {
    report.set_first_failing(0);
    report.set_conclusion("the source fails the same way without any patch of the series");
    return report;
  }
  int good = 0, bad = n;  // step `good` passed, step `bad` failed
  while (bad - good > 1) {
    int mid = good + (bad - good) / 2;
    auto f = failed(mid);
    if (!f.ok()) return f.status();
    (*f ? bad : good) = mid;
  }
  report.set_first_failing(bad);
  report.set_first_failing_patch(patch_names[static_cast<size_t>(bad - 1)]);
  report.set_conclusion(absl::StrCat("first failing patch: ", report.first_failing_patch(), " (",
                                     bad, " of ", n, ")"));
  return report;
}

}  // namespace swapchaos::controller
