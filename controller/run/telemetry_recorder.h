#ifndef SWAPCHAOS_CONTROLLER_RUN_TELEMETRY_RECORDER_H_
#define SWAPCHAOS_CONTROLLER_RUN_TELEMETRY_RECORDER_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>

#include "controller/vm/agent_client.h"
#include "swapchaos/agent.pb.h"

namespace swapchaos::controller {

// Streams one agent's telemetry into a JSON-lines file, stamping each sample
// with the host clock as it arrives. Stops when destroyed. Thread-safe.
//
// A callback reactor, not a thread per stream: each sample is handled on
// the gRPC thread that received it (no thread hand-off per sample, no
// thread per agent).
class TelemetryRecorder : private grpc::ClientReadReactor<agent::Sample> {
 public:
  TelemetryRecorder(AgentClient& client, uint32_t hz, const std::string& path);
  ~TelemetryRecorder() override;
  TelemetryRecorder(const TelemetryRecorder&) = delete;
  TelemetryRecorder& operator=(const TelemetryRecorder&) = delete;

  std::optional<agent::Sample> Latest();
  uint64_t count();

 private:
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

  grpc::ClientContext ctx_;
  agent::TelemetryRequest request_;
  agent::Sample incoming_;  // touched only by the reactor's callbacks
  std::ofstream out_;       // likewise
  std::string line_;        // likewise
  int64_t flushed_ms_ = 0;  // likewise
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;                    // guarded by mu_
  agent::Sample latest_;                 // guarded by mu_; valid once count_ > 0
  uint64_t count_ = 0;                   // guarded by mu_
};

int64_t HostUnixMs();

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_RUN_TELEMETRY_RECORDER_H_
