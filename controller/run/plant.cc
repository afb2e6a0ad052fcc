#include "controller/run/plant.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "controller/vm/topology.h"

namespace swapchaos::controller {

agent::Agent::StubInterface& RunPlant::Agent(faults::Vm vm) {
  return (vm == faults::Vm::kVictim ? run_.victim_agent() : run_.wire_agent()).stub();
}

absl::Status RunPlant::SetCable(faults::Vm vm, const std::string& nic, bool connected) {
  return (vm == faults::Vm::kVictim ? run_.victim_vm() : run_.wire_vm()).SetLink(nic, connected);
}

absl::Status RunPlant::SignalServer(int signo) {
  Subprocess& server = run_.nbd_server().process();
  if (!server.Running()) return absl::FailedPreconditionError("nbd-server is not running");
  server.Signal(signo);
  return absl::OkStatus();
}

std::string RunPlant::ServerState() {
  Subprocess& server = run_.nbd_server().process();
  if (!server.Running()) return "dead";
  std::ifstream stat(absl::StrCat("/proc/", server.pid(), "/stat"));
  std::string line;
  std::getline(stat, line);
  return line.find(") T ") != std::string::npos ? "stopped" : "running";
}

absl::Status RunPlant::RestartServer() { return run_.nbd_server().Restart(); }

uint16_t RunPlant::NbdPort() const { return topology::kNbdPort; }

}  // namespace swapchaos::controller
