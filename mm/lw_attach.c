// SPDX-License-Identifier: GPL-2.0
/*
 * Lightweight attach and detach: as_lw_pool_init(), as_lw_att64() and
 * as_lw_det64().
 *
 * A process opts in once with as_lw_pool_init(pool_size, flags).  Each of
 * its threads then gets, on its first as_lw_att64(), a window: one VMA of
 * pool_size bytes (rounded up to PMD_SIZE and PMD-aligned, so the window
 * owns whole page-table pages), reserved once under mmap_lock for writing,
 * with every page-table page allocated up front:
 *
 *   win->start                                               win->end
 *   | att 0 (3 pages) | dirty | att 1 (1 page) | free ...... | (PMD pad) |
 *   |<------------------ nr_pages = pool_size / PAGE_SIZE --->|
 *     busy: att 0, att 1; used: att 0, dirty, att 1 (dirty = used & ~busy)
 *
 * The VMA is VM_PFNMAP (special PTEs: no refcount, mapcount or rmap work
 * per page), VM_DONTCOPY and VM_IO (fork does not copy it, and
 * MADV_DOFORK cannot change that), VM_SEALED (munmap, mremap and mprotect
 * are refused), refuses splitting, does not take mm->def_flags (an
 * mlockall() must not lock or charge it), and its fault handler sends
 * SIGSEGV for any page that is not attached.  Clearing PTEs tells the MMU
 * notifiers, so secondary MMUs (KVM) drop the pages too.  An attachment
 * maps pages that the descriptor (LW_XMATTACH) keeps pinned; the
 * attachment holds the descriptor's lightweight count, so xmdetach()
 * refuses with -EBUSY until it is detached.
 *
 * Attach and detach never take mmap_lock and never create or destroy a
 * VMA.  They only ever touch the calling thread's own window: its page
 * allocator (two bitmaps and a cursor), its attachment table, its spare
 * attachment records, its holds on descriptors and its flush registrations
 * belong to that thread alone, so they need no lock.  A descriptor's
 * object is locked only when the thread first attaches it: the thread's
 * hold on it (struct xmem_hold) counts its attachments and stays parked
 * between them, until xmdetach() revokes it.  Nor does its sealed VMA, which nothing
 * else can change or remove while the thread lives (lw_window_lock()), nor
 * its page tables, which go only with it (lw_pte_lock()); PTEs are written
 * in a batch under the page-table lock of each PMD.
 *
 * Deferred invalidation: see the DOC block below, which
 * Documentation/mm/lw_attach.rst includes.
 *
 * Lifetime: current->lw_window is the thread's window, freed by
 * lw_thread_exit() (do_exit() and exec, before the mm goes).  mm->lw is the
 * process's settings, published once with cmpxchg() and freed by
 * lw_mm_exit() with the mm.  lwm->lock protects the list of windows, read
 * only to name the owner of an address in a misuse report.
 */

/**
 * DOC: Deferred invalidation
 *
 * Without ``LW_DEBUG``, as_lw_det64() clears the PTEs and flushes no TLB.
 * Any CPU of the mm may still hold translations of the range: the current
 * one, those the thread ran on before (it migrates), and those of other
 * threads of the process, which share the page tables.  A stale
 * translation can only ever reach the descriptor's pages, and only while
 * they are pinned:
 *
 * 1. the detached range is marked dirty and is not handed out again until
 *    one flush of the whole window on every CPU of the mm has made it
 *    clean.  That flush is done when no clean range fits (the window
 *    "wraps").  So a stale translation can never alias a newer attachment;
 * 2. each detach registers, once per descriptor and window, a deferred
 *    flush on the descriptor (xmem_flush_defer()).  xmdetach() runs every
 *    flush still registered on the descriptor (flush_tlb_mm() of the
 *    window's mm) before it unpins a single page; the window's own wrap
 *    flush cancels the registrations it made unnecessary;
 * 3. a window is taken down only by its own thread (exit or exec): what is
 *    still attached is cleared, the VMA unmapped, and then the whole mm is
 *    flushed on every CPU -- munmap() alone flushes only the PTEs it
 *    clears, not the ranges detached before -- and only then are the
 *    attachments' references on their descriptors dropped.
 *
 * Two threads of one mm, a thread that migrates between CPUs, an
 * xmdetach() from another process and a thread that exits are all covered
 * by these three rules: the only thing a stale translation can do is read
 * or write pages that the descriptor still pins, which is AIX's documented
 * "risk of illegal data access".
 *
 * With ``LW_DEBUG``, every detach flushes the range on every CPU at once,
 * and detached ranges are still not reused until the window wraps (a
 * quarantine), so a use after detach faults at once and is reported.
 */

#define pr_fmt(fmt) "lw_attach: " fmt

#include <linux/adspace.h>
#include <linux/anon_inodes.h>
#include <linux/bitmap.h>
#include <linux/compat.h>
#include <linux/export.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmu_notifier.h>
#include <linux/pgtable.h>
#include <linux/security.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/xmem.h>
#include <asm/tlbflush.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include "xmem_internal.h"
#include "lw_attach_internal.h"

#define CREATE_TRACE_POINTS
#include <trace/events/lw_attach.h>

EXPORT_TRACEPOINT_SYMBOL_GPL(lw_pool_init);
EXPORT_TRACEPOINT_SYMBOL_GPL(lw_attach);
EXPORT_TRACEPOINT_SYMBOL_GPL(lw_detach);
EXPORT_TRACEPOINT_SYMBOL_GPL(lw_misuse);
EXPORT_TRACEPOINT_SYMBOL_GPL(lw_misuse_att);
EXPORT_TRACEPOINT_SYMBOL_GPL(lw_window_create);
EXPORT_TRACEPOINT_SYMBOL_GPL(lw_window_destroy);
EXPORT_TRACEPOINT_SYMBOL_GPL(lw_flush);

static struct kmem_cache *lw_att_cache;

/*
 * One attachment, in its thread's window->atts[] at its first page; or a
 * spare record, on window->spare by @next_spare.
 */
struct lw_att {
	union {
		struct xmem *dp;
		struct lw_att *next_spare;
	};
	struct xmem_obj *obj;		/* counted by @hold */
	struct lw_hold *hold;
	unsigned long addr;		/* what as_lw_att64() returned */
	size_t offset;
	size_t length;
	unsigned long since;		/* jiffies of the attach */
	unsigned long first;		/* first window page */
	unsigned long nr;		/* window pages */
};

/*
 * A thread's hold on a descriptor's object (struct xmem_hold): counts the
 * thread's attachments of @dp, and stays parked after the last one for the
 * next, so that a thread attaching the same descriptor over and over takes
 * the object's lock once.
 */
struct lw_hold {
	struct xmem_hold xh;
	struct xmem *dp;
	struct hlist_node node;		/* win->holds, keyed by descriptor */
};

/* A deferred flush of @win registered on one descriptor's object. */
struct lw_flush {
	struct xmem_flush xf;
	struct lw_window *win;
	struct hlist_node node;		/* win->flushes, keyed by object */
};

/*
 * How a window's VMA is held while its PTEs are written: by its own thread
 * alone (lw_window_lock() says why that is enough), or, at teardown, under
 * mmap_lock for writing.
 */
struct lw_held {
	struct vm_area_struct *vma;
	bool mmap_locked;
};

static inline void lw_assert_held(struct lw_window *win, struct lw_held *held)
{
	if (held->mmap_locked)
		mmap_assert_locked(win->mm);
	else
		VM_WARN_ON_ONCE(current != win->task || held->vma != win->vma);
}

/* ===== Callers and process settings ===== */

/* -ENOSYS for a compat task, -EPERM for anything but a user thread. */
static int lw_check_caller(void)
{
	if (in_compat_syscall())
		return -ENOSYS;
	if (!current->mm ||
	    (current->flags & (PF_KTHREAD | PF_IO_WORKER | PF_USER_WORKER)))
		return -EPERM;
	return 0;
}

static struct lw_mm *lw_mm_of(struct mm_struct *mm)
{
	/* Paired with the cmpxchg() in as_lw_pool_init(). */
	return smp_load_acquire(&mm->lw);
}

/**
 * as_lw_pool_init() - enable the lightweight services for this process
 * @pool_size: bytes each thread may have attached at one time, at most
 *	%LW_POOL_MAX
 * @flags: 0, or %LW_DEBUG to flush on every detach and quarantine ranges
 *
 * The settings are fixed for the life of the address space; exec and
 * fork start without them.  Nothing is reserved until a thread attaches.
 *
 * Context: Process context, from a user thread.
 * Return: 0; -EINVAL for a zero or too large @pool_size or unknown @flags;
 * -EEXIST if already done for this process; -ENOSYS from a compat task;
 * -EPERM from a kernel thread or io worker; -ENOMEM.
 */
int as_lw_pool_init(size_t pool_size, unsigned int flags)
{
	struct lw_mm *lwm;
	int err;

	err = lw_check_caller();
	if (err)
		goto out;
	err = -EINVAL;
	if (!pool_size || pool_size > LW_POOL_MAX ||
	    pool_size > TASK_SIZE / 16 || (flags & ~LW_DEBUG))
		goto out;
	err = -ENOMEM;
	lwm = kzalloc(sizeof(*lwm), GFP_KERNEL_ACCOUNT);
	if (!lwm)
		goto out;
	lwm->pool_size = pool_size;
	lwm->flags = flags;
	spin_lock_init(&lwm->lock);
	INIT_LIST_HEAD(&lwm->windows);
	err = 0;
	if (cmpxchg(&current->mm->lw, NULL, lwm)) {
		kfree(lwm);
		err = -EEXIST;
	}
out:
	trace_lw_pool_init(current->mm, pool_size, flags, err);
	return err;
}
EXPORT_SYMBOL_GPL(as_lw_pool_init);

/* ===== The window VMA ===== */

/* Report a bad access to a window; vm_private_data is NULL once released. */
static vm_fault_t lw_window_bad_access(struct vm_fault *vmf,
				       enum lw_misuse_kind kind)
{
	struct lw_window *win = vmf->vma->vm_private_data;

	trace_lw_misuse(kind, NULL, vmf->real_address, 0, win ? win->tgid : 0,
			win ? win->pid : 0, 1, 0);
	return VM_FAULT_SIGSEGV;
}

static vm_fault_t lw_window_fault(struct vm_fault *vmf)
{
	return lw_window_bad_access(vmf, LW_MISUSE_FAULT);
}

static vm_fault_t lw_window_pfn_mkwrite(struct vm_fault *vmf)
{
	return lw_window_bad_access(vmf, LW_MISUSE_RDONLY_WRITE);
}

/*
 * The window's VMA goes: unmapped by its thread's teardown (which has
 * detached the window from it first), at the end of the mm, or by what no
 * process can do to a sealed VMA.  From here its thread no longer uses it.
 * mmap_lock is held, for writing or downgraded by the unmap.
 */
static void lw_window_close(struct vm_area_struct *vma)
{
	struct lw_window *win = vma->vm_private_data;

	mmap_assert_locked(vma->vm_mm);
	if (win)
		WRITE_ONCE(win->vma, NULL);
}

static int lw_window_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

static int lw_window_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static const char *lw_window_name(struct vm_area_struct *vma)
{
	return "[lw_window]";
}

static const struct vm_operations_struct lw_window_vm_ops = {
	.fault		= lw_window_fault,
	.pfn_mkwrite	= lw_window_pfn_mkwrite,
	.close		= lw_window_close,
	.may_split	= lw_window_may_split,
	.mremap		= lw_window_mremap,
	.name		= lw_window_name,
};

/*
 * The window's file: mappable once, by its own thread, at creation.  Its
 * private_data goes with the window (lw_window_unmap()), under mmap_lock
 * for writing as ->mmap runs: a VMA that outlives its window leads nowhere.
 */
static int lw_window_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct lw_window *win = file->private_data;

	if (!win)
		return -ENODEV;
	if (win->mapped || vma->vm_mm != win->mm || vma->vm_pgoff ||
	    vma->vm_end - vma->vm_start != win->end - win->start)
		return -EBUSY;
	win->mapped = true;
	/* VM_IO as remap_pfn_range(): MADV_DOFORK cannot undo VM_DONTCOPY. */
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTCOPY | VM_DONTEXPAND |
		     VM_DONTDUMP | VM_NOHUGEPAGE);
	vm_flags_clear(vma, VM_MAYEXEC);
	vma->vm_ops = &lw_window_vm_ops;
	vma->vm_private_data = win;
	return 0;
}

static const struct file_operations lw_window_fops = {
	.owner	= THIS_MODULE,
	.mmap	= lw_window_mmap,
};

/* Allocate every page-table page of the window. */
static int lw_window_populate(struct lw_window *win)
{
	struct mm_struct *mm = win->mm;
	unsigned long addr;
	int i = 0;

	mmap_assert_write_locked(mm);

	for (addr = win->start; addr < win->end; addr += PMD_SIZE, i++) {
		pgd_t *pgd = pgd_offset(mm, addr);
		p4d_t *p4d = p4d_alloc(mm, pgd, addr);
		pud_t *pud = p4d ? pud_alloc(mm, p4d, addr) : NULL;
		pmd_t *pmd = pud ? pmd_alloc(mm, pud, addr) : NULL;

		if (!pmd || pte_alloc(mm, pmd))
			return -ENOMEM;
		/* Where lw_pte_lock() finds them: see there. */
		win->ptabs[i].ptes = pte_offset_kernel(pmd, addr);
		win->ptabs[i].ptl = pte_lockptr(mm, pmd);
	}
	return 0;
}

/*
 * Map the window's file PMD-aligned, seal it and allocate its page tables:
 * the only place that takes mmap_lock for writing, once per thread.
 */
static int lw_window_map(struct lw_window *win, struct file *file)
{
	unsigned long len = win->end - win->start, addr;
	unsigned long prot = PROT_READ | PROT_WRITE;
	struct mm_struct *mm = win->mm;
	struct vm_area_struct *vma;
	int err;

	/* What an mmap() of the window by the thread would go through. */
	err = security_mmap_file(file, prot, MAP_SHARED);
	if (err)
		return err;
	if (mmap_write_lock_killable(mm))
		return -EINTR;
	err = -ENOMEM;
	if (mm->map_count >= sysctl_max_map_count)
		goto unlock;
	addr = mm_get_unmapped_area(mm, NULL, 0, len + PMD_SIZE, 0, 0);
	if (IS_ERR_VALUE(addr))
		goto unlock;
	addr = ALIGN(addr, PMD_SIZE);
	err = security_mmap_addr(addr);
	if (err)
		goto unlock;
	win->start = addr;
	win->end = addr + len;
	/*
	 * mmap_region(), not do_mmap(): the window must not inherit
	 * mm->def_flags (mlockall(MCL_FUTURE) would charge all of it to
	 * RLIMIT_MEMLOCK for pages it never owns).  The range is free: it
	 * was found under this same lock.
	 */
	addr = mmap_region(file, addr, len, VM_READ | VM_WRITE | VM_SHARED |
			   VM_MAYREAD | VM_MAYWRITE | VM_MAYSHARE, 0, NULL);
	if (IS_ERR_VALUE(addr)) {
		err = (long)addr;
		goto unlock;
	}
	vma = vma_lookup(mm, win->start);
	vma_start_write(vma);
	vm_flags_set(vma, VM_SEALED);
	err = lw_window_populate(win);
	if (err) {
		/* Nothing is mapped in it yet; it must not outlive @win. */
		vma->vm_private_data = NULL;
		vm_flags_clear(vma, VM_SEALED);
		WARN_ON_ONCE(do_munmap(mm, win->start, len, NULL));
	} else {
		win->vma = vma;
	}
unlock:
	mmap_write_unlock(mm);
	return err;
}

static void lw_window_free(struct lw_window *win)
{
	xmem_memlock_uncharge(win->user, win->charged);
	bitmap_free(win->busy);
	bitmap_free(win->used);
	kvfree(win->ptabs);
	kvfree(win->atts);
	mmdrop(win->mm);
	kfree(win);
}

/* The calling thread's first attach: reserve its window. */
static struct lw_window *lw_window_create(struct lw_mm *lwm)
{
	struct mm_struct *mm = current->mm;
	unsigned long len = round_up(lwm->pool_size, PMD_SIZE);
	struct lw_window *win;
	struct file *file;
	int err = -ENOMEM;

	win = kzalloc(sizeof(*win), GFP_KERNEL_ACCOUNT);
	if (!win)
		return ERR_PTR(-ENOMEM);
	/* What the window keeps allocated for the thread's life. */
	win->user = xmem_memlock_charge(lw_window_pages(lwm->pool_size));
	if (IS_ERR(win->user)) {
		kfree(win);
		return ERR_PTR(-ENOMEM);
	}
	win->charged = win->user ? lw_window_pages(lwm->pool_size) : 0;
	mmgrab(mm);
	win->mm = mm;
	win->lwm = lwm;
	win->task = current;
	win->tgid = current->tgid;
	win->pid = current->pid;
	win->nr_pages = DIV_ROUND_UP(lwm->pool_size, PAGE_SIZE);
	win->end = len;		/* placed by lw_window_map() */
	hash_init(win->flushes);
	hash_init(win->holds);
	win->busy = bitmap_zalloc(win->nr_pages, GFP_KERNEL_ACCOUNT);
	win->used = bitmap_zalloc(win->nr_pages, GFP_KERNEL_ACCOUNT);
	win->ptabs = kvcalloc(len >> PMD_SHIFT, sizeof(*win->ptabs),
			      GFP_KERNEL_ACCOUNT);
	win->atts = kvcalloc(win->nr_pages, sizeof(*win->atts),
			     GFP_KERNEL_ACCOUNT);
	if (!win->busy || !win->used || !win->ptabs || !win->atts)
		goto fail;

	file = anon_inode_getfile("[lw_window]", &lw_window_fops, win, O_RDWR);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto fail;
	}
	err = lw_window_map(win, file);
	fput(file);		/* the VMA holds its own reference */
	if (err)
		goto fail;

	spin_lock(&lwm->lock);
	list_add(&win->node, &lwm->windows);
	spin_unlock(&lwm->lock);
	current->lw_window = win;
	trace_lw_window_create(mm, win->start, len, win->tgid, win->pid, 0);
	return win;
fail:
	lw_window_free(win);
	return ERR_PTR(err);
}

/*
 * lw_window_lock - the window's VMA in @held, or false if it is gone (then
 * the window is marked broken and an lw_misuse event reports it).
 *
 * The thread uses the VMA it mapped without a VMA lock or mmap_lock: no
 * one else can change or remove it while the thread runs here.  It is
 * sealed (munmap(), mremap(), mprotect() and MAP_FIXED over it are
 * refused), ->may_split and ->mremap refuse, VM_IO | VM_PFNMAP never
 * merges with a neighbour, and only this thread (lw_window_unmap()) or the
 * end of the mm, after every thread, takes it down.  Its page tables,
 * allocated at creation, go only with it.  Should it go anyway,
 * lw_window_close() has cleared win->vma, under mmap_lock.
 */
static bool lw_window_lock(struct lw_window *win, struct lw_held *held)
{
	struct vm_area_struct *vma = READ_ONCE(win->vma);

	held->mmap_locked = false;
	held->vma = vma;
	if (likely(vma))
		return true;
	win->broken = true;
	trace_lw_misuse(LW_MISUSE_WINDOW_DAMAGED, NULL, win->start, 0,
			win->tgid, win->pid, 1, -EIO);
	return false;
}

/* ===== Page tables ===== */

/*
 * The PTE of window address @addr, with its page table's lock taken.  Not
 * pte_offset_map_lock(), which must expect the page table to be freed or
 * replaced under it and revalidates the PMD each time: a window's page
 * tables were all allocated when it was made (lw_window_populate(), which
 * notes where each one and its lock are) and are freed only with its VMA,
 * by free_pgtables() at munmap() or at the end of the mm.  Nothing else
 * takes them down: the VMA is VM_PFNMAP | VM_IO and VM_NOHUGEPAGE
 * (khugepaged never collapses it, MADV_DONTNEED and its kin refuse it),
 * sealed, and its PMD entries are never made huge.  While its thread runs
 * here the VMA is the window's (lw_window_lock()); at teardown
 * lw_window_unmap() checks that under mmap_lock.
 */
static pte_t *lw_pte_lock(struct lw_window *win, unsigned long addr,
			  spinlock_t **ptl)
	__acquires(*ptl)
{
	struct lw_ptab *pt = &win->ptabs[(addr - win->start) >> PMD_SHIFT];

	*ptl = pt->ptl;
	spin_lock(*ptl);
	return pt->ptes + pte_index(addr);
}

/* Write PTEs for @nr pinned @pages at window page @first. */
static void lw_ptes_set(struct lw_window *win, struct lw_held *held,
			unsigned long first, struct page **pages,
			unsigned long nr, bool writable)
{
	unsigned long addr = win->start + (first << PAGE_SHIFT);
	pgprot_t prot = held->vma->vm_page_prot;

	lw_assert_held(win, held);

	while (nr) {
		unsigned long n = min(nr, (pmd_addr_end(addr, win->end) - addr) >>
				      PAGE_SHIFT), i;
		spinlock_t *ptl;	/* the PTE page's lock */
		pte_t *pte = lw_pte_lock(win, addr, &ptl);

		arch_enter_lazy_mmu_mode();
		for (i = 0; i < n; i++) {
			pte_t entry = pte_mkspecial(mk_pte(pages[i], prot));

			entry = writable ? pte_mkdirty(pte_mkwrite_novma(entry)) :
					   pte_wrprotect(entry);
			VM_WARN_ON_ONCE(!pte_none(ptep_get(pte + i)));
			set_pte_at(win->mm, addr + (i << PAGE_SHIFT), pte + i,
				   pte_mkyoung(entry));
		}
		arch_leave_lazy_mmu_mode();
		spin_unlock(ptl);
		addr += n << PAGE_SHIFT;
		pages += n;
		nr -= n;
	}
}

/*
 * Clear the PTEs of @nr window pages from @first.  Secondary MMUs (KVM maps
 * VM_PFNMAP pages too) are told, as they must be before the pages can be
 * unpinned.
 */
static void lw_ptes_clear(struct lw_window *win, struct lw_held *held,
			  unsigned long first, unsigned long nr)
{
	unsigned long addr = win->start + (first << PAGE_SHIFT);
	struct mmu_notifier_range range;

	lw_assert_held(win, held);

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, win->mm, addr,
				addr + (nr << PAGE_SHIFT));
	mmu_notifier_invalidate_range_start(&range);
	while (nr) {
		unsigned long n = min(nr, (pmd_addr_end(addr, win->end) - addr) >>
				      PAGE_SHIFT), i;
		spinlock_t *ptl;	/* the PTE page's lock */
		pte_t *pte = lw_pte_lock(win, addr, &ptl);

		/*
		 * A plain store, not ptep_get_and_clear()'s atomic exchange:
		 * lw_ptes_set() wrote these PTEs young, and dirty if writable,
		 * so no CPU ever updates them, and a special PTE has no
		 * refcount, mapcount or rmap for the old value to settle.
		 */
		arch_enter_lazy_mmu_mode();
		for (i = 0; i < n; i++)
			pte_clear(win->mm, addr + (i << PAGE_SHIFT), pte + i);
		arch_leave_lazy_mmu_mode();
		spin_unlock(ptl);
		addr += n << PAGE_SHIFT;
		nr -= n;
	}
	mmu_notifier_invalidate_range_end(&range);
}

/*
 * ===== Window space: next fit over used pages, wrap flush =====
 *
 * A page is busy while an attachment maps it and used from its attach until
 * the next wrap flush, so used = busy | dirty and a search needs only the
 * one bitmap.
 */

static void lw_cancel_flushes(struct lw_window *win)
{
	struct hlist_node *tmp;
	struct lw_flush *f;
	int bkt;

	hash_for_each_safe(win->flushes, bkt, tmp, f, node) {
		hash_del(&f->node);
		xmem_flush_cancel(&f->xf);
		kfree(f);
	}
}

/*
 * The wrap flush: every dirty page of the window is flushed on every CPU of
 * the mm and becomes clean; the registrations on descriptors are no longer
 * needed.
 */
static void lw_wrap_flush(struct lw_window *win, struct lw_held *held)
{
	unsigned long pages = win->dirty;

	lw_assert_held(win, held);
	flush_tlb_range(held->vma, win->start, win->end);
	bitmap_copy(win->used, win->busy, win->nr_pages);
	win->dirty = 0;
	win->cursor = 0;
	win->wraps++;
	lw_cancel_flushes(win);
	trace_lw_flush(win->mm, win->start, win->pid, LW_FLUSH_WRAP, pages);
}

/*
 * Bits [@i, @i + @nr) of one word of a bitmap, or 0 if they span two: a
 * small attachment's bits, which the calls below handle inline.
 */
static inline unsigned long lw_word_mask(unsigned long i, unsigned long nr)
{
	unsigned long off = i % BITS_PER_LONG;

	return off + nr <= BITS_PER_LONG ? GENMASK(off + nr - 1, off) : 0;
}

static void lw_bits_set(unsigned long *map, unsigned long i, unsigned long nr)
{
	unsigned long mask = lw_word_mask(i, nr);

	if (mask)
		map[BIT_WORD(i)] |= mask;
	else
		bitmap_set(map, i, nr);
}

static void lw_bits_clear(unsigned long *map, unsigned long i,
			  unsigned long nr)
{
	unsigned long mask = lw_word_mask(i, nr);

	if (mask)
		map[BIT_WORD(i)] &= ~mask;
	else
		bitmap_clear(map, i, nr);
}

/* The first run of @nr unused pages from @i on, or nr_pages. */
static unsigned long lw_find(struct lw_window *win, unsigned long i,
			     unsigned long nr)
{
	unsigned long mask = lw_word_mask(i, nr);

	/* Next fit: most often, right at the cursor. */
	if (mask && i + nr <= win->nr_pages &&
	    !(win->used[BIT_WORD(i)] & mask))
		return i;
	i = bitmap_find_next_zero_area(win->used, win->nr_pages, i, nr, 0);
	return i + nr <= win->nr_pages ? i : win->nr_pages;
}

/* @nr clean free pages of the window, or -ENOMEM. */
static long lw_space_alloc(struct lw_window *win, struct lw_held *held,
			   unsigned long nr)
{
	unsigned long i;

	if (win->attached + nr > win->nr_pages)
		return -ENOMEM;
	i = lw_find(win, win->cursor, nr);
	if (i >= win->nr_pages && win->cursor)
		i = lw_find(win, 0, nr);
	if (i >= win->nr_pages && win->dirty) {
		lw_wrap_flush(win, held);
		i = lw_find(win, 0, nr);
	}
	if (i >= win->nr_pages)
		return -ENOMEM;
	lw_bits_set(win->busy, i, nr);
	lw_bits_set(win->used, i, nr);
	win->attached += nr;
	win->cursor = i + nr;
	return i;
}

/* ===== Holds ===== */

static struct lw_hold *lw_hold_find(struct lw_window *win, struct xmem *dp)
{
	struct lw_hold *hold;

	hash_for_each_possible(win->holds, hold, node, (unsigned long)dp)
		if (hold->dp == dp)
			return hold;
	return NULL;
}

static void lw_hold_free(struct lw_window *win, struct lw_hold *hold)
{
	hash_del(&hold->node);
	win->nr_holds--;
	xmem_hold_free(&hold->xh);
	kfree(hold);
}

/*
 * The object of @dp, with one more attachment counted: through the
 * thread's hold on it if it has one (@hold), else by xmem_lw_get() (@hold
 * NULL), which the caller then hands to a hold (lw_hold_alloc(),
 * lw_hold_install()).
 */
static struct xmem_obj *lw_obj_get(struct lw_window *win, struct xmem *dp,
				   struct lw_hold **hold)
{
	struct lw_hold *h = win && !win->broken ? lw_hold_find(win, dp) : NULL;

	*hold = NULL;
	if (h && xmem_hold_again(&h->xh, dp)) {
		*hold = h;
		return h->xh.obj;
	}
	return xmem_lw_get(dp);
}

/*
 * End the holds xmdetach() revoked: they count nothing and keep only the
 * struct of a detached object, but would take the places of parked holds.
 */
static void lw_holds_prune(struct lw_window *win)
{
	struct hlist_node *tmp;
	struct lw_hold *hold;
	int bkt;

	hash_for_each_safe(win->holds, bkt, tmp, hold, node)
		if (atomic_long_read(&hold->xh.count) == XMEM_HOLD_REVOKED)
			lw_hold_free(win, hold);
}

/*
 * A record for a new hold on @dp: the thread's old one for @dp if it no
 * longer counts (revoked, or parked on an object @dp no longer names),
 * ended, or a new one.  NULL if out of memory.
 */
static struct lw_hold *lw_hold_alloc(struct lw_window *win, struct xmem *dp)
{
	struct lw_hold *hold;

	if (win && win->nr_holds >= LW_HOLDS)
		lw_holds_prune(win);
	hold = win ? lw_hold_find(win, dp) : NULL;

	if (hold && atomic_long_read(&hold->xh.count) <= 0) {
		hash_del(&hold->node);
		win->nr_holds--;
		xmem_hold_free(&hold->xh);
	} else {
		hold = kmalloc(sizeof(*hold), GFP_KERNEL_ACCOUNT);
		if (!hold)
			return NULL;
	}
	hold->dp = dp;
	return hold;
}

/*
 * @hold, from lw_hold_alloc(), takes over the count xmem_lw_get() took on
 * @obj.  Ahead of any older hold of the same descriptor still counting.
 */
static void lw_hold_install(struct lw_window *win, struct lw_hold *hold,
			    struct xmem_obj *obj)
{
	hash_add(win->holds, &hold->node, (unsigned long)hold->dp);
	win->nr_holds++;
	xmem_hold_adopt(&hold->xh, obj);
}

/* The end of an attachment's count on @obj, through @hold or not. */
static void lw_obj_put(struct lw_window *win, struct xmem_obj *obj,
		       struct lw_hold *hold)
{
	if (!hold) {
		xmem_lw_put(obj);
		return;
	}
	xmem_hold_put(&hold->xh);
	/* Parked, unless there are too many, or orphaned: revoked. */
	if (atomic_long_read(&hold->xh.count) < 0 ||
	    (!atomic_long_read(&hold->xh.count) && win->nr_holds > LW_HOLDS))
		lw_hold_free(win, hold);
}

/* ===== Attach ===== */

static struct lw_window *lw_current_window(struct lw_mm *lwm)
{
	struct lw_window *win = current->lw_window;

	if (!win)
		return lw_window_create(lwm);
	if (win->broken)
		return ERR_PTR(-EIO);
	return win;
}

/*
 * An attachment record: a spare one of the thread's window @win (NULL or
 * an error before it has one), or a new one.
 */
static struct lw_att *lw_att_alloc(struct lw_window *win)
{
	struct lw_att *att;

	if (IS_ERR_OR_NULL(win) || !win->spare)
		return kmem_cache_alloc(lw_att_cache, GFP_KERNEL_ACCOUNT);
	att = win->spare;
	win->spare = att->next_spare;
	win->nr_spare--;
	return att;
}

/* Done with @att: kept as a spare of @win if there is room, else freed. */
static void lw_att_free(struct lw_window *win, struct lw_att *att)
{
	if (IS_ERR_OR_NULL(win) || win->nr_spare >= LW_SPARE_ATTS) {
		kmem_cache_free(lw_att_cache, att);
		return;
	}
	att->next_spare = win->spare;
	win->spare = att;
	win->nr_spare++;
}

/* The window pages an attachment of @length bytes from @offset takes. */
static unsigned long lw_att_pages(struct xmem_obj *obj, size_t offset,
				  size_t length)
{
	unsigned long in = offset_in_page(obj->addr) + offset;

	return DIV_ROUND_UP(offset_in_page(in) + length, PAGE_SIZE);
}

/*
 * Map [@offset, @offset + @length) of @obj's pages in @win and record the
 * attachment in @att; @hold counts it on @obj.  On error @att and the
 * count are the caller's to undo.
 */
/*
 * An attach of @length bytes of @dp refused with -ENOMEM because the
 * calling thread's window (@win, NULL before its first attach) has no room
 * for it: more than the pool size, or no free range even after a flush.
 */
static void lw_report_full(struct lw_window *win, struct xmem *dp,
			   size_t length)
{
	trace_lw_misuse(LW_MISUSE_WINDOW_FULL, dp, 0, length, current->tgid,
			current->pid, win ? win->attached : 0, -ENOMEM);
}

static int lw_att_map(struct lw_window *win, struct lw_att *att,
		      struct xmem *dp, struct xmem_obj *obj,
		      struct lw_hold *hold, size_t offset, size_t length,
		      bool write, unsigned long *addr)
{
	unsigned long in = offset_in_page(obj->addr) + offset;
	unsigned long nr = lw_att_pages(obj, offset, length);
	struct lw_held held;
	long first;

	if (!lw_window_lock(win, &held))
		return -EIO;
	first = lw_space_alloc(win, &held, nr);
	if (first < 0) {
		lw_report_full(win, dp, length);
		return first;
	}
	lw_ptes_set(win, &held, first, &obj->pages[in >> PAGE_SHIFT], nr,
		    obj->writable && write);

	att->dp = dp;
	att->obj = obj;
	att->hold = hold;
	att->first = first;
	att->nr = nr;
	att->offset = offset;
	att->length = length;
	att->since = jiffies;
	att->addr = win->start + (first << PAGE_SHIFT) + offset_in_page(in);
	win->atts[first] = att;
	win->nr_atts++;
	*addr = att->addr;
	return 0;
}

/**
 * as_lw_att64() - map part of a descriptor into the calling thread's window
 * @dp: descriptor attached with %LW_XMATTACH (by any process)
 * @offset: first byte, from the start of the descriptor's range
 * @length: bytes to map
 * @addr: where the address of byte @offset is stored on success
 *
 * Maps the descriptor's pinned pages holding [@offset, @offset + @length),
 * read-only if the descriptor is, in the calling thread's window.  The
 * attachment keeps the descriptor from being xmdetach()ed until
 * as_lw_det64() (or the thread's exit) detaches it.  Only the calling
 * thread may use or detach the range; other threads of the process can
 * reach it only because they share page tables.
 *
 * Context: Process context, from a user thread.  Takes mmap_lock for
 * writing only on the thread's first attach, to reserve its window.
 * Return: 0; -ENODEV before as_lw_pool_init(); -EINVAL for a descriptor not
 * attached with %LW_XMATTACH, a zero @length, or a range past the
 * descriptor; -ENOMEM when the thread would have more than the pool size
 * attached (reported with an lw_misuse event of kind window_full), or on
 * allocation failure; -EIO if the window was damaged;
 * -ENOSYS, -EPERM as for as_lw_pool_init().
 */
int as_lw_att64(struct xmem *dp, size_t offset, size_t length,
		unsigned long *addr)
{
	return lw_att64(dp, offset, length, true, addr);
}
EXPORT_SYMBOL_GPL(as_lw_att64);

/**
 * lw_att64() - as_lw_att64(), with the access of the mapping chosen
 * @dp: descriptor attached with %LW_XMATTACH (by any process)
 * @offset: first byte, from the start of the descriptor's range
 * @length: bytes to map
 * @write: map writable if the descriptor is; false maps read-only
 * @addr: where the address of byte @offset is stored on success
 *
 * For /dev/xmem, whose users ask for the access they need.
 *
 * Context: Process context, from a user thread.
 * Return: as as_lw_att64().
 */
int lw_att64(struct xmem *dp, size_t offset, size_t length, bool write,
	     unsigned long *addr)
{
	struct lw_hold *hold, *new = NULL;
	struct lw_window *win;
	struct xmem_obj *obj;
	struct lw_att *att;
	unsigned long mapped = 0;
	struct lw_mm *lwm;
	size_t end;
	int err;

	err = lw_check_caller();
	if (err)
		goto out;
	lwm = lw_mm_of(current->mm);
	err = -ENODEV;
	if (!lwm)
		goto out;
	win = current->lw_window;
	obj = lw_obj_get(win, dp, &hold);
	if (IS_ERR(obj)) {
		err = PTR_ERR(obj);
		goto out;
	}
	err = -EINVAL;
	if (!length || check_add_overflow(offset, length, &end) ||
	    end > obj->len)
		goto put;
	/*
	 * What can fail before a first attach makes the window does: a call
	 * that fails leaves no window behind that it made.
	 */
	err = -ENOMEM;
	if (lw_att_pages(obj, offset, length) >
	    DIV_ROUND_UP(lwm->pool_size, PAGE_SIZE)) {
		lw_report_full(win, dp, length);
		goto put;
	}
	att = lw_att_alloc(win);
	if (!att)
		goto put;
	if (!hold) {
		new = lw_hold_alloc(win, dp);
		if (!new)
			goto free;
	}
	win = lw_current_window(lwm);
	if (IS_ERR(win)) {
		err = PTR_ERR(win);
		kfree(new);
		goto free;
	}
	if (new) {
		lw_hold_install(win, new, obj);
		hold = new;
	}
	err = lw_att_map(win, att, dp, obj, hold, offset, length, write,
			 &mapped);
	if (err)
		goto free;
	*addr = mapped;
	goto out;
free:
	lw_att_free(win, att);
put:
	lw_obj_put(win, obj, hold);
out:
	trace_lw_attach(dp, offset, length, mapped, err);
	return err;
}

/* ===== Detach ===== */

/* The thread whose window holds @addr, for a misuse report. */
static void lw_owner_of(struct mm_struct *mm, unsigned long addr,
			pid_t *tgid, pid_t *pid)
{
	struct lw_mm *lwm = lw_mm_of(mm);
	struct lw_window *win;

	*tgid = *pid = 0;
	if (!lwm)
		return;
	spin_lock(&lwm->lock);
	list_for_each_entry(win, &lwm->windows, node) {
		if (addr >= win->start && addr < win->end) {
			*tgid = win->tgid;
			*pid = win->pid;
			break;
		}
	}
	spin_unlock(&lwm->lock);
}

/*
 * Report a refused as_lw_det64() of (@dp, @addr, @length), which returns
 * @err; @att is the caller's attachment at @addr's page, or NULL.  The
 * kinds are lw-trace's: a range in another thread's window is a
 * cross-thread detach whatever else is wrong with it.
 */
static void lw_report_detach(struct lw_att *att, struct xmem *dp,
			     unsigned long addr, size_t length, int err)
{
	enum lw_misuse_kind kind;
	pid_t tgid, pid;

	lw_owner_of(current->mm, addr, &tgid, &pid);
	if (pid && pid != current->pid)
		kind = LW_MISUSE_CROSS_THREAD;
	else if (!att || att->addr != addr)
		kind = LW_MISUSE_DETACH_UNATTACHED;
	else if (att->dp != dp)
		kind = LW_MISUSE_DETACH_WRONG_DP;
	else
		kind = LW_MISUSE_DETACH_WRONG_LENGTH;
	if (kind == LW_MISUSE_DETACH_WRONG_DP ||
	    kind == LW_MISUSE_DETACH_WRONG_LENGTH)
		trace_lw_misuse_att(kind, att->dp, att->offset, att->length,
				    att->addr, att->since);
	trace_lw_misuse(kind, dp, addr, length, tgid, pid, 1, err);
}

VISIBLE_IF_KUNIT void lw_flush_xmdetach(struct xmem_flush *xf);

/* Register a deferred flush of @win on @obj, once per wrap. */
static int lw_defer_flush(struct lw_window *win, struct xmem_obj *obj)
{
	struct lw_flush *f;
	int err;

	hash_for_each_possible(win->flushes, f, node, (unsigned long)obj)
		if (f->xf.obj == obj)
			return 0;
	f = kmalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	xmem_flush_init(&f->xf, lw_flush_xmdetach);
	f->win = win;
	err = xmem_flush_defer(obj, &f->xf);
	if (err) {
		kfree(f);
		return err;
	}
	hash_add(win->flushes, &f->node, (unsigned long)obj);
	return 0;
}

/* Remove @att's mapping and make its range dirty. */
static void lw_att_unmap(struct lw_window *win, struct lw_held *held,
			 struct lw_att *att)
{
	unsigned long start = win->start + (att->first << PAGE_SHIFT);
	unsigned long end = start + (att->nr << PAGE_SHIFT);

	lw_ptes_clear(win, held, att->first, att->nr);
	/*
	 * No flush at all otherwise, not even of this CPU's TLB: a stale
	 * translation here is no different from one on any other CPU of the
	 * mm, which the deferred-invalidation rules already cover (the range
	 * stays dirty until a flush on every CPU, and xmdetach() runs the
	 * flush registered here before it unpins a page).
	 */
	if ((win->lwm->flags & LW_DEBUG) ||
	    lw_defer_flush(win, att->obj))
		/* Debug, or no memory to defer: flush everywhere now. */
		flush_tlb_range(held->vma, start, end);
	lw_bits_clear(win->busy, att->first, att->nr);
	win->dirty += att->nr;		/* still used */
	win->attached -= att->nr;
}

/**
 * as_lw_det64() - detach a range that as_lw_att64() attached
 * @dp: the descriptor given to as_lw_att64()
 * @addr: the address as_lw_att64() returned
 * @length: the length given to as_lw_att64()
 *
 * Only the thread that attached the range may detach it, and only with
 * exactly the same @dp, @addr and @length; every refusal is reported with
 * an lw_misuse event naming the thread whose window holds @addr.  Without
 * %LW_DEBUG the range may stay reachable through other CPUs' TLBs until the
 * window's next global flush; it is never reused before.
 *
 * Context: Process context, from a user thread.
 * Return: 0; -ENOMEM if the calling thread has no lightweight resources (it
 * never attached); -EINVAL if (@dp, @addr, @length) is not exactly one of
 * its attachments; -EIO if the window was damaged; -ENOSYS, -EPERM as for
 * as_lw_pool_init().
 */
int as_lw_det64(struct xmem *dp, unsigned long addr, size_t length)
{
	struct lw_window *win = current->lw_window;
	struct lw_att *att = NULL;
	struct lw_held held;
	int err;

	err = lw_check_caller();
	if (err)
		goto out;
	err = -ENOMEM;
	if (!win) {
		lw_report_detach(NULL, dp, addr, length, err);
		goto out;
	}
	err = -EIO;
	if (win->broken)
		goto out;
	/* The window's PMD padding past nr_pages holds no attachment. */
	if (addr >= win->start &&
	    (addr - win->start) >> PAGE_SHIFT < win->nr_pages)
		att = win->atts[(addr - win->start) >> PAGE_SHIFT];
	err = -EINVAL;
	if (!att || att->dp != dp || att->addr != addr ||
	    att->length != length) {
		lw_report_detach(att, dp, addr, length, err);
		goto out;
	}
	err = -EIO;
	if (!lw_window_lock(win, &held))
		goto out;
	lw_att_unmap(win, &held, att);
	win->atts[att->first] = NULL;
	win->nr_atts--;
	lw_obj_put(win, att->obj, att->hold);
	lw_att_free(win, att);
	err = 0;
out:
	trace_lw_detach(dp, 0, length, addr, err);
	return err;
}
EXPORT_SYMBOL_GPL(as_lw_det64);

/*
 * lw_flush_xmdetach - a window's deferred flush, run by xmdetach() of a
 * descriptor that had pages in the window, before it unpins them.  The
 * window cannot go away meanwhile: its teardown cancels this registration,
 * which waits for the descriptor's flush lock that xmdetach() holds.
 */
VISIBLE_IF_KUNIT void lw_flush_xmdetach(struct xmem_flush *xf)
{
	struct lw_flush *f = container_of(xf, struct lw_flush, xf);

	lockdep_assert_held(&xf->obj->flush_lock);

	flush_tlb_mm(f->win->mm);
	trace_lw_flush(f->win->mm, f->win->start, f->win->pid,
		       LW_FLUSH_XMDETACH, 0);
}
EXPORT_SYMBOL_IF_KUNIT(lw_flush_xmdetach);

/* ===== Thread exit, exec and the end of the mm ===== */

/*
 * lw_window_munmap - do_munmap() of a window's VMA at teardown.  The KUnit
 * suite makes it fail, to check what a window left mapped leads to.
 */
VISIBLE_IF_KUNIT int lw_window_munmap(struct mm_struct *mm, unsigned long start,
				      size_t len)
{
	KUNIT_STATIC_STUB_REDIRECT(lw_window_munmap, mm, start, len);
	return do_munmap(mm, start, len, NULL);
}
EXPORT_SYMBOL_IF_KUNIT(lw_window_munmap);

/*
 * lw_window_unlocked - a teardown has dropped mmap_lock: from here other
 * threads may map the window's range again.  The KUnit suite holds the
 * teardown here to check that no CPU can still reach the window's pages.
 */
VISIBLE_IF_KUNIT void lw_window_unlocked(struct mm_struct *mm)
{
	KUNIT_STATIC_STUB_REDIRECT(lw_window_unlocked, mm);
}
EXPORT_SYMBOL_IF_KUNIT(lw_window_unlocked);

/*
 * Take @win's mappings down for good: clear what is still attached, release
 * the VMA, and flush the whole window on every CPU.  munmap() alone would
 * not do: it flushes only the PTEs it clears, not the ranges detached
 * before, and it can fail.  After this no CPU can reach an attached or
 * detached page through the window, whatever happened to the VMA.
 */
static void lw_window_unmap(struct lw_window *win)
{
	struct lw_held held = { .mmap_locked = true };
	struct mm_struct *mm = win->mm;
	struct vm_area_struct *vma;
	unsigned long i;
	int err;

	mmap_write_lock(mm);
	vma = vma_lookup(mm, win->start);
	held.vma = vma;
	if (vma && vma->vm_private_data == win &&
	    vma->vm_ops == &lw_window_vm_ops && vma->vm_end == win->end) {
		/* The page tables are still the window's. */
		for_each_set_bit(i, win->busy, win->nr_pages)
			if (win->atts[i])
				lw_ptes_clear(win, &held, i, win->atts[i]->nr);
		vma_start_write(vma);
		vma->vm_private_data = NULL;
		WRITE_ONCE(vma->vm_file->private_data, NULL);
		vm_flags_clear(vma, VM_SEALED);
		err = lw_window_munmap(mm, win->start, win->end - win->start);
		if (err)
			pr_warn_ratelimited("pid %d: window at 0x%lx left mapped (%d), inaccessible\n",
					    win->pid, win->start, err);
	}
	/*
	 * Flush before anyone can map the range again: the PTEs cleared
	 * above, and those of ranges detached before, may still be cached
	 * on any CPU of the mm, and munmap() flushed neither.
	 */
	flush_tlb_mm(mm);
	trace_lw_flush(mm, win->start, win->pid, LW_FLUSH_EXIT,
		       win->dirty);
	mmap_write_unlock(mm);
	lw_window_unlocked(mm);
}

/**
 * lw_thread_exit() - release a thread's window and what is still attached
 * @tsk: the current task, exiting or exec'ing
 *
 * Detaches every attachment left (reported with an lw_misuse event of kind
 * exit_leak and their count, then an lw_misuse_att event for each), unmaps
 * the window, which flushes it on every CPU, and only then drops the
 * descriptors' references.
 *
 * Context: Process context, @tsk == current, with its mm still in place.
 */
void lw_thread_exit(struct task_struct *tsk)
{
	struct lw_window *win = tsk->lw_window;
	struct hlist_node *tmp;
	struct lw_hold *hold;
	unsigned long i;
	long left;
	int bkt;

	if (!win)
		return;
	left = win->nr_atts;
	if (left)
		trace_lw_misuse(LW_MISUSE_EXIT_LEAK, NULL, win->start, 0,
				win->tgid, win->pid, left, 0);
	lw_window_unmap(win);
	lw_cancel_flushes(win);
	for_each_set_bit(i, win->busy, win->nr_pages) {
		struct lw_att *att = win->atts[i];

		if (!att)
			continue;
		win->atts[i] = NULL;
		trace_lw_misuse_att(LW_MISUSE_EXIT_LEAK, att->dp, att->offset,
				    att->length, att->addr, att->since);
		lw_obj_put(win, att->obj, att->hold);
		kmem_cache_free(lw_att_cache, att);
	}
	hash_for_each_safe(win->holds, bkt, tmp, hold, node)
		lw_hold_free(win, hold);
	while (win->spare)
		kmem_cache_free(lw_att_cache, lw_att_alloc(win));

	spin_lock(&win->lwm->lock);
	list_del(&win->node);
	spin_unlock(&win->lwm->lock);
	tsk->lw_window = NULL;
	trace_lw_window_destroy(win->mm, win->start, win->end - win->start,
				win->tgid, win->pid, left);
	lw_window_free(win);
}

/**
 * lw_mm_exit() - free an address space's lightweight settings
 * @mm: the mm, being torn down
 *
 * Context: Process context; every thread that used @mm has exited.
 */
void lw_mm_exit(struct mm_struct *mm)
{
	struct lw_mm *lwm = mm->lw;

	if (!lwm)
		return;
	WARN_ON_ONCE(!list_empty(&lwm->windows));
	mm->lw = NULL;
	kfree(lwm);
}

static int __init lw_attach_init(void)
{
	lw_att_cache = KMEM_CACHE(lw_att, SLAB_PANIC | SLAB_ACCOUNT);
	return 0;
}
core_initcall(lw_attach_init);
