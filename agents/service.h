#ifndef SWAPCHAOS_AGENTS_SERVICE_H_
#define SWAPCHAOS_AGENTS_SERVICE_H_

#include <memory>
#include <map>
#include <mutex>

#include "agents/nbd/reconnect.h"
#include "agents/workload/anon_mmap.h"
#include "agents/workload/spike.h"
#include "faults/sysctl.h"
#include "swapchaos/agent.grpc.pb.h"

namespace swapchaos::agents {

// The Agent gRPC service: a thin translation from RPCs to the nbd, swap,
// telemetry and workload libraries. Thread-safe.
class AgentService final : public agent::Agent::Service {
 public:
  AgentService(agent::Role role, bool memory_locked);

  grpc::Status Info(grpc::ServerContext* ctx, const agent::InfoRequest* req,
                    agent::InfoReply* reply) override;
  grpc::Status SwapConnect(grpc::ServerContext* ctx, const agent::SwapConnectRequest* req,
                           agent::SwapStatus* reply) override;
  grpc::Status GetSwapStatus(grpc::ServerContext* ctx, const agent::SwapStatusRequest* req,
                             agent::SwapStatus* reply) override;
  grpc::Status Telemetry(grpc::ServerContext* ctx, const agent::TelemetryRequest* req,
                         grpc::ServerWriter<agent::Sample>* writer) override;
  grpc::Status Spike(grpc::ServerContext* ctx, const agent::SpikeRequest* req,
                     agent::SpikeReply* reply) override;
  grpc::Status StartWorkload(grpc::ServerContext* ctx, const agent::WorkloadRequest* req,
                             agent::WorkloadReply* reply) override;
  grpc::Status Shutdown(grpc::ServerContext* ctx, const agent::ShutdownRequest* req,
                        agent::ShutdownReply* reply) override;
  grpc::Status ApplyNetem(grpc::ServerContext* ctx, const agent::NetemRequest* req,
                          agent::NetemState* reply) override;
  grpc::Status ReadNetem(grpc::ServerContext* ctx, const agent::NicRequest* req,
                         agent::NetemState* reply) override;
  grpc::Status RevertNetem(grpc::ServerContext* ctx, const agent::NicRequest* req,
                           agent::NetemState* reply) override;
  grpc::Status SetLink(grpc::ServerContext* ctx, const agent::LinkRequest* req,
                       agent::LinkState* reply) override;
  grpc::Status ReadLink(grpc::ServerContext* ctx, const agent::NicRequest* req,
                        agent::LinkState* reply) override;
  grpc::Status SetSysctl(grpc::ServerContext* ctx, const agent::SysctlRequest* req,
                         agent::SysctlState* reply) override;
  grpc::Status RestoreSysctl(grpc::ServerContext* ctx, const agent::SysctlRequest* req,
                             agent::SysctlState* reply) override;
  grpc::Status ScanTcp(grpc::ServerContext* ctx, const agent::ScanTcpRequest* req,
                       agent::ScanTcpReply* reply) override;
  grpc::Status BenchNetem(grpc::ServerContext* ctx, const agent::BenchNetemRequest* req,
                          agent::BenchNetemReply* reply) override;
  grpc::Status ReadSpike(grpc::ServerContext* ctx, const agent::SpikeRef* req,
                         agent::SpikeState* reply) override;
  grpc::Status StopSpike(grpc::ServerContext* ctx, const agent::SpikeRef* req,
                         agent::SpikeState* reply) override;

 private:
  const agent::Role role_;
  const bool memory_locked_;
  // The workload's tasks, with the kernel's view of each running one.
  void AddTasks(agent::Sample* sample);

  agent::SpikeState SpikeStatus(int32_t pid);

  std::mutex mu_;
  agent::SwapStatus swap_;                                // guarded by mu_
  std::unique_ptr<workload::AnonMmapWorkload> workload_;  // guarded by mu_
  std::unique_ptr<nbd::Reconnector> reconnector_;         // guarded by mu_
  // Spikes started here: pid -> how it ended ("" while running).
  std::map<int32_t, std::string> spikes_;  // guarded by mu_
  faults::VmSysctls sysctls_;
  // The victim's spikes, forked before any pressure; last, so it goes
  // (reaping its children into spikes_) before what it reports into.
  std::unique_ptr<workload::SpikePool> spike_pool_;
};

}  // namespace swapchaos::agents

#endif  // SWAPCHAOS_AGENTS_SERVICE_H_
