#!/usr/bin/env bash
# Checks the Debian package end to end (as root, on Debian 12; it changes the system):
# builds the .deb from the Release build with cpack, installs it with apt-get, builds
# examples/ against /usr with find_package(smpemu), runs list, run and the fuzz campaign
# of docs/WRITING_A_WORKLOAD.md (the planted bug is found, the correct variant is clean),
# then removes the package again (also on failure).
#   scripts/check_deb.sh [BUILD_DIR]     (default build/release, built already)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
[ "$(id -u)" = 0 ] || { echo "check_deb: run as root (apt-get install)" >&2; exit 2; }
dpkg-query -W -f='${Status}' smpemu 2>/dev/null | grep -q "install ok installed" &&
  { echo "check_deb: smpemu is installed already; remove it first (apt-get remove smpemu)" >&2; exit 2; }

(cd "$build" && rm -f smpemu_*.deb && cpack -G DEB)
deb="$(ls "$PWD/$build"/smpemu_*.deb)"
dpkg-deb --info "$deb" | grep -E "Package|Version|Depends"
tmp="$(mktemp -d)"
cleanup() {
  DEBIAN_FRONTEND=noninteractive apt-get remove -y smpemu > /dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb"

cp -r /usr/share/doc/smpemu/examples "$tmp/counters"
cmake -S "$tmp/counters" -B "$tmp/counters/build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$tmp/counters/build"
bin="$tmp/counters/build/counters"
"$bin" list > "$tmp/list.out"
grep -q '^  counters ' "$tmp/list.out" || { echo "check_deb: list does not show counters" >&2; exit 1; }
"$bin" run counters --cpus 4 --seed 1 > /dev/null
status=0
"$bin" fuzz counters --cpus 4 --strategy random --set update=racy --runs 200 --jobs 2 > "$tmp/fuzz.out" || status=$?
cat "$tmp/fuzz.out"
[ "$status" = 1 ] && grep -q lost-update "$tmp/fuzz.out" || { echo "check_deb: the planted bug was not found" >&2; exit 1; }
"$bin" fuzz counters --cpus 4 --strategy random --runs 200 --jobs 2
/usr/bin/smpemu list > /dev/null
echo "check_deb: $(basename "$deb") installs, and examples/ builds and runs against it"
