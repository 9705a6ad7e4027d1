// SPDX-License-Identifier: GPL-2.0
/*
 * xmem_bench: the user-space arms of the attach benchmark (make bench-user).
 *
 * For N = 1, 2, 3, 4, 8, 64, 256 pages and 1..all CPUs of threads, each
 * thread repeats one operation on N resident pages of a buffer that
 * another process owns, for a fixed time:
 *
 *   xmem     XMEM_IOC_ATTACH + read one byte per page + XMEM_IOC_DETACH
 *            (the descriptor fd came from the owner over SCM_RIGHTS)
 *   mmap     mmap(MAP_SHARED | MAP_POPULATE) of the owner's memfd + read
 *            one byte per page + munmap
 *   pvread   process_vm_readv() of the N pages from the owner
 *   memcpy   memcpy() of the N pages from a mapping of the memfd
 *
 * Each cell is repeated (-r, 7) with the arms interleaved.  The rows give
 * ns per operation (each thread's elapsed time over its operations,
 * averaged over threads; the median of the repetitions) and the ratios of
 * xmem to the others (the median of the repetitions' ratios, with the
 * lowest and highest): below 1 means xmem is faster.  Every arm runs in the
 * same boot, side by side.  Then the targets, met or missed.  Each thread's window is POOL_MIB (default 64 MiB), so
 * detached ranges are flushed in one ranged flush per window wrap, as the
 * service is meant to be used, not once per operation.
 * Usage: xmem_bench [-t SECONDS_PER_CELL] [-r REPETITIONS] [-T MAX_THREADS]
 *        [-P POOL_MIB] [-x PAGES]
 * -x runs the xmem arm alone, one thread, PAGES pages, and prints one line
 * "xmem_bench: xmem PAGES pages: NS ns/op" (lw-trace's overhead, make
 * bench-lwtrace).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libxmem.h"

#define PAGE	4096UL
#define MAXN	256UL
#define NARMS	4

enum arm { XMEM, MMAP, PVREAD, MEMCPY };
static const char *const arm_name[NARMS] = { "xmem", "mmap", "pvread", "memcpy" };
static const unsigned long sizes[] = { 1, 2, 3, 4, 8, 64, 256 };
#define NSIZES	(sizeof(sizes) / sizeof(sizes[0]))
#define MAXREPS	31

static int desc_fd, mem_fd;
static pid_t owner;
static unsigned char *owner_buf;	/* the owner's address of the buffer */
static unsigned char *shared;		/* our mapping of the memfd */
static double cell_seconds = 0.5;
static int reps = 7;
static unsigned long pool_mib = 64;

struct worker {
	pthread_t th;
	enum arm arm;
	unsigned long n;
	unsigned long ops;
	double ns;
	int err;
	_Atomic int *go;
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static unsigned long touch(const volatile unsigned char *p, unsigned long n)
{
	unsigned long sum = 0;

	for (unsigned long i = 0; i < n; i++)
		sum += p[i * PAGE];
	return sum;
}

static int one_op(struct worker *w, unsigned char *local, unsigned long *sink)
{
	size_t len = w->n * PAGE;
	struct iovec liov = { local, len }, riov = { owner_buf, len };
	void *p;
	int err;

	switch (w->arm) {
	case XMEM:
		err = xmem_attach(desc_fd, 0, len, 0, &p);
		if (err)
			return err;
		*sink += touch(p, w->n);
		return xmem_detach(desc_fd, p, len);
	case MMAP:
		p = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, mem_fd, 0);
		if (p == MAP_FAILED)
			return -errno;
		*sink += touch(p, w->n);
		return munmap(p, len) ? -errno : 0;
	case PVREAD:
		if (process_vm_readv(owner, &liov, 1, &riov, 1, 0) != (ssize_t)len)
			return -errno;
		*sink += local[0];
		return 0;
	case MEMCPY:
		memcpy(local, shared, len);
		*sink += local[len - 1];
		return 0;
	}
	return -EINVAL;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned char *local = aligned_alloc(PAGE, MAXN * PAGE);
	unsigned long sink = 0;
	double start, end;

	if (!local) {
		w->err = -ENOMEM;
		return NULL;
	}
	memset(local, 0, MAXN * PAGE);
	while (!atomic_load(w->go))
		;
	start = now_ns();
	end = start + cell_seconds * 1e9;
	do {
		for (int i = 0; i < 16; i++) {
			w->err = one_op(w, local, &sink);
			if (w->err)
				goto out;
			w->ops++;
		}
	} while (now_ns() < end);
out:
	w->ns = (now_ns() - start) / (w->ops ? w->ops : 1);
	free(local);
	return (void *)sink;
}

/* ns per operation of @arm at @n pages with @threads threads, or < 0. */
static double cell(enum arm arm, unsigned long n, int threads)
{
	struct worker w[64];
	_Atomic int go = 0;
	double ns = 0;

	for (int i = 0; i < threads; i++) {
		w[i] = (struct worker){ .arm = arm, .n = n, .go = &go };
		if (pthread_create(&w[i].th, NULL, work, &w[i]))
			return -1;
	}
	usleep(20000);
	atomic_store(&go, 1);
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].th, NULL);
		if (w[i].err) {
			fprintf(stderr, "xmem_bench: %s n=%lu: %s\n", arm_name[arm],
				n, strerror(-w[i].err));
			return -1;
		}
		ns += w[i].ns;
	}
	return ns / threads;
}

/* The owner: holds the buffer until killed. */
static void start_owner(void)
{
	int sv[2], dev, fd;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		exit(2);
	owner = fork();
	if (owner < 0)
		exit(2);
	if (!owner) {
		close(sv[0]);
		dev = xmem_open();
		fd = dev < 0 ? dev : xmem_create(dev, owner_buf, MAXN * PAGE,
						 XMEM_CREATE_RDONLY);
		if (fd < 0) {
			fprintf(stderr, "xmem_bench: create: %s\n", strerror(-fd));
			exit(2);
		}
		if (xmem_send_fd(sv[1], fd))
			exit(2);
		pause();
		exit(0);
	}
	close(sv[1]);
	desc_fd = xmem_recv_fd(sv[0]);
	if (desc_fd < 0) {
		fprintf(stderr, "xmem_bench: no descriptor from the owner\n");
		exit(2);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of @n values, with the lowest and highest if asked. */
static double median(const double *v, int n, double *lo, double *hi)
{
	double tmp[MAXREPS];

	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), cmp_double);
	if (lo)
		*lo = tmp[0];
	if (hi)
		*hi = tmp[n - 1];
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* Median of the repetitions' ratios @x[i] / @y[i], lowest and highest. */
static double ratio(const double *x, const double *y, double *lo, double *hi)
{
	double q[MAXREPS];

	for (int i = 0; i < reps; i++)
		q[i] = x[i] / y[i];
	return median(q, reps, lo, hi);
}

/* One thread's ratios, by arm and size, for the targets. */
struct range {
	double med, lo, hi;
};

static struct range cell_ratio[NARMS][NSIZES];

static void targets(void)
{
	struct range *m = &cell_ratio[MMAP][0];
	int even = -1;

	printf("xmem_bench: target xmem/mmap 1 page, every repetition");
	printf(" %.3f (%.3f-%.3f) <= 0.150 %s\n",
	       m->med, m->lo, m->hi, m->hi <= 0.15 ? "met" : "MISSED");
	for (unsigned long s = 0; s < NSIZES && even < 0; s++)
		if (cell_ratio[MEMCPY][s].med <= 1)
			even = sizes[s];
	if (even > 0)
		printf("xmem_bench: break-even xmem/memcpy at %d pages\n", even);
	else
		printf("xmem_bench: break-even xmem/memcpy above %lu pages\n",
		       sizes[NSIZES - 1]);
	printf("xmem_bench: target break-even xmem/memcpy <= 2 pages %s\n",
	       even > 0 && even <= 2 ? "met" : "MISSED");
}

int main(int argc, char **argv)
{
	int max_threads = sysconf(_SC_NPROCESSORS_ONLN), opt, err;
	unsigned long xmem_only = 0;
	double ns[NARMS];

	while ((opt = getopt(argc, argv, "t:T:P:x:r:")) != -1) {
		if (opt == 't')
			cell_seconds = atof(optarg);
		else if (opt == 'r')
			reps = atoi(optarg);
		else if (opt == 'T')
			max_threads = atoi(optarg);
		else if (opt == 'P')
			pool_mib = strtoul(optarg, NULL, 0);
		else if (opt == 'x')
			xmem_only = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (max_threads < 1 || max_threads > 64 || cell_seconds <= 0 ||
	    reps < 1 || reps > MAXREPS ||
	    pool_mib < 1 || pool_mib > 4096 || xmem_only > MAXN)
		return 2;

	/* The owner's buffer is a memfd, so that the mmap arm maps the same pages. */
	mem_fd = memfd_create("xmem_bench", MFD_CLOEXEC);
	if (mem_fd < 0 || ftruncate(mem_fd, MAXN * PAGE))
		return 2;
	owner_buf = mmap(NULL, MAXN * PAGE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, mem_fd, 0);
	if (owner_buf == MAP_FAILED)
		return 2;
	for (unsigned long i = 0; i < MAXN * PAGE; i += 64)
		owner_buf[i] = (unsigned char)i;
	shared = owner_buf;
	start_owner();
	err = xmem_pool_init(desc_fd, pool_mib << 20, 0);
	if (err) {
		fprintf(stderr, "xmem_bench: pool init: %s\n", strerror(-err));
		return 2;
	}

	if (xmem_only) {
		ns[XMEM] = cell(XMEM, xmem_only, 1);
		if (ns[XMEM] < 0)
			return 1;
		printf("xmem_bench: xmem %lu pages: %.1f ns/op\n", xmem_only,
		       ns[XMEM]);
		kill(owner, SIGTERM);
		waitpid(owner, NULL, 0);
		return 0;
	}
	printf("xmem_bench: ns per operation (per thread), median of %d repetitions with the arms interleaved; ratio = xmem / other, median of the repetitions' (lowest-highest), below 1: xmem faster; pool %lu MiB\n",
	       reps, pool_mib);
	printf("xmem_bench: %-7s %5s %10s %10s %10s %10s %17s %17s %17s\n", "threads", "pages",
	       "xmem", "mmap", "pvread", "memcpy", "x/mmap", "x/pvread", "x/memcpy");
	for (int t = 1; t <= max_threads; t = t < max_threads && t * 2 > max_threads ? max_threads : t * 2) {
		for (unsigned long s = 0; s < NSIZES; s++) {
			double r[NARMS][MAXREPS], med[NARMS];

			for (int k = 0; k < reps; k++) {
				for (int a = 0; a < NARMS; a++) {
					r[a][k] = cell(a, sizes[s], t);
					if (r[a][k] < 0)
						return 1;
				}
			}
			for (int a = 0; a < NARMS; a++)
				med[a] = median(r[a], reps, NULL, NULL);
			printf("xmem_bench: %-7d %5lu %10.0f %10.0f %10.0f %10.0f",
			       t, sizes[s], med[XMEM], med[MMAP], med[PVREAD], med[MEMCPY]);
			for (int a = MMAP; a < NARMS; a++) {
				double lo, hi, m = ratio(r[XMEM], r[a], &lo, &hi);

				printf(" %5.2f (%4.2f-%4.2f)", m, lo, hi);
				if (t == 1)
					cell_ratio[a][s] = (struct range){ m, lo, hi };
			}
			printf("\n");
			fflush(stdout);
		}
		if (t == max_threads)
			break;
	}
	targets();
	printf("xmem_bench: END RESULTS\n");
	kill(owner, SIGTERM);
	waitpid(owner, NULL, 0);
	return 0;
}
