#include "controller/vm/agent_client.h"

#include <grpcpp/grpcpp.h>

#include <thread>

#include "absl/strings/str_cat.h"

namespace swapchaos::controller {
namespace {
constexpr auto kCallTimeout = std::chrono::seconds(60);

void SetDeadline(grpc::ClientContext& ctx, std::chrono::steady_clock::duration d) {
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(d));
}
}  // namespace

absl::Status FromGrpc(const grpc::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

AgentClient::AgentClient(const std::string& target) {
  grpc::ChannelArguments args;
  // The guest's port is forwarded before the agent listens: retry quickly, so
  // readiness is measured, not the backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  stub_ = agent::Agent::NewStub(grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args));
}

absl::StatusOr<agent::InfoReply> AgentClient::WaitReady(
    std::chrono::steady_clock::time_point deadline,
    const std::function<absl::Status()>& still_booting) {
  grpc::Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (absl::Status s = still_booting(); !s.ok()) return s;
    grpc::ClientContext ctx;
    SetDeadline(ctx, std::chrono::milliseconds(500));
    ctx.set_wait_for_ready(true);
    agent::InfoReply reply;
    last = stub_->Info(&ctx, agent::InfoRequest(), &reply);
    if (last.ok()) return reply;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("agent did not answer (last: ", last.error_message(), ")"));
}

absl::StatusOr<agent::SwapStatus> AgentClient::SwapConnect(const agent::SwapConnectRequest& req) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, kCallTimeout);
  agent::SwapStatus reply;
  if (absl::Status s = FromGrpc(stub_->SwapConnect(&ctx, req, &reply), "SwapConnect"); !s.ok()) {
    return s;
  }
  return reply;
}

absl::StatusOr<agent::SpikeReply> AgentClient::Spike(const agent::SpikeRequest& req) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, kCallTimeout);
  agent::SpikeReply reply;
  if (absl::Status s = FromGrpc(stub_->Spike(&ctx, req, &reply), "Spike"); !s.ok()) return s;
  return reply;
}

absl::Status AgentClient::Shutdown() {
  grpc::ClientContext ctx;
  SetDeadline(ctx, std::chrono::seconds(5));
  agent::ShutdownReply reply;
  return FromGrpc(stub_->Shutdown(&ctx, agent::ShutdownRequest(), &reply), "Shutdown");
}

}  // namespace swapchaos::controller
