#include "controller/cli/flags.h"

#include <cctype>
#include <limits>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace swapchaos::controller {

absl::StatusOr<Flags> Flags::Parse(const std::vector<std::string>& args,
                                   const std::map<std::string, std::string>& known,
                                   const std::set<std::string>& switches) {
  CLI::App app;
  app.set_help_flag();     // every command answers --help before it parses
  app.allow_extras(true);  // left over: named below in our words
  std::map<std::string, std::vector<std::string>> given;
  for (const auto& [name, unused] : known) {
    // One value per occurrence, every occurrence kept: "--sbatch A --sbatch B".
    app.add_option("--" + name, given[name])
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }
  std::map<std::string, bool> on;
  for (const std::string& name : switches) {
    app.add_flag("--" + name, on[name])->disable_flag_override();
  }
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11's order
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    // CLI11 starts its message with the option ("--out: 1 required TEXT
    // missing", "slurm was given a disallowed flag override").
    std::string what = e.what();
    std::string name = what.substr(0, what.find_first_of(": "));
    if (switches.count(name) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
    }
    if (name.starts_with("--") && known.count(name.substr(2)) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
    }
    return absl::InvalidArgumentError(what);
  }
  std::vector<std::string> rest = app.remaining();
  if (!rest.empty()) {
    const std::string& a = rest.front();
    if (a.starts_with("--")) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", a.substr(0, a.find('='))));
    }
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", a, "'"));
  }
  Flags f;
  f.values_ = known;
  for (auto& [name, values] : given) {
    if (values.empty()) continue;
    f.values_[name] = values.back();
    for (std::string& v : values) f.given_.emplace(name, std::move(v));
  }
  for (const auto& [name, value] : on) f.values_[name] = value ? "true" : "false";
  return f;
}

std::vector<std::string> Flags::GetAll(const std::string& name) const {
  std::vector<std::string> out;
  auto [from, to] = given_.equal_range(name);
  for (auto it = from; it != to; ++it) out.push_back(it->second);
  return out;
}

absl::StatusOr<uint32_t> Flags::GetUint(const std::string& name) const {
  uint32_t v;
  if (!absl::SimpleAtoi(Get(name), &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be a whole number, got '", Get(name), "'"));
  }
  return v;
}

absl::StatusOr<uint64_t> Flags::GetSize(const std::string& name) const {
  std::string text = Get(name);
  uint64_t mult = 1;
  if (!text.empty() && std::isalpha(static_cast<unsigned char>(text.back()))) {
    switch (std::toupper(static_cast<unsigned char>(text.back()))) {
      case 'K':
        mult = 1ULL << 10;
        break;
      case 'M':
        mult = 1ULL << 20;
        break;
      case 'G':
        mult = 1ULL << 30;
        break;
      case 'T':
        mult = 1ULL << 40;
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, ": unknown size suffix in '", text, "' (use K, M, G or T)"));
    }
    text.pop_back();
  }
  uint64_t v;
  if (!absl::SimpleAtoi(text, &v) || v > std::numeric_limits<uint64_t>::max() / mult) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be a size like 512M or 2G, got '", Get(name), "'"));
  }
  return v * mult;
}

}  // namespace swapchaos::controller
