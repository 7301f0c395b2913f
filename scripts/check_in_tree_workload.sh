#!/usr/bin/env bash
# Checks the in-tree route of docs/WRITING_A_WORKLOAD.md: a workload file dropped into
# workloads/ is built into smpemu with no other edit. Copies examples/counters.cc to
# workloads/zz_example_counters.cc, rebuilds BUILD_DIR (the CMake glob picks the file
# up), runs `smpemu list`, a clean run and the doc's fuzz campaign of the planted bug,
# then removes the file and rebuilds again (also on failure), leaving the tree as it was.
#   scripts/check_in_tree_workload.sh [BUILD_DIR]   (default build/release, configured)
# Exit 0 when the workload is listed, runs clean and its planted bug is found; 1 if not;
# 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
[ -f "$build/CMakeCache.txt" ] || { echo "check_in_tree_workload: no build in $build" >&2; exit 2; }
file=workloads/zz_example_counters.cc
[ -e "$file" ] && { echo "check_in_tree_workload: $file exists already" >&2; exit 2; }
cleanup() {
  rm -f "$file"
  cmake --build "$build" > /dev/null
}
trap cleanup EXIT
cp examples/counters.cc "$file"
cmake --build "$build" > /dev/null
bin="$build/smpemu"
# Not `list | grep -q`: grep -q stops reading at its first match, and under pipefail the
# SIGPIPE that smpemu then takes on its next write fails the check (CI stop 34).
listing=$("$bin" list)
grep -q '^  counters ' <<< "$listing" || { echo "check_in_tree_workload: list does not show counters" >&2; exit 1; }
"$bin" run counters --cpus 4 --seed 1 > /dev/null
status=0
out=$("$bin" fuzz counters --cpus 4 --set update=racy --runs 200 --jobs 2) || status=$?
echo "$out"
[ "$status" = 1 ] && grep -q lost-update <<< "$out" ||
  { echo "check_in_tree_workload: the planted bug was not found" >&2; exit 1; }
"$bin" fuzz counters --cpus 4 --runs 200 --jobs 2 > /dev/null
echo "check_in_tree_workload: a file dropped into workloads/ builds into smpemu and runs"
