// A NIC's link as two kinds: set down inside the wire (rtnetlink), or its
// cable pulled on the host (QMP set_link), read back as the guest sees it.
#include <thread>

#include "absl/strings/str_cat.h"
#include "faults/kinds/rpc.h"

namespace swapchaos::faults {
namespace {

std::string Describe(const agent::LinkState& s) {
  return absl::StrCat(s.iface(), s.admin_up() ? " up" : " down",
                      s.carrier() ? ", carrier" : ", no carrier");
}

class LinkDown final : public FaultKind {
 public:
  std::optional<Invalid> Validate(const scenario::Fault& f) const override {
    return CheckDirection("link_down.direction", f.link_down().direction());
  }
  std::vector<std::string> Targets(const scenario::Fault& f) const override {
    std::vector<std::string> out;
    for (const std::string& nic : WireNics(f.link_down().direction())) {
      out.push_back(absl::StrCat("wire ", nic, " link"));
    }
    return out;
  }
  std::vector<Outcome> Apply(const scenario::Fault& f, uint32_t, Plant& plant) const override {
    return Set(f, plant, false);
  }
  std::vector<Outcome> Revert(const scenario::Fault& f, Plant& plant,
                              const std::vector<Outcome>&) const override {
    return Set(f, plant, true);
  }

 private:
  std::vector<Outcome> Set(const scenario::Fault& f, Plant& plant, bool up) const {
    std::vector<Outcome> out;
    for (const std::string& nic : WireNics(f.link_down().direction())) {
      agent::LinkRequest req;
      req.set_iface(nic);
      req.set_up(up);
      agent::LinkState state;
      Outcome o{.target = absl::StrCat("wire ", nic, " link")};
      o.status = CallAgent(plant, Vm::kWire, &agent::Agent::StubInterface::SetLink, req, &state);
      o.in_effect = o.status.ok() && !state.admin_up();
      o.matches = o.status.ok() && state.admin_up() == up;
      o.readback = Describe(state);
      out.push_back(std::move(o));
    }
    return out;
  }
};

class CablePull final : public FaultKind {
 public:
  std::optional<Invalid> Validate(const scenario::Fault& f) const override {
    const scenario::CablePull& c = f.cable_pull();
    if (c.vm() != "victim" && c.vm() != "wire") return Invalid{"cable_pull.vm", "must be victim or wire"};
    bool nic_ok = c.nic() == "data0" || (c.vm() == "wire" && c.nic() == "data1");
    if (!nic_ok) {
      return Invalid{"cable_pull.nic", c.vm() == "wire" ? "must be data0 or data1 on the wire"
                                                         : "must be data0 on the victim"};
    }
    return std::nullopt;
  }
  std::vector<std::string> Targets(const scenario::Fault& f) const override {
    return {absl::StrCat(f.cable_pull().vm(), " ", f.cable_pull().nic(), " cable")};
  }
  std::vector<Outcome> Apply(const scenario::Fault& f, uint32_t, Plant& plant) const override {
    return {Plug(f, plant, false)};
  }
  std::vector<Outcome> Revert(const scenario::Fault& f, Plant& plant,
                              const std::vector<Outcome>&) const override {
    return {Plug(f, plant, true)};
  }

 private:
  // How long the guest may take to show the new carrier. A victim swapping
  // with its cable out may not answer at all until it is back: the wait is
  // bounded so the timeline (the heal above all) is never held up.
  static constexpr auto kGuestBound = std::chrono::seconds(3);

  Outcome Plug(const scenario::Fault& f, Plant& plant, bool connected) const {
    Vm vm = f.cable_pull().vm() == "victim" ? Vm::kVictim : Vm::kWire;
    const std::string& nic = f.cable_pull().nic();
    Outcome o{.target = Targets(f)[0]};
    // QEMU applies set_link before it answers: its answer is the host's
    // read-back. The guest's carrier confirms it when the guest can answer.
    o.status = plant.SetCable(vm, nic, connected);
    std::string qmp = absl::StrCat("QMP set_link ", connected ? "on" : "off");
    if (!o.status.ok()) return o;
    agent::NicRequest req;
    req.set_iface(nic);
    agent::LinkState state;
    absl::Status guest;
    auto until = std::chrono::steady_clock::now() + kGuestBound;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      guest = CallAgent(plant, vm, &agent::Agent::StubInterface::ReadLink, req, &state,
                        std::max(left, std::chrono::milliseconds(100)));
      if (!guest.ok() || state.carrier() == connected || left.count() <= 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    o.in_effect = !connected;
    if (guest.ok()) {
      o.matches = state.carrier() == connected;
      o.readback = absl::StrCat(qmp, "; guest sees ", Describe(state));
    } else {
      o.matches = true;
      o.readback = absl::StrCat(qmp, " (acknowledged); the guest did not answer within ",
                                kGuestBound.count(), " s: ", guest.message());
    }
    return o;
  }
};

}  // namespace

const FaultKind& LinkDownKind() {
  static const LinkDown kind;
  return kind;
}
const FaultKind& CablePullKind() {
  static const CablePull kind;
  return kind;
}

}  // namespace swapchaos::faults
