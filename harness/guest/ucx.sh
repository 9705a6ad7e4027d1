#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# UCX over libxpmem in the guest (make ucx; harness/e2e.sh ucx).  UCX is
# Debian's, built against tools/xpmem by harness/ucx-build.sh; its files
# sit at their host paths (harness/ucx-files.sh), its prefix is in
# /e2e/ucx-prefix.  Prints TAP:
#   - ucx_info -d lists the xpmem transport (and cma), so UCX found
#     /dev/xmem through libxpmem;
#   - ucx_perftest, a server and a client process meeting over TCP on the
#     loopback interface, runs put bandwidth at 1 MiB and put latency at
#     8 bytes over UCX_TLS=xpmem, and the same over cma (Linux's
#     process_vm_writev() copy) as the baseline, in this boot;
#   - ucx-check (harness/ucx-check.c) moves 1 MiB with ucp_put_nbx() and
#     ucp_get_nbx() between two processes, both ways, over UCX_TLS=xpmem
#     and over cma, and checks every word (ucx_perftest never does);
#   - the pins are back where they were.
# The figures are diagnostics ("# " lines): ratios to read, never asserted.
. /e2e/lib.sh
prefix=$(cat /e2e/ucx-prefix)
PATH=$PATH:$prefix/bin
export PATH
n=0
bad=0
tap() {	# tap OK NAME [DIAGNOSTIC]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2${3:+ # $3}"
		bad=1
	fi
}

# Loopback for the two processes' rendezvous; /dev/shm for UCX's posix
# transport (its own shared-memory segments).
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm
pins0=$(pins)

echo "TAP version 13"
echo "1..10"
ucx_info -v | sed 's/^/# /'
ucx_info -d > /tmp/ucx_info.out 2>&1
grep -E '^#[[:space:]]+(Transport|Device):' /tmp/ucx_info.out | tr -s ' \t' ' '
grep -Eq '^#[[:space:]]+Transport: xpmem$' /tmp/ucx_info.out
tap $? "ucx_info -d lists the xpmem transport"
grep -Eq '^#[[:space:]]+Transport: cma$' /tmp/ucx_info.out
tap $? "ucx_info -d lists the cma transport"

# perf NAME TLS ARGS...: ucx_perf (lib.sh), a TAP line.
perf() {
	name=$1
	ucx_perf "$@"
	tap $? "$name ($UCX_PERF_STATUS)"
}

perf xpmem_put_bw xpmem -t put_bw -x xpmem -d memory -D bcopy -s 1048576 -n 200 -w 20
perf cma_put_bw cma -t put_bw -x cma -d memory -D zcopy -s 1048576 -n 200 -w 20
perf xpmem_put_lat xpmem -t put_lat -x xpmem -d memory -s 8 -n 2000 -w 200
perf cma_put_lat cma -t put_lat -x cma -d memory -D zcopy -s 8 -n 2000 -w 200
perf ucp_xpmem_put_bw xpmem -t ucp_put_bw -s 1048576 -n 200 -w 20

xbw=$(awk '{ print $7 }' /tmp/xpmem_put_bw.final)
cbw=$(awk '{ print $7 }' /tmp/cma_put_bw.final)
xlat=$(awk '{ print $3 }' /tmp/xpmem_put_lat.final)
clat=$(awk '{ print $3 }' /tmp/cma_put_lat.final)
echo "# put bandwidth at 1 MiB (MB/s, overall): xpmem $xbw, cma $cbw" \
     "($(awk -v a="$xbw" -v b="$cbw" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'))"
echo "# put latency at 8 B (usec, 50th percentile): xpmem $xlat, cma $clat"

for tls in xpmem cma,posix; do
	UCX_TLS=$tls ucx-check -n 20 -s 1048576 > /tmp/check.out 2>&1
	rc=$?
	sed 's/^/# /' /tmp/check.out
	tap $rc "ucx-check over UCX_TLS=$tls: 1 MiB put and get between two processes, every word verified"
done

pins1=$(pins)
[ "$pins0" = "$pins1" ]
tap $? "pins back where they were ($pins0, then $pins1)"
exit $bad
