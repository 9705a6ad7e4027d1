// SPDX-License-Identifier: GPL-2.0
/*
 * ldata_bench: ldata pools measured against kmem_cache and objpool.
 *
 * Not a test but a KUnit suite of slow cases that measures, in one run of
 * whatever kernel it is built into, ldata_alloc() + ldata_free() side by
 * side with the two in-tree allocators a caller would otherwise use, and
 * prints ldata's ratio to each.  Build it into a production kernel
 * (kunit/bench.kunitconfig, "make bench"): under KASAN, lockdep or
 * CONFIG_LDATA_DEBUG it measures the checkers.  No case asserts a timing.
 * A case fails only when setup fails or an allocator returns NULL, which
 * every pool here is sized never to do: a NULL is a bug of the benchmark
 * or of the allocator.
 *
 * What, for objects of 64 and 256 bytes:
 *  - ldata: ldata_alloc()/ldata_free() on a pool with enough elements
 *    per node that it never runs dry;
 *  - kmem_cache: kmem_cache_alloc(GFP_KERNEL)/kmem_cache_free() on a cache
 *    of its own (SLAB_NO_MERGE) of the same size, SLAB_HWCACHE_ALIGN;
 *  - objpool: objpool_pop()/objpool_push() on a pool of
 *    bench_objpool_count() objects of the same size;
 *  - kmem_nowait: kmem_cache with GFP_NOWAIT, like for like with
 *    ldata_alloc(), which never sleeps.
 *
 * bench_single_thread: ns per alloc+free pair on one CPU, bulk 1 (alloc,
 *	free) and bulk 16 (16 allocations, then 16 frees), and ldata's
 *	ratios to kmem_cache and to objpool.
 * bench_scaling: the same loops in T threads, one per CPU, for T = 1 to
 *	every online CPU, CPUs taken node by node so that the first ones
 *	share a node: ns per pair per thread (the mean over the threads),
 *	aggregate throughput (the sum of the threads' rates) and
 *	scaling = throughput(T) / (T * throughput(1)).
 * bench_touched: bench_single_thread with every object written in full
 *	(memset()) after its allocation, as its user would: what the pair
 *	costs once the object's memory is touched (ldata's elements live in
 *	vmalloc space, mapped with 4 KiB pages; slab objects in the direct
 *	map).
 * bench_cross_node_free: ns per free of BENCH_XNODE objects allocated by
 *	the first CPU of the first node, freed by that CPU, by another CPU
 *	of its node and by a CPU of another node; ldata and, for reference,
 *	kmem_cache.
 * bench_producer_consumer: the same at once: the first CPU allocates
 *	objects and hands each through a ring of BENCH_RING slots to another
 *	CPU of its node or of another node, which frees it, both running
 *	for the window: ns per object passed, for ldata, kmem_cache and
 *	objpool.
 * bench_summary: each target and its verdict, then every number above as
 *	a "result NAME VALUE" line between "BEGIN RESULTS" and "END RESULTS".
 *
 * How: every measuring thread is a kthread bound to its CPU.  The threads of
 * one measurement warm up (one untimed chunk, which fills the per-CPU
 * caches and slabs they will use), meet at a barrier, then run chunks of
 * BENCH_CHUNK pairs until BENCH_WINDOW_NS after the barrier opened, reading
 * ktime_get_ns() once per chunk and calling cond_resched() between chunks.
 * A thread's cost is its elapsed time over its pairs.  A cross-node run
 * times one pass over its objects instead.  Each measurement is repeated
 * (BENCH_REPS, BENCH_XNODE_REPS) with the allocators interleaved within
 * each repetition, so that drift on the host hits all of them alike; a
 * time is the median over the repetitions, a ratio the median of the
 * repetitions' ratios, shown with the lowest and highest.  Every line of
 * output starts with "ldata_bench: ".
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/ldata.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/objpool.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/seq_buf.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/topology.h>
#include <linux/vmalloc.h>

#define BENCH_REPS		7
#define BENCH_WINDOW_MS		100
#define BENCH_WINDOW_NS		(BENCH_WINDOW_MS * NSEC_PER_MSEC)
#define BENCH_CHUNK		4096	/* pairs between two clock reads */
#define BENCH_BULK_MAX		16
#define BENCH_XNODE		65536	/* objects of one cross-node run */
#define BENCH_XNODE_REPS	15	/* short runs: more repetitions */
#define BENCH_XNODE_SIZE	64
#define BENCH_MAX_POINTS	16	/* thread counts in bench_scaling */
#define BENCH_LINE		200
#define BENCH_RING		256	/* objects in flight, producer/consumer */
#define BENCH_TAG		"ldata_bench: "

enum bench_kind {
	BENCH_LDATA,
	BENCH_KMEM,
	BENCH_OBJPOOL,
	BENCH_KMEM_NOWAIT,
	BENCH_NR_KINDS
};

static const char * const bench_kind_name[BENCH_NR_KINDS] = {
	[BENCH_LDATA] = "ldata",
	[BENCH_KMEM] = "kmem_cache",
	[BENCH_OBJPOOL] = "objpool",
	[BENCH_KMEM_NOWAIT] = "kmem_nowait",
};

/* ldata's ratios: to every other kind, kind k + 1 at index k. */
#define BENCH_NR_RATIOS	(BENCH_NR_KINDS - 1)

static const unsigned int bench_sizes[] = { 64, 256 };
static const unsigned int bench_bulks[] = { 1, BENCH_BULK_MAX };

#define BENCH_NR_SIZES	ARRAY_SIZE(bench_sizes)
#define BENCH_NR_BULKS	ARRAY_SIZE(bench_bulks)

/* Where a cross-node run frees what the first CPU allocated. */
enum bench_freer {
	BENCH_SAME_CPU,
	BENCH_SAME_NODE,
	BENCH_OTHER_NODE,
	BENCH_NR_FREERS
};

static const char * const bench_freer_name[BENCH_NR_FREERS] = {
	[BENCH_SAME_CPU] = "same_cpu",
	[BENCH_SAME_NODE] = "same_node",
	[BENCH_OTHER_NODE] = "other_node",
};

/* A measurement repeated BENCH_REPS times. */
struct bench_stat {
	u64 med, min, max;
};

/* One point of bench_scaling. */
struct bench_point {
	u64 ps;			/* median ps per pair per thread */
	u64 pps;		/* median pairs per second, all threads */
	struct bench_stat scaling;	/* of the repetitions, thousandths */
};

/*
 * The machine, found by suite_init, and every result, kept for
 * bench_summary; the cases run one after the other, never concurrently.
 */
static struct {
	int *cpus;		/* online CPUs, node by node */
	int nr_cpus;
	int node_cpus;		/* how many of them share cpus[0]'s node */
	int threads[BENCH_MAX_POINTS];	/* thread counts of bench_scaling */
	int nr_points;
	u64 clock_ns;		/* cost of one ktime_get_ns() */

	bool have_single;
	/* ps per pair; ldata's ratio to each other kind */
	struct bench_stat single[BENCH_NR_SIZES][BENCH_NR_BULKS][BENCH_NR_KINDS];
	struct bench_stat single_ratio[BENCH_NR_SIZES][BENCH_NR_BULKS]
				      [BENCH_NR_RATIOS];
	bool have_scaling;
	struct bench_point scaling[BENCH_NR_SIZES][BENCH_NR_BULKS]
				  [BENCH_MAX_POINTS][BENCH_NR_KINDS];
	bool have_touched;
	struct bench_stat touched[BENCH_NR_SIZES][BENCH_NR_BULKS][BENCH_NR_KINDS];
	struct bench_stat touched_ratio[BENCH_NR_SIZES][BENCH_NR_BULKS]
				       [BENCH_NR_RATIOS];
	bool have_pc;
	/* ps per object passed; ldata's ratio to the others; other/same node */
	struct bench_stat pc[BENCH_NR_FREERS][BENCH_NR_KINDS];
	struct bench_stat pc_ratio[BENCH_NR_FREERS][BENCH_NR_RATIOS];
	struct bench_stat pc_node_ratio[BENCH_NR_KINDS];
	bool have_xnode;
	int xnode_cpu[BENCH_NR_FREERS];	/* -1: no such CPU */
	int xnode_local;		/* the freer to compare other_node to */
	struct bench_stat xnode_alloc[BENCH_NR_KINDS];	/* ps per alloc */
	struct bench_stat xnode[BENCH_NR_FREERS][BENCH_NR_KINDS]; /* per free */
	struct bench_stat xnode_ratio[BENCH_NR_KINDS];	/* other/local */
} bench;

/* ===== The allocators under test ===== */

struct bench_pools {
	unsigned int size;
	ldata_t ldata;
	struct kmem_cache *cache;
	struct objpool_head objpool;
	bool have_objpool;
};

/* Every CPU's cache and bulk fit in each sub-pool, with @extra more. */
static long bench_pool_count(long extra)
{
	return extra + 64L * num_possible_cpus();
}

/* objpool spreads its objects over the CPUs: each must have a bulk. */
static int bench_objpool_count(void)
{
	return max(4096, 32 * (int)num_possible_cpus());
}

static void bench_pools_release(void *data)
{
	struct bench_pools *p = data;

	if (p->have_objpool)
		objpool_fini(&p->objpool);
	kmem_cache_destroy(p->cache);
	if (p->ldata)
		ldata_destroy(p->ldata);
}

static struct bench_pools *bench_pools_create(struct kunit *test,
					      unsigned int size, long extra)
{
	struct bench_pools *p;
	char name[32];

	p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	p->size = size;
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, bench_pools_release, p),
			0);
	KUNIT_ASSERT_EQ(test, ldata_create(size, bench_pool_count(extra),
					   bench_pool_count(extra), 0,
					   &p->ldata), 0);
	snprintf(name, sizeof(name), "ldata_bench_%u", size);
	p->cache = kmem_cache_create(name, size, 0,
				     SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p->cache);
	KUNIT_ASSERT_EQ(test, objpool_init(&p->objpool, bench_objpool_count(),
					   size, GFP_KERNEL, NULL, NULL, NULL),
			0);
	p->have_objpool = true;
	return p;
}

static __always_inline void *bench_get(struct bench_pools *p,
				       enum bench_kind kind)
{
	switch (kind) {
	case BENCH_LDATA:
		return ldata_alloc(p->ldata);
	case BENCH_KMEM:
		return kmem_cache_alloc(p->cache, GFP_KERNEL);
	case BENCH_KMEM_NOWAIT:
		return kmem_cache_alloc(p->cache, GFP_NOWAIT);
	default:
		return objpool_pop(&p->objpool);
	}
}

static __always_inline void bench_put(struct bench_pools *p,
				      enum bench_kind kind, void *obj)
{
	switch (kind) {
	case BENCH_LDATA:
		ldata_free(p->ldata, obj);
		break;
	case BENCH_KMEM:
	case BENCH_KMEM_NOWAIT:
		kmem_cache_free(p->cache, obj);
		break;
	default:
		objpool_push(obj, &p->objpool);
		break;
	}
}

/*
 * @n rounds of @bulk allocations then @bulk frees; false if an allocation
 * failed.  With @touch, each object is written in full once allocated.
 * Inlined with constant @kind and @touch (and @bulk 1), so that the loop
 * holds nothing but the calls under test.
 */
static __always_inline bool bench_rounds_of(struct bench_pools *p,
					    enum bench_kind kind,
					    unsigned int bulk, unsigned long n,
					    bool touch)
{
	void *obj[BENCH_BULK_MAX];
	unsigned int i;

	while (n--) {
		for (i = 0; i < bulk; i++) {
			obj[i] = bench_get(p, kind);
			if (unlikely(!obj[i]))
				goto fail;
			if (touch)
				memset(obj[i], i, p->size);
		}
		for (i = 0; i < bulk; i++)
			bench_put(p, kind, obj[i]);
	}
	return true;
fail:
	while (i--)
		bench_put(p, kind, obj[i]);
	return false;
}

/* bench_rounds_of() with constants for @bulk 1 and for @touch. */
static __always_inline bool bench_rounds_kind(struct bench_pools *p,
					      enum bench_kind kind,
					      unsigned int bulk,
					      unsigned long n, bool touch)
{
	if (touch)
		return bulk == 1 ? bench_rounds_of(p, kind, 1, n, true) :
				   bench_rounds_of(p, kind, bulk, n, true);
	return bulk == 1 ? bench_rounds_of(p, kind, 1, n, false) :
			   bench_rounds_of(p, kind, bulk, n, false);
}

static noinline bool bench_rounds(struct bench_pools *p, enum bench_kind kind,
				  unsigned int bulk, unsigned long n,
				  bool touch)
{
	switch (kind) {
	case BENCH_LDATA:
		return bench_rounds_kind(p, BENCH_LDATA, bulk, n, touch);
	case BENCH_KMEM:
		return bench_rounds_kind(p, BENCH_KMEM, bulk, n, touch);
	case BENCH_KMEM_NOWAIT:
		return bench_rounds_kind(p, BENCH_KMEM_NOWAIT, bulk, n, touch);
	default:
		return bench_rounds_kind(p, BENCH_OBJPOOL, bulk, n, touch);
	}
}

static __always_inline bool bench_alloc_all_of(struct bench_pools *p,
					       enum bench_kind kind,
					       void **objs, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		objs[i] = bench_get(p, kind);
		if (unlikely(!objs[i]))
			goto fail;
	}
	return true;
fail:
	while (i--)
		bench_put(p, kind, objs[i]);
	return false;
}

static __always_inline void bench_free_all_of(struct bench_pools *p,
					      enum bench_kind kind,
					      void **objs, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		bench_put(p, kind, objs[i]);
}

/* @n objects into @objs, or none and false. */
static noinline bool bench_alloc_all(struct bench_pools *p,
				     enum bench_kind kind, void **objs,
				     unsigned long n)
{
	switch (kind) {
	case BENCH_LDATA:
		return bench_alloc_all_of(p, BENCH_LDATA, objs, n);
	case BENCH_KMEM:
		return bench_alloc_all_of(p, BENCH_KMEM, objs, n);
	case BENCH_KMEM_NOWAIT:
		return bench_alloc_all_of(p, BENCH_KMEM_NOWAIT, objs, n);
	default:
		return bench_alloc_all_of(p, BENCH_OBJPOOL, objs, n);
	}
}

static noinline void bench_free_all(struct bench_pools *p,
				    enum bench_kind kind, void **objs,
				    unsigned long n)
{
	switch (kind) {
	case BENCH_LDATA:
		bench_free_all_of(p, BENCH_LDATA, objs, n);
		break;
	case BENCH_KMEM:
		bench_free_all_of(p, BENCH_KMEM, objs, n);
		break;
	case BENCH_KMEM_NOWAIT:
		bench_free_all_of(p, BENCH_KMEM_NOWAIT, objs, n);
		break;
	default:
		bench_free_all_of(p, BENCH_OBJPOOL, objs, n);
		break;
	}
}

/* ===== Threads bound to CPUs ===== */

struct bench_run;

/*
 * The producer/consumer ring: one writer of each index, published with
 * release and read with acquire, so that a slot is read after it is filled
 * and refilled after it is read.
 */
struct bench_ring {
	void *slot[BENCH_RING];
	unsigned long head ____cacheline_aligned;	/* next to fill */
	unsigned long tail ____cacheline_aligned;	/* next to empty */
	int done;		/* the producer has stopped; release */
};

struct bench_thread {
	struct bench_run *run;
	struct task_struct *task;	/* referenced until stopped */
	u64 pairs;			/* pairs (or frees) done */
	u64 ns;				/* the time they took */
	bool failed;			/* an allocation returned NULL */
};

/* One measurement: what to run, and where the threads meet. */
struct bench_run {
	struct bench_pools *pools;
	enum bench_kind kind;
	unsigned int bulk;
	bool touch;			/* write each object once allocated */
	struct bench_ring *ring;	/* producer/consumer runs */
	void **objs;			/* cross-node runs: the objects */
	unsigned long nr_objs;
	atomic_t arrived;		/* threads at the barrier */
	int open;			/* barrier open; release/acquire */
	u64 open_ns;			/* when it opened; published by @open */
	atomic_t running;		/* the last thread done completes @done */
	struct completion done;
	int nr;
	struct bench_thread th[];	/* nr_cpu_ids of them */
};

static struct bench_run *bench_run_alloc(struct kunit *test)
{
	struct bench_run *run;

	run = kunit_kzalloc(test, struct_size(run, th, nr_cpu_ids),
			    GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, run);
	return run;
}

/* Wait until all run->nr threads are here: they start together. */
static void bench_barrier(struct bench_run *run)
{
	if (atomic_inc_return(&run->arrived) == run->nr) {
		run->open_ns = ktime_get_ns();
		/* Publishes open_ns; pairs with the acquire below. */
		smp_store_release(&run->open, 1);
	}
	/* Pairs with the release above: open_ns is set once open is. */
	while (!smp_load_acquire(&run->open))
		cpu_relax();
}

static void bench_thread_done(struct bench_run *run)
{
	if (atomic_dec_and_test(&run->running))
		complete(&run->done);
}

/* Alloc+free pairs from the barrier until BENCH_WINDOW_NS after it. */
static int bench_pairs_fn(void *data)
{
	struct bench_thread *t = data;
	struct bench_run *run = t->run;
	unsigned long rounds = BENCH_CHUNK / run->bulk;
	u64 start, now, end;

	t->failed = !bench_rounds(run->pools, run->kind, run->bulk, rounds,
				  run->touch);
	bench_barrier(run);
	end = run->open_ns + BENCH_WINDOW_NS;
	start = ktime_get_ns();
	now = start;
	while (!t->failed && now < end) {
		t->failed = !bench_rounds(run->pools, run->kind, run->bulk,
					  rounds, run->touch);
		t->pairs += rounds * run->bulk;
		cond_resched();
		now = ktime_get_ns();
	}
	t->ns = now - start;
	bench_thread_done(run);
	return 0;
}

/* Allocate run->nr_objs objects into run->objs, timed. */
static int bench_fill_fn(void *data)
{
	struct bench_thread *t = data;
	struct bench_run *run = t->run;
	u64 start = ktime_get_ns();

	t->failed = !bench_alloc_all(run->pools, run->kind, run->objs,
				     run->nr_objs);
	t->ns = ktime_get_ns() - start;
	t->pairs = run->nr_objs;
	bench_thread_done(run);
	return 0;
}

/* Free the objects of run->objs, timed. */
static int bench_drain_fn(void *data)
{
	struct bench_thread *t = data;
	struct bench_run *run = t->run;
	u64 start = ktime_get_ns();

	bench_free_all(run->pools, run->kind, run->objs, run->nr_objs);
	t->ns = ktime_get_ns() - start;
	t->pairs = run->nr_objs;
	bench_thread_done(run);
	return 0;
}

/*
 * Producer (thread 0): allocate and pass objects until BENCH_WINDOW_NS
 * after the barrier; its pairs are the objects it passed.
 */
static void bench_produce(struct bench_thread *t, struct bench_ring *r)
{
	struct bench_run *run = t->run;
	u64 start, now, end;
	unsigned long head;
	void *obj;
	int i;

	end = run->open_ns + BENCH_WINDOW_NS;
	start = ktime_get_ns();
	now = start;
	head = r->head;
	while (now < end) {
		for (i = 0; i < BENCH_CHUNK; i++) {
			/* The consumer has read the slot before it moved on. */
			while (head - smp_load_acquire(&r->tail) == BENCH_RING)
				cpu_relax();
			obj = bench_get(run->pools, run->kind);
			if (unlikely(!obj)) {
				t->failed = true;
				goto out;
			}
			r->slot[head % BENCH_RING] = obj;
			/* The slot is filled before the consumer sees it. */
			smp_store_release(&r->head, ++head);
		}
		t->pairs += BENCH_CHUNK;
		cond_resched();
		now = ktime_get_ns();
	}
out:
	t->ns = now - start;
	/* After the last head: the consumer then sees every object. */
	smp_store_release(&r->done, 1);
}

/* Consumer (thread 1): free what the producer passes until it stops. */
static void bench_consume(struct bench_thread *t, struct bench_ring *r)
{
	struct bench_run *run = t->run;
	unsigned long tail = r->tail, spins = 0;
	u64 start = ktime_get_ns();

	for (;;) {
		/* Pairs with the producer's release: the slot is filled. */
		if (tail == smp_load_acquire(&r->head)) {
			/* done is set after the last head: look again. */
			if (smp_load_acquire(&r->done) &&
			    tail == READ_ONCE(r->head))
				break;
			cpu_relax();
			if (!(++spins % BENCH_CHUNK))
				cond_resched();
			continue;
		}
		bench_put(run->pools, run->kind, r->slot[tail % BENCH_RING]);
		/* The slot is read before the producer may refill it. */
		smp_store_release(&r->tail, ++tail);
		t->pairs++;
	}
	t->ns = ktime_get_ns() - start;
}

static int bench_pc_fn(void *data)
{
	struct bench_thread *t = data;
	struct bench_run *run = t->run;

	bench_barrier(run);
	if (t == &run->th[0])
		bench_produce(t, run->ring);
	else
		bench_consume(t, run->ring);
	bench_thread_done(run);
	return 0;
}

/*
 * Run @fn in @nr kthreads, the i-th bound to @cpus[i], and wait for all of
 * them.  They are all created before any is woken, so that the barrier
 * costs no thread creation.
 */
static int bench_launch(struct bench_run *run, const int *cpus, int nr,
			int (*fn)(void *data))
{
	int i, err = 0;

	run->nr = nr;
	atomic_set(&run->arrived, 0);
	run->open = 0;
	atomic_set(&run->running, nr);
	init_completion(&run->done);
	for (i = 0; i < nr; i++) {
		struct bench_thread *t = &run->th[i];

		memset(t, 0, sizeof(*t));
		t->run = run;
		t->task = kthread_create_on_cpu(fn, t, cpus[i], "ldata_bench/%u");
		if (IS_ERR(t->task)) {
			err = PTR_ERR(t->task);
			break;
		}
		get_task_struct(t->task);
	}
	if (err) {
		/* Never woken: kthread_stop() keeps @fn from running. */
		while (i--)
			kthread_stop_put(run->th[i].task);
		return err;
	}
	for (i = 0; i < nr; i++)
		wake_up_process(run->th[i].task);
	wait_for_completion(&run->done);
	for (i = 0; i < nr; i++)
		kthread_stop_put(run->th[i].task);
	return 0;
}

/* ===== Measurements ===== */

static int bench_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static u64 bench_median(u64 *v, int n)
{
	sort(v, n, sizeof(*v), bench_cmp_u64, NULL);
	return v[n / 2];
}

static void bench_stat_of(struct bench_stat *st, u64 *v, int n)
{
	st->med = bench_median(v, n);
	st->min = v[0];
	st->max = v[n - 1];
}

/* a / b in thousandths; 0 when there is no b. */
static u64 bench_milli(u64 a, u64 b)
{
	return b ? div64_u64(a * 1000, b) : 0;
}

/* One window of pairs in @nr threads on bench.cpus[0..nr). */
static void bench_measure(struct kunit *test, struct bench_run *run,
			  struct bench_pools *p, enum bench_kind kind,
			  unsigned int bulk, int nr, u64 *ps, u64 *pps)
{
	u64 sum_ps = 0, sum_pps = 0;
	int i;

	run->pools = p;
	run->kind = kind;
	run->bulk = bulk;
	KUNIT_ASSERT_EQ(test, bench_launch(run, bench.cpus, nr,
					   bench_pairs_fn), 0);
	for (i = 0; i < nr; i++) {
		struct bench_thread *t = &run->th[i];
		u64 ns = max(t->ns, 1ULL);

		KUNIT_ASSERT_FALSE_MSG(test, t->failed,
				       "%s returned NULL on CPU %d",
				       bench_kind_name[kind], bench.cpus[i]);
		KUNIT_ASSERT_GT(test, t->pairs, 0);
		sum_ps += div64_u64(ns * 1000, t->pairs);
		sum_pps += div64_u64(t->pairs * NSEC_PER_SEC, ns);
	}
	*ps = div_u64(sum_ps, nr);
	*pps = sum_pps;
}

/* Fill on @from, then free on @to: ps per alloc and per free. */
static void bench_xnode_once(struct kunit *test, struct bench_run *run,
			     struct bench_pools *p, enum bench_kind kind,
			     int from, int to, u64 *alloc_ps, u64 *free_ps)
{
	run->pools = p;
	run->kind = kind;
	KUNIT_ASSERT_EQ(test, bench_launch(run, &from, 1, bench_fill_fn), 0);
	KUNIT_ASSERT_FALSE_MSG(test, run->th[0].failed,
			       "%s returned NULL on CPU %d",
			       bench_kind_name[kind], from);
	*alloc_ps = div64_u64(run->th[0].ns * 1000, run->nr_objs);
	KUNIT_ASSERT_EQ(test, bench_launch(run, &to, 1, bench_drain_fn), 0);
	*free_ps = div64_u64(run->th[0].ns * 1000, run->nr_objs);
}

/* ===== Output ===== */

/* @v in units of 10^-@dec, as "int.frac", right-aligned in @width. */
static void bench_fixed(struct seq_buf *s, int width, u64 v, int dec)
{
	char num[32];
	u32 scale = dec == 1 ? 10 : dec == 2 ? 100 : 1000;
	u32 frac;
	u64 whole = div_u64_rem(v, scale, &frac);

	snprintf(num, sizeof(num), "%llu.%0*u", whole, dec, frac);
	seq_buf_printf(s, "%*s", width, num);
}

/* Picoseconds as nanoseconds with one decimal. */
static void bench_ns(struct seq_buf *s, int width, u64 ps)
{
	bench_fixed(s, width, div_u64(ps + 50, 100), 1);
}

/* Thousandths as a ratio with two decimals. */
static void bench_ratio(struct seq_buf *s, int width, u64 milli)
{
	bench_fixed(s, width, div_u64(milli + 5, 10), 2);
}

/* A ratio's median, then its lowest and highest repetition. */
static void bench_ratio_range(struct seq_buf *s, int width,
			      const struct bench_stat *st)
{
	bench_ratio(s, width, st->med);
	seq_buf_puts(s, " (");
	bench_ratio(s, 0, st->min);
	seq_buf_putc(s, '-');
	bench_ratio(s, 0, st->max);
	seq_buf_putc(s, ')');
}

/* Pairs per second as millions with two decimals. */
static void bench_mpps(struct seq_buf *s, int width, u64 pps)
{
	bench_fixed(s, width, div_u64(pps + 5000, 10000), 2);
}

#define bench_print(test, s)	kunit_info(test, BENCH_TAG "%s\n", seq_buf_str(s))

/* A "result NAME VALUE min MIN max MAX" line; ns or a ratio. */
static void bench_result(struct kunit *test, const char *name,
			 const struct bench_stat *st, bool ratio)
{
	void (*fmt)(struct seq_buf *s, int width, u64 v);
	DECLARE_SEQ_BUF(s, BENCH_LINE);

	fmt = ratio ? bench_ratio : bench_ns;
	seq_buf_printf(&s, "result %s ", name);
	fmt(&s, 0, st->med);
	seq_buf_puts(&s, " min ");
	fmt(&s, 0, st->min);
	seq_buf_puts(&s, " max ");
	fmt(&s, 0, st->max);
	bench_print(test, &s);
}

/* Nodes spanned by the first @nr CPUs of bench.cpus. */
static int bench_nodes_of(int nr)
{
	nodemask_t nodes = NODE_MASK_NONE;
	int i;

	for (i = 0; i < nr; i++)
		node_set(cpu_to_node(bench.cpus[i]), nodes);
	return nodes_weight(nodes);
}

/* ===== The cases ===== */

/*
 * One row of bench_single_thread (bench_touched with @touch): every
 * allocator BENCH_REPS times.
 */
static void bench_single_row(struct kunit *test, struct bench_run *run,
			     struct bench_pools *p, int si, int bi, bool touch)
{
	u64 ps[BENCH_NR_KINDS][BENCH_REPS], ratio[BENCH_NR_RATIOS][BENCH_REPS];
	u64 pps;
	struct bench_stat *res = touch ? bench.touched[si][bi] :
					 bench.single[si][bi];
	struct bench_stat *r = touch ? bench.touched_ratio[si][bi] :
				       bench.single_ratio[si][bi];
	DECLARE_SEQ_BUF(s, BENCH_LINE);
	int k, rep;

	run->touch = touch;
	for (rep = 0; rep < BENCH_REPS; rep++) {
		for (k = 0; k < BENCH_NR_KINDS; k++)
			bench_measure(test, run, p, k, bench_bulks[bi], 1,
				      &ps[k][rep], &pps);
		/* Measured back to back: their ratio drifts least. */
		for (k = 0; k < BENCH_NR_RATIOS; k++)
			ratio[k][rep] = bench_milli(ps[BENCH_LDATA][rep],
						    ps[k + 1][rep]);
	}
	seq_buf_printf(&s, "%5u %4u", bench_sizes[si], bench_bulks[bi]);
	for (k = 0; k < BENCH_NR_KINDS; k++) {
		bench_stat_of(&res[k], ps[k], BENCH_REPS);
		bench_ns(&s, 11, res[k].med);
	}
	for (k = 0; k < BENCH_NR_RATIOS; k++) {
		bench_stat_of(&r[k], ratio[k], BENCH_REPS);
		bench_ratio_range(&s, 7, &r[k]);
	}
	bench_print(test, &s);
}

static void bench_single_table(struct kunit *test, bool touch)
{
	struct bench_run *run = bench_run_alloc(test);
	int si, bi;

	for (si = 0; si < BENCH_NR_SIZES; si++) {
		struct bench_pools *p;

		p = bench_pools_create(test, bench_sizes[si], 1024);
		for (bi = 0; bi < BENCH_NR_BULKS; bi++)
			bench_single_row(test, run, p, si, bi, touch);
		kunit_release_action(test, bench_pools_release, p);
	}
}

#define BENCH_SINGLE_HEAD \
	" size bulk      ldata kmem_cache    objpool kmem_nowait    ldata/kmem_cache       ldata/objpool   ldata/kmem_nowait\n"

static void bench_single_thread(struct kunit *test)
{
	kunit_info(test, BENCH_TAG "single thread on CPU %d (node %d): ns per alloc+free pair, median of %d; ratios: median of the %d repetitions' (lowest-highest)\n",
		   bench.cpus[0], cpu_to_node(bench.cpus[0]), BENCH_REPS,
		   BENCH_REPS);
	kunit_info(test, BENCH_TAG "kmem_nowait: the same cache with GFP_NOWAIT, like for like with ldata's any-context guarantee\n");
	kunit_info(test, BENCH_TAG BENCH_SINGLE_HEAD);
	bench_single_table(test, false);
	bench.have_single = true;
}

static void bench_touched(struct kunit *test)
{
	kunit_info(test, BENCH_TAG "objects touched: the same, with every object written in full (memset) once allocated\n");
	kunit_info(test, BENCH_TAG BENCH_SINGLE_HEAD);
	bench_single_table(test, true);
	bench.have_touched = true;
}

/* Scaling of @kind at bench.threads[@pi], in thousandths. */
static u64 bench_scaling_of(int si, int bi, int pi, enum bench_kind kind)
{
	return bench.scaling[si][bi][pi][kind].scaling.med;
}

static void bench_scaling_table(struct kunit *test, int si, int bi)
{
	DECLARE_SEQ_BUF(s, BENCH_LINE);
	int pi, k;

	kunit_info(test, BENCH_TAG "scaling, %u bytes, bulk %u: ns per pair per thread, Mpairs/s of all threads, scaling = Mpairs/s / (T * Mpairs/s at T=1) in each repetition; medians of %d\n",
		   bench_sizes[si], bench_bulks[bi], BENCH_REPS);
	seq_buf_printf(&s, "  T nodes");
	for (k = 0; k < BENCH_NR_KINDS; k++)
		seq_buf_printf(&s, " %10s ns  Mp/s scal", bench_kind_name[k]);
	bench_print(test, &s);
	for (pi = 0; pi < bench.nr_points; pi++) {
		int t = bench.threads[pi];

		seq_buf_clear(&s);
		seq_buf_printf(&s, "%3d %5d", t, bench_nodes_of(t));
		for (k = 0; k < BENCH_NR_KINDS; k++) {
			struct bench_point *pt = &bench.scaling[si][bi][pi][k];

			bench_ns(&s, 14, pt->ps);
			bench_mpps(&s, 6, pt->pps);
			bench_ratio(&s, 5, bench_scaling_of(si, bi, pi, k));
		}
		bench_print(test, &s);
	}
}

/* Every repetition of one table of bench_scaling; too big for a stack. */
struct bench_scaling_reps {
	u64 ps[BENCH_MAX_POINTS][BENCH_NR_KINDS][BENCH_REPS];
	u64 pps[BENCH_MAX_POINTS][BENCH_NR_KINDS][BENCH_REPS];
};

/*
 * One table of bench_scaling.  A repetition runs every thread count and
 * allocator back to back, so that its scaling compares measurements made
 * under the same load on the host.
 */
static void bench_scaling_run(struct kunit *test, struct bench_run *run,
			      struct bench_pools *p,
			      struct bench_scaling_reps *r, int si, int bi)
{
	struct bench_point (*pt)[BENCH_NR_KINDS] = bench.scaling[si][bi];
	u64 sc[BENCH_REPS];
	int pi, k, rep;

	for (rep = 0; rep < BENCH_REPS; rep++)
		for (pi = 0; pi < bench.nr_points; pi++)
			for (k = 0; k < BENCH_NR_KINDS; k++)
				bench_measure(test, run, p, k, bench_bulks[bi],
					      bench.threads[pi],
					      &r->ps[pi][k][rep],
					      &r->pps[pi][k][rep]);
	/* Scaling first: the medians sort the repetitions. */
	for (pi = 0; pi < bench.nr_points; pi++) {
		for (k = 0; k < BENCH_NR_KINDS; k++) {
			for (rep = 0; rep < BENCH_REPS; rep++)
				sc[rep] = bench_milli(r->pps[pi][k][rep],
						      bench.threads[pi] *
						      r->pps[0][k][rep]);
			bench_stat_of(&pt[pi][k].scaling, sc, BENCH_REPS);
		}
	}
	for (pi = 0; pi < bench.nr_points; pi++) {
		for (k = 0; k < BENCH_NR_KINDS; k++) {
			pt[pi][k].ps = bench_median(r->ps[pi][k], BENCH_REPS);
			pt[pi][k].pps = bench_median(r->pps[pi][k],
						     BENCH_REPS);
		}
	}
}

static void bench_scaling(struct kunit *test)
{
	struct bench_run *run = bench_run_alloc(test);
	struct bench_scaling_reps *r;
	int si, bi;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	for (si = 0; si < BENCH_NR_SIZES; si++) {
		struct bench_pools *p;

		p = bench_pools_create(test, bench_sizes[si], 1024);
		for (bi = 0; bi < BENCH_NR_BULKS; bi++) {
			bench_scaling_run(test, run, p, r, si, bi);
			bench_scaling_table(test, si, bi);
		}
		kunit_release_action(test, bench_pools_release, p);
	}
	bench.have_scaling = true;
}

/* The freeing CPUs of bench_cross_node_free; false if one node only. */
static bool bench_xnode_cpus(int *cpu)
{
	int home = cpu_to_node(bench.cpus[0]), i;

	cpu[BENCH_SAME_CPU] = bench.cpus[0];
	cpu[BENCH_SAME_NODE] = -1;
	cpu[BENCH_OTHER_NODE] = -1;
	for (i = 1; i < bench.nr_cpus; i++) {
		int c = bench.cpus[i];

		if (cpu_to_node(c) == home && cpu[BENCH_SAME_NODE] < 0)
			cpu[BENCH_SAME_NODE] = c;
		if (cpu_to_node(c) != home && cpu[BENCH_OTHER_NODE] < 0)
			cpu[BENCH_OTHER_NODE] = c;
	}
	/* Compare with a free on another CPU of the node when there is one. */
	bench.xnode_local = cpu[BENCH_SAME_NODE] < 0 ? BENCH_SAME_CPU :
						       BENCH_SAME_NODE;
	return cpu[BENCH_OTHER_NODE] >= 0;
}

static void bench_vfree(void *data)
{
	vfree(data);
}

static const enum bench_kind bench_xnode_kinds[] = { BENCH_LDATA, BENCH_KMEM };
#define BENCH_NR_XKINDS	ARRAY_SIZE(bench_xnode_kinds)

static void bench_xnode_table(struct kunit *test)
{
	DECLARE_SEQ_BUF(s, BENCH_LINE);
	int f, i, k;

	kunit_info(test, BENCH_TAG "cross-node free: %d objects of %d bytes allocated on CPU %d (node %d), then freed on another CPU or the same one: ns per free, median of %d\n",
		   BENCH_XNODE, BENCH_XNODE_SIZE, bench.xnode_cpu[0],
		   cpu_to_node(bench.xnode_cpu[0]), BENCH_XNODE_REPS);
	kunit_info(test, BENCH_TAG "  freed on                            ldata       kmem_cache\n");
	for (f = 0; f < BENCH_NR_FREERS; f++) {
		int cpu = bench.xnode_cpu[f];

		if (cpu < 0)
			continue;
		seq_buf_clear(&s);
		seq_buf_printf(&s, "  CPU %-3d node %-3d %-10s", cpu,
			       cpu_to_node(cpu), bench_freer_name[f]);
		for (i = 0; i < BENCH_NR_XKINDS; i++)
			bench_ns(&s, 17, bench.xnode[f][bench_xnode_kinds[i]].med);
		bench_print(test, &s);
	}
	seq_buf_clear(&s);
	seq_buf_printf(&s, "  ratio other_node/%-10s", bench_freer_name[bench.xnode_local]);
	for (i = 0; i < BENCH_NR_XKINDS; i++)
		bench_ratio_range(&s, 6, &bench.xnode_ratio[bench_xnode_kinds[i]]);
	bench_print(test, &s);
	seq_buf_clear(&s);
	seq_buf_printf(&s, "  alloc on CPU %-3d (ns per alloc)", bench.xnode_cpu[0]);
	for (i = 0; i < BENCH_NR_XKINDS; i++) {
		k = bench_xnode_kinds[i];
		bench_ns(&s, i ? 17 : 9, bench.xnode_alloc[k].med);
	}
	bench_print(test, &s);
}

/* Every repetition of bench_cross_node_free, in ps; too big for a stack. */
struct bench_xnode_reps {
	u64 alloc_ps[BENCH_NR_XKINDS][BENCH_NR_FREERS * BENCH_XNODE_REPS];
	u64 free_ps[BENCH_NR_FREERS][BENCH_NR_XKINDS][BENCH_XNODE_REPS];
	u64 ratio[BENCH_NR_XKINDS][BENCH_XNODE_REPS];
};

static void bench_cross_node_free(struct kunit *test)
{
	int *cpu = bench.xnode_cpu, local, nr_alloc = 0;
	struct bench_xnode_reps *r;
	struct bench_pools *p;
	struct bench_run *run;
	int f, i, rep;

	if (!bench_xnode_cpus(cpu))
		kunit_skip(test, "needs online CPUs on two nodes");
	local = bench.xnode_local;
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	run = bench_run_alloc(test);
	run->nr_objs = BENCH_XNODE;
	run->objs = vmalloc_array(BENCH_XNODE, sizeof(void *));
	KUNIT_ASSERT_NOT_NULL(test, run->objs);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, bench_vfree,
							run->objs), 0);
	p = bench_pools_create(test, BENCH_XNODE_SIZE, BENCH_XNODE);

	for (rep = 0; rep < BENCH_XNODE_REPS; rep++) {
		for (f = 0; f < BENCH_NR_FREERS; f++) {
			if (cpu[f] < 0)
				continue;
			for (i = 0; i < BENCH_NR_XKINDS; i++)
				bench_xnode_once(test, run, p,
						 bench_xnode_kinds[i],
						 cpu[BENCH_SAME_CPU], cpu[f],
						 &r->alloc_ps[i][nr_alloc],
						 &r->free_ps[f][i][rep]);
			nr_alloc++;
		}
		for (i = 0; i < BENCH_NR_XKINDS; i++)
			r->ratio[i][rep] =
				bench_milli(r->free_ps[BENCH_OTHER_NODE][i][rep],
					    r->free_ps[local][i][rep]);
	}
	for (i = 0; i < BENCH_NR_XKINDS; i++) {
		int k = bench_xnode_kinds[i];

		bench_stat_of(&bench.xnode_alloc[k], r->alloc_ps[i], nr_alloc);
		bench_stat_of(&bench.xnode_ratio[k], r->ratio[i],
			      BENCH_XNODE_REPS);
		for (f = 0; f < BENCH_NR_FREERS; f++)
			if (cpu[f] >= 0)
				bench_stat_of(&bench.xnode[f][k], r->free_ps[f][i],
					      BENCH_XNODE_REPS);
	}
	bench.have_xnode = true;
	bench_xnode_table(test);
}

static const enum bench_kind bench_pc_kinds[] = {
	BENCH_LDATA, BENCH_KMEM, BENCH_OBJPOOL
};

#define BENCH_NR_PCKINDS	ARRAY_SIZE(bench_pc_kinds)

static void bench_pc_table(struct kunit *test)
{
	static const int freers[] = { BENCH_SAME_NODE, BENCH_OTHER_NODE };
	DECLARE_SEQ_BUF(s, BENCH_LINE);
	int i, j, f;

	kunit_info(test, BENCH_TAG "producer/consumer, %d bytes: CPU %d (node %d) allocates and passes each object through a %d-slot ring to another CPU, which frees it, both at once for %d ms: ns per object passed (the consumer's time over its frees), median of %d\n",
		   BENCH_XNODE_SIZE, bench.xnode_cpu[0],
		   cpu_to_node(bench.xnode_cpu[0]), BENCH_RING,
		   BENCH_WINDOW_MS, BENCH_REPS);
	kunit_info(test, BENCH_TAG "  consumer on                 ldata kmem_cache    objpool    ldata/kmem_cache       ldata/objpool\n");
	for (j = 0; j < ARRAY_SIZE(freers); j++) {
		int cpu;

		f = freers[j];
		cpu = bench.xnode_cpu[f];
		if (cpu < 0)
			continue;
		seq_buf_clear(&s);
		seq_buf_printf(&s, "  CPU %-3d node %-3d %-10s", cpu,
			       cpu_to_node(cpu), bench_freer_name[f]);
		for (i = 0; i < BENCH_NR_PCKINDS; i++)
			bench_ns(&s, 11, bench.pc[f][bench_pc_kinds[i]].med);
		for (i = 0; i < BENCH_NR_PCKINDS - 1; i++)
			bench_ratio_range(&s, 7,
					  &bench.pc_ratio[f][bench_pc_kinds[i + 1] - 1]);
		bench_print(test, &s);
	}
	if (bench.xnode_cpu[BENCH_SAME_NODE] < 0)
		return;
	seq_buf_clear(&s);
	seq_buf_printf(&s, "  ratio other_node/same_node ");
	for (i = 0; i < BENCH_NR_PCKINDS; i++)
		bench_ratio_range(&s, 6, &bench.pc_node_ratio[bench_pc_kinds[i]]);
	bench_print(test, &s);
}

/* One run of the pair, @from producing and @to consuming: ps per object. */
static u64 bench_pc_once(struct kunit *test, struct bench_run *run,
			 struct bench_pools *p, enum bench_kind kind, int from,
			 int to)
{
	int cpus[2] = { from, to };
	struct bench_thread *c = &run->th[1];

	memset(run->ring, 0, sizeof(*run->ring));
	run->pools = p;
	run->kind = kind;
	KUNIT_ASSERT_EQ(test, bench_launch(run, cpus, 2, bench_pc_fn), 0);
	KUNIT_ASSERT_FALSE_MSG(test, run->th[0].failed,
			       "%s returned NULL on CPU %d",
			       bench_kind_name[kind], from);
	KUNIT_ASSERT_GT(test, c->pairs, 0);
	KUNIT_EXPECT_EQ(test, c->pairs, run->th[0].pairs);
	return div64_u64(max(c->ns, 1ULL) * 1000, c->pairs);
}

static void bench_producer_consumer(struct kunit *test)
{
	u64 ps[BENCH_NR_FREERS][BENCH_NR_KINDS][BENCH_REPS];
	u64 ratio[BENCH_NR_FREERS][BENCH_NR_RATIOS][BENCH_REPS];
	u64 node[BENCH_NR_KINDS][BENCH_REPS];
	int *cpu = bench.xnode_cpu, f, i, k, rep;
	struct bench_pools *p;
	struct bench_run *run;

	if (!bench_xnode_cpus(cpu))
		kunit_skip(test, "needs online CPUs on two nodes");
	run = bench_run_alloc(test);
	run->ring = kunit_kzalloc(test, sizeof(*run->ring), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, run->ring);
	p = bench_pools_create(test, BENCH_XNODE_SIZE, 4 * BENCH_RING);
	for (rep = 0; rep < BENCH_REPS; rep++) {
		for (f = BENCH_SAME_NODE; f < BENCH_NR_FREERS; f++) {
			if (cpu[f] < 0)
				continue;
			for (i = 0; i < BENCH_NR_PCKINDS; i++) {
				k = bench_pc_kinds[i];
				ps[f][k][rep] = bench_pc_once(test, run, p, k,
							      cpu[BENCH_SAME_CPU],
							      cpu[f]);
			}
			for (i = 1; i < BENCH_NR_PCKINDS; i++) {
				k = bench_pc_kinds[i];
				ratio[f][k - 1][rep] =
					bench_milli(ps[f][BENCH_LDATA][rep],
						    ps[f][k][rep]);
			}
		}
		for (i = 0; cpu[BENCH_SAME_NODE] >= 0 && i < BENCH_NR_PCKINDS;
		     i++) {
			k = bench_pc_kinds[i];
			node[k][rep] = bench_milli(ps[BENCH_OTHER_NODE][k][rep],
						   ps[BENCH_SAME_NODE][k][rep]);
		}
	}
	for (f = BENCH_SAME_NODE; f < BENCH_NR_FREERS; f++) {
		if (cpu[f] < 0)
			continue;
		for (i = 0; i < BENCH_NR_PCKINDS; i++) {
			k = bench_pc_kinds[i];
			bench_stat_of(&bench.pc[f][k], ps[f][k], BENCH_REPS);
			if (i)
				bench_stat_of(&bench.pc_ratio[f][k - 1],
					      ratio[f][k - 1], BENCH_REPS);
			if (f == BENCH_OTHER_NODE && cpu[BENCH_SAME_NODE] >= 0)
				bench_stat_of(&bench.pc_node_ratio[k], node[k],
					      BENCH_REPS);
		}
	}
	bench.have_pc = true;
	bench_pc_table(test);
}

/* ===== Summary: targets and the machine-readable block ===== */

/* A target line: the value (its range, if repeated), the limit, a verdict. */
static void bench_target(struct kunit *test, const char *what,
			 const struct bench_stat *st, bool at_most, u64 limit,
			 const char *note)
{
	DECLARE_SEQ_BUF(s, BENCH_LINE);
	bool met = at_most ? st->med <= limit : st->med >= limit;

	seq_buf_printf(&s, "target %-42s", what);
	if (st->min == st->max) {
		bench_ratio(&s, 5, st->med);
		seq_buf_printf(&s, "%12s", "");
	} else {
		bench_ratio_range(&s, 5, st);
	}
	seq_buf_printf(&s, " %s", at_most ? "<=" : ">=");
	bench_ratio(&s, 5, limit);
	seq_buf_printf(&s, " %s", met ? "met" : "MISSED");
	if (*note)
		seq_buf_printf(&s, "%*s%s", met ? 3 : 0, "", note);
	bench_print(test, &s);
}

static void bench_targets(struct kunit *test)
{
	struct bench_stat st;
	char what[64];
	int si, bi, pi;

	kunit_info(test, BENCH_TAG "targets: medians measured in this run (lowest-highest repetition)\n");
	for (si = 0; bench.have_single && si < BENCH_NR_SIZES; si++) {
		for (bi = 0; bi < BENCH_NR_BULKS; bi++) {
			struct bench_stat *r = bench.single_ratio[si][bi];

			snprintf(what, sizeof(what),
				 "ldata/kmem_cache %u B bulk %u", bench_sizes[si],
				 bench_bulks[bi]);
			bench_target(test, what, &r[0], true, 1000, "");
			snprintf(what, sizeof(what),
				 "ldata/kmem_cache %u B bulk %u (aim)",
				 bench_sizes[si], bench_bulks[bi]);
			bench_target(test, what, &r[0], true, 700, "");
			snprintf(what, sizeof(what),
				 "ldata/objpool %u B bulk %u", bench_sizes[si],
				 bench_bulks[bi]);
			bench_target(test, what, &r[1], true, 800, "");
			snprintf(what, sizeof(what),
				 "ldata/kmem_nowait %u B bulk %u",
				 bench_sizes[si], bench_bulks[bi]);
			bench_target(test, what, &r[2], true, 1000, "");
		}
	}
	/* Within a node: every CPU of the first node, when it has two. */
	for (pi = 0; pi < bench.nr_points; pi++)
		if (bench.threads[pi] == bench.node_cpus)
			break;
	for (si = 0; bench.have_scaling && bench.node_cpus > 1 &&
	     pi < bench.nr_points && si < BENCH_NR_SIZES; si++) {
		for (bi = 0; bi < BENCH_NR_BULKS; bi++) {
			DECLARE_SEQ_BUF(ref, BENCH_LINE);

			st = bench.scaling[si][bi][pi][BENCH_LDATA].scaling;
			seq_buf_puts(&ref, " (kmem_cache ");
			bench_ratio(&ref, 0, bench_scaling_of(si, bi, pi,
							      BENCH_KMEM));
			seq_buf_puts(&ref, ", objpool ");
			bench_ratio(&ref, 0, bench_scaling_of(si, bi, pi,
							      BENCH_OBJPOOL));
			seq_buf_putc(&ref, ')');
			snprintf(what, sizeof(what),
				 "ldata scaling T=%d in node %u B bulk %u",
				 bench.node_cpus, bench_sizes[si],
				 bench_bulks[bi]);
			bench_target(test, what, &st, false, 950,
				     seq_buf_str(&ref));
		}
	}
	if (bench.have_xnode) {
		snprintf(what, sizeof(what), "ldata free other_node/%s",
			 bench_freer_name[bench.xnode_local]);
		bench_target(test, what, &bench.xnode_ratio[BENCH_LDATA], true,
			     1500, "");
	}
}

static void bench_results(struct kunit *test)
{
	DECLARE_SEQ_BUF(s, BENCH_LINE);
	char name[64];
	int si, bi, pi, i, k, f;

	kunit_info(test, BENCH_TAG "BEGIN RESULTS\n");
	kunit_info(test, BENCH_TAG "result clock.ns %llu\n", bench.clock_ns);
	for (si = 0; bench.have_single && si < BENCH_NR_SIZES; si++) {
		for (bi = 0; bi < BENCH_NR_BULKS; bi++) {
			for (k = 0; k < BENCH_NR_KINDS; k++) {
				snprintf(name, sizeof(name), "single.%u.%u.%s.ns",
					 bench_sizes[si], bench_bulks[bi],
					 bench_kind_name[k]);
				bench_result(test, name, &bench.single[si][bi][k],
					     false);
			}
			for (k = 0; k < BENCH_NR_RATIOS; k++) {
				snprintf(name, sizeof(name), "single.%u.%u.ldata_over_%s",
					 bench_sizes[si], bench_bulks[bi],
					 bench_kind_name[k + 1]);
				bench_result(test, name,
					     &bench.single_ratio[si][bi][k], true);
			}
		}
	}
	for (si = 0; bench.have_scaling && si < BENCH_NR_SIZES; si++) {
		for (bi = 0; bi < BENCH_NR_BULKS; bi++) {
			for (pi = 0; pi < bench.nr_points; pi++) {
				for (k = 0; k < BENCH_NR_KINDS; k++) {
					struct bench_point *pt;

					pt = &bench.scaling[si][bi][pi][k];
					seq_buf_clear(&s);
					seq_buf_printf(&s, "result scaling.%u.%u.%s.t%d ",
						       bench_sizes[si],
						       bench_bulks[bi],
						       bench_kind_name[k],
						       bench.threads[pi]);
					bench_ns(&s, 0, pt->ps);
					seq_buf_puts(&s, " ns ");
					bench_mpps(&s, 0, pt->pps);
					seq_buf_puts(&s, " Mpps ");
					bench_ratio(&s, 0, pt->scaling.med);
					seq_buf_puts(&s, " min ");
					bench_ratio(&s, 0, pt->scaling.min);
					seq_buf_puts(&s, " max ");
					bench_ratio(&s, 0, pt->scaling.max);
					bench_print(test, &s);
				}
			}
		}
	}
	for (si = 0; bench.have_touched && si < BENCH_NR_SIZES; si++) {
		for (bi = 0; bi < BENCH_NR_BULKS; bi++) {
			for (k = 0; k < BENCH_NR_KINDS; k++) {
				snprintf(name, sizeof(name), "touched.%u.%u.%s.ns",
					 bench_sizes[si], bench_bulks[bi],
					 bench_kind_name[k]);
				bench_result(test, name,
					     &bench.touched[si][bi][k], false);
			}
			for (k = 0; k < BENCH_NR_RATIOS; k++) {
				snprintf(name, sizeof(name), "touched.%u.%u.ldata_over_%s",
					 bench_sizes[si], bench_bulks[bi],
					 bench_kind_name[k + 1]);
				bench_result(test, name,
					     &bench.touched_ratio[si][bi][k],
					     true);
			}
		}
	}
	for (f = BENCH_SAME_NODE; bench.have_pc && f < BENCH_NR_FREERS; f++) {
		if (bench.xnode_cpu[f] < 0)
			continue;
		for (i = 0; i < BENCH_NR_PCKINDS; i++) {
			k = bench_pc_kinds[i];
			snprintf(name, sizeof(name), "pc.%d.%s.%s.ns",
				 BENCH_XNODE_SIZE, bench_freer_name[f],
				 bench_kind_name[k]);
			bench_result(test, name, &bench.pc[f][k], false);
			if (!i)
				continue;
			snprintf(name, sizeof(name), "pc.%d.%s.ldata_over_%s",
				 BENCH_XNODE_SIZE, bench_freer_name[f],
				 bench_kind_name[k]);
			bench_result(test, name, &bench.pc_ratio[f][k - 1],
				     true);
		}
	}
	for (i = 0; bench.have_pc && bench.xnode_cpu[BENCH_SAME_NODE] >= 0 &&
	     bench.xnode_cpu[BENCH_OTHER_NODE] >= 0 && i < BENCH_NR_PCKINDS;
	     i++) {
		k = bench_pc_kinds[i];
		snprintf(name, sizeof(name), "pc.%d.%s.other_node_over_same_node",
			 BENCH_XNODE_SIZE, bench_kind_name[k]);
		bench_result(test, name, &bench.pc_node_ratio[k], true);
	}
	for (i = 0; bench.have_xnode && i < BENCH_NR_XKINDS; i++) {
		k = bench_xnode_kinds[i];
		for (f = 0; f < BENCH_NR_FREERS; f++) {
			if (bench.xnode_cpu[f] < 0)
				continue;
			snprintf(name, sizeof(name), "xnode.%d.%s.free_%s.ns",
				 BENCH_XNODE_SIZE, bench_kind_name[k],
				 bench_freer_name[f]);
			bench_result(test, name, &bench.xnode[f][k], false);
		}
		snprintf(name, sizeof(name), "xnode.%d.%s.alloc.ns",
			 BENCH_XNODE_SIZE, bench_kind_name[k]);
		bench_result(test, name, &bench.xnode_alloc[k], false);
		snprintf(name, sizeof(name), "xnode.%d.%s.other_node_over_%s",
			 BENCH_XNODE_SIZE, bench_kind_name[k],
			 bench_freer_name[bench.xnode_local]);
		bench_result(test, name, &bench.xnode_ratio[k], true);
	}
	kunit_info(test, BENCH_TAG "END RESULTS\n");
}

static void bench_summary(struct kunit *test)
{
	if (!bench.have_single && !bench.have_scaling && !bench.have_xnode &&
	    !bench.have_touched && !bench.have_pc)
		kunit_skip(test, "no case has measured anything");
	bench_targets(test);
	bench_results(test);
}

/* ===== Suite ===== */

/* The online CPUs node by node, and the thread counts to measure. */
static int bench_find_cpus(void)
{
	int node, cpu, t, n = 0;

	bench.cpus = kcalloc(nr_cpu_ids, sizeof(*bench.cpus), GFP_KERNEL);
	if (!bench.cpus)
		return -ENOMEM;
	for_each_online_node(node) {
		for_each_cpu_and(cpu, cpumask_of_node(node), cpu_online_mask)
			bench.cpus[n++] = cpu;
		if (n && !bench.node_cpus)
			bench.node_cpus = n;
	}
	if (!n)
		return -ENODEV;
	bench.nr_cpus = n;
	/* Every count up to 8 CPUs, then powers of two, the node and all. */
	for (t = 1; t < n && bench.nr_points < BENCH_MAX_POINTS - 2;
	     t = n <= 8 ? t + 1 : t * 2)
		bench.threads[bench.nr_points++] = t;
	bench.threads[bench.nr_points++] = n;
	for (t = 0; t < bench.nr_points; t++)
		if (bench.threads[t] == bench.node_cpus)
			return 0;
	bench.threads[bench.nr_points++] = bench.node_cpus;
	sort(bench.threads, bench.nr_points, sizeof(int), bench_cmp_int, NULL);
	return 0;
}

/* What a ktime_get_ns() costs here: it is paid once per chunk. */
static u64 bench_clock_ns(void)
{
	u64 start = ktime_get_ns();
	int i;

	for (i = 0; i < 1000; i++)
		ktime_get_ns();
	return div_u64(ktime_get_ns() - start, 1000);
}

static int bench_suite_init(struct kunit_suite *suite)
{
	int node, err;

	memset(&bench, 0, sizeof(bench));
	err = bench_find_cpus();
	if (err)
		return err;
	bench.clock_ns = bench_clock_ns();
	kunit_info(suite, BENCH_TAG "%d CPUs online, %d nodes with CPUs; ktime_get_ns() %llu ns, read once per %d pairs; %d ms windows\n",
		   bench.nr_cpus, num_node_state(N_CPU), bench.clock_ns,
		   BENCH_CHUNK, BENCH_WINDOW_MS);
	for_each_node_state(node, N_CPU)
		kunit_info(suite, BENCH_TAG "node %d: CPUs %*pbl\n", node,
			   cpumask_pr_args(cpumask_of_node(node)));
	return 0;
}

static void bench_suite_exit(struct kunit_suite *suite)
{
	kfree(bench.cpus);
	bench.cpus = NULL;
}

static struct kunit_case ldata_bench_cases[] = {
	KUNIT_CASE_SLOW(bench_single_thread),
	KUNIT_CASE_SLOW(bench_touched),
	KUNIT_CASE_SLOW(bench_scaling),
	KUNIT_CASE_SLOW(bench_cross_node_free),
	KUNIT_CASE_SLOW(bench_producer_consumer),
	KUNIT_CASE_SLOW(bench_summary),
	{}
};

static struct kunit_suite ldata_bench_suite = {
	.name = "ldata_bench",
	.suite_init = bench_suite_init,
	.suite_exit = bench_suite_exit,
	.test_cases = ldata_bench_cases,
};

kunit_test_suite(ldata_bench_suite);

MODULE_DESCRIPTION("Benchmark of ldata pools against kmem_cache and objpool");
MODULE_LICENSE("GPL");
