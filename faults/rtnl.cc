#include "faults/rtnl.h"

#include <linux/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/route.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace swapchaos::faults {
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

absl::StatusOr<std::string> Rtnl::LinkWithMac(const std::string& mac) {
  nl_cache* cache = nullptr;
  if (int err = rtnl_link_alloc_cache(sk_, AF_UNSPEC, &cache); err < 0) {
    return NlError("cannot list links", err);
  }
  std::string found;
  for (nl_object* o = nl_cache_get_first(cache); o != nullptr; o = nl_cache_get_next(o)) {
    auto* link = reinterpret_cast<rtnl_link*>(o);
    char buf[32];
    nl_addr* addr = rtnl_link_get_addr(link);
    if (addr != nullptr && mac == nl_addr2str(addr, buf, sizeof buf)) {
      found = rtnl_link_get_name(link);
      break;
    }
  }
  nl_cache_free(cache);
  if (found.empty()) return absl::NotFoundError(absl::StrCat("no link with MAC ", mac));
  return found;
}

absl::Status Rtnl::ChangeLink(const std::string& name, const std::function<void(rtnl_link*)>& edit,
                              const std::string& what) {
  rtnl_link* link = nullptr;
  if (int err = rtnl_link_get_kernel(sk_, 0, name.c_str(), &link); err < 0) {
    return NlError(absl::StrCat("no link ", name), err);
  }
  LinkPtr orig(link);
  LinkPtr change(rtnl_link_alloc());
  edit(change.get());
  if (int err = rtnl_link_change(sk_, orig.get(), change.get(), 0); err < 0) {
    return NlError(absl::StrCat("cannot ", what), err);
  }
  return absl::OkStatus();
}

absl::Status Rtnl::Rename(const std::string& name, const std::string& new_name) {
  return ChangeLink(
      name, [&](rtnl_link* c) { rtnl_link_set_name(c, new_name.c_str()); },
      absl::StrCat("rename ", name, " to ", new_name));
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

absl::Status Rtnl::SetUp(const std::string& name, bool up) {
  return ChangeLink(
      name,
      [up](rtnl_link* c) { up ? rtnl_link_set_flags(c, IFF_UP) : rtnl_link_unset_flags(c, IFF_UP); },
      absl::StrCat("bring ", name, up ? " up" : " down"));
}

absl::StatusOr<Rtnl::LinkStatus> Rtnl::ReadLink(const std::string& name) {
  rtnl_link* link = nullptr;
  if (int err = rtnl_link_get_kernel(sk_, 0, name.c_str(), &link); err < 0) {
    return NlError(absl::StrCat("no link ", name), err);
  }
  LinkPtr held(link);
  unsigned int flags = rtnl_link_get_flags(link);
  return LinkStatus{.admin_up = (flags & IFF_UP) != 0, .carrier = rtnl_link_get_carrier(link) != 0};
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

}  // namespace swapchaos::faults
