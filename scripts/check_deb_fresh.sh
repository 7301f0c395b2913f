#!/usr/bin/env bash
# Checks the Debian package on a fresh Debian 12: a minimal bookworm made by debootstrap
# (nothing but Debian's required packages: no compiler, no CMake, none of smpemu's
# dependencies), where `apt-get install ./smpemu_*.deb` must pull in everything that
# building and running the example needs. Inside a throwaway copy of that system it
# installs the .deb and runs scripts/check_installed_example.sh. As root; it installs
# debootstrap on this machine if missing and keeps the pristine system in BASE_DIR
# (about 300 MB) for the next check.
#   scripts/check_deb_fresh.sh [BUILD_DIR] [BASE_DIR]
#     BUILD_DIR  a Release build (default build/release); the .deb is made with cpack
#     BASE_DIR   the pristine bookworm (default /var/tmp/smpemu-fresh-bookworm)
# Mirror: $SMPEMU_DEBIAN_MIRROR, default http://deb.debian.org/debian. Exit 0 when the
# package installs and the example builds and runs, 1 when a check fails, 2 on a usage
# or setup error.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
base="${2:-/var/tmp/smpemu-fresh-bookworm}"
mirror="${SMPEMU_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
[ "$(id -u)" = 0 ] || { echo "check_deb_fresh: run as root (debootstrap, chroot)" >&2; exit 2; }
[ -f "$build/CMakeCache.txt" ] || { echo "check_deb_fresh: no build in $build (cmake --preset release first)" >&2; exit 2; }

if [ ! -x "$base/usr/bin/apt-get" ]; then
  command -v debootstrap > /dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap
  rm -rf "$base"
  debootstrap --variant=minbase bookworm "$base" "$mirror" || { echo "check_deb_fresh: debootstrap failed" >&2; exit 2; }
fi

(cd "$build" && rm -f smpemu_*.deb && cpack -G DEB > /dev/null)
deb="$(ls "$PWD/$build"/smpemu_*.deb)"
root="$(mktemp -d /var/tmp/smpemu-fresh.XXXXXX)"
cleanup() {
  for m in dev/pts dev proc sys; do umount "$root/$m" 2> /dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
cp -a "$base/." "$root/"
for m in proc sys dev dev/pts; do mount --bind "/$m" "$root/$m"; done
cp /etc/resolv.conf "$root/etc/resolv.conf" 2> /dev/null || true
cp "$deb" "$root/tmp/"
cp scripts/check_installed_example.sh "$root/tmp/"
echo "check_deb_fresh: $(basename "$deb") on a fresh bookworm ($(chroot "$root" dpkg-query -W -f='.' | wc -c) packages)"
status=0
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive \
  /bin/bash -euo pipefail -c "
    apt-get update -q
    apt-get install -y -q /tmp/$(basename "$deb")
    /tmp/check_installed_example.sh" || status=$?
[ "$status" = 0 ] && echo "check_deb_fresh: the package installs on a fresh Debian 12 and serves the example" ||
  echo "check_deb_fresh: FAILED (exit $status)" >&2
exit $(( status == 0 ? 0 : 1 ))
