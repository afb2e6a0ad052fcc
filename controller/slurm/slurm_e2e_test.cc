// A campaign on a real (one-node) Slurm cluster over a PostgreSQL store:
// a worker is SIGKILLed in the middle of a run, its lease runs out, another
// worker runs it again, and the store ends with every run recorded once.
#include <google/protobuf/util/json_util.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "controller/store/store.h"
#include "gtest/gtest.h"
#include "swapchaos/kernel.pb.h"
#include "testing/cli.h"
#include "testing/postgres.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {
namespace fs = std::filesystem;

class SlurmE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("SLURM_CONF", SWAPCHAOS_TEST_SLURM "/slurm.conf", 1); }
};

TEST_F(SlurmE2ETest, KilledWorkersRunIsRunAgainAndEveryRunIsRecordedOnce) {
  std::string dir = test::UniqueTempDir();
  std::string url = test::NewPostgresStoreUrl();
  ASSERT_FALSE(url.empty());
  std::string file = dir + "/c.yaml", runs = dir + "/runs";
  std::ofstream(file) << "name: slurm\nscenarios: [" << SWAPCHAOS_QUICK
                      << "]\nseeds: {list: [1, 2, 3, 4]}\n";
  auto before = test::NetNamespaces();
  auto cli = test::StartCli({"campaign", file, "--store", url, "--runs", runs, "--slurm",
                             "--workers", "2", "--lease", "15"},
                            dir + "/campaign.log");
  ASSERT_TRUE(cli);

  // The first worker, once its run's VMs are up: SIGKILL, as a node dies.
  auto store = Store::Open(url);
  ASSERT_TRUE(store.ok()) << store.status();
  std::string killed;
  for (int i = 0; i < 2400 && killed.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto all = (*store)->Runs(1);
    if (!all.ok()) continue;
    for (const StoredRun& r : *all) {
      if (r.status != "running") continue;
      if (test::ReadFile(r.dir + ".log").find("swap on") == std::string::npos) continue;
      std::vector<std::string> owner = absl::StrSplit(r.owner, ':');
      int pid = 0;
      ASSERT_EQ(owner.size(), 3u) << r.owner;
      ASSERT_TRUE(absl::SimpleAtoi(owner[1], &pid)) << r.owner;
      ASSERT_EQ(kill(pid, SIGKILL), 0) << r.owner;
      killed = r.dir;
    }
  }
  ASSERT_FALSE(killed.empty()) << test::ReadFile(dir + "/campaign.log");

  ASSERT_TRUE(cli->WaitFor(std::chrono::seconds(1500))) << test::ReadFile(dir + "/campaign.log");
  std::string log = test::ReadFile(dir + "/campaign.log");
  EXPECT_EQ(cli->DescribeExit(), "exited with status 0") << log;
  EXPECT_NE(log.find("Slurm job "), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(runs + "/slurm-campaign-1.sh"));
  EXPECT_TRUE(fs::exists(runs + "/campaign-1.html")) << log;

  auto all = (*store)->Runs(1);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  int again = 0;
  for (const StoredRun& r : *all) {
    EXPECT_EQ(r.status, "done") << r.dir;
    EXPECT_EQ(r.verdict, "pass") << r.dir << " " << r.signature;
    EXPECT_TRUE(fs::exists(r.dir + "/meta.json")) << r.dir;
    again += r.attempts == 2;
    EXPECT_LE(r.attempts, 2) << r.dir;
  }
  EXPECT_EQ(again, 1);
  EXPECT_FALSE(fs::exists(killed + "/meta.json"));  // the killed attempt: never a result
  auto campaigns = (*store)->Campaigns();
  ASSERT_TRUE(campaigns.ok());
  EXPECT_FALSE((*campaigns)[0].finished_at.empty());
  // Nothing of the runs is left: no VM, no worker, no job, no namespace.
  EXPECT_TRUE(test::ProcessesMentioning(runs).empty());
  EXPECT_EQ(test::ShellOutput("squeue --noheader"), "");
  EXPECT_EQ(test::NetNamespaces(), before);
}

// Certify takes the same placement: the stock kernel's certification as a
// Slurm job array, its certificate written from what the store holds.
TEST_F(SlurmE2ETest, CertifyOnSlurmCertifiesTheStockKernel) {
  std::string dir = test::UniqueTempDir();
  std::string url = test::NewPostgresStoreUrl();
  ASSERT_FALSE(url.empty());
  fs::create_directories(dir + "/suite");
  fs::copy_file(SWAPCHAOS_QUICK, dir + "/suite/quick.yaml");
  std::string out = dir + "/cert";
  int rc = test::RunCli({"certify", "--kernel", "default", "--suite", dir + "/suite", "--seeds",
                         "5..6", "--out", out, "--store", url, "--slurm", "--workers", "2"},
                        dir + "/log", std::chrono::seconds(1200));
  std::string log = test::ReadFile(dir + "/log");
  EXPECT_EQ(rc, 0) << log;
  EXPECT_NE(log.find("Slurm job "), std::string::npos) << log;
  EXPECT_NE(log.find("certified"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(out + "/runs/slurm-campaign-1.sh")) << log;
  kernels::Certificate cert;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(test::ReadFile(out + "/certificate.json"), &cert)
          .ok());
  EXPECT_EQ(cert.verdict(), "certified");
  EXPECT_EQ(cert.first_seed(), 5u);
  EXPECT_EQ(cert.seeds(), 2u);
  auto store = Store::Open(url);
  ASSERT_TRUE(store.ok()) << store.status();
  auto runs = (*store)->Runs(1);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  for (const StoredRun& r : *runs) {
    EXPECT_EQ(r.verdict, "pass") << r.dir << " " << r.signature;
    EXPECT_EQ(r.attempts, 1) << r.dir;
  }
  EXPECT_EQ(test::ShellOutput("squeue --noheader"), "");
}

// A Slurm that refuses the job: a clear message, exit 3, and the campaign
// waits in the store for the same command.
TEST_F(SlurmE2ETest, RefusedJobIsAnErrorAndLosesNothing) {
  std::string dir = test::UniqueTempDir();
  std::string url = test::NewPostgresStoreUrl();
  ASSERT_FALSE(url.empty());
  std::string file = dir + "/c.yaml";
  std::ofstream(file) << "name: refused\nscenarios: [" << SWAPCHAOS_QUICK
                      << "]\nseeds: {count: 2}\n";
  int rc = test::RunCli({"campaign", file, "--store", url, "--runs", dir + "/runs", "--slurm",
                         "--partition", "nosuch"},
                        dir + "/log", std::chrono::seconds(300));
  std::string log = test::ReadFile(dir + "/log");
  EXPECT_EQ(rc, 3) << log;
  EXPECT_NE(log.find("Slurm did not take the job"), std::string::npos) << log;
  EXPECT_NE(log.find("invalid partition"), std::string::npos) << log;
  auto store = Store::Open(url);
  ASSERT_TRUE(store.ok());
  auto runs = (*store)->Runs(1);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  for (const StoredRun& r : *runs) EXPECT_EQ(r.status, "pending");
}

}  // namespace
}  // namespace swapchaos::controller
