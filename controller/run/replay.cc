#include "controller/run/replay.h"

#include <ostream>

#include "absl/strings/str_cat.h"
#include "controller/oracles/oracles.h"
#include "controller/run/chaos.h"
#include "kernels/kernel_image.h"

namespace swapchaos::controller {

absl::StatusOr<RecordedRun> LoadRecordedRun(const std::string& run_dir) {
  auto history = LoadHistory(run_dir);
  if (!history.ok()) return history.status();
  Verdict original;
  if (!ReadJsonFile(run_dir + "/verdict.json", &original).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(run_dir, " has no verdict.json: run `swapchaos analyze ", run_dir,
                     "` first, or use a complete run"));
  }
  // The same kernel image, not merely the same path.
  const KernelIdentity& was = history->meta.kernel();
  auto kernel = kernels::ReadKernelImage(was.path(), history->scenario.vm().modules());
  if (!kernel.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("the kernel ", run_dir, " ran, ", was.path(),
                                                   ", cannot be read now: ",
                                                   kernel.status().message()));
  }
  if (kernel->sha256 != was.sha256()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the kernel ", run_dir, " ran, ", was.path(), ", has changed (sha256 ", was.sha256(),
        " then, ", kernel->sha256, " now): running it again needs the same image"));
  }
  RecordedRun r{LoadedScenario{history->scenario, SourceMap(run_dir + "/scenario.json")},
                RunOptions{.seed = history->meta.seed(),
                           .telemetry_hz = std::max(1u, history->meta.request().telemetry_hz())},
                original};
  r.plan.scenario.mutable_vm()->set_kernel(was.path());
  if (absl::Status s = CheckScenario(r.plan.scenario, r.plan.where); !s.ok()) return s;
  // The kernel must be the same (above); the host and the tool may differ,
  // and a replay that does not reproduce should say they did.
  const RunMeta& meta = history->meta;
  if (!meta.host().empty() && meta.host() != HostName()) {
    r.differences.push_back(absl::StrCat("it ran on ", meta.host(), ", this is ", HostName()));
  }
  if (!meta.tool().empty() && meta.tool() != ToolVersion()) {
    r.differences.push_back(absl::StrCat("it ran under ", meta.tool(), ", this is ", ToolVersion()));
  }
  return r;
}

absl::StatusOr<ReplayReport> Replay(const std::string& run_dir, int times,
                                    const std::string& out_dir, const BootEnv& env) {
  if (times < 1) return absl::InvalidArgumentError("--times must be >= 1");
  auto recorded = LoadRecordedRun(run_dir);
  if (!recorded.ok()) return recorded.status();
  ReplayReport report;
  report.original = recorded->verdict;
  const LoadedScenario& loaded = recorded->plan;
  const RunOptions& options = recorded->options;
  for (const std::string& d : recorded->differences) {
    *env.progress << "replay: same kernel (sha256 checked), but " << d << "\n";
  }
  for (int i = 1; i <= times; ++i) {
    std::string dir = absl::StrCat(out_dir, "/", i);
    *env.progress << "replay " << i << " of " << times << " into " << dir << "\n";
    auto v = RunScenario(loaded, options, dir, env);
    if (!v.ok()) return v.status();
    bool same = v->verdict() == report.original.verdict() &&
                v->signature() == report.original.signature();
    report.reproduced += same;
    *env.progress << "replay " << i << ": " << v->verdict()
                  << (v->signature().empty() ? "" : " (" + v->signature() + ")")
                  << (same ? ", as the original" : ", NOT as the original") << "\n";
    report.replays.push_back(*std::move(v));
    report.dirs.push_back(dir);
  }
  return report;
}

ReplayResult ToProto(const ReplayReport& report) {
  ReplayResult r;
  r.set_reproduced(static_cast<uint32_t>(report.reproduced));
  r.set_replays(static_cast<uint32_t>(report.replays.size()));
  r.set_original_verdict(report.original.verdict());
  r.set_original_signature(report.original.signature());
  for (const std::string& d : report.dirs) r.add_dirs(d);
  return r;
}

}  // namespace swapchaos::controller
