#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Refuse to boot a kernel that was not built from the patched tree as it is
# now: kbuild.sh records the git tree id of each good build (commit ids change with
# every commit of this repository, tree ids only with the source).
# Usage: kernel-fresh.sh KOBJ TREE
kobj=$1 tree=$2
built=$(cat "$kobj/.lw-built-from" 2>/dev/null)
head=$(git -C "$tree" rev-parse "HEAD^{tree}" 2>/dev/null)
if [ -z "$built" ]; then
	echo "no kernel built in $kobj (make kunit-build first)" >&2
	exit 1
fi
if [ "$built" != "$head" ]; then
	echo "the kernel in $kobj was built from ${built:0:12}, the tree is at ${head:0:12}: build it first (make kunit-build)" >&2
	exit 1
fi
