#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One boot of the KUnit test kernel (kunit.py exec), judged three ways:
# kunit.py's own verdict (its exit status: a crash, a timeout or a parse
# error fails even if every case it saw passed), the per-case results in
# its JSON, and the console, where a splat fails the run.
#
# Usage: kunit.sh NAME TREE KOBJ RESULTS QEMU-ARGS FILTER KUNIT-EXEC-ARGS...
#   NAME     the run: its files are RESULTS/NAME.json, NAME.log,
#            NAME-run.result and NAME-console.result
#   FILTER   kunit.py's suite glob ("" for every suite)
# The kernel must have been built from the tree as it is
# (harness/kernel-fresh.sh).
set -uo pipefail
name=$1 tree=$2 kobj=$3 results=$4 qemu=$5 filter=$6
shift 6
repo=$(cd "$(dirname "$0")/.." && pwd)

mkdir -p "$results"
rm -f "$results/$name.json" "$results/$name-run.result" "$results/$name-console.result" \
	"$kobj/test.log"
if ! why=$("$repo/harness/kernel-fresh.sh" "$kobj" "$tree" 2>&1); then
	echo "not ok kunit.py run $name ($why)" > "$results/$name-run.result"
	echo "kunit: $why" >&2
	exit 1
fi
(cd "$tree" && ./tools/testing/kunit/kunit.py exec "$@" --qemu_args="$qemu" \
	--json="$results/$name.json" ${filter:+"$filter"}) 2>&1 | tee "$results/$name.log"
rc=${PIPESTATUS[0]}
if [ "$rc" = 0 ]; then
	echo "ok kunit.py run $name"
else
	echo "not ok kunit.py run $name (exit $rc)"
fi > "$results/$name-run.result"
cp "$kobj/test.log" "$results/$name-console.log" 2>/dev/null
"$repo/harness/console-scan.sh" "$kobj/test.log" "$name console free of splats" \
	"$results/$name-console.result" "$repo/kunit/expected-warnings"
crc=$?
[ "$rc" = 0 ] && [ $crc = 0 ]
