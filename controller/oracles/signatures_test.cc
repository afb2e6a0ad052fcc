#include "controller/oracles/signatures.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

std::string Recorded(const std::string& name) {
  std::ifstream in(std::string(SWAPCHAOS_ORACLE_TESTDATA) + "/" + name);
  std::ostringstream ss;
  ss << in.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << name;
  return ss.str();
}

std::vector<std::string> Titles(std::string_view console) {
  std::vector<std::string> out;
  for (const ConsoleFinding& f : ScanConsole(console)) out.push_back(f.title);
  return out;
}

// Consoles recorded from swapchaos boot runs of the default 6.1 kernel.
TEST(SignaturesTest, RecordedNbdServerKilledUnderSwap) {
  auto findings = ScanConsole(Recorded("nbd-server-killed.console"));
  ASSERT_EQ(findings.size(), 3u);
  EXPECT_EQ(findings[0].title, "nbd: dead connection");
  EXPECT_DOUBLE_EQ(findings[0].uptime_s, 43.713502);
  EXPECT_EQ(findings[1].title, "Write-error on swap-device");
  EXPECT_EQ(findings[2].title, "Write-error on swap-device");  // stable: no sector in it
  EXPECT_FALSE(findings[1].always_fatal);
}

TEST(SignaturesTest, RecordedOomKill) {
  EXPECT_EQ(Titles(Recorded("oom.console")),
            std::vector<std::string>{"OOM kill of grpcpp_sync_ser"});
}

// wire-pulled-3min.yaml: the NBD link cut for 180 s under heavy swap; the
// hung-task detector names the NBD receive worker and the workload's tasks.
TEST(SignaturesTest, RecordedHungTasksDuringALongCut) {
  std::vector<std::string> titles = Titles(Recorded("hung-task.console"));
  ASSERT_GE(titles.size(), 2u);
  EXPECT_EQ(titles[0], "task hung: kworker");  // not kworker/1:1H: CPU-free, so stable
  EXPECT_EQ(titles[1], "task hung: swapchaos-wl");
}

// nbd-server-restart.yaml before the reconnect thread was an IO flusher:
// the dead link, swap reads failing when the dead-connection timeout ran
// out, the reconnect that came too late, and the requests still stuck.
TEST(SignaturesTest, RecordedReconnectTooLate) {
  std::vector<std::string> titles = Titles(Recorded("reconnect-too-late.console"));
  ASSERT_GE(titles.size(), 3u);
  EXPECT_EQ(titles.front(), "nbd: dead connection");
  EXPECT_EQ(std::count(titles.begin(), titles.end(), "Read-error on swap-device"), 10);
  EXPECT_EQ(titles.back(), "nbd: possible stuck request");
}

TEST(SignaturesTest, RecordedCleanRunHasNoFinding) {
  EXPECT_TRUE(Titles(Recorded("smoke-pass/console.log")).empty());
}

// Lines in the format of the kernel code that prints them (6.1), where no
// run here has produced one yet.
TEST(SignaturesTest, KernelFormats) {
  struct Case {
    const char* line;
    const char* title;
    bool fatal;
  };
  const Case cases[] = {
      // kernel/hung_task.c: check_hung_task()
      {"[  245.101234] INFO: task kworker/u2:1:37 blocked for more than 120 seconds.",
       "task hung: kworker", false},
      // kernel/watchdog.c: watchdog_timer_fn()
      {"[   88.000001] watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [swapchaos-wl:212]",
       "soft lockup in swapchaos-wl", false},
      // kernel/rcu/tree_stall.h: print_cpu_stall()
      {"[  100.5] rcu: INFO: rcu_preempt self-detected stall on CPU", "RCU stall", false},
      // kernel/panic.c: panic()
      {"[   12.3] Kernel panic - not syncing: Out of memory and no killable processes...",
       "kernel panic: Out of memory and no killable processes...", true},
      // include/asm-generic/bug.h: __WARN_printf via __warn()
      {"[    9.1] WARNING: CPU: 0 PID: 41 at mm/page_alloc.c:5525 __alloc_pages+0x2f4/0x340",
       "WARNING in __alloc_pages", true},
      // arch/x86/mm/fault.c: show_fault_oops()
      {"[    7.7] BUG: kernel NULL pointer dereference, address: 0000000000000008",
       "BUG: kernel memory access fault", true},
      // mm/slub.c style BUG lines
      {"[    7.7] BUG: scheduling while atomic: kswapd0/33/0x00000002",
       "BUG: scheduling while atomic", true},
      // drivers/block/nbd.c: nbd_xmit_timeout()
      {"[  160.0] block nbd0: Possible stuck request 00000000a1b2c3d4: control (read@12345,4096B). "
       "Runtime 30 seconds",
       "nbd: possible stuck request", false},
      {"[  160.0] block nbd0: Connection timed out, retrying (0/1 alive)",
       "nbd: connection timed out", false},
      // mm/page_io.c: __end_swap_bio_read()
      {"[   50.0] Read-error on swap-device (43:0:123456)", "Read-error on swap-device", false},
  };
  for (const Case& c : cases) {
    auto f = ScanConsole(c.line);
    ASSERT_EQ(f.size(), 1u) << c.line;
    EXPECT_EQ(f[0].title, c.title) << c.line;
    EXPECT_EQ(f[0].always_fatal, c.fatal) << c.line;
  }
}

// Seen in CI: the guest agent's message and a kernel line on one console
// line. The kernel's timestamp still counts (without it the finding would
// count as after the grace period, whenever it happened).
TEST(SignaturesTest, KernelLineAfterAnAgentMessageKeepsItsTimestamp) {
  auto f = ScanConsole(
      "swapchaos-agent: nbd0: link dead, reconnecting to 198.51.100.2:10809"
      "[   38.491957] block nbd0: Dead connection, failed to find a fallback");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].title, "nbd: dead connection");
  EXPECT_DOUBLE_EQ(f[0].uptime_s, 38.491957);
}

TEST(SignaturesTest, TitlesAreStableAcrossRuns) {
  // Same failure, other pid, time and sector: same title.
  EXPECT_EQ(Titles("[ 1.0] Out of memory: Killed process 94 (swapchaos-wl) total-vm:1kB"),
            Titles("[ 9.0] Out of memory: Killed process 311 (swapchaos-wl) total-vm:9kB"));
  EXPECT_EQ(Titles("[1.0] INFO: task swapchaos-wl:211 blocked for more than 120 seconds."),
            Titles("[2.0] INFO: task swapchaos-wl:530 blocked for more than 122 seconds."));
}

}  // namespace
}  // namespace swapchaos::controller
