#include "agents/workload/spike.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "agents/workload/page_marks.h"

namespace swapchaos::agents::workload {

uint64_t PagePattern(uint64_t seed, uint64_t page) {
  // splitmix64: a fixed, documented mixer, so patterns are the same on every build.
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (page + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void BecomeExpendableChild(const char* name) {
  prctl(PR_SET_NAME, name);
  if (FILE* f = std::fopen("/proc/self/oom_score_adj", "w")) {
    std::fputs("1000", f);
    std::fclose(f);
  }
}

namespace {

[[noreturn]] void RunSpike(const SpikeParams& p) {
  BecomeExpendableChild("swapchaos-spike");
  // Locks are not inherited over fork, but be explicit: this memory must swap.
  munlockall();
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t bytes = p.mib << 20;
  const size_t pages = bytes / page;
  auto* mem = static_cast<uint64_t*>(
      mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (mem == MAP_FAILED) {
    std::fprintf(stderr, "spike: mmap %zu MiB: %s\n", static_cast<size_t>(p.mib),
                 std::strerror(errno));
    _exit(1);
  }
  const size_t words = page / sizeof(uint64_t);
  for (size_t i = 0; i < pages; ++i) MarkPage(&mem[i * words], words, PagePattern(p.seed, i));
  if (p.mlock && mlock(mem, bytes) != 0) {
    std::fprintf(stderr, "spike: mlock %zu MiB: %s\n", static_cast<size_t>(p.mib),
                 std::strerror(errno));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(p.seconds);
  uint64_t passes = 0;
  while (p.seconds == 0 || std::chrono::steady_clock::now() < deadline) {
    for (size_t i = 0; i < pages; ++i) {
      if (auto bad = CheckPage(&mem[i * words], words, PagePattern(p.seed, i))) {
        std::fprintf(stderr, "spike: page %zu at %p came back wrong: %s\n", i,
                     static_cast<void*>(&mem[i * words]), DescribeMismatch(*bad, words).c_str());
        _exit(2);
      }
    }
    ++passes;
  }
  std::fprintf(stderr, "spike: %zu MiB intact after %llu passes\n", static_cast<size_t>(p.mib),
               static_cast<unsigned long long>(passes));
  _exit(0);
}

}  // namespace

absl::StatusOr<pid_t> StartSpike(const SpikeParams& params) {
  if (params.mib == 0 || params.mib > (1u << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat("spike size must be 1..1048576 MiB, got ", params.mib));
  }
  pid_t pid = fork();
  if (pid < 0) return absl::ResourceExhaustedError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) RunSpike(params);
  return pid;
}

}  // namespace swapchaos::agents::workload
