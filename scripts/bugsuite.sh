#!/usr/bin/env bash
# Runs the bug suite (workloads/suite/, docs/BUGSUITE.md) under a list of scheduling
# strategies and prints a markdown table: per program its threads, depth, scheduling
# steps (of one `time` run), PCT's probability bound, and per strategy the runs to the
# first bug (`fuzz --stop-on-first`) and the hit rate over --runs seeds.
#
#   scripts/bugsuite.sh [--runs N] [--jobs J] [--strategies "S ..."] [--extra "S ..."]
#                       [--programs "suite-a suite-b"] [--binary PATH] [--pct-k steps|as-is]
#
#   --strategies  the strategy list (default: time random pct:1 pct:2 pct:3); `default`
#                 runs fuzz without --strategy (its default portfolio)
#   --extra       more strategies after the list (e.g. "pos delay:2")
#   --pct-k       steps (default): a bare pct:D runs as pct:D:K with K the program's
#                 steps; as-is: passed on unchanged (for a binary that resolves K itself)
#
# Steps are the `steps` of `smpemu run --json` when the binary prints them, else its
# `events` (visible events: one scheduling decision each). PCT's bound is
# 1/(n k^(d-1)) with k those steps and n the CPUs that run the program's tasks,
# min(threads, CPUs): this engine's PCT gives priorities to CPUs, not to tasks.
# Exit status 0, or 2 on a usage error or a failed command.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
runs=10000
jobs=2
strategies="time random pct:1 pct:2 pct:3"
extra=""
programs=""
binary="$here/build/release/smpemu"
pct_k=steps

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --strategies) strategies=$2; shift 2 ;;
    --extra) extra=$2; shift 2 ;;
    --programs) programs=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --pct-k) pct_k=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "bugsuite.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
case "$pct_k" in steps|as-is) ;; *) echo "bugsuite.sh: --pct-k is steps or as-is" >&2; exit 2 ;; esac
[ -x "$binary" ] || { echo "bugsuite.sh: no smpemu at $binary (build it, or give --binary)" >&2; exit 2; }
list="$here/workloads/suite/programs.txt"
all=$(awk '!/^#/ && NF { print $1 }' "$list")
[ -n "$programs" ] || programs=$all
strategies="$strategies $extra"

# Reads one field of the JSON on stdin (python3: no jq needed).
json_field() { python3 -c 'import json,sys; j=json.load(sys.stdin); v=j.get(sys.argv[1]); print("" if v is None else v)' "$1"; }

cpus=$("$binary" run suite-account --json | json_field cpus)
header="| program | threads | depth | steps | PCT bound |"
rule="|---|---:|---:|---:|---:|"
for s in $strategies; do header="$header $s |"; rule="$rule---:|"; done
echo "$header"
echo "$rule"
for p in $programs; do
  read -r threads depth < <(awk -v p="$p" '$1 == p { print $2, $3 }' "$list")
  [ -n "${threads:-}" ] || { echo "bugsuite.sh: $p is not in $list" >&2; exit 2; }
  run_json=$("$binary" run "$p" --json) || true  # exit 1 if seed 1 finds the bug
  steps=$(echo "$run_json" | json_field steps)
  [ -n "$steps" ] || steps=$(echo "$run_json" | json_field events)
  n=$(( threads < cpus ? threads : cpus ))
  bound=$(python3 -c "import sys; n,k,d=map(int,sys.argv[1:]); print('1/%d' % (n*k**(d-1)))" "$n" "$steps" "$depth")
  row="| $p | $threads | $depth | $steps | $bound |"
  for s in $strategies; do
    spec=$s
    if [ "$pct_k" = steps ] && [[ "$s" =~ ^pct:[0-9]+$ ]]; then spec="$s:$steps"; fi
    strategy=(--strategy "$spec")
    [ "$s" = default ] && strategy=()
    first=$("$binary" fuzz "$p" --runs "$runs" --jobs "$jobs" "${strategy[@]}" --stop-on-first --json \
              | json_field first_bug_run) || true
    hits=$("$binary" fuzz "$p" --runs "$runs" --jobs "$jobs" "${strategy[@]}" --json | json_field bugs_found) || true
    [ -n "$hits" ] || { echo "bugsuite.sh: fuzz $p --strategy $spec failed" >&2; exit 2; }
    rate=$(python3 -c "import sys; print('%.2f%%' % (100.0*int(sys.argv[1])/int(sys.argv[2])))" "$hits" "$runs")
    row="$row ${first:--} / $rate |"
  done
  echo "$row"
done
