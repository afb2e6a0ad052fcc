#include "controller/service/service.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "controller/campaign/campaign.h"
#include "controller/report/listings.h"
#include "controller/run/replay.h"
#include "controller/service/client.h"
#include "controller/service/listener.h"

namespace swapchaos::controller {
namespace {

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

}  // namespace

ControllerService::~ControllerService() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, t] : campaigns_) {
    if (t.joinable()) t.join();
  }
}

grpc::Status ControllerService::SubmitCampaign(grpc::ServerContext*,
                                               const SubmitCampaignRequest* req,
                                               CampaignAccepted* reply) {
  auto plan = LoadCampaign(req->file());
  if (!plan.ok()) return ToGrpc(plan.status());
  auto opened = OpenCampaign(*plan, store_);
  if (!opened.ok()) return ToGrpc(opened.status());
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = campaigns_.find(opened->id); it != campaigns_.end() && it->second.joinable()) {
    return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                        absl::StrCat("campaign ", opened->id, " is already running here"));
  }
  std::string runs_dir = req->runs_dir().empty() ? "runs/" + plan->name : req->runs_dir();
  int jobs = std::max(1, static_cast<int>(req->jobs()));
  campaigns_[opened->id] = std::thread([this, p = *plan, id = opened->id, runs_dir, jobs] {
    std::filesystem::create_directories(runs_dir);
    std::ofstream log(absl::StrCat(runs_dir, "/campaign-", id, ".log"), std::ios::app);
    log << std::unitbuf;
    CampaignOptions options{.jobs = jobs, .runs_dir = runs_dir, .out = &log, .live = false};
    if (absl::Status s = RunCampaign(p, id, store_, options, env_); !s.ok()) {
      log << "campaign " << id << ": " << s.message() << "\n";
    }
  });
  reply->set_id(opened->id);
  reply->set_runs(static_cast<uint32_t>(plan->runs.size()));
  reply->set_resumed(opened->resumed);
  return grpc::Status::OK;
}

grpc::Status ControllerService::WatchCampaign(grpc::ServerContext* ctx,
                                              const WatchCampaignRequest* req,
                                              grpc::ServerWriter<CampaignProgress>* writer) {
  while (!ctx->IsCancelled()) {
    auto campaigns = store_.Campaigns();
    if (!campaigns.ok()) return ToGrpc(campaigns.status());
    const StoredCampaign* c = nullptr;
    for (const StoredCampaign& x : *campaigns) {
      if (x.id == req->id()) c = &x;
    }
    if (c == nullptr) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("no campaign ", req->id()));
    }
    CampaignProgress p;
    p.set_id(c->id);
    p.set_total(static_cast<uint32_t>(c->total));
    p.set_done(static_cast<uint32_t>(c->done + c->errors));
    p.set_running(static_cast<uint32_t>(c->running));
    p.set_failed(static_cast<uint32_t>(c->failed));
    p.set_errors(static_cast<uint32_t>(c->errors));
    p.set_finished(!c->finished_at.empty());
    if (!writer->Write(p) || p.finished()) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return grpc::Status::OK;
}

grpc::Status ControllerService::ListRuns(grpc::ServerContext*, const ListRunsRequest* req,
                                         RunList* reply) {
  auto runs = store_.Runs(req->campaign());
  if (!runs.ok()) return ToGrpc(runs.status());
  for (const StoredRun& r : *runs) *reply->add_runs() = ToRunRecord(r);
  return grpc::Status::OK;
}

grpc::Status ControllerService::GetRun(grpc::ServerContext*, const GetRunRequest* req,
                                       RunRecord* reply) {
  auto run = store_.Run(req->id());
  if (!run.ok()) return ToGrpc(run.status());
  *reply = ToRunRecord(*run);
  return grpc::Status::OK;
}

grpc::Status ControllerService::Replay(grpc::ServerContext*, const ReplayRequest* req,
                                       ReplayResult* reply) {
  // Refused before anything, its log included, is written.
  if (auto recorded = LoadRecordedRun(req->run_dir()); !recorded.ok()) {
    return ToGrpc(recorded.status());
  }
  std::string out = req->out_dir().empty() ? StampedDir(req->run_dir() + "/replay") : req->out_dir();
  std::ofstream log(out + ".log");
  BootEnv env = env_;
  env.progress = &log;
  auto report = controller::Replay(req->run_dir(), std::max(1, static_cast<int>(req->times())),
                                   out, env);
  if (!report.ok()) return ToGrpc(report.status());
  *reply = ToProto(*report);
  return grpc::Status::OK;
}

absl::StatusOr<std::string> ControllerSocket(const std::string& address) {
  if (!address.starts_with("unix:") || address.size() == 5) {
    return absl::InvalidArgumentError(
        "--listen must be unix:PATH (a TCP port would let every local user in)");
  }
  return address.substr(5);
}

absl::Status ServeController(const std::string& address, Store& store, const BootEnv& env,
                             std::ostream& out, const std::function<bool()>& stop) {
  auto socket = ControllerSocket(address);
  if (!socket.ok()) return socket.status();
  if (ConnectController(address)) {
    return absl::InvalidArgumentError("a controller already listens at " + address);
  }
  std::filesystem::create_directories(std::filesystem::path(*socket).parent_path());
  if (struct stat st; lstat(socket->c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
      return absl::InvalidArgumentError(*socket +
                                        " exists and is not a socket of ours: not removing it");
    }
    std::filesystem::remove(*socket);  // a stale socket of a controller of ours that died
  }
  auto listener = PeerCheckedListener::Bind(*socket, &out);
  if (!listener.ok()) return absl::UnavailableError(listener.status().message());
  auto service = std::make_unique<ControllerService>(store, env);
  grpc::ServerBuilder builder;  // no port of its own: connections come from the listener
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return absl::UnavailableError("cannot start the gRPC server");
  (*listener)->Serve(server.get());
  out << "controller listening at " << address << "\n";
  while (!stop()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  out << "controller stopping: campaigns in flight stop in order and resume later\n";
  listener->reset();  // no new connections; the socket is removed
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  service.reset();  // joins the campaigns, which see the stop
  return absl::OkStatus();
}

}  // namespace swapchaos::controller
