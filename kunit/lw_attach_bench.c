// SPDX-License-Identifier: GPL-2.0
/*
 * lw_attach_bench: lightweight attach and detach measured against the ways a
 * process would otherwise reach another process's pages.
 *
 * Not a test but a KUnit suite of slow cases, for a production kernel
 * (kunit/bench.kunitconfig, "make bench"); no case asserts a timing.  Every
 * measurement runs in a user-mode task (see lw_utask.h) that shares a KUnit
 * user mm, because the services refuse kernel threads.  The user-space arms
 * (through /dev/xmem) come with that interface; these are the in-kernel
 * costs of the same operations.
 *
 * For N = 1, 8, 64 and 256 pages of a pinned LW_XMATTACH descriptor:
 *  - lw: as_lw_att64() + as_lw_det64() of the N pages;
 *  - mmap: vm_mmap(MAP_SHARED | MAP_POPULATE) + vm_munmap() of the same
 *    number of resident pages of a shmem file (a memfd);
 *  - memcpy: copy_from_user() of the N pages' bytes into a kernel buffer;
 *  - remote: access_remote_vm() of the same bytes, the mechanism of
 *    process_vm_readv().
 * Then lw with N = 1 in T threads of one process, each with its own window,
 * T = 1 to every CPU, and lw on one CPU while a sibling thread of the same
 * process runs on another (whose TLB a shootdown would have to reach).
 *
 * A measurement runs its operation in chunks until BENCH_WINDOW_NS have
 * passed, reading the clock once per chunk; it is repeated BENCH_REPS times
 * with the arms interleaved, and the median is shown, with ratios as the
 * median of the repetitions' ratios.  Every output line starts with
 * "lw_bench: ".
 */

#include <kunit/test.h>
#include <linux/adspace.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <linux/xmem.h>

#include "lw_kunit.h"
#include "lw_utask.h"

#define BENCH_MAX_PAGES		256
#define BENCH_LEN		(BENCH_MAX_PAGES * PAGE_SIZE)
#define BENCH_REPS		5
#define BENCH_WINDOW_NS		(50 * NSEC_PER_MSEC)
#define BENCH_CHUNK		16

enum bench_arm { ARM_LW, ARM_MMAP, ARM_MEMCPY, ARM_REMOTE, NR_ARMS };

static const char * const arm_name[NR_ARMS] = {
	"lw", "mmap", "memcpy", "remote",
};

static const unsigned int bench_pages[] = { 1, 8, 64, 256 };

struct bench {
	struct kunit *test;
	struct xmem dp;
	unsigned long buf;	/* BENCH_LEN of user memory, the descriptor's */
	struct file *memfd;
	void *kbuf;
	unsigned long pages;	/* N of the arm being measured */
	u64 ns[NR_ARMS][BENCH_REPS];
	/* threads */
	atomic_t ready, go, stop;
	int failed;
};

/* One operation of @arm on @b->pages pages; false if it failed. */
static bool bench_op(struct bench *b, enum bench_arm arm)
{
	size_t len = b->pages * PAGE_SIZE;
	unsigned long addr;

	switch (arm) {
	case ARM_LW:
		if (as_lw_att64(&b->dp, 0, len, &addr))
			return false;
		return !as_lw_det64(&b->dp, addr, len);
	case ARM_MMAP:
		addr = vm_mmap(b->memfd, 0, len, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_POPULATE, 0);
		if (IS_ERR_VALUE(addr))
			return false;
		return !vm_munmap(addr, len);
	case ARM_MEMCPY:
		return !copy_from_user(b->kbuf, (void __user *)b->buf, len);
	case ARM_REMOTE:
		return access_remote_vm(current->mm, b->buf, b->kbuf, len, 0) ==
		       len;
	default:
		return false;
	}
}

/* ns per operation of @arm, over one window. */
static u64 bench_time(struct bench *b, enum bench_arm arm)
{
	u64 start = ktime_get_ns(), now, ops = 0;
	int i;

	do {
		for (i = 0; i < BENCH_CHUNK; i++)
			if (!bench_op(b, arm))
				b->failed++;
		ops += BENCH_CHUNK;
		now = ktime_get_ns();
		cond_resched();
	} while (now - start < BENCH_WINDOW_NS);
	return div64_u64(now - start, ops);
}

static int bench_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static u64 median(u64 *v, int n)
{
	u64 tmp[BENCH_REPS];

	memcpy(tmp, v, n * sizeof(*v));
	sort(tmp, n, sizeof(*tmp), bench_cmp, NULL);
	return tmp[n / 2];
}

/* Median over the repetitions of the ratio @a / @b, in thousandths. */
static u64 ratio(struct bench *b, enum bench_arm x, enum bench_arm y)
{
	u64 r[BENCH_REPS];
	int i;

	for (i = 0; i < BENCH_REPS; i++)
		r[i] = div64_u64(b->ns[x][i] * 1000, max_t(u64, b->ns[y][i], 1));
	return median(r, BENCH_REPS);
}

static int arms_fn(struct utask *u)
{
	struct bench *b = u->arg;
	struct kunit *test = u->test;
	int p, r, a;

	if (as_lw_pool_init(4 * BENCH_LEN, 0))
		return -EIO;
	kunit_info(test, "lw_bench: ns per operation, median of %d; ratio = lw / arm\n",
		   BENCH_REPS);
	kunit_info(test, "lw_bench: pages       lw     mmap   memcpy   remote  lw/mmap lw/memcpy lw/remote\n");
	for (p = 0; p < ARRAY_SIZE(bench_pages); p++) {
		b->pages = bench_pages[p];
		for (a = 0; a < NR_ARMS; a++)	/* warm up */
			bench_op(b, a);
		for (r = 0; r < BENCH_REPS; r++)
			for (a = 0; a < NR_ARMS; a++)
				b->ns[a][r] = bench_time(b, a);
		kunit_info(test, "lw_bench: %5lu %8llu %8llu %8llu %8llu    %llu.%03llu     %llu.%03llu     %llu.%03llu\n",
			   b->pages, median(b->ns[ARM_LW], BENCH_REPS),
			   median(b->ns[ARM_MMAP], BENCH_REPS),
			   median(b->ns[ARM_MEMCPY], BENCH_REPS),
			   median(b->ns[ARM_REMOTE], BENCH_REPS),
			   ratio(b, ARM_LW, ARM_MMAP) / 1000,
			   ratio(b, ARM_LW, ARM_MMAP) % 1000,
			   ratio(b, ARM_LW, ARM_MEMCPY) / 1000,
			   ratio(b, ARM_LW, ARM_MEMCPY) % 1000,
			   ratio(b, ARM_LW, ARM_REMOTE) / 1000,
			   ratio(b, ARM_LW, ARM_REMOTE) % 1000);
		for (a = 0; a < NR_ARMS; a++)
			kunit_info(test, "lw_bench: result arms.%lu.%s.ns %llu\n",
				   b->pages, arm_name[a],
				   median(b->ns[a], BENCH_REPS));
	}
	return 0;
}

static void bench_fput(void *file)
{
	fput(file);
}

/* The descriptor, its buffer and a memfd of the same size, all resident. */
static struct bench *bench_setup(struct kunit *test)
{
	struct bench *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	unsigned long addr;

	KUNIT_ASSERT_NOT_NULL(test, b);
	b->test = test;
	b->kbuf = kunit_kzalloc(test, BENCH_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->kbuf);
	b->buf = kunit_vm_mmap(test, NULL, 0, BENCH_LEN, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, 0);
	KUNIT_ASSERT_NE(test, b->buf, 0UL);
	KUNIT_ASSERT_EQ(test, clear_user((void __user *)b->buf, BENCH_LEN), 0UL);
	xmem_init(&b->dp);
	KUNIT_ASSERT_EQ(test, xmattach(b->buf, BENCH_LEN, &b->dp, LW_XMATTACH), 0);
	lw_kunit_detach_at_end(test, &b->dp);

	b->memfd = shmem_file_setup("lw_bench", BENCH_LEN, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b->memfd));
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, bench_fput, b->memfd),
			0);
	addr = vm_mmap(b->memfd, 0, BENCH_LEN, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));
	KUNIT_ASSERT_EQ(test, vm_munmap(addr, BENCH_LEN), 0);
	return b;
}

static void bench_arms(struct kunit *test)
{
	struct bench *b = bench_setup(test);

	KUNIT_EXPECT_EQ(test, run_user(test, arms_fn, b), 0);
	KUNIT_EXPECT_EQ(test, b->failed, 0);
}

/* ===== Threads ===== */

struct bench_thread {
	struct utask u;
	struct bench *b;
	int cpu;
	bool spin;		/* a sibling that only runs, never attaches */
	u64 rate;		/* pairs per second over its own time */
};

static int thread_fn(struct utask *u)
{
	struct bench_thread *t = u->arg;
	struct bench *b = t->b;
	unsigned long addr;
	u64 pairs = 0, t0;
	int i;

	if (set_cpus_allowed_ptr(current, cpumask_of(t->cpu)))
		b->failed++;
	atomic_inc(&b->ready);
	/* cond_resched(): the kernel may not preempt, and the CPU is shared. */
	while (!atomic_read(&b->go))
		cond_resched();
	t0 = ktime_get_ns();
	while (!atomic_read(&b->stop)) {
		if (t->spin) {
			cond_resched();
			continue;
		}
		for (i = 0; i < BENCH_CHUNK; i++) {
			if (as_lw_att64(&b->dp, 0, PAGE_SIZE, &addr) ||
			    as_lw_det64(&b->dp, addr, PAGE_SIZE))
				b->failed++;
		}
		pairs += BENCH_CHUNK;
		cond_resched();
	}
	t->rate = div64_u64(pairs * NSEC_PER_SEC,
			    max_t(u64, ktime_get_ns() - t0, 1));
	return 0;
}

/*
 * Run @nr attaching threads on the first @nr CPUs (and, if @sibling, a
 * spinning one on the next CPU), started together, for one window each;
 * the sum of the attaching threads' own rates, in pairs per second.
 */
static u64 run_threads(struct utask *u, struct bench *b, int nr, bool sibling)
{
	struct bench_thread *t;
	int cpu, i = 0, n = nr + sibling;
	u64 total = 0;

	t = kcalloc(n, sizeof(*t), GFP_KERNEL);
	if (!t)
		return 0;
	atomic_set(&b->ready, 0);
	atomic_set(&b->go, 0);
	atomic_set(&b->stop, 0);
	for_each_online_cpu(cpu) {
		if (i == n)
			break;
		t[i].b = b;
		t[i].cpu = cpu;
		t[i].spin = i >= nr;
		t[i].u.test = u->test;
		if (uthread_start(&t[i].u, thread_fn, &t[i]) < 0) {
			b->failed++;
			break;
		}
		i++;
	}
	while (atomic_read(&b->ready) < i)
		schedule_timeout_uninterruptible(1);
	atomic_set(&b->go, 1);
	msleep(4 * BENCH_WINDOW_NS / NSEC_PER_MSEC);
	atomic_set(&b->stop, 1);
	while (i--) {
		wait_for_completion(&t[i].u.ready);
		if (!t[i].spin)
			total += t[i].rate;
	}
	kfree(t);
	return total;
}

static int threads_fn(struct utask *u)
{
	struct bench *b = u->arg;
	struct kunit *test = u->test;
	int ncpus = num_online_cpus(), nr;
	u64 one = 0, rate, alone, with;

	if (as_lw_pool_init(BENCH_LEN, 0))
		return -EIO;
	kunit_info(test, "lw_bench: attach+detach of 1 page in T threads, each with its own window\n");
	kunit_info(test, "lw_bench:  T   kpairs/s  scaling\n");
	for (nr = 1; nr <= ncpus; nr++) {
		rate = run_threads(u, b, nr, false);
		if (nr == 1)
			one = rate;
		kunit_info(test, "lw_bench: %2d %10llu    %llu.%02llu\n", nr,
			   rate / 1000,
			   div64_u64(rate * 100, max_t(u64, nr * one, 1)) / 100,
			   div64_u64(rate * 100, max_t(u64, nr * one, 1)) % 100);
		kunit_info(test, "lw_bench: result threads.%d.pairs_per_s %llu\n",
			   nr, rate);
	}
	if (ncpus < 2)
		return 0;
	alone = run_threads(u, b, 1, false);
	with = run_threads(u, b, 1, true);
	kunit_info(test, "lw_bench: 1 thread alone %llu pairs/s, with a sibling running on another CPU %llu pairs/s: slowdown %llu.%02llu\n",
		   alone, with,
		   div64_u64(alone * 100, max_t(u64, with, 1)) / 100,
		   div64_u64(alone * 100, max_t(u64, with, 1)) % 100);
	kunit_info(test, "lw_bench: result sibling.slowdown_x100 %llu\n",
		   div64_u64(alone * 100, max_t(u64, with, 1)));
	return 0;
}

/* The last case: says the table is complete. */
static void bench_end(struct kunit *test)
{
	kunit_info(test, "lw_bench: END RESULTS\n");
}

static void bench_threads(struct kunit *test)
{
	struct bench *b = bench_setup(test);

	KUNIT_EXPECT_EQ(test, run_user(test, threads_fn, b), 0);
	KUNIT_EXPECT_EQ(test, b->failed, 0);
}

static struct kunit_case lw_bench_cases[] = {
	KUNIT_CASE_SLOW(bench_arms),
	KUNIT_CASE_SLOW(bench_threads),
	KUNIT_CASE_SLOW(bench_end),
	{}
};

static struct kunit_suite lw_bench_suite = {
	.name = "lw_attach_bench",
	.test_cases = lw_bench_cases,
};

kunit_test_suite(lw_bench_suite);

MODULE_DESCRIPTION("Benchmark of lightweight attach and detach");
MODULE_LICENSE("GPL");
