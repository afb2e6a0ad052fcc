#ifndef SWAPCHAOS_CONTROLLER_SERVICE_SERVICE_H_
#define SWAPCHAOS_CONTROLLER_SERVICE_SERVICE_H_

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "controller/run/run.h"
#include "controller/store/store.h"
#include "swapchaos/controller.grpc.pb.h"

namespace swapchaos::controller {

// The Controller gRPC service over one store: campaigns run in background
// threads of this process (their VMs are its supervised children), progress
// and runs are read from the store.
class ControllerService final : public Controller::Service {
 public:
  ControllerService(Store& store, BootEnv env) : store_(store), env_(std::move(env)) {}
  ~ControllerService() override;  // waits for running campaigns (stop_requested ends them)

  grpc::Status SubmitCampaign(grpc::ServerContext*, const SubmitCampaignRequest* req,
                              CampaignAccepted* reply) override;
  grpc::Status WatchCampaign(grpc::ServerContext* ctx, const WatchCampaignRequest* req,
                             grpc::ServerWriter<CampaignProgress>* writer) override;
  grpc::Status ListRuns(grpc::ServerContext*, const ListRunsRequest* req, RunList* reply) override;
  grpc::Status GetRun(grpc::ServerContext*, const GetRunRequest* req, RunRecord* reply) override;
  grpc::Status Replay(grpc::ServerContext*, const ReplayRequest* req, ReplayResult* reply) override;

 private:
  Store& store_;
  const BootEnv env_;
  std::mutex mu_;
  std::map<int64_t, std::thread> campaigns_;  // guarded by mu_
};

// Where the CLI looks for a running controller by default.
inline constexpr char kDefaultControllerAddress[] = "unix:runs/controller.sock";

// The socket path of a controller address: only "unix:PATH" is one, since
// only a socket file's mode says who may connect (a TCP port, even on
// 127.0.0.1, would let every local user drive a root process).
absl::StatusOr<std::string> ControllerSocket(const std::string& address);

// `swapchaos serve`: the service over `store` on the socket at `address`
// until `stop` says so, then stops in order: no new connections, the
// socket removed, campaigns in flight stopped (they resume when submitted
// again). InvalidArgument for an address ControllerSocket refuses, a
// controller already there, or a path that is not a stale socket of ours.
absl::Status ServeController(const std::string& address, Store& store, const BootEnv& env,
                             std::ostream& out, const std::function<bool()>& stop);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_SERVICE_SERVICE_H_
