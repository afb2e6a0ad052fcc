#ifndef SWAPCHAOS_AGENTS_NBD_RECONNECT_H_
#define SWAPCHAOS_AGENTS_NBD_RECONNECT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "agents/nbd/netlink.h"

namespace swapchaos::agents::nbd {

struct ReconnectTarget {
  std::string host;
  uint16_t port = 0;
  std::string export_name;
};

// The waits between attempts: from 200 ms doubling to 5 s. A restarted
// server listens within a second or two; a cut link may stay cut for
// minutes, and attempts then must not flood the wire the moment it heals.
std::chrono::milliseconds ReconnectBackoff(int attempt);

// What no released nbd-client does: on every NBD_CMD_LINK_DEAD the kernel
// announces, connect again, negotiate, and hand the socket over with
// NBD_CMD_RECONFIGURE, retrying with backoff until it takes. The kernel
// holds requests meanwhile for up to the dead-connection timeout, and a
// reconnect after it still clears the device's disconnected state.
class Reconnector {
 public:
  // Listens from the moment it returns: a link dying later is not missed.
  static absl::StatusOr<std::unique_ptr<Reconnector>> Start(ReconnectTarget target);
  ~Reconnector();  // stops the thread

  uint32_t link_deaths() const { return link_deaths_; }
  uint32_t reconnects() const { return reconnects_; }

 private:
  Reconnector(ReconnectTarget t, std::unique_ptr<LinkDeadListener> l)
      : target_(std::move(t)), listener_(std::move(l)) {}
  void Loop();
  // Attempts until one takes or the agent stops; true when it took.
  bool Reconnect(uint32_t index);

  const ReconnectTarget target_;
  std::unique_ptr<LinkDeadListener> listener_;
  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> link_deaths_{0};
  std::atomic<uint32_t> reconnects_{0};
  std::thread thread_;
};

}  // namespace swapchaos::agents::nbd

#endif  // SWAPCHAOS_AGENTS_NBD_RECONNECT_H_
