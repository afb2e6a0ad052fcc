#include "agents/workload/spike.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>
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

// Field 22 of /proc/PID/stat: when the process started, in clock ticks
// since boot.
uint64_t StartTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(all.substr(all.rfind(')') + 2));  // after "(comm) "
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
  }
  return std::stoull(field);
}

uint64_t NowTicks() {
  std::ifstream in("/proc/uptime");
  double up = 0;
  in >> up;
  return static_cast<uint64_t>(up * static_cast<double>(sysconf(_SC_CLK_TCK)));
}

// The pool's point: the spike process exists before it is asked for, and
// says how it ended; going away leaves no child behind.
TEST(SpikePoolTest, StartsAChildForkedBeforehandAndReportsItsEnd) {
  std::mutex mu;
  std::condition_variable cv;
  std::map<pid_t, std::string> ended;
  {
    SpikePool pool(2, [&](pid_t pid, const std::string& how) {
      std::lock_guard<std::mutex> lock(mu);
      ended[pid] = how;
      cv.notify_all();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    uint64_t asked = NowTicks();
    auto pid = pool.Start({.mib = 4, .seconds = 1, .seed = 3});
    ASSERT_TRUE(pid.ok()) << pid.status();
    EXPECT_LT(StartTicks(*pid), asked) << "forked when asked, not before";
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return ended.count(*pid); }));
    EXPECT_EQ(ended[*pid], "exit 0");
    lock.unlock();
    auto locked = pool.Start({.mib = 4, .seconds = 0, .seed = 4, .mlock = true});
    ASSERT_TRUE(locked.ok()) << locked.status();
    EXPECT_EQ(pool.Start({.mib = 0}).status().code(), absl::StatusCode::kInvalidArgument);
  }  // the running spike is killed, the waiting ones exit; all reaped
  EXPECT_EQ(ended.size(), 2u);  // only the started ones are reported
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace swapchaos::agents::workload
