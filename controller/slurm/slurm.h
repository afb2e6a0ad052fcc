#ifndef SWAPCHAOS_CONTROLLER_SLURM_SLURM_H_
#define SWAPCHAOS_CONTROLLER_SLURM_SLURM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/campaign/campaign.h"

namespace swapchaos::controller {

// A campaign's runs on a Slurm cluster: a job array of `swapchaos worker`s
// that claim runs from a store every node reaches (PostgreSQL), while this
// host only watches the store. Placement is Slurm's; the queue is the
// store's (campaign.h, store.h).
struct SlurmOptions {
  int workers = 4;                       // array tasks
  std::string partition;                 // empty: the cluster's default
  std::vector<std::string> sbatch_args;  // more #SBATCH options, as given
};

// What each array task runs.
struct WorkerCommand {
  std::string swapchaos;  // absolute path, the same on every node
  std::string store_url;
  int64_t campaign = 0;
  std::string runs_dir;  // absolute; a shared file system to see results here
  std::string cache_dir, agent;
  int lease_s = 60;
  // Asked of Slurm per task: one run at a time, two vCPU threads under TCG,
  // the largest victim with the wire and QEMU.
  uint32_t memory_mib = 0;
};

// The job script: #SBATCH lines, then the worker. Kept beside the
// results; `sbatch FILE` submits it again, `sh FILE` runs one worker here.
std::string SlurmJobScript(const SlurmOptions& slurm, const WorkerCommand& worker);

// `sbatch --parsable FILE`: the job id. Unavailable, with Slurm's own
// words, when there is no Slurm or it refuses the job.
absl::StatusOr<std::string> SubmitSlurmJob(const std::string& script);
// How many of the job's array tasks are pending or running.
absl::StatusOr<int> SlurmTasksLeft(const std::string& job_id);
// `scancel`: every task of the job, or only those Slurm has not started.
absl::Status CancelSlurmJob(const std::string& job_id, bool pending_only = false);

// Submits the workers of an opened campaign, then watches the store with
// the usual progress until every run is recorded: resubmits (twice at
// most) if the jobs end with runs left, scancels them on Ctrl-C (then
// CancelledError; runs in flight go back to the queue when their leases
// run out). Once every run is recorded, cancels the tasks Slurm has not
// started (nothing is left for them) and waits for the running ones to
// end, so no job of a finished campaign stays queued. Writes the
// campaign's reports at the end.
absl::Status RunCampaignOnSlurm(int64_t id, Store& store, const CampaignOptions& options,
                                const SlurmOptions& slurm, const WorkerCommand& worker,
                                const BootEnv& env);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_SLURM_SLURM_H_
