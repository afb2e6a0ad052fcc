#include "agents/workload/spike.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace swapchaos::agents::workload {
namespace {

// Records how each started spike ended, for the tests to wait on.
class Ends {
 public:
  SpikePool::Ended Callback() {
    return [this](pid_t pid, const std::string& how) {
      std::lock_guard<std::mutex> lock(mu_);
      ended_[pid] = how;
      cv_.notify_all();
    };
  }
  // How `pid` ended, or "" if it has not within 20 s.
  std::string Wait(pid_t pid) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return ended_.count(pid) > 0; });
    return ended_.count(pid) ? ended_[pid] : "";
  }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu_);
    return ended_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<pid_t, std::string> ended_;
};

TEST(SpikeTest, ChildTouchesAndVerifiesItsMemory) {
  Ends ends;
  SpikePool pool(1, ends.Callback(), SWAPCHAOS_AGENT);
  auto pid = pool.Start({.mib = 16, .seconds = 1, .seed = 42});
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_EQ(ends.Wait(*pid), "exit 0");
}

TEST(SpikeTest, PatternDependsOnSeedAndPage) {
  EXPECT_NE(PagePattern(1, 0), PagePattern(2, 0));
  EXPECT_NE(PagePattern(1, 0), PagePattern(1, 1));
  EXPECT_EQ(PagePattern(7, 9), PagePattern(7, 9));
  // Fixed by splitmix64, the same on every build.
  EXPECT_EQ(PagePattern(0, 0), 0xe220a8397b1dcdafULL);
}

TEST(SpikeTest, BadParametersAreRejected) {
  Ends ends;
  SpikePool pool(1, ends.Callback(), SWAPCHAOS_AGENT);
  EXPECT_EQ(pool.Start({.mib = 0, .seconds = 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pool.Start({.mib = 2u << 20, .seconds = 1}).status().code(),
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
  Ends ends;
  SpikePool pool(1, ends.Callback(), SWAPCHAOS_AGENT);
  auto pid = pool.Start({.mib = 8, .seconds = 0, .seed = 1, .mlock = true});
  ASSERT_TRUE(pid.ok()) << pid.status();
  uint64_t locked = 0;
  for (int i = 0; i < 200 && locked < (8u << 10); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    locked = LockedKib(*pid);
  }
  EXPECT_GE(locked, 8u << 10);
  std::optional<uint32_t> full;
  for (int i = 0; i < 200 && !(full = pool.FullAfterMs(*pid)); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(full.has_value()) << "the spike never said its memory was full";
  EXPECT_LT(*full, 2000u);
  EXPECT_EQ(pool.FullAfterMs(*pid), full);  // read once, kept
  EXPECT_EQ(kill(*pid, 0), 0);              // still going
  kill(*pid, SIGKILL);
  EXPECT_EQ(ends.Wait(*pid), "signal 9");
  EXPECT_EQ(pool.FullAfterMs(*pid), std::nullopt);  // ended
}

// This process's children, from /proc (each process's PPid).
std::set<pid_t> Children() {
  std::set<pid_t> kids;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("PPid:", 0) == 0) {
        if (std::stoi(line.substr(5)) == getpid()) kids.insert(std::stoi(name));
        break;
      }
    }
  }
  return kids;
}

// Waits up to 5 s for this process to have `n` children; returns them.
std::set<pid_t> AwaitChildren(size_t n) {
  std::set<pid_t> kids;
  for (int i = 0; i < 500 && (kids = Children()).size() != n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return kids;
}

// Forking a replacement while the spike takes the memory stalls the whole
// agent under its mmap_lock: the pool forks again only once no spike runs.
TEST(SpikePoolTest, ReplacesAUsedChildOnlyAfterItEnded) {
  Ends ends;
  SpikePool pool(2, ends.Callback(), SWAPCHAOS_AGENT);
  std::set<pid_t> before = AwaitChildren(2);
  ASSERT_EQ(before.size(), 2u);
  auto pid = pool.Start({.mib = 4, .seconds = 0, .seed = 5});
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_TRUE(before.count(*pid));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Children(), before) << "forked while a spike ran";
  kill(*pid, SIGKILL);
  EXPECT_EQ(ends.Wait(*pid), "signal 9");
  std::set<pid_t> after = AwaitChildren(2);
  EXPECT_EQ(after.size(), 2u);
  EXPECT_FALSE(after.count(*pid));
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
  Ends ends;
  {
    SpikePool pool(2, ends.Callback(), SWAPCHAOS_AGENT);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    uint64_t asked = NowTicks();
    auto pid = pool.Start({.mib = 4, .seconds = 1, .seed = 3});
    ASSERT_TRUE(pid.ok()) << pid.status();
    EXPECT_LT(StartTicks(*pid), asked) << "forked when asked, not before";
    EXPECT_EQ(ends.Wait(*pid), "exit 0");
    auto locked = pool.Start({.mib = 4, .seconds = 0, .seed = 4, .mlock = true});
    ASSERT_TRUE(locked.ok()) << locked.status();
    EXPECT_EQ(pool.Start({.mib = 0}).status().code(), absl::StatusCode::kInvalidArgument);
  }                             // the running spike is killed, the waiting ones exit; all reaped
  EXPECT_EQ(ends.Count(), 2u);  // only the started ones are reported
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace swapchaos::agents::workload
