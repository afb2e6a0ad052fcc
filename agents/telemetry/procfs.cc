#include "agents/telemetry/procfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace swapchaos::agents::telemetry {
namespace {

// Counters kept from /proc/vmstat; a key ending in '*' is a prefix.
constexpr std::array<absl::string_view, 12> kVmstatKeys = {
    "pswpin",         "pswpout",       "pgscan_direct_throttle",  "oom_kill",
    "pgmajfault",     "pgscan_kswapd", "pgscan_direct",           "pgsteal_kswapd",
    "pgsteal_direct", "nr_free_pages", "workingset_refault_anon", "allocstall_*"};

constexpr std::array<absl::string_view, 10> kMeminfoKeys = {
    "MemTotal",   "MemFree",   "MemAvailable", "SwapTotal", "SwapFree",
    "SwapCached", "AnonPages", "Mlocked",      "Dirty",     "Writeback"};

bool Wanted(absl::string_view key) {
  for (absl::string_view k : kVmstatKeys) {
    if (absl::EndsWith(k, "*") ? absl::StartsWith(key, k.substr(0, k.size() - 1)) : key == k) {
      return true;
    }
  }
  return false;
}

std::vector<absl::string_view> Fields(absl::string_view line) {
  return absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
}

// Calls fn(key, number) for every "key<sep> number ..." line whose key
// `want`s. No allocation per line: the agent samples these at up to 100 Hz.
template <typename Want, typename Fn>
void ForEachKeyNumber(absl::string_view text, char sep, Want want, Fn fn) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    absl::string_view line = text.substr(0, nl);
    text = nl == absl::string_view::npos ? absl::string_view() : text.substr(nl + 1);
    size_t k = line.find(sep);
    if (k == absl::string_view::npos || !want(line.substr(0, k))) continue;
    absl::string_view rest = absl::StripLeadingAsciiWhitespace(line.substr(k + 1));
    uint64_t v;
    if (absl::SimpleAtoi(rest.substr(0, rest.find(' ')), &v)) fn(line.substr(0, k), v);
  }
}

}  // namespace

std::string ReadProcFile(const std::string& path) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

void ParseVmstat(absl::string_view text, agent::Sample* out) {
  ForEachKeyNumber(text, ' ', Wanted, [&](absl::string_view key, uint64_t v) {
    (*out->mutable_vmstat())[std::string(key)] = v;
  });
}

std::map<std::string, uint64_t> ParseKeyNumbers(absl::string_view text) {
  std::map<std::string, uint64_t> out;
  ForEachKeyNumber(
      text, ':', [](absl::string_view) { return true; },
      [&](absl::string_view key, uint64_t v) { out[std::string(key)] = v; });
  return out;
}

uint64_t ParseKeyNumber(absl::string_view text, absl::string_view key) {
  uint64_t out = 0;
  ForEachKeyNumber(
      text, ':', [&](absl::string_view k) { return k == key; },
      [&](absl::string_view, uint64_t v) { out = v; });
  return out;
}

void ParseMeminfo(absl::string_view text, agent::Sample* out) {
  auto wanted = [](absl::string_view key) {
    return std::find(kMeminfoKeys.begin(), kMeminfoKeys.end(), key) != kMeminfoKeys.end();
  };
  ForEachKeyNumber(text, ':', wanted, [&](absl::string_view key, uint64_t v) {
    (*out->mutable_meminfo_kib())[std::string(key)] = v;
  });
}

absl::Status ParsePsi(absl::string_view text, agent::Sample* out) {
  int seen = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    auto f = Fields(line);
    if (f.size() != 5) return absl::InvalidArgumentError(absl::StrCat("bad PSI line: ", line));
    agent::Psi* psi = f[0] == "some"   ? out->mutable_memory_some()
                      : f[0] == "full" ? out->mutable_memory_full()
                                       : nullptr;
    if (psi == nullptr) continue;
    double a10, a60, a300;
    uint64_t total;
    if (!absl::SimpleAtod(absl::StripPrefix(f[1], "avg10="), &a10) ||
        !absl::SimpleAtod(absl::StripPrefix(f[2], "avg60="), &a60) ||
        !absl::SimpleAtod(absl::StripPrefix(f[3], "avg300="), &a300) ||
        !absl::SimpleAtoi(absl::StripPrefix(f[4], "total="), &total)) {
      return absl::InvalidArgumentError(absl::StrCat("bad PSI line: ", line));
    }
    psi->set_avg10(a10);
    psi->set_avg60(a60);
    psi->set_avg300(a300);
    psi->set_total_us(total);
    ++seen;
  }
  if (seen == 0) return absl::InvalidArgumentError("no PSI lines");
  return absl::OkStatus();
}

void ParseSwaps(absl::string_view text, agent::Sample* out) {
  bool header = true;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (header) {
      header = false;
      continue;
    }
    auto f = Fields(line);
    uint64_t size, used;
    int prio;
    if (f.size() != 5 || !absl::SimpleAtoi(f[2], &size) || !absl::SimpleAtoi(f[3], &used) ||
        !absl::SimpleAtoi(f[4], &prio)) {
      continue;
    }
    agent::SwapDevice* d = out->add_swaps();
    d->set_filename(std::string(f[0]));
    d->set_type(std::string(f[1]));
    d->set_size_kib(size);
    d->set_used_kib(used);
    d->set_priority(prio);
  }
}

void ParseNetDev(absl::string_view text, agent::Sample* out) {
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;  // the two header lines
    absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, colon));
    auto f = Fields(line.substr(colon + 1));
    // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets errs drop ...
    uint64_t v[12];
    if (name == "lo" || f.size() < 12) continue;
    bool ok = true;
    for (size_t i = 0; i < 12; ++i) ok = ok && absl::SimpleAtoi(f[i], &v[i]);
    if (!ok) continue;
    agent::NetDevCounters& c = (*out->mutable_net_dev())[std::string(name)];
    c.set_rx_bytes(v[0]);
    c.set_rx_packets(v[1]);
    c.set_rx_drops(v[3]);
    c.set_tx_bytes(v[8]);
    c.set_tx_packets(v[9]);
    c.set_tx_drops(v[11]);
  }
}

absl::Status ParseInflight(absl::string_view text, agent::Sample* out) {
  auto f = Fields(absl::StripAsciiWhitespace(text));
  uint64_t reads, writes;
  if (f.size() != 2 || !absl::SimpleAtoi(f[0], &reads) || !absl::SimpleAtoi(f[1], &writes)) {
    return absl::InvalidArgumentError(absl::StrCat("bad inflight: ", text));
  }
  out->set_nbd_inflight_reads(reads);
  out->set_nbd_inflight_writes(writes);
  return absl::OkStatus();
}

absl::Status ParseBlockStat(absl::string_view text, agent::Sample* out) {
  auto f = Fields(absl::StripAsciiWhitespace(text));
  // Documentation/block/stat.rst: read I/Os, merges, sectors, ticks, then
  // the same four for writes.
  uint64_t reads, read_ms, writes, write_ms;
  if (f.size() < 8 || !absl::SimpleAtoi(f[0], &reads) || !absl::SimpleAtoi(f[3], &read_ms) ||
      !absl::SimpleAtoi(f[4], &writes) || !absl::SimpleAtoi(f[7], &write_ms)) {
    return absl::InvalidArgumentError(absl::StrCat("bad block stat: ", text));
  }
  out->set_nbd_reads_done(reads);
  out->set_nbd_writes_done(writes);
  out->set_nbd_read_ticks_ms(read_ms);
  out->set_nbd_write_ticks_ms(write_ms);
  return absl::OkStatus();
}

absl::Status ParsePagetypeinfo(absl::string_view text, agent::Sample* out) {
  uint64_t pages_per_block = 0;
  int column = -1;  // HighAtomic's, counted after "Node N, zone NAME"
  uint64_t blocks = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, "Pages per block:")) {
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &pages_per_block)) break;
    } else if (absl::ConsumePrefix(&line, "Number of blocks type")) {
      auto names = Fields(line);
      auto it = std::find(names.begin(), names.end(), "HighAtomic");
      column = it == names.end() ? -1 : static_cast<int>(it - names.begin());
    } else if (column >= 0 && absl::StartsWith(line, "Node ")) {
      auto f = Fields(line);  // Node 0, zone DMA32 <counts...>
      uint64_t n = 0;
      if (f.size() > static_cast<size_t>(4 + column) && absl::SimpleAtoi(f[4 + column], &n)) {
        blocks += n;
      }
    } else if (column >= 0 && line.empty()) {
      break;  // the block counts end here
    }
  }
  if (pages_per_block == 0 || column < 0) {
    return absl::InvalidArgumentError("pagetypeinfo without pages per block or HighAtomic");
  }
  out->set_highatomic_kib(blocks * pages_per_block * 4);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ParseStatCpuTicks(absl::string_view stat) {
  size_t close = stat.rfind(')');
  if (close == absl::string_view::npos) return absl::InvalidArgumentError("not a stat line");
  // After the name: state is field 3, utime 14 and stime 15.
  auto f = Fields(stat.substr(close + 1));
  uint64_t utime, stime;
  if (f.size() < 13 || !absl::SimpleAtoi(f[11], &utime) || !absl::SimpleAtoi(f[12], &stime)) {
    return absl::InvalidArgumentError("stat line too short");
  }
  return utime + stime;
}

absl::StatusOr<std::string> ParseStatState(absl::string_view stat) {
  size_t close = stat.rfind(')');
  if (close == absl::string_view::npos || close + 2 >= stat.size()) {
    return absl::InvalidArgumentError("not a /proc/PID/stat line");
  }
  return std::string(stat.substr(close + 2, 1));
}

absl::Status ParseKmsgRecord(absl::string_view record, agent::KernelLogLine* out) {
  size_t semi = record.find(';');
  if (semi == absl::string_view::npos) {
    return absl::InvalidArgumentError("kmsg record without ';'");
  }
  std::vector<absl::string_view> prefix = absl::StrSplit(record.substr(0, semi), ',');
  uint32_t prio;
  uint64_t seq, usec;
  if (prefix.size() < 3 || !absl::SimpleAtoi(prefix[0], &prio) ||
      !absl::SimpleAtoi(prefix[1], &seq) || !absl::SimpleAtoi(prefix[2], &usec)) {
    return absl::InvalidArgumentError(absl::StrCat("bad kmsg prefix: ", record.substr(0, semi)));
  }
  absl::string_view text = record.substr(semi + 1);
  // Continuation lines (" KEY=value") carry device metadata, not message text.
  text = text.substr(0, text.find('\n'));
  out->set_priority(prio & 7);
  out->set_seq(seq);
  out->set_timestamp_us(usec);
  out->set_text(std::string(text));
  return absl::OkStatus();
}

}  // namespace swapchaos::agents::telemetry
