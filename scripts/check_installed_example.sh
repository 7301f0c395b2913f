#!/usr/bin/env bash
# Builds and runs the example of docs/WRITING_A_WORKLOAD.md against an installed smpemu
# package (/usr, as the .deb installs it): copies /usr/share/doc/smpemu/examples,
# configures it with find_package(smpemu), builds it, and runs list, run and the doc's
# fuzz campaign (the planted bug is found, the correct variant is clean) and the
# installed /usr/bin/smpemu. Used by scripts/check_deb.sh (on this machine) and
# scripts/check_deb_fresh.sh (inside a fresh Debian 12 chroot).
#   scripts/check_installed_example.sh      exit 0 when everything works, 1 otherwise
set -euo pipefail
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp -r /usr/share/doc/smpemu/examples "$tmp/counters"
cmake -S "$tmp/counters" -B "$tmp/counters/build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$tmp/counters/build"
bin="$tmp/counters/build/counters"
"$bin" list > "$tmp/list.out"
grep -q '^  counters ' "$tmp/list.out" || { echo "check_installed_example: list does not show counters" >&2; exit 1; }
"$bin" run counters --cpus 4 --seed 1 > /dev/null
status=0
"$bin" fuzz counters --cpus 4 --set update=racy --runs 200 --jobs 2 > "$tmp/fuzz.out" || status=$?
cat "$tmp/fuzz.out"
[ "$status" = 1 ] && grep -q lost-update "$tmp/fuzz.out" ||
  { echo "check_installed_example: the planted bug was not found" >&2; exit 1; }
"$bin" fuzz counters --cpus 4 --runs 200 --jobs 2
/usr/bin/smpemu list > /dev/null
/usr/bin/smpemu run abba --cpus 2 > /dev/null || [ $? = 1 ]  # abba's lock-order warning exits 1
echo "check_installed_example: examples/ builds and runs against the installed package"
