#include "faults/netem.h"

#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace swapchaos::faults {
namespace {

// Added in Linux 6.3, after the last attribute Debian 12's headers know.
constexpr int kTcaNetemPrngSeed = TCA_NETEM_SLOT_DIST + 1;
constexpr int kNetemAttrMax = kTcaNetemPrngSeed;
constexpr uint32_t kRootHandle = 0x10000;  // 1:0

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

NlMsg BuildNetemRequest(int ifindex, const NetemParams& p) {
  NlMsg msg(nlmsg_alloc_simple(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE));
  tcmsg tc{};
  tc.tcm_family = AF_UNSPEC;
  tc.tcm_ifindex = ifindex;
  tc.tcm_handle = kRootHandle;
  tc.tcm_parent = TC_H_ROOT;
  nlmsg_append(msg.get(), &tc, sizeof tc, NLMSG_ALIGNTO);
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

struct RootQdisc {
  int ifindex;
  bool found = false;
  std::string kind;
  absl::StatusOr<NetemParams> netem = absl::NotFoundError("not netem");
};

int OnQdisc(nl_msg* msg, void* arg) {
  auto* root = static_cast<RootQdisc*>(arg);
  nlmsghdr* hdr = nlmsg_hdr(msg);
  auto* tc = static_cast<tcmsg*>(nlmsg_data(hdr));
  if (tc->tcm_ifindex != root->ifindex || tc->tcm_parent != TC_H_ROOT) return NL_OK;
  nlattr* tb[TCA_MAX + 1];
  if (nlmsg_parse(hdr, sizeof(tcmsg), tb, TCA_MAX, nullptr) < 0) return NL_OK;
  root->found = true;
  root->kind = tb[TCA_KIND] != nullptr ? nla_get_string(tb[TCA_KIND]) : "";
  if (root->kind == "netem" && tb[TCA_OPTIONS] != nullptr) {
    root->netem =
        ParseNetemOptions(nla_data(tb[TCA_OPTIONS]), static_cast<size_t>(nla_len(tb[TCA_OPTIONS])));
  }
  return NL_OK;
}

absl::Status Send(nl_sock* sk, NlMsg msg, const std::string& what) {
  int err = nl_send_auto(sk, msg.get());
  if (err >= 0) err = nl_wait_for_ack(sk);
  if (err < 0) return absl::FailedPreconditionError(absl::StrCat(what, ": ", nl_geterror(err)));
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyNetem(const std::string& iface, const NetemParams& p) {
  if (absl::Status s = Validate(p); !s.ok()) return s;
  auto index = IfIndex(iface);
  if (!index.ok()) return index.status();
  auto sk = Connect();
  if (!sk.ok()) return sk.status();
  return Send(sk->get(), BuildNetemRequest(*index, p), absl::StrCat("netem on ", iface));
}

absl::StatusOr<std::optional<NetemParams>> ReadNetem(const std::string& iface) {
  auto index = IfIndex(iface);
  if (!index.ok()) return index.status();
  auto sk = Connect();
  if (!sk.ok()) return sk.status();
  RootQdisc root{*index};
  nl_socket_modify_cb(sk->get(), NL_CB_VALID, NL_CB_CUSTOM, OnQdisc, &root);
  tcmsg tc{};
  tc.tcm_family = AF_UNSPEC;
  tc.tcm_ifindex = *index;
  int err = nl_send_simple(sk->get(), RTM_GETQDISC, NLM_F_DUMP, &tc, sizeof tc);
  if (err >= 0) err = nl_recvmsgs_default(sk->get());
  if (err < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot list qdiscs of ", iface, ": ", nl_geterror(err)));
  }
  if (!root.found || root.kind != "netem") return std::optional<NetemParams>();
  if (!root.netem.ok()) return root.netem.status();
  return std::optional<NetemParams>(*root.netem);
}

absl::Status RevertNetem(const std::string& iface) {
  auto current = ReadNetem(iface);
  if (!current.ok()) return current.status();
  if (!current->has_value()) return absl::OkStatus();  // nothing of ours there
  auto index = IfIndex(iface);
  if (!index.ok()) return index.status();
  auto sk = Connect();
  if (!sk.ok()) return sk.status();
  NlMsg msg(nlmsg_alloc_simple(RTM_DELQDISC, 0));
  tcmsg tc{};
  tc.tcm_family = AF_UNSPEC;
  tc.tcm_ifindex = *index;
  tc.tcm_parent = TC_H_ROOT;
  nlmsg_append(msg.get(), &tc, sizeof tc, NLMSG_ALIGNTO);
  return Send(sk->get(), std::move(msg), absl::StrCat("removing netem from ", iface));
}

}  // namespace swapchaos::faults
