#include "controller/plan/minimize.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

bool Has(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

TEST(MinimizeTest, KeepsOnlyWhatTheFailureNeeds) {
  int tests = 0;
  std::function<bool(const std::vector<int>&)> fails = [&](const std::vector<int>& v) {
    ++tests;
    return Has(v, 3) && Has(v, 7);  // needs both
  };
  std::vector<int> all = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(MinimizeList(all, fails), (std::vector<int>{3, 7}));
  EXPECT_LE(tests, 64);  // ddmin: at most n^2 tests
}

TEST(MinimizeTest, SingleCauseAndNothingToDrop) {
  std::function<bool(const std::vector<int>&)> one = [](const std::vector<int>& v) {
    return Has(v, 5);
  };
  EXPECT_EQ(MinimizeList(std::vector<int>{5, 9}, one), (std::vector<int>{5}));
  EXPECT_EQ(MinimizeList(std::vector<int>{5}, one), (std::vector<int>{5}));
  std::function<bool(const std::vector<int>&)> all_three = [](const std::vector<int>& v) {
    return v.size() == 3;
  };
  EXPECT_EQ(MinimizeList(std::vector<int>{1, 2, 3}, all_three), (std::vector<int>{1, 2, 3}));
}

TEST(MinimizeTest, SimplifiesEachWhileItStillFails) {
  // Fails while the first item is >= 10: halving stops at 10..19.
  std::function<bool(const std::vector<int>&)> fails = [](const std::vector<int>& v) {
    return v[0] >= 10;
  };
  std::function<std::vector<int>(const int&)> halve = [](const int& x) {
    return x > 1 ? std::vector<int>{x / 2} : std::vector<int>{};
  };
  EXPECT_EQ(SimplifyEach(std::vector<int>{160, 40}, halve, fails), (std::vector<int>{10, 1}));
}

}  // namespace
}  // namespace swapchaos::controller
