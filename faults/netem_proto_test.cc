#include "faults/netem_proto.h"

#include "gtest/gtest.h"

namespace swapchaos::faults {
namespace {

TEST(NetemProtoTest, DefaultsMeanNoFault) {
  NetemParams p = FromProto(agent::Netem());
  EXPECT_EQ(p.limit, 10000u);  // 0 in the proto means the default
  EXPECT_EQ(p.ge_k, 1.0);      // no loss in the good state
  EXPECT_EQ(p.ge_h, 1.0);
  EXPECT_FALSE(p.seed.has_value());
  EXPECT_TRUE(Validate(p).ok());
}

TEST(NetemProtoTest, RoundTrip) {
  agent::Netem n;
  n.set_limit(77);
  n.set_delay_us(1000);
  n.set_jitter_us(10);
  n.set_ge_p(0.1);
  n.set_ge_r(0.2);
  n.set_ge_loss_bad(0.75);
  n.set_ge_loss_good(0.01);
  n.set_reorder(0.3);
  n.set_rate_bytes_per_s(5000);
  n.set_seed(9);
  NetemParams p = FromProto(n);
  EXPECT_DOUBLE_EQ(p.ge_h, 0.25);
  EXPECT_DOUBLE_EQ(p.ge_k, 0.99);
  agent::Netem back = ToProto(p);
  EXPECT_EQ(back.limit(), 77u);
  EXPECT_NEAR(back.ge_loss_bad(), 0.75, 1e-12);
  EXPECT_NEAR(back.ge_loss_good(), 0.01, 1e-12);
  EXPECT_EQ(back.seed(), 9u);
  EXPECT_EQ(back.rate_bytes_per_s(), 5000u);
}

}  // namespace
}  // namespace swapchaos::faults
