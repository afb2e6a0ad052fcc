#ifndef SWAPCHAOS_AGENTS_NBD_NETLINK_H_
#define SWAPCHAOS_AGENTS_NBD_NETLINK_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

struct nl_msg;

namespace swapchaos::agents::nbd {

struct ConnectParams {
  int sock_fd = -1;  // negotiated socket, in transmission phase
  int index = -1;    // NBD device index; -1 lets the kernel choose
  uint64_t size_bytes = 0;
  uint64_t block_size = 4096;
  uint64_t server_flags = 0;  // transmission flags from the handshake
  uint32_t timeout_s = 0;     // NBD_ATTR_TIMEOUT; 0 is not sent (kernel default)
  uint32_t dead_conn_timeout_s = 0;
};

struct NlMsgFree {
  void operator()(nl_msg* m) const;
};
using NlMsgPtr = std::unique_ptr<nl_msg, NlMsgFree>;

// The NBD_CMD_CONNECT request for generic netlink family `family_id`.
NlMsgPtr BuildConnectMessage(int family_id, const ConnectParams& params);

// Hands the socket to the kernel's nbd driver (NBD_CMD_CONNECT) and returns
// the device index it bound. The caller may close its fd afterwards: the
// kernel holds its own reference.
absl::StatusOr<uint32_t> Connect(const ConnectParams& params);

}  // namespace swapchaos::agents::nbd

#endif  // SWAPCHAOS_AGENTS_NBD_NETLINK_H_
