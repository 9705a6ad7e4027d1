#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# checkpatch --strict of one patch, with the reports that
# patches/checkpatch-exceptions accepts (and says why) filtered out.
# Prints the report; exit status 0 only for 0 errors, warnings and checks.
# Usage: checkpatch.sh TREE PATCH
set -uo pipefail
tree=$1 patch=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$( (cd "$tree" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict --show-types "$patch") 2>&1 |
	python3 "$repo/harness/checkpatch-filter.py" "$repo/patches/checkpatch-exceptions" 2>&1)
printf '%s\n' "$out"
total=$(grep -E '^total: ' <<< "$out" || echo "total: ? errors")
[[ "$total" =~ ^total:\ 0\ errors,\ 0\ warnings,\ 0\ checks ]]
