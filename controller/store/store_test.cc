#include "controller/store/store.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {

std::string DirFor(int64_t id, int attempt) {
  return "runs/c/" + std::to_string(id) + "." + std::to_string(attempt);
}

TEST(StoreTest, CampaignRunsClaimedOnceAndFinished) {
  std::string path = test::UniqueTempDir() + "/store.db";
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  auto id = (*store)->CreateCampaign("c", "c.yaml", "abc",
                                     {{"a.yaml", 1, ""}, {"a.yaml", 2, ""}, {"b.yaml", 1, "k"}});
  ASSERT_TRUE(id.ok()) << id.status();
  std::vector<int64_t> claimed;
  while (true) {
    auto r = (*store)->Claim(*id, DirFor);
    ASSERT_TRUE(r.ok()) << r.status();
    if (!r->has_value()) break;
    EXPECT_EQ((*r)->status, "running");
    EXPECT_EQ((*r)->attempts, 1);
    claimed.push_back((*r)->id);
    StoredRun done = **r;
    done.status = "done";
    done.verdict = (*r)->seed == 2 ? "fail" : "pass";
    done.signature = (*r)->seed == 2 ? "OOM kill" : "";
    done.kernel_release = "6.1";
    ASSERT_TRUE((*store)->Finish(done).ok());
  }
  EXPECT_EQ(claimed.size(), 3u);
  auto campaigns = (*store)->Campaigns();
  ASSERT_TRUE(campaigns.ok());
  ASSERT_EQ(campaigns->size(), 1u);
  EXPECT_EQ((*campaigns)[0].total, 3);
  EXPECT_EQ((*campaigns)[0].done, 3);
  EXPECT_EQ((*campaigns)[0].failed, 1);
  auto failures = (*store)->Failures();
  ASSERT_TRUE(failures.ok());
  ASSERT_EQ(failures->size(), 1u);
  EXPECT_EQ((*failures)[0].signature, "OOM kill");
  EXPECT_EQ((*failures)[0].count, 1);
  EXPECT_EQ((*failures)[0].kernels, std::vector<std::string>{"6.1"});
}

// A controller killed mid-run: the run it held is pending again after a
// restart, with a new directory on its next attempt; finished runs stay.
TEST(StoreTest, RunningRunsAreRequeuedAndSurviveReopening) {
  std::string path = test::UniqueTempDir() + "/store.db";
  int64_t campaign;
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok());
    auto id =
        (*store)->CreateCampaign("c", "c.yaml", "abc", {{"a.yaml", 1, ""}, {"a.yaml", 2, ""}});
    ASSERT_TRUE(id.ok());
    campaign = *id;
    auto first = (*store)->Claim(campaign, DirFor);
    StoredRun done = **first;
    done.status = "done";
    done.verdict = "pass";
    ASSERT_TRUE((*store)->Finish(done).ok());
    auto second = (*store)->Claim(campaign, DirFor);  // then the controller dies
    ASSERT_TRUE(second->has_value());
  }
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok());
  auto found = (*store)->FindUnfinished("c.yaml", "abc");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::optional<int64_t>(campaign));
  EXPECT_EQ(*(*store)->FindUnfinished("c.yaml", "changed"), std::nullopt);
  EXPECT_EQ(*(*store)->RequeueRunning(campaign), 1);
  auto again = (*store)->Claim(campaign, DirFor);
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->seed, 2u);
  EXPECT_EQ((*again)->attempts, 2);
  EXPECT_EQ((*again)->dir, DirFor((*again)->id, 2));
  EXPECT_FALSE((*(*store)->Claim(campaign, DirFor)).has_value());
  ASSERT_TRUE((*store)->CloseCampaign(campaign).ok());
  EXPECT_EQ(*(*store)->FindUnfinished("c.yaml", "abc"), std::nullopt);
}

TEST(StoreTest, UnwritablePathIsNamed) {
  auto store = Store::Open("/nonexistent/dir/store.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("/nonexistent/dir/store.db"), std::string::npos);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A database that is not ours is refused and left exactly as it was; a
// file that is no database at all too, and a store from before the mark
// is taken as ours.
TEST(StoreTest, ADatabaseThatIsNotOursIsNotTouched) {
  std::string dir = test::UniqueTempDir();
  std::string foreign = dir + "/notes.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(foreign.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE notes (x)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  std::string before = Slurp(foreign);
  auto store = Store::Open(foreign);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("not a swapchaos store (application_id 0, tables notes)"),
            std::string::npos)
      << store.status();
  EXPECT_EQ(Slurp(foreign), before);
  EXPECT_FALSE(std::filesystem::exists(foreign + "-wal"));

  std::string text = dir + "/text.db";
  std::ofstream(text) << std::string(4096, 'x');
  store = Store::Open(text);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("not a database"), std::string::npos) << store.status();

  std::string old = dir + "/old.db";
  ASSERT_TRUE(Store::Open(old).ok());
  {  // as stores were before they carried the mark
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(old.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA application_id = 0", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_TRUE(Store::Open(old).ok());
  EXPECT_TRUE(Store::Open(dir + "/new.db").ok());
  EXPECT_TRUE(Store::Open(dir + "/new.db").ok());  // marked now
}

}  // namespace
}  // namespace swapchaos::controller
