#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# End-to-end runs in the booted test kernel: build the user-space programs
# statically against the patched tree's exported headers, pack them with
# static busybox into an initramfs, boot the kernel that KUnit used under
# QEMU (4 CPUs on 2 NUMA nodes, TCG), and bring the results back.
#
# The guest side is in harness/guest/: init (the initramfs's /init), lib.sh
# (what the guest scripts share), demo.sh, lw-trace-e2e.sh and
# lw-trace-bench.sh.  A kernel that was not built from the tree as it is
# now is refused (harness/kernel-fresh.sh).
#
# Usage: e2e.sh MODE KOBJ TREE OUT [RESULT-FILE]
#   MODE test   run every program in the guest's /e2e/tests (kselftest TAP),
#               parse it, scan the console; one "ok"/"not ok" line per case
#               and per check in RESULT-FILE
#   MODE demo   run /e2e/demo (the producer/consumer workload) and show
#               its output as it runs
#   MODE bench  run /e2e/bench (the user-space benchmark) and keep its table
#   MODE xpmembench  run bench/xpmem_bench.c (through libxpmem) and keep
#               its table
#   MODE lwbench  run harness/lw-trace-bench.sh (lw-trace's overhead)
#   MODE fuzz   run xmem_fuzz (E2E_FUZZ_ARGS), results as for test
#   MODE torture  run xmem_torture under memory pressure and CPU hotplug
#               (harness/guest/torture.sh, E2E_TORTURE_ARGS: seconds first)
#   MODE ucx    run harness/guest/ucx.sh with the UCX that
#               harness/ucx-build.sh built in E2E_UCX (make ucx)
# The test mode runs short, fixed-seed passes of both.
# Environment: QEMU_ARGS (machine, memory, NUMA), E2E_TIMEOUT (seconds,
# default 900), E2E_BENCH_ARGS (arguments of the benchmark), E2E_FUZZ_ARGS,
# E2E_TORTURE_ARGS.
#
# The guest writes what it runs to its second serial port (OUT/guest.log),
# the kernel to the first (OUT/console.log), so printk never splits a TAP
# line.  A missing end marker means the guest crashed or timed out.
set -uo pipefail
mode=$1 kobj=$2 tree=$3 out=$4 result=${5:-/dev/null}
repo=$(cd "$(dirname "$0")/.." && pwd)
timeout=${E2E_TIMEOUT:-900}
qemu_args=${QEMU_ARGS:--accel tcg -smp 4 -m 2G}
bzimage=$kobj/arch/x86/boot/bzImage
root=$out/root

fail() {	# fail MESSAGE: a failed run, with its reason in the results
	echo "not ok e2e $mode: $1" >> "$result"
	echo "e2e: $1" >&2
	exit 1
}

case "$mode" in test|demo|bench|xpmembench|lwbench|fuzz|torture|ucx) ;; *) echo "e2e: unknown mode $mode" >&2; exit 2 ;; esac
[ -f "$bzimage" ] || fail "no kernel at $bzimage (build it first)"
why=$("$repo/harness/kernel-fresh.sh" "$kobj" "$tree" 2>&1) || fail "$why"
rm -rf "$root" "$out/console.log" "$out/guest.log"
mkdir -p "$root"/{bin,e2e/tests,e2e/fuzz,e2e/torture,e2e/ucx,proc,sys,dev,tmp,run} ||
	fail "cannot create $root"

# The exported headers of the patched tree, as a user program sees them.
if ! make -s -C "$tree" O="$kobj" ARCH=x86_64 headers_install > "$out/headers.log" 2>&1; then
	cat "$out/headers.log" >&2
	fail "make headers_install failed"
fi
ccd=(gcc -O2 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare
     -isystem "$kobj/usr/include")
ccs=("${ccd[@]}" -static)
host_copy() {	# host_copy FILE...: each FILE into the root at its host path
	local f
	for f in "$@"; do
		mkdir -p "$root$(dirname "$f")" && cp -L "$f" "$root$f" || fail "cannot copy $f"
	done
}
libs_of() {	# libs_of PROGRAM: the host paths of the libraries it loads
	ldd "$1" 2>/dev/null | grep -o '/[^ ]*'
}
build() {	# build SOURCE OUTPUT [LIBS]; dynamically linked if DYNAMIC=1
	local cc=("${ccs[@]}")
	[ "${DYNAMIC:-0}" = 1 ] && cc=("${ccd[@]}")
	if ! "${cc[@]}" "$1" -o "$2" "${@:3}" > "$out/cc.log" 2>&1 || [ -s "$out/cc.log" ]; then
		cat "$out/cc.log" >&2
		fail "cannot build $1 without warnings"
	fi
}
build "$tree/tools/testing/selftests/xmem/xmem_test.c" "$root/e2e/tests/xmem_test" -lpthread
build "$tree/tools/testing/selftests/xmem/xmem_fuzz.c" "$root/bin/xmem_fuzz" -lpthread
build "$tree/tools/testing/selftests/xmem/xmem_torture.c" "$root/bin/xmem_torture" -lpthread
# The XPMEM-compatible library, and its suite linked with libxpmem.a as a
# client program would be.
mkdir -p "$out/xpmem"
if ! make -s -C "$tree/tools/xpmem" OUTPUT="$out/xpmem" \
	KHDR_INCLUDES="-isystem $kobj/usr/include" all > "$out/xpmem.log" 2>&1 ||
	grep -q 'warning:' "$out/xpmem.log"; then
	cat "$out/xpmem.log" >&2
	fail "cannot build tools/xpmem without warnings"
fi
build "$tree/tools/testing/selftests/xpmem/xpmem_test.c" "$root/e2e/tests/xpmem_test" \
	-I"$tree/tools/xpmem" "$out/xpmem/libxpmem.a" -lpthread
build "$tree/tools/xpmem/xpmem-share.c" "$root/bin/xpmem-share" \
	-I"$tree/tools/xpmem" "$out/xpmem/libxpmem.a" -lpthread
build "$tree/tools/xmem/xmem-producer.c" "$root/bin/xmem-producer"
build "$tree/tools/xmem/xmem-consumer.c" "$root/bin/xmem-consumer"
if [ "$mode" = bench ] || [ "$mode" = lwbench ]; then
	build "$repo/bench/xmem_bench.c" "$root/bin/xmem_bench" -I"$tree/tools/xmem" -lpthread
fi
# The XPMEM benchmark is linked with libxpmem.so.0, ours from /e2e/lib, so
# that the out-of-tree XPMEM's library (E2E_XPMEM_PEER: the OUT of
# harness/xpmem-peer.sh, with its module) replaces it in the same boot.
if [ "$mode" = xpmembench ]; then
	mkdir -p "$root/e2e/lib" &&
	cp -L "$out/xpmem/libxpmem.so.0" "$root/e2e/lib/" || fail "no libxpmem.so.0"
	DYNAMIC=1 build "$repo/bench/xpmem_bench.c" "$root/bin/xpmem_bench" \
		-I"$tree/tools/xpmem" -L"$out/xpmem" -l:libxpmem.so.0
	# shellcheck disable=SC2046
	host_copy $(libs_of "$root/bin/xpmem_bench")
	if [ -n "${E2E_XPMEM_PEER:-}" ]; then
		mkdir -p "$root/e2e/peer" &&
		cp "$E2E_XPMEM_PEER/xpmem.ko" "$E2E_XPMEM_PEER/lib/libxpmem.so.0" "$root/e2e/peer/" ||
			fail "no XPMEM module or library in $E2E_XPMEM_PEER"
	fi
	cp "$repo/harness/guest/xpmem-bench.sh" "$root/e2e/xpmembench" && chmod +x "$root/e2e/xpmembench" &&
	echo "${E2E_BENCH_REPS:-7}" > "$root/e2e/bench-reps" || fail "cannot write the XPMEM benchmark"
fi
# lw-trace (vmlinux.h from this kernel's BTF) and its misuse programs.
if ! make -s -C "$tree/tools/lw-trace" OUTPUT="$out/lw-trace" \
	VMLINUX="$kobj/vmlinux" KHDR_INCLUDES="-isystem $kobj/usr/include" \
	all tests > "$out/lw-trace.log" 2>&1 || grep -q 'warning:' "$out/lw-trace.log"; then
	cat "$out/lw-trace.log" >&2
	fail "cannot build tools/lw-trace without warnings"
fi
cp "$out"/lw-trace/{lw-trace,lw-misuse,ldata-misuse} "$root/bin/" || fail "no lw-trace binaries"
mkdir -p "$root/etc"
echo 'root:x:0:0::/tmp:/bin/sh' > "$root/etc/passwd"
echo 'nobody:x:65534:65534::/tmp:/bin/sh' >> "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
cp /bin/busybox "$root/bin/busybox" || fail "no /bin/busybox (busybox-static)"
g=$repo/harness/guest
cp "$g/init" "$root/init" && cp "$g/lib.sh" "$root/e2e/lib.sh" &&
cp "$g/demo.sh" "$root/e2e/demo" && cp "$g/lw-trace-e2e.sh" "$root/e2e/tests/lw_trace" &&
cp "$g/lw-trace-bench.sh" "$root/e2e/lwbench" &&
chmod +x "$root/init" "$root/e2e/demo" "$root/e2e/tests/lw_trace" "$root/e2e/lwbench" ||
	fail "cannot copy harness/guest"
echo "$mode" > "$root/e2e/mode"
echo "${E2E_BENCH_ARGS:-}" > "$root/e2e/bench-args"
# The fuzzer and the torture suite: short fixed-seed passes in test mode.
printf '#!/bin/sh\nexec xmem_fuzz %s\n' "${E2E_FUZZ_ARGS:--s 20261130 -n 150000 -t 40}" \
	> "$root/e2e/$([ "$mode" = fuzz ] && echo fuzz || echo tests)/xmem_fuzz"
cp "$g/torture.sh" "$root/bin/torture.sh" &&
printf '#!/bin/sh\nexec torture.sh %s\n' "${E2E_TORTURE_ARGS:-25 -s 20261130}" \
	> "$root/e2e/$([ "$mode" = torture ] && echo torture || echo tests)/xmem_torture" &&
chmod +x "$root"/e2e/*/xmem_* "$root/bin/torture.sh" || fail "cannot write the fuzz and torture runs"
# UCX, its modules and what they load, at their host paths; the guest
# script finds ucx_info and ucx_perftest through /e2e/ucx-prefix.
# The XPMEM benchmark takes UCX too when E2E_UCX is given.
if [ "$mode" = ucx ] || { [ "$mode" = xpmembench ] && [ -n "${E2E_UCX:-}" ]; }; then
	[ -n "${E2E_UCX:-}" ] || fail "E2E_UCX must name the build of harness/ucx-build.sh"
	"$repo/harness/ucx-files.sh" "$E2E_UCX" "$root" > /dev/null 2> "$out/ucx-files.log" ||
		{ cat "$out/ucx-files.log" >&2; fail "cannot copy UCX into the initramfs"; }
	up=$(realpath "$E2E_UCX/prefix")
	echo "$up" > "$root/e2e/ucx-prefix" || fail "cannot write /e2e/ucx-prefix"
fi
if [ "$mode" = ucx ]; then
	# ucx-check (harness/ucx-check.c): the bytes UCX moved, verified.
	if ! gcc -O2 -Wall -Wextra -I"$up/include" "$repo/harness/ucx-check.c" \
		-o "$root/bin/ucx-check" -L"$up/lib" -lucp -lucs -Wl,-rpath,"$up/lib" \
		> "$out/cc.log" 2>&1 || [ -s "$out/cc.log" ]; then
		cat "$out/cc.log" >&2
		fail "cannot build harness/ucx-check.c without warnings"
	fi
	cp "$g/ucx.sh" "$root/e2e/ucx/ucx" && chmod +x "$root/e2e/ucx/ucx" ||
		fail "cannot write the UCX run"
fi
# stress-ng and the libraries it is linked with, for the memory pressure.
if [ "$mode" = test ] || [ "$mode" = torture ]; then
	# shellcheck disable=SC2046
	host_copy /usr/bin/stress-ng $(libs_of /usr/bin/stress-ng)
fi
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/initramfs.gz" ||
	fail "cannot pack the initramfs"

# The demo shows the guest's output live; the other modes keep it in a file.
if [ "$mode" = demo ]; then
	guest=(-chardev "stdio,id=g,logfile=$out/guest.log,signal=on" -serial chardev:g)
else
	guest=(-serial "file:$out/guest.log")
fi
start=$(date +%s)
# shellcheck disable=SC2086
timeout --foreground "$timeout" qemu-system-x86_64 -nodefaults -no-reboot \
	-display none -bios qboot.rom $qemu_args \
	-kernel "$bzimage" -initrd "$out/initramfs.gz" \
	-append "console=ttyS0 kunit.enable=0 panic=-1 loglevel=5 kasan_multi_shot" \
	-serial "file:$out/console.log" "${guest[@]}" < /dev/null
qrc=$?
secs=$(( $(date +%s) - start ))
tr -d '\r' < "$out/guest.log" > "$out/guest.txt" 2>/dev/null
echo "e2e $mode: guest ran ${secs}s (qemu exit $qrc); console $out/console.log, output $out/guest.txt"

"$repo/harness/console-scan.sh" "$out/console.log" "e2e $mode console free of splats" "$result" "$repo/kunit/expected-warnings"
crc=$?
python3 "$repo/harness/e2e-parse.py" "$mode" "$out/guest.txt" "$qrc" >> "$result"
prc=$?
[ $crc = 0 ] && [ $prc = 0 ]
