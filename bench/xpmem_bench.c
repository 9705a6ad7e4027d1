// SPDX-License-Identifier: GPL-2.0
/*
 * xpmem_bench: attach + first touch + detach through an XPMEM library
 * (make bench-xpmem).
 *
 * An owner process makes an XPMEM segment of a 2 MiB-aligned buffer of
 * MAXN pages that is a memfd mapping, so that the mmap arm maps the very
 * same pages; the benchmark gets it once, then times, for N = 1, 8, 64,
 * 256 and 512 pages, one operation of each arm:
 *
 *   xpmem    xpmem_attach() of N pages + read one word per page +
 *            xpmem_detach(): the first touch maps a whole 2 MiB chunk
 *            (fault-around)
 *   perpage  the same with madvise(MADV_RANDOM) on the attachment before
 *            the touch: one fault per page
 *   mmap     mmap(MAP_SHARED) of the owner's memfd + read one word per
 *            page + munmap()
 *   pvread   process_vm_readv() of the same words from the owner, one
 *            iovec per page
 *
 * A repetition runs every cell (N, arm) for -t seconds, arms interleaved
 * within each N; -r repetitions (default 7).  Each cell's figure is its
 * median over the repetitions (and its minimum); each ratio is the median
 * of the per-repetition ratios, with their range, so that a slow
 * repetition moves both sides of its ratio.  The per-page cost of a mode
 * is its slope between 1 and MAXN pages.  Nothing is asserted: the targets
 * are printed next to the figures.
 *
 * Two libraries in one boot (make bench XPMEM_SRC=): the program is linked
 * with libxpmem.so.0, and the guest runs it once per repetition and
 * library, alternating, each run with -r 1 -i REP -o FILE appending its
 * raw figures to FILE; -R FILE then reports every library's table, and the
 * ratio of the first library's xpmem arm to each other's, pairing the
 * runs of one repetition.
 *
 * Usage: xpmem_bench [-t SECONDS_PER_CELL] [-r REPETITIONS] [-l LABEL]
 *                    [-o RAWFILE -i REPETITION]
 *        xpmem_bench -R RAWFILE
 * LABEL names the library in the output (default "ours").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xpmem.h>

#define PAGE	4096UL
#define MAXN	512UL			/* 2 MiB: one PMD of the owner's */
#define MAXREPS	31
#define MAXLIBS	4
#define NARMS	4
#define NSIZES	5

enum arm { XPMEM, PERPAGE, MMAP, PVREAD };
static const char *const arm_name[NARMS] = {
	"xpmem", "perpage", "mmap", "pvread"
};
static const unsigned long sizes[NSIZES] = { 1, 8, 64, 256, MAXN };

static pid_t owner;
static unsigned char *owner_buf;	/* the owner's address of the buffer */
static int mem_fd;
static xpmem_apid_t apid;
static double cell_seconds = 0.2;
static const char *label = "ours";

/* ns per operation of each library: [arm][size][repetition] */
struct lib {
	char label[32];
	int reps;
	double ns[NARMS][NSIZES][MAXREPS];
};
static struct lib libs[MAXLIBS];
static int nlibs;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t touch(const volatile uint64_t *p, unsigned long n)
{
	uint64_t sum = 0;

	for (unsigned long i = 0; i < n; i++)
		sum += p[i * (PAGE / sizeof(*p))];
	return sum;
}

/* One operation of @arm on @n pages; 0 or an errno. */
static int one_op(enum arm arm, unsigned long n, struct iovec *liov,
		  struct iovec *riov, uint64_t *sink)
{
	size_t len = n * PAGE;
	void *p;

	switch (arm) {
	case XPMEM:
	case PERPAGE:
		p = xpmem_attach((struct xpmem_addr){ .apid = apid }, len, NULL);
		if (p == (void *)-1)
			return errno;
		if (arm == PERPAGE && madvise(p, len, MADV_RANDOM))
			return errno;
		*sink += touch(p, n);
		return xpmem_detach(p) ? errno : 0;
	case MMAP:
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, mem_fd, 0);
		if (p == MAP_FAILED)
			return errno;
		*sink += touch(p, n);
		return munmap(p, len) ? errno : 0;
	case PVREAD:
		if (process_vm_readv(owner, liov, n, riov, n, 0) !=
		    (ssize_t)(n * sizeof(uint64_t)))
			return errno;
		*sink += *(uint64_t *)liov[n - 1].iov_base;
		return 0;
	}
	return EINVAL;
}

/* ns per operation of @arm on @n pages for cell_seconds, or < 0. */
static double cell(enum arm arm, unsigned long n, struct iovec *liov,
		   struct iovec *riov)
{
	static uint64_t sink;
	unsigned long ops = 0;
	double start = now_ns(), end = start + cell_seconds * 1e9, t;
	int err;

	do {
		for (int i = 0; i < 8; i++, ops++) {
			err = one_op(arm, n, liov, riov, &sink);
			if (err) {
				fprintf(stderr, "xpmem_bench: %s %s n=%lu: %s\n",
					label, arm_name[arm], n, strerror(err));
				return -1;
			}
		}
		t = now_ns();
	} while (t < end);
	return (t - start) / ops;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[MAXREPS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n & 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double minimum(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

static double maximum(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

/*
 * "median [min-max]" of the per-repetition ratios @a / @b, in @buf; returns
 * the median.
 */
static double ratio(char *buf, size_t size, const double *a, const double *b,
		    int reps)
{
	double r[MAXREPS] = { 0 }, med;

	for (int i = 0; i < reps; i++)
		r[i] = a[i] / b[i];
	med = median(r, reps);
	snprintf(buf, size, "%.3f [%.3f-%.3f]", med, minimum(r, reps),
		 maximum(r, reps));
	return med;
}

/* The owner: makes the segment, sends its id, holds it until killed. */
static void start_owner(void)
{
	xpmem_segid_t segid;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		exit(2);
	owner = fork();
	if (owner < 0)
		exit(2);
	if (!owner) {
		close(sv[0]);
		segid = xpmem_make(owner_buf, MAXN * PAGE, XPMEM_PERMIT_MODE,
				   (void *)0600);
		if (segid == -1) {
			fprintf(stderr, "xpmem_bench: xpmem_make: %s\n",
				strerror(errno));
			exit(2);
		}
		if (write(sv[1], &segid, sizeof(segid)) != sizeof(segid))
			exit(2);
		pause();
		exit(0);
	}
	close(sv[1]);
	if (read(sv[0], &segid, sizeof(segid)) != sizeof(segid)) {
		fprintf(stderr, "xpmem_bench: no segment from the owner\n");
		exit(2);
	}
	close(sv[0]);
	apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	if (apid == -1) {
		fprintf(stderr, "xpmem_bench: xpmem_get: %s\n", strerror(errno));
		exit(2);
	}
}

/* The owner's buffer: MAXN pages of a memfd, 2 MiB-aligned, resident. */
static int owner_buffer(void)
{
	unsigned char *area;
	uintptr_t aligned;

	mem_fd = memfd_create("xpmem_bench", MFD_CLOEXEC);
	if (mem_fd < 0 || ftruncate(mem_fd, MAXN * PAGE))
		return -1;
	area = mmap(NULL, 2 * MAXN * PAGE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return -1;
	aligned = ((uintptr_t)area + MAXN * PAGE - 1) & ~(MAXN * PAGE - 1);
	owner_buf = mmap((void *)aligned, MAXN * PAGE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED | MAP_POPULATE, mem_fd, 0);
	if (owner_buf == MAP_FAILED)
		return -1;
	for (unsigned long i = 0; i < MAXN * PAGE; i += 64)
		owner_buf[i] = (unsigned char)(i / 64);
	return 0;
}

/* The table of @l, and its figures against the targets. */
static void report_lib(const struct lib *l)
{
	double med[NARMS][NSIZES], slope[NARMS], frac;
	char r1[64], r2[64], r3[64];
	int reps = l->reps;

	printf("xpmem_bench: %s library; ns per operation, median (min) of %d repetitions\n",
	       l->label, reps);
	printf("xpmem_bench: %5s %16s %16s %16s %16s\n", "pages",
	       "xpmem", "perpage", "mmap", "pvread");
	for (int s = 0; s < NSIZES; s++) {
		printf("xpmem_bench: %5lu", sizes[s]);
		for (int a = 0; a < NARMS; a++) {
			med[a][s] = median(l->ns[a][s], reps);
			snprintf(r1, sizeof(r1), "%.0f (%.0f)", med[a][s],
				 minimum(l->ns[a][s], reps));
			printf(" %16s", r1);
		}
		printf("\n");
	}
	printf("xpmem_bench: %s: ratios, median [range] of the per-repetition ratios\n",
	       l->label);
	printf("xpmem_bench: %5s %24s %24s %24s\n", "pages", "xpmem/mmap",
	       "xpmem/pvread", "perpage/mmap");
	for (int s = 0; s < NSIZES; s++) {
		ratio(r1, sizeof(r1), l->ns[XPMEM][s], l->ns[MMAP][s], reps);
		ratio(r2, sizeof(r2), l->ns[XPMEM][s], l->ns[PVREAD][s], reps);
		ratio(r3, sizeof(r3), l->ns[PERPAGE][s], l->ns[MMAP][s], reps);
		printf("xpmem_bench: %5lu %24s %24s %24s\n", sizes[s], r1, r2, r3);
	}
	for (int a = 0; a < NARMS; a++)
		slope[a] = (med[a][NSIZES - 1] - med[a][0]) / (MAXN - 1);
	frac = slope[XPMEM] / slope[PERPAGE];
	printf("xpmem_bench: %s: per page (slope 1..%lu pages): xpmem %.0f ns, perpage %.0f ns, mmap %.0f ns, pvread %.0f ns\n",
	       l->label, MAXN, slope[XPMEM], slope[PERPAGE], slope[MMAP],
	       slope[PVREAD]);
	printf("xpmem_bench: %s: target xpmem/mmap <= 0.5 at 64 pages and above: %.3f %.3f %.3f, %s\n",
	       l->label, med[XPMEM][2] / med[MMAP][2],
	       med[XPMEM][3] / med[MMAP][3], med[XPMEM][4] / med[MMAP][4],
	       med[XPMEM][2] / med[MMAP][2] <= 0.5 &&
	       med[XPMEM][3] / med[MMAP][3] <= 0.5 &&
	       med[XPMEM][4] / med[MMAP][4] <= 0.5 ? "met" : "missed");
	printf("xpmem_bench: %s: target per page, fault-around / one fault per page <= 0.3: %.3f, %s\n",
	       l->label, frac, frac <= 0.3 ? "met" : "missed");
}

/* The first library's xpmem arm against each other's, run by run. */
static void report_cross(void)
{
	char r[64];
	int reps;

	for (int o = 1; o < nlibs; o++) {
		const struct lib *a = &libs[0], *b = &libs[o];
		bool met = true;

		reps = a->reps < b->reps ? a->reps : b->reps;
		printf("xpmem_bench: %s/%s, attach + first touch + detach, median [range] of %d paired runs\n",
		       a->label, b->label, reps);
		for (int s = 0; s < NSIZES; s++) {
			if (ratio(r, sizeof(r), a->ns[XPMEM][s], b->ns[XPMEM][s],
				  reps) > 0.5 && sizes[s] >= 64)
				met = false;
			printf("xpmem_bench: %5lu pages %24s\n", sizes[s], r);
		}
		printf("xpmem_bench: target %s/%s <= 0.5 at 64 pages and above: %s\n",
		       a->label, b->label, met ? "met" : "missed");
	}
}

/* The library labelled @label, added if new; NULL when there are too many. */
static struct lib *lib_of(const char *label)
{
	for (int i = 0; i < nlibs; i++)
		if (!strcmp(libs[i].label, label))
			return &libs[i];
	if (nlibs == MAXLIBS)
		return NULL;
	snprintf(libs[nlibs].label, sizeof(libs[nlibs].label), "%s", label);
	return &libs[nlibs++];
}

/*
 * Read the lines "LABEL REP ARM PAGES NS" of @path: each run of -o wrote
 * one repetition of one library.
 */
static int read_raw(const char *path)
{
	char label[32], arm[16];
	unsigned long n;
	int rep, a, s;
	double v;
	FILE *f = fopen(path, "r");
	struct lib *l;

	if (!f)
		return -1;
	while (fscanf(f, "%31s %d %15s %lu %lf", label, &rep, arm, &n, &v) == 5) {
		l = lib_of(label);
		for (a = 0; a < NARMS && strcmp(arm, arm_name[a]); a++)
			;
		for (s = 0; s < NSIZES && sizes[s] != n; s++)
			;
		if (!l || a == NARMS || s == NSIZES || rep < 0 || rep >= MAXREPS)
			goto bad;
		l->ns[a][s][rep] = v;
		if (rep >= l->reps)
			l->reps = rep + 1;
	}
	if (!feof(f))
		goto bad;
	fclose(f);
	for (int i = 0; i < nlibs; i++)
		for (a = 0; a < NARMS; a++)
			for (s = 0; s < NSIZES; s++)
				for (rep = 0; rep < libs[i].reps; rep++)
					if (libs[i].ns[a][s][rep] <= 0)
						return -1;
	return nlibs ? 0 : -1;
bad:
	fclose(f);
	return -1;
}

/* Append this run's figures to @path, as repetition @rep of its library. */
static int write_raw(const char *path, const struct lib *l, int rep)
{
	FILE *f = fopen(path, "a");

	if (!f)
		return -1;
	for (int a = 0; a < NARMS; a++)
		for (int s = 0; s < NSIZES; s++)
			fprintf(f, "%s %d %s %lu %.1f\n", l->label, rep,
				arm_name[a], sizes[s], l->ns[a][s][0]);
	return fclose(f);
}

int main(int argc, char **argv)
{
	static struct iovec liov[MAXN], riov[MAXN];
	static uint64_t words[MAXN];
	const char *raw_out = NULL, *raw_in = NULL;
	int reps = 7, rep = 0, opt;
	struct lib *l;

	while ((opt = getopt(argc, argv, "t:r:l:o:i:R:")) != -1) {
		if (opt == 't')
			cell_seconds = atof(optarg);
		else if (opt == 'r')
			reps = atoi(optarg);
		else if (opt == 'l')
			label = optarg;
		else if (opt == 'o')
			raw_out = optarg;
		else if (opt == 'i')
			rep = atoi(optarg);
		else if (opt == 'R')
			raw_in = optarg;
		else
			return 2;
	}
	if (raw_in) {
		if (read_raw(raw_in)) {
			fprintf(stderr, "xpmem_bench: bad or incomplete %s\n", raw_in);
			return 1;
		}
		for (int i = 0; i < nlibs; i++)
			report_lib(&libs[i]);
		report_cross();
		printf("xpmem_bench: END RESULTS\n");
		return 0;
	}
	if (cell_seconds <= 0 || reps < 1 || reps > MAXREPS ||
	    (raw_out && reps != 1) || rep < 0 || rep >= MAXREPS)
		return 2;
	if (owner_buffer()) {
		fprintf(stderr, "xpmem_bench: owner buffer: %s\n", strerror(errno));
		return 2;
	}
	start_owner();
	for (unsigned long i = 0; i < MAXN; i++) {
		liov[i] = (struct iovec){ &words[i], sizeof(words[i]) };
		riov[i] = (struct iovec){ owner_buf + i * PAGE, sizeof(words[i]) };
	}
	l = lib_of(label);
	l->reps = reps;
	for (int r = 0; r < reps; r++)
		for (int s = 0; s < NSIZES; s++)
			for (int a = 0; a < NARMS; a++) {
				l->ns[a][s][r] = cell(a, sizes[s], liov, riov);
				if (l->ns[a][s][r] < 0)
					return 1;
			}
	kill(owner, SIGTERM);
	waitpid(owner, NULL, 0);
	if (raw_out)
		return write_raw(raw_out, l, rep) ? 1 : 0;
	report_lib(l);
	printf("xpmem_bench: END RESULTS\n");
	return 0;
}
