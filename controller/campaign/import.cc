#include "controller/campaign/import.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "controller/campaign/campaign.h"
#include "controller/oracles/oracles.h"
#include "kernels/hash.h"
#include "swapchaos/controller.pb.h"
#include "swapchaos/scenario.pb.h"

namespace swapchaos::controller {
namespace fs = std::filesystem;

namespace {

// `source` itself, if it is a run, else its subdirectories that are, by name.
std::vector<fs::path> RunDirectories(const fs::path& source) {
  if (fs::exists(source / "meta.json")) return {source};
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(source, ec)) {
    if (entry.is_directory(ec) && fs::exists(entry.path() / "meta.json", ec)) {
      dirs.push_back(entry.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

struct ReadRun {
  StoredRun run;
  std::string started_at;
};

// One finished run directory as the store keeps a run.
absl::StatusOr<ReadRun> Read(const fs::path& dir, kernels::Sha256& identity) {
  RunMeta meta;
  if (absl::Status s = ReadJsonFile(dir / "meta.json", &meta); !s.ok()) {
    return absl::InvalidArgumentError(s.message());
  }
  StoredRun r;
  r.dir = dir.string();
  r.seed = meta.seed();
  r.kernel = meta.request().victim().kernel();
  r.kernel_release = meta.kernel().release();
  r.kernel_sha256 = meta.kernel().sha256();
  r.host = meta.host();
  r.tool = meta.tool();
  r.wall_s = meta.wall_s();
  r.attempts = 1;
  absl::Time started;
  std::string why;
  if (!absl::ParseTime(kStoreTimeFormat, meta.started_at(), &started, &why)) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir.string(), "/meta.json: started_at '", meta.started_at(), "': ", why));
  }
  r.finished_at = absl::FormatTime(kStoreTimeFormat, started + absl::Seconds(meta.wall_s()),
                                   absl::UTCTimeZone());
  Verdict v;
  absl::Status judged = ReadJsonFile(dir / "verdict.json", &v);
  if (absl::IsNotFound(judged)) {
    r.status = "error";
    r.error = meta.outcome().empty() ? "not judged (no verdict.json)" : meta.outcome();
    scenario::Scenario planned;
    if (ReadJsonFile(dir / "scenario.json", &planned).ok()) r.scenario = planned.name();
  } else if (!judged.ok()) {
    return absl::InvalidArgumentError(judged.message());
  } else {
    r.status = "done";
    r.verdict = v.verdict();
    r.signature = v.signature();
    r.scenario = v.scenario();
  }
  if (r.scenario.empty()) r.scenario = dir.filename().string();
  // The runs' identity: the same directories import once.
  identity.Update(absl::StrCat(dir.filename().string(), "\n", meta.started_at(), "\n", meta.host(),
                               "\n", v.verdict(), "\n", v.signature(), "\n"));
  return ReadRun{std::move(r), meta.started_at()};
}

}  // namespace

absl::StatusOr<Store::Imported> ImportRunDirectories(Store& store, const std::string& source) {
  std::error_code ec;
  fs::path root = fs::absolute(source, ec).lexically_normal();
  if (!root.has_filename()) root = root.parent_path();  // "dir/"
  if (!fs::is_directory(root, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a directory"));
  }
  std::vector<fs::path> dirs = RunDirectories(root);
  if (dirs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source,
                     ": no finished run here (a run directory holds meta.json, written "
                     "when the run ends), nor in its subdirectories"));
  }
  kernels::Sha256 identity;
  std::vector<StoredRun> runs;
  std::vector<std::map<std::string, std::string>> files;
  StoredCampaign c;
  c.name = root.filename().string();
  c.file = root.string();
  for (const fs::path& dir : dirs) {
    auto read = Read(dir, identity);
    if (!read.ok()) return read.status();
    files.push_back(TravellingFiles(read->run));
    // The campaign spans its runs: from the first start to the last end.
    if (c.created_at.empty() || read->started_at < c.created_at) c.created_at = read->started_at;
    c.finished_at = std::max(c.finished_at, read->run.finished_at);
    runs.push_back(std::move(read->run));
  }
  c.file_sha256 = identity.HexDigest();
  Store::Imported done;
  if (absl::Status s = store.ImportCampaign(c, runs, files, done); !s.ok()) return s;
  return done;
}

}  // namespace swapchaos::controller
