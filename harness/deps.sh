#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the build and tests need, when missing;
# with the argument "ucx", those that building UCX needs (make ucx).
# Idempotent and quick when everything is there; uses sudo when not root.
set -euo pipefail

declare -A need=(
	# package            a file it provides
	[linux-source-6.12]=/usr/src/linux-source-6.12.tar.xz
	[build-essential]=/usr/bin/gcc
	[flex]=/usr/bin/flex
	[bison]=/usr/bin/bison
	[bc]=/usr/bin/bc
	[libelf-dev]=/usr/include/libelf.h
	[libssl-dev]=/usr/include/openssl/ssl.h
	[dwarves]=/usr/bin/pahole
	[sparse]=/usr/bin/sparse
	[ccache]=/usr/bin/ccache
	[python3]=/usr/bin/python3
	[git]=/usr/bin/git
	# checkpatch's SPDX check, run with Debian's python3
	[python3-ply]=/usr/lib/python3/dist-packages/ply
	[python3-git]=/usr/lib/python3/dist-packages/git
	# reStructuredText check of Documentation/, and Sphinx (make htmldocs)
	[python3-docutils]=/usr/lib/python3/dist-packages/docutils
	[python3-sphinx]=/usr/bin/sphinx-build
	[xz-utils]=/usr/bin/xz
	[qemu-system-x86]=/usr/bin/qemu-system-x86_64
	[cpio]=/usr/bin/cpio
	# make headers_install (the end-to-end programs' <linux/xmem.h>)
	[rsync]=/usr/bin/rsync
	[busybox-static]=/bin/busybox
	[clang]=/usr/bin/clang
	[llvm]=/usr/bin/llvm-strip
	[libbpf-dev]=/usr/include/bpf/libbpf.h
	# lw-trace links libbpf, libelf and zlib statically
	[zlib1g-dev]=/usr/lib/x86_64-linux-gnu/libz.a
	[bpftool]=/usr/sbin/bpftool
	[stress-ng]=/usr/bin/stress-ng
)

# make ucx: UCX's source package is built with autotools (autogen.sh).
if [ "${1:-}" = ucx ]; then
	need=(
		[autoconf]=/usr/bin/autoconf
		[automake]=/usr/bin/automake
		[libtool]=/usr/bin/libtoolize
		[pkg-config]=/usr/bin/pkg-config
		[g++]=/usr/bin/g++
	)
fi

missing=()
for pkg in "${!need[@]}"; do
	[ -e "${need[$pkg]}" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
	sudo="sudo -n"
fi
apt="$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600"
$apt update -qq
$apt install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for pkg in "${missing[@]}"; do
	[ -e "${need[$pkg]}" ] || { echo "deps: $pkg did not provide ${need[$pkg]}" >&2; exit 1; }
done
