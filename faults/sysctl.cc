#include "faults/sysctl.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace swapchaos::faults {

absl::StatusOr<std::string> VmSysctls::PathOf(const std::string& name) const {
  bool ok = name.rfind("vm.", 0) == 0 && name.size() > 3;
  for (char c : name) ok = ok && (absl::ascii_isalnum(c) || c == '_' || c == '.');
  if (!ok || name.find("..") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("sysctl ", name, ": only vm.* names (letters, digits, _) are faults"));
  }
  return absl::StrCat(root_, "/", absl::StrReplaceAll(name, {{".", "/"}}));
}

absl::StatusOr<std::string> VmSysctls::Read(const std::string& name) const {
  auto path = PathOf(name);
  if (!path.ok()) return path.status();
  std::ifstream in(*path);
  if (!in) return absl::NotFoundError(absl::StrCat("sysctl ", name, ": no ", *path));
  std::ostringstream text;
  text << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(text.str()));
}

absl::StatusOr<std::string> VmSysctls::Write(const std::string& name, const std::string& value) {
  auto path = PathOf(name);
  if (!path.ok()) return path.status();
  {
    std::ofstream out(*path);
    out << value << "\n";
    out.flush();
    if (!out) {
      return absl::InvalidArgumentError(
          absl::StrCat("sysctl ", name, " = ", value, ": the kernel refused it (",
                       std::strerror(errno), ")"));
    }
  }
  return Read(name);
}

absl::StatusOr<VmSysctls::State> VmSysctls::Set(const std::string& name, const std::string& value) {
  if (auto path = PathOf(name); !path.ok()) return path.status();
  std::lock_guard<std::mutex> lock(mu_);
  if (!original_.count(name)) {
    auto before = Read(name);
    if (!before.ok()) return before.status();
    original_[name] = *before;
  }
  auto after = Write(name, value);
  if (!after.ok()) return after.status();
  return State{*after, original_[name]};
}

absl::StatusOr<std::string> VmSysctls::SetBaseline(const std::string& name,
                                                   const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (original_.count(name)) {
    return absl::FailedPreconditionError(
        absl::StrCat("sysctl ", name, ": a fault holds it; its baseline comes before faults"));
  }
  return Write(name, value);
}

absl::StatusOr<VmSysctls::State> VmSysctls::Restore(const std::string& name) {
  if (auto path = PathOf(name); !path.ok()) return path.status();
  std::string original;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = original_.find(name);
    if (it == original_.end()) {
      auto now = Read(name);
      if (!now.ok()) return now.status();
      return State{*now, ""};  // never set: nothing to undo
    }
    original = it->second;
  }
  auto back = Set(name, original);
  if (!back.ok()) return back.status();
  std::lock_guard<std::mutex> lock(mu_);
  original_.erase(name);
  return back;
}

}  // namespace swapchaos::faults
