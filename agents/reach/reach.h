// What a guest can reach: a TCP connect to each port of an address, many
// at once. The run's proof that the guest under test reaches the NBD
// server and nothing else of the host's.
#ifndef SWAPCHAOS_AGENTS_REACH_REACH_H_
#define SWAPCHAOS_AGENTS_REACH_REACH_H_

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace swapchaos::agents {

struct ReachScan {
  std::vector<uint16_t> open;  // the connect completed: something listens
  uint32_t refused = 0;        // a reset: the address lives, the port is closed
  uint32_t silent = 0;         // no answer within the timeout
  uint32_t unreachable = 0;    // no route, or the next hop never answered ARP
};

// Connects to `ipv4`:first..last (but not `skip`), `parallel` at a time,
// each given `timeout`. InvalidArgument for an address or range that is not
// one. 32 by default, not 256: measured on a loaded host (QEMU 7.2 TCG,
// tap), 256 SYNs at once from a guest filled its virtio-net TX ring and it
// never drained again ("NETDEV WATCHDOG: ... transmit queue 0 timed out"
// for the rest of the run): the address scanned looked silent.
absl::StatusOr<ReachScan> ScanTcp(const std::string& ipv4, uint32_t first, uint32_t last,
                                  const std::set<uint32_t>& skip, std::chrono::milliseconds timeout,
                                  int parallel = 32);

}  // namespace swapchaos::agents

#endif  // SWAPCHAOS_AGENTS_REACH_REACH_H_
