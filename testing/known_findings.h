#ifndef SWAPCHAOS_TESTING_KNOWN_FINDINGS_H_
#define SWAPCHAOS_TESTING_KNOWN_FINDINGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

// For end-to-end tests: the kernel findings of testing/known-findings.yaml,
// which a test may accept exactly, instead of skipping on a console line.
namespace swapchaos::test {

struct KnownFinding {
  std::string name;
  std::string kernel;     // a substring of the kernel's release
  std::vector<std::string> signatures;  // the verdict's is exactly one of them
  std::vector<std::string> console;  // titles the console must show
  // The run's vm.min_free_kbytes (meta.json) at most this; 0: any. A finding
  // of starved reserves is no excuse for a run that had enough.
  uint32_t reserve_at_most_kib = 0;
  std::string why;
};

absl::StatusOr<std::vector<KnownFinding>> LoadKnownFindings(const std::string& path);

// What of a failed run a finding is matched against.
struct FailedRunFacts {
  std::string release;    // the kernel's
  std::string signature;  // the verdict's
  std::string console;    // the text of console.log
  uint32_t min_free_kbytes = 0;  // the victim's, as meta.json recorded it
};

// The listed finding a failure is, if it is one.
std::optional<KnownFinding> MatchKnownFinding(const std::vector<KnownFinding>& known,
                                              const FailedRunFacts& run);

// The same for a finished run's directory (meta.json, verdict.json,
// console.log), with the list of testing/known-findings.yaml. Empty when
// the run passed or failed in any other way.
std::optional<KnownFinding> KnownFindingOfRun(const std::string& run_dir);

// Every finished run under `dir` that failed, each with the known finding
// it is, or none: a test accepts its failures only if every one is known.
struct FailedRun {
  std::string dir;
  std::string signature;
  std::optional<KnownFinding> known;
};
std::vector<FailedRun> FailedRunsUnder(const std::string& dir);

// True when runs under `dir` failed and every failure is a known finding:
// prints each (name, signature, run) for the test's log. A test whose
// expectation a known finding pre-empted returns there, passing; any other
// failure goes on to fail its expectations.
bool OnlyKnownFindings(const std::string& dir);

}  // namespace swapchaos::test

#endif  // SWAPCHAOS_TESTING_KNOWN_FINDINGS_H_
