#include "agents/nbd/netlink.h"

#include "agents/nbd/reconnect.h"

#include <linux/nbd-netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "gtest/gtest.h"

namespace swapchaos::agents::nbd {
namespace {

constexpr int kFamily = 0x1234;

TEST(NbdNetlinkTest, ConnectMessageCarriesEveryAttribute) {
  ConnectParams p;
  p.sock_fd = 7;
  p.index = 0;
  p.size_bytes = 1ULL << 30;
  p.server_flags = 0x1ed;
  p.timeout_s = 30;
  p.dead_conn_timeout_s = 120;
  NlMsgPtr msg = BuildConnectMessage(kFamily, p);
  nlmsghdr* hdr = nlmsg_hdr(msg.get());
  EXPECT_EQ(hdr->nlmsg_type, kFamily);
  auto* genl = static_cast<genlmsghdr*>(nlmsg_data(hdr));
  EXPECT_EQ(genl->cmd, NBD_CMD_CONNECT);
  EXPECT_EQ(genl->version, NBD_GENL_VERSION);

  nlattr* a[NBD_ATTR_MAX + 1];
  ASSERT_EQ(genlmsg_parse(hdr, 0, a, NBD_ATTR_MAX, nullptr), 0);
  ASSERT_NE(a[NBD_ATTR_INDEX], nullptr);
  EXPECT_EQ(nla_get_u32(a[NBD_ATTR_INDEX]), 0u);
  EXPECT_EQ(nla_get_u64(a[NBD_ATTR_SIZE_BYTES]), 1ULL << 30);
  EXPECT_EQ(nla_get_u64(a[NBD_ATTR_BLOCK_SIZE_BYTES]), 4096u);
  EXPECT_EQ(nla_get_u64(a[NBD_ATTR_SERVER_FLAGS]), 0x1edu);
  EXPECT_EQ(nla_get_u64(a[NBD_ATTR_TIMEOUT]), 30u);
  EXPECT_EQ(nla_get_u64(a[NBD_ATTR_DEAD_CONN_TIMEOUT]), 120u);

  // NBD_ATTR_SOCKETS > NBD_SOCK_ITEM > NBD_SOCK_FD, as nbd_genl_connect() walks it.
  ASSERT_NE(a[NBD_ATTR_SOCKETS], nullptr);
  nlattr* item;
  int rem;
  int items = 0;
  nla_for_each_nested(item, a[NBD_ATTR_SOCKETS], rem) {
    EXPECT_EQ(nla_type(item), NBD_SOCK_ITEM);
    nlattr* s[NBD_SOCK_MAX + 1];
    ASSERT_EQ(nla_parse_nested(s, NBD_SOCK_MAX, item, nullptr), 0);
    ASSERT_NE(s[NBD_SOCK_FD], nullptr);
    EXPECT_EQ(nla_get_u32(s[NBD_SOCK_FD]), 7u);
    ++items;
  }
  EXPECT_EQ(items, 1);
}

TEST(NbdNetlinkTest, ZeroTimeoutIsLeftToTheKernelAndAnyIndexOmitted) {
  ConnectParams p;
  p.sock_fd = 3;
  p.size_bytes = 4096 * 16;
  NlMsgPtr msg = BuildConnectMessage(kFamily, p);
  nlattr* a[NBD_ATTR_MAX + 1];
  ASSERT_EQ(genlmsg_parse(nlmsg_hdr(msg.get()), 0, a, NBD_ATTR_MAX, nullptr), 0);
  EXPECT_EQ(a[NBD_ATTR_TIMEOUT], nullptr);
  EXPECT_EQ(a[NBD_ATTR_INDEX], nullptr);
  ASSERT_NE(a[NBD_ATTR_DEAD_CONN_TIMEOUT], nullptr);
  EXPECT_EQ(nla_get_u64(a[NBD_ATTR_DEAD_CONN_TIMEOUT]), 0u);
}

TEST(NbdNetlinkTest, HostWithoutNbdSaysSoClearly) {
  // This host kernel has no nbd module: the error must say what is missing.
  ConnectParams p;
  auto index = Connect(p);
  if (index.ok()) GTEST_SKIP() << "host kernel has nbd; not exercising the error path";
  EXPECT_NE(index.status().message().find("nbd"), std::string::npos) << index.status();
}

TEST(NbdNetlinkTest, ReconfigureCarriesIndexAndSocketOnly) {
  NlMsgPtr msg = BuildReconfigureMessage(kFamily, 0, 9);
  nlmsghdr* hdr = nlmsg_hdr(msg.get());
  auto* genl = static_cast<genlmsghdr*>(nlmsg_data(hdr));
  EXPECT_EQ(genl->cmd, NBD_CMD_RECONFIGURE);
  nlattr* a[NBD_ATTR_MAX + 1];
  ASSERT_EQ(genlmsg_parse(hdr, 0, a, NBD_ATTR_MAX, nullptr), 0);
  EXPECT_EQ(nla_get_u32(a[NBD_ATTR_INDEX]), 0u);
  // A size would make the kernel freeze the queue with requests in flight.
  EXPECT_EQ(a[NBD_ATTR_SIZE_BYTES], nullptr);
  EXPECT_EQ(a[NBD_ATTR_TIMEOUT], nullptr);
  ASSERT_NE(a[NBD_ATTR_SOCKETS], nullptr);
  nlattr* item = static_cast<nlattr*>(nla_data(a[NBD_ATTR_SOCKETS]));
  nlattr* s[NBD_SOCK_MAX + 1];
  ASSERT_EQ(nla_parse_nested(s, NBD_SOCK_MAX, item, nullptr), 0);
  EXPECT_EQ(nla_get_u32(s[NBD_SOCK_FD]), 9u);
}

TEST(NbdNetlinkTest, BackoffGrowsToFiveSeconds) {
  EXPECT_EQ(ReconnectBackoff(0).count(), 200);
  EXPECT_EQ(ReconnectBackoff(1).count(), 400);
  EXPECT_EQ(ReconnectBackoff(4).count(), 3200);
  EXPECT_EQ(ReconnectBackoff(5).count(), 5000);
  EXPECT_EQ(ReconnectBackoff(1000).count(), 5000);
}

TEST(NbdNetlinkTest, ListenerWithoutTheNbdModuleSaysSo) {
  // This host's kernel has no nbd; a guest's has (the e2e tests use it).
  auto l = LinkDeadListener::Open();
  if (l.ok()) GTEST_SKIP() << "this kernel has nbd";
  EXPECT_NE(l.status().message().find("nbd"), std::string::npos) << l.status();
}

}  // namespace
}  // namespace swapchaos::agents::nbd
