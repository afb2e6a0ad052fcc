#include "controller/run/telemetry_recorder.h"

#include <chrono>

#include "controller/run/run.h"

namespace swapchaos::controller {

int64_t HostUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TelemetryRecorder::TelemetryRecorder(AgentClient& client, uint32_t hz, const std::string& path)
    : out_(path, std::ios::app) {
  agent::TelemetryRequest req;
  req.set_rate_hz(hz);
  thread_ = std::thread([this, &client, req] {
    auto reader = client.stub().Telemetry(&ctx_, req);
    agent::Sample s;
    while (reader->Read(&s)) {
      s.set_host_unix_ms(HostUnixMs());
      out_ << ToJson(s) << "\n";
      out_.flush();
      std::lock_guard<std::mutex> lock(mu_);
      latest_ = s;
      ++count_;
    }
    reader->Finish().IgnoreError();
  });
}

TelemetryRecorder::~TelemetryRecorder() {
  ctx_.TryCancel();
  thread_.join();
}

std::optional<agent::Sample> TelemetryRecorder::Latest() {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

uint64_t TelemetryRecorder::count() {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

}  // namespace swapchaos::controller
