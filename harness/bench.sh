#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The arms of `make bench`, on the production kernel in BENCHOBJ.
#
#   bench.sh ARM           run one arm: RESULTS/bench-ARM.log (the raw log)
#                          and RESULTS/bench-ARM.txt (its table, headed by
#                          what else loaded the host before and after)
#   bench.sh report ARMS   RESULTS/bench.txt and bench.log: every arm's,
#                          after the source and host they were measured on
#
# Arms: ldata and lw are KUnit suites of slow cases (kunit/ldata_bench.c,
# kunit/lw_attach_bench.c) run by kunit.py exec; user (bench/xmem_bench.c),
# xpmem (bench/xpmem_bench.c, through tools/xpmem's libxpmem) and lwtrace
# (harness/guest/lw-trace-bench.sh) boot the kernel with the end-to-end
# initramfs (harness/e2e.sh).  An arm fails on a run that
# failed, a splat on the console or a table without "END RESULTS"; the
# numbers themselves are ratios to read, never asserted.  While an arm
# runs, the threads runnable on the host other than QEMU's are sampled: a
# run during which they averaged above 1 is run again (once; BENCH_RERUN=0
# never), and the table says so if the host was still busy.
#
# Environment (from the Makefile): TREE, BENCHOBJ, RESULTS, E2E_OUT,
# QEMU_ARGS, KUNIT_TIMEOUT, USER_BENCH_ARGS, XPMEM_BENCH_ARGS,
# XPMEM_BENCH_REPS, XPMEM_SRC (optional), UCX_OUT, QEMU_ACCEL, REPO_DESC;
# BENCH_RERUN (optional).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

# What else loads the host (pgrep -f: process names are cut to 15 characters).
busy() {
	echo "load $(cut -d' ' -f1-3 /proc/loadavg)," \
	     "$(pgrep -c -f '(^|/)(cc1|cc1plus|rustc)( |$)' || true) compilers," \
	     "$(pgrep -c -f '^qemu-system' || true) QEMUs"
}

# Runnable threads on the host other than QEMU's (which runs the guest) and
# the sampler's own, sampled every 2 s into $1 until killed.
other_load() {
	while :; do
		ps -eLo stat=,comm= |
			awk '$1 ~ /^R/ && $2 !~ /^qemu-system/ && $2 != "ps" { n++ }
			     END { print n + 0 }' >> "$1"
		sleep 2
	done
}

# "mean M max X over N samples" of a file of other_load() samples.
load_summary() {
	awk '{ s += $1; if ($1 > m) m = $1; n++ }
	     END { if (n) printf "mean %.2f max %d over %d samples", s / n, m, n; else print "no samples" }' "$1"
}

# Whether the mean of other_load() samples is above 1: the host was busy.
load_busy() {
	awk '{ s += $1; n++ } END { exit !(n && s / n > 1) }' "$1"
}

report() {
	local src arm
	src="repo $REPO_DESC, lw-mm $(git -C "$TREE" rev-parse --short=12 HEAD), mm/ldata.c blob $(git -C "$TREE" rev-parse --short=12 HEAD:mm/ldata.c)"
	{
		echo "make bench: $(date -u '+%Y-%m-%d %H:%M UTC'), arms: $*"
		echo "source: $src"
		echo "host: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
		echo "guest: $(qemu-system-x86_64 --version | head -1), -accel $QEMU_ACCEL, 4 CPUs on 2 NUMA nodes"
		echo
		echo "targets, as each arm's table gives them below (median, lowest-highest repetition):"
		for arm in "$@"; do
			grep -h 'target ' "$RESULTS/bench-$arm.txt" 2>/dev/null |
				sed "s/^/  $arm: /"
		done
		for arm in "$@"; do
			echo
			cat "$RESULTS/bench-$arm.txt" 2>/dev/null || echo "$arm: no results"
		done
	} > "$RESULTS/bench.txt"
	for arm in "$@"; do cat "$RESULTS/bench-$arm.log" 2>/dev/null; done > "$RESULTS/bench.log"
	echo
	cat "$RESULTS/bench.txt"
}

# kunit_arm SUITE PREFIX: the suite's lines "PREFIX: ..." are the table.
kunit_arm() {
	local suite=$1 prefix=$2 rc crc
	rm -f "$BENCHOBJ/test.log"
	(cd "$TREE" && ./tools/testing/kunit/kunit.py exec --arch=x86_64 --build_dir="$BENCHOBJ" \
		--timeout="$KUNIT_TIMEOUT" --qemu_args="$QEMU_ARGS" "$suite") 2>&1 |
		tee "$RESULTS/bench-$arm.kunit.log"
	rc=${PIPESTATUS[0]}
	cp "$BENCHOBJ/test.log" "$log" 2>/dev/null
	"$repo/harness/console-scan.sh" "$log" "bench console" "$BENCHOBJ/console.result"
	crc=$?
	sed -n "s/^.*# [a-z_]*: $prefix: //p" "$log" > "$table"
	[ "$rc" = 0 ] && [ $crc = 0 ]
}

# guest_arm MODE PREFIX ARGS: the guest's lines "PREFIX: ..." are the
# table; ARGS are the benchmark program's.
guest_arm() {
	local mode=$1 prefix=$2 out=$E2E_OUT-$1 rc
	mkdir -p "$out"
	rm -f "$out/result"
	QEMU_ARGS=$QEMU_ARGS E2E_BENCH_ARGS=$3 \
		"$repo/harness/e2e.sh" "$mode" "$BENCHOBJ" "$TREE" "$out" "$out/result"
	rc=$?
	cat "$out/console.log" "$out/guest.txt" > "$log" 2>/dev/null
	sed -n "s/^$prefix: //p" "$out/guest.txt" > "$table"
	[ $rc = 0 ]
}

# xpmem_arm: guest_arm of bench/xpmem_bench.c, with the out-of-tree XPMEM
# built from XPMEM_SRC (harness/xpmem-peer.sh) when given, and UCX when
# make ucx has built it in UCX_OUT.
xpmem_arm() {
	local peer= ucx=
	if [ -n "${XPMEM_SRC:-}" ]; then
		peer=$E2E_OUT-xpmem-peer
		"$repo/harness/xpmem-peer.sh" "$XPMEM_SRC" "$TREE" "$BENCHOBJ" "$peer" >&2 ||
			return 1
	fi
	[ -x "$UCX_OUT/prefix/bin/ucx_perftest" ] && ucx=$UCX_OUT
	E2E_XPMEM_PEER=$peer E2E_UCX=$ucx E2E_BENCH_REPS=$XPMEM_BENCH_REPS \
		guest_arm xpmembench xpmem_bench "$XPMEM_BENCH_ARGS"
}

if [ "${1:-}" = report ]; then
	shift
	report "$@"
	exit 0
fi

arm=${1:?usage: bench.sh ARM | bench.sh report ARMS...}
log=$RESULTS/bench-$arm.log
txt=$RESULTS/bench-$arm.txt
mkdir -p "$RESULTS"
rm -f "$log" "$txt"
before=$(busy)
case "$arm" in
ldata)	head="kunit/ldata_bench.c";		run=(kunit_arm ldata_bench ldata_bench) ;;
lw)	head="kunit/lw_attach_bench.c";		run=(kunit_arm lw_attach_bench lw_bench) ;;
user)	head="bench/xmem_bench.c $USER_BENCH_ARGS"; run=(guest_arm bench xmem_bench "$USER_BENCH_ARGS") ;;
xpmem)	head="bench/xpmem_bench.c $XPMEM_BENCH_ARGS, $XPMEM_BENCH_REPS runs per library${XPMEM_SRC:+, XPMEM from $XPMEM_SRC}"
	run=(xpmem_arm) ;;
lwtrace) head="harness/guest/lw-trace-bench.sh"
	# Three loops, each under four lw-trace runs, seven rounds: about
	# 20 minutes under TCG, past e2e's default limit.
	export E2E_TIMEOUT=${E2E_TIMEOUT:-2400}
	run=(guest_arm lwbench lwtrace_bench "$USER_BENCH_ARGS") ;;
*)	echo "bench: unknown arm $arm (ldata, lw, user, xpmem, lwtrace)" >&2; exit 2 ;;
esac
table=$(mktemp)
samples=$(mktemp)
sampler=
trap 'rm -f "$table" "$samples"; [ -z "$sampler" ] || kill $sampler 2>/dev/null' EXIT
# A run taken while other processes kept the host busy is flagged and run
# again, once (BENCH_RERUN=0: never); the table says which run it shows.
attempt=1
while :; do
	: > "$samples"
	other_load "$samples" &
	sampler=$!
	"${run[@]}"
	rc=$?
	kill $sampler 2>/dev/null
	wait $sampler 2>/dev/null
	sampler=
	load="other runnable threads $(load_summary "$samples")"
	if [ $rc = 0 ] && load_busy "$samples" && [ $attempt -le "${BENCH_RERUN:-1}" ]; then
		echo "bench-$arm: the host was busy during run $attempt ($load): running it again" >&2
		attempt=$((attempt + 1))
		continue
	fi
	break
done
load_busy "$samples" && load="$load: BUSY, figures unreliable"
after=$(busy)
{ echo "$arm: $head, host before: $before; after: $after; during run $attempt: $load"; cat "$table"; } > "$txt"
grep -q 'END RESULTS' "$txt" || { echo "bench-$arm: no results in $log" >&2; rc=1; }
exit $rc
