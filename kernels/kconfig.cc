#include "kernels/kconfig.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "kernels/configs/swapchaos_config.h"

namespace swapchaos::kernels {

absl::StatusOr<Kconfig> ParseKconfig(std::string_view text, std::string_view name) {
  Kconfig config;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (absl::ConsumePrefix(&line, "#")) {
      line = absl::StripLeadingAsciiWhitespace(line);
      if (absl::StartsWith(line, "CONFIG_") && absl::ConsumeSuffix(&line, " is not set")) {
        config.insert_or_assign(std::string(line), std::string(1, 'n'));
      }
      continue;  // any other comment
    }
    size_t eq = line.find('=');
    absl::string_view option = line.substr(0, eq);
    if (eq == absl::string_view::npos || !absl::StartsWith(option, "CONFIG_") ||
        option.size() == 7 || option.find_first_of(" \t") != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(name), ":", line_no, ": not a config line (CONFIG_NAME=value or "
                       "\"# CONFIG_NAME is not set\"): ", line));
    }
    config[std::string(option)] = std::string(line.substr(eq + 1));
  }
  return config;
}

Kconfig MergeKconfig(Kconfig base, const Kconfig& over) {
  for (const auto& [option, value] : over) base[option] = value;
  return base;
}

std::string FormatKconfig(const Kconfig& config) {
  std::string out;
  for (const auto& [option, value] : config) {
    if (value == "n") {
      absl::StrAppend(&out, "# ", option, " is not set\n");
    } else {
      absl::StrAppend(&out, option, "=", value, "\n");
    }
  }
  return out;
}

std::vector<std::string> MissingOptions(const Kconfig& config, const Kconfig& wanted) {
  std::vector<std::string> missing;
  for (const auto& [option, value] : wanted) {
    auto it = config.find(option);
    std::string got = it == config.end() || it->second == "n" ? "n" : it->second;
    if (got == value) continue;
    missing.push_back(absl::StrCat(option, " (wanted ", value == "n" ? "not set" : value,
                                   ", got ", got == "n" ? "not set" : got, ")"));
  }
  return missing;
}

std::string_view SwapchaosFragment() { return configs::kswapchaos_config; }

}  // namespace swapchaos::kernels
