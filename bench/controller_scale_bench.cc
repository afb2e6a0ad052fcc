// controller_scale_bench: how many agents one controller can follow. Starts
// N agents on this host (--no-pin: no swap, no faults, nothing locked), has
// this process follow each exactly as a run's controller does (a telemetry
// stream at 10 Hz written to a JSON-lines file per agent), and measures for
// each N this process's CPU (1.0 = one core) and the latency of Info RPCs
// made while the streams flow. The cost per agent at the smallest N is the
// baseline; the N at one core is extrapolated from the largest N measured.
// Target: >= 500 agents at one core. Also what one sample costs as JSON,
// protobuf's printer against ours.
//
//   build/bin/controller_scale_bench [--agents 25,50,100,200] [--seconds S]
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/stats.h"
#include "controller/run/run.h"
#include "controller/run/telemetry_recorder.h"
#include "controller/vm/agent_client.h"
#include "controller/vm/topology.h"
#include "process/subprocess.h"
#include "proto/json.h"

namespace {
namespace fs = std::filesystem;
using namespace swapchaos::controller;
using swapchaos::process::Subprocess;
using Clock = std::chrono::steady_clock;
using swapchaos::bench::Percentile;

// What writing one real sample as a telemetry.jsonl line costs, with
// protobuf's printer (the baseline, what the recorder used before) and with
// ours, measured here and now.
void PrintJsonCost(const swapchaos::agent::Sample& sample) {
  constexpr int kRounds = 2000;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  size_t bytes = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    std::string out;
    (void)google::protobuf::util::MessageToJsonString(sample, &out, opts);
    bytes += out.size();
  }
  double theirs = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / kRounds;
  t0 = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    std::string out;
    swapchaos::AppendJson(sample, &out);
    bytes += out.size();
  }
  double ours = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / kRounds;
  std::printf("one sample as JSON (%zu bytes): protobuf's printer %.1f us, ours %.1f us (%.1fx)\n",
              bytes / (2 * kRounds), theirs, ours, theirs / ours);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {25, 50, 100, 200};
  int seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--agents") {
      sizes.clear();
      for (absl::string_view n : absl::StrSplit(argv[i + 1], ',')) {
        int v;
        if (absl::SimpleAtoi(n, &v) && v > 0) sizes.push_back(v);
      }
    } else if (a == "--seconds") {
      seconds = std::max(2, std::atoi(argv[i + 1]));
    } else {
      std::fprintf(stderr, "usage: controller_scale_bench [--agents N,N,...] [--seconds S]\n");
      return 2;
    }
  }
  std::string agent = fs::read_symlink("/proc/self/exe").parent_path().string() + "/swapchaos-agent";
  std::string dir = (fs::temp_directory_path() / ("swapchaos-scale-" + std::to_string(getpid()))).string();
  fs::create_directories(dir);
  std::printf("%-7s %12s %14s %12s %12s %14s\n", "agents", "samples/s", "controller CPU",
              "Info p50 ms", "Info p99 ms", "CPU per agent");
  double base_per_agent = 0, last_per_agent = 0;
  int last_n = 0;
  for (int n : sizes) {
    std::vector<std::unique_ptr<Subprocess>> agents;
    std::vector<std::unique_ptr<AgentClient>> clients;
    for (int i = 0; i < n; ++i) {
      auto port = FreeLoopbackPort();
      if (!port.ok()) return 3;
      auto p = Subprocess::Spawn({{agent, "--role=wire", absl::StrCat("--listen=127.0.0.1:", *port),
                                   "--no-pin"},
                                  absl::StrCat(dir, "/agent-", i, ".log")});
      if (!p.ok()) {
        std::fprintf(stderr, "controller_scale_bench: %s\n", std::string(p.status().message()).c_str());
        return 3;
      }
      agents.push_back(std::move(*p));
      clients.push_back(std::make_unique<AgentClient>(absl::StrCat("127.0.0.1:", *port)));
    }
    for (auto& c : clients) {
      auto info = c->WaitReady(Clock::now() + std::chrono::seconds(60),
                               [] { return absl::OkStatus(); });
      if (!info.ok()) {
        std::fprintf(stderr, "controller_scale_bench: an agent never answered: %s\n",
                     std::string(info.status().message()).c_str());
        return 3;
      }
    }
    std::vector<std::unique_ptr<TelemetryRecorder>> streams;
    for (int i = 0; i < n; ++i) {
      streams.push_back(std::make_unique<TelemetryRecorder>(
          *clients[i], 10, absl::StrCat(dir, "/telemetry-", i, ".jsonl")));
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));  // streams flowing
    uint64_t samples_before = 0;
    for (auto& s : streams) samples_before += s->count();
    double cpu0 = ProcessCpuSeconds();
    auto t0 = Clock::now();
    std::vector<double> info_ms;
    for (int i = 0; Clock::now() - t0 < std::chrono::seconds(seconds); ++i) {
      auto t = Clock::now();
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      swapchaos::agent::InfoRequest req;
      swapchaos::agent::InfoReply reply;
      if (clients[static_cast<size_t>(i) % clients.size()]->stub().Info(&ctx, req, &reply).ok()) {
        info_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    double cpu = (ProcessCpuSeconds() - cpu0) / wall;
    uint64_t samples = 0;
    for (auto& s : streams) samples += s->count();
    double per_agent = cpu / n;
    if (base_per_agent == 0) base_per_agent = per_agent;
    last_per_agent = per_agent;
    last_n = n;
    std::printf("%-7d %12.0f %14.3f %12.2f %12.2f %13.5f (%.2fx the first)\n", n,
                (samples - samples_before) / wall, cpu, Percentile(info_ms, 50),
                Percentile(info_ms, 99), per_agent, per_agent / base_per_agent);
    std::fflush(stdout);
    if (n == sizes.front()) {
      if (auto sample = streams[0]->Latest(); sample.has_value()) PrintJsonCost(*sample);
    }
    streams.clear();
    clients.clear();
    for (auto& a : agents) a->Stop(std::chrono::milliseconds(2000));
  }
  if (last_per_agent > 0) {
    std::printf("one core follows about %.0f agents (from %d; target >= 500). Agents and\n"
                "controller share this host's cores, so the largest N also measures contention.\n",
                1.0 / last_per_agent, last_n);
  }
  fs::remove_all(dir);
  return 0;
}
