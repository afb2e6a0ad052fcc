#ifndef SWAPCHAOS_AGENTS_WORKLOAD_PAGE_MARKS_H_
#define SWAPCHAOS_AGENTS_WORKLOAD_PAGE_MARKS_H_

#include <cstddef>
#include <cstdint>
#include <optional>

namespace swapchaos::agents::workload {

// The words of a page the workloads write and check: the first word of
// every 512-byte sector, each a different function of the page's pattern,
// and the page's last word (its complement). A sector is the block layer's
// unit, so a sector that comes back from swap zeroed, stale or from
// elsewhere in the page is caught, not only a wrong first or last word; the
// cost stays a few words per page, which keeps the workload's pace that of
// the 2012 test's walk.
void MarkPage(uint64_t* page, size_t words, uint64_t pattern);

struct PageMismatch {
  size_t word = 0;  // index in the page
  uint64_t expected = 0;
  uint64_t found = 0;
};

// The first marked word that is not what MarkPage(page, words, pattern) left.
std::optional<PageMismatch> CheckPage(const uint64_t* page, size_t words, uint64_t pattern);

}  // namespace swapchaos::agents::workload

#endif  // SWAPCHAOS_AGENTS_WORKLOAD_PAGE_MARKS_H_
