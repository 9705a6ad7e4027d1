#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# lw-trace's overhead, run in the guest by `make bench-lwtrace` (harness/
# e2e.sh lwbench) on the production bench kernel: the same tight loops
# without lw-trace, with lw-trace as an operator runs it (no BPF program
# per call), tracking every call (--lw-track for the xmem loop,
# --ldata-track for the ldata loop: a BPF program per call) and with
# --stacks -L and the tracking (a stack per call, latency histograms),
# alternated over ROUNDS rounds so that drift hits every arm alike.
#
#   xmem   XMEM_IOC_ATTACH + XMEM_IOC_DETACH of one page (xmem_bench -x 1)
#   lw     as_lw_att64() + as_lw_det64() of one page in the kernel (lw-misuse
#          loop, through lib/test_lw_attach.c): the services without the
#          system calls, where tracing weighs most
#   ldata  ldata_alloc + ldata_free in the kernel (ldata-misuse loop,
#          through lib/test_ldata.c)
#
# Lines "lwtrace_bench: ..." are the table (ns per operation and ratio =
# traced / untraced, medians over the rounds, with the ratios' range) and
# the targets.
ROUNDS=${LWB_ROUNDS:-7}
SECS=${LWB_SECONDS:-1}
LOOPS=${LWB_LOOPS:-200000}
LW_LOOPS=${LWB_LW_LOOPS:-300000}
# A step (a loop, starting or stopping lw-trace) takes seconds; one still
# running after this long is reported with the state and kernel stack of
# every task it may be waiting on (an arm once stopped, rarely, until
# e2e's timeout, with nothing to say where).
WATCHDOG=${LWB_WATCHDOG:-180}
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

# The bench's tasks, any task in D state, and the kernel's workers that
# attach/detach and RCU wait on: comm, state, wait channel, kernel stack.
dump_tasks() {
	for d in /proc/[0-9]*; do
		st=$(cut -d' ' -f3 "$d/stat" 2>/dev/null) || continue
		comm=$(cat "$d/comm" 2>/dev/null)
		case "$comm" in
		lw-trace|ldata-misuse|xmem_bench|sh|kworker*|rcu*|migration*) ;;
		*) [ "$st" = D ] || continue ;;
		esac
		[ "$st" = I ] && continue	# idle kernel threads
		echo "lwb-watchdog:   pid ${d#/proc/} $comm state $st wchan $(cat "$d/wchan" 2>/dev/null)"
		# Signals pending, blocked, ignored and caught, for a tool that
		# does not stop.
		echo "lwb-watchdog:     $(grep -E '^(SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt):' \
			"$d/status" 2>/dev/null | tr '\t\n' '  ')"
		sed 's/^/lwb-watchdog:     /' "$d/stack" 2>/dev/null
	done
	# Blocked tasks to the console too, if the kernel has sysrq.
	[ -w /proc/sysrq-trigger ] && echo w > /proc/sysrq-trigger
}

# step WHAT CMD...: CMD, and the task dump if it outlasts WATCHDOG seconds.
step() {
	_what=$1
	shift
	( sleep "$WATCHDOG"
	  echo "lwb-watchdog: $_what still running after ${WATCHDOG}s" >&2
	  dump_tasks >&2 ) &
	_wd=$!
	"$@"
	_rc=$?
	kill $_wd 2>/dev/null
	wait $_wd 2>/dev/null
	return $_rc
}

# measure ARM: one run of $loop, its ns per operation added to the samples.
measure() { echo "$loop $1 $($loop)" >> $W/samples; }

xmem() { xmem_bench -x 1 -t "$SECS" | sed -n 's/^xmem_bench: xmem 1 pages: \([0-9.]*\) ns\/op$/\1/p'; }
lw() { lw-misuse loop "$LW_LOOPS" | sed -n 's/^lw_loop: .*, \([0-9.]*\) ns\/pair$/\1/p'; }
ldata() { ldata-misuse loop "$LOOPS" | sed -n 's/^ldata_loop: .*, \([0-9.]*\) ns\/pair$/\1/p'; }

: > $W/samples
for r in $(seq "$ROUNDS"); do
	for loop in xmem lw ldata; do
		echo "lwb: round $r/$ROUNDS, $loop loop"
		at="round $r, $loop loop"
		step "$at, untraced" measure base
		step "$at, lw-trace starting" trace_start || exit 1
		step "$at, under lw-trace" measure traced
		step "$at, lw-trace stopping" trace_stop || exit 1
		track=--lw-track
		[ $loop = ldata ] && track=--ldata-track
		step "$at, lw-trace $track starting" trace_start $track || exit 1
		step "$at, under lw-trace $track" measure track
		step "$at, lw-trace $track stopping" trace_stop || exit 1
		step "$at, lw-trace --stacks -L starting" trace_start --stacks -L $track || exit 1
		step "$at, under lw-trace --stacks -L" measure full
		step "$at, lw-trace --stacks -L stopping" trace_stop || exit 1
	done
done
# Every sample must be a number: a loop that failed fails the arm.
if awk 'NF != 3 || $3 !~ /^[0-9.]+$/ { bad = 1 } END { exit !bad }' $W/samples; then
	echo "lwtrace_bench: a loop failed:" >&2
	cat $W/samples >&2
	exit 1
fi
# Per round, the traced and full runs over that round's untraced one; the
# median of the rounds' times and ratios, with the lowest and highest ratio.
awk -v rounds="$ROUNDS" '
	function median(a, n,    i, j, t, v) {
		for (i = 1; i <= n; i++) v[i] = a[i]
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
				t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
			}
		lo = v[1]; hi = v[n]
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	{ r = ++seen[$1, $2]; t[$1, $2, r] = $3 }
	END {
		printf "lwtrace_bench: %d rounds; ns per operation and ratio = traced / untraced of the same round: medians of the rounds (ratio: lowest-highest)\n", rounds
		printf "lwtrace_bench: %-28s %9s %9s %17s %13s %17s %11s %17s\n", "loop", "untraced", "lw-trace", "ratio", "--*-track", "ratio", "--stacks -L", "ratio"
		n = split("xmem lw ldata", loops, " ")
		for (i = 1; i <= n; i++) {
			l = loops[i]
			for (r = 1; r <= rounds; r++) {
				b[r] = t[l, "base", r]; tr[r] = t[l, "traced", r]; f[r] = t[l, "full", r]
				rt[r] = tr[r] / b[r]; rf[r] = f[r] / b[r]
				k[r] = t[l, "track", r]; rk[r] = k[r] / b[r]
			}
			mb = median(b, rounds); mt = median(tr, rounds); mf = median(f, rounds)
			mrt = median(rt, rounds); lt = lo; ht = hi
			mrf = median(rf, rounds); lf = lo; hf = hi
			mk = median(k, rounds); mrk = median(rk, rounds); lk = lo; hk = hi
			track = sprintf("%13.1f %5.2f (%4.2f-%4.2f)", mk, mrk, lk, hk)
			name = l == "xmem" ? "xmem attach+detach, 1 page" : l == "lw" ? "in-kernel lw attach+detach" : "ldata alloc+free"
			printf "lwtrace_bench: %-28s %9.1f %9.1f %5.2f (%4.2f-%4.2f) %s %11.1f %5.2f (%4.2f-%4.2f)\n", name, mb, mt, mrt, lt, ht, track, mf, mrf, lf, hf
			limit[i] = l == "xmem" ? 1.20 : l == "lw" ? 0 : 2.0
			med[i] = mrt; low[i] = lt; high[i] = ht; what[i] = name
		}
		for (i = 1; i <= n; i++) if (limit[i])
			printf "lwtrace_bench: target lw-trace on the %s loop %.2f (%.2f-%.2f) <= %.2f %s\n", what[i], med[i], low[i], high[i], limit[i], med[i] <= limit[i] ? "met" : "MISSED"
		print "lwtrace_bench: END RESULTS"
	}' $W/samples
