#include "controller/process/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {

std::string LogPath(const std::string& name) {
  std::string p = test::UniqueTempDir() + "/" + name;
  std::filesystem::remove(p);
  return p;
}

TEST(SubprocessTest, CapturesOutputAndExitStatus) {
  auto p = Subprocess::Spawn({{"sh", "-c", "echo out; echo err >&2; exit 3"}, LogPath("a.log")});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE((*p)->WaitFor(std::chrono::seconds(10)));
  EXPECT_EQ((*p)->DescribeExit(), "exited with status 3");
  EXPECT_EQ((*p)->LogTail(), "out\nerr\n");
}

TEST(SubprocessTest, MissingProgramIsNamed) {
  auto p = Subprocess::Spawn({{"/nonexistent/qemu"}, LogPath("b.log")});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(p.status().message().find("/nonexistent/qemu"), std::string::npos);
}

TEST(SubprocessTest, DestructorKillsAndReaps) {
  pid_t pid;
  {
    auto p = Subprocess::Spawn({{"sleep", "100"}, LogPath("c.log")});
    ASSERT_TRUE(p.ok()) << p.status();
    pid = (*p)->pid();
    EXPECT_TRUE((*p)->Running());
  }
  // Reaped: the pid no longer exists, not even as a zombie.
  EXPECT_EQ(kill(pid, 0), -1);
}

TEST(SubprocessTest, StopEscalatesToKill) {
  auto p = Subprocess::Spawn({{"sh", "-c", "trap '' TERM; sleep 100"}, LogPath("d.log")});
  ASSERT_TRUE(p.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  (*p)->Stop(std::chrono::milliseconds(200));
  EXPECT_FALSE((*p)->Running());
  EXPECT_EQ((*p)->DescribeExit(), "killed by signal 9");
}

TEST(SubprocessTest, InheritsOnlyKeptDescriptors) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  std::string cmd = "ls /proc/self/fd";
  auto p = Subprocess::Spawn({{"sh", "-c", cmd}, LogPath("e.log"), {fds[1]}});
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->WaitFor(std::chrono::seconds(10)));
  std::string out = "\n" + (*p)->LogTail();
  EXPECT_NE(out.find("\n" + std::to_string(fds[1]) + "\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("\n" + std::to_string(fds[0]) + "\n"), std::string::npos) << out;
  close(fds[0]);
  close(fds[1]);
}

TEST(SubprocessTest, DiesWithItsParent) {
  // A middle process spawns a grandchild and is SIGKILLed: the grandchild follows.
  std::string pidfile = LogPath("grandchild.pid");
  pid_t middle = fork();
  if (middle == 0) {
    auto p = Subprocess::Spawn({{"sleep", "100"}, LogPath("f.log")});
    if (!p.ok()) _exit(1);
    std::ofstream(pidfile) << (*p)->pid();
    pause();
    _exit(0);
  }
  pid_t grandchild = 0;
  for (int i = 0; i < 200 && grandchild == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ifstream(pidfile) >> grandchild;
  }
  ASSERT_GT(grandchild, 0);
  kill(middle, SIGKILL);
  waitpid(middle, nullptr, 0);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string s;
    std::getline(stat, s);
    // Gone, or a zombie waiting for its new parent (init) to reap it.
    gone = s.empty() || s.find(") Z ") != std::string::npos;
  }
  EXPECT_TRUE(gone);
}

}  // namespace
}  // namespace swapchaos::controller
