#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Stages of `make run` and `make test`, timed.
#
#   stage.sh LOG NAME CMD...   run CMD as stage NAME: print its name, run it,
#                              print its time; append "NAME SECONDS STATUS"
#                              to LOG; exit with CMD's status
#   stage.sh --report LOG      one line per stage and the total
#
# The log is emptied by the caller (`: > LOG`) when a run starts.
set -uo pipefail

mmss() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

if [ "${1:-}" = --report ]; then
	log=$2
	[ -s "$log" ] || exit 0
	echo "== stages"
	awk '{ printf "   %-10s %6ss  %s\n", $1, $2, $3 == 0 ? "ok" : "FAILED"; t += $2 }
	     END { printf "   %-10s %6ss\n", "total", t }' "$log"
	exit 0
fi

log=$1 name=$2
shift 2
start=$(date +%s)
echo "== $name"
"$@"
rc=$?
secs=$(($(date +%s) - start))
echo "$name $secs $rc" >> "$log"
echo "== $name: $([ $rc = 0 ] && echo done || echo "FAILED (exit $rc)") in $(mmss $secs)"
exit $rc
