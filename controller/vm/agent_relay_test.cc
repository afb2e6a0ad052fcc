#include "controller/vm/agent_relay.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "faults/rtnl.h"
#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A socket listening on 127.0.0.1:port inside `ns` (its loopback brought
// up), as QEMU's forward of an agent sits there; -1 on failure.
int ListenInside(const NetNamespace& ns, uint16_t port, int backlog) {
  int fd = -1;
  absl::Status s = ns.Run([&]() -> absl::Status {
    auto rtnl = faults::Rtnl::Open();
    if (!rtnl.ok()) return rtnl.status();
    if (absl::Status up = (*rtnl)->SetUp("lo"); !up.ok()) return up;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, backlog) != 0) {
      return absl::UnavailableError(std::strerror(errno));
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return s.ok() ? fd : -1;
}

// An echo server behind ListenInside; its listening socket, to close.
int EchoInside(const NetNamespace& ns, uint16_t port, std::thread* server) {
  int fd = ListenInside(ns, port, 64);
  *server = std::thread([fd] {
    while (true) {
      int c = accept(fd, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;) {
        if (write(c, buf, static_cast<size_t>(n)) != n) break;
      }
      close(c);
    }
  });
  return fd;
}

// Connects to `path` (a Unix socket) or to 127.0.0.1:port; errno on failure.
int ConnectUnix(const std::string& path, int* fd) {
  *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  return connect(*fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : errno;
}
int ConnectLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = Loopback(port);
  int err = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : errno;
  close(fd);
  return err;
}

// A root-only directory with a short path (Unix socket paths end at 108
// bytes; the build tree can be deeper), as the run's work directory is.
std::string ShortWorkDir() {
  char tmpl[] = "/tmp/swapchaos-relay-XXXXXX";
  EXPECT_NE(mkdtemp(tmpl), nullptr);
  return tmpl;
}

int OpenFds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (readdir(d) != nullptr) ++n;
  closedir(d);
  return n;
}

TEST(AgentRelayTest, CarriesBytesToThePortInsideTheNamespaceOnly) {
  std::string dir = ShortWorkDir();
  auto ns = NetNamespace::Create();
  ASSERT_TRUE(ns.ok()) << ns.status();
  uint16_t port = test::FreeLoopbackPort();  // free on the host: nothing answers there
  auto relay = AgentRelay::Start(**ns, dir + "/agent.sock", port);
  ASSERT_TRUE(relay.ok()) << relay.status();
  std::thread server;
  int listener = EchoInside(**ns, port, &server);
  EXPECT_EQ((*relay)->target(), "unix:" + dir + "/agent.sock");

  int fd;
  ASSERT_EQ(ConnectUnix(dir + "/agent.sock", &fd), 0);
  std::string big(300000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  std::thread writer([&] { ASSERT_EQ(write(fd, big.data(), big.size()), ssize_t(big.size())); });
  std::string got;
  char buf[65536];
  while (got.size() < big.size()) {
    ssize_t n = read(fd, buf, sizeof buf);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<size_t>(n));
  }
  writer.join();
  EXPECT_EQ(got, big);
  close(fd);

  // The host's loopback has no such port, and no other user can open the
  // socket: its own mode says so, even in a directory others may cross.
  EXPECT_EQ(ConnectLoopback(port), ECONNREFUSED);
  ASSERT_EQ(chmod(dir.c_str(), 0711), 0);
  struct stat st;
  ASSERT_EQ(stat((dir + "/agent.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  pid_t child = fork();
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(100);
    int f;
    _exit(ConnectUnix(dir + "/agent.sock", &f) == EACCES ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  // gRPC dials again and again while a guest boots: ended connections are
  // closed, not kept.
  int before = OpenFds();
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(ConnectUnix(dir + "/agent.sock", &fd), 0);
    ASSERT_EQ(write(fd, "x", 1), 1);
    ASSERT_EQ(read(fd, buf, 1), 1);
    close(fd);
  }
  EXPECT_LT(OpenFds(), before + 10);

  relay->reset();
  EXPECT_FALSE(std::filesystem::exists(dir + "/agent.sock"));
  shutdown(listener, SHUT_RDWR);
  server.join();
  close(listener);
  std::filesystem::remove_all(dir);
}

// Nothing listens inside yet (QEMU still starting): the client sees its
// connection closed, and the next one gets through once something does.
TEST(AgentRelayTest, ClosesWhileNothingListensThenCarries) {
  std::string dir = ShortWorkDir();
  auto ns = NetNamespace::Create();
  ASSERT_TRUE(ns.ok());
  uint16_t port = test::FreeLoopbackPort();
  auto relay = AgentRelay::Start(**ns, dir + "/a.sock", port);
  ASSERT_TRUE(relay.ok());
  int fd;
  ASSERT_EQ(ConnectUnix(dir + "/a.sock", &fd), 0);
  char c;
  EXPECT_EQ(read(fd, &c, 1), 0);  // closed
  close(fd);
  std::thread server;
  int listener = EchoInside(**ns, port, &server);
  ASSERT_EQ(ConnectUnix(dir + "/a.sock", &fd), 0);
  ASSERT_EQ(write(fd, "y", 1), 1);
  ASSERT_EQ(read(fd, &c, 1), 1);
  EXPECT_EQ(c, 'y');
  close(fd);
  relay->reset();
  shutdown(listener, SHUT_RDWR);
  server.join();
  close(listener);
  std::filesystem::remove_all(dir);
}

// QEMU not accepting (its listen queue full, the SYN dropped): that
// connection's connect hangs in its own thread; the relay still takes the
// next client, and closing it ends the hanging connect at once, not after
// the kernel's two minutes of SYN retries.
TEST(AgentRelayTest, AHangingConnectHoldsUpNothingElse) {
  std::string dir = ShortWorkDir();
  auto ns = NetNamespace::Create();
  ASSERT_TRUE(ns.ok());
  uint16_t port = test::FreeLoopbackPort();
  // A backlog of 0 holds one connection nobody accepts: later SYNs drop.
  int listener = ListenInside(**ns, port, 0);
  ASSERT_GE(listener, 0);
  int filler = -1;
  absl::Status s = (*ns)->Run([&]() -> absl::Status {
    filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(port);
    if (connect(filler, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      return absl::UnavailableError(std::strerror(errno));
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  auto relay = AgentRelay::Start(**ns, dir + "/a.sock", port);
  ASSERT_TRUE(relay.ok());
  int hanging, next;
  ASSERT_EQ(ConnectUnix(dir + "/a.sock", &hanging), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(ConnectUnix(dir + "/a.sock", &next), 0);
  // Both wait for QEMU; neither is refused.
  pollfd p[2] = {{hanging, POLLIN, 0}, {next, POLLIN, 0}};
  EXPECT_EQ(poll(p, 2, 300), 0);
  auto start = std::chrono::steady_clock::now();
  relay->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  char c;
  EXPECT_EQ(read(hanging, &c, 1), 0);  // closed
  EXPECT_EQ(read(next, &c, 1), 0);
  close(hanging);
  close(next);
  close(filler);
  close(listener);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace swapchaos::controller
