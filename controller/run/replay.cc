#include "controller/run/replay.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <ostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "controller/oracles/oracles.h"
#include "controller/run/chaos.h"
#include "kernels/kernel_image.h"

namespace swapchaos::controller {

absl::StatusOr<ReplayReport> Replay(const std::string& run_dir, int times,
                                    const std::string& out_dir, const BootEnv& env) {
  if (times < 1) return absl::InvalidArgumentError("--times must be >= 1");
  auto history = LoadHistory(run_dir);
  if (!history.ok()) return history.status();
  ReplayReport report;
  {
    std::ifstream in(run_dir + "/verdict.json");
    std::ostringstream text;
    text << in.rdbuf();
    if (!in || !google::protobuf::util::JsonStringToMessage(text.str(), &report.original).ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(run_dir, " has no verdict.json: run `swapchaos analyze ", run_dir,
                       "` first, or replay a complete run"));
    }
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
        " then, ", kernel->sha256, " now): a replay needs the same image"));
  }
  LoadedScenario loaded{history->scenario, SourceMap(run_dir + "/scenario.json")};
  loaded.scenario.mutable_vm()->set_kernel(was.path());
  if (absl::Status s = CheckScenario(loaded.scenario, loaded.where); !s.ok()) return s;

  RunOptions options{.seed = history->meta.seed(),
                     .telemetry_hz = std::max(1u, history->meta.request().telemetry_hz())};
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

}  // namespace swapchaos::controller
