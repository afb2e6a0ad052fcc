#include "controller/run/work_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {
namespace fs = std::filesystem;

class WorkDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = ::testing::TempDir() + "/workdir." + std::to_string(getpid());
    fs::remove_all(base_);
    fs::create_directories(base_);
  }
  void TearDown() override { fs::remove_all(base_); }
  std::string base_;
};

TEST_F(WorkDirTest, LiveDirsStayAndGoWithTheirOwner) {
  auto a = WorkDir::Create(base_);
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = WorkDir::Create(base_);
  ASSERT_TRUE(b.ok()) << b.status();
  std::string path = (*a)->path();
  EXPECT_TRUE(fs::path(path).filename().string().starts_with("swapchaos-"));
  std::ofstream(path + "/swap.img") << "x";
  EXPECT_EQ(SweepAbandonedWorkDirs(base_), 0);  // both held
  EXPECT_TRUE(fs::exists(path + "/swap.img"));
  a->reset();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::exists((*b)->path()));
}

// A controller killed with SIGKILL: the kernel drops its lock, the next
// sweep removes what it left, and nothing that was not a run's.
TEST_F(WorkDirTest, SweepsWhatAKilledOwnerLeft) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    auto dir = WorkDir::Create(base_);
    char c = dir.ok() ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  ASSERT_EQ(c, 'y');
  EXPECT_EQ(SweepAbandonedWorkDirs(base_), 0);  // its owner lives
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);

  fs::create_directories(base_ + "/swapchaos-nolock");  // not a run's, or being made
  fs::create_directories(base_ + "/other-dir");
  std::ofstream(base_ + "/other-dir/owner.lock");
  fs::create_directories(base_ + "/target");
  std::ofstream(base_ + "/target/owner.lock");
  fs::create_directory_symlink(base_ + "/target", base_ + "/swapchaos-link");

  EXPECT_EQ(SweepAbandonedWorkDirs(base_), 1);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(base_)) left.push_back(e.path().filename());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"other-dir", "swapchaos-link", "swapchaos-nolock",
                                            "target"}));
  EXPECT_TRUE(fs::exists(base_ + "/target/owner.lock"));
}

TEST_F(WorkDirTest, UnwritableBaseIsAnErrorNamingIt) {
  auto dir = WorkDir::Create(base_ + "/missing");
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find(base_ + "/missing"), std::string::npos)
      << dir.status();
}

}  // namespace
}  // namespace swapchaos::controller
