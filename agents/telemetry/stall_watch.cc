#include "agents/telemetry/stall_watch.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "agents/telemetry/procfs.h"

namespace swapchaos::agents::telemetry {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The first line of /proc/net/sockstat's TCP entry: a control connection
// starved by TCP's memory limits shows there.
std::string TcpMemory() {
  std::string text = ReadProcFile("/proc/net/sockstat");
  size_t at = text.find("TCP:");
  return at == std::string::npos ? "" : text.substr(at, text.find('\n', at) - at);
}

}  // namespace

StallWatch::StallWatch(std::string what, std::chrono::milliseconds after, Report report)
    : what_(std::move(what)),
      after_(after),
      report_(report ? std::move(report) : [](const std::string& line) {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
      }) {
  watcher_ = std::thread([this] { Watch(); });
}

StallWatch::~StallWatch() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  watcher_.join();
}

void StallWatch::Enter(const char* step) {
  tid_.store(gettid(), std::memory_order_relaxed);
  since_ns_.store(NowNs(), std::memory_order_relaxed);
  step_.store(step, std::memory_order_release);
}

void StallWatch::Leave() { step_.store(nullptr, std::memory_order_release); }

void StallWatch::Watch() {
  const int64_t after_ns = std::chrono::nanoseconds(after_).count();
  int64_t reported_since = 0;  // the stall already told, by its start
  const char* reported_step = nullptr;
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, after_ / 4, [this] { return stop_; })) {
    const char* step = step_.load(std::memory_order_acquire);
    int64_t since = since_ns_.load(std::memory_order_relaxed);
    if (reported_step != nullptr && (step != reported_step || since != reported_since)) {
      report_(absl::StrCat("swapchaos-agent: ", what_, ": ", reported_step, " went on within ",
                           (NowNs() - reported_since) / 1000000 / 1000.0, " s"));
      reported_step = nullptr;
    }
    if (step == nullptr || reported_step != nullptr || NowNs() - since < after_ns) continue;
    pid_t tid = tid_.load(std::memory_order_relaxed);
    std::string stack(absl::StripTrailingAsciiWhitespace(
        ReadProcFile(absl::StrCat("/proc/self/task/", tid, "/stack"))));
    std::string wchan = ReadProcFile(absl::StrCat("/proc/self/task/", tid, "/wchan"));
    // The watch can be held up too (the whole agent stalled): a stack read
    // after the step ended is some later step's, not the stall's.
    if (step_.load(std::memory_order_acquire) != step ||
        since_ns_.load(std::memory_order_relaxed) != since) {
      stack.clear();
      wchan = "none: it went on before the watch could look";
    }
    report_(absl::StrCat(
        "swapchaos-agent: ", what_, ": stuck ", (NowNs() - since) / 1000000, " ms ", step,
        " (thread ", tid, ", wchan ", wchan.empty() ? "?" : wchan, "; ", TcpMemory(), ")",
        stack.empty() ? "" : "\n  " + absl::StrReplaceAll(stack, {{"\n", "\n  "}})));
    reported_step = step;
    reported_since = since;
  }
}

}  // namespace swapchaos::agents::telemetry
