#include "controller/vm/nbd_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

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
  EXPECT_NE(server.status().message().find("/nonexistent/dir/swap.img"), std::string::npos);
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
