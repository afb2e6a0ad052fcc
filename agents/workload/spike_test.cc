#include "agents/workload/spike.h"

#include <sys/wait.h>

#include "gtest/gtest.h"

namespace swapchaos::agents::workload {
namespace {

TEST(SpikeTest, ChildTouchesAndVerifiesItsMemory) {
  auto pid = StartSpike({.mib = 16, .seconds = 1, .seed = 42});
  ASSERT_TRUE(pid.ok()) << pid.status();
  int status = 0;
  ASSERT_EQ(waitpid(*pid, &status, 0), *pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SpikeTest, PatternDependsOnSeedAndPage) {
  EXPECT_NE(PagePattern(1, 0), PagePattern(2, 0));
  EXPECT_NE(PagePattern(1, 0), PagePattern(1, 1));
  EXPECT_EQ(PagePattern(7, 9), PagePattern(7, 9));
  // Fixed by splitmix64, the same on every build.
  EXPECT_EQ(PagePattern(0, 0), 0xe220a8397b1dcdafULL);
}

TEST(SpikeTest, BadParametersAreRejected) {
  EXPECT_EQ(StartSpike({.mib = 0, .seconds = 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StartSpike({.mib = 1, .seconds = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace swapchaos::agents::workload
