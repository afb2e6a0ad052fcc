#include "agents/workload/anon_mmap.h"

#include <signal.h>
#include <sys/uio.h>

#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace swapchaos::agents::workload {
namespace {

void WaitFinished(AnonMmapWorkload& w) {
  for (int i = 0; i < 600 && !w.Finished(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(w.Finished());
}

TEST(AnonMmapTest, EveryTaskWalksEveryPageEveryPass) {
  for (bool write : {false, true}) {
    auto w = AnonMmapWorkload::Start(
        {.procs = 3, .bytes_per_proc = 8 << 20, .passes = 2, .write = write, .seed = 7});
    ASSERT_TRUE(w.ok()) << w.status();
    WaitFinished(**w);
    const uint64_t pages = (8 << 20) / sysconf(_SC_PAGESIZE);
    for (const TaskProgress& t : (*w)->Progress()) {
      EXPECT_EQ(t.state, TaskProgress::State::kDone) << t.detail;
      EXPECT_EQ(t.pass, 2u);
      EXPECT_EQ(t.pages, pages * 3);  // the initial write, then two passes
    }
  }
}

TEST(AnonMmapTest, PatternsDifferByProcessPageAndPass) {
  EXPECT_NE(AnonPagePattern(1, 0, 0, 0), AnonPagePattern(1, 1, 0, 0));
  EXPECT_NE(AnonPagePattern(1, 0, 0, 0), AnonPagePattern(1, 0, 1, 0));
  EXPECT_NE(AnonPagePattern(1, 0, 0, 0), AnonPagePattern(1, 0, 0, 1));
  EXPECT_NE(AnonPagePattern(1, 0, 0, 0), AnonPagePattern(2, 0, 0, 0));
  EXPECT_EQ(AnonPagePattern(3, 4, 5, 6), AnonPagePattern(3, 4, 5, 6));
}

TEST(AnonMmapTest, APageThatComesBackWrongIsDataLoss) {
  auto w = AnonMmapWorkload::Start({.procs = 1, .bytes_per_proc = 4 << 20, .passes = 1000000});
  ASSERT_TRUE(w.ok()) << w.status();
  TaskProgress t = (*w)->Progress()[0];
  for (int i = 0; i < 200 && t.pass == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    t = (*w)->Progress()[0];
  }
  ASSERT_GT(t.pass, 0u) << "never finished a pass";
  // What a bad swap-in would do: the page's first word changes under the task.
  uint64_t garbage = 0xdeadbeefdeadbeefULL;
  iovec local{&garbage, sizeof garbage};
  iovec remote{reinterpret_cast<void*>(t.base + 3 * sysconf(_SC_PAGESIZE)), sizeof garbage};
  ASSERT_EQ(process_vm_writev(t.pid, &local, 1, &remote, 1, 0), 8);
  WaitFinished(**w);
  t = (*w)->Progress()[0];
  EXPECT_EQ(t.state, TaskProgress::State::kDataLoss);
  EXPECT_NE(t.detail.find("page 3 "), std::string::npos) << t.detail;
  EXPECT_NE(t.detail.find("word 0 "), std::string::npos) << t.detail;
  EXPECT_NE(t.detail.find("found deadbeefdeadbeef"), std::string::npos) << t.detail;
}

TEST(AnonMmapTest, ASectorInsideAPageThatComesBackWrongIsDataLoss) {
  auto w = AnonMmapWorkload::Start({.procs = 1, .bytes_per_proc = 4 << 20, .passes = 1000000});
  ASSERT_TRUE(w.ok()) << w.status();
  TaskProgress t = (*w)->Progress()[0];
  for (int i = 0; i < 200 && t.pass == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    t = (*w)->Progress()[0];
  }
  ASSERT_GT(t.pass, 0u) << "never finished a pass";
  // The page's fifth 512-byte sector zeroed, its first and last words intact.
  std::vector<char> zeros(512, 0);
  iovec local{zeros.data(), zeros.size()};
  iovec remote{reinterpret_cast<void*>(t.base + 5 * sysconf(_SC_PAGESIZE) + 4 * 512), 512};
  ASSERT_EQ(process_vm_writev(t.pid, &local, 1, &remote, 1, 0), 512);
  WaitFinished(**w);
  t = (*w)->Progress()[0];
  EXPECT_EQ(t.state, TaskProgress::State::kDataLoss);
  EXPECT_NE(t.detail.find("page 5 "), std::string::npos) << t.detail;
  EXPECT_NE(t.detail.find("word 256 "), std::string::npos) << t.detail;
  EXPECT_NE(t.detail.find("found 0000000000000000"), std::string::npos) << t.detail;
}

TEST(AnonMmapTest, AKilledTaskIsReportedWithItsSignal) {
  auto w = AnonMmapWorkload::Start({.procs = 1, .bytes_per_proc = 64 << 20, .passes = 1000});
  ASSERT_TRUE(w.ok()) << w.status();
  kill((*w)->Progress()[0].pid, SIGBUS);
  WaitFinished(**w);
  TaskProgress t = (*w)->Progress()[0];
  EXPECT_EQ(t.state, TaskProgress::State::kKilled);
  EXPECT_NE(t.detail.find("signal 7"), std::string::npos) << t.detail;
}

TEST(AnonMmapTest, DestroyingKillsTheTasks) {
  pid_t pid;
  {
    auto w = AnonMmapWorkload::Start({.procs = 1, .bytes_per_proc = 16 << 20, .passes = 100000});
    ASSERT_TRUE(w.ok());
    pid = (*w)->Progress()[0].pid;
  }
  EXPECT_EQ(kill(pid, 0), -1);
}

TEST(AnonMmapTest, BadParameters) {
  EXPECT_FALSE(AnonMmapWorkload::Start({.procs = 0, .bytes_per_proc = 1 << 20}).ok());
  EXPECT_FALSE(AnonMmapWorkload::Start({.procs = 1, .bytes_per_proc = 10}).ok());
  EXPECT_FALSE(AnonMmapWorkload::Start({.procs = 1, .bytes_per_proc = 1 << 20, .passes = 0}).ok());
}

}  // namespace
}  // namespace swapchaos::agents::workload
