// store_bench: the store as a run queue. Claims per second (claim + record
// the result, each worker its own connection) with 200 claimers at once on
// PostgreSQL, against one claimer in the same run and SQLite beside it;
// then what the store costs one run (claim, lease renewals for a run's
// length, result) as a share of that run's wall time.
//
//   testing/postgres-server start /tmp/pg-bench
//   build/bin/store_bench --postgres 'postgresql:///postgres?host=/tmp/pg-bench&user=swapchaos'
//       [--claimers 200] [--runs 20000] [--run-s 90]
//   testing/postgres-server stop /tmp/pg-bench
//
// Each measurement gets a fresh database (PostgreSQL: a new schema-free
// database made through the given URL's server; SQLite: a new file).
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench/stats.h"
#include "controller/store/store.h"

namespace {
using Clock = std::chrono::steady_clock;
using swapchaos::controller::Store;
using swapchaos::controller::StoredRun;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A new database on the server `admin_url` reaches; its URL.
std::string FreshPostgres(const std::string& admin_url, int n) {
  std::string db = "store_bench_" + std::to_string(getpid()) + "_" + std::to_string(n);
  PGconn* c = PQconnectdb(admin_url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    fprintf(stderr, "store_bench: %s", PQerrorMessage(c));
    exit(3);
  }
  PGresult* r = PQexec(c, ("CREATE DATABASE " + db).c_str());
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    fprintf(stderr, "store_bench: %s", PQresultErrorMessage(r));
    exit(3);
  }
  PQclear(r);
  PQfinish(c);
  // The admin URL with its database swapped for the new one.
  size_t slash = admin_url.find('/', admin_url.find("://") + 3);
  size_t end = admin_url.find('?', slash);
  return admin_url.substr(0, slash + 1) + db +
         (end == std::string::npos ? "" : admin_url.substr(end));
}

std::unique_ptr<Store> OpenOrDie(const std::string& url) {
  auto s = Store::Open(url);
  if (!s.ok()) {
    fprintf(stderr, "store_bench: %s\n", std::string(s.status().message()).c_str());
    exit(3);
  }
  return *std::move(s);
}

struct Figures {
  double per_s = 0;
  double p50_ms = 0, p99_ms = 0;  // claim + finish, per run
};

// `claimers` workers, each its own connection, claim and record every run
// of a new campaign of `runs`.
Figures Drain(const std::string& url, int claimers, int runs) {
  auto creator = OpenOrDie(url);
  std::vector<Store::Planned> planned;
  for (int i = 1; i <= runs; ++i) planned.push_back({"bench.yaml", static_cast<uint64_t>(i), ""});
  auto id = creator->CreateCampaign("bench", "bench.yaml", "x", planned);
  if (!id.ok()) {
    fprintf(stderr, "store_bench: %s\n", std::string(id.status().message()).c_str());
    exit(3);
  }
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < claimers; ++i) stores.push_back(OpenOrDie(url));
  std::vector<std::vector<double>> ms(claimers);
  std::atomic<int> done{0}, errors{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < claimers; ++i) {
    threads.emplace_back([&, i] {
      Store& s = *stores[i];
      while (true) {
        auto c0 = Clock::now();
        auto r = s.Claim(*id, [](int64_t run, int attempt) {
          return "runs/" + std::to_string(run) + "." + std::to_string(attempt);
        });
        if (!r.ok()) {
          ++errors;
          return;
        }
        if (!r->has_value()) return;
        StoredRun f = **r;
        f.status = "done";
        f.verdict = "pass";
        if (!s.Finish(f).ok()) ++errors;
        ms[i].push_back(Seconds(Clock::now() - c0) * 1000);
        ++done;
      }
    });
  }
  for (auto& t : threads) t.join();
  double wall = Seconds(Clock::now() - t0);
  if (done != runs || errors != 0) {
    fprintf(stderr, "store_bench: %d of %d runs recorded, %d errors\n", done.load(), runs,
            errors.load());
    exit(1);
  }
  std::vector<double> all;
  for (auto& v : ms) all.insert(all.end(), v.begin(), v.end());
  return {runs / wall, swapchaos::bench::Percentile(all, 50),
          swapchaos::bench::Percentile(all, 99)};
}

// One run's store traffic while `claimers - 1` others hold leases: claim,
// a renewal every lease/3 for `run_s`, the result.
double PerRunMs(const std::string& url, int run_s) {
  auto s = OpenOrDie(url);
  auto id = s->CreateCampaign("one", "one.yaml", "x", {{"one.yaml", 1, ""}});
  auto t0 = Clock::now();
  auto r = s->Claim(*id, [](int64_t, int) { return "runs/1.1"; });
  int renewals = run_s / (s->lease_seconds() / 3);
  for (int i = 0; i < renewals; ++i) (void)s->Renew();
  StoredRun f = **r;
  f.status = "done";
  f.verdict = "pass";
  (void)s->Finish(f);
  return Seconds(Clock::now() - t0) * 1000;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags = {
      {"postgres", ""}, {"claimers", "200"}, {"runs", "20000"}, {"run-s", "90"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string name = std::string(argv[i]).substr(2);
    if (!flags.count(name)) {
      fprintf(stderr, "store_bench: unknown flag %s\n", argv[i]);
      return 2;
    }
    flags[name] = argv[i + 1];
  }
  if (flags["postgres"].empty()) {
    fprintf(stderr, "store_bench: needs --postgres URL (testing/postgres-server starts one)\n");
    return 2;
  }
  int claimers = std::atoi(flags["claimers"].c_str());
  int runs = std::atoi(flags["runs"].c_str());
  int run_s = std::atoi(flags["run-s"].c_str());
  std::string dir =
      std::filesystem::temp_directory_path() / ("store_bench." + std::to_string(getpid()));
  std::filesystem::create_directories(dir);

  Figures one = Drain(FreshPostgres(flags["postgres"], 1), 1, runs / 10);
  Figures many = Drain(FreshPostgres(flags["postgres"], 2), claimers, runs);
  Figures lite = Drain(dir + "/bench.db", 8, runs / 10);
  printf("claims/s (claim + result recorded), %d runs:\n", runs);
  printf("  postgresql, 1 claimer:    %8.0f /s  p50 %.2f ms  p99 %.2f ms\n", one.per_s, one.p50_ms,
         one.p99_ms);
  printf(
      "  postgresql, %d claimers: %8.0f /s  p50 %.2f ms  p99 %.2f ms  (%.1fx one claimer; "
      "target >= 500/s)\n",
      claimers, many.per_s, many.p50_ms, many.p99_ms, many.per_s / one.per_s);
  printf("  sqlite, 8 claimers:       %8.0f /s  p50 %.2f ms  p99 %.2f ms\n", lite.per_s,
         lite.p50_ms, lite.p99_ms);
  double pg_ms = PerRunMs(FreshPostgres(flags["postgres"], 3), run_s);
  double lite_ms = PerRunMs(dir + "/one.db", run_s);
  printf(
      "store per run of %d s (claim, renewals, result): postgresql %.2f ms = %.4f%%, sqlite "
      "%.2f ms = %.4f%% (target <= 1%%)\n",
      run_s, pg_ms, pg_ms / (run_s * 1000.0) * 100, lite_ms, lite_ms / (run_s * 1000.0) * 100);
  std::filesystem::remove_all(dir);
  return 0;
}
