// libFuzzer harness: any bytes as a scenario file. The loader must answer
// with a scenario or an error, within bounds of time and memory, whatever
// it is given (aliases, nesting, huge counts, NaN).
#include <cstddef>
#include <cstdint>
#include <string>

#include "controller/scenario/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)swapchaos::controller::ParseScenario(text, "fuzz.yaml");
  return 0;
}
