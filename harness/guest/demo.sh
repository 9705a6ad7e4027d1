#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The main job's workload, run in the guest by `make run`: xmem-producer
# shares a buffer through /dev/xmem and fills 2000 messages of 64 KiB into
# 8 slots; xmem-consumer, another process, receives the descriptor over a
# unix socket and attaches, checks, answers and detaches each message while
# the producer writes the next ones.  Then two processes share through
# the XPMEM interface (tools/xpmem/xpmem-share: xpmem_make, xpmem_get,
# xpmem_attach, 200 rounds of 512 KiB each way, data verified).  lw-trace,
# with --lw-track and --ldata-track so that a report names the attachments
# and who allocated or first freed an element, watches all along; then a
# deliberately misbehaving program (lw-misuse, ldata-misuse: tools/lw-trace/
# tests) commits misuses that lw-trace must report, and its report ends the
# demo.
. /e2e/lib.sh
echo "== lw-mm demo: $(uname -r), $(nproc) CPUs on $(ls -d /sys/devices/system/node/node[0-9]* | wc -l) NUMA nodes"
echo "== $(ls -l /dev/xmem | awk '{print $1, $5, $6, $NF}')"
echo "== pinned pages before: $(pins)"
lwtrace_start /tmp/lw-trace.out /tmp/lw-trace.err -L --lw-track --ldata-track
tracer=$LWT_PID
echo "== lw-trace $(head -1 /tmp/lw-trace.out)"
xmem-producer -n 2000 -k 8 -S 64 &
producer=$!
xmem-consumer &
consumer=$!
wait $consumer
crc=$?
wait $producer
prc=$?
echo "== consumer exit status $crc, producer exit status $prc"

echo "== XPMEM: two processes share a 1 MiB buffer through libxpmem (xpmem-share)"
xpmem-share -n 200 -s 1024
xrc=$?
echo "== pinned pages after: $(pins)"

echo "== a misbehaving program: lw-misuse cross_thread, xmdetach_live, exit_leak, xmem_owner_exit; ldata-misuse double_free"
expected=0
mrc=0
for s in "lw-misuse cross_thread" "lw-misuse xmdetach_live" "lw-misuse exit_leak" \
	 "lw-misuse xmem_owner_exit" "ldata-misuse double_free"; do
	$s > /tmp/misuse.out || mrc=1
	expected=$((expected + $(grep -c '^expect' /tmp/misuse.out)))
done
sleep 0.5
kill -INT $tracer
wait $tracer
trc=$?
echo "== lw-trace report (exit status $trc):"
cat /tmp/lw-trace.out /tmp/lw-trace.err
caught=$(grep -cE '^[0-9:.]+ .* [0-9]+/[0-9]+ [a-z_]+ ' /tmp/lw-trace.out)
echo "== lw-trace caught $caught misuses; the programs committed $expected"
[ $crc = 0 ] && [ $prc = 0 ] && [ $xrc = 0 ] && [ $mrc = 0 ] && [ $trc = 0 ] && [ "$caught" = "$expected" ] && [ "$expected" -gt 0 ]
