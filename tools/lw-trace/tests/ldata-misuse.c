// SPDX-License-Identifier: GPL-2.0
/*
 * ldata-misuse: make the kernel commit one misuse of an ldata pool on
 * purpose, through the test driver /dev/test_ldata (lib/test_ldata.c,
 * CONFIG_TEST_LDATA), for lw-trace's end-to-end tests; or time
 * ldata_alloc()/ldata_free() pairs for its overhead benchmark.
 *
 *   ldata-misuse SCENARIO     (ldata-misuse -l lists them)
 *   ldata-misuse loop N       N pairs in the kernel, timed:
 *                             "ldata_loop: N pairs in T ns, X ns/pair"
 *
 * Each scenario first creates its pool and allocates elements, as a
 * correct user would, so that lw-trace sees ldata_create and ldata_alloc
 * before the misuse.  For every misuse it commits, the program prints
 * what lw-trace must report, once the kernel has answered as expected:
 *
 *   expect {"kind":"ldata_double_free","pid":12,"tid":12}
 *
 * The misuses are the driver's TEST_LDATA_FREE flags, which hand ldata a
 * pointer that ldata_free() refuses (an ldata_misuse event): it returns
 * nothing, so the driver's ioctl returns 0 and only the event tells.  A
 * destroy with elements allocated is an ldata_misuse event too, and an
 * exhausted pool an ldata_alloc event with a NULL element, which the
 * driver returns as ENOMEM.  Everything else is freed and destroyed
 * correctly.  The "clean" scenario does the same kind of work with no
 * misuse and expects nothing.
 *
 * Exit status 0 when every call behaved as the scenario needs, 1
 * otherwise (with the reason on stderr), 2 for a bad command line, 4
 * (kselftest's skip) without /dev/test_ldata or without the right to open
 * it, and for double_free while ldata's double-free check is off (no
 * CONFIG_LDATA_DEBUG and no lw-trace, or anything else, attached to the
 * ldata_misuse tracepoint).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../../../lib/test_ldata_uapi.h"

#define KSFT_SKIP	4
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define DEV_PATH	"/dev/test_ldata"
#define NELEMS		8	/* elements each scenario allocates */
#define ELEM_SIZE	100	/* bytes: 128 with the cache-line rounding */
#define INITCOUNT	16	/* per node: NELEMS never exhausts a pool */
#define MAXCOUNT	64
#define FAIL_MAXCOUNT	4	/* alloc_fail's pool: 4 elements per node */

struct pool {
	uint32_t id;
	int n;
	uint64_t elem[NELEMS];
	bool live[NELEMS];
};

static int dev = -1;
static const char *scenario = "";

static pid_t tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* Report why the scenario failed, and exit 1. */
static noreturn void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ldata-misuse: %s: ", scenario);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Print one expected event: the kind, this process and thread, extras. */
static void print_expect(const char *kind, const char *fmt, ...)
{
	va_list ap;

	printf("expect {\"kind\":\"%s\",\"pid\":%d,\"tid\":%d", kind,
	       getpid(), tid());
	if (fmt) {
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	puts("}");
	fflush(stdout);
}

static const char *op_name(unsigned long op)
{
	switch (op) {
	case TEST_LDATA_CREATE:
		return "TEST_LDATA_CREATE";
	case TEST_LDATA_ALLOC:
		return "TEST_LDATA_ALLOC";
	case TEST_LDATA_FREE:
		return "TEST_LDATA_FREE";
	case TEST_LDATA_DESTROY:
		return "TEST_LDATA_DESTROY";
	case TEST_LDATA_GROW:
		return "TEST_LDATA_GROW";
	case TEST_LDATA_LOOP:
		return "TEST_LDATA_LOOP";
	}
	return "?";
}

/* Run @op: 0 or a negative errno. */
static int try_op(unsigned long op, struct test_ldata_cmd *cmd)
{
	return ioctl(dev, op, cmd) ? -errno : 0;
}

/* Run @op, which must succeed. */
static void do_op(unsigned long op, struct test_ldata_cmd *cmd)
{
	int err = try_op(op, cmd);

	if (err)
		fail("%s: %s", op_name(op), strerror(-err));
}

static uint32_t create(uint64_t initcount, uint64_t maxcount)
{
	struct test_ldata_cmd cmd = {
		.size = ELEM_SIZE,
		.count = initcount,
		.maxcount = maxcount,
	};

	do_op(TEST_LDATA_CREATE, &cmd);
	return cmd.pool;
}

/* ALLOC from pool @id: 0 and the handle in *@elem, or a negative errno. */
static int try_alloc(uint32_t id, uint64_t *elem)
{
	struct test_ldata_cmd cmd = { .pool = id };
	int err = try_op(TEST_LDATA_ALLOC, &cmd);

	*elem = cmd.elem;
	return err;
}

/* FREE with @flags, which must succeed. */
static void free_op(uint32_t id, uint64_t elem, uint32_t flags,
		    uint32_t other)
{
	struct test_ldata_cmd cmd = {
		.pool = id,
		.flags = flags,
		.other = other,
		.elem = elem,
	};

	do_op(TEST_LDATA_FREE, &cmd);
}

/* DESTROY pool @id: the elements it still had allocated. */
static uint64_t destroy(uint32_t id)
{
	struct test_ldata_cmd cmd = { .pool = id };

	do_op(TEST_LDATA_DESTROY, &cmd);
	return cmd.result;
}

/* The normal setup: a pool and @n elements of it. */
static void setup(struct pool *p, int n)
{
	int i, err;

	p->id = create(INITCOUNT, MAXCOUNT);
	p->n = n;
	for (i = 0; i < n; i++) {
		err = try_alloc(p->id, &p->elem[i]);
		if (err)
			fail("TEST_LDATA_ALLOC %d of %d: %s", i + 1, n,
			     strerror(-err));
		p->live[i] = true;
	}
}

static void put(struct pool *p, int i)
{
	free_op(p->id, p->elem[i], TEST_LDATA_FREE_NORMAL, 0);
	p->live[i] = false;
}

/* Free what @p still holds and destroy it: no misuse. */
static void teardown(struct pool *p)
{
	uint64_t live;
	int i;

	for (i = 0; i < p->n; i++)
		if (p->live[i])
			put(p, i);
	live = destroy(p->id);
	if (live)
		fail("TEST_LDATA_DESTROY: %llu elements left, 0 expected",
		     (unsigned long long)live);
}

static void sc_clean(void)
{
	struct pool p;
	int i;

	setup(&p, NELEMS);
	for (i = 0; i < NELEMS; i++)
		put(&p, i);
	teardown(&p);
}

static void sc_double_free(void)
{
	struct pool p;
	int err;

	setup(&p, NELEMS);
	err = try_op(TEST_LDATA_FREE, &(struct test_ldata_cmd){
		.pool = p.id,
		.flags = TEST_LDATA_FREE_DOUBLE,
		.elem = p.elem[0],
	});
	if (err == -EOPNOTSUPP) {
		teardown(&p);
		/* No CONFIG_LDATA_DEBUG, and nothing attached to ldata_misuse. */
		fprintf(stderr, "ldata-misuse: %s: ldata's double-free check is off: skipped\n",
			scenario);
		exit(KSFT_SKIP);
	}
	if (err)
		fail("TEST_LDATA_FREE_DOUBLE: %s", strerror(-err));
	/* Freed, then refused as already free; the handle is gone. */
	p.live[0] = false;
	print_expect("ldata_double_free", NULL);
	teardown(&p);
}

static void sc_foreign_free(void)
{
	struct pool p;

	setup(&p, NELEMS);
	free_op(p.id, 0, TEST_LDATA_FREE_FOREIGN, 0);
	print_expect("ldata_foreign_free", NULL);
	teardown(&p);
}

static void sc_misaligned_free(void)
{
	struct pool p;

	setup(&p, NELEMS);
	/* Refused: the element stays allocated and is freed below. */
	free_op(p.id, p.elem[NELEMS / 2], TEST_LDATA_FREE_MISALIGNED, 0);
	print_expect("ldata_misaligned_free", NULL);
	teardown(&p);
}

static void sc_wrong_pool(void)
{
	struct pool a, b;

	setup(&a, NELEMS);
	setup(&b, NELEMS);
	/* An element of a, to b: refused, it stays allocated in a. */
	free_op(a.id, a.elem[1], TEST_LDATA_FREE_WRONG_POOL, b.id);
	print_expect("ldata_wrong_pool", NULL);
	teardown(&b);
	teardown(&a);
}

static void sc_destroy_live(void)
{
	const uint64_t want = NELEMS - 3;
	struct pool p;
	uint64_t live;
	int i;

	setup(&p, NELEMS);
	for (i = 0; i < 3; i++)
		put(&p, i);
	live = destroy(p.id);
	if (live != want)
		fail("TEST_LDATA_DESTROY: %llu elements left, %llu expected",
		     (unsigned long long)live, (unsigned long long)want);
	print_expect("ldata_destroy_live", ",\"count\":%llu",
		     (unsigned long long)live);
}

/*
 * One ldata_alloc() returns NULL: allocate from a pool of FAIL_MAXCOUNT
 * elements per node, which cannot grow, until it fails, then stop.  The
 * thread is bound to its CPU so that every allocation comes from the
 * same node's sub-pool and the first FAIL_MAXCOUNT succeed; the single
 * failure does not depend on it.
 */
static void sc_alloc_fail(void)
{
	uint64_t elem[TEST_LDATA_MAX_ELEMS];
	int cpu = sched_getcpu();
	cpu_set_t set;
	uint32_t id;
	int i, n, err = 0;

	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			fprintf(stderr, "ldata-misuse: %s: not bound to CPU %d: %s\n",
				scenario, cpu, strerror(errno));
	}
	id = create(FAIL_MAXCOUNT, FAIL_MAXCOUNT);
	for (n = 0; n < TEST_LDATA_MAX_ELEMS; n++) {
		err = try_alloc(id, &elem[n]);
		if (err)
			break;
	}
	if (err != -ENOMEM)
		fail("TEST_LDATA_ALLOC %d: %s, ENOMEM expected", n + 1,
		     err ? strerror(-err) : "success");
	print_expect("ldata_alloc_fail", NULL);
	for (i = 0; i < n; i++)
		free_op(id, elem[i], TEST_LDATA_FREE_NORMAL, 0);
	if (destroy(id))
		fail("TEST_LDATA_DESTROY: elements left, 0 expected");
}

/* N for "loop N": 1 to TEST_LDATA_MAX_LOOP, or 0. */
static unsigned long long loop_count(const char *arg)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' ||
	    n > TEST_LDATA_MAX_LOOP)
		return 0;
	return n;
}

/* The overhead benchmark: @n pairs in the kernel, in this thread. */
static void loop(unsigned long long n)
{
	struct test_ldata_cmd cmd = { 0 };

	cmd.pool = create(INITCOUNT, MAXCOUNT);
	cmd.count = n;
	do_op(TEST_LDATA_LOOP, &cmd);
	printf("ldata_loop: %llu pairs in %llu ns, %.1f ns/pair\n", n,
	       (unsigned long long)cmd.result, (double)cmd.result / n);
	fflush(stdout);
	if (destroy(cmd.pool))
		fail("TEST_LDATA_DESTROY: elements left, 0 expected");
}

static const struct {
	const char *name;
	void (*fn)(void);
} scenarios[] = {
	{ "double_free", sc_double_free },
	{ "foreign_free", sc_foreign_free },
	{ "wrong_pool", sc_wrong_pool },
	{ "misaligned_free", sc_misaligned_free },
	{ "destroy_live", sc_destroy_live },
	{ "alloc_fail", sc_alloc_fail },
	{ "clean", sc_clean },
};

static void open_dev(void)
{
	dev = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (dev >= 0)
		return;
	switch (errno) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		fprintf(stderr, "ldata-misuse: %s: %s: skipped (CONFIG_TEST_LDATA)\n",
			DEV_PATH, strerror(errno));
		exit(KSFT_SKIP);
	case EPERM:
	case EACCES:
		fprintf(stderr, "ldata-misuse: %s: %s: skipped (needs CAP_SYS_ADMIN)\n",
			DEV_PATH, strerror(errno));
		exit(KSFT_SKIP);
	}
	fprintf(stderr, "ldata-misuse: %s: %s\n", DEV_PATH, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc == 2 && !strcmp(argv[1], "-l")) {
		for (i = 0; i < ARRAY_SIZE(scenarios); i++)
			puts(scenarios[i].name);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "loop")) {
		unsigned long long n = loop_count(argv[2]);

		if (!n) {
			fprintf(stderr, "ldata-misuse: loop: N must be 1 to %llu\n",
				(unsigned long long)TEST_LDATA_MAX_LOOP);
			return 2;
		}
		scenario = "loop";
		open_dev();
		loop(n);
		close(dev);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: ldata-misuse SCENARIO (-l lists them)\n"
			"       ldata-misuse loop N\n");
		return 2;
	}
	for (i = 0; i < ARRAY_SIZE(scenarios); i++) {
		if (strcmp(argv[1], scenarios[i].name))
			continue;
		scenario = scenarios[i].name;
		open_dev();
		scenarios[i].fn();
		close(dev);
		return 0;
	}
	fprintf(stderr, "ldata-misuse: no scenario %s (-l lists them)\n",
		argv[1]);
	return 2;
}
