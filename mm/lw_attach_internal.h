/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lightweight attach internals (mm/lw_attach.c), shared with its KUnit
 * suite: the per-process settings and the per-thread window.
 */
#ifndef _MM_LW_ATTACH_INTERNAL_H
#define _MM_LW_ATTACH_INTERNAL_H

#include <linux/bitops.h>
#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <kunit/visibility.h>

struct lw_att;
struct user_struct;
struct mm_struct;
struct task_struct;
struct xmem;
struct xmem_flush;

/*
 * Largest pool_size: each thread's window pre-allocates its page tables
 * (4 KiB of PTEs per 2 MiB) and an attachment table (8 bytes per page), so
 * 16 MiB per thread at this size (see lw_window_pages()).
 */
#define LW_POOL_MAX		SZ_4G
/* Attachment records a window keeps for reuse instead of freeing them. */
#define LW_SPARE_ATTS		16
/* Parked holds on descriptors a window keeps (see lw_obj_put()). */
#define LW_HOLDS		16

/* One page table of a window: its PTEs and its lock (lw_pte_lock()). */
struct lw_ptab {
	pte_t *ptes;
	spinlock_t *ptl;	/* the PTE page's lock */
};

/**
 * struct lw_mm - a process's lightweight settings, mm->lw
 * @pool_size: bytes each thread may have attached at once
 * @flags: 0 or %LW_DEBUG
 * @lock: protects @windows
 * @windows: every thread's &struct lw_window
 */
struct lw_mm {
	size_t pool_size;
	unsigned int flags;
	spinlock_t lock;		/* protects windows */
	struct list_head windows;
};

/**
 * struct lw_window - one thread's window, current->lw_window
 * @mm: the address space (mmgrab()ed)
 * @lwm: its settings
 * @task: the owning thread; no reference, the window dies first
 * @tgid: the owner's process id
 * @pid: the owner's thread id
 * @node: entry in @lwm->windows, under @lwm->lock
 * @start: first address of the VMA
 * @end: end of the VMA
 * @nr_pages: usable pages: pool_size in pages
 * @attached: pages mapped by attachments
 * @cursor: next-fit starting page
 * @wraps: global flushes done because no clean range fitted
 * @busy: bitmap: pages mapped by attachments
 * @used: bitmap: pages mapped since the last global flush of the window
 *	(busy, or detached and dirty): what a search for space skips
 * @dirty: pages detached since the last global flush of the window
 * @atts: nr_pages entries: the attachment that starts at each page, or NULL
 * @nr_atts: attachments
 * @spare: attachment records kept for the next attaches, linked by their
 *	first word; at most %LW_SPARE_ATTS
 * @nr_spare: records in @spare
 * @flushes: deferred flushes registered on descriptors, by object
 * @holds: the thread's holds on descriptors' objects, by descriptor
 * @nr_holds: entries in @holds; beyond %LW_HOLDS, a hold whose last
 *	attachment ends is freed rather than parked
 * @vma: the window's VMA, or NULL once it is closed (lw_window_close())
 * @ptabs: the page table of each PMD_SIZE of the window
 * @mapped: the window's file has been mapped (it maps once)
 * @broken: the VMA was found gone or changed: every call fails with -EIO
 * @user: the user charged for the window (lw_window_pages()), or NULL
 * @charged: pages charged to @user
 *
 * Everything but @node and @vma is used only by the owning thread, or is
 * fixed once the window is mapped, so it needs no lock; @vma is cleared
 * under mmap_lock and read with READ_ONCE().
 */
struct lw_window {
	struct mm_struct *mm;
	struct lw_mm *lwm;
	struct task_struct *task;
	pid_t tgid;
	pid_t pid;
	struct list_head node;
	unsigned long start;
	unsigned long end;
	unsigned long nr_pages;
	unsigned long attached;
	unsigned long cursor;
	unsigned long wraps;
	unsigned long *busy;
	unsigned long *used;
	unsigned long dirty;
	struct lw_att **atts;
	unsigned long nr_atts;
	struct lw_att *spare;
	unsigned int nr_spare;
	DECLARE_HASHTABLE(flushes, 4);
	DECLARE_HASHTABLE(holds, 4);
	unsigned int nr_holds;
	struct vm_area_struct *vma;
	struct lw_ptab *ptabs;
	bool mapped;
	bool broken;
	struct user_struct *user;
	unsigned long charged;
};

/**
 * lw_window_pages() - what a thread's window costs, in pages
 * @pool_size: the process's pool size
 *
 * The memory the kernel keeps for a window as long as its thread lives,
 * whatever is attached: an upper bound of its page-table pages (one PTE
 * page per PMD_SIZE, the PMD pages that cover them and a PUD page), the
 * attachment table (a pointer per page), the two page bitmaps and the
 * array of PMD entries.  Charged to the thread's user as RLIMIT_MEMLOCK.
 *
 * Return: the number of pages.
 */
static inline unsigned long lw_window_pages(size_t pool_size)
{
	unsigned long len = round_up(pool_size, PMD_SIZE);
	unsigned long nr = DIV_ROUND_UP(pool_size, PAGE_SIZE);
	unsigned long bytes = nr * sizeof(struct lw_att *) +
			      2 * BITS_TO_LONGS(nr) * sizeof(long) +
			      (len >> PMD_SHIFT) * sizeof(struct lw_ptab);

	return (len >> PMD_SHIFT) + DIV_ROUND_UP(len, PUD_SIZE) + 2 +
	       DIV_ROUND_UP(bytes, PAGE_SIZE);
}

int lw_att64(struct xmem *dp, size_t offset, size_t length, bool write,
	     unsigned long *addr);

#if IS_ENABLED(CONFIG_KUNIT)
void lw_flush_xmdetach(struct xmem_flush *xf);
int lw_window_munmap(struct mm_struct *mm, unsigned long start, size_t len);
void lw_window_unlocked(struct mm_struct *mm);
#endif

#endif /* _MM_LW_ATTACH_INTERNAL_H */
