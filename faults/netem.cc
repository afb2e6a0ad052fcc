#include "faults/netem.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace swapchaos::faults {
namespace {

// Added in Linux 6.3, after the last attribute Debian 12's headers know.
constexpr int kTcaNetemPrngSeed = TCA_NETEM_SLOT_DIST + 1;
constexpr int kNetemAttrMax = kTcaNetemPrngSeed;
constexpr uint32_t kRootHandle = 0x10000;         // 1:0
constexpr uint32_t kScopedNetemHandle = 0x300000;  // 30:0
// u32 offsets into an IPv4 header without options (Linux's TCP sends none):
// the word holding the protocol, and the one holding the TCP ports.
constexpr int kIpProtoWord = 8;
constexpr int kTcpPortsWord = 20;
constexpr int kFilterPrio = 1;

// The kernel's probabilities: a u32 fraction of UINT32_MAX.
uint32_t Prob(double p) { return static_cast<uint32_t>(std::llround(p * UINT32_MAX)); }
double FromProb(uint32_t v) { return static_cast<double>(v) / UINT32_MAX; }
// Legacy 32-bit qopt fields count psched ticks of 64 ns.
uint32_t Ticks(uint64_t us) {
  return static_cast<uint32_t>(std::min<uint64_t>(us * 1000 / 64, UINT32_MAX));
}

absl::Status Field(bool ok, const char* name, const std::string& why) {
  return ok ? absl::OkStatus()
            : absl::InvalidArgumentError(absl::StrCat("netem ", name, ": ", why));
}

bool IsProb(double p) { return p >= 0 && p <= 1; }

}  // namespace

void NlMsgDeleter::operator()(nl_msg* m) const { nlmsg_free(m); }

bool SameEffect(const NetemParams& a, const NetemParams& b) {
  auto near = [](double x, double y) { return std::fabs(x - y) < 1e-6; };
  return a.limit == b.limit && a.delay_us == b.delay_us && a.jitter_us == b.jitter_us &&
         near(a.delay_correlation, b.delay_correlation) && near(a.loss, b.loss) &&
         near(a.loss_correlation, b.loss_correlation) && near(a.duplicate, b.duplicate) &&
         near(a.corrupt, b.corrupt) && near(a.reorder, b.reorder) &&
         a.rate_bytes_per_s == b.rate_bytes_per_s &&
         (a.ge_p == 0 ? near(b.ge_p, 0)
                      : near(a.ge_p, b.ge_p) && near(a.ge_r, b.ge_r) && near(a.ge_h, b.ge_h) &&
                            near(a.ge_k, b.ge_k));
}

absl::Status Validate(const NetemParams& p) {
  const std::pair<const char*, double> probs[] = {{"loss", p.loss},
                                                  {"loss_correlation", p.loss_correlation},
                                                  {"delay_correlation", p.delay_correlation},
                                                  {"ge_p", p.ge_p},
                                                  {"ge_r", p.ge_r},
                                                  {"ge_h", p.ge_h},
                                                  {"ge_k", p.ge_k},
                                                  {"duplicate", p.duplicate},
                                                  {"corrupt", p.corrupt},
                                                  {"reorder", p.reorder}};
  for (auto [name, v] : probs) {
    if (absl::Status s = Field(IsProb(v), name, absl::StrCat("must be in [0, 1], got ", v));
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = Field(p.limit > 0, "limit", "must be > 0"); !s.ok()) return s;
  if (absl::Status s = Field(p.jitter_us == 0 || p.delay_us > 0, "jitter_us", "needs a delay");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Field(p.reorder == 0 || p.delay_us > 0, "reorder",
                             "needs a delay (reordered packets are the undelayed ones)");
      !s.ok()) {
    return s;
  }
  return Field(p.ge_p == 0 || p.loss == 0, "loss",
               "random loss and Gilbert-Elliott loss (ge_p) exclude each other");
}

namespace {

NlMsg TcRequest(int type, int flags, int ifindex, uint32_t parent, uint32_t handle,
                uint32_t info = 0) {
  NlMsg msg(nlmsg_alloc_simple(type, flags));
  tcmsg tc{};
  tc.tcm_family = AF_UNSPEC;
  tc.tcm_ifindex = ifindex;
  tc.tcm_parent = parent;
  tc.tcm_handle = handle;
  tc.tcm_info = info;
  nlmsg_append(msg.get(), &tc, sizeof tc, NLMSG_ALIGNTO);
  return msg;
}

}  // namespace

NlMsg BuildNetemRequest(int ifindex, const NetemParams& p, uint32_t parent) {
  NlMsg msg = parent == 0 ? TcRequest(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex,
                                      TC_H_ROOT, kRootHandle)
                          : TcRequest(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex, parent,
                                      kScopedNetemHandle);
  nla_put_string(msg.get(), TCA_KIND, "netem");

  // TCA_OPTIONS is netem's own layout: a tc_netem_qopt, then attributes.
  nlattr* opts = nla_nest_start(msg.get(), TCA_OPTIONS);
  tc_netem_qopt q{};
  q.latency = Ticks(p.delay_us);
  q.jitter = Ticks(p.jitter_us);
  q.limit = p.limit;
  q.loss = Prob(p.loss);
  q.duplicate = Prob(p.duplicate);
  q.gap = p.reorder > 0 && p.reorder_gap == 0 ? 1 : p.reorder_gap;
  nlmsg_append(msg.get(), &q, sizeof q, NLMSG_ALIGNTO);

  tc_netem_corr corr{Prob(p.delay_correlation), Prob(p.loss_correlation), 0};
  nla_put(msg.get(), TCA_NETEM_CORR, sizeof corr, &corr);
  if (p.reorder > 0) {
    tc_netem_reorder r{Prob(p.reorder), 0};
    nla_put(msg.get(), TCA_NETEM_REORDER, sizeof r, &r);
  }
  if (p.corrupt > 0) {
    tc_netem_corrupt c{Prob(p.corrupt), 0};
    nla_put(msg.get(), TCA_NETEM_CORRUPT, sizeof c, &c);
  }
  if (p.ge_p > 0) {
    nlattr* loss = nla_nest_start(msg.get(), TCA_NETEM_LOSS);
    tc_netem_gemodel ge{Prob(p.ge_p), Prob(p.ge_r), Prob(p.ge_h), Prob(p.ge_k)};
    nla_put(msg.get(), NETEM_LOSS_GE, sizeof ge, &ge);
    nla_nest_end(msg.get(), loss);
  }
  if (p.rate_bytes_per_s > 0) {
    tc_netem_rate rate{};
    rate.rate = static_cast<uint32_t>(std::min<uint64_t>(p.rate_bytes_per_s, UINT32_MAX));
    nla_put(msg.get(), TCA_NETEM_RATE, sizeof rate, &rate);
    if (p.rate_bytes_per_s >= UINT32_MAX) {
      nla_put_u64(msg.get(), TCA_NETEM_RATE64, p.rate_bytes_per_s);
    }
  }
  int64_t latency_ns = static_cast<int64_t>(p.delay_us * 1000);
  int64_t jitter_ns = static_cast<int64_t>(p.jitter_us * 1000);
  nla_put(msg.get(), TCA_NETEM_LATENCY64, sizeof latency_ns, &latency_ns);
  nla_put(msg.get(), TCA_NETEM_JITTER64, sizeof jitter_ns, &jitter_ns);
  if (p.seed) nla_put_u64(msg.get(), kTcaNetemPrngSeed, *p.seed);
  nla_nest_end(msg.get(), opts);
  return msg;
}

NlMsg BuildPrioRootRequest(int ifindex) {
  NlMsg msg =
      TcRequest(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex, TC_H_ROOT, kRootHandle);
  nla_put_string(msg.get(), TCA_KIND, "prio");
  tc_prio_qopt q{};
  q.bands = 3;  // priomap all 0: everything unfiltered goes to band 1:1
  nla_put(msg.get(), TCA_OPTIONS, sizeof q, &q);
  return msg;
}

NlMsg BuildPortFilterRequest(int ifindex, uint16_t port, bool source) {
  NlMsg msg = TcRequest(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, ifindex, kRootHandle, 0,
                        TC_H_MAKE(kFilterPrio << 16, htons(ETH_P_IP)));
  nla_put_string(msg.get(), TCA_KIND, "u32");
  nlattr* opts = nla_nest_start(msg.get(), TCA_OPTIONS);
  nla_put_u32(msg.get(), TCA_U32_CLASSID, kScopedNetemParent);
  // tc_u32_sel ends in a flexible array of keys: laid out by hand.
  tc_u32_sel sel{};
  sel.flags = TC_U32_TERMINAL;
  sel.nkeys = 2;
  uint32_t mask = source ? 0xffff0000 : 0x0000ffff;
  uint32_t val = source ? static_cast<uint32_t>(port) << 16 : port;
  const tc_u32_key keys[2] = {{htonl(0x00ff0000), htonl(IPPROTO_TCP << 16), kIpProtoWord, 0},
                              {htonl(mask), htonl(val), kTcpPortsWord, 0}};
  char buf[sizeof sel + sizeof keys];
  std::memcpy(buf, &sel, sizeof sel);
  std::memcpy(buf + sizeof sel, keys, sizeof keys);
  nla_put(msg.get(), TCA_U32_SEL, sizeof buf, buf);
  nla_nest_end(msg.get(), opts);
  return msg;
}

std::optional<std::pair<uint16_t, bool>> ParsePortFilter(const void* data, size_t len) {
  nlattr* tb[TCA_U32_MAX + 1] = {};
  auto* head = reinterpret_cast<nlattr*>(const_cast<void*>(data));
  if (nla_parse(tb, TCA_U32_MAX, head, static_cast<int>(len), nullptr) < 0) return std::nullopt;
  if (tb[TCA_U32_CLASSID] == nullptr || tb[TCA_U32_SEL] == nullptr ||
      nla_get_u32(tb[TCA_U32_CLASSID]) != kScopedNetemParent) {
    return std::nullopt;
  }
  size_t sel_len = static_cast<size_t>(nla_len(tb[TCA_U32_SEL]));
  tc_u32_sel sel;
  if (sel_len < sizeof sel) return std::nullopt;
  std::memcpy(&sel, nla_data(tb[TCA_U32_SEL]), sizeof sel);
  if (sel_len < sizeof sel + sel.nkeys * sizeof(tc_u32_key)) return std::nullopt;
  const auto* keys = reinterpret_cast<const tc_u32_key*>(
      static_cast<const char*>(nla_data(tb[TCA_U32_SEL])) + sizeof sel);
  for (int i = 0; i < sel.nkeys; ++i) {
    tc_u32_key k;
    std::memcpy(&k, &keys[i], sizeof k);
    if (k.off != kTcpPortsWord) continue;
    uint32_t mask = ntohl(k.mask), val = ntohl(k.val);
    if (mask == 0xffff0000) return std::pair(static_cast<uint16_t>(val >> 16), true);
    if (mask == 0x0000ffff) return std::pair(static_cast<uint16_t>(val), false);
  }
  return std::nullopt;
}

absl::StatusOr<NetemParams> ParseNetemOptions(const void* data, size_t len) {
  tc_netem_qopt q;
  if (len < sizeof q) return absl::DataLossError("netem options shorter than tc_netem_qopt");
  std::memcpy(&q, data, sizeof q);
  NetemParams p;
  p.limit = q.limit;
  p.loss = FromProb(q.loss);
  p.duplicate = FromProb(q.duplicate);
  p.reorder_gap = q.gap;
  p.delay_us = static_cast<uint64_t>(q.latency) * 64 / 1000;
  p.jitter_us = static_cast<uint64_t>(q.jitter) * 64 / 1000;

  nlattr* tb[kNetemAttrMax + 1] = {};
  size_t off = NLA_ALIGN(sizeof q);
  if (len > off) {
    auto* head = reinterpret_cast<nlattr*>(const_cast<char*>(static_cast<const char*>(data)) + off);
    if (int err = nla_parse(tb, kNetemAttrMax, head, static_cast<int>(len - off), nullptr);
        err < 0) {
      return absl::DataLossError(absl::StrCat("netem attributes: ", nl_geterror(err)));
    }
  }
  auto get = [&](int type, void* out, size_t size) {
    if (tb[type] == nullptr || static_cast<size_t>(nla_len(tb[type])) < size) return false;
    std::memcpy(out, nla_data(tb[type]), size);
    return true;
  };
  tc_netem_corr corr;
  if (get(TCA_NETEM_CORR, &corr, sizeof corr)) {
    p.delay_correlation = FromProb(corr.delay_corr);
    p.loss_correlation = FromProb(corr.loss_corr);
  }
  tc_netem_reorder reorder;
  if (get(TCA_NETEM_REORDER, &reorder, sizeof reorder)) p.reorder = FromProb(reorder.probability);
  if (p.reorder == 0) p.reorder_gap = 0;
  tc_netem_corrupt corrupt;
  if (get(TCA_NETEM_CORRUPT, &corrupt, sizeof corrupt)) p.corrupt = FromProb(corrupt.probability);
  tc_netem_rate rate;
  if (get(TCA_NETEM_RATE, &rate, sizeof rate)) p.rate_bytes_per_s = rate.rate;
  uint64_t u64;
  if (get(TCA_NETEM_RATE64, &u64, sizeof u64)) p.rate_bytes_per_s = u64;
  int64_t ns;
  if (get(TCA_NETEM_LATENCY64, &ns, sizeof ns)) p.delay_us = static_cast<uint64_t>(ns) / 1000;
  if (get(TCA_NETEM_JITTER64, &ns, sizeof ns)) p.jitter_us = static_cast<uint64_t>(ns) / 1000;
  if (get(kTcaNetemPrngSeed, &u64, sizeof u64)) p.seed = u64;
  if (tb[TCA_NETEM_LOSS] != nullptr) {
    nlattr* loss[NETEM_LOSS_MAX + 1] = {};
    if (nla_parse_nested(loss, NETEM_LOSS_MAX, tb[TCA_NETEM_LOSS], nullptr) == 0 &&
        loss[NETEM_LOSS_GE] != nullptr &&
        static_cast<size_t>(nla_len(loss[NETEM_LOSS_GE])) >= sizeof(tc_netem_gemodel)) {
      tc_netem_gemodel ge;
      std::memcpy(&ge, nla_data(loss[NETEM_LOSS_GE]), sizeof ge);
      p.ge_p = FromProb(ge.p);
      p.ge_r = FromProb(ge.r);
      p.ge_h = FromProb(ge.h);
      p.ge_k = FromProb(ge.k1);
    }
  }
  return p;
}

namespace {

using Sock = std::unique_ptr<nl_sock, void (*)(nl_sock*)>;

absl::StatusOr<Sock> Connect() {
  Sock sk(nl_socket_alloc(), nl_socket_free);
  if (!sk) return absl::ResourceExhaustedError("nl_socket_alloc");
  if (int err = nl_connect(sk.get(), NETLINK_ROUTE); err < 0) {
    return absl::UnavailableError(absl::StrCat("cannot open rtnetlink: ", nl_geterror(err)));
  }
  return sk;
}

absl::StatusOr<int> IfIndex(const std::string& iface) {
  unsigned int index = if_nametoindex(iface.c_str());
  if (index == 0) return absl::NotFoundError(absl::StrCat("no interface ", iface));
  return static_cast<int>(index);
}

// What a dump of a NIC's qdiscs and filters shows of ours.
struct Dump {
  int ifindex;
  std::string root_kind;
  uint32_t root_handle = 0;
  absl::StatusOr<NetemParams> root_netem = absl::NotFoundError("no root netem");
  absl::StatusOr<NetemParams> scoped_netem = absl::NotFoundError("no netem below 1:3");
  std::vector<std::pair<uint16_t, bool>> port_filters;
};

absl::StatusOr<NetemParams> NetemOf(nlattr* options) {
  if (options == nullptr) return absl::DataLossError("netem without options");
  return ParseNetemOptions(nla_data(options), static_cast<size_t>(nla_len(options)));
}

int OnQdisc(nl_msg* msg, void* arg) {
  auto* d = static_cast<Dump*>(arg);
  nlmsghdr* hdr = nlmsg_hdr(msg);
  auto* tc = static_cast<tcmsg*>(nlmsg_data(hdr));
  nlattr* tb[TCA_MAX + 1];
  if (tc->tcm_ifindex != d->ifindex || nlmsg_parse(hdr, sizeof(tcmsg), tb, TCA_MAX, nullptr) < 0) {
    return NL_OK;
  }
  std::string kind = tb[TCA_KIND] != nullptr ? nla_get_string(tb[TCA_KIND]) : "";
  if (tc->tcm_parent == TC_H_ROOT) {
    d->root_kind = kind;
    d->root_handle = tc->tcm_handle;
    if (kind == "netem") d->root_netem = NetemOf(tb[TCA_OPTIONS]);
  } else if (tc->tcm_parent == kScopedNetemParent && kind == "netem") {
    d->scoped_netem = NetemOf(tb[TCA_OPTIONS]);
  }
  return NL_OK;
}

int OnFilter(nl_msg* msg, void* arg) {
  auto* d = static_cast<Dump*>(arg);
  nlmsghdr* hdr = nlmsg_hdr(msg);
  nlattr* tb[TCA_MAX + 1];
  if (nlmsg_parse(hdr, sizeof(tcmsg), tb, TCA_MAX, nullptr) < 0 || tb[TCA_KIND] == nullptr ||
      std::string(nla_get_string(tb[TCA_KIND])) != "u32" || tb[TCA_OPTIONS] == nullptr) {
    return NL_OK;
  }
  if (auto f = ParsePortFilter(nla_data(tb[TCA_OPTIONS]),
                               static_cast<size_t>(nla_len(tb[TCA_OPTIONS])))) {
    d->port_filters.push_back(*f);
  }
  return NL_OK;
}

absl::Status Send(nl_sock* sk, NlMsg msg, const std::string& what) {
  int err = nl_send_auto(sk, msg.get());
  if (err >= 0) err = nl_wait_for_ack(sk);
  if (err < 0) return absl::FailedPreconditionError(absl::StrCat(what, ": ", nl_geterror(err)));
  return absl::OkStatus();
}

absl::Status DumpInto(nl_sock* sk, int type, uint32_t parent, nl_recvmsg_msg_cb_t cb, Dump& d,
                      const std::string& what) {
  nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, cb, &d);
  tcmsg tc{};
  tc.tcm_family = AF_UNSPEC;
  tc.tcm_ifindex = d.ifindex;
  tc.tcm_parent = parent;
  int err = nl_send_simple(sk, type, NLM_F_DUMP, &tc, sizeof tc);
  if (err >= 0) err = nl_recvmsgs_default(sk);
  if (err < 0) return absl::UnavailableError(absl::StrCat("cannot list ", what, ": ", nl_geterror(err)));
  return absl::OkStatus();
}

// Whether the root qdisc is one we put there: a bare netem, or our prio.
bool Ours(const Dump& d) {
  return d.root_kind == "netem" || (d.root_kind == "prio" && d.root_handle == kRootHandle &&
                                    d.scoped_netem.status().code() != absl::StatusCode::kNotFound);
}

absl::StatusOr<Dump> DumpNic(nl_sock* sk, int ifindex, const std::string& iface) {
  Dump d{ifindex};
  if (absl::Status s = DumpInto(sk, RTM_GETQDISC, 0, OnQdisc, d, "qdiscs of " + iface); !s.ok()) {
    return s;
  }
  if (d.root_kind == "prio" && d.root_handle == kRootHandle) {
    if (absl::Status s =
            DumpInto(sk, RTM_GETTFILTER, kRootHandle, OnFilter, d, "filters of " + iface);
        !s.ok()) {
      return s;
    }
  }
  return d;
}

struct Nic {
  Sock sk;
  int ifindex;
};

absl::StatusOr<Nic> OpenNic(const std::string& iface) {
  auto index = IfIndex(iface);
  if (!index.ok()) return index.status();
  auto sk = Connect();
  if (!sk.ok()) return sk.status();
  return Nic{std::move(*sk), *index};
}

absl::Status RemoveRoot(Nic& nic, const std::string& iface) {
  return Send(nic.sk.get(), TcRequest(RTM_DELQDISC, 0, nic.ifindex, TC_H_ROOT, 0),
              absl::StrCat("removing netem from ", iface));
}

}  // namespace

absl::Status ApplyNetem(const std::string& iface, const NetemParams& p, uint16_t tcp_port) {
  if (absl::Status s = Validate(p); !s.ok()) return s;
  if (absl::Status s = RevertNetem(iface); !s.ok()) return s;
  auto nic = OpenNic(iface);
  if (!nic.ok()) return nic.status();
  nl_sock* sk = nic->sk.get();
  const std::string what = absl::StrCat("netem on ", iface);
  if (tcp_port == 0) return Send(sk, BuildNetemRequest(nic->ifindex, p), what);
  absl::Status s = Send(sk, BuildPrioRootRequest(nic->ifindex), what + " (prio root)");
  if (s.ok()) s = Send(sk, BuildNetemRequest(nic->ifindex, p, kScopedNetemParent), what);
  for (bool source : {false, true}) {
    if (s.ok()) {
      s = Send(sk, BuildPortFilterRequest(nic->ifindex, tcp_port, source),
               absl::StrCat(what, " (u32 filter on port ", tcp_port, ")"));
    }
  }
  if (!s.ok()) RemoveRoot(*nic, iface).IgnoreError();  // half a scope would shape nothing
  return s;
}

absl::StatusOr<std::optional<NetemInEffect>> ReadNetem(const std::string& iface) {
  auto nic = OpenNic(iface);
  if (!nic.ok()) return nic.status();
  auto d = DumpNic(nic->sk.get(), nic->ifindex, iface);
  if (!d.ok()) return d.status();
  if (d->root_kind == "netem") {
    if (!d->root_netem.ok()) return d->root_netem.status();
    return std::optional<NetemInEffect>(NetemInEffect{*d->root_netem, 0});
  }
  if (!Ours(*d)) return std::optional<NetemInEffect>();
  if (!d->scoped_netem.ok()) return d->scoped_netem.status();
  // Both directions of the port, and nothing else: else the scope is broken.
  std::optional<uint16_t> port;
  bool src = false, dst = false;
  for (const auto& [p, source] : d->port_filters) {
    if (port && *port != p) {
      return absl::DataLossError(absl::StrCat("netem on ", iface, " is scoped to ports ", *port,
                                              " and ", p, " at once"));
    }
    port = p;
    (source ? src : dst) = true;
  }
  if (!port || !src || !dst) {
    return absl::DataLossError(absl::StrCat(
        "netem on ", iface, " hangs below prio 1:3 without its source and destination port filters"));
  }
  return std::optional<NetemInEffect>(NetemInEffect{*d->scoped_netem, *port});
}

absl::Status RevertNetem(const std::string& iface) {
  auto nic = OpenNic(iface);
  if (!nic.ok()) return nic.status();
  auto d = DumpNic(nic->sk.get(), nic->ifindex, iface);
  if (!d.ok()) return d.status();
  if (!Ours(*d)) return absl::OkStatus();  // nothing of ours there
  return RemoveRoot(*nic, iface);
}

}  // namespace swapchaos::faults
