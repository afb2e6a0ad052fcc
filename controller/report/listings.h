#ifndef SWAPCHAOS_CONTROLLER_REPORT_LISTINGS_H_
#define SWAPCHAOS_CONTROLLER_REPORT_LISTINGS_H_

#include <vector>

#include "controller/store/store.h"
#include "swapchaos/controller.pb.h"
#include "swapchaos/output.pb.h"

// The store's rows as the messages the service answers with and the CLI
// prints with --json (proto/swapchaos/output.proto): one schema for both.
namespace swapchaos::controller {

RunRecord ToRunRecord(const StoredRun& r);

// A campaign's counts, and its runs in the store's order.
CampaignStatus ToCampaignStatus(const StoredCampaign& c, const std::vector<StoredRun>& runs);

FailureSignature ToFailureSignature(const FailureSummary& f);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_REPORT_LISTINGS_H_
