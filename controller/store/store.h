#ifndef SWAPCHAOS_CONTROLLER_STORE_STORE_H_
#define SWAPCHAOS_CONTROLLER_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

struct sqlite3;

namespace swapchaos::controller {

// One run of a campaign, as the store keeps it.
struct StoredRun {
  int64_t id = 0;
  int64_t campaign = 0;
  std::string scenario;  // the scenario file's path
  uint64_t seed = 0;
  std::string kernel;    // bzImage path; empty: the default kernel
  std::string status;    // pending, running, done, error
  std::string verdict;   // pass, fail (done only)
  std::string signature;
  std::string error;     // why a run could not be judged (status error)
  std::string dir;       // its results directory
  int attempts = 0;      // times it was started
  double wall_s = 0;
  std::string kernel_release;
  std::string finished_at;
};

struct StoredCampaign {
  int64_t id = 0;
  std::string name;
  std::string file;
  std::string file_sha256;
  std::string created_at;
  int total = 0, done = 0, failed = 0, errors = 0, running = 0;
  std::string finished_at;  // empty while unfinished
};

// A failure signature across every run in the store.
struct FailureSummary {
  std::string signature;
  int count = 0;
  std::string first_seen, last_seen;
  std::vector<std::string> kernels;
  std::vector<std::string> example_dirs;  // up to three
};

// Campaigns and their runs in SQLite (WAL mode, so a reader never blocks the
// campaign writing). Every change is one transaction: a controller killed
// at any moment leaves each run pending, running or done, never between.
// Thread-safe: one connection, serialised.
class Store {
 public:
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The unfinished campaign from this file with this content, if any.
  absl::StatusOr<std::optional<int64_t>> FindUnfinished(const std::string& file,
                                                        const std::string& sha256);
  // A new campaign and all its runs, pending, in one transaction.
  struct Planned {
    std::string scenario;
    uint64_t seed;
    std::string kernel;
  };
  absl::StatusOr<int64_t> CreateCampaign(const std::string& name, const std::string& file,
                                         const std::string& sha256,
                                         const std::vector<Planned>& runs);
  // Runs left running by a controller that died: pending again, so they are
  // run anew (their half-written directories are never read as results).
  absl::StatusOr<int> RequeueRunning(int64_t campaign);
  // Takes the next pending run (status running, attempts + 1, `dir` set by
  // `dir_for(id, attempt)`); nullopt when none is left.
  absl::StatusOr<std::optional<StoredRun>> Claim(
      int64_t campaign, const std::function<std::string(int64_t, int)>& dir_for);
  absl::Status Finish(const StoredRun& run);  // done or error, with the verdict
  absl::Status CloseCampaign(int64_t campaign);

  absl::StatusOr<std::vector<StoredRun>> Runs(int64_t campaign);
  absl::StatusOr<StoredRun> Run(int64_t id);  // NotFound for an unknown id
  absl::StatusOr<std::vector<StoredCampaign>> Campaigns();
  absl::StatusOr<std::vector<FailureSummary>> Failures();

 private:
  explicit Store(sqlite3* db) : db_(db) {}
  absl::Status Exec(const std::string& sql);
  // "" if the file is a swapchaos store (or empty); else what it holds.
  absl::StatusOr<std::string> Owner();
  sqlite3* const db_;
  std::mutex mu_;
};

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_STORE_STORE_H_
