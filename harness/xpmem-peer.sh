#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the out-of-tree XPMEM (openucx/xpmem 2.7.x: its module and its
# libxpmem) against the bench kernel, for the peer side of make bench-xpmem.
#
#   xpmem-peer.sh SRC TREE BENCHOBJ OUT
#
# SRC is the user's XPMEM source (kernel/, lib/, include/); it is copied
# to OUT and built there, never into the project.  Its configure step is
# replaced by the feature macros that hold for 6.12 (the peer's own notes
# list them).  Leaves OUT/xpmem.ko and OUT/lib/libxpmem.so.0.
set -euo pipefail
src=$1 tree=$2 kobj=$3 out=$4

for f in kernel/Kbuild.in kernel/xpmem_main.c lib/libxpmem.c include/xpmem.h; do
	[ -f "$src/$f" ] || { echo "xpmem-peer: $src/$f missing: XPMEM_SRC must name an XPMEM source tree" >&2; exit 1; }
done
[ -f "$kobj/Module.symvers" ] || { echo "xpmem-peer: no $kobj/Module.symvers: build the bench kernel first" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/lib"
cp -r "$src/kernel" "$src/include" "$out/"
{
	sed 's/@top_srcdir@/../g' "$out/kernel/Kbuild.in"
	cat <<'EOF'
EXTRA_CFLAGS += -DHAVE_DECL_VMA_ITER_INIT=1 -DHAVE_DECL_VM_FLAGS_SET=1 \
	-DHAVE_GUP_6_5=1 -DHAVE_LATEST_APPLY_TO_PAGE_RANGE=1 -DHAVE_PMD_LEAF_MACRO=1 \
	-DHAVE_PTE_OFFSET_MAP_MACRO=1 -DHAVE_PUD_LEAF_MACRO=1 \
	-DHAVE_STRUCT_TASK_STRUCT_CPUS_MASK=1 -DPACKAGE_VERSION='"2.7.4"' \
	-include linux/ipc.h
EOF
} > "$out/kernel/Kbuild"
if ! make -C "$tree" O="$kobj" ARCH=x86_64 M="$out/kernel" modules > "$out/module.log" 2>&1; then
	cat "$out/module.log" >&2
	echo "xpmem-peer: the XPMEM module does not build against $kobj" >&2
	exit 1
fi
cp "$out/kernel/xpmem.ko" "$out/xpmem.ko"
gcc -O2 -fPIC -shared -Wl,-soname,libxpmem.so.0 -I"$out/include" \
	"$src/lib/libxpmem.c" -o "$out/lib/libxpmem.so.0"
echo "xpmem-peer: $out/xpmem.ko and $out/lib/libxpmem.so.0 from $src"
