// page_check_bench: what writing and verifying a workload page costs with
// the whole-page check (agents/workload/page_marks.h, every byte) against
// the sparse check it replaced (the first word of each 512-byte sector and
// the last word), both measured in this run over the same memory: 64 MiB
// (out of cache, as swapped pages are), one write pass then verify passes.
//
//   build/bin/page_check_bench [--mib N] [--passes N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "agents/workload/page_marks.h"

namespace {
using Clock = std::chrono::steady_clock;
using swapchaos::agents::workload::CheckPage;
using swapchaos::agents::workload::MarkPage;

constexpr size_t kWords = 4096 / sizeof(uint64_t);
constexpr size_t kSectorWords = 512 / sizeof(uint64_t);

// The baseline: the sparse marks as they were (9 of 512 words).
uint64_t SparseMark(size_t w, uint64_t pattern) {
  if (w == kWords - 1) return ~pattern;
  return pattern + 0x9e3779b97f4a7c15ULL * (w / kSectorWords);
}
void SparseMarkPage(uint64_t* page, uint64_t pattern) {
  for (size_t w = 0; w < kWords; w += kSectorWords) page[w] = SparseMark(w, pattern);
  page[kWords - 1] = SparseMark(kWords - 1, pattern);
}
bool SparseCheckPage(const uint64_t* page, uint64_t pattern) {
  for (size_t w = 0; w < kWords; w += kSectorWords) {
    if (page[w] != SparseMark(w, pattern)) return false;
  }
  return page[kWords - 1] == SparseMark(kWords - 1, pattern);
}

struct Figures {
  double write_ns = 0, verify_ns = 0;  // per page
  size_t bad = 0;
};

template <typename Mark, typename Check>
Figures Time(std::vector<uint64_t>& mem, int passes, Mark mark, Check check) {
  const size_t pages = mem.size() / kWords;
  Figures f;
  auto t0 = Clock::now();
  for (size_t i = 0; i < pages; ++i) mark(&mem[i * kWords], i * 0x2545f4914f6cdd1dULL);
  f.write_ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / pages;
  t0 = Clock::now();
  for (int p = 0; p < passes; ++p) {
    for (size_t i = 0; i < pages; ++i) f.bad += !check(&mem[i * kWords], i * 0x2545f4914f6cdd1dULL);
  }
  f.verify_ns =
      std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / (pages * passes);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = 64;
  int passes = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--mib") mib = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::string(argv[i]) == "--passes") passes = std::atoi(argv[i + 1]);
  }
  std::vector<uint64_t> mem(mib * 1024 * 1024 / sizeof(uint64_t), 1);
  Figures sparse = Time(mem, passes, SparseMarkPage, SparseCheckPage);
  Figures full = Time(
      mem, passes, [](uint64_t* p, uint64_t pat) { MarkPage(p, kWords, pat); },
      [](const uint64_t* p, uint64_t pat) { return !CheckPage(p, kWords, pat).has_value(); });
  // A second sparse round, so neither side alone pays for first touch.
  sparse = Time(mem, passes, SparseMarkPage, SparseCheckPage);
  if (sparse.bad + full.bad != 0) {
    std::fprintf(stderr, "page_check_bench: %zu pages failed their own check\n",
                 sparse.bad + full.bad);
    return 1;
  }
  std::printf("%zu MiB, %d verify passes, per 4 KiB page:\n", mib, passes);
  std::printf("  %-22s write %7.1f ns  verify %7.1f ns\n", "sparse (9 words)", sparse.write_ns,
              sparse.verify_ns);
  std::printf("  %-22s write %7.1f ns  verify %7.1f ns\n", "whole page (512 words)",
              full.write_ns, full.verify_ns);
  std::printf("  ratio whole/sparse      write %7.2fx   verify %7.2fx\n",
              full.write_ns / sparse.write_ns, full.verify_ns / sparse.verify_ns);
  std::printf("  whole-page verify: %.2f GB/s\n", 4096.0 / full.verify_ns);
  return 0;
}
