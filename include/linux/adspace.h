/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lightweight attach and detach (AIX as_lw_pool_init(), as_lw_att64(),
 * as_lw_det64()): map the pinned pages of an LW_XMATTACH cross-memory
 * descriptor into the calling thread's own window of the current process,
 * without taking mmap_lock for writing or creating a VMA per attach.
 *
 * Use with care, as on AIX: without LW_DEBUG, a thread that keeps using an
 * address after detaching it may still reach the descriptor's pages until
 * the window's next global TLB flush (never another attachment's, and never
 * a page that is no longer pinned).  See Documentation/mm/lw_attach.rst.
 */
#ifndef _LINUX_ADSPACE_H
#define _LINUX_ADSPACE_H

#include <linux/types.h>

struct xmem;
struct task_struct;
struct mm_struct;

/**
 * define LW_DEBUG - as_lw_pool_init() flag that catches uses after detach
 *
 * Every as_lw_det64() flushes the range from the TLB of every CPU at once
 * instead of deferring it, and detached ranges are not handed out again
 * until the window wraps (a quarantine), so a use after detach faults at
 * once and is reported with an lw_misuse event.
 */
#define LW_DEBUG	0x1

int as_lw_pool_init(size_t pool_size, unsigned int flags);
int as_lw_att64(struct xmem *dp, size_t offset, size_t length,
		unsigned long *addr);
int as_lw_det64(struct xmem *dp, unsigned long addr, size_t length);

#ifdef CONFIG_LW_ATTACH
void lw_thread_exit(struct task_struct *tsk);
void lw_mm_exit(struct mm_struct *mm);
#else
static inline void lw_thread_exit(struct task_struct *tsk) { }
static inline void lw_mm_exit(struct mm_struct *mm) { }
#endif

#endif /* _LINUX_ADSPACE_H */
