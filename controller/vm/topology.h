#ifndef SWAPCHAOS_CONTROLLER_VM_TOPOLOGY_H_
#define SWAPCHAOS_CONTROLLER_VM_TOPOLOGY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "controller/vm/agent_relay.h"
#include "controller/vm/netns.h"
#include "controller/vm/qemu.h"

namespace swapchaos::controller {

// The network of one run. Every run uses the same addresses inside its own
// namespace, so parallel runs never collide and no packet leaves the host.
// Documentation ranges (RFC 5737) make clear these reach no real host.
//
//  victim data0 192.0.2.2 --br0-- 192.0.2.1 wire data0 [fwd] wire data1 198.51.100.1
//     (tap vic0)                  (tap wa0)                (tap wb0) -- 198.51.100.2 nbd-server
namespace topology {
inline constexpr char kVictimData[] = "192.0.2.2/24";
inline constexpr char kWireA[] = "192.0.2.1/24";
inline constexpr char kWireB[] = "198.51.100.1/24";
inline constexpr char kServerIp[] = "198.51.100.2";
inline constexpr char kServerCidr[] = "198.51.100.2/24";
inline constexpr uint16_t kNbdPort = 10809;
// The agent listens on the control NIC only: QEMU user networking's guest address.
inline constexpr char kGuestControlIp[] = "10.0.2.15";
inline constexpr uint16_t kAgentPort = 50051;
// Where QEMU forwards each agent to, on the run namespace's own loopback:
// the same in every run, since no one else's ports live there.
inline constexpr uint16_t kVictimControlPort = 40001;
inline constexpr uint16_t kWireControlPort = 40002;
inline constexpr char kControlMac[] = "52:54:00:5c:00:01";
// Data NICs share an L2 segment, so each needs its own MAC.
inline constexpr char kVictimDataMac[] = "52:54:00:5c:01:02";
inline constexpr char kWireAMac[] = "52:54:00:5c:02:02";
inline constexpr char kWireBMac[] = "52:54:00:5c:02:03";
}  // namespace topology

// The host half: namespace, bridge and taps, the server's address and its
// route back to the victim. Owns the tap descriptors until QEMU gets them.
struct RunNetwork {
  ~RunNetwork();
  std::unique_ptr<NetNamespace> ns;
  int victim_tap = -1;
  int wire_a_tap = -1;
  int wire_b_tap = -1;
};

absl::StatusOr<std::unique_ptr<RunNetwork>> CreateRunNetwork();

enum class GuestRole { kVictim, kWire };

// The swapchaos.* kernel parameters the guest init applies for `role`:
// NIC names and addresses by MAC, routes, forwarding, the agent's address.
std::string GuestParams(GuestRole role);

// Where one VM's files go: console and QEMU log in the results directory,
// the QMP socket in the run's scratch directory.
struct VmPaths {
  std::string out_dir;
  std::string work_dir;
};

// The QEMU shapes of a run's two VMs on `net`: QEMU inside the run's
// namespace, the control NIC forwarded from that namespace's 127.0.0.1
// (kVictimControlPort, kWireControlPort), data NICs on the run's taps.
QemuSpec VictimQemuSpec(const RunNetwork& net, const std::string& kernel, const std::string& initrd,
                        uint32_t memory_mib, uint32_t cpus, const std::string& accel,
                        const VmPaths& paths);
QemuSpec WireQemuSpec(const RunNetwork& net, const std::string& kernel, const std::string& initrd,
                      const std::string& accel, const VmPaths& paths);

// The controller's way to a VM's agent (agent_relay.h): a Unix socket in
// the run's work directory, `role`-agent.sock.
absl::StatusOr<std::unique_ptr<AgentRelay>> StartAgentRelay(const RunNetwork& net, GuestRole role,
                                                            const std::string& work_dir);

// A port on 127.0.0.1 that nothing listens on now (agents run on the host,
// as the controller benchmark runs them).
absl::StatusOr<uint16_t> FreeLoopbackPort();

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_VM_TOPOLOGY_H_
