#ifndef SWAPCHAOS_CONTROLLER_CAMPAIGN_CAMPAIGN_H_
#define SWAPCHAOS_CONTROLLER_CAMPAIGN_CAMPAIGN_H_

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/run/run.h"
#include "controller/store/store.h"

namespace swapchaos::controller {

// A campaign file, loaded and checked: every scenario loads, every kernel is
// a readable bzImage, the seeds are not empty. Errors name the file, line
// and field, and nothing is started or stored.
struct CampaignPlan {
  std::string name;
  std::string file;    // absolute
  std::string sha256;  // of the file: the same file resumes, a changed one starts anew
  std::vector<Store::Planned> runs;
  uint32_t max_memory_mib = 0;  // the largest victim, for sizing the pool
};
absl::StatusOr<CampaignPlan> LoadCampaign(const std::string& path);

// Seeds first..first+count-1 (certify and bisect's --seeds N or A..B).
struct SeedRange {
  uint64_t first = 1;
  uint32_t count = 3;
};

// A campaign file the tool writes for itself (certify, bisect): `comment`
// (one line) on top, then the scenarios x the seeds x one kernel image
// (empty: the default kernel).
std::string CampaignYaml(const std::string& comment, const std::string& name,
                         const std::vector<std::string>& scenarios, SeedRange seeds,
                         const std::string& image);

struct CampaignOptions {
  int jobs = 1;            // asked for; bounded by the host's cores and memory
  std::string runs_dir;    // each run in runs_dir/<run id>.<attempt>
  std::ostream* out;       // progress and the summary
  bool live = false;       // a terminal: one line redrawn, else a line per run
  // Stop claiming runs once this many have failed (certify: 1, its verdict
  // cannot change after); the campaign stays open, and resuming it with 0
  // runs the rest. 0: run them all.
  int max_failures = 0;
  // Claim no more than this many runs (a worker's --max-runs); 0: no limit.
  int max_runs = 0;
};

// The campaign in the store: the same campaign (same file, same content)
// if a controller left it unfinished, its in-flight runs pending again (they
// start anew in new directories; finished ones stay), else a new one.
struct OpenedCampaign {
  int64_t id;
  bool resumed;
  int requeued;  // runs in flight when it stopped
};
absl::StatusOr<OpenedCampaign> OpenCampaign(const CampaignPlan& plan, Store& store);

// Runs an opened campaign's pending runs on a pool of VM pairs until every
// run is done or Ctrl-C stopped it (then the interrupted runs are pending
// again, and CancelledError comes back).
absl::Status RunCampaign(const CampaignPlan& plan, int64_t id, Store& store,
                         const CampaignOptions& options, const BootEnv& env);

// A worker (`swapchaos worker`): claims and runs pending runs of
// `campaign` (0: of any unfinished campaign) until none is left, alongside
// other workers on other hosts; closes the campaigns whose last run it
// finished. CancelledError after Ctrl-C or SIGTERM (its runs released).
absl::Status RunWorker(int64_t campaign, Store& store, const CampaignOptions& options,
                       const BootEnv& env);

// The campaign's report page and JUnit file, runs_dir/campaign-<id>.html
// and -junit.xml, from what the store holds.
absl::Status WriteCampaignReports(Store& store, int64_t id, const std::string& runs_dir,
                                  std::ostream& out);

// What a run takes beside its victim's memory: the wire VM, QEMU itself.
constexpr uint32_t kWireAndOverheadMib = 256 + 256;

// How many runs at once this host takes: two vCPU threads per run under
// TCG, and the VMs' memory.
int MaxJobs(int asked, uint32_t victim_memory_mib);

// What a run's record in the store carries beside its verdict: enough to
// read, report and replay it from any machine that reaches the store, when
// the run directory stays on the host that ran it. Each file whole or not
// at all; the console only as its tail, of a failing run.
std::map<std::string, std::string> TravellingFiles(const StoredRun& r);

// Pass/fail/error counts per scenario and kernel, then the failure
// signatures with their runs.
std::string Summary(const std::vector<StoredRun>& runs);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_CAMPAIGN_CAMPAIGN_H_
