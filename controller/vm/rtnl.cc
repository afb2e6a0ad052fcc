#include "controller/vm/rtnl.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/route.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace swapchaos::controller {
namespace {

absl::Status NlError(const std::string& what, int err) {
  return absl::UnavailableError(absl::StrCat(what, ": ", nl_geterror(err)));
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using LinkPtr = std::unique_ptr<rtnl_link, Deleter<rtnl_link, rtnl_link_put>>;
using AddrPtr = std::unique_ptr<nl_addr, Deleter<nl_addr, nl_addr_put>>;

absl::StatusOr<AddrPtr> ParseAddr(const std::string& text) {
  nl_addr* a = nullptr;
  if (int err = nl_addr_parse(text.c_str(), AF_INET, &a); err < 0) {
    return absl::InvalidArgumentError(absl::StrCat("bad address ", text, ": ", nl_geterror(err)));
  }
  return AddrPtr(a);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Rtnl>> Rtnl::Open() {
  nl_sock* sk = nl_socket_alloc();
  if (sk == nullptr) return absl::ResourceExhaustedError("nl_socket_alloc");
  if (int err = nl_connect(sk, NETLINK_ROUTE); err < 0) {
    nl_socket_free(sk);
    return NlError("cannot open rtnetlink", err);
  }
  return std::unique_ptr<Rtnl>(new Rtnl(sk));
}

Rtnl::~Rtnl() { nl_socket_free(sk_); }

absl::StatusOr<int> Rtnl::IfIndex(const std::string& name) {
  rtnl_link* link = nullptr;
  if (int err = rtnl_link_get_kernel(sk_, 0, name.c_str(), &link); err < 0) {
    return NlError(absl::StrCat("no link ", name), err);
  }
  int index = rtnl_link_get_ifindex(link);
  rtnl_link_put(link);
  return index;
}

absl::Status Rtnl::AddBridge(const std::string& name) {
  if (int err = rtnl_link_bridge_add(sk_, name.c_str()); err < 0) {
    return NlError(absl::StrCat("cannot create bridge ", name), err);
  }
  return absl::OkStatus();
}

absl::Status Rtnl::SetMaster(const std::string& port, const std::string& bridge) {
  auto master = IfIndex(bridge);
  if (!master.ok()) return master.status();
  auto slave = IfIndex(port);
  if (!slave.ok()) return slave.status();
  if (int err = rtnl_link_enslave_ifindex(sk_, *master, *slave); err < 0) {
    return NlError(absl::StrCat("cannot add ", port, " to ", bridge), err);
  }
  return absl::OkStatus();
}

absl::Status Rtnl::SetUp(const std::string& name) {
  rtnl_link* link = nullptr;
  if (int err = rtnl_link_get_kernel(sk_, 0, name.c_str(), &link); err < 0) {
    return NlError(absl::StrCat("no link ", name), err);
  }
  LinkPtr orig(link);
  LinkPtr change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sk_, orig.get(), change.get(), 0); err < 0) {
    return NlError(absl::StrCat("cannot bring ", name, " up"), err);
  }
  return absl::OkStatus();
}

absl::Status Rtnl::AddAddress(const std::string& name, const std::string& cidr) {
  auto index = IfIndex(name);
  if (!index.ok()) return index.status();
  auto local = ParseAddr(cidr);
  if (!local.ok()) return local.status();
  std::unique_ptr<rtnl_addr, Deleter<rtnl_addr, rtnl_addr_put>> addr(rtnl_addr_alloc());
  rtnl_addr_set_ifindex(addr.get(), *index);
  rtnl_addr_set_local(addr.get(), local->get());
  if (int err = rtnl_addr_add(sk_, addr.get(), 0); err < 0) {
    return NlError(absl::StrCat("cannot add ", cidr, " to ", name), err);
  }
  return absl::OkStatus();
}

absl::Status Rtnl::AddRoute(const std::string& dst_cidr, const std::string& gateway) {
  auto dst = ParseAddr(dst_cidr);
  if (!dst.ok()) return dst.status();
  auto gw = ParseAddr(gateway);
  if (!gw.ok()) return gw.status();
  std::unique_ptr<rtnl_route, Deleter<rtnl_route, rtnl_route_put>> route(rtnl_route_alloc());
  rtnl_route_set_family(route.get(), AF_INET);
  rtnl_route_set_dst(route.get(), dst->get());
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  rtnl_route_nh_set_gateway(nh, gw->get());
  rtnl_route_add_nexthop(route.get(), nh);  // the route owns it now
  if (int err = rtnl_route_add(sk_, route.get(), NLM_F_CREATE); err < 0) {
    return NlError(absl::StrCat("cannot route ", dst_cidr, " via ", gateway), err);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> CreateTap(const std::string& name) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot open /dev/net/tun: ", std::strerror(errno)));
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
    int err = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot create tap ", name, ": ", std::strerror(err)));
  }
  return fd;
}

}  // namespace swapchaos::controller
