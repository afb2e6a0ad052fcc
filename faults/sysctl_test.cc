#include "faults/sysctl.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::faults {
namespace {

namespace fs = std::filesystem;

// A /proc/sys of one file, vm/min_free_kbytes holding `value`.
std::string FakeProcSys(const std::string& value) {
  std::string root = test::UniqueTempDir();
  fs::create_directories(root + "/vm");
  std::ofstream(root + "/vm/min_free_kbytes") << value << "\n";
  return root;
}

TEST(SysctlTest, SetRemembersTheFirstValueAndRestorePutsItBack) {
  VmSysctls s(FakeProcSys("67584"));
  auto set = s.Set("vm.min_free_kbytes", "131072");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->value, "131072");
  EXPECT_EQ(set->original, "67584");
  auto again = s.Set("vm.min_free_kbytes", "262144");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->original, "67584");  // the first value, not the last
  auto back = s.Restore("vm.min_free_kbytes");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->value, "67584");
  auto twice = s.Restore("vm.min_free_kbytes");  // idempotent
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->value, "67584");
}

TEST(SysctlTest, BaselineIsWhatAFaultRestores) {
  VmSysctls s(FakeProcSys("1880"));
  auto base = s.SetBaseline("vm.min_free_kbytes", "13107");
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_EQ(*base, "13107");
  ASSERT_TRUE(s.Set("vm.min_free_kbytes", "24576").ok());
  // A baseline under a fault would be undone by the fault's restore.
  EXPECT_EQ(s.SetBaseline("vm.min_free_kbytes", "1").status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto back = s.Restore("vm.min_free_kbytes");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->value, "13107");  // the run's baseline, not the kernel's default
}

TEST(SysctlTest, OnlyVmNamesAndErrorsNameTheSysctl) {
  std::string root = test::UniqueTempDir();
  VmSysctls s(root);
  for (const char* bad : {"kernel.panic", "vm.", "vm/../kernel/panic", "vm..x", "vm.a b"}) {
    auto r = s.Set(bad, "1");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  auto missing = s.Set("vm.nosuch", "1");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("vm.nosuch"), std::string::npos);
}

TEST(SysctlTest, ReadsTheRealKernel) {
  VmSysctls s;
  auto v = s.Read("vm.min_free_kbytes");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_GT(std::stoull(*v), 0u);
}

}  // namespace
}  // namespace swapchaos::faults
