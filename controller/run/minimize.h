#ifndef SWAPCHAOS_CONTROLLER_RUN_MINIMIZE_H_
#define SWAPCHAOS_CONTROLLER_RUN_MINIMIZE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/run/run.h"
#include "swapchaos/scenario.pb.h"

namespace swapchaos::controller {

struct MinimizeOptions {
  int max_runs = 20;  // trial runs at most, before the confirmation runs
  int confirm = 3;    // runs of the result, to say how reliably it fails
};

struct MinimizeReport {
  std::string signature;
  int faults_before = 0;
  scenario::Scenario minimal;
  int trial_runs = 0;
  int confirmed = 0;  // confirmation runs that failed with the signature
  int confirm_runs = 0;
  std::string scenario_file;  // the minimal schedule, runnable
};

// `swapchaos minimize`: shrinks a failing run's recorded schedule while the
// same signature still comes back, with the generic minimizer (drop faults,
// then make each simpler: shorter, every number of its parameters halved),
// each trial a real run into out_dir/trial-<n>. Writes the result to
// out_dir/minimal.yaml and runs it `confirm` times. A passing or unfinished
// run is bad input.
absl::StatusOr<MinimizeReport> Minimize(const std::string& run_dir, const MinimizeOptions& options,
                                        const std::string& out_dir, const BootEnv& env);

// The simpler variants of one fault the minimizer tries: half as long, and
// each nonzero number of its kind's parameters halved (whole numbers
// rounded down), one at a time.
std::vector<scenario::Fault> SimplerFaults(const scenario::Fault& f);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_RUN_MINIMIZE_H_
