#include "agents/nbd/reconnect.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

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
  // While swap is dead, memory is short and this thread's own allocations
  // (sockets, buffers) would enter direct reclaim, which waits for swap I/O
  // that cannot complete until this very thread reconnects. As an IO
  // flusher (PF_MEMALLOC_NOIO | PF_LOCAL_THROTTLE) its reclaim issues no I/O
  // and is throttled for at most a second at a time.
  if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) != 0) {
    Say(std::string("cannot become an IO flusher (PR_SET_IO_FLUSHER): ") + std::strerror(errno));
  }
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
  using Clock = std::chrono::steady_clock;
  auto started = Clock::now();
  auto ms_since = [](Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
  };
  for (int attempt = 0; !stop_; ++attempt) {
    absl::Status st;
    // Where a slow attempt spent its time: the reclaim trap shows up here.
    auto t0 = Clock::now();
    auto fd = ConnectTcp(target_.host, target_.port, kConnectTimeoutMs);
    int64_t connect_ms = ms_since(t0), negotiate_ms = 0, reconfigure_ms = 0;
    if (!fd.ok()) {
      st = fd.status();
    } else {
      auto t1 = Clock::now();
      auto exp = Negotiate(*fd, target_.export_name, kNegotiateTimeoutMs);
      negotiate_ms = ms_since(t1);
      auto t2 = Clock::now();
      st = exp.ok() ? Reconfigure(index, *fd) : exp.status();
      reconfigure_ms = exp.ok() ? ms_since(t2) : 0;
      close(*fd);  // on success the kernel holds its own reference
    }
    if (connect_ms + negotiate_ms + reconfigure_ms > 1000) {
      Say("nbd" + std::to_string(index) + ": reconnect attempt " + std::to_string(attempt + 1) +
          " slow: connect " + std::to_string(connect_ms) + " ms, negotiate " +
          std::to_string(negotiate_ms) + " ms, reconfigure " + std::to_string(reconfigure_ms) +
          " ms");
    }
    if (st.ok()) {
      auto ms = ms_since(started);
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
