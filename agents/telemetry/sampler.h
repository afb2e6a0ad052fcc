#ifndef SWAPCHAOS_AGENTS_TELEMETRY_SAMPLER_H_
#define SWAPCHAOS_AGENTS_TELEMETRY_SAMPLER_H_

#include <cstdint>
#include <string>

#include "swapchaos/agent.pb.h"

namespace swapchaos::agents::telemetry {

// Takes telemetry samples from the running kernel. Each sampler reads the
// kernel log from its own /dev/kmsg descriptor, starting at the log's end,
// so every sample carries the lines logged since the one before.
// Not thread-safe: one sampler per telemetry stream.
class Sampler {
 public:
  // `root` prefixes /proc and /sys paths (tests point it at recorded files).
  explicit Sampler(std::string root = "", std::string kmsg_path = "/dev/kmsg",
                   std::string nbd_device = "nbd0");
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  agent::Sample Next();

 private:
  void ReadKmsg(agent::Sample* out);

  const std::string root_;
  const std::string nbd_device_;
  int kmsg_fd_ = -1;
  uint64_t seq_ = 0;
};

}  // namespace swapchaos::agents::telemetry

#endif  // SWAPCHAOS_AGENTS_TELEMETRY_SAMPLER_H_
