#include "agents/telemetry/throttle.h"

#include "gtest/gtest.h"

namespace swapchaos::agents::telemetry {
namespace {

agent::Sample At(uint64_t uptime_ms, std::initializer_list<std::pair<int, const char*>> tasks,
                 uint64_t pgscan) {
  agent::Sample s;
  s.set_uptime_ms(uptime_ms);
  for (auto [pid, wchan] : tasks) {
    agent::TaskSample* t = s.add_tasks();
    t->set_pid(pid);
    t->set_state("running");
    t->set_wchan(wchan);
  }
  (*s.mutable_vmstat())["pgscan_direct_throttle"] = pgscan;
  return s;
}

TEST(ThrottleTrackerTest, EpisodesFromWchansAndDeltasFromTheCounter) {
  ThrottleTracker t;
  agent::Sample a = At(1000, {{10, "do_swap_page"}, {11, kThrottleWchan}}, 5);
  t.Annotate(&a);
  ASSERT_EQ(a.throttled_now_size(), 1);
  EXPECT_EQ(a.throttled_now(0).pid(), 11);
  EXPECT_EQ(a.throttled_now(0).start_uptime_ms(), 1000u);
  EXPECT_EQ(a.pgscan_direct_throttle_delta(), 0u);  // no previous sample

  agent::Sample b = At(1500, {{10, kThrottleWchan}, {11, kThrottleWchan}}, 9);
  t.Annotate(&b);
  ASSERT_EQ(b.throttled_now_size(), 2);
  EXPECT_EQ(b.throttled_now(0).start_uptime_ms(), 1500u);  // pid 10: new
  EXPECT_EQ(b.throttled_now(1).start_uptime_ms(), 1000u);  // pid 11: still
  EXPECT_EQ(b.throttles_ended_size(), 0);
  EXPECT_EQ(b.pgscan_direct_throttle_delta(), 4u);

  // pid 11 woken, pid 10 gone altogether: both episodes end here.
  agent::Sample c = At(2000, {{11, "folio_wait_bit_common"}}, 9);
  t.Annotate(&c);
  EXPECT_EQ(c.throttled_now_size(), 0);
  ASSERT_EQ(c.throttles_ended_size(), 2);
  EXPECT_EQ(c.throttles_ended(1).pid(), 11);
  EXPECT_EQ(c.throttles_ended(1).start_uptime_ms(), 1000u);
  EXPECT_EQ(c.throttles_ended(1).end_uptime_ms(), 2000u);
  EXPECT_EQ(c.pgscan_direct_throttle_delta(), 0u);
}

}  // namespace
}  // namespace swapchaos::agents::telemetry
