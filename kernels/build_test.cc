// Kernel recipes without compiling a kernel: identity (same inputs -> same
// id, any change -> new id), bad input named, and a failed build leaving
// nothing in the cache but its log. The real build is the e2e test's.
#include "kernels/build.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "kernels/kernel_image.h"

namespace swapchaos::kernels {
namespace {
namespace fs = std::filesystem;

class BuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = (fs::path(tmp ? tmp : "/tmp") /
            ("kbuild-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
             "-" + std::to_string(getpid())))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_ + "/tree/linux/mm");
    Write("tree/linux/mm/vmscan.c", "int kswapd_wakes = 1;\nint other = 2;\n");
    Write("tree/linux/Makefile", "all:\n");
    ASSERT_EQ(std::system(("tar -cf " + dir_ + "/linux.tar -C " + dir_ + "/tree linux").c_str()), 0);
    fs::create_directories(dir_ + "/series");
    Write("series/0001-wake.patch",
          "--- a/mm/vmscan.c\n+++ b/mm/vmscan.c\n@@ -1,2 +1,2 @@\n-int kswapd_wakes = 1;\n"
          "+int kswapd_wakes = 0;\n int other = 2;\n");
    Write("extra.config", "CONFIG_NR_CPUS=4\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(dir_ + "/" + rel) << text;
  }
  KernelRecipe Recipe() {
    return {.name = "t", .source = dir_ + "/linux.tar", .series = dir_ + "/series",
            .fragments = {dir_ + "/extra.config"}};
  }
  std::string Id(const KernelRecipe& r) {
    auto plan = PlanKernel(r);
    EXPECT_TRUE(plan.ok()) << plan.status();
    return plan.ok() ? plan->manifest.id() : "";
  }

  std::string dir_;
};

TEST_F(BuildTest, SameInputsSameIdAnyChangeANewOne) {
  std::string id = Id(Recipe());
  ASSERT_EQ(id.size(), 64u);
  EXPECT_EQ(Id(Recipe()), id);
  KernelRecipe renamed = Recipe();
  renamed.name = "other label";
  EXPECT_EQ(Id(renamed), id);  // a label is not an input

  Write("series/0001-wake.patch",
        "--- a/mm/vmscan.c\n+++ b/mm/vmscan.c\n@@ -1,2 +1,2 @@\n-int kswapd_wakes = 1;\n"
        "+int kswapd_wakes = 2;\n int other = 2;\n");
  std::string patched = Id(Recipe());
  EXPECT_NE(patched, id);
  Write("extra.config", "CONFIG_NR_CPUS=8\n");
  std::string configured = Id(Recipe());
  EXPECT_NE(configured, patched);
  KernelRecipe no_series = Recipe();
  no_series.series.clear();
  EXPECT_NE(Id(no_series), configured);
  Write("tree/linux/mm/vmscan.c", "int kswapd_wakes = 1;\nint other = 3;\n");
  ASSERT_EQ(std::system(("tar -cf " + dir_ + "/linux.tar -C " + dir_ + "/tree linux").c_str()), 0);
  EXPECT_NE(Id(Recipe()), configured);
}

// bisect's steps: the first N patches are the kernel of a series holding
// only those, and none at all is the source's own kernel.
TEST_F(BuildTest, FirstPatchesOfASeries) {
  KernelRecipe none = Recipe();
  none.first_patches = 0;
  KernelRecipe no_series = Recipe();
  no_series.series.clear();
  EXPECT_EQ(Id(none), Id(no_series));
  Write("series/0002-more.patch", "--- a/mm/vmscan.c\n+++ b/mm/vmscan.c\n");
  KernelRecipe one = Recipe();
  one.first_patches = 1;
  std::string first_only = Id(one);
  EXPECT_NE(first_only, Id(Recipe()));
  fs::remove(dir_ + "/series/0002-more.patch");
  EXPECT_EQ(Id(Recipe()), first_only);
  KernelRecipe too_many = Recipe();
  too_many.first_patches = 2;
  auto plan = PlanKernel(too_many);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("the first 2 patches asked for, it holds 1"), std::string::npos)
      << plan.status();
}

// Relative paths, as a user types them: the series still applies.
TEST_F(BuildTest, RelativeSeriesPathIsFoundWhenPatching) {
  Write("series/0002-stale.patch",
        "--- a/mm/vmscan.c\n+++ b/mm/vmscan.c\n@@ -1,2 +1,2 @@\n-int nothing_like_this = 1;\n"
        "+int nothing_like_this = 0;\n int other = 2;\n");
  KernelRecipe r = Recipe();
  r.series = fs::relative(dir_ + "/series").string();
  auto built = BuildKernel(r, {.kernels_dir = dir_ + "/kernels"});
  ASSERT_FALSE(built.ok());
  // The first patch applied; the second is the one refused, for its hunk.
  EXPECT_NE(built.status().message().find("0002-stale.patch (2 of 2) does not apply: mm/vmscan.c"),
            std::string::npos)
      << built.status();
}

TEST_F(BuildTest, ManifestNamesEveryInput) {
  auto plan = PlanKernel(Recipe());
  ASSERT_TRUE(plan.ok()) << plan.status();
  const KernelManifest& m = plan->manifest;
  EXPECT_EQ(m.kind(), "source");
  EXPECT_EQ(m.source().tarball_sha256().size(), 64u);
  ASSERT_EQ(m.patches_size(), 1);
  EXPECT_EQ(m.patches(0).name(), "0001-wake.patch");
  ASSERT_EQ(m.fragments_size(), 2);
  EXPECT_EQ(m.fragments(0).name(), "swapchaos.config");
  EXPECT_EQ(m.fragments(1).name(), "extra.config");
  EXPECT_NE(m.compiler().find("gcc"), std::string::npos) << m.compiler();
}

TEST_F(BuildTest, QuiltSeriesOrderAndMissingPatchNamed) {
  Write("series/0002-more.patch", "");
  Write("series/series", "# order\n0002-more.patch\n0001-wake.patch -p1\n");
  auto plan = PlanKernel(Recipe());
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->manifest.patches_size(), 2);
  EXPECT_EQ(plan->manifest.patches(0).name(), "0002-more.patch");
  Write("series/series", "0001-wake.patch\nnosuch.patch\n");
  auto bad = PlanKernel(Recipe());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("series:2: no such patch"), std::string::npos)
      << bad.status();
}

TEST_F(BuildTest, BadInputIsNamed) {
  KernelRecipe r = Recipe();
  r.source = dir_ + "/nosuch.tar.xz";
  auto s = PlanKernel(r).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(s.message().find("nosuch.tar.xz"), std::string::npos) << s;

  r = Recipe();
  r.source = dir_ + "/tree";  // a directory that is no git tree
  s = PlanKernel(r).status();
  EXPECT_NE(s.message().find("not a git tree"), std::string::npos) << s;

  r = Recipe();
  Write("extra.config", "CONFIG_NR_CPUS=4\nNR_CPUS=4\n");
  s = PlanKernel(r).status();
  EXPECT_NE(s.message().find("extra.config:2:"), std::string::npos) << s;

  fs::create_directories(dir_ + "/empty");
  r = Recipe();
  r.series = dir_ + "/empty";
  s = PlanKernel(r).status();
  EXPECT_NE(s.message().find("holds no patches"), std::string::npos) << s;
}

TEST_F(BuildTest, DirtyGitTreeIsRefusedCleanOneIdentifiedByCommit) {
  std::string tree = dir_ + "/tree/linux";
  ASSERT_EQ(std::system(("git -C " + tree + " init -q && git -C " + tree +
                         " -c user.name=t -c user.email=t@t add -A && git -C " + tree +
                         " -c user.name=t -c user.email=t@t commit -qm base")
                            .c_str()),
            0);
  KernelRecipe r = Recipe();
  r.source = tree;
  auto plan = PlanKernel(r);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->manifest.source().git_commit().size(), 40u);
  Write("tree/linux/mm/vmscan.c", "changed\n");
  auto s = PlanKernel(r).status();
  EXPECT_NE(s.message().find("uncommitted changes"), std::string::npos) << s;
}

// A patch that does not apply: the error names the patch and the hunk, and
// the cache holds nothing of the attempt but its log.
TEST_F(BuildTest, PatchThatDoesNotApplyLeavesOnlyItsLog) {
  Write("series/0002-stale.patch",
        "--- a/mm/vmscan.c\n+++ b/mm/vmscan.c\n@@ -1,2 +1,2 @@\n-int nothing_like_this = 1;\n"
        "+int nothing_like_this = 0;\n int other = 2;\n");
  BuildOptions o{.kernels_dir = dir_ + "/kernels"};
  auto built = BuildKernel(Recipe(), o);
  ASSERT_FALSE(built.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(built.status())) << built.status();
  std::string message(built.status().message());
  EXPECT_NE(message.find("patch 0002-stale.patch (2 of 2) does not apply"), std::string::npos)
      << message;
  EXPECT_NE(message.find("mm/vmscan.c: Hunk #1 FAILED at 1"), std::string::npos) << message;
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(o.kernels_dir)) {
    left.push_back(e.path().filename().string());
  }
  ASSERT_EQ(left.size(), 1u);
  EXPECT_TRUE(left[0].ends_with(".failed.log")) << left[0];
  auto list = ListKernels(o.kernels_dir);
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

// An imported image (the distro kernel's, without modules) is found by its
// name or an id prefix; importing it again finds the same entry.
TEST(CompileProgressTest, CountsKbuildObjectLines) {
  EXPECT_EQ(CountCompiled("").objects, 0);
  CompileProgress p = CountCompiled(
      "  HOSTCC  scripts/basic/fixdep\n"
      "  CC      init/main.o\n"
      "  AR      init/built-in.a\n"
      "  CC [M]  drivers/block/nbd.o\n"
      "  LD [M]  drivers/block/nbd.ko\n"
      "  CC      mm/vmscan.o\n"
      "mm/vmscan.c:1: warning:   CC      not a kbuild line\n"
      "  CC [M]  net/sched/sch_netem.o");  // no newline yet: make still writing
  EXPECT_EQ(p.objects, 4);
  EXPECT_EQ(p.last, "net/sched/sch_netem.o");
  EXPECT_EQ(CountCompiled("  CC [M]  drivers/block/nbd.o\n").last, "drivers/block/nbd.o");
}

TEST_F(BuildTest, ImportedKernelFoundByNameOrIdPrefix) {
  std::string kernels = dir_ + "/kernels";
  EXPECT_TRUE(absl::IsNotFound(FindKernel(kernels, "stock").status()));
  auto image = DefaultKernelPath();
  ASSERT_TRUE(image.ok()) << image.status();
  auto imported = ImportKernel("stock", *image, "", kernels);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->manifest.kind(), "import");
  EXPECT_TRUE(fs::exists(imported->image));
  auto again = ImportKernel("stock", *image, "", kernels);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->dir, imported->dir);
  auto by_name = FindKernel(kernels, "stock");
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  EXPECT_EQ(by_name->manifest.id(), imported->manifest.id());
  auto by_id = FindKernel(kernels, imported->manifest.id().substr(0, 8));
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->dir, imported->dir);
  auto image_read = ReadKernelImage(imported->image);
  ASSERT_TRUE(image_read.ok());
  EXPECT_EQ(image_read->sha256, imported->manifest.image_sha256());
  auto list = ListKernels(kernels);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
}

}  // namespace
}  // namespace swapchaos::kernels
