#include "controller/certify/certify.h"

#include <filesystem>
#include <fstream>

#include "controller/campaign/campaign.h"
#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {
namespace fs = std::filesystem;

TEST(WilsonTest, KnownBounds) {
  EXPECT_EQ(WilsonLower95(0, 0), 0);
  EXPECT_NEAR(WilsonLower95(3, 3), 0.4385, 1e-4);
  EXPECT_NEAR(WilsonLower95(30, 30), 0.8865, 1e-4);
  EXPECT_NEAR(WilsonLower95(5, 10), 0.2366, 1e-4);
  EXPECT_NEAR(WilsonLower95(0, 10), 0.0, 1e-9);
  // More passes, a higher bound; a failure lowers it.
  EXPECT_LT(WilsonLower95(9, 10), WilsonLower95(10, 10));
  EXPECT_LT(WilsonLower95(10, 10), WilsonLower95(20, 20));
}

TEST(CertifyTest, SuiteIdentityAndBadInput) {
  std::string dir = test::UniqueTempDir();
  EXPECT_TRUE(absl::IsInvalidArgument(LoadSuite(dir + "/nosuch").status()));
  fs::create_directories(dir + "/suite");
  EXPECT_NE(LoadSuite(dir + "/suite").status().message().find("holds no *.yaml"), std::string::npos);
  fs::copy_file(std::string(SWAPCHAOS_SCENARIOS) + "/smoke.yaml", dir + "/suite/b.yaml");
  fs::copy_file(std::string(SWAPCHAOS_SCENARIOS) + "/nbd-server-restart.yaml", dir + "/suite/a.yaml");
  auto suite = LoadSuite(dir + "/suite");
  ASSERT_TRUE(suite.ok()) << suite.status();
  ASSERT_EQ(suite->files_size(), 2);
  EXPECT_EQ(suite->files(0).name(), "a.yaml");
  std::string id = suite->sha256();
  std::ofstream(dir + "/suite/b.yaml", std::ios::app) << "# changed\n";
  auto changed = LoadSuite(dir + "/suite");
  ASSERT_TRUE(changed.ok());
  EXPECT_NE(changed->sha256(), id);
  std::ofstream(dir + "/suite/c.yaml") << "name: c\nvm: {memory_mib: lots}\n";
  auto bad = LoadSuite(dir + "/suite");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("c.yaml:2:"), std::string::npos) << bad.status();
}

TEST(CertifyTest, CampaignFileRunsEveryScenarioAndSeedOnTheKernel) {
  std::string dir = test::UniqueTempDir();
  fs::create_directories(dir + "/suite");
  fs::copy_file(std::string(SWAPCHAOS_SCENARIOS) + "/smoke.yaml", dir + "/suite/smoke.yaml");
  fs::copy_file(std::string(SWAPCHAOS_SCENARIOS) + "/nbd-server-restart.yaml",
                dir + "/suite/restart.yaml");
  auto suite = LoadSuite(dir + "/suite");
  ASSERT_TRUE(suite.ok());
  std::ofstream(dir + "/c.yaml") << CertifyCampaignYaml(*suite, {.first = 1, .count = 3}, "");
  auto plan = LoadCampaign(dir + "/c.yaml");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->runs.size(), 6u);
}

StoredRun Stored(const std::string& scenario, uint64_t seed, const std::string& verdict,
              const std::string& signature = "") {
  StoredRun r;
  r.scenario = "/s/" + scenario;
  r.seed = seed;
  r.status = verdict == "error" ? "error" : "done";
  r.verdict = verdict == "error" ? "" : verdict;
  r.signature = signature;
  r.dir = "/runs/" + scenario + std::to_string(seed);
  return r;
}

kernels::CertifySuite TwoScenarios() {
  kernels::CertifySuite suite;
  suite.add_files()->set_name("a.yaml");
  suite.add_files()->set_name("b.yaml");
  return suite;
}

TEST(CertifyTest, AllPassIsCertifiedWithBounds) {
  auto c = MakeCertificate({}, TwoScenarios(), {.first = 1, .count = 2},
                           {Stored("a.yaml", 1, "pass"), Stored("a.yaml", 2, "pass"),
                            Stored("b.yaml", 1, "pass"), Stored("b.yaml", 2, "pass")});
  EXPECT_EQ(c.verdict(), "certified");
  ASSERT_EQ(c.scenarios_size(), 2);
  EXPECT_EQ(c.scenarios(0).passes(), 2u);
  EXPECT_NEAR(c.scenarios(0).pass_rate_lower_95(), WilsonLower95(2, 2), 1e-12);
  EXPECT_EQ(c.signatures_size(), 0);
}

TEST(CertifyTest, OneFailureRefusesItAndNamesTheSignature) {
  auto c = MakeCertificate({}, TwoScenarios(), {.first = 1, .count = 2},
                           {Stored("a.yaml", 1, "pass"), Stored("a.yaml", 2, "fail", "page content mismatch"),
                            Stored("b.yaml", 1, "fail", "page content mismatch"),
                            Stored("b.yaml", 2, "error")});
  EXPECT_EQ(c.verdict(), "not certified");
  ASSERT_EQ(c.signatures_size(), 1);
  EXPECT_EQ(c.signatures(0).signature(), "page content mismatch");
  EXPECT_EQ(c.signatures(0).count(), 2u);
  EXPECT_EQ(c.signatures(0).scenarios_size(), 2);
  EXPECT_EQ(c.signatures(0).example_runs(0), "/runs/a.yaml2");
  EXPECT_EQ(c.scenarios(1).errors(), 1u);
  EXPECT_NE(c.rule().find("2 failed, 1 not judged"), std::string::npos) << c.rule();
}

TEST(CertifyTest, RunsNotJudgedOrMissingLeaveItIncomplete) {
  auto c = MakeCertificate({}, TwoScenarios(), {.first = 1, .count = 2},
                           {Stored("a.yaml", 1, "pass"), Stored("a.yaml", 2, "error"),
                            Stored("b.yaml", 1, "pass")});
  EXPECT_EQ(c.verdict(), "incomplete");
  EXPECT_NE(c.rule().find("0 failed, 2 not judged"), std::string::npos) << c.rule();
}

// Certify stops at its first failure: the runs it left pending are not
// run, neither errors nor runs of their scenario, and the verdict stands.
TEST(CertifyTest, RunsLeftPendingAfterTheFirstFailureAreNotRun) {
  StoredRun pending = Stored("b.yaml", 2, "pass");
  pending.status = "pending";
  pending.verdict.clear();
  auto c = MakeCertificate({}, TwoScenarios(), {.first = 1, .count = 2},
                           {Stored("a.yaml", 1, "pass"), Stored("b.yaml", 1, "pass"),
                            Stored("a.yaml", 2, "fail", "stalled after the grace period"),
                            pending});
  EXPECT_EQ(c.verdict(), "not certified");
  EXPECT_EQ(c.scenarios(1).runs(), 1u);
  EXPECT_EQ(c.scenarios(1).errors(), 0u);
  EXPECT_NE(c.rule().find("1 failed, 1 not judged"), std::string::npos) << c.rule();
}

}  // namespace
}  // namespace swapchaos::controller
