#include "agents/workload/page_marks.h"

namespace swapchaos::agents::workload {
namespace {

constexpr size_t kSectorWords = 512 / sizeof(uint64_t);

uint64_t Mark(size_t word, size_t words, uint64_t pattern) {
  if (word == words - 1) return ~pattern;
  // Sector k's word differs from every other sector's of the page, so a
  // sector read into the wrong place is caught too.
  return pattern + 0x9e3779b97f4a7c15ULL * (word / kSectorWords);
}

}  // namespace

void MarkPage(uint64_t* page, size_t words, uint64_t pattern) {
  for (size_t w = 0; w < words; w += kSectorWords) page[w] = Mark(w, words, pattern);
  page[words - 1] = Mark(words - 1, words, pattern);
}

std::optional<PageMismatch> CheckPage(const uint64_t* page, size_t words, uint64_t pattern) {
  auto check = [&](size_t w) -> std::optional<PageMismatch> {
    uint64_t want = Mark(w, words, pattern);
    if (page[w] == want) return std::nullopt;
    return PageMismatch{.word = w, .expected = want, .found = page[w]};
  };
  for (size_t w = 0; w < words; w += kSectorWords) {
    if (auto m = check(w)) return m;
  }
  return check(words - 1);
}

}  // namespace swapchaos::agents::workload
