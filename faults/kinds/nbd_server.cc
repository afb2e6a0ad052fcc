// The host's nbd-server: frozen and thawed, killed for good, or killed and
// later restarted on the same export (the victim's agent reconnects).
#include <signal.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "faults/kinds/rpc.h"

namespace swapchaos::faults {
namespace {

class NbdServer final : public FaultKind {
 public:
  std::optional<Invalid> Validate(const scenario::Fault& f) const override {
    const std::string& a = f.nbd_server().action();
    if (a == "freeze" || a == "kill" || a == "restart") return std::nullopt;
    return Invalid{"nbd_server.action", "must be freeze, kill or restart"};
  }
  std::vector<std::string> Targets(const scenario::Fault&) const override {
    return {"host nbd-server"};
  }
  std::vector<Outcome> Apply(const scenario::Fault& f, uint32_t, Plant& plant) const override {
    bool freeze = f.nbd_server().action() == "freeze";
    Outcome o{.target = "host nbd-server"};
    o.status = plant.SignalServer(freeze ? SIGSTOP : SIGKILL);
    std::string want = freeze ? "stopped" : "dead";
    std::string state = AwaitState(plant, want);
    o.in_effect = state == want;
    o.matches = o.status.ok() && o.in_effect;
    o.readback = state;
    return {o};
  }
  std::vector<Outcome> Revert(const scenario::Fault& f, Plant& plant,
                              const std::vector<Outcome>&) const override {
    const std::string& action = f.nbd_server().action();
    Outcome o{.target = "host nbd-server"};
    std::string want = "running";
    if (action == "freeze") {
      o.status = plant.SignalServer(SIGCONT);
    } else if (action == "restart") {
      o.status = plant.RestartServer();
    } else {
      want = "dead";  // killed for good: that is the fault
    }
    std::string state = AwaitState(plant, want);
    o.in_effect = state != "running";
    o.matches = o.status.ok() && state == want;
    o.readback = action == "kill" ? absl::StrCat(state, " (killed for good)") : state;
    return {o};
  }

 private:
  static std::string AwaitState(Plant& plant, const std::string& want) {
    std::string state = plant.ServerState();
    for (int i = 0; i < 200 && state != want; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      state = plant.ServerState();
    }
    return state;
  }
};

}  // namespace

const FaultKind& NbdServerKind() {
  static const NbdServer kind;
  return kind;
}

}  // namespace swapchaos::faults
