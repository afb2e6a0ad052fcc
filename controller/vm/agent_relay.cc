#include "controller/vm/agent_relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "controller/vm/unix_socket.h"

namespace swapchaos::controller {

absl::StatusOr<std::unique_ptr<AgentRelay>> AgentRelay::Start(const NetNamespace& ns,
                                                              const std::string& socket_path,
                                                              uint16_t port) {
  // The socket's own mode keeps everyone but the controller out, whatever
  // the directory's.
  auto listening = ListenOwnerOnly(socket_path, 16, "agent");
  if (!listening.ok()) return listening.status();
  int fd = *listening;
  // Its own descriptor of the namespace: the relay may outlive no one, but
  // it must not depend on the caller's.
  int ns_fd = fcntl(ns.fd(), F_DUPFD_CLOEXEC, 0);
  if (ns_fd < 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("dup: ", std::strerror(errno)));
  }
  std::unique_ptr<AgentRelay> r(new AgentRelay(ns_fd, fd, socket_path, port));
  r->acceptor_ = std::thread([p = r.get()] { p->Accept(); });
  return r;
}

AgentRelay::AgentRelay(int ns_fd, int listen_fd, std::string path, uint16_t port)
    : ns_fd_(ns_fd), listen_fd_(listen_fd), path_(std::move(path)), port_(port) {}

AgentRelay::~AgentRelay() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  acceptor_.join();
  for (auto& c : connections_) {
    shutdown(c->client, SHUT_RDWR);  // wakes its poll()
    shutdown(c->agent, SHUT_RDWR);
    c->thread.join();
    close(c->client);
    close(c->agent);
  }
  close(listen_fd_);
  close(ns_fd_);
  unlink(path_.c_str());
}

void AgentRelay::ReapFinished() {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(connections_, [](std::unique_ptr<Connection>& c) {
    if (!c->done) return false;
    c->thread.join();
    close(c->client);
    close(c->agent);
    return true;
  });
}

void AgentRelay::Accept() {
  // This thread alone enters the namespace: the TCP sockets it opens are
  // the namespace's, the Unix one it accepts on is the file system's.
  if (setns(ns_fd_, CLONE_NEWNET) != 0) return;
  while (!stopping_) {
    int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR) continue;
      return;  // shut down
    }
    // gRPC dials again and again while a guest boots: connections that
    // ended are closed here, not kept until the run ends.
    ReapFinished();
    int agent = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (agent < 0) {
      close(client);
      continue;
    }
    auto c = std::make_unique<Connection>();
    c->client = client;
    c->agent = agent;
    // Connected in the connection's own thread (the socket, made here, is
    // the namespace's): a connect that hangs, its SYN unanswered while QEMU
    // is slow to accept, holds up that connection alone, not every later one.
    c->thread = std::thread([this, p = c.get()] { Carry(p, port_); });
    std::lock_guard<std::mutex> lock(mu_);
    connections_.push_back(std::move(c));
  }
}

void AgentRelay::Carry(Connection* c, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->agent, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    // Not forwarded yet (QEMU starting), or the relay closing: the client
    // sees the connection close and gRPC dials again.
    shutdown(c->client, SHUT_RDWR);
    c->done = true;
    return;
  }
  int one = 1;
  setsockopt(c->agent, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char buf[64 * 1024];
  const int fd[2] = {c->client, c->agent};
  bool open[2] = {true, true};  // each direction: from fd[i] to fd[1 - i]
  while (open[0] || open[1]) {
    // An ended direction's socket leaves the poll set: its POLLHUP would
    // wake poll() at once, forever.
    pollfd p[2] = {{open[0] ? fd[0] : -1, POLLIN, 0}, {open[1] ? fd[1] : -1, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (!open[i] || (p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t n = read(fd[i], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      bool ok = n > 0;
      for (ssize_t off = 0; ok && off < n;) {
        ssize_t w = send(fd[1 - i], buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        ok = w > 0;
        off += ok ? w : 0;
      }
      if (!ok) {
        // This direction ended: pass the end on; a failed write ends both.
        open[i] = false;
        shutdown(fd[1 - i], SHUT_WR);
        if (n > 0) open[1 - i] = false;
      }
    }
  }
  c->done = true;
}

}  // namespace swapchaos::controller
