# SPDX-License-Identifier: GPL-2.0
# Shell functions the guest-side scripts share (busybox sh), installed as
# /e2e/lib.sh by harness/e2e.sh; source it with ". /e2e/lib.sh".

# pins: pages pinned with FOLL_PIN and not yet released, machine-wide.
pins() {
	echo 1 > /proc/sys/vm/stat_refresh
	awk '/^nr_foll_pin_acquired /{a=$2} /^nr_foll_pin_released /{r=$2} END{print a-r}' /proc/vmstat
}

# lwtrace_start OUT ERR ARGS...: start lw-trace ARGS in the background with
# its output in OUT and ERR, and wait until it is attached (its first line,
# "Tracing ..." or a JSON start record).  Sets LWT_PID.  Fails if lw-trace
# ends first or is not attached within two minutes.
lwtrace_start() {
	_out=$1 _err=$2
	shift 2
	lw-trace "$@" > "$_out" 2> "$_err" &
	LWT_PID=$!
	_i=0
	until grep -q -e '^Tracing' -e '"type":"start"' "$_out" 2>/dev/null; do
		kill -0 "$LWT_PID" 2>/dev/null || return 1
		_i=$((_i + 1))
		[ $_i -gt 1200 ] && return 1
		sleep 0.1
	done
	return 0
}
