#include "agents/bench/netem_bench.h"

#include "gtest/gtest.h"

namespace swapchaos::agents::bench {
namespace {

TEST(NetemBenchTest, WithoutTcItSaysSo) {
  auto r = BenchNetemApply("lo", 1, "/nonexistent/tc", std::chrono::milliseconds(100));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/tc"), std::string::npos);
}

}  // namespace
}  // namespace swapchaos::agents::bench
