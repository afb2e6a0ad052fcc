#!/bin/bash
# A real run's swap throughput with two agents, in one session: the same
# no-fault run of the 2012 test's workload (256 MiB victim, 1 vCPU, tasks
# over twice its RAM, read twice, every page checked on every touch) with
# agent A and agent B alternately, N times each, on the default kernel.
# Prints per run the pages the workload touched per second of workload and
# the pages swapped in and out per second, then the medians and B/A.
# Written to measure the whole-page check against the sparse one (issue
# 10): build the older agent from its commit and pass both.
#
#   bench/swap_throughput.sh AGENT_A AGENT_B [N]     # ~3 min a run on TCG
#   OUT=DIR bench/swap_throughput.sh ...
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 2 ]] || { echo "usage: $0 AGENT_A AGENT_B [N]" >&2; exit 2; }
a=$(realpath "$1") b=$(realpath "$2") n=${3:-2}
out=${OUT:-runs/swap-throughput-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
cat > "$out/throughput.yaml" <<'YAML'
name: swap-throughput
description: the 2012 test's read workload with no fault, to time swap throughput
vm: {memory_mib: 256, cpus: 1}
swap: {size_mib: 1024}
workload: {procs_per_cpu: 4, ram_multiple: 2, passes: 2, write: false}
oracles: {grace_s: 30}
deadline_s: 900
YAML

# Pages touched, pswpin and pswpout per second of workload, from a run's files.
rates() {
  python3 - "$1" <<'PY'
import json, sys
d = sys.argv[1]
samples = [json.loads(l) for l in open(d + "/telemetry.jsonl")]
first, last = samples[0], samples[-1]
secs = (int(last["uptime_ms"]) - int(first["uptime_ms"])) / 1000
pages = sum(int(t.get("pages", 0)) for t in last.get("tasks", []))
vm = lambda s, k: int(s["vmstat"].get(k, 0))
print("%.0f %.0f %.0f %.0f" % (secs, pages / secs, (vm(last, "pswpin") - vm(first, "pswpin")) / secs,
                               (vm(last, "pswpout") - vm(first, "pswpout")) / secs))
PY
}

printf "%-6s %-4s %-8s %-10s %-12s %-12s %s\n" agent run verdict workload_s pages/s pswpin/s pswpout/s
for i in $(seq 1 "$n"); do
  for which in A B; do
    agent=$a; [[ $which == B ]] && agent=$b
    dir="$out/$which-$i"
    build/bin/swapchaos run "$out/throughput.yaml" --seed "$i" --agent "$agent" --out "$dir" \
      > "$dir.log" 2>&1 || true
    verdict=$(python3 -c "import json;print(json.load(open('$dir/verdict.json'))['verdict'])" 2>/dev/null || echo error)
    read -r secs pages pin pout < <(rates "$dir")
    printf "%-6s %-4s %-8s %-10s %-12s %-12s %s\n" "$which" "$i" "$verdict" "$secs" "$pages" "$pin" "$pout"
    echo "$which $pages $pin $pout" >> "$out/rates"
  done
done
python3 - "$out/rates" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {w: [statistics.median(float(r[i]) for r in rows if r[0] == w) for i in (1, 2, 3)] for w in "AB"}
for w in "AB":
    print("median %s: %.0f pages/s, %.0f pswpin/s, %.0f pswpout/s" % (w, *med[w]))
print("B/A: pages %.3f, pswpin %.3f, pswpout %.3f" % tuple(b / a for a, b in zip(med["A"], med["B"])))
PY
