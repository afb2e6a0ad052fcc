#include "faults/netem.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <sched.h>

#include <cstring>
#include <thread>

#include "gtest/gtest.h"

namespace swapchaos::faults {
namespace {

// What the kernel would find in the request's TCA_OPTIONS, read back the way
// a dump of the qdisc is read.
NetemParams RoundTrip(const NetemParams& p) {
  NlMsg msg = BuildNetemRequest(7, p);
  nlmsghdr* hdr = nlmsg_hdr(msg.get());
  EXPECT_EQ(hdr->nlmsg_type, RTM_NEWQDISC);
  EXPECT_EQ(hdr->nlmsg_flags & (NLM_F_CREATE | NLM_F_REPLACE), NLM_F_CREATE | NLM_F_REPLACE);
  auto* tc = static_cast<tcmsg*>(nlmsg_data(hdr));
  EXPECT_EQ(tc->tcm_ifindex, 7);
  EXPECT_EQ(tc->tcm_parent, TC_H_ROOT);
  nlattr* tb[TCA_MAX + 1];
  EXPECT_EQ(nlmsg_parse(hdr, sizeof(tcmsg), tb, TCA_MAX, nullptr), 0);
  EXPECT_STREQ(nla_get_string(tb[TCA_KIND]), "netem");
  auto back = ParseNetemOptions(nla_data(tb[TCA_OPTIONS]), nla_len(tb[TCA_OPTIONS]));
  EXPECT_TRUE(back.ok()) << back.status();
  return back.ok() ? *back : NetemParams{};
}

TEST(NetemTest, EveryParameterSurvivesTheRoundTrip) {
  NetemParams p;
  p.limit = 5000;
  p.delay_us = 25000;
  p.jitter_us = 5000;
  p.delay_correlation = 0.25;
  p.loss = 0.3;
  p.loss_correlation = 0.5;
  p.duplicate = 0.01;
  p.corrupt = 0.02;
  p.reorder = 0.1;
  p.rate_bytes_per_s = 1 << 20;
  p.seed = 42;
  NetemParams back = RoundTrip(p);
  EXPECT_EQ(back.limit, 5000u);
  EXPECT_EQ(back.delay_us, 25000u);
  EXPECT_EQ(back.jitter_us, 5000u);
  EXPECT_NEAR(back.delay_correlation, 0.25, 1e-9);
  EXPECT_NEAR(back.loss, 0.3, 1e-9);
  EXPECT_NEAR(back.loss_correlation, 0.5, 1e-9);
  EXPECT_NEAR(back.duplicate, 0.01, 1e-9);
  EXPECT_NEAR(back.corrupt, 0.02, 1e-9);
  EXPECT_NEAR(back.reorder, 0.1, 1e-9);
  EXPECT_EQ(back.reorder_gap, 1u);  // as tc does: reorder implies gap 1
  EXPECT_EQ(back.rate_bytes_per_s, 1u << 20);
  ASSERT_TRUE(back.seed.has_value());
  EXPECT_EQ(*back.seed, 42u);
}

TEST(NetemTest, SameEffectIgnoresRoundingAndTheSeed) {
  NetemParams asked;
  asked.loss = 0.3;
  asked.delay_us = 1000;
  asked.seed = 5;
  NetemParams back = RoundTrip(asked);
  back.seed.reset();  // a 6.1 kernel ignores it
  EXPECT_TRUE(SameEffect(asked, back));
  back.loss = 0.31;
  EXPECT_FALSE(SameEffect(asked, back));
}

TEST(NetemTest, FullLossIsExactlyAllOnes) {
  NetemParams p;
  p.loss = 1.0;
  NlMsg msg = BuildNetemRequest(1, p);
  nlattr* tb[TCA_MAX + 1];
  ASSERT_EQ(nlmsg_parse(nlmsg_hdr(msg.get()), sizeof(tcmsg), tb, TCA_MAX, nullptr), 0);
  tc_netem_qopt q;
  std::memcpy(&q, nla_data(tb[TCA_OPTIONS]), sizeof q);
  EXPECT_EQ(q.loss, UINT32_MAX);  // the kernel's "always": loss >= any random u32
}

TEST(NetemTest, GilbertElliottAndRate64) {
  NetemParams p;
  p.ge_p = 0.05;
  p.ge_r = 0.5;
  p.ge_h = 0.1;
  p.ge_k = 0.99;
  p.rate_bytes_per_s = 10ULL << 30;  // beyond 32 bits
  NetemParams back = RoundTrip(p);
  EXPECT_NEAR(back.ge_p, 0.05, 1e-9);
  EXPECT_NEAR(back.ge_r, 0.5, 1e-9);
  EXPECT_NEAR(back.ge_h, 0.1, 1e-9);
  EXPECT_NEAR(back.ge_k, 0.99, 1e-9);
  EXPECT_EQ(back.rate_bytes_per_s, 10ULL << 30);
  EXPECT_FALSE(back.seed.has_value());
}

TEST(NetemTest, ValidationNamesTheField) {
  struct Case {
    NetemParams p;
    const char* field;
  };
  NetemParams over;
  over.loss = 1.5;
  NetemParams negative;
  negative.corrupt = -0.1;
  NetemParams reorder_no_delay;
  reorder_no_delay.reorder = 0.2;
  NetemParams jitter_no_delay;
  jitter_no_delay.jitter_us = 10;
  NetemParams both_losses;
  both_losses.loss = 0.1;
  both_losses.ge_p = 0.1;
  NetemParams no_limit;
  no_limit.limit = 0;
  for (const Case& c :
       {Case{over, "loss"}, Case{negative, "corrupt"}, Case{reorder_no_delay, "reorder"},
        Case{jitter_no_delay, "jitter_us"}, Case{both_losses, "loss"}, Case{no_limit, "limit"}}) {
    absl::Status s = Validate(c.p);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(s.message().find(std::string("netem ") + c.field), std::string::npos) << s;
  }
  EXPECT_TRUE(Validate(NetemParams{}).ok());
}

// The filter's TCA_OPTIONS, as a dump of the filter would show them.
std::optional<std::pair<uint16_t, bool>> FilterRoundTrip(uint16_t port, bool source) {
  NlMsg msg = BuildPortFilterRequest(3, port, source);
  nlmsghdr* hdr = nlmsg_hdr(msg.get());
  EXPECT_EQ(hdr->nlmsg_type, RTM_NEWTFILTER);
  auto* tc = static_cast<tcmsg*>(nlmsg_data(hdr));
  EXPECT_EQ(tc->tcm_parent, 0x10000u);  // the prio root, 1:
  EXPECT_EQ(TC_H_MIN(tc->tcm_info), htons(ETH_P_IP));
  nlattr* tb[TCA_MAX + 1];
  EXPECT_EQ(nlmsg_parse(hdr, sizeof(tcmsg), tb, TCA_MAX, nullptr), 0);
  EXPECT_STREQ(nla_get_string(tb[TCA_KIND]), "u32");
  return ParsePortFilter(nla_data(tb[TCA_OPTIONS]), nla_len(tb[TCA_OPTIONS]));
}

TEST(NetemTest, PortFiltersMatchTcpToAndFromThePort) {
  EXPECT_EQ(FilterRoundTrip(10809, false), std::optional(std::pair<uint16_t, bool>(10809, false)));
  EXPECT_EQ(FilterRoundTrip(10809, true), std::optional(std::pair<uint16_t, bool>(10809, true)));
  EXPECT_EQ(FilterRoundTrip(1, true), std::optional(std::pair<uint16_t, bool>(1, true)));
}

TEST(NetemTest, ScopedNetemHangsBelowThePriosThirdBand) {
  NlMsg prio = BuildPrioRootRequest(3);
  auto* tc = static_cast<tcmsg*>(nlmsg_data(nlmsg_hdr(prio.get())));
  EXPECT_EQ(tc->tcm_parent, TC_H_ROOT);
  nlattr* tb[TCA_MAX + 1];
  ASSERT_EQ(nlmsg_parse(nlmsg_hdr(prio.get()), sizeof(tcmsg), tb, TCA_MAX, nullptr), 0);
  EXPECT_STREQ(nla_get_string(tb[TCA_KIND]), "prio");
  tc_prio_qopt q;
  std::memcpy(&q, nla_data(tb[TCA_OPTIONS]), sizeof q);
  EXPECT_EQ(q.bands, 3);
  for (uint8_t band : q.priomap) EXPECT_EQ(band, 0);  // unfiltered traffic: unshaped band

  NlMsg netem = BuildNetemRequest(3, NetemParams{}, kScopedNetemParent);
  tc = static_cast<tcmsg*>(nlmsg_data(nlmsg_hdr(netem.get())));
  EXPECT_EQ(tc->tcm_parent, 0x10003u);
  EXPECT_NE(tc->tcm_handle, 0x10000u);  // not the prio's own handle
}

TEST(NetemTest, AFailedScopeLeavesNothingBehind) {
  std::thread([] {
    ASSERT_EQ(unshare(CLONE_NEWNET), 0);
    // lo has no prio root to hang filters on until the prio is made; on a
    // kernel without sch_prio (this host's) that fails, and nothing stays.
    absl::Status s = ApplyNetem("lo", NetemParams{}, 10809);
    if (s.ok()) {
      GTEST_SKIP() << "this kernel has prio and netem; the e2e tests cover the scoped path";
    }
    EXPECT_NE(s.message().find("netem on lo"), std::string::npos) << s;
    auto current = ReadNetem("lo");
    ASSERT_TRUE(current.ok()) << current.status();
    EXPECT_FALSE(current->has_value());
  }).join();
}

TEST(NetemTest, ReadAndRevertWhereNoNetemIsAreNoOps) {
  std::thread([] {
    ASSERT_EQ(unshare(CLONE_NEWNET), 0);
    auto current = ReadNetem("lo");
    ASSERT_TRUE(current.ok()) << current.status();
    EXPECT_FALSE(current->has_value());
    EXPECT_TRUE(RevertNetem("lo").ok());
    EXPECT_EQ(ReadNetem("nosuch0").status().code(), absl::StatusCode::kNotFound);
  }).join();
}

}  // namespace
}  // namespace swapchaos::faults
