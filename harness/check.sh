#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Static checks of the series and of every new kernel file:
#   checkpatch --strict on each patch (0 errors, 0 warnings, 0 checks, but
#     for the reports patches/checkpatch-exceptions accepts, with reasons),
#   kernel-doc -none -Wall on each new source file (no output),
#   sparse (C=2) and W=1 on each new object (no diagnostic in new files),
#   each new Documentation page is indexed and builds with Sphinx (make
#     htmldocs of the directories the series touches) with no warning,
#   the series git am's onto lw-base and gives exactly lw-mm's tree.
# Usage: check.sh TREE SERIES CHKOBJ KOBJ RESULTS CC
# Writes RESULTS/check.result: one "ok NAME" or "not ok NAME" per check.
set -uo pipefail
export PYTHONDONTWRITEBYTECODE=1
tree=$1 series=$2 chkobj=$3 kobj=$4 results=$5 cc=$6
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$results/check.result
log=$results/check.log
: > "$out"
: > "$log"

result() {	# result NAME STATUS [DETAIL-FILE]
	if [ "$2" = 0 ]; then
		echo "ok $1" >> "$out"
		printf '  %-60s ok\n' "$1"
	else
		echo "not ok $1" >> "$out"
		printf '  %-60s FAILED\n' "$1"
		[ -n "${3:-}" ] && sed 's/^/      /' "$3"
	fi
}

# New kernel files, at their kernel paths (the Add: lines of patches/*.commit,
# mapped by harness/mktree.py's rule, which also lists them).
new_files=$(python3 "$repo/harness/mktree.py" --list-new-files) || new_files=""
# The kernel's own: tools/ (the selftests, the examples, lw-trace) is user
# space, built and run by the end-to-end harness with -Wall -Wextra instead.
kernel_files=$(printf '%s\n' $new_files | grep -v '^tools/')
if [ -z "$new_files" ] || ! printf '%s\n' $new_files | grep -q '[.]c$'; then
	echo "not ok list of new kernel files (patches/*.commit Add: lines)" >> "$out"
	echo "check: no new kernel files found in patches/*.commit" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "check: the repository holds no ignored file (caches, build output)"
git -C "$repo" ls-files -ci --exclude-standard > "$tmp/ignored"
result "no ignored file committed" $([ -s "$tmp/ignored" ] && echo 1 || echo 0) "$tmp/ignored"

echo "check: checkpatch --strict"
for p in "$series"/[0-9]*.patch; do
	name=$(basename "$p")
	[ "$name" = 0000-cover-letter.patch ] && continue
	"$repo/harness/checkpatch.sh" "$tree" "$p" > "$tmp/cp"
	rc=$?
	cat "$tmp/cp" >> "$log"
	result "checkpatch $name" $rc "$tmp/cp"
done

echo "check: kernel-doc -none -Wall"
for f in $kernel_files; do
	case "$f" in *.c|*.h) ;; *) continue ;; esac
	(cd "$tree" && ./scripts/kernel-doc -none -Wall "$f") > "$tmp/kd" 2>&1
	cat "$tmp/kd" >> "$log"
	result "kernel-doc $f" $([ -s "$tmp/kd" ] && echo 1 || echo 0) "$tmp/kd"
done

echo "check: reStructuredText of new Documentation"
for f in $new_files; do
	case "$f" in *.rst) ;; *) continue ;; esac
	idx=$(dirname "$tree/$f")/index.rst
	grep -qE "^ +$(basename "$f" .rst)\$" "$idx" 2>/dev/null || echo "$f is not in $idx" > "$tmp/rst"
	result "rst $f indexed" $([ -s "$tmp/rst" ] && echo 1 || echo 0) "$tmp/rst"
	rm -f "$tmp/rst"
done

# make htmldocs, limited to the Documentation/ directories the series
# touches: no Sphinx or kernel-doc warning may name a file of the series
# (upstream's own warnings in those directories are logged, not counted).
dirs=$(printf '%s\n' $new_files | sed -n 's,^Documentation/\([^/]*\)/.*,\1,p' | sort -u | xargs)
echo "check: Sphinx (make htmldocs SPHINXDIRS=\"$dirs\")"
rm -rf "$chkobj/htmldocs"
make -C "$tree" O="$chkobj/htmldocs" htmldocs SPHINXDIRS="$dirs" \
	SPHINXOPTS="-j$(nproc) -q" > "$tmp/sphinx" 2>&1
src=$?
cat "$tmp/sphinx" >> "$log"
pat=$(printf '%s\n' $new_files | sed 's/[.]/[.]/g' | paste -sd'|')
grep -E "($pat)" "$tmp/sphinx" | grep -iE 'warning|error' > "$tmp/sw"
[ $src = 0 ] || { echo "make htmldocs failed (exit $src):"; tail -20 "$tmp/sphinx"; } >> "$tmp/sw"
for d in $dirs; do
	[ -s "$chkobj/htmldocs/Documentation/output/$d/index.html" ] ||
		echo "no HTML for Documentation/$d" >> "$tmp/sw"
done
result "htmldocs $dirs" $([ -s "$tmp/sw" ] && echo 1 || echo 0) "$tmp/sw"

echo "check: sparse (C=2) and W=1 on new code"
objs=""
for f in $kernel_files; do
	case "$f" in *.c) objs+=" ${f%.c}.o" ;; esac
done
mkdir -p "$chkobj"
if [ -f "$kobj/.config" ]; then
	cmp -s "$kobj/.config" "$chkobj/.config" || cp "$kobj/.config" "$chkobj/.config"
else
	grep '^CONFIG_' "$repo/kunit/lw-mm.kunitconfig" > "$chkobj/.config"
fi
kmake() { make -C "$tree" O="$chkobj" ARCH=x86_64 CC="$cc" -j"$(nproc)" "$@"; }
if ! kmake olddefconfig > "$tmp/cfg" 2>&1; then
	cat "$tmp/cfg" >> "$log"
	result "W=1 C=2 build" 1 "$tmp/cfg"
else
	# Recompile every time: a clean object from an earlier run hides nothing.
	(cd "$chkobj" && rm -f $objs)
	kmake W=1 C=2 $objs > "$tmp/build" 2>&1
	brc=$?
	cat "$tmp/build" >> "$log"
	pat=$(printf '%s\n' $new_files | sed 's/[.]/[.]/g' | paste -sd'|')
	for o in $objs; do
		src=${o%.o}.c
		grep -E "($pat):[0-9]+(:[0-9]+)?: (warning|error|note)" "$tmp/build" \
			| grep -F "$src" > "$tmp/w" || true
		# Diagnostics in new headers count against every object that includes them.
		grep -E "($pat):[0-9]+(:[0-9]+)?: (warning|error)" "$tmp/build" \
			| grep -v '[.]c:' >> "$tmp/w" || true
		if [ $brc != 0 ] || [ ! -f "$chkobj/$o" ]; then
			grep -E 'error|Error' "$tmp/build" | head -20 >> "$tmp/w"
			echo "build failed" >> "$tmp/w"
		fi
		result "W=1 C=2 $o" $([ -s "$tmp/w" ] && echo 1 || echo 0) "$tmp/w"
	done
fi

echo "check: series applies with git am onto lw-base"
# A sparse worktree of lw-base holding just the files the series touches:
# git am needs a work tree, not a whole kernel checkout.
wt=$(dirname "$series")/am-check
{
	if [ "$(git -C "$wt" rev-parse --git-common-dir 2>/dev/null)" != "$(git -C "$tree" rev-parse --absolute-git-dir)" ]; then
		rm -rf "$wt"
		git -C "$tree" worktree prune
		git -C "$tree" worktree add -q --no-checkout --detach "$wt" lw-base
	fi
	git -C "$wt" am --abort 2>/dev/null
	git -C "$tree" diff --name-only lw-base lw-mm > "$tmp/paths"
	sed "s,^,/," "$tmp/paths" | git -C "$wt" sparse-checkout set --no-cone --stdin &&
	git -C "$wt" checkout -q -f --detach lw-base &&
	git -C "$wt" clean -q -fdx &&
	git -C "$wt" -c user.name=check -c user.email=check@localhost -c commit.gpgsign=false \
		am -q $(ls "$series"/[0-9]*.patch | grep -v 0000-cover-letter) &&
	[ "$(git -C "$wt" rev-parse 'HEAD^{tree}')" = "$(git -C "$tree" rev-parse 'lw-mm^{tree}')" ] ||
		{ echo "series does not reproduce lw-mm's tree"; false; }
} > "$tmp/am" 2>&1
result "series git am onto lw-base" $? "$tmp/am"

grep -c '^ok' "$out" | xargs printf 'check: %s passed, ' ; grep -c '^not ok' "$out" | xargs printf '%s failed\n'
! grep -q '^not ok' "$out"
