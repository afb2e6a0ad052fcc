#ifndef SWAPCHAOS_FAULTS_KINDS_RPC_H_
#define SWAPCHAOS_FAULTS_KINDS_RPC_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "faults/kinds/kind.h"

// What the kinds share: calling an agent with a bound, and the wire NICs a
// direction names.
namespace swapchaos::faults {

// An agent call that may hang (a guest under memory pressure) ends after this.
inline constexpr std::chrono::seconds kAgentCallBound{20};

template <typename Req, typename Resp>
absl::Status CallAgent(
    Plant& plant, Vm vm,
    grpc::Status (agent::Agent::StubInterface::*method)(grpc::ClientContext*, const Req&, Resp*),
    const Req& req, Resp* resp, std::chrono::milliseconds bound = kAgentCallBound) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + bound);
  grpc::Status st = (plant.Agent(vm).*method)(&ctx, req, resp);
  if (st.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(st.error_code()),
                      std::string(VmName(vm)) + " agent: " + st.error_message());
}

// data1 carries victim-to-server traffic out of the wire, data0 the reverse;
// empty for anything but to_server, to_victim or both.
std::vector<std::string> WireNics(const std::string& direction);
std::optional<Invalid> CheckDirection(const std::string& field, const std::string& direction);

}  // namespace swapchaos::faults

#endif  // SWAPCHAOS_FAULTS_KINDS_RPC_H_
