#include "agents/telemetry/sampler.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "agents/telemetry/procfs.h"

namespace swapchaos::agents::telemetry {
namespace {

uint64_t UptimeMs() {
  timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

}  // namespace

Sampler::Sampler(std::string root, std::string kmsg_path, std::string nbd_device)
    : root_(std::move(root)), nbd_device_(std::move(nbd_device)) {
  kmsg_fd_ = open(kmsg_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (kmsg_fd_ >= 0) lseek(kmsg_fd_, 0, SEEK_END);
}

Sampler::~Sampler() {
  if (kmsg_fd_ >= 0) close(kmsg_fd_);
}

agent::Sample Sampler::Next() {
  agent::Sample s;
  s.set_seq(seq_++);
  s.set_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count());
  s.set_uptime_ms(UptimeMs());
  ParseVmstat(ReadProcFile(root_ + "/proc/vmstat"), &s);
  ParseMeminfo(ReadProcFile(root_ + "/proc/meminfo"), &s);
  // Absent without CONFIG_PSI; the sample then has no PSI fields.
  ParsePsi(ReadProcFile(root_ + "/proc/pressure/memory"), &s).IgnoreError();
  ParseSwaps(ReadProcFile(root_ + "/proc/swaps"), &s);
  ParseNetDev(ReadProcFile(root_ + "/proc/net/dev"), &s);
  // Absent until the NBD device exists.
  ParseInflight(ReadProcFile(root_ + "/sys/block/" + nbd_device_ + "/inflight"), &s).IgnoreError();
  ParseBlockStat(ReadProcFile(root_ + "/sys/block/" + nbd_device_ + "/stat"), &s).IgnoreError();
  ParsePagetypeinfo(ReadProcFile(root_ + "/proc/pagetypeinfo"), &s).IgnoreError();
  s.set_agent_locked_kib(ParseKeyNumber(ReadProcFile(root_ + "/proc/self/status"), "VmLck"));
  if (auto ticks = ParseStatCpuTicks(ReadProcFile(root_ + "/proc/self/stat")); ticks.ok()) {
    s.set_agent_cpu_ms(*ticks * 1000 / static_cast<uint64_t>(sysconf(_SC_CLK_TCK)));
  }
  ReadKmsg(&s);
  return s;
}

void Sampler::ReadKmsg(agent::Sample* out) {
  if (kmsg_fd_ < 0) return;
  char buf[8192];
  while (true) {
    ssize_t n = read(kmsg_fd_, buf, sizeof buf);
    if (n < 0 && errno == EPIPE) continue;  // overwritten records: skip to the next
    if (n <= 0) return;                     // EAGAIN: nothing more for now
    agent::KernelLogLine line;
    if (ParseKmsgRecord(absl::string_view(buf, static_cast<size_t>(n)), &line).ok()) {
      *out->add_kmsg() = std::move(line);
    }
  }
}

}  // namespace swapchaos::agents::telemetry
