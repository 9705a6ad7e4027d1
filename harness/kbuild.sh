#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build a kernel with kunit.py, showing progress: kunit.py keeps make's
# output to itself, so every PERIOD seconds (default 30) this prints how
# many objects have been compiled since the build started and, when an
# earlier complete build of the same directory counted them, about what
# share of the whole that is.  The build's own output goes to LOG; on a
# failure its last lines are printed.
#
# Usage: kbuild.sh KOBJ LOG TREE KUNIT-BUILD-ARGS...
# KOBJ/.lw-built-from records the tree (git tree id) of the last good build, for
# the stages that boot it (harness/kernel-fresh.sh).
set -uo pipefail
kobj=$1 log=$2 tree=$3
shift 3
period=${KBUILD_PERIOD:-30}
count_file=$(dirname "$kobj")/.$(basename "$kobj")-objects

mkdir -p "$kobj"
stamp=$kobj/.lw-build-start
touch "$stamp"
total=$(cat "$count_file" 2>/dev/null || echo 0)
all=$(find "$kobj" -name '*.o' 2>/dev/null | wc -l)
objects() { find "$kobj" -name '*.o' -newer "$stamp" 2>/dev/null | wc -l; }
mmss() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

start=$(date +%s)
(cd "$tree" && exec ./tools/testing/kunit/kunit.py build "$@") > "$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' INT TERM
if [ "$all" -lt 100 ]; then
	echo "build: a cold build (typically 10 to 20 minutes on 2 cores); log $log"
else
	echo "build: incremental; log $log"
fi
next=$((start + period))
while kill -0 $pid 2>/dev/null; do
	sleep 1
	now=$(date +%s)
	[ "$now" -lt "$next" ] && continue
	next=$((now + period))
	n=$(objects)
	share=""
	[ "$total" -gt 0 ] && [ "$all" -lt 100 ] && share=" (~$((n * 100 / total))% of $total)"
	echo "build: $(mmss $((now - start))) elapsed, $n objects compiled$share"
done
wait $pid
rc=$?
secs=$(($(date +%s) - start))
n=$(objects)
if [ $rc != 0 ]; then
	tail -n 40 "$log"
	echo "build: FAILED after $(mmss $secs) (exit $rc); log $log" >&2
	exit $rc
fi
# The whole count of a complete build, for the next cold build's share.
find "$kobj" -name '*.o' | wc -l > "$count_file"
git -C "$tree" rev-parse "HEAD^{tree}" > "$kobj/.lw-built-from"
echo "build: $n objects compiled in $(mmss $secs)"
