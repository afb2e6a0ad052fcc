#include "controller/campaign/campaign.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <optional>
#include <ostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/report/listings.h"
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
  const RunTally tally = Tally(runs);
  std::string out = absl::StrFormat("%-28s %-24s %5s %5s %6s %8s\n", "scenario", "kernel", "pass",
                                    "fail", "error", "not run");
  for (const auto& [key, c] : tally.by_scenario_kernel) {
    absl::StrAppend(&out, absl::StrFormat("%-28s %-24s %5d %5d %6d %8d\n", key.first, c.kernel_label,
                                          c.pass, c.fail, c.error, c.pending));
  }
  for (const auto& [sig, list] : tally.failures) {
    absl::StrAppend(&out, "failure \"", sig, "\": ", list.size(),
                    list.size() == 1 ? " run: " : " runs, e.g. ", list[0]->dir,
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
    auto requeued = store.RequeueAbandoned(**existing);
    if (!requeued.ok()) return requeued.status();
    return OpenedCampaign{**existing, true, *requeued};
  }
  auto created = store.CreateCampaign(plan.name, plan.file, plan.sha256, plan.runs);
  if (!created.ok()) return created.status();
  return OpenedCampaign{*created, false, 0};
}

std::map<std::string, std::string> TravellingFiles(const StoredRun& r) {
  constexpr size_t kMaxFile = 4 << 20, kConsoleTail = 64 << 10;
  std::map<std::string, std::string> files;
  if (r.status == "pending") return files;
  auto read = [&](const std::string& name) -> std::optional<std::string> {
    std::ifstream in(r.dir + "/" + name, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Text only: PostgreSQL's text holds no NUL.
    if (text.find('\0') != std::string::npos) return std::nullopt;
    return text;
  };
  for (const char* name : {"meta.json", "scenario.json", "verdict.json", "trace.jsonl",
                           "telemetry.jsonl", "report.html"}) {
    if (auto text = read(name); text && text->size() <= kMaxFile) files[name] = *text;
  }
  if (r.verdict == "fail" || r.status == "error") {
    if (auto text = read("console.log")) {
      files["console-tail.log"] =
          text->size() > kConsoleTail ? text->substr(text->size() - kConsoleTail) : *text;
    }
  }
  return files;
}

namespace {

// What a pool did: the campaigns whose runs it finished.
struct PoolResult {
  std::set<int64_t> campaigns;
};

// Claims runs of `campaign` (0: of every unfinished campaign) and runs
// them, `jobs` at once, until none is left to claim, Ctrl-C, max_failures
// or max_runs; renews its leases meanwhile. Progress as a line per run, or
// one line redrawn on a terminal.
absl::StatusOr<PoolResult> RunPool(int64_t campaign, Store& store, int jobs,
                                   const CampaignOptions& options, const BootEnv& env) {
  std::ostream& out = *options.out;
  auto campaigns = store.Campaigns();
  if (!campaigns.ok()) return campaigns.status();
  int total = 0;
  std::atomic<int> done{0}, failed{0}, errors{0}, running{0}, claimed{0};
  for (const StoredCampaign& c : *campaigns) {
    if (campaign != 0 ? c.id != campaign : !c.finished_at.empty()) continue;
    total += c.total;
    done += c.done + c.errors;
    failed += c.failed;
    errors += c.errors;
  }
  std::mutex out_mu;
  std::atomic<double> run_seconds{0};
  std::atomic<int> finished_here{0};
  PoolResult result;
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
  auto enough = [&] {
    return (options.max_failures > 0 && failed >= options.max_failures) ||
           (options.max_runs > 0 && claimed >= options.max_runs);
  };
  auto worker = [&] {
    while (!env.stop_requested() && !enough()) {
      // A slot is reserved before the claim, so --max-runs is never exceeded.
      if (options.max_runs > 0 && ++claimed > options.max_runs) {
        --claimed;
        return;
      }
      auto got = store.Claim(campaign, [&](int64_t run, int attempt) {
        return absl::StrCat(options.runs_dir, "/", run, ".", attempt);
      });
      if (got.ok() && !got->has_value()) {
        if (options.max_runs > 0) --claimed;  // the slot was not used
        // Runs other workers hold come back if those die: wait for them
        // (their leases run out) rather than leave them to nobody.
        auto elsewhere = store.HeldElsewhere(campaign);
        if (elsewhere.ok() && *elsewhere == 0) return;
        if (elsewhere.ok()) {
          for (int i = 0; i < 10 && !env.stop_requested(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
          }
          continue;
        }
        got = elsewhere.status();
      }
      if (!got.ok()) {
        std::lock_guard<std::mutex> lock(out_mu);
        worker_error = got.status();
        return;
      }
      StoredRun r = **got;
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
        r.kernel_sha256 = v->kernel().sha256();
      } else {
        r.status = "error";
        r.error = std::string(v.status().message());
      }
      r.tool = ToolVersion();
      if (absl::Status s = store.Finish(r, TravellingFiles(r)); !s.ok()) {
        std::lock_guard<std::mutex> lock(out_mu);
        // A lost lease (this host was cut off from the store too long) is
        // that run's business: its new holder records it. Anything else
        // stops the pool.
        if (absl::IsFailedPrecondition(s)) {
          out << (options.live ? "\r\033[K" : "") << s.message() << "\n";
          continue;
        }
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
      result.campaigns.insert(r.campaign);
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
  // Leases are renewed at a third of their length, so one late renewal
  // never loses a run; the redrawn line shares the thread.
  std::thread ticker([&] {
    auto renewed = Clock::now();
    while (!all_done) {
      if (Clock::now() - renewed >= std::chrono::seconds(store.lease_seconds()) / 3) {
        renewed = Clock::now();
        if (auto n = store.Renew(); !n.ok()) {
          std::lock_guard<std::mutex> lock(out_mu);
          out << (options.live ? "\r\033[K" : "") << "renewing leases: " << n.status().message()
              << "\n";
        }
      }
      if (options.live) {
        std::lock_guard<std::mutex> lock(out_mu);
        out << "\r\033[K" << status_line() << std::flush;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  for (std::thread& t : pool) t.join();
  all_done = true;
  ticker.join();
  if (options.live) out << "\r\033[K" << status_line() << "\n";
  if (!worker_error.ok()) return worker_error;
  if (env.stop_requested()) {
    return absl::CancelledError(
        absl::StrCat("interrupted; run the same command again to resume",
                     campaign != 0 ? absl::StrCat(" campaign ", campaign) : std::string()));
  }
  if (options.max_failures > 0 && failed >= options.max_failures && done < total) {
    out << "stopped after " << failed << (failed == 1 ? " failing run; " : " failing runs; ")
        << total - done << " not run (resuming with no failure limit runs them)\n";
  }
  return result;
}

}  // namespace

absl::Status RunCampaign(const CampaignPlan& plan, int64_t id, Store& store,
                         const CampaignOptions& options, const BootEnv& env) {
  std::ostream& out = *options.out;
  int jobs = MaxJobs(options.jobs, plan.max_memory_mib);
  out << "pool: " << jobs << (jobs == 1 ? " run" : " runs") << " at once"
      << (jobs < options.jobs ? " (bounded by this host's cores and memory)" : "") << "\n";
  auto started = Clock::now();
  auto pool = RunPool(id, store, jobs, options, env);
  if (!pool.ok()) return pool.status();
  if (auto closed = store.CloseCampaign(id); !closed.ok()) return closed.status();
  if (absl::Status s = WriteCampaignReports(store, id, options.runs_dir, out); !s.ok()) return s;
  out << "campaign " << id << " finished in "
      << static_cast<int>(std::chrono::duration<double>(Clock::now() - started).count())
      << " s\n";
  return absl::OkStatus();
}

absl::Status RunWorker(int64_t campaign, Store& store, const CampaignOptions& options,
                       const BootEnv& env) {
  std::ostream& out = *options.out;
  // The pool is sized for the largest victim among the runs it may claim.
  auto campaigns = store.Campaigns();
  if (!campaigns.ok()) return campaigns.status();
  uint32_t memory_mib = 0;
  std::set<std::string> scenarios;
  for (const StoredCampaign& c : *campaigns) {
    if (campaign != 0 ? c.id != campaign : !c.finished_at.empty()) continue;
    auto runs = store.Runs(c.id);
    if (!runs.ok()) return runs.status();
    for (const StoredRun& r : *runs) {
      if (r.status != "pending" && r.status != "running") continue;
      if (!scenarios.insert(r.scenario).second) continue;
      // A scenario that no longer loads is that run's error, not the pool's.
      if (auto loaded = LoadScenario(r.scenario); loaded.ok()) {
        memory_mib = std::max(memory_mib, loaded->scenario.vm().memory_mib());
      }
    }
  }
  if (campaign != 0 && std::none_of(campaigns->begin(), campaigns->end(),
                                    [&](const StoredCampaign& c) { return c.id == campaign; })) {
    return absl::NotFoundError(absl::StrCat("no campaign ", campaign, " in the store"));
  }
  int jobs = MaxJobs(options.jobs, memory_mib);
  out << "worker " << store.owner() << ": " << jobs << (jobs == 1 ? " run" : " runs")
      << " at once, lease " << store.lease_seconds() << " s\n";
  auto pool = RunPool(campaign, store, jobs, options, env);
  if (!pool.ok()) return pool.status();
  // Whoever finishes a campaign's last run closes it and writes its reports.
  for (int64_t c : pool->campaigns) {
    auto closed = store.CloseCampaign(c);
    if (!closed.ok()) return closed.status();
    if (!*closed) continue;
    out << "campaign " << c << " finished\n";
    if (absl::Status s = WriteCampaignReports(store, c, options.runs_dir, out); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace swapchaos::controller
