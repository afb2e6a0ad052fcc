#include "agents/bench/netem_bench.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "faults/netem.h"

namespace swapchaos::agents::bench {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Runs argv; its exit status, or DeadlineExceeded (after killing it) when it
// had not returned within `bound`.
absl::StatusOr<int> RunBounded(const std::vector<std::string>& argv,
                               std::chrono::milliseconds bound) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return absl::ResourceExhaustedError("fork failed");
  if (pid == 0) {
    execv(args[0], args.data());
    _exit(127);
  }
  auto deadline = Clock::now() + bound;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return absl::DeadlineExceededError(absl::StrCat(argv[0], " did not return"));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

absl::StatusOr<NetemBenchResult> BenchNetemApply(const std::string& iface, int rounds,
                                                 const std::string& tc_path,
                                                 std::chrono::milliseconds bound) {
  if (access(tc_path.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(tc_path, " is not in this guest"));
  }
  NetemBenchResult r;
  for (int i = 0; i < rounds; ++i) {
    // A different delay each round, so every apply is a real change.
    faults::NetemParams p;
    p.delay_us = 1000 + static_cast<uint64_t>(i);
    auto t = Clock::now();
    if (absl::Status s = faults::ApplyNetem(iface, p); !s.ok()) return s;
    r.libnl_ms.push_back(MsSince(t));
    if (absl::Status s = faults::RevertNetem(iface); !s.ok()) return s;

    t = Clock::now();
    auto rc = RunBounded({tc_path, "qdisc", "replace", "dev", iface, "root", "netem", "delay",
                          absl::StrCat(p.delay_us, "us")},
                         bound);
    if (absl::IsDeadlineExceeded(rc.status())) {
      ++r.tc_timeouts;
    } else if (!rc.ok() || *rc != 0) {
      return absl::InternalError(absl::StrCat("tc failed on ", iface, " (status ",
                                              rc.ok() ? *rc : -1, ")"));
    } else {
      r.tc_ms.push_back(MsSince(t));
    }
    if (absl::Status s = faults::RevertNetem(iface); !s.ok()) return s;
  }
  return r;
}

}  // namespace swapchaos::agents::bench
