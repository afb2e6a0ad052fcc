#include "agents/nbd/handshake.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::agents::nbd {
namespace {

// A real Debian nbd-server on loopback, in its forking mode so that the
// readiness probe's connection does not use up the server.
class NbdServerTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::UniqueTempDir();
    port_ = test::FreeLoopbackPort();
    std::filesystem::resize_file((std::ofstream(dir_ + "/export.img"), dir_ + "/export.img"),
                                 64 << 20);
    std::ofstream(dir_ + "/config") << "[generic]\nlistenaddr = 127.0.0.1\nport = " << port_
                                    << "\n[swap]\nexportname = " << dir_ << "/export.img\n";
    ASSERT_EQ(std::system(("nbd-server -C " + dir_ + "/config -p " + dir_ + "/pid").c_str()), 0);
    for (int i = 0; i < 100; ++i) {
      auto fd = ConnectTcp("127.0.0.1", port_, 1000);
      if (fd.ok()) {
        close(*fd);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "nbd-server never listened on port " << port_;
  }
  void TearDown() override {
    pid_t pid = 0;
    std::ifstream(dir_ + "/pid") >> pid;
    if (pid > 0) kill(pid, SIGTERM);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
  uint16_t port_ = 0;
};

TEST_F(NbdServerTest, GoReturnsExportSizeAndFlags) {
  auto fd = ConnectTcp("127.0.0.1", port_, 2000);
  ASSERT_TRUE(fd.ok()) << fd.status();
  auto exp = Negotiate(*fd, "swap", 5000);
  ASSERT_TRUE(exp.ok()) << exp.status();
  EXPECT_EQ(exp->size_bytes, 64u << 20);
  EXPECT_TRUE(exp->transmission_flags & 1);  // NBD_FLAG_HAS_FLAGS
  // Transmission phase: NBD_CMD_READ of the first 512 bytes answers with a
  // simple reply carrying our handle, proving the handshake really finished.
  unsigned char req[28] = {0x25, 0x60, 0x95, 0x13, 0,   0,   0,   0,
                           'h',  'a',  'n',  'd',  'l', 'e', '0', '1'};
  req[26] = 0x02;  // length 512, big-endian, in the last four bytes
  ASSERT_EQ(write(*fd, req, sizeof req), 28);
  unsigned char reply[16 + 512];
  size_t got = 0;
  while (got < sizeof reply) {
    ssize_t r = read(*fd, reply + got, sizeof reply - got);
    ASSERT_GT(r, 0);
    got += static_cast<size_t>(r);
  }
  EXPECT_EQ(reply[0], 0x67);  // NBD_SIMPLE_REPLY_MAGIC 0x67446698
  EXPECT_EQ(std::string(reinterpret_cast<char*>(reply + 8), 8), "handle01");
  close(*fd);
}

TEST_F(NbdServerTest, UnknownExportIsNotFound) {
  auto fd = ConnectTcp("127.0.0.1", port_, 2000);
  ASSERT_TRUE(fd.ok()) << fd.status();
  auto exp = Negotiate(*fd, "nosuch", 5000);
  ASSERT_FALSE(exp.ok());
  EXPECT_EQ(exp.status().code(), absl::StatusCode::kNotFound) << exp.status();
  EXPECT_NE(exp.status().message().find("nosuch"), std::string::npos);
  close(*fd);
}

TEST(ConnectTcpTest, RefusedPortNamesTheServer) {
  auto fd = ConnectTcp("127.0.0.1", 1, 1000);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(fd.status().message().find("127.0.0.1:1"), std::string::npos);
}

TEST(ConnectTcpTest, BadAddressIsInvalid) {
  EXPECT_EQ(ConnectTcp("not-an-ip", 10809, 100).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace swapchaos::agents::nbd
