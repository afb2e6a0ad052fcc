#include "controller/store/db.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace swapchaos::controller {
namespace {

// A password in the URL would sit in `ps`, shell history and the Slurm job
// script; libpq reads it from ~/.pgpass or PGPASSWORD instead.
bool HasPassword(const std::string& uri) {
  std::string rest = uri.substr(uri.find("://") + 3);
  std::string authority = rest.substr(0, rest.find_first_of("/?"));
  size_t at = authority.rfind('@');
  if (at != std::string::npos && authority.substr(0, at).find(':') != std::string::npos) {
    return true;
  }
  size_t q = rest.find('?');
  if (q == std::string::npos) return false;
  for (absl::string_view kv : absl::StrSplit(rest.substr(q + 1), '&')) {
    if (absl::StartsWithIgnoreCase(kv, "password=")) return true;
  }
  return false;
}

}  // namespace

std::string Db::Sql(const std::string& sql) const {
  const Dialect& d = dialect();
  return absl::StrReplaceAll(sql, {{"{id}", d.id},
                                   {"{real}", d.real},
                                   {"{now}", d.now},
                                   {"{skip_locked}", d.skip_locked},
                                   {"{lock}", d.lock}});
}

bool IsPostgresUrl(const std::string& url) {
  return absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://");
}

std::string SqlitePath(const std::string& url) {
  return absl::StartsWith(url, "sqlite:") ? url.substr(7) : url;
}

absl::StatusOr<std::unique_ptr<Db>> OpenDb(const std::string& url) {
  if (IsPostgresUrl(url)) {
    if (HasPassword(url)) {
      return absl::InvalidArgumentError(
          absl::StrCat("store ", url.substr(0, url.find("://") + 3),
                       "...: the URL holds a password; put it in ~/.pgpass or PGPASSWORD instead"));
    }
    return OpenPostgresDb(url);
  }
  std::string path = SqlitePath(url);
  if (path.empty()) return absl::InvalidArgumentError("store: empty path");
  if (path.find("://") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "store ", url, ": not a store URL (postgresql://... or sqlite:PATH or a path)"));
  }
  return OpenSqliteDb(path);
}

}  // namespace swapchaos::controller
