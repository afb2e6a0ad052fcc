#include "controller/store/store.h"

#include <sqlite3.h>

#include <ctime>
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace swapchaos::controller {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS campaigns (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  file TEXT NOT NULL,
  file_sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  campaign INTEGER NOT NULL REFERENCES campaigns(id),
  scenario TEXT NOT NULL,
  seed INTEGER NOT NULL,
  kernel TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  verdict TEXT NOT NULL DEFAULT '',
  signature TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  dir TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  wall_s REAL NOT NULL DEFAULT 0,
  kernel_release TEXT NOT NULL DEFAULT '',
  finished_at TEXT NOT NULL DEFAULT '',
  UNIQUE (campaign, scenario, seed, kernel)
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (campaign, status);
)sql";

// Marks the file as a swapchaos store ("SWCH" in the SQLite header).
constexpr int64_t kApplicationId = 0x53574348;
constexpr char kMark[] = "PRAGMA application_id = 1398227784";

std::string Now() {
  time_t t = time(nullptr);
  tm utc;
  gmtime_r(&t, &utc);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

// One prepared statement; binds by position from 1, steps, finalises.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) s_ = nullptr;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& Bind(const std::string& v) {
    sqlite3_bind_text(s_, ++n_, v.c_str(), -1, SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int64_t v) {
    sqlite3_bind_int64(s_, ++n_, v);
    return *this;
  }
  Stmt& Bind(double v) {
    sqlite3_bind_double(s_, ++n_, v);
    return *this;
  }
  // SQLITE_ROW or SQLITE_DONE; anything else is an error.
  absl::StatusOr<bool> Step() {
    if (s_ == nullptr) return Error();
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error();
  }
  std::string Text(int col) {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  int64_t Int(int col) { return sqlite3_column_int64(s_, col); }
  double Real(int col) { return sqlite3_column_double(s_, col); }

 private:
  absl::Status Error() {
    return absl::UnavailableError(absl::StrCat("store: ", sqlite3_errmsg(db_)));
  }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int n_ = 0;
};

constexpr char kRunColumns[] =
    "id, campaign, scenario, seed, kernel, status, verdict, signature, error, dir, attempts, "
    "wall_s, kernel_release, finished_at";

StoredRun ReadRun(Stmt& q) {
  StoredRun r;
  r.id = q.Int(0);
  r.campaign = q.Int(1);
  r.scenario = q.Text(2);
  r.seed = static_cast<uint64_t>(q.Int(3));
  r.kernel = q.Text(4);
  r.status = q.Text(5);
  r.verdict = q.Text(6);
  r.signature = q.Text(7);
  r.error = q.Text(8);
  r.dir = q.Text(9);
  r.attempts = static_cast<int>(q.Int(10));
  r.wall_s = q.Real(11);
  r.kernel_release = q.Text(12);
  r.finished_at = q.Text(13);
  return r;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::InvalidArgumentError(absl::StrCat("store ", path, ": ", why));
  }
  std::unique_ptr<Store> s(new Store(db));
  // Another controller's transaction may hold the lock for a moment.
  sqlite3_busy_timeout(db, 10000);
  // Whose database this is, before anything is written to it: an
  // unrelated file once got our tables and WAL mode from a read-only
  // command.
  auto whose = s->Owner();
  if (!whose.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("store ", path, ": ", whose.status().message()));
  }
  if (!whose->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "store ", path, " is an SQLite database but not a swapchaos store (", *whose,
        "); not touching it"));
  }
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                          "PRAGMA foreign_keys=ON", kSchema, kMark}) {
    if (absl::Status st = s->Exec(sql); !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("store ", path, ": ", st.message()));
    }
  }
  return s;
}

Store::~Store() { sqlite3_close(db_); }

absl::StatusOr<std::string> Store::Owner() {
  Stmt id(db_, "PRAGMA application_id");
  auto row = id.Step();
  if (!row.ok()) return row.status();  // "file is not a database", say
  if (*row && id.Int(0) == kApplicationId) return std::string();
  Stmt tables(db_, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  std::vector<std::string> names;
  for (auto more = tables.Step(); more.ok() && *more; more = tables.Step()) {
    names.push_back(tables.Text(0));
  }
  // Empty: a new store. Just ours: a store from before the mark.
  if (names.empty() || names == std::vector<std::string>{"campaigns", "runs"}) return std::string();
  return absl::StrCat("application_id ", *row ? id.Int(0) : 0, ", tables ",
                      absl::StrJoin(names, ", "));
}

absl::Status Store::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return absl::UnavailableError(absl::StrCat("store: ", why));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int64_t>> Store::FindUnfinished(const std::string& file,
                                                             const std::string& sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_,
         "SELECT id FROM campaigns WHERE file = ? AND file_sha256 = ? AND finished_at IS NULL "
         "ORDER BY id DESC LIMIT 1");
  q.Bind(file).Bind(sha256);
  auto row = q.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<int64_t>();
  return std::optional<int64_t>(q.Int(0));
}

absl::StatusOr<int64_t> Store::CreateCampaign(const std::string& name, const std::string& file,
                                              const std::string& sha256,
                                              const std::vector<Planned>& runs) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  auto fail = [&](absl::Status s) {
    Exec("ROLLBACK").IgnoreError();
    return s;
  };
  Stmt c(db_, "INSERT INTO campaigns (name, file, file_sha256, created_at) VALUES (?, ?, ?, ?)");
  c.Bind(name).Bind(file).Bind(sha256).Bind(Now());
  if (auto st = c.Step(); !st.ok()) return fail(st.status());
  int64_t id = sqlite3_last_insert_rowid(db_);
  for (const Planned& p : runs) {
    Stmt r(db_, "INSERT INTO runs (campaign, scenario, seed, kernel) VALUES (?, ?, ?, ?)");
    r.Bind(id).Bind(p.scenario).Bind(static_cast<int64_t>(p.seed)).Bind(p.kernel);
    if (auto st = r.Step(); !st.ok()) return fail(st.status());
  }
  if (absl::Status s = Exec("COMMIT"); !s.ok()) return fail(s);
  return id;
}

absl::StatusOr<int> Store::RequeueRunning(int64_t campaign) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "UPDATE runs SET status = 'pending' WHERE campaign = ? AND status = 'running'");
  q.Bind(campaign);
  if (auto st = q.Step(); !st.ok()) return st.status();
  return sqlite3_changes(db_);
}

absl::StatusOr<std::optional<StoredRun>> Store::Claim(
    int64_t campaign, const std::function<std::string(int64_t, int)>& dir_for) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  Stmt q(db_, absl::StrCat("SELECT ", kRunColumns,
                           " FROM runs WHERE campaign = ? AND status = 'pending' "
                           "ORDER BY id LIMIT 1")
                  .c_str());
  q.Bind(campaign);
  auto row = q.Step();
  if (!row.ok() || !*row) {
    Exec("ROLLBACK").IgnoreError();
    if (!row.ok()) return row.status();
    return std::optional<StoredRun>();
  }
  StoredRun r = ReadRun(q);
  r.status = "running";
  r.attempts += 1;
  r.dir = dir_for(r.id, r.attempts);
  Stmt u(db_, "UPDATE runs SET status = 'running', attempts = ?, dir = ? WHERE id = ?");
  u.Bind(static_cast<int64_t>(r.attempts)).Bind(r.dir).Bind(r.id);
  if (auto st = u.Step(); !st.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return st.status();
  }
  if (absl::Status s = Exec("COMMIT"); !s.ok()) return s;
  return std::optional<StoredRun>(r);
}

absl::Status Store::Finish(const StoredRun& r) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt u(db_,
         "UPDATE runs SET status = ?, verdict = ?, signature = ?, error = ?, wall_s = ?, "
         "kernel_release = ?, finished_at = ? WHERE id = ?");
  u.Bind(r.status).Bind(r.verdict).Bind(r.signature).Bind(r.error).Bind(r.wall_s);
  u.Bind(r.kernel_release).Bind(Now()).Bind(r.id);
  return u.Step().status();
}

absl::Status Store::CloseCampaign(int64_t campaign) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt u(db_, "UPDATE campaigns SET finished_at = ? WHERE id = ?");
  u.Bind(Now()).Bind(campaign);
  return u.Step().status();
}

absl::StatusOr<std::vector<StoredRun>> Store::Runs(int64_t campaign) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, absl::StrCat("SELECT ", kRunColumns, " FROM runs WHERE campaign = ? ORDER BY id")
                  .c_str());
  q.Bind(campaign);
  std::vector<StoredRun> out;
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(ReadRun(q));
  }
}

absl::StatusOr<StoredRun> Store::Run(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, absl::StrCat("SELECT ", kRunColumns, " FROM runs WHERE id = ?").c_str());
  q.Bind(id);
  auto row = q.Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat("no run ", id, " in the store"));
  return ReadRun(q);
}

absl::StatusOr<std::vector<StoredCampaign>> Store::Campaigns() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_,
         "SELECT c.id, c.name, c.file, c.file_sha256, c.created_at, COUNT(r.id), "
         "SUM(r.status = 'done'), SUM(r.verdict = 'fail'), SUM(r.status = 'error'), "
         "SUM(r.status = 'running'), c.finished_at FROM campaigns c "
         "LEFT JOIN runs r ON r.campaign = c.id "
         "GROUP BY c.id ORDER BY c.id");
  std::vector<StoredCampaign> out;
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back({q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), static_cast<int>(q.Int(5)),
                   static_cast<int>(q.Int(6)), static_cast<int>(q.Int(7)),
                   static_cast<int>(q.Int(8)), static_cast<int>(q.Int(9)), q.Text(10)});
  }
}

absl::StatusOr<std::vector<FailureSummary>> Store::Failures() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_,
         "SELECT signature, finished_at, kernel_release, dir FROM runs "
         "WHERE status = 'done' AND verdict = 'fail' ORDER BY finished_at, id");
  std::map<std::string, FailureSummary> by;
  std::vector<std::string> order;
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::string sig = q.Text(0);
    auto [it, fresh] = by.try_emplace(sig);
    FailureSummary& f = it->second;
    if (fresh) {
      order.push_back(sig);
      f.signature = sig;
      f.first_seen = q.Text(1);
    }
    ++f.count;
    f.last_seen = q.Text(1);
    std::string kernel = q.Text(2);
    if (std::find(f.kernels.begin(), f.kernels.end(), kernel) == f.kernels.end()) {
      f.kernels.push_back(kernel);
    }
    if (f.example_dirs.size() < 3) f.example_dirs.push_back(q.Text(3));
  }
  std::vector<FailureSummary> out;
  for (const std::string& sig : order) out.push_back(by[sig]);
  std::stable_sort(out.begin(), out.end(),
                   [](const FailureSummary& a, const FailureSummary& b) { return a.count > b.count; });
  return out;
}

}  // namespace swapchaos::controller
