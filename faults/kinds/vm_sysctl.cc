// A vm.* sysctl in the victim (vm.min_free_kbytes, ...) for the fault's
// duration, then its first value back.
#include "absl/strings/str_cat.h"
#include "faults/kinds/rpc.h"

namespace swapchaos::faults {
namespace {

class VmSysctl final : public FaultKind {
 public:
  std::optional<Invalid> Validate(const scenario::Fault& f) const override {
    const std::string& name = f.vm_sysctl().name();
    if (name.rfind("vm.", 0) != 0 || name.size() <= 3) {
      return Invalid{"vm_sysctl.name", "must name a vm.* sysctl, e.g. vm.min_free_kbytes"};
    }
    const std::string& v = f.vm_sysctl().value();
    if (v.empty() || v.find_first_of(" \t\n") != std::string::npos) {
      return Invalid{"vm_sysctl.value", "must be one word, e.g. 65536"};
    }
    return std::nullopt;
  }
  std::vector<std::string> Targets(const scenario::Fault& f) const override {
    return {absl::StrCat("victim ", f.vm_sysctl().name())};
  }
  std::vector<Outcome> Apply(const scenario::Fault& f, uint32_t, Plant& plant) const override {
    agent::SysctlRequest req;
    req.set_name(f.vm_sysctl().name());
    req.set_value(f.vm_sysctl().value());
    agent::SysctlState state;
    Outcome o{.target = Targets(f)[0]};
    o.status = CallAgent(plant, Vm::kVictim, &agent::Agent::StubInterface::SetSysctl, req, &state);
    // In effect when the kernel holds the value asked, even if it held it before.
    o.in_effect = o.status.ok() && state.value() == f.vm_sysctl().value();
    o.matches = o.in_effect;
    o.readback = absl::StrCat(req.name(), " = ", state.value(), " (was ", state.original(), ")");
    return {o};
  }
  std::vector<Outcome> Revert(const scenario::Fault& f, Plant& plant,
                              const std::vector<Outcome>&) const override {
    agent::SysctlRequest req;
    req.set_name(f.vm_sysctl().name());
    agent::SysctlState state;
    Outcome o{.target = Targets(f)[0]};
    o.status =
        CallAgent(plant, Vm::kVictim, &agent::Agent::StubInterface::RestoreSysctl, req, &state);
    o.in_effect = o.status.ok() && state.value() != state.original();
    o.matches = o.status.ok() && state.value() == state.original();
    o.readback = absl::StrCat(req.name(), " = ", state.value());
    return {o};
  }
};

}  // namespace

const FaultKind& VmSysctlKind() {
  static const VmSysctl kind;
  return kind;
}

}  // namespace swapchaos::faults
