#ifndef SWAPCHAOS_CONTROLLER_RUN_PLANT_H_
#define SWAPCHAOS_CONTROLLER_RUN_PLANT_H_

#include <cstdint>
#include <string>

#include "controller/run/run.h"
#include "faults/kinds/kind.h"

namespace swapchaos::controller {

// A live run as the fault kinds see it: its agents, its VMs' cables (QMP)
// and its nbd-server.
class RunPlant final : public faults::Plant {
 public:
  RunPlant(Run& run, uint64_t seed) : run_(run), seed_(seed) {}

  agent::Agent::StubInterface& Agent(faults::Vm vm) override;
  absl::Status SetCable(faults::Vm vm, const std::string& nic, bool connected) override;
  absl::Status SignalServer(int signo) override;
  std::string ServerState() override;
  absl::Status RestartServer() override;
  uint16_t NbdPort() const override;
  uint64_t Seed() const override { return seed_; }

  // nbd-server serves one connection (-d, so faults act on the serving
  // process): when that connection ends and no fault holds the server down,
  // a new one listens on the same export, as a forking server would. Call
  // from the run's main loop; returns what it did, for the user, or "".
  std::string KeepServing();

 private:
  Run& run_;
  const uint64_t seed_;
  bool held_down_ = false;  // a kill or restart fault is in effect
};

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_RUN_PLANT_H_
