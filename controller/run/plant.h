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

 private:
  Run& run_;
  const uint64_t seed_;
};

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_RUN_PLANT_H_
