#include "agents/workload/spike.h"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

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
  EXPECT_EQ(StartSpike({.mib = 2u << 20, .seconds = 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Reads VmLck of `pid` in KiB, 0 when absent.
uint64_t LockedKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmLck:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

TEST(SpikeTest, LockedSpikeRunsUntilKilled) {
  auto pid = StartSpike({.mib = 8, .seconds = 0, .seed = 1, .mlock = true});
  ASSERT_TRUE(pid.ok()) << pid.status();
  uint64_t locked = 0;
  for (int i = 0; i < 200 && locked < (8u << 10); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    locked = LockedKib(*pid);
  }
  EXPECT_GE(locked, 8u << 10);
  int status = 0;
  EXPECT_EQ(waitpid(*pid, &status, WNOHANG), 0);  // still going
  kill(*pid, SIGKILL);
  ASSERT_EQ(waitpid(*pid, &status, 0), *pid);
  EXPECT_TRUE(WIFSIGNALED(status));
}

}  // namespace
}  // namespace swapchaos::agents::workload
