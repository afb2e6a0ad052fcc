// telemetry_bench: what one telemetry sample costs the agent, on this host's
// kernel: Sampler::Next() (every /proc and /sys file a sample reads, parsed
// into the proto) plus serialising it, against a baseline measured in the
// same run: reading the same files raw (open, read, close) and nothing else.
// The agent's CPU share in a run is this cost times the telemetry rate
// (TCG multiplies both sides alike).
//
//   build/bin/telemetry_bench [--samples N]
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "agents/telemetry/sampler.h"

namespace {
using Clock = std::chrono::steady_clock;

const char* const kFiles[] = {"/proc/vmstat",     "/proc/meminfo",          "/proc/pressure/memory",
                              "/proc/swaps",      "/proc/net/dev",          "/proc/self/status",
                              "/proc/self/stat",  "/sys/block/nbd0/inflight", "/sys/block/nbd0/stat"};

double UsPer(Clock::time_point t0, int n) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / n;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 2000;
  if (argc == 3 && std::string(argv[1]) == "--samples") n = std::atoi(argv[2]);
  char buf[16384];
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    for (const char* f : kFiles) {
      int fd = open(f, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      while (read(fd, buf, sizeof buf) > 0) {
      }
      close(fd);
    }
  }
  double raw = UsPer(t0, n);

  swapchaos::agents::telemetry::Sampler sampler("", "/dev/null");
  size_t bytes = 0;
  t0 = Clock::now();
  for (int i = 0; i < n; ++i) bytes += sampler.Next().SerializeAsString().size();
  double sample = UsPer(t0, n);
  std::printf("%d samples; raw reads %.1f us, Sampler::Next + serialise %.1f us (%zu bytes), "
              "ratio %.2f\n",
              n, raw, sample, bytes / static_cast<size_t>(n), sample / raw);
  std::printf("at 10 Hz natively: %.3f%% of a CPU for sampling\n", sample * 10 / 1e4);
  return 0;
}
