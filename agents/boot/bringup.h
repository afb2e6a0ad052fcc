#ifndef SWAPCHAOS_AGENTS_BOOT_BRINGUP_H_
#define SWAPCHAOS_AGENTS_BOOT_BRINGUP_H_

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

// The guest's bring-up, done by the agent before it serves: kernel modules
// with finit_module(2) and NICs over rtnetlink. A busybox insmod or ip per
// step costs a fork and exec, about 20 ms each under TCG; this is the
// difference between a guest ready in 3.7 s and one ready sooner.
namespace swapchaos::agents::boot {

struct NicConfig {
  std::string name;  // what to call it: "ctl0", "data0"
  std::string mac;
  std::string cidr;  // "192.0.2.2/24"
};

struct RouteConfig {
  std::string dst_cidr;
  std::string gateway;
};

// "NAME,MAC,CIDR" and "DST/PREFIX,GATEWAY", as the kernel command line carries them.
absl::StatusOr<NicConfig> ParseNic(const std::string& text);
absl::StatusOr<RouteConfig> ParseRoute(const std::string& text);

// Loads each module of `list_path` ("relpath args" a line, dependencies
// first, as the image builder wrote it) from `modules_root`/relpath. One
// already loaded is fine. Goes on past a failure; the error lists them all.
absl::Status LoadModules(const std::string& list_path, const std::string& modules_root);

// Names, addresses and brings up each NIC (waiting up to `wait` for its MAC to
// appear), then adds the routes, then turns on IPv4 forwarding if asked.
absl::Status ConfigureNetwork(const std::vector<NicConfig>& nics,
                              const std::vector<RouteConfig>& routes, bool forward,
                              std::chrono::milliseconds wait);

}  // namespace swapchaos::agents::boot

#endif  // SWAPCHAOS_AGENTS_BOOT_BRINGUP_H_
