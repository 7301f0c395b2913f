#!/usr/bin/env bash
# ctest Suite.EveryProgramIsFound (label `suite`; docs/BUGSUITE.md): the default fuzz
# campaign (no --strategy: the portfolio) finds every program of
# workloads/suite/programs.txt within 10000 runs (fuzz --stop-on-first), the median of
# those runs-to-first-bug is below the median of PCT's expected runs n*k^(d-1) (k = the
# program's steps, n = min(threads, CPUs)), and the programs listed `clean` run clean
# under `--strategy time` on seed 1.
#   tests/bugsuite_test.sh SMPEMU_BINARY SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
fail=0
field() { python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$1"; }
firsts=()
bounds=()
while read -r p threads depth time; do
  case "$p" in ''|'#'*) continue ;; esac
  out=$("$bin" run "$p" --strategy time --json); rc=$?
  if [ "$time" = clean ] && [ $rc -ne 0 ]; then echo "FAIL $p: --strategy time seed 1 exits $rc"; fail=1; fi
  steps=$(echo "$out" | field steps)
  cpus=$(echo "$out" | field cpus)
  if [ -z "$steps" ] || [ -z "$cpus" ]; then echo "FAIL $p: run --json has no steps or cpus"; fail=1; continue; fi
  n=$(( threads < cpus ? threads : cpus ))
  bound=$(python3 -c 'import sys; n,k,d=map(int,sys.argv[1:]); print(n*k**(d-1))' "$n" "$steps" "$depth")
  first=$("$bin" fuzz "$p" --runs 10000 --jobs 2 --stop-on-first --json | field first_bug_run)
  if [ -z "$first" ]; then
    echo "FAIL $p: the default campaign finds no bug in 10000 runs"
    fail=1
    first=10001
  else
    echo "ok   $p: first bug at seed $first (PCT expects $bound runs)"
  fi
  firsts+=("$first")
  bounds+=("$bound")
done < "$src/workloads/suite/programs.txt"
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mf=$(median "${firsts[@]}")
mb=$(median "${bounds[@]}")
if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$mf" "$mb"; then
  echo "ok   median runs to the first bug $mf < median PCT expectation $mb"
else
  echo "FAIL median runs to the first bug $mf is not below the median PCT expectation $mb"
  fail=1
fi
exit $fail
