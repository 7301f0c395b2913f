#!/usr/bin/env bash
# The package test (ctest label "package"): runs docs/WRITING_A_WORKLOAD.md as printed.
#
#   tests/package_test.sh SOURCE_DIR BUILD_DIR
#
# 1. The listings in the document that name a file (a line `<!-- file: PATH -->` before
#    the fence) must equal that file of the repository.
# 2. Every ```sh block of the document runs, line by line, from SOURCE_DIR with HOME set
#    to a fresh temporary directory (so `$HOME/...` paths are the test's own): install
#    into a prefix, build examples/ against it with find_package(smpemu), run list, run,
#    fuzz, replay, shrink and compare. A line ending in `# exit N` must exit N (others 0);
#    `# exit N, prints TEXT` must also print TEXT. `build/release` is replaced by
#    BUILD_DIR when that is another directory.
set -uo pipefail
src="$(cd "$1" && pwd)"
build="$(cd "$2" && pwd)"
doc="$src/docs/"WRITING_A_WORKLOAD.md
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package_test: $*" >&2; exit 1; }

# ---- 1. listings ---------------------------------------------------------------
awk -v out="$tmp/listing" '
  /^<!-- file: .* -->$/ { name = $3; next }
  name != "" && /^```/ && !inside { inside = 1; n++; file = out "." n; print name > (out ".names"); next }
  inside && /^```$/ { inside = 0; name = ""; close(file); next }
  inside { print > file }
' "$doc"
[ -s "$tmp/listing.names" ] || fail "no file listings in $doc"
n=0
while read -r name; do
  n=$((n + 1))
  diff -u "$src/$name" "$tmp/listing.$n" >&2 || fail "the listing of $name in docs/WRITING_A_WORKLOAD.md differs from the file"
done < "$tmp/listing.names"

# ---- 2. commands ---------------------------------------------------------------
awk '
  /^```sh$/ { inside = 1; next }
  inside && /^```$/ { inside = 0; next }
  inside && /\\$/ { sub(/\\$/, ""); cont = cont $0; next }
  inside { print cont $0; cont = "" }
' "$doc" > "$tmp/commands"
[ -s "$tmp/commands" ] || fail "no sh blocks in $doc"
rel_build="${build#"$src"/}"
mkdir "$tmp/home"
count=0
while IFS= read -r line; do
  [[ "$line" =~ ^[[:space:]]*$ ]] && continue
  [[ "$line" =~ ^[[:space:]]*# ]] && continue
  want=0
  text=""
  if [[ "$line" =~ \#\ exit\ ([0-9]+)(,\ prints\ (.*))?$ ]]; then
    want="${BASH_REMATCH[1]}"
    text="${BASH_REMATCH[3]}"
  fi
  cmd="${line//build\/release/$rel_build}"
  echo "+ $cmd"
  (cd "$src" && HOME="$tmp/home" bash -c "$cmd") > "$tmp/out" 2>&1 < /dev/null
  got=$?
  cat "$tmp/out"
  [ "$got" = "$want" ] || fail "exit status $got, the document says $want: $line"
  if [ -n "$text" ]; then
    grep -qF -- "$text" "$tmp/out" || fail "output lacks \"$text\": $line"
  fi
  count=$((count + 1))
done < "$tmp/commands"
echo "package_test: $n listings match, $count commands ran as documented"
