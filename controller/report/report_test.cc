#include "controller/report/report.h"

#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// A real recorded run (the smoke scenario on the default kernel).
TEST(ReportTest, RunPageHasVerdictTimelinesAndShadedFaults) {
  auto h = LoadHistory(std::string(SWAPCHAOS_ORACLE_TESTDATA) + "/smoke-pass");
  ASSERT_TRUE(h.ok()) << h.status();
  Verdict v = Judge(*h);
  v.mutable_oracles(0)->set_evidence("a <b> & \"c\"");
  std::string html = RunReportHtml(*h, v);
  EXPECT_NE(html.find("<span class=\"pass\">pass</span>"), std::string::npos);
  EXPECT_EQ(Count(html, "<svg"), 6u);  // no wire telemetry recorded in this one
  // Each of the scenario's faults shaded on each of the six charts.
  EXPECT_EQ(Count(html, "class=\"fault\""), 6u * h->scenario.faults_size());
  // Legends in their series' colours.
  EXPECT_NE(html.find("style=\"fill:#d62728\">swap-out pages/s</text>"), std::string::npos);
  EXPECT_NE(html.find("faults[1] netem"), std::string::npos);
  EXPECT_NE(html.find("a &lt;b&gt; &amp; &quot;c&quot;"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // self-contained, nothing runs
  EXPECT_EQ(html.find("Kernel report"), std::string::npos);
}

TEST(ReportTest, AFailingRunShowsTheKernelsReport) {
  auto h = LoadHistory(std::string(SWAPCHAOS_ORACLE_TESTDATA) + "/smoke-pass");
  ASSERT_TRUE(h.ok()) << h.status();
  h->console +=
      "[ 40.0] kernel BUG at mm/swap_state.c:52!\n[ 40.0] RIP: 0010:add_to_swap_cache+0x1f/0x3a0\n"
      "[ 40.0] Call Trace:\n[ 40.0]  <TASK>\n[ 40.0]  add_to_swap+0x4c/0x80\n[ 40.0]  </TASK>\n";
  Verdict v = Judge(*h);
  std::string html = RunReportHtml(*h, v);
  EXPECT_NE(html.find("<h2>Kernel report: kernel BUG in add_to_swap_cache</h2>"),
            std::string::npos);
  EXPECT_NE(html.find("<a href=\"console.log\">console.log</a> line "), std::string::npos);
  EXPECT_NE(html.find("[ 40.0]  add_to_swap+0x4c/0x80"), std::string::npos);
  EXPECT_NE(html.find("[ 40.0]  &lt;/TASK&gt;"), std::string::npos);
}

TEST(ReportTest, AKernelThatFailedDuringSetUpHasNoEmptyCharts) {
  History h;
  h.scenario.set_name("quick");
  h.meta.set_kernel_failure("kernel did not boot: reset before init");
  h.meta.set_outcome("kernel stopped before reaching init");
  std::string html = RunReportHtml(h, Judge(h));
  EXPECT_EQ(Count(html, "<svg"), 0u);
  EXPECT_NE(html.find("No telemetry: the workload never started."), std::string::npos);
  EXPECT_NE(html.find("kernel did not boot: reset before init"), std::string::npos);
}

// A trace is input too (analyze reads any directory): an index past the
// scenario's faults, even one that is negative as an int, is shown as it is.
TEST(ReportTest, AFaultIndexPastTheScenarioIsNoCrash) {
  auto h = LoadHistory(std::string(SWAPCHAOS_ORACLE_TESTDATA) + "/smoke-pass");
  ASSERT_TRUE(h.ok()) << h.status();
  for (uint32_t index : {2147483648u, 4294967295u, 7u}) {
    FaultEvent e;
    e.set_fault(index);
    e.set_action("apply");
    e.add_targets("wire data1 qdisc");
    h->faults.push_back(e);
  }
  std::string html = RunReportHtml(*h, Judge(*h));
  EXPECT_NE(html.find("4294967295"), std::string::npos);
}

std::vector<StoredRun> SomeRuns() {
  std::vector<StoredRun> runs(4);
  for (int i = 0; i < 4; ++i) {
    runs[i].id = i + 1;
    runs[i].scenario = "/s/smoke.yaml";
    runs[i].seed = static_cast<uint64_t>(i + 1);
    runs[i].dir = "/r/c/" + std::to_string(i + 1) + ".1";
    runs[i].status = "done";
    runs[i].verdict = "pass";
    runs[i].wall_s = 90;
  }
  runs[1].verdict = "fail";
  runs[1].signature = "workload task killed: Bus error";
  runs[2].status = "error";
  runs[2].error = "QEMU <exited>";
  runs[3].status = "pending";
  return runs;
}

TEST(ReportTest, JUnitCountsEveryOutcome) {
  StoredCampaign c;
  c.name = "nightly";
  std::string xml = JUnitXml(c, SomeRuns());
  EXPECT_NE(xml.find("tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\""), std::string::npos)
      << xml;
  EXPECT_EQ(Count(xml, "<testcase "), 4u);
  EXPECT_NE(xml.find("<failure message=\"workload task killed: Bus error\">"), std::string::npos);
  EXPECT_NE(xml.find("QEMU &lt;exited&gt;"), std::string::npos);
}

// Samples 0.5 s apart by the guest's clock, a 10 s stall in sampling, then
// a burst delivered at once: the stall is a gap in every line, the burst's
// rate is over the guest's intervals (100 pages in 0.5 s = 200/s, never
// more), a dead NBD link and its reconnect are marked, the wire is charted.
TEST(ReportTest, GapsAreGapsAndBurstsKeepTheirRate) {
  History h;
  h.meta.set_workload_start_unix_ms(1'000'000);
  h.meta.set_observed_until_unix_ms(1'030'000);
  uint64_t pswpout = 0;
  auto add = [&](std::vector<agent::Sample>* to, uint64_t uptime_ms, int64_t host_ms) {
    agent::Sample s;
    s.set_uptime_ms(uptime_ms);
    s.set_host_unix_ms(host_ms);
    (*s.mutable_vmstat())["pswpout"] = pswpout += 100;
    (*s.mutable_net_dev())["data0"].set_rx_bytes(pswpout * 4096);
    s.set_nbd_link_deaths(uptime_ms >= 20'000 ? 1 : 0);
    s.set_nbd_reconnects(uptime_ms >= 22'000 ? 1 : 0);
    // 10 reads answered a sample, 50 ms between them: 5 ms each.
    s.set_nbd_reads_done(pswpout / 10);
    s.set_nbd_read_ticks_ms(pswpout / 2);
    to->push_back(s);
  };
  for (uint64_t ms = 0; ms <= 5000; ms += 500) add(&h.victim, 10'000 + ms, 1'000'000 + ms + 20);
  // Taken every 0.5 s from 15 s to 25 s of uptime, all delivered at 1'025'100.
  for (uint64_t ms = 15'000; ms <= 25'000; ms += 500) add(&h.victim, 10'000 + ms, 1'025'100);
  pswpout = 0;
  for (uint64_t ms = 0; ms <= 5000; ms += 500) add(&h.wire, 10'000 + ms, 1'000'000 + ms + 20);
  Verdict v;
  v.set_verdict("pass");
  std::string html = RunReportHtml(h, v);
  EXPECT_EQ(Count(html, "<svg"), 7u);
  EXPECT_NE(html.find("The wire forwards"), std::string::npos);
  EXPECT_EQ(Count(html, "class=\"mark\""), 4u);  // on the requests' and the latency's charts
  size_t latency = html.find("NBD latency, ms");
  ASSERT_NE(latency, std::string::npos);
  EXPECT_NE(html.find("style=\"fill:#1f77b4\">read latency ms</text>", latency), std::string::npos);
  EXPECT_NE(html.find(">5</text>", latency), std::string::npos);  // the y axis: 5 ms
  EXPECT_NE(html.find("<title>NBD link dead (1)</title>"), std::string::npos);
  // Every line of the victim's charts starts once and breaks once, at the stall.
  size_t swap = html.find("Swap traffic");
  size_t path = html.find("stroke=\"#d62728\"", swap);
  size_t d = html.rfind("d=\"", path);
  std::string line = html.substr(d, path - d);
  EXPECT_EQ(Count(line, " M"), 2u) << line;
  // The y axis tops out at the true rate, 200 pages/s.
  EXPECT_NE(html.find(">200</text>", swap), std::string::npos);
}

// A run for harnesses: a skipped oracle is a KTAP SKIP and a JUnit
// skipped, a run we could not judge an ERROR, never a kernel failure.
TEST(ReportTest, OneRunAsKtapAndJUnit) {
  Verdict v;
  v.set_verdict("fail");
  v.set_signature("page content mismatch");
  v.set_tool("swapchaos 0.8.0 (commit x)");
  auto* ok = v.add_oracles();
  ok->set_name("kernel_set_up");
  ok->set_outcome("pass");
  auto* skip = v.add_oracles();
  skip->set_name("throttled_woken");
  skip->set_outcome("skip");
  skip->set_evidence("no throttling");
  auto* bad = v.add_oracles();
  bad->set_name("no_data_loss");
  bad->set_outcome("fail");
  bad->set_signature("page content mismatch");
  bad->set_evidence("1 of 4096 bytes differ\nfirst at byte 1234 <&>");
  std::string ktap = RunKtap("a#b", v);
  EXPECT_TRUE(ktap.starts_with("KTAP version 1\n# swapchaos 0.8.0 (commit x): a#b seed 0")) << ktap;
  EXPECT_NE(ktap.find("\n1..1\n  KTAP version 1\n  # Subtest: a_b\n  1..3\n  ok 1 kernel_set_up\n"
                      "  ok 2 throttled_woken # SKIP no throttling\n"
                      "  # 1 of 4096 bytes differ\n  # first at byte 1234 <&>\n  not ok 3 no_data_loss\n"
                      "# page content mismatch\nnot ok 1 a_b\n"),
            std::string::npos)
      << ktap;
  std::string xml = RunJUnitXml("a", v);
  EXPECT_NE(xml.find("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""), std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<failure message=\"page content mismatch\">1 of 4096 bytes differ\nfirst at "
                     "byte 1234 &lt;&amp;&gt;</failure>"),
            std::string::npos)
      << xml;

  Verdict error;
  error.set_verdict("error");
  error.set_signature("QEMU exited\nwith status 1");
  EXPECT_TRUE(RunKtap("a", error).ends_with("\n1..1\nnot ok 1 a # ERROR QEMU exited with status 1\n"))
      << RunKtap("a", error);
  EXPECT_NE(RunJUnitXml("a", error).find("errors=\"1\""), std::string::npos);
  Verdict refused;  // the kernel refused swap on NBD before the workload
  refused.set_verdict("fail");
  refused.set_signature("swap on NBD could not be enabled");
  EXPECT_TRUE(RunKtap("a", refused).ends_with("# swap on NBD could not be enabled\nnot ok 1 a\n"));
  EXPECT_NE(RunJUnitXml("a", refused).find("<testcase classname=\"a\" name=\"run\"><failure "),
            std::string::npos);
}

TEST(ReportTest, CampaignPageLinksEachRunsReport) {
  StoredCampaign c;
  c.id = 3;
  c.name = "nightly";
  std::string html = CampaignReportHtml(c, SomeRuns(), "/r/c");
  EXPECT_NE(html.find("href=\"1.1/report.html\""), std::string::npos) << html;
  EXPECT_NE(html.find("1 pass"), std::string::npos);
  EXPECT_NE(html.find("1 fail"), std::string::npos);
  // One pass of two judged: the Wilson bound of 1/2, and the failure's signature with its run.
  EXPECT_NE(html.find("<td>smoke.yaml</td><td>default</td><td>1</td><td class=\"fail\">1</td>"
                      "<td>1</td><td>1</td><td>0.09</td>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<td class=\"fail\">workload task killed: Bus error</td><td>1</td>"
                      "<td><a href=\"2.1/report.html\">run 2</a></td>"),
            std::string::npos)
      << html;
}

}  // namespace
}  // namespace swapchaos::controller
