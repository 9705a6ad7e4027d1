#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Scan a kernel console log for splats: a test run that passed but left a
# BUG, WARNING, KASAN report, lockdep report, RCU stall or panic behind has
# failed.  Usage: console-scan.sh LOG NAME RESULT-FILE [ALLOW-FILE]
#
# ALLOW-FILE lists extended regexes, one per line (# starts a comment), of
# splat lines that the suites provoke on purpose (a misuse warning that a
# test checks for); a matching line is not a failure.  Keep them narrow:
# name the file and function that warns.
set -uo pipefail
log=$1 name=$2 out=$3 allow=${4:-}
pat='BUG:|WARNING:|KASAN:|UBSAN:|Kernel panic|general protection fault|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|self-detected stall|detected stalls on CPUs|INFO: task .* blocked|Oops|soft lockup|hard LOCKUP'
if [ ! -s "$log" ]; then
	echo "not ok $name: no console log" >> "$out"
	echo "console: no log at $log" >&2
	exit 1
fi
splats() {
	if [ -n "$allow" ] && [ -s "$allow" ]; then
		grep -nE "$pat" "$log" | grep -vE -f <(grep -vE '^[[:space:]]*(#|$)' "$allow")
	else
		grep -nE "$pat" "$log"
	fi
}
expected=0
if [ -n "$allow" ] && [ -s "$allow" ]; then
	expected=$(grep -E "$pat" "$log" | grep -cE -f <(grep -vE '^[[:space:]]*(#|$)' "$allow"))
fi
if splats > /dev/null; then
	echo "not ok $name" >> "$out"
	echo "console: splats in $log:" >&2
	splats | head -20 >&2
	first=$(splats | head -1 | cut -d: -f1)
	sed -n "${first},$((first + 40))p" "$log" >&2
	exit 1
fi
[ "$expected" -gt 0 ] && echo "console: $expected expected warning(s) from misuse tests"
echo "ok $name" >> "$out"
