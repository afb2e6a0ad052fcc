#ifndef SWAPCHAOS_CONTROLLER_RUN_TELEMETRY_RECORDER_H_
#define SWAPCHAOS_CONTROLLER_RUN_TELEMETRY_RECORDER_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "controller/vm/agent_client.h"
#include "swapchaos/agent.pb.h"

namespace swapchaos::controller {

// Streams one agent's telemetry into a JSON-lines file on its own thread,
// stamping each sample with the host clock as it arrives. Stops when
// destroyed. Thread-safe.
class TelemetryRecorder {
 public:
  TelemetryRecorder(AgentClient& client, uint32_t hz, const std::string& path);
  ~TelemetryRecorder();
  TelemetryRecorder(const TelemetryRecorder&) = delete;
  TelemetryRecorder& operator=(const TelemetryRecorder&) = delete;

  std::optional<agent::Sample> Latest();
  uint64_t count();

 private:
  grpc::ClientContext ctx_;
  std::ofstream out_;
  std::mutex mu_;
  std::optional<agent::Sample> latest_;  // guarded by mu_
  uint64_t count_ = 0;                   // guarded by mu_
  std::thread thread_;
};

int64_t HostUnixMs();

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_RUN_TELEMETRY_RECORDER_H_
