#include "controller/campaign/import.h"

#include <filesystem>
#include <fstream>

#include "controller/run/run.h"
#include "gtest/gtest.h"
#include "swapchaos/controller.pb.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {
namespace fs = std::filesystem;

// A finished run directory as `swapchaos run --out` leaves it; no verdict
// when `verdict` is empty (the run ended before it was judged).
void WriteRun(const std::string& dir, uint64_t seed, const std::string& verdict,
              const std::string& outcome = "completed") {
  fs::create_directories(dir);
  RunMeta meta;
  meta.set_seed(seed);
  meta.set_started_at("2026-12-01T10:00:0" + std::to_string(seed) + "Z");
  meta.set_wall_s(90);
  meta.set_outcome(outcome);
  meta.set_host("node7");
  meta.set_tool("swapchaos 0.9.0 (commit abc)");
  meta.mutable_kernel()->set_release("6.1.0-mutant");
  meta.mutable_kernel()->set_sha256("1a7a");
  ASSERT_TRUE(WriteJsonAtomically(dir + "/meta.json", meta).ok());
  std::ofstream(dir + "/console.log") << "[    1.0] console of seed " << seed << "\n";
  if (verdict.empty()) return;
  Verdict v;
  v.set_verdict(verdict);
  v.set_scenario("quick");
  v.set_seed(seed);
  if (verdict == "fail") v.set_signature("data lost: page 12");
  ASSERT_TRUE(WriteJsonAtomically(dir + "/verdict.json", v).ok());
}

std::unique_ptr<Store> NewStore() {
  auto store = Store::Open(test::UniqueTempDir() + "/store.db");
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

// A worker's directory of runs copied from another host: every finished
// run once, with its files; half-done ones and stray files left out.
TEST(ImportRunDirectoriesTest, ADirectoryOfRunsIsOneCampaignOnce) {
  std::string from = test::UniqueTempDir() + "/node7-runs";
  WriteRun(from + "/1.1", 1, "pass");
  WriteRun(from + "/2.1", 2, "fail");
  fs::create_directories(from + "/3.1");  // killed: no meta.json
  std::ofstream(from + "/1.1.log") << "progress\n";
  auto store = NewStore();
  ASSERT_TRUE(store);

  auto done = ImportRunDirectories(*store, from + "/");
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->campaigns, 1);
  EXPECT_EQ(done->runs, 2);
  auto campaigns = store->Campaigns();
  ASSERT_EQ(campaigns->size(), 1u);
  const StoredCampaign& c = (*campaigns)[0];
  EXPECT_EQ(c.name, "node7-runs");
  EXPECT_EQ(c.file, from);
  EXPECT_EQ(c.created_at, "2026-12-01T10:00:01Z");
  EXPECT_EQ(c.finished_at, "2026-12-01T10:01:32Z");
  EXPECT_EQ(c.failed, 1);
  auto runs = store->Runs(c.id);
  ASSERT_EQ(runs->size(), 2u);
  const StoredRun& fail = (*runs)[1];
  EXPECT_EQ(fail.status, "done");
  EXPECT_EQ(fail.verdict, "fail");
  EXPECT_EQ(fail.signature, "data lost: page 12");
  EXPECT_EQ(fail.scenario, "quick");
  EXPECT_EQ(fail.seed, 2u);
  EXPECT_EQ(fail.dir, from + "/2.1");
  EXPECT_EQ(fail.host, "node7");
  EXPECT_EQ(fail.kernel_sha256, "1a7a");
  EXPECT_EQ(fail.tool, "swapchaos 0.9.0 (commit abc)");
  auto files = store->RunFiles(fail.id);
  EXPECT_EQ((*files)["console-tail.log"], "[    1.0] console of seed 2\n");
  EXPECT_EQ(files->count("verdict.json"), 1u);
  EXPECT_EQ(store->RunFiles((*runs)[0].id)->count("console-tail.log"), 0u);  // passed

  auto again = ImportRunDirectories(*store, from);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->campaigns, 0);
  EXPECT_EQ(again->skipped, 1);
  // A single run directory is a campaign of one; one that ended before it
  // was judged comes in as an error with the outcome its meta.json gives.
  WriteRun(from + "/4.1", 4, "", "the victim's agent never answered");
  auto one = ImportRunDirectories(*store, from + "/4.1");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->runs, 1);
  auto error = store->Runs((*store->Campaigns())[1].id);
  ASSERT_EQ(error->size(), 1u);
  EXPECT_EQ((*error)[0].status, "error");
  EXPECT_EQ((*error)[0].error, "the victim's agent never answered");
}

// Bad input: named, and nothing of it is imported.
TEST(ImportRunDirectoriesTest, DamagedOrEmptySourcesAreNamedAndImportNothing) {
  std::string from = test::UniqueTempDir() + "/runs";
  WriteRun(from + "/1.1", 1, "pass");
  WriteRun(from + "/2.1", 2, "pass");
  std::ofstream(from + "/2.1/verdict.json") << "{\"verdict\": \"pass\", \"seed\": ";  // cut
  auto store = NewStore();
  ASSERT_TRUE(store);
  auto damaged = ImportRunDirectories(*store, from);
  ASSERT_FALSE(damaged.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(damaged.status())) << damaged.status();
  EXPECT_NE(damaged.status().message().find(from + "/2.1/verdict.json"), std::string::npos)
      << damaged.status();
  EXPECT_TRUE(store->Campaigns()->empty());

  std::string empty = test::UniqueTempDir();
  auto none = ImportRunDirectories(*store, empty);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no finished run here"), std::string::npos)
      << none.status();
  EXPECT_FALSE(ImportRunDirectories(*store, empty + "/nosuch").ok());
  EXPECT_TRUE(store->Campaigns()->empty());
}

}  // namespace
}  // namespace swapchaos::controller
