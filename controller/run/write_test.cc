#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "controller/run/run.h"
#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class WriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/write." + std::to_string(getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    chmod(dir_.c_str(), 0755);
    fs::remove_all(dir_);
  }
  std::string dir_;
};

// A result file is replaced whole, by a name nobody could plant a symlink
// at beforehand (a fixed ".verdict.json.tmp" once redirected the write).
TEST_F(WriteTest, ReplacesWholeAndFollowsNoPlantedLink) {
  std::string target = dir_ + "/verdict.json";
  std::string victim = dir_ + "/elsewhere";
  ASSERT_TRUE(WriteFileAtomically(victim, "untouched\n").ok());
  fs::create_symlink(victim, dir_ + "/.verdict.json.tmp");
  ASSERT_TRUE(WriteFileAtomically(target, "first\n").ok());
  ASSERT_TRUE(WriteFileAtomically(target, "second\n").ok());
  EXPECT_EQ(Slurp(target), "second\n");
  EXPECT_EQ(Slurp(victim), "untouched\n");
  struct stat st;
  ASSERT_EQ(stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += !e.is_symlink();
  EXPECT_EQ(files, 2) << "a temporary file was left behind";
}

// What cannot be written is an error naming the file, and the old file
// stays as it was.
TEST_F(WriteTest, AFailureSaysSoAndKeepsTheOldFile) {
  std::string target = dir_ + "/meta.json";
  ASSERT_TRUE(WriteFileAtomically(target, "old\n").ok());
  chmod(dir_.c_str(), 0555);
  if (access(dir_.c_str(), W_OK) == 0) {
    // root writes anyway: make the rename fail instead, onto a directory.
    chmod(dir_.c_str(), 0755);
    fs::create_directories(dir_ + "/report.html/x");
    absl::Status st = WriteFileAtomically(dir_ + "/report.html", "page");
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find(dir_ + "/report.html"), std::string::npos) << st;
  } else {
    absl::Status st = WriteFileAtomically(target, "new\n");
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find(target), std::string::npos) << st;
  }
  EXPECT_EQ(Slurp(target), "old\n");
  chmod(dir_.c_str(), 0755);
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 1) << "a temporary file was left behind";
}

}  // namespace
}  // namespace swapchaos::controller
