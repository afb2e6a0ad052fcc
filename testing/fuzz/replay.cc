// The ordinary build's side of a libFuzzer harness: every file of its seed
// corpus (testing/fuzz/corpus/NAME, SWAPCHAOS_FUZZ_CORPUS) through
// LLVMFuzzerTestOneInput, so each input that once crashed a fuzzer stays a
// regression test without clang. A harness reports a broken invariant by
// aborting, which fails this test too.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "gtest/gtest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(SWAPCHAOS_FUZZ_NAME, EveryCorpusInputReplays) {
  int inputs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SWAPCHAOS_FUZZ_CORPUS)) {
    if (!entry.is_regular_file()) continue;
    SCOPED_TRACE(entry.path().string());
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size()),
              0);
    ++inputs;
  }
  EXPECT_GT(inputs, 0) << "no seed corpus in " << SWAPCHAOS_FUZZ_CORPUS;
}

}  // namespace
