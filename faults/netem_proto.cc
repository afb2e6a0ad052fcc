#include "faults/netem_proto.h"

namespace swapchaos::faults {

NetemParams FromProto(const agent::Netem& n) {
  NetemParams p;
  if (n.limit() > 0) p.limit = n.limit();
  p.delay_us = n.delay_us();
  p.jitter_us = n.jitter_us();
  p.delay_correlation = n.delay_correlation();
  p.loss = n.loss();
  p.loss_correlation = n.loss_correlation();
  p.ge_p = n.ge_p();
  p.ge_r = n.ge_r();
  p.ge_h = 1 - n.ge_loss_bad();
  p.ge_k = 1 - n.ge_loss_good();
  p.duplicate = n.duplicate();
  p.corrupt = n.corrupt();
  p.reorder = n.reorder();
  p.reorder_gap = n.reorder_gap();
  p.rate_bytes_per_s = n.rate_bytes_per_s();
  if (n.has_seed()) p.seed = n.seed();
  return p;
}

agent::Netem ToProto(const NetemParams& p) {
  agent::Netem n;
  n.set_limit(p.limit);
  n.set_delay_us(p.delay_us);
  n.set_jitter_us(p.jitter_us);
  n.set_delay_correlation(p.delay_correlation);
  n.set_loss(p.loss);
  n.set_loss_correlation(p.loss_correlation);
  n.set_ge_p(p.ge_p);
  n.set_ge_r(p.ge_r);
  n.set_ge_loss_bad(1 - p.ge_h);
  n.set_ge_loss_good(1 - p.ge_k);
  n.set_duplicate(p.duplicate);
  n.set_corrupt(p.corrupt);
  n.set_reorder(p.reorder);
  n.set_reorder_gap(p.reorder_gap);
  n.set_rate_bytes_per_s(p.rate_bytes_per_s);
  if (p.seed) n.set_seed(*p.seed);
  return n;
}

}  // namespace swapchaos::faults
