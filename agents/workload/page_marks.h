#ifndef SWAPCHAOS_AGENTS_WORKLOAD_PAGE_MARKS_H_
#define SWAPCHAOS_AGENTS_WORKLOAD_PAGE_MARKS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace swapchaos::agents::workload {

// Every word of a page is written and checked: word w holds
// pattern + w * 0x9e3779b97f4a7c15 (odd, so all words of a page differ).
// A bit flipped anywhere, a sector zeroed, stale or moved within the page,
// or a page from another place or pass is caught. The loops work on
// vectors of words with no branch per word, so the whole check costs about
// what walking the page costs (bench/page_check_bench). `words` is a
// multiple of 4 (a page is).
void MarkPage(uint64_t* page, size_t words, uint64_t pattern);

// A page that came back wrong, down to the byte.
struct PageMismatch {
  size_t first_byte = 0;     // offset of the first differing byte
  size_t bytes_differ = 0;   // how many of the page's bytes differ
  uint8_t expected = 0;      // at first_byte
  uint8_t found = 0;
  size_t word = 0;           // the word holding first_byte
  uint64_t expected_word = 0;
  uint64_t found_word = 0;
};

// Where the page is not what MarkPage(page, words, pattern) left, if it is not.
std::optional<PageMismatch> CheckPage(const uint64_t* page, size_t words, uint64_t pattern);

// "3 of 4096 bytes differ, first at byte 1234: expected 0x5a, found 0xa5
// (word 154: expected ..., found ...)", for a workload's report.
std::string DescribeMismatch(const PageMismatch& m, size_t words);

}  // namespace swapchaos::agents::workload

#endif  // SWAPCHAOS_AGENTS_WORKLOAD_PAGE_MARKS_H_
