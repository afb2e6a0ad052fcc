#include "controller/oracles/oracles.h"

#include <algorithm>
#include <optional>

#include "controller/oracles/signatures.h"
#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

History Smoke() {
  auto h = LoadHistory(std::string(SWAPCHAOS_ORACLE_TESTDATA) + "/smoke-pass");
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *h : History{};
}

const OracleResult& Find(const Verdict& v, const std::string& name) {
  for (const auto& o : v.oracles()) {
    if (o.name() == name) return o;
  }
  static OracleResult none;
  ADD_FAILURE() << "no oracle " << name;
  return none;
}

// A smoke.yaml run recorded on the default kernel: loss, then a cut, healed.
TEST(OraclesTest, RecordedSmokeRunPasses) {
  Verdict v = Judge(Smoke());
  EXPECT_EQ(v.verdict(), "pass");
  for (const auto& o : v.oracles())
    EXPECT_NE(o.outcome(), "fail") << o.name() << ": " << o.evidence();
  EXPECT_EQ(Find(v, "swap_resumed").outcome(), "pass");
  EXPECT_EQ(Find(v, "throttled_woken").outcome(), "pass");
}

TEST(OraclesTest, PageMismatchFailsWithItsSignature) {
  History h = Smoke();
  agent::TaskSample* t = h.victim.back().mutable_tasks(2);
  t->set_state("data_loss");
  t->set_detail("page 7 at 0x7f0 in pass 1: expected 1/2, found 3/4");
  Verdict v = Judge(h);
  EXPECT_EQ(v.verdict(), "fail");
  EXPECT_EQ(v.signature(), "page content mismatch");
  EXPECT_NE(Find(v, "no_data_loss").evidence().find("page 7"), std::string::npos);
}

TEST(OraclesTest, SigbusFailsAndNamesTheSignal) {
  History h = Smoke();
  h.victim.back().mutable_tasks(0)->set_state("killed");
  h.victim.back().mutable_tasks(0)->set_detail("killed by signal 7 (Bus error)");
  EXPECT_EQ(Judge(h).signature(), "workload task killed: Bus error");
}

// The smoke run with nothing moving for 25 s of samples before the first
// fault is applied.
History StalledBeforeTheFirstFault() {
  History h = Smoke();
  int64_t first_apply = h.faults[0].host_unix_ms();
  const agent::Sample* frozen = nullptr;
  for (agent::Sample& s : h.victim) {
    if (s.host_unix_ms() >= first_apply) break;
    if (frozen == nullptr && s.host_unix_ms() >= h.victim.front().host_unix_ms() + 1000) {
      frozen = &s;
      continue;
    }
    if (frozen != nullptr) {
      *s.mutable_tasks() = frozen->tasks();
      *s.mutable_vmstat() = frozen->vmstat();
    }
  }
  EXPECT_NE(frozen, nullptr);
  if (frozen == nullptr) return h;
  // Stretch the frozen stretch to 25 s on the host clock.
  const int64_t frozen_ms = frozen->host_unix_ms();
  for (agent::Sample& s : h.victim) {
    if (s.host_unix_ms() > frozen_ms) s.set_host_unix_ms(s.host_unix_ms() + 25000);
  }
  for (FaultEvent& e : h.faults) e.set_host_unix_ms(e.host_unix_ms() + 25000);
  return h;
}

// The guest's uptime at the host time `host_ms`, as the console prints it.
std::string UptimeAt(const History& h, int64_t host_ms) {
  const agent::Sample& s = h.victim.front();
  return std::to_string(
      static_cast<double>(host_ms - s.host_unix_ms() + static_cast<int64_t>(s.uptime_ms())) /
      1000.0);
}

int64_t FirstApplyMs(const History& h) {
  for (const FaultEvent& e : h.faults) {
    if (e.action() == "apply") return e.host_unix_ms();
  }
  return 0;
}

TEST(OraclesTest, ConsoleFailureOutsideTheFaultsFailsButDuringThemIsExpected) {
  const std::string hang = "] INFO: task swapchaos-wl:99 blocked for more than 120 seconds.\n";
  History h = Smoke();
  h.console += "[ " + UptimeAt(h, FirstApplyMs(h) + 1000) + hang;
  EXPECT_EQ(Judge(h).verdict(), "pass") << "a hang report during a fault is expected";
  EXPECT_NE(Find(Judge(h), "console_clean").evidence().find("1 during it"), std::string::npos);

  History after = h;
  after.console += "[ " + UptimeAt(h, h.victim.back().host_unix_ms() + 500000) + hang;
  Verdict v = Judge(after);
  EXPECT_EQ(v.verdict(), "fail");
  EXPECT_EQ(v.signature(), "INFO: task hung: swapchaos-wl");

  // Before any fault nothing the faults did can explain it: the kernel's.
  History before = Smoke();
  before.console += "[ " + UptimeAt(h, FirstApplyMs(h) - 5000) + hang;
  EXPECT_EQ(Judge(before).signature(), "INFO: task hung: swapchaos-wl");
  // What the fault caused can reach the console before its apply event's
  // stamp (the stamp follows the read-back): still the fault's.
  History racing = Smoke();
  racing.console += "[ " + UptimeAt(h, FirstApplyMs(h) - 20) + hang;
  EXPECT_EQ(Judge(racing).verdict(), "pass");
}

// Issue 10: a passing run's console with an oops added must fail, titled by
// the guilty function, with the report and where it is in console.log.
TEST(OraclesTest, OopsesFailWheneverTheyHappen) {
  const std::string at = "[ 40.000000] ";
  struct Case {
    std::string report;
    std::string title;
  } cases[] = {
      {at + "kernel BUG at mm/swap_state.c:52!\n" + at + "invalid opcode: 0000 [#1] SMP\n" + at +
           "RIP: 0010:add_to_swap_cache+0x1f/0x3a0\n" + at + "Call Trace:\n" + at +
           " add_to_swap+0x4c/0x80\n" + at + " </TASK>\n",
       "kernel BUG in add_to_swap_cache"},
      {at + "general protection fault, probably for non-canonical address 0x1: 0000 [#1]\n" + at +
           "RIP: 0010:nbd_queue_rq+0x40/0x4f0 [nbd]\n",
       "general protection fault in nbd_queue_rq"},
      {at + "Oops: 0002 [#1] PREEMPT SMP NOPTI\n" + at + "RIP: 0010:recv_work+0x21/0x2e0\n",
       "Oops in recv_work"},
  };
  for (const Case& c : cases) {
    History h = Smoke();
    size_t lines = std::count(h.console.begin(), h.console.end(), '\n');
    h.console += c.report;
    Verdict v = Judge(h);
    EXPECT_EQ(v.verdict(), "fail") << c.report;
    EXPECT_EQ(v.signature(), c.title);
    const OracleResult& r = Find(v, "console_clean");
    EXPECT_EQ(r.console_line(), lines + 1);
    EXPECT_TRUE(r.report().starts_with(c.report.substr(0, c.report.find('\n'))));
  }
}

// Page allocation failures are the kernel's to retry: evidence, not a
// finding, even before any fault; one with a right to the reserves too when
// the reserve was starved or is not known (this recorded run's meta.json
// predates it). A stall cites them.
TEST(OraclesTest, AllocationFailuresAreEvidenceAStallCites) {
  History h = Smoke();
  h.console += "[ 1.0] ksoftirqd/0: page allocation failure: order:0, mode:0x820(GFP_ATOMIC)\n";
  h.console += "[ 1.1] kworker/u3:1: page allocation failure: order:0, "
               "mode:0x40c00(GFP_NOIO|__GFP_MEMALLOC|__GFP_COMP), nodemask=(null)\n";
  Verdict v = Judge(h);
  EXPECT_EQ(v.verdict(), "pass");
  EXPECT_NE(Find(v, "console_clean").evidence().find("2 allocation failures kept as evidence"),
            std::string::npos);
  // The same console with swap stalled before the first fault.
  History stalled = StalledBeforeTheFirstFault();
  stalled.console = h.console;
  v = Judge(stalled);
  EXPECT_EQ(v.signature(), "stalled before any fault");
  EXPECT_NE(Find(v, "progress_before_faults")
                .evidence()
                .find("the console reported: page allocation failure: order:0, reserve page "
                      "allocation failure: order:0"),
            std::string::npos)
      << Find(v, "progress_before_faults").evidence();
}

// With a real reserve, a reserve allocation failing is the finding at any
// time: the reserve the 2012 series keeps for the swap path ran dry (the
// watermark-negative-free mutant's mark). At the kernel's own 1.9 MB it is
// evidence.
TEST(OraclesTest, AReserveThatRanDryIsAFindingWhenThereWasOne) {
  History h = Smoke();
  h.console +=
      "[ 1.1] kworker/u3:1: page allocation failure: order:0, "
      "mode:0x20c00(GFP_NOIO|__GFP_MEMALLOC), nodemask=(null)\n";
  h.meta.mutable_swap()->set_min_free_kbytes(6144);
  Verdict v = Judge(h);
  EXPECT_EQ(v.verdict(), "fail");
  EXPECT_EQ(v.signature(), "reserve page allocation failure: order:0");
  EXPECT_NE(Find(v, "console_clean").evidence().find("vm.min_free_kbytes 6144"), std::string::npos)
      << Find(v, "console_clean").evidence();
  h.meta.mutable_swap()->set_min_free_kbytes(kStarvedReserveKib);
  v = Judge(h);
  EXPECT_EQ(v.verdict(), "pass");
  EXPECT_NE(Find(v, "console_clean").evidence().find("1 allocation failures kept as evidence"),
            std::string::npos);
}

// The kernel's own report titles the run, not the consequences the harness
// saw: a victim stuck in it may not even take a fault (issue 10).
TEST(OraclesTest, TheKernelsReportTitlesTheRunOverAFaultNotInEffect) {
  History h = Smoke();
  h.faults[0].set_matches(false);
  h.console += "[ 30.0] Kernel panic - not syncing: Fatal exception\n";
  Verdict v = Judge(h);
  EXPECT_EQ(v.signature(), "kernel panic: Fatal exception");
  EXPECT_EQ(Find(v, "faults_applied").outcome(), "fail");
}

// A kernel that failed during set-up left meta.json and its console: the
// run fails with the recorded signature and the console's report of it, and
// no other oracle pretends to judge a workload that never ran.
TEST(OraclesTest, AKernelThatFailedDuringSetUpIsTheFinding) {
  History h;
  h.scenario.set_name("quick");
  h.meta.set_kernel_failure("kernel did not boot: kernel panic: VFS: Unable to mount root fs");
  h.meta.set_outcome("kernel vmlinuz stopped (reset, panic or power-off) before reaching init");
  h.console =
      "[ 1.0] Linux version 6.1\n[ 1.8] Kernel panic - not syncing: VFS: Unable to mount root fs\n"
      "[ 1.8] Call Trace:\n[ 1.8]  <TASK>\n[ 1.8]  mount_block_root+0x1d3/0x1e6\n"
      "[ 1.8]  </TASK>\n";
  Verdict v = Judge(h);
  EXPECT_EQ(v.verdict(), "fail");
  EXPECT_EQ(v.signature(), h.meta.kernel_failure());
  const OracleResult& r = Find(v, "kernel_set_up");
  EXPECT_EQ(r.evidence(), h.meta.outcome());
  EXPECT_EQ(r.console_line(), 2u);
  EXPECT_NE(r.report().find("mount_block_root"), std::string::npos);
  for (const auto& o : v.oracles()) {
    if (o.name() != "kernel_set_up") {
      EXPECT_EQ(o.outcome(), "skip") << o.name();
    }
  }
  EXPECT_EQ(Find(Judge(Smoke()), "kernel_set_up").outcome(), "pass");
}

TEST(OraclesTest, PanicFailsWheneverItHappens) {
  History h = Smoke();
  h.console += "[ 1.5] Kernel panic - not syncing: VFS: Unable to mount root fs\n";
  EXPECT_EQ(Judge(h).signature(), "kernel panic: VFS: Unable to mount root fs");
}

TEST(OraclesTest, FaultNotReadBackFails) {
  History h = Smoke();
  h.faults[0].set_matches(false);
  EXPECT_EQ(Judge(h).signature(), "fault not in effect: faults[0]");
  h = Smoke();
  h.faults.pop_back();  // the last revert never happened
  EXPECT_EQ(Judge(h).signature(), "fault not reverted: faults[1]");
}

TEST(OraclesTest, UnfinishedWorkloadAndStuckThrottledTask) {
  History h = Smoke();
  h.victim.back().mutable_tasks(1)->set_state("running");
  h.victim.back().mutable_tasks(1)->set_wchan("throttle_direct_reclaim");
  agent::ThrottleEpisode* e = h.victim.back().add_throttled_now();
  e->set_pid(h.victim.back().tasks(1).pid());
  e->set_start_uptime_ms(h.victim.front().uptime_ms());
  // ... and the run went on well past the last heal plus the grace period.
  h.victim.back().set_host_unix_ms(h.victim.back().host_unix_ms() + 600000);
  Verdict v = Judge(h);
  EXPECT_EQ(v.verdict(), "fail");
  EXPECT_EQ(Find(v, "workload_completed").outcome(), "fail");
  EXPECT_EQ(Find(v, "throttled_woken").outcome(), "fail");
  EXPECT_EQ(v.signature(), "throttled task not woken");
}

// nbd-stuck-after-reconnect's writes: the workload ended, but requests sent
// on the link the server's death closed stay in flight for good.
TEST(OraclesTest, RequestsStillInFlightLongAfterTheWorkloadAreLost) {
  History h = Smoke();
  EXPECT_EQ(Find(Judge(h), "nbd_requests_completed").outcome(), "pass")
      << Find(Judge(h), "nbd_requests_completed").evidence();
  EXPECT_TRUE(Drained(h.victim.back()));
  agent::Sample stuck = h.victim.back();
  stuck.set_nbd_inflight_writes(3);
  EXPECT_FALSE(Drained(stuck));
  // Still in flight when the run ended, but not yet kDrainMs on: no answer.
  stuck.set_host_unix_ms(h.victim.back().host_unix_ms() + kDrainMs - 1000);
  History soon = h;
  soon.victim.push_back(stuck);
  EXPECT_EQ(Find(Judge(soon), "nbd_requests_completed").outcome(), "skip");
  stuck.set_host_unix_ms(h.victim.back().host_unix_ms() + kDrainMs);
  h.victim.push_back(stuck);
  Verdict v = Judge(h);
  EXPECT_EQ(v.verdict(), "fail");
  EXPECT_EQ(v.signature(), "NBD requests never completed");
  EXPECT_NE(Find(v, "nbd_requests_completed").evidence().find("0 reads and 3 writes in flight"),
            std::string::npos)
      << Find(v, "nbd_requests_completed").evidence();
  // A workload still running is the other oracles' to judge.
  EXPECT_TRUE(WorkloadEnded(h.victim.back()));
  for (agent::Sample& s : h.victim) s.mutable_tasks(0)->set_state("running");
  EXPECT_FALSE(WorkloadEnded(h.victim.back()));
  EXPECT_FALSE(WorkloadEnded(agent::Sample()));  // no task yet: not begun
  EXPECT_EQ(Find(Judge(h), "nbd_requests_completed").outcome(), "skip");
}

// Every task still running throttled since the start and the run well past
// the last heal plus the grace period: kswapd-no-wake's runs.
History EveryTaskThrottledSinceTheStart() {
  History h = Smoke();
  agent::Sample& last = h.victim.back();
  last.set_host_unix_ms(last.host_unix_ms() + 600000);
  last.set_uptime_ms(last.uptime_ms() + 600000);
  h.meta.set_observed_until_unix_ms(last.host_unix_ms());
  for (agent::TaskSample& t : *last.mutable_tasks()) {
    t.set_state("running");
    agent::ThrottleEpisode* e = last.add_throttled_now();
    e->set_pid(t.pid());
    e->set_start_uptime_ms(h.victim.front().uptime_ms());
  }
  return h;
}

TEST(OraclesTest, EveryTaskThrottledPastTheGracePeriodIsDecidedEarly) {
  History h = EveryTaskThrottledSinceTheStart();
  std::optional<OracleResult> decided = DecidedEarly(h);
  ASSERT_TRUE(decided.has_value());
  EXPECT_EQ(decided->signature(), "throttled task not woken");
  EXPECT_EQ(Judge(h).signature(), decided->signature());
  // From the latest sample alone, as a run still going has it.
  h.victim.erase(h.victim.begin(), h.victim.end() - 1);
  EXPECT_TRUE(DecidedEarly(h).has_value());
}

TEST(OraclesTest, NotDecidedWhileSomethingCanStillMove) {
  EXPECT_FALSE(DecidedEarly(Smoke()).has_value());  // a passing run
  {
    History h = EveryTaskThrottledSinceTheStart();
    agent::Sample& last = h.victim.back();
    last.mutable_throttled_now()->RemoveLast();  // one task free to run, and running
    agent::TaskSample* free = last.mutable_tasks(last.tasks_size() - 1);
    free->set_pages(free->pages() + 100);
    EXPECT_FALSE(DecidedEarly(h).has_value());
  }
  {
    History h = EveryTaskThrottledSinceTheStart();
    agent::Sample& last = h.victim.back();  // the grace period not over yet
    int64_t back = last.host_unix_ms() - (h.faults.back().host_unix_ms() + 1000);
    last.set_host_unix_ms(last.host_unix_ms() - back);
    last.set_uptime_ms(last.uptime_ms() - back);
    h.meta.set_observed_until_unix_ms(last.host_unix_ms());
    EXPECT_FALSE(DecidedEarly(h).has_value());
  }
  {
    History h = EveryTaskThrottledSinceTheStart();
    std::erase_if(h.faults, [](const FaultEvent& e) {  // the last fault still applied
      return e.fault() == 1 && e.action() == "revert";
    });
    EXPECT_FALSE(DecidedEarly(h).has_value());
  }
}

// The smoke run with a 10 s grace period, the workload frozen with its
// tasks running from 15 s after the last heal, and observed until `stalled_ms`
// after that.
History FrozenAfterTheGracePeriod(int64_t stalled_ms) {
  History h = Smoke();
  h.scenario.mutable_oracles()->set_grace_s(10);
  int64_t last_heal = 0;
  for (const FaultEvent& e : h.faults) last_heal = std::max(last_heal, e.host_unix_ms());
  const int64_t frozen_from = last_heal + 15000;
  std::optional<agent::Sample> frozen;
  for (agent::Sample& s : h.victim) {
    if (s.host_unix_ms() < frozen_from) continue;
    if (!frozen) {
      for (agent::TaskSample& t : *s.mutable_tasks()) t.set_state("running");
      frozen = s;
    }
    *s.mutable_tasks() = frozen->tasks();
    *s.mutable_vmstat() = frozen->vmstat();
    s.set_nbd_reads_done(frozen->nbd_reads_done());
    s.set_nbd_writes_done(frozen->nbd_writes_done());
  }
  // The agent silent after its last sample, as a stuck guest's is.
  h.meta.set_observed_until_unix_ms(frozen->host_unix_ms() + stalled_ms);
  return h;
}

TEST(OraclesTest, AStallAfterTheGracePeriodFailsAndIsDecidedEarly) {
  History h = FrozenAfterTheGracePeriod(61000);
  Verdict v = Judge(h);
  EXPECT_EQ(Find(v, "progress_after_grace").outcome(), "fail")
      << Find(v, "progress_after_grace").evidence();
  EXPECT_EQ(Find(v, "progress_after_grace").signature(), "stalled after the grace period");
  // As the run loop sees it: the sample where the workload last moved, the
  // latest, and the present.
  History so_far = h;
  const agent::Sample* moved = &so_far.victim.front();
  for (const agent::Sample& s : so_far.victim) {
    if (Moved(*moved, s)) moved = &s;
  }
  so_far.victim = {*moved, so_far.victim.back()};
  std::optional<OracleResult> decided = DecidedEarly(so_far);
  ASSERT_TRUE(decided.has_value());
  EXPECT_EQ(decided->signature(), "stalled after the grace period");
  // The agent silent since before the grace period ended: the present
  // decides, not the stale latest sample.
  History silent = FrozenAfterTheGracePeriod(0);
  while (silent.victim.size() > 1 &&
         silent.victim.back().host_unix_ms() > silent.meta.observed_until_unix_ms() - 20000) {
    silent.victim.pop_back();
  }
  silent.meta.set_observed_until_unix_ms(silent.victim.back().host_unix_ms() + 120000);
  decided = DecidedEarly(silent);
  ASSERT_TRUE(decided.has_value());
  EXPECT_EQ(decided->signature(), "stalled after the grace period");

  // 59 s is not yet a stall; and a run with a fault never reverted is not
  // judged by it.
  EXPECT_EQ(Find(Judge(FrozenAfterTheGracePeriod(59000)), "progress_after_grace").outcome(),
            "pass");
  EXPECT_FALSE(DecidedEarly(FrozenAfterTheGracePeriod(59000)).has_value());
  History open = FrozenAfterTheGracePeriod(61000);
  std::erase_if(open.faults, [](const FaultEvent& e) {
    return e.fault() == 1 && e.action() == "revert";
  });
  EXPECT_EQ(Find(Judge(open), "progress_after_grace").outcome(), "skip");
}

// Swap stalled before the first fault: the run is decided there, from the
// sample where the workload last moved and the latest one.
TEST(OraclesTest, AStallBeforeTheFirstFaultIsDecidedEarly) {
  History h = StalledBeforeTheFirstFault();
  int64_t first_apply = FirstApplyMs(h);
  std::vector<agent::Sample> seen;
  for (const agent::Sample& s : h.victim) {
    if (s.host_unix_ms() < first_apply) seen.push_back(s);
  }
  ASSERT_GE(seen.size(), 2u);
  const agent::Sample* moved = &seen.front();
  for (const agent::Sample& s : seen) {
    if (Moved(*moved, s)) moved = &s;
  }
  History so_far = h;
  so_far.victim = {*moved, seen.back()};
  so_far.faults.clear();  // the first fault is not due yet
  so_far.meta.set_observed_until_unix_ms(seen.back().host_unix_ms());
  std::optional<OracleResult> decided = DecidedEarly(so_far);
  ASSERT_TRUE(decided.has_value());
  EXPECT_EQ(decided->signature(), "stalled before any fault");
  // 10 s into the same stall: not yet.
  so_far.victim.back().set_host_unix_ms(moved->host_unix_ms() + 10000);
  so_far.meta.set_observed_until_unix_ms(moved->host_unix_ms() + 10000);
  EXPECT_FALSE(DecidedEarly(so_far).has_value());
}

TEST(OraclesTest, ThrottledPastTheGracePeriod) {
  History h = Smoke();
  // An episode that began before the grace period ended and outlasted it.
  agent::Sample& s = h.victim.back();
  s.set_host_unix_ms(s.host_unix_ms() + 600000);
  s.set_uptime_ms(s.uptime_ms() + 600000);
  agent::ThrottleEpisode* e = s.add_throttles_ended();
  e->set_pid(77);
  e->set_start_uptime_ms(h.victim.front().uptime_ms());
  e->set_end_uptime_ms(s.uptime_ms());
  Verdict v = Judge(h);
  EXPECT_EQ(Find(v, "throttled_woken").outcome(), "fail");
  EXPECT_NE(Find(v, "throttled_woken").evidence().find("pid 77"), std::string::npos);
}

TEST(OraclesTest, OomKillUnlessExpected) {
  History h = Smoke();
  (*h.victim.back().mutable_vmstat())["oom_kill"] = 1;
  EXPECT_EQ(Judge(h).signature(), "OOM kill");
  h.scenario.mutable_oracles()->set_expect_oom_kill(true);
  EXPECT_EQ(Judge(h).verdict(), "pass");
}

TEST(OraclesTest, StallBeforeAnyFaultComesFirst) {
  EXPECT_EQ(Find(Judge(Smoke()), "progress_before_faults").outcome(), "pass");
  // The kernel failed with no fault on, whatever else fails later.
  History h = StalledBeforeTheFirstFault();
  h.victim.back().mutable_tasks(0)->set_state("killed");
  h.victim.back().mutable_tasks(0)->set_detail("killed by signal 7 (Bus error)");
  Verdict v = Judge(h);
  EXPECT_EQ(v.signature(), "stalled before any fault");
  EXPECT_NE(Find(v, "progress_before_faults").evidence().find("tasks running"), std::string::npos)
      << Find(v, "progress_before_faults").evidence();
}

// The victim's agent fell silent 5 s into the workload (the guest too
// stuck to answer) and the fault came 25 s later: a stall all the same.
TEST(OraclesTest, SilenceBeforeAnyFaultIsAStall) {
  History h = Smoke();
  int64_t silent_from = h.victim.front().host_unix_ms() + 5000;
  while (h.victim.back().host_unix_ms() > silent_from) h.victim.pop_back();
  ASSERT_EQ(h.victim.back().tasks(0).state(), "running");
  for (FaultEvent& e : h.faults) e.set_host_unix_ms(silent_from + 25000);
  h.meta.set_observed_until_unix_ms(silent_from + 600000);
  Verdict v = Judge(h);
  EXPECT_EQ(v.signature(), "stalled before any fault");
  EXPECT_NE(Find(v, "progress_before_faults").evidence().find("no telemetry"), std::string::npos);
}

TEST(OraclesTest, UnfinishedRunDirectoryIsBadInput) {
  auto h = LoadHistory("/nonexistent/run");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(h.status().message().find("no finished run"), std::string::npos);
}

}  // namespace
}  // namespace swapchaos::controller
