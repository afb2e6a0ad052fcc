#include "controller/cli/flags.h"

#include <cctype>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace swapchaos::controller {

absl::StatusOr<Flags> Flags::Parse(const std::vector<std::string>& args,
                                   const std::map<std::string, std::string>& known,
                                   const std::set<std::string>& switches) {
  Flags f;
  f.values_ = known;
  for (const std::string& s : switches) f.values_[s] = "false";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!a.starts_with("--")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", a, "'"));
    }
    std::string name = a.substr(2), value;
    size_t eq = name.find('=');
    if (switches.count(name.substr(0, eq)) != 0) {
      if (eq != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("--", name.substr(0, eq), " takes no value"));
      }
      value = "true";
    } else if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else if (known.count(name) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
    }
    if (known.count(name) == 0 && switches.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    f.values_[name] = value;
    f.given_.emplace(name, value);
  }
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
