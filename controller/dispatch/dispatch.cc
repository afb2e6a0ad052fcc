#include "controller/dispatch/dispatch.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/store/db.h"

namespace swapchaos::controller {
namespace fs = std::filesystem;

absl::StatusOr<Placement> MakePlacement(bool slurm, uint64_t workers, uint64_t lease_s,
                                        std::string partition,
                                        std::vector<std::string> sbatch_args) {
  if (workers < 1 || workers > 10000) {
    return absl::InvalidArgumentError("--workers must be 1..10000");
  }
  // Renewed every third of it, and a run's VMs take seconds to stop:
  // shorter leases would move live runs.
  if (lease_s < 10 || lease_s > 86400) {
    return absl::InvalidArgumentError("--lease must be 10..86400 s");
  }
  if (!slurm && (!partition.empty() || !sbatch_args.empty())) {
    return absl::InvalidArgumentError("--partition and --sbatch go with --slurm");
  }
  return Placement{.slurm = slurm,
                   .options = {.workers = static_cast<int>(workers),
                               .partition = std::move(partition),
                               .sbatch_args = std::move(sbatch_args)},
                   .lease_s = static_cast<int>(lease_s)};
}

absl::StatusOr<DispatchedCampaign> DispatchCampaign(const CampaignPlan& plan,
                                                    const DispatchOptions& o, const BootEnv& env) {
  std::ostream& out = *o.out;
  auto store = Store::OpenNamed(o.store_url, true);
  if (!store.ok()) return store.status();
  (*store)->set_lease_seconds(o.placement.lease_s);
  CampaignOptions options{.jobs = o.jobs,
                          .runs_dir = o.runs_dir,
                          .out = o.out,
                          .live = o.live,
                          .max_failures = o.max_failures};
  auto opened = OpenCampaign(plan, **store);
  if (!opened.ok()) return opened.status();
  if (opened->resumed) {
    out << "resuming campaign " << opened->id << " (" << plan.name << ")"
        << (opened->requeued
                ? absl::StrCat("; ", opened->requeued, " runs in flight when it stopped run again")
                : "")
        << "\n";
  } else {
    out << "campaign " << opened->id << " (" << plan.name << "): " << plan.runs.size() << " runs\n";
  }
  absl::Status ran;
  if (o.placement.slurm) {
    // Every path absolute: the workers start elsewhere.
    std::string url = o.store_url;
    if (!IsPostgresUrl(url)) {
      url = fs::absolute(SqlitePath(url)).string();
      out << "note: an SQLite store serves Slurm workers on this host's file system only; "
             "for many nodes use --store postgresql://...\n";
    }
    std::error_code ec;
    fs::create_directories(o.runs_dir, ec);
    if (ec) {
      return absl::InternalError(absl::StrCat("runs directory ", o.runs_dir, ": ", ec.message()));
    }
    options.runs_dir = fs::absolute(o.runs_dir).string();
    WorkerCommand worker{.swapchaos = fs::read_symlink("/proc/self/exe").string(),
                         .store_url = url,
                         .campaign = opened->id,
                         .runs_dir = options.runs_dir,
                         .cache_dir = fs::absolute(env.cache_dir).string(),
                         .agent = fs::absolute(env.agent_path).string(),
                         .lease_s = o.placement.lease_s,
                         .memory_mib = plan.max_memory_mib + kWireAndOverheadMib};
    ran = RunCampaignOnSlurm(opened->id, **store, options, o.placement.options, worker, env);
  } else {
    ran = RunCampaign(plan, opened->id, **store, options, env);
  }
  if (!ran.ok()) return ran;
  return DispatchedCampaign{*std::move(store), opened->id};
}

}  // namespace swapchaos::controller
