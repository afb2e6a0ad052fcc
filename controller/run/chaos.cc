#include "controller/run/chaos.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/oracles/oracles.h"
#include "controller/plan/plan.h"
#include "controller/report/report.h"
#include "controller/run/failure.h"
#include "controller/run/plant.h"
#include "controller/run/telemetry_recorder.h"
#include "faults/kinds/kind.h"

namespace swapchaos::controller {
namespace {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

struct Event {
  double at_s;
  uint32_t fault;
  bool apply;
};

BootRequest ToBootRequest(const scenario::Scenario& s, uint32_t telemetry_hz,
                          const std::string& out_dir) {
  BootRequest r;
  r.mutable_victim()->set_kernel(s.vm().kernel());
  r.mutable_victim()->set_modules_dir(s.vm().modules());
  r.mutable_victim()->set_memory_mib(s.vm().memory_mib());
  r.mutable_victim()->set_cpus(s.vm().cpus());
  r.mutable_swap()->set_size_bytes(static_cast<uint64_t>(s.swap().size_mib()) << 20);
  r.mutable_swap()->set_request_timeout_s(s.swap().request_timeout_s());
  r.mutable_swap()->set_dead_conn_timeout_s(s.swap().dead_conn_timeout_s());
  r.mutable_swap()->set_no_reconnect(s.swap().no_reconnect());
  r.mutable_swap()->set_min_free_kbytes(s.swap().min_free_kbytes());
  if (s.swap().has_watermark_boost_factor()) {
    r.mutable_swap()->set_watermark_boost_factor(s.swap().watermark_boost_factor());
  }
  r.set_telemetry_hz(telemetry_hz);
  r.set_boot_timeout_s(300);
  r.set_out_dir(out_dir);
  return r;
}

// Applies and reverts faults through their kinds, appending each step's
// outcome per target to trace.jsonl and a line for the user.
class FaultRunner {
 public:
  FaultRunner(const scenario::Scenario& s, faults::Plant& plant, const std::string& path,
              std::ostream& say, int64_t t0_ms)
      : s_(s),
        plant_(plant),
        out_(path),
        say_(say),
        t0_ms_(t0_ms),
        applied_(s.faults_size()),
        active_(s.faults_size(), false) {}

  void Act(const Event& e) {
    const scenario::Fault& fault = s_.faults(e.fault);
    const faults::FaultKind* kind = faults::FindFaultKind(fault);  // validated at load
    std::vector<faults::Outcome> outcomes = e.apply
                                                ? kind->Apply(fault, e.fault, plant_)
                                                : kind->Revert(fault, plant_, applied_[e.fault]);
    if (e.apply) applied_[e.fault] = outcomes;
    active_[e.fault] = e.apply;
    for (const faults::Outcome& o : outcomes) {
      FaultEvent ev;
      ev.set_fault(e.fault);
      ev.set_planned_s(e.at_s);
      ev.set_action(e.apply ? "apply" : "revert");
      ev.add_targets(o.target);
      ev.set_ok(o.status.ok());
      ev.set_error(std::string(o.status.message()));
      ev.set_in_effect(o.in_effect);
      ev.set_matches(o.matches);
      ev.set_readback(o.readback);
      ev.set_host_unix_ms(HostUnixMs());
      ev.set_done_s(static_cast<double>(ev.host_unix_ms() - t0_ms_) / 1000.0);
      out_ << ToJson(ev) << "\n";
      out_.flush();
      trace_.push_back(ev);
      say_ << "fault " << e.fault << " " << ev.action() << " on " << o.target << ": "
           << (!o.status.ok() ? std::string(o.status.message())
               : o.matches    ? o.readback
                              : "NOT as intended: " + o.readback)
           << "\n";
    }
  }

  const std::vector<FaultEvent>& trace() const { return trace_; }

  // Reverts whatever is still applied: no fault outlives its run.
  void RevertAll(double t) {
    for (size_t i = 0; i < active_.size(); ++i) {
      if (active_[i]) Act({t, static_cast<uint32_t>(i), false});
    }
  }

 private:
  const scenario::Scenario& s_;
  faults::Plant& plant_;
  std::ofstream out_;
  std::ostream& say_;
  const int64_t t0_ms_;  // the workload's start on the host clock: the timeline's zero
  std::vector<std::vector<faults::Outcome>> applied_;
  std::vector<bool> active_;
  std::vector<FaultEvent> trace_;  // what trace.jsonl holds
};

absl::StatusOr<Verdict> JudgeAndWrite(const History& h, const std::string& dir) {
  Verdict v = Judge(h);
  v.set_tool(ToolVersion());
  // The page first: verdict.json is what says a run is judged.
  if (absl::Status st = WriteFileAtomically(dir + "/report.html", RunReportHtml(h, v)); !st.ok()) {
    return st;
  }
  if (absl::Status st = WriteJsonAtomically(dir + "/verdict.json", v); !st.ok()) return st;
  return v;
}

}  // namespace

absl::StatusOr<Verdict> RunScenario(const LoadedScenario& loaded, const RunOptions& options,
                                    const std::string& out_dir, const BootEnv& env) {
  const uint64_t seed = options.seed;
  // The schedule this seed draws, checked like a file's before anything starts.
  const scenario::Scenario s = ResolvePlan(loaded.scenario, seed);
  if (absl::Status st = CheckScenario(
          s, SourceMap(absl::StrCat(loaded.where.file(), " (the plan for seed ", seed, ")")));
      !st.ok()) {
    return st;
  }
  std::ostream& say = *env.progress;
  auto started = Run::Start(ToBootRequest(s, options.telemetry_hz, out_dir), env);
  if (std::optional<RunMeta> record = KernelFailureRecord(started.status())) {
    // The kernel under test failed before the workload: a finished run
    // with no telemetry, judged like any other (a failing verdict).
    record->set_command("run");
    record->set_seed(seed);
    if (absl::Status st = WriteJsonAtomically(out_dir + "/scenario.json", s); !st.ok()) return st;
    if (absl::Status st = WriteJsonAtomically(out_dir + "/meta.json", *record); !st.ok()) return st;
    *env.progress << "the kernel under test failed: " << record->kernel_failure() << "\n"
                  << record->outcome() << "\n";
    return AnalyzeRun(out_dir);
  }
  if (!started.ok()) return started.status();
  Run& run = **started;
  run.meta().set_command("run");
  run.meta().set_seed(seed);
  const std::string& out = run.out_dir();
  if (absl::Status st = WriteJsonAtomically(out + "/scenario.json", s); !st.ok()) return st;

  std::vector<Event> events;
  for (int i = 0; i < s.faults_size(); ++i) {
    events.push_back({s.faults(i).at_s(), static_cast<uint32_t>(i), true});
    events.push_back({s.faults(i).at_s() + s.faults(i).for_s(), static_cast<uint32_t>(i), false});
  }
  // Heals before new faults at the same instant.
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.at_s < b.at_s || (a.at_s == b.at_s && !a.apply && b.apply);
  });

  std::string outcome = "completed";
  {
    TelemetryRecorder victim(run.victim_agent(), options.telemetry_hz, out + "/telemetry.jsonl");
    TelemetryRecorder wire(run.wire_agent(), options.telemetry_hz, out + "/wire-telemetry.jsonl");

    agent::WorkloadRequest wl;
    wl.set_procs_per_cpu(s.workload().procs_per_cpu());
    wl.set_ram_multiple(s.workload().ram_multiple());
    wl.set_passes(s.workload().passes());
    wl.set_write(s.workload().write());
    wl.set_seed(seed);
    agent::WorkloadReply wr;
    grpc::ClientContext ctx;
    if (grpc::Status st = run.victim_agent().stub().StartWorkload(&ctx, wl, &wr); !st.ok()) {
      return FromGrpc(st, "starting the workload");
    }
    run.meta().set_workload_start_unix_ms(HostUnixMs());
    RunPlant plant(run, seed);
    FaultRunner faults(s, plant, out + "/trace.jsonl", say, run.meta().workload_start_unix_ms());
    say << "workload: " << wr.procs() << " tasks x " << (wr.bytes_per_proc() >> 20) << " MiB, "
        << s.workload().passes() << " passes; " << s.faults_size() << " faults on the timeline\n";

    auto t0 = steady_clock::now();
    auto deadline = t0 + std::chrono::seconds(s.deadline_s());
    size_t next = 0;
    auto next_print = t0;
    auto next_decision = t0;
    std::optional<agent::Sample> last_moved;
    // The time of the first sample that saw the workload ended, faults done.
    std::optional<int64_t> ended_ms;
    while (true) {
      auto now = steady_clock::now();
      double t = std::chrono::duration<double>(now - t0).count();
      while (next < events.size() && events[next].at_s <= t) faults.Act(events[next++]);
      if (std::string served = plant.KeepServing(); !served.empty()) say << served << "\n";
      if (env.stop_requested()) {
        outcome = "interrupted";
        break;
      }
      if (std::optional<agent::Sample> last = victim.Latest();
          next == events.size() && last && WorkloadEnded(*last)) {
        // Requests still in flight get kDrainMs to complete before the
        // oracles call them lost, counted as they count it: between the
        // samples' own times (the host clock at the loop runs ahead of the
        // last sample; measured, a run ended 89 s on by the samples and
        // the oracle could not answer). Telemetry that stops holds the
        // run 30 s more at most.
        if (!ended_ms) ended_ms = last->host_unix_ms();
        if (Drained(*last) || last->host_unix_ms() - *ended_ms >= kDrainMs ||
            HostUnixMs() - *ended_ms >= kDrainMs + 30000) {
          break;
        }
      }
      if (now >= next_decision) {
        // What the oracles need to decide a run still going: the sample
        // where the workload last moved, the latest one, and the present.
        next_decision += std::chrono::seconds(1);
        std::optional<agent::Sample> latest = victim.Latest();
        if (latest && (!last_moved || Moved(*last_moved, *latest))) last_moved = latest;
        if (latest) {
          History so_far{.scenario = s,
                         .meta = run.meta(),
                         .victim = {*last_moved, *latest},
                         .faults = faults.trace(),
                         .console = ""};
          so_far.meta.set_observed_until_unix_ms(HostUnixMs());
          if (std::optional<OracleResult> decided = DecidedEarly(so_far)) {
            outcome = absl::StrCat("decided before the deadline: ", decided->evidence());
            say << outcome << "\n";
            break;
          }
        }
      }
      if (now >= deadline) {
        outcome = "deadline reached";
        break;
      }
      if (!run.victim_vm().process().Running() || !run.wire_vm().process().Running()) {
        outcome = absl::StrCat("a VM ended: victim QEMU ", run.victim_vm().process().DescribeExit(),
                               ", wire QEMU ", run.wire_vm().process().DescribeExit());
        break;
      }
      if (now >= next_print) {
        if (auto latest = victim.Latest()) {
          uint64_t pages = 0;
          int running = 0;
          for (const auto& task : latest->tasks()) {
            pages += task.pages();
            running += task.state() == "running";
          }
          say << "[" << static_cast<int>(t) << " s] " << running << " tasks running, "
              << (pages * 4096 >> 20) << " MiB touched, pswpout " << latest->vmstat().at("pswpout")
              << ", pswpin " << latest->vmstat().at("pswpin") << "\n";
        }
        next_print += std::chrono::seconds(5);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // Whatever ended the run, no fault stays behind.
    if (run.victim_vm().process().Running() && run.wire_vm().process().Running()) {
      faults.RevertAll(std::chrono::duration<double>(steady_clock::now() - t0).count());
    }
    run.meta().set_observed_until_unix_ms(HostUnixMs());
  }
  run.Finish(outcome);
  if (outcome == "interrupted") return absl::CancelledError("interrupted; no verdict");

  auto history = LoadHistory(out);
  if (!history.ok()) return history.status();
  return JudgeAndWrite(*history, out);
}

absl::StatusOr<Verdict> AnalyzeRun(const std::string& run_dir) {
  auto history = LoadHistory(run_dir);
  if (!history.ok()) return history.status();
  return JudgeAndWrite(*history, run_dir);
}

}  // namespace swapchaos::controller
