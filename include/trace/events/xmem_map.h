/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events of the process-wide mappings of /dev/xmem descriptors
 * (mm/xmem_map.c) and of their names: one per mmap() and per unmapped VMA,
 * one per fault with the pages it mapped, one per publish and open of a
 * named descriptor, and one per misuse the kernel sees.  Fields are raw
 * pointers and ids, as in the xmem events, so that BPF tools
 * (tools/lw-trace) can correlate them.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM xmem_map

#if !defined(_TRACE_XMEM_MAP_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_XMEM_MAP_H

#include <linux/sched.h>
#include <linux/tracepoint.h>

#ifndef __XMEM_MISUSE_KIND_DEFINED
#define __XMEM_MISUSE_KIND_DEFINED
/*
 * Misuse of a mapped descriptor, the kind field of xmem_map_misuse.  An
 * enum named by the event's prototype, so it is in the kernel's BTF for BPF
 * tools; TRACE_DEFINE_ENUM for tracefs.
 *
 * @XMEM_MISUSE_TOUCH_REVOKED: a touch of a mapping of a descriptor its
 *	owner has revoked (the XPMEM segment was removed): SIGBUS.
 * @XMEM_MISUSE_TOUCH_GONE: a touch of an address-space mapping where the
 *	owner has no memory (a hole, no access, or the owner has exited):
 *	SIGBUS.
 * @XMEM_MISUSE_UNMAP_UNATTACHED: XMEM_IOC_UNMAP of an address that is no
 *	mapping of a descriptor (or not its start).
 * @XMEM_MISUSE_OWNER_EXIT: the owner of an address-space descriptor exited
 *	while other processes still mapped it.
 */
enum xmem_misuse_kind {
	XMEM_MISUSE_TOUCH_REVOKED = 1,
	XMEM_MISUSE_TOUCH_GONE,
	XMEM_MISUSE_UNMAP_UNATTACHED,
	XMEM_MISUSE_OWNER_EXIT,
};
#endif

TRACE_DEFINE_ENUM(XMEM_MISUSE_TOUCH_REVOKED);
TRACE_DEFINE_ENUM(XMEM_MISUSE_TOUCH_GONE);
TRACE_DEFINE_ENUM(XMEM_MISUSE_UNMAP_UNATTACHED);
TRACE_DEFINE_ENUM(XMEM_MISUSE_OWNER_EXIT);

#define show_xmem_misuse(k)						\
	__print_symbolic(k,						\
		{ XMEM_MISUSE_TOUCH_REVOKED,	"touch_revoked" },	\
		{ XMEM_MISUSE_TOUCH_GONE,	"touch_gone" },		\
		{ XMEM_MISUSE_UNMAP_UNATTACHED,	"unmap_unattached" },	\
		{ XMEM_MISUSE_OWNER_EXIT,	"owner_exit" })

/*
 * xmem_map: mmap() of descriptor @dp at [@addr, @addr + @len) from page
 * @pgoff, writable or not, returned @err.
 */
TRACE_EVENT(xmem_map,
	    TP_PROTO(const void *dp, unsigned long addr, unsigned long len,
		     unsigned long pgoff, bool writable, int err),
	    TP_ARGS(dp, addr, len, pgoff, writable, err),
	    TP_STRUCT__entry(__field(const void *, dp)
			     __field(unsigned long, addr)
			     __field(unsigned long, len)
			     __field(unsigned long, pgoff)
			     __field(bool, writable)
			     __field(int, err)
			     __field(pid_t, tgid)
			     __field(pid_t, pid)),
	    TP_fast_assign(__entry->dp = dp;
			   __entry->addr = addr;
			   __entry->len = len;
			   __entry->pgoff = pgoff;
			   __entry->writable = writable;
			   __entry->err = err;
			   __entry->tgid = current->tgid;
			   __entry->pid = current->pid;),
	    TP_printk("dp=%p addr=0x%lx len=%lu pgoff=%lu %s tgid=%d pid=%d err=%d",
		      __entry->dp, __entry->addr, __entry->len, __entry->pgoff,
		      __entry->writable ? "rw" : "ro", __entry->tgid,
		      __entry->pid, __entry->err)
);

/*
 * xmem_unmap: a VMA mapping [@addr, @addr + @len) of @dp from page @pgoff
 * is gone (munmap, XMEM_IOC_UNMAP, exit), after its TLB flush.
 */
TRACE_EVENT(xmem_unmap,
	    TP_PROTO(const void *dp, unsigned long addr, unsigned long len,
		     unsigned long pgoff),
	    TP_ARGS(dp, addr, len, pgoff),
	    TP_STRUCT__entry(__field(const void *, dp)
			     __field(unsigned long, addr)
			     __field(unsigned long, len)
			     __field(unsigned long, pgoff)
			     __field(pid_t, tgid)
			     __field(pid_t, pid)),
	    TP_fast_assign(__entry->dp = dp;
			   __entry->addr = addr;
			   __entry->len = len;
			   __entry->pgoff = pgoff;
			   __entry->tgid = current->tgid;
			   __entry->pid = current->pid;),
	    TP_printk("dp=%p addr=0x%lx len=%lu pgoff=%lu tgid=%d pid=%d",
		      __entry->dp, __entry->addr, __entry->len, __entry->pgoff,
		      __entry->tgid, __entry->pid)
);

/*
 * xmem_map_fault: a fault at @addr of a mapping of @dp mapped @pages pages
 * (the chunk around it), for a write or not; @err is 0 or why it failed.
 */
TRACE_EVENT(xmem_map_fault,
	    TP_PROTO(const void *dp, unsigned long addr, unsigned long pages,
		     bool write, int err),
	    TP_ARGS(dp, addr, pages, write, err),
	    TP_STRUCT__entry(__field(const void *, dp)
			     __field(unsigned long, addr)
			     __field(unsigned long, pages)
			     __field(bool, write)
			     __field(int, err)),
	    TP_fast_assign(__entry->dp = dp;
			   __entry->addr = addr;
			   __entry->pages = pages;
			   __entry->write = write;
			   __entry->err = err;),
	    TP_printk("dp=%p addr=0x%lx pages=%lu %s err=%d", __entry->dp,
		      __entry->addr, __entry->pages,
		      __entry->write ? "write" : "read", __entry->err)
);

/*
 * xmem_name: a descriptor @dp was published under @id with permission bits
 * @mode (@open false), or @id was opened (@open true, @dp the descriptor
 * found, NULL if none) for the access @mode: 04 read, 06 read-write; @err
 * the result.
 */
TRACE_EVENT(xmem_name,
	    TP_PROTO(const void *dp, u64 id, bool open, unsigned int mode,
		     int err),
	    TP_ARGS(dp, id, open, mode, err),
	    TP_STRUCT__entry(__field(const void *, dp)
			     __field(u64, id)
			     __field(bool, open)
			     __field(unsigned int, mode)
			     __field(int, err)
			     __field(pid_t, tgid)
			     __field(pid_t, pid)),
	    TP_fast_assign(__entry->dp = dp;
			   __entry->id = id;
			   __entry->open = open;
			   __entry->mode = mode;
			   __entry->err = err;
			   __entry->tgid = current->tgid;
			   __entry->pid = current->pid;),
	    TP_printk("%s dp=%p id=%llu mode=0%o tgid=%d pid=%d err=%d",
		      __entry->open ? "open" : "publish", __entry->dp,
		      __entry->id, __entry->mode, __entry->tgid, __entry->pid,
		      __entry->err)
);

/*
 * xmem_map_misuse: @kind of misuse of descriptor @dp (NULL if none) at
 * [@addr, @addr + @len) by the current thread; @owner_tgid created the
 * descriptor, @count mappings of it remain; @err the error the caller got
 * (SIGBUS for a touch).
 */
TRACE_EVENT(xmem_map_misuse,
	    TP_PROTO(enum xmem_misuse_kind kind, const void *dp,
		     unsigned long addr, size_t len, pid_t owner_tgid,
		     long count, int err),
	    TP_ARGS(kind, dp, addr, len, owner_tgid, count, err),
	    TP_STRUCT__entry(__field(int, kind)
			     __field(const void *, dp)
			     __field(unsigned long, addr)
			     __field(size_t, len)
			     __field(pid_t, owner_tgid)
			     __field(long, count)
			     __field(int, err)
			     __field(pid_t, tgid)
			     __field(pid_t, pid)),
	    TP_fast_assign(__entry->kind = kind;
			   __entry->dp = dp;
			   __entry->addr = addr;
			   __entry->len = len;
			   __entry->owner_tgid = owner_tgid;
			   __entry->count = count;
			   __entry->err = err;
			   __entry->tgid = current->tgid;
			   __entry->pid = current->pid;),
	    TP_printk("kind=%s dp=%p addr=0x%lx len=%zu owner_tgid=%d count=%ld tgid=%d pid=%d err=%d",
		      show_xmem_misuse(__entry->kind), __entry->dp,
		      __entry->addr, __entry->len, __entry->owner_tgid,
		      __entry->count, __entry->tgid, __entry->pid, __entry->err)
);

#endif /* _TRACE_XMEM_MAP_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
