#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every patch of the series on its own, as a maintainer bisecting it gets
# it: checkpatch --strict of the patch, and the kernel of the test profile
# built with the series applied up to and including it.  The builds are
# incremental, patch after patch, in a git worktree of the patched tree
# with its own object directory (kept under WORK between runs), through
# ccache.  A patch that changes only tools/ or Documentation/ changes
# nothing the kernel build sees and is not rebuilt.
#
# Usage: check-bisect.sh TREE SERIES WORK KUNITCONFIG CC JOBS
# Prints one line per patch and "check-bisect: N passed, N failed in T".
set -uo pipefail
tree=$1 series=$2 work=$3 kconfig=$4 cc=$5 jobs=$6
repo=$(cd "$(dirname "$0")/.." && pwd)
src=$work/src obj=$work/obj log=$work/log
mkdir -p "$obj" "$log"
start=$(date +%s)
mmss() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

# A worktree of the tree's repository, detached at each patch in turn.
if [ "$(git -C "$src" rev-parse --git-common-dir 2>/dev/null)" != "$(git -C "$tree" rev-parse --absolute-git-dir)" ]; then
	rm -rf "$src"
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$src" lw-base || exit 1
fi
# The test profile: the kunit.py fragment on defconfig, resolved once for
# the whole series.  A patch that does not have a symbol yet drops it.
base=$work/config
if [ ! -s "$base" ] || [ "$kconfig" -nt "$base" ]; then
	git -C "$src" checkout -q -f --detach lw-mm || exit 1
	mkdir -p "$work/cfg"
	grep '^CONFIG_' "$kconfig" > "$work/cfg/.config"
	make -s -C "$src" O="$work/cfg" ARCH=x86_64 CC="$cc" olddefconfig > "$log/config" 2>&1 ||
		{ cat "$log/config"; exit 1; }
	cp "$work/cfg/.config" "$base"
fi

pass=0 fail=0 n=0
commits=$(git -C "$tree" rev-list --reverse lw-base..lw-mm)
patches=$(ls "$series"/[0-9]*.patch | grep -v 0000-cover-letter)
[ "$(wc -w <<< "$commits")" = "$(wc -w <<< "$patches")" ] ||
	{ echo "check-bisect: the series in $series is not lw-base..lw-mm of $tree" >&2; exit 1; }
set -- $patches
for c in $commits; do
	p=$1
	shift
	n=$((n + 1))
	name=$(basename "$p" .patch)
	t0=$(date +%s)
	"$repo/harness/checkpatch.sh" "$tree" "$p" > "$log/$name.checkpatch"
	cprc=$?
	git -C "$src" checkout -q -f --detach "$c" || exit 1
	if git -C "$tree" diff --name-only "$c^" "$c" | grep -qvE '^(tools|Documentation)/'; then
		cp "$base" "$obj/.config"
		make -C "$src" O="$obj" ARCH=x86_64 CC="$cc" -j"$jobs" olddefconfig all \
			> "$log/$name.build" 2>&1
		brc=$?
		what="built"
	else
		brc=0
		what="no kernel change"
	fi
	secs=$(($(date +%s) - t0))
	if [ $cprc = 0 ] && [ $brc = 0 ]; then
		pass=$((pass + 1))
		printf '  ok      %-40s %s in %s\n' "$name" "$what" "$(mmss $secs)"
	else
		fail=$((fail + 1))
		printf '  FAILED  %-40s checkpatch %s, build %s\n' "$name" \
			"$([ $cprc = 0 ] && echo ok || echo "failed ($log/$name.checkpatch)")" \
			"$([ $brc = 0 ] && echo ok || echo "failed ($log/$name.build)")"
		[ $brc = 0 ] || grep -E 'error:|Error [0-9]' "$log/$name.build" | head -5 | sed 's/^/      /'
	fi
done
echo "check-bisect: $pass passed, $fail failed in $(mmss $(($(date +%s) - start)))"
[ $fail = 0 ]
