#include "agents/reach/reach.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace swapchaos::agents {
namespace {

using std::chrono::milliseconds;

// A listener on 127.0.0.1; its port.
uint16_t Listen(int* fd) {
  *fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  EXPECT_EQ(bind(*fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(listen(*fd, 64), 0);
  getsockname(*fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

TEST(ReachTest, FindsTheListenerAmongClosedPorts) {
  int a_fd, b_fd;
  uint16_t a = Listen(&a_fd), b = Listen(&b_fd);
  uint16_t lo = std::min(a, b), hi = std::max(a, b);
  // The range around both, in batches smaller than it.
  uint32_t first = lo > 300 ? lo - 300u : 1u, last = std::min(65535u, hi + 300u);
  auto scan = ScanTcp("127.0.0.1", first, last, {}, milliseconds(2000), 64);
  ASSERT_TRUE(scan.ok()) << scan.status();
  std::set<uint16_t> open(scan->open.begin(), scan->open.end());
  EXPECT_TRUE(open.contains(a) && open.contains(b));
  EXPECT_EQ(scan->open.size() + scan->refused + scan->silent + scan->unreachable, last - first + 1);
  EXPECT_EQ(scan->silent, 0u);  // loopback answers every port

  // A port skipped is not tried.
  auto skipped = ScanTcp("127.0.0.1", a, a, {a}, milliseconds(500));
  ASSERT_TRUE(skipped.ok());
  EXPECT_TRUE(skipped->open.empty());
  EXPECT_EQ(skipped->refused + skipped->silent + skipped->unreachable, 0u);
  close(a_fd);
  close(b_fd);
}

// An address with no route is unreachable, not open. In a network namespace of
// its own (only lo, down): some hosts' networks accept any connect.
TEST(ReachTest, AnAddressWithNoRouteIsUnreachable) {
  pid_t child = fork();
  if (child == 0) {
    if (unshare(CLONE_NEWNET) != 0) _exit(2);
    auto scan = ScanTcp("203.0.113.7", 1, 40, {}, milliseconds(200));
    _exit(scan.ok() && scan->open.empty() && scan->unreachable == 40 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: unshare failed (root needed); 1: not all unreachable";
}

TEST(ReachTest, BadRequestsAreNamed) {
  EXPECT_NE(ScanTcp("host", 1, 2, {}, milliseconds(10)).status().message().find("address"),
            std::string::npos);
  EXPECT_NE(ScanTcp("127.0.0.1", 0, 2, {}, milliseconds(10)).status().message().find("ports"),
            std::string::npos);
  EXPECT_NE(ScanTcp("127.0.0.1", 5, 70000, {}, milliseconds(10)).status().message().find("ports"),
            std::string::npos);
  EXPECT_NE(ScanTcp("127.0.0.1", 1, 2, {}, milliseconds(0)).status().message().find("timeout"),
            std::string::npos);
}

}  // namespace
}  // namespace swapchaos::agents
