#include "controller/run/boot.h"

#include <fstream>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/run/failure.h"
#include "controller/run/run.h"
#include "controller/run/telemetry_recorder.h"

namespace swapchaos::controller {
namespace {
using std::chrono::steady_clock;

uint64_t Get(const google::protobuf::Map<std::string, uint64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

std::string LiveLine(double t, const agent::Sample& s) {
  const auto& mi = s.meminfo_kib();
  uint64_t swap_total = Get(mi, "SwapTotal"), swap_free = Get(mi, "SwapFree");
  return absl::StrFormat(
      "[%6.1fs] free %5d MiB  avail %5d MiB  swap used %5d/%d MiB  pswpin %d  pswpout %d  "
      "throttled %d  psi some %.2f full %.2f  nbd inflight %d/%d",
      t, Get(mi, "MemFree") / 1024, Get(mi, "MemAvailable") / 1024, (swap_total - swap_free) / 1024,
      swap_total / 1024, Get(s.vmstat(), "pswpin"), Get(s.vmstat(), "pswpout"),
      Get(s.vmstat(), "pgscan_direct_throttle"), s.memory_some().avg10(), s.memory_full().avg10(),
      s.nbd_inflight_reads(), s.nbd_inflight_writes());
}

}  // namespace

absl::Status RunBoot(const BootRequest& request, const BootEnv& env) {
  std::ostream& say = *env.progress;
  auto run = Run::Start(request, env);
  if (std::optional<RunMeta> record = KernelFailureRecord(run.status())) {
    // The kernel under test failed: a finished run whose outcome says how.
    if (absl::Status st = WriteJsonAtomically(request.out_dir() + "/meta.json", *record);
        !st.ok()) {
      return st;
    }
  }
  if (!run.ok()) return run.status();
  AgentClient& victim_agent = (*run)->victim_agent();
  AgentClient& wire_agent = (*run)->wire_agent();
  const std::string& out = (*run)->out_dir();
  std::string outcome = "completed";
  absl::Status failure;
  {
    TelemetryRecorder telemetry(victim_agent, request.telemetry_hz(), out + "/telemetry.jsonl");
    // The wire's counters show the NBD traffic really crossed it.
    TelemetryRecorder wire_telemetry(wire_agent, request.telemetry_hz(),
                                     out + "/wire-telemetry.jsonl");
    if (request.spike_mib() > 0) {
      agent::SpikeRequest spike;
      spike.set_mib(request.spike_mib());
      spike.set_seconds(request.duration_s() > 0 ? request.duration_s() : 86400);
      auto pid = victim_agent.Spike(spike);
      if (!pid.ok()) return pid.status();
      say << "memory spike of " << request.spike_mib() << " MiB started (pid " << pid->pid()
          << ")\n";
    }
    auto run_start = steady_clock::now();
    auto next_print = run_start;
    while (true) {
      auto now = steady_clock::now();
      if (env.stop_requested()) {
        outcome = "interrupted";
        break;
      }
      if (request.duration_s() > 0 &&
          now - run_start >= std::chrono::seconds(request.duration_s())) {
        break;
      }
      process::Subprocess& victim = (*run)->victim_vm().process();
      process::Subprocess& wire = (*run)->wire_vm().process();
      if (!victim.Running() || !wire.Running()) {
        failure = absl::UnavailableError(
            absl::StrCat("a VM ended during the run: victim QEMU ", victim.DescribeExit(),
                         ", wire QEMU ", wire.DescribeExit(), " (consoles in ", out, ")"));
        outcome = std::string(failure.message());
        break;
      }
      if (now >= next_print) {
        if (auto s = telemetry.Latest()) say << LiveLine(Seconds(now - run_start), *s) << "\n";
        next_print += std::chrono::seconds(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    say << "shutting down (" << telemetry.count() << " telemetry samples in " << out
        << "/telemetry.jsonl)\n";
  }
  (*run)->Finish(outcome);
  return failure;
}

}  // namespace swapchaos::controller
