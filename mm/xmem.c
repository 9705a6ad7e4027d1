// SPDX-License-Identifier: GPL-2.0
/*
 * Cross-memory descriptors: xmattach(), xmdetach(), xmemin() and xmemout().
 *
 * A descriptor is caller-owned memory (struct xmem) that points to a private,
 * refcounted struct xmem_obj.  The object records what was attached:
 *
 *   USER_ADSPACE  the owner's mm (mmgrab) and the range; nothing is pinned,
 *                 copies go through access_remote_vm() from process context.
 *   LW_XMATTACH   the range pinned with FOLL_PIN | FOLL_LONGTERM, charged to
 *                 the owner's user RLIMIT_MEMLOCK and the mm's pinned_vm
 *                 exactly as io_uring charges its registered buffers; copies
 *                 go through the pinned pages from any context.
 *   SYS_ADSPACE   a kernel buffer (direct map, vmalloc or module memory);
 *                 copies use the *_kernel_nofault() helpers.
 *
 * Lifetime and locking:
 *
 *  - A descriptor is caller memory, and AIX callers only set aspace_id to
 *    XMEM_INVAL before xmattach(): nothing else in it can be trusted while
 *    it is free.  aspace_id is therefore the gate.  xmattach() claims the
 *    descriptor by moving aspace_id from XMEM_INVAL to XMEM_ATTACHING with
 *    cmpxchg() (a concurrent xmattach() of the same descriptor gets -EBUSY),
 *    fills it in, publishes xm_priv with rcu_assign_pointer() and then
 *    aspace_id with smp_store_release().  Readers load aspace_id with
 *    smp_load_acquire() (paired with that release) and only then look at
 *    xm_priv, under rcu_read_lock().  xmdetach() claims the object under its
 *    lock, clears xm_priv and only then stores XMEM_INVAL (release again),
 *    so the next xmattach() cannot start before the reset is complete.
 *  - A descriptor names its object by id and generation (xm_id, xm_gen),
 *    looked up under RCU in the registry of attached objects, xmem_objs,
 *    never through a pointer the descriptor holds: AIX code copies
 *    descriptors by value, and a copy outlives the detach of another copy.
 *    xmdetach() takes the object out of the registry before it unpins a
 *    page, and a generation is never reused, so a stale copy finds nothing
 *    and gets -EINVAL however late it comes.  The struct is freed with
 *    kfree_rcu() after its last reference, so a reader that found it can
 *    still lock it and see that it is no longer live.
 *  - xmemin()/xmemout() are not serialised against xmdetach(): as on AIX,
 *    the caller must not detach a descriptor it is still copying through
 *    (or any copy of it).
 *  - obj->lock (a spinlock) protects the state and the count of lightweight
 *    attachments; xmdetach() moves LIVE to DETACHED under it only when that
 *    count is zero, so no attachment can be added to a dying descriptor and
 *    no descriptor dies under an attachment.
 *  - obj->flush_lock (a mutex) serialises the deferred-flush queue: the
 *    lightweight services register a flush when they detach without a
 *    broadcast TLB invalidation and cancel it once their own flush has run;
 *    xmdetach() runs whatever is still queued before it unpins a single
 *    page.  A flush's func runs under flush_lock, so it must not take a lock
 *    that is held around xmem_flush_defer() or xmem_flush_cancel().
 *  - obj->ref counts the descriptor itself, every lightweight attachment and
 *    every registered flush; pages and charges are released by xmdetach(),
 *    the struct by the last put.
 *  - An owner that must let go of a descriptor while lightweight
 *    attachments are outstanding (the last close of a /dev/xmem descriptor
 *    file) hands it over with xmem_detach_orphan(): LIVE becomes ORPHANED
 *    under obj->lock, no new attachment is accepted, and the xmem_lw_put()
 *    that drops the count to zero completes the xmdetach(): flushes, unpin,
 *    uncharge, then the owner's free_dp callback frees the descriptor.
 */

#define pr_fmt(fmt) "xmem: " fmt

#include <asm/sections.h>
#include <linux/capability.h>
#include <linux/export.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>
#include <linux/xmem.h>
#include <kunit/visibility.h>

#include "xmem_internal.h"

#define CREATE_TRACE_POINTS
#include <trace/events/xmem.h>

EXPORT_TRACEPOINT_SYMBOL_GPL(xmem_attach);
EXPORT_TRACEPOINT_SYMBOL_GPL(xmem_detach);
EXPORT_TRACEPOINT_SYMBOL_GPL(xmem_copy);
EXPORT_TRACEPOINT_SYMBOL_GPL(xmem_detach_refused);
EXPORT_TRACEPOINT_SYMBOL_GPL(xmem_detach_holder);

/* aspace_id while xmattach() fills the descriptor in; never seen otherwise. */
#define XMEM_ATTACHING	(-3)

/* How a user range is attached, beyond its segflag. */
#define XMEM_ATTACH_RDONLY	BIT(0)	/* never writable through the descriptor */
#define XMEM_ATTACH_ASPACE	BIT(1)	/* holes allowed, nothing checked */

/*
 * The registry of attached objects, by id: a slot is reserved when an object
 * is made, holds the object from xmem_publish() to xmem_unregister(), and is
 * freed then.  Ids are handed out cyclically; generations never repeat.
 */
static DEFINE_XARRAY_ALLOC1(xmem_objs);
static u32 xmem_next_id;
static atomic64_t xmem_next_gen = ATOMIC64_INIT(0);

static struct xmem_obj *xmem_obj_alloc(unsigned long addr, size_t len,
				       int segflag)
{
	struct xmem_obj *obj = kzalloc(sizeof(*obj), GFP_KERNEL_ACCOUNT);

	if (!obj)
		return NULL;
	/* Reserved (a NULL entry): found by no lookup until published. */
	if (xa_alloc_cyclic(&xmem_objs, &obj->id, NULL, xa_limit_32b,
			    &xmem_next_id, GFP_KERNEL_ACCOUNT) < 0) {
		kfree(obj);
		return NULL;
	}
	obj->gen = atomic64_inc_return(&xmem_next_gen);
	kref_init(&obj->ref);
	spin_lock_init(&obj->lock);
	mutex_init(&obj->flush_lock);
	INIT_LIST_HEAD(&obj->flushes);
	INIT_LIST_HEAD(&obj->holds);
	obj->state = XMEM_OBJ_LIVE;
	obj->segflag = segflag;
	obj->addr = addr;
	obj->len = len;
	obj->tgid = current->tgid;
	obj->pid = current->pid;
	return obj;
}

/* The last reference is gone: free the struct once RCU readers are done. */
static void xmem_obj_free(struct kref *ref)
{
	struct xmem_obj *obj = container_of(ref, struct xmem_obj, ref);

	mutex_destroy(&obj->flush_lock);
	kfree_rcu(obj, rcu);
}

/**
 * xmem_obj_put() - drop a reference to a descriptor's private object
 * @obj: object
 *
 * Context: Any context.
 */
void xmem_obj_put(struct xmem_obj *obj)
{
	kref_put(&obj->ref, xmem_obj_free);
}
EXPORT_SYMBOL_IF_KUNIT(xmem_obj_put);

/*
 * Check that [start, end) is entirely mapped by VMAs that gup may pin (not
 * VM_IO, VM_PFNMAP or VM_MIXEDMAP, whose special PTEs have no page to pin,
 * mappings of descriptors among them), and find out whether all of it is
 * writable.
 */
static int xmem_check_range(struct mm_struct *mm, unsigned long start,
			    unsigned long end, bool *writable)
{
	VMA_ITERATOR(vmi, mm, start);
	struct vm_area_struct *vma;
	unsigned long next = start;
	int ret = 0;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	*writable = true;
	for_each_vma_range(vmi, vma, end) {
		if (vma->vm_start > next ||
		    (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP)) ||
		    !(vma->vm_flags & VM_READ)) {
			ret = -EFAULT;
			break;
		}
		if (!(vma->vm_flags & VM_WRITE))
			*writable = false;
		next = vma->vm_end;
	}
	if (!ret && next < end)
		ret = -EFAULT;
	mmap_read_unlock(mm);
	return ret;
}

/**
 * xmem_memlock_charge() - charge pages to the current user's RLIMIT_MEMLOCK
 * @nr_pages: pages the kernel keeps pinned or allocated on the user's behalf
 *
 * As io_uring charges its registered buffers: to the user's locked_vm,
 * refused past the caller's RLIMIT_MEMLOCK; nothing for a caller with
 * CAP_IPC_LOCK.  Undo with xmem_memlock_uncharge() of what this returns.
 *
 * Context: Process context.
 * Return: the user charged, with a reference; NULL if nothing was charged
 * (CAP_IPC_LOCK); ERR_PTR(-ENOMEM) over the limit.
 */
struct user_struct *xmem_memlock_charge(unsigned long nr_pages)
{
	unsigned long limit, cur;
	struct user_struct *user;

	if (ns_capable_noaudit(&init_user_ns, CAP_IPC_LOCK))
		return NULL;
	user = get_uid(current_user());
	limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	cur = atomic_long_read(&user->locked_vm);
	do {
		if (nr_pages > limit || cur > limit - nr_pages) {
			free_uid(user);
			return ERR_PTR(-ENOMEM);
		}
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur,
					  cur + nr_pages));
	return user;
}

/**
 * xmem_memlock_uncharge() - return what xmem_memlock_charge() charged
 * @user: what it returned, or NULL
 * @nr_pages: the pages it was given
 *
 * Context: Any context.
 */
void xmem_memlock_uncharge(struct user_struct *user, unsigned long nr_pages)
{
	if (!user)
		return;
	atomic_long_sub(nr_pages, &user->locked_vm);
	free_uid(user);
}

/* Charge @nr_pages to RLIMIT_MEMLOCK and the mm's pinned_vm. */
static int xmem_charge(struct xmem_obj *obj, unsigned long nr_pages)
{
	struct user_struct *user = xmem_memlock_charge(nr_pages);

	if (IS_ERR(user))
		return PTR_ERR(user);
	obj->user = user;
	obj->charged = user ? nr_pages : 0;
	atomic64_add(nr_pages, &obj->mm->pinned_vm);
	return 0;
}

static void xmem_uncharge(struct xmem_obj *obj)
{
	atomic64_sub(obj->nr_pages, &obj->mm->pinned_vm);
	xmem_memlock_uncharge(obj->user, obj->charged);
	obj->user = NULL;
	obj->charged = 0;
}

static int xmem_pin(struct xmem_obj *obj)
{
	unsigned int gup_flags = FOLL_LONGTERM | (obj->writable ? FOLL_WRITE : 0);
	unsigned long start = obj->addr & PAGE_MASK;
	unsigned long done = 0;
	long ret;

	obj->pages = kvmalloc_array(obj->nr_pages, sizeof(*obj->pages),
				    GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!obj->pages)
		return -ENOMEM;
	while (done < obj->nr_pages) {
		ret = pin_user_pages_fast(start + done * PAGE_SIZE,
					  min(obj->nr_pages - done, (unsigned long)INT_MAX),
					  gup_flags, obj->pages + done);
		if (ret <= 0)
			goto unpin;
		done += ret;
	}
	return 0;

unpin:
	unpin_user_pages(obj->pages, done);
	kvfree(obj->pages);
	obj->pages = NULL;
	/*
	 * Keep the documented errors: gup can also fail with -EBUSY or -EAGAIN
	 * (pages that could not be migrated for a long-term pin) or
	 * -EOPNOTSUPP (fsdax), which here all mean "cannot be pinned".
	 */
	return ret == -ENOMEM || ret == -EINTR ? ret : -EFAULT;
}

/*
 * An address-space descriptor (/dev/xmem): a page-aligned range of the
 * caller's address space, up to all of it, holes allowed; nothing is
 * checked, pinned or charged now.  Its mappings find the pages on demand.
 */
static int xmem_record_aspace(struct xmem_obj *obj, bool rdonly)
{
	if (!current->mm)
		return -EFAULT;
	if (!PAGE_ALIGNED(obj->addr) || !PAGE_ALIGNED(obj->len))
		return -EINVAL;
	if (obj->addr >= TASK_SIZE || obj->len > TASK_SIZE - obj->addr)
		return -EFAULT;
	obj->writable = !rdonly;
	mmgrab(current->mm);
	obj->mm = current->mm;
	return 0;
}

static int xmem_attach_user(struct xmem_obj *obj, unsigned int flags)
{
	unsigned long end = obj->addr + obj->len;
	struct mm_struct *mm = current->mm;
	int ret;

	if (flags & XMEM_ATTACH_ASPACE)
		return xmem_record_aspace(obj, flags & XMEM_ATTACH_RDONLY);
	if (!mm || untagged_addr(obj->addr) + obj->len > TASK_SIZE)
		return -EFAULT;
	ret = xmem_check_range(mm, untagged_addr(obj->addr),
			       untagged_addr(obj->addr) + obj->len,
			       &obj->writable);
	if (ret)
		return ret;
	if (flags & XMEM_ATTACH_RDONLY)
		obj->writable = false;
	mmgrab(mm);
	obj->mm = mm;
	if (obj->segflag != LW_XMATTACH)
		return 0;

	obj->nr_pages = DIV_ROUND_UP(end, PAGE_SIZE) - obj->addr / PAGE_SIZE;
	ret = xmem_charge(obj, obj->nr_pages);
	if (ret)
		goto drop_mm;
	ret = xmem_pin(obj);
	if (ret)
		goto uncharge;
	return 0;

uncharge:
	xmem_uncharge(obj);
drop_mm:
	obj->mm = NULL;
	mmdrop(mm);
	return ret;
}

/*
 * A kernel buffer: direct-mapped or in the kernel image, or inside one
 * vmalloc or module area.  Copies use the *_kernel_nofault() helpers, so a
 * range that is mapped read-only (rodata, module text) faults into -EFAULT
 * instead of an oops; kernel rodata is also marked read-only here.
 */
static int xmem_attach_sys(struct xmem_obj *obj)
{
	unsigned long addr = obj->addr, last = obj->addr + obj->len - 1;
	struct vm_struct *area;
	bool ok;

	if (is_vmalloc_or_module_addr((void *)addr)) {
		area = find_vm_area((void *)addr);
		ok = area && last - (unsigned long)area->addr <
			     get_vm_area_size(area);
	} else {
		ok = virt_addr_valid((void *)addr) && virt_addr_valid((void *)last);
	}
	obj->writable = !is_kernel_rodata(addr) && !is_kernel_rodata(last);
	return ok ? 0 : -EFAULT;
}

static void xmem_publish(struct xmem *dp, struct xmem_obj *obj)
{
	dp->num_sids = 1;
	dp->subspace_id = 0;
	dp->vaddr = obj->addr;
	dp->xmemflags = (obj->segflag == LW_XMATTACH ? XMEM_LW : 0) |
			(obj->writable ? 0 : XMEM_RDONLY);
	dp->prexflags = 0;
	dp->xm_amr = 0;
	dp->l2psize = PAGE_SHIFT;
	dp->xm_len = obj->len;
	dp->xm_id = obj->id;
	dp->xm_gen = obj->gen;
	rcu_assign_pointer(dp->xm_priv, obj);
	/* Cannot fail: the slot was reserved with the object. */
	xa_store(&xmem_objs, obj->id, obj, GFP_KERNEL);
	/* Paired with smp_load_acquire() in xmem_lookup(). */
	smp_store_release(&dp->aspace_id,
			  obj->segflag == SYS_ADSPACE ? XMEM_GLOBAL : XMEM_PROC);
}

static int __xmattach(unsigned long addr, size_t count, struct xmem *dp,
		      int segflag, unsigned int flags)
{
	struct xmem_obj *obj;
	int ret;

	if (!dp)
		return -EINVAL;
	if (READ_ONCE(dp->aspace_id) != XMEM_INVAL)
		return -EBUSY;
	if (!count || addr + count < addr)
		return -EINVAL;
	if (segflag != USER_ADSPACE && segflag != SYS_ADSPACE &&
	    segflag != LW_XMATTACH)
		return -EINVAL;
	/* Ours until published, or given back on error. */
	if (cmpxchg(&dp->aspace_id, XMEM_INVAL, XMEM_ATTACHING) != XMEM_INVAL)
		return -EBUSY;

	ret = -ENOMEM;
	obj = xmem_obj_alloc(addr, count, segflag);
	if (!obj)
		goto unclaim;
	if (segflag == SYS_ADSPACE)
		ret = xmem_attach_sys(obj);
	else
		ret = xmem_attach_user(obj, flags);
	if (ret) {
		xa_erase(&xmem_objs, obj->id);
		xmem_obj_put(obj);
		goto unclaim;
	}
	xmem_publish(dp, obj);
	return 0;

unclaim:
	WRITE_ONCE(dp->aspace_id, XMEM_INVAL);
	return ret;
}

static int xmattach_traced(unsigned long addr, size_t count, struct xmem *dp,
			   int segflag, unsigned int flags)
{
	int ret;

	might_sleep();
	ret = __xmattach(addr, count, dp, segflag, flags);
	trace_xmem_attach(dp, addr, count, segflag, ret);
	return ret;
}

/**
 * xmattach() - attach a cross-memory descriptor to a range of memory
 * @addr: first byte of the range: a user address of the calling process for
 *	%USER_ADSPACE and %LW_XMATTACH, a kernel address for %SYS_ADSPACE.
 * @count: length of the range in bytes.
 * @dp: descriptor; its @aspace_id must be %XMEM_INVAL.
 * @segflag: %USER_ADSPACE (record the range), %LW_XMATTACH (pin it, charged
 *	to RLIMIT_MEMLOCK, for the lightweight services) or %SYS_ADSPACE.
 *
 * With %LW_XMATTACH the pages are pinned writable if every VMA of the range is
 * writable, otherwise read-only; %XMEM_RDONLY in @dp->xmemflags says the
 * range was not writable at attach time, and xmemout() refuses it.
 * The pin outlives the process: an exiting owner does not free pages that a
 * descriptor still pins.  On error @dp is left untouched and nothing stays
 * pinned or charged.
 *
 * Context: Process context.  May sleep.
 * Return: 0 on success; -EBUSY if @dp is in use (or being attached by
 * another caller); -EINVAL for a zero or wrapping @count, an unknown @segflag
 * or a NULL @dp; -EFAULT if the range is not entirely mapped and readable, or
 * (%LW_XMATTACH) cannot be pinned long-term (e.g. a shared writable mapping
 * of a file that needs dirty tracking), or (%SYS_ADSPACE) is not kernel
 * memory; -ENOMEM if pinning would exceed RLIMIT_MEMLOCK or memory ran out;
 * -EINTR on a fatal signal.
 */
int xmattach(unsigned long addr, size_t count, struct xmem *dp, int segflag)
{
	return xmattach_traced(addr, count, dp, segflag, 0);
}
EXPORT_SYMBOL_GPL(xmattach);

/**
 * xmem_attach_lw() - xmattach() with %LW_XMATTACH, optionally read-only
 * @addr: first byte of a range of the calling process
 * @count: length of the range in bytes
 * @dp: descriptor; its @aspace_id must be %XMEM_INVAL
 * @rdonly: pin the pages for reading only and mark the descriptor
 *	%XMEM_RDONLY even if the range is writable
 *
 * For the /dev/xmem interface, whose users choose the access a descriptor
 * grants: a read-only descriptor is never attached writable.
 *
 * Context: Process context.  May sleep.
 * Return: as xmattach() with %LW_XMATTACH.
 */
int xmem_attach_lw(unsigned long addr, size_t count, struct xmem *dp,
		   bool rdonly)
{
	return xmattach_traced(addr, count, dp, LW_XMATTACH,
			       rdonly ? XMEM_ATTACH_RDONLY : 0);
}
EXPORT_SYMBOL_IF_KUNIT(xmem_attach_lw);

/**
 * xmem_attach_aspace() - xmattach() with %USER_ADSPACE of a mappable range
 * @addr: first byte of a range of the calling process, page-aligned
 * @count: length of the range in bytes, a multiple of the page size; with
 *	@addr 0 and @count TASK_SIZE, the whole user address space
 * @dp: descriptor; its @aspace_id must be %XMEM_INVAL
 * @rdonly: mark the descriptor %XMEM_RDONLY: never mapped writable
 *
 * For the address-space descriptors of /dev/xmem, which mappings reach
 * through the owner's page tables (mm/xmem_map.c): the range may have holes
 * and includes what the owner maps there later, and nothing is pinned or
 * charged.  xmemin() and xmemout() work on it as on any %USER_ADSPACE
 * descriptor.
 *
 * Context: Process context.  May sleep.
 * Return: 0 on success; -EINVAL for a zero, wrapping or unaligned range;
 * -EFAULT for a range past the end of the user address space or a caller
 * without one; -EBUSY and -ENOMEM as xmattach().
 */
int xmem_attach_aspace(unsigned long addr, size_t count, struct xmem *dp,
		       bool rdonly)
{
	return xmattach_traced(addr, count, dp, USER_ADSPACE,
			       XMEM_ATTACH_ASPACE |
			       (rdonly ? XMEM_ATTACH_RDONLY : 0));
}
EXPORT_SYMBOL_IF_KUNIT(xmem_attach_aspace);

/* Run the deferred flushes still queued on @obj; they may cover its pages. */
static void xmem_run_flushes(struct xmem_obj *obj)
{
	struct xmem_flush *flush;

	mutex_lock(&obj->flush_lock);
	while ((flush = list_first_entry_or_null(&obj->flushes,
						 struct xmem_flush, node))) {
		/* Still registered: its reference goes with xmem_flush_cancel(). */
		list_del_init(&flush->node);
		flush->func(flush);
	}
	mutex_unlock(&obj->flush_lock);
}

/* Unpin and uncharge the pages, let go of the mm, drop the descriptor's ref. */
static void xmem_unpin_and_put(struct xmem_obj *obj)
{
	if (obj->pages) {
		/* Written through the pin or a window: dirty, as RDMA does. */
		unpin_user_pages_dirty_lock(obj->pages, obj->nr_pages,
					    obj->writable);
		kvfree(obj->pages);
		obj->pages = NULL;
		xmem_uncharge(obj);
	}
	if (obj->mm) {
		mmdrop(obj->mm);
		obj->mm = NULL;
	}
	xmem_obj_put(obj);
}

/*
 * The object an attached descriptor (or a copy of one) names, or NULL if it
 * is free or stale.  The caller holds rcu_read_lock() while it uses it.
 */
static struct xmem_obj *xmem_lookup(struct xmem *dp)
{
	/* Paired with smp_store_release() in xmem_publish() and xmem_reset(). */
	int id = smp_load_acquire(&dp->aspace_id);
	struct xmem_obj *obj;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "descriptor lookup outside RCU");
	if (id != XMEM_PROC && id != XMEM_GLOBAL)
		return NULL;
	obj = xa_load(&xmem_objs, READ_ONCE(dp->xm_id));
	if (!obj || obj->gen != READ_ONCE(dp->xm_gen))
		return NULL;
	return obj;
}

/* Back to the free state; the gate opens last, for the next xmattach(). */
static void xmem_reset(struct xmem *dp)
{
	dp->num_sids = 0;
	dp->vaddr = 0;
	dp->xmemflags = 0;
	dp->l2psize = 0;
	dp->xm_len = 0;
	dp->xm_id = 0;
	dp->xm_gen = 0;
	RCU_INIT_POINTER(dp->xm_priv, NULL);
	/* Paired with smp_load_acquire() in xmem_lookup(). */
	smp_store_release(&dp->aspace_id, XMEM_INVAL);
}

/*
 * Revoke @obj's parked holds: none of them counts any more, and their
 * owners find out at their next use.  A hold its owner unparks first keeps
 * counting.
 */
static void xmem_revoke_parked(struct xmem_obj *obj)
{
	struct xmem_hold *hold, *tmp;

	lockdep_assert_held(&obj->lock);
	list_for_each_entry_safe(hold, tmp, &obj->holds, node) {
		if (atomic_long_cmpxchg(&hold->count, 0, XMEM_HOLD_REVOKED))
			continue;
		list_del_init(&hold->node);
		obj->lw_count--;
	}
}

/*
 * @obj's outstanding attachments, as its users count them: each hold
 * stands for as many as it counts, not one.  A snapshot: the owners of
 * holds count without the lock.  With @dp, each hold that counts is
 * reported (xmem_detach_holder) as well: @dp's xmdetach() is refused.
 */
static long xmem_attachments(struct xmem_obj *obj, struct xmem *dp)
{
	long n = obj->lw_count, count;
	struct xmem_hold *hold;

	lockdep_assert_held(&obj->lock);
	list_for_each_entry(hold, &obj->holds, node) {
		count = max(atomic_long_read(&hold->count), 0L);
		if (dp && count)
			trace_xmem_detach_holder(dp, hold->tgid, hold->pid,
						 count);
		n += count - 1;
	}
	return n;
}

/*
 * Claim @dp's object for detach: LIVE -> DETACHED, only with no lightweight
 * attachment outstanding once the parked holds are revoked; with @free_dp,
 * LIVE -> ORPHANED otherwise, and the last xmem_lw_put() or
 * xmem_hold_put() completes the detach.  Fills in what the events report
 * either way.
 */
static int xmem_claim(struct xmem *dp, struct xmem_obj **objp,
		      unsigned long *addr, size_t *len, int *segflag,
		      void (*free_dp)(struct xmem *dp))
{
	struct xmem_obj *obj;
	long busy;
	int ret = -EINVAL;

	rcu_read_lock();
	obj = xmem_lookup(dp);
	if (!obj)
		goto out;
	*addr = obj->addr;
	*len = obj->len;
	*segflag = obj->segflag;
	spin_lock(&obj->lock);
	if (obj->state != XMEM_OBJ_LIVE)
		goto unlock;
	xmem_revoke_parked(obj);
	if (obj->lw_count && free_dp) {
		/*
		 * Orphaned first, then the parked holds revoked again: a hold
		 * parked after the pass above either is revoked now or sees
		 * ORPHANED and lets go by itself (xmem_hold_put() reads the
		 * state after it parks), so no parked hold keeps an orphan.
		 */
		obj->state = XMEM_OBJ_ORPHANED;
		smp_mb();	/* state before counts; paired in xmem_hold_put() */
		xmem_revoke_parked(obj);
		if (!obj->lw_count)
			obj->state = XMEM_OBJ_LIVE;	/* all gone after all */
	}
	busy = xmem_attachments(obj, dp);
	if (!obj->lw_count) {
		obj->state = XMEM_OBJ_DETACHED;
		*objp = obj;
		ret = 0;
		goto unlock;
	}
	/*
	 * Refused.  Both events go out under the lock: once it is dropped, an
	 * orphan's last detach may complete it and free @dp at once.
	 */
	ret = -EBUSY;
	trace_xmem_detach_refused(dp, obj->addr, obj->len, busy, obj->tgid,
				  obj->pid);
	trace_xmem_detach(dp, obj->addr, obj->len, obj->segflag, ret);
	if (free_dp) {
		obj->orphan = dp;
		obj->orphan_free = free_dp;
	}
unlock:
	spin_unlock(&obj->lock);
out:
	rcu_read_unlock();
	return ret;
}

/* Out of the registry: no descriptor or copy of it finds @obj any more. */
static void xmem_unregister(struct xmem_obj *obj)
{
	xa_erase(&xmem_objs, obj->id);
}

/* Release a claimed object: no new attachment, no other claim can take it. */
static void xmem_finish_detach(struct xmem *dp, struct xmem_obj *obj)
{
	xmem_reset(dp);
	xmem_unregister(obj);
	xmem_run_flushes(obj);
	xmem_unpin_and_put(obj);
}

/*
 * xmdetach(), and xmem_detach_orphan() with @free_dp: one path, one event.
 * @free_dp runs once @dp is detached, now (here) or later (the last
 * xmem_lw_put()).
 */
static int xmem_detach(struct xmem *dp, void (*free_dp)(struct xmem *dp))
{
	struct xmem_obj *obj = NULL;
	unsigned long addr = 0;
	int ret, segflag = -1;
	size_t len = 0;

	might_sleep();
	ret = dp ? xmem_claim(dp, &obj, &addr, &len, &segflag, free_dp) :
		   -EINVAL;
	if (ret == -EBUSY)
		return ret;	/* reported under the object's lock */
	if (!ret)
		xmem_finish_detach(dp, obj);
	trace_xmem_detach(dp, addr, len, segflag, ret);
	if (!ret && free_dp)
		free_dp(dp);
	return ret;
}

/**
 * xmdetach() - detach a cross-memory descriptor
 * @dp: descriptor attached by xmattach()
 *
 * Completes any deferred TLB invalidation that may still cover the pages,
 * unpins them, returns the RLIMIT_MEMLOCK charge and sets @dp->aspace_id to
 * %XMEM_INVAL so that the descriptor can be attached again.  A descriptor with
 * lightweight attachments outstanding is refused and left as it is: its pages
 * are never unpinned under a live mapping.
 *
 * Context: Process context.  May sleep (AIX also allows interrupt context;
 * Linux needs process context to complete the deferred invalidation).
 * Return: 0 on success; -EINVAL if @dp is NULL or not attached; -EBUSY if
 * lightweight attachments of @dp are outstanding (an xmem_detach_refused
 * event is emitted).
 */
int xmdetach(struct xmem *dp)
{
	return xmem_detach(dp, NULL);
}
EXPORT_SYMBOL_GPL(xmdetach);

/**
 * xmem_detach_orphan() - xmdetach() now, or once the last attachment goes
 * @dp: attached descriptor
 * @free_dp: called with @dp once it is detached, now or later, to free the
 *	memory that holds it; it must not sleep for long and must not touch
 *	the descriptor's pages
 *
 * For an owner that must let go of a descriptor whose lightweight
 * attachments it cannot wait for (the last close of a /dev/xmem descriptor
 * file).  With nothing attached this is xmdetach() followed by @free_dp.
 * Otherwise it is refused as xmdetach() refuses it (with an
 * xmem_detach_refused event): the pages stay pinned and charged, no new
 * attachment is accepted, and the detach (or thread exit) that ends the
 * last attachment completes the xmdetach() and calls @free_dp.
 *
 * Context: Process context.  May sleep.
 * Return: 0 if @dp was detached and freed; -EBUSY if that is deferred to
 * the last detach; -EINVAL if @dp is NULL or not attached (@free_dp is not
 * called).
 */
int xmem_detach_orphan(struct xmem *dp, void (*free_dp)(struct xmem *dp))
{
	return xmem_detach(dp, free_dp);
}
EXPORT_SYMBOL_IF_KUNIT(xmem_detach_orphan);

/* Copy between @buf and the pinned pages of @obj, from @off in its range. */
static void xmem_copy_pages(struct xmem_obj *obj, size_t off, void *buf,
			    size_t count, bool out)
{
	size_t pos = offset_in_page(obj->addr) + off;

	while (count) {
		struct page *page = obj->pages[pos >> PAGE_SHIFT];
		size_t poff = offset_in_page(pos);
		size_t n = min_t(size_t, count, PAGE_SIZE - poff);
		char *kaddr = kmap_local_page(page);

		if (out)
			memcpy(kaddr + poff, buf, n);
		else
			memcpy(buf, kaddr + poff, n);
		kunmap_local(kaddr);
		buf += n;
		pos += n;
		count -= n;
	}
}

/* access_remote_vm() takes an int length: copy in bounded chunks. */
#define XMEM_REMOTE_CHUNK	SZ_1M

/*
 * Copy through @mm (a reference the caller holds) from process context:
 * access_remote_vm() takes the owner's mmap_lock and may fault pages in.
 */
static int xmem_copy_user(struct mm_struct *mm, unsigned long uaddr,
			  void *buf, size_t count, bool out)
{
	int ret = 0;

	while (count) {
		int n = min_t(size_t, count, XMEM_REMOTE_CHUNK);

		if (access_remote_vm(mm, uaddr, buf, n,
				     out ? FOLL_WRITE : 0) != n) {
			ret = -EFAULT;
			break;
		}
		uaddr += n;
		buf += n;
		count -= n;
		if (count && fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	mmput(mm);
	return ret;
}

/*
 * A copy may sleep only from a task that can: not in an interrupt or with
 * bottom halves off, not with interrupts off, not with preemption off or a
 * spinlock held (those two visible with CONFIG_PREEMPT_COUNT, which
 * CONFIG_DEBUG_ATOMIC_SLEEP selects).
 */
static bool xmem_may_sleep(void)
{
	return !preempt_count() && !irqs_disabled();
}

static int xmem_copy(struct xmem *dp, unsigned long uaddr, void *buf,
		     size_t count, bool out)
{
	struct mm_struct *mm = NULL;
	struct xmem_obj *obj;
	bool may_sleep;
	size_t off;
	int ret;

	if (!dp || !buf || !count)
		return -EINVAL;
	may_sleep = xmem_may_sleep();
	/* Not serialised against xmdetach(): see the comment at the top. */
	rcu_read_lock();
	obj = xmem_lookup(dp);
	ret = -EINVAL;
	if (!obj)
		goto unlock;
	off = uaddr - obj->addr;
	ret = -EFAULT;
	if (uaddr < obj->addr || count > obj->len || off > obj->len - count)
		goto unlock;
	ret = -EACCES;
	if (out && !obj->writable)
		goto unlock;

	ret = 0;
	switch (obj->segflag) {
	case SYS_ADSPACE:
		if (out)
			ret = copy_to_kernel_nofault((void *)uaddr, buf, count);
		else
			ret = copy_from_kernel_nofault(buf, (void *)uaddr, count);
		ret = ret ? -EFAULT : 0;
		break;
	case LW_XMATTACH:
		xmem_copy_pages(obj, off, buf, count, out);
		break;
	default:
		/* The mm outlives the object's reference only with our own. */
		if (!may_sleep)
			ret = -EINVAL;
		else if (mmget_not_zero(obj->mm))
			mm = obj->mm;
		else
			ret = -EFAULT;
	}
unlock:
	rcu_read_unlock();
	if (mm) {
		might_sleep();
		ret = xmem_copy_user(mm, uaddr, buf, count, out);
	}
	return ret;
}

/**
 * xmemin() - copy from the memory a descriptor describes
 * @uaddr: address inside the described range to copy from
 * @kaddr: kernel buffer to copy to
 * @count: bytes to copy
 * @dp: attached descriptor
 *
 * The caller must not xmdetach() @dp while the copy runs.  For a
 * %USER_ADSPACE descriptor the caller must not hold the owner's mmap_lock.
 *
 * Context: Any context for %LW_XMATTACH and %SYS_ADSPACE descriptors (the
 * memory is pinned or kernel memory); for %USER_ADSPACE, process context
 * where sleeping is allowed (refused elsewhere).  May sleep then.
 * Return: 0 on success; -EINVAL if @dp is not attached (or is a stale copy
 * of a descriptor detached since), @kaddr is NULL, @count is 0, or a
 * %USER_ADSPACE descriptor is used where the copy cannot sleep (interrupt,
 * interrupts or preemption disabled, a spinlock held); -EFAULT if [@uaddr,
 * @uaddr + @count) is not inside the described range, or the memory faults
 * (%USER_ADSPACE: the owner has exited or unmapped it); -EINTR
 * (%USER_ADSPACE) on a fatal signal.
 */
int xmemin(unsigned long uaddr, void *kaddr, size_t count, struct xmem *dp)
{
	int ret = xmem_copy(dp, uaddr, kaddr, count, false);

	trace_xmem_copy(dp, uaddr, count, false, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(xmemin);

/**
 * xmemout() - copy to the memory a descriptor describes
 * @kaddr: kernel buffer to copy from
 * @uaddr: address inside the described range to copy to
 * @count: bytes to copy
 * @dp: attached descriptor
 *
 * The caller must not xmdetach() @dp while the copy runs.  For a
 * %USER_ADSPACE descriptor the caller must not hold the owner's mmap_lock.
 *
 * Context: Any context for %LW_XMATTACH and %SYS_ADSPACE descriptors (the
 * memory is pinned or kernel memory); for %USER_ADSPACE, process context
 * where sleeping is allowed (refused elsewhere).  May sleep then.
 * Return: 0 on success; -EINVAL, -EFAULT and -EINTR as for xmemin();
 * -EACCES if the range was not writable at attach time (%XMEM_RDONLY).
 */
int xmemout(const void *kaddr, unsigned long uaddr, size_t count,
	    struct xmem *dp)
{
	int ret = xmem_copy(dp, uaddr, (void *)kaddr, count, true);

	trace_xmem_copy(dp, uaddr, count, true, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(xmemout);

/**
 * xmem_obj_get() - the object of an attached descriptor, with a reference
 * @dp: descriptor
 *
 * The reference keeps the struct, not its pages: those stay while an
 * attachment is accounted (xmem_lw_get(), xmem_map_get()).  Drop it with
 * xmem_obj_put().
 *
 * Context: Any context.
 * Return: the object, or NULL if @dp is not attached.
 */
struct xmem_obj *xmem_obj_get(struct xmem *dp)
{
	struct xmem_obj *obj;

	rcu_read_lock();
	obj = xmem_lookup(dp);
	if (obj && !kref_get_unless_zero(&obj->ref))
		obj = NULL;
	rcu_read_unlock();
	return obj;
}
EXPORT_SYMBOL_IF_KUNIT(xmem_obj_get);

/* Account an attachment of @dp if it is a live descriptor of a kind in @kinds. */
static struct xmem_obj *xmem_attachment_get(struct xmem *dp,
					    unsigned int kinds)
{
	struct xmem_obj *obj, *ret = ERR_PTR(-EINVAL);

	rcu_read_lock();
	obj = xmem_lookup(dp);
	if (obj && (BIT(obj->segflag) & kinds)) {
		spin_lock(&obj->lock);
		if (obj->state == XMEM_OBJ_LIVE) {
			obj->lw_count++;
			kref_get(&obj->ref);
			ret = obj;
		}
		spin_unlock(&obj->lock);
	}
	rcu_read_unlock();
	return ret;
}

/**
 * xmem_lw_get() - account a lightweight attachment of a descriptor
 * @dp: descriptor
 *
 * While the count this raises is not zero, xmdetach() of @dp fails with
 * -EBUSY.  Pair with xmem_lw_put().
 *
 * Context: Process context.  Takes and releases the object's spinlock.
 * Return: the descriptor's object, with a reference, or ERR_PTR(-EINVAL) if
 * @dp is not an attached %LW_XMATTACH descriptor.
 */
struct xmem_obj *xmem_lw_get(struct xmem *dp)
{
	return xmem_attachment_get(dp, BIT(LW_XMATTACH));
}
EXPORT_SYMBOL_IF_KUNIT(xmem_lw_get);

/**
 * xmem_map_get() - account a mapping of a descriptor as an attachment
 * @dp: descriptor
 *
 * As xmem_lw_get(), for the mappings of mm/xmem_map.c, which reach
 * %LW_XMATTACH descriptors through their pins and %USER_ADSPACE ones
 * through the owner's page tables.  Pair with xmem_lw_put().
 *
 * Context: Process context.  Takes and releases the object's spinlock.
 * Return: the descriptor's object, with a reference, or ERR_PTR(-EINVAL) if
 * @dp is not a live %LW_XMATTACH or %USER_ADSPACE descriptor.
 */
struct xmem_obj *xmem_map_get(struct xmem *dp)
{
	return xmem_attachment_get(dp, BIT(LW_XMATTACH) | BIT(USER_ADSPACE));
}
EXPORT_SYMBOL_IF_KUNIT(xmem_map_get);

/**
 * xmem_attachment_dup() - account one more attachment of an object
 * @obj: object the caller holds an attachment of
 *
 * For a mapping that is split in two: the copy cannot be refused, and need
 * not be, since the caller's attachment keeps @obj from being detached.
 * Pair with xmem_lw_put().
 *
 * Context: Any context.  Takes and releases the object's spinlock.
 */
void xmem_attachment_dup(struct xmem_obj *obj)
{
	spin_lock(&obj->lock);
	WARN_ON_ONCE(obj->lw_count <= 0);
	obj->lw_count++;
	kref_get(&obj->ref);
	spin_unlock(&obj->lock);
}

/*
 * The end of one count on @obj: an attachment's, or that of @hold, parked
 * or revoked, which is revoked here and leaves @obj's list (if xmdetach()
 * revoked it first, its count is already gone).  Revoking under the lock
 * keeps a hold on the list exactly while it counts.  The last count of an
 * orphan completes its detach.
 */
static void xmem_lw_drop(struct xmem_obj *obj, struct xmem_hold *hold)
{
	void (*free_dp)(struct xmem *dp) = NULL;
	struct xmem *dp = NULL;

	spin_lock(&obj->lock);
	if (hold) {
		if (atomic_long_cmpxchg(&hold->count, 0, XMEM_HOLD_REVOKED)) {
			spin_unlock(&obj->lock);
			return;
		}
		list_del_init(&hold->node);
	}
	WARN_ON_ONCE(obj->lw_count <= 0);
	if (!--obj->lw_count && obj->state == XMEM_OBJ_ORPHANED) {
		obj->state = XMEM_OBJ_DETACHED;
		dp = obj->orphan;
		free_dp = obj->orphan_free;
	}
	spin_unlock(&obj->lock);
	if (dp) {
		unsigned long addr = obj->addr;
		int segflag = obj->segflag;
		size_t len = obj->len;

		might_sleep();
		/* Our reference keeps @obj until the put below. */
		xmem_finish_detach(dp, obj);
		trace_xmem_detach(dp, addr, len, segflag, 0);
		free_dp(dp);
	}
}

/**
 * xmem_lw_put() - end a lightweight attachment accounted by xmem_lw_get()
 * @obj: the object xmem_lw_get() returned
 *
 * The last attachment of a descriptor handed over with xmem_detach_orphan()
 * completes its xmdetach() here.
 *
 * Context: Process context, no lock held: may run deferred flushes, unpin
 * pages and sleep.
 */
void xmem_lw_put(struct xmem_obj *obj)
{
	xmem_lw_drop(obj, NULL);
	xmem_obj_put(obj);
}
EXPORT_SYMBOL_IF_KUNIT(xmem_lw_put);

/**
 * xmem_hold_adopt() - make a hold of an attachment counted by xmem_lw_get()
 * @hold: the caller's hold, not in use
 * @obj: the object xmem_lw_get() returned; its count and reference are
 *	@hold's from now on
 *
 * The hold counts that one attachment (see &struct xmem_hold); end it with
 * xmem_hold_put(), count more with xmem_hold_again(), and free the hold
 * with xmem_hold_free().
 *
 * Context: Process context.  Takes and releases the object's spinlock.
 */
void xmem_hold_adopt(struct xmem_hold *hold, struct xmem_obj *obj)
{
	hold->obj = obj;
	hold->tgid = current->tgid;
	hold->pid = current->pid;
	atomic_long_set(&hold->count, 1);
	spin_lock(&obj->lock);
	list_add(&hold->node, &obj->holds);
	spin_unlock(&obj->lock);
}
EXPORT_SYMBOL_IF_KUNIT(xmem_hold_adopt);

/**
 * xmem_hold_put() - end an attachment counted through a hold
 * @hold: a hold that counts at least one attachment
 *
 * The last one parks the hold: it still counts on the object, until the
 * next xmem_hold_again() or until xmdetach() revokes it.  A hold parked
 * while the object is orphaned is revoked at once instead, and its count
 * may complete the orphan's detach.
 *
 * Context: Process context, by the hold's owner, no lock held: may run
 * deferred flushes, unpin pages and sleep.
 */
void xmem_hold_put(struct xmem_hold *hold)
{
	long n = atomic_long_read(&hold->count);

	if (WARN_ON_ONCE(n <= 0))
		return;
	if (n > 1) {
		atomic_long_set(&hold->count, n - 1);
		return;
	}
	atomic_long_set(&hold->count, 0);
	/*
	 * Parked, then the state read: paired with xmem_claim(), which
	 * orphans, then revokes what is parked.  Either it sees this hold
	 * parked and revokes it, or this sees ORPHANED.
	 */
	smp_mb();
	if (unlikely(READ_ONCE(hold->obj->state) != XMEM_OBJ_LIVE))
		xmem_lw_drop(hold->obj, hold);
}
EXPORT_SYMBOL_IF_KUNIT(xmem_hold_put);

/**
 * xmem_hold_free() - end a hold
 * @hold: a hold made by xmem_hold_adopt() that counts no attachment
 *
 * Revokes @hold if xmdetach() has not, and drops its reference to the
 * object; @hold may then be freed or made again.
 *
 * Context: Process context, by the hold's owner, no lock held: may run
 * deferred flushes, unpin pages and sleep.
 */
void xmem_hold_free(struct xmem_hold *hold)
{
	struct xmem_obj *obj = hold->obj;

	WARN_ON_ONCE(atomic_long_read(&hold->count) > 0);
	xmem_lw_drop(obj, hold);
	hold->obj = NULL;
	xmem_obj_put(obj);
}
EXPORT_SYMBOL_IF_KUNIT(xmem_hold_free);

/**
 * xmem_lw_count() - lightweight attachments of a descriptor
 * @dp: descriptor
 *
 * Context: Process context.  Takes and releases the object's spinlock.
 * Return: the number of outstanding lightweight attachments of @dp, or
 * -EINVAL if it is not attached.  Only a snapshot: attachments come and go.
 */
long xmem_lw_count(struct xmem *dp)
{
	struct xmem_obj *obj;
	long ret = -EINVAL;

	rcu_read_lock();
	obj = xmem_lookup(dp);
	if (obj) {
		spin_lock(&obj->lock);
		if (obj->state != XMEM_OBJ_DETACHED)
			ret = xmem_attachments(obj, NULL);
		spin_unlock(&obj->lock);
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(xmem_lw_count);

/**
 * xmem_flush_defer() - register a deferred invalidation on a descriptor
 * @obj: object of a descriptor the caller holds a lightweight attachment of
 * @flush: flush set up with xmem_flush_init()
 *
 * Queues @flush on @obj, registering it (with a reference to @obj) if it is
 * not registered yet.  xmdetach() runs @flush->func before it unpins the
 * pages unless xmem_flush_cancel() came first; the registration, and the
 * reference, last until xmem_flush_cancel().  Queuing a flush that is
 * already queued does nothing.  The caller serialises xmem_flush_defer()
 * and xmem_flush_cancel() of one flush.
 *
 * Context: Process context.  Takes the object's flush mutex.
 * Return: 0, or -EINVAL if @obj is no longer live or @flush is registered
 * on another object (both caller bugs, and warned about once).
 */
int xmem_flush_defer(struct xmem_obj *obj, struct xmem_flush *flush)
{
	int ret = 0;

	mutex_lock(&obj->flush_lock);
	if (WARN_ON_ONCE(flush->obj && flush->obj != obj) ||
	    WARN_ON_ONCE(READ_ONCE(obj->state) != XMEM_OBJ_LIVE)) {
		ret = -EINVAL;
		goto out;
	}
	if (!flush->obj) {
		kref_get(&obj->ref);
		flush->obj = obj;
	}
	if (list_empty(&flush->node))
		list_add_tail(&flush->node, &obj->flushes);
out:
	mutex_unlock(&obj->flush_lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(xmem_flush_defer);

/**
 * xmem_flush_cancel() - end the registration of a deferred invalidation
 * @flush: flush registered with xmem_flush_defer(), or never registered
 *
 * Call once the invalidation has been done another way (or was run by
 * xmdetach()).  When this returns, @flush->func is not running and will not
 * run, and the reference to the object is dropped, so @flush may be freed
 * or registered again.
 *
 * Context: Process context.  Takes the object's flush mutex.
 * Return: true if @flush was still queued, false if it was not registered
 * or xmdetach() already ran it.
 */
bool xmem_flush_cancel(struct xmem_flush *flush)
{
	struct xmem_obj *obj = flush->obj;
	bool queued;

	if (!obj)
		return false;
	mutex_lock(&obj->flush_lock);
	queued = !list_empty(&flush->node);
	list_del_init(&flush->node);
	flush->obj = NULL;
	mutex_unlock(&obj->flush_lock);
	xmem_obj_put(obj);
	return queued;
}
EXPORT_SYMBOL_IF_KUNIT(xmem_flush_cancel);
