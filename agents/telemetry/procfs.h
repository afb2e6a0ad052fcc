#ifndef SWAPCHAOS_AGENTS_TELEMETRY_PROCFS_H_
#define SWAPCHAOS_AGENTS_TELEMETRY_PROCFS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "swapchaos/agent.pb.h"

// Parsers for the kernel's text interfaces, each filling its part of a
// telemetry Sample. Pure functions of the text, so they are tested on
// recorded files as well as on the live host.
// absl::string_view, not std::: Debian builds abseil without the std alias.
namespace swapchaos::agents::telemetry {

// A /proc or /sys file whole, by read(2) (iostreams cost more than the
// kernel does here); empty if it cannot be read.
std::string ReadProcFile(const std::string& path);
// /proc/vmstat: the counters the oracles read (see kVmstatKeys in the .cc).
void ParseVmstat(absl::string_view text, agent::Sample* out);
// Every "Key: <number> [kB]" line of /proc/meminfo or /proc/PID/status.
std::map<std::string, uint64_t> ParseKeyNumbers(absl::string_view text);
// The one "key: <number>" of such a file, 0 when absent (no map built).
uint64_t ParseKeyNumber(absl::string_view text, absl::string_view key);
// /proc/meminfo, values in KiB.
void ParseMeminfo(absl::string_view text, agent::Sample* out);
// /proc/pressure/memory: the "some" and "full" lines.
absl::Status ParsePsi(absl::string_view text, agent::Sample* out);
// /proc/swaps, header skipped.
void ParseSwaps(absl::string_view text, agent::Sample* out);
// /proc/net/dev, every interface but lo.
void ParseNetDev(absl::string_view text, agent::Sample* out);
// /sys/block/nbdN/inflight: "reads writes".
absl::Status ParseInflight(absl::string_view text, agent::Sample* out);
// /proc/pagetypeinfo: pageblocks of type HighAtomic, in KiB (4 KiB pages).
absl::Status ParsePagetypeinfo(absl::string_view text, agent::Sample* out);
// /sys/block/DEV/stat: completed reads (field 1) and writes (field 5).
absl::Status ParseBlockStat(absl::string_view text, agent::Sample* out);
// User plus system CPU time of a /proc/PID/stat line, in clock ticks.
absl::StatusOr<uint64_t> ParseStatCpuTicks(absl::string_view stat);
// The state letter of a /proc/PID/stat line ("R", "S", "D", ...); the
// command name in parentheses may itself hold spaces and parentheses.
absl::StatusOr<std::string> ParseStatState(absl::string_view stat);
// One /dev/kmsg record: "prio,seq,usec,flags[,...];text\n[ continuation]".
absl::Status ParseKmsgRecord(absl::string_view record, agent::KernelLogLine* out);

}  // namespace swapchaos::agents::telemetry

#endif  // SWAPCHAOS_AGENTS_TELEMETRY_PROCFS_H_
