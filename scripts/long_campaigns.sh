#!/usr/bin/env bash
# Long fuzz campaigns with the default settings (the default portfolio strategy and the
# default per-run limits of `smpemu fuzz`), run in shards so a campaign of hours can be
# spread over several sittings and machines, then merged. Shows that every campaign ends
# by itself, and with what: runs with bugs, runs stopped by --max-cycles or --run-timeout
# (docs/USAGE.md, "Per-run limits"), runs/s.
#
#   scripts/long_campaigns.sh [--runs N] [--shards S] [--jobs J] [--dir DIR]
#                             [--binary PATH] [WORKLOAD...]
#
#   --runs    runs per workload (default 100000)
#   --shards  shards per workload (default: one per 10000 runs)
#   --dir     where shard files go (default build/campaigns); DIR/<workload>/<k>.json.
#             A shard whose file exists is not run again: rerun the script to resume.
#   WORKLOAD  default: every workload `smpemu list` prints
#
# Prints a markdown table, one row per workload: runs, runs with bugs, distinct
# signatures, time- and host-limited runs, host seconds (summed over shards). Exit status
# 0 when every campaign ran to its end (whatever it found); 2 on a usage error, a failed
# command, or shard files in DIR that belong to another campaign (other --runs, another
# binary: merge refuses them; remove DIR/<workload> to start again).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
runs=100000
shards=""
jobs=2
dir="$here/build/campaigns"
binary="$here/build/release/smpemu"

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
workloads=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "long_campaigns: unknown option '$1'" >&2; usage ;;
    *) workloads+=("$1"); shift ;;
  esac
done
for n in "$runs" "$jobs" ${shards:+"$shards"}; do
  case "$n" in ''|*[!0-9]*|0) echo "long_campaigns: '$n' is not a positive number" >&2; exit 2 ;; esac
done
[ -n "$shards" ] || shards=$(( (runs + 9999) / 10000 ))
[ -x "$binary" ] || { echo "long_campaigns: no binary at $binary (build first)" >&2; exit 2; }
if [ "${#workloads[@]}" -eq 0 ]; then
  mapfile -t workloads < <("$binary" list | sed -n '/^workloads:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
fi

printf '| workload | runs | with bugs | signatures | time-limited | host-limited | host s |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
for w in "${workloads[@]}"; do
  mkdir -p "$dir/$w"
  for k in $(seq 1 "$shards"); do
    f="$dir/$w/$k.json"
    [ -s "$f" ] && continue
    # Exit 1 (bugs found) is a finished shard; anything else is a failure.
    status=0
    "$binary" fuzz "$w" --runs "$runs" --shard "$k/$shards" --jobs "$jobs" --json > "$f.tmp" || status=$?
    if [ "$status" -gt 1 ]; then
      echo "long_campaigns: fuzz $w shard $k/$shards exited $status" >&2
      rm -f "$f.tmp"
      exit 2
    fi
    mv "$f.tmp" "$f"
  done
  files=()
  for k in $(seq 1 "$shards"); do files+=("$dir/$w/$k.json"); done
  status=0
  merged=$("$binary" merge "${files[@]}" --json 2>/dev/null) || status=$?
  if [ "$status" -gt 1 ]; then
    "$binary" merge "${files[@]}" > /dev/null || true  # says why, on stderr
    echo "long_campaigns: the shards in $dir/$w do not merge (remove them to start again)" >&2
    exit 2
  fi
  python3 - "$w" "$merged" "$runs" "$dir/$w" <<'EOF' || exit 2
import json, sys
w, j, runs, where = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if j['campaign_runs'] != runs or not j['complete']:
    sys.exit(f"long_campaigns: the shards in {where} are of a {j['campaign_runs']}-run campaign, not {runs} runs "
             "(remove them to start again)")
print(f"| {w} | {j['runs']} | {j['bugs_found']} | {len(j['signatures'])} | {j['time_limited_runs']} "
      f"| {j['host_limited_runs']} | {j['host_seconds']:.0f} |")
EOF
done
