#include "testing/known_findings.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "controller/oracles/oracles.h"
#include "controller/oracles/signatures.h"
#include "swapchaos/controller.pb.h"

namespace swapchaos::test {

absl::StatusOr<std::vector<KnownFinding>> LoadKnownFindings(const std::string& path) {
  std::vector<KnownFinding> out;
  try {
    YAML::Node root = YAML::LoadFile(path);
    for (const YAML::Node& n : root) {
      KnownFinding f;
      f.name = n["name"].as<std::string>();
      f.kernel = n["kernel"].as<std::string>();
      for (const YAML::Node& x : n["signatures"]) f.signatures.push_back(x.as<std::string>());
      for (const YAML::Node& c : n["console"]) f.console.push_back(c.as<std::string>());
      if (n["reserve_at_most_kib"]) f.reserve_at_most_kib = n["reserve_at_most_kib"].as<uint32_t>();
      f.why = n["why"].as<std::string>();
      if (f.name.empty() || f.kernel.empty() || f.signatures.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ":", n.Mark().line + 1, ": name, kernel and signatures are required"));
      }
      out.push_back(std::move(f));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
  return out;
}

std::optional<KnownFinding> MatchKnownFinding(const std::vector<KnownFinding>& known,
                                              const FailedRunFacts& run) {
  std::vector<std::string> titles;
  for (const controller::ConsoleFinding& f : controller::ScanConsole(run.console)) {
    titles.push_back(f.title);
  }
  for (const KnownFinding& k : known) {
    if (run.release.find(k.kernel) == std::string::npos ||
        std::find(k.signatures.begin(), k.signatures.end(), run.signature) ==
            k.signatures.end() ||
        (k.reserve_at_most_kib != 0 && run.min_free_kbytes > k.reserve_at_most_kib)) {
      continue;
    }
    bool all = std::all_of(k.console.begin(), k.console.end(), [&](const std::string& t) {
      return std::find(titles.begin(), titles.end(), t) != titles.end();
    });
    if (all) return k;
  }
  return std::nullopt;
}

std::optional<KnownFinding> KnownFindingOfRun(const std::string& run_dir) {
  static const auto* known = [] {
    auto k = LoadKnownFindings(SWAPCHAOS_KNOWN_FINDINGS);
    return new std::vector<KnownFinding>(k.ok() ? *k : std::vector<KnownFinding>{});
  }();
  controller::Verdict verdict;
  auto history = controller::LoadHistory(run_dir);
  if (!history.ok() || !controller::ReadJsonFile(run_dir + "/verdict.json", &verdict).ok() ||
      verdict.verdict() != "fail") {
    return std::nullopt;
  }
  return MatchKnownFinding(*known, {history->meta.kernel().release(), verdict.signature(),
                                    history->console, history->meta.swap().min_free_kbytes()});
}

std::vector<FailedRun> FailedRunsUnder(const std::string& dir) {
  std::vector<FailedRun> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() != "verdict.json") continue;
    controller::Verdict v;
    if (!controller::ReadJsonFile(it->path().string(), &v).ok() || v.verdict() != "fail") continue;
    std::string run = it->path().parent_path().string();
    out.push_back({run, v.signature(), KnownFindingOfRun(run)});
  }
  return out;
}

bool OnlyKnownFindings(const std::string& dir) {
  std::vector<FailedRun> failed = FailedRunsUnder(dir);
  if (failed.empty()) return false;
  for (const FailedRun& f : failed) {
    if (!f.known) return false;
  }
  for (const FailedRun& f : failed) {
    std::cout << "known finding accepted: " << f.known->name << " (" << f.signature << ") in "
              << f.dir << "\n";
  }
  return true;
}

}  // namespace swapchaos::test
