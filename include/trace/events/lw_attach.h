/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lightweight attach events: one per as_lw_pool_init(), as_lw_att64() and
 * as_lw_det64() call with its result, the life of each thread's window and
 * its global flushes, and every misuse the kernel sees (lw_misuse).  Fields
 * are raw pointers and ids so that BPF tools (tools/lw-trace) can correlate
 * them with the xmem and ldata events.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM lw
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE lw_attach

#if !defined(_TRACE_LW_ATTACH_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_LW_ATTACH_H

#include <linux/jiffies.h>
#include <linux/sched.h>
#include <linux/tracepoint.h>

/*
 * Kinds of misuse, in the vocabulary tools/lw-trace reports them with.
 * Enums, not macros: the lw_misuse prototype names the type, so it is in
 * the kernel's BTF and BPF tools take the values from there (vmlinux.h,
 * CO-RE) instead of copying them; TRACE_DEFINE_ENUM resolves the names in
 * the event's format for tracefs readers.
 */
#ifndef _TRACE_LW_ATTACH_ENUMS
#define _TRACE_LW_ATTACH_ENUMS
enum lw_misuse_kind {
	LW_MISUSE_CROSS_THREAD = 1,	/* detach of a range in another thread's window */
	LW_MISUSE_DETACH_UNATTACHED,	/* detach of an address that starts no attachment */
	LW_MISUSE_DETACH_WRONG_DP,	/* detach of an attachment with another descriptor */
	LW_MISUSE_DETACH_WRONG_LENGTH,	/* detach of an attachment with another length */
	LW_MISUSE_EXIT_LEAK,		/* thread ended with attachments */
	LW_MISUSE_FAULT,		/* access to an unattached window page */
	LW_MISUSE_RDONLY_WRITE,		/* write to a read-only attachment */
	LW_MISUSE_WINDOW_DAMAGED,	/* the window VMA is gone or changed */
	LW_MISUSE_WINDOW_FULL,		/* attach refused: no room in the window */
};

/* Why a window was flushed on every CPU of its mm. */
enum lw_flush_reason {
	LW_FLUSH_WRAP = 1,		/* no clean range fitted */
	LW_FLUSH_XMDETACH,		/* xmdetach() of a descriptor */
	LW_FLUSH_EXIT,			/* the window was torn down */
};
#endif

TRACE_DEFINE_ENUM(LW_MISUSE_CROSS_THREAD);
TRACE_DEFINE_ENUM(LW_MISUSE_DETACH_UNATTACHED);
TRACE_DEFINE_ENUM(LW_MISUSE_DETACH_WRONG_DP);
TRACE_DEFINE_ENUM(LW_MISUSE_DETACH_WRONG_LENGTH);
TRACE_DEFINE_ENUM(LW_MISUSE_EXIT_LEAK);
TRACE_DEFINE_ENUM(LW_MISUSE_FAULT);
TRACE_DEFINE_ENUM(LW_MISUSE_RDONLY_WRITE);
TRACE_DEFINE_ENUM(LW_MISUSE_WINDOW_DAMAGED);
TRACE_DEFINE_ENUM(LW_MISUSE_WINDOW_FULL);
TRACE_DEFINE_ENUM(LW_FLUSH_WRAP);
TRACE_DEFINE_ENUM(LW_FLUSH_XMDETACH);
TRACE_DEFINE_ENUM(LW_FLUSH_EXIT);

#define show_lw_misuse(k)						\
	__print_symbolic(k,						\
		{ LW_MISUSE_CROSS_THREAD, "cross_thread" },		\
		{ LW_MISUSE_DETACH_UNATTACHED, "detach_unattached" },	\
		{ LW_MISUSE_DETACH_WRONG_DP, "detach_wrong_dp" },	\
		{ LW_MISUSE_DETACH_WRONG_LENGTH, "detach_wrong_length" }, \
		{ LW_MISUSE_EXIT_LEAK, "exit_leak" },			\
		{ LW_MISUSE_FAULT, "fault" },				\
		{ LW_MISUSE_RDONLY_WRITE, "rdonly_write" },		\
		{ LW_MISUSE_WINDOW_DAMAGED, "window_damaged" },	\
		{ LW_MISUSE_WINDOW_FULL, "window_full" })

#define show_lw_flush(r)					\
	__print_symbolic(r,					\
		{ LW_FLUSH_WRAP, "wrap" },			\
		{ LW_FLUSH_XMDETACH, "xmdetach" },		\
		{ LW_FLUSH_EXIT, "exit" })

/* lw_pool_init: as_lw_pool_init(@pool_size, @flags) of @mm returned @err. */
TRACE_EVENT(lw_pool_init,
	    TP_PROTO(const void *mm, size_t pool_size, unsigned int flags,
		     int err),
	    TP_ARGS(mm, pool_size, flags, err),
	    TP_STRUCT__entry(__field(const void *, mm)
			     __field(size_t, pool_size)
			     __field(unsigned int, flags)
			     __field(int, err)
			     __field(pid_t, tgid)
			     __field(pid_t, pid)),
	    TP_fast_assign(__entry->mm = mm;
			   __entry->pool_size = pool_size;
			   __entry->flags = flags;
			   __entry->err = err;
			   __entry->tgid = current->tgid;
			   __entry->pid = current->pid;),
	    TP_printk("mm=%p pool_size=%zu flags=0x%x tgid=%d pid=%d err=%d",
		      __entry->mm, __entry->pool_size, __entry->flags,
		      __entry->tgid, __entry->pid, __entry->err)
);

DECLARE_EVENT_CLASS(lw_call,
		    TP_PROTO(const void *dp, size_t offset, size_t length,
			     unsigned long addr, int err),
		    TP_ARGS(dp, offset, length, addr, err),
		    TP_STRUCT__entry(__field(const void *, dp)
				     __field(size_t, offset)
				     __field(size_t, length)
				     __field(unsigned long, addr)
				     __field(int, err)
				     __field(pid_t, tgid)
				     __field(pid_t, pid)),
		    TP_fast_assign(__entry->dp = dp;
				   __entry->offset = offset;
				   __entry->length = length;
				   __entry->addr = addr;
				   __entry->err = err;
				   __entry->tgid = current->tgid;
				   __entry->pid = current->pid;),
		    TP_printk("dp=%p offset=%zu length=%zu addr=0x%lx tgid=%d pid=%d err=%d",
			      __entry->dp, __entry->offset, __entry->length,
			      __entry->addr, __entry->tgid, __entry->pid,
			      __entry->err)
);

/*
 * lw_attach: as_lw_att64(@dp, @offset, @length) returned @err and, on
 * success, @addr.
 */
DEFINE_EVENT(lw_call, lw_attach,
	     TP_PROTO(const void *dp, size_t offset, size_t length,
		      unsigned long addr, int err),
	     TP_ARGS(dp, offset, length, addr, err)
);

/* lw_detach: as_lw_det64(@dp, @addr, @length) returned @err (@offset 0). */
DEFINE_EVENT(lw_call, lw_detach,
	     TP_PROTO(const void *dp, size_t offset, size_t length,
		      unsigned long addr, int err),
	     TP_ARGS(dp, offset, length, addr, err)
);

/*
 * lw_misuse: @kind of misuse by the current thread.  @dp, @addr, @length
 * are the call's (for a fault, @addr is the faulting address); @owner_tgid
 * and @owner_pid the thread whose window holds @addr, 0 if none; @count the
 * attachments left at exit for %LW_MISUSE_EXIT_LEAK, else 1; @err what the
 * refused call returns (-ENOMEM from a thread without a window, -EINVAL,
 * -EIO), 0 when no call is refused (a fault, an exit).  For
 * %LW_MISUSE_WINDOW_FULL, @length is the refused attach's, @addr 0 and
 * @count the pages the thread had attached.
 */
TRACE_EVENT(lw_misuse,
	    TP_PROTO(enum lw_misuse_kind kind, const void *dp,
		     unsigned long addr, size_t length, pid_t owner_tgid,
		     pid_t owner_pid, long count, int err),
	    TP_ARGS(kind, dp, addr, length, owner_tgid, owner_pid, count, err),
	    TP_STRUCT__entry(__field(int, kind)
			     __field(const void *, dp)
			     __field(unsigned long, addr)
			     __field(size_t, length)
			     __field(pid_t, owner_tgid)
			     __field(pid_t, owner_pid)
			     __field(long, count)
			     __field(int, err)
			     __field(pid_t, tgid)
			     __field(pid_t, pid)),
	    TP_fast_assign(__entry->kind = kind;
			   __entry->dp = dp;
			   __entry->addr = addr;
			   __entry->length = length;
			   __entry->owner_tgid = owner_tgid;
			   __entry->owner_pid = owner_pid;
			   __entry->count = count;
			   __entry->err = err;
			   __entry->tgid = current->tgid;
			   __entry->pid = current->pid;),
	    TP_printk("kind=%s dp=%p addr=0x%lx length=%zu tgid=%d pid=%d owner_tgid=%d owner_pid=%d count=%ld err=%d",
		      show_lw_misuse(__entry->kind), __entry->dp,
		      __entry->addr, __entry->length, __entry->tgid,
		      __entry->pid, __entry->owner_tgid, __entry->owner_pid,
		      __entry->count, __entry->err)
);

/*
 * lw_misuse_att: an attachment of the current thread that a misuse event
 * of @kind concerns, as the kernel holds it: @dp, @offset and @length as
 * attached, @addr where, @since the jiffies of the attach.  Comes before
 * the lw_misuse event of a detach with the wrong descriptor or length (the
 * attachment at the address), and once for each attachment left at exit,
 * between the exit_leak lw_misuse and lw_window_destroy: so that tools
 * name them without following every attach and detach.
 */
TRACE_EVENT(lw_misuse_att,
	    TP_PROTO(enum lw_misuse_kind kind, const void *dp, size_t offset,
		     size_t length, unsigned long addr, unsigned long since),
	    TP_ARGS(kind, dp, offset, length, addr, since),
	    TP_STRUCT__entry(__field(int, kind)
			     __field(const void *, dp)
			     __field(size_t, offset)
			     __field(size_t, length)
			     __field(unsigned long, addr)
			     __field(unsigned int, age_ms)
			     __field(pid_t, tgid)
			     __field(pid_t, pid)),
	    TP_fast_assign(__entry->kind = kind;
			   __entry->dp = dp;
			   __entry->offset = offset;
			   __entry->length = length;
			   __entry->addr = addr;
			   __entry->age_ms = jiffies_to_msecs(jiffies - since);
			   __entry->tgid = current->tgid;
			   __entry->pid = current->pid;),
	    TP_printk("kind=%s dp=%p offset=%zu length=%zu addr=0x%lx age_ms=%u tgid=%d pid=%d",
		      show_lw_misuse(__entry->kind), __entry->dp,
		      __entry->offset, __entry->length, __entry->addr,
		      __entry->age_ms, __entry->tgid, __entry->pid)
);

DECLARE_EVENT_CLASS(lw_window_class,
		    TP_PROTO(const void *mm, unsigned long start,
			     unsigned long len, pid_t tgid, pid_t pid,
			     long count),
		    TP_ARGS(mm, start, len, tgid, pid, count),
		    TP_STRUCT__entry(__field(const void *, mm)
				     __field(unsigned long, start)
				     __field(unsigned long, len)
				     __field(pid_t, tgid)
				     __field(pid_t, pid)
				     __field(long, count)),
		    TP_fast_assign(__entry->mm = mm;
				   __entry->start = start;
				   __entry->len = len;
				   __entry->tgid = tgid;
				   __entry->pid = pid;
				   __entry->count = count;),
		    TP_printk("mm=%p start=0x%lx len=%lu tgid=%d pid=%d count=%ld",
			      __entry->mm, __entry->start, __entry->len,
			      __entry->tgid, __entry->pid, __entry->count)
);

/* lw_window_create: thread @pid reserved its window (@count is 0). */
DEFINE_EVENT(lw_window_class, lw_window_create,
	     TP_PROTO(const void *mm, unsigned long start, unsigned long len,
		      pid_t tgid, pid_t pid, long count),
	     TP_ARGS(mm, start, len, tgid, pid, count)
);

/*
 * lw_window_destroy: thread @pid's window was released when it exited or
 * exec'd; @count attachments were still outstanding and were detached.
 */
DEFINE_EVENT(lw_window_class, lw_window_destroy,
	     TP_PROTO(const void *mm, unsigned long start, unsigned long len,
		      pid_t tgid, pid_t pid, long count),
	     TP_ARGS(mm, start, len, tgid, pid, count)
);

/*
 * lw_flush: the window at @start of @mm, owned by @pid, was flushed on
 * every CPU for @reason; @pages dirty pages became reusable.
 */
TRACE_EVENT(lw_flush,
	    TP_PROTO(const void *mm, unsigned long start, pid_t pid,
		     enum lw_flush_reason reason, unsigned long pages),
	    TP_ARGS(mm, start, pid, reason, pages),
	    TP_STRUCT__entry(__field(const void *, mm)
			     __field(unsigned long, start)
			     __field(pid_t, pid)
			     __field(int, reason)
			     __field(unsigned long, pages)),
	    TP_fast_assign(__entry->mm = mm;
			   __entry->start = start;
			   __entry->pid = pid;
			   __entry->reason = reason;
			   __entry->pages = pages;),
	    TP_printk("mm=%p start=0x%lx pid=%d reason=%s pages=%lu",
		      __entry->mm, __entry->start, __entry->pid,
		      show_lw_flush(__entry->reason), __entry->pages)
);

#endif /* _TRACE_LW_ATTACH_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
