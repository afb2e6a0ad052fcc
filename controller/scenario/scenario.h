#ifndef SWAPCHAOS_CONTROLLER_SCENARIO_SCENARIO_H_
#define SWAPCHAOS_CONTROLLER_SCENARIO_SCENARIO_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/scenario/yaml_proto.h"
#include "swapchaos/scenario.pb.h"

namespace swapchaos::controller {

struct LoadedScenario {
  scenario::Scenario scenario;
  SourceMap where;
};

// Reads a scenario file in three separate steps, as strict config wants:
// load (YAML into the proto, unknown fields rejected), complete (defaults
// for what was left out), validate (ranges, fault parameters, faults that
// overlap on one NIC, a deadline the timeline cannot meet). Every error is
// InvalidArgument naming file:line:column and the field.
absl::StatusOr<LoadedScenario> LoadScenario(const std::string& path);

// The victim's vm.min_free_kbytes unless a scenario says otherwise: 5% of
// its RAM, what the kernel picks itself (with THP) from 512 MB up. Below
// that its own sqrt rule leaves too little for swap over NBD (scenario.proto).
uint32_t DefaultMinFreeKbytes(uint32_t memory_mib);

// A scenario's or campaign's name becomes a directory and part of QEMU's
// options: letters, digits, '.', '_' and '-', starting with a letter or
// digit, at most 64 ("../x" once made directories anywhere as root).
bool IsPlainName(const std::string& name);
inline constexpr char kPlainNameRule[] =
    "must be 1..64 letters, digits, '.', '_' or '-', starting with a letter or digit";

// The checks of the last step alone, for a scenario from elsewhere (a
// resolved plan, a stored run's scenario.json); `where` names its source.
absl::Status CheckScenario(const scenario::Scenario& s, const SourceMap& where);

absl::StatusOr<LoadedScenario> ParseScenario(const std::string& yaml_text,
                                             const std::string& file_name);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_SCENARIO_SCENARIO_H_
