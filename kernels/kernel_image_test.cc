#include "kernels/kernel_image.h"

#include <fstream>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::kernels {
namespace {

TEST(KernelImageTest, ReadsInstalledDefaultKernel) {
  auto path = DefaultKernelPath();
  ASSERT_TRUE(path.ok()) << path.status();
  auto image = ReadKernelImage(*path);
  ASSERT_TRUE(image.ok()) << image.status();
  // The package names the file after the release the image carries.
  EXPECT_EQ("/boot/vmlinuz-" + image->release, *path);
  EXPECT_EQ(image->sha256.size(), 64u);
  EXPECT_EQ(image->modules_dir, "/lib/modules/" + image->release);
}

TEST(KernelImageTest, MissingFileIsBadInput) {
  auto image = ReadKernelImage("/nonexistent/bzImage");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(image.status().message().find("/nonexistent/bzImage"), std::string::npos);
}

TEST(KernelImageTest, NonKernelIsBadInput) {
  std::string path = test::UniqueTempDir() + "/not_a_kernel";
  std::ofstream(path) << std::string(8192, 'x');
  auto image = ReadKernelImage(path);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(image.status().message().find("not an x86 bzImage"), std::string::npos);
}

TEST(KernelImageTest, ModulesDirWithoutDepIsBadInput) {
  auto path = DefaultKernelPath();
  ASSERT_TRUE(path.ok()) << path.status();
  auto image = ReadKernelImage(*path, test::UniqueTempDir());
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.status().message().find("modules.dep"), std::string::npos);
}

}  // namespace
}  // namespace swapchaos::kernels
