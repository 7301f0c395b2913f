#!/usr/bin/env bash
# Fuzzes the parsers of the files and options users hand to smpemu with libFuzzer
# (docs/USAGE.md, "Reliability: fuzzing the parsers"):
#   record   the record reader (replay, shrink, diff)      fuzz/record_fuzz.cc
#   shard    the fuzz shard reader of merge                fuzz/shard_fuzz.cc
#   trace    diff's reader: record detection, ftrace text  fuzz/trace_fuzz.cc
#   options  the command line, parse + validate only       fuzz/options_fuzz.cc
#
#   scripts/fuzz_parsers.sh [SECONDS] [HARNESS...]    (default: 30 seconds, every harness)
#
# Installs clang and libclang-rt-14-dev with apt-get if they are missing (as root, as
# scripts/bootstrap.sh does), builds the `fuzz` preset (clang, -fsanitize=fuzzer,address,
# undefined) into build/fuzz, and runs each harness for SECONDS on a working copy of its
# seed corpus (build/fuzz/corpus/<name>, which keeps what libFuzzer adds; fuzz/corpus/ is
# not touched). A crash, abort, escaped exception or sanitizer report stops the harness;
# its input is left as build/fuzz/findings/<name>/crash-*: add it to fuzz/corpus/<name>/
# once fixed. Exit status 0 if no harness found anything, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
shift || true
harnesses=("$@")
[ "${#harnesses[@]}" -gt 0 ] || harnesses=(record shard trace options)
case "$seconds" in ''|*[!0-9]*) echo "usage: $0 [SECONDS] [record|shard|trace|options]..." >&2; exit 2 ;; esac

packages=(clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "fuzz_parsers: installing ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

cmake --preset fuzz
targets=()
for h in "${harnesses[@]}"; do targets+=("${h}_fuzz"); done
cmake --build --preset fuzz --target "${targets[@]}"

status=0
for h in "${harnesses[@]}"; do
  corpus="build/fuzz/corpus/$h"
  findings="build/fuzz/findings/$h"
  mkdir -p "$corpus" "$findings"
  cp -n fuzz/corpus/"$h"/* "$corpus"/ 2>/dev/null || true
  extra=()
  # The options harness prints usage errors; libFuzzer keeps its own reports.
  [ "$h" = options ] && extra+=(-close_fd_mask=3 -max_len=512)
  echo "fuzz_parsers: $h for ${seconds}s"
  if ! ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}" \
      "build/fuzz/${h}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
      -artifact_prefix="$findings/" -print_final_stats=1 "${extra[@]}" "$corpus"; then
    echo "fuzz_parsers: $h FOUND SOMETHING: see $findings/" >&2
    status=1
  fi
done
exit "$status"
