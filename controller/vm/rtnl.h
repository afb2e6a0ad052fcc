#ifndef SWAPCHAOS_CONTROLLER_VM_RTNL_H_
#define SWAPCHAOS_CONTROLLER_VM_RTNL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct nl_sock;

namespace swapchaos::controller {

// Host-side link setup over rtnetlink (libnl-route-3), in the network
// namespace of the thread that creates it. Never runs `ip`.
class Rtnl {
 public:
  static absl::StatusOr<std::unique_ptr<Rtnl>> Open();
  ~Rtnl();
  Rtnl(const Rtnl&) = delete;
  Rtnl& operator=(const Rtnl&) = delete;

  absl::Status AddBridge(const std::string& name);
  absl::Status SetMaster(const std::string& port, const std::string& bridge);
  absl::Status SetUp(const std::string& name);
  // `cidr` like "198.51.100.2/24".
  absl::Status AddAddress(const std::string& name, const std::string& cidr);
  absl::Status AddRoute(const std::string& dst_cidr, const std::string& gateway);

 private:
  explicit Rtnl(nl_sock* sk) : sk_(sk) {}
  absl::StatusOr<int> IfIndex(const std::string& name);
  nl_sock* const sk_;
};

// A tap device (no packet info header) in the calling thread's namespace;
// returns its descriptor, to be handed to QEMU. The device lives as long as
// the descriptor does.
absl::StatusOr<int> CreateTap(const std::string& name);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_VM_RTNL_H_
