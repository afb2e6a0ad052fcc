#include "controller/run/plant.h"

#include <signal.h>

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
  process::Subprocess& server = run_.nbd_server().process();
  if (!server.Running()) return absl::FailedPreconditionError("nbd-server is not running");
  server.Signal(signo);
  if (signo == SIGKILL) held_down_ = true;
  return absl::OkStatus();
}

std::string RunPlant::KeepServing() {
  process::Subprocess& server = run_.nbd_server().process();
  if (held_down_ || server.Running()) return "";
  std::string ended = server.DescribeExit();
  absl::Status s = run_.nbd_server().Restart();
  return absl::StrCat("nbd-server ", ended, " (its connection ended); ",
                      s.ok() ? "listening again" : "restart failed: " + std::string(s.message()));
}

std::string RunPlant::ServerState() {
  process::Subprocess& server = run_.nbd_server().process();
  if (!server.Running()) return "dead";
  std::ifstream stat(absl::StrCat("/proc/", server.pid(), "/stat"));
  std::string line;
  std::getline(stat, line);
  return line.find(") T ") != std::string::npos ? "stopped" : "running";
}

absl::Status RunPlant::RestartServer() {
  absl::Status s = run_.nbd_server().Restart();
  if (s.ok()) held_down_ = false;
  return s;
}

uint16_t RunPlant::NbdPort() const { return topology::kNbdPort; }

}  // namespace swapchaos::controller
