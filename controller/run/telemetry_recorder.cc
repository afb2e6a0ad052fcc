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
  request_.set_rate_hz(hz);
  client.stub().async()->Telemetry(&ctx_, &request_, this);
  StartRead(&incoming_);
  StartCall();
}

TelemetryRecorder::~TelemetryRecorder() {
  ctx_.TryCancel();
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return done_; });
}

void TelemetryRecorder::OnReadDone(bool ok) {
  if (!ok) return;  // the stream ended; OnDone follows
  incoming_.set_host_unix_ms(HostUnixMs());
  out_ << ToJson(incoming_) << "\n";
  out_.flush();
  {
    std::lock_guard<std::mutex> lock(mu_);
    latest_ = incoming_;
    ++count_;
  }
  StartRead(&incoming_);
}

void TelemetryRecorder::OnDone(const grpc::Status&) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ = true;
  done_cv_.notify_all();
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
