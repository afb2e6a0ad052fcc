// The seed's workload in a real victim swapping over NBD through the wire:
// every task finishes with every page intact, and the telemetry shows the
// kernel's view of each task while it runs.
#include <grpcpp/grpcpp.h>

#include <set>
#include <sstream>

#include "controller/run/run.h"
#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {

TEST(WorkloadE2ETest, TasksSwapAndComeBackIntact) {
  BootRequest req;
  req.mutable_victim()->set_memory_mib(256);
  req.mutable_victim()->set_cpus(1);
  req.mutable_swap()->set_size_bytes(1ULL << 30);
  req.set_boot_timeout_s(300);
  req.set_telemetry_hz(2);
  req.set_out_dir(test::UniqueTempDir() + "/run");
  BootEnv env;
  env.cache_dir = test::UniqueTempDir() + "/cache";
  env.agent_path = SWAPCHAOS_AGENT;
  std::ostringstream progress;
  env.progress = &progress;
  auto run = controller::Run::Start(req, env);
  ASSERT_TRUE(run.ok()) << run.status() << progress.str();

  agent::WorkloadRequest wl;
  wl.set_procs_per_cpu(4);
  wl.set_ram_multiple(1.5);
  wl.set_passes(1);
  wl.set_write(true);
  wl.set_seed(99);
  agent::WorkloadReply started;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE((*run)->victim_agent().stub().StartWorkload(&ctx, wl, &started).ok());
  }
  EXPECT_EQ(started.procs(), 4u);

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(400));
  agent::TelemetryRequest treq;
  treq.set_rate_hz(2);
  auto reader = (*run)->victim_agent().stub().Telemetry(&ctx, treq);
  agent::Sample s, first;
  bool have_first = false, all_ended = false;
  std::set<std::string> states_seen, wchans_seen;
  while (!all_ended && reader->Read(&s)) {
    if (!have_first) first = s, have_first = true;
    all_ended = s.tasks_size() == 4;
    for (const auto& t : s.tasks()) {
      all_ended = all_ended && t.state() != "running";
      if (!t.proc_state().empty()) states_seen.insert(t.proc_state());
      if (!t.wchan().empty() && t.wchan() != "0") wchans_seen.insert(t.wchan());
    }
  }
  ctx.TryCancel();
  reader->Finish().IgnoreError();
  ASSERT_TRUE(all_ended) << "workload did not finish within 400 s";
  for (const auto& t : s.tasks()) {
    EXPECT_EQ(t.state(), "done") << t.detail();
    EXPECT_EQ(t.pass(), 1u);
    EXPECT_EQ(t.pages(), 2 * (started.bytes_per_proc() / 4096));  // write, then one pass
  }
  EXPECT_GT(s.vmstat().at("pswpout"), first.vmstat().at("pswpout") + 10000);
  EXPECT_GT(s.vmstat().at("pswpin"), first.vmstat().at("pswpin"));
  EXPECT_FALSE(states_seen.empty());
  EXPECT_FALSE(wchans_seen.empty());
  std::cout << "task states seen:";
  for (const auto& st : states_seen) std::cout << " " << st;
  std::cout << "\nwchans seen:";
  for (const auto& w : wchans_seen) std::cout << " " << w;
  std::cout << "\n";
  (*run)->Finish("completed");
}

}  // namespace
}  // namespace swapchaos::controller
