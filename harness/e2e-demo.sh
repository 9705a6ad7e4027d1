#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The main job's workload, run in the guest by `make run`: xmem-producer
# shares a buffer through /dev/xmem and fills 2000 messages of 64 KiB into
# 8 slots; xmem-consumer, another process, receives the descriptor over a
# unix socket and attaches, checks, answers and detaches each message while
# the producer writes the next ones.
pins() { echo 1 > /proc/sys/vm/stat_refresh; awk '/^nr_foll_pin_acquired /{a=$2} /^nr_foll_pin_released /{r=$2} END{print a-r}' /proc/vmstat; }
echo "== lw-mm demo: $(uname -r), $(nproc) CPUs on $(ls -d /sys/devices/system/node/node[0-9]* | wc -l) NUMA nodes"
echo "== $(ls -l /dev/xmem | awk '{print $1, $5, $6, $NF}')"
echo "== pinned pages before: $(pins)"
xmem-producer -n 2000 -k 8 -S 64 &
producer=$!
xmem-consumer &
consumer=$!
wait $consumer
crc=$?
wait $producer
prc=$?
echo "== pinned pages after: $(pins)"
echo "== consumer exit status $crc, producer exit status $prc"
[ $crc = 0 ] && [ $prc = 0 ]
