#!/usr/bin/env bash
# Reproduces the numbers in docs/PERFORMANCE.md: the Google Benchmark programs in bench/
# and the CLI's own events_per_second on spinlock-contention. Run on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/release/smpemu_bench ] || { cmake --preset release && cmake --build --preset release; }

echo "== host"
lscpu | grep -E "Model name|^CPU\(s\)|Thread\(s\) per core" || true
echo "== google benchmark (median of 5)"
./build/release/smpemu_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true 2>&1 |
  grep -E "median|Run on"
echo "== smpemu run --json: events_per_second (spinlock-contention, 20M cycles)"
for lock in ticket mcs; do
  for cpus in 8 48 64; do
    eps=$(./build/release/smpemu run spinlock-contention --cpus "$cpus" --set lock="$lock" \
          --set duration=20000000 --json | grep -o '"events_per_second": [0-9.e+]*' | cut -d' ' -f2)
    printf "  %-6s %3d CPUs  %12.0f events/s\n" "$lock" "$cpus" "$eps"
  done
done
