#include "agents/swap/swap.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::agents::swap {
namespace {

TEST(SwapHeaderTest, UtilLinuxRecognisesIt) {
  std::string path = test::UniqueTempDir() + "/swap_test.img";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 64 << 20), 0);
  ASSERT_TRUE(WriteSwapHeader(fd, 64 << 20).ok());
  close(fd);
  // blkid reads the same fields swapon(8) checks.
  std::string out = test::ShellOutput("/sbin/blkid -p -o export " + path);
  EXPECT_NE(out.find("TYPE=swap"), std::string::npos) << out;
  EXPECT_NE(out.find("VERSION=1"), std::string::npos) << out;
  EXPECT_NE(out.find("LABEL=swapchaos"), std::string::npos) << out;
  EXPECT_NE(out.find("UUID="), std::string::npos) << out;
  // swaplabel reads last_page through the same header; the size must match mkswap's.
  std::string mk = test::UniqueTempDir() + "/swap_ref.img";
  test::ShellOutput("truncate -s 64M " + mk + " && /sbin/mkswap " + mk + " >/dev/null 2>&1");
  std::string ours = test::ShellOutput("od -An -tu4 -j1028 -N4 " + path);
  std::string theirs = test::ShellOutput("od -An -tu4 -j1028 -N4 " + mk);
  EXPECT_EQ(ours, theirs);
  unlink(path.c_str());
  unlink(mk.c_str());
}

TEST(SwapHeaderTest, TooSmallIsRejected) {
  absl::Status s = WriteSwapHeader(-1, 4096 * 4);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace swapchaos::agents::swap
