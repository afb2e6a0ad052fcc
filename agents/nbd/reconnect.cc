#include "agents/nbd/reconnect.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "agents/nbd/handshake.h"

namespace swapchaos::agents::nbd {
namespace {

constexpr int kConnectTimeoutMs = 2000;
constexpr int kNegotiateTimeoutMs = 5000;
constexpr int kPollMs = 250;

void Say(const std::string& line) {
  std::printf("swapchaos-agent: %s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace

std::chrono::milliseconds ReconnectBackoff(int attempt) {
  int64_t ms = 200LL << std::min(attempt, 10);
  return std::chrono::milliseconds(std::min<int64_t>(ms, 5000));
}

absl::StatusOr<std::unique_ptr<Reconnector>> Reconnector::Start(ReconnectTarget target) {
  auto listener = LinkDeadListener::Open();
  if (!listener.ok()) return listener.status();
  std::unique_ptr<Reconnector> r(new Reconnector(std::move(target), std::move(*listener)));
  r->thread_ = std::thread([p = r.get()] { p->Loop(); });
  return r;
}

Reconnector::~Reconnector() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void Reconnector::Loop() {
  while (!stop_) {
    auto index = listener_->Next(kPollMs);
    if (absl::IsDeadlineExceeded(index.status())) continue;
    if (!index.ok()) {
      // Lost notifications may hide a dead link; the kernel drops a socket
      // handed over while none is dead, so trying costs nothing.
      Say("nbd notifications: " + std::string(index.status().message()) + "; reconnecting nbd0");
      index = 0;
    }
    ++link_deaths_;
    Say("nbd" + std::to_string(*index) + ": link dead, reconnecting to " + target_.host + ":" +
        std::to_string(target_.port));
    if (Reconnect(*index)) ++reconnects_;
  }
}

bool Reconnector::Reconnect(uint32_t index) {
  auto started = std::chrono::steady_clock::now();
  for (int attempt = 0; !stop_; ++attempt) {
    absl::Status st;
    auto fd = ConnectTcp(target_.host, target_.port, kConnectTimeoutMs);
    if (!fd.ok()) {
      st = fd.status();
    } else {
      auto exp = Negotiate(*fd, target_.export_name, kNegotiateTimeoutMs);
      st = exp.ok() ? Reconfigure(index, *fd) : exp.status();
      close(*fd);  // on success the kernel holds its own reference
    }
    if (st.ok()) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count();
      Say("nbd" + std::to_string(index) + ": reconnected after " + std::to_string(attempt + 1) +
          " attempts, " + std::to_string(ms) + " ms");
      return true;
    }
    if (attempt % 10 == 0) {
      Say("nbd" + std::to_string(index) + ": reconnect attempt " + std::to_string(attempt + 1) +
          " failed: " + std::string(st.message()));
    }
    auto until = std::chrono::steady_clock::now() + ReconnectBackoff(attempt);
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return false;
}

}  // namespace swapchaos::agents::nbd
