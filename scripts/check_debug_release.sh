#!/usr/bin/env bash
# Determinism across build types: builds Debug next to Release and checks that both
# binaries give the same digest for a fixed list of workloads, configurations and seeds.
# Also checks them against tests/golden/digests.txt, so a change of the model's
# behaviour is always a deliberate, reviewed update of that file
# (regenerate with: scripts/check_debug_release.sh --update).
set -euo pipefail
cd "$(dirname "$0")/.."

update=0
[ "${1:-}" = "--update" ] && update=1

[ -x build/release/smpemu ] || { cmake --preset release && cmake --build --preset release --target smpemu; }
cmake --preset debug >/dev/null
cmake --build --preset debug --target smpemu

golden=tests/golden/digests.txt
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0
while read -r args; do
  [ -z "$args" ] && continue
  case "$args" in \#*) continue ;; esac
  # shellcheck disable=SC2086
  rel=$(./build/release/smpemu run $args --json | grep -o '"digest": "[0-9a-f]*"' | cut -d'"' -f4)
  # shellcheck disable=SC2086
  dbg=$(./build/debug/smpemu run $args --json | grep -o '"digest": "[0-9a-f]*"' | cut -d'"' -f4)
  if [ "$rel" != "$dbg" ]; then
    echo "MISMATCH release=$rel debug=$dbg: $args"
    fail=1
  fi
  echo "$rel $args" >>"$out"
done < tests/golden/configs.txt

if [ "$update" = 1 ]; then
  cp "$out" "$golden"
  echo "updated $golden"
elif ! diff -u "$golden" "$out"; then
  echo "digests differ from $golden (intended model change? rerun with --update and commit)"
  fail=1
fi
[ "$fail" = 0 ] && echo "debug and release digests agree on $(wc -l <"$out") configurations"
exit "$fail"
