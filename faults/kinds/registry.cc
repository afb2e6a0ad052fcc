#include "faults/kinds/kind.h"
#include "faults/kinds/rpc.h"

namespace swapchaos::faults {

// One per file of this folder.
const FaultKind& WireNetemKind();
const FaultKind& BlackholeKind();
const FaultKind& VictimNetemKind();
const FaultKind& LinkDownKind();
const FaultKind& CablePullKind();
const FaultKind& NbdServerKind();
const FaultKind& SpikeKind();
const FaultKind& VmSysctlKind();

const FaultKind* FindFaultKind(const scenario::Fault& f) {
  using F = scenario::Fault;
  switch (f.kind_case()) {
    case F::kNetem: return &WireNetemKind();
    case F::kBlackhole: return &BlackholeKind();
    case F::kVictimNetem: return &VictimNetemKind();
    case F::kLinkDown: return &LinkDownKind();
    case F::kCablePull: return &CablePullKind();
    case F::kNbdServer: return &NbdServerKind();
    case F::kSpike: return &SpikeKind();
    case F::kVmSysctl: return &VmSysctlKind();
    case F::KIND_NOT_SET: return nullptr;
  }
  return nullptr;
}

const char* VmName(Vm vm) { return vm == Vm::kVictim ? "victim" : "wire"; }

std::vector<std::string> WireNics(const std::string& direction) {
  if (direction == "to_server") return {"data1"};
  if (direction == "to_victim") return {"data0"};
  if (direction == "both") return {"data0", "data1"};
  return {};
}

std::optional<Invalid> CheckDirection(const std::string& field, const std::string& direction) {
  if (!WireNics(direction).empty()) return std::nullopt;
  return Invalid{field, "must be to_server, to_victim or both"};
}

}  // namespace swapchaos::faults
