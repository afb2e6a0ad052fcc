// The seed's workload in a real victim swapping over NBD through the wire:
// every task finishes with every page intact, and the telemetry shows the
// kernel's view of each task while it runs.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "controller/run/run.h"
#include "gtest/gtest.h"
#include "testing/known_findings.h"
#include "testing/run.h"

namespace swapchaos::controller {
namespace {

TEST(WorkloadE2ETest, TasksSwapAndComeBackIntact) {
  std::ostringstream progress;
  auto run = test::StartSmallRun(1ULL << 30, &progress);
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
  if (!all_ended) {
    // A listed kernel finding (testing/known-findings.yaml), seen once in CI
    // on the default kernel: virtio_net could not refill its receive ring,
    // so the NBD replies the swap-out waited for never came. Accepted as
    // what a run's verdict would call it; any other hang fails.
    std::ifstream in((*run)->out_dir() + "/console.log");
    std::string console((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto known = test::LoadKnownFindings(SWAPCHAOS_KNOWN_FINDINGS);
    ASSERT_TRUE(known.ok()) << known.status();
    if (auto k = test::MatchKnownFinding(
            *known, {(*run)->meta().kernel().release(), "workload did not finish by the deadline",
                     console, (*run)->meta().swap().min_free_kbytes()})) {
      std::cout << "known finding accepted: " << k->name << " (console: " << (*run)->out_dir()
                << "/console.log)\n";
      return;
    }
  }
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
