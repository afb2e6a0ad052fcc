// netem as three kinds: on the wire (any parameters, per direction), the
// blackhole (every NBD packet dropped on the wire) and on the victim's own
// NIC (the injector under pressure).
#include "absl/strings/str_cat.h"
#include "faults/kinds/rpc.h"
#include "faults/netem.h"
#include "faults/netem_proto.h"

namespace swapchaos::faults {
namespace {

struct NetemTarget {
  Vm vm;
  std::string nic;
};

std::string TargetName(const NetemTarget& t) {
  return absl::StrCat(VmName(t.vm), " ", t.nic, " qdisc");
}

std::string Describe(const agent::NetemState& s) {
  if (!s.present()) return "no netem";
  NetemParams p = FromProto(s.netem());
  std::string out = absl::StrCat("netem loss ", p.loss * 100, "%");
  if (p.ge_p > 0) absl::StrAppend(&out, " (Gilbert-Elliott p ", p.ge_p, " r ", p.ge_r, ")");
  if (p.delay_us > 0) absl::StrAppend(&out, ", delay ", p.delay_us, " us +- ", p.jitter_us);
  if (p.corrupt > 0) absl::StrAppend(&out, ", corrupt ", p.corrupt * 100, "%");
  if (p.duplicate > 0) absl::StrAppend(&out, ", duplicate ", p.duplicate * 100, "%");
  if (p.reorder > 0) absl::StrAppend(&out, ", reorder ", p.reorder * 100, "%");
  if (p.rate_bytes_per_s > 0) absl::StrAppend(&out, ", rate ", p.rate_bytes_per_s, " B/s");
  absl::StrAppend(&out, s.tcp_port() ? absl::StrCat(", TCP port ", s.tcp_port(), " only")
                                     : ", all traffic");
  if (s.netem().has_seed()) absl::StrAppend(&out, ", PRNG seed ", s.netem().seed());
  return out;
}

Outcome ApplyOn(const NetemTarget& t, agent::Netem params, uint16_t port, uint32_t index,
                Plant& plant) {
  // netem's own PRNG from the run's seed, one stream per fault; kernels
  // before 6.3 ignore it (the read-back then shows none).
  if (!params.has_seed()) params.set_seed(plant.Seed() * 1000003 + index);
  agent::NetemRequest req;
  req.set_iface(t.nic);
  *req.mutable_netem() = params;
  req.set_tcp_port(port);
  agent::NetemState state;
  Outcome o{.target = TargetName(t)};
  o.status = CallAgent(plant, t.vm, &agent::Agent::StubInterface::ApplyNetem, req, &state);
  o.in_effect = state.present();
  o.matches = o.status.ok() && state.present() && state.tcp_port() == port &&
              SameEffect(FromProto(params), FromProto(state.netem()));
  o.readback = Describe(state);
  return o;
}

Outcome RevertOn(const NetemTarget& t, Plant& plant) {
  agent::NicRequest req;
  req.set_iface(t.nic);
  agent::NetemState state;
  Outcome o{.target = TargetName(t)};
  o.status = CallAgent(plant, t.vm, &agent::Agent::StubInterface::RevertNetem, req, &state);
  o.in_effect = state.present();
  o.matches = o.status.ok() && !state.present();
  o.readback = Describe(state);
  return o;
}

std::optional<Invalid> CheckScope(const std::string& field, const std::string& scope) {
  if (scope.empty() || scope == "all" || scope == "nbd") return std::nullopt;
  return Invalid{field, "must be all or nbd"};
}

std::optional<Invalid> CheckParams(const std::string& field, const agent::Netem& n) {
  if (absl::Status s = Validate(FromProto(n)); !s.ok()) {
    return Invalid{field, std::string(s.message())};
  }
  return std::nullopt;
}

// The shared shape: a list of NICs, one netem on each.
class NetemLike : public FaultKind {
 public:
  virtual std::vector<NetemTarget> Nics(const scenario::Fault& f) const = 0;
  virtual agent::Netem Params(const scenario::Fault& f) const = 0;
  virtual bool NbdOnly(const scenario::Fault& f) const = 0;

  std::vector<std::string> Targets(const scenario::Fault& f) const override {
    std::vector<std::string> out;
    for (const NetemTarget& t : Nics(f)) out.push_back(TargetName(t));
    return out;
  }
  std::vector<Outcome> Apply(const scenario::Fault& f, uint32_t index,
                             Plant& plant) const override {
    std::vector<Outcome> out;
    uint16_t port = NbdOnly(f) ? plant.NbdPort() : 0;
    for (const NetemTarget& t : Nics(f)) out.push_back(ApplyOn(t, Params(f), port, index, plant));
    return out;
  }
  std::vector<Outcome> Revert(const scenario::Fault& f, Plant& plant,
                              const std::vector<Outcome>&) const override {
    std::vector<Outcome> out;
    for (const NetemTarget& t : Nics(f)) out.push_back(RevertOn(t, plant));
    return out;
  }
};

std::vector<NetemTarget> OnWire(const std::string& direction) {
  std::vector<NetemTarget> out;
  for (const std::string& nic : WireNics(direction)) out.push_back({Vm::kWire, nic});
  return out;
}

class WireNetem final : public NetemLike {
 public:
  std::optional<Invalid> Validate(const scenario::Fault& f) const override {
    if (auto bad = CheckDirection("netem.direction", f.netem().direction())) return bad;
    if (auto bad = CheckScope("netem.scope", f.netem().scope())) return bad;
    return CheckParams("netem.params", f.netem().params());
  }
  std::vector<NetemTarget> Nics(const scenario::Fault& f) const override {
    return OnWire(f.netem().direction());
  }
  agent::Netem Params(const scenario::Fault& f) const override { return f.netem().params(); }
  bool NbdOnly(const scenario::Fault& f) const override { return f.netem().scope() == "nbd"; }
};

class Blackhole final : public NetemLike {
 public:
  std::optional<Invalid> Validate(const scenario::Fault& f) const override {
    return CheckDirection("blackhole.direction", f.blackhole().direction());
  }
  std::vector<NetemTarget> Nics(const scenario::Fault& f) const override {
    return OnWire(f.blackhole().direction());
  }
  agent::Netem Params(const scenario::Fault&) const override {
    agent::Netem n;
    n.set_loss(1);
    return n;
  }
  bool NbdOnly(const scenario::Fault&) const override { return true; }
};

class VictimNetem final : public NetemLike {
 public:
  std::optional<Invalid> Validate(const scenario::Fault& f) const override {
    if (auto bad = CheckScope("victim_netem.scope", f.victim_netem().scope())) return bad;
    return CheckParams("victim_netem.params", f.victim_netem().params());
  }
  std::vector<NetemTarget> Nics(const scenario::Fault&) const override {
    return {{Vm::kVictim, "data0"}};
  }
  agent::Netem Params(const scenario::Fault& f) const override {
    return f.victim_netem().params();
  }
  bool NbdOnly(const scenario::Fault& f) const override {
    return f.victim_netem().scope() == "nbd";
  }
};

}  // namespace

const FaultKind& WireNetemKind() {
  static const WireNetem kind;
  return kind;
}
const FaultKind& BlackholeKind() {
  static const Blackhole kind;
  return kind;
}
const FaultKind& VictimNetemKind() {
  static const VictimNetem kind;
  return kind;
}

}  // namespace swapchaos::faults
