#ifndef SWAPCHAOS_CONTROLLER_VM_AGENT_CLIENT_H_
#define SWAPCHAOS_CONTROLLER_VM_AGENT_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "swapchaos/agent.grpc.pb.h"

namespace swapchaos::controller {

// The controller's side of one guest agent, reached over the VM's control
// NIC (a QEMU host forward on 127.0.0.1).
class AgentClient {
 public:
  // `target`: a gRPC address, "unix:PATH" (a run's agent relay) or
  // "127.0.0.1:PORT" (an agent on the host).
  explicit AgentClient(const std::string& target);

  // Calls Info until it answers. Gives up at `deadline`, or as soon as
  // `still_booting` says the guest cannot come (QEMU exited, say).
  absl::StatusOr<agent::InfoReply> WaitReady(std::chrono::steady_clock::time_point deadline,
                                             const std::function<absl::Status()>& still_booting);

  absl::StatusOr<agent::SwapStatus> SwapConnect(const agent::SwapConnectRequest& req);
  absl::StatusOr<agent::SpikeReply> Spike(const agent::SpikeRequest& req);
  absl::Status Shutdown();

  agent::Agent::Stub& stub() { return *stub_; }

 private:
  std::string target_;
  std::unique_ptr<agent::Agent::Stub> stub_;
};

// absl and gRPC number their codes alike.
absl::Status FromGrpc(const grpc::Status& s, const std::string& what);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_VM_AGENT_CLIENT_H_
