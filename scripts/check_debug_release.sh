#!/usr/bin/env bash
# Determinism across build types: builds Debug and Release from this tree and checks that
# both binaries give the same digest, end reason and bug checks for a fixed list of
# workloads, configurations and seeds (tests/golden/configs.txt), including ones that
# report bugs, time out and livelock. Also checks them against tests/golden/digests.txt,
# so a change of the model's behaviour is always a deliberate, reviewed update of that
# file (regenerate with: scripts/check_debug_release.sh --update).
#
# Fails loudly: a configuration that exits with anything but 0 (no bug) or 1 (bugs
# reported), or prints no digest, is an error with its command and stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

update=0
[ "${1:-}" = "--update" ] && update=1

# Always build both: a stale binary would compare (or record) another model.
cmake --preset release >/dev/null
cmake --build --preset release --target smpemu
cmake --preset debug >/dev/null
cmake --build --preset debug --target smpemu

golden=tests/golden/digests.txt
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fail=0

# Prints "digest end checks" of one run; exits 1 (after a message) if the run failed.
summarize() {
  local bin=$1 args=$2 json rc=0
  # shellcheck disable=SC2086
  json=$("$bin" run $args --json 2>"$err") || rc=$?
  if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
    echo "ERROR: $bin run $args exited $rc:" >&2
    cat "$err" >&2
    return 1
  fi
  python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
checks = ",".join(sorted({b["check"] for b in j["bugs"]})) or "-"
print(j["digest"], j["end"], checks)' <<<"$json" || { echo "ERROR: $bin run $args: no JSON digest" >&2; return 1; }
}

n=0
while read -r args; do
  [ -z "$args" ] && continue
  case "$args" in \#*) continue ;; esac
  rel=$(summarize ./build/release/smpemu "$args") || { fail=1; continue; }
  dbg=$(summarize ./build/debug/smpemu "$args") || { fail=1; continue; }
  if [ "$rel" != "$dbg" ]; then
    echo "MISMATCH release=($rel) debug=($dbg): $args"
    fail=1
  fi
  echo "${rel%% *} $args" >>"$out"
  n=$((n + 1))
done < tests/golden/configs.txt

if [ "$update" = 1 ]; then
  [ "$fail" = 0 ] || { echo "not updating $golden: the builds disagree or a run failed" >&2; exit 1; }
  cp "$out" "$golden"
  echo "updated $golden"
elif ! diff -u "$golden" "$out"; then
  echo "digests differ from $golden (intended model change? rerun with --update and commit)"
  fail=1
fi
[ "$fail" = 0 ] && echo "debug and release agree on digest, end and bug checks of $n configurations"
exit "$fail"
