#ifndef SWAPCHAOS_CONTROLLER_VM_AGENT_RELAY_H_
#define SWAPCHAOS_CONTROLLER_VM_AGENT_RELAY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/vm/netns.h"

namespace swapchaos::controller {

// The controller's only way to a guest agent. QEMU runs inside the run's
// network namespace, so its forwarded agent port exists on that
// namespace's loopback alone: no user of the host can connect to it, and
// nobody can take the port first. The relay listens on a Unix socket in
// the run's root-only work directory and carries each connection made
// there to the port, over a socket opened inside the namespace. gRPC dials
// the Unix socket and reconnects through it as it would to a port.
class AgentRelay {
 public:
  static absl::StatusOr<std::unique_ptr<AgentRelay>> Start(const NetNamespace& ns,
                                                           const std::string& socket_path,
                                                           uint16_t port);
  ~AgentRelay();  // closes every connection, joins every thread
  AgentRelay(const AgentRelay&) = delete;
  AgentRelay& operator=(const AgentRelay&) = delete;

  // The gRPC target: "unix:PATH".
  std::string target() const { return "unix:" + path_; }

 private:
  AgentRelay(int ns_fd, int listen_fd, std::string path, uint16_t port);
  // One relayed connection: the client's and the agent's sockets, the
  // latter connected, then carried both ways, by one thread until either
  // side ends.
  struct Connection {
    int client, agent;
    std::atomic<bool> done{false};
    std::thread thread;
  };
  void Accept();
  static void Carry(Connection* c, uint16_t port);
  void ReapFinished();

  const int ns_fd_;
  const int listen_fd_;
  const std::string path_;
  const uint16_t port_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::thread acceptor_;
};

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_VM_AGENT_RELAY_H_
