#include "agents/boot/bringup.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "faults/rtnl.h"

namespace swapchaos::agents::boot {

absl::StatusOr<NicConfig> ParseNic(const std::string& text) {
  std::vector<std::string> f = absl::StrSplit(text, ',');
  if (f.size() != 3 || f[0].empty() || f[1].size() != 17 || f[2].find('/') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("NIC must be NAME,MAC,ADDR/PREFIX, got '", text, "'"));
  }
  return NicConfig{f[0], f[1], f[2]};
}

absl::StatusOr<RouteConfig> ParseRoute(const std::string& text) {
  std::vector<std::string> f = absl::StrSplit(text, ',');
  if (f.size() != 2 || f[0].find('/') == std::string::npos || f[1].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("route must be DEST/PREFIX,GATEWAY, got '", text, "'"));
  }
  return RouteConfig{f[0], f[1]};
}

absl::Status LoadModules(const std::string& list_path, const std::string& modules_root) {
  std::ifstream list(list_path);
  if (!list) return absl::NotFoundError(absl::StrCat("cannot read ", list_path));
  std::vector<std::string> failures;
  std::string line;
  while (std::getline(list, line)) {
    if (line.empty()) continue;
    std::string rel = line.substr(0, line.find(' '));
    std::string args = rel.size() < line.size() ? line.substr(rel.size() + 1) : "";
    std::string path = modules_root + "/" + rel;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      failures.push_back(absl::StrCat(path, ": ", std::strerror(errno)));
      continue;
    }
    if (syscall(SYS_finit_module, fd, args.c_str(), 0) != 0 && errno != EEXIST) {
      failures.push_back(absl::StrCat(rel, ": ", std::strerror(errno)));
    }
    close(fd);
  }
  if (!failures.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("modules not loaded: ", absl::StrJoin(failures, "; ")));
  }
  return absl::OkStatus();
}

absl::Status ConfigureNetwork(const std::vector<NicConfig>& nics,
                              const std::vector<RouteConfig>& routes, bool forward,
                              std::chrono::milliseconds wait) {
  auto rtnl = faults::Rtnl::Open();
  if (!rtnl.ok()) return rtnl.status();
  faults::Rtnl& r = **rtnl;
  if (absl::Status s = r.SetUp("lo"); !s.ok()) return s;
  for (const NicConfig& nic : nics) {
    // virtio_net may still be probing the device when we get here.
    auto deadline = std::chrono::steady_clock::now() + wait;
    auto name = r.LinkWithMac(nic.mac);
    while (absl::IsNotFound(name.status()) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      name = r.LinkWithMac(nic.mac);
    }
    if (!name.ok()) return name.status();
    if (*name != nic.name) {
      if (absl::Status s = r.Rename(*name, nic.name); !s.ok()) return s;
    }
    if (absl::Status s = r.AddAddress(nic.name, nic.cidr); !s.ok()) return s;
    if (absl::Status s = r.SetUp(nic.name); !s.ok()) return s;
  }
  for (const RouteConfig& route : routes) {
    if (absl::Status s = r.AddRoute(route.dst_cidr, route.gateway); !s.ok()) return s;
  }
  if (forward && !(std::ofstream("/proc/sys/net/ipv4/ip_forward") << "1")) {
    return absl::FailedPreconditionError("cannot turn on IPv4 forwarding");
  }
  return absl::OkStatus();
}

}  // namespace swapchaos::agents::boot
