#ifndef SWAPCHAOS_CONTROLLER_STORE_STORE_H_
#define SWAPCHAOS_CONTROLLER_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace swapchaos::controller {

// The store's times (a campaign's created_at, a run's finished_at), as a
// run's meta.json has its started_at: RFC 3339, UTC, whole seconds.
inline constexpr char kStoreTimeFormat[] = "%Y-%m-%dT%H:%M:%SZ";

// One run of a campaign, as the store keeps it.
struct StoredRun {
  int64_t id = 0;
  int64_t campaign = 0;
  std::string scenario;  // the scenario file's path
  uint64_t seed = 0;
  std::string kernel;   // bzImage path; empty: the default kernel
  std::string status;   // pending, running, done, error
  std::string verdict;  // pass, fail (done only)
  std::string signature;
  std::string error;  // why a run could not be judged (status error)
  std::string dir;    // its results directory
  int attempts = 0;   // times it was started
  double wall_s = 0;
  std::string kernel_release;
  std::string finished_at;
  std::string owner;  // who ran it (or holds it): "host:pid:nonce"
  std::string host;   // where it ran
  std::string tool;   // the swapchaos that ran it: version and commit
  std::string kernel_sha256;
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

class Db;

// Campaigns and their runs, in SQLite (one host) or PostgreSQL (workers on
// many hosts); the store is also the queue. A worker claims a run with a
// lease it renews while the run goes on; a run whose lease ran out (its
// worker was killed, its node died) is claimed again, and only the holder
// of the current lease can record a result: every run ends recorded
// exactly once, whatever is killed when. Every change is one transaction.
// Thread-safe: one connection, serialised.
class Store {
 public:
  // `url` as OpenDb takes it (db.h). The schema is created or migrated.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& url);
  // The store a command's --store names: a PostgreSQL URL, or an SQLite file
  // that a command writing results may create (with its directory)
  // (`create`) and a command that only reads must find (else
  // InvalidArgument, naming it).
  static absl::StatusOr<std::unique_ptr<Store>> OpenNamed(const std::string& url, bool create);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Who holds this store's leases: "host:pid:nonce".
  const std::string& owner() const { return owner_; }
  // How long a claim holds without a renewal (default 60 s).
  void set_lease_seconds(int s) { lease_s_ = s; }
  int lease_seconds() const { return lease_s_; }

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
  // Runs whose worker is gone: their lease ran out, or their owner was a
  // process of this host that no longer exists (a controller killed here
  // and started again need not wait for the lease). Pending again, so they
  // are run anew (their half-written directories are never read as results).
  absl::StatusOr<int> RequeueAbandoned(int64_t campaign);
  // Takes the next pending run, or a running one whose lease ran out, of
  // `campaign` (0: of any unfinished campaign): status running, attempts
  // + 1, leased to owner(), `dir` set by `dir_for(id, attempt)`; nullopt
  // when none is left.
  absl::StatusOr<std::optional<StoredRun>> Claim(
      int64_t campaign, const std::function<std::string(int64_t, int)>& dir_for);
  // Runs of `campaign` (0: of every unfinished campaign) that other
  // workers hold: they may yet come back to the queue.
  absl::StatusOr<int> HeldElsewhere(int64_t campaign);
  // Extends every lease owner() holds; how many it holds.
  absl::StatusOr<int> Renew();
  // Records a claimed run's end: done or error with its verdict and its
  // result files (name -> text), or pending (interrupted: released to be
  // run again). FailedPrecondition if owner() no longer holds its lease;
  // then nothing is recorded.
  absl::Status Finish(const StoredRun& run, const std::map<std::string, std::string>& files = {});
  // A run's stored result files, by name.
  absl::StatusOr<std::map<std::string, std::string>> RunFiles(int64_t run);
  // Marks the campaign finished if none of its runs is pending or running.
  absl::StatusOr<bool> CloseCampaign(int64_t campaign);

  // Every campaign of `source` (another host's store, say) with its runs
  // and their files, under new ids; runs in flight there are pending here.
  // A campaign imported before (same name, file content and creation time)
  // is skipped. One transaction per campaign.
  struct Imported {
    int campaigns = 0, runs = 0, skipped = 0;
  };
  absl::StatusOr<Imported> Import(Store& source);
  // One campaign made elsewhere (another store's, or run directories'),
  // with its runs and each run's files, under a new id; skipped as Import
  // skips. Runs in flight are pending here.
  absl::Status ImportCampaign(const StoredCampaign& c, const std::vector<StoredRun>& runs,
                              const std::vector<std::map<std::string, std::string>>& files,
                              Imported& done);

  absl::StatusOr<std::vector<StoredRun>> Runs(int64_t campaign);
  absl::StatusOr<StoredRun> Run(int64_t id);  // NotFound for an unknown id
  absl::StatusOr<std::vector<StoredCampaign>> Campaigns();
  absl::StatusOr<std::vector<FailureSummary>> Failures();

 private:
  explicit Store(std::unique_ptr<Db> db);
  absl::Status Migrate();
  // One transaction: `body` runs between BEGIN and COMMIT, rolled back if
  // it fails.
  absl::Status Transaction(const std::function<absl::Status()>& body);
  std::unique_ptr<Db> db_;
  std::string owner_;
  int lease_s_ = 60;
  std::mutex mu_;
};

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_STORE_STORE_H_
