#ifndef SWAPCHAOS_TESTING_FUZZ_SCRATCH_DIR_H_
#define SWAPCHAOS_TESTING_FUZZ_SCRATCH_DIR_H_

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace swapchaos::test {

// A directory of its own for a harness whose code under test takes paths,
// made on first use and removed when the fuzzer (or the replay test) exits:
// a minute of fuzzing leaves nothing in /tmp.
inline const std::string& FuzzScratchDir() {
  // Never destroyed: a static string would be destroyed before the exit
  // handler below (registered first, run last) reads it.
  static const std::string* dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "swapchaos-fuzz.XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    std::atexit([] {
      std::error_code ignored;  // at exit there is no one left to tell
      std::filesystem::remove_all(FuzzScratchDir(), ignored);
    });
    return new std::string(tmpl);
  }();
  return *dir;
}

}  // namespace swapchaos::test

#endif  // SWAPCHAOS_TESTING_FUZZ_SCRATCH_DIR_H_
