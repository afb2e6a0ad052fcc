#include "controller/store/store.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "controller/store/db.h"

namespace swapchaos::controller {
namespace {

// Schema versions, in order; a store is brought to the last on open. Never
// edit one that has landed: add the next.
const char* const kMigrations[] = {
    // 1: campaigns and their runs.
    R"sql(
CREATE TABLE IF NOT EXISTS campaigns (
  id {id},
  name TEXT NOT NULL,
  file TEXT NOT NULL,
  file_sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE TABLE IF NOT EXISTS runs (
  id {id},
  campaign BIGINT NOT NULL REFERENCES campaigns(id),
  scenario TEXT NOT NULL,
  seed BIGINT NOT NULL,
  kernel TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  verdict TEXT NOT NULL DEFAULT '',
  signature TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  dir TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  wall_s {real} NOT NULL DEFAULT 0,
  kernel_release TEXT NOT NULL DEFAULT '',
  finished_at TEXT NOT NULL DEFAULT '',
  UNIQUE (campaign, scenario, seed, kernel)
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (campaign, status);
)sql",
    // 2: leases, so workers on many hosts share the queue; the indexes a
    // claim walks (200 claimers scanning every run fell to 169 claims/s).
    R"sql(
ALTER TABLE runs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX runs_pending_by_campaign ON runs (campaign, id) WHERE status = 'pending';
CREATE INDEX runs_pending ON runs (id) WHERE status = 'pending';
CREATE INDEX runs_leased ON runs (lease_until) WHERE status = 'running';
)sql",
    // 3: results that travel: where and with what a run ran, and its
    // result files, so any machine that reaches the store can read,
    // report and replay it.
    R"sql(
ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN tool TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN kernel_sha256 TEXT NOT NULL DEFAULT '';
CREATE TABLE run_files (
  run BIGINT NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  content TEXT NOT NULL,
  PRIMARY KEY (run, name)
);
)sql",
};
constexpr int kSchemaVersion = std::size(kMigrations);

std::string Now() {
  time_t t = time(nullptr);
  tm utc;
  gmtime_r(&t, &utc);
  char buf[32];
  strftime(buf, sizeof buf, kStoreTimeFormat, &utc);
  return buf;
}

int64_t ToInt(const std::string& s) {
  int64_t v = 0;
  return absl::SimpleAtoi(s, &v) ? v : 0;
}

std::string Hostname() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

constexpr char kRunColumns[] =
    "id, campaign, scenario, seed, kernel, status, verdict, signature, error, dir, attempts, "
    "wall_s, kernel_release, finished_at, lease_owner, host, tool, kernel_sha256";

StoredRun ReadRun(const Db::Row& q) {
  StoredRun r;
  r.id = ToInt(q[0]);
  r.campaign = ToInt(q[1]);
  r.scenario = q[2];
  r.seed = static_cast<uint64_t>(ToInt(q[3]));
  r.kernel = q[4];
  r.status = q[5];
  r.verdict = q[6];
  r.signature = q[7];
  r.error = q[8];
  r.dir = q[9];
  r.attempts = static_cast<int>(ToInt(q[10]));
  if (!absl::SimpleAtod(q[11], &r.wall_s)) r.wall_s = 0;
  r.kernel_release = q[12];
  r.finished_at = q[13];
  r.owner = q[14];
  r.host = q[15];
  r.tool = q[16];
  r.kernel_sha256 = q[17];
  return r;
}

// A lease holder that was a process of this host and is gone.
bool DeadHere(const std::string& owner, const std::string& host) {
  std::vector<std::string> parts = absl::StrSplit(owner, ':');
  int pid = 0;
  if (parts.size() != 3 || parts[0] != host || !absl::SimpleAtoi(parts[1], &pid) || pid <= 0) {
    return false;
  }
  return kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

Store::Store(std::unique_ptr<Db> db) : db_(std::move(db)) {
  std::random_device rd;
  owner_ = absl::StrFormat("%s:%d:%08x", Hostname(), getpid(), rd());
}

Store::~Store() = default;

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& url) {
  auto db = OpenDb(url);
  if (!db.ok()) return db.status();
  std::unique_ptr<Store> s(new Store(*std::move(db)));
  if (absl::Status st = s->Migrate(); !st.ok()) return st;
  return s;
}

absl::StatusOr<std::unique_ptr<Store>> Store::OpenNamed(const std::string& url, bool create) {
  if (!IsPostgresUrl(url)) {
    std::filesystem::path path = SqlitePath(url);
    std::error_code ec;
    if (create) {
      std::filesystem::create_directories(path.parent_path(), ec);
    } else if (!std::filesystem::exists(path, ec)) {
      if (ec) return absl::InvalidArgumentError("store " + url + ": " + ec.message());
      return absl::InvalidArgumentError("no store at " + url + " (no campaign ran yet?)");
    }
  }
  return Open(url);
}

absl::Status Store::Transaction(const std::function<absl::Status()>& body) {
  if (absl::Status s = db_->Exec(db_->dialect().begin); !s.ok()) return s;
  absl::Status s = body();
  if (s.ok()) s = db_->Exec("COMMIT");
  if (!s.ok()) db_->Exec("ROLLBACK").IgnoreError();
  return s;
}

absl::Status Store::Migrate() {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction([&]() -> absl::Status {
    if (absl::Status s = db_->Exec(db_->Sql("{lock}")); !s.ok()) return s;
    if (absl::Status s =
            db_->Exec("CREATE TABLE IF NOT EXISTS swapchaos_schema (version INTEGER NOT NULL)");
        !s.ok()) {
      return s;
    }
    auto v = db_->Query("SELECT COALESCE(MAX(version), 0) FROM swapchaos_schema", {});
    if (!v.ok()) return v.status();
    int version = static_cast<int>(ToInt((*v)[0][0]));
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat("store is at schema version ", version, ", this swapchaos knows up to ",
                       kSchemaVersion, ": a newer swapchaos made it; use that one"));
    }
    if (version == kSchemaVersion) return absl::OkStatus();
    for (int i = version; i < kSchemaVersion; ++i) {
      if (absl::Status s = db_->Exec(db_->Sql(kMigrations[i])); !s.ok()) {
        return absl::UnavailableError(
            absl::StrCat("migrating the store to schema version ", i + 1, ": ", s.message()));
      }
    }
    if (absl::Status s = db_->Exec("DELETE FROM swapchaos_schema"); !s.ok()) return s;
    return db_
        ->Query("INSERT INTO swapchaos_schema (version) VALUES (?)",
                {static_cast<int64_t>(kSchemaVersion)})
        .status();
  });
}

absl::StatusOr<std::optional<int64_t>> Store::FindUnfinished(const std::string& file,
                                                             const std::string& sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "SELECT id FROM campaigns WHERE file = ? AND file_sha256 = ? AND finished_at IS NULL "
      "ORDER BY id DESC LIMIT 1",
      {file, sha256});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(ToInt((*rows)[0][0]));
}

absl::StatusOr<int64_t> Store::CreateCampaign(const std::string& name, const std::string& file,
                                              const std::string& sha256,
                                              const std::vector<Planned>& runs) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t id = 0;
  absl::Status s = Transaction([&]() -> absl::Status {
    auto c = db_->Query(
        "INSERT INTO campaigns (name, file, file_sha256, created_at) VALUES (?, ?, ?, ?) "
        "RETURNING id",
        {name, file, sha256, Now()});
    if (!c.ok()) return c.status();
    id = ToInt((*c)[0][0]);
    // Many rows a statement: one round trip per run made a 10,000-run
    // campaign slow to store over a network.
    constexpr size_t kBatch = 500;
    for (size_t from = 0; from < runs.size(); from += kBatch) {
      std::string sql = "INSERT INTO runs (campaign, scenario, seed, kernel) VALUES ";
      std::vector<Db::Param> params;
      for (size_t i = from; i < std::min(runs.size(), from + kBatch); ++i) {
        absl::StrAppend(&sql, i == from ? "" : ", ", "(?, ?, ?, ?)");
        params.insert(params.end(),
                      {id, runs[i].scenario, static_cast<int64_t>(runs[i].seed), runs[i].kernel});
      }
      if (auto r = db_->Query(sql, params); !r.ok()) return r.status();
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return id;
}

absl::StatusOr<int> Store::RequeueAbandoned(int64_t campaign) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(db_->Sql("SELECT id, lease_owner, lease_until, {now} FROM runs "
                                  "WHERE campaign = ? AND status = 'running'"),
                         {campaign});
  if (!rows.ok()) return rows.status();
  std::string host = Hostname();
  int requeued = 0;
  for (const Db::Row& r : *rows) {
    bool expired = ToInt(r[2]) < ToInt(r[3]);
    if (!expired && !DeadHere(r[1], host)) continue;
    auto u = db_->Query(
        "UPDATE runs SET status = 'pending', lease_owner = '', lease_until = 0 "
        "WHERE id = ? AND status = 'running' AND lease_owner = ? RETURNING id",
        {ToInt(r[0]), r[1]});
    if (!u.ok()) return u.status();
    requeued += static_cast<int>(u->size());
  }
  return requeued;
}

absl::StatusOr<std::optional<StoredRun>> Store::Claim(
    int64_t campaign, const std::function<std::string(int64_t, int)>& dir_for) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<StoredRun> claimed;
  // A pending run first, else one whose lease ran out; each query walks its
  // own partial index, and one campaign's query names it (an "any
  // campaign" OR made every claim scan the table).
  std::string scope = campaign != 0 ? "campaign = ? AND " : "";
  std::vector<Db::Param> params;
  if (campaign != 0) params.push_back(campaign);
  const std::string open = " AND campaign IN (SELECT id FROM campaigns WHERE finished_at IS NULL)";
  const std::string queries[] = {
      absl::StrCat("SELECT ", kRunColumns, " FROM runs WHERE ", scope, "status = 'pending'", open,
                   " ORDER BY id LIMIT 1{skip_locked}"),
      absl::StrCat("SELECT ", kRunColumns, " FROM runs WHERE ", scope,
                   "status = 'running' AND lease_until < {now}", open,
                   " ORDER BY lease_until LIMIT 1{skip_locked}")};
  absl::Status s = Transaction([&]() -> absl::Status {
    std::vector<Db::Row> rows;
    for (const std::string& q : queries) {
      auto found = db_->Query(db_->Sql(q), params);
      if (!found.ok()) return found.status();
      rows = *std::move(found);
      if (!rows.empty()) break;
    }
    if (rows.empty()) return absl::OkStatus();
    StoredRun r = ReadRun(rows[0]);
    r.status = "running";
    r.attempts += 1;
    r.dir = dir_for(r.id, r.attempts);
    r.owner = owner_;
    auto u = db_->Query(
        db_->Sql("UPDATE runs SET status = 'running', attempts = ?, dir = ?, lease_owner = ?, "
                 "lease_until = {now} + ? WHERE id = ?"),
        {static_cast<int64_t>(r.attempts), r.dir, owner_, static_cast<int64_t>(lease_s_), r.id});
    if (!u.ok()) return u.status();
    claimed = std::move(r);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return claimed;
}

absl::StatusOr<int> Store::HeldElsewhere(int64_t campaign) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "SELECT COUNT(*) FROM runs WHERE (? = 0 OR campaign = ?) AND status = 'running' "
      "AND lease_owner <> ? AND campaign IN (SELECT id FROM campaigns WHERE finished_at IS NULL)",
      {campaign, campaign, owner_});
  if (!rows.ok()) return rows.status();
  return static_cast<int>(ToInt((*rows)[0][0]));
}

absl::StatusOr<int> Store::Renew() {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(db_->Sql("UPDATE runs SET lease_until = {now} + ? "
                                  "WHERE status = 'running' AND lease_owner = ? RETURNING id"),
                         {static_cast<int64_t>(lease_s_), owner_});
  if (!rows.ok()) return rows.status();
  return static_cast<int>(rows->size());
}

absl::Status Store::Finish(const StoredRun& r, const std::map<std::string, std::string>& files) {
  std::lock_guard<std::mutex> lock(mu_);
  bool released = r.status == "pending";
  bool lost = false;
  // The result and its files in one transaction: recorded whole, once.
  absl::Status s = Transaction([&]() -> absl::Status {
    auto rows = db_->Query(
        "UPDATE runs SET status = ?, verdict = ?, signature = ?, error = ?, wall_s = ?, "
        "kernel_release = ?, finished_at = ?, lease_owner = ?, lease_until = 0, host = ?, "
        "tool = ?, kernel_sha256 = ? WHERE id = ? AND status = 'running' AND lease_owner = ? "
        "RETURNING id",
        {r.status, r.verdict, r.signature, r.error, r.wall_s, r.kernel_release,
         released ? std::string() : Now(), released ? std::string() : owner_,
         released ? std::string() : Hostname(), r.tool, r.kernel_sha256, r.id, owner_});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) {
      lost = true;
      return absl::OkStatus();
    }
    // An earlier attempt's files (a run released, then run again) go.
    if (auto d = db_->Query("DELETE FROM run_files WHERE run = ?", {r.id}); !d.ok()) {
      return d.status();
    }
    if (released) return absl::OkStatus();
    for (const auto& [name, content] : files) {
      auto f = db_->Query("INSERT INTO run_files (run, name, content) VALUES (?, ?, ?)",
                          {r.id, name, content});
      if (!f.ok()) return f.status();
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (lost) {
    return absl::FailedPreconditionError(absl::StrCat(
        "run ", r.id, ": this worker's lease on it ran out and another worker claimed it; ",
        "the result here is not recorded (the run is recorded once, by its current holder)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, std::string>> Store::RunFiles(int64_t run) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query("SELECT name, content FROM run_files WHERE run = ? ORDER BY name", {run});
  if (!rows.ok()) return rows.status();
  std::map<std::string, std::string> out;
  for (const Db::Row& row : *rows) out[row[0]] = row[1];
  return out;
}

absl::StatusOr<bool> Store::CloseCampaign(int64_t campaign) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "UPDATE campaigns SET finished_at = ? WHERE id = ? AND finished_at IS NULL AND NOT EXISTS "
      "(SELECT 1 FROM runs WHERE campaign = ? AND status IN ('pending', 'running')) RETURNING id",
      {Now(), campaign, campaign});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

absl::StatusOr<Store::Imported> Store::Import(Store& source) {
  auto campaigns = source.Campaigns();
  if (!campaigns.ok()) return campaigns.status();
  Imported done;
  for (const StoredCampaign& c : *campaigns) {
    auto runs = source.Runs(c.id);
    if (!runs.ok()) return runs.status();
    std::vector<std::map<std::string, std::string>> files;
    for (const StoredRun& r : *runs) {
      auto f = source.RunFiles(r.id);
      if (!f.ok()) return f.status();
      files.push_back(*std::move(f));
    }
    if (absl::Status s = ImportCampaign(c, *runs, files, done); !s.ok()) return s;
  }
  return done;
}

absl::Status Store::ImportCampaign(const StoredCampaign& c, const std::vector<StoredRun>& runs,
                                   const std::vector<std::map<std::string, std::string>>& files,
                                   Imported& done) {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction([&]() -> absl::Status {
    auto seen =
        db_->Query("SELECT id FROM campaigns WHERE name = ? AND file_sha256 = ? AND created_at = ?",
                   {c.name, c.file_sha256, c.created_at});
    if (!seen.ok()) return seen.status();
    if (!seen->empty()) {
      ++done.skipped;
      return absl::OkStatus();
    }
    auto id = db_->Query(
        "INSERT INTO campaigns (name, file, file_sha256, created_at, finished_at) "
        "VALUES (?, ?, ?, ?, NULLIF(?, '')) RETURNING id",
        {c.name, c.file, c.file_sha256, c.created_at, c.finished_at});
    if (!id.ok()) return id.status();
    int64_t campaign = ToInt((*id)[0][0]);
    for (size_t i = 0; i < runs.size(); ++i) {
      StoredRun r = runs[i];
      if (r.status == "running") r.status = "pending";  // its worker is not ours
      auto row = db_->Query(
          "INSERT INTO runs (campaign, scenario, seed, kernel, status, verdict, signature, "
          "error, dir, attempts, wall_s, kernel_release, finished_at, lease_owner, host, tool, "
          "kernel_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "RETURNING id",
          {campaign, r.scenario, static_cast<int64_t>(r.seed), r.kernel, r.status, r.verdict,
           r.signature, r.error, r.dir, static_cast<int64_t>(r.attempts), r.wall_s,
           r.kernel_release, r.finished_at, r.status == "pending" ? std::string() : r.owner, r.host,
           r.tool, r.kernel_sha256});
      if (!row.ok()) return row.status();
      if (i < files.size()) {
        for (const auto& [name, content] : files[i]) {
          auto f = db_->Query("INSERT INTO run_files (run, name, content) VALUES (?, ?, ?)",
                              {ToInt((*row)[0][0]), name, content});
          if (!f.ok()) return f.status();
        }
      }
      ++done.runs;
    }
    ++done.campaigns;
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<StoredRun>> Store::Runs(int64_t campaign) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows =
      db_->Query(absl::StrCat("SELECT ", kRunColumns, " FROM runs WHERE campaign = ? ORDER BY id"),
                 {campaign});
  if (!rows.ok()) return rows.status();
  std::vector<StoredRun> out;
  for (const Db::Row& r : *rows) out.push_back(ReadRun(r));
  return out;
}

absl::StatusOr<StoredRun> Store::Run(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(absl::StrCat("SELECT ", kRunColumns, " FROM runs WHERE id = ?"), {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::NotFoundError(absl::StrCat("no run ", id, " in the store"));
  return ReadRun((*rows)[0]);
}

absl::StatusOr<std::vector<StoredCampaign>> Store::Campaigns() {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "SELECT c.id, c.name, c.file, c.file_sha256, c.created_at, COUNT(r.id), "
      "COUNT(r.id) FILTER (WHERE r.status = 'done'), "
      "COUNT(r.id) FILTER (WHERE r.verdict = 'fail'), "
      "COUNT(r.id) FILTER (WHERE r.status = 'error'), "
      "COUNT(r.id) FILTER (WHERE r.status = 'running'), c.finished_at FROM campaigns c "
      "LEFT JOIN runs r ON r.campaign = c.id "
      "GROUP BY c.id ORDER BY c.id",
      {});
  if (!rows.ok()) return rows.status();
  std::vector<StoredCampaign> out;
  for (const Db::Row& q : *rows) {
    auto n = [&](int col) { return static_cast<int>(ToInt(q[col])); };
    out.push_back({ToInt(q[0]), q[1], q[2], q[3], q[4], n(5), n(6), n(7), n(8), n(9), q[10]});
  }
  return out;
}

absl::StatusOr<std::vector<FailureSummary>> Store::Failures() {
  std::lock_guard<std::mutex> lock(mu_);
  auto rows = db_->Query(
      "SELECT signature, finished_at, kernel_release, dir FROM runs "
      "WHERE status = 'done' AND verdict = 'fail' ORDER BY finished_at, id",
      {});
  if (!rows.ok()) return rows.status();
  std::map<std::string, FailureSummary> by;
  std::vector<std::string> order;
  for (const Db::Row& q : *rows) {
    const std::string& sig = q[0];
    auto [it, fresh] = by.try_emplace(sig);
    FailureSummary& f = it->second;
    if (fresh) {
      order.push_back(sig);
      f.signature = sig;
      f.first_seen = q[1];
    }
    ++f.count;
    f.last_seen = q[1];
    const std::string& kernel = q[2];
    if (std::find(f.kernels.begin(), f.kernels.end(), kernel) == f.kernels.end()) {
      f.kernels.push_back(kernel);
    }
    if (f.example_dirs.size() < 3) f.example_dirs.push_back(q[3]);
  }
  std::vector<FailureSummary> out;
  for (const std::string& sig : order) out.push_back(by[sig]);
  std::stable_sort(out.begin(), out.end(), [](const FailureSummary& a, const FailureSummary& b) {
    return a.count > b.count;
  });
  return out;
}

}  // namespace swapchaos::controller
