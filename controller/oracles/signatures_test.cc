#include "controller/oracles/signatures.h"

#include <algorithm>
#include <filesystem>
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
  ASSERT_EQ(findings.size(), 4u);
  EXPECT_EQ(findings[0].title, "nbd: dead connection");
  EXPECT_DOUBLE_EQ(findings[0].uptime_s, 43.713502);
  EXPECT_EQ(findings[1].title, "I/O error on nbd");
  EXPECT_EQ(findings[2].title, "Write-error on swap-device");
  EXPECT_EQ(findings[3].title, "Write-error on swap-device");  // stable: no sector in it
  EXPECT_EQ(findings[2].severity, Severity::kOutsideFaults);
}

TEST(SignaturesTest, RecordedOomKill) {
  EXPECT_EQ(Titles(Recorded("oom.console")),
            std::vector<std::string>{"OOM kill of grpcpp_sync_ser"});
}

// wire-pulled-3min.yaml: the NBD link cut for 180 s under heavy swap; the
// hung-task detector reports the NBD timeout worker and the workload's
// tasks, each titled by the function it is stuck in, not by its name.
TEST(SignaturesTest, RecordedHungTasksDuringALongCut) {
  auto findings = ScanConsole(Recorded("hung-task.console"));
  ASSERT_GE(findings.size(), 2u);
  EXPECT_EQ(findings[0].title, "INFO: task hung in blk_mq_timeout_work");
  EXPECT_EQ(findings[1].title, "INFO: task hung in blk_mq_submit_bio");
  // The report runs from its first line through the end of its trace.
  EXPECT_TRUE(findings[0].report.starts_with(findings[0].line)) << findings[0].report;
  EXPECT_NE(findings[0].report.find("blk_mq_timeout_work+0x149/0x1b0"), std::string::npos);
  EXPECT_TRUE(findings[0].report.ends_with("</TASK>\n")) << findings[0].report;
  EXPECT_EQ(findings[0].line_number, 3u);
  EXPECT_EQ(findings[1].line_number, 25u);
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

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kFatal:
      return "fatal";
    case Severity::kOutsideFaults:
      return "outside-faults";
    case Severity::kEvidence:
      return "evidence";
    case Severity::kReserve:
      return "reserve";
  }
  return "?";
}

// The corpus: testdata/reports/*.txt, each a console excerpt (recorded
// here, or written from the printk formats of the 6.1 code that prints
// it) after a header: "TITLE: <expected title of the first report>" (empty:
// no report), "SEVERITY: <fatal|outside-faults|evidence|reserve>", '#' comments.
TEST(SignaturesTest, Corpus) {
  int files = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(SWAPCHAOS_ORACLE_TESTDATA) + "/reports")) {
    ++files;
    std::string text = Recorded("reports/" + e.path().filename().string());
    size_t body = text.find("\n\n");
    ASSERT_NE(body, std::string::npos) << e.path() << ": no blank line after the header";
    std::string header = text.substr(0, body);
    ASSERT_TRUE(header.starts_with("TITLE:")) << e.path() << ": no TITLE: line first";
    std::string title = header.substr(6, header.find('\n') - 6);
    if (!title.empty() && title[0] == ' ') title.erase(0, 1);
    auto findings = ScanConsole(text.substr(body + 2));
    if (title.empty()) {
      EXPECT_TRUE(findings.empty()) << e.path() << ": " << findings[0].title;
      continue;
    }
    ASSERT_FALSE(findings.empty()) << e.path();
    EXPECT_EQ(findings[0].title, title) << e.path();
    size_t sev = header.find("SEVERITY: ");
    ASSERT_NE(sev, std::string::npos) << e.path();
    EXPECT_EQ(SeverityName(findings[0].severity),
              header.substr(sev + 10, header.find('\n', sev) - sev - 10))
        << e.path();
    EXPECT_TRUE(findings[0].report.starts_with(findings[0].line)) << e.path();
    EXPECT_GT(findings[0].line_number, 0u) << e.path();
  }
  EXPECT_GE(files, 20);
}

// Two tasks stuck in the same place are one bug: one title.
TEST(SignaturesTest, HungTasksStuckInOnePlaceShareATitle) {
  const std::string a =
      "[1.0] INFO: task swapchaos-wl:211 blocked for more than 120 seconds.\n"
      "[1.0] Call Trace:\n[1.0]  <TASK>\n[1.0]  __schedule+0x34d/0xa00\n"
      "[1.0]  schedule+0x5a/0xd0\n[1.0]  io_schedule+0x42/0x70\n"
      "[1.0]  folio_wait_bit_common+0x13d/0x350\n[1.0]  do_swap_page+0x5b2/0xb30\n"
      "[1.0]  </TASK>\n";
  std::string b = a;
  b.replace(b.find("swapchaos-wl:211"), 16, "kworker/0:2:530");
  EXPECT_EQ(Titles(a), std::vector<std::string>{"INFO: task hung in do_swap_page"});
  EXPECT_EQ(Titles(a), Titles(b));
}

// Bad input: bytes that are no text, lines far longer than printk makes,
// a console cut mid-report. Scanned, never a crash.
TEST(SignaturesTest, JunkAndHugeLinesAreScanned) {
  std::string junk;
  for (int i = 0; i < 1 << 16; ++i) junk.push_back(static_cast<char>(i * 7919));
  EXPECT_NO_FATAL_FAILURE(ScanConsole(junk));
  std::string huge(50 << 20, 'A');
  huge += "\n[ 5.0] Kernel panic - not syncing: Fatal exception\n";
  EXPECT_EQ(Titles(huge), std::vector<std::string>{"kernel panic: Fatal exception"});
  EXPECT_EQ(Titles("[ 5.0] general protection fault: 0000 [#1]\n[ 5.0] RIP: 0010:"),
            std::vector<std::string>{"general protection fault"});
}

// Seen in CI: the guest agent's message and a kernel line on one console
// line. The kernel's timestamp still counts (without it the finding would
// count as after the grace period, whenever it happened).
// An escape sequence printed by the guest must not reach the user's
// terminal through a title or an excerpt.
TEST(SignaturesTest, ControlBytesNeverLeaveTheScan) {
  auto found = ScanConsole(
      "[   40.000000] kernel BUG at mm/swap_state.c:42!\x1b]2;owned\x07\x1b[2J\n"
      "[   40.000001] invalid opcode: 0000 [#1] PREEMPT SMP\n");
  ASSERT_FALSE(found.empty());
  for (const std::string* text : {&found[0].title, &found[0].line, &found[0].report}) {
    for (char c : *text) {
      EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') << *text;
    }
  }
  EXPECT_NE(found[0].line.find("?]2;owned??[2J"), std::string::npos) << found[0].line;
}

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
  // Without a trace, a per-CPU worker's name loses its CPU.
  EXPECT_EQ(Titles("[1.0] INFO: task kworker/1:1H:41 blocked for more than 120 seconds."),
            std::vector<std::string>{"INFO: task hung: kworker"});
}

}  // namespace
}  // namespace swapchaos::controller
