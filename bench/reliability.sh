#!/bin/bash
# Reliability of a campaign whose controller is killed: RUNS runs of
# testing/scenarios/quick.yaml (seeds 1..RUNS) as one campaign, its
# controller SIGKILLed at KILLS random moments (each 5..MAX_GAP s after it
# was started, the moments drawn from SEED so a rerun kills alike) and
# started again with the same file until the campaign ends. Then:
#   - runs lost: seeds with no finished run in the store (0 wanted);
#   - counted twice: store rows beyond one per seed, plus run directories
#     holding a verdict the store does not point at (0 wanted);
#   - left behind, against a snapshot taken before: processes (QEMU,
#     nbd-server, anything naming the bench's directory), network
#     namespaces, host links (taps), mounts, and run work directories
#     (swapchaos-XXXXXX) or output files in $TMPDIR or /tmp made during the
#     bench (0 each wanted).
# Needs a built tree (./setup) and jq; ~35 min on a 2-core TCG host.
#
#   bench/reliability.sh                     # 20 runs, 10 kills
#   RUNS=6 KILLS=3 bench/reliability.sh      # a shorter look
#   OUT=DIR SEED=N MAX_GAP=S bench/reliability.sh
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-20} kills=${KILLS:-10} max_gap=${MAX_GAP:-120}
RANDOM=${SEED:-1}
out=$(realpath -m "${OUT:-runs/reliability-$(date -u +%Y%m%d-%H%M%S)}")
cli=build/bin/swapchaos
command -v jq > /dev/null || { echo "bench/reliability.sh needs jq (apt-get install jq)" >&2; exit 2; }
[ -x "$cli" ] || { echo "no $cli: run ./setup first" >&2; exit 2; }
mkdir -p "$out"
store="$out/store.db"
cat > "$out/campaign.yaml" <<YAML
name: reliability
scenarios: [$PWD/testing/scenarios/quick.yaml]
seeds: {count: $runs}
YAML

# What is on the host now, one count per line: compared before and after.
tmp_base=${TMPDIR:-/tmp}
touch "$out/.since"
snapshot() {
  local procs=0 p cmd
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' < "$p/cmdline" 2> /dev/null) || continue
    case $cmd in
      *qemu-system*|*nbd-server*|*"$out"*) [[ $cmd == *reliability.sh* ]] || procs=$((procs + 1)) ;;
    esac
  done
  echo "processes $procs"
  echo "netns $(readlink /proc/[0-9]*/ns/net 2> /dev/null | sort -u | wc -l)"
  echo "links $(ip -o link show | wc -l)"
  echo "mounts $(wc -l < /proc/self/mounts)"
  echo "temp_files $(find "$tmp_base" /tmp -maxdepth 1 -newer "$out/.since" -regextype egrep \
    -regex '.*/swapchaos-([A-Za-z0-9]{6}|output-.*)' 2> /dev/null | sort -u | wc -l)"
}
snapshot > "$out/before.txt"

start=$SECONDS
for ((k = 1; k <= kills; k++)); do
  gap=$((5 + RANDOM % (max_gap - 4)))
  "$cli" campaign "$out/campaign.yaml" --store "$store" --runs "$out/runs" \
    >> "$out/controller.log" 2>&1 &
  pid=$! started=$SECONDS
  while ((SECONDS - started < gap)) && kill -0 "$pid" 2> /dev/null; do sleep 0.5; done
  if kill -KILL "$pid" 2> /dev/null; then
    wait "$pid" 2> /dev/null || true
    echo "kill $k: SIGKILL $((SECONDS - started)) s after start ($((SECONDS - start)) s in)"
  else
    wait "$pid" 2> /dev/null || true
    echo "kill $k: the campaign had ended before ${gap} s"
  fi
  echo "=== SIGKILL $k" >> "$out/controller.log"
done
rc=0
"$cli" campaign "$out/campaign.yaml" --store "$store" --runs "$out/runs" \
  >> "$out/controller.log" 2>&1 || rc=$?
wall=$((SECONDS - start))
sleep 2  # the last children's exit reaches /proc
snapshot > "$out/after.txt"

"$cli" campaign status --store "$store" --json > "$out/status.json"
jq -r '.campaigns[0].runs[] | [.seed, .status, .verdict, .attempts, .dir] | @tsv' \
  "$out/status.json" > "$out/rows.tsv"
rows=$(wc -l < "$out/rows.tsv")
finished=$(awk -F'\t' '$2 == "done" || $2 == "error"' "$out/rows.tsv" | cut -f1 | sort -un | wc -l)
seeds=$(cut -f1 "$out/rows.tsv" | sort -un | wc -l)
attempts=$(awk -F'\t' '{ s += $4 } END { print s + 0 }' "$out/rows.tsv")
stray=0
for v in "$out"/runs/*/verdict.json; do
  [ -e "$v" ] || continue
  cut -f5 "$out/rows.tsv" | grep -qxF "$(dirname "$v")" || stray=$((stray + 1))
done

echo
echo "campaign of $runs runs, $kills SIGKILLs, $wall s; last controller exit $rc"
printf "%-26s %s\n" "runs finished" "$finished / $runs" \
  "runs lost" "$((runs - finished))" \
  "counted twice" "$((rows - seeds + stray))" \
  "attempts (runs re-run)" "$attempts ($((attempts - rows)))" \
  "verdicts" "$(cut -f3 "$out/rows.tsv" | sort | uniq -c | awk '{ printf "%s %s ", $1, $2 }')"
echo "left behind (after - before):"
paste "$out/before.txt" "$out/after.txt" | awk '{ printf "  %-24s %d\n", $1, $4 - $2 }'
echo "results in $out"
