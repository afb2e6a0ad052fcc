#include "controller/bisect/bisect.h"

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/run/run.h"
#include "controller/scenario/scenario.h"

namespace swapchaos::controller {

absl::StatusOr<kernels::BisectReport> Bisect(const std::vector<std::string>& patch_names,
                                             const BisectStepFn& step) {
  kernels::BisectReport report;
  const int n = static_cast<int>(patch_names.size());
  auto is_target = [&report](const std::string& sig) {
    const auto& t = report.target_signatures();
    return std::find(t.begin(), t.end(), sig) != t.end();
  };
  // Runs step k, records it, and says whether it failed as the series does.
  auto failed = [&](int k) -> absl::StatusOr<bool> {
    auto s = step(k);
    if (!s.ok()) return s.status();
    s->set_patches(static_cast<uint32_t>(k));
    s->set_patch(k == 0 ? "" : patch_names[static_cast<size_t>(k - 1)]);
    if (k == n) {
      for (const std::string& sig : s->signatures()) {
        if (!is_target(sig)) report.add_target_signatures(sig);
      }
    }
    uint32_t target = 0;
    for (const std::string& sig : s->signatures()) target += is_target(sig);
    s->set_target_failures(target);
    *report.add_steps() = *std::move(s);
    return target > 0;
  };

  auto whole = failed(n);
  if (!whole.ok()) return whole.status();
  if (!*whole) {
    report.set_first_failing(-1);
    report.set_conclusion(absl::StrCat("the whole series (", n,
                                       " patches) passes the scenario on every seed: nothing to "
                                       "bisect (more seeds, if its failure is rare)"));
    return report;
  }
  auto none = failed(0);
  if (!none.ok()) return none.status();
  if (*none) {
    report.set_first_failing(0);
    report.set_conclusion("the source fails the same way without any patch of the series");
    return report;
  }
  int good = 0, bad = n;  // step `good` passed, step `bad` failed
  while (bad - good > 1) {
    int mid = good + (bad - good) / 2;
    auto f = failed(mid);
    if (!f.ok()) return f.status();
    (*f ? bad : good) = mid;
  }
  report.set_first_failing(bad);
  report.set_first_failing_patch(patch_names[static_cast<size_t>(bad - 1)]);
  report.set_conclusion(absl::StrCat("first failing patch: ", report.first_failing_patch(), " (",
                                     bad, " of ", n, ")"));
  return report;
}

absl::StatusOr<Bisection> BisectSeries(BisectRequest r, const BootEnv& env) {
  namespace fs = std::filesystem;
  std::ostream& out = *r.dispatch.out;
  auto scenario = LoadScenario(r.scenario);
  if (!scenario.ok()) return scenario.status();
  auto whole = kernels::PlanKernel(r.recipe);
  if (!whole.ok()) return whole.status();
  std::vector<std::string> names;
  for (const auto& p : whole->manifest.patches()) names.push_back(p.name());
  if (r.out.empty()) r.out = StampedDir("runs/bisect");
  std::error_code ec;
  fs::create_directories(r.out, ec);
  if (ec) return absl::InternalError(absl::StrCat("bisect directory ", r.out, ": ", ec.message()));
  std::string scenario_path = fs::absolute(r.scenario).string();
  out << "bisecting " << names.size() << " patches of " << r.recipe.series << " against "
      << r.scenario << " (" << r.seeds.count << " seeds a step)\n";

  auto step = [&](int k) -> absl::StatusOr<kernels::BisectStep> {
    out << "step: the first " << k << " of " << names.size() << " patches\n";
    kernels::KernelRecipe recipe = r.recipe;
    recipe.name = absl::StrCat("bisect-", fs::path(r.recipe.series).filename().string(), "-", k);
    recipe.first_patches = k;
    auto kernel = kernels::BuildKernel(recipe, {.kernels_dir = r.kernels_dir,
                                                .jobs = r.build_jobs,
                                                .progress = &out,
                                                .stopped = env.stop_requested});
    if (!kernel.ok()) return kernel.status();
    std::string dir = absl::StrCat(r.out, "/step-", k);
    fs::create_directories(dir, ec);
    if (ec) return absl::InternalError(absl::StrCat("step directory ", dir, ": ", ec.message()));
    std::string campaign_file = dir + "/campaign.yaml";
    if (absl::Status written = WriteFileAtomically(
            campaign_file,
            CampaignYaml(absl::StrCat("Written by swapchaos bisect: the first ", k, " patches of ",
                                      r.recipe.series, "."),
                         absl::StrCat("bisect-step-", k), {scenario_path}, r.seeds, kernel->image));
        !written.ok()) {
      return written;
    }
    auto plan = LoadCampaign(campaign_file);
    if (!plan.ok()) return plan.status();
    DispatchOptions dispatch = r.dispatch;
    dispatch.runs_dir = dir + "/runs";
    auto ran = DispatchCampaign(*plan, dispatch, env);
    if (!ran.ok()) return ran.status();
    auto runs = ran->store->Runs(ran->id);
    if (!runs.ok()) return runs.status();
    kernels::BisectStep st;
    st.set_kernel_id(kernel->manifest.id());
    st.set_runs_dir(dispatch.runs_dir);
    for (const auto& run : *runs) {
      if (run.status != "done") {
        return absl::InternalError(
            absl::StrCat("run ", run.id, " of step ", k, " could not be judged: ", run.error));
      }
      st.set_runs(st.runs() + 1);
      if (run.verdict == "pass") {
        st.set_passes(st.passes() + 1);
      } else {
        st.add_signatures(run.signature);
      }
    }
    out << "step " << k << ": " << st.passes() << "/" << st.runs() << " pass"
        << (st.signatures_size() ? absl::StrCat("; ", absl::StrJoin(st.signatures(), ", ")) : "")
        << "\n";
    return st;
  };
  auto report = Bisect(names, step);
  if (!report.ok()) {
    return absl::Status(report.status().code(),
                        absl::StrCat(report.status().message(), "\n(the same command with --out ",
                                     r.out, " resumes it)"));
  }
  report->set_source(r.recipe.source);
  report->set_series(r.recipe.series);
  report->set_scenario(r.scenario);
  report->set_seeds(r.seeds.count);
  if (absl::Status st = WriteJsonAtomically(r.out + "/bisect.json", *report); !st.ok()) return st;
  return Bisection{*std::move(report), r.out};
}

}  // namespace swapchaos::controller
