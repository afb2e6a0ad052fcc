#!/bin/bash
# Time to recover after heal: a cable pulled (QMP set_link off) for 10, 30,
# 60 and 180 s while the victim swaps, on the default kernel, one run each;
# "recovered" is from the heal to the first NBD request answered after it
# (verdict.json: recovered_after_s). Two places for the cut: the victim's
# own NIC (its carrier goes: the victim's TCP sees local drops) and the
# wire's NIC towards the server (the victim's TCP sees remote loss).
# Beside each, the bound TCP's retransmission backoff alone predicts: with a
# 200 ms initial RTO doubling up to 120 s, the first retransmission after
# the heal.
#
#   bench/recovery.sh                        # both places, all four cuts: ~50 min on TCG
#   CUTS="10 30" PLACES=wire bench/recovery.sh
#   OUT=DIR bench/recovery.sh                # where scenarios and runs go
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-runs/recovery-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"

# The first retransmission at or after `cut` seconds, minus `cut`.
tcp_bound() {
  awk -v cut="$1" 'BEGIN { t = 0; rto = 0.2;
    while (t < cut) { t += rto; rto = (rto * 2 > 120) ? 120 : rto * 2 }
    printf "%.1f", t - cut }'
}

printf "%-7s %-6s %-8s %-14s %-16s %s\n" place cut_s verdict recovered_s tcp_backoff_s signature
for place in ${PLACES:-victim wire}; do
for cut in ${CUTS:-10 30 60 180}; do
  case $place in
    victim) cable="{vm: victim, nic: data0}" ;;
    wire) cable="{vm: wire, nic: data1}" ;;
    *) echo "PLACES: victim or wire, not $place" >&2; exit 2 ;;
  esac
  name=$place-cut-$cut
  scenario="$out/$name.yaml"
  cat > "$scenario" <<YAML
name: recovery-$name
description: the $place's cable pulled for $cut s while the victim swaps
vm: {memory_mib: 384, cpus: 1}
swap: {size_mib: 1024}
workload: {procs_per_cpu: 4, ram_multiple: 1.25, passes: 3}
faults:
  - at_s: 20
    for_s: $cut
    cable_pull: $cable
oracles: {grace_s: 150}
deadline_s: $((20 + cut + 600))
YAML
  log="$out/$name.log"
  build/bin/swapchaos run "$scenario" --out "$out/$name" > "$log" 2>&1 || true
  recovered=$(sed -n 's/^recovered \(.*\) s after the last heal$/\1/p' "$log")
  verdict=$(sed -n 's/^verdict: \([a-z]*\).*/\1/p' "$log")
  signature=$(sed -n 's/^verdict: [a-z]* (\(.*\));.*/\1/p' "$log")
  printf "%-7s %-6s %-8s %-14s %-16s %s\n" "$place" "$cut" "${verdict:-error}" "${recovered:--}" \
    "$(tcp_bound "$cut")" "${signature:-}"
done
done
echo "runs in $out"
