#ifndef SWAPCHAOS_CONTROLLER_STORE_DB_H_
#define SWAPCHAOS_CONTROLLER_STORE_DB_H_

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace swapchaos::controller {

// What differs between the two SQL engines the store runs on; the store's
// SQL is written once with `?` parameters and these tokens:
//   {id}      an auto-numbered 64-bit primary key column type
//   {real}    a double column type
//   {now}     the database's clock in whole seconds since 1970 (leases are
//             timed by the one clock every worker shares)
//   {skip_locked}  after a SELECT that takes a row to work on: skip rows
//             another transaction holds (PostgreSQL); SQLite's writer lock
//             makes that moot
//   {lock}    a statement serialising schema migrations, or "SELECT 1"
struct Dialect {
  std::string name;   // "sqlite", "postgresql"
  std::string begin;  // opens a write transaction
  std::string id, real, now, skip_locked, lock;
};

// One connection to a store's database. Not thread-safe: the store
// serialises its calls.
class Db {
 public:
  using Param = std::variant<std::string, int64_t, double>;
  using Row = std::vector<std::string>;  // NULL reads as ""

  virtual ~Db() = default;
  virtual const Dialect& dialect() const = 0;
  // Statements without parameters, several at once allowed.
  virtual absl::Status Exec(const std::string& sql) = 0;
  // One statement; its rows (none for a plain UPDATE).
  virtual absl::StatusOr<std::vector<Row>> Query(const std::string& sql,
                                                 const std::vector<Param>& params) = 0;
  // `sql` with the dialect's tokens filled in.
  std::string Sql(const std::string& sql) const;
};

// The database a --store value names: "postgresql://..." or
// "postgres://..." (a libpq connection URI; the password comes from
// ~/.pgpass or PGPASSWORD, never from the URI), "sqlite:PATH" or a plain
// PATH. A database that holds tables of something else is refused
// untouched. InvalidArgument for a bad URL or another tool's database,
// Unavailable for a database that cannot be reached.
absl::StatusOr<std::unique_ptr<Db>> OpenDb(const std::string& url);

// Backends (db_sqlite.cc, db_postgres.cc).
absl::StatusOr<std::unique_ptr<Db>> OpenSqliteDb(const std::string& path);
absl::StatusOr<std::unique_ptr<Db>> OpenPostgresDb(const std::string& uri);

// True for URLs OpenDb gives to PostgreSQL.
bool IsPostgresUrl(const std::string& url);
// The file an SQLite store URL names: "sqlite:PATH" or PATH.
std::string SqlitePath(const std::string& url);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_STORE_DB_H_
