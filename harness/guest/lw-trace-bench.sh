#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# lw-trace's overhead, run in the guest by `make bench-lwtrace` (harness/
# e2e.sh lwbench) on the production bench kernel: the same tight loops
# without lw-trace, with lw-trace as an operator runs it, and with
# --stacks -L (a stack per attach, latency histograms), alternated over
# ROUNDS rounds so that drift hits every arm alike.
#
#   xmem   XMEM_IOC_ATTACH + XMEM_IOC_DETACH of one page (xmem_bench -x 1)
#   ldata  ldata_alloc + ldata_free in the kernel (ldata-misuse loop,
#          through lib/test_ldata.c)
#
# Lines "lwtrace_bench: ..." are the table (ns per operation, means over
# the rounds; ratio = traced / untraced).
ROUNDS=${LWB_ROUNDS:-7}
SECS=${LWB_SECONDS:-1}
LOOPS=${LWB_LOOPS:-200000}
. /e2e/lib.sh
W=/tmp/lwb
mkdir -p $W

trace_start() {	# trace_start ARGS...
	lwtrace_start $W/trace.out $W/trace.err "$@" || { cat $W/trace.err >&2; return 1; }
	tracer=$LWT_PID
}

trace_stop() {
	kill -INT $tracer
	wait $tracer || { cat $W/trace.err >&2; return 1; }
	lost=$(sed -n 's/.*lost events \([0-9]*\).*/\1/p' $W/trace.out | tail -1)
	[ "${lost:-x}" = 0 ] || echo "lwtrace_bench: warning: lw-trace lost ${lost:-?} events" >&2
}

xmem() { xmem_bench -x 1 -t "$SECS" | sed -n 's/^xmem_bench: xmem 1 pages: \([0-9.]*\) ns\/op$/\1/p'; }
ldata() { ldata-misuse loop "$LOOPS" | sed -n 's/^ldata_loop: .*, \([0-9.]*\) ns\/pair$/\1/p'; }

: > $W/samples
for r in $(seq "$ROUNDS"); do
	for loop in xmem ldata; do
		echo "$loop base $($loop)" >> $W/samples
		trace_start || exit 1
		echo "$loop traced $($loop)" >> $W/samples
		trace_stop || exit 1
		trace_start --stacks -L || exit 1
		echo "$loop full $($loop)" >> $W/samples
		trace_stop || exit 1
	done
done
# Every sample must be a number: a loop that failed fails the arm.
if awk 'NF != 3 || $3 !~ /^[0-9.]+$/ { bad = 1 } END { exit !bad }' $W/samples; then
	echo "lwtrace_bench: a loop failed:" >&2
	cat $W/samples >&2
	exit 1
fi
awk -v rounds="$ROUNDS" '
	{ sum[$1, $2] += $3 }
	END {
		printf "lwtrace_bench: %d rounds, means in ns per operation; ratio = traced / untraced\n", rounds
		printf "lwtrace_bench: %-30s %10s %10s %7s %12s %7s\n", "loop", "untraced", "lw-trace", "ratio", "--stacks -L", "ratio"
		n = split("xmem ldata", loops, " ")
		for (i = 1; i <= n; i++) {
			l = loops[i]
			b = sum[l, "base"] / rounds
			t = sum[l, "traced"] / rounds
			f = sum[l, "full"] / rounds
			name = l == "xmem" ? "xmem attach+detach, 1 page" : "ldata alloc+free"
			printf "lwtrace_bench: %-30s %10.1f %10.1f %7.2f %12.1f %7.2f\n", name, b, t, t / b, f, f / b
		}
		print "lwtrace_bench: END RESULTS"
	}' $W/samples
