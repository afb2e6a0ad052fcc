#include "controller/campaign/campaign.h"

#include <fstream>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {

std::string Write(const std::string& name, const std::string& text) {
  std::string path = test::UniqueTempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(CampaignTest, ScenariosTimesSeedsTimesKernels) {
  std::string path = Write("c.yaml", std::string("name: nightly\nscenarios:\n  - ") +
                                         SWAPCHAOS_SCENARIOS + "/smoke.yaml\n  - " +
                                         SWAPCHAOS_SCENARIOS +
                                         "/nbd-server-killed.yaml\nseeds: {from: 3, to: 5}\n"
                                         "kernels: [default]\n");
  auto plan = LoadCampaign(path);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->name, "nightly");
  ASSERT_EQ(plan->runs.size(), 6u);
  // Seed-major: both scenarios at seed 3 first.
  EXPECT_EQ(plan->runs[0].seed, 3u);
  EXPECT_EQ(plan->runs[1].seed, 3u);
  EXPECT_NE(plan->runs[0].scenario, plan->runs[1].scenario);
  EXPECT_EQ(plan->runs[2].seed, 4u);
  EXPECT_EQ(plan->runs[5].seed, 5u);
  EXPECT_EQ(plan->runs[0].kernel, "");
  EXPECT_EQ(plan->sha256.size(), 64u);
  EXPECT_EQ(plan->max_memory_mib, 384u);
}

TEST(CampaignTest, BadCampaignsNameTheLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"scenarios: [nosuch.yaml]\nseeds: {count: 2}\n", "c.yaml:1:"},
      {"scenarios: [x]\nseeds: {from: 5, to: 2}\n", "is empty"},
      {"scenarios: [x]\nseeds: {count: 2, list: [1]}\n", "exactly one of"},
      {"scenarios: []\nseeds: {count: 1}\n", "names no scenario"},
      {"scenarios: [x]\nseeds: {count: 1}\nkernels: [/nonexistent/bzImage]\n", "kernels[0]"},
      {"scenario: [x]\n", "scenario"},
      {"name: ../../etc\nscenarios: [x]\nseeds: {count: 1}\n", "c.yaml:1:1: name: must be"},
      {"scenarios: [x]\nseeds: {count: 4294967295}\n", "more than 100000 seeds"},
  };
  for (const auto& [text, want] : cases) {
    std::string body = text;
    // A real scenario where the case is not about the scenario.
    size_t x = body.find("[x]");
    if (x != std::string::npos) {
      body.replace(x, 3, std::string("[") + SWAPCHAOS_SCENARIOS + "/smoke.yaml]");
    }
    auto plan = LoadCampaign(Write("c.yaml", body));
    ASSERT_FALSE(plan.ok()) << text;
    EXPECT_TRUE(IsBadInput(plan.status())) << plan.status();
    EXPECT_NE(plan.status().message().find(want), std::string::npos) << plan.status();
  }
}

TEST(CampaignTest, PoolIsBounded) {
  EXPECT_GE(MaxJobs(64, 512), 1);
  EXPECT_LE(MaxJobs(64, 512), 64);
  EXPECT_EQ(MaxJobs(1, 512), 1);
  EXPECT_EQ(MaxJobs(8, 1u << 30), 1);  // no host has that much memory per run
}

TEST(CampaignTest, SummaryCountsAndSignatures) {
  std::vector<StoredRun> runs(3);
  runs[0].scenario = "/x/smoke.yaml";
  runs[0].status = "done";
  runs[0].verdict = "pass";
  runs[1] = runs[0];
  runs[1].verdict = "fail";
  runs[1].signature = "OOM kill";
  runs[1].dir = "runs/c/2.1";
  runs[1].kernel = "/k/0123/bzImage";
  runs[1].kernel_release = "6.1.0-test";
  runs[2] = runs[0];
  runs[2].status = "error";
  runs[2].error = "QEMU exited";
  std::string s = Summary(runs);
  EXPECT_NE(s.find("smoke.yaml"), std::string::npos) << s;
  EXPECT_NE(s.find("failure \"OOM kill\": 1 run: runs/c/2.1"), std::string::npos) << s;
  // A kernel is named by the release its runs reported, not its image's path.
  EXPECT_NE(s.find("6.1.0-test"), std::string::npos) << s;
  EXPECT_EQ(s.find("/k/0123"), std::string::npos) << s;
  EXPECT_NE(s.find("QEMU exited"), std::string::npos) << s;
}

}  // namespace
}  // namespace swapchaos::controller
