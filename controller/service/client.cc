#include "controller/service/client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <ostream>

#include "absl/strings/str_cat.h"

namespace swapchaos::controller {
namespace {

absl::Status FromGrpc(const grpc::Status& st) {
  return absl::Status(static_cast<absl::StatusCode>(st.error_code()), st.error_message());
}

}  // namespace

std::unique_ptr<Controller::Stub> ConnectController(const std::string& address) {
  if (address.starts_with("unix:") && !std::filesystem::exists(address.substr(5))) return nullptr;
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(1))) {
    return nullptr;
  }
  return Controller::NewStub(channel);
}

absl::StatusOr<RemoteCampaign> SubmitAndWatch(Controller::Stub& stub, const std::string& address,
                                              const SubmitCampaignRequest& request,
                                              std::ostream& out,
                                              const std::function<bool()>& stop) {
  CampaignAccepted accepted;
  grpc::ClientContext submit;
  if (grpc::Status st = stub.SubmitCampaign(&submit, request, &accepted); !st.ok()) {
    return FromGrpc(st);
  }
  out << (accepted.resumed() ? "resuming" : "submitted") << " campaign " << accepted.id() << " ("
      << accepted.runs() << " runs) to the controller at " << address << "\n";
  WatchCampaignRequest watch;
  watch.set_id(accepted.id());
  grpc::ClientContext ctx;
  auto stream = stub.WatchCampaign(&ctx, watch);
  CampaignProgress p;
  uint32_t shown = UINT32_MAX;
  while (!stop() && stream->Read(&p)) {
    if (p.done() != shown) {
      out << "done " << p.done() << "/" << p.total() << ", running " << p.running() << ", failed "
          << p.failed() << ", errors " << p.errors() << "\n";
      shown = p.done();
    }
    if (p.finished()) break;
  }
  ctx.TryCancel();
  if (!p.finished()) {
    return absl::CancelledError(absl::StrCat("stopped watching; campaign ", accepted.id(),
                                             " goes on in the controller at ", address));
  }
  ListRunsRequest list;
  list.set_campaign(accepted.id());
  RunList listed;
  grpc::ClientContext list_ctx;
  if (grpc::Status st = stub.ListRuns(&list_ctx, list, &listed); !st.ok()) {
    return absl::UnavailableError(st.error_message());
  }
  RemoteCampaign result{.id = accepted.id()};
  for (const auto& r : listed.runs()) {
    result.runs.push_back({.id = r.id(),
                           .campaign = r.campaign(),
                           .scenario = r.scenario(),
                           .seed = r.seed(),
                           .kernel = r.kernel(),
                           .status = r.status(),
                           .verdict = r.verdict(),
                           .signature = r.signature(),
                           .error = r.error(),
                           .dir = r.dir(),
                           .attempts = static_cast<int>(r.attempts()),
                           .wall_s = r.wall_s()});
  }
  return result;
}

absl::StatusOr<ReplayResult> RemoteReplay(Controller::Stub& stub, const ReplayRequest& request) {
  ReplayResult result;
  grpc::ClientContext ctx;
  if (grpc::Status st = stub.Replay(&ctx, request, &result); !st.ok()) return FromGrpc(st);
  return result;
}

}  // namespace swapchaos::controller
