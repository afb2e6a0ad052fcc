#ifndef SWAPCHAOS_CONTROLLER_DISPATCH_DISPATCH_H_
#define SWAPCHAOS_CONTROLLER_DISPATCH_DISPATCH_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "controller/campaign/campaign.h"
#include "controller/run/boot.h"
#include "controller/slurm/slurm.h"
#include "controller/store/store.h"

// Where a campaign's runs go: this host's pool of VM pairs, or a Slurm job
// array of workers claiming them from the store. campaign, certify and
// bisect all start their campaigns here.
namespace swapchaos::controller {

struct Placement {
  bool slurm = false;
  SlurmOptions options;
  int lease_s = 60;  // a run's lease in the store, renewed every third of it
};

// --workers, --lease, --partition and --sbatch as the CLI read them, checked
// (InvalidArgument naming the flag).
absl::StatusOr<Placement> MakePlacement(bool slurm, uint64_t workers, uint64_t lease_s,
                                        std::string partition,
                                        std::vector<std::string> sbatch_args);

struct DispatchOptions {
  std::string store_url;  // --store: created when it is an SQLite file
  std::string runs_dir;
  int jobs = 1;
  int max_failures = 0;  // CampaignOptions::max_failures
  Placement placement;
  std::ostream* out = nullptr;  // what it does and the pool's progress
  bool live = false;            // `out` is a terminal
};

// A campaign run to its end, opened in the store (or resumed there).
struct DispatchedCampaign {
  std::unique_ptr<Store> store;
  int64_t id = 0;
};
absl::StatusOr<DispatchedCampaign> DispatchCampaign(const CampaignPlan& plan,
                                                    const DispatchOptions& options,
                                                    const BootEnv& env);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_DISPATCH_DISPATCH_H_
