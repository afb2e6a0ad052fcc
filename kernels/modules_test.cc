#include "kernels/modules.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "testing/shell.h"
#include "kernels/kernel_image.h"

namespace swapchaos::kernels {
namespace {

std::string WriteTree(const std::string& dep, const std::string& builtin) {
  std::string dir = test::UniqueTempDir() + "/modules_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/modules.dep") << dep;
  std::ofstream(dir + "/modules.builtin") << builtin;
  return dir;
}

size_t IndexOf(const std::vector<ModuleLoad>& loads, const std::string& rel) {
  for (size_t i = 0; i < loads.size(); ++i) {
    if (loads[i].relpath == rel) return i;
  }
  return loads.size();
}

TEST(ModulesTest, DependenciesFirstEachOnce) {
  std::string dir = WriteTree(
      "kernel/a.ko: kernel/b.ko kernel/c.ko\n"
      "kernel/b.ko: kernel/c.ko\n"
      "kernel/c.ko:\n"
      "kernel/d-x.ko: kernel/c.ko\n",
      "kernel/builtin_one.ko\n");
  auto loads = ResolveModules(dir, {{"a", ""}, {"d_x", "p=1"}, {"builtin-one", ""}});
  ASSERT_TRUE(loads.ok()) << loads.status();
  ASSERT_EQ(loads->size(), 4u);
  EXPECT_EQ((*loads)[0].relpath, "kernel/c.ko");
  EXPECT_EQ((*loads)[1].relpath, "kernel/b.ko");
  EXPECT_EQ((*loads)[2].relpath, "kernel/a.ko");
  EXPECT_EQ((*loads)[3].relpath, "kernel/d-x.ko");
  EXPECT_EQ((*loads)[3].args, "p=1");
}

TEST(ModulesTest, UnknownModuleIsNamed) {
  std::string dir = WriteTree("kernel/a.ko:\n", "");
  auto loads = ResolveModules(dir, {{"nosuch", ""}});
  ASSERT_FALSE(loads.ok());
  EXPECT_NE(loads.status().message().find("nosuch"), std::string::npos);
}

TEST(ModulesTest, RealKernelModulesResolveInOrder) {
  auto path = DefaultKernelPath();
  ASSERT_TRUE(path.ok()) << path.status();
  auto image = ReadKernelImage(*path);
  ASSERT_TRUE(image.ok()) << image.status();
  auto loads = ResolveModules(image->modules_dir, {{"virtio_net", ""}, {"nbd", ""}});
  ASSERT_TRUE(loads.ok()) << loads.status();
  size_t failover = IndexOf(*loads, "kernel/net/core/failover.ko");
  size_t net_failover = IndexOf(*loads, "kernel/drivers/net/net_failover.ko");
  size_t virtio_net = IndexOf(*loads, "kernel/drivers/net/virtio_net.ko");
  ASSERT_LT(virtio_net, loads->size());
  EXPECT_LT(failover, net_failover);
  EXPECT_LT(net_failover, virtio_net);
  EXPECT_LT(IndexOf(*loads, "kernel/drivers/block/nbd.ko"), loads->size());
}

}  // namespace
}  // namespace swapchaos::kernels
