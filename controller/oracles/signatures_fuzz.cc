// libFuzzer harness: any bytes as a guest's console. The signature matcher
// reads what a crashing kernel printed, so it must survive anything a
// kernel (or a corrupted serial line) can print.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controller/oracles/signatures.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)swapchaos::controller::ScanConsole(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
