// libFuzzer harness: the plan generator on any scenario the loader accepts,
// for any seed (the input's first 8 bytes). Every plan it draws must pass
// the loader's own checks: a generator that draws an invalid fault would
// fail a campaign run instead of the loader.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "controller/plan/plan.h"
#include "controller/scenario/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t seed = 0;
  if (size < sizeof seed) return 0;
  std::memcpy(&seed, data, sizeof seed);
  std::string text(reinterpret_cast<const char*>(data) + sizeof seed, size - sizeof seed);
  auto loaded = swapchaos::controller::ParseScenario(text, "fuzz.yaml");
  if (!loaded.ok()) return 0;
  const auto plan = swapchaos::controller::ResolvePlan(loaded->scenario, seed);
  if (auto st = swapchaos::controller::CheckScenario(plan, loaded->where); !st.ok()) {
    std::cerr << "seed " << seed << " drew a plan the loader refuses: " << st.message() << "\n";
    std::abort();
  }
  return 0;
}
