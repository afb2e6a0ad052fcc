// libFuzzer harness: what `swapchaos analyze` reads, a run directory, from
// any bytes, then the verdict and every report made from it. The input is
// the directory's files, each after a line "==> NAME <==" (as `tail` prints
// several files), so a corpus entry stays readable and a mutation can
// reach any one file.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "controller/oracles/oracles.h"
#include "controller/report/report.h"
#include "testing/fuzz/scratch_dir.h"

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFiles[] = {"meta.json",   "scenario.json",        "telemetry.jsonl",
                                       "trace.jsonl", "wire-telemetry.jsonl", "console.log"};

// Writes each section of `input` to its file; files it has no section for
// are absent, as in a run that died early.
void WriteRunDir(const fs::path& dir, std::string_view input) {
  for (std::string_view name : kFiles) fs::remove(dir / name);
  std::ofstream out;
  while (!input.empty()) {
    size_t eol = input.find('\n');
    std::string_view line = input.substr(0, eol);
    input = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
    if (line.starts_with("==> ") && line.ends_with(" <==") && line.size() > 8) {
      std::string_view name = line.substr(4, line.size() - 8);
      out.close();
      for (std::string_view known : kFiles) {
        if (name == known) out.open(dir / known, std::ios::binary | std::ios::trunc);
      }
      continue;
    }
    if (out.is_open()) out << line << (eol == std::string_view::npos ? "" : "\n");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swapchaos::controller;
  const std::string& dir = swapchaos::test::FuzzScratchDir();
  WriteRunDir(dir, std::string_view(reinterpret_cast<const char*>(data), size));
  auto history = LoadHistory(dir);
  if (!history.ok()) return 0;
  const Verdict v = Judge(*history);
  (void)RunReportHtml(*history, v);
  (void)RunKtap(history->scenario.name(), v);
  (void)RunJUnitXml(history->scenario.name(), v);
  return 0;
}
