#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Copy the UCX that harness/ucx-build.sh built into an initramfs root, with
# what it needs to run there: ucx_info and ucx_perftest, UCX's libraries
# and its module directory (lib/ucx, the uct_xpmem and cma transports),
# libxpmem.so.0 and every host library they load (ldd), down to the
# dynamic loader.  Each file keeps its host path (ROOT/PATH), so the
# RUNPATHs of UCX and the loader's default directories resolve in the
# guest as on the host; UCX finds its modules next to libucs.so.0.
#
# Usage: ucx-files.sh OUT ROOT
#   OUT   the OUT of ucx-build.sh (OUT/prefix is the UCX install)
#   ROOT  the initramfs root (the guest's /)
# OUT and libxpmem's prefix must not be under /tmp, /dev, /proc or /sys,
# which the guest mounts over.
# Prints the environment the guest needs, NAME=VALUE a line, to stdout
# (nothing when it needs none), and the count and size of what it copied
# to stderr.  The copies of UCX and libxpmem lose their debugging
# information (strip --strip-debug) unless UCX_FILES_STRIP=0.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 OUT ROOT" >&2; exit 2; }
prefix=$(realpath "$1/prefix")
mkdir -p "$2"
root=$(realpath "$2")
strip=${UCX_FILES_STRIP:-1}

die() {
	echo "ucx-files: error: $*" >&2
	exit 1
}

for f in bin/ucx_info bin/ucx_perftest lib/libucs.so.0 lib/ucx/libuct_xpmem.so.0; do
	[ -e "$prefix/$f" ] || die "no $prefix/$f (run harness/ucx-build.sh first)"
done

copied=()	# the paths copied, as the guest sees them
elves=()	# the programs and libraries whose ldd is to be followed

# put PATH: copy PATH to ROOT/PATH, replacing what is there; a symbolic
# link within its directory stays one (and its target is copied too), so
# the names the loader and UCX ask for are kept
declare -A put_done=()
put() {
	local p=$1
	[ -n "${put_done[$p]:-}" ] && return 0
	put_done[$p]=1
	# what the guest's /init mounts over would hide the copy
	case $p in
	/tmp/*|/dev/*|/proc/*|/sys/*)
		die "$p would be hidden in the guest (a mount point): build UCX and libxpmem elsewhere" ;;
	esac
	mkdir -p "$root$(dirname "$p")"
	rm -f "$root$p"
	if [ -L "$p" ] && [ "$(dirname "$(realpath "$p")")" = "$(dirname "$p")" ]; then
		ln -s "$(readlink "$p")" "$root$p"
		put "$(dirname "$p")/$(basename "$(realpath "$p")")"
	else
		cp -L "$p" "$root$p"
		copied+=("$p")
	fi
}

# UCX's programs, libraries and modules, as installed (not the libtool
# archives, headers or pkg-config files).
for p in "$prefix"/bin/ucx_info "$prefix"/bin/ucx_perftest \
	 "$prefix"/lib/lib*.so.* "$prefix"/lib/ucx/lib*.so.*; do
	put "$p"
	[ -L "$p" ] || elves+=("$p")
done
if [ -d "$prefix/etc/ucx" ]; then
	for p in "$prefix"/etc/ucx/*; do
		if [ -f "$p" ]; then
			put "$p"
		fi
	done
fi

# What they load: ldd lists the whole closure of each, the loader
# included (libxpmem.so.0 comes with the uct_xpmem module).
for e in "${elves[@]}"; do
	deps=$(ldd "$e") || die "ldd $e failed"
	if grep -q 'not found' <<<"$deps"; then
		die "$e: $(grep 'not found' <<<"$deps" | tr -s '\t\n' ' ')"
	fi
	while read -r p; do
		put "$p"
	done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 }
		      $1 ~ /^\// { print $1 }' <<<"$deps")
done
# glibc loads libgcc_s.so.1 itself when it unwinds (backtrace(), which
# UCX's error handler prints, and thread cancellation): no ldd names it.
# awk reads to the end: one that exited at the match could kill ldconfig
# with SIGPIPE, which pipefail and set -e turn into a silent exit.
gcc_s=$(/sbin/ldconfig -p | awk '$1 == "libgcc_s.so.1" && /x86-64/ && !n++ { print $NF }')
if [ -n "$gcc_s" ]; then
	put "$gcc_s"
fi
[ -e "$root/lib64/ld-linux-x86-64.so.2" ] || die "the dynamic loader was not copied"
[ -n "$(find "$root" -name libxpmem.so.0 -print -quit)" ] ||
	die "libxpmem.so.0 was not copied"

# Without debugging information (the host's libraries have none).
if [ "$strip" != 0 ]; then
	for p in "${copied[@]}"; do
		case $p in
		"$prefix"/etc/*) ;;
		"$prefix"/*|*/libxpmem.so*) strip --strip-debug "$root$p" ;;
		esac
	done
fi

size=0
for p in "${copied[@]}"; do
	size=$((size + $(stat -c %s "$root$p")))
done
echo "ucx-files: ${#copied[@]} files ($size bytes) and $((${#put_done[@]} - ${#copied[@]})) symbolic links in $root" >&2

# The environment: none; every library resolves through its RUNPATH or
# the loader's default directories, and UCX's modules through libucs.
