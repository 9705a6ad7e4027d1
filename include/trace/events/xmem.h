/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cross-memory descriptor events: one per xmattach(), xmdetach(), xmemin()
 * and xmemout() call with its result, and one for each xmdetach() refused
 * because lightweight attachments are outstanding, after one for each
 * thread whose attachments count.  Fields are raw pointers and ids so that
 * BPF tools (tools/lw-trace) can correlate them.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM xmem

#if !defined(_TRACE_XMEM_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_XMEM_H

#include <linux/sched.h>
#include <linux/tracepoint.h>

#define show_xmem_segflag(f)					\
	__print_symbolic(f,					\
		{ 0, "USER_ADSPACE" },				\
		{ 1, "SYS_ADSPACE" },				\
		{ 2, "USERI_ADSPACE" },				\
		{ 3, "UIO_XMEM" },				\
		{ 4, "LW_XMATTACH" })

DECLARE_EVENT_CLASS(xmem_call,
		    TP_PROTO(const void *dp, unsigned long addr, size_t len,
			     int segflag, int err),
		    TP_ARGS(dp, addr, len, segflag, err),
		    TP_STRUCT__entry(__field(const void *, dp)
				     __field(unsigned long, addr)
				     __field(size_t, len)
				     __field(int, segflag)
				     __field(int, err)
				     __field(pid_t, tgid)
				     __field(pid_t, pid)),
		    TP_fast_assign(__entry->dp = dp;
				   __entry->addr = addr;
				   __entry->len = len;
				   __entry->segflag = segflag;
				   __entry->err = err;
				   __entry->tgid = current->tgid;
				   __entry->pid = current->pid;),
		    TP_printk("dp=%p addr=0x%lx len=%zu segflag=%s tgid=%d pid=%d err=%d",
			      __entry->dp, __entry->addr, __entry->len,
			      show_xmem_segflag(__entry->segflag), __entry->tgid,
			      __entry->pid, __entry->err)
);

/*
 * xmem_attach: xmattach() returned @err for (@dp, @addr, @len, @segflag).
 */
DEFINE_EVENT(xmem_call, xmem_attach,
	     TP_PROTO(const void *dp, unsigned long addr, size_t len,
		      int segflag, int err),
	     TP_ARGS(dp, addr, len, segflag, err)
);

/*
 * xmem_detach: xmdetach() of @dp returned @err; @addr, @len and @segflag
 * describe what it was attached to (0, 0 and -1 if it was not attached).
 */
DEFINE_EVENT(xmem_call, xmem_detach,
	     TP_PROTO(const void *dp, unsigned long addr, size_t len,
		      int segflag, int err),
	     TP_ARGS(dp, addr, len, segflag, err)
);

/*
 * xmem_copy: xmemin() (@out false: from the range) or xmemout() (@out true:
 * to it) of @len bytes at @addr through @dp returned @err.
 */
TRACE_EVENT(xmem_copy,
	    TP_PROTO(const void *dp, unsigned long addr, size_t len, bool out,
		     int err),
	    TP_ARGS(dp, addr, len, out, err),
	    TP_STRUCT__entry(__field(const void *, dp)
			     __field(unsigned long, addr)
			     __field(size_t, len)
			     __field(bool, out)
			     __field(int, err)
			     __field(pid_t, tgid)
			     __field(pid_t, pid)),
	    TP_fast_assign(__entry->dp = dp;
			   __entry->addr = addr;
			   __entry->len = len;
			   __entry->out = out;
			   __entry->err = err;
			   __entry->tgid = current->tgid;
			   __entry->pid = current->pid;),
	    TP_printk("dp=%p %s addr=0x%lx len=%zu tgid=%d pid=%d err=%d",
		      __entry->dp, __entry->out ? "xmemout" : "xmemin",
		      __entry->addr, __entry->len, __entry->tgid, __entry->pid,
		      __entry->err)
);

/*
 * xmem_detach_holder: a thread whose attachments keep @dp attached, one
 * event for each, just before the xmem_detach_refused event: thread @pid
 * of @tgid has @count lightweight attachments of @dp.  Attachments that no
 * thread's hold counts (/dev/xmem mappings) are in xmem_detach_refused's
 * @lw_count only.
 */
TRACE_EVENT(xmem_detach_holder,
	    TP_PROTO(const void *dp, pid_t tgid, pid_t pid, long count),
	    TP_ARGS(dp, tgid, pid, count),
	    TP_STRUCT__entry(__field(const void *, dp)
			     __field(pid_t, tgid)
			     __field(pid_t, pid)
			     __field(long, count)),
	    TP_fast_assign(__entry->dp = dp;
			   __entry->tgid = tgid;
			   __entry->pid = pid;
			   __entry->count = count;),
	    TP_printk("dp=%p holder=%d/%d count=%ld", __entry->dp,
		      __entry->tgid, __entry->pid, __entry->count)
);

/*
 * xmem_detach_refused: misuse.  xmdetach() of @dp while @lw_count
 * lightweight attachments of it are outstanding; @owner_tgid/@owner_pid
 * attached the descriptor, tgid/pid is the caller.
 */
TRACE_EVENT(xmem_detach_refused,
	    TP_PROTO(const void *dp, unsigned long addr, size_t len,
		     long lw_count, pid_t owner_tgid, pid_t owner_pid),
	    TP_ARGS(dp, addr, len, lw_count, owner_tgid, owner_pid),
	    TP_STRUCT__entry(__field(const void *, dp)
			     __field(unsigned long, addr)
			     __field(size_t, len)
			     __field(long, lw_count)
			     __field(pid_t, owner_tgid)
			     __field(pid_t, owner_pid)
			     __field(pid_t, tgid)
			     __field(pid_t, pid)),
	    TP_fast_assign(__entry->dp = dp;
			   __entry->addr = addr;
			   __entry->len = len;
			   __entry->lw_count = lw_count;
			   __entry->owner_tgid = owner_tgid;
			   __entry->owner_pid = owner_pid;
			   __entry->tgid = current->tgid;
			   __entry->pid = current->pid;),
	    TP_printk("dp=%p addr=0x%lx len=%zu lw_count=%ld owner=%d/%d tgid=%d pid=%d",
		      __entry->dp, __entry->addr, __entry->len, __entry->lw_count,
		      __entry->owner_tgid, __entry->owner_pid, __entry->tgid,
		      __entry->pid)
);

#endif /* _TRACE_XMEM_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
