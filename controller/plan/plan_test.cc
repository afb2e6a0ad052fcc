#include "controller/plan/plan.h"

#include <google/protobuf/text_format.h>

#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

constexpr char GOLDEN_SEED1[] =
    "at_s: 5 for_s: 2 nbd_server { action: \"freeze\" }\n"
    "at_s: 41.4 for_s: 19.5 netem { direction: \"both\" params { delay_us: 20215 loss: 0.7737 "
    "} }\n"
    "at_s: 91.1 for_s: 13.4 netem { direction: \"both\" params { delay_us: 8234 loss: 0.7054 } "
    "}\n"
    "at_s: 115.7 for_s: 9.7 cable_pull { vm: \"victim\" nic: \"data0\" }\n"
    "at_s: 163 for_s: 14.7 netem { direction: \"both\" params { delay_us: 48428 loss: 0.2796 "
    "} }\n";

scenario::Scenario WithGenerator() {
  scenario::Scenario s;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    deadline_s: 600
    oracles { grace_s: 120 }
    faults { at_s: 5 for_s: 2 nbd_server { action: "freeze" } }
    generator {
      count: 4
      window_start_s: 20
      window_s: 200
      min_gap_s: 5
      kinds {
        weight: 3
        fault { netem { direction: "both" } }
        for_s { min: 2 max: 20 }
        params { field: "netem.params.loss" min: 0.05 max: 1 }
        params { field: "netem.params.delay_us" min: 0 max: 50000 }
      }
      kinds {
        weight: 1
        fault { cable_pull { vm: "victim" nic: "data0" } }
        for_s { min: 5 max: 30 }
      }
    }
  )pb", &s));
  return s;
}

TEST(PlanTest, SameSeedSamePlanByteForByte) {
  scenario::Scenario s = WithGenerator();
  EXPECT_EQ(ResolvePlan(s, 11).SerializeAsString(), ResolvePlan(s, 11).SerializeAsString());
  EXPECT_NE(ResolvePlan(s, 11).SerializeAsString(), ResolvePlan(s, 12).SerializeAsString());
}

// The schedule seed 1 draws, kept here: a change to the PRNG, the sampling
// or the layout that would make old seeds replay differently fails this.
TEST(PlanTest, GoldenScheduleForSeed1) {
  scenario::Scenario plan = ResolvePlan(WithGenerator(), 1);
  std::string text;
  for (const scenario::Fault& f : plan.faults()) text += f.ShortDebugString() + "\n";
  EXPECT_EQ(text, GOLDEN_SEED1) << text;
}

TEST(PlanTest, DrawnFaultsFitTheWindowInOrderWithGaps) {
  scenario::Scenario s = WithGenerator();
  for (uint64_t seed = 0; seed < 200; ++seed) {
    scenario::Scenario plan = ResolvePlan(s, seed);
    ASSERT_FALSE(plan.has_generator());
    ASSERT_EQ(plan.faults_size(), 5);  // the fixed one first
    EXPECT_EQ(plan.faults(0).at_s(), 5);
    double prev_end = -1e9;
    for (int i = 1; i < plan.faults_size(); ++i) {
      const scenario::Fault& f = plan.faults(i);
      EXPECT_GE(f.at_s(), 20);
      EXPECT_LE(f.at_s() + f.for_s(), 220 + 1e-9) << seed;
      EXPECT_GE(f.at_s(), prev_end + 5 - 1e-9) << seed;
      prev_end = f.at_s() + f.for_s();
      if (f.has_netem()) {
        EXPECT_GE(f.netem().params().loss(), 0.05);
        EXPECT_LE(f.netem().params().loss(), 1);
        EXPECT_LE(f.netem().params().delay_us(), 50000u);
        EXPECT_GE(f.for_s(), 2);
      } else {
        EXPECT_EQ(f.cable_pull().vm(), "victim");
      }
    }
  }
}

TEST(PlanTest, GeneratorErrorsNameTheField) {
  struct Case {
    void (*edit)(scenario::Scenario&);
    const char* field;
  };
  const Case cases[] = {
      {[](scenario::Scenario& s) { s.mutable_generator()->set_count(0); }, "generator.count"},
      {[](scenario::Scenario& s) { s.mutable_generator()->mutable_kinds(0)->set_weight(0); },
       "generator.kinds[0].weight"},
      {[](scenario::Scenario& s) {
         s.mutable_generator()->mutable_kinds(0)->mutable_params(0)->set_field("netem.nosuch");
       },
       "generator.kinds[0].params[0].field"},
      {[](scenario::Scenario& s) {
         s.mutable_generator()->mutable_kinds(0)->mutable_params(0)->set_max(1.5);
       },
       "generator.kinds[0].fault.netem.params"},
      {[](scenario::Scenario& s) { s.mutable_generator()->set_window_s(50); },
       "generator.window_s"},
      {[](scenario::Scenario& s) { s.set_deadline_s(300); }, "deadline_s"},
      {[](scenario::Scenario& s) {
         s.mutable_generator()->mutable_kinds(1)->mutable_for_s()->set_min(0);
       },
       "generator.kinds[1].for_s"},
  };
  for (const Case& c : cases) {
    scenario::Scenario s = WithGenerator();
    c.edit(s);
    auto bad = CheckGenerator(s);
    ASSERT_TRUE(bad.has_value()) << c.field;
    EXPECT_EQ(bad->field, c.field) << bad->what;
  }
  EXPECT_FALSE(CheckGenerator(WithGenerator()).has_value());
}

}  // namespace
}  // namespace swapchaos::controller
