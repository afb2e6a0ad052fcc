#ifndef SWAPCHAOS_AGENTS_NBD_HANDSHAKE_H_
#define SWAPCHAOS_AGENTS_NBD_HANDSHAKE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace swapchaos::agents::nbd {

struct NbdExport {
  uint64_t size_bytes = 0;
  uint16_t transmission_flags = 0;
  uint32_t preferred_block_size = 4096;
};

// Opens a TCP connection (TCP_NODELAY, as nbd-client does), failing after
// `timeout_ms` with Unavailable naming host and port.
absl::StatusOr<int> ConnectTcp(const std::string& host, uint16_t port, int timeout_ms);

// Fixed-newstyle negotiation on a connected socket: NBD_OPT_GO for
// `export_name`, falling back to NBD_OPT_EXPORT_NAME on servers without GO.
// On success the socket is in the transmission phase, ready to be handed to
// the kernel, with no socket timeouts left set (the kernel reads it with
// MSG_WAITALL; an inherited SO_RCVTIMEO would look like a dead link).
absl::StatusOr<NbdExport> Negotiate(int fd, std::string_view export_name, int timeout_ms);

}  // namespace swapchaos::agents::nbd

#endif  // SWAPCHAOS_AGENTS_NBD_HANDSHAKE_H_
