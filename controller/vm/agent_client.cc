#include "controller/vm/agent_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <list>
#include <optional>

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
  using std::chrono::steady_clock;
  // Info calls, each on a connection of its own, started every 200 ms and
  // left running side by side. Until the guest's network is up an attempt
  // hangs (QEMU accepted, the guest never answers) for its whole budget, so
  // a new one must not wait for it: the agent is seen within 200 ms of
  // listening. The budget grows with the boot (a quarter of the time so
  // far, 1 s to 10 s), so a host busy enough to boot slowly also has time
  // to finish the handshake; at most 8 run at once.
  struct Probe {
    std::unique_ptr<agent::Agent::Stub> stub;
    grpc::ClientContext ctx;
    agent::InfoReply reply;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<agent::InfoReply>> call;
  };
  constexpr auto kEvery = milliseconds(200);
  constexpr size_t kMaxProbes = 8;
  grpc::CompletionQueue cq;
  std::list<Probe> probes;
  const auto start = steady_clock::now();
  auto next_start = start;
  grpc::Status last;
  std::optional<agent::InfoReply> answer;
  absl::Status stopped;
  while (true) {
    auto now = steady_clock::now();
    if (now >= deadline) break;
    stopped = still_booting();
    if (!stopped.ok()) break;
    if (now >= next_start && probes.size() < kMaxProbes) {
      auto budget = std::clamp(std::chrono::duration_cast<milliseconds>(now - start) / 4,
                               milliseconds(1000), milliseconds(10000));
      Probe& p = probes.emplace_back();
      p.stub = agent::Agent::NewStub(NewChannel(target_, budget, true));
      SetDeadline(p.ctx, std::min<steady_clock::duration>(budget, deadline - now));
      p.ctx.set_wait_for_ready(true);
      p.call = p.stub->AsyncInfo(&p.ctx, agent::InfoRequest(), &cq);
      p.call->Finish(&p.reply, &p.status, &p);
      next_start = now + kEvery;
    }
    void* tag;
    bool ok;
    // Until the next start is due, or (at the limit) for a while.
    steady_clock::duration wait = next_start - steady_clock::now();
    if (wait <= steady_clock::duration::zero()) wait = kEvery;
    auto wake = std::chrono::system_clock::now() +
                std::chrono::duration_cast<std::chrono::system_clock::duration>(wait);
    if (cq.AsyncNext(&tag, &ok, wake) != grpc::CompletionQueue::GOT_EVENT) continue;
    auto done = std::find_if(probes.begin(), probes.end(), [&](Probe& p) { return &p == tag; });
    last = done->status;
    if (last.ok()) {
      answer = std::move(done->reply);
      probes.erase(done);
      break;
    }
    probes.erase(done);
  }
  // The probes still running end, cancelled, before what they use goes:
  // after Shutdown, Next returns every pending completion, then false.
  for (Probe& p : probes) p.ctx.TryCancel();
  cq.Shutdown();
  void* tag;
  for (bool ok; cq.Next(&tag, &ok);) {
  }
  if (answer) return *std::move(answer);
  if (!stopped.ok()) return stopped;
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
