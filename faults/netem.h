#ifndef SWAPCHAOS_FAULTS_NETEM_H_
#define SWAPCHAOS_FAULTS_NETEM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

struct nl_msg;

namespace swapchaos::faults {

// One netem qdisc, as root of a NIC's egress. Probabilities are fractions in
// [0, 1]; times in microseconds. Everything libnl-route-3 cannot send
// (Gilbert-Elliott loss, 64-bit rate and delay, the PRNG seed) goes as raw
// attributes, so the whole request is built here.
struct NetemParams {
  uint32_t limit = 10000;  // packets queued
  uint64_t delay_us = 0;
  uint64_t jitter_us = 0;
  double delay_correlation = 0;
  // Random loss, or Gilbert-Elliott when ge_p > 0 (then `loss` must be 0):
  // p = P(good->bad), r = P(bad->good), 1-h = loss in bad, 1-k = loss in good.
  double loss = 0;
  double loss_correlation = 0;
  double ge_p = 0, ge_r = 0, ge_h = 0, ge_k = 1;
  double duplicate = 0;
  double corrupt = 0;
  double reorder = 0;  // needs a delay: the rest of the packets are delayed
  uint32_t reorder_gap = 0;
  uint64_t rate_bytes_per_s = 0;  // 0: no rate limit
  // TCA_NETEM_PRNG_SEED (Linux 6.3+); older kernels ignore it, which the
  // read-back shows as an absent seed.
  std::optional<uint64_t> seed;

  friend bool operator==(const NetemParams&, const NetemParams&) = default;
};

// Whether `in_effect` (a read-back) does what `asked` asked for: the same
// parameters up to the kernel's rounding. The seed is left out: kernels
// before 6.3 ignore it.
bool SameEffect(const NetemParams& asked, const NetemParams& in_effect);

// InvalidArgument naming the field for anything the kernel would refuse or
// silently change: probabilities outside [0, 1], reorder without delay, both
// random and Gilbert-Elliott loss.
absl::Status Validate(const NetemParams& p);

struct NlMsgDeleter {
  void operator()(nl_msg* m) const;
};
using NlMsg = std::unique_ptr<nl_msg, NlMsgDeleter>;

// RTM_NEWQDISC (create or replace) of netem on `ifindex`: the root qdisc,
// or with a `parent` class, below it.
NlMsg BuildNetemRequest(int ifindex, const NetemParams& p, uint32_t parent = 0);

// Scoping netem to one TCP port: a prio root (1:) sends everything to its
// first band, netem hangs below its third (1:3), and two u32 filters send
// TCP packets to or from the port there.
inline constexpr uint32_t kScopedNetemParent = 0x10003;  // 1:3
NlMsg BuildPrioRootRequest(int ifindex);
// RTM_NEWTFILTER: u32 on the prio root, TCP with source (or destination)
// port `port`, to class 1:3.
NlMsg BuildPortFilterRequest(int ifindex, uint16_t port, bool source);
// The port a u32 filter's TCA_OPTIONS send to 1:3, and whether it is the
// source port; nullopt for any other filter.
std::optional<std::pair<uint16_t, bool>> ParsePortFilter(const void* data, size_t len);

// What the kernel reports in a netem qdisc's TCA_OPTIONS (payload of the
// attribute): the read-back side, so the round trip is testable on its own.
absl::StatusOr<NetemParams> ParseNetemOptions(const void* data, size_t len);

// What shapes a NIC's egress: netem's parameters and which packets it sees,
// all (tcp_port 0) or TCP to and from one port only.
struct NetemInEffect {
  NetemParams params;
  uint16_t tcp_port = 0;
};

// The fault: on one NIC of the namespace the calling thread is in.
// Apply replaces whatever root qdisc is there, scoped to `tcp_port` unless
// it is 0; Read returns the netem in effect as the kernel dumps it (nullopt
// when there is none of ours); Revert removes it and is a no-op when none is
// there. A scope whose filters are not all there reads back as an error.
absl::Status ApplyNetem(const std::string& iface, const NetemParams& p, uint16_t tcp_port = 0);
absl::StatusOr<std::optional<NetemInEffect>> ReadNetem(const std::string& iface);
absl::Status RevertNetem(const std::string& iface);

}  // namespace swapchaos::faults

#endif  // SWAPCHAOS_FAULTS_NETEM_H_
