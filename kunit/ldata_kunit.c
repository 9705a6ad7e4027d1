// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for ldata pools (mm/ldata.c).
 *
 * Runs best on a machine with two NUMA nodes that both have memory and
 * CPUs (kunit.py with QEMU -numa, see kunit/lw-mm.kunitconfig); tests
 * that need two nodes, or two CPUs on a node, skip otherwise.  Work that
 * must run on a given node runs in work_on_cpu(); tracepoint probes
 * registered in suite_init capture the events, as kfence_test.c does, with
 * the helpers of lw_kunit.h that the other suites share.
 * Pools come from new_pool(), which destroys them when the test ends.
 * Page allocation failure is injected by redirecting ldata_alloc_page()
 * with a KUnit static stub.
 */

#include <kunit/test.h>
#include <kunit/static_stub.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/ldata.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/nodemask.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/topology.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <trace/events/ldata.h>

#include "ldata_internal.h"
#include "lw_kunit.h"

/* ===== Event capture ===== */

struct ldata_event {
	const void *pool;
	const void *elem;
	const void *owner;
	unsigned long call_site;
	long count;
	long capacity;
	size_t stride;
	enum ldata_misuse_kind kind;
	int node;
	int caller_node;
	int err;
	u32 kkey;
	unsigned int id;
	int seen;
};

static LW_KUNIT_EVENTS(struct ldata_event create, grow, destroy, misuse, free,
		       alloc_fail;)
	seen = LW_KUNIT_EVENTS_INIT(seen);

static void probe_create(void *data, const void *pool, unsigned int id,
			 size_t size, size_t stride, long initcount,
			 long maxcount, u32 kkey, int nr_nodes, int err)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	seen.create.pool = pool;
	seen.create.id = id;
	seen.create.kkey = kkey;
	seen.create.count = nr_nodes;
	seen.create.stride = stride;
	seen.create.err = err;
	seen.create.seen++;
	lw_kunit_unlock(&seen.lock, flags);
}

static void probe_grow(void *data, const void *pool, long count,
		       long capacity, int err)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	seen.grow.pool = pool;
	seen.grow.count = count;
	seen.grow.capacity = capacity;
	seen.grow.err = err;
	seen.grow.seen++;
	lw_kunit_unlock(&seen.lock, flags);
}

static void probe_destroy(void *data, const void *pool, unsigned int id,
			  long outstanding)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	seen.destroy.pool = pool;
	seen.destroy.count = outstanding;
	seen.destroy.seen++;
	lw_kunit_unlock(&seen.lock, flags);
}

static void probe_misuse(void *data, const void *pool, const void *elem,
			 unsigned long call_site, enum ldata_misuse_kind kind,
			 long count, const void *owner, int node,
			 int caller_node)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	seen.misuse.pool = pool;
	seen.misuse.elem = elem;
	seen.misuse.call_site = call_site;
	seen.misuse.kind = kind;
	seen.misuse.count = count;
	seen.misuse.owner = owner;
	seen.misuse.node = node;
	seen.misuse.caller_node = caller_node;
	seen.misuse.seen++;
	lw_kunit_unlock(&seen.lock, flags);
}

static void probe_free(void *data, const void *pool, const void *elem,
		       unsigned long call_site, int node, int caller_node)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	seen.free.pool = pool;
	seen.free.elem = elem;
	seen.free.call_site = call_site;
	seen.free.node = node;
	seen.free.caller_node = caller_node;
	seen.free.seen++;
	lw_kunit_unlock(&seen.lock, flags);
}

static void probe_alloc_fail(void *data, const void *pool,
			     unsigned long call_site, int node,
			     int caller_node)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	seen.alloc_fail.pool = pool;
	seen.alloc_fail.call_site = call_site;
	seen.alloc_fail.node = node;
	seen.alloc_fail.caller_node = caller_node;
	seen.alloc_fail.seen++;
	lw_kunit_unlock(&seen.lock, flags);
}

static const struct lw_kunit_probe ldata_probes[] = {
	LW_KUNIT_PROBE(ldata_create, probe_create),
	LW_KUNIT_PROBE(ldata_grow, probe_grow),
	LW_KUNIT_PROBE(ldata_destroy, probe_destroy),
	LW_KUNIT_PROBE(ldata_misuse, probe_misuse),
	LW_KUNIT_PROBE(ldata_free, probe_free),
	LW_KUNIT_PROBE(ldata_alloc_fail, probe_alloc_fail),
};

static struct ldata_event last_event(struct ldata_event *ev)
{
	return lw_kunit_read(&seen, *ev);
}

/* ===== Helpers ===== */

static void destroy_action(void *pool)
{
	ldata_destroy(pool);
}

static ldata_t new_pool(struct kunit *test, size_t size, long init, long max)
{
	ldata_t pool = NULL;

	KUNIT_ASSERT_EQ(test, ldata_create(size, init, max, 0, &pool), 0);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, destroy_action, pool),
			0);
	return pool;
}

/* Destroy @pool now rather than at the end of the test. */
static void end_pool(struct kunit *test, ldata_t pool)
{
	kunit_release_action(test, destroy_action, pool);
}

static struct ldata_node_stats stats(struct kunit *test, ldata_t pool,
				     int nid)
{
	struct ldata_node_stats st;

	KUNIT_ASSERT_EQ(test, ldata_node_stats(pool, nid, &st), 0);
	return st;
}

/* The first online CPU of @nid, or -1. */
static int node_cpu(int nid)
{
	unsigned int cpu = cpumask_first_and(cpumask_of_node(nid),
					     cpu_online_mask);

	return cpu < nr_cpu_ids ? cpu : -1;
}

/* Nodes that have memory and an online CPU: @out[0..return). */
static int test_nodes(int *out, int max)
{
	int nid, n = 0;

	for_each_node_state(nid, N_MEMORY)
		if (n < max && node_cpu(nid) >= 0)
			out[n++] = nid;
	return n;
}

/* Fill @nodes (room for @max) and skip unless at least @want were found. */
static int need_nodes(struct kunit *test, int *nodes, int max, int want)
{
	int n = test_nodes(nodes, max);

	if (n < want)
		kunit_skip(test, "needs %d nodes with memory and CPUs, has %d",
			   want, n);
	return n;
}

/* Allocate or free a batch of elements on a given CPU. */
struct batch {
	ldata_t pool;
	void **elems;
	int n;		/* wanted (alloc) or held (free) */
	int got;	/* allocated before the first NULL */
};

static long batch_alloc_fn(void *arg)
{
	struct batch *b = arg;

	for (b->got = 0; b->got < b->n; b->got++) {
		b->elems[b->got] = ldata_alloc(b->pool);
		if (!b->elems[b->got])
			break;
	}
	return 0;
}

/* batch_alloc_fn() with interrupts disabled: a caller that cannot wait. */
static long batch_alloc_atomic_fn(void *arg)
{
	unsigned long flags;

	local_irq_save(flags);
	batch_alloc_fn(arg);
	local_irq_restore(flags);
	return 0;
}

static long batch_free_fn(void *arg)
{
	struct batch *b = arg;
	int i;

	for (i = 0; i < b->n; i++)
		ldata_free(b->pool, b->elems[i]);
	return 0;
}

static int alloc_on(int cpu, ldata_t pool, void **elems, int n)
{
	struct batch b = { .pool = pool, .elems = elems, .n = n };

	work_on_cpu(cpu, batch_alloc_fn, &b);
	return b.got;
}

static int alloc_atomic_on(int cpu, ldata_t pool, void **elems, int n)
{
	struct batch b = { .pool = pool, .elems = elems, .n = n };

	work_on_cpu(cpu, batch_alloc_atomic_fn, &b);
	return b.got;
}

static void free_on(int cpu, ldata_t pool, void **elems, int n)
{
	struct batch b = { .pool = pool, .elems = elems, .n = n };

	work_on_cpu(cpu, batch_free_fn, &b);
}

static int elem_nid(const void *elem)
{
	return page_to_nid(vmalloc_to_page(elem));
}

/* ===== ldata_create() ===== */

struct create_case {
	const char *what;
	size_t size;
	long init, max;
	kkey_t kkey;
	bool null_ldatap;
};

static const struct create_case bad_creates[] = {
	{ "size 0", 0, 1, 1, 0 },
	{ "size above LDATA_MAX_SIZE", LDATA_MAX_SIZE + 1, 1, 1, 0 },
	{ "initcount 0", 64, 0, 4, 0 },
	{ "initcount negative", 64, -1, 4, 0 },
	{ "maxcount below initcount", 64, 4, 3, 0 },
	{ "maxcount negative", 64, 1, -1, 0 },
	{ "kkey above LDATA_KKEY_MAX", 64, 1, 1, LDATA_KKEY_MAX + 1 },
	{ "kkey U32_MAX", 64, 1, 1, U32_MAX },
	{ "size * maxcount overflows", LDATA_MAX_SIZE, 1, LONG_MAX, 0 },
	{ "sub-pool above LDATA_MAX_SUBPOOL", 64, 1,
	  LDATA_MAX_SUBPOOL / 64 + 1, 0 },
	{ "NULL ldatap", 64, 1, 1, 0, true },
};

static void test_create_invalid(struct kunit *test)
{
	long pages = ldata_nr_pages();
	int pools = ldata_nr_pools();
	int i;

	for (i = 0; i < ARRAY_SIZE(bad_creates); i++) {
		const struct create_case *c = &bad_creates[i];
		ldata_t sentinel = (ldata_t)0x5a5a5a5aUL;
		struct ldata_event ev;

		lw_kunit_reset(&seen);
		KUNIT_EXPECT_EQ_MSG(test, ldata_create(c->size, c->init, c->max,
						       c->kkey, c->null_ldatap ?
						       NULL : &sentinel),
				    -EINVAL, "%s", c->what);
		KUNIT_EXPECT_PTR_EQ_MSG(test, sentinel, (ldata_t)0x5a5a5a5aUL,
					"%s", c->what);
		ev = last_event(&seen.create);
		KUNIT_EXPECT_EQ_MSG(test, ev.seen, 1, "%s", c->what);
		KUNIT_EXPECT_EQ_MSG(test, ev.err, -EINVAL, "%s", c->what);
		KUNIT_EXPECT_NULL_MSG(test, ev.pool, "%s", c->what);
	}
	KUNIT_EXPECT_EQ(test, ldata_nr_pages(), pages);
	KUNIT_EXPECT_EQ(test, ldata_nr_pools(), pools);
}

/* The largest sizes accepted are accepted. */
static void test_create_limits(struct kunit *test)
{
	long max = LDATA_MAX_SUBPOOL / LDATA_MAX_SIZE;
	struct ldata_event ev;
	ldata_t pool;
	void *e;

	/* A 1 GiB reservation per node, one element made in each. */
	pool = new_pool(test, LDATA_MAX_SIZE, 1, max);
	ev = last_event(&seen.create);
	KUNIT_EXPECT_PTR_EQ(test, ev.pool, (const void *)pool);
	KUNIT_EXPECT_EQ(test, ev.err, 0);
	KUNIT_EXPECT_EQ(test, ev.stride, (size_t)LDATA_MAX_SIZE);
	KUNIT_EXPECT_EQ(test, ev.count, (long)num_node_state(N_MEMORY));
	e = ldata_alloc(pool);
	KUNIT_EXPECT_NOT_NULL(test, e);
	if (e)
		memset(e, 0x5a, LDATA_MAX_SIZE);
	ldata_free(pool, e);
	end_pool(test, pool);

	/* Sizes round up to the cache line. */
	new_pool(test, 1, 1, 4);
	KUNIT_EXPECT_EQ(test, last_event(&seen.create).stride,
			(size_t)SMP_CACHE_BYTES);
	new_pool(test, SMP_CACHE_BYTES + 1, 1, 4);
	KUNIT_EXPECT_EQ(test, last_event(&seen.create).stride,
			(size_t)2 * SMP_CACHE_BYTES);
}

/* kkey: 0 to LDATA_KKEY_MAX are accepted and recorded. */
static void test_kkey_range(struct kunit *test)
{
	static const kkey_t keys[] = { 0, 1, LDATA_KKEY_MAX };
	ldata_t pool;
	int i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		pool = NULL;
		KUNIT_ASSERT_EQ(test, ldata_create(64, 1, 1, keys[i], &pool), 0);
		KUNIT_EXPECT_EQ(test, last_event(&seen.create).kkey, keys[i]);
		ldata_destroy(pool);
	}
}

/* Fail the page allocation number fail_at (0-based) of this test. */
static int fail_at, page_calls;

static struct page *failing_alloc_page(int nid)
{
	if (page_calls++ == fail_at)
		return NULL;
	return alloc_pages_node(nid, GFP_KERNEL | __GFP_THISNODE | __GFP_ZERO,
				0);
}

static void inject_page_failure(struct kunit *test, int at)
{
	fail_at = at;
	page_calls = 0;
	kunit_activate_static_stub(test, ldata_alloc_page, failing_alloc_page);
}

/*
 * -ENOMEM from the first page, from a later page of the first node, and
 * from the first page of the second node: nothing is left behind.
 */
static void test_create_nomem(struct kunit *test)
{
	/* 4 pages per node: 16 elements of 1 KiB. */
	static const int fail_points[] = { 0, 2, 4 };
	long pages = ldata_nr_pages();
	int pools = ldata_nr_pools();
	int i;

	for (i = 0; i < ARRAY_SIZE(fail_points); i++) {
		ldata_t sentinel = (ldata_t)0x5a5a5a5aUL;

		if (fail_points[i] >= 4 * num_node_state(N_MEMORY))
			continue;
		inject_page_failure(test, fail_points[i]);
		KUNIT_EXPECT_EQ_MSG(test, ldata_create(1024, 16, 32, 0, &sentinel),
				    -ENOMEM, "failing page %d", fail_points[i]);
		KUNIT_EXPECT_PTR_EQ(test, sentinel, (ldata_t)0x5a5a5a5aUL);
		KUNIT_EXPECT_EQ(test, last_event(&seen.create).err, -ENOMEM);
		KUNIT_EXPECT_EQ(test, ldata_nr_pages(), pages);
		KUNIT_EXPECT_EQ(test, ldata_nr_pools(), pools);
		kunit_deactivate_static_stub(test, ldata_alloc_page);
	}
}

/* ===== Placement, exhaustion, reclaim ===== */

/*
 * On each node: elements are cache-line aligned, distinct, zero, backed
 * by the node's pages; the node runs out at its capacity and does not take
 * the other node's elements.
 */
static void test_placement_and_exhaustion(struct kunit *test)
{
	enum { INIT = 8 };
	int nodes[MAX_NUMNODES], n, i, j, k;
	void *elems[INIT + 1];
	ldata_t pool;

	n = need_nodes(test, nodes, ARRAY_SIZE(nodes), 1);
	pool = new_pool(test, 100, INIT, 2 * INIT);
	for (i = 0; i < n; i++) {
		int cpu = node_cpu(nodes[i]);
		struct ldata_node_stats st;
		struct ldata_event ev;

		lw_kunit_reset(&seen);
		KUNIT_ASSERT_EQ(test, alloc_on(cpu, pool, elems, INIT + 1), INIT);
		KUNIT_EXPECT_NULL(test, elems[INIT]);
		/* The NULL, and only it, is an ldata_alloc_fail event. */
		ev = last_event(&seen.alloc_fail);
		KUNIT_EXPECT_EQ(test, ev.seen, 1);
		KUNIT_EXPECT_PTR_EQ(test, ev.pool, (const void *)pool);
		KUNIT_EXPECT_EQ(test, ev.node, nodes[i]);
		KUNIT_EXPECT_EQ(test, ev.caller_node, cpu_to_node(cpu));
		KUNIT_EXPECT_NE(test, ev.call_site, 0UL);
		for (j = 0; j < INIT; j++) {
			u8 *e = elems[j];

			KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)e,
							   SMP_CACHE_BYTES));
			KUNIT_EXPECT_EQ(test, elem_nid(e), nodes[i]);
			KUNIT_EXPECT_EQ(test, elem_nid(e + 127), nodes[i]);
			KUNIT_EXPECT_TRUE(test, !memchr_inv(e, 0, 128));
			for (k = 0; k < j; k++) {
				unsigned long d = abs((long)(e - (u8 *)elems[k]));

				KUNIT_EXPECT_GE(test, d, 128UL);
			}
			memset(e, 0xa5, 100);
		}
		st = stats(test, pool, nodes[i]);
		KUNIT_EXPECT_EQ(test, st.capacity, (long)INIT);
		KUNIT_EXPECT_EQ(test, st.in_use, (long)INIT);
		KUNIT_EXPECT_EQ(test, st.free, 0L);
		KUNIT_EXPECT_EQ(test, st.high_water, (long)INIT);
		KUNIT_EXPECT_EQ(test, st.failed, 1UL);
		/* The other nodes still have all of theirs. */
		for (k = 0; k < n; k++) {
			if (k == i)
				continue;
			KUNIT_EXPECT_EQ(test, stats(test, pool, nodes[k]).free,
					(long)INIT);
			KUNIT_EXPECT_EQ(test, stats(test, pool, nodes[k]).in_use,
					0L);
		}
		free_on(cpu, pool, elems, INIT);
		st = stats(test, pool, nodes[i]);
		KUNIT_EXPECT_EQ(test, st.in_use, 0L);
		KUNIT_EXPECT_EQ(test, st.free, (long)INIT);
	}
}

/* Two CPUs of one node, and a pool whose elements the first one caches. */
struct cached_pool {
	int nid, a, b;
	void **elems;		/* room for RECLAIM_INIT + 1 */
	ldata_t pool;
};

#define RECLAIM_INIT	(2 * LDATA_PCP_MAX)

/*
 * The start of the reclaim cases: a pool of RECLAIM_INIT elements per
 * node, every one of the node allocated and freed on CPU @c->a, so that
 * its cache holds some.  Skips without a second CPU on the node.
 */
static void cached_pool_setup(struct kunit *test, struct cached_pool *c)
{
	int nodes[1];

	need_nodes(test, nodes, ARRAY_SIZE(nodes), 1);
	c->nid = nodes[0];
	c->a = node_cpu(c->nid);
	c->b = cpumask_next_and(c->a, cpumask_of_node(c->nid), cpu_online_mask);
	if (c->b >= nr_cpu_ids)
		kunit_skip(test, "needs two CPUs on node %d", c->nid);
	c->elems = kunit_kcalloc(test, RECLAIM_INIT + 1, sizeof(*c->elems),
				 GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c->elems);
	c->pool = new_pool(test, 64, RECLAIM_INIT, RECLAIM_INIT);

	KUNIT_ASSERT_EQ(test, alloc_on(c->a, c->pool, c->elems, RECLAIM_INIT),
			RECLAIM_INIT);
	free_on(c->a, c->pool, c->elems, RECLAIM_INIT);
	KUNIT_ASSERT_GT(test, stats(test, c->pool, c->nid).cached, 0L);
}

/*
 * Elements cached by one CPU are free: another CPU of the node gets them
 * all before ldata_alloc() returns NULL.
 */
static void test_exhaustion_reclaims_cpu_caches(struct kunit *test)
{
	enum { INIT = RECLAIM_INIT };
	struct cached_pool c;

	cached_pool_setup(test, &c);
	KUNIT_EXPECT_EQ(test, stats(test, c.pool, c.nid).free, (long)INIT);

	KUNIT_EXPECT_EQ(test, alloc_on(c.b, c.pool, c.elems, INIT + 1), INIT);
	KUNIT_EXPECT_EQ(test, stats(test, c.pool, c.nid).in_use, (long)INIT);
	free_on(c.b, c.pool, c.elems, INIT);
}

/*
 * A caller that cannot wait (interrupts off) does not get the elements
 * another CPU caches at once: it gets NULL, and that CPU gives them back
 * by itself (an irq_work) for the next call.
 */
static void test_exhaustion_atomic_asks_cpu_caches(struct kunit *test)
{
	enum { INIT = RECLAIM_INIT };
	struct cached_pool c;
	long cached;
	int got, ms;

	cached_pool_setup(test, &c);
	cached = stats(test, c.pool, c.nid).cached;

	/*
	 * Those not cached by a at least; the rest too only if a's irq_work
	 * ran between the reclaim and its second look at the sub-pool.
	 */
	got = alloc_atomic_on(c.b, c.pool, c.elems, INIT + 1);
	kunit_info(test, "%d of %d at once, %ld cached by CPU %d\n", got, INIT,
		   cached, c.a);
	KUNIT_EXPECT_GE(test, got, INIT - (int)cached);
	KUNIT_EXPECT_LE(test, got, INIT);
	KUNIT_EXPECT_GE(test, stats(test, c.pool, c.nid).failed, 1UL);
	for (ms = 0; ms < 1000 && stats(test, c.pool, c.nid).cached; ms++)
		usleep_range(1000, 2000);
	KUNIT_EXPECT_EQ(test, stats(test, c.pool, c.nid).cached, 0L);
	KUNIT_EXPECT_EQ(test, stats(test, c.pool, c.nid).free,
			(long)(INIT - got));

	KUNIT_EXPECT_EQ(test, alloc_atomic_on(c.b, c.pool, c.elems + got,
					      INIT + 1 - got), INIT - got);
	KUNIT_EXPECT_EQ(test, stats(test, c.pool, c.nid).in_use, (long)INIT);
	free_on(c.b, c.pool, c.elems, INIT);
	KUNIT_EXPECT_EQ(test, stats(test, c.pool, c.nid).in_use, 0L);
}

/* An element freed on another node goes back to the node that owns it. */
static void test_cross_node_free(struct kunit *test)
{
	enum { INIT = 4 };
	void *elems[INIT + 1], *again[INIT + 1];
	int nodes[2], c0, c1, i;
	struct ldata_event ev;
	ldata_t pool;

	need_nodes(test, nodes, ARRAY_SIZE(nodes), 2);
	c0 = node_cpu(nodes[0]);
	c1 = node_cpu(nodes[1]);
	pool = new_pool(test, 64, INIT, INIT);

	KUNIT_ASSERT_EQ(test, alloc_on(c0, pool, elems, INIT), INIT);
	lw_kunit_reset(&seen);
	free_on(c1, pool, elems, 1);
	ev = last_event(&seen.free);
	KUNIT_EXPECT_PTR_EQ(test, ev.elem, (const void *)elems[0]);
	KUNIT_EXPECT_EQ(test, ev.node, nodes[0]);
	KUNIT_EXPECT_EQ(test, ev.caller_node, nodes[1]);
	KUNIT_EXPECT_EQ(test, stats(test, pool, nodes[0]).in_use,
			(long)INIT - 1);
	KUNIT_EXPECT_EQ(test, stats(test, pool, nodes[1]).free, (long)INIT);

	free_on(c1, pool, elems + 1, INIT - 1);
	KUNIT_EXPECT_EQ(test, stats(test, pool, nodes[0]).free, (long)INIT);
	KUNIT_EXPECT_EQ(test, stats(test, pool, nodes[1]).free, (long)INIT);

	/* Node 0 hands them out again, and node 1 still only its own. */
	KUNIT_EXPECT_EQ(test, alloc_on(c0, pool, again, INIT + 1), INIT);
	for (i = 0; i < INIT; i++)
		KUNIT_EXPECT_EQ(test, elem_nid(again[i]), nodes[0]);
	free_on(c0, pool, again, INIT);
}

/* Interrupts disabled, in process context. */
static void test_alloc_irqs_disabled(struct kunit *test)
{
	ldata_t pool = new_pool(test, 64, 2, 2);
	unsigned long flags;
	void *a, *b;

	local_irq_save(flags);
	a = ldata_alloc(pool);
	b = ldata_alloc(pool);
	if (a)
		ldata_free(pool, a);
	if (b)
		ldata_free(pool, b);
	local_irq_restore(flags);
	KUNIT_EXPECT_NOT_NULL(test, a);
	KUNIT_EXPECT_NOT_NULL(test, b);
	KUNIT_EXPECT_PTR_NE(test, a, b);
}

/* ===== ldata_grow() ===== */

static void expect_capacity(struct kunit *test, ldata_t pool, long cap)
{
	int nid;

	for_each_node_state(nid, N_MEMORY)
		KUNIT_EXPECT_EQ(test, stats(test, pool, nid).capacity, cap);
}

static void test_grow_to_maxcount(struct kunit *test)
{
	static const long bad[] = { 0, -1, LONG_MIN, 7, LONG_MAX };
	int nodes[MAX_NUMNODES], n, i;
	void *elems[11];
	ldata_t pool;
	long pages;

	n = need_nodes(test, nodes, ARRAY_SIZE(nodes), 1);
	pool = new_pool(test, 64, 4, 10);
	pages = ldata_nr_pages();
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		lw_kunit_reset(&seen);
		KUNIT_EXPECT_EQ_MSG(test, ldata_grow(pool, bad[i]), -EINVAL,
				    "count %ld", bad[i]);
		KUNIT_EXPECT_EQ(test, last_event(&seen.grow).err, -EINVAL);
		KUNIT_EXPECT_EQ(test, last_event(&seen.grow).capacity, 4L);
	}
	expect_capacity(test, pool, 4);
	KUNIT_EXPECT_EQ(test, ldata_nr_pages(), pages);

	KUNIT_EXPECT_EQ(test, ldata_grow(pool, 6), 0);
	KUNIT_EXPECT_EQ(test, last_event(&seen.grow).capacity, 10L);
	expect_capacity(test, pool, 10);
	KUNIT_EXPECT_EQ(test, ldata_grow(pool, 1), -EINVAL);
	expect_capacity(test, pool, 10);

	for (i = 0; i < n; i++) {
		int cpu = node_cpu(nodes[i]);

		KUNIT_EXPECT_EQ(test, alloc_on(cpu, pool, elems, 11), 10);
		KUNIT_EXPECT_EQ(test, elem_nid(elems[9]), nodes[i]);
		KUNIT_EXPECT_EQ(test, stats(test, pool, nodes[i]).grows, 1UL);
		free_on(cpu, pool, elems, 10);
	}
}

/* A grow that runs out of memory on any node leaves every node as it was. */
static void test_grow_nomem_all_or_nothing(struct kunit *test)
{
	int nr = num_node_state(N_MEMORY), at;
	ldata_t pool;
	long pages;

	/* 1 KiB elements: growing by 8 maps 2 pages on each node. */
	pool = new_pool(test, 1024, 4, 64);
	pages = ldata_nr_pages();
	for (at = 0; at < 2 * nr; at++) {
		inject_page_failure(test, at);
		KUNIT_EXPECT_EQ_MSG(test, ldata_grow(pool, 8), -ENOMEM,
				    "failing page %d", at);
		kunit_deactivate_static_stub(test, ldata_alloc_page);
		KUNIT_EXPECT_EQ(test, last_event(&seen.grow).err, -ENOMEM);
		expect_capacity(test, pool, 4);
		KUNIT_EXPECT_EQ(test, ldata_nr_pages(), pages);
	}
	/* Nothing stayed mapped: the same range maps again. */
	KUNIT_EXPECT_EQ(test, ldata_grow(pool, 8), 0);
	expect_capacity(test, pool, 12);
	KUNIT_EXPECT_EQ(test, ldata_nr_pages(), pages + 2 * nr);
}

/* ===== Refused frees and destroy ===== */

static void expect_misuse(struct kunit *test, ldata_t pool, const void *elem,
			  enum ldata_misuse_kind kind, const void *owner,
			  int node)
{
	struct ldata_event ev = last_event(&seen.misuse);

	KUNIT_EXPECT_EQ(test, ev.seen, 1);
	KUNIT_EXPECT_PTR_EQ(test, ev.pool, (const void *)pool);
	KUNIT_EXPECT_PTR_EQ(test, ev.elem, elem);
	KUNIT_EXPECT_EQ(test, ev.kind, kind);
	KUNIT_EXPECT_EQ(test, ev.count, 1L);
	KUNIT_EXPECT_PTR_EQ(test, ev.owner, owner);
	KUNIT_EXPECT_EQ(test, ev.node, node);
	KUNIT_EXPECT_EQ(test, ev.caller_node, numa_node_id());
	KUNIT_EXPECT_NE(test, ev.call_site, 0UL);
}

/* Free @elem to @pool and expect a refusal of @kind. */
static void refuse(struct kunit *test, ldata_t pool, void *elem,
		   enum ldata_misuse_kind kind, const void *owner, int node)
{
	lw_kunit_reset(&seen);
	ldata_free(pool, elem);
	expect_misuse(test, pool, elem, kind, owner, node);
	KUNIT_EXPECT_EQ(test, last_event(&seen.free).seen, 0);
}

/* Every element of @pool's @nid is still there exactly once. */
static void expect_intact(struct kunit *test, ldata_t pool, int nid, long cap)
{
	void **elems = kunit_kcalloc(test, cap + 1, sizeof(*elems), GFP_KERNEL);
	int cpu = node_cpu(nid), i, j;

	KUNIT_ASSERT_NOT_NULL(test, elems);
	KUNIT_EXPECT_EQ(test, alloc_on(cpu, pool, elems, cap + 1), cap);
	for (i = 0; i < cap; i++)
		for (j = 0; j < i; j++)
			KUNIT_EXPECT_PTR_NE(test, elems[i], elems[j]);
	free_on(cpu, pool, elems, cap);
	KUNIT_EXPECT_EQ(test, stats(test, pool, nid).free, cap);
}

static void test_free_refused(struct kunit *test)
{
	ldata_t pool = new_pool(test, 100, 4, 8);
	ldata_t other = new_pool(test, 100, 4, 8);
	int nid = numa_mem_id();
	void *e, *o, *heap;
	long on_stack;

	heap = kunit_kmalloc(test, 128, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, heap);
	KUNIT_ASSERT_EQ(test, alloc_on(node_cpu(nid), pool, &e, 1), 1);
	KUNIT_ASSERT_EQ(test, alloc_on(node_cpu(nid), other, &o, 1), 1);

	refuse(test, pool, heap, LDATA_MISUSE_FOREIGN_FREE, NULL, NUMA_NO_NODE);
	refuse(test, pool, &on_stack, LDATA_MISUSE_FOREIGN_FREE, NULL,
	       NUMA_NO_NODE);
	refuse(test, pool, e + 1, LDATA_MISUSE_MISALIGNED_FREE, NULL,
	       NUMA_NO_NODE);
	refuse(test, pool, e + 64, LDATA_MISUSE_MISALIGNED_FREE, NULL,
	       NUMA_NO_NODE);
	refuse(test, pool, e + 127, LDATA_MISUSE_MISALIGNED_FREE, NULL,
	       NUMA_NO_NODE);
	/* Past the elements made so far: reserved, not an element. */
	refuse(test, pool, e + 8 * 128, LDATA_MISUSE_FOREIGN_FREE, NULL,
	       NUMA_NO_NODE);
	refuse(test, pool, o, LDATA_MISUSE_WRONG_POOL, other, NUMA_NO_NODE);

	/* NULL is ignored, like kfree(NULL). */
	lw_kunit_reset(&seen);
	ldata_free(pool, NULL);
	KUNIT_EXPECT_EQ(test, last_event(&seen.misuse).seen, 0);
	KUNIT_EXPECT_EQ(test, last_event(&seen.free).seen, 0);

	ldata_free(pool, e);
	ldata_free(other, o);
	refuse(test, pool, e, LDATA_MISUSE_DOUBLE_FREE, NULL, nid);
	expect_intact(test, pool, nid, 4);
	expect_intact(test, other, nid, 4);
}

/*
 * The double-free check in each of its forms: plain loads and stores or
 * CONFIG_LDATA_DEBUG's cmpxchg() (ldata_set_debug()), and ldata_free()'s
 * inline path (no ldata_free probe) or its out-of-line one (the suite's
 * probe on).
 */
struct check_mode {
	const char *desc;
	bool debug;
	bool traced;
};

static const struct check_mode check_modes[] = {
	{ "plain check, ldata_free untraced", false, false },
	{ "plain check, ldata_free traced", false, true },
	{ "LDATA_DEBUG check, ldata_free untraced", true, false },
	{ "LDATA_DEBUG check, ldata_free traced", true, true },
};

static void check_mode_desc(const struct check_mode *m, char *desc)
{
	strscpy(desc, m->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(check_mode, check_modes, check_mode_desc);

static void restore_debug(void *was)
{
	ldata_set_debug(!!was);
}

static void retrace_free(void *unused)
{
	WARN_ON(tracepoint_probe_register(&__tracepoint_ldata_free,
					  probe_free, NULL));
}

/* Run the rest of @test in the mode of its parameter; undone after it. */
static void use_check_mode(struct kunit *test)
{
	const struct check_mode *m = test->param_value;
	bool was = ldata_set_debug(m->debug);

	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, restore_debug,
							(void *)(uintptr_t)was),
			0);
	if (m->traced)
		return;
	KUNIT_ASSERT_EQ(test, tracepoint_probe_unregister(&__tracepoint_ldata_free,
							  probe_free, NULL), 0);
	tracepoint_synchronize_unregister();
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, retrace_free,
							NULL), 0);
}

static bool misuse_probe_off;

static void misuse_probe_set(bool on)
{
	if (on == !misuse_probe_off)
		return;
	if (on) {
		WARN_ON(tracepoint_probe_register(&__tracepoint_ldata_misuse,
						  probe_misuse, NULL));
	} else {
		tracepoint_probe_unregister(&__tracepoint_ldata_misuse,
					    probe_misuse, NULL);
		tracepoint_synchronize_unregister();
	}
	misuse_probe_off = !on;
}

static void misuse_probe_restore(void *unused)
{
	misuse_probe_set(true);
}

/*
 * The double-free check is on only while something listens to
 * ldata_misuse (here: the suite's probe) or CONFIG_LDATA_DEBUG is on, in a
 * new generation each time.  An element whose state is from an older
 * generation is freed without a false report: those allocated while the
 * check was off, also when the generations have come round to the one
 * that saw them freed last.  The check works in the new generation.
 */
static void test_double_free_check_generations(struct kunit *test)
{
	enum { M = 8 };
	int nodes[1], nid, cpu, i;
	void *elems[M + 1];
	bool was;
	ldata_t pool;

	need_nodes(test, nodes, ARRAY_SIZE(nodes), 1);
	nid = nodes[0];
	cpu = node_cpu(nid);
	was = ldata_set_debug(false);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, restore_debug,
							(void *)(uintptr_t)was),
			0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							misuse_probe_restore,
							NULL), 0);
	pool = new_pool(test, 64, M, M);
	/* Freed in this generation, then allocated with the check off. */
	KUNIT_ASSERT_EQ(test, alloc_on(cpu, pool, elems, M), M);
	free_on(cpu, pool, elems, M);
	misuse_probe_set(false);
	KUNIT_ASSERT_EQ(test, alloc_on(cpu, pool, elems, M + 1), M);
	/* On and off until the generation is that one again, then on. */
	for (i = 0; i < LDATA_GEN_MAX - 1; i++) {
		ldata_set_debug(true);
		ldata_set_debug(false);
	}
	misuse_probe_set(true);
	lw_kunit_reset(&seen);
	free_on(cpu, pool, elems, M);
	KUNIT_EXPECT_EQ(test, last_event(&seen.misuse).seen, 0);
	KUNIT_EXPECT_EQ(test, stats(test, pool, nid).free, (long)M);
	refuse(test, pool, elems[M - 1], LDATA_MISUSE_DOUBLE_FREE, NULL, nid);

	/* Allocated with the check off, freed with it on: no report. */
	misuse_probe_set(false);
	KUNIT_ASSERT_EQ(test, alloc_on(cpu, pool, elems, M), M);
	misuse_probe_set(true);
	lw_kunit_reset(&seen);
	free_on(cpu, pool, elems, M);
	KUNIT_EXPECT_EQ(test, last_event(&seen.misuse).seen, 0);
	refuse(test, pool, elems[0], LDATA_MISUSE_DOUBLE_FREE, NULL, nid);
	expect_intact(test, pool, nid, M);
}

/*
 * A double free of an element that sits in the node, in a CPU cache, and
 * in another CPU's batch of another node's frees: refused at once, with
 * the element, on any configuration; the pool is intact after.
 */
static void test_double_free_refused(struct kunit *test)
{
	enum { INIT = 2 * LDATA_PCP_MAX };
	int nodes[2], n, nid;
	void **elems;
	long cached;
	ldata_t pool;

	n = need_nodes(test, nodes, ARRAY_SIZE(nodes), 1);
	nid = nodes[0];
	use_check_mode(test);
	elems = kunit_kcalloc(test, INIT, sizeof(*elems), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, elems);
	pool = new_pool(test, 64, INIT, INIT);
	KUNIT_ASSERT_EQ(test, alloc_on(node_cpu(nid), pool, elems, INIT), INIT);
	free_on(node_cpu(nid), pool, elems, INIT);
	/* The first ones went to the node when the cache drained. */
	refuse(test, pool, elems[0], LDATA_MISUSE_DOUBLE_FREE, NULL, nid);
	refuse(test, pool, elems[INIT - 1], LDATA_MISUSE_DOUBLE_FREE, NULL,
	       nid);
	expect_intact(test, pool, nid, INIT);
	if (n < 2)
		return;
	/* One of node 1 freed on node 0 waits in that CPU's batch. */
	KUNIT_ASSERT_EQ(test, alloc_on(node_cpu(nodes[1]), pool, elems, 1), 1);
	cached = stats(test, pool, nodes[1]).cached;
	free_on(node_cpu(nid), pool, elems, 1);
	KUNIT_EXPECT_EQ(test, stats(test, pool, nodes[1]).cached, cached + 1);
	refuse(test, pool, elems[0], LDATA_MISUSE_DOUBLE_FREE, NULL, nodes[1]);
	ldata_drain_caches(pool);
	expect_intact(test, pool, nodes[1], INIT);
}

struct unchecked {
	ldata_t pool;
	void *elem;
	int n;
};

static long unchecked_free_fn(void *arg)
{
	struct unchecked *u = arg;
	int i;

	for (i = 0; i < u->n; i++)
		ldata_free_unchecked(u->pool, u->elem);
	return 0;
}

/*
 * A double free past the state check, as when two frees of one element race
 * on two CPUs (ldata_free_unchecked() frees as such a free does), of an
 * element whose sub-pool has every element back: its stack of free
 * indices is full.  Freed on the other node, the element waits with that
 * CPU's other frees of the node until they go back together; then it must
 * not be written past the stack: it is refused, reported as a double free
 * (the count of those refused, from the cache: no element) and warned
 * about once, and the sub-pool still holds each of its elements exactly
 * once.  Runs on any configuration.
 */
static void test_double_free_full_subpool(struct kunit *test)
{
	enum { INIT = 2 * LDATA_PCP_MAX, TWICE = 3 };
	struct unchecked u = { .n = TWICE };
	int nodes[2], c0, c1;
	struct ldata_event ev;
	void **elems;

	need_nodes(test, nodes, ARRAY_SIZE(nodes), 2);
	c0 = node_cpu(nodes[0]);
	c1 = node_cpu(nodes[1]);
	elems = kunit_kcalloc(test, INIT, sizeof(*elems), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, elems);
	u.pool = new_pool(test, 64, INIT, INIT);
	/* Every element of node 1 out, its sub-pool and c1's cache empty... */
	KUNIT_ASSERT_EQ(test, alloc_on(c1, u.pool, elems, INIT), INIT);
	/* ... and back from the other node, then all in the sub-pool. */
	free_on(c0, u.pool, elems, INIT);
	KUNIT_EXPECT_EQ(test, stats(test, u.pool, nodes[1]).free, (long)INIT);
	ldata_drain_caches(u.pool);
	KUNIT_EXPECT_EQ(test, stats(test, u.pool, nodes[1]).cached, 0L);
	KUNIT_EXPECT_EQ(test, stats(test, u.pool, nodes[1]).free, (long)INIT);

	lw_kunit_reset(&seen);
	u.elem = elems[0];
	work_on_cpu(c0, unchecked_free_fn, &u);
	KUNIT_EXPECT_EQ(test, stats(test, u.pool, nodes[1]).cached, (long)TWICE);
	ldata_drain_caches(u.pool);
	ev = last_event(&seen.misuse);
	KUNIT_EXPECT_EQ(test, ev.seen, 1);
	KUNIT_EXPECT_EQ(test, ev.kind, LDATA_MISUSE_DOUBLE_FREE);
	KUNIT_EXPECT_PTR_EQ(test, ev.pool, (const void *)u.pool);
	KUNIT_EXPECT_NULL(test, ev.elem);
	KUNIT_EXPECT_EQ(test, ev.count, (long)TWICE);
	KUNIT_EXPECT_EQ(test, ev.node, nodes[1]);
	KUNIT_EXPECT_EQ(test, stats(test, u.pool, nodes[1]).free, (long)INIT);
	KUNIT_EXPECT_EQ(test, stats(test, u.pool, nodes[1]).in_use, 0L);
	expect_intact(test, u.pool, nodes[1], INIT);
}

static void test_destroy_with_live_elements(struct kunit *test)
{
	long pages = ldata_nr_pages();
	int pools = ldata_nr_pools();
	int nodes[2], n, i;
	void *elems[3];
	struct ldata_event ev;
	ldata_t pool;

	n = need_nodes(test, nodes, ARRAY_SIZE(nodes), 1);
	pool = new_pool(test, 64, 4, 4);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, alloc_on(node_cpu(nodes[i]), pool, elems,
					       3 - i), 3 - i);
	lw_kunit_reset(&seen);
	end_pool(test, pool);

	ev = last_event(&seen.destroy);
	KUNIT_EXPECT_EQ(test, ev.seen, 1);
	KUNIT_EXPECT_PTR_EQ(test, ev.pool, (const void *)pool);
	KUNIT_EXPECT_EQ(test, ev.count, n == 2 ? 5L : 3L);
	ev = last_event(&seen.misuse);
	KUNIT_EXPECT_EQ(test, ev.seen, 1);
	KUNIT_EXPECT_EQ(test, ev.kind, LDATA_MISUSE_DESTROY_LIVE);
	KUNIT_EXPECT_EQ(test, ev.count, n == 2 ? 5L : 3L);
	KUNIT_EXPECT_EQ(test, ldata_nr_pages(), pages);
	KUNIT_EXPECT_EQ(test, ldata_nr_pools(), pools);

	/* A clean destroy reports nothing. */
	pool = new_pool(test, 64, 4, 4);
	lw_kunit_reset(&seen);
	end_pool(test, pool);
	KUNIT_EXPECT_EQ(test, last_event(&seen.destroy).count, 0L);
	KUNIT_EXPECT_EQ(test, last_event(&seen.misuse).seen, 0);
}

/* ===== Statistics in debugfs ===== */

static void put_mnt(void *mnt)
{
	mntput(mnt);
}

/* Read /sys/kernel/debug/ldata/@id into @buf through a private mount. */
static ssize_t read_stats(struct kunit *test, unsigned int id, char *buf,
			  size_t size)
{
	struct file_system_type *type = get_fs_type("debugfs");
	struct vfsmount *mnt;
	struct file *file;
	unsigned long ubuf;
	char path[32];
	loff_t pos = 0;
	ssize_t n;

	if (!type)
		kunit_skip(test, "no debugfs");
	mnt = vfs_kern_mount(type, 0, "debugfs", NULL);
	put_filesystem(type);
	KUNIT_ASSERT_FALSE(test, IS_ERR(mnt));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, put_mnt, mnt), 0);
	snprintf(path, sizeof(path), "ldata/%u", id);
	file = file_open_root_mnt(mnt, path, O_RDONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	/* debugfs files have no read_iter, so no kernel_read(): a user buffer. */
	ubuf = kunit_vm_mmap(test, NULL, 0, size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_NE(test, ubuf, 0UL);
	n = vfs_read(file, (char __user *)ubuf, size - 1, &pos);
	fput(file);
	if (n >= 0 && copy_from_user(buf, (char __user *)ubuf, n))
		n = -EFAULT;
	if (n >= 0)
		buf[n] = 0;
	return n;
}

#define STATS_HEADER "node capacity in_use free cached high_water failed grows"

static void test_debugfs_stats(struct kunit *test)
{
	int nodes[1], cpu, nid;
	char *buf, line[96];
	void *elems[4];
	unsigned int id;
	ldata_t pool;

	need_nodes(test, nodes, ARRAY_SIZE(nodes), 1);
	nid = nodes[0];
	cpu = node_cpu(nid);
	buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	pool = new_pool(test, 100, 4, 16);
	id = last_event(&seen.create).id;

	KUNIT_ASSERT_EQ(test, alloc_on(cpu, pool, elems, 4), 4);
	free_on(cpu, pool, elems, 1);
	KUNIT_EXPECT_EQ(test, alloc_on(cpu, pool, elems, 2), 1);
	KUNIT_EXPECT_EQ(test, ldata_grow(pool, 4), 0);
	KUNIT_ASSERT_GT(test, read_stats(test, id, buf, PAGE_SIZE), 0);
	kunit_info(test, "%s", buf);

	snprintf(line, sizeof(line), "id %u size 100 stride 128 maxcount 16 kkey 0 creator ",
		 id);
	KUNIT_EXPECT_TRUE(test, strstr(buf, line) == buf);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "\n" STATS_HEADER "\n"));
	/* 8 made, 4 in use, 1 failed allocation, 1 grow. */
	snprintf(line, sizeof(line), "\n%d 8 4 4 %ld 4 1 1\n", nid,
		 stats(test, pool, nid).cached);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(buf, line), "want \"%s\"", line + 1);
	free_on(cpu, pool, elems, 4);

	/* The file goes with the pool. */
	end_pool(test, pool);
	KUNIT_EXPECT_EQ(test, read_stats(test, id, buf, PAGE_SIZE), (ssize_t)-ENOENT);
}

/* ===== Hard interrupts racing threads on every CPU ===== */

/*
 * Every holder stamps the first word of an element it gets with a tag
 * unique to that allocation, by cmpxchg from 0, and clears it by cmpxchg
 * back when it frees it: an element handed out twice, or freed by someone
 * who does not hold it, breaks one of the two.  Threads hand some elements
 * to each other through a shared exchange so that they are freed on other
 * CPUs and nodes; an hrtimer on each thread's CPU allocates and frees in
 * hard interrupt context meanwhile.
 */
#define HOLD		8
#define XCHG_SLOTS	16
#define TIMER_NS	50000
#define IRQ_OPS		4	/* allocations or frees per timer interrupt */
#define RUN_MS		500

struct holder {
	void *elem[HOLD];
	unsigned long tag[HOLD];
	int n;
};

struct race;

struct racer {
	struct race *race;
	struct task_struct *task;
	struct hrtimer timer;
	struct holder thread, irq;
	unsigned long id;
	long irq_allocs;
	long allocs;
};

struct race {
	ldata_t pool;
	atomic_long_t seq;
	atomic_long_t bad;
	atomic_long_t nulls;
	void *xchg[XCHG_SLOTS];
	struct racer *racers;
	int nthreads;
	bool stop;
};

static bool hold(struct race *r, struct holder *h, unsigned long id)
{
	void *e = ldata_alloc(r->pool);
	unsigned long tag;

	if (!e) {
		atomic_long_inc(&r->nulls);
		return false;
	}
	tag = (id << 40) | atomic_long_inc_return(&r->seq);
	if (cmpxchg((unsigned long *)e, 0UL, tag) != 0)
		atomic_long_inc(&r->bad);
	h->elem[h->n] = e;
	h->tag[h->n++] = tag;
	return true;
}

/* Release the holder's element @i: clear the stamp, then free or pass. */
static void *unstamp(struct race *r, struct holder *h, int i)
{
	void *e = h->elem[i];

	if (cmpxchg((unsigned long *)e, h->tag[i], 0UL) != h->tag[i])
		atomic_long_inc(&r->bad);
	h->elem[i] = h->elem[--h->n];
	h->tag[i] = h->tag[h->n];
	return e;
}

static void release(struct race *r, struct holder *h, int i)
{
	ldata_free(r->pool, unstamp(r, h, i));
}

static enum hrtimer_restart race_timer_fn(struct hrtimer *t)
{
	struct racer *me = container_of(t, struct racer, timer);
	struct race *r = me->race;
	void *e;
	int i;

	for (i = 0; i < IRQ_OPS; i++) {
		if (me->irq.n == HOLD ||
		    (me->irq.n && (get_random_u32() & 1)))
			release(r, &me->irq, get_random_u32_below(me->irq.n));
		else if (hold(r, &me->irq, me->id | 0x80))
			me->irq_allocs++;
	}
	/* Free what another CPU passed on, in interrupt context. */
	e = xchg(&r->xchg[get_random_u32_below(XCHG_SLOTS)], NULL);
	if (e)
		ldata_free(r->pool, e);
	if (READ_ONCE(r->stop))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(TIMER_NS));
	return HRTIMER_RESTART;
}

static int race_thread_fn(void *arg)
{
	struct racer *me = arg;
	struct race *r = me->race;
	struct holder *h = &me->thread;
	void *e;

	hrtimer_start(&me->timer, ns_to_ktime(TIMER_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
	while (!READ_ONCE(r->stop)) {
		u32 op = get_random_u32_below(8);

		if (op < 4 && h->n < HOLD) {
			me->allocs += hold(r, h, me->id);
		} else if (op < 7 && h->n) {
			release(r, h, get_random_u32_below(h->n));
		} else if (h->n) {
			/* Pass one on; free whatever was in the slot. */
			e = unstamp(r, h, get_random_u32_below(h->n));
			e = xchg(&r->xchg[get_random_u32_below(XCHG_SLOTS)], e);
			if (e)
				ldata_free(r->pool, e);
		}
		cond_resched();
	}
	hrtimer_cancel(&me->timer);
	while (h->n)
		release(r, h, 0);
	while (me->irq.n)
		release(r, &me->irq, 0);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static void stop_racers(struct race *r)
{
	int i;

	WRITE_ONCE(r->stop, true);
	for (i = 0; i < r->nthreads; i++)
		if (r->racers[i].task)
			kthread_stop(r->racers[i].task);
	for (i = 0; i < XCHG_SLOTS; i++)
		ldata_free(r->pool, xchg(&r->xchg[i], NULL));
}

static void test_hardirq_races_threads(struct kunit *test)
{
	int nthreads = lw_kunit_nthreads(test), i, cpu, nid;
	long allocs = 0, irq_allocs = 0;
	struct race *r;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->racers = kunit_kcalloc(test, nthreads, sizeof(*r->racers),
				  GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r->racers);
	/* Few enough elements that nodes run dry and caches get reclaimed. */
	r->pool = new_pool(test, 64, 24, 24);
	r->nthreads = nthreads;

	cpu = cpumask_first(cpu_online_mask);
	for (i = 0; i < nthreads; i++) {
		struct racer *me = &r->racers[i];

		me->race = r;
		me->id = i + 1;
		hrtimer_init(&me->timer, CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL_PINNED_HARD);
		me->timer.function = race_timer_fn;
		me->task = kthread_create(race_thread_fn, me, "ldata_race/%d",
					  i);
		if (IS_ERR(me->task)) {
			me->task = NULL;
			stop_racers(r);
			KUNIT_FAIL(test, "kthread_create failed");
			return;
		}
		kthread_bind(me->task, cpu);
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
	}
	for (i = 0; i < nthreads; i++)
		wake_up_process(r->racers[i].task);
	msleep(RUN_MS);
	stop_racers(r);

	for (i = 0; i < nthreads; i++) {
		allocs += r->racers[i].allocs;
		irq_allocs += r->racers[i].irq_allocs;
	}
	kunit_info(test, "%ld thread and %ld hardirq allocations, %ld NULL\n",
		   allocs, irq_allocs, atomic_long_read(&r->nulls));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&r->bad), 0L);
	KUNIT_EXPECT_GT(test, allocs, 0L);
	KUNIT_EXPECT_GT(test, irq_allocs, 0L);
	for_each_node_state(nid, N_MEMORY) {
		struct ldata_node_stats st = stats(test, r->pool, nid);

		KUNIT_EXPECT_EQ(test, st.in_use, 0L);
		KUNIT_EXPECT_EQ(test, st.free, st.capacity);
		if (node_cpu(nid) >= 0)
			expect_intact(test, r->pool, nid, st.capacity);
	}
}

static struct kunit_case ldata_test_cases[] = {
	KUNIT_CASE(test_create_invalid),
	KUNIT_CASE(test_create_limits),
	KUNIT_CASE(test_kkey_range),
	KUNIT_CASE(test_create_nomem),
	KUNIT_CASE(test_placement_and_exhaustion),
	KUNIT_CASE(test_exhaustion_reclaims_cpu_caches),
	KUNIT_CASE(test_exhaustion_atomic_asks_cpu_caches),
	KUNIT_CASE(test_cross_node_free),
	KUNIT_CASE(test_alloc_irqs_disabled),
	KUNIT_CASE(test_grow_to_maxcount),
	KUNIT_CASE(test_grow_nomem_all_or_nothing),
	KUNIT_CASE(test_free_refused),
	KUNIT_CASE_PARAM(test_double_free_refused, check_mode_gen_params),
	KUNIT_CASE(test_double_free_check_generations),
	KUNIT_CASE(test_double_free_full_subpool),
	KUNIT_CASE(test_destroy_with_live_elements),
	KUNIT_CASE(test_debugfs_stats),
	KUNIT_CASE_PARAM(test_hardirq_races_threads,
			 lw_kunit_nthreads_gen_params),
	{}
};

static int ldata_test_init(struct kunit *test)
{
	lw_kunit_reset(&seen);
	return 0;
}

static int ldata_suite_init(struct kunit_suite *suite)
{
	return lw_kunit_register_probes(ldata_probes, ARRAY_SIZE(ldata_probes));
}

static void ldata_suite_exit(struct kunit_suite *suite)
{
	lw_kunit_unregister_probes(ldata_probes, ARRAY_SIZE(ldata_probes));
}

static struct kunit_suite ldata_test_suite = {
	.name = "ldata",
	.test_cases = ldata_test_cases,
	.init = ldata_test_init,
	.suite_init = ldata_suite_init,
	.suite_exit = ldata_suite_exit,
};

/*
 * ===== Topology: memoryless nodes and CPU hotplug =====
 *
 * make test boots the kernel a second time, with a third NUMA node that
 * has CPUs and no memory, and runs this suite there; in the two-node boot
 * the memoryless case skips.
 */

/* A node with an online CPU and no memory, or NUMA_NO_NODE. */
static int memoryless_node(void)
{
	int nid;

	for_each_online_node(nid)
		if (!node_state(nid, N_MEMORY) && node_cpu(nid) >= 0)
			return nid;
	return NUMA_NO_NODE;
}

/*
 * A CPU of a node without memory allocates from the nearest node that has
 * some, as numa_mem_id() would on an architecture that tracks it.
 */
static void test_memoryless_node_allocates_nearby(struct kunit *test)
{
	int nid = memoryless_node(), best = NUMA_NO_NODE, n;
	ldata_t pool;
	void *e;

	if (nid == NUMA_NO_NODE)
		kunit_skip(test, "needs a node with CPUs and no memory");
	for_each_node_state(n, N_MEMORY)
		if (best == NUMA_NO_NODE ||
		    node_distance(nid, n) < node_distance(nid, best))
			best = n;
	pool = new_pool(test, 64, 4, 4);
	KUNIT_ASSERT_EQ(test, alloc_on(node_cpu(nid), pool, &e, 1), 1);
	KUNIT_EXPECT_EQ(test, elem_nid(e), best);
	KUNIT_EXPECT_EQ(test, stats(test, pool, best).in_use, 1L);
	free_on(node_cpu(nid), pool, &e, 1);
	KUNIT_EXPECT_EQ(test, stats(test, pool, best).in_use, 0L);
}

/* A hotpluggable online CPU of a node with memory, not the current one. */
static int hotplug_cpu(int *nid)
{
	int cpu;

	for_each_online_cpu(cpu) {
		if (cpu == raw_smp_processor_id() || !cpu_is_hotpluggable(cpu))
			continue;
		*nid = cpu_to_node(cpu);
		if (node_state(*nid, N_MEMORY))
			return cpu;
	}
	return -1;
}

/*
 * A CPU going offline gives back what its cache holds; once online again it
 * allocates from its node, as before.
 */
static void test_cpu_offline_drains_cache(struct kunit *test)
{
	enum { INIT = 8 };
	void *elems[INIT];
	int cpu, nid;
	ldata_t pool;

	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU))
		kunit_skip(test, "needs CONFIG_HOTPLUG_CPU");
	cpu = hotplug_cpu(&nid);
	if (cpu < 0)
		kunit_skip(test, "needs a second, hotpluggable CPU");
	pool = new_pool(test, 64, INIT, INIT);
	KUNIT_ASSERT_EQ(test, alloc_on(cpu, pool, elems, INIT), INIT);
	free_on(cpu, pool, elems, INIT);
	KUNIT_ASSERT_GT(test, stats(test, pool, nid).cached, 0L);

	KUNIT_ASSERT_EQ(test, remove_cpu(cpu), 0);
	KUNIT_EXPECT_EQ(test, stats(test, pool, nid).cached, 0L);
	KUNIT_EXPECT_EQ(test, stats(test, pool, nid).free, (long)INIT);
	KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);

	KUNIT_EXPECT_EQ(test, alloc_on(cpu, pool, elems, 1), 1);
	KUNIT_EXPECT_EQ(test, elem_nid(elems[0]), nid);
	free_on(cpu, pool, elems, 1);
	expect_intact(test, pool, nid, INIT);
}

static struct kunit_case ldata_topology_cases[] = {
	KUNIT_CASE(test_memoryless_node_allocates_nearby),
	KUNIT_CASE(test_cpu_offline_drains_cache),
	{}
};

static struct kunit_suite ldata_topology_suite = {
	.name = "ldata_topology",
	.test_cases = ldata_topology_cases,
	.init = ldata_test_init,
	.suite_init = ldata_suite_init,
	.suite_exit = ldata_suite_exit,
};

kunit_test_suites(&ldata_test_suite, &ldata_topology_suite);

MODULE_DESCRIPTION("KUnit tests for ldata pools");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
