// SPDX-License-Identifier: GPL-2.0
/*
 * ldata: NUMA-aware pools of pinned, cache-aligned elements (AIX ldata).
 *
 * Layout.  A pool reserves one sparse vmalloc area, cut into one span per
 * sub-pool (one per node with memory).  A span is the sub-pool's maxcount
 * elements rounded up to a power of two, so the sub-pool of any address is
 * a shift away; only the part that holds elements made so far is mapped,
 * with pages of that node:
 *
 *   base                    base + span                base + 2 * span
 *   | e0 e1 e2 ... e(cap-1) . . . unmapped . . . | e0 e1 ... | . . .
 *   |<-------------- sub-pool 0 (node 0) ------->|<-- sub-pool 1 (node 1)
 *
 * So ldata_free() checks any pointer in O(1) with arithmetic alone (range,
 * shift, a reciprocal division by the stride), without reading memory it
 * may not own, and a sub-pool grows page by page with no high-order
 * allocation.  The free lists are stacks of u32 element indices, so no
 * element is ever written by the pool and a stray pointer can never be
 * linked into a free list.
 *
 * Locking.  Three kinds of state, no lock nesting other than cache -> node:
 *
 *  - struct ldata_pcp, per CPU: a cache of up to LDATA_PCP_MAX free
 *    elements of one sub-pool (normally the CPU's home, ldata_home()).
 *    Only its own CPU ever touches it, with preemption disabled, and marks
 *    it busy while it does (ldata_pcp_enter()/ldata_pcp_leave(): plain
 *    per-CPU loads and stores, no atomic, interrupts left on).  An
 *    interrupt that finds it busy (it interrupted an operation on it) uses
 *    the node's sub-pool instead; one that finds it idle runs to the end
 *    before the code it interrupted goes on, so the check and the mark
 *    need not be one instruction.  Another CPU whose node has run dry
 *    does not lock a cache to take its elements back: it asks the cache's
 *    CPU to drain it (ldata_reclaim(): an IPI it waits for when it can
 *    wait, an irq_work otherwise), and a cache found busy by that request
 *    is drained by its CPU when it leaves it (pcp->drain).
 *  - struct ldata_subpool, per node, in that node's memory: sp->lock (a
 *    raw spinlock, always taken with interrupts disabled) guards the
 *    stack of free indices and the counters.  It is taken while a cache
 *    is busy (refill, drain).
 *  - pool->grow_mutex serialises everything that maps or unmaps a
 *    sub-pool's pages: ldata_grow(), the first grow in ldata_create() and
 *    the teardown of the pool.  (ldata_destroy() against anything else is
 *    the caller's business: nothing may use a pool being destroyed.)  pool->capacity
 *    (every sub-pool has the same) is raised once all the new pages are
 *    mapped, before any new element is handed out, and read with
 *    READ_ONCE() by the pointer check: an index below it is an element.
 *
 * Elements in a CPU's cache count as free, for statistics and for
 * ldata_destroy(); ldata_alloc() reclaims them before it returns NULL.
 */

#define pr_fmt(fmt) "ldata: " fmt

#include <linux/cache.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/rculist.h>
#include <linux/reciprocal_div.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/static_key.h>
#include <linux/topology.h>
#include <linux/vmalloc.h>
#include <kunit/static_stub.h>

#include "ldata_internal.h"

#define CREATE_TRACE_POINTS
#include <trace/events/ldata.h>

EXPORT_TRACEPOINT_SYMBOL_GPL(ldata_create);
EXPORT_TRACEPOINT_SYMBOL_GPL(ldata_alloc);
EXPORT_TRACEPOINT_SYMBOL_GPL(ldata_alloc_fail);
EXPORT_TRACEPOINT_SYMBOL_GPL(ldata_free);
EXPORT_TRACEPOINT_SYMBOL_GPL(ldata_grow);
EXPORT_TRACEPOINT_SYMBOL_GPL(ldata_destroy);
EXPORT_TRACEPOINT_SYMBOL_GPL(ldata_misuse);

/*
 * Element states, one byte per element in sp->state, kept while the
 * double-free check is on (ldata_check_key): (generation << 1) |
 * LDATA_ALLOCATED.  The generation (ldata_gen, 1 to LDATA_GEN_MAX) is new
 * each time the check comes on, so that a state written before is not
 * trusted: an element allocated while the check was off has a state of an
 * older generation (or 0, never written), and its free is accepted.  A
 * state is written by whoever holds the element: the allocating CPU, and
 * the freeing CPU once the check passed; with plain stores, or with
 * try_cmpxchg() under CONFIG_LDATA_DEBUG (ldata_debug_key), which is exact
 * even when two frees of one element race.
 */
#define LDATA_ALLOCATED		1

/* Elements pushed per sp->lock hold when a grow publishes them. */
#define LDATA_COMMIT_BATCH	256

struct ldata_pcp {
	/* Read and written by this CPU only, with preemption disabled. */
	unsigned int busy;		/* an operation on the cache is under way */
	unsigned int drain;		/* drain on leaving; others read it */
	unsigned int count;		/* free indices in idx[]; busy */
	int spi;			/* sub-pool of those indices; busy */
	int home;			/* ldata_home(); ldata_lock, READ_ONCE */
	u32 idx[LDATA_PCP_MAX];		/* busy */
	/* Elements of another sub-pool freed here, given back in a batch. */
	int rspi;			/* their sub-pool; busy */
	unsigned int rcount;		/* busy */
	u32 ridx[LDATA_PCP_BATCH];	/* busy */
	struct irq_work reclaim;	/* ldata_reclaim() that cannot wait */
	struct ldata *pool;
};

struct ldata_subpool {
	raw_spinlock_t lock;
	u32 *stack;			/* free indices, [0, nr_free); sp->lock */
	long nr_free;			/* sp->lock */
	long capacity;			/* sp->lock and grow_mutex; READ_ONCE */
	long high_water;		/* sp->lock */
	unsigned long failed;		/* sp->lock */
	unsigned long grows;		/* sp->lock */
	unsigned long mapped;		/* bytes mapped from start; grow_mutex */
	unsigned long start;		/* address of element 0 */
	struct page **pages;		/* the mapped pages; grow_mutex */
	u8 *state;			/* maxcount; LDATA_ALLOCATED, ldata_gen */
	int nid;
};

struct ldata {
	/* What the fast paths read, in one cache line. */
	unsigned long base;		/* start of the reservation */
	unsigned long len;		/* nr_sp spans */
	long capacity;			/* of every sub-pool; grow_mutex, READ_ONCE */
	unsigned int span_shift;
	u32 stride;
	unsigned int stride_shift;	/* log2(stride), or 0: use recip */
	struct reciprocal_value recip;	/* of stride */
	struct ldata_pcp __percpu *pcp;
	struct ldata_subpool **sp;	/* nr_sp, each on its node */
	int nr_sp;
	s16 *node_sp;			/* nr_node_ids: nid -> sp, or -1 */
	struct vm_struct *area;
	size_t size;
	long maxcount;
	kkey_t kkey;
	unsigned int id;
	unsigned long caller;
	struct mutex grow_mutex;	/* maps and unmaps sub-pool pages */
	struct list_head list;		/* ldata_pools; ldata_lock, RCU */
	struct dentry *dentry;
	struct rcu_head rcu;
};

static DEFINE_MUTEX(ldata_lock);	/* ldata_pools, ldata_next_id, debugfs */
static LIST_HEAD(ldata_pools);
static unsigned int ldata_next_id;
static struct dentry *ldata_debugfs;
static atomic_long_t ldata_pages = ATOMIC_LONG_INIT(0);

static inline struct ldata_subpool *ldata_sp(struct ldata *pool, int spi)
{
	return pool->sp[spi];
}

static inline void *ldata_elem(struct ldata *pool, int spi, u32 idx)
{
	return (void *)(pool->base + ((unsigned long)spi << pool->span_shift) +
			(unsigned long)idx * pool->stride);
}

static inline int ldata_sp_nid(struct ldata *pool, int spi)
{
	return spi < 0 ? NUMA_NO_NODE : ldata_sp(pool, spi)->nid;
}

/*
 * ldata_lookup - find the sub-pool (*@spi) and index (*@idx) of @elem.
 * Returns false, with why in *@why, when it is not an element of @pool.
 * Arithmetic only: @elem is never read.
 */
static inline bool ldata_lookup(struct ldata *pool, const void *elem,
				int *spi, u32 *idx,
				enum ldata_misuse_kind *why)
{
	unsigned long off = (unsigned long)elem - pool->base;
	u32 in, i;

	*why = LDATA_MISUSE_FOREIGN_FREE;
	if (unlikely(off >= pool->len))
		return false;
	in = off & ((1UL << pool->span_shift) - 1);
	if (likely(pool->stride_shift))
		i = in >> pool->stride_shift;
	else
		i = reciprocal_divide(in, pool->recip);
	if (unlikely(i * pool->stride != in)) {
		*why = LDATA_MISUSE_MISALIGNED_FREE;
		return false;
	}
	if (unlikely(i >= READ_ONCE(pool->capacity)))
		return false;
	*spi = off >> pool->span_shift;
	*idx = i;
	return true;
}

/* The pool whose reservation holds @elem, for a refused free; RCU. */
static struct ldata *ldata_owner(const void *elem)
{
	unsigned long addr = (unsigned long)elem;
	struct ldata *pool;

	list_for_each_entry_rcu(pool, &ldata_pools, list)
		if (addr - pool->base < pool->len)
			return pool;
	return NULL;
}

static const char * const ldata_misuse_names[] = {
	[LDATA_MISUSE_FOREIGN_FREE] = "not an element of any pool",
	[LDATA_MISUSE_WRONG_POOL] = "a pointer into another pool",
	[LDATA_MISUSE_MISALIGNED_FREE] = "not the start of an element",
	[LDATA_MISUSE_DOUBLE_FREE] = "already free",
};

/*
 * ldata_refuse - report @count frees of @elem (NULL: elements of sub-pool
 * @spi drained from a cache) refused for @kind: an ldata_misuse event every
 * time, a warning once.
 */
static noinline void ldata_refuse(struct ldata *pool, const void *elem,
				  enum ldata_misuse_kind kind, int spi,
				  long count, unsigned long ip)
{
	struct ldata *owner = NULL;

	if (kind == LDATA_MISUSE_FOREIGN_FREE) {
		rcu_read_lock();
		owner = ldata_owner(elem);
		if (owner == pool)
			owner = NULL;
		if (owner)
			kind = LDATA_MISUSE_WRONG_POOL;
		rcu_read_unlock();
	}
	trace_ldata_misuse(pool, elem, ip, kind, count, owner,
			   ldata_sp_nid(pool, spi), numa_node_id());
	WARN_ONCE(1, "pool %u: ldata_free(%p) from %pS refused: %s (%ld)\n",
		  pool->id, elem, (void *)ip, ldata_misuse_names[kind], count);
}

/*
 * The double-free check is on while anyone uses it: CONFIG_LDATA_DEBUG for
 * good, and every probe on the ldata_misuse tracepoint (a tool that reports
 * misuse, such as tools/lw-trace) while it is registered.  Off, the fast
 * paths do not touch the states.  ldata_check_users and ldata_gen change
 * under ldata_check_mutex; ldata_gen is read with READ_ONCE().
 */
static DEFINE_STATIC_KEY_FALSE(ldata_check_key);
static DEFINE_MUTEX(ldata_check_mutex);
static int ldata_check_users;
static u8 ldata_gen = 1;

/*
 * CONFIG_LDATA_DEBUG's atomic state changes, a static key so that the
 * KUnit suite can test the paths of both configurations on one kernel.
 */
static DEFINE_STATIC_KEY_MAYBE(CONFIG_LDATA_DEBUG, ldata_debug_key);

static __always_inline bool ldata_checking(void)
{
	return static_branch_unlikely(&ldata_check_key);
}

static __always_inline bool ldata_debug(void)
{
	return static_branch_maybe(CONFIG_LDATA_DEBUG, &ldata_debug_key);
}

/*
 * ldata_state_free - element @idx of @sp is being freed: false, with
 * nothing changed, if this generation saw it freed and not allocated
 * since (a double free).  Without CONFIG_LDATA_DEBUG a load and a store:
 * exact for frees ordered with each other (a second free after the first,
 * as in one thread), which is what a double free is unless two frees race;
 * then the sub-pool's overflow check (ldata_sp_put()) is what is left.
 */
static bool ldata_state_free(struct ldata_subpool *sp, u32 idx)
{
	u8 free = READ_ONCE(ldata_gen) << 1, old;
	u8 *st = &sp->state[idx];

	old = READ_ONCE(*st);
	if (!ldata_debug()) {
		if (unlikely(old == free))
			return false;
		WRITE_ONCE(*st, free);
		return true;
	}
	do {
		if (unlikely(old == free))
			return false;
	} while (!try_cmpxchg(st, &old, free));
	return true;
}

/*
 * ldata_state_alloc - element @idx of @sp is being handed out.  Under
 * CONFIG_LDATA_DEBUG, false if this generation saw it allocated already
 * (handed out twice: a double free got past the check).
 */
static bool ldata_state_alloc(struct ldata_subpool *sp, u32 idx)
{
	u8 live = READ_ONCE(ldata_gen) << 1 | LDATA_ALLOCATED;

	if (!ldata_debug()) {
		WRITE_ONCE(sp->state[idx], live);
		return true;
	}
	return xchg(&sp->state[idx], live) != live;
}

/*
 * ldata_check_forget - forget every state of every pool, before the
 * generations start again at 1: otherwise a state of an old generation 1
 * could pass for one of the new.  The check is off, so only a call that
 * passed the check before it went off can write a state meanwhile; it
 * writes one of an old generation.
 */
static void ldata_check_forget(void)
{
	struct ldata *pool;
	int i;

	mutex_lock(&ldata_lock);
	list_for_each_entry(pool, &ldata_pools, list)
		for (i = 0; i < pool->nr_sp; i++)
			memset(ldata_sp(pool, i)->state, 0, pool->maxcount);
	mutex_unlock(&ldata_lock);
}

/*
 * ldata_check_get - one more user of the double-free check; the first one
 * turns it on, in a new generation.  Context: process context; sleeps.
 */
static void ldata_check_get(void)
{
	mutex_lock(&ldata_check_mutex);
	if (!ldata_check_users++) {
		if (ldata_gen == LDATA_GEN_MAX) {
			ldata_check_forget();
			WRITE_ONCE(ldata_gen, 1);
		} else {
			WRITE_ONCE(ldata_gen, ldata_gen + 1);
		}
		static_branch_enable(&ldata_check_key);
	}
	mutex_unlock(&ldata_check_mutex);
}

/* ldata_check_put - one user of the check less; the last turns it off. */
static void ldata_check_put(void)
{
	mutex_lock(&ldata_check_mutex);
	if (!--ldata_check_users)
		static_branch_disable(&ldata_check_key);
	mutex_unlock(&ldata_check_mutex);
}

/*
 * The ldata_misuse tracepoint's first probe (a BPF program, perf, ftrace,
 * a KUnit suite) turns the double-free check on, so that a tool reporting
 * misuse has double frees reported by the pool itself, and its last one
 * turns it off again.  Context: tracepoints_mutex held; may sleep.
 */
int ldata_misuse_reg(void)
{
	ldata_check_get();
	return 0;
}

void ldata_misuse_unreg(void)
{
	ldata_check_put();
}

/* Take up to @n free indices of @sp into @idx; the number taken. */
static unsigned int ldata_sp_take(struct ldata_subpool *sp, u32 *idx,
				  unsigned int n)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&sp->lock, flags);
	n = min_t(long, n, sp->nr_free);
	sp->nr_free -= n;
	memcpy(idx, &sp->stack[sp->nr_free], n * sizeof(*idx));
	sp->high_water = max(sp->high_water, sp->capacity - sp->nr_free);
	raw_spin_unlock_irqrestore(&sp->lock, flags);
	return n;
}

/*
 * Return @n indices to @sp's stack, as many as fit: a sub-pool never has
 * more free elements than its capacity, so an index that does not fit is
 * one freed twice that the state check did not see (two frees that
 * raced).  It is dropped, never written past the stack.  Returns how many
 * were dropped.
 */
static unsigned int ldata_sp_put(struct ldata_subpool *sp, const u32 *idx,
				 unsigned int n)
{
	unsigned long flags;
	unsigned int room;

	raw_spin_lock_irqsave(&sp->lock, flags);
	room = min_t(long, n, sp->capacity - sp->nr_free);
	memcpy(&sp->stack[sp->nr_free], idx, room * sizeof(*idx));
	sp->nr_free += room;
	raw_spin_unlock_irqrestore(&sp->lock, flags);
	return n - room;
}

/*
 * ldata_pcp_enter - this CPU's cache of @pool, marked busy, with preemption
 * disabled; or NULL, preemption as it was, if it is busy already: the
 * caller interrupted an operation on it.  An interrupt between the check
 * and the mark runs to its end first, leaving the cache idle again.
 */
static __always_inline struct ldata_pcp *ldata_pcp_enter(struct ldata *pool)
{
	struct ldata_pcp *pcp;

	preempt_disable();
	pcp = this_cpu_ptr(pool->pcp);
	if (unlikely(READ_ONCE(pcp->busy))) {
		preempt_enable();
		return NULL;
	}
	WRITE_ONCE(pcp->busy, 1);
	barrier();	/* the cache is read only once it is marked */
	return pcp;
}

static void ldata_pcp_drain_requested(struct ldata *pool,
				      struct ldata_pcp *pcp);

/*
 * ldata_pcp_leave - done with @pcp: idle again, and drained if a reclaim
 * asked for it while it was busy.  The flag is read after the cache is
 * marked idle, so a request that comes later finds it idle and drains it
 * itself.
 */
static __always_inline void ldata_pcp_leave(struct ldata *pool,
					    struct ldata_pcp *pcp)
{
	barrier();	/* the cache is written before it is marked idle */
	WRITE_ONCE(pcp->busy, 0);
	barrier();
	if (unlikely(READ_ONCE(pcp->drain)))
		ldata_pcp_drain_requested(pool, pcp);
	preempt_enable();
}

/* Give @n indices back to sub-pool @spi; refuse those that do not fit. */
static void ldata_give_back(struct ldata *pool, int spi, const u32 *idx,
			    unsigned int n)
{
	unsigned int dropped = ldata_sp_put(ldata_sp(pool, spi), idx, n);

	if (unlikely(dropped))
		ldata_refuse(pool, NULL, LDATA_MISUSE_DOUBLE_FREE, spi, dropped,
			     _RET_IP_);
}

/*
 * Move the @n oldest indices of @pcp, busy or this CPU's with interrupts
 * off, back to their sub-pool.
 */
static void ldata_pcp_drain(struct ldata *pool, struct ldata_pcp *pcp,
			    unsigned int n)
{
	ldata_give_back(pool, pcp->spi, pcp->idx, n);
	pcp->count -= n;
	memmove(pcp->idx, &pcp->idx[n], pcp->count * sizeof(pcp->idx[0]));
}

/* The same for every element of another sub-pool that @pcp holds. */
static void ldata_pcp_drain_remote(struct ldata *pool, struct ldata_pcp *pcp)
{
	ldata_give_back(pool, pcp->rspi, pcp->ridx, pcp->rcount);
	pcp->rcount = 0;
}

/*
 * Give back every element that @pcp, busy or not running, holds (of
 * sub-pool @spi only, if @spi >= 0).
 */
static void ldata_pcp_drain_all(struct ldata *pool, struct ldata_pcp *pcp,
				int spi)
{
	if (pcp->count && (spi < 0 || pcp->spi == spi))
		ldata_pcp_drain(pool, pcp, pcp->count);
	if (pcp->rcount && (spi < 0 || pcp->rspi == spi))
		ldata_pcp_drain_remote(pool, pcp);
}

/*
 * ldata_pcp_drain_here - on @pcp's CPU, with interrupts off: give back
 * every element it holds (of sub-pool @spi only, if @spi >= 0), or, if
 * this interrupted an operation on it, ask that operation to do so when
 * it leaves (ldata_pcp_leave()).
 */
static void ldata_pcp_drain_here(struct ldata *pool, struct ldata_pcp *pcp,
				 int spi)
{
	lockdep_assert_irqs_disabled();
	if (READ_ONCE(pcp->busy))
		WRITE_ONCE(pcp->drain, 1);
	else
		ldata_pcp_drain_all(pool, pcp, spi);
}

/* ldata_pcp_leave() found a drain request: this CPU, preemption off. */
static noinline void ldata_pcp_drain_requested(struct ldata *pool,
					       struct ldata_pcp *pcp)
{
	unsigned long flags;

	local_irq_save(flags);
	ldata_pcp_drain_all(pool, pcp, -1);
	/* The elements are back: a waiting ldata_reclaim() may take them. */
	smp_store_release(&pcp->drain, 0);
	local_irq_restore(flags);
}

struct ldata_reclaim {
	struct ldata *pool;
	int spi;
};

/* ldata_reclaim()'s IPI, on the CPU whose cache it drains. */
static void ldata_reclaim_ipi(void *arg)
{
	struct ldata_reclaim *r = arg;

	ldata_pcp_drain_here(r->pool, this_cpu_ptr(r->pool->pcp), r->spi);
}

/*
 * Whether @cpu's cache may hold elements of the sub-pool (of any, for a
 * negative one); a hint.
 */
static bool ldata_reclaim_cond(int cpu, void *arg)
{
	struct ldata_reclaim *r = arg;
	struct ldata_pcp *pcp = per_cpu_ptr(r->pool->pcp, cpu);

	/* Read racily: ldata_pcp_drain_here() looks again on that CPU. */
	return data_race((pcp->count && (r->spi < 0 || pcp->spi == r->spi)) ||
			 (pcp->rcount && (r->spi < 0 || pcp->rspi == r->spi)));
}

/* The irq_work of ldata_reclaim() that cannot wait: drain everything. */
static void ldata_reclaim_work(struct irq_work *work)
{
	struct ldata_pcp *pcp = container_of(work, struct ldata_pcp, reclaim);

	ldata_pcp_drain_here(pcp->pool, pcp, -1);
}

/*
 * ldata_reclaim - have every CPU give back to sub-pool @spi (to every
 * sub-pool, if @spi < 0) what its cache holds of it; the caller's cache is
 * idle.  A caller that may wait
 * (preemptible(): task context, no spinlock, interrupts on) interrupts
 * those CPUs and waits until each has drained its cache, or, if it was
 * busy, until it has left it.  Any other caller may be what keeps one of
 * them from answering, so it drains its own cache only and sends the
 * others an irq_work: their elements come back shortly, for a later call.
 */
static void ldata_reclaim(struct ldata *pool, int spi)
{
	struct ldata_reclaim r = { .pool = pool, .spi = spi };
	struct ldata_pcp *pcp;
	unsigned long flags;
	int cpu, this;

	if (preemptible()) {
		on_each_cpu_cond(ldata_reclaim_cond, ldata_reclaim_ipi, &r, true);
		for_each_online_cpu(cpu) {
			pcp = per_cpu_ptr(pool->pcp, cpu);
			/* Pairs with ldata_pcp_drain_requested()'s release. */
			while (smp_load_acquire(&pcp->drain))
				cpu_relax();
		}
		return;
	}
	local_irq_save(flags);
	this = smp_processor_id();
	ldata_pcp_drain_here(pool, this_cpu_ptr(pool->pcp), spi);
	for_each_online_cpu(cpu)
		if (cpu != this && ldata_reclaim_cond(cpu, &r))
			irq_work_queue_on(&per_cpu_ptr(pool->pcp, cpu)->reclaim,
					  cpu);
	local_irq_restore(flags);
}

/*
 * ldata_alloc_slow - one element of @spi from the sub-pool itself,
 * reclaiming the caches if it is dry.  The caller's cache is idle.
 */
static noinline void *ldata_alloc_slow(struct ldata *pool, int spi)
{
	struct ldata_subpool *sp;
	unsigned long flags;
	u32 idx;

	if (spi < 0)
		return NULL;
	sp = ldata_sp(pool, spi);
	if (ldata_sp_take(sp, &idx, 1))
		return ldata_elem(pool, spi, idx);
	ldata_reclaim(pool, spi);
	if (ldata_sp_take(sp, &idx, 1))
		return ldata_elem(pool, spi, idx);
	raw_spin_lock_irqsave(&sp->lock, flags);
	sp->failed++;
	raw_spin_unlock_irqrestore(&sp->lock, flags);
	return NULL;
}

/*
 * ldata_alloc_refill - the busy cache @pcp of this CPU holds nothing for
 * sub-pool @spi: give back what it holds of another sub-pool, refill it
 * with a batch and take one.  Leaves @pcp.
 */
static noinline void *ldata_alloc_refill(struct ldata *pool,
					 struct ldata_pcp *pcp, int spi)
{
	unsigned int n;
	u32 idx;

	if (unlikely(spi < 0)) {
		ldata_pcp_leave(pool, pcp);
		return NULL;
	}
	if (pcp->count)
		ldata_pcp_drain(pool, pcp, pcp->count);
	pcp->spi = spi;
	n = ldata_sp_take(ldata_sp(pool, spi), pcp->idx, LDATA_PCP_BATCH);
	if (n) {
		pcp->count = n - 1;
		idx = pcp->idx[n - 1];
		ldata_pcp_leave(pool, pcp);
		return ldata_elem(pool, spi, idx);
	}
	ldata_pcp_leave(pool, pcp);
	return ldata_alloc_slow(pool, spi);
}

/*
 * ldata_alloc_done - what ldata_alloc() does besides handing out @elem
 * (or NULL), of sub-pool @spi, to @ip: the element's state while the
 * double-free check is on, and the events.  The fast path's calls are all
 * tail calls, so it saves no register.
 */
static noinline void *ldata_alloc_done(struct ldata *pool, int spi,
				       void *elem, unsigned long ip)
{
	if (elem && ldata_checking()) {
		enum ldata_misuse_kind why;
		int at;
		u32 idx;

		WARN_ON_ONCE(!ldata_lookup(pool, elem, &at, &idx, &why) ||
			     !ldata_state_alloc(ldata_sp(pool, at), idx));
	}
	if (trace_ldata_alloc_enabled())
		trace_ldata_alloc(pool, elem, ip, ldata_sp_nid(pool, spi),
				  numa_node_id());
	if (!elem)
		trace_ldata_alloc_fail(pool, ip, ldata_sp_nid(pool, spi),
				       numa_node_id());
	return elem;
}

/*
 * ldata_alloc_miss - ldata_alloc() for @ip when this CPU's cache has
 * nothing for it: @pcp, busy, holds nothing of its home, or is NULL
 * because this interrupted an operation on it.
 */
static noinline void *ldata_alloc_miss(struct ldata *pool,
				       struct ldata_pcp *pcp, unsigned long ip)
{
	void *elem;
	int spi;

	if (pcp) {
		spi = READ_ONCE(pcp->home);
		elem = ldata_alloc_refill(pool, pcp, spi);
	} else {
		spi = READ_ONCE(raw_cpu_ptr(pool->pcp)->home);
		elem = ldata_alloc_slow(pool, spi);
	}
	return ldata_alloc_done(pool, spi, elem, ip);
}

/**
 * ldata_alloc() - allocate an element of the caller's node
 * @pool: the pool
 *
 * Takes a free element of the sub-pool of the node the caller runs on (for
 * a node without one, memoryless or given memory later, of the nearest
 * node that has one: ldata_home()).  Never grows the pool, never calls the
 * page allocator and never takes another node's element.  The element is
 * cache-line aligned; its contents are what its previous user left (zero
 * when new).
 *
 * Context: Any context but NMI, including hard interrupts and with
 * interrupts disabled.  Does not sleep.
 * Return: the element, or NULL if the caller's node has no free element
 * (or no sub-pool).
 */
void *ldata_alloc(ldata_t pool)
{
	struct ldata_pcp *pcp = ldata_pcp_enter(pool);
	u32 idx;
	int spi;

	if (unlikely(!pcp))
		return ldata_alloc_miss(pool, NULL, _RET_IP_);
	spi = READ_ONCE(pcp->home);	/* ldata_home() of this CPU */
	if (unlikely(pcp->spi != spi || !pcp->count))
		return ldata_alloc_miss(pool, pcp, _RET_IP_);
	idx = pcp->idx[--pcp->count];
	ldata_pcp_leave(pool, pcp);
	if (ldata_checking() || trace_ldata_alloc_enabled())
		return ldata_alloc_done(pool, spi, ldata_elem(pool, spi, idx),
					_RET_IP_);
	return ldata_elem(pool, spi, idx);
}
EXPORT_SYMBOL_GPL(ldata_alloc);

/* Give element @idx back to sub-pool @spi, or refuse it (@ip's free). */
static void ldata_sp_free(struct ldata *pool, int spi, u32 idx,
			  unsigned long ip)
{
	if (unlikely(ldata_sp_put(ldata_sp(pool, spi), &idx, 1)))
		ldata_refuse(pool, ldata_elem(pool, spi, idx),
			     LDATA_MISUSE_DOUBLE_FREE, spi, 1, ip);
}

/*
 * ldata_push_slow - element @idx of sub-pool @spi is free and the busy
 * cache @pcp of this CPU is full of that sub-pool's, or holds another's:
 * make room, or keep it with the other elements of @spi freed here, which
 * go back to their sub-pool LDATA_PCP_BATCH at a time.  Leaves @pcp.
 */
static noinline void ldata_push_slow(struct ldata *pool,
				     struct ldata_pcp *pcp, int spi, u32 idx)
{
	if (pcp->spi == spi) {
		ldata_pcp_drain(pool, pcp, LDATA_PCP_BATCH);
		pcp->idx[pcp->count++] = idx;
	} else {
		if (pcp->rspi != spi || pcp->rcount == LDATA_PCP_BATCH) {
			if (pcp->rcount)
				ldata_pcp_drain_remote(pool, pcp);
			pcp->rspi = spi;
		}
		pcp->ridx[pcp->rcount++] = idx;
	}
	ldata_pcp_leave(pool, pcp);
}

/*
 * Element @idx of sub-pool @spi is free: to this CPU's cache, or home.
 * @ip is the caller of ldata_free(), for a refusal.
 */
static __always_inline void ldata_push(struct ldata *pool, int spi, u32 idx,
				       unsigned long ip)
{
	struct ldata_pcp *pcp = ldata_pcp_enter(pool);

	if (unlikely(!pcp)) {
		/* This interrupted an operation on the cache. */
		ldata_sp_free(pool, spi, idx, ip);
		return;
	}
	if (likely(pcp->spi == spi && pcp->count < LDATA_PCP_MAX)) {
		pcp->idx[pcp->count++] = idx;
		ldata_pcp_leave(pool, pcp);
		return;
	}
	ldata_push_slow(pool, pcp, spi, idx);
}

/*
 * ldata_free_checked - ldata_free() of element @idx of sub-pool @spi,
 * @elem, for @ip, with the double-free check or the event: out of line, as
 * ldata_alloc_done().
 */
static noinline void ldata_free_checked(struct ldata *pool, void *elem,
					int spi, u32 idx, unsigned long ip)
{
	if (ldata_checking() &&
	    unlikely(!ldata_state_free(ldata_sp(pool, spi), idx))) {
		ldata_refuse(pool, elem, LDATA_MISUSE_DOUBLE_FREE, spi, 1, ip);
		return;
	}
	if (trace_ldata_free_enabled())
		trace_ldata_free(pool, elem, ip, ldata_sp_nid(pool, spi),
				 numa_node_id());
	ldata_push(pool, spi, idx, ip);
}

/**
 * ldata_free() - return an element to its pool
 * @pool: the pool that ldata_alloc() took @elem from
 * @elem: the element; NULL is ignored
 *
 * The element goes back to the sub-pool of the node that owns its memory,
 * whichever CPU frees it.  A pointer that is not an element of @pool (not
 * in the pool, inside an element, an element of another pool) is refused:
 * it is never linked into a free list, an ldata_misuse event reports it
 * and the first one warns.  So is an element that is already free, while
 * the double-free check is on: with CONFIG_LDATA_DEBUG, and while anything
 * is attached to the ldata_misuse tracepoint (see ldata_check_get()).
 *
 * Context: Any context but NMI, including hard interrupts and with
 * interrupts disabled.  Does not sleep.
 */
void ldata_free(ldata_t pool, void *elem)
{
	enum ldata_misuse_kind why;
	u32 idx;
	int spi;

	if (unlikely(!elem))
		return;
	if (unlikely(!ldata_lookup(pool, elem, &spi, &idx, &why))) {
		ldata_refuse(pool, elem, why, -1, 1, _RET_IP_);
		return;
	}
	if (ldata_checking() || trace_ldata_free_enabled()) {
		ldata_free_checked(pool, elem, spi, idx, _RET_IP_);
		return;
	}
	ldata_push(pool, spi, idx, _RET_IP_);
}
EXPORT_SYMBOL_GPL(ldata_free);

#if IS_ENABLED(CONFIG_KUNIT)
/*
 * ldata_free_unchecked - what ldata_free() does with @elem, an element of
 * @pool, when its state check is passed (two racing frees): the KUnit
 * suite's way to get an element freed twice past the check.  The state is
 * left as it is.
 */
void ldata_free_unchecked(ldata_t pool, void *elem)
{
	enum ldata_misuse_kind why;
	u32 idx;
	int spi;

	if (!WARN_ON(!ldata_lookup(pool, elem, &spi, &idx, &why)))
		ldata_push(pool, spi, idx, _RET_IP_);
}
EXPORT_SYMBOL_IF_KUNIT(ldata_free_unchecked);

/*
 * ldata_set_debug - turn CONFIG_LDATA_DEBUG on or off, whatever the
 * configuration, so that the KUnit suite tests both kinds of kernel: its
 * atomic state changes, and its use of the double-free check.  Both keep
 * the same states, so pools in use are not disturbed.  Returns the
 * previous setting.  Context: may sleep.
 */
bool ldata_set_debug(bool on)
{
	bool was = static_key_enabled(&ldata_debug_key);

	if (on && !was) {
		static_branch_enable(&ldata_debug_key);
		ldata_check_get();
	} else if (!on && was) {
		ldata_check_put();
		static_branch_disable(&ldata_debug_key);
	}
	return was;
}
EXPORT_SYMBOL_IF_KUNIT(ldata_set_debug);
#endif

/*
 * ldata_alloc_page - one zeroed page of node @nid for a sub-pool.  Never
 * falls back to another node, never wakes the OOM killer: a pool that
 * cannot grow reports -ENOMEM.  The KUnit suite redirects it.
 */
VISIBLE_IF_KUNIT struct page *ldata_alloc_page(int nid)
{
	KUNIT_STATIC_STUB_REDIRECT(ldata_alloc_page, nid);
	return alloc_pages_node(nid, GFP_KERNEL | __GFP_THISNODE | __GFP_ZERO |
				__GFP_RETRY_MAYFAIL | __GFP_NOWARN, 0);
}
EXPORT_SYMBOL_IF_KUNIT(ldata_alloc_page);

/* Unmap and free @sp's pages from byte @from of its span on. */
static void ldata_sp_unmap(struct ldata *pool, struct ldata_subpool *sp,
			   unsigned long from)
{
	unsigned long first = from >> PAGE_SHIFT;
	unsigned long last = sp->mapped >> PAGE_SHIFT;
	unsigned long i;

	lockdep_assert_held(&pool->grow_mutex);
	if (first >= last)
		return;
	vm_area_unmap_pages(pool->area, sp->start + from,
			    sp->start + sp->mapped);
	for (i = first; i < last; i++) {
		__free_page(sp->pages[i]);
		sp->pages[i] = NULL;
	}
	atomic_long_sub(last - first, &ldata_pages);
	sp->mapped = from;
}

/*
 * ldata_sp_map - map pages of @sp's node so that its first @capacity
 * elements exist.  On failure nothing new stays mapped or allocated.
 */
static int ldata_sp_map(struct ldata *pool, struct ldata_subpool *sp,
			long capacity)
{
	unsigned long old = sp->mapped;
	unsigned long end = PAGE_ALIGN(capacity * pool->stride);
	unsigned long i, first = old >> PAGE_SHIFT;
	int err;

	lockdep_assert_held(&pool->grow_mutex);
	if (end <= old)
		return 0;	/* the new elements fit in mapped pages */
	for (i = first; i < end >> PAGE_SHIFT; i++) {
		sp->pages[i] = ldata_alloc_page(sp->nid);
		if (!sp->pages[i])
			goto fail;
	}
	err = vm_area_map_pages(pool->area, sp->start + old, sp->start + end,
				&sp->pages[first]);
	if (err) {
		/* It may have mapped part of the range before failing. */
		vm_area_unmap_pages(pool->area, sp->start + old,
				    sp->start + end);
		goto fail;
	}
	atomic_long_add((end - old) >> PAGE_SHIFT, &ldata_pages);
	sp->mapped = end;
	return 0;
fail:
	while (i-- > first) {
		__free_page(sp->pages[i]);
		sp->pages[i] = NULL;
	}
	return -ENOMEM;
}

/*
 * Publish elements [old capacity, @capacity) of @sp as free.  They fit:
 * ldata_sp_put() keeps nr_free within the old capacity.
 */
static void ldata_sp_commit(struct ldata_subpool *sp, long capacity)
{
	unsigned long flags;
	long i = sp->capacity;

	/* Free, in the current generation of the check (if it is on). */
	memset(&sp->state[i], READ_ONCE(ldata_gen) << 1, capacity - i);
	while (i < capacity) {
		long end = min(i + LDATA_COMMIT_BATCH, capacity);

		raw_spin_lock_irqsave(&sp->lock, flags);
		WRITE_ONCE(sp->capacity, end);
		for (; i < end; i++)
			sp->stack[sp->nr_free++] = i;
		raw_spin_unlock_irqrestore(&sp->lock, flags);
	}
}

/*
 * ldata_grow_locked - give every sub-pool @count more elements, or none.
 * The caller has checked @count.
 */
static int ldata_grow_locked(struct ldata *pool, long count)
{
	long old = ldata_sp(pool, 0)->capacity, capacity = old + count;
	int i, err = 0;

	lockdep_assert_held(&pool->grow_mutex);
	for (i = 0; i < pool->nr_sp; i++) {
		err = ldata_sp_map(pool, ldata_sp(pool, i), capacity);
		if (err)
			break;
	}
	if (err) {
		/* Each sub-pool had exactly its old elements' pages mapped. */
		while (i-- > 0)
			ldata_sp_unmap(pool, ldata_sp(pool, i),
				       PAGE_ALIGN(old * pool->stride));
		return err;
	}
	/*
	 * Every new element is mapped: make them valid for ldata_free()'s
	 * check, then hand them out.
	 */
	WRITE_ONCE(pool->capacity, capacity);
	for (i = 0; i < pool->nr_sp; i++)
		ldata_sp_commit(ldata_sp(pool, i), capacity);
	return 0;
}

static void ldata_count_grow(struct ldata *pool)
{
	unsigned long flags;
	int i;

	for (i = 0; i < pool->nr_sp; i++) {
		struct ldata_subpool *sp = ldata_sp(pool, i);

		raw_spin_lock_irqsave(&sp->lock, flags);
		sp->grows++;
		raw_spin_unlock_irqrestore(&sp->lock, flags);
	}
}

/**
 * ldata_grow() - add elements to every sub-pool of a pool
 * @pool: the pool
 * @count: elements to add to each sub-pool
 *
 * All sub-pools grow, or none does: on failure nothing new is mapped or
 * allocated.
 *
 * Context: Process context; takes a mutex and allocates with GFP_KERNEL.
 * Return: 0; -EINVAL if @count <= 0 or a sub-pool would exceed maxcount;
 * -ENOMEM if a node is out of memory.
 */
int ldata_grow(ldata_t pool, long count)
{
	long capacity;
	int err;

	might_sleep();
	mutex_lock(&pool->grow_mutex);
	capacity = ldata_sp(pool, 0)->capacity;
	if (count <= 0 || count > pool->maxcount - capacity)
		err = -EINVAL;
	else
		err = ldata_grow_locked(pool, count);
	if (!err) {
		capacity += count;
		ldata_count_grow(pool);
	}
	mutex_unlock(&pool->grow_mutex);
	trace_ldata_grow(pool, count, capacity, err);
	return err;
}
EXPORT_SYMBOL_GPL(ldata_grow);

static struct ldata_subpool *ldata_sp_create(struct ldata *pool, int nid,
					     int spi)
{
	unsigned long span = 1UL << pool->span_shift;
	struct ldata_subpool *sp;

	sp = kzalloc_node(sizeof(*sp), GFP_KERNEL, nid);
	if (!sp)
		return NULL;
	raw_spin_lock_init(&sp->lock);
	sp->nid = nid;
	sp->start = pool->base + spi * span;
	sp->stack = kvmalloc_node(array_size(pool->maxcount, sizeof(*sp->stack)),
				  GFP_KERNEL, nid);
	sp->pages = kvcalloc_node(PAGE_ALIGN(pool->maxcount * pool->stride) >>
				  PAGE_SHIFT, sizeof(*sp->pages), GFP_KERNEL,
				  nid);
	sp->state = kvzalloc_node(pool->maxcount, GFP_KERNEL, nid);
	if (!sp->stack || !sp->pages || !sp->state) {
		kvfree(sp->state);
		kvfree(sp->pages);
		kvfree(sp->stack);
		kfree(sp);
		return NULL;
	}
	return sp;
}

static void ldata_sp_destroy(struct ldata *pool, struct ldata_subpool *sp)
{
	ldata_sp_unmap(pool, sp, 0);
	kvfree(sp->state);
	kvfree(sp->pages);
	kvfree(sp->stack);
	kfree(sp);
}

/*
 * Free everything of @pool but its registration: the sub-pools with their
 * pages, the reservation, the caches, and the pool itself after RCU.
 */
static void ldata_pool_teardown(struct ldata *pool)
{
	int i, cpu;

	mutex_lock(&pool->grow_mutex);
	for (i = 0; i < pool->nr_sp; i++)
		if (pool->sp[i])
			ldata_sp_destroy(pool, pool->sp[i]);
	mutex_unlock(&pool->grow_mutex);
	mutex_destroy(&pool->grow_mutex);
	if (pool->area)
		free_vm_area(pool->area);
	/* An ldata_reclaim() that could not wait may have left work behind. */
	if (pool->pcp)
		for_each_possible_cpu(cpu)
			irq_work_sync(&per_cpu_ptr(pool->pcp, cpu)->reclaim);
	free_percpu(pool->pcp);
	kfree(pool->node_sp);
	kfree(pool->sp);
	kfree_rcu(pool, rcu);
}

/* The pool's reservation, sub-pools and per-CPU caches; no elements yet. */
static int ldata_pool_setup(struct ldata *pool)
{
	int nid, cpu, spi = 0;

	pool->nr_sp = num_node_state(N_MEMORY);
	pool->sp = kcalloc(pool->nr_sp, sizeof(*pool->sp), GFP_KERNEL);
	pool->node_sp = kmalloc_array(nr_node_ids, sizeof(*pool->node_sp),
				      GFP_KERNEL);
	pool->pcp = alloc_percpu(struct ldata_pcp);
	if (!pool->sp || !pool->node_sp || !pool->pcp)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct ldata_pcp *pcp = per_cpu_ptr(pool->pcp, cpu);

		init_irq_work(&pcp->reclaim, ldata_reclaim_work);
		pcp->pool = pool;
		pcp->home = -1;		/* ldata_register() sets it */
		pcp->spi = -1;
		pcp->rspi = -1;
	}
	pool->len = (unsigned long)pool->nr_sp << pool->span_shift;
	pool->area = get_vm_area(pool->len, VM_SPARSE);
	if (!pool->area)
		return -ENOMEM;
	pool->base = (unsigned long)pool->area->addr;

	for (nid = 0; nid < nr_node_ids; nid++)
		pool->node_sp[nid] = -1;
	for_each_node_state(nid, N_MEMORY) {
		if (spi == pool->nr_sp)
			break;
		pool->sp[spi] = ldata_sp_create(pool, nid, spi);
		if (!pool->sp[spi])
			return -ENOMEM;
		pool->node_sp[nid] = spi++;
	}
	pool->nr_sp = spi;
	/* Fewer nodes than counted (memory hot-removed): no span past them. */
	pool->len = (unsigned long)pool->nr_sp << pool->span_shift;
	return 0;
}

/*
 * ldata_home - the sub-pool that CPU @cpu allocates from: the one of its
 * node (cpu_to_mem()), or, for a node without one (memoryless, given
 * memory after the pool was made, or no node at all), the one of the
 * nearest node that has one.  -1 only for a pool without sub-pools.
 */
static int ldata_home(struct ldata *pool, int cpu)
{
	int nid = cpu_to_mem(cpu), spi, best = -1, dist, best_dist = INT_MAX;
	bool known = nid >= 0 && nid < nr_node_ids;

	if (known && pool->node_sp[nid] >= 0)
		return pool->node_sp[nid];
	for (spi = 0; spi < pool->nr_sp; spi++) {
		dist = known ? node_distance(nid, ldata_sp(pool, spi)->nid) : 0;
		if (dist < best_dist) {
			best = spi;
			best_dist = dist;
		}
	}
	return best;
}

/*
 * Set every CPU's home in @pool, not in use yet: its caches are empty and
 * take elements of their home.  ldata_lock and cpus_read_lock() held.
 */
static void ldata_set_homes(struct ldata *pool)
{
	struct ldata_pcp *pcp;
	int cpu;

	lockdep_assert_held(&ldata_lock);
	lockdep_assert_cpus_held();
	for_each_possible_cpu(cpu) {
		pcp = per_cpu_ptr(pool->pcp, cpu);
		pcp->home = ldata_home(pool, cpu);
		pcp->spi = pcp->home;
	}
}

static int ldata_stats_show(struct seq_file *m, void *v)
{
	struct ldata *pool = m->private;
	struct ldata_node_stats st;
	int i;

	seq_printf(m, "id %u size %zu stride %u maxcount %ld kkey %u creator %pS\n",
		   pool->id, pool->size, pool->stride, pool->maxcount,
		   pool->kkey, (void *)pool->caller);
	seq_puts(m, "node capacity in_use free cached high_water failed grows\n");
	for (i = 0; i < pool->nr_sp; i++) {
		ldata_node_stats(pool, ldata_sp(pool, i)->nid, &st);
		seq_printf(m, "%d %ld %ld %ld %ld %ld %lu %lu\n", st.nid,
			   st.capacity, st.in_use, st.free, st.cached,
			   st.high_water, st.failed, st.grows);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ldata_stats);

/*
 * Make @pool usable and visible: every CPU's home, ldata_pools (for refused
 * frees and CPU hotplug) and debugfs.  With CPU hotplug held off, so that
 * a CPU that comes online later finds the pool in ldata_pools.
 */
static void ldata_register(struct ldata *pool)
{
	char name[16];

	cpus_read_lock();
	mutex_lock(&ldata_lock);
	ldata_set_homes(pool);
	pool->id = ldata_next_id++;
	list_add_tail_rcu(&pool->list, &ldata_pools);
	if (!ldata_debugfs)
		ldata_debugfs = debugfs_create_dir("ldata", NULL);
	snprintf(name, sizeof(name), "%u", pool->id);
	pool->dentry = debugfs_create_file(name, 0400, ldata_debugfs, pool,
					   &ldata_stats_fops);
	mutex_unlock(&ldata_lock);
	cpus_read_unlock();
}

/*
 * CPU hotplug.  A CPU coming online may have been given a node since the
 * pools were made (a hot-added CPU): its home follows; this runs on that
 * CPU.  Once a CPU is dead, the CPU that took it down gives back what its
 * caches hold, so that nothing waits in them for ldata_reclaim(), which
 * only asks online CPUs.
 */
static int ldata_cpu_online(unsigned int cpu)
{
	struct ldata *pool;

	mutex_lock(&ldata_lock);
	list_for_each_entry(pool, &ldata_pools, list)
		WRITE_ONCE(per_cpu_ptr(pool->pcp, cpu)->home,
			   ldata_home(pool, cpu));
	mutex_unlock(&ldata_lock);
	return 0;
}

static int ldata_cpu_dead(unsigned int cpu)
{
	struct ldata *pool;

	mutex_lock(&ldata_lock);
	list_for_each_entry(pool, &ldata_pools, list)
		ldata_pcp_drain_all(pool, per_cpu_ptr(pool->pcp, cpu), -1);
	mutex_unlock(&ldata_lock);
	return 0;
}

static int __init ldata_init(void)
{
	int ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "mm/ldata:dead",
					    NULL, ldata_cpu_dead);

	if (ret >= 0)
		ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN,
						"mm/ldata:online",
						ldata_cpu_online, NULL);
	/* CONFIG_LDATA_DEBUG keeps the double-free check on for good. */
	if (IS_ENABLED(CONFIG_LDATA_DEBUG))
		ldata_check_get();
	return ret < 0 ? ret : 0;
}
subsys_initcall(ldata_init);

/* The checks of ldata_create() on its arguments; the stride, or -EINVAL. */
static long ldata_check(size_t size, long initcount, long maxcount,
			kkey_t kkey, ldata_t *ldatap)
{
	size_t stride, bytes;

	if (!ldatap || !size || size > LDATA_MAX_SIZE || initcount <= 0 ||
	    maxcount < initcount || kkey > LDATA_KKEY_MAX)
		return -EINVAL;
	stride = ALIGN(size, SMP_CACHE_BYTES);
	if (check_mul_overflow(stride, (size_t)maxcount, &bytes) ||
	    bytes > LDATA_MAX_SUBPOOL)
		return -EINVAL;
	return stride;
}

/**
 * ldata_create() - create an ldata pool
 * @size: bytes per element, 1 to %LDATA_MAX_SIZE; rounded up to a
 *	multiple of the cache line
 * @initcount: elements pre-allocated in each sub-pool, at least 1
 * @maxcount: most elements a sub-pool may hold, at least @initcount; the
 *	rounded size times @maxcount may not exceed %LDATA_MAX_SUBPOOL
 * @kkey: storage key, 0 to %LDATA_KKEY_MAX; recorded, not enforced
 * @ldatap: where the handle is stored on success
 *
 * Creates one sub-pool per node with memory, each holding @initcount
 * elements backed by pages of that node.  Every element is pinned kernel
 * memory, cache-line aligned.
 *
 * Context: Process context; allocates with GFP_KERNEL.
 * Return: 0 and the handle in *@ldatap; -EINVAL for bad arguments (above,
 * or a NULL @ldatap); -ENOMEM.  *@ldatap is untouched on error.
 */
int ldata_create(size_t size, long initcount, long maxcount, kkey_t kkey,
		 ldata_t *ldatap)
{
	struct ldata *pool = NULL;
	long stride;
	int err;

	might_sleep();
	stride = ldata_check(size, initcount, maxcount, kkey, ldatap);
	if (stride < 0) {
		err = stride;
		goto out;
	}
	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool) {
		err = -ENOMEM;
		goto out;
	}
	pool->size = size;
	pool->stride = stride;
	pool->recip = reciprocal_value(stride);
	if (is_power_of_2(stride))
		pool->stride_shift = ilog2(stride);
	pool->maxcount = maxcount;
	pool->kkey = kkey;
	pool->caller = _RET_IP_;
	pool->span_shift = order_base_2(PAGE_ALIGN(stride * maxcount));
	mutex_init(&pool->grow_mutex);

	err = ldata_pool_setup(pool);
	if (!err) {
		mutex_lock(&pool->grow_mutex);
		err = ldata_grow_locked(pool, initcount);
		mutex_unlock(&pool->grow_mutex);
	}
	if (err) {
		ldata_pool_teardown(pool);
		pool = NULL;
		goto out;
	}
	ldata_register(pool);
	*ldatap = pool;
out:
	trace_ldata_create(pool, pool ? pool->id : 0, size,
			   stride < 0 ? 0 : stride, initcount, maxcount, kkey,
			   pool ? pool->nr_sp : 0, err);
	return err;
}
EXPORT_SYMBOL_GPL(ldata_create);

/**
 * ldata_destroy() - free a pool and all its memory
 * @pool: the pool
 *
 * Every element should have been freed.  Those still allocated are
 * reported (an ldata_misuse event with their count, a warning once) and
 * their memory is freed with the rest: they must not be used again.
 *
 * Context: Process context; may sleep.  Nothing may use @pool concurrently
 * or afterwards.
 */
void ldata_destroy(ldata_t pool)
{
	struct ldata_node_stats st;
	long live = 0;
	int i;

	might_sleep();
	mutex_lock(&ldata_lock);
	list_del_rcu(&pool->list);
	debugfs_remove(pool->dentry);
	mutex_unlock(&ldata_lock);

	for (i = 0; i < pool->nr_sp; i++) {
		ldata_node_stats(pool, ldata_sp(pool, i)->nid, &st);
		/* Below 0 only after double frees no check could see. */
		live += max(st.in_use, 0L);
	}
	trace_ldata_destroy(pool, pool->id, live);
	if (live) {
		trace_ldata_misuse(pool, NULL, _RET_IP_,
				   LDATA_MISUSE_DESTROY_LIVE, live, NULL,
				   NUMA_NO_NODE, numa_node_id());
		WARN_ONCE(1, "pool %u destroyed by %pS with %ld elements allocated\n",
			  pool->id, (void *)_RET_IP_, live);
	}
	/* Readers of ldata_pools look at base and len only: they may stay. */
	ldata_pool_teardown(pool);
}
EXPORT_SYMBOL_GPL(ldata_destroy);

/**
 * ldata_node_stats() - the counters of one sub-pool
 * @pool: the pool
 * @nid: the node
 * @st: filled in
 *
 * The free count includes the elements cached by every CPU, read without
 * their locks: exact when the pool is quiet, a snapshot otherwise.
 *
 * Context: Any context but NMI.
 * Return: 0, or -ENOENT if @nid has no sub-pool.
 */
int ldata_node_stats(ldata_t pool, int nid, struct ldata_node_stats *st)
{
	struct ldata_subpool *sp;
	unsigned long flags;
	int spi, cpu;

	if (nid < 0 || nid >= nr_node_ids || pool->node_sp[nid] < 0)
		return -ENOENT;
	spi = pool->node_sp[nid];
	sp = ldata_sp(pool, spi);
	st->cached = 0;
	for_each_possible_cpu(cpu) {
		struct ldata_pcp *pcp = per_cpu_ptr(pool->pcp, cpu);
		/* A snapshot: their CPUs change them meanwhile. */
		int owner = data_race(pcp->spi), count = data_race(pcp->count);
		/* The same of the elements of another node freed there. */
		int rown = data_race(pcp->rspi), rcnt = data_race(pcp->rcount);

		if (owner == spi)
			st->cached += count;
		if (rown == spi)
			st->cached += rcnt;
	}
	raw_spin_lock_irqsave(&sp->lock, flags);
	st->nid = nid;
	st->capacity = sp->capacity;
	st->free = sp->nr_free + st->cached;
	st->high_water = sp->high_water;
	st->failed = sp->failed;
	st->grows = sp->grows;
	raw_spin_unlock_irqrestore(&sp->lock, flags);
	st->in_use = st->capacity - st->free;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ldata_node_stats);

#if IS_ENABLED(CONFIG_KUNIT)
/* Every CPU gives back what its cache of @pool holds, now. */
void ldata_drain_caches(ldata_t pool)
{
	might_sleep();
	ldata_reclaim(pool, -1);
}
EXPORT_SYMBOL_IF_KUNIT(ldata_drain_caches);

/* Pages held by every ldata pool. */
long ldata_nr_pages(void)
{
	return atomic_long_read(&ldata_pages);
}
EXPORT_SYMBOL_IF_KUNIT(ldata_nr_pages);

/* Live pools. */
int ldata_nr_pools(void)
{
	struct ldata *pool;
	int n = 0;

	mutex_lock(&ldata_lock);
	list_for_each_entry(pool, &ldata_pools, list)
		n++;
	mutex_unlock(&ldata_lock);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(ldata_nr_pools);
#endif
