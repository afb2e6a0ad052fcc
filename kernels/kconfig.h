#ifndef SWAPCHAOS_KERNELS_KCONFIG_H_
#define SWAPCHAOS_KERNELS_KCONFIG_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace swapchaos::kernels {

// A .config or a config fragment: option name ("CONFIG_NBD...") -> value as
// written ("y", "m", "64", "\"text\""); "# CONFIG_X is not set" reads as "n".
using Kconfig = std::map<std::string, std::string>;

// Parses `text`; `name` is the file, for errors, which say file:line.
absl::StatusOr<Kconfig> ParseKconfig(std::string_view text, std::string_view name);

// `over` laid on `base`: where both set an option, `over` wins (as in
// scripts/kconfig/merge_config.sh).
Kconfig MergeKconfig(Kconfig base, const Kconfig& over);

// Text Kconfig reads back, one option per line in name order.
std::string FormatKconfig(const Kconfig& config);

// Options of `wanted` that `config` does not have as asked, e.g.
// "CONFIG_PSI (wanted y, got not set)". Empty when all are there.
std::vector<std::string> MissingOptions(const Kconfig& config, const Kconfig& wanted);

// The fragment every swapchaos victim kernel is built with
// (kernels/configs/swapchaos.config), and checked against.
std::string_view SwapchaosFragment();

}  // namespace swapchaos::kernels

#endif  // SWAPCHAOS_KERNELS_KCONFIG_H_
