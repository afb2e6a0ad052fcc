#include "controller/vm/nbd_server.h"

#include <arpa/inet.h>
#include <endian.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "agents/nbd/handshake.h"
#include "controller/vm/topology.h"
#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {

// Greets on `port` of 127.0.0.1: what a client reconnecting would see.
bool Greets(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char greeting[8] = {};
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
            recv(fd, greeting, 8, MSG_WAITALL) == 8;
  close(fd);
  return ok && std::string(greeting, 8) == "NBDMAGIC";
}

bool SendAll(int fd, const void* data, size_t n) {
  return send(fd, data, n, MSG_NOSIGNAL) == static_cast<ssize_t>(n);
}

bool RecvAll(int fd, void* data, size_t n) {
  return recv(fd, data, n, MSG_WAITALL) == static_cast<ssize_t>(n);
}

// The agent's own negotiation, then a write and its read-back through the
// export: the server opens its image only at the negotiation, as whoever
// it runs as. Returns what went wrong, or "".
std::string WriteAndReadBack(uint16_t port, const std::string& data) {
  auto fd = agents::nbd::ConnectTcp("127.0.0.1", port, 5000);
  if (!fd.ok()) return std::string(fd.status().message());
  std::string why;
  auto request = [&](uint16_t type, uint64_t handle) {
    struct __attribute__((packed)) {
      uint32_t magic = htonl(0x25609513);
      uint16_t flags = 0;
      uint16_t type;
      uint64_t handle;
      uint64_t offset = htobe64(4096);
      uint32_t length;
    } r;
    r.type = htons(type);
    r.handle = handle;
    r.length = htonl(static_cast<uint32_t>(data.size()));
    return SendAll(*fd, &r, sizeof r);
  };
  auto reply_ok = [&] {
    char reply[16];
    uint32_t error = 1;
    if (RecvAll(*fd, reply, sizeof reply)) std::memcpy(&error, reply + 4, 4);
    return error == 0;
  };
  std::string back(data.size(), '\0');
  if (auto opened = agents::nbd::Negotiate(*fd, NbdServer::kExportName, 5000); !opened.ok()) {
    why = absl::StrCat("the export was not opened: ", opened.status().message());
  } else if (!request(1, 7) || !SendAll(*fd, data.data(), data.size()) || !reply_ok()) {
    why = "the write failed";
  } else if (!request(0, 8) || !reply_ok() || !RecvAll(*fd, back.data(), back.size()) ||
             back != data) {
    why = "the read-back differs";
  }
  close(*fd);
  return why;
}

absl::StatusOr<std::unique_ptr<NbdServer>> StartOnLoopback(const std::string& dir, uint16_t port,
                                                           uint64_t size_bytes) {
  return NbdServer::Start({.dir = dir,
                           .listen_ip = "127.0.0.1",
                           .port = port,
                           .size_bytes = size_bytes,
                           .log_path = dir + "/log"});
}

TEST(NbdServerTest, ReadyMeansItGreets) {
  std::string dir = test::UniqueTempDir();
  uint16_t port = test::FreeLoopbackPort();
  auto server = StartOnLoopback(dir, port, 64 << 20);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(std::filesystem::file_size((*server)->image_path()), 64u << 20);
  EXPECT_TRUE(Greets(port));
}

// Started by root, the server the guest under test talks to is not root:
// Debian's `nbd` user, given its files open; the directory they are in
// stays root's alone (0700).
TEST(NbdServerTest, ServesAsTheNbdUser) {
  std::string dir = test::UniqueTempDir();
  ASSERT_EQ(chmod(dir.c_str(), 0700), 0);
  uint16_t port = test::FreeLoopbackPort();
  auto server = StartOnLoopback(dir, port, 4 << 20);
  ASSERT_TRUE(server.ok()) << server.status();
  uid_t want = geteuid();
  if (want == 0) {
    passwd* nbd = getpwnam("nbd");
    ASSERT_NE(nbd, nullptr) << "Debian's nbd-server package makes the nbd user";
    want = nbd->pw_uid;
  }
  std::ifstream status("/proc/" + std::to_string((*server)->process().pid()) + "/status");
  std::string line;
  while (std::getline(status, line) && !line.starts_with("Uid:")) {
  }
  std::string id = std::to_string(want);
  EXPECT_EQ(line, "Uid:\t" + id + "\t" + id + "\t" + id + "\t" + id);
  EXPECT_EQ(WriteAndReadBack(port, std::string(512, 'p') + "swapchaos"), "");
  struct stat st;
  ASSERT_EQ(stat((*server)->image_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, want);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(NbdServerTest, RestartKeepsTheImageAndServesAgain) {
  std::string dir = test::UniqueTempDir();
  uint16_t port = test::FreeLoopbackPort();
  auto server = StartOnLoopback(dir, port, 4 << 20);
  ASSERT_TRUE(server.ok()) << server.status();
  // What the victim swapped out must survive the crash.
  {
    std::FILE* f = std::fopen((*server)->image_path().c_str(), "r+");
    ASSERT_NE(f, nullptr);
    std::fputs("swapped page", f);
    std::fclose(f);
  }
  EXPECT_EQ((*server)->Restart().code(), absl::StatusCode::kFailedPrecondition);  // still alive
  (*server)->process().Signal(SIGKILL);
  ASSERT_TRUE((*server)->process().WaitFor(std::chrono::seconds(5)));
  ASSERT_TRUE((*server)->Restart().ok());
  EXPECT_TRUE((*server)->process().Running());
  EXPECT_TRUE(Greets(port));
  EXPECT_EQ(std::filesystem::file_size((*server)->image_path()), 4u << 20);
  std::ifstream in((*server)->image_path());
  std::string head(12, '\0');
  in.read(head.data(), 12);
  EXPECT_EQ(head, "swapped page");
}

TEST(NbdServerTest, PortTakenIsAClearError) {
  std::string dir = test::UniqueTempDir();
  int holder = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(holder, 1), 0);
  getsockname(holder, reinterpret_cast<sockaddr*>(&a), &len);
  auto server = NbdServer::Start({.dir = dir,
                                  .listen_ip = "127.0.0.1",
                                  .port = ntohs(a.sin_port),
                                  .size_bytes = 1 << 20,
                                  .log_path = dir + "/log",
                                  .ready_timeout = std::chrono::milliseconds(3000)});
  close(holder);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(server.status().message().find("nbd-server"), std::string::npos) << server.status();
}

TEST(NbdServerTest, UnwritableDirectoryIsNamed) {
  auto server = NbdServer::Start({.dir = "/nonexistent/dir",
                                  .listen_ip = "127.0.0.1",
                                  .port = test::FreeLoopbackPort(),
                                  .size_bytes = 1 << 20,
                                  .log_path = test::UniqueTempDir() + "/nbd_unwritable.log"});
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("/nonexistent/dir/swap.img"), std::string::npos)
      << server.status();
}

TEST(NbdServerTest, ListensInsideTheRunNamespaceOnly) {
  std::string dir = test::UniqueTempDir();
  auto net = CreateRunNetwork();
  ASSERT_TRUE(net.ok()) << net.status();
  auto server = NbdServer::Start({.dir = dir,
                                  .listen_ip = topology::kServerIp,
                                  .port = topology::kNbdPort,
                                  .size_bytes = 1 << 20,
                                  .ns = (*net)->ns.get(),
                                  .log_path = dir + "/log"});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(IsListening((*server)->process().pid(), topology::kNbdPort));
  EXPECT_FALSE(IsListening(getpid(), topology::kNbdPort));
}

}  // namespace
}  // namespace swapchaos::controller
