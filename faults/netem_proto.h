#ifndef SWAPCHAOS_FAULTS_NETEM_PROTO_H_
#define SWAPCHAOS_FAULTS_NETEM_PROTO_H_

#include "faults/netem.h"
#include "swapchaos/agent.pb.h"

// netem between its wire form (proto: scenario files, the agent's RPCs) and
// the fault library's. A library of its own, so the fault library itself
// depends on nothing of ours. The proto states Gilbert-Elliott loss as loss
// rates per state; the kernel as 1-h and 1-k.
namespace swapchaos::faults {

NetemParams FromProto(const agent::Netem& n);
agent::Netem ToProto(const NetemParams& p);

}  // namespace swapchaos::faults

#endif  // SWAPCHAOS_FAULTS_NETEM_PROTO_H_
