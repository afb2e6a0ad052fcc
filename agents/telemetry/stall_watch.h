#ifndef SWAPCHAOS_AGENTS_TELEMETRY_STALL_WATCH_H_
#define SWAPCHAOS_AGENTS_TELEMETRY_STALL_WATCH_H_

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

// Says on the console when a thread of the agent is stuck in one step, and
// where in the kernel: the telemetry stream once went silent for 27 s with
// no kernel report and nothing to tell a frozen agent from a dead control
// NIC. The console (a serial port) needs no memory from the network stack.
namespace swapchaos::agents::telemetry {

class StallWatch {
 public:
  // `report` gets each finished line (default: stdout, the console).
  using Report = std::function<void(const std::string&)>;
  StallWatch(std::string what, std::chrono::milliseconds after, Report report = nullptr);
  ~StallWatch();
  StallWatch(const StallWatch&) = delete;
  StallWatch& operator=(const StallWatch&) = delete;

  // The calling thread starts `step` (a string literal); Leave ends it.
  void Enter(const char* step);
  void Leave();

 private:
  void Watch();

  const std::string what_;
  const std::chrono::milliseconds after_;
  const Report report_;
  std::atomic<const char*> step_{nullptr};
  std::atomic<int64_t> since_ns_{0};
  std::atomic<pid_t> tid_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread watcher_;
};

}  // namespace swapchaos::agents::telemetry

#endif  // SWAPCHAOS_AGENTS_TELEMETRY_STALL_WATCH_H_
