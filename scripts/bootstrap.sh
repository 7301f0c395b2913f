#!/usr/bin/env bash
# One-stop set-up for a fresh Debian 12 machine (run as root):
#   scripts/bootstrap.sh run    install what is missing, build Release, run the default scenario
#   scripts/bootstrap.sh test   install what is missing, build Release, run the whole test suite
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-run}"
case "$mode" in run|test) ;; *) echo "usage: $0 run|test" >&2; exit 2 ;; esac

packages=(build-essential cmake ninja-build pkg-config git
          libboost-context-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
          libgtest-dev libgmock-dev libbenchmark-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

cmake --preset release
cmake --build --preset release
# Repro commands in bug reports say `smpemu run ...`: put the build on PATH (a symlink,
# so later rebuilds are picked up) when we may.
if [ -w /usr/local/bin ]; then
  ln -sf "$PWD/build/release/smpemu" /usr/local/bin/smpemu
fi
if [ "$mode" = run ]; then
  ./build/release/smpemu run spinlock-contention --cpus 48 --seed 1
else
  ctest --preset release
fi
