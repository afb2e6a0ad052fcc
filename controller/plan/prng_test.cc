#include "controller/plan/prng.h"

#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

TEST(PrngTest, SameSeedAndStreamSameDraws) {
  Prng a(42, "fault schedule"), b(42, "fault schedule");
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.Next(), b.Next());
}

TEST(PrngTest, SeedsAndStreamsAreIndependent) {
  EXPECT_NE(Prng(1, "x").Next(), Prng(2, "x").Next());
  EXPECT_NE(Prng(1, "x").Next(), Prng(1, "y").Next());
}

// Fixed outputs: xoshiro256** seeded by splitmix64, checked against an
// independent implementation of both from their papers' reference code.
// If this changes, every stored seed replays a different schedule.
TEST(PrngTest, GoldenOutput) {
  Prng p(0, "");
  EXPECT_EQ(p.Next(), 2393714812739481704ULL);
  EXPECT_EQ(p.Next(), 6581096415885975394ULL);
}

TEST(PrngTest, UniformStaysInItsRange) {
  Prng p(7, "u");
  for (int i = 0; i < 10000; ++i) {
    double x = p.Uniform(2.5, 3.5);
    ASSERT_GE(x, 2.5);
    ASSERT_LT(x, 3.5);
  }
}

TEST(PrngTest, WeightedFollowsTheWeights) {
  Prng p(9, "w");
  int counts[3] = {};
  for (int i = 0; i < 30000; ++i) ++counts[p.Weighted({1, 2, 3})];
  EXPECT_NEAR(counts[0] / 30000.0, 1 / 6.0, 0.015);
  EXPECT_NEAR(counts[1] / 30000.0, 2 / 6.0, 0.015);
  EXPECT_NEAR(counts[2] / 30000.0, 3 / 6.0, 0.015);
}

}  // namespace
}  // namespace swapchaos::controller
