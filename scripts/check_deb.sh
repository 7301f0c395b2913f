#!/usr/bin/env bash
# Checks the Debian package end to end (as root, on Debian 12; it changes the system):
# builds the .deb from the Release build with cpack, installs it with apt-get, runs
# scripts/check_installed_example.sh (examples/ built against /usr with
# find_package(smpemu): list, run and the fuzz campaign of docs/WRITING_A_WORKLOAD.md),
# then removes the package again (also on failure). On a fresh Debian 12 instead of this
# machine: scripts/check_deb_fresh.sh.
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
cleanup() { DEBIAN_FRONTEND=noninteractive apt-get remove -y smpemu > /dev/null || true; }
trap cleanup EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb"
scripts/check_installed_example.sh
echo "check_deb: $(basename "$deb") installs, and examples/ builds and runs against it"
