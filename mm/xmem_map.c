// SPDX-License-Identifier: GPL-2.0
/**
 * DOC: Mappings
 *
 * mmap() of a descriptor file maps the descriptor's memory into the
 * caller's address space, for every thread, until munmap() from any
 * thread.  Two kinds of descriptor are mapped:
 *
 * - pinned (%LW_XMATTACH): the pages the descriptor pins, the same pages
 *   the lightweight windows map;
 * - address space (%USER_ADSPACE, xmem_attach_aspace()): a range of the
 *   owner's mm, up to all of it, nothing pinned.  A mapping resolves the
 *   owner's pages on demand and is kept coherent with the owner's page
 *   tables.
 *
 * A mapping is a VM_MIXEDMAP VMA of the descriptor's file whose PTEs are
 * all special: no struct page references, no rmap, never copied on fork
 * (VM_DONTCOPY), never expanded, not dumped.  Each VMA accounts an
 * attachment of the descriptor (xmem_map_get()), so that xmdetach() is
 * refused with -EBUSY while any process maps it, exactly as for
 * lightweight attachments, and the pins of a pinned descriptor outlive
 * every mapping of them.  madvise(MADV_DOFORK) can clear VM_DONTCOPY (only
 * VM_IO would refuse it); the child's copy is then a VMA of the same file,
 * accounted by ->open() and zapped with the parent's (fork inserts it just
 * after its parent in the i_mmap tree), so it is one more coherent mapping.
 *
 * Why not VM_PFNMAP, as remap_pfn_range() makes: a secondary MMU takes
 * pages from a VM_PFNMAP or VM_IO VMA through follow_pfnmap_start() (KVM's
 * hva_to_pfn_remapped(), VFIO), without a reference, and relies on the
 * attacher's MMU notifiers to drop them; the zap below does not run those
 * (see xmem_map_zap_range()), so a guest could keep an owner's page after the
 * owner freed it.  A special PTE in a VMA that is neither is out of reach of
 * every secondary MMU: follow_pfnmap_start() refuses the VMA, GUP refuses
 * the PTE (-EEXIST), and hmm_range_fault() refuses it (-EFAULT).
 *
 * Coherence of address-space descriptors follows the HMM contract
 * (Documentation/mm/hmm.rst): an mmu_interval_notifier covers the owner's
 * range, and its invalidate callback zaps every attacher's PTEs for the
 * invalidated range (every VMA of the descriptor's mapping, as
 * unmap_mapping_range() finds them) before the owner's page can be freed,
 * moved or made copy-on-write.  The zap clears the special PTEs and flushes
 * the TLBs itself: it does not run the attacher's own MMU notifiers, which
 * must not nest in the owner's (two processes that map each other would
 * recurse), and which have nothing to do: no secondary MMU can take a page
 * from a mapping of a descriptor (above).  A
 * fault reads the notifier sequence, looks the pages up with
 * hmm_range_fault() under the owner's mmap_lock, and installs PTEs only
 * under the map's lock with the sequence still valid, so a PTE is never
 * installed for a page the owner has let go of: an owner that unmaps,
 * remaps, forks (copy-on-write) or exits is seen by the next touch, which
 * finds the owner's current page or gets SIGBUS, never stale data.
 *
 * One remote lookup serves a whole 2 MiB-aligned chunk: the faulting page
 * is faulted in on the owner's side if it must be, and every other page of
 * the chunk that the owner has present is mapped as well, read-only, so a
 * scan of attached memory takes one fault per chunk instead of one per
 * page (madvise(MADV_RANDOM) on a mapping turns that off, as it does a
 * file's fault-around).  An owner's huge page is mapped with PTEs too,
 * never with a PMD: a special PMD would be out of reach of GUP and KVM as
 * the special PTEs are, but not of HMM, whose hmm_vma_handle_pmd() takes
 * the pfns of any huge PMD, so an HMM mirror of the attacher (a device's
 * shared virtual memory) could keep the owner's pages without being told.
 *
 * A write fault maps its page writable only if the owner's PTE is
 * writable (hmm_range_fault() breaks copy-on-write for it first) and marks
 * the page dirty, as the owner's own write would; a write to a page mapped
 * read-only comes back through ->pfn_mkwrite(), which drops the PTE so
 * that the write faults again as a write.  Read-only PTEs are never dirty:
 * mprotect() upgrades only dirty PTEs of a shared mapping (with
 * ->pfn_mkwrite, vm_page_prot is write-protected), so nothing but a write
 * fault makes an attacher's PTE writable.
 *
 * Locking:
 *
 * - The map's lock (a mutex) serialises installing PTEs against the
 *   notifier sequence and revocation: a fault installs only under it, with
 *   the sequence it looked up still valid and the map not revoked, and
 *   invalidation and revocation change those under it and zap after
 *   dropping it.  The invalidate callback takes it from reclaim
 *   (try_to_unmap() of an owner's page), so nothing under it may allocate
 *   with reclaim: the fault allocates the PTE table before taking it, and
 *   every PTE of a chunk lies in that one table.  lockdep is told at
 *   creation that the lock is taken under fs_reclaim.
 * - Order: the attacher's mmap_lock, the owner's mmap_lock, the map's lock,
 *   then the attacher's PTE locks; the zap takes the descriptor mapping's
 *   i_mmap_rwsem, then the attacher's PTE locks.  A fault already holds
 *   the attacher's mmap_lock, so it only trylocks the owner's: two
 *   processes that map each other's memory would otherwise deadlock behind
 *   each other's writers.  When the trylock fails the fault drops the
 *   attacher's lock, waits for the owner's, yields the CPU, and is
 *   retried.  The yield matters: the trylock fails on a queued writer, but
 *   a reader may still take the lock past it, so the wait need not sleep,
 *   and a retried fault never reschedules on its own; without it the
 *   attacher spins while the owner's readers wait for its CPU (a
 *   stop_machine() under CPU hotplug never completed).  A fault that
 *   cannot drop the attacher's lock (fixup_user_fault()) never waits with
 *   it held: it installs nothing, and the access faults again.
 * - An invalidation that cannot sleep (the OOM reaper) is refused: the
 *   descriptor's mapping cannot be zapped without i_mmap_rwsem.
 *
 * GUP on a mapping fails with -EEXIST, its error for a PTE without a page:
 * process_vm_readv() of it gets -EFAULT, as on XPMEM; a shared futex on it,
 * or O_DIRECT I/O that pins it, gets -EEXIST (XPMEM's VM_PFNMAP VMAs give
 * -EFAULT there).  ptrace and /proc/PID/mem reach it through ->access().
 */

#define pr_fmt(fmt) "xmem: " fmt

#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/xmem.h>
#include <kunit/visibility.h>
#include <asm/tlb.h>

#include "internal.h"
#include "xmem_internal.h"

#define CREATE_TRACE_POINTS
#include <trace/events/xmem_map.h>

EXPORT_TRACEPOINT_SYMBOL_GPL(xmem_map);
EXPORT_TRACEPOINT_SYMBOL_GPL(xmem_unmap);
EXPORT_TRACEPOINT_SYMBOL_GPL(xmem_map_fault);
EXPORT_TRACEPOINT_SYMBOL_GPL(xmem_map_misuse);
EXPORT_TRACEPOINT_SYMBOL_GPL(xmem_name);

/* Pages one fault resolves at most: one PTE table. */
#define XMEM_CHUNK_PAGES	(PMD_SIZE >> PAGE_SHIFT)

/**
 * struct xmem_map - how the mappings of one descriptor reach its memory
 * @dp: the descriptor; its owner keeps it attached while @obj is accounted
 * @obj: the descriptor's object, with a reference (not an attachment)
 * @mapping: the address space of the descriptor's inode: every mapping of
 *	it, whichever file it came through, is in its i_mmap tree
 * @start: owner address of the first page of page offset 0
 * @nr_pages: pages a mapping may reach
 * @aspace: an address-space descriptor, resolved through @notifier
 * @writable: the descriptor may be mapped writable
 * @lock: serialises installing PTEs against invalidation and revocation
 * @revoked: every mapping is gone and every touch is SIGBUS; under @lock
 * @owner_gone: the owner's address space has been torn down; under @lock
 * @nr_vmas: VMAs that map the descriptor
 * @notifier: covers the owner's range (@aspace only)
 */
struct xmem_map {
	struct xmem *dp;
	struct xmem_obj *obj;
	struct address_space *mapping;
	unsigned long start;
	unsigned long nr_pages;
	bool aspace;
	bool writable;
	struct mutex lock;		/* installs vs invalidation, revoke */
	bool revoked;
	bool owner_gone;
	atomic_long_t nr_vmas;
	struct mmu_interval_notifier notifier;
};

static const struct vm_operations_struct xmem_map_vm_ops;

/*
 * Clear the special PTEs of [@start, @end) of @vma, a mapping of a
 * descriptor, and flush them from every TLB before returning: the walk and
 * the batched flush of a zap (unmap_page_range(), rescheduling between
 * page tables), without what zap_page_range_single() adds around it, the
 * attacher's own MMU notifiers, which must not run from inside the
 * owner's invalidation: notifiers must not nest (two processes that map
 * each other would recurse, and lockdep says so).  The caller holds the
 * mapping's i_mmap_rwsem, so the VMA and its page tables stay, as for
 * unmap_mapping_range().
 */
static void xmem_map_zap_range(struct vm_area_struct *vma, unsigned long start,
			       unsigned long end)
{
	struct mmu_gather tlb;

	tlb_gather_mmu(&tlb, vma->vm_mm);
	unmap_page_range(&tlb, vma, start, end, NULL);
	tlb_finish_mmu(&tlb);
}

/* Zap pages [@first, @last] of the descriptor in every mapping of it. */
static void xmem_map_zap(struct xmem_map *map, pgoff_t first, pgoff_t last)
{
	struct address_space *mapping = map->mapping;
	struct vm_area_struct *vma;

	i_mmap_lock_read(mapping);
	vma_interval_tree_foreach(vma, &mapping->i_mmap, first, last) {
		pgoff_t from = max(first, vma->vm_pgoff);
		pgoff_t to = min(last + 1, vma->vm_pgoff + vma_pages(vma));

		xmem_map_zap_range(vma,
				   vma->vm_start + ((from - vma->vm_pgoff) << PAGE_SHIFT),
				   vma->vm_start + ((to - vma->vm_pgoff) << PAGE_SHIFT));
	}
	i_mmap_unlock_read(mapping);
}

static void xmem_map_misuse(struct xmem_map *map, enum xmem_misuse_kind kind,
			    unsigned long addr, size_t len, int err)
{
	trace_xmem_map_misuse(kind, map->dp, addr, len, map->obj->tgid,
			      atomic_long_read(&map->nr_vmas), err);
}

/*
 * The owner changed [range->start, range->end): zap what any attacher maps
 * of it, before the owner's pages can go.
 */
static bool xmem_map_invalidate(struct mmu_interval_notifier *mni,
				const struct mmu_notifier_range *range,
				unsigned long cur_seq)
{
	struct xmem_map *map = container_of(mni, struct xmem_map, notifier);
	unsigned long end = map->start + (map->nr_pages << PAGE_SHIFT);
	unsigned long first = max(range->start, map->start);
	unsigned long last = min(range->end, end);

	if (!mmu_notifier_range_blockable(range))
		return false;
	/*
	 * From here on no fault installs a PTE it looked up before: it finds
	 * the sequence changed under the lock.  What was installed before
	 * is zapped below, before the owner's page can go.
	 */
	mutex_lock(&map->lock);
	mmu_interval_set_seq(mni, cur_seq);
	if (range->event == MMU_NOTIFY_RELEASE && !map->owner_gone) {
		map->owner_gone = true;
		if (atomic_long_read(&map->nr_vmas))
			xmem_map_misuse(map, XMEM_MISUSE_OWNER_EXIT, map->start,
					map->nr_pages << PAGE_SHIFT, 0);
	}
	mutex_unlock(&map->lock);
	if (first < last)
		xmem_map_zap(map, (first - map->start) >> PAGE_SHIFT,
			     ((last - map->start) >> PAGE_SHIFT) - 1);
	return true;
}

static const struct mmu_interval_notifier_ops xmem_map_notifier_ops = {
	.invalidate = xmem_map_invalidate,
};

/**
 * xmem_map_create() - set up the mappings of an attached descriptor
 * @dp: descriptor attached with %LW_XMATTACH, or by xmem_attach_aspace()
 *	in the calling process
 * @mapping: the address space every file of the descriptor shares
 *
 * Context: Process context, in the process that attached @dp (an
 * address-space descriptor registers a notifier on its mm).  May sleep.
 * Return: the new map, or ERR_PTR(-EINVAL) if @dp is not such a descriptor,
 * ERR_PTR(-ENOMEM).
 */
struct xmem_map *xmem_map_create(struct xmem *dp,
				 struct address_space *mapping)
{
	struct xmem_obj *obj = xmem_obj_get(dp);
	struct xmem_map *map;
	int err = -EINVAL;

	if (!obj)
		return ERR_PTR(-EINVAL);
	if (obj->segflag != LW_XMATTACH && obj->segflag != USER_ADSPACE)
		goto put;
	err = -ENOMEM;
	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		goto put;
	map->dp = dp;
	map->obj = obj;
	map->mapping = mapping;
	map->start = obj->addr & PAGE_MASK;
	map->nr_pages = DIV_ROUND_UP(obj->addr + obj->len, PAGE_SIZE) -
			obj->addr / PAGE_SIZE;
	map->aspace = obj->segflag == USER_ADSPACE;
	map->writable = obj->writable;
	mutex_init(&map->lock);
	atomic_long_set(&map->nr_vmas, 0);
	/* Invalidation takes the lock from reclaim: tell lockdep. */
	fs_reclaim_acquire(GFP_KERNEL);
	might_lock(&map->lock);
	fs_reclaim_release(GFP_KERNEL);
	if (map->aspace) {
		if (WARN_ON_ONCE(obj->mm != current->mm))
			goto free;
		err = mmu_interval_notifier_insert(&map->notifier, obj->mm,
						   map->start,
						   map->nr_pages << PAGE_SHIFT,
						   &xmem_map_notifier_ops);
		if (err)
			goto free;
	}
	return map;

free:
	mutex_destroy(&map->lock);
	kfree(map);
put:
	xmem_obj_put(obj);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_IF_KUNIT(xmem_map_create);

/**
 * xmem_map_destroy() - free a map that nothing maps any more
 * @map: map from xmem_map_create()
 *
 * Context: Process context.  May sleep (waits for a running invalidation).
 */
void xmem_map_destroy(struct xmem_map *map)
{
	WARN_ON_ONCE(atomic_long_read(&map->nr_vmas));
	if (map->aspace)
		mmu_interval_notifier_remove(&map->notifier);
	mutex_destroy(&map->lock);
	xmem_obj_put(map->obj);
	kfree(map);
}
EXPORT_SYMBOL_IF_KUNIT(xmem_map_destroy);

/**
 * xmem_map_revoke() - end every mapping of a descriptor
 * @map: map
 *
 * Zaps every PTE of every mapping; every later touch of one gets SIGBUS (an
 * xmem_map_misuse event), and xmem_map_mmap() refuses new ones.  The VMAs
 * stay until their processes unmap them.
 *
 * Context: Process context.  May sleep.
 */
void xmem_map_revoke(struct xmem_map *map)
{
	/* No fault installs anything after this; zap what is there. */
	mutex_lock(&map->lock);
	WRITE_ONCE(map->revoked, true);
	mutex_unlock(&map->lock);
	xmem_map_zap(map, 0, map->nr_pages - 1);
}
EXPORT_SYMBOL_IF_KUNIT(xmem_map_revoke);

/**
 * xmem_map_count() - mappings of a descriptor
 * @map: map
 *
 * Context: Any context.
 * Return: the number of VMAs that map it now (a snapshot).
 */
long xmem_map_count(struct xmem_map *map)
{
	return atomic_long_read(&map->nr_vmas);
}

/**
 * xmem_map_mmap() - the ->mmap of a descriptor file
 * @map: the descriptor's map
 * @vma: the new VMA; vm_pgoff is the first page, counted from the page
 *	that holds the descriptor's first byte
 *
 * Only %MAP_SHARED, inside the descriptor.  A descriptor that is read-only
 * (or a file opened read-only: mmap() itself refuses PROT_WRITE then) is
 * never mapped writable, and mprotect() cannot make it so.
 *
 * Context: Process context, mmap_lock held for writing.
 * Return: 0; -EINVAL for a private mapping or a range past the descriptor;
 * -EACCES for a writable mapping of a read-only descriptor; -ENODEV if the
 * descriptor is revoked or detached.
 */
int xmem_map_mmap(struct xmem_map *map, struct vm_area_struct *vma)
{
	unsigned long pages = vma_pages(vma);
	struct xmem_obj *obj;
	int err;

	/* VM_MAYSHARE: a read-only file's shared mapping has no VM_SHARED. */
	err = -EINVAL;
	if (!(vma->vm_flags & VM_MAYSHARE))
		goto out;
	if (vma->vm_pgoff >= map->nr_pages ||
	    pages > map->nr_pages - vma->vm_pgoff)
		goto out;
	err = -EACCES;
	if (!map->writable) {
		if (vma->vm_flags & VM_WRITE)
			goto out;
		vm_flags_clear(vma, VM_MAYWRITE);
	}
	err = -ENODEV;
	if (READ_ONCE(map->revoked))
		goto out;
	obj = xmem_map_get(map->dp);
	if (IS_ERR(obj))
		goto out;
	WARN_ON_ONCE(obj != map->obj);
	/* Not VM_PFNMAP nor VM_IO: out of reach of secondary MMUs (above). */
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP |
		     VM_DONTCOPY);
	vma->vm_ops = &xmem_map_vm_ops;
	vma->vm_private_data = map;
	atomic_long_inc(&map->nr_vmas);
	err = 0;
out:
	trace_xmem_map(map->dp, vma->vm_start, vma->vm_end - vma->vm_start,
		       vma->vm_pgoff, !!(vma->vm_flags & VM_WRITE), err);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(xmem_map_mmap);

/*
 * A VMA of the descriptor was split, or copied by fork() after
 * MADV_DOFORK: the new one is one more attachment.
 */
static void xmem_map_vm_open(struct vm_area_struct *vma)
{
	struct xmem_map *map = vma->vm_private_data;

	xmem_attachment_dup(map->obj);
	atomic_long_inc(&map->nr_vmas);
}

/* Unmapped (after the TLB flush) or its process exited. */
static void xmem_map_vm_close(struct vm_area_struct *vma)
{
	struct xmem_map *map = vma->vm_private_data;

	trace_xmem_unmap(map->dp, vma->vm_start, vma->vm_end - vma->vm_start,
			 vma->vm_pgoff);
	atomic_long_dec(&map->nr_vmas);
	xmem_lw_put(map->obj);
}

/* Page offset in the descriptor of @addr in @vma. */
static pgoff_t xmem_map_pgoff(struct vm_area_struct *vma, unsigned long addr)
{
	return vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
}

/*
 * Install PTEs for the present entries of @pfns (HMM's encoding), one per
 * page from @start, under the PTE lock of the table @vmf->pmd points to;
 * entries already present are left alone.  Those in [@wstart, @wend) are
 * made writable, and dirty; the others read-only and clean.  The caller
 * holds map->lock.
 */
static vm_fault_t xmem_map_set_ptes(struct vm_fault *vmf, unsigned long start,
				    unsigned long nr, const unsigned long *pfns,
				    unsigned long wstart, unsigned long wend)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long addr = start, i;
	spinlock_t *ptl;	/* the PTE table's */
	pte_t *ptep;

	ptep = pte_offset_map_lock(vma->vm_mm, vmf->pmd, start, &ptl);
	if (!ptep)
		return VM_FAULT_NOPAGE;		/* the table changed: retry */
	for (i = 0; i < nr; i++, addr += PAGE_SIZE) {
		bool w = addr >= wstart && addr < wend;
		pte_t entry = ptep_get(ptep + i);

		if (!(pfns[i] & HMM_PFN_VALID))
			continue;
		if (!pte_none(entry)) {
			/*
			 * Present: only a write upgrades it (->pfn_mkwrite),
			 * and only a read-only one.
			 */
			if (!w || pte_write(entry))
				continue;
			ptep_clear_flush(vma, addr, ptep + i);
		}
		entry = pte_mkspecial(pfn_pte(page_to_pfn(hmm_pfn_to_page(pfns[i])),
					      vma->vm_page_prot));
		if (w)
			entry = pte_mkyoung(pte_mkdirty(pte_mkwrite(entry, vma)));
		else
			entry = pte_wrprotect(entry);
		set_pte_at(vma->vm_mm, addr, ptep + i, entry);
		update_mmu_cache_range(vmf, vma, addr, ptep + i, 1);
	}
	pte_unmap_unlock(ptep, ptl);
	return VM_FAULT_NOPAGE;
}

/*
 * The part of the 2 MiB-aligned chunk around @vmf->address that @vma maps:
 * [*startp, *startp + nr pages).  One PTE table covers all of it.  Only the
 * page touched under MADV_RANDOM, as for a file's fault-around.
 */
static unsigned long xmem_map_chunk(struct vm_fault *vmf, unsigned long *startp)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long base = ALIGN_DOWN(vmf->address, PMD_SIZE);
	unsigned long start = max(vma->vm_start, base);
	unsigned long end = min(vma->vm_end, base + PMD_SIZE);

	if (vma->vm_flags & VM_RAND_READ) {
		start = vmf->address & PAGE_MASK;
		end = start + PAGE_SIZE;
	}

	*startp = start;
	return (end - start) >> PAGE_SHIFT;
}

/* A pinned descriptor: its pages are known, nothing can invalidate them. */
static vm_fault_t xmem_map_fault_pinned(struct vm_fault *vmf,
					struct xmem_map *map,
					unsigned long *pfns)
{
	struct vm_area_struct *vma = vmf->vma;
	bool write = vma->vm_flags & VM_WRITE;
	unsigned long start, nr, i;
	pgoff_t pgoff;
	vm_fault_t ret;

	nr = xmem_map_chunk(vmf, &start);
	pgoff = xmem_map_pgoff(vma, start);
	for (i = 0; i < nr; i++)
		pfns[i] = HMM_PFN_VALID |
			  page_to_pfn(map->obj->pages[pgoff + i]);
	mutex_lock(&map->lock);
	if (map->revoked) {
		mutex_unlock(&map->lock);
		return VM_FAULT_SIGBUS;
	}
	/* Pinned for writing if writable at all: no write needs a fault. */
	ret = xmem_map_set_ptes(vmf, start, nr, pfns, start,
				write ? start + (nr << PAGE_SHIFT) : start);
	mutex_unlock(&map->lock);
	trace_xmem_map_fault(map->dp, vmf->address, nr,
			     !!(vmf->flags & FAULT_FLAG_WRITE), 0);
	return ret;
}

/*
 * Take the owner's mmap_lock for reading while the fault holds the
 * attacher's.  Only a trylock: see the lock order at the top.  Return 0
 * with the lock held, or the fault's result when it must be retried.
 */
static vm_fault_t xmem_map_lock_owner(struct vm_fault *vmf,
				      struct mm_struct *mm)
{
	if (mm == vmf->vma->vm_mm || mmap_read_trylock(mm))
		return 0;
	if (!(vmf->flags & FAULT_FLAG_ALLOW_RETRY)) {
		/*
		 * A fault that cannot retry (fixup_user_fault()) cannot let
		 * go of the attacher's lock, and must not wait with it held:
		 * two processes that map each other, each with a writer
		 * queued behind the other's fault, would wait forever.
		 * Install nothing; the access faults again, the attacher's
		 * lock released in between.
		 */
		cond_resched();
		return VM_FAULT_NOPAGE;
	}
	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return VM_FAULT_RETRY;
	release_fault_lock(vmf);
	/* Wait for the owner's writer with no lock of the attacher held. */
	if (!mmap_read_lock_killable(mm))
		mmap_read_unlock(mm);
	cond_resched();
	return VM_FAULT_RETRY;
}

/*
 * An address-space descriptor: look the chunk up in the owner's page
 * tables, faulting in the one page touched, and install what is present,
 * all within one notifier sequence.
 */
static vm_fault_t xmem_map_fault_aspace(struct vm_fault *vmf,
					struct xmem_map *map,
					unsigned long *pfns)
{
	struct vm_area_struct *vma = vmf->vma;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	struct mm_struct *mm = map->notifier.mm;
	unsigned long start, nr, touched, wstart;
	struct hmm_range range = {
		.notifier = &map->notifier,
		.hmm_pfns = pfns,
		.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
	};
	vm_fault_t ret;
	int err;

	nr = xmem_map_chunk(vmf, &start);
	touched = (vmf->address - start) >> PAGE_SHIFT;
	wstart = vmf->address & PAGE_MASK;
	range.start = map->start + (xmem_map_pgoff(vma, start) << PAGE_SHIFT);
	range.end = range.start + (nr << PAGE_SHIFT);
	if (!mmget_not_zero(mm)) {
		xmem_map_misuse(map, XMEM_MISUSE_TOUCH_GONE, vmf->address,
				PAGE_SIZE, -ESRCH);
		return VM_FAULT_SIGBUS;
	}
	ret = xmem_map_lock_owner(vmf, mm);
	if (ret)
		goto put;
	for (;;) {
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		range.notifier_seq = mmu_interval_read_begin(&map->notifier);
		memset(pfns, 0, nr * sizeof(*pfns));
		pfns[touched] = HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0);
		err = hmm_range_fault(&range);
		if (err == -EBUSY) {
			cond_resched();
			continue;
		}
		if (err)
			break;
		mutex_lock(&map->lock);
		if (map->revoked) {
			err = -ENODEV;
		} else if (!mmu_interval_read_retry(&map->notifier,
						    range.notifier_seq)) {
			if (write)
				folio_mark_dirty(page_folio(hmm_pfn_to_page(pfns[touched])));
			ret = xmem_map_set_ptes(vmf, start, nr, pfns, wstart,
						wstart + (write ? PAGE_SIZE : 0));
		} else {
			mutex_unlock(&map->lock);
			cond_resched();
			continue;
		}
		mutex_unlock(&map->lock);
		break;
	}
	if (mm != vma->vm_mm)
		mmap_read_unlock(mm);
	if (err == -ENOMEM) {
		ret = VM_FAULT_OOM;
	} else if (err == -EINTR) {
		ret = VM_FAULT_SIGBUS;		/* dying anyway */
	} else if (err) {
		/* A hole, no access, or the owner's memory is not mappable. */
		xmem_map_misuse(map, err == -ENODEV ? XMEM_MISUSE_TOUCH_REVOKED :
				XMEM_MISUSE_TOUCH_GONE, vmf->address, PAGE_SIZE,
				err);
		ret = VM_FAULT_SIGBUS;
	}
	trace_xmem_map_fault(map->dp, vmf->address, err ? 0 : nr, write, err);
put:
	/* The last reference tears the owner's mm down: not under our locks. */
	mmput_async(mm);
	return ret;
}

static vm_fault_t xmem_map_fault(struct vm_fault *vmf)
{
	struct xmem_map *map = vmf->vma->vm_private_data;
	unsigned long small[16], *pfns, start;
	vm_fault_t ret;

	if (READ_ONCE(map->revoked)) {
		xmem_map_misuse(map, XMEM_MISUSE_TOUCH_REVOKED, vmf->address,
				PAGE_SIZE, -ENODEV);
		return VM_FAULT_SIGBUS;
	}
	/*
	 * The PTE table, now: nothing may allocate under map->lock.  Every
	 * page of the chunk is in this table.
	 */
	if (pte_alloc(vmf->vma->vm_mm, vmf->pmd))
		return VM_FAULT_OOM;
	/* A small mapping's chunk fits on the stack. */
	pfns = small;
	if (xmem_map_chunk(vmf, &start) > ARRAY_SIZE(small)) {
		pfns = kmalloc_array(XMEM_CHUNK_PAGES, sizeof(*pfns), GFP_KERNEL);
		if (!pfns)
			return VM_FAULT_OOM;
	}
	if (map->aspace)
		ret = xmem_map_fault_aspace(vmf, map, pfns);
	else
		ret = xmem_map_fault_pinned(vmf, map, pfns);
	if (pfns != small)
		kfree(pfns);
	return ret;
}

/*
 * A write to a page mapped read-only.  A pinned page may be written through
 * any writable mapping.  An owner's page is looked up again as a write
 * (copy-on-write, dirty tracking) and its PTE replaced by a writable one
 * here: dropping the PTE and letting the write fault again would livelock
 * a read-modify-write instruction whose fault on a missing page is reported
 * as a read.  When the owner's mmap_lock is contended it is waited for as
 * by a fault: the attacher's lock is dropped and the fault retried
 * (VM_FAULT_NOPAGE with it tells do_wp_page() the PTE is not ours to
 * finish).
 */
static vm_fault_t xmem_map_pfn_mkwrite(struct vm_fault *vmf)
{
	struct xmem_map *map = vmf->vma->vm_private_data;
	unsigned long small[16], *pfns = small, start;
	vm_fault_t ret;

	if (!map->aspace)
		return READ_ONCE(map->revoked) ? VM_FAULT_SIGBUS : 0;
	if (READ_ONCE(map->revoked)) {
		xmem_map_misuse(map, XMEM_MISUSE_TOUCH_REVOKED, vmf->address,
				PAGE_SIZE, -ENODEV);
		return VM_FAULT_SIGBUS;
	}
	if (xmem_map_chunk(vmf, &start) > ARRAY_SIZE(small)) {
		pfns = kmalloc_array(XMEM_CHUNK_PAGES, sizeof(*pfns), GFP_KERNEL);
		if (!pfns)
			return VM_FAULT_OOM;
	}
	ret = xmem_map_fault_aspace(vmf, map, pfns);
	if (pfns != small)
		kfree(pfns);
	return ret & VM_FAULT_RETRY ? ret | VM_FAULT_NOPAGE : ret;
}

/* Copy @len bytes at @off of @page from @buf (@write) or to it. */
static void xmem_map_copy_page(struct page *page, unsigned long off,
			       void *buf, int len, bool write)
{
	if (write)
		memcpy_to_page(page, off, buf, len);
	else
		memcpy_from_page(buf, page, off, len);
}

/*
 * ptrace and /proc/PID/mem of an attacher: GUP cannot reach a special
 * PTE, so access_remote_vm() asks here, page by page, with the
 * attacher's mmap_lock held.
 */
static int xmem_map_access(struct vm_area_struct *vma, unsigned long addr,
			   void *buf, int len, int write)
{
	struct xmem_map *map = vma->vm_private_data;
	unsigned long off = offset_in_page(addr);
	pgoff_t pgoff = xmem_map_pgoff(vma, addr);
	struct mm_struct *mm = map->notifier.mm;
	struct page *page;
	long got;

	len = min_t(int, len, PAGE_SIZE - off);
	if ((write && !(vma->vm_flags & VM_WRITE)) || READ_ONCE(map->revoked))
		return -EFAULT;
	if (!map->aspace) {
		xmem_map_copy_page(map->obj->pages[pgoff], off, buf, len, write);
		return len;
	}
	if (!mmget_not_zero(mm))
		return -EFAULT;
	if (mm != vma->vm_mm && !mmap_read_trylock(mm)) {
		mmput_async(mm);
		return -EAGAIN;
	}
	got = get_user_pages_remote(mm, map->start + (pgoff << PAGE_SHIFT),
				    1, write ? FOLL_WRITE : 0, &page, NULL);
	if (mm != vma->vm_mm)
		mmap_read_unlock(mm);
	mmput_async(mm);
	if (got != 1)
		return -EFAULT;
	xmem_map_copy_page(page, off, buf, len, write);
	if (write)
		set_page_dirty_lock(page);
	put_page(page);
	return len;
}

static const struct vm_operations_struct xmem_map_vm_ops = {
	.open		= xmem_map_vm_open,
	.close		= xmem_map_vm_close,
	.fault		= xmem_map_fault,
	.pfn_mkwrite	= xmem_map_pfn_mkwrite,
	.access		= xmem_map_access,
};

/**
 * xmem_map_of() - the map of a VMA, if it maps a descriptor
 * @vma: any VMA
 *
 * Context: mmap_lock held.
 * Return: the map, or NULL if @vma is no mapping of a descriptor.
 */
struct xmem_map *xmem_map_of(struct vm_area_struct *vma)
{
	return vma->vm_ops == &xmem_map_vm_ops ? vma->vm_private_data : NULL;
}

/**
 * xmem_map_unmap() - unmap the mapping of a descriptor at an address
 * @addr: the address mmap() returned for it
 *
 * Unmaps the VMA that starts at @addr, and the ones that continue it (a
 * mapping split by mprotect()), as one munmap(), from any thread.  For the
 * XPMEM-compatible library, whose detach is given only the address.
 *
 * Context: Process context.  Takes mmap_lock for writing.
 * Return: 0; -ENOENT if nothing is mapped at @addr; -EINVAL if @addr is not
 * the start of a mapping of a descriptor (both xmem_map_misuse events);
 * -EINTR on a fatal signal.
 */
int xmem_map_unmap(unsigned long addr)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma, *next;
	struct xmem_map *map = NULL;
	struct xmem *dp;
	unsigned long end;
	int err;

	if (mmap_write_lock_killable(mm))
		return -EINTR;
	vma = vma_lookup(mm, addr);
	err = -ENOENT;
	if (!vma)
		goto refuse;
	map = xmem_map_of(vma);
	err = -EINVAL;
	if (!map || vma->vm_start != addr)
		goto refuse;
	end = vma->vm_end;
	for (;;) {
		next = find_vma(mm, end);
		if (!next || next->vm_start != end || xmem_map_of(next) != map ||
		    next->vm_pgoff != xmem_map_pgoff(vma, end))
			break;
		end = next->vm_end;
	}
	err = do_munmap(mm, addr, end - addr, NULL);
	mmap_write_unlock(mm);
	return err;

refuse:
	/* Once unlocked, the map may go with the VMA's last close. */
	dp = map ? map->dp : NULL;
	mmap_write_unlock(mm);
	trace_xmem_map_misuse(XMEM_MISUSE_UNMAP_UNATTACHED, dp, addr, 0, 0, 0,
			      err);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(xmem_map_unmap);
