#!/usr/bin/env bash
# ctest Suite.EveryProgramIsFound (label `suite`; docs/BUGSUITE.md): every program of
# workloads/suite/programs.txt is found by random, pct:2 or pct:3 (K = its steps)
# within 10000 runs (fuzz --stop-on-first), and those listed `clean` run clean under
# `--strategy time` on seed 1.
#   tests/bugsuite_test.sh SMPEMU_BINARY SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
fail=0
field() { python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$1"; }
while read -r p threads depth time; do
  case "$p" in ''|'#'*) continue ;; esac
  out=$("$bin" run "$p" --json); rc=$?
  if [ "$time" = clean ] && [ $rc -ne 0 ]; then echo "FAIL $p: --strategy time seed 1 exits $rc"; fail=1; fi
  steps=$(echo "$out" | field steps)
  [ -n "$steps" ] || steps=$(echo "$out" | field events)
  found=""
  for s in random "pct:2:$steps" "pct:3:$steps"; do
    first=$("$bin" fuzz "$p" --runs 10000 --jobs 2 --strategy "$s" --stop-on-first --json | field first_bug_run)
    if [ -n "$first" ]; then found="$s at seed $first"; break; fi
  done
  if [ -z "$found" ]; then echo "FAIL $p: no strategy finds the bug in 10000 runs"; fail=1; else echo "ok   $p: $found"; fi
done < "$src/workloads/suite/programs.txt"
exit $fail
