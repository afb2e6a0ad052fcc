#include "agents/workload/anon_mmap.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agents/workload/child.h"
#include "agents/workload/page_marks.h"
#include "agents/workload/spike.h"

namespace swapchaos::agents::workload {
namespace {

constexpr size_t kDetailBytes = 256;

struct Slot {
  std::atomic<uint64_t> pages;
  std::atomic<uint32_t> pass;
  std::atomic<uint64_t> base;  // where the task's mapping starts, for reports
  char detail[kDetailBytes];   // written once by the child before it exits 2
};

}  // namespace

struct AnonMmapWorkload::Shared {
  Slot slots[1];  // really params_.procs of them
};

uint64_t AnonPagePattern(uint64_t seed, uint32_t proc, uint64_t page, uint32_t pass) {
  return PagePattern(
      seed ^ (static_cast<uint64_t>(proc) << 40) ^ (static_cast<uint64_t>(pass) << 20), page);
}

namespace {

[[noreturn]] void RunTask(const AnonMmapParams& p, uint32_t index, Slot* slot) {
  BecomeExpendableChild("swapchaos-wl");
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const uint64_t pages = p.bytes_per_proc / page;
  const size_t words = page / sizeof(uint64_t);
  auto* mem = static_cast<uint64_t*>(
      mmap(nullptr, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (mem == MAP_FAILED) {
    std::snprintf(slot->detail, kDetailBytes, "mmap of %llu bytes: %s",
                  static_cast<unsigned long long>(pages * page), std::strerror(errno));
    _exit(1);
  }
  slot->base.store(reinterpret_cast<uint64_t>(mem), std::memory_order_relaxed);
  auto put = [&](uint64_t i, uint32_t pass) {
    MarkPage(&mem[i * words], words, AnonPagePattern(p.seed, index, i, pass));
  };
  for (uint64_t i = 0; i < pages; ++i) {
    put(i, 0);
    slot->pages.fetch_add(1, std::memory_order_relaxed);
  }
  for (uint32_t pass = 1; pass <= p.passes; ++pass) {
    uint32_t expected_pass = p.write ? pass - 1 : 0;
    for (uint64_t i = 0; i < pages; ++i) {
      if (auto bad =
              CheckPage(&mem[i * words], words, AnonPagePattern(p.seed, index, i, expected_pass))) {
        std::snprintf(slot->detail, kDetailBytes, "page %llu at %p in pass %u: %s",
                      static_cast<unsigned long long>(i), static_cast<void*>(&mem[i * words]), pass,
                      DescribeMismatch(*bad, words).c_str());
        _exit(2);
      }
      if (p.write) put(i, pass);
      slot->pages.fetch_add(1, std::memory_order_relaxed);
    }
    slot->pass.store(pass, std::memory_order_relaxed);
  }
  _exit(0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AnonMmapWorkload>> AnonMmapWorkload::Start(const AnonMmapParams& p) {
  if (p.procs == 0 || p.procs > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("workload procs must be 1..4096, got ", p.procs));
  }
  if (p.bytes_per_proc < static_cast<uint64_t>(sysconf(_SC_PAGESIZE))) {
    return absl::InvalidArgumentError("workload bytes_per_proc must be at least a page");
  }
  if (p.passes == 0) return absl::InvalidArgumentError("workload passes must be > 0");
  // The progress slots: a memory file each task maps, as its descriptor 3.
  size_t bytes = sizeof(Slot) * p.procs;
  int fd = memfd_create("swapchaos-progress", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    std::string why = std::strerror(errno);
    if (fd >= 0) close(fd);
    return absl::ResourceExhaustedError(absl::StrCat("workload progress file: ", why));
  }
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) {
    close(fd);
    return absl::ResourceExhaustedError(
        absl::StrCat("workload progress mapping: ", std::strerror(errno)));
  }
  std::unique_ptr<AnonMmapWorkload> w(new AnonMmapWorkload(p, static_cast<Shared*>(mem), bytes));
  w->ended_.resize(p.procs);
  for (uint32_t i = 0; i < p.procs; ++i) {
    auto pid =
        SpawnChild(p.exe,
                   {"swapchaos-wl", "--workload-task", absl::StrCat(i), absl::StrCat(p.procs),
                    absl::StrCat(p.bytes_per_proc), absl::StrCat(p.passes),
                    p.write ? "write" : "read", absl::StrCat(p.seed)},
                   fd);
    if (!pid.ok()) {
      close(fd);
      return pid.status();  // the destructor kills the tasks started so far
    }
    w->pids_.push_back(*pid);
    w->ended_[i].pid = *pid;
    w->ended_[i].index = i;
  }
  close(fd);
  return w;
}

void RunWorkloadTaskChild(int argc, char** argv) {
  // argv: NAME --workload-task INDEX PROCS BYTES PASSES read|write SEED
  AnonMmapParams p;
  uint32_t index = 0;
  if (argc != 8 || !absl::SimpleAtoi(argv[2], &index) || !absl::SimpleAtoi(argv[3], &p.procs) ||
      !absl::SimpleAtoi(argv[4], &p.bytes_per_proc) || !absl::SimpleAtoi(argv[5], &p.passes) ||
      !absl::SimpleAtoi(argv[7], &p.seed) || index >= p.procs) {
    std::fprintf(stderr, "swapchaos-wl: bad arguments\n");
    _exit(1);
  }
  p.write = std::strcmp(argv[6], "write") == 0;
  void* mem = mmap(nullptr, sizeof(Slot) * p.procs, PROT_READ | PROT_WRITE, MAP_SHARED, 3, 0);
  if (mem == MAP_FAILED) {
    std::fprintf(stderr, "swapchaos-wl: progress mapping: %s\n", std::strerror(errno));
    _exit(1);
  }
  close(3);
  RunTask(p, index, &static_cast<AnonMmapWorkload::Shared*>(mem)->slots[index]);
}

AnonMmapWorkload::~AnonMmapWorkload() {
  for (size_t i = 0; i < pids_.size(); ++i) {
    if (ended_[i].state == TaskProgress::State::kRunning) {
      kill(pids_[i], SIGKILL);
      waitpid(pids_[i], nullptr, 0);
    }
  }
  munmap(shared_, shared_bytes_);
}

std::vector<TaskProgress> AnonMmapWorkload::Progress() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TaskProgress> out;
  for (size_t i = 0; i < pids_.size(); ++i) {
    TaskProgress& t = ended_[i];
    Slot& slot = shared_->slots[i];
    if (t.state == TaskProgress::State::kRunning) {
      int status;
      if (waitpid(pids_[i], &status, WNOHANG) == pids_[i]) {
        if (WIFEXITED(status)) {
          int code = WEXITSTATUS(status);
          t.state = code == 0   ? TaskProgress::State::kDone
                    : code == 2 ? TaskProgress::State::kDataLoss
                                : TaskProgress::State::kFailed;
          t.detail = code == 0 ? "" : std::string(slot.detail, strnlen(slot.detail, kDetailBytes));
        } else {
          t.state = TaskProgress::State::kKilled;
          t.detail = absl::StrCat("killed by signal ", WTERMSIG(status), " (",
                                  strsignal(WTERMSIG(status)), ")");
        }
      }
    }
    t.pages = slot.pages.load(std::memory_order_relaxed);
    t.base = slot.base.load(std::memory_order_relaxed);
    t.pass = slot.pass.load(std::memory_order_relaxed);
    out.push_back(t);
  }
  return out;
}

bool AnonMmapWorkload::Finished() {
  for (const TaskProgress& t : Progress()) {
    if (t.state == TaskProgress::State::kRunning) return false;
  }
  return true;
}

}  // namespace swapchaos::agents::workload
