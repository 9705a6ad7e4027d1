/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The scaffolding that the lw-mm KUnit suites and benchmarks share, so that
 * it is written once and behaves the same in all of them:
 *
 *  - tracepoint probes: a suite lists them in a table of LW_KUNIT_PROBE()
 *    entries, type-checked against each tracepoint, that
 *    lw_kunit_register_probes() registers (all or none) in suite_init and
 *    lw_kunit_unregister_probes() removes in suite_exit, as
 *    mm/kfence/kfence_test.c does by hand;
 *  - what the probes capture: an LW_KUNIT_EVENTS() struct whose lock every
 *    probe and every reader takes the same way, with interrupts off, through
 *    lw_kunit_lock(); lw_kunit_read() copies a value out under it and
 *    lw_kunit_reset() forgets everything before each test;
 *  - lw_kunit_pins_outstanding(), the FOLL_PIN pins of the whole system;
 *  - descriptors that the end of the test detaches, so that a failed
 *    assertion leaves nothing pinned: lw_kunit_alloc_dp() (a free one),
 *    lw_kunit_attach_dp() (one attached to a range), lw_kunit_detach_at_end()
 *    (the caller's own);
 *  - lw_kunit_drop_ipc_lock() and lw_kunit_set_memlock_limit(), for the
 *    RLIMIT_MEMLOCK charges;
 *  - lw_kunit_fail_allocations() and lw_kunit_fail_nth(): fault injection
 *    of any one allocation of a task;
 *  - lw_kunit_nthreads_gen_params(), the thread counts of a parameterised
 *    case, and lw_kunit_nthreads().
 *
 * Only what every suite may use: nothing here needs more than the
 * cross-memory descriptors of <linux/xmem.h>.
 */
#ifndef _MM_LW_KUNIT_H
#define _MM_LW_KUNIT_H

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/compiler.h>
#include <linux/cpumask.h>
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/limits.h>
#include <linux/math.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/resource.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/spinlock.h>
#include <linux/sprintf.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/types.h>
#include <linux/xmem.h>

/* ===== Tracepoint probes ===== */

/**
 * struct lw_kunit_probe - a tracepoint probe, for lw_kunit_register_probes()
 * @name: the tracepoint's name, for the error message
 * @tp: the tracepoint, NULL without tracepoints
 * @probe: the probe, as register_trace_<name>() would register it
 */
struct lw_kunit_probe {
	const char *name;
	struct tracepoint *tp;
	void *probe;
};

/* The tracepoint of trace_<event>(); none without tracepoints. */
#ifdef TRACEPOINTS_ENABLED
#define __lw_kunit_tracepoint(event)	(&__tracepoint_##event)
#else
#define __lw_kunit_tracepoint(...)	NULL
#endif

/**
 * LW_KUNIT_PROBE() - an entry of a suite's table of probes
 * @event: the tracepoint, as named by trace_<event>()
 * @fn: the probe function, of the type register_trace_<event>() takes;
 *	anything else fails the build ("void value not ignored")
 *
 * A table rather than a list of register_trace_<event>() calls, so that
 * registering, unwinding and unregistering are written once.
 */
#define LW_KUNIT_PROBE(event, fn) {					\
	.name = #event,							\
	.tp = __lw_kunit_tracepoint(event),				\
	.probe = __builtin_choose_expr(					\
		__same_type(&check_trace_callback_type_##event,		\
			    (void (*)(typeof(fn) *))NULL),		\
		(void *)(fn), (void)0),					\
}

/**
 * lw_kunit_register_probes() - register a suite's probes, all or none
 * @probes: the table
 * @nr: its size
 *
 * Each probe is registered with NULL data, as register_trace_<event>()
 * does.  If one fails, those registered before it are unregistered again.
 *
 * Context: Process context (suite_init); may sleep.
 * Return: 0, or the error of the probe that failed (-EOPNOTSUPP
 * without tracepoints).
 */
static inline int lw_kunit_register_probes(const struct lw_kunit_probe *probes,
					   int nr)
{
	int i, err;

	if (!IS_ENABLED(CONFIG_TRACEPOINTS))
		return -EOPNOTSUPP;
	for (i = 0; i < nr; i++) {
		err = -EOPNOTSUPP;
		if (probes[i].tp)
			err = tracepoint_probe_register(probes[i].tp,
							probes[i].probe, NULL);
		if (err)
			goto unwind;
	}
	return 0;
unwind:
	pr_err("lw_kunit: cannot register a probe on %s: %d\n",
	       probes[i].name, err);
	while (i--)
		tracepoint_probe_unregister(probes[i].tp, probes[i].probe,
					    NULL);
	tracepoint_synchronize_unregister();
	return err;
}

/**
 * lw_kunit_unregister_probes() - unregister what lw_kunit_register_probes() did
 * @probes: the table
 * @nr: its size
 *
 * Returns once no probe of the table runs any more, so that what they
 * write to may go.
 *
 * Context: Process context (suite_exit); sleeps.
 */
static inline void
lw_kunit_unregister_probes(const struct lw_kunit_probe *probes, int nr)
{
	int i = nr;

	if (!IS_ENABLED(CONFIG_TRACEPOINTS))
		return;
	while (i--)
		tracepoint_probe_unregister(probes[i].tp, probes[i].probe,
					    NULL);
	tracepoint_synchronize_unregister();
}

/* ===== Captured events ===== */

/**
 * LW_KUNIT_EVENTS() - the type of what a suite's probes capture
 * @members: the events, as struct member declarations
 *
 * A struct of @lock, which protects the events, and the events themselves,
 * also grouped as @ev for lw_kunit_reset().  Probes run in any context,
 * hard interrupts included: @lock is only ever taken with lw_kunit_lock().
 * A suite declares one, with LW_KUNIT_EVENTS_INIT()::
 *
 *	static LW_KUNIT_EVENTS(struct my_event attach, detach;)
 *		seen = LW_KUNIT_EVENTS_INIT(seen);
 */
#define LW_KUNIT_EVENTS(members...)					\
	struct {							\
		spinlock_t lock;	/* lw_kunit_lock() */		\
		struct_group(ev, members);				\
	}

/**
 * LW_KUNIT_EVENTS_INIT() - the initialiser of an LW_KUNIT_EVENTS() struct
 * @name: the struct's name
 *
 * Its lock ready, no event captured.
 */
#define LW_KUNIT_EVENTS_INIT(name)					\
	{ .lock = __SPIN_LOCK_UNLOCKED(name.lock) }

/**
 * lw_kunit_lock() - take the lock of the captured events
 * @lock: the @lock of the suite's LW_KUNIT_EVENTS() struct
 *
 * The one way probes and tests take it: with interrupts off, since a probe
 * may run in a hard interrupt on the CPU that holds it.
 *
 * Context: Any context.  Takes @lock.
 * Return: the interrupt state, for lw_kunit_unlock().
 */
static inline unsigned long lw_kunit_lock(spinlock_t *lock)
	__acquires(lock)
{
	unsigned long flags;

	spin_lock_irqsave(lock, flags);
	return flags;
}

/**
 * lw_kunit_unlock() - release what lw_kunit_lock() took
 * @lock: the lock
 * @flags: what lw_kunit_lock() returned
 *
 * Context: Any context, holding @lock.  Releases it.
 */
static inline void lw_kunit_unlock(spinlock_t *lock, unsigned long flags)
	__releases(lock)
{
	spin_unlock_irqrestore(lock, flags);
}

/**
 * lw_kunit_read() - a copy of captured data, read under the lock
 * @seen: the suite's LW_KUNIT_EVENTS() struct
 * @x: what to copy: an event, a counter; an expression without side effects
 *
 * Context: Any context.
 * Return: the value of @x.
 */
#define lw_kunit_read(seen, x)						\
({									\
	typeof(seen) __lwk_seen = (seen);				\
	unsigned long __lwk_flags;					\
	typeof(x) __lwk_x;						\
									\
	__lwk_flags = lw_kunit_lock(&__lwk_seen->lock);			\
	__lwk_x = (x);							\
	lw_kunit_unlock(&__lwk_seen->lock, __lwk_flags);		\
	__lwk_x;							\
})

/**
 * lw_kunit_reset() - forget every captured event
 * @seen: the suite's LW_KUNIT_EVENTS() struct
 *
 * What a suite's init does before each test, so that each test sees only
 * its own events; a test may do it again before a call it checks.
 *
 * Context: Any context.
 */
#define lw_kunit_reset(seen)						\
do {									\
	typeof(seen) __lwk_seen = (seen);				\
	unsigned long __lwk_flags;					\
									\
	__lwk_flags = lw_kunit_lock(&__lwk_seen->lock);			\
	memset(&__lwk_seen->ev, 0, sizeof(__lwk_seen->ev));		\
	lw_kunit_unlock(&__lwk_seen->lock, __lwk_flags);		\
} while (0)

/* ===== Pins ===== */

/* Pins acquired minus released on @pgdat: its counters, CPUs' deltas. */
static inline long __lw_kunit_node_pins(struct pglist_data *pgdat)
{
	long sum = 0;
	int cpu;

	sum += atomic_long_read(&pgdat->vm_stat[NR_FOLL_PIN_ACQUIRED]);
	sum -= atomic_long_read(&pgdat->vm_stat[NR_FOLL_PIN_RELEASED]);
	for_each_possible_cpu(cpu) {
		struct per_cpu_nodestat *p;

		p = per_cpu_ptr(pgdat->per_cpu_nodestats, cpu);
		sum += READ_ONCE(p->vm_node_stat_diff[NR_FOLL_PIN_ACQUIRED]);
		sum -= READ_ONCE(p->vm_node_stat_diff[NR_FOLL_PIN_RELEASED]);
	}
	return sum;
}

/**
 * lw_kunit_pins_outstanding() - FOLL_PIN pins held system-wide
 *
 * Acquired minus released, from every node's counters plus every CPU's
 * delta not folded into them yet.  Read until two reads agree, so that a
 * concurrent fold is not counted twice or missed.  Nothing but the test
 * pins pages while a suite runs, so a test compares two of these.
 *
 * Context: Any context.
 * Return: the number of pins outstanding.
 */
static inline long lw_kunit_pins_outstanding(void)
{
	long prev, sum = LONG_MIN;
	int nid, tries = 0;

	do {
		prev = sum;
		sum = 0;
		for_each_node_state(nid, N_MEMORY)
			sum += __lw_kunit_node_pins(NODE_DATA(nid));
	} while (sum != prev && ++tries < 100);
	return sum;
}

/* ===== Descriptors detached when the test ends ===== */

/**
 * lw_kunit_detach_action() - xmdetach() a descriptor if it is attached
 * @dp: the struct xmem
 *
 * The KUnit action of lw_kunit_detach_at_end().
 *
 * Context: Process context.
 */
static inline void lw_kunit_detach_action(void *dp)
{
	if (READ_ONCE(((struct xmem *)dp)->aspace_id) != XMEM_INVAL)
		xmdetach(dp);
}

/**
 * lw_kunit_detach_at_end() - detach a descriptor when the test ends
 * @test: the test
 * @dp: an initialised descriptor (xmem_init()) that lives until then
 *
 * If it is still attached then, so that a test that stops at a failed
 * assertion leaves nothing pinned.  If the action cannot be added, @dp is
 * detached now and the test fails.
 *
 * Context: Process context, in @test's thread: a failure aborts the test.
 */
static inline void lw_kunit_detach_at_end(struct kunit *test, struct xmem *dp)
{
	int err = kunit_add_action_or_reset(test, lw_kunit_detach_action, dp);

	KUNIT_ASSERT_EQ(test, err, 0);
}

/**
 * lw_kunit_alloc_dp() - a free descriptor, detached when the test ends
 * @test: the test
 *
 * The descriptor outlives the test's thread (tasks the test starts may
 * still use it) and is freed with the test's other resources.
 *
 * Context: Process context, in @test's thread: a failure aborts the test.
 * Return: the descriptor, free (%XMEM_INVAL).
 */
static inline struct xmem *lw_kunit_alloc_dp(struct kunit *test)
{
	struct xmem *dp = kunit_kzalloc(test, sizeof(*dp), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, dp);
	xmem_init(dp);
	lw_kunit_detach_at_end(test, dp);
	return dp;
}

/**
 * lw_kunit_attach_dp() - a descriptor of a range, detached when the test ends
 * @test: the test
 * @addr: the range's first byte
 * @len: its length in bytes
 * @segflag: how to attach it, as for xmattach()
 *
 * Context: Process context, in @test's thread: a failure, the attach's
 * included, aborts the test.
 * Return: a descriptor that xmattach(@addr, @len, @segflag) attached.
 */
static inline struct xmem *lw_kunit_attach_dp(struct kunit *test,
					      unsigned long addr, size_t len,
					      int segflag)
{
	struct xmem *dp = lw_kunit_alloc_dp(test);

	KUNIT_ASSERT_EQ(test, xmattach(addr, len, dp, segflag), 0);
	return dp;
}

/* ===== Limits ===== */

/**
 * lw_kunit_drop_ipc_lock() - run without CAP_IPC_LOCK, so RLIMIT_MEMLOCK applies
 * @test: the test
 *
 * Overrides the current task's credentials until revert_creds() of what
 * this returns.  Usable in the test's thread and in tasks it starts.
 *
 * Context: Process context.
 * Return: the credentials to revert to, or NULL (the test has failed) if
 * new ones could not be made.
 */
static inline const struct cred *lw_kunit_drop_ipc_lock(struct kunit *test)
{
	const struct cred *old;
	struct cred *new;

	new = prepare_creds();
	KUNIT_EXPECT_NOT_NULL(test, new);
	if (!new)
		return NULL;
	cap_lower(new->cap_effective, CAP_IPC_LOCK);
	old = override_creds(new);
	put_cred(new);
	return old;
}

/**
 * lw_kunit_set_memlock_limit() - set the current process's RLIMIT_MEMLOCK
 * @bytes: the soft limit
 *
 * Context: Process context.
 */
static inline void lw_kunit_set_memlock_limit(unsigned long bytes)
{
	struct rlimit *rlim = current->signal->rlim + RLIMIT_MEMLOCK;

	task_lock(current->group_leader);
	rlim->rlim_cur = bytes;
	task_unlock(current->group_leader);
}

/* ===== Fault injection ===== */

struct lw_kunit_fault_knobs {
	bool *slab_ignore_reclaim, *page_ignore_reclaim;
	u32 *page_min_order;
	unsigned long *slab_verbose, *page_verbose;
	bool slab_ignore_reclaim_was, page_ignore_reclaim_was;
	u32 page_min_order_was;
	unsigned long slab_verbose_was, page_verbose_was;
};

/* The value behind debugfs file @dir/@name of a fault-injection attribute. */
static inline void *lw_kunit_fault_knob(const char *dir, const char *name)
{
	struct dentry *d = debugfs_lookup(dir, NULL), *f;
	void *p = NULL;

	if (IS_ERR_OR_NULL(d))
		return NULL;
	f = debugfs_lookup(name, d);
	if (!IS_ERR_OR_NULL(f)) {
		p = d_inode(f)->i_private;
		dput(f);
	}
	dput(d);
	return p;
}

static inline void lw_kunit_fault_restore(void *arg)
{
	struct lw_kunit_fault_knobs *k = arg;

	WRITE_ONCE(*k->slab_ignore_reclaim, k->slab_ignore_reclaim_was);
	WRITE_ONCE(*k->page_ignore_reclaim, k->page_ignore_reclaim_was);
	WRITE_ONCE(*k->page_min_order, k->page_min_order_was);
	WRITE_ONCE(*k->slab_verbose, k->slab_verbose_was);
	WRITE_ONCE(*k->page_verbose, k->page_verbose_was);
}

/**
 * lw_kunit_fail_allocations() - make every allocation of a task failable
 * @test: the test
 *
 * Until the test ends, failslab and fail_page_alloc consider every slab
 * and page allocation, those that may sleep and order 0 included, and fail
 * quietly; a task then fails its Nth allocation after
 * ``current->fail_nth = N`` (Documentation/fault-injection).  What they
 * are set to is found through their debugfs files, which need not be
 * mounted.
 *
 * Context: Process context, in @test's thread.
 * Return: 0, or -EOPNOTSUPP without CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC
 * and CONFIG_FAULT_INJECTION_DEBUG_FS (the test should skip).
 */
static inline int lw_kunit_fail_allocations(struct kunit *test)
{
	struct lw_kunit_fault_knobs *k;

	if (!IS_ENABLED(CONFIG_FAILSLAB) || !IS_ENABLED(CONFIG_FAIL_PAGE_ALLOC) ||
	    !IS_ENABLED(CONFIG_FAULT_INJECTION_DEBUG_FS))
		return -EOPNOTSUPP;
	k = kunit_kzalloc(test, sizeof(*k), GFP_KERNEL);
	if (!k)
		return -ENOMEM;
	k->slab_ignore_reclaim = lw_kunit_fault_knob("failslab", "ignore-gfp-wait");
	k->slab_verbose = lw_kunit_fault_knob("failslab", "verbose");
	k->page_ignore_reclaim = lw_kunit_fault_knob("fail_page_alloc",
						     "ignore-gfp-wait");
	k->page_min_order = lw_kunit_fault_knob("fail_page_alloc", "min-order");
	k->page_verbose = lw_kunit_fault_knob("fail_page_alloc", "verbose");
	if (!k->slab_ignore_reclaim || !k->slab_verbose ||
	    !k->page_ignore_reclaim || !k->page_min_order || !k->page_verbose)
		return -EOPNOTSUPP;
	k->slab_ignore_reclaim_was = *k->slab_ignore_reclaim;
	k->page_ignore_reclaim_was = *k->page_ignore_reclaim;
	k->page_min_order_was = *k->page_min_order;
	k->slab_verbose_was = *k->slab_verbose;
	k->page_verbose_was = *k->page_verbose;
	WRITE_ONCE(*k->slab_ignore_reclaim, false);
	WRITE_ONCE(*k->page_ignore_reclaim, false);
	WRITE_ONCE(*k->page_min_order, 0);
	WRITE_ONCE(*k->slab_verbose, 0);
	WRITE_ONCE(*k->page_verbose, 0);
	return kunit_add_action_or_reset(test, lw_kunit_fault_restore, k);
}

/**
 * lw_kunit_fail_nth() - fail the current task's @n-th allocation from now
 * @n: 1 for the next one; 0 to stop
 *
 * Context: Process context, after lw_kunit_fail_allocations().
 * Return: how many allocations were still to go before the one to fail
 * (0: it was reached, the call made at least @n of them).
 */
static inline unsigned int lw_kunit_fail_nth(unsigned int n)
{
#ifdef CONFIG_FAULT_INJECTION
	return xchg(&current->fail_nth, n);
#else
	return 0;
#endif
}

/* ===== Thread counts ===== */

/**
 * lw_kunit_nthreads_gen_params() - thread counts of a parameterised case
 * @prev: the previous count, as returned; NULL before the first
 * @desc: the case's description, "threads=N"
 *
 * 1, 2, 4, ... and last the number of online CPUs, as kcsan_test does.
 * The count is the parameter pointer itself, the last one negated so that
 * the next call knows it was the last: read it with lw_kunit_nthreads().
 *
 * Context: Process context (the KUnit runner).
 * Return: the next count, or NULL after the last.
 */
static inline const void *lw_kunit_nthreads_gen_params(const void *prev,
						       char *desc)
{
	long n = (long)prev;

	if (n < 0)
		return NULL;		/* the last one was the CPU count */
	n = n ? n * 2 : 1;
	if (n >= num_online_cpus())
		n = -(long)num_online_cpus();
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "threads=%ld", abs(n));
	return (void *)n;
}

/**
 * lw_kunit_nthreads() - the thread count of the running case
 * @test: a case of lw_kunit_nthreads_gen_params()
 *
 * Context: Any context.
 * Return: the number of threads the case runs.
 */
static inline int lw_kunit_nthreads(struct kunit *test)
{
	return abs((long)test->param_value);
}

#endif /* _MM_LW_KUNIT_H */
