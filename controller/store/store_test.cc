#include "controller/store/store.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "testing/postgres.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {

std::string DirFor(int64_t id, int attempt) {
  return "runs/c/" + std::to_string(id) + "." + std::to_string(attempt);
}

// The same cases on both backends: the embedded SQLite file and a
// database on the test PostgreSQL server.
class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ =
        GetParam() == "sqlite" ? test::UniqueTempDir() + "/store.db" : test::NewPostgresStoreUrl();
    ASSERT_FALSE(url_.empty());
  }
  std::unique_ptr<Store> Open() {
    auto s = Store::Open(url_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }
  StoredRun Done(StoredRun r, const std::string& verdict) {
    r.status = "done";
    r.verdict = verdict;
    return r;
  }
  std::string url_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param) { return param.param; });

TEST_P(StoreTest, CampaignRunsClaimedOnceAndFinished) {
  auto store = Open();
  ASSERT_TRUE(store);
  auto id = store->CreateCampaign("c", "c.yaml", "abc",
                                  {{"a.yaml", 1, ""}, {"a.yaml", 2, ""}, {"b.yaml", 1, "k"}});
  ASSERT_TRUE(id.ok()) << id.status();
  std::vector<int64_t> claimed;
  while (true) {
    auto r = store->Claim(*id, DirFor);
    ASSERT_TRUE(r.ok()) << r.status();
    if (!r->has_value()) break;
    EXPECT_EQ((*r)->status, "running");
    EXPECT_EQ((*r)->attempts, 1);
    EXPECT_EQ((*r)->owner, store->owner());
    claimed.push_back((*r)->id);
    StoredRun done = Done(**r, (*r)->seed == 2 ? "fail" : "pass");
    done.signature = (*r)->seed == 2 ? "OOM kill" : "";
    done.kernel_release = "6.1";
    done.wall_s = 12.5;
    ASSERT_TRUE(store->Finish(done).ok());
  }
  EXPECT_EQ(claimed.size(), 3u);
  auto campaigns = store->Campaigns();
  ASSERT_TRUE(campaigns.ok()) << campaigns.status();
  ASSERT_EQ(campaigns->size(), 1u);
  EXPECT_EQ((*campaigns)[0].total, 3);
  EXPECT_EQ((*campaigns)[0].done, 3);
  EXPECT_EQ((*campaigns)[0].failed, 1);
  EXPECT_EQ((*campaigns)[0].finished_at, "");
  EXPECT_TRUE(*store->CloseCampaign(*id));
  auto runs = store->Runs(*id);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ((*runs)[2].kernel, "k");
  EXPECT_DOUBLE_EQ((*runs)[2].wall_s, 12.5);
  auto failures = store->Failures();
  ASSERT_TRUE(failures.ok());
  ASSERT_EQ(failures->size(), 1u);
  EXPECT_EQ((*failures)[0].signature, "OOM kill");
  EXPECT_EQ((*failures)[0].count, 1);
  EXPECT_EQ((*failures)[0].kernels, std::vector<std::string>{"6.1"});
}

// A controller killed mid-run: the run it held is pending again after a
// restart, with a new directory on its next attempt; finished runs stay.
TEST_P(StoreTest, AbandonedRunsAreRequeuedAndSurviveReopening) {
  int64_t campaign;
  {
    auto store = Open();
    ASSERT_TRUE(store);
    auto id = store->CreateCampaign("c", "c.yaml", "abc", {{"a.yaml", 1, ""}, {"a.yaml", 2, ""}});
    ASSERT_TRUE(id.ok());
    campaign = *id;
    auto first = store->Claim(campaign, DirFor);
    ASSERT_TRUE(store->Finish(Done(**first, "pass")).ok());
    store->set_lease_seconds(-1);  // its lease has run out: as if it died long ago
    auto second = store->Claim(campaign, DirFor);
    ASSERT_TRUE(second->has_value());
  }
  auto store = Open();
  ASSERT_TRUE(store);
  auto found = store->FindUnfinished("c.yaml", "abc");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::optional<int64_t>(campaign));
  EXPECT_EQ(*store->FindUnfinished("c.yaml", "changed"), std::nullopt);
  EXPECT_EQ(*store->RequeueAbandoned(campaign), 1);
  auto again = store->Claim(campaign, DirFor);
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->seed, 2u);
  EXPECT_EQ((*again)->attempts, 2);
  EXPECT_EQ((*again)->dir, DirFor((*again)->id, 2));
  EXPECT_FALSE((*store->Claim(campaign, DirFor)).has_value());
  EXPECT_FALSE(*store->CloseCampaign(campaign));  // one still running
  ASSERT_TRUE(store->Finish(Done(**again, "pass")).ok());
  EXPECT_TRUE(*store->CloseCampaign(campaign));
  EXPECT_EQ(*store->FindUnfinished("c.yaml", "abc"), std::nullopt);
}

// Two workers on one queue: a live lease keeps a run from the other; once
// it runs out the other takes the run, and the first worker's late result
// is refused, so the run is recorded once, by its current holder.
TEST_P(StoreTest, ExpiredLeaseMovesTheRunAndTheLateResultIsRefused) {
  auto a = Open(), b = Open();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->owner(), b->owner());
  auto id = a->CreateCampaign("c", "c.yaml", "abc", {{"a.yaml", 1, ""}});
  ASSERT_TRUE(id.ok());
  auto held = a->Claim(0, DirFor);  // 0: any unfinished campaign
  ASSERT_TRUE(held.ok() && held->has_value()) << held.status();
  EXPECT_FALSE((*b->Claim(0, DirFor)).has_value());
  EXPECT_EQ(*b->RequeueAbandoned(*id), 0);  // a is alive and its lease holds
  EXPECT_EQ(*a->Renew(), 1);
  EXPECT_EQ(*b->Renew(), 0);

  a->set_lease_seconds(-1);  // a falls silent: its lease is in the past
  ASSERT_EQ(*a->Renew(), 1);
  auto taken = b->Claim(0, DirFor);
  ASSERT_TRUE(taken.ok() && taken->has_value());
  EXPECT_EQ((*taken)->id, (*held)->id);
  EXPECT_EQ((*taken)->attempts, 2);
  absl::Status late = a->Finish(Done(**held, "fail"));
  EXPECT_TRUE(absl::IsFailedPrecondition(late)) << late;
  EXPECT_NE(late.message().find("not recorded"), std::string::npos);
  ASSERT_TRUE(b->Finish(Done(**taken, "pass")).ok());
  auto run = a->Run((*held)->id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->verdict, "pass");
  EXPECT_EQ(run->attempts, 2);
  EXPECT_EQ(run->owner, b->owner());
  EXPECT_FALSE(b->Finish(Done(**taken, "fail")).ok());  // and never twice
}

// An interrupted run goes back to the queue at once, for anyone.
TEST_P(StoreTest, ReleasedRunIsPendingForAnyWorker) {
  auto a = Open(), b = Open();
  ASSERT_TRUE(a && b);
  auto id = a->CreateCampaign("c", "c.yaml", "abc", {{"a.yaml", 1, ""}});
  ASSERT_TRUE(id.ok());
  StoredRun r = **a->Claim(*id, DirFor);
  r.status = "pending";
  ASSERT_TRUE(a->Finish(r).ok());
  auto again = b->Claim(*id, DirFor);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->attempts, 2);
}

// A process of this host that held runs and died: a new controller takes
// them back at once, without waiting for their leases.
TEST_P(StoreTest, RunsOfADeadProcessOfThisHostAreRequeuedAtOnce) {
  auto store = Open();
  ASSERT_TRUE(store);
  auto id = store->CreateCampaign("c", "c.yaml", "abc", {{"a.yaml", 1, ""}, {"a.yaml", 2, ""}});
  ASSERT_TRUE(id.ok());
  pid_t child = fork();
  if (child == 0) {
    auto s = Store::Open(url_);
    _exit(s.ok() && (*s)->Claim(*id, DirFor).ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_EQ(status, 0);
  EXPECT_EQ(*store->RequeueAbandoned(*id), 1);
  auto runs = store->Runs(*id);
  EXPECT_EQ((*runs)[0].status, "pending");
  EXPECT_EQ((*runs)[0].attempts, 1);
}

// Many workers claiming at once each get different runs, and every run is
// claimed exactly once.
TEST_P(StoreTest, ConcurrentClaimersNeverShareARun) {
  auto creator = Open();
  ASSERT_TRUE(creator);
  std::vector<Store::Planned> planned;
  for (uint64_t seed = 1; seed <= 200; ++seed) planned.push_back({"a.yaml", seed, ""});
  auto id = creator->CreateCampaign("c", "c.yaml", "abc", planned);
  ASSERT_TRUE(id.ok());
  std::mutex mu;
  std::vector<int64_t> got;
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&] {
      auto s = Store::Open(url_);
      ASSERT_TRUE(s.ok()) << s.status();
      while (true) {
        auto r = (*s)->Claim(*id, DirFor);
        ASSERT_TRUE(r.ok()) << r.status();
        if (!r->has_value()) return;
        ASSERT_TRUE((*s)->Finish(Done(**r, "pass")).ok());
        std::lock_guard<std::mutex> lock(mu);
        got.push_back((*r)->id);
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(got.size(), 200u);
  EXPECT_EQ(std::set<int64_t>(got.begin(), got.end()).size(), 200u);
  EXPECT_TRUE(*creator->CloseCampaign(*id));
}

// Two processes opening a new store at the same moment: it is created once.
TEST_P(StoreTest, OpenedTwiceAtOnceMigratesOnce) {
  std::vector<std::thread> openers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    openers.emplace_back([&] {
      auto s = Store::Open(url_);
      EXPECT_TRUE(s.ok()) << s.status();
      ok += s.ok();
    });
  }
  for (auto& t : openers) t.join();
  EXPECT_EQ(ok, 4);
}

// A run's result files travel with its record: stored with the result in
// one transaction, replaced when the run is done again.
TEST_P(StoreTest, ResultFilesAreStoredWithTheResult) {
  auto store = Open();
  ASSERT_TRUE(store);
  auto id = store->CreateCampaign("c", "c.yaml", "abc", {{"a.yaml", 1, ""}});
  ASSERT_TRUE(id.ok());
  StoredRun r = **store->Claim(*id, DirFor);
  r.status = "pending";  // interrupted: no files
  ASSERT_TRUE(store->Finish(r, {{"verdict.json", "{}"}}).ok());
  EXPECT_TRUE(store->RunFiles(r.id)->empty());
  r = **store->Claim(*id, DirFor);
  StoredRun done = Done(r, "fail");
  done.tool = "swapchaos 0.9.0 (commit abc)";
  done.kernel_sha256 = "1a7a";
  std::string html = "<html>\u00e9t\u00e9 " + std::string(100000, 'x') + "</html>";
  ASSERT_TRUE(
      store->Finish(done, {{"verdict.json", "{\"verdict\":\"fail\"}"}, {"report.html", html}})
          .ok());
  auto files = store->RunFiles(r.id);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)["report.html"], html);
  auto stored = store->Run(r.id);
  EXPECT_EQ(stored->tool, "swapchaos 0.9.0 (commit abc)");
  EXPECT_EQ(stored->kernel_sha256, "1a7a");
  EXPECT_FALSE(stored->host.empty());
}

// Runs made on another host's store come into this one whole, once.
TEST_P(StoreTest, ImportTakesAnotherStoresCampaignsOnce) {
  std::string other_path = test::UniqueTempDir() + "/other-host.db";
  auto other = Store::Open(other_path);
  ASSERT_TRUE(other.ok());
  auto id = (*other)->CreateCampaign("nightly", "n.yaml", "abc",
                                     {{"a.yaml", 1, ""}, {"a.yaml", 2, ""}, {"a.yaml", 3, ""}});
  ASSERT_TRUE(id.ok());
  StoredRun first = **(*other)->Claim(*id, DirFor);
  ASSERT_TRUE((*other)->Finish(Done(first, "fail"), {{"verdict.json", "{}"}}).ok());
  ASSERT_TRUE((*other)->Claim(*id, DirFor)->has_value());  // in flight there

  auto store = Open();
  ASSERT_TRUE(store);
  auto imported = store->Import(**other);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->campaigns, 1);
  EXPECT_EQ(imported->runs, 3);
  auto campaigns = store->Campaigns();
  ASSERT_EQ(campaigns->size(), 1u);
  EXPECT_EQ((*campaigns)[0].name, "nightly");
  auto runs = store->Runs((*campaigns)[0].id);
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[0].verdict, "fail");
  EXPECT_EQ((*runs)[0].dir, first.dir);
  EXPECT_EQ((*store->RunFiles((*runs)[0].id))["verdict.json"], "{}");
  EXPECT_EQ((*runs)[1].status, "pending");  // its worker was the other host's
  EXPECT_EQ((*runs)[2].status, "pending");
  auto again = store->Import(**other);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->campaigns, 0);
  EXPECT_EQ(again->skipped, 1);
  // And the queue goes on here.
  auto next = store->Claim(0, DirFor);
  ASSERT_TRUE(next.ok() && next->has_value()) << next.status();
  EXPECT_EQ((*next)->seed, 2u);
}

TEST(StoreUrlTest, PasswordsAndBadUrlsAreRefusedBeforeConnecting) {
  for (const char* url : {"postgresql://me:secret@db.example/swapchaos",
                          "postgres://db.example/swapchaos?password=secret"}) {
    auto s = Store::Open(url);
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(s.status())) << s.status();
    EXPECT_NE(s.status().message().find("~/.pgpass"), std::string::npos);
    EXPECT_EQ(s.status().message().find("secret"), std::string::npos);
  }
  auto bad = Store::Open("postgresql://host/db?no_such_option=1");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  auto other = Store::Open("mysql://host/db");
  ASSERT_FALSE(other.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(other.status())) << other.status();
}

TEST(StoreUrlTest, UnreachableServerIsUnavailableAndNamed) {
  std::string dir = test::UniqueTempDir();  // no server listens here
  auto s = Store::Open("postgresql:///swapchaos?host=" + dir + "&connect_timeout=2");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsUnavailable(s.status())) << s.status();
  EXPECT_NE(s.status().message().find("postgresql:///swapchaos"), std::string::npos) << s.status();
}

TEST(StoreUrlTest, APostgresDatabaseThatIsNotOursIsNotTouched) {
  std::string url = test::NewPostgresStoreUrl();
  ASSERT_FALSE(url.empty());
  std::string psql = "psql -qAt '" + url + "' -c ";
  test::ShellOutput(psql + "'CREATE TABLE notes (x int)'");
  auto s = Store::Open(url);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("not a swapchaos store (tables notes)"), std::string::npos)
      << s.status();
  EXPECT_EQ(test::ShellOutput(psql + "'\\dt'").find("runs"), std::string::npos);
}

TEST(SqliteStoreTest, UnwritablePathIsNamed) {
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
TEST(SqliteStoreTest, ADatabaseThatIsNotOursIsNotTouched) {
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

// A store written before leases (schema 1, no version table) is brought up
// to date on open, its runs kept and claimable.
TEST(SqliteStoreTest, AStoreFromBeforeLeasesIsMigrated) {
  std::string path = test::UniqueTempDir() + "/v1.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const char* v1 = R"sql(
CREATE TABLE campaigns (id INTEGER PRIMARY KEY, name TEXT NOT NULL, file TEXT NOT NULL,
  file_sha256 TEXT NOT NULL, created_at TEXT NOT NULL, finished_at TEXT);
CREATE TABLE runs (id INTEGER PRIMARY KEY, campaign INTEGER NOT NULL REFERENCES campaigns(id),
  scenario TEXT NOT NULL, seed INTEGER NOT NULL, kernel TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending', verdict TEXT NOT NULL DEFAULT '',
  signature TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '', dir TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0, wall_s REAL NOT NULL DEFAULT 0,
  kernel_release TEXT NOT NULL DEFAULT '', finished_at TEXT NOT NULL DEFAULT '',
  UNIQUE (campaign, scenario, seed, kernel));
INSERT INTO campaigns VALUES (1, 'old', 'old.yaml', 'abc', '2026-01-01T00:00:00Z', NULL);
INSERT INTO runs (campaign, scenario, seed, kernel, status, verdict) VALUES
  (1, 'a.yaml', 1, '', 'done', 'pass'), (1, 'a.yaml', 2, '', 'pending', '');
)sql";
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  auto runs = (*store)->Runs(1);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].verdict, "pass");
  auto next = (*store)->Claim(1, DirFor);
  ASSERT_TRUE(next.ok() && next->has_value()) << next.status();
  EXPECT_EQ((*next)->seed, 2u);
}

}  // namespace
}  // namespace swapchaos::controller
