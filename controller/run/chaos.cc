#include "controller/run/chaos.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/oracles/oracles.h"
#include "controller/run/telemetry_recorder.h"
#include "faults/netem_proto.h"

namespace swapchaos::controller {
namespace {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

struct Event {
  double at_s;
  uint32_t fault;
  bool apply;
};

BootRequest ToBootRequest(const scenario::Scenario& s, const std::string& out_dir) {
  BootRequest r;
  r.mutable_victim()->set_kernel(s.vm().kernel());
  r.mutable_victim()->set_modules_dir(s.vm().modules());
  r.mutable_victim()->set_memory_mib(s.vm().memory_mib());
  r.mutable_victim()->set_cpus(s.vm().cpus());
  r.mutable_swap()->set_size_bytes(static_cast<uint64_t>(s.swap().size_mib()) << 20);
  r.mutable_swap()->set_request_timeout_s(s.swap().request_timeout_s());
  r.mutable_swap()->set_dead_conn_timeout_s(s.swap().dead_conn_timeout_s());
  r.set_telemetry_hz(2);
  r.set_boot_timeout_s(300);
  r.set_out_dir(out_dir);
  return r;
}

// trace.jsonl, and a line for the user per fault step.
struct Tracer {
  std::ofstream out;
  std::ostream& say;
  int64_t t0_ms;  // the workload's start on the host clock: the timeline's zero

  void Record(FaultEvent& ev, const std::string& what) {
    ev.set_host_unix_ms(HostUnixMs());
    ev.set_done_s(static_cast<double>(ev.host_unix_ms() - t0_ms) / 1000.0);
    out << ToJson(ev) << "\n";
    out.flush();
    say << "fault " << ev.fault() << " " << ev.action() << " on " << ev.nics(0) << ": " << what
        << "\n";
  }
};

// The host's nbd-server: freeze and thaw it, or kill it for good. Read back
// from the process itself.
void ActOnServer(Run& run, const scenario::NbdServerFault& f, FaultEvent ev, Tracer& tracer) {
  Subprocess& server = run.nbd_server().process();
  ev.add_nics("host nbd-server");
  ev.set_ok(true);
  auto stopped = [&] {
    std::ifstream stat(absl::StrCat("/proc/", server.pid(), "/stat"));
    std::string line;
    std::getline(stat, line);
    return line.find(") T ") != std::string::npos;
  };
  if (f.action() == "freeze") {
    server.Signal(ev.action() == "apply" ? SIGSTOP : SIGCONT);
    for (int i = 0; i < 50 && stopped() != (ev.action() == "apply"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ev.set_in_effect(stopped());
  } else if (ev.action() == "apply") {
    server.Signal(SIGKILL);
    ev.set_in_effect(server.WaitFor(std::chrono::seconds(2)));
  } else {
    // Nothing restarts it: the victim could not reconnect to a new one yet.
    ev.set_in_effect(!server.Running());
    ev.set_error("killed for good: no restart without NBD reconnect");
  }
  ev.set_matches(ev.action() == "apply" && ev.in_effect());
  tracer.Record(ev,
                ev.in_effect() ? (f.action() == "kill" ? "killed" : "frozen") : "running again");
}

// Applies or reverts one fault, on each of its targets, appending what the
// kernel (or the host) then reports to the trace.
void Act(Run& run, const scenario::Scenario& s, const Event& e, Tracer& tracer) {
  FaultEvent base;
  base.set_fault(e.fault);
  base.set_planned_s(e.at_s);
  base.set_action(e.apply ? "apply" : "revert");
  const scenario::Fault& fault = s.faults(e.fault);
  if (fault.has_nbd_server()) return ActOnServer(run, fault.nbd_server(), base, tracer);
  const scenario::NetemFault& n = fault.netem();
  for (const std::string& nic : WireNics(n)) {
    FaultEvent ev = base;
    ev.add_nics("wire " + nic);
    agent::NetemState state;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Status st;
    if (e.apply) {
      agent::NetemRequest req;
      req.set_iface(nic);
      *req.mutable_netem() = n.params();
      st = run.wire_agent().stub().ApplyNetem(&ctx, req, &state);
    } else {
      agent::NicRequest req;
      req.set_iface(nic);
      st = run.wire_agent().stub().RevertNetem(&ctx, req, &state);
    }
    ev.set_ok(st.ok());
    ev.set_error(st.error_message());
    ev.set_in_effect(state.present());
    ev.set_matches(
        e.apply && state.present() &&
        faults::SameEffect(faults::FromProto(n.params()), faults::FromProto(state.netem())));
    tracer.Record(ev, !st.ok()  ? st.error_message()
                      : e.apply ? (ev.matches() ? "in effect, read back" : "NOT as asked")
                                : "reverted");
  }
}

bool WorkloadEnded(const std::optional<agent::Sample>& s) {
  if (!s || s->tasks_size() == 0) return false;
  for (const auto& t : s->tasks()) {
    if (t.state() == "running") return false;
  }
  return true;
}

Verdict JudgeAndWrite(const History& h, const std::string& dir) {
  Verdict v = Judge(h);
  WriteJsonAtomically(dir + "/verdict.json", v);
  return v;
}

}  // namespace

absl::StatusOr<Verdict> RunScenario(const LoadedScenario& loaded, uint64_t seed,
                                    const std::string& out_dir, const BootEnv& env) {
  const scenario::Scenario& s = loaded.scenario;
  std::ostream& say = *env.progress;
  auto started = Run::Start(ToBootRequest(s, out_dir), env);
  if (!started.ok()) return started.status();
  Run& run = **started;
  run.meta().set_command("run");
  run.meta().set_seed(seed);
  const std::string& out = run.out_dir();
  WriteJsonAtomically(out + "/scenario.json", s);

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
    TelemetryRecorder victim(run.victim_agent(), 2, out + "/telemetry.jsonl");
    TelemetryRecorder wire(run.wire_agent(), 2, out + "/wire-telemetry.jsonl");

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
    Tracer tracer{std::ofstream(out + "/trace.jsonl"), say, run.meta().workload_start_unix_ms()};
    say << "workload: " << wr.procs() << " tasks x " << (wr.bytes_per_proc() >> 20) << " MiB, "
        << s.workload().passes() << " passes; " << s.faults_size() << " faults on the timeline\n";

    auto t0 = steady_clock::now();
    auto deadline = t0 + std::chrono::seconds(s.deadline_s());
    size_t next = 0;
    std::vector<bool> active(s.faults_size(), false);
    auto next_print = t0;
    while (true) {
      auto now = steady_clock::now();
      double t = std::chrono::duration<double>(now - t0).count();
      while (next < events.size() && events[next].at_s <= t) {
        Act(run, s, events[next], tracer);
        active[events[next].fault] = events[next].apply;
        ++next;
      }
      if (env.stop_requested()) {
        outcome = "interrupted";
        break;
      }
      if (next == events.size() && WorkloadEnded(victim.Latest())) break;
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
    for (int i = 0; i < s.faults_size(); ++i) {
      if (active[i] && run.wire_vm().process().Running()) {
        double t = std::chrono::duration<double>(steady_clock::now() - t0).count();
        Act(run, s, {t, static_cast<uint32_t>(i), false}, tracer);
      }
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
