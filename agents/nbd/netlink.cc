#include "agents/nbd/netlink.h"

#include <linux/nbd-netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "absl/strings/str_cat.h"

namespace swapchaos::agents::nbd {

void NlMsgFree::operator()(nl_msg* m) const { nlmsg_free(m); }

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
  nlattr* sockets = nla_nest_start(msg.get(), NBD_ATTR_SOCKETS);
  nlattr* item = nla_nest_start(msg.get(), NBD_SOCK_ITEM);
  nla_put_u32(msg.get(), NBD_SOCK_FD, static_cast<uint32_t>(p.sock_fd));
  nla_nest_end(msg.get(), item);
  nla_nest_end(msg.get(), sockets);
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

absl::StatusOr<uint32_t> Connect(const ConnectParams& params) {
  std::unique_ptr<nl_sock, void (*)(nl_sock*)> sk(nl_socket_alloc(), nl_socket_free);
  if (!sk || genl_connect(sk.get()) != 0) {
    return absl::InternalError("cannot open a generic netlink socket");
  }
  int family = genl_ctrl_resolve(sk.get(), NBD_GENL_FAMILY_NAME);
  if (family < 0) {
    return absl::FailedPreconditionError(
        "the kernel has no \"nbd\" generic netlink family (nbd module not loaded?)");
  }
  Reply reply;
  nl_socket_modify_cb(sk.get(), NL_CB_VALID, NL_CB_CUSTOM, OnReply, &reply);
  nl_socket_modify_cb(sk.get(), NL_CB_ACK, NL_CB_CUSTOM, OnAck, &reply);
  NlMsgPtr msg = BuildConnectMessage(family, params);
  // The reply carrying the index comes first, then the ACK; an error ends
  // the loop through a negative return.
  int err = nl_send_auto(sk.get(), msg.get());
  while (err >= 0 && !reply.acked) err = nl_recvmsgs_default(sk.get());
  if (err < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("NBD_CMD_CONNECT refused: ", nl_geterror(err)));
  }
  if (reply.index < 0) {
    return absl::InternalError("NBD_CMD_CONNECT reply carried no device index");
  }
  return static_cast<uint32_t>(reply.index);
}

}  // namespace swapchaos::agents::nbd
