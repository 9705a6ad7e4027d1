#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench-xpmem in the guest (e2e.sh xpmembench): bench/xpmem_bench.c
# through our libxpmem (/e2e/lib), and, when the host built the out-of-tree
# XPMEM (make bench XPMEM_SRC=DIR: /e2e/peer holds xpmem.ko and its
# libxpmem.so.0), through that one too, with its module loaded in this same
# boot.  One process per repetition and library, the libraries alternating,
# so that both see the same guest at the same time; then the report.
# /e2e/bench-args: xpmem_bench's arguments; /e2e/bench-reps: repetitions.
# With UCX (built by make ucx; /e2e/ucx-prefix), ucx_perftest's put
# bandwidth at 1 MiB over UCX_TLS=xpmem through each library and over cma,
# alternating, five runs each, medians and ratios.
. /e2e/lib.sh
args=$(cat /e2e/bench-args)
reps=$(cat /e2e/bench-reps)
raw=/tmp/xpmem_bench.raw
peer=
rm -f "$raw"
if [ -f /e2e/peer/xpmem.ko ]; then
	if insmod /e2e/peer/xpmem.ko && [ -c /dev/xpmem ]; then
		peer=/e2e/peer
	else
		echo "xpmem_bench: the out-of-tree XPMEM module did not load; its arm is skipped"
	fi
else
	echo "xpmem_bench: no XPMEM_SRC: the arm against the out-of-tree XPMEM is skipped (make bench XPMEM_SRC=DIR)"
fi
i=0
while [ "$i" -lt "$reps" ]; do
	# shellcheck disable=SC2086
	LD_LIBRARY_PATH=/e2e/lib xpmem_bench $args -l ours -r 1 -i "$i" -o "$raw" || exit 1
	if [ -n "$peer" ]; then
		# shellcheck disable=SC2086
		LD_LIBRARY_PATH=$peer xpmem_bench $args -l xpmem -r 1 -i "$i" -o "$raw" || exit 1
	fi
	i=$((i + 1))
done
LD_LIBRARY_PATH=/e2e/lib xpmem_bench -R "$raw" || exit 1
[ -f /e2e/ucx-prefix ] || {
	echo "xpmem_bench: no UCX build (make ucx): the UCX arm is skipped"
	exit 0
}

PATH=$PATH:$(cat /e2e/ucx-prefix)/bin
export PATH
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
if [ -n "$peer" ]; then
	# Which libxpmem UCX's xpmem transport loads with the peer's first.
	LD_LIBRARY_PATH=$peer LD_DEBUG=libs ucx_info -d 2>&1 |
		grep -o 'calling init: [^ ]*libxpmem[^ ]*' | sed 's/^/xpmem_bench: ucx, with XPMEM: /'
fi
xbw="-t put_bw -x xpmem -d memory -D bcopy -s 1048576 -n 1000 -w 100"
cbw="-t put_bw -x cma -d memory -D zcopy -s 1048576 -n 1000 -w 100"
: > /tmp/ucx.bw
for i in 0 1 2 3 4; do
	# shellcheck disable=SC2086
	ucx_perf ours xpmem $xbw || exit 1
	echo "ours $(awk '{ print $7 }' /tmp/ours.final)" >> /tmp/ucx.bw
	if [ -n "$peer" ]; then
		export LD_LIBRARY_PATH=$peer
		# shellcheck disable=SC2086
		ucx_perf xpmem xpmem $xbw || exit 1
		unset LD_LIBRARY_PATH
		echo "xpmem $(awk '{ print $7 }' /tmp/xpmem.final)" >> /tmp/ucx.bw
	fi
	# shellcheck disable=SC2086
	ucx_perf cma cma $cbw || exit 1
	echo "cma $(awk '{ print $7 }' /tmp/cma.final)" >> /tmp/ucx.bw
done
# Medians of the five runs of each, and the ratios.
sort -k1,1 -k2,2n /tmp/ucx.bw | awk '
	{ v[$1, ++n[$1]] = $2 }
	END {
		for (k in n)
			m[k] = v[k, int((n[k] + 1) / 2)]
		peer = n["xpmem"] > 0
		printf "xpmem_bench: ucx put_bw 1 MiB, MB/s, median of 5: ours %.1f", m["ours"]
		if (peer)
			printf ", XPMEM %.1f", m["xpmem"]
		printf ", cma %.1f\n", m["cma"]
		r = m["ours"] / m["cma"]
		printf "xpmem_bench: ucx ours/cma %.2f (target >= 1.5: %s)\n", r, (r >= 1.5 ? "met" : "missed")
		if (peer) {
			r = m["ours"] / m["xpmem"]
			printf "xpmem_bench: ucx ours/XPMEM %.2f (target >= 1.0: %s)\n", r, (r >= 1.0 ? "met" : "missed")
		}
	}'
