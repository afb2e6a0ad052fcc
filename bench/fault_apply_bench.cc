// fault_apply_bench: how long applying netem takes, the agent's way
// (rtnetlink from the agent process, the path every netem fault uses) and
// the tc program's way (fork/exec of /usr/sbin/tc making the same change),
// alternating in the same guest, in one run: first on the idle wire, then in
// the victim while its workload swaps. Prints p50 and p99 of each and their
// ratio; a tc that did not return within the bound is counted, not timed.
// Targets: libnl >= 10x faster than tc, and p99 <= 20 ms on the wire (TCG).
//
//   build/bin/fault_apply_bench [--rounds N] [--victim-rounds N] [--bound-ms MS]
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/stats.h"
#include "controller/run/run.h"

namespace {
namespace fs = std::filesystem;
using namespace swapchaos;
using swapchaos::bench::Percentile;

constexpr char kTc[] = "/usr/sbin/tc";

int Die(const std::string& what, const std::string& why) {
  std::fprintf(stderr, "fault_apply_bench: %s: %s\n", what.c_str(), why.c_str());
  return 3;
}

bool Bench(controller::AgentClient& agent, const std::string& where, const std::string& nic,
           uint32_t rounds, uint32_t bound_ms) {
  agent::BenchNetemRequest req;
  req.set_iface(nic);
  req.set_rounds(rounds);
  req.set_tc_bound_ms(bound_ms);
  agent::BenchNetemReply r;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(rounds) * (bound_ms + 5000)));
  grpc::Status st = agent.stub().BenchNetem(&ctx, req, &r);
  if (!st.ok()) {
    Die(where, st.error_message());
    return false;
  }
  std::vector<double> nl(r.libnl_ms().begin(), r.libnl_ms().end());
  std::vector<double> tc(r.tc_ms().begin(), r.tc_ms().end());
  double nl50 = Percentile(nl, 50), nl99 = Percentile(nl, 99);
  double tc50 = Percentile(tc, 50), tc99 = Percentile(tc, 99);
  std::printf("%-28s %6zu %9.2f %9.2f %6zu %9.2f %9.2f %8u %8.1fx %8.1fx\n", where.c_str(),
              nl.size(), nl50, nl99, tc.size(), tc50, tc99, r.tc_timeouts(), tc50 / nl50,
              tc99 / nl99);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t rounds = 200, victim_rounds = 50, bound_ms = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    uint32_t v = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    if (a == "--rounds") {
      rounds = v;
    } else if (a == "--victim-rounds") {
      victim_rounds = v;
    } else if (a == "--bound-ms") {
      bound_ms = v;
    } else {
      std::fprintf(stderr,
                   "usage: fault_apply_bench [--rounds N] [--victim-rounds N] [--bound-ms MS]\n");
      return 2;
    }
  }
  if (access(kTc, X_OK) != 0) return Die(kTc, "not installed (apt-get install iproute2)");
  std::string self_dir = fs::read_symlink("/proc/self/exe").parent_path().string();
  std::string home = std::getenv("HOME") ? std::getenv("HOME") : "/root";
  std::string out =
      (fs::temp_directory_path() / ("swapchaos-fault-bench-" + std::to_string(getpid()))).string();

  controller::BootRequest req;
  req.mutable_victim()->set_memory_mib(384);
  req.mutable_victim()->set_cpus(1);
  req.mutable_swap()->set_size_bytes(1ULL << 30);
  req.set_telemetry_hz(2);
  req.set_boot_timeout_s(300);
  req.set_out_dir(out);
  controller::BootEnv env;
  env.cache_dir = home + "/.cache/swapchaos";
  env.agent_path = self_dir + "/swapchaos-agent";
  env.guest_tools = {kTc};
  std::ostringstream progress;
  env.progress = &progress;
  auto run = controller::Run::Start(req, env);
  if (!run.ok()) return Die("starting the run", std::string(run.status().message()));

  std::printf("%-28s %6s %9s %9s %6s %9s %9s %8s %9s %9s\n", "where", "libnl", "p50 ms",
              "p99 ms", "tc", "p50 ms", "p99 ms", "tc hung", "p50 x", "p99 x");
  bool ok = Bench((*run)->wire_agent(), "wire data1, idle", "data1", rounds, bound_ms);

  // The victim under memory pressure: the 2012 test at 1.5x RAM, swapping.
  agent::WorkloadRequest wl;
  wl.set_procs_per_cpu(4);
  wl.set_ram_multiple(1.5);
  wl.set_passes(5);
  agent::WorkloadReply wr;
  grpc::ClientContext ctx;
  grpc::Status st = (*run)->victim_agent().stub().StartWorkload(&ctx, wl, &wr);
  if (!st.ok()) return Die("workload", st.error_message());
  std::this_thread::sleep_for(std::chrono::seconds(30));  // until it swaps hard
  ok = Bench((*run)->victim_agent(), "victim data0, swapping", "data0", victim_rounds, bound_ms) &&
       ok;
  (*run)->Finish("completed");
  run->reset();
  fs::remove_all(out);
  return ok ? 0 : 3;
}
