#ifndef SWAPCHAOS_CONTROLLER_ORACLES_SIGNATURES_H_
#define SWAPCHAOS_CONTROLLER_ORACLES_SIGNATURES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace swapchaos::controller {

// When a console report is a failure of the kernel under test.
enum class Severity {
  // At any time, fault or not: the kernel broke (panic, oops, BUG, KASAN,
  // WARNING, list corruption, lockdep, sleeping in atomic context).
  kFatal,
  // Outside the faults' window (before the first fault is applied, or after
  // the last heal plus the grace period): stalls, hung tasks, stuck or
  // failed swap I/O, OOM kills. During a fault they are what the fault is
  // expected to cause.
  kOutsideFaults,
  // Never a failure by itself, kept as evidence: page allocation failures
  // without a right to the reserves, which the kernel retries; if swap
  // stalls after one, the progress oracles fail the run and cite it.
  kEvidence,
  // A failed allocation entitled to the reserves (__GFP_MEMALLOC: nbd's
  // sends since the 2012 series): the reserve that series keeps for the
  // swap path ran dry. At any time a finding when the victim had a real
  // reserve (more than kStarvedReserveKib); with less, evidence, as
  // kEvidence: the stock build exhausts the kernel's own 1.9 MB (README
  // "The baseline").
  kReserve,
};

// vm.min_free_kbytes at or below which the reserve is known to be too
// small for swap over NBD, whatever the kernel (testing/known-findings.yaml
// excuses its deadlocks only there too).
inline constexpr uint32_t kStarvedReserveKib = 4096;

// A report the kernel printed on its console, with a title that stays the
// same across runs of the same failure (no pids, addresses, CPUs or times)
// and, where the report has a call trace, names the guilty function, so one
// bug gets one title whatever task hit it.
struct ConsoleFinding {
  std::string title;
  double uptime_s = -1;  // the first line's kernel timestamp; -1 if it had none
  std::string line;      // the report's first line, as printed
  size_t line_number = 0;  // 1-based, in the console
  std::string report;    // first line through the end of its call trace
  Severity severity = Severity::kFatal;
};

// Scans console text with the signature table (signatures.cc: one row per
// report kind, first match wins) and returns every report in order. Any
// bytes are accepted: lines are cut at 4 KiB, as printk cuts them at 1 KiB,
// and control bytes come back as '?' (terminal escapes stay harmless).
std::vector<ConsoleFinding> ScanConsole(std::string_view console);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_ORACLES_SIGNATURES_H_
