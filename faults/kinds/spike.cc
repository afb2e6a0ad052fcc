// A memory spike in the victim: a process touching (and maybe mlocking)
// N MiB and checking every page, for the fault's duration.
#include "absl/strings/str_cat.h"
#include "faults/kinds/rpc.h"

namespace swapchaos::faults {
namespace {

constexpr char kTarget[] = "victim spike";
constexpr uint32_t kBackstopS = 30;

std::string Describe(const agent::SpikeState& s) {
  if (!s.running()) return absl::StrCat("spike ", s.pid(), " ended: ", s.ended());
  std::string full = s.full()
                         ? absl::StrCat(", full ", s.full_after_ms() / 1000.0, " s after its start")
                         : ", never full";
  return absl::StrCat("spike ", s.pid(), " resident ", s.rss_kib() >> 10, " MiB, locked ",
                      s.locked_kib() >> 10, " MiB", full);
}

class Spike final : public FaultKind {
 public:
  std::optional<Invalid> Validate(const scenario::Fault& f) const override {
    if (f.spike().mib() == 0 || f.spike().mib() > (1u << 20)) {
      return Invalid{"spike.mib", "must be 1..1048576"};
    }
    return std::nullopt;
  }
  std::vector<std::string> Targets(const scenario::Fault&) const override { return {kTarget}; }
  std::vector<Outcome> Apply(const scenario::Fault& f, uint32_t index,
                             Plant& plant) const override {
    agent::SpikeRequest req;
    req.set_mib(f.spike().mib());
    req.set_mlock(f.spike().mlock());
    req.set_seed(plant.Seed() * 1000003 + index);
    // Its own end, should the stop never reach a stalled agent; later than
    // the revert, which reads what it held first.
    req.set_seconds(static_cast<uint32_t>(f.for_s()) + kBackstopS);
    agent::SpikeReply reply;
    Outcome o{.target = kTarget};
    // No read-back call: the spike is in effect once its child has its
    // parameters (the reply says so), and from then on it takes the memory
    // a second call would need. The revert reads what it held.
    o.status = CallAgent(plant, Vm::kVictim, &agent::Agent::StubInterface::Spike, req, &reply);
    if (!o.status.ok()) return {o};
    o.handle = std::to_string(reply.pid());
    o.in_effect = o.matches = true;
    o.readback = absl::StrCat("spike ", reply.pid(), " started: ", f.spike().mib(), " MiB",
                              f.spike().mlock() ? ", locked" : "");
    return {o};
  }
  std::vector<Outcome> Revert(const scenario::Fault&, Plant& plant,
                              const std::vector<Outcome>& applied) const override {
    Outcome o{.target = kTarget};
    if (applied.empty() || applied[0].handle.empty()) {
      o.matches = true;  // never started: nothing to stop
      o.readback = "never started";
      return {o};
    }
    agent::SpikeRef ref;
    ref.set_pid(std::stoi(applied[0].handle));
    // What it held at its end, before it is stopped: the record of the spike.
    agent::SpikeState held, state;
    o.status = CallAgent(plant, Vm::kVictim, &agent::Agent::StubInterface::ReadSpike, ref, &held);
    if (o.status.ok()) {
      o.status =
          CallAgent(plant, Vm::kVictim, &agent::Agent::StubInterface::StopSpike, ref, &state);
    }
    o.in_effect = state.running();
    o.matches = o.status.ok() && !state.running();
    o.readback = absl::StrCat(Describe(held), "; stopped: ", state.ended());
    return {o};
  }
};

}  // namespace

const FaultKind& SpikeKind() {
  static const Spike kind;
  return kind;
}

}  // namespace swapchaos::faults
