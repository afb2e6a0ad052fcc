#include "kernels/guest_image.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::kernels {
namespace {
namespace fs = std::filesystem;

class GuestImageTest : public testing::Test {
 protected:
  void SetUp() override {
    cache_ = test::UniqueTempDir() + "/guest_image_test";
    fs::remove_all(cache_);
    auto path = DefaultKernelPath();
    ASSERT_TRUE(path.ok()) << path.status();
    auto k = ReadKernelImage(*path);
    ASSERT_TRUE(k.ok()) << k.status();
    kernel_ = *k;
    // This test binary stands in for the agent: dynamically linked, like it.
    agent_ = test::UniqueTempDir() + "/fake_agent";
    fs::copy_file(fs::read_symlink("/proc/self/exe"), agent_, fs::copy_options::overwrite_existing);
  }
  std::string cache_;
  std::string agent_;
  KernelImage kernel_;
};

TEST_F(GuestImageTest, ContainsInitAgentClosureAndModulesInOrder) {
  auto image = BuildGuestImage(AgentImageSpec(kernel_, agent_), cache_);
  ASSERT_TRUE(image.ok()) << image.status();
  std::string listing = test::ShellOutput("cpio -it --quiet < " + *image);
  for (const char* want :
       {"init\n", "bin/busybox\n", "usr/bin/swapchaos-agent\n", "dev/console\n",
        "lib64/ld-linux-x86-64.so.2\n", "lib/modules/kernel/drivers/block/nbd.ko\n",
        "lib/modules/kernel/net/sched/sch_netem.ko\n"}) {
    EXPECT_NE(listing.find(want), std::string::npos) << want << " missing in\n" << listing;
  }
  std::string order = test::ShellOutput("cd " + test::UniqueTempDir() +
                                        " && cpio -i --quiet --to-stdout "
                                        "etc/swapchaos/modules < " +
                                        *image);
  EXPECT_LT(order.find("virtio_ring.ko"), order.find("virtio_pci.ko")) << order;
  EXPECT_NE(order.find("nbd.ko nbds_max=1 max_part=0"), std::string::npos) << order;
}

TEST_F(GuestImageTest, CachedUntilAnInputChanges) {
  auto first = BuildGuestImage(AgentImageSpec(kernel_, agent_), cache_);
  ASSERT_TRUE(first.ok()) << first.status();
  auto mtime = fs::last_write_time(*first);
  auto again = BuildGuestImage(AgentImageSpec(kernel_, agent_), cache_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(fs::last_write_time(*again), mtime);

  std::ofstream(agent_, std::ios::app) << "changed";
  auto changed = BuildGuestImage(AgentImageSpec(kernel_, agent_), cache_);
  ASSERT_TRUE(changed.ok());
  EXPECT_NE(*changed, *first);

  GuestImageSpec other_init = AgentImageSpec(kernel_, agent_);
  other_init.init_script += "\n# changed";
  auto init_changed = BuildGuestImage(other_init, cache_);
  ASSERT_TRUE(init_changed.ok());
  EXPECT_NE(*init_changed, *changed);
}

TEST_F(GuestImageTest, MissingAgentLeavesNothingInCache) {
  auto image = BuildGuestImage(AgentImageSpec(kernel_, "/nonexistent/agent"), cache_);
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.status().message().find("/nonexistent/agent"), std::string::npos);
  EXPECT_TRUE(!fs::exists(cache_ + "/images") || fs::is_empty(cache_ + "/images"));
}

TEST_F(GuestImageTest, ProbeImageHasNoAgent) {
  auto image = BuildGuestImage(ProbeImageSpec(), cache_);
  ASSERT_TRUE(image.ok()) << image.status();
  std::string listing = test::ShellOutput("cpio -it --quiet < " + *image);
  EXPECT_NE(listing.find("bin/busybox"), std::string::npos);
  EXPECT_EQ(listing.find("swapchaos-agent"), std::string::npos);
}

}  // namespace
}  // namespace swapchaos::kernels
