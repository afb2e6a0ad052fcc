#ifndef SWAPCHAOS_CONTROLLER_SERVICE_CLIENT_H_
#define SWAPCHAOS_CONTROLLER_SERVICE_CLIENT_H_

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/store/store.h"
#include "swapchaos/controller.grpc.pb.h"

namespace swapchaos::controller {

// The Controller service from a command's side (campaign and replay hand
// their work to a running `swapchaos serve`). A controller's refusal keeps
// its gRPC code as the status code: INVALID_ARGUMENT and NOT_FOUND are the
// user's, anything else the environment's.

// A controller answering at `address` within a second, or null.
std::unique_ptr<Controller::Stub> ConnectController(const std::string& address);

// Submits a campaign and follows it to its end, a progress line on `out`
// each time a run is done; the runs as the controller's store has them.
// `stop` ends the watch early (Ctrl-C): Cancelled, and the campaign goes
// on in the controller.
struct RemoteCampaign {
  int64_t id = 0;
  std::vector<StoredRun> runs;
};
absl::StatusOr<RemoteCampaign> SubmitAndWatch(Controller::Stub& stub, const std::string& address,
                                              const SubmitCampaignRequest& request,
                                              std::ostream& out, const std::function<bool()>& stop);

absl::StatusOr<ReplayResult> RemoteReplay(Controller::Stub& stub, const ReplayRequest& request);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_SERVICE_CLIENT_H_
