#include "controller/vm/accel.h"

#include <fstream>

#include "gtest/gtest.h"
#include "kernels/guest_image.h"
#include "kernels/kernel_image.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {

TEST(AccelTest, NoKvmDeviceMeansTcgWithoutProbing) {
  std::string dir = test::UniqueTempDir();
  auto c = ChooseAccel(dir, "/nonexistent/vmlinuz", "/nonexistent/initrd", dir,
                       "/nonexistent/kvm");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->accel, "tcg");
  EXPECT_NE(c->reason.find("/nonexistent/kvm"), std::string::npos);
}

// With a device that looks usable, a real QEMU probe decides (here it fails:
// no working KVM) and its answer is cached for the next run on this host.
TEST(AccelTest, ProbeAnswerIsCachedPerHost) {
  std::string dir = test::UniqueTempDir();
  std::string fake_kvm = dir + "/kvm";
  std::ofstream(fake_kvm) << "";
  auto kernel = kernels::DefaultKernelPath();
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  auto probe = kernels::BuildGuestImage(kernels::ProbeImageSpec(), dir + "/cache");
  ASSERT_TRUE(probe.ok()) << probe.status();

  auto first = ChooseAccel(dir + "/cache", *kernel, *probe, dir, fake_kvm);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->accel == "kvm" || first->accel == "tcg");
  EXPECT_EQ(first->reason.find("cached"), std::string::npos) << first->reason;
  auto second = ChooseAccel(dir + "/cache", *kernel, *probe, dir, fake_kvm);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->accel, first->accel);
  EXPECT_NE(second->reason.find("cached"), std::string::npos) << second->reason;
}

}  // namespace
}  // namespace swapchaos::controller
