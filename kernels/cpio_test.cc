#include "kernels/cpio.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::kernels {
namespace {

// GNU cpio, the reference reader, lists the archive verbosely.
std::string CpioList(const std::string& archive) {
  return test::ShellOutput("cpio -itv --quiet < " + archive + " 2>&1");
}

TEST(CpioWriterTest, GnuCpioReadsEveryEntryKind) {
  std::string path = test::UniqueTempDir() + "/test.cpio";
  {
    std::ofstream out(path, std::ios::binary);
    CpioWriter w(out);
    w.AddFile("/etc/swapchaos/modules", "kernel/a.ko\n");
    w.AddFile("/init", "#!/bin/sh\n", 0755);
    w.AddSymlink("/bin/sh", "busybox");
    w.AddCharDevice("/dev/console", 5, 1);
    w.AddDirectory("/proc");
    w.Finish();
  }
  std::string listing = CpioList(path);
  EXPECT_NE(listing.find("drwxr-xr-x"), std::string::npos) << listing;
  EXPECT_NE(listing.find(" etc\n"), std::string::npos) << listing;
  EXPECT_NE(listing.find(" etc/swapchaos/modules\n"), std::string::npos) << listing;
  EXPECT_NE(listing.find("-rwxr-xr-x"), std::string::npos) << listing;
  EXPECT_NE(listing.find("bin/sh -> busybox"), std::string::npos) << listing;
  EXPECT_NE(listing.find("crw-------"), std::string::npos) << listing;
  EXPECT_NE(listing.find("5,   1"), std::string::npos) << listing;
  EXPECT_EQ(listing.find("TRAILER"), std::string::npos) << listing;
}

TEST(CpioWriterTest, ParentsOnceAndBytesReproducible) {
  auto build = [] {
    std::ostringstream out;
    CpioWriter w(out);
    w.AddFile("a/b/c", "x");
    w.AddFile("a/b/d", "y");
    w.Finish();
    return out.str();
  };
  std::string one = build();
  EXPECT_EQ(one, build());
  EXPECT_EQ(one.size() % 4, 0u);
  // "a" and "a/b" appear once each as directories.
  size_t count = 0;
  for (size_t at = one.find("a/b"); at != std::string::npos; at = one.find("a/b", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 3u);  // a/b, a/b/c, a/b/d
}

TEST(CpioWriterTest, MissingHostFileIsNamed) {
  std::ostringstream out;
  CpioWriter w(out);
  absl::Status s = w.AddHostFile("x", "/nonexistent/file", 0644);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/nonexistent/file"), std::string::npos);
}

}  // namespace
}  // namespace swapchaos::kernels
