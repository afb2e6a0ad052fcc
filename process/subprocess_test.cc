#include "process/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::process {
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

TEST(SubprocessTest, OutputOfAShortTool) {
  auto out = OutputOf({"sh", "-c", "echo out; echo err >&2"}, std::chrono::seconds(10));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "out\nerr\n");
  // A failure names the program, how it ended and what it said, not the
  // temporary file that held its output and is gone by then.
  auto failed = OutputOf({"sh", "-c", "echo no such package; exit 1"}, std::chrono::seconds(10));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "sh exited with status 1:\nno such package\n");
}

// RunToEnd's caller keeps the log: its failure names the file.
TEST(SubprocessTest, RunToEndNamesTheLogItKeeps) {
  std::string log = LogPath("kept.log");
  absl::Status s = RunToEnd({.argv = {"sh", "-c", "echo bad; exit 2"}, .log_path = log},
                            std::chrono::seconds(10));
  EXPECT_EQ(s.message(), "sh exited with status 2 (output: " + log + "):\nbad\n");
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
  // The shell's own descriptors, not `ls /proc/self/fd`: ls opens one of
  // its own, which may take the very number of a descriptor not kept.
  std::string cmd = "for f in " + std::to_string(fds[0]) + " " + std::to_string(fds[1]) +
                    "; do [ -e /proc/$$/fd/$f ] && echo has $f; done; true";
  auto p = Subprocess::Spawn({{"sh", "-c", cmd}, LogPath("e.log"), {fds[1]}});
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->WaitFor(std::chrono::seconds(10)));
  EXPECT_EQ((*p)->LogTail(), "has " + std::to_string(fds[1]) + "\n");
  close(fds[0]);
  close(fds[1]);
}

constexpr Credentials kNobody{65534, 65534};

// A middle process spawns a grandchild and is SIGKILLed: the grandchild follows.
void ExpectDiesWithItsParent(std::optional<Credentials> run_as) {
  std::string pidfile = LogPath("grandchild.pid");
  // Named before the fork: the child's own pid would name another scratch
  // directory, one nobody removes.
  std::string log = LogPath("f.log");
  pid_t middle = fork();
  if (middle == 0) {
    auto p = Subprocess::Spawn({.argv = {"sleep", "100"}, .log_path = log, .run_as = run_as});
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

TEST(SubprocessTest, DiesWithItsParent) { ExpectDiesWithItsParent(std::nullopt); }

// Dropping privileges clears the parent-death signal; Spawn sets it again.
TEST(SubprocessTest, DiesWithItsParentAfterDroppingRoot) {
  if (geteuid() == 0) ExpectDiesWithItsParent(kNobody);
}

TEST(SubprocessTest, RunsAsTheUserItIsGiven) {
  auto p = Subprocess::Spawn({.argv = {"sh", "-c", "id -u; id -g; id -G"},
                              .log_path = LogPath("id.log"),
                              .run_as = kNobody});
  if (geteuid() != 0) {  // only root may change who it is
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.status().message().find("Operation not permitted"), std::string::npos)
        << p.status();
    return;
  }
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE((*p)->WaitFor(std::chrono::seconds(10)));
  EXPECT_EQ((*p)->LogTail(), "65534\n65534\n65534\n");  // no supplementary group kept
}

}  // namespace
}  // namespace swapchaos::process
