#ifndef SWAPCHAOS_TESTING_SHELL_H_
#define SWAPCHAOS_TESTING_SHELL_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace swapchaos::test {

// Helpers for tests only.

// Standard output of `sh -c cmd`: tests compare with reference tools
// (ldd, GNU cpio, blkid) rather than with our own idea of the answer.
inline std::string ShellOutput(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  std::string out;
  std::array<char, 4096> buf;
  while (p && fgets(buf.data(), buf.size(), p.get())) out += buf.data();
  return out;
}

// The scratch directory of test case `test` of `suite` in this process, or
// the suite's own (SetUpTestSuite's) when `test` is empty: CTest runs cases
// in parallel processes, so fixed names race. test_main.cc removes it once
// it passed.
inline std::string ScratchDir(std::string_view suite, std::string_view test) {
  return ::testing::TempDir() + "swapchaos-" + std::string(suite) + "." +
         (test.empty() ? std::string("suite") : std::string(test)) + "." + std::to_string(getpid());
}

// The running test case's scratch directory (the same one on every call
// within it), created.
inline std::string UniqueTempDir() {
  // In SetUpTestSuite there is a suite but no test case yet.
  const ::testing::UnitTest* u = ::testing::UnitTest::GetInstance();
  const ::testing::TestInfo* t = u->current_test_info();
  std::string dir = t != nullptr ? ScratchDir(t->test_suite_name(), t->name())
                                 : ScratchDir(u->current_test_suite()->name(), "");
  std::filesystem::create_directories(dir);
  return dir;
}

// A loopback port nobody listens on right now.
inline uint16_t FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

}  // namespace swapchaos::test

#endif  // SWAPCHAOS_TESTING_SHELL_H_
