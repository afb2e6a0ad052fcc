#include "agents/nbd/netlink.h"

#include <linux/nbd-netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <poll.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace swapchaos::agents::nbd {

void NlMsgFree::operator()(nl_msg* m) const { nlmsg_free(m); }

namespace {
// NBD_ATTR_SOCKETS > NBD_SOCK_ITEM > NBD_SOCK_FD, as the kernel walks it.
void PutSocket(nl_msg* msg, int fd) {
  nlattr* sockets = nla_nest_start(msg, NBD_ATTR_SOCKETS);
  nlattr* item = nla_nest_start(msg, NBD_SOCK_ITEM);
  nla_put_u32(msg, NBD_SOCK_FD, static_cast<uint32_t>(fd));
  nla_nest_end(msg, item);
  nla_nest_end(msg, sockets);
}
}  // namespace

NlMsgPtr BuildConnectMessage(int family_id, const ConnectParams& p) {
  NlMsgPtr msg(nlmsg_alloc());
  genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family_id, 0, 0, NBD_CMD_CONNECT,
              NBD_GENL_VERSION);
  if (p.index >= 0) nla_put_u32(msg.get(), NBD_ATTR_INDEX, static_cast<uint32_t>(p.index));
  nla_put_u64(msg.get(), NBD_ATTR_SIZE_BYTES, p.size_bytes);
  nla_put_u64(msg.get(), NBD_ATTR_BLOCK_SIZE_BYTES, p.block_size);
  nla_put_u64(msg.get(), NBD_ATTR_SERVER_FLAGS, p.server_flags);
  if (p.timeout_s > 0) nla_put_u64(msg.get(), NBD_ATTR_TIMEOUT, p.timeout_s);
  nla_put_u64(msg.get(), NBD_ATTR_DEAD_CONN_TIMEOUT, p.dead_conn_timeout_s);
  PutSocket(msg.get(), p.sock_fd);
  return msg;
}

NlMsgPtr BuildReconfigureMessage(int family_id, uint32_t index, int sock_fd) {
  NlMsgPtr msg(nlmsg_alloc());
  genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family_id, 0, 0, NBD_CMD_RECONFIGURE,
              NBD_GENL_VERSION);
  nla_put_u32(msg.get(), NBD_ATTR_INDEX, index);
  PutSocket(msg.get(), sock_fd);
  return msg;
}

namespace {
struct Reply {
  int64_t index = -1;
  bool acked = false;
};

int OnReply(nl_msg* msg, void* arg) {
  nlattr* attrs[NBD_ATTR_MAX + 1];
  if (genlmsg_parse(nlmsg_hdr(msg), 0, attrs, NBD_ATTR_MAX, nullptr) == 0 &&
      attrs[NBD_ATTR_INDEX] != nullptr) {
    static_cast<Reply*>(arg)->index = nla_get_u32(attrs[NBD_ATTR_INDEX]);
  }
  return NL_OK;
}

int OnAck(nl_msg*, void* arg) {
  static_cast<Reply*>(arg)->acked = true;
  return NL_STOP;
}
}  // namespace

namespace {

using Sock = std::unique_ptr<nl_sock, void (*)(nl_sock*)>;

absl::StatusOr<std::pair<Sock, int>> OpenFamily() {
  Sock sk(nl_socket_alloc(), nl_socket_free);
  if (!sk || genl_connect(sk.get()) != 0) {
    return absl::InternalError("cannot open a generic netlink socket");
  }
  int family = genl_ctrl_resolve(sk.get(), NBD_GENL_FAMILY_NAME);
  if (family < 0) {
    return absl::FailedPreconditionError(
        "the kernel has no \"nbd\" generic netlink family (nbd module not loaded?)");
  }
  return std::pair(std::move(sk), family);
}

// Sends `msg` and reads replies until the kernel's ACK; `what` names it in errors.
absl::Status Transact(nl_sock* sk, nl_msg* msg, Reply& reply, const char* what) {
  nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, OnReply, &reply);
  nl_socket_modify_cb(sk, NL_CB_ACK, NL_CB_CUSTOM, OnAck, &reply);
  // A reply (if any) comes first, then the ACK; an error ends the loop
  // through a negative return.
  int err = nl_send_auto(sk, msg);
  while (err >= 0 && !reply.acked) err = nl_recvmsgs_default(sk);
  if (err < 0) return absl::FailedPreconditionError(absl::StrCat(what, " refused: ", nl_geterror(err)));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint32_t> Connect(const ConnectParams& params) {
  auto family = OpenFamily();
  if (!family.ok()) return family.status();
  auto& [sk, id] = *family;
  Reply reply;
  NlMsgPtr msg = BuildConnectMessage(id, params);
  if (absl::Status s = Transact(sk.get(), msg.get(), reply, "NBD_CMD_CONNECT"); !s.ok()) return s;
  if (reply.index < 0) {
    return absl::InternalError("NBD_CMD_CONNECT reply carried no device index");
  }
  return static_cast<uint32_t>(reply.index);
}

absl::Status Reconfigure(uint32_t index, int sock_fd) {
  auto family = OpenFamily();
  if (!family.ok()) return family.status();
  auto& [sk, id] = *family;
  Reply reply;
  NlMsgPtr msg = BuildReconfigureMessage(id, index, sock_fd);
  return Transact(sk.get(), msg.get(), reply, "NBD_CMD_RECONFIGURE");
}

namespace {
int OnLinkDead(nl_msg* msg, void* arg) {
  auto* genl = static_cast<genlmsghdr*>(nlmsg_data(nlmsg_hdr(msg)));
  nlattr* attrs[NBD_ATTR_MAX + 1];
  if (genl->cmd == NBD_CMD_LINK_DEAD &&
      genlmsg_parse(nlmsg_hdr(msg), 0, attrs, NBD_ATTR_MAX, nullptr) == 0 &&
      attrs[NBD_ATTR_INDEX] != nullptr) {
    static_cast<std::vector<uint32_t>*>(arg)->push_back(nla_get_u32(attrs[NBD_ATTR_INDEX]));
  }
  return NL_OK;
}
}  // namespace

absl::StatusOr<std::unique_ptr<LinkDeadListener>> LinkDeadListener::Open() {
  auto family = OpenFamily();
  if (!family.ok()) return family.status();
  Sock sk = std::move(family->first);
  int group = genl_ctrl_resolve_grp(sk.get(), NBD_GENL_FAMILY_NAME, NBD_GENL_MCAST_GROUP_NAME);
  if (group < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("nbd has no multicast group ", NBD_GENL_MCAST_GROUP_NAME));
  }
  if (int err = nl_socket_add_membership(sk.get(), group); err < 0) {
    return absl::InternalError(
        absl::StrCat("cannot join nbd's multicast group: ", nl_geterror(err)));
  }
  // Notifications carry no sequence numbers of ours.
  nl_socket_disable_seq_check(sk.get());
  std::unique_ptr<LinkDeadListener> l(new LinkDeadListener(sk.release()));
  nl_socket_modify_cb(l->sk_, NL_CB_VALID, NL_CB_CUSTOM, OnLinkDead, &l->pending_);
  return l;
}

LinkDeadListener::~LinkDeadListener() { nl_socket_free(sk_); }

absl::StatusOr<uint32_t> LinkDeadListener::Next(int timeout_ms) {
  while (pending_.empty()) {
    pollfd p{nl_socket_get_fd(sk_), POLLIN, 0};
    int n = poll(&p, 1, timeout_ms);
    if (n == 0) return absl::DeadlineExceededError("no link died");
    if (n < 0 && errno != EINTR) return absl::InternalError("poll on the nbd multicast socket");
    if (n > 0) {
      if (int err = nl_recvmsgs_default(sk_); err < 0) {
        // ENOBUFS: notifications were lost; a dead link may be among them.
        if (err == -NLE_NOMEM) return absl::DataLossError("nbd notifications lost");
        return absl::InternalError(absl::StrCat("nbd notifications: ", nl_geterror(err)));
      }
    }
  }
  uint32_t index = pending_.front();
  pending_.erase(pending_.begin());
  return index;
}

}  // namespace swapchaos::agents::nbd
