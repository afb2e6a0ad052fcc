#ifndef SWAPCHAOS_AGENTS_NBD_NETLINK_H_
#define SWAPCHAOS_AGENTS_NBD_NETLINK_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"

struct nl_msg;
struct nl_sock;

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

// NBD_CMD_RECONFIGURE of device `index` with a new negotiated socket: the
// kernel puts it in place of the first dead one. Nothing else is sent (a
// size change would freeze the queue while requests are in flight).
NlMsgPtr BuildReconfigureMessage(int family_id, uint32_t index, int sock_fd);
absl::Status Reconfigure(uint32_t index, int sock_fd);

// Subscribes to the nbd family's multicast group, where the kernel
// announces NBD_CMD_LINK_DEAD when a device's socket dies.
class LinkDeadListener {
 public:
  static absl::StatusOr<std::unique_ptr<LinkDeadListener>> Open();
  ~LinkDeadListener();
  LinkDeadListener(const LinkDeadListener&) = delete;
  LinkDeadListener& operator=(const LinkDeadListener&) = delete;

  // The index of the next device whose link died, or DeadlineExceeded
  // after `timeout_ms` without one.
  absl::StatusOr<uint32_t> Next(int timeout_ms);

 private:
  explicit LinkDeadListener(nl_sock* sk) : sk_(sk) {}
  nl_sock* const sk_;
  std::vector<uint32_t> pending_;
};

}  // namespace swapchaos::agents::nbd

#endif  // SWAPCHAOS_AGENTS_NBD_NETLINK_H_
