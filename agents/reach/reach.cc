#include "agents/reach/reach.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace swapchaos::agents {
namespace {

// A connect's end by its errno: a reset, no route or no next hop, or
// anything else (counted as silent: nothing answered).
void Count(int err, ReachScan& scan) {
  if (err == ECONNREFUSED) {
    ++scan.refused;
  } else if (err == EHOSTUNREACH || err == ENETUNREACH) {
    ++scan.unreachable;
  } else {
    ++scan.silent;
  }
}

}  // namespace

absl::StatusOr<ReachScan> ScanTcp(const std::string& ipv4, uint32_t first, uint32_t last,
                                  const std::set<uint32_t>& skip,
                                  std::chrono::milliseconds timeout, int parallel) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  if (inet_pton(AF_INET, ipv4.c_str(), &a.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("address: not an IPv4 address: '", ipv4, "'"));
  }
  if (first < 1 || first > last || last > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("ports: need 1 <= first <= last <= 65535, got ", first, "..", last));
  }
  if (timeout.count() < 1 || timeout.count() > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat("timeout_ms: need 1..10000, got ", timeout.count()));
  }
  if (parallel < 1 || parallel > 1024) {
    return absl::InvalidArgumentError(absl::StrCat("parallel: need 1..1024, got ", parallel));
  }
  ReachScan scan;
  uint32_t port = first;
  while (port <= last) {
    // A batch of connects in flight, then every one settled or timed out.
    std::vector<pollfd> fds;
    std::vector<uint16_t> ports;
    for (; port <= last && static_cast<int>(fds.size()) < parallel; ++port) {
      if (skip.contains(port)) continue;
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        for (const pollfd& p : fds) close(p.fd);
        return absl::ResourceExhaustedError(absl::StrCat("socket: ", std::strerror(errno)));
      }
      a.sin_port = htons(static_cast<uint16_t>(port));
      if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        scan.open.push_back(static_cast<uint16_t>(port));
        close(fd);
      } else if (errno == EINPROGRESS) {
        fds.push_back({fd, POLLOUT, 0});
        ports.push_back(static_cast<uint16_t>(port));
      } else {
        Count(errno, scan);
        close(fd);
      }
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t settled = 0;
    while (settled < fds.size()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || poll(fds.data(), fds.size(), static_cast<int>(left.count())) <= 0) {
        break;
      }
      for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fds[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) {
          scan.open.push_back(ports[i]);
        } else {
          Count(err, scan);
        }
        close(fds[i].fd);
        fds[i].fd = -1;  // poll skips it
        ++settled;
      }
    }
    for (const pollfd& p : fds) {
      if (p.fd >= 0) {
        close(p.fd);
        ++scan.silent;
      }
    }
  }
  return scan;
}

}  // namespace swapchaos::agents
