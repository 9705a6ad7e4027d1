#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Scan a kernel console log for splats: a test run that passed but left a
# BUG, WARNING, KASAN report, lockdep report, RCU stall or panic behind has
# failed.  Usage: console-scan.sh LOG NAME RESULT-FILE
set -uo pipefail
log=$1 name=$2 out=$3
pat='BUG:|WARNING:|KASAN:|UBSAN:|Kernel panic|general protection fault|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|self-detected stall|detected stalls on CPUs|INFO: task .* blocked|Oops|soft lockup|hard LOCKUP'
if [ ! -s "$log" ]; then
	echo "not ok $name: no console log" >> "$out"
	echo "console: no log at $log" >&2
	exit 1
fi
if grep -nE "$pat" "$log" > /dev/null; then
	echo "not ok $name" >> "$out"
	echo "console: splats in $log:" >&2
	grep -nE -A12 "$pat" "$log" | head -60 >&2
	exit 1
fi
echo "ok $name" >> "$out"
