#include "controller/oracles/oracles.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/oracles/signatures.h"

namespace swapchaos::controller {
namespace {

constexpr char kThrottled[] = "throttle_direct_reclaim";

// What several oracles need, computed once from the history.
struct Derived {
  // When the first fault began to act (host clock; 0 without faults): its
  // planned time (the scenario's at_s), which its apply event's stamp
  // follows by the time the apply and read-back took, less a second for
  // mapping guest uptime to the host clock. Measured: a killed nbd-server's
  // "Dead connection" was printed 17 ms before the apply event's stamp.
  int64_t first_apply_ms = 0;
  int64_t last_heal_ms = 0;          // host clock; 0 without faults
  int64_t grace_end_ms = 0;          // last heal + grace
  int64_t host_minus_uptime_ms = 0;  // host clock minus guest uptime
  bool has_faults = false;
  bool all_reverted = true;  // every fault of the scenario has a revert in the trace
  std::vector<ConsoleFinding> console;  // every report on the victim's console
};

Derived Derive(const History& h) {
  Derived d;
  std::vector<bool> reverted(h.scenario.faults_size(), false);
  for (const FaultEvent& e : h.faults) {
    if (e.action() == "apply" && e.fault() < static_cast<uint32_t>(h.scenario.faults_size())) {
      int64_t planned_ms = h.meta.workload_start_unix_ms() +
                           static_cast<int64_t>(h.scenario.faults(e.fault()).at_s() * 1000);
      int64_t began = std::min(e.host_unix_ms(), planned_ms) - 1000;
      if (d.first_apply_ms == 0 || began < d.first_apply_ms) d.first_apply_ms = began;
    }
    if (e.action() != "revert") continue;
    d.last_heal_ms = std::max(d.last_heal_ms, e.host_unix_ms());
    if (e.fault() < reverted.size()) reverted[e.fault()] = true;
  }
  d.all_reverted = std::find(reverted.begin(), reverted.end(), false) == reverted.end();
  d.has_faults = h.scenario.faults_size() > 0;
  d.console = ScanConsole(h.console);
  if (!d.has_faults) d.last_heal_ms = h.meta.workload_start_unix_ms();
  d.grace_end_ms = d.last_heal_ms + static_cast<int64_t>(h.scenario.oracles().grace_s()) * 1000;
  if (!h.victim.empty()) {
    d.host_minus_uptime_ms =
        h.victim.front().host_unix_ms() - static_cast<int64_t>(h.victim.front().uptime_ms());
  }
  return d;
}

OracleResult Result(const char* name, bool pass, std::string evidence, std::string signature) {
  OracleResult r;
  r.set_name(name);
  r.set_outcome(pass ? "pass" : "fail");
  r.set_evidence(std::move(evidence));
  if (!pass) r.set_signature(std::move(signature));
  return r;
}

OracleResult Skip(const char* name, std::string why) {
  OracleResult r;
  r.set_name(name);
  r.set_outcome("skip");
  r.set_evidence(std::move(why));
  return r;
}

uint64_t Vm(const agent::Sample& s, const std::string& k) {
  auto it = s.vmstat().find(k);
  return it == s.vmstat().end() ? 0 : it->second;
}

// What the console said that explains no failure by itself but may explain
// a stall (allocation failures), for a stall's evidence.
std::string ConsoleEvidence(const Derived& d) {
  std::set<std::string> titles;
  for (const ConsoleFinding& f : d.console) {
    if (f.severity == Severity::kEvidence || f.severity == Severity::kReserve) {
      titles.insert(f.title);
    }
  }
  if (titles.empty()) return "";
  return absl::StrCat("; the console reported: ", absl::StrJoin(titles, ", "));
}

OracleResult FaultsApplied(const History& h, const Derived&) {
  // Per fault and target: the last apply read back as asked, the last
  // revert read back as the kind means it (each kind says, in `matches`).
  std::map<std::pair<uint32_t, std::string>, std::pair<bool, bool>> seen;  // applied, reverted
  for (const FaultEvent& e : h.faults) {
    for (const std::string& target : e.targets()) {
      auto& [applied, reverted] = seen[{e.fault(), target}];
      if (e.action() == "apply") applied = e.ok() && e.in_effect() && e.matches();
      if (e.action() == "revert") reverted = e.ok() && e.matches();
    }
  }
  for (int i = 0; i < h.scenario.faults_size(); ++i) {
    bool any = false;
    for (const auto& [key, state] : seen) {
      if (key.first != static_cast<uint32_t>(i)) continue;
      any = true;
      if (!state.first) {
        return Result("faults_applied", false,
                      absl::StrCat("faults[", i, "] on ", key.second,
                                   " was not applied and read back as asked"),
                      absl::StrCat("fault not in effect: faults[", i, "]"));
      }
      if (!state.second) {
        return Result("faults_applied", false,
                      absl::StrCat("faults[", i, "] on ", key.second, " was not reverted"),
                      absl::StrCat("fault not reverted: faults[", i, "]"));
      }
    }
    if (!any) {
      return Result("faults_applied", false, absl::StrCat("faults[", i, "] was never applied"),
                    absl::StrCat("fault not in effect: faults[", i, "]"));
    }
  }
  return Result("faults_applied", true,
                absl::StrCat(h.scenario.faults_size(), " faults applied, read back, reverted"), "");
}

OracleResult ConsoleClean(const History& h, const Derived& d) {
  // Stalls, hung tasks and stuck requests are what a fault causes while it
  // is on and until the grace period after the last heal ends; before the
  // first fault and after that they are the kernel's. Fatal reports count
  // at any time.
  auto uptime_s = [&](int64_t host_ms) {
    return static_cast<double>(host_ms - d.host_minus_uptime_ms) / 1000.0;
  };
  const bool window = d.has_faults && d.first_apply_ms > 0;
  const double from_s = uptime_s(d.first_apply_ms), to_s = uptime_s(d.grace_end_ms);
  // A reserve that ran dry is the kernel's only when there was a real one
  // (unknown in runs recorded before meta.json carried it: evidence then).
  const uint32_t reserve_kib = h.meta.swap().min_free_kbytes();
  const bool real_reserve = reserve_kib > kStarvedReserveKib;
  int tolerated = 0, evidence = 0;
  for (const ConsoleFinding& f : d.console) {
    if (f.severity == Severity::kEvidence || (f.severity == Severity::kReserve && !real_reserve)) {
      ++evidence;
      continue;
    }
    if (f.severity == Severity::kOutsideFaults && window && f.uptime_s >= from_s &&
        f.uptime_s <= to_s) {
      ++tolerated;
      continue;
    }
    if (f.title.starts_with("OOM kill") && h.scenario.oracles().expect_oom_kill()) continue;
    OracleResult r = Result(
        "console_clean", false,
        f.severity == Severity::kReserve
            ? absl::StrCat(f.line, " (the victim's reserve: vm.min_free_kbytes ", reserve_kib, ")")
            : f.line,
        f.title);
    r.set_report(f.report);
    r.set_console_line(static_cast<uint32_t>(f.line_number));
    return r;
  }
  return Result("console_clean", true,
                absl::StrCat("no kernel report outside the faults' window (", tolerated,
                             " during it; ", evidence, " allocation failures kept as evidence)"),
                "");
}

OracleResult NoDataLoss(const History& h, const Derived&) {
  if (h.victim.empty()) return Skip("no_data_loss", "no telemetry");
  for (const agent::TaskSample& t : h.victim.back().tasks()) {
    if (t.state() == "data_loss") {
      return Result("no_data_loss", false, absl::StrCat("task ", t.index(), ": ", t.detail()),
                    "page content mismatch");
    }
  }
  return Result("no_data_loss", true, "every page came back as written", "");
}

OracleResult NoTaskKilled(const History& h, const Derived&) {
  if (h.victim.empty()) return Skip("no_task_killed", "no telemetry");
  for (const agent::TaskSample& t : h.victim.back().tasks()) {
    bool oom_ok =
        h.scenario.oracles().expect_oom_kill() && t.detail().find("signal 9") != std::string::npos;
    if ((t.state() == "killed" || t.state() == "failed") && !oom_ok) {
      std::string why = t.detail().substr(
          t.detail().find('(') == std::string::npos ? 0 : t.detail().find('(') + 1);
      if (!why.empty() && why.back() == ')') why.pop_back();
      return Result("no_task_killed", false, absl::StrCat("task ", t.index(), ": ", t.detail()),
                    absl::StrCat("workload task ", t.state(), ": ", why));
    }
  }
  return Result("no_task_killed", true, "no task was killed", "");
}

OracleResult NoOomKill(const History& h, const Derived&) {
  if (h.victim.size() < 2) return Skip("no_oom_kill", "too little telemetry");
  uint64_t kills = Vm(h.victim.back(), "oom_kill") - Vm(h.victim.front(), "oom_kill");
  if (h.scenario.oracles().expect_oom_kill()) {
    return Skip("no_oom_kill", absl::StrCat("OOM kills expected; ", kills, " seen"));
  }
  return Result("no_oom_kill", kills == 0, absl::StrCat(kills, " OOM kills"), "OOM kill");
}

OracleResult ThrottledWoken(const History& h, const Derived& d) {
  // The agent reports episodes of tasks in throttle_direct_reclaim; kswapd
  // must end every one, and none that began before the grace period ended
  // may outlast it.
  if (h.victim.empty()) return Skip("throttled_woken", "no telemetry");
  auto host_ms = [&](uint64_t uptime_ms) {
    return static_cast<int64_t>(uptime_ms) + d.host_minus_uptime_ms;
  };
  int episodes = 0;
  int64_t longest_ms = 0;
  uint64_t pgscan = 0;
  std::string late;
  for (const agent::Sample& s : h.victim) {
    pgscan += s.pgscan_direct_throttle_delta();
    for (const agent::ThrottleEpisode& e : s.throttles_ended()) {
      ++episodes;
      longest_ms = std::max(longest_ms, static_cast<int64_t>(e.end_uptime_ms() - e.start_uptime_ms()));
      if (host_ms(e.start_uptime_ms()) < d.grace_end_ms && host_ms(e.end_uptime_ms()) > d.grace_end_ms) {
        late = absl::StrCat("pid ", e.pid(), " throttled for ",
                            (e.end_uptime_ms() - e.start_uptime_ms()) / 1000,
                            " s, woken only after the grace period");
      }
    }
  }
  const agent::Sample& last = h.victim.back();
  episodes += last.throttled_now_size();
  if (last.host_unix_ms() > d.grace_end_ms) {
    for (const agent::ThrottleEpisode& e : last.throttled_now()) {
      late = absl::StrCat("pid ", e.pid(), " in ", kThrottled, " since ",
                          (last.uptime_ms() - e.start_uptime_ms()) / 1000,
                          " s at the end of the run");
    }
  }
  if (!late.empty()) return Result("throttled_woken", false, late, "throttled task not woken");
  return Result("throttled_woken", true,
                absl::StrCat(episodes, " throttling episodes (longest ", longest_ms / 1000.0,
                             " s), every one woken; pgscan_direct_throttle +", pgscan),
                "");
}

// NBD requests answered, when the agent reports them; else swap pages moved
// (counted at submission, so they may move while the link is down).
uint64_t SwapProgress(const agent::Sample& s) {
  if (s.nbd_reads_done() + s.nbd_writes_done() > 0) return s.nbd_reads_done() + s.nbd_writes_done();
  return Vm(s, "pswpin") + Vm(s, "pswpout");
}

OracleResult SwapResumed(const History& h, const Derived& d) {
  if (!d.has_faults) return Skip("swap_resumed", "no faults");
  const agent::Sample* at_heal = nullptr;
  const agent::Sample* at_grace = nullptr;
  for (const agent::Sample& s : h.victim) {
    if (s.host_unix_ms() <= d.last_heal_ms) at_heal = &s;
    if (s.host_unix_ms() <= d.grace_end_ms) at_grace = &s;
  }
  if (at_heal == nullptr || at_grace == nullptr) return Skip("swap_resumed", "no samples");
  bool still_working = false;
  for (const agent::TaskSample& t : at_heal->tasks()) still_working |= t.state() == "running";
  if (!still_working) return Skip("swap_resumed", "the workload had ended before the last heal");
  uint64_t moved = SwapProgress(*at_grace) - SwapProgress(*at_heal);
  return Result("swap_resumed", moved > 0,
                absl::StrCat(moved, at_grace->nbd_reads_done() ? " NBD requests answered"
                                                               : " pages swapped",
                             " within the grace period after the last heal",
                             moved > 0 ? "" : ConsoleEvidence(d)),
                "swap traffic never resumed after heal");
}

// A stall longer than this with tasks running and nothing moving, before any
// fault was applied, is the kernel failing on its own: the run says nothing
// about the faults then (seen in CI on the default kernel, see README).
constexpr int64_t kStallMs = 20000;
// After the grace period a stall this long is a failure: the grace already
// allowed for TCP's retransmission backoff, and a healthy kernel under the
// workload touches pages or answers NBD requests every second.
constexpr int64_t kStallAfterGraceMs = 60000;

uint64_t PagesTouched(const agent::Sample& s) {
  uint64_t pages = 0;
  for (const agent::TaskSample& t : s.tasks()) pages += t.pages();
  return pages;
}

bool AnyRunning(const agent::Sample& s) {
  for (const agent::TaskSample& t : s.tasks()) {
    if (t.state() == "running") return true;
  }
  return false;
}

struct Stall {
  int64_t longest_ms = 0;
  int64_t from_ms = 0;  // host clock
};

// The longest time within [from_ms, to_ms] that workload tasks ran and no
// page was touched or swapped. An agent that fell silent with its tasks
// running (the guest too stuck to answer) moved nothing either, as far as
// anyone can tell.
Stall LongestStall(const History& h, int64_t from_ms, int64_t to_ms) {
  const agent::Sample* since = nullptr;  // last sample where something moved
  bool running = false;                  // at the latest sample in the window
  Stall stall;
  auto stalled_until = [&](int64_t ms) {
    if (since == nullptr) return;
    int64_t start = std::max(since->host_unix_ms(), from_ms);
    if (ms - start > stall.longest_ms) stall = {ms - start, start};
  };
  for (const agent::Sample& s : h.victim) {
    if (s.host_unix_ms() > to_ms) break;
    running = AnyRunning(s);
    if (since == nullptr || Moved(*since, s)) {
      since = &s;
    } else if (s.host_unix_ms() > from_ms) {
      stalled_until(s.host_unix_ms());
    }
  }
  if (running) stalled_until(to_ms);
  return stall;
}

OracleResult ProgressBeforeFaults(const History& h, const Derived& d) {
  // The window: up to the first fault applied, else the end of the run.
  int64_t end_ms = h.meta.observed_until_unix_ms();
  for (const FaultEvent& e : h.faults) {
    if (e.action() == "apply") end_ms = std::min(end_ms, e.host_unix_ms());
  }
  Stall stall = LongestStall(h, 0, end_ms);
  int64_t from_s = (stall.from_ms - h.meta.workload_start_unix_ms()) / 1000;
  std::string before = h.scenario.faults_size() > 0 ? "before the first fault" : "(no faults)";
  if (stall.longest_ms >= kStallMs) {
    return Result("progress_before_faults", false,
                  absl::StrCat("no page touched or swapped (or no telemetry) for ",
                               stall.longest_ms / 1000, " s from ", from_s,
                               " s into the workload, tasks running, ", before,
                               ConsoleEvidence(d)),
                  "stalled before any fault");
  }
  return Result("progress_before_faults", true,
                absl::StrCat("longest stall ", stall.longest_ms / 1000.0, " s ", before), "");
}

OracleResult ProgressAfterGrace(const History& h, const Derived& d) {
  if (!d.all_reverted) return Skip("progress_after_grace", "a fault was never reverted");
  Stall stall = LongestStall(h, d.grace_end_ms, h.meta.observed_until_unix_ms());
  if (stall.longest_ms >= kStallAfterGraceMs) {
    return Result("progress_after_grace", false,
                  absl::StrCat("no page touched or swapped (or no telemetry) for ",
                               stall.longest_ms / 1000, " s from ",
                               (stall.from_ms - d.grace_end_ms) / 1000,
                               " s after the grace period ended, tasks running",
                               ConsoleEvidence(d)),
                  "stalled after the grace period");
  }
  return Result("progress_after_grace", true,
                absl::StrCat("longest stall after the grace period ", stall.longest_ms / 1000.0,
                             " s"),
                "");
}

OracleResult WorkloadCompleted(const History& h, const Derived&) {
  if (h.victim.empty()) return Result("workload_completed", false, "no telemetry", "no telemetry");
  int running = 0;
  for (const agent::TaskSample& t : h.victim.back().tasks()) running += t.state() == "running";
  if (h.victim.back().tasks_size() == 0) {
    return Result("workload_completed", false, "no workload task was seen", "workload never ran");
  }
  return Result("workload_completed", running == 0,
                absl::StrCat(running, " of ", h.victim.back().tasks_size(),
                             " tasks still running when the run ended"),
                "workload did not finish by the deadline");
}

// Requests the kernel sent and never completed leave no task stalled when
// they are writes of pages nobody reads again, yet the block layer holds
// them for good (nbd-stuck-after-reconnect's writes): after the workload
// ended and every fault healed, none may still be in flight kDrainMs on.
OracleResult NbdRequestsCompleted(const History& h, const Derived& d) {
  const agent::Sample* ended = nullptr;
  for (const agent::Sample& s : h.victim) {
    if (s.host_unix_ms() >= d.last_heal_ms && WorkloadEnded(s)) {
      ended = &s;
      break;
    }
  }
  if (ended == nullptr || !d.all_reverted) {
    return Skip("nbd_requests_completed", "the workload had not ended after the last heal");
  }
  const agent::Sample& last = h.victim.back();
  const int64_t after_ms = last.host_unix_ms() - ended->host_unix_ms();
  std::string when = absl::StrCat(after_ms / 1000, " s after the workload ended");
  if (Drained(last)) {
    return Result("nbd_requests_completed", true, absl::StrCat("none in flight ", when), "");
  }
  std::string in_flight = absl::StrCat(last.nbd_inflight_reads(), " reads and ",
                                       last.nbd_inflight_writes(), " writes in flight ", when);
  if (after_ms < kDrainMs) {
    return Skip("nbd_requests_completed", absl::StrCat(in_flight, ", when the run ended"));
  }
  return Result("nbd_requests_completed", false, in_flight + ConsoleEvidence(d),
                "NBD requests never completed");
}

// Seconds from the last heal to the first NBD request answered after it;
// -1 without faults, or when none was.
double RecoveredAfter(const History& h, const Derived& d) {
  if (!d.has_faults) return -1;
  const agent::Sample* prev = nullptr;
  for (const agent::Sample& s : h.victim) {
    if (prev != nullptr && s.host_unix_ms() > d.last_heal_ms &&
        SwapProgress(s) > SwapProgress(*prev)) {
      return std::max<double>(0, static_cast<double>(s.host_unix_ms() - d.last_heal_ms) / 1000.0);
    }
    prev = &s;
  }
  return -1;
}

AgentFootprint Footprint(const History& h) {
  AgentFootprint f;
  f.set_samples(static_cast<uint32_t>(h.victim.size()));
  f.set_telemetry_hz(h.meta.request().telemetry_hz());
  if (h.victim.size() < 2) return f;
  for (const agent::Sample& s : h.victim) {
    f.set_locked_kib_max(std::max(f.locked_kib_max(), s.agent_locked_kib()));
  }
  const agent::Sample &first = h.victim.front(), &last = h.victim.back();
  if (last.uptime_ms() > first.uptime_ms()) {
    f.set_cpu_share(static_cast<double>(last.agent_cpu_ms() - first.agent_cpu_ms()) /
                    static_cast<double>(last.uptime_ms() - first.uptime_ms()));
  }
  return f;
}

// The kernel under test failed before the run could start (meta.json says
// how): the run's one finding, titled as the run recorded it, with the
// console's report of it when there is one.
OracleResult KernelSetUp(const History& h, const Derived& d) {
  if (h.meta.kernel_failure().empty()) {
    return Result("kernel_set_up", true, "the kernel booted and swap over NBD came up", "");
  }
  OracleResult r = Result("kernel_set_up", false, h.meta.outcome(), h.meta.kernel_failure());
  for (const ConsoleFinding& f : d.console) {
    if (f.severity != Severity::kFatal || !h.meta.kernel_failure().ends_with(f.title)) continue;
    r.set_report(f.report);
    r.set_console_line(static_cast<uint32_t>(f.line_number));
    break;
  }
  return r;
}

// The table, in order of precedence for the run's signature: what the
// kernel said of itself first (its report names the bug), then a stall
// before any fault (it leaves the rest saying nothing of the faults), then
// what the workload saw; a fault not in effect last, since a victim stuck
// in its own failure may not take a fault, and that is evidence, not the
// finding.
using Oracle = std::function<OracleResult(const History&, const Derived&)>;
const Oracle kOracles[] = {KernelSetUp,       ConsoleClean,         ProgressBeforeFaults,
                           NoDataLoss,        NoTaskKilled,         NoOomKill,
                           ThrottledWoken,    SwapResumed,          ProgressAfterGrace,
                           WorkloadCompleted, NbdRequestsCompleted, FaultsApplied};

template <typename M>
absl::Status ReadJsonLines(const std::string& path, std::vector<M>* out) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    M m;
    if (!google::protobuf::util::JsonStringToMessage(line, &m).ok()) {
      return absl::DataLossError(absl::StrCat(path, ":", n, ": not a valid record"));
    }
    out->push_back(std::move(m));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadJsonFile(const std::string& path, google::protobuf::Message* m) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!google::protobuf::util::JsonStringToMessage(ss.str(), m).ok()) {
    return absl::DataLossError(absl::StrCat(path, ": not valid JSON of its kind"));
  }
  return absl::OkStatus();
}

absl::StatusOr<History> LoadHistory(const std::string& dir) {
  History h;
  // meta.json is written last: without it the run did not finish.
  if (absl::Status s = ReadJsonFile(dir + "/meta.json", &h.meta); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, " holds no finished run (", s.message(), ")"));
  }
  // A kernel that failed during set-up left no telemetry and no trace.
  const bool set_up = h.meta.kernel_failure().empty();
  for (absl::Status s : {ReadJsonFile(dir + "/scenario.json", &h.scenario),
                         ReadJsonLines(dir + "/telemetry.jsonl", &h.victim),
                         ReadJsonLines(dir + "/trace.jsonl", &h.faults)}) {
    if (!s.ok() && (set_up || !absl::IsNotFound(s))) {
      return absl::InvalidArgumentError(std::string(s.message()));
    }
  }
  // The wire's figures only draw a chart: a run without them is still judged.
  if (absl::Status s = ReadJsonLines(dir + "/wire-telemetry.jsonl", &h.wire);
      !s.ok() && !absl::IsNotFound(s)) {
    return absl::InvalidArgumentError(std::string(s.message()));
  }
  std::ifstream console(dir + "/console.log");
  std::ostringstream ss;
  ss << console.rdbuf();
  h.console = ss.str();
  return h;
}

Verdict Judge(const History& h) {
  Derived d = Derive(h);
  Verdict v;
  v.set_scenario(h.scenario.name());
  v.set_seed(h.meta.seed());
  *v.mutable_kernel() = h.meta.kernel();
  v.set_boot_to_ready_s(h.meta.boot_to_ready_s());
  v.set_observed_s(
      static_cast<double>(h.meta.observed_until_unix_ms() - h.meta.workload_start_unix_ms()) /
      1000.0);
  v.set_recovered_after_s(RecoveredAfter(h, d));
  *v.mutable_victim_agent() = Footprint(h);
  if (h.meta.wall_s() > 0) v.set_controller_cpu_share(h.meta.controller_cpu_s() / h.meta.wall_s());
  v.set_verdict("pass");
  const bool set_up = h.meta.kernel_failure().empty();
  for (const Oracle& oracle : kOracles) {
    OracleResult r = oracle(h, d);
    if (!set_up && r.name() != "kernel_set_up") {
      r = Skip(r.name().c_str(), "the kernel under test failed during set-up");
    }
    if (r.outcome() == "fail" && v.verdict() == "pass") {
      v.set_verdict("fail");
      v.set_signature(r.signature());
    }
    *v.add_oracles() = std::move(r);
  }
  return v;
}

namespace {

// Every task still running sits in an episode throttled_woken already fails,
// and none can move until kswapd wakes it: nothing later can change the
// verdict, only delay it to the deadline.
std::optional<OracleResult> EveryTaskThrottledForGood(const History& h, const Derived& d) {
  const agent::Sample& last = h.victim.back();
  if (last.host_unix_ms() <= d.grace_end_ms) return std::nullopt;
  std::set<int64_t> stuck;
  for (const agent::ThrottleEpisode& e : last.throttled_now()) {
    if (static_cast<int64_t>(e.start_uptime_ms()) + d.host_minus_uptime_ms < d.grace_end_ms) {
      stuck.insert(e.pid());
    }
  }
  int running = 0;
  for (const agent::TaskSample& t : last.tasks()) {
    if (t.state() != "running") continue;
    if (!stuck.contains(t.pid())) return std::nullopt;
    ++running;
  }
  if (running == 0) return std::nullopt;
  OracleResult r = ThrottledWoken(h, d);
  if (r.outcome() != "fail") return std::nullopt;
  return r;
}

}  // namespace

std::optional<OracleResult> DecidedEarly(const History& h) {
  if (h.victim.empty()) return std::nullopt;
  Derived d = Derive(h);
  // A stall before any fault fails the run whatever comes after.
  if (OracleResult r = ProgressBeforeFaults(h, d); r.outcome() == "fail") return r;
  // The grace period counts from the last heal only once every fault healed;
  // the present, not the latest sample, says whether it is over: a guest too
  // stuck to answer sends none (measured: a victim whose virtio_net could not
  // refill its receive ring fell silent, its control NIC with it).
  if (!d.all_reverted || h.meta.observed_until_unix_ms() <= d.grace_end_ms) return std::nullopt;
  // In the oracles' order of precedence.
  if (std::optional<OracleResult> r = EveryTaskThrottledForGood(h, d)) return r;
  if (OracleResult r = ProgressAfterGrace(h, d); r.outcome() == "fail") return r;
  return std::nullopt;
}

bool Drained(const agent::Sample& s) {
  return s.nbd_inflight_reads() + s.nbd_inflight_writes() == 0;
}

bool WorkloadEnded(const agent::Sample& s) { return s.tasks_size() > 0 && !AnyRunning(s); }

bool Moved(const agent::Sample& since, const agent::Sample& now) {
  return !AnyRunning(now) || PagesTouched(now) != PagesTouched(since) ||
         SwapProgress(now) != SwapProgress(since);
}

}  // namespace swapchaos::controller
