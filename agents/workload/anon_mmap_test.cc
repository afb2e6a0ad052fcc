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
    auto w = AnonMmapWorkload::Start({.procs = 3,
                                      .bytes_per_proc = 8 << 20,
                                      .passes = 2,
                                      .write = write,
                                      .seed = 7,
                                      .exe = SWAPCHAOS_AGENT});
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

// Starts one task walking 4 MiB for good; once it has checked every page,
// overwrites `bytes` at `offset` in its mapping, as a bad swap-in would, and
// returns how the task ended.
TaskProgress OverwriteAfterFirstPass(uint64_t offset, std::vector<char> bytes) {
  auto w = AnonMmapWorkload::Start(
      {.procs = 1, .bytes_per_proc = 4 << 20, .passes = 1000000, .exe = SWAPCHAOS_AGENT});
  if (!w.ok()) {
    ADD_FAILURE() << w.status();
    return {};
  }
  TaskProgress t = (*w)->Progress()[0];
  for (int i = 0; i < 200 && t.pass == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    t = (*w)->Progress()[0];
  }
  if (t.pass == 0) {
    ADD_FAILURE() << "never finished a pass";
    return {};
  }
  iovec local{bytes.data(), bytes.size()};
  iovec remote{reinterpret_cast<void*>(t.base + offset), bytes.size()};
  if (process_vm_writev(t.pid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(bytes.size())) {
    ADD_FAILURE() << "process_vm_writev failed";
    return {};
  }
  WaitFinished(**w);
  return (*w)->Progress()[0];
}

TEST(AnonMmapTest, APageThatComesBackWrongIsDataLoss) {
  // The page's first word.
  TaskProgress t = OverwriteAfterFirstPass(3 * sysconf(_SC_PAGESIZE), std::vector<char>(8, '\xab'));
  EXPECT_EQ(t.state, TaskProgress::State::kDataLoss);
  EXPECT_NE(t.detail.find("page 3 "), std::string::npos) << t.detail;
  EXPECT_NE(t.detail.find("first at byte 0:"), std::string::npos) << t.detail;
  EXPECT_NE(t.detail.find("found 0xab"), std::string::npos) << t.detail;
  EXPECT_NE(t.detail.find("word 0: expected"), std::string::npos) << t.detail;
  EXPECT_NE(t.detail.find("found abababababababab"), std::string::npos) << t.detail;
}

TEST(AnonMmapTest, ASectorInsideAPageThatComesBackWrongIsDataLoss) {
  // The page's fifth 512-byte sector zeroed, its first and last words intact.
  TaskProgress t =
      OverwriteAfterFirstPass(5 * sysconf(_SC_PAGESIZE) + 4 * 512, std::vector<char>(512, 0));
  EXPECT_EQ(t.state, TaskProgress::State::kDataLoss);
  EXPECT_NE(t.detail.find("page 5 "), std::string::npos) << t.detail;
  EXPECT_NE(t.detail.find("first at byte 2048:"), std::string::npos) << t.detail;
  EXPECT_NE(t.detail.find("word 256: expected"), std::string::npos) << t.detail;
  EXPECT_NE(t.detail.find("found 0000000000000000"), std::string::npos) << t.detail;
}

// What the swap-in mutant of issue 10 did: one byte in the middle of a
// page, a place no sector's first word covers.
TEST(AnonMmapTest, OneByteInTheMiddleOfAPageIsDataLoss) {
  const size_t offset = 7 * sysconf(_SC_PAGESIZE) + 1234;
  // The byte's value as written (page_marks.h), one bit flipped.
  const uint64_t want = AnonPagePattern(0, 0, 7, 0) + 0x9e3779b97f4a7c15ULL * (1234 / 8);
  const char flipped = static_cast<char>(static_cast<uint8_t>(want >> (8 * (1234 % 8))) ^ 0x10);
  TaskProgress t = OverwriteAfterFirstPass(offset, std::vector<char>(1, flipped));
  EXPECT_EQ(t.state, TaskProgress::State::kDataLoss);
  EXPECT_NE(t.detail.find("page 7 "), std::string::npos) << t.detail;
  EXPECT_NE(t.detail.find("1 of 4096 bytes differ, first at byte 1234:"), std::string::npos)
      << t.detail;
}

TEST(AnonMmapTest, AKilledTaskIsReportedWithItsSignal) {
  auto w = AnonMmapWorkload::Start(
      {.procs = 1, .bytes_per_proc = 64 << 20, .passes = 1000, .exe = SWAPCHAOS_AGENT});
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
    auto w = AnonMmapWorkload::Start(
        {.procs = 1, .bytes_per_proc = 16 << 20, .passes = 100000, .exe = SWAPCHAOS_AGENT});
    ASSERT_TRUE(w.ok());
    pid = (*w)->Progress()[0].pid;
  }
  EXPECT_EQ(kill(pid, 0), -1);
}

TEST(AnonMmapTest, BadParameters) {
  EXPECT_FALSE(
      AnonMmapWorkload::Start({.procs = 0, .bytes_per_proc = 1 << 20, .exe = SWAPCHAOS_AGENT})
          .ok());
  EXPECT_FALSE(
      AnonMmapWorkload::Start({.procs = 1, .bytes_per_proc = 10, .exe = SWAPCHAOS_AGENT}).ok());
  EXPECT_FALSE(AnonMmapWorkload::Start(
                   {.procs = 1, .bytes_per_proc = 1 << 20, .passes = 0, .exe = SWAPCHAOS_AGENT})
                   .ok());
}

}  // namespace
}  // namespace swapchaos::agents::workload
