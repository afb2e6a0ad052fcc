#include "controller/vm/agent_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
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

namespace {
// GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is also gRPC's connect timeout: the TCP
// connect plus the HTTP/2 handshake, here through the relay, QEMU's user
// network and a TCG guest. Set to 20 ms (gRPC raises it to 100), the
// handshake missed it whenever the host was busy, so every attempt was cut
// short and the agent "never answered" while it listened.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& target,
                                          std::chrono::milliseconds connect_timeout,
                                          bool own_connection) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(connect_timeout.count()));
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  // A probe's connection is its own, closed with it, not shared through
  // gRPC's global subchannel pool.
  if (own_connection) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}
}  // namespace

AgentClient::AgentClient(const std::string& target) : target_(target) {
  stub_ = agent::Agent::NewStub(NewChannel(target, std::chrono::seconds(20), false));
}

absl::StatusOr<agent::InfoReply> AgentClient::WaitReady(
    std::chrono::steady_clock::time_point deadline,
    const std::function<absl::Status()>& still_booting) {
  using std::chrono::milliseconds;
  const auto start = std::chrono::steady_clock::now();
  grpc::Status last;
  for (auto now = start; now < deadline; now = std::chrono::steady_clock::now()) {
    if (absl::Status s = still_booting(); !s.ok()) return s;
    // Each attempt on a fresh connection with its own time budget. Until the
    // guest's network is up, an attempt hangs (QEMU accepted, the guest
    // never answers) for its whole budget, so a small budget sees the agent
    // soon after it listens; a budget that grows with the boot (a quarter
    // of the time spent so far) lets a host slow enough to boot slowly
    // also finish the handshake slowly.
    auto budget = std::clamp(std::chrono::duration_cast<milliseconds>(now - start) / 4,
                             milliseconds(500), milliseconds(10000));
    auto probe = agent::Agent::NewStub(NewChannel(target_, budget, true));
    grpc::ClientContext ctx;
    SetDeadline(ctx, std::min<std::chrono::steady_clock::duration>(budget, deadline - now));
    ctx.set_wait_for_ready(true);
    agent::InfoReply reply;
    last = probe->Info(&ctx, agent::InfoRequest(), &reply);
    if (last.ok()) return reply;
    std::this_thread::sleep_for(milliseconds(100));
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
