/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private interface of the cross-memory descriptors (mm/xmem.c) for the rest
 * of mm/: the lightweight attach services and the KUnit suite.  Not for
 * drivers: they use <linux/xmem.h>.
 */
#ifndef _MM_XMEM_INTERNAL_H
#define _MM_XMEM_INTERNAL_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/xmem.h>

struct mm_struct;
struct page;
struct user_struct;

enum xmem_obj_state {
	XMEM_OBJ_LIVE,		/* attached: pages pinned, charge held */
	XMEM_OBJ_ORPHANED,	/* xmem_detach_orphan(): detached later */
	XMEM_OBJ_DETACHED,	/* xmdetach() has claimed it */
};

/**
 * struct xmem_obj - the private object behind an attached descriptor
 * @ref: references to this struct: one for the descriptor until xmdetach(),
 *	one per lightweight attachment, one per registered deferred flush.
 *	The pages are released by xmdetach(), not by the last put.
 * @lock: protects @state, @lw_count, @holds, @orphan and @orphan_free.
 * @state: &enum xmem_obj_state; under @lock, read without it by the users
 *	of a &struct xmem_hold.
 * @lw_count: what keeps the object attached: lightweight attachments,
 *	mappings of the descriptor (mm/xmem_map.c) and holds (one each,
 *	however many attachments they count); under @lock.  xmdetach()
 *	refuses with -EBUSY while it is not zero once it has revoked the
 *	parked holds.
 * @holds: &struct xmem_hold not yet revoked; under @lock.
 * @flush_lock: serialises running and cancelling deferred flushes.
 * @flushes: queued &struct xmem_flush; under @flush_lock.
 * @segflag: %USER_ADSPACE, %SYS_ADSPACE or %LW_XMATTACH.
 * @writable: the range may be written through the descriptor.
 * @addr: first byte of the range (user or kernel address).
 * @len: length of the range in bytes.
 * @mm: owner's mm (mmgrab()ed), for USER_ADSPACE and LW_XMATTACH.
 * @user: user charged for the pinned pages, or NULL (CAP_IPC_LOCK, or not
 *	pinned).
 * @charged: pages charged to @user->locked_vm.
 * @nr_pages: entries in @pages.
 * @pages: the pinned pages (LW_XMATTACH), @pages[0] holds @addr.
 * @orphan: the descriptor handed over by xmem_detach_orphan(), or NULL.
 * @orphan_free: frees @orphan once it is detached.
 * @tgid: process that attached the descriptor.
 * @pid: thread that attached the descriptor.
 * @id: index in the registry of attached objects, xmem_objs; copied into
 *	the descriptor as xm_id.
 * @gen: generation, unique for the life of the system; copied into the
 *	descriptor as xm_gen.  A descriptor (or a copy of one) names this
 *	object only if the registry holds it at xm_id with this generation.
 * @rcu: frees the struct after the last reference.
 */
struct xmem_obj {
	struct kref ref;
	spinlock_t lock;	/* state, lw_count, holds, orphan, orphan_free */
	enum xmem_obj_state state;
	long lw_count;
	struct list_head holds;
	struct mutex flush_lock;	/* protects flushes */
	struct list_head flushes;
	int segflag;
	bool writable;
	unsigned long addr;
	size_t len;
	struct mm_struct *mm;
	struct user_struct *user;
	unsigned long charged;
	unsigned long nr_pages;
	struct page **pages;
	struct xmem *orphan;
	void (*orphan_free)(struct xmem *dp);
	pid_t tgid;
	pid_t pid;
	u32 id;
	u64 gen;
	struct rcu_head rcu;
};

/**
 * struct xmem_flush - a deferred TLB invalidation that may cover a descriptor
 * @node: entry in &xmem_obj.flushes while queued; under
 *	&xmem_obj.flush_lock.
 * @obj: the object it is registered on, with a reference, or NULL.
 * @func: completes the invalidation.  Called by xmdetach() in process
 *	context with &xmem_obj.flush_lock held, before the descriptor's pages
 *	are unpinned.
 *
 * The lightweight services detach without a broadcast TLB flush.  Until the
 * flush they defer has run on every CPU, a stale translation may still reach
 * the descriptor's pages, so the pages must stay pinned until then: the
 * services register a &struct xmem_flush on the descriptor with
 * xmem_flush_defer(), and xmdetach() runs it if it is still queued.  Once
 * the services have flushed by themselves they end the registration with
 * xmem_flush_cancel(), which also drops the reference that kept the object
 * (and its mutex) alive.
 */
struct xmem_flush {
	struct list_head node;
	struct xmem_obj *obj;
	void (*func)(struct xmem_flush *flush);
};

/**
 * xmem_flush_init() - set up a deferred flush before its first use
 * @flush: flush
 * @func: function that completes the invalidation
 *
 * Context: Any context.
 */
static inline void xmem_flush_init(struct xmem_flush *flush,
				   void (*func)(struct xmem_flush *flush))
{
	INIT_LIST_HEAD(&flush->node);
	flush->obj = NULL;
	flush->func = func;
}

/* xmem_hold.count once the hold no longer counts on its object */
#define XMEM_HOLD_REVOKED	(-1L)

/**
 * struct xmem_hold - an attachment count kept on an object across attachments
 * @node: entry in &xmem_obj.holds until revoked; under &xmem_obj.lock.
 * @obj: the object, with a reference until xmem_hold_free().
 * @count: attachments counted through the hold; 0 while it is parked;
 *	%XMEM_HOLD_REVOKED once xmdetach() or its owner revoked it.
 * @tgid: the owner's process, for the xmem_detach_holder event
 * @pid: the owner thread
 *
 * For a user that attaches and detaches the same descriptors over and over
 * (a thread's lightweight window): the hold counts as one attachment in
 * &xmem_obj.lw_count while it lives, so the attachments it counts touch
 * only the hold, and the object's lock and count are taken once, when the
 * hold is made.  When its last attachment ends it is parked, not dropped,
 * for the next attachment of the descriptor; xmdetach() revokes parked
 * holds (an atomic 0 -> %XMEM_HOLD_REVOKED on @count, which the owner's
 * 0 -> 1 races with), so a parked hold never keeps a descriptor attached.
 *
 * Only its owner, one thread, uses a hold: xmem_hold_adopt() makes it,
 * xmem_hold_again() and xmem_hold_put() count attachments through it,
 * xmem_hold_free() ends it.  xmdetach() only ever moves a parked hold to
 * revoked, and only under the object's lock.
 */
struct xmem_hold {
	struct list_head node;
	struct xmem_obj *obj;
	atomic_long_t count;
	pid_t tgid;
	pid_t pid;
};

void xmem_hold_adopt(struct xmem_hold *hold, struct xmem_obj *obj);
void xmem_hold_put(struct xmem_hold *hold);
void xmem_hold_free(struct xmem_hold *hold);

/**
 * xmem_hold_again() - count one more attachment through a hold
 * @hold: a hold made by xmem_hold_adopt(), not freed
 * @dp: the descriptor to attach, which must name @hold's object
 *
 * The fast path of an attachment: no lock, no registry lookup.  False if
 * @dp no longer names the object (it was detached and attached again),
 * the object is being detached or the hold was revoked: then the caller
 * goes through xmem_lw_get(), which sorts it out, and xmem_hold_free().
 * As for xmem_lw_get(), the caller keeps @dp valid: an orphaned
 * descriptor's last count, which may end here, frees it.
 *
 * Context: Process context, by the hold's owner: a failure may end an
 * orphan's last count (xmem_hold_put()), which sleeps.
 * Return: true if the attachment is counted.
 */
static inline bool xmem_hold_again(struct xmem_hold *hold, struct xmem *dp)
{
	struct xmem_obj *obj = hold->obj;
	/* Paired with smp_store_release() in xmem_publish() and xmem_reset(). */
	int id = smp_load_acquire(&dp->aspace_id);
	long n = atomic_long_read(&hold->count);

	if ((id != XMEM_PROC && id != XMEM_GLOBAL) ||
	    READ_ONCE(dp->xm_id) != obj->id ||
	    READ_ONCE(dp->xm_gen) != obj->gen)
		return false;
	if (n > 0)
		/* Only xmem_revoke_parked() writes it besides us, and only 0. */
		atomic_long_set(&hold->count, n + 1);
	else if (n || atomic_long_cmpxchg(&hold->count, 0, 1))
		return false;
	/*
	 * An object being detached or orphaned takes no new attachment; a
	 * stale LIVE is an attachment that came first (the detach then sees
	 * this count and refuses, or orphans).
	 */
	if (likely(READ_ONCE(obj->state) == XMEM_OBJ_LIVE))
		return true;
	xmem_hold_put(hold);
	return false;
}

int xmem_attach_lw(unsigned long addr, size_t count, struct xmem *dp,
		   bool rdonly);
int xmem_attach_aspace(unsigned long addr, size_t count, struct xmem *dp,
		       bool rdonly);
int xmem_detach_orphan(struct xmem *dp, void (*free_dp)(struct xmem *dp));
long xmem_lw_count(struct xmem *dp);
struct xmem_obj *xmem_obj_get(struct xmem *dp);
struct xmem_obj *xmem_lw_get(struct xmem *dp);
struct xmem_obj *xmem_map_get(struct xmem *dp);
void xmem_attachment_dup(struct xmem_obj *obj);
void xmem_lw_put(struct xmem_obj *obj);
int xmem_flush_defer(struct xmem_obj *obj, struct xmem_flush *flush);
bool xmem_flush_cancel(struct xmem_flush *flush);
void xmem_obj_put(struct xmem_obj *obj);
struct user_struct *xmem_memlock_charge(unsigned long nr_pages);
void xmem_memlock_uncharge(struct user_struct *user, unsigned long nr_pages);

/* Process-wide mappings of descriptors: mm/xmem_map.c */
struct address_space;
struct vm_area_struct;
struct xmem_map;
struct xmem_map *xmem_map_create(struct xmem *dp,
				 struct address_space *mapping);
void xmem_map_destroy(struct xmem_map *map);
void xmem_map_revoke(struct xmem_map *map);
long xmem_map_count(struct xmem_map *map);
int xmem_map_mmap(struct xmem_map *map, struct vm_area_struct *vma);
struct xmem_map *xmem_map_of(struct vm_area_struct *vma);
int xmem_map_unmap(unsigned long addr);

#endif /* _MM_XMEM_INTERNAL_H */
