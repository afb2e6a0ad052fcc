#ifndef SWAPCHAOS_FAULTS_KINDS_KIND_H_
#define SWAPCHAOS_FAULTS_KINDS_KIND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "swapchaos/agent.grpc.pb.h"
#include "swapchaos/scenario.pb.h"

// Fault kinds: each one unit (a file here, its tests beside it, a line in
// registry.cc, a field in scenario.Fault's `kind`) that validates its
// parameters, applies itself, reads back what is in effect and reverts.
// Kinds act only through a Plant, which the controller provides.
namespace swapchaos::faults {

enum class Vm { kVictim, kWire };
const char* VmName(Vm vm);

// What a fault can act on during a run.
class Plant {
 public:
  virtual ~Plant() = default;
  // The agent in a VM, for what acts inside a guest.
  virtual agent::Agent::StubInterface& Agent(Vm vm) = 0;
  // QMP set_link on the host: the cable of a VM's NIC (netdev id) in or out.
  virtual absl::Status SetCable(Vm vm, const std::string& nic, bool connected) = 0;
  // The host's nbd-server serving the victim's swap.
  virtual absl::Status SignalServer(int signo) = 0;
  virtual std::string ServerState() = 0;  // "running", "stopped" or "dead"
  virtual absl::Status RestartServer() = 0;
  virtual uint16_t NbdPort() const = 0;
  // The run's seed, for what a fault randomises (netem's own PRNG).
  virtual uint64_t Seed() const = 0;
};

// One step of a fault on one of its targets, as trace.jsonl records it.
struct Outcome {
  std::string target;  // "wire data1 qdisc", "host nbd-server", ...
  absl::Status status;
  bool in_effect = false;  // read back after the step: is the fault there?
  // Apply: the read-back equals the request. Revert: it shows what the
  // revert means (healed; a server killed for good stays dead).
  bool matches = false;
  std::string readback;  // in words, for the trace and the user
  std::string handle;    // kept from apply for revert (a spike's pid)
};

// A parameter the kind refuses; `field` is relative to the fault
// ("netem.direction"), so the scenario loader can name file and line.
struct Invalid {
  std::string field;
  std::string what;
};

class FaultKind {
 public:
  virtual ~FaultKind() = default;
  virtual std::optional<Invalid> Validate(const scenario::Fault& f) const = 0;
  // What it acts on: two faults on one target may not overlap in time.
  virtual std::vector<std::string> Targets(const scenario::Fault& f) const = 0;
  virtual std::vector<Outcome> Apply(const scenario::Fault& f, uint32_t index,
                                     Plant& plant) const = 0;
  // `applied`: what Apply returned (or nothing, when it never ran).
  virtual std::vector<Outcome> Revert(const scenario::Fault& f, Plant& plant,
                                      const std::vector<Outcome>& applied) const = 0;
};

// The kind of `f`, or null when it names none.
const FaultKind* FindFaultKind(const scenario::Fault& f);

}  // namespace swapchaos::faults

#endif  // SWAPCHAOS_FAULTS_KINDS_KIND_H_
