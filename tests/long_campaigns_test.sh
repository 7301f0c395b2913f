#!/usr/bin/env bash
# ctest Scripts.LongCampaignsShardResumeAndMerge: scripts/long_campaigns.sh on a small
# budget. Each workload's campaign is run in shards into DIR/<workload>/<k>.json and
# merged into one table row; a second call runs nothing again (every shard file is
# there), a deleted shard is run again and gives the same row, shard files of another
# campaign in the directory and a bad number are exit 2.
#   tests/long_campaigns_test.sh SMPEMU_BINARY SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
script="$src/scripts/long_campaigns.sh"

out=$("$script" --binary "$bin" --dir "$dir" --runs 40 --shards 2 --jobs 2 abba suite-lazy01) || fail "first call exits $?"
echo "$out"
grep -q '^| abba | 40 | 40 | 2 | 0 | 0 |' <<< "$out" || fail "abba row: all 40 runs find the inversion (2 signatures)"
grep -q '^| suite-lazy01 | 40 | ' <<< "$out" || fail "suite-lazy01 row"
[ -s "$dir/abba/1.json" ] && [ -s "$dir/abba/2.json" ] || fail "shard files"
stamp=$(stat -c %Y.%s "$dir"/abba/*.json "$dir"/suite-lazy01/*.json)
sleep 1
again=$("$script" --binary "$bin" --dir "$dir" --runs 40 --shards 2 abba suite-lazy01) || fail "second call"
[ "$(stat -c %Y.%s "$dir"/abba/*.json "$dir"/suite-lazy01/*.json)" = "$stamp" ] || fail "the second call ran shards again"
rows() { echo "$1" | grep '^| [a-z]' | grep -v '^| workload ' | sed 's/ | [0-9]* |$//'; }  # without host seconds
[ "$(rows "$again")" = "$(rows "$out")" ] || fail "the second call's table differs"
rm "$dir/abba/2.json"
third=$("$script" --binary "$bin" --dir "$dir" --runs 40 --shards 2 abba) || fail "third call"
[ "$(rows "$third")" = "$(rows "$out" | grep abba)" ] || fail "a rerun shard gives another row: $(rows "$third") against $(rows "$out" | grep abba)"
# Shards of another campaign (another --runs) in the directory: refused, not mixed in.
"$script" --binary "$bin" --dir "$dir" --runs 50 --shards 2 abba > /dev/null 2>&1
[ $? -eq 2 ] || fail "shards of another campaign are exit 2"
"$script" --binary "$bin" --runs x abba > /dev/null 2>&1
[ $? -eq 2 ] || fail "--runs x is exit 2"
"$script" --binary "$bin" --nonsense > /dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown option is exit 2"
echo "long_campaigns: ok"
