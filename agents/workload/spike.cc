#include "agents/workload/spike.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "agents/workload/child.h"
#include "agents/workload/page_marks.h"

namespace swapchaos::agents::workload {

uint64_t PagePattern(uint64_t seed, uint64_t page) {
  // splitmix64: a fixed, documented mixer, so patterns are the same on every build.
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (page + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

namespace {

// `report`: where the child writes, once, the milliseconds it took to
// touch (and lock) all of its memory.
[[noreturn]] void RunSpike(const SpikeParams& p, int report) {
  const auto began = std::chrono::steady_clock::now();
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
  const uint32_t full_ms =
      static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - began)
                                .count());
  (void)!send(report, &full_ms, sizeof(full_ms), MSG_NOSIGNAL);
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

absl::Status CheckSpike(const SpikeParams& params) {
  if (params.mib == 0 || params.mib > (1u << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat("spike size must be 1..1048576 MiB, got ", params.mib));
  }
  return absl::OkStatus();
}

std::string HowItEnded(int status) {
  return WIFEXITED(status) ? absl::StrCat("exit ", WEXITSTATUS(status))
                           : absl::StrCat("signal ", WTERMSIG(status));
}

}  // namespace

SpikePool::SpikePool(int ready, Ended ended, std::string exe)
    : target_(static_cast<size_t>(ready)), ended_(std::move(ended)), exe_(std::move(exe)) {
  refill_ = std::thread([this] { Refill(); });
}

SpikePool::~SpikePool() {
  std::vector<std::thread> reapers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    for (const Waiting& w : waiting_) close(w.fd);  // each sees EOF and exits
    waiting_.clear();
    for (const auto& [pid, fd] : started_) kill(pid, SIGKILL);
  }
  cv_.notify_all();
  refill_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    reapers.swap(reapers_);
  }
  for (std::thread& t : reapers) t.join();
}

absl::StatusOr<SpikePool::Waiting> SpikePool::SpawnWaiting() {
  // A socket pair, not a pipe: sending to a child the OOM killer took (it is
  // its first choice) must fail with EPIPE, not kill the agent with SIGPIPE.
  // Close-on-exec: a sibling's end held by a child would keep that sibling
  // from seeing EOF when the pool goes.
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return absl::ResourceExhaustedError(absl::StrCat("socketpair: ", std::strerror(errno)));
  }
  auto pid = SpawnChild(exe_, {"swapchaos-spike", "--spike-child"}, fds[0]);
  close(fds[0]);
  if (!pid.ok()) {
    close(fds[1]);
    return pid.status();
  }
  return Waiting{*pid, fds[1]};
}

void RunSpikeChild() {
  BecomeExpendableChild("swapchaos-spike");
  SpikeParams params;
  if (read(3, &params, sizeof(params)) != static_cast<ssize_t>(sizeof(params))) _exit(0);
  RunSpike(params, 3);
}

void SpikePool::Reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  bool started;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto s = started_.find(pid);
    started = s != started_.end();
    if (started) {
      close(s->second.fd);
      started_.erase(s);
    }
    // A waiting child that died (the OOM killer's first choice) is replaced.
    auto it = std::find_if(waiting_.begin(), waiting_.end(),
                           [pid](const Waiting& w) { return w.pid == pid; });
    if (it != waiting_.end()) {
      close(it->fd);
      waiting_.erase(it);
    }
  }
  if (started) ended_(pid, HowItEnded(status));
  cv_.notify_all();
}

void SpikePool::Refill() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || (started_.empty() && waiting_.size() < target_); });
    if (stop_) return;
    lock.unlock();
    auto w = SpawnWaiting();
    lock.lock();
    if (!w.ok()) {  // out of processes or memory: try again later; Start makes its own meanwhile
      cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; });
      continue;
    }
    waiting_.push_back(*w);
    reapers_.emplace_back([this, pid = w->pid] { Reap(pid); });
    if (stop_) {  // the destructor closed the others before this one came
      close(w->fd);
      waiting_.clear();
    }
  }
}

// Hands the child its parameters and marks it started; false if it was
// already gone. Its reaper waits for mu_, held here, so even an immediate
// end is reported.
bool SpikePool::Go(const Waiting& w, const SpikeParams& params) {
  bool sent =
      send(w.fd, &params, sizeof(params), MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof(params));
  if (!sent) {
    close(w.fd);
    return false;
  }
  started_[w.pid] = Started{w.fd, std::nullopt};  // the fd now carries the child's report
  return true;
}

absl::StatusOr<pid_t> SpikePool::Start(const SpikeParams& params) {
  if (absl::Status s = CheckSpike(params); !s.ok()) return s;
  std::unique_lock<std::mutex> lock(mu_);
  while (!waiting_.empty()) {
    Waiting w = waiting_.back();
    waiting_.pop_back();
    if (Go(w, params)) return w.pid;
  }
  // None waiting: start one here, and reap it the same way.
  lock.unlock();
  auto w = SpawnWaiting();
  if (!w.ok()) return w.status();
  lock.lock();
  reapers_.emplace_back([this, pid = w->pid] { Reap(pid); });
  if (!Go(*w, params))
    return absl::InternalError("spike child exited before it got its parameters");
  return w->pid;
}

std::optional<uint32_t> SpikePool::FullAfterMs(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = started_.find(pid);
  if (s == started_.end()) return std::nullopt;
  if (!s->second.full_after_ms) {
    uint32_t ms = 0;
    if (recv(s->second.fd, &ms, sizeof(ms), MSG_DONTWAIT) == static_cast<ssize_t>(sizeof(ms))) {
      s->second.full_after_ms = ms;
    }
  }
  return s->second.full_after_ms;
}

}  // namespace swapchaos::agents::workload
