#include "controller/run/telemetry_recorder.h"

#include <chrono>

#include "controller/run/run.h"
#include "proto/json.h"

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
  int64_t now_ms = HostUnixMs();
  incoming_.set_host_unix_ms(now_ms);
  line_.clear();
  AppendJson(incoming_, &line_);
  line_.push_back('\n');
  out_ << line_;
  // The file is at most a second behind (a write per sample costs more
  // than the rest of the sample's handling at hundreds of agents).
  if (now_ms - flushed_ms_ >= 1000) {
    out_.flush();
    flushed_ms_ = now_ms;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    latest_.Swap(&incoming_);  // no copy; the next read overwrites incoming_
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
  if (count_ == 0) return std::nullopt;
  return latest_;
}

uint64_t TelemetryRecorder::count() {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

}  // namespace swapchaos::controller
