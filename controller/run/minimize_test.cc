#include "controller/run/minimize.h"

#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

TEST(MinimizeFaultsTest, ShorterAndEachNumberHalved) {
  scenario::Fault f;
  f.set_at_s(10);
  f.set_for_s(8);
  f.mutable_netem()->set_direction("both");
  f.mutable_netem()->mutable_params()->set_loss(0.4);
  f.mutable_netem()->mutable_params()->set_delay_us(3000);
  std::vector<scenario::Fault> v = SimplerFaults(f);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].for_s(), 4);
  EXPECT_EQ(v[0].netem().params().loss(), 0.4);
  // The rest: one parameter halved each, everything else as it was.
  int halved_loss = 0, halved_delay = 0;
  for (size_t i = 1; i < v.size(); ++i) {
    EXPECT_EQ(v[i].for_s(), 8);
    EXPECT_EQ(v[i].at_s(), 10);
    halved_loss += v[i].netem().params().loss() == 0.2 && v[i].netem().params().delay_us() == 3000;
    halved_delay += v[i].netem().params().delay_us() == 1500 && v[i].netem().params().loss() == 0.4;
  }
  EXPECT_EQ(halved_loss, 1);
  EXPECT_EQ(halved_delay, 1);
}

TEST(MinimizeFaultsTest, NothingSimplerThanAShortKill) {
  scenario::Fault f;
  f.set_for_s(1);
  f.mutable_nbd_server()->set_action("kill");
  EXPECT_TRUE(SimplerFaults(f).empty());
}

}  // namespace
}  // namespace swapchaos::controller
