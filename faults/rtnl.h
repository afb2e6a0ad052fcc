#ifndef SWAPCHAOS_FAULTS_RTNL_H_
#define SWAPCHAOS_FAULTS_RTNL_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct nl_sock;
struct rtnl_link;

namespace swapchaos::faults {

// The rtnetlink port (libnl-route-3): link, address and route changes in the
// network namespace of the thread that opens it. Never runs `ip`, whose
// fork/exec may not return under memory pressure. Used by the host side of a
// run and by the agents bringing their guests' NICs up.
class Rtnl {
 public:
  static absl::StatusOr<std::unique_ptr<Rtnl>> Open();
  ~Rtnl();
  Rtnl(const Rtnl&) = delete;
  Rtnl& operator=(const Rtnl&) = delete;

  absl::Status AddBridge(const std::string& name);
  // The name of the link with hardware address `mac` (e.g. "52:54:00:5c:00:01").
  absl::StatusOr<std::string> LinkWithMac(const std::string& mac);
  absl::Status Rename(const std::string& name, const std::string& new_name);
  absl::Status SetMaster(const std::string& port, const std::string& bridge);
  // Administrative state: `ip link set NAME up` (or down).
  absl::Status SetUp(const std::string& name, bool up = true);
  struct LinkStatus {
    bool admin_up = false;
    bool carrier = false;  // the peer is there: false after a cable pull
  };
  absl::StatusOr<LinkStatus> ReadLink(const std::string& name);
  // `cidr` like "198.51.100.2/24".
  absl::Status AddAddress(const std::string& name, const std::string& cidr);
  absl::Status AddRoute(const std::string& dst_cidr, const std::string& gateway);

 private:
  explicit Rtnl(nl_sock* sk) : sk_(sk) {}
  absl::StatusOr<int> IfIndex(const std::string& name);
  // Applies `edit` to a change request for link `name`; `what` names it in errors.
  absl::Status ChangeLink(const std::string& name, const std::function<void(rtnl_link*)>& edit,
                          const std::string& what);
  nl_sock* const sk_;
};

}  // namespace swapchaos::faults

#endif  // SWAPCHAOS_FAULTS_RTNL_H_
