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
	# Emptied here, not by the child's redirection, which may come after
	# the first grep below: a previous run's "Tracing" line would then be
	# taken for this one's, and a SIGINT sent while this one still loads
	# (SIGINT ignored, as for any background job) would be lost.
	: > "$_out"
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

# ucx_perf NAME TLS ARGS...: ucx_perftest ARGS between a server and a
# client process over UCX_TLS=TLS, meeting over TCP on the loopback (each
# run on a port of its own).  Prints the run and the client's "Final:"
# line (squeezed; also in /tmp/NAME.final) as "# " lines, and both sides'
# output when it fails.  Sets UCX_PERF_STATUS to both exit statuses.
# Fails unless both exit 0 and the client printed its final figures.
ucx_perf() {
	_name=$1 _tls=$2
	shift 2
	UCX_PORT=$((${UCX_PORT:-13337} + 1))
	UCX_TLS=$_tls timeout 300 ucx_perftest -p $UCX_PORT "$@" > /tmp/server.out 2>&1 &
	_server=$!
	_i=0
	# The server listens once it has set up UCX: wait for its message.
	while [ $_i -lt 300 ] && ! grep -q 'Waiting for connection' /tmp/server.out; do
		sleep 0.1
		_i=$((_i + 1))
	done
	UCX_TLS=$_tls timeout 300 ucx_perftest 127.0.0.1 -p $UCX_PORT "$@" > /tmp/client.out 2>&1
	_crc=$?
	wait $_server
	_src=$?
	_final=$(grep '^Final:' /tmp/client.out | tr -s ' ')
	echo "# $_name: UCX_TLS=$_tls ucx_perftest $*"
	echo "# $_name: $_final"
	echo "$_final" > "/tmp/$_name.final"
	UCX_PERF_STATUS="client $_crc, server $_src"
	if [ $_crc != 0 ] || [ $_src != 0 ] || [ -z "$_final" ]; then
		sed 's/^/#   client: /' /tmp/client.out | tail -15
		sed 's/^/#   server: /' /tmp/server.out | tail -15
		return 1
	fi
	return 0
}
