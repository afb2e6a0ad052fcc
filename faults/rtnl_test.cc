#include "faults/rtnl.h"

#include <sched.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"

namespace swapchaos::faults {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `fn` on a thread in a brand-new network namespace of its own.
void InFreshNamespace(const std::function<void()>& fn) {
  std::thread([&] {
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << "tests need root";
    fn();
  }).join();
}

TEST(RtnlTest, BridgeRenameAddressRouteAsTheKernelSeesThem) {
  InFreshNamespace([] {
    auto r = Rtnl::Open();
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE((*r)->SetUp("lo").ok());
    ASSERT_TRUE((*r)->AddBridge("brtest").ok());
    ASSERT_TRUE((*r)->Rename("brtest", "data7").ok());
    ASSERT_TRUE((*r)->AddAddress("data7", "192.0.2.9/24").ok());
    ASSERT_TRUE((*r)->SetUp("data7").ok());
    ASSERT_TRUE((*r)->AddRoute("198.51.100.0/24", "192.0.2.1").ok());

    std::string devs = Read("/proc/thread-self/net/dev");
    EXPECT_NE(devs.find("data7:"), std::string::npos) << devs;
    EXPECT_EQ(devs.find("brtest:"), std::string::npos) << devs;
    // /proc/net/route: destination 198.51.100.0 and gateway 192.0.2.1, little-endian hex.
    std::string routes = Read("/proc/thread-self/net/route");
    EXPECT_NE(routes.find("data7\t006433C6\t010200C0"), std::string::npos) << routes;
    EXPECT_NE(Read("/proc/thread-self/net/fib_trie").find("192.0.2.9"), std::string::npos);
  });
}

TEST(RtnlTest, LinkWithMacFindsLoopback) {
  InFreshNamespace([] {
    auto r = Rtnl::Open();
    ASSERT_TRUE(r.ok()) << r.status();
    auto name = (*r)->LinkWithMac("00:00:00:00:00:00");
    ASSERT_TRUE(name.ok()) << name.status();
    EXPECT_EQ(*name, "lo");
    auto none = (*r)->LinkWithMac("52:54:00:aa:bb:cc");
    EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
    EXPECT_NE(none.status().message().find("52:54:00:aa:bb:cc"), std::string::npos);
  });
}

TEST(RtnlTest, LinkDownAndUpReadBack) {
  InFreshNamespace([] {
    auto r = Rtnl::Open();
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE((*r)->AddBridge("br9").ok());
    ASSERT_TRUE((*r)->SetUp("br9").ok());
    auto up = (*r)->ReadLink("br9");
    ASSERT_TRUE(up.ok()) << up.status();
    EXPECT_TRUE(up->admin_up);
    ASSERT_TRUE((*r)->SetUp("br9", false).ok());
    auto down = (*r)->ReadLink("br9");
    ASSERT_TRUE(down.ok());
    EXPECT_FALSE(down->admin_up);
    EXPECT_EQ((*r)->ReadLink("nosuch0").status().code(), absl::StatusCode::kUnavailable);
  });
}

TEST(RtnlTest, ErrorsNameTheLink) {
  InFreshNamespace([] {
    auto r = Rtnl::Open();
    ASSERT_TRUE(r.ok());
    absl::Status s = (*r)->SetUp("nosuch0");
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("nosuch0"), std::string::npos);
    EXPECT_FALSE((*r)->AddAddress("lo", "not-an-address").ok());
  });
}

}  // namespace
}  // namespace swapchaos::faults
