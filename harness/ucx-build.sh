#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build Debian's UCX 1.13.1 against libxpmem of tools/xpmem, with its
# uct_xpmem transport, for the QEMU guest (harness/ucx-files.sh copies the
# result into an initramfs root).
#
# Usage: ucx-build.sh XPMEM_PREFIX UCX_SRC_PARENT OUT
#   XPMEM_PREFIX    where libxpmem is installed (make -C tools/xpmem install
#                   PREFIX=...): include/xpmem.h, lib/libxpmem.so*,
#                   lib/pkgconfig/cray-xpmem.pc
#   UCX_SRC_PARENT  the directory of `apt-get source ucx`; run there (with a
#                   bookworm deb-src entry added if there is none) when it
#                   holds no ucx-1.13.1
#   OUT             OUT/build (the out-of-tree build), OUT/prefix (the
#                   install), OUT/build.log (configure and make output)
# A build from the same XPMEM_PREFIX, xpmem.h and flags is not redone
# (OUT/prefix/.ucx-build-stamp); the install is checked either way.
# Needs autoconf, automake, libtool, pkg-config, gcc/g++ and make.
# Environment: UCX_BUILD_JOBS (make -j, default 2).
set -euo pipefail

usage() {
	echo "usage: $0 XPMEM_PREFIX UCX_SRC_PARENT OUT" >&2
	exit 2
}
[ $# -eq 3 ] || usage

ucx_version=1.13.1
jobs=${UCX_BUILD_JOBS:-2}
xpmem=$(realpath "$1")
for f in include/xpmem.h lib/libxpmem.so.0 lib/pkgconfig/cray-xpmem.pc; do
	[ -e "$xpmem/$f" ] || { echo "ucx-build: error: no $xpmem/$f: not a libxpmem install" >&2; exit 1; }
done
mkdir -p "$2" "$3"
src_parent=$(realpath "$2")
out=$(realpath "$3")
src=$src_parent/ucx-$ucx_version
build=$out/build
prefix=$out/prefix
log=$out/build.log
stamp=$prefix/.ucx-build-stamp
debsrc=/etc/apt/sources.list.d/lw-mm-deb-src.sources

say() {
	echo "ucx-build: $*"
}

die() {
	echo "ucx-build: error: $*" >&2
	exit 1
}

# run CMD...: CMD with its output appended to the log; when it fails, the
# log's tail and exit
run() {
	echo "+ $*" >>"$log"
	if ! "$@" >>"$log" 2>&1; then
		echo "ucx-build: failed: $*; last lines of $log:" >&2
		tail -n 40 "$log" >&2
		exit 1
	fi
}

# The configuration: the shared-memory transports (mm: posix, sysv and
# xpmem; scopy: cma), tcp and self; no accelerators, no RDMA, no knem, no
# language bindings, documentation, examples or static libraries.
# --enable-mt as in debian/rules.  No --enable-optimizations: it adds
# -mavx and -march for the build host, which the TCG guest's CPU may lack.
# The rpath lets the uct_xpmem module find libxpmem.so.0 without
# LD_LIBRARY_PATH, on the host and in the guest (ucx-files.sh keeps paths).
flags=(
	--prefix="$prefix"
	--with-xpmem="$xpmem"
	--enable-cma
	--enable-mt
	--disable-static
	--disable-numa
	--disable-examples
	--disable-doxygen-doc
	--without-knem
	--without-verbs
	--without-rdmacm
	--without-cuda
	--without-rocm
	--without-gdrcopy
	--without-ugni
	--without-java
	--without-go
	--without-fuse3
	--without-bfd
	--without-mpi
	LDFLAGS="-Wl,-rpath,$xpmem/lib"
)
want="xpmem=$xpmem xpmem.h=$(sha256sum <"$xpmem/include/xpmem.h" | cut -d' ' -f1) src=$src flags=${flags[*]}"
# UCX loads its transports from lib/ucx as lib<framework>_<name>.so.0.
module=$prefix/lib/ucx/libuct_xpmem.so.0

have_debsrc() {	# is there a deb-src entry for bookworm?
	local targets
	# shellcheck disable=SC2016 # apt-get expands $(...), not the shell
	targets=$(apt-get indextargets --no-release-info \
		  --format '$(TARGET_OF) $(RELEASE)' 2>/dev/null) || return 1
	grep -qx 'deb-src bookworm' <<<"$targets"
}

get_source() {	# apt-get source ucx in UCX_SRC_PARENT, if not done yet
	[ -d "$src" ] && return
	if ! have_debsrc; then
		say "adding $debsrc"
		cat >"$debsrc" <<-EOF
		Types: deb-src
		URIs: http://deb.debian.org/debian
		Suites: bookworm
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
		run apt-get update
	fi
	say "apt-get source ucx in $src_parent"
	(cd "$src_parent" && run apt-get source ucx)
	[ -d "$src" ] || die "apt-get source ucx did not give $src"
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   [ -x "$prefix/bin/ucx_info" ] && [ -e "$module" ]; then
	say "$prefix is up to date (same XPMEM_PREFIX), not rebuilt"
else
	: >"$log"
	get_source
	rm -rf "$build" "$prefix"
	mkdir -p "$build"
	t0=$SECONDS
	# The Debian source has no configure: debhelper autoreconfs it.
	if [ ! -x "$src/configure" ] || [ "$src/configure.ac" -nt "$src/configure" ]; then
		say "autogen.sh in $src"
		(cd "$src" && run ./autogen.sh)
	fi
	say "configure (log: $log)"
	(cd "$build" && run "$src/configure" "${flags[@]}")
	t1=$SECONDS
	if ! grep -qx "HAVE_XPMEM_TRUE=''" "$build/config.log"; then
		grep -i xpmem "$build/config.log" | tail -n 20 >&2 || true
		die "configure did not take libxpmem in $xpmem ($build/config.log)"
	fi
	say "autogen and configure took $((t1 - t0))s; make -j$jobs"
	run make -C "$build" -j"$jobs"
	run make -C "$build" install
	t2=$SECONDS
	say "make and install took $((t2 - t1))s"
	echo "$want" >"$stamp"
fi

# The checks: ucx_info runs, the module is there, finds libxpmem.so.0
# and loads.
run "$prefix/bin/ucx_info" -v
[ -e "$module" ] || die "no $module"
module=$(realpath "$module")
deps=$(ldd "$module")
echo "$deps" >>"$log"
if grep -q 'not found' <<<"$deps"; then
	die "$module: unresolved libraries: $(grep 'not found' <<<"$deps" | tr -s '\t\n' ' ')"
fi
grep -q "libxpmem\.so\.0 => $xpmem/lib/libxpmem\.so\.0" <<<"$deps" ||
	die "$module is not linked against $xpmem/lib/libxpmem.so.0"

# UCX loads it (it finds no /dev/xmem on a host without lw-mm, and then
# offers no xpmem transport: that is expected here).
loads=$(UCX_LOG_LEVEL=info UCX_MODULE_LOG_LEVEL=info \
	"$prefix/bin/ucx_info" -d 2>&1) || die "$prefix/bin/ucx_info -d failed"
echo "$loads" >>"$log"
grep -q "loaded $module " <<<"$loads" ||
	die "ucx_info -d did not load $module (see $log)"

say "$prefix (uct_xpmem: $module)"
