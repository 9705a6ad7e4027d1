#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# lw-trace's end-to-end scenarios, run in the guest as /e2e/tests/lw_trace
# (harness/e2e.sh).  Each run starts lw-trace, waits for it to be
# attached, runs misuse programs (tools/lw-trace/tests: they print the
# events lw-trace must report as "expect {...}" lines), stops it with
# SIGINT and prints everything, framed, for harness/lw_trace_check.py on
# the host, which does the asserting:
#
#   ### SCENARIO RUN PROG NAME / program output / ### SCENARIO-END ... pid=P rc=N
#   ### TRACE RUN rc=N, ### OUT RUN <lw-trace stdout line>, ### ERR RUN <stderr>
. /e2e/lib.sh
W=/tmp/lwt
mkdir -p "$W"

start_trace() {	# start_trace RUN ARGS...: lw-trace ARGS, attached
	run=$1
	shift
	echo "### START $run lw-trace $*"
	lwtrace_start "$W/$run.out" "$W/$run.err" "$@"
	echo $LWT_PID > "$W/$run.pid"
}

stop_trace() {	# stop_trace RUN: SIGINT, its exit status and output
	run=$1
	sleep 0.5	# lw-trace polls its ring buffer every 100 ms
	pid=$(cat "$W/$run.pid")
	# A zombie (it ended by itself) takes signals too: look first.
	if [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] &&
	   kill -INT "$pid" 2>/dev/null; then
		echo "### SIGNALLED $run"
	fi
	wait "$pid"
	echo "### TRACE $run rc=$?"
	sed "s/^/### OUT $run /" "$W/$run.out"
	sed "s/^/### ERR $run /" "$W/$run.err"
}

await_end() {	# await_end RUN: until the run ends by itself (60 s at most)
	pid=$(cat "$W/$1.pid")
	i=0
	while [ $i -lt 300 ] && [ -e "/proc/$pid" ] &&
	      [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
		sleep 0.2
		i=$((i + 1))
	done
}

scenario() {	# scenario RUN PROG NAME
	echo "### SCENARIO $1 $2 $3"
	"$2" "$3" &
	p=$!
	wait $p
	echo "### SCENARIO-END $1 $2 $3 pid=$p rc=$?"
}

# 1. Every misuse, with stacks, tp_btf, and every lw and ldata call followed.
start_trace main -j --stacks --lw-track --ldata-track
for s in $(lw-misuse -l); do
	scenario main lw-misuse "$s"
done
for s in $(ldata-misuse -l); do
	scenario main ldata-misuse "$s"
done
stop_trace main

# 1a. Without --lw-track: every lw misuse still, the attachments named by
# the kernel.
start_trace lw -j --stacks
for s in $(lw-misuse -l); do
	scenario lw lw-misuse "$s"
done
stop_trace lw

# 1b. Without --ldata-track: every ldata misuse still, from the kernel.
start_trace ldata -j --stacks
for s in $(ldata-misuse -l); do
	scenario ldata ldata-misuse "$s"
done
stop_trace ldata

# 2. The raw_tp fallback sees the same.
start_trace rawtp -j --raw-tp
for s in clean cross_thread exit_leak xmdetach_live; do
	scenario rawtp lw-misuse $s
done
scenario rawtp ldata-misuse wrong_pool
stop_trace rawtp

# 3. -p: only the process asked for, while another misbehaves.
mkfifo "$W/gate"
sh -c "read x < $W/gate; exec lw-misuse cross_thread" > "$W/target.out" &
target=$!
start_trace filter -j -p $target
scenario filter lw-misuse detach_unattached
echo go > "$W/gate"
wait $target
echo "### TARGET filter pid=$target rc=$?"
sed "s/^/### TARGET-OUT filter /" "$W/target.out"
stop_trace filter

# 4. Human output, per-process counts and latency histograms.
start_trace human -L
scenario human lw-misuse clean
scenario human lw-misuse exit_leak
stop_trace human

# 5. Latency histograms in JSON: every attach and detach of a clean run.
start_trace latency -j -L
scenario latency lw-misuse clean
stop_trace latency

# 6. --fail-on-misuse: status 1 after a misuse, 0 without.
start_trace failbad -j --fail-on-misuse
scenario failbad lw-misuse window_full
stop_trace failbad
start_trace failclean -j --fail-on-misuse
scenario failclean lw-misuse clean
stop_trace failclean

# 7. Ending by itself: -d, and [interval] [count] summaries.
start_trace duration -j -d 2
scenario duration lw-misuse clean
await_end duration
stop_trace duration
start_trace periodic -j 1 2
scenario periodic lw-misuse clean
await_end periodic
stop_trace periodic

# 8. The kernel's own loop (lib/test_lw_attach.c) under --lw-track -L:
# every pair is seen, the driver refuses bad arguments, nothing stays pinned.
before=$(pins)
start_trace kloop -j --lw-track -L
out=$(lw-misuse loop 1000 2>&1)
echo "### KLOOP rc=$? $out" | tr '\n' ' '
echo
stop_trace kloop
echo "### KLOOP-PINS before=$before after=$(pins)"

# 9. Not root: a clear error, status 2.
su -s /bin/sh nobody -c "lw-trace -j" > "$W/nonroot.out" 2>&1
echo "### NONROOT rc=$?"
sed "s/^/### NONROOT-OUT /" "$W/nonroot.out"
exit 0
