#include "agents/boot/bringup.h"

#include <sched.h>

#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::agents::boot {
namespace {

TEST(BringUpTest, ParsesTheKernelCommandLineForms) {
  auto nic = ParseNic("data0,52:54:00:5c:01:02,192.0.2.2/24");
  ASSERT_TRUE(nic.ok()) << nic.status();
  EXPECT_EQ(nic->name, "data0");
  EXPECT_EQ(nic->mac, "52:54:00:5c:01:02");
  EXPECT_EQ(nic->cidr, "192.0.2.2/24");
  auto route = ParseRoute("198.51.100.0/24,192.0.2.1");
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->dst_cidr, "198.51.100.0/24");
  EXPECT_EQ(route->gateway, "192.0.2.1");
  for (const char* bad : {"", "data0", "data0,52:54,192.0.2.2/24", "data0,52:54:00:5c:01:02,x"}) {
    EXPECT_FALSE(ParseNic(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseRoute("198.51.100.0,192.0.2.1").ok());
}

TEST(BringUpTest, ModuleFailuresAreListedByName) {
  std::string dir = test::UniqueTempDir();
  std::ofstream(dir + "/modules") << "kernel/a.ko\nkernel/b.ko p=1\n";
  absl::Status s = LoadModules(dir + "/modules", dir);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("kernel/a.ko"), std::string::npos) << s;
  EXPECT_NE(s.message().find("kernel/b.ko"), std::string::npos) << s;
  EXPECT_EQ(LoadModules(dir + "/none", dir).code(), absl::StatusCode::kNotFound);
  std::ofstream(dir + "/empty") << "";
  EXPECT_TRUE(LoadModules(dir + "/empty", dir).ok());
}

TEST(BringUpTest, MissingNicIsNamedAfterTheWait) {
  absl::Status s;
  std::thread([&] {
    ASSERT_EQ(unshare(CLONE_NEWNET), 0);
    s = ConfigureNetwork({{"data0", "52:54:00:5c:09:09", "192.0.2.2/24"}}, {}, false,
                         std::chrono::milliseconds(100));
  }).join();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("52:54:00:5c:09:09"), std::string::npos);
}

}  // namespace
}  // namespace swapchaos::agents::boot
