// The embedded store: one SQLite file, WAL mode so a reader never blocks
// the campaign writing.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/store/db.h"

namespace swapchaos::controller {
namespace {

// Marks the file as a swapchaos store ("SWCH" in the SQLite header).
constexpr int64_t kApplicationId = 0x53574348;

class SqliteDb : public Db {
 public:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  ~SqliteDb() override { sqlite3_close(db_); }

  const Dialect& dialect() const override {
    static const Dialect d{.name = "sqlite",
                           .begin = "BEGIN IMMEDIATE",
                           .id = "INTEGER PRIMARY KEY",
                           .real = "REAL",
                           .now = "unixepoch()",
                           .skip_locked = "",
                           .lock = "SELECT 1"};
    return d;
  }

  absl::Status Exec(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string why = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      return absl::UnavailableError(absl::StrCat("store: ", why));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<Row>> Query(const std::string& sql,
                                         const std::vector<Param>& params) override {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) return Error(s);
    for (size_t i = 0; i < params.size(); ++i) {
      int n = static_cast<int>(i) + 1;
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
              sqlite3_bind_text(s, n, v.c_str(), -1, SQLITE_TRANSIENT);
            } else if constexpr (std::is_same_v<T, int64_t>) {
              sqlite3_bind_int64(s, n, v);
            } else {
              sqlite3_bind_double(s, n, v);
            }
          },
          params[i]);
    }
    std::vector<Row> rows;
    while (true) {
      int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Error(s);
      Row row;
      for (int c = 0; c < sqlite3_column_count(s); ++c) {
        const unsigned char* t = sqlite3_column_text(s, c);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(s);
    return rows;
  }

  // "" if the file is a swapchaos store (or empty); else what it holds.
  absl::StatusOr<std::string> Owner() {
    auto id = Query("PRAGMA application_id", {});
    if (!id.ok()) return id.status();  // "file is not a database", say
    int64_t app = id->empty() ? 0 : std::stoll((*id)[0][0]);
    if (app == kApplicationId) return std::string();
    auto tables = Query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", {});
    if (!tables.ok()) return tables.status();
    std::vector<std::string> names;
    for (const Row& r : *tables) names.push_back(r[0]);
    // Empty: a new store. Only ours: a store from before the mark.
    if (std::all_of(names.begin(), names.end(), [](const std::string& n) {
          return n == "campaigns" || n == "runs" || n == "run_files" || n == "swapchaos_schema";
        })) {
      return std::string();
    }
    return absl::StrCat("application_id ", app, ", tables ", absl::StrJoin(names, ", "));
  }

 private:
  absl::Status Error(sqlite3_stmt* s) {
    absl::Status st = absl::UnavailableError(absl::StrCat("store: ", sqlite3_errmsg(db_)));
    sqlite3_finalize(s);
    return st;
  }
  sqlite3* const db_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Db>> OpenSqliteDb(const std::string& path) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string why = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    return absl::InvalidArgumentError(absl::StrCat("store ", path, ": ", why));
  }
  auto db = std::make_unique<SqliteDb>(raw);
  // Another controller's transaction may hold the lock for a moment.
  sqlite3_busy_timeout(raw, 10000);
  // Whose database this is, before anything is written to it: an
  // unrelated file once got our tables and WAL mode from a read-only
  // command.
  auto whose = db->Owner();
  if (!whose.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("store ", path, ": ", whose.status().message()));
  }
  if (!whose->empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("store ", path, " is an SQLite database but not a swapchaos store (", *whose,
                     "); not touching it"));
  }
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                          "PRAGMA foreign_keys=ON", "PRAGMA application_id = 1398227784"}) {
    absl::Status st = db->Exec(sql);
    // Switching a new file to WAL while another process opens it too fails
    // at once ("database is locked"), without the busy handler: try again.
    for (int i = 0; i < 500 && !st.ok() && absl::StrContains(st.message(), "locked"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      st = db->Exec(sql);
    }
    if (!st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("store ", path, ": ", st.message()));
    }
  }
  return db;
}

}  // namespace swapchaos::controller
