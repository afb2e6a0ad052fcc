#include "controller/run/work_dir.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {
namespace fs = std::filesystem;

TEST(WorkDirTest, LiveDirsStayAndGoWithTheirOwner) {
  const std::string base = test::UniqueTempDir();
  auto a = WorkDir::Create(base);
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = WorkDir::Create(base);
  ASSERT_TRUE(b.ok()) << b.status();
  std::string path = (*a)->path();
  EXPECT_TRUE(fs::path(path).filename().string().starts_with("swapchaos-"));
  std::ofstream(path + "/swap.img") << "x";
  EXPECT_EQ(SweepAbandonedWorkDirs(base), 0);  // both held
  EXPECT_TRUE(fs::exists(path + "/swap.img"));
  a->reset();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::exists((*b)->path()));
}

// A controller killed with SIGKILL: the kernel drops its lock, the next
// sweep removes what it left, and nothing that was not a run's.
TEST(WorkDirTest, SweepsWhatAKilledOwnerLeft) {
  const std::string base = test::UniqueTempDir();
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    auto dir = WorkDir::Create(base);
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
  EXPECT_EQ(SweepAbandonedWorkDirs(base), 0);  // its owner lives
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);

  fs::create_directories(base + "/swapchaos-nolock");  // not a run's, or being made
  fs::create_directories(base + "/other-dir");
  std::ofstream(base + "/other-dir/owner.lock");
  fs::create_directories(base + "/target");
  std::ofstream(base + "/target/owner.lock");
  fs::create_directory_symlink(base + "/target", base + "/swapchaos-link");

  EXPECT_EQ(SweepAbandonedWorkDirs(base), 1);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(base)) left.push_back(e.path().filename());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"other-dir", "swapchaos-link", "swapchaos-nolock",
                                            "target"}));
  EXPECT_TRUE(fs::exists(base + "/target/owner.lock"));
}

TEST(WorkDirTest, UnwritableBaseIsAnErrorNamingIt) {
  const std::string base = test::UniqueTempDir();
  auto dir = WorkDir::Create(base + "/missing");
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find(base + "/missing"), std::string::npos)
      << dir.status();
}

}  // namespace
}  // namespace swapchaos::controller
