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
 * For N = 1, 2, 3, 4, 8, 16, 32, 33, 34, 64, 128 and 256 pages of a pinned
 * LW_XMATTACH descriptor (enum bench_arm has the arms):
 *  - lw: as_lw_att64() + as_lw_det64() of the N pages, attach and detach
 *    also timed apart, and the marginal cost per page between sizes;
 *  - a consumer that touches one line per page, or reads every byte:
 *    through an attachment, against copy_from_user() (memcpy() from a
 *    shared mapping) or access_remote_vm() (process_vm_readv()) of the
 *    pages and the same reads of the copy; the break-even is the first N
 *    at which the attachment costs no more;
 *  - mmap: vm_mmap(MAP_SHARED | MAP_POPULATE) + vm_munmap() of the same
 *    number of resident pages of a shmem file (a memfd), against lw and
 *    against lw's one-shot cost (xmattach() + attach + detach +
 *    xmdetach(): pinning is not free).
 * Then lw with N = 1 in T threads of one process, each with its own window,
 * on one shared descriptor and on one descriptor each, and lw on one CPU
 * while a sibling thread of the same process runs on another (whose TLB a
 * shootdown would have to reach).
 *
 * A measurement runs its operation in chunks until BENCH_WINDOW_NS have
 * passed, reading the clock once per chunk; it is repeated BENCH_REPS times
 * with the arms interleaved, and the median is shown, with ratios as the
 * median of the repetitions' ratios and their range.  Every output line
 * starts with "lw_bench: ".
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
#define BENCH_POOL		(16 * BENCH_LEN)	/* each thread's window */
#define BENCH_REPS		7
#define BENCH_WINDOW_NS		(20 * NSEC_PER_MSEC)
#define BENCH_THREAD_NS		(50 * NSEC_PER_MSEC)
#define BENCH_CHUNK		16

/*
 * The arms.  A consumer that touches one line per page, or reads every
 * byte, of N pages another process owns: through an attachment, or by
 * copying the pages (copy_from_user(), as memcpy() from a shared mapping
 * would; access_remote_vm(), the mechanism of process_vm_readv()) and
 * reading the copy.  Then what else maps them: mmap() of a memfd, and lw's one-shot
 * cost with the descriptor made and released around the attachment.
 */
enum bench_arm {
	ARM_LW,		/* as_lw_att64() + as_lw_det64(), timed apart too */
	ARM_LW_LINE,	/* attach, one line per page, detach */
	ARM_LW_READ,	/* attach, every byte, detach */
	ARM_COPY_LINE,	/* copy_from_user() of the pages, one line per page */
	ARM_COPY_READ,	/* copy_from_user() of the pages, every byte */
	ARM_REMOTE_LINE,	/* access_remote_vm() of the pages, one line */
	ARM_REMOTE_READ,	/* access_remote_vm() of the pages, every byte */
	ARM_MMAP,	/* vm_mmap(MAP_SHARED | MAP_POPULATE) + vm_munmap() */
	ARM_ONESHOT,	/* xmattach() + attach + detach + xmdetach() */
	NR_ARMS
};

static const char * const arm_name[NR_ARMS] = {
	"lw", "lw_line", "lw_read", "copy_line", "copy_read", "remote_line",
	"remote_read", "mmap", "oneshot",
};

static const unsigned int bench_pages[] = {
	1, 2, 3, 4, 8, 16, 32, 33, 34, 64, 128, 256,
};

#define NR_SIZES	ARRAY_SIZE(bench_pages)

struct bench {
	struct kunit *test;
	struct xmem dp;
	unsigned long buf;	/* BENCH_LEN of user memory, the descriptor's */
	struct file *memfd;
	void *kbuf;
	unsigned long pages;	/* N of the arm being measured */
	u64 ns[NR_SIZES][NR_ARMS][BENCH_REPS];
	u64 att_ns[NR_SIZES][BENCH_REPS];	/* of ARM_LW, apart */
	u64 det_ns[NR_SIZES][BENCH_REPS];
	u64 sink;		/* what the consumers read */
	int fails[NR_ARMS];	/* failed operations, by arm */
	int fail_err;		/* the last failed attach's or detach's */
	unsigned long fail_pages;	/* and its N */
	/* threads */
	atomic_t ready, go, stop;
	int failed;
};

/* Sum every @step-th u64 of @len bytes of user memory at @addr. */
static bool bench_read_user(struct bench *b, unsigned long addr, size_t len,
			    size_t step)
{
	const u64 __user *p = (const u64 __user *)addr;
	u64 sum = 0, v;
	size_t i;

	if (!user_read_access_begin(p, len))
		return false;
	for (i = 0; i < len / sizeof(u64); i += step / sizeof(u64)) {
		unsafe_get_user(v, p + i, fault);
		sum += v;
	}
	user_read_access_end();
	b->sink += sum;
	return true;
fault:
	user_read_access_end();
	return false;
}

/* The same of kernel memory. */
static void bench_read_kernel(struct bench *b, size_t len, size_t step)
{
	const u64 *p = b->kbuf;
	u64 sum = 0;
	size_t i;

	for (i = 0; i < len / sizeof(u64); i += step / sizeof(u64))
		sum += READ_ONCE(p[i]);
	b->sink += sum;
}

/* Attach, read every @step-th word (none if 0), detach. */
static bool bench_lw(struct bench *b, size_t step)
{
	size_t len = b->pages * PAGE_SIZE;
	unsigned long addr;
	bool ok;

	if (as_lw_att64(&b->dp, 0, len, &addr))
		return false;
	ok = !step || bench_read_user(b, addr, len, step);
	return !as_lw_det64(&b->dp, addr, len) && ok;
}

/* The descriptor too: pin, attach, detach, unpin. */
static bool bench_oneshot(struct bench *b)
{
	size_t len = b->pages * PAGE_SIZE;
	unsigned long addr;
	struct xmem dp;
	bool ok;

	xmem_init(&dp);
	if (xmattach(b->buf, len, &dp, LW_XMATTACH))
		return false;
	ok = !as_lw_att64(&dp, 0, len, &addr);
	ok = ok && !as_lw_det64(&dp, addr, len);
	return !xmdetach(&dp) && ok;
}

/* One operation of @arm on @b->pages pages; false if it failed. */
static bool bench_op(struct bench *b, enum bench_arm arm)
{
	size_t len = b->pages * PAGE_SIZE;
	unsigned long addr;

	switch (arm) {
	case ARM_LW:
		return bench_lw(b, 0);
	case ARM_LW_LINE:
		return bench_lw(b, PAGE_SIZE);
	case ARM_LW_READ:
		return bench_lw(b, sizeof(u64));
	case ARM_COPY_LINE:
	case ARM_COPY_READ:
		if (copy_from_user(b->kbuf, (void __user *)b->buf, len))
			return false;
		bench_read_kernel(b, len, arm == ARM_COPY_LINE ? PAGE_SIZE :
							       sizeof(u64));
		return true;
	case ARM_REMOTE_LINE:
	case ARM_REMOTE_READ:
		if (access_remote_vm(current->mm, b->buf, b->kbuf, len, 0) != len)
			return false;
		bench_read_kernel(b, len, arm == ARM_REMOTE_LINE ? PAGE_SIZE :
								 sizeof(u64));
		return true;
	case ARM_MMAP:
		addr = vm_mmap(b->memfd, 0, len, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_POPULATE, 0);
		if (IS_ERR_VALUE(addr))
			return false;
		return !vm_munmap(addr, len);
	case ARM_ONESHOT:
		return bench_oneshot(b);
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
				b->fails[arm]++;
		ops += BENCH_CHUNK;
		now = ktime_get_ns();
		cond_resched();
	} while (now - start < BENCH_WINDOW_NS);
	return div64_u64(now - start, ops);
}

/*
 * ARM_LW with attach and detach timed apart: chunks of as many attaches
 * as the window holds (at most BENCH_CHUNK), then their detaches.  Sets
 * *@att and *@det, ns per attach and per detach; returns their sum.
 */
static u64 bench_time_apart(struct bench *b, u64 *att, u64 *det)
{
	unsigned long addr[BENCH_CHUNK];
	size_t len = b->pages * PAGE_SIZE;
	int k = min_t(int, BENCH_CHUNK, BENCH_POOL / len / 2), i, n, err = 0;
	u64 start = ktime_get_ns(), t0, t1, t2, ta = 0, td = 0, ops = 0;

	do {
		t0 = ktime_get_ns();
		for (n = 0; n < k; n++) {
			err = as_lw_att64(&b->dp, 0, len, &addr[n]);
			if (err)
				break;
		}
		t1 = ktime_get_ns();
		for (i = 0; i < n; i++)
			if (as_lw_det64(&b->dp, addr[i], len))
				err = -EINVAL;
		t2 = ktime_get_ns();
		if (err) {
			b->fails[ARM_LW]++;
			b->fail_err = err;
			b->fail_pages = b->pages;
		}
		ta += t1 - t0;
		td += t2 - t1;
		ops += max(n, 1);
		cond_resched();
	} while (t2 - start < BENCH_WINDOW_NS);
	*att = div64_u64(ta, ops);
	*det = div64_u64(td, ops);
	return *att + *det;
}

static int bench_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Median, lowest and highest of @n values. */
static u64 median(const u64 *v, int n, u64 *lo, u64 *hi)
{
	u64 tmp[BENCH_REPS];

	memcpy(tmp, v, n * sizeof(*v));
	sort(tmp, n, sizeof(*tmp), bench_cmp, NULL);
	if (lo)
		*lo = tmp[0];
	if (hi)
		*hi = tmp[n - 1];
	return tmp[n / 2];
}

/*
 * Median over the repetitions of the ratio of arm @x to arm @y at size
 * @si, in thousandths, with the lowest and highest.
 */
static u64 ratio(struct bench *b, int si, enum bench_arm x,
		 enum bench_arm y, u64 *lo, u64 *hi)
{
	u64 r[BENCH_REPS];
	int i;

	for (i = 0; i < BENCH_REPS; i++)
		r[i] = div64_u64(b->ns[si][x][i] * 1000,
				 max_t(u64, b->ns[si][y][i], 1));
	return median(r, BENCH_REPS, lo, hi);
}

/* The comparisons, as "x/y" columns and result names. */
static const struct {
	enum bench_arm x, y;
	const char *what;
} bench_cmps[] = {
	{ ARM_LW, ARM_MMAP, "lw/mmap" },
	{ ARM_ONESHOT, ARM_MMAP, "oneshot/mmap" },
	{ ARM_LW_LINE, ARM_COPY_LINE, "line: lw/copy" },
	{ ARM_LW_LINE, ARM_REMOTE_LINE, "line: lw/remote" },
	{ ARM_LW_READ, ARM_COPY_READ, "read: lw/copy" },
	{ ARM_LW_READ, ARM_REMOTE_READ, "read: lw/remote" },
};

static void bench_report(struct kunit *test, struct bench *b)
{
	u64 med[NR_ARMS], att, det, lo, hi, r;
	int si, a, c;

	kunit_info(test, "lw_bench: ns per operation, median of %d repetitions, arms interleaved\n",
		   BENCH_REPS);
	kunit_info(test, "lw_bench: pages   attach   detach       lw  lw_line  lw_read copy_line copy_read rem_line rem_read     mmap  oneshot\n");
	for (si = 0; si < NR_SIZES; si++) {
		for (a = 0; a < NR_ARMS; a++)
			med[a] = median(b->ns[si][a], BENCH_REPS, NULL, NULL);
		att = median(b->att_ns[si], BENCH_REPS, NULL, NULL);
		det = median(b->det_ns[si], BENCH_REPS, NULL, NULL);
		kunit_info(test, "lw_bench: %5u %8llu %8llu %8llu %8llu %8llu %9llu %9llu %8llu %8llu %8llu %8llu\n",
			   bench_pages[si], att, det, med[ARM_LW],
			   med[ARM_LW_LINE], med[ARM_LW_READ],
			   med[ARM_COPY_LINE], med[ARM_COPY_READ],
			   med[ARM_REMOTE_LINE], med[ARM_REMOTE_READ],
			   med[ARM_MMAP], med[ARM_ONESHOT]);
	}
	kunit_info(test, "lw_bench: ratios: median of the repetitions' (lowest-highest); below 1: lw is faster\n");
	for (c = 0; c < ARRAY_SIZE(bench_cmps); c++) {
		int even = -1;

		for (si = 0; si < NR_SIZES; si++) {
			r = ratio(b, si, bench_cmps[c].x, bench_cmps[c].y,
				  &lo, &hi);
			kunit_info(test, "lw_bench: %-16s %5u pages %llu.%03llu (%llu.%03llu-%llu.%03llu)\n",
				   bench_cmps[c].what, bench_pages[si],
				   r / 1000, r % 1000, lo / 1000, lo % 1000,
				   hi / 1000, hi % 1000);
			if (even < 0 && r <= 1000)
				even = bench_pages[si];
		}
		if (c >= 2) {
			if (even > 0)
				kunit_info(test, "lw_bench: break-even %-16s at %d pages\n",
					   bench_cmps[c].what, even);
			else
				kunit_info(test, "lw_bench: break-even %-16s above %u pages\n",
					   bench_cmps[c].what,
					   bench_pages[NR_SIZES - 1]);
		}
	}
	/* Marginal cost per page between neighbouring sizes. */
	kunit_info(test, "lw_bench: marginal ns per page, from N to the next N: attach, detach\n");
	for (si = 0; si + 1 < NR_SIZES; si++) {
		s64 da = median(b->att_ns[si + 1], BENCH_REPS, NULL, NULL) -
			 median(b->att_ns[si], BENCH_REPS, NULL, NULL);
		s64 dd = median(b->det_ns[si + 1], BENCH_REPS, NULL, NULL) -
			 median(b->det_ns[si], BENCH_REPS, NULL, NULL);
		int dn = bench_pages[si + 1] - bench_pages[si];

		kunit_info(test, "lw_bench: %3u -> %3u %6lld %6lld\n",
			   bench_pages[si], bench_pages[si + 1],
			   div_s64(da, dn), div_s64(dd, dn));
	}
	for (si = 0; si < NR_SIZES; si++) {
		for (a = 0; a < NR_ARMS; a++)
			kunit_info(test, "lw_bench: result arms.%u.%s.ns %llu\n",
				   bench_pages[si], arm_name[a],
				   median(b->ns[si][a], BENCH_REPS, NULL,
					  NULL));
		kunit_info(test, "lw_bench: result arms.%u.attach.ns %llu\n",
			   bench_pages[si],
			   median(b->att_ns[si], BENCH_REPS, NULL, NULL));
		kunit_info(test, "lw_bench: result arms.%u.detach.ns %llu\n",
			   bench_pages[si],
			   median(b->det_ns[si], BENCH_REPS, NULL, NULL));
	}
}

/* The targets of the kernel arm, met or missed. */
static void bench_targets(struct kunit *test, struct bench *b)
{
	u64 r, lo, hi;
	int si;

	r = ratio(b, 0, ARM_LW, ARM_MMAP, &lo, &hi);
	kunit_info(test, "lw_bench: target lw/mmap 1 page %llu.%03llu (%llu.%03llu-%llu.%03llu) <= 0.060 %s\n",
		   r / 1000, r % 1000, lo / 1000, lo % 1000, hi / 1000,
		   hi % 1000, r <= 60 ? "met" : "MISSED");
	/*
	 * Break-even with a copy within 2 pages, for a consumer that touches
	 * a line of each page.
	 */
	for (si = 0; si < NR_SIZES && bench_pages[si] <= 2; si++)
		;
	r = ratio(b, si - 1, ARM_LW_LINE, ARM_COPY_LINE, &lo, &hi);
	kunit_info(test, "lw_bench: target line: lw/copy at 2 pages %llu.%03llu (%llu.%03llu-%llu.%03llu) <= 1.000 %s\n",
		   r / 1000, r % 1000, lo / 1000, lo % 1000, hi / 1000,
		   hi % 1000, r <= 1000 ? "met" : "MISSED");
}

static int arms_fn(struct utask *u)
{
	struct bench *b = u->arg;
	struct kunit *test = u->test;
	int si, r, a;

	if (as_lw_pool_init(BENCH_POOL, 0))
		return -EIO;
	for (si = 0; si < NR_SIZES; si++) {
		b->pages = bench_pages[si];
		for (a = 0; a < NR_ARMS; a++)	/* warm up */
			bench_op(b, a);
		for (r = 0; r < BENCH_REPS; r++) {
			for (a = 0; a < NR_ARMS; a++)
				b->ns[si][a][r] = a == ARM_LW ?
					bench_time_apart(b, &b->att_ns[si][r],
							 &b->det_ns[si][r]) :
					bench_time(b, a);
		}
	}
	bench_report(test, b);
	bench_targets(test, b);
	for (a = 0; a < NR_ARMS; a++) {
		if (!b->fails[a])
			continue;
		kunit_info(test, "lw_bench: %s: %d operations failed\n",
			   arm_name[a], b->fails[a]);
		if (a == ARM_LW)
			kunit_info(test, "lw_bench: lw: the last with %d at %lu pages\n",
				   b->fail_err, b->fail_pages);
		b->failed += b->fails[a];
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
	bool own;		/* attaches a descriptor of its own */
	u64 rate;		/* pairs per second over its own time */
};

static int thread_fn(struct utask *u)
{
	struct bench_thread *t = u->arg;
	struct bench *b = t->b;
	struct xmem own, *dp = &b->dp;
	unsigned long addr;
	u64 pairs = 0, t0;
	int i;

	if (set_cpus_allowed_ptr(current, cpumask_of(t->cpu)))
		b->failed++;
	if (t->own) {
		/* A page of the buffer of its own, pinned by its own descriptor. */
		xmem_init(&own);
		if (xmattach(b->buf + (t->cpu % BENCH_MAX_PAGES) * PAGE_SIZE,
			     PAGE_SIZE, &own, LW_XMATTACH))
			b->failed++;
		else
			dp = &own;
	}
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
			if (as_lw_att64(dp, 0, PAGE_SIZE, &addr) ||
			    as_lw_det64(dp, addr, PAGE_SIZE))
				b->failed++;
		}
		pairs += BENCH_CHUNK;
		cond_resched();
	}
	t->rate = div64_u64(pairs * NSEC_PER_SEC,
			    max_t(u64, ktime_get_ns() - t0, 1));
	if (dp == &own && xmdetach(&own))
		b->failed++;
	return 0;
}

/*
 * Run @nr attaching threads on the first @nr CPUs (and, if @sibling, a
 * spinning one on the next CPU), started together, for BENCH_THREAD_NS;
 * the sum of the attaching threads' own rates, in pairs per second.  With
 * @own, each attaches a descriptor of its own; else all share b->dp.
 */
static u64 run_threads(struct utask *u, struct bench *b, int nr, bool sibling,
		       bool own)
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
		t[i].own = own;
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
	msleep(BENCH_THREAD_NS / NSEC_PER_MSEC);
	atomic_set(&b->stop, 1);
	while (i--) {
		wait_for_completion(&t[i].u.ready);
		if (!t[i].spin)
			total += t[i].rate;
	}
	kfree(t);
	return total;
}

/*
 * T = 1 .. every CPU, on one shared descriptor and on one each: T = 1 and 2
 * repeated BENCH_REPS times, the modes and thread counts interleaved, and
 * scaling computed per repetition; T > 2 once, since 4 vCPUs on a host of
 * 2 cores cannot scale past 2.
 */
static int threads_fn(struct utask *u)
{
	static const char * const mode[2] = { "shared", "own" };
	struct bench *b = u->arg;
	struct kunit *test = u->test;
	int ncpus = num_online_cpus(), nr, r, m;
	u64 rate[2][2][BENCH_REPS], scal[2][BENCH_REPS], lo, hi, med, one;
	u64 alone, with;

	if (as_lw_pool_init(BENCH_LEN, 0))
		return -EIO;
	for (r = 0; r < BENCH_REPS; r++)
		for (nr = 1; nr <= min(2, ncpus); nr++)
			for (m = 0; m < 2; m++)
				rate[m][nr - 1][r] = run_threads(u, b, nr, false,
								 m);
	kunit_info(test, "lw_bench: attach+detach of 1 page in T threads, each with its own window, on one shared descriptor or on one each\n");
	kunit_info(test, "lw_bench: T=1, 2: median of %d (scaling: lowest-highest); T > 2 once, capped by the host's 2 cores\n",
		   BENCH_REPS);
	kunit_info(test, "lw_bench:  T descriptor   kpairs/s  scaling\n");
	for (m = 0; m < 2; m++) {
		one = median(rate[m][0], BENCH_REPS, NULL, NULL);
		kunit_info(test, "lw_bench:  1 %-10s %10llu     1.00\n",
			   mode[m], one / 1000);
		kunit_info(test, "lw_bench: result threads.%s.1.pairs_per_s %llu\n",
			   mode[m], one);
		if (ncpus < 2)
			continue;
		for (r = 0; r < BENCH_REPS; r++)
			scal[m][r] = div64_u64(rate[m][1][r] * 1000,
					       max_t(u64, 2 * rate[m][0][r], 1));
		med = median(scal[m], BENCH_REPS, &lo, &hi);
		kunit_info(test, "lw_bench:  2 %-10s %10llu     %llu.%02llu (%llu.%02llu-%llu.%02llu)\n",
			   mode[m],
			   median(rate[m][1], BENCH_REPS, NULL, NULL) / 1000,
			   med / 1000, med % 1000 / 10, lo / 1000,
			   lo % 1000 / 10, hi / 1000, hi % 1000 / 10);
		kunit_info(test, "lw_bench: result threads.%s.2.pairs_per_s %llu\n",
			   mode[m], median(rate[m][1], BENCH_REPS, NULL, NULL));
		kunit_info(test, "lw_bench: result threads.%s.2.scaling %llu.%03llu\n",
			   mode[m], med / 1000, med % 1000);
		for (nr = 3; nr <= ncpus; nr++) {
			u64 rt = run_threads(u, b, nr, false, m);

			kunit_info(test, "lw_bench: %2d %-10s %10llu     %llu.%02llu (capped)\n",
				   nr, mode[m], rt / 1000,
				   div64_u64(rt * 100, max_t(u64, nr * one, 1)) / 100,
				   div64_u64(rt * 100, max_t(u64, nr * one, 1)) % 100);
			kunit_info(test, "lw_bench: result threads.%s.%d.pairs_per_s %llu\n",
				   mode[m], nr, rt);
		}
	}
	if (ncpus < 2)
		return 0;
	alone = run_threads(u, b, 1, false, false);
	with = run_threads(u, b, 1, true, false);
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
