// SPDX-License-Identifier: GPL-2.0
/*
 * lw-misuse: commit one misuse of /dev/xmem (lightweight attach and
 * cross-memory descriptors) on purpose, for lw-trace's end-to-end tests.
 *
 *   lw-misuse SCENARIO        (lw-misuse -l lists them)
 *   lw-misuse loop N          N attach+detach pairs of one page in the
 *                             kernel (lib/test_lw_attach.c), timed:
 *                             "lw_loop: N pairs in T ns, X ns/pair", after
 *                             checking that the driver refuses bad
 *                             arguments
 *
 * For every misuse it commits, the program prints what lw-trace must
 * report, after the kernel has answered as expected:
 *
 *   expect {"kind":"cross_thread","pid":12,"tid":14,"owner_tid":13}
 *
 * The "clean" scenario does the same kind of work correctly and expects
 * nothing.  Exit status 0 when every call behaved as the scenario needs, 1
 * otherwise (with the reason on stderr), 4 (kselftest's skip) without
 * /dev/xmem.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../../xmem/libxmem.h"
#include "../../../lib/test_lw_attach_uapi.h"

#define KSFT_SKIP	4
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define PAGE		4096UL
#define NPAGES		16

static pid_t tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void fail(const char *what, int ret)
{
	fprintf(stderr, "lw-misuse: %s: %s (%d)\n", what,
		ret < 0 ? strerror(-ret) : "unexpected success", ret);
	exit(1);
}

/* @call must return @want (0 or a negative errno). */
#define CHECK(call, want) do {				\
	int __r = (call);				\
	if (__r != (want))				\
		fail(#call, __r ? __r : 1);		\
} while (0)

/* Print one expected event: the kind, this process, a thread, extras. */
static void expect_event(const char *kind, pid_t t, const char *fmt, ...)
{
	va_list ap;

	printf("expect {\"kind\":\"%s\",\"pid\":%d,\"tid\":%d", kind,
	       getpid(), t);
	if (fmt) {
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	puts("}");
	fflush(stdout);
}

static int dev = -1;
static char *buf;

/* A descriptor fd over NPAGES pages of this process. */
static int share(unsigned int flags)
{
	int fd;

	if (!buf) {
		buf = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (buf == MAP_FAILED)
			fail("mmap", -errno);
		memset(buf, 0x5a, NPAGES * PAGE);
	}
	fd = xmem_create(dev, buf, NPAGES * PAGE, flags);
	if (fd < 0)
		fail("xmem_create", fd);
	return fd;
}

static void *attach(int fd, size_t off, size_t len, unsigned int flags)
{
	void *p = NULL;

	CHECK(xmem_attach(fd, off, len, flags, &p), 0);
	return p;
}

/* ===== Threads that do one thing ===== */

struct job {
	int fd;
	void *addr;
	size_t len;
	int ret;
	pid_t tid;
	int attaches;		/* for leak: how many to leave behind */
	int close_fd;		/* for close_live: close the fd, then exit */
};

static void *do_detach(void *arg)
{
	struct job *j = arg;

	j->tid = tid();
	j->ret = xmem_detach(j->fd, j->addr, j->len);
	return NULL;
}

static void *do_attach_detach(void *arg)
{
	struct job *j = arg;
	void *p;

	j->tid = tid();
	p = attach(j->fd, 0, PAGE, XMEM_ATTACH_WRITE);
	j->ret = xmem_detach(j->fd, j->addr, j->len);
	CHECK(xmem_detach(j->fd, p, PAGE), 0);
	return NULL;
}

static void *do_leak(void *arg)
{
	struct job *j = arg;
	int i;

	j->tid = tid();
	for (i = 0; i < j->attaches; i++)
		attach(j->fd, i * PAGE, PAGE, XMEM_ATTACH_WRITE);
	if (j->close_fd) {
		j->ret = close(j->fd);
		j->fd = -1;
	}
	return NULL;	/* the thread ends with its attachments */
}

static pid_t run(void *(*fn)(void *), struct job *j)
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, j) || pthread_join(t, NULL))
		fail("pthread", -EAGAIN);
	return j->tid;
}

/* ===== Scenarios ===== */

/* Attached by one thread, detached by another: without and with a window. */
static void cross_thread(void)
{
	int fd = share(0);
	struct job j = { .fd = fd, .len = 2 * PAGE };

	CHECK(xmem_pool_init(dev, NPAGES * PAGE, 0), 0);
	j.addr = attach(fd, 0, 2 * PAGE, XMEM_ATTACH_WRITE);
	/* A thread that never attached: -ENOMEM, it has no window. */
	run(do_detach, &j);
	if (j.ret != -ENOMEM)
		fail("cross-thread detach without a window", j.ret);
	expect_event("cross_thread", j.tid, ",\"owner_tid\":%d,\"owner_pid\":%d",
		     tid(), getpid());
	/* A thread with a window of its own: -EINVAL. */
	run(do_attach_detach, &j);
	if (j.ret != -EINVAL)
		fail("cross-thread detach from another window", j.ret);
	expect_event("cross_thread", j.tid, ",\"owner_tid\":%d,\"owner_pid\":%d",
		     tid(), getpid());
	CHECK(xmem_detach(fd, j.addr, 2 * PAGE), 0);
	CHECK(xmem_xmdetach(fd), 0);
	close(fd);
}

/* XMEM_IOC_XMDETACH with an attachment outstanding: -EBUSY. */
static void xmdetach_live(void)
{
	int fd = share(0);
	void *p;

	CHECK(xmem_pool_init(dev, NPAGES * PAGE, 0), 0);
	p = attach(fd, PAGE, 3 * PAGE, XMEM_ATTACH_WRITE);
	CHECK(xmem_xmdetach(fd), -EBUSY);
	expect_event("xmdetach_live", tid(),
		     ",\"via\":\"ioctl\",\"attachments_live\":1,\"owner_tid\":%d",
		     tid());
	CHECK(xmem_detach(fd, p, 3 * PAGE), 0);
	CHECK(xmem_xmdetach(fd), 0);
	close(fd);
}

/*
 * The last close of a descriptor while a thread has it attached: the
 * release is refused (and deferred), then the thread ends with the
 * attachment, which completes it.
 */
static void close_live(void)
{
	struct job j = { .fd = share(0), .attaches = 1, .close_fd = 1 };

	CHECK(xmem_pool_init(dev, NPAGES * PAGE, 0), 0);
	run(do_leak, &j);
	if (j.ret)
		fail("close", -errno);
	expect_event("xmdetach_live", j.tid,
		     ",\"via\":\"close\",\"attachments_live\":1,\"owner_tid\":%d",
		     tid());
	expect_event("exit_leak", j.tid, ",\"count\":1");
}

/* Detach of an address inside an attachment, never returned by attach. */
static void detach_unattached(void)
{
	int fd = share(0);
	char *p;

	CHECK(xmem_pool_init(dev, NPAGES * PAGE, 0), 0);
	p = attach(fd, 0, 4 * PAGE, XMEM_ATTACH_WRITE);
	CHECK(xmem_detach(fd, p + PAGE, PAGE), -EINVAL);
	expect_event("detach_unattached", tid(), NULL);
	CHECK(xmem_detach(fd, p, 4 * PAGE), 0);
	close(fd);
}

/* Detach through another descriptor than the one attached. */
static void detach_wrong_dp(void)
{
	int fd = share(0), other = share(0);
	void *p;

	CHECK(xmem_pool_init(dev, NPAGES * PAGE, 0), 0);
	p = attach(fd, 0, PAGE, XMEM_ATTACH_WRITE);
	CHECK(xmem_detach(other, p, PAGE), -EINVAL);
	expect_event("detach_wrong_dp", tid(), ",\"length\":%lu", PAGE);
	CHECK(xmem_detach(fd, p, PAGE), 0);
	close(other);
	close(fd);
}

/* Detach with another length than attached. */
static void detach_wrong_length(void)
{
	int fd = share(0);
	void *p;

	CHECK(xmem_pool_init(dev, NPAGES * PAGE, 0), 0);
	p = attach(fd, 0, 2 * PAGE, XMEM_ATTACH_WRITE);
	CHECK(xmem_detach(fd, p, PAGE), -EINVAL);
	expect_event("detach_wrong_length", tid(),
		     ",\"length\":%lu,\"attached_length\":%lu", PAGE, 2 * PAGE);
	CHECK(xmem_detach(fd, p, 2 * PAGE), 0);
	close(fd);
}

/* A thread that ends with two attachments. */
static void exit_leak(void)
{
	struct job j = { .fd = share(0), .attaches = 2 };

	CHECK(xmem_pool_init(dev, NPAGES * PAGE, 0), 0);
	run(do_leak, &j);
	expect_event("exit_leak", j.tid, ",\"count\":2");
	CHECK(xmem_xmdetach(j.fd), 0);
	close(j.fd);
}

/* More attached than the pool size: -ENOMEM. */
static void window_full(void)
{
	int fd = share(0);
	void *p;

	CHECK(xmem_pool_init(dev, 4 * PAGE, 0), 0);
	p = attach(fd, 0, 4 * PAGE, XMEM_ATTACH_WRITE);
	{
		void *q = NULL;

		CHECK(xmem_attach(fd, 4 * PAGE, PAGE, 0, &q), -ENOMEM);
	}
	/* The kernel says how full: the four pages attached. */
	expect_event("window_full", tid(), ",\"length\":%lu,\"attached_pages\":4",
		     PAGE);
	CHECK(xmem_detach(fd, p, 4 * PAGE), 0);
	close(fd);
}

static void pool_init_twice(void)
{
	CHECK(xmem_pool_init(dev, NPAGES * PAGE, 0), 0);
	CHECK(xmem_pool_init(dev, NPAGES * PAGE, 0), -EEXIST);
	expect_event("pool_init_exists", tid(), ",\"pool_size\":%lu", NPAGES * PAGE);
}

/* A zero pool size; the /dev/xmem ioctl passes it through to the kernel. */
static void pool_init_invalid(void)
{
	CHECK(xmem_pool_init(dev, 0, 0), -EINVAL);
	expect_event("pool_init_invalid", tid(), ",\"pool_size\":0");
	CHECK(xmem_pool_init(dev, NPAGES * PAGE, 0), 0);
}

/*
 * A child process touches a range after detaching it and dies of SIGSEGV.
 * The pool's debug flag flushes every CPU at detach, so the access faults
 * wherever the thread runs.  @write to a read-only attachment instead.
 */
static void bad_access(bool rdonly)
{
	int status;
	pid_t child;

	fflush(stdout);
	child = fork();
	if (child < 0)
		fail("fork", -errno);
	if (!child) {
		int fd = share(rdonly ? XMEM_CREATE_RDONLY : 0);
		char *p;

		CHECK(xmem_pool_init(dev, NPAGES * PAGE, XMEM_POOL_DEBUG), 0);
		p = attach(fd, 0, 2 * PAGE, rdonly ? 0 : XMEM_ATTACH_WRITE);
		if (!rdonly) {
			__atomic_store_n(p + PAGE, 1, __ATOMIC_RELAXED);
			CHECK(xmem_detach(fd, (void *)p, 2 * PAGE), 0);
		}
		__atomic_store_n(p + PAGE + 8, 2, __ATOMIC_RELAXED); /* SIGSEGV */
		_exit(3);
	}
	if (waitpid(child, &status, 0) != child)
		fail("waitpid", -errno);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV)
		fail("the bad access did not die of SIGSEGV", -EINVAL);
	printf("expect {\"kind\":\"%s\",\"pid\":%d,\"tid\":%d}\n",
	       rdonly ? "rdonly_write" : "fault", child, child);
	if (rdonly)	/* the attachment ended with the process */
		printf("expect {\"kind\":\"exit_leak\",\"pid\":%d,\"tid\":%d,\"count\":1}\n",
		       child, child);
	fflush(stdout);
}

static void fault_after_detach(void)
{
	bad_access(false);
}

static void rdonly_write(void)
{
	bad_access(true);
}

/* ===== Mappings of descriptors (CONFIG_XMEM_MAP) ===== */

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

/* Read the byte at @p: true if that got SIGBUS. */
static bool sigbus_at(char *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	bool bus = true;

	sigaction(SIGBUS, &sa, &old);
	if (!sigsetjmp(bus_jmp, 1)) {
		(void)__atomic_load_n(p, __ATOMIC_RELAXED);
		bus = false;
	}
	sigaction(SIGBUS, &old, NULL);
	return bus;
}

/* An address-space descriptor of @len bytes of fresh memory, and @mem. */
static int aspace(size_t len, char **mem)
{
	struct xmem_create c = { .size = sizeof(c),
				 .flags = XMEM_CREATE_ASPACE | XMEM_CREATE_CLOEXEC,
				 .length = len };
	int fd;

	*mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (*mem == MAP_FAILED)
		fail("mmap", -errno);
	c.addr = (uintptr_t)*mem;
	fd = ioctl(dev, XMEM_IOC_CREATE, &c);
	if (fd < 0)
		fail("XMEM_IOC_CREATE", -errno);
	return fd;
}

/* A touch where the owner (this process) has unmapped its memory. */
static void touch_gone(void)
{
	char *mem, *m;
	int fd = aspace(2 * PAGE, &mem);

	m = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		fail("mmap of the descriptor", -errno);
	CHECK(munmap(mem + PAGE, PAGE) ? -errno : 0, 0);
	if (!sigbus_at(m + PAGE))
		fail("a touch of an unmapped page of the owner got no SIGBUS",
		     -EINVAL);
	expect_event("xmem_touch_gone", tid(), ",\"addr\":\"0x%lx\",\"err\":-14",
		     (unsigned long)(m + PAGE));
	munmap(m, 2 * PAGE);
	close(fd);
}

/* A touch after the owner revoked every mapping (xpmem_remove()). */
static void touch_revoked(void)
{
	struct xmem_publish p = { .size = sizeof(p), .mode = 0600 };
	char *mem, *m;
	int fd = aspace(PAGE, &mem);

	m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		fail("mmap of the descriptor", -errno);
	CHECK(ioctl(fd, XMEM_IOC_PUBLISH, &p) ? -errno : 0, 0);
	CHECK(ioctl(fd, XMEM_IOC_UNPUBLISH, XMEM_UNPUBLISH_REVOKE) ? -errno : 0, 0);
	if (!sigbus_at(m))
		fail("a touch of a revoked mapping got no SIGBUS", -EINVAL);
	expect_event("xmem_touch_revoked", tid(), ",\"addr\":\"0x%lx\",\"err\":-19",
		     (unsigned long)m);
	munmap(m, PAGE);
	close(fd);
}

/* XMEM_IOC_UNMAP of memory that is no mapping of a descriptor. */
static void unmap_unattached(void)
{
	struct xmem_unmap u = { .size = sizeof(u), .addr = (uintptr_t)buf };

	buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		fail("mmap", -errno);
	u.addr = (uintptr_t)buf;
	CHECK(ioctl(dev, XMEM_IOC_UNMAP, &u) ? -errno : 0, -EINVAL);
	expect_event("xmem_unmap_unattached", tid(),
		     ",\"addr\":\"0x%lx\",\"err\":-22", (unsigned long)buf);
}

/*
 * The owner of an address-space descriptor (a child) exits while this
 * process maps it: reported in the owner, as it exits.
 */
static void owner_exit(void)
{
	int to_owner[2], from_owner[2], status, fd;
	struct xmem_open o = { .size = sizeof(o) };
	pid_t owner;
	char c, *m;

	if (pipe(to_owner) || pipe(from_owner))
		fail("pipe", -errno);
	fflush(stdout);
	owner = fork();
	if (owner < 0)
		fail("fork", -errno);
	if (!owner) {
		struct xmem_publish p = { .size = sizeof(p), .mode = 0600 };
		char *mem;
		int own = aspace(PAGE, &mem);

		if (ioctl(own, XMEM_IOC_PUBLISH, &p))
			_exit(2);
		if (write(from_owner[1], &p.id, sizeof(p.id)) != sizeof(p.id) ||
		    read(to_owner[0], &c, 1) != 1)
			_exit(3);
		_exit(0);	/* with its memory mapped elsewhere */
	}
	if (read(from_owner[0], &o.id, sizeof(o.id)) != sizeof(o.id))
		fail("the owner's id", -EIO);
	fd = ioctl(dev, XMEM_IOC_OPEN, &o);
	if (fd < 0)
		fail("XMEM_IOC_OPEN", -errno);
	m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		fail("mmap of the opened descriptor", -errno);
	if (write(to_owner[1], "x", 1) != 1 || waitpid(owner, &status, 0) != owner ||
	    !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the owner did not exit cleanly", -EINVAL);
	printf("expect {\"kind\":\"xmem_owner_exit\",\"pid\":%d,\"tid\":%d,\"mappings\":1}\n",
	       owner, owner);
	if (!sigbus_at(m))
		fail("a touch after the owner's exit got no SIGBUS", -EINVAL);
	expect_event("xmem_touch_gone", tid(), ",\"addr\":\"0x%lx\"",
		     (unsigned long)m);
	munmap(m, PAGE);
	close(fd);
}

/* Mappings used correctly: mapped, touched, unmapped both ways. */
static void clean_mappings(void)
{
	struct xmem_unmap u = { .size = sizeof(u) };
	char *mem, *m;
	int fd = aspace(4 * PAGE, &mem), i;

	for (i = 0; i < 8; i++) {
		m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
		if (m == MAP_FAILED)
			fail("mmap of the descriptor", -errno);
		m[i * 100]++;
		if (i & 1) {
			CHECK(munmap(m, 4 * PAGE) ? -errno : 0, 0);
		} else {
			u.addr = (uintptr_t)m;
			CHECK(ioctl(dev, XMEM_IOC_UNMAP, &u) ? -errno : 0, 0);
		}
	}
	close(fd);
	munmap(mem, 4 * PAGE);
}

/* Correct use of everything above: no report expected. */
static void *clean_worker(void *arg)
{
	struct job *j = arg;
	int i;

	j->tid = tid();
	for (i = 0; i < 64; i++) {
		size_t len = (1 + i % 3) * PAGE;
		char *p = attach(j->fd, (i % (NPAGES - 2)) * PAGE, len,
				 XMEM_ATTACH_WRITE);

		p[0]++;
		CHECK(xmem_detach(j->fd, p, len), 0);
	}
	return NULL;
}

static void clean(void)
{
	struct job j[3];
	pthread_t t[3];
	int fd = share(0), i;

	CHECK(xmem_pool_init(dev, NPAGES * PAGE, 0), 0);
	for (i = 0; i < 3; i++) {
		j[i] = (struct job){ .fd = fd };
		if (pthread_create(&t[i], NULL, clean_worker, &j[i]))
			fail("pthread_create", -EAGAIN);
	}
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	CHECK(xmem_xmdetach(fd), 0);
	close(fd);
	clean_mappings();
}

static const struct {
	const char *name;
	void (*fn)(void);
} scenarios[] = {
	{ "clean", clean },
	{ "cross_thread", cross_thread },
	{ "xmdetach_live", xmdetach_live },
	{ "close_live", close_live },
	{ "detach_unattached", detach_unattached },
	{ "detach_wrong_dp", detach_wrong_dp },
	{ "detach_wrong_length", detach_wrong_length },
	{ "exit_leak", exit_leak },
	{ "window_full", window_full },
	{ "pool_init_exists", pool_init_twice },
	{ "pool_init_invalid", pool_init_invalid },
	{ "fault", fault_after_detach },
	{ "rdonly_write", rdonly_write },
	{ "xmem_touch_gone", touch_gone },
	{ "xmem_touch_revoked", touch_revoked },
	{ "xmem_unmap_unattached", unmap_unattached },
	{ "xmem_owner_exit", owner_exit },
};

#define LOOP_DEV	"/dev/test_lw_attach"

/*
 * The overhead benchmark: @n attach+detach pairs of a page of this
 * process run by the kernel in this thread.  Exit status 4 without the
 * driver (CONFIG_TEST_LW_ATTACH) or CAP_SYS_ADMIN.
 */
/* TEST_LW_ATTACH_LOOP of @cmd must fail with @want. */
static void loop_refused(int fd, struct test_lw_attach_loop cmd, int want,
			 const char *what)
{
	if (!ioctl(fd, TEST_LW_ATTACH_LOOP, &cmd) || errno != want) {
		fprintf(stderr, "lw-misuse: loop: %s: %s, want %s\n", what,
			strerror(errno), strerror(want));
		exit(1);
	}
}

static int kernel_loop(const char *arg)
{
	struct test_lw_attach_loop cmd = { .length = PAGE }, bad;
	unsigned long long n;
	char *end, *buf;
	int fd;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || !n ||
	    n > TEST_LW_ATTACH_MAX_LOOP) {
		fprintf(stderr, "lw-misuse: loop: N must be 1 to %llu\n",
			(unsigned long long)TEST_LW_ATTACH_MAX_LOOP);
		return 2;
	}
	fd = open(LOOP_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "lw-misuse: %s: %s: skipped (%s)\n", LOOP_DEV,
			strerror(errno), "CONFIG_TEST_LW_ATTACH, CAP_SYS_ADMIN");
		return KSFT_SKIP;
	}
	buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		fail("mmap", -errno);
	cmd.addr = (unsigned long)buf;
	cmd.count = n;
	bad = cmd;
	bad.count = 0;
	loop_refused(fd, bad, EINVAL, "no pairs");
	bad = cmd;
	bad.length = 0;
	loop_refused(fd, bad, EINVAL, "no bytes");
	bad = cmd;
	bad.length = TEST_LW_ATTACH_MAX_LENGTH + 1;
	loop_refused(fd, bad, EINVAL, "too many bytes");
	bad = cmd;
	bad.result = 1;
	loop_refused(fd, bad, EINVAL, "an output set");
	bad = cmd;
	bad.reserved[1] = 1;
	loop_refused(fd, bad, EINVAL, "a reserved field set");
	bad = cmd;
	bad.addr = 0;
	loop_refused(fd, bad, EFAULT, "unmapped memory");
	if (!ioctl(fd, TEST_LW_ATTACH_LOOP, NULL) || errno != EFAULT)
		fail("TEST_LW_ATTACH_LOOP of NULL", errno ? -errno : 1);
	if (!ioctl(fd, _IO('L', 0x51), &cmd) || errno != ENOTTY)
		fail("an unknown op", errno ? -errno : 1);
	if (ioctl(fd, TEST_LW_ATTACH_LOOP, &cmd))
		fail("TEST_LW_ATTACH_LOOP", -errno);
	printf("lw_loop: %llu pairs in %llu ns, %.1f ns/pair\n", n,
	       (unsigned long long)cmd.result, (double)cmd.result / n);
	close(fd);
	munmap(buf, PAGE);
	return 0;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc == 2 && !strcmp(argv[1], "-l")) {
		for (i = 0; i < ARRAY_SIZE(scenarios); i++)
			puts(scenarios[i].name);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "loop"))
		return kernel_loop(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: lw-misuse SCENARIO (-l lists them)\n"
			"       lw-misuse loop N\n");
		return 2;
	}
	for (i = 0; i < ARRAY_SIZE(scenarios); i++) {
		if (strcmp(argv[1], scenarios[i].name))
			continue;
		dev = xmem_open();
		if (dev < 0) {
			fprintf(stderr, "lw-misuse: %s: %s\n", XMEM_DEV_PATH,
				strerror(-dev));
			return KSFT_SKIP;
		}
		scenarios[i].fn();
		close(dev);
		return 0;
	}
	fprintf(stderr, "lw-misuse: no scenario %s (-l lists them)\n", argv[1]);
	return 2;
}
