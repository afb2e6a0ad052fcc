#ifndef SWAPCHAOS_CONTROLLER_REPORT_KCIDB_H_
#define SWAPCHAOS_CONTROLLER_REPORT_KCIDB_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/store/store.h"

namespace swapchaos::controller {

// Campaigns' runs as one KCIDB report (KernelCI's common results database,
// I/O schema v5.3, kept in report/kcidb/): a checkout and a build per
// kernel image (by its sha256), a test per finished run under the path
// "swapchaos.<scenario>", PASS, FAIL (the kernel's) or ERROR (ours), with
// its seed, signature and host. Runs not finished yet are left out.
// `origin` names this CI system in every id ([a-z0-9_]+, else
// InvalidArgument); ids are unique within one store.
absl::StatusOr<std::string> KcidbReport(const std::vector<StoredCampaign>& campaigns,
                                        const std::map<int64_t, std::vector<StoredRun>>& runs,
                                        const std::string& origin);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_REPORT_KCIDB_H_
