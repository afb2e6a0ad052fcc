#include "controller/campaign/campaign.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <ostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/report/report.h"
#include "controller/run/chaos.h"
#include "controller/scenario/scenario.h"
#include "controller/scenario/yaml_proto.h"
#include "kernels/hash.h"
#include "kernels/kernel_image.h"
#include "swapchaos/campaign.pb.h"

namespace swapchaos::controller {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint32_t kWireAndOverheadMib = 256 + 256;  // the wire VM, QEMU itself

absl::StatusOr<std::vector<uint64_t>> Seeds(const scenario::Seeds& s, const SourceMap& where) {
  int given = (s.list_size() > 0) + (s.to() > 0 || s.from() > 0) + (s.count() > 0);
  if (given != 1) {
    return where.Error("seeds", "give exactly one of list, from/to or count");
  }
  std::vector<uint64_t> out(s.list().begin(), s.list().end());
  if (s.count() > 100000) return where.Error("seeds.count", "more than 100000 seeds");
  if (s.list_size() > 100000) return where.Error("seeds.list", "more than 100000 seeds");
  if (s.count() > 0) {
    for (uint64_t i = 1; i <= s.count(); ++i) out.push_back(i);
  }
  if (s.to() > 0 || s.from() > 0) {
    if (s.to() < s.from()) {
      return where.Error("seeds.to", absl::StrCat("the range ", s.from(), "..", s.to(), " is empty"));
    }
    if (s.to() - s.from() >= 100000) return where.Error("seeds.to", "more than 100000 seeds");
    for (uint64_t i = s.from(); i <= s.to(); ++i) out.push_back(i);
  }
  return out;
}

}  // namespace

absl::StatusOr<CampaignPlan> LoadCampaign(const std::string& path) {
  auto text = ReadInputFile(path, "campaign");
  if (!text.ok()) return text.status();
  scenario::Campaign c;
  SourceMap where(path);
  if (absl::Status s = YamlToProto(*text, &c, &where); !s.ok()) return s;
  CampaignPlan plan;
  plan.file = fs::absolute(path).lexically_normal().string();
  kernels::Sha256 h;
  h.Update(*text);
  plan.sha256 = h.HexDigest();
  if (!c.name().empty() && !IsPlainName(c.name())) return where.Error("name", kPlainNameRule);
  plan.name = c.name().empty() ? fs::path(path).stem().string() : c.name();
  if (c.scenarios().empty()) return where.Error("scenarios", "names no scenario");
  auto seeds = Seeds(c.seeds(), where);
  if (!seeds.ok()) return seeds.status();

  std::vector<std::string> scenarios;
  for (int i = 0; i < c.scenarios_size(); ++i) {
    fs::path p = fs::path(c.scenarios(i));
    if (p.is_relative()) p = fs::path(plan.file).parent_path() / p;
    auto loaded = LoadScenario(p.lexically_normal().string());
    if (!loaded.ok()) {
      return where.Error(absl::StrCat("scenarios[", i, "]"), std::string(loaded.status().message()));
    }
    plan.max_memory_mib = std::max(plan.max_memory_mib, loaded->scenario.vm().memory_mib());
    scenarios.push_back(p.lexically_normal().string());
  }
  std::vector<std::string> kernel_paths;
  for (int i = 0; i < c.kernels_size(); ++i) {
    const std::string& k = c.kernels(i);
    if (k.empty() || k == "default") {
      kernel_paths.push_back("");
      continue;
    }
    fs::path p = fs::path(k).is_relative() ? fs::path(plan.file).parent_path() / k : fs::path(k);
    if (auto image = kernels::ReadKernelImage(p.string()); !image.ok()) {
      return where.Error(absl::StrCat("kernels[", i, "]"), std::string(image.status().message()));
    }
    kernel_paths.push_back(p.lexically_normal().string());
  }
  if (kernel_paths.empty()) kernel_paths.push_back("");
  // Seed by seed, so the first runs cover every scenario and kernel: a
  // failure anywhere shows early (and certify can stop there).
  for (uint64_t seed : *seeds) {
    for (const std::string& s : scenarios) {
      for (const std::string& k : kernel_paths) plan.runs.push_back({s, seed, k});
    }
  }
  return plan;
}

int MaxJobs(int asked, uint32_t victim_memory_mib) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  long by_cores = std::max(1L, cores / 2);
  uint64_t avail_kib = 0;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t value;
  std::string unit;
  while (meminfo >> key >> value) {
    if (key == "MemAvailable:") avail_kib = value;
    std::getline(meminfo, unit);
  }
  long by_memory = std::max<long>(
      1, static_cast<long>(avail_kib / 1024 / (victim_memory_mib + kWireAndOverheadMib)));
  return static_cast<int>(std::max(1L, std::min<long>({asked, by_cores, by_memory})));
}

std::string Summary(const std::vector<StoredRun>& runs) {
  struct Counts {
    int pass = 0, fail = 0, error = 0, pending = 0;
  };
  std::map<std::pair<std::string, std::string>, Counts> by;
  std::map<std::string, std::vector<const StoredRun*>> failures;
  for (const StoredRun& r : runs) {
    Counts& c = by[{fs::path(r.scenario).filename().string(), r.kernel.empty() ? "default" : r.kernel}];
    if (r.status == "done" && r.verdict == "pass") ++c.pass;
    if (r.status == "done" && r.verdict == "fail") {
      ++c.fail;
      failures[r.signature].push_back(&r);
    }
    if (r.status == "error") ++c.error;
    if (r.status == "pending" || r.status == "running") ++c.pending;
  }
  std::string out = absl::StrFormat("%-28s %-24s %5s %5s %6s %8s\n", "scenario", "kernel", "pass",
                                    "fail", "error", "not run");
  for (const auto& [key, c] : by) {
    absl::StrAppend(&out, absl::StrFormat("%-28s %-24s %5d %5d %6d %8d\n", key.first, key.second,
                                          c.pass, c.fail, c.error, c.pending));
  }
  for (const auto& [sig, list] : failures) {
    absl::StrAppend(&out, "failure \"", sig, "\": ", list.size(), " runs, e.g. ", list[0]->dir,
                    "\n");
  }
  for (const StoredRun& r : runs) {
    if (r.status == "error") absl::StrAppend(&out, "error in ", r.dir, ": ", r.error, "\n");
  }
  return out;
}

absl::Status WriteCampaignReports(Store& store, int64_t id, const std::string& runs_dir,
                                  std::ostream& out) {
  auto campaigns = store.Campaigns();
  if (!campaigns.ok()) return campaigns.status();
  auto runs = store.Runs(id);
  if (!runs.ok()) return runs.status();
  for (const StoredCampaign& c : *campaigns) {
    if (c.id != id) continue;
    std::string base = absl::StrCat(runs_dir, "/campaign-", id);
    if (absl::Status st = WriteFileAtomically(base + ".html", CampaignReportHtml(c, *runs, runs_dir));
        !st.ok()) {
      return st;
    }
    if (absl::Status st = WriteFileAtomically(base + "-junit.xml", JUnitXml(c, *runs)); !st.ok()) {
      return st;
    }
    out << "report: " << base << ".html, JUnit: " << base << "-junit.xml\n";
  }
  return absl::OkStatus();
}

std::string CampaignYaml(const std::string& comment, const std::string& name,
                         const std::vector<std::string>& scenarios, SeedRange seeds,
                         const std::string& image) {
  std::string yaml = absl::StrCat("# ", comment, "\nname: ", name, "\nscenarios:\n");
  for (const std::string& s : scenarios) absl::StrAppend(&yaml, "  - \"", s, "\"\n");
  absl::StrAppend(&yaml, "seeds: {from: ", seeds.first, ", to: ", seeds.first + seeds.count - 1,
                  "}\nkernels: [\"",
                  image.empty() ? "default" : image, "\"]\n");
  return yaml;
}

absl::StatusOr<OpenedCampaign> OpenCampaign(const CampaignPlan& plan, Store& store) {
  auto existing = store.FindUnfinished(plan.file, plan.sha256);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    auto requeued = store.RequeueRunning(**existing);
    if (!requeued.ok()) return requeued.status();
    return OpenedCampaign{**existing, true, *requeued};
  }
  auto created = store.CreateCampaign(plan.name, plan.file, plan.sha256, plan.runs);
  if (!created.ok()) return created.status();
  return OpenedCampaign{*created, false, 0};
}

absl::Status RunCampaign(const CampaignPlan& plan, int64_t id, Store& store,
                         const CampaignOptions& options, const BootEnv& env) {
  std::ostream& out = *options.out;
  auto all = store.Runs(id);
  if (!all.ok()) return all.status();
  int total = static_cast<int>(all->size());
  std::atomic<int> done{0}, failed{0}, errors{0}, running{0};
  for (const StoredRun& r : *all) {
    done += r.status == "done" || r.status == "error";
    failed += r.status == "done" && r.verdict == "fail";
    errors += r.status == "error";
  }
  int jobs = MaxJobs(options.jobs, plan.max_memory_mib);
  out << "pool: " << jobs << (jobs == 1 ? " run" : " runs") << " at once"
      << (jobs < options.jobs ? " (bounded by this host's cores and memory)" : "") << "\n";

  std::mutex out_mu;
  std::atomic<double> run_seconds{0};
  std::atomic<int> finished_here{0};
  auto started = Clock::now();
  auto eta = [&]() -> std::string {
    if (finished_here == 0) return "?";
    double per = run_seconds / finished_here;
    double left = per * (total - done) / jobs;
    return absl::StrFormat("%dm%02ds", static_cast<int>(left) / 60, static_cast<int>(left) % 60);
  };
  auto status_line = [&] {
    return absl::StrFormat("done %d/%d, running %d, failed %d, errors %d, ETA %s", done.load(),
                           total, running.load(), failed.load(), errors.load(), eta());
  };
  absl::Status worker_error;
  auto enough_failed = [&] { return options.max_failures > 0 && failed >= options.max_failures; };
  auto worker = [&] {
    while (!env.stop_requested() && !enough_failed()) {
      auto claimed = store.Claim(id, [&](int64_t run, int attempt) {
        return absl::StrCat(options.runs_dir, "/", run, ".", attempt);
      });
      if (!claimed.ok() || !claimed->has_value()) {
        if (!claimed.ok()) {
          std::lock_guard<std::mutex> lock(out_mu);
          worker_error = claimed.status();
        }
        return;
      }
      StoredRun r = **claimed;
      ++running;
      std::ofstream log;
      fs::create_directories(options.runs_dir);
      log.open(r.dir + ".log");
      log << std::unitbuf;  // readable while the run goes on
      BootEnv run_env = env;
      run_env.progress = &log;
      auto t0 = Clock::now();
      absl::StatusOr<Verdict> v = absl::UnknownError("not run");
      auto loaded = LoadScenario(r.scenario);
      if (!loaded.ok()) {
        v = loaded.status();
      } else {
        if (!r.kernel.empty()) loaded->scenario.mutable_vm()->set_kernel(r.kernel);
        v = RunScenario(*loaded, {.seed = r.seed}, r.dir, run_env);
      }
      --running;
      r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
      if (absl::IsCancelled(v.status())) {
        r.status = "pending";  // interrupted: run again on resume
      } else if (v.ok()) {
        r.status = "done";
        r.verdict = v->verdict();
        r.signature = v->signature();
        r.kernel_release = v->kernel().release();
      } else {
        r.status = "error";
        r.error = std::string(v.status().message());
      }
      if (absl::Status s = store.Finish(r); !s.ok()) {
        std::lock_guard<std::mutex> lock(out_mu);
        worker_error = s;
        return;
      }
      if (r.status == "pending") return;
      ++done;
      failed += r.verdict == "fail";
      errors += r.status == "error";
      run_seconds = run_seconds + r.wall_s;
      ++finished_here;
      std::lock_guard<std::mutex> lock(out_mu);
      if (!options.live) {
        out << "run " << r.id << " " << fs::path(r.scenario).filename().string() << " seed "
            << r.seed << (r.kernel.empty() ? "" : " kernel " + r.kernel) << ": "
            << (r.status == "error" ? "error: " + r.error
                                    : r.verdict + (r.signature.empty() ? "" : " (" + r.signature + ")"))
            << absl::StrFormat(" in %.0f s; %s\n", r.wall_s, status_line());
      }
    }
  };
  std::vector<std::thread> pool;
  for (int i = 0; i < jobs; ++i) pool.emplace_back(worker);
  std::atomic<bool> all_done{false};
  std::thread ticker;
  if (options.live) {
    ticker = std::thread([&] {
      while (!all_done) {
        {
          std::lock_guard<std::mutex> lock(out_mu);
          out << "\r\033[K" << status_line() << std::flush;
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    });
  }
  for (std::thread& t : pool) t.join();
  all_done = true;
  if (ticker.joinable()) ticker.join();
  if (options.live) out << "\r\033[K" << status_line() << "\n";
  if (!worker_error.ok()) return worker_error;
  if (env.stop_requested()) {
    return absl::CancelledError(
        absl::StrCat("interrupted; run the same command again to resume campaign ", id));
  }
  if (enough_failed() && done < total) {
    out << "stopped after " << failed << (failed == 1 ? " failing run; " : " failing runs; ")
        << total - done << " not run (resuming with no failure limit runs them)\n";
  } else if (absl::Status s = store.CloseCampaign(id); !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteCampaignReports(store, id, options.runs_dir, out); !s.ok()) return s;
  out << "campaign " << id << " finished in "
      << static_cast<int>(std::chrono::duration<double>(Clock::now() - started).count())
      << " s\n";
  return absl::OkStatus();
}

}  // namespace swapchaos::controller
