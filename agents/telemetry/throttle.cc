#include "agents/telemetry/throttle.h"

#include <set>

namespace swapchaos::agents::telemetry {

void ThrottleTracker::Annotate(agent::Sample* s) {
  std::set<int32_t> throttled;
  for (const agent::TaskSample& t : s->tasks()) {
    if (t.state() == "running" && t.wchan() == kThrottleWchan) throttled.insert(t.pid());
  }
  // Episodes that ended: the task left the throttle (or ended altogether).
  for (auto it = open_.begin(); it != open_.end();) {
    if (throttled.count(it->first)) {
      ++it;
      continue;
    }
    agent::ThrottleEpisode* e = s->add_throttles_ended();
    e->set_pid(it->first);
    e->set_start_uptime_ms(it->second);
    e->set_end_uptime_ms(s->uptime_ms());
    it = open_.erase(it);
  }
  for (int32_t pid : throttled) {
    auto [it, fresh] = open_.emplace(pid, s->uptime_ms());
    agent::ThrottleEpisode* e = s->add_throttled_now();
    e->set_pid(pid);
    e->set_start_uptime_ms(it->second);
  }
  auto pgscan = s->vmstat().find("pgscan_direct_throttle");
  if (pgscan != s->vmstat().end()) {
    s->set_pgscan_direct_throttle_delta(seen_ ? pgscan->second - last_pgscan_ : 0);
    last_pgscan_ = pgscan->second;
    seen_ = true;
  }
}

}  // namespace swapchaos::agents::telemetry
