#include "agents/workload/page_marks.h"

#include <cstdio>
#include <cstring>

namespace swapchaos::agents::workload {
namespace {

constexpr uint64_t kStep = 0x9e3779b97f4a7c15ULL;

// Four words at a time: two SSE2 registers on baseline x86-64, one AVX2
// register where the compiler may use it.
using Words4 = uint64_t __attribute__((vector_size(32)));
constexpr size_t kLanes = 4;

uint64_t Expected(size_t word, uint64_t pattern) { return pattern + kStep * word; }

}  // namespace

void MarkPage(uint64_t* page, size_t words, uint64_t pattern) {
  Words4 v = {Expected(0, pattern), Expected(1, pattern), Expected(2, pattern),
              Expected(3, pattern)};
  const Words4 step = {kStep * kLanes, kStep * kLanes, kStep * kLanes, kStep * kLanes};
  for (size_t w = 0; w < words; w += kLanes) {
    std::memcpy(&page[w], &v, sizeof(v));
    v += step;
  }
}

std::optional<PageMismatch> CheckPage(const uint64_t* page, size_t words, uint64_t pattern) {
  Words4 v = {Expected(0, pattern), Expected(1, pattern), Expected(2, pattern),
              Expected(3, pattern)};
  const Words4 step = {kStep * kLanes, kStep * kLanes, kStep * kLanes, kStep * kLanes};
  Words4 diff = {0, 0, 0, 0};
  for (size_t w = 0; w < words; w += kLanes) {
    Words4 got;
    std::memcpy(&got, &page[w], sizeof(got));
    diff |= got ^ v;
    v += step;
  }
  if ((diff[0] | diff[1] | diff[2] | diff[3]) == 0) return std::nullopt;
  // Rare: find the bytes, one at a time.
  PageMismatch m;
  bool first = true;
  for (size_t w = 0; w < words; ++w) {
    uint64_t want = Expected(w, pattern);
    if (page[w] == want) continue;
    uint8_t want_bytes[8], got_bytes[8];
    std::memcpy(want_bytes, &want, 8);
    std::memcpy(got_bytes, &page[w], 8);
    for (size_t b = 0; b < 8; ++b) {
      if (want_bytes[b] == got_bytes[b]) continue;
      ++m.bytes_differ;
      if (!first) continue;
      first = false;
      m.first_byte = w * 8 + b;
      m.expected = want_bytes[b];
      m.found = got_bytes[b];
      m.word = w;
      m.expected_word = want;
      m.found_word = page[w];
    }
  }
  return m;
}

std::string DescribeMismatch(const PageMismatch& m, size_t words) {
  char buf[200];
  std::snprintf(buf, sizeof(buf),
                "%zu of %zu bytes differ, first at byte %zu: expected 0x%02x, found 0x%02x "
                "(word %zu: expected %016llx, found %016llx)",
                m.bytes_differ, words * 8, m.first_byte, m.expected, m.found, m.word,
                static_cast<unsigned long long>(m.expected_word),
                static_cast<unsigned long long>(m.found_word));
  return buf;
}

}  // namespace swapchaos::agents::workload
