#include "controller/oracles/signatures.h"

#include <regex>

namespace swapchaos::controller {
namespace {

struct Signature {
  const char* pattern;  // ECMAScript regex over one console line
  const char* title;    // $1 is the pattern's first group
  bool always_fatal;
};

// The table. Adding a failure kind is adding a row here and a line of real
// console text to signatures_test.cc. Order matters: specific rows first.
const Signature kSignatures[] = {
    {R"(Kernel panic - not syncing: ([^\r\n]*?)\s*$)", "kernel panic: $1", true},
    {R"(BUG: soft lockup - CPU#\d+ stuck for \d+s! \[(.+):\d+\])", "soft lockup in $1", false},
    {R"(BUG: workqueue lockup)", "workqueue lockup", false},
    {R"(BUG: (?:unable to handle|kernel NULL pointer dereference)[^,]*)",
     "BUG: kernel memory access fault", true},
    {R"(BUG: ([A-Za-z][^:,\[]*[A-Za-z]))", "BUG: $1", true},
    {R"(WARNING: CPU: \d+ PID: \d+ at \S+ ([A-Za-z0-9_.]+)\+)", "WARNING in $1", true},
    {R"(rcu: INFO: \S+ (?:self-)?detected stalls? on CPU)", "RCU stall", false},
    {R"(INFO: task (.+):\d+ blocked for more than \d+ seconds)", "task hung: $1", false},
    {R"(Out of memory: Killed process \d+ \(([^)]*)\))", "OOM kill of $1", false},
    {R"(Read-error on swap-device)", "Read-error on swap-device", false},
    {R"(Write-error on swap-device)", "Write-error on swap-device", false},
    {R"(nbd\d*: Possible stuck request)", "nbd: possible stuck request", false},
    {R"(nbd\d*: Connection timed out)", "nbd: connection timed out", false},
    {R"(nbd\d*: Dead connection, failed to find a fallback)", "nbd: dead connection", false},
};

const std::vector<std::pair<std::regex, const Signature*>>& Compiled() {
  static const auto* compiled = [] {
    auto* v = new std::vector<std::pair<std::regex, const Signature*>>();
    for (const Signature& s : kSignatures) v->emplace_back(std::regex(s.pattern), &s);
    return v;
  }();
  return *compiled;
}

// The kernel's "[ uptime]" on the line, wherever it starts: the serial
// console also carries the guest agent's messages, and a kernel line may
// follow one without a newline between them.
double KernelTimestamp(const std::string& line) {
  static const std::regex ts(R"(\[\s*(\d+\.\d+)\])");
  std::smatch m;
  return std::regex_search(line, m, ts) ? std::stod(m[1]) : -1;
}

}  // namespace

std::vector<ConsoleFinding> ScanConsole(std::string_view console) {
  std::vector<ConsoleFinding> out;
  size_t start = 0;
  while (start < console.size()) {
    size_t end = console.find('\n', start);
    if (end == std::string_view::npos) end = console.size();
    std::string line(console.substr(start, end - start));
    start = end + 1;
    for (const auto& [re, sig] : Compiled()) {
      std::smatch m;
      if (!std::regex_search(line, m, re)) continue;
      ConsoleFinding f;
      // Per-CPU kernel threads (kworker/1:1H) differ by CPU from run to run.
      static const std::regex per_cpu(R"(\b(kworker|ksoftirqd|migration|cpuhp)/\S+)");
      f.title = std::regex_replace(m.format(sig->title), per_cpu, "$1");
      f.uptime_s = KernelTimestamp(line);
      f.line = line;
      f.always_fatal = sig->always_fatal;
      out.push_back(std::move(f));
      break;
    }
  }
  return out;
}

}  // namespace swapchaos::controller
