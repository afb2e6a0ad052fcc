#include "controller/bisect/bisect.h"

#include <map>
#include <set>

#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

std::vector<std::string> Patches(int n) {
  std::vector<std::string> v;
  for (int i = 1; i <= n; ++i) v.push_back("000" + std::to_string(i) + ".patch");
  return v;
}

// A series whose patch `culprit` (1-based) breaks the scenario: from there
// on, `fails_per_step` of 3 runs fail with the signature; `noise` steps also
// have one run failing with something else.
struct FakeSeries {
  int culprit;
  int fails_per_step = 3;
  std::set<int> noise;
  std::vector<int> tried;
  absl::StatusOr<kernels::BisectStep> operator()(int k) {
    tried.push_back(k);
    kernels::BisectStep s;
    s.set_runs(3);
    int fails = k >= culprit ? fails_per_step : 0;
    for (int i = 0; i < fails; ++i) s.add_signatures("page content mismatch");
    if (noise.count(k)) s.add_signatures("task hung: kblockd");
    s.set_passes(3 - static_cast<uint32_t>(s.signatures_size()));
    return s;
  }
};

TEST(BisectTest, FindsTheFirstFailingPatchInLogarithmicSteps) {
  FakeSeries series{.culprit = 6};
  auto r = Bisect(Patches(9), std::ref(series));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first_failing(), 6);
  EXPECT_EQ(r->first_failing_patch(), "0006.patch");
  EXPECT_EQ(series.tried, (std::vector<int>{9, 0, 4, 6, 5}));
  ASSERT_EQ(r->steps_size(), 5);
  EXPECT_EQ(r->steps(0).target_failures(), 3u);
  EXPECT_EQ(r->steps(2).patch(), "0004.patch");
  EXPECT_EQ(r->steps(2).target_failures(), 0u);
  EXPECT_EQ(r->target_signatures_size(), 1);
}

TEST(BisectTest, AFlakyFailureStillCountsAndOtherSignaturesDoNot) {
  // One run of three fails from the culprit on; a kernel hang unrelated to
  // the series shows up at step 2 and must not move the search.
  FakeSeries series{.culprit = 3, .fails_per_step = 1, .noise = {2}};
  auto r = Bisect(Patches(4), std::ref(series));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first_failing(), 3);
  EXPECT_EQ(series.tried, (std::vector<int>{4, 0, 2, 3}));
  EXPECT_EQ(r->steps(2).signatures_size(), 1);
  EXPECT_EQ(r->steps(2).target_failures(), 0u);
  EXPECT_EQ(r->steps(3).target_failures(), 1u);
}

TEST(BisectTest, WholeSeriesPassingOrSourceFailingHasNoCulprit) {
  FakeSeries passing{.culprit = 99};
  auto r = Bisect(Patches(3), std::ref(passing));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_failing(), -1);
  EXPECT_EQ(passing.tried, (std::vector<int>{3}));
  FakeSeries source{.culprit = 0};
  r = Bisect(Patches(3), std::ref(source));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_failing(), 0);
  EXPECT_EQ(source.tried, (std::vector<int>{3, 0}));
}

TEST(BisectTest, AStepErrorEndsTheSearch) {
  auto r = Bisect(Patches(2), [](int k) -> absl::StatusOr<kernels::BisectStep> {
    if (k == 0) return absl::InvalidArgumentError("patch 0001.patch does not apply");
    kernels::BisectStep s;
    s.set_runs(1);
    s.add_signatures("x");
    return s;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not apply"), std::string::npos);
}

}  // namespace
}  // namespace swapchaos::controller
