#ifndef SWAPCHAOS_CONTROLLER_ORACLES_SIGNATURES_H_
#define SWAPCHAOS_CONTROLLER_ORACLES_SIGNATURES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace swapchaos::controller {

// A failure the kernel printed on its console, as a title that stays the
// same across runs of the same failure (no pids, addresses or times).
struct ConsoleFinding {
  std::string title;
  double uptime_s = -1;  // the line's kernel timestamp; -1 if it had none
  std::string line;
  bool always_fatal = false;  // a failure even during a fault (panic, BUG)
};

// Scans console text with the signature table (signatures.cc: one row per
// failure kind, first match wins) and returns every finding in order.
std::vector<ConsoleFinding> ScanConsole(std::string_view console);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_ORACLES_SIGNATURES_H_
