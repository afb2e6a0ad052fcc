#ifndef SWAPCHAOS_CONTROLLER_REPORT_LISTINGS_H_
#define SWAPCHAOS_CONTROLLER_REPORT_LISTINGS_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "controller/store/store.h"
#include "swapchaos/controller.pb.h"
#include "swapchaos/output.pb.h"

// The store's rows as the messages the service answers with and the CLI
// prints with --json (proto/swapchaos/output.proto), and the tallies the
// text summary, the campaign page and certificates share.
namespace swapchaos::controller {

// The lower bound of the Wilson score interval at 95% for `passes` out of
// `runs` (0 when runs is 0): how low the true pass rate may be, given what
// was seen. 3 of 3 gives 0.44, 30 of 30 gives 0.89.
double WilsonLower95(int passes, int runs);

// Runs by (scenario file name, kernel or "default"), and failing runs by
// signature, in the order given.
struct RunTally {
  struct Counts {
    int pass = 0, fail = 0, error = 0, pending = 0;
    std::string kernel_label;  // the release a run reported, else the kernel as given
  };
  std::map<std::pair<std::string, std::string>, Counts> by_scenario_kernel;
  std::map<std::string, std::vector<const StoredRun*>> failures;
};
RunTally Tally(const std::vector<StoredRun>& runs);

RunRecord ToRunRecord(const StoredRun& r);

// A campaign's counts, and its runs in the store's order.
CampaignStatus ToCampaignStatus(const StoredCampaign& c, const std::vector<StoredRun>& runs);

FailureSignature ToFailureSignature(const FailureSummary& f);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_REPORT_LISTINGS_H_
