#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# xmem_torture in the guest, under memory pressure (stress-ng --vm and
# --mmap) and CPU hotplug (every CPU but the first taken offline and back,
# one at a time, all along).  Usage: torture.sh SECONDS [xmem_torture args]
# Its TAP is xmem_torture's, with the pressure's figures as diagnostics.
secs=${1:-30}
shift
end=$(($(date +%s) + secs))
stress=
if command -v stress-ng > /dev/null; then
	stress-ng --vm 1 --vm-bytes 25% --mmap 1 --mmap-bytes 10% \
		--timeout "$((secs + 5))s" --quiet > /tmp/stress.out 2>&1 &
	stress=$!
fi
(
	n=0
	while [ "$(date +%s)" -lt "$end" ]; do
		for c in /sys/devices/system/cpu/cpu[1-9]*; do
			[ -w "$c/online" ] || continue
			echo 0 > "$c/online" 2>/dev/null && n=$((n + 1))
			sleep 0.2
			echo 1 > "$c/online" 2>/dev/null
			sleep 0.2
		done
	done
	echo "$n" > /tmp/hotplug.count
) &
hotplug=$!
xmem_torture -t "$secs" "$@"
rc=$?
wait "$hotplug"
for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
	echo 1 > "$c" 2>/dev/null
done
if [ -n "$stress" ]; then
	kill "$stress" 2>/dev/null
	wait "$stress"
	echo "# memory pressure: stress-ng --vm 1 --vm-bytes 25% --mmap 1 --mmap-bytes 10%"
else
	echo "# memory pressure: none (no stress-ng in the guest)"
fi
echo "# CPU hotplug: $(cat /tmp/hotplug.count 2>/dev/null || echo 0) offline/online cycles"
exit $rc
