// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/xmem: descriptors shared between processes, lightweight attach and
 * detach through the ioctls, every error code of the services, argument
 * validation, and the lifetime rules (fork, exec, thread exit, the owner
 * exiting first, the last close while attached).
 *
 * Run as root: the RLIMIT_MEMLOCK cases drop to an unprivileged uid in a
 * child.  Each test also checks that the kernel's FOLL_PIN counters are
 * back where they were (nothing left pinned), except where another test
 * could be pinning concurrently (never: the harness runs them in turn).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "../../../xmem/libxmem.h"
#include "xmem_util.h"

#define PMD		(2UL << 20)
#define POOL		(64 * PAGE)

static pid_t gettid_(void)
{
	return syscall(SYS_gettid);
}

/* This process's VmPin, in kB. */
static long vm_pin_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/* @len bytes of fresh anonymous memory, byte i = (i * 7 + @seed) & 0xff. */
static unsigned char *buffer(size_t len, int prot, unsigned char seed)
{
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 7 + seed);
	if (prot != (PROT_READ | PROT_WRITE) && mprotect(p, len, prot))
		return NULL;
	return p;
}

static bool pattern_ok(const unsigned char *p, size_t from, size_t len,
		       unsigned char seed)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (unsigned char)((from + i) * 7 + seed))
			return false;
	return true;
}

/* Assertions in forked children and threads: report and fail. */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "# %s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		_exit(100);						\
	}								\
} while (0)

/* Run @fn(@arg) in a child; its wait status. */
static int in_child(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		fn(arg);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static bool EXITED_OK(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool SEGV(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

struct share {
	int dev;
	int fd;
	unsigned char *buf;
	size_t len;
	void *addr;
};

/* A descriptor fd for a fresh buffer of @pages pages. */
static void setup(struct __test_metadata *_metadata, struct share *s,
		  size_t pages, unsigned int flags)
{
	s->len = pages * PAGE;
	s->buf = buffer(s->len, PROT_READ | PROT_WRITE, 1);
	ASSERT_NE(NULL, s->buf);
	s->dev = xmem_open();
	ASSERT_LE(0, s->dev) TH_LOG("open %s: %s", XMEM_DEV_PATH,
				    strerror(-s->dev));
	s->fd = xmem_create(s->dev, s->buf, s->len, flags);
	ASSERT_LE(0, s->fd) TH_LOG("create: %s", strerror(-s->fd));
}

#define SETUP(s, pages, flags) setup(_metadata, &(s), pages, flags)

/* Accesses the compiler must not drop or merge. */
static unsigned char peek(const void *p)
{
	return __atomic_load_n((const unsigned char *)p, __ATOMIC_RELAXED);
}

static void poke(void *p, unsigned char v)
{
	__atomic_store_n((unsigned char *)p, v, __ATOMIC_RELAXED);
}

TEST(create_and_info)
{
	long pins = pins_outstanding();
	struct xmem_info info;
	struct share s;
	char path[64], text[512];
	FILE *f;
	size_t n;

	SETUP(s, 4, XMEM_CREATE_CLOEXEC);
	ASSERT_EQ(pins + 4, pins_outstanding());
	ASSERT_EQ(16, vm_pin_kb());
	ASSERT_EQ(0, xmem_info(s.fd, &info));
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(4 * PAGE, info.length);
	EXPECT_EQ(0, info.page_offset);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(0, info.attachments);
	ASSERT_EQ(FD_CLOEXEC, fcntl(s.fd, F_GETFD));

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", s.fd);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	EXPECT_NE(NULL, strstr(text, "xmem-length:\t16384\n")) TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "xmem-access:\trw\n"));
	EXPECT_NE(NULL, strstr(text, "xmem-attachments:\t0\n"));

	ASSERT_EQ(0, close(s.fd));
	ASSERT_EQ(pins, pins_outstanding());
	ASSERT_EQ(0, vm_pin_kb());
}

TEST(unaligned_range)
{
	unsigned char *buf = buffer(3 * PAGE, PROT_READ | PROT_WRITE, 5);
	struct xmem_info info;
	unsigned char *p;
	int dev = xmem_open(), fd;

	ASSERT_LE(0, dev);
	fd = xmem_create(dev, buf + 100, 2 * PAGE, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, xmem_info(fd, &info));
	EXPECT_EQ(100, info.page_offset);
	EXPECT_EQ(2 * PAGE, info.length);
	ASSERT_EQ(0, xmem_pool_init(fd, POOL, 0));
	ASSERT_EQ(0, xmem_attach(fd, 10, 2 * PAGE - 10, 0, (void **)&p));
	EXPECT_EQ(110, (uintptr_t)p % PAGE);
	EXPECT_TRUE(pattern_ok(p, 110, 2 * PAGE - 10, 5));
	ASSERT_EQ(0, xmem_detach(fd, p, 2 * PAGE - 10));
	ASSERT_EQ(0, xmem_xmdetach(fd));
	close(fd);
}

/* The consumer side of share_scm_rights, in a child. */
static void scm_consumer(void *arg)
{
	int sock = *(int *)arg, fd;
	unsigned char *p;
	char c;

	fd = xmem_recv_fd(sock);
	CHECK(fd >= 0);
	CHECK(xmem_pool_init(fd, POOL, 0) == 0);
	CHECK(xmem_attach(fd, 0, 8 * PAGE, XMEM_ATTACH_WRITE, (void **)&p) == 0);
	/* The owner's bytes, then the owner's later write, seen live. */
	CHECK(pattern_ok(p + PAGE, PAGE, 7 * PAGE, 1));
	CHECK(write(sock, "a", 1) == 1);
	CHECK(read(sock, &c, 1) == 1 && c == 'w');
	CHECK(!strcmp((char *)p, "from the owner"));
	memcpy(p + 4 * PAGE + 3, "from the consumer", 18);
	CHECK(xmem_detach(fd, p, 8 * PAGE) == 0);
	CHECK(write(sock, "d", 1) == 1);
}

TEST(share_scm_rights)
{
	long pins = pins_outstanding();
	int sv[2], status;
	struct share s;
	pid_t pid;
	char c;

	SETUP(s, 8, XMEM_CREATE_CLOEXEC);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		close(s.fd);	/* it gets its own through the socket */
		scm_consumer(&sv[1]);
		_exit(0);
	}
	ASSERT_EQ(0, xmem_send_fd(sv[0], s.fd));
	ASSERT_EQ(1, read(sv[0], &c, 1));
	ASSERT_EQ('a', c);
	memcpy(s.buf, "from the owner", 15);
	ASSERT_EQ(1, write(sv[0], "w", 1));
	ASSERT_EQ(1, read(sv[0], &c, 1));
	ASSERT_EQ('d', c);
	EXPECT_STREQ("from the consumer", (char *)s.buf + 4 * PAGE + 3);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(EXITED_OK(status));
	ASSERT_EQ(0, xmem_xmdetach(s.fd));
	ASSERT_EQ(pins, pins_outstanding());
}

struct counter_arg {
	int fd;
	atomic_int *stop;
};

/* Fork child: attach the inherited fd and count up while the owner counts. */
static void fork_counter(void *arg)
{
	struct share *s = arg;
	atomic_ulong *w;
	unsigned long seen = 0;

	CHECK(xmem_pool_init(s->dev, POOL, 0) == 0);
	CHECK(xmem_attach(s->fd, 0, 2 * PAGE, XMEM_ATTACH_WRITE, (void **)&w) == 0);
	/* w[0]: the owner's counter; w[1]: ours; w[512]: done flag. */
	for (unsigned long i = 1; i <= 100000; i++) {
		atomic_store(&w[1], i);
		seen = atomic_load(&w[0]);
	}
	while (!atomic_load(&w[512]))
		sched_yield();
	CHECK(atomic_load(&w[0]) >= seen);
	CHECK(atomic_load(&w[0]) == 100000);
	CHECK(xmem_detach(s->fd, (void *)w, 2 * PAGE) == 0);
}

TEST(share_fork_concurrent)
{
	atomic_ulong *w;
	struct share s;
	int status;
	pid_t pid;

	SETUP(s, 2, 0);
	memset(s.buf, 0, 2 * PAGE);
	w = (atomic_ulong *)s.buf;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		fork_counter(&s);
		_exit(0);
	}
	for (unsigned long i = 1; i <= 100000; i++)
		atomic_store(&w[0], i);
	while (atomic_load(&w[1]) != 100000)
		sched_yield();
	atomic_store(&w[512], 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(EXITED_OK(status));
	ASSERT_EQ(0, xmem_xmdetach(s.fd));
}

static void write_through(void *arg)
{
	struct share *s = arg;

	CHECK(xmem_pool_init(s->fd, POOL, 0) == 0);
	CHECK(xmem_attach(s->fd, 0, s->len, 0, &s->addr) == 0);
	CHECK(pattern_ok(s->addr, 0, s->len, 1));
	poke(s->addr, 1);	/* SIGSEGV */
	_exit(0);
}

TEST(rdonly_descriptor)
{
	struct xmem_info info;
	struct share s;
	void *p;

	SETUP(s, 2, XMEM_CREATE_RDONLY);
	ASSERT_EQ(0, xmem_info(s.fd, &info));
	EXPECT_EQ(XMEM_INFO_RDONLY, info.flags);
	ASSERT_EQ(0, xmem_pool_init(s.fd, POOL, 0));
	ASSERT_EQ(-EACCES, xmem_attach(s.fd, 0, s.len, XMEM_ATTACH_WRITE, &p));
	ASSERT_EQ(0, xmem_info(s.fd, &info));
	EXPECT_EQ(0, info.attachments);
	ASSERT_TRUE(SEGV(in_child(write_through, &s)));
	/* The owner may still write its own memory; readers see it. */
	s.buf[0] = 42;
	ASSERT_EQ(0, xmem_attach(s.fd, 0, s.len, 0, &p));
	EXPECT_EQ(42, *(unsigned char *)p);
	ASSERT_EQ(0, xmem_detach(s.fd, p, s.len));
}

TEST(rdonly_mapping)
{
	unsigned char *buf = buffer(2 * PAGE, PROT_READ, 1);
	struct xmem_info info;
	struct share s = { .buf = buf, .len = 2 * PAGE };
	void *p;

	ASSERT_NE(NULL, buf);
	s.dev = xmem_open();
	ASSERT_LE(0, s.dev);
	s.fd = xmem_create(s.dev, buf, s.len, 0);
	ASSERT_LE(0, s.fd);
	ASSERT_EQ(0, xmem_info(s.fd, &info));
	EXPECT_EQ(XMEM_INFO_RDONLY, info.flags);
	ASSERT_EQ(0, xmem_pool_init(s.dev, POOL, 0));
	ASSERT_EQ(-EACCES, xmem_attach(s.fd, 0, s.len, XMEM_ATTACH_WRITE, &p));
	ASSERT_EQ(0, xmem_attach(s.fd, PAGE, PAGE, 0, &p));
	EXPECT_TRUE(pattern_ok(p, PAGE, PAGE, 1));
	ASSERT_EQ(0, xmem_detach(s.fd, p, PAGE));
}

/* A writable descriptor attached without XMEM_ATTACH_WRITE is read-only. */
TEST(readonly_attachment)
{
	struct share s;

	SETUP(s, 1, 0);
	ASSERT_TRUE(SEGV(in_child(write_through, &s)));
}

static void no_fd_probe(void *arg)
{
	int owner_fd = *(int *)arg;
	struct xmem_attach a = { .size = sizeof(a), .length = PAGE };
	char path[64], link[64];
	int fd;

	/* Every fd this process holds: none is the descriptor. */
	for (fd = 0; fd < 1024; fd++)
		CHECK(ioctl(fd, XMEM_IOC_ATTACH, &a) < 0);
	/* Nor can it reopen the owner's fd by path: anon inodes refuse open. */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", getppid(), owner_fd);
	CHECK(readlink(path, link, sizeof(link)) > 0);	/* it can see it */
	fd = open(path, O_RDWR);
	CHECK(fd < 0 && errno == ENXIO);
}

TEST(no_fd_no_access)
{
	struct share s;
	int fd;

	SETUP(s, 1, XMEM_CREATE_CLOEXEC);
	fd = s.fd;
	/* The child closes its copy: it is a process without the fd. */
	s.fd = fcntl(s.fd, F_DUPFD_CLOEXEC, 100);
	ASSERT_LE(0, s.fd);
	ASSERT_EQ(0, close(fd));
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (!pid) {
		int owner_fd = s.fd;

		close(s.fd);
		close(s.dev);
		CHECK(xmem_pool_init(xmem_open(), POOL, 0) == 0);
		no_fd_probe(&owner_fd);
		_exit(0);
	}
	int status;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(EXITED_OK(status));
}

static void memlock_child(void *arg)
{
	struct rlimit rl = { 16 * PAGE, 16 * PAGE };
	unsigned char *buf = buffer(32 * PAGE, PROT_READ | PROT_WRITE, 1);
	int dev = xmem_open(), fd, fd2;

	CHECK(buf && dev >= 0);
	CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
	CHECK(setresgid(NOBODY, NOBODY, NOBODY) == 0);
	CHECK(setresuid(NOBODY, NOBODY, NOBODY) == 0);

	CHECK(xmem_create(dev, buf, 17 * PAGE, 0) == -ENOMEM);
	CHECK(vm_pin_kb() == 0);
	fd = xmem_create(dev, buf, 16 * PAGE, 0);
	CHECK(fd >= 0);
	CHECK(vm_pin_kb() == 64);
	CHECK(xmem_create(dev, buf + 16 * PAGE, PAGE, 0) == -ENOMEM);
	/* xmdetach returns the charge ... */
	CHECK(xmem_xmdetach(fd) == 0);
	CHECK(vm_pin_kb() == 0);
	fd2 = xmem_create(dev, buf + 16 * PAGE, 16 * PAGE, 0);
	CHECK(fd2 >= 0);
	/* ... and so does the last close. */
	CHECK(close(fd2) == 0);
	CHECK(vm_pin_kb() == 0);
	fd = xmem_create(dev, buf, 16 * PAGE, 0);
	CHECK(fd >= 0);
	CHECK(close(fd) == 0);
}

TEST(memlock_limit)
{
	long pins = pins_outstanding();

	ASSERT_TRUE(EXITED_OK(in_child(memlock_child, NULL)));
	ASSERT_EQ(pins, pins_outstanding());
}

TEST(pool_init_errors)
{
	struct share s;

	SETUP(s, 1, 0);
	EXPECT_EQ(-EINVAL, xmem_pool_init(s.dev, 0, 0));
	EXPECT_EQ(-EINVAL, xmem_pool_init(s.dev, POOL, 2));
	EXPECT_EQ(-EINVAL, xmem_pool_init(s.dev, (8UL << 30) + PAGE, 0));
	ASSERT_EQ(0, xmem_pool_init(s.dev, POOL, 0));
	EXPECT_EQ(-EEXIST, xmem_pool_init(s.dev, POOL, 0));
	EXPECT_EQ(-EEXIST, xmem_pool_init(s.fd, POOL, XMEM_POOL_DEBUG));
}

TEST(attach_errors)
{
	struct xmem_info info;
	struct share s;
	void *p, *q;

	SETUP(s, 8, 0);
	EXPECT_EQ(-ENODEV, xmem_attach(s.fd, 0, PAGE, 0, &p));
	ASSERT_EQ(0, xmem_pool_init(s.fd, 4 * PAGE, 0));
	EXPECT_EQ(-EINVAL, xmem_attach(s.fd, 0, 0, 0, &p));
	EXPECT_EQ(-EINVAL, xmem_attach(s.fd, 0, 8 * PAGE + 1, 0, &p));
	EXPECT_EQ(-EINVAL, xmem_attach(s.fd, 8 * PAGE, 1, 0, &p));
	EXPECT_EQ(-EINVAL, xmem_attach(s.fd, ~0UL, 2, 0, &p));
	/* Exactly the pool size, then no more. */
	ASSERT_EQ(0, xmem_attach(s.fd, 0, 4 * PAGE, 0, &p));
	EXPECT_EQ(-ENOMEM, xmem_attach(s.fd, 4 * PAGE, 1, 0, &q));
	ASSERT_EQ(0, xmem_info(s.fd, &info));
	EXPECT_EQ(1, info.attachments);
	ASSERT_EQ(0, xmem_detach(s.fd, p, 4 * PAGE));
	ASSERT_EQ(0, xmem_attach(s.fd, 4 * PAGE, 4 * PAGE, 0, &q));
	EXPECT_TRUE(pattern_ok(q, 4 * PAGE, 4 * PAGE, 1));
	ASSERT_EQ(0, xmem_detach(s.fd, q, 4 * PAGE));
	/* After xmdetach the descriptor attaches nothing. */
	ASSERT_EQ(0, xmem_xmdetach(s.fd));
	EXPECT_EQ(-EINVAL, xmem_attach(s.fd, 0, PAGE, 0, &p));
}

TEST(detach_errors)
{
	struct share s, t;
	void *p, *q;

	SETUP(s, 4, 0);
	t.dev = s.dev;
	t.fd = xmem_create(t.dev, s.buf, s.len, 0);
	ASSERT_LE(0, t.fd);
	ASSERT_EQ(0, xmem_pool_init(s.dev, POOL, 0));
	/* This thread never attached: no lightweight resources. */
	EXPECT_EQ(-ENOMEM, xmem_detach(s.fd, s.buf, PAGE));
	ASSERT_EQ(0, xmem_attach(s.fd, PAGE, 2 * PAGE, 0, &p));
	ASSERT_EQ(0, xmem_attach(t.fd, 0, PAGE, 0, &q));
	EXPECT_EQ(-EINVAL, xmem_detach(s.fd, p, PAGE));
	EXPECT_EQ(-EINVAL, xmem_detach(s.fd, (char *)p + 1, 2 * PAGE));
	EXPECT_EQ(-EINVAL, xmem_detach(t.fd, p, 2 * PAGE));
	EXPECT_EQ(-EINVAL, xmem_detach(s.fd, s.buf, 2 * PAGE));
	EXPECT_EQ(-EINVAL, xmem_detach(s.fd, q, PAGE));
	/* The window is PMD-aligned; past its pool-sized part is padding. */
	EXPECT_EQ(-EINVAL, xmem_detach(s.fd, (void *)(((uintptr_t)p & ~(PMD - 1)) +
						     PMD - PAGE), PAGE));
	ASSERT_EQ(0, xmem_detach(s.fd, p, 2 * PAGE));
	EXPECT_EQ(-EINVAL, xmem_detach(s.fd, p, 2 * PAGE));
	ASSERT_EQ(0, xmem_detach(t.fd, q, PAGE));
}

TEST(xmdetach_busy)
{
	long pins = pins_outstanding();
	struct xmem_info info;
	struct share s;
	void *p;

	SETUP(s, 2, 0);
	ASSERT_EQ(0, xmem_pool_init(s.fd, POOL, 0));
	ASSERT_EQ(0, xmem_attach(s.fd, 0, PAGE, XMEM_ATTACH_WRITE, &p));
	EXPECT_EQ(-EBUSY, xmem_xmdetach(s.fd));
	/* Refused and unchanged: still attached, still pinned. */
	ASSERT_EQ(0, xmem_info(s.fd, &info));
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(1, info.attachments);
	EXPECT_EQ(pins + 2, pins_outstanding());
	*(char *)p = 9;
	EXPECT_EQ(9, s.buf[0]);
	ASSERT_EQ(0, xmem_detach(s.fd, p, PAGE));
	ASSERT_EQ(0, xmem_xmdetach(s.fd));
	EXPECT_EQ(pins, pins_outstanding());
	EXPECT_EQ(-EINVAL, xmem_xmdetach(s.fd));
	ASSERT_EQ(0, xmem_info(s.fd, &info));
	EXPECT_EQ(XMEM_INFO_DETACHED, info.flags);
	EXPECT_EQ(-EINVAL, (int)ioctl(s.fd, XMEM_IOC_XMDETACH, 1) ? -errno : 0);
}

struct thr {
	struct share *s;
	void *addr;
	size_t len;
	int ret;
	pid_t tid;
	bool attach_own;
	bool keep;
};

static void *thr_detach(void *arg)
{
	struct thr *t = arg;
	void *own = NULL;

	t->tid = gettid_();
	if (t->attach_own && xmem_attach(t->s->fd, 0, PAGE, 0, &own))
		return (void *)1;
	t->ret = xmem_detach(t->s->fd, t->addr, t->len);
	if (t->attach_own && xmem_detach(t->s->fd, own, PAGE))
		return (void *)1;
	return NULL;
}

TEST(cross_thread_detach)
{
	struct thr t = { 0 };
	struct share s;
	pthread_t th;
	void *p, *rv;

	SETUP(s, 2, 0);
	ASSERT_EQ(0, xmem_pool_init(s.fd, POOL, 0));
	ASSERT_EQ(0, xmem_attach(s.fd, 0, 2 * PAGE, 0, &p));
	t = (struct thr){ .s = &s, .addr = p, .len = 2 * PAGE };
	/* A thread without a window: no lightweight resources. */
	ASSERT_EQ(0, pthread_create(&th, NULL, thr_detach, &t));
	ASSERT_EQ(0, pthread_join(th, &rv));
	ASSERT_EQ(NULL, rv);
	EXPECT_EQ(-ENOMEM, t.ret);
	/* A thread with its own window: not one of its attachments. */
	t.attach_own = true;
	ASSERT_EQ(0, pthread_create(&th, NULL, thr_detach, &t));
	ASSERT_EQ(0, pthread_join(th, &rv));
	ASSERT_EQ(NULL, rv);
	EXPECT_EQ(-EINVAL, t.ret);
	/* Still attached here. */
	EXPECT_TRUE(pattern_ok(p, 0, 2 * PAGE, 1));
	EXPECT_EQ(-EBUSY, xmem_xmdetach(s.fd));
	ASSERT_EQ(0, xmem_detach(s.fd, p, 2 * PAGE));
	ASSERT_EQ(0, xmem_xmdetach(s.fd));
}

static void *thr_attach_and_exit(void *arg)
{
	struct thr *t = arg;

	t->tid = gettid_();
	t->ret = xmem_attach(t->s->fd, 0, t->len, 0, &t->addr);
	if (!t->ret && !pattern_ok(t->addr, 0, t->len, 1))
		t->ret = -EBADMSG;
	return NULL;	/* leaves the attachment behind */
}

TEST(thread_exit_cleans_up)
{
	long pins = pins_outstanding();
	struct xmem_info info;
	struct thr t = { 0 };
	struct share s;
	pthread_t th;

	SETUP(s, 4, 0);
	ASSERT_EQ(0, xmem_pool_init(s.fd, POOL, 0));
	t = (struct thr){ .s = &s, .len = 4 * PAGE };
	ASSERT_EQ(0, pthread_create(&th, NULL, thr_attach_and_exit, &t));
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(0, t.ret);
	/* pthread_join() returns once the kernel's exit has run. */
	ASSERT_EQ(0, xmem_info(s.fd, &info));
	EXPECT_EQ(0, info.attachments);
	ASSERT_EQ(0, xmem_xmdetach(s.fd));
	EXPECT_EQ(pins, pins_outstanding());
}

static void fork_child_probe(void *arg)
{
	struct share *s = arg;
	void *p;

	/* No window (VM_DONTCOPY) and no pool in the child. */
	CHECK(xmem_detach(s->fd, s->addr, PAGE) == -ENOMEM);
	CHECK(xmem_attach(s->fd, 0, PAGE, 0, &p) == -ENODEV);
	CHECK(xmem_pool_init(s->fd, POOL, 0) == 0);
	CHECK(xmem_attach(s->fd, 0, PAGE, 0, &p) == 0);
	CHECK(xmem_detach(s->fd, p, PAGE) == 0);
}

static void fork_child_touch(void *arg)
{
	struct share *s = arg;

	peek(s->addr);	/* SIGSEGV: not mapped here */
}

TEST(fork_inherits_no_window)
{
	struct share s;

	SETUP(s, 1, 0);
	ASSERT_EQ(0, xmem_pool_init(s.fd, POOL, 0));
	ASSERT_EQ(0, xmem_attach(s.fd, 0, PAGE, 0, &s.addr));
	ASSERT_TRUE(EXITED_OK(in_child(fork_child_probe, &s)));
	ASSERT_TRUE(SEGV(in_child(fork_child_touch, &s)));
	/* The parent's attachment is untouched. */
	EXPECT_TRUE(pattern_ok(s.addr, 0, PAGE, 1));
	ASSERT_EQ(0, xmem_detach(s.fd, s.addr, PAGE));
}

static const char *self_exe = "/proc/self/exe";

/* After execve(): a fresh mm, no pool; the descriptor fd is still open. */
static int exec_probe(int fd)
{
	struct xmem_info info;
	void *p;

	/* What the old image left attached was detached by the exec. */
	if (xmem_info(fd, &info) || info.attachments)
		return 5;
	if (xmem_attach(fd, 0, PAGE, 0, &p) != -ENODEV)
		return 1;
	if (xmem_pool_init(fd, POOL, 0))
		return 2;
	if (xmem_attach(fd, 0, PAGE, 0, &p) || !pattern_ok(p, 0, PAGE, 1))
		return 3;
	if (xmem_detach(fd, p, PAGE))
		return 4;
	return 0;
}

TEST(exec_resets)
{
	struct share s;
	int status;
	pid_t pid;

	SETUP(s, 1, 0);	/* no CLOEXEC: the fd survives exec */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char fdarg[16];
		void *p;

		CHECK(xmem_pool_init(s.fd, POOL, 0) == 0);
		CHECK(xmem_attach(s.fd, 0, PAGE, 0, &p) == 0);
		snprintf(fdarg, sizeof(fdarg), "%d", s.fd);
		execl(self_exe, self_exe, "--exec-probe", fdarg, NULL);
		_exit(99);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* exec released the attachment the old image left. */
	ASSERT_EQ(0, xmem_xmdetach(s.fd));
}

TEST(window_sealed)
{
	struct share s;
	char *p, *page;

	SETUP(s, 2, 0);
	ASSERT_EQ(0, xmem_pool_init(s.fd, POOL, 0));
	ASSERT_EQ(0, xmem_attach(s.fd, 0, 2 * PAGE, 0, (void **)&p));
	page = (char *)((uintptr_t)p & ~(PAGE - 1));
	EXPECT_EQ(-1, munmap(page, PAGE));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, mprotect(page, PAGE, PROT_READ));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(MAP_FAILED, mremap(page, PAGE, 2 * PAGE, MREMAP_MAYMOVE));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(MAP_FAILED, mmap(page, PAGE, PROT_READ,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_TRUE(pattern_ok((unsigned char *)p, 0, 2 * PAGE, 1));
	ASSERT_EQ(0, xmem_detach(s.fd, p, 2 * PAGE));
}

/* A window cannot be shared: its pages are VM_IO | VM_PFNMAP. */
TEST(create_over_a_window)
{
	long pins = pins_outstanding();
	struct share s;
	void *p;

	SETUP(s, 2, 0);
	pins += 2;
	ASSERT_EQ(0, xmem_pool_init(s.fd, POOL, 0));
	ASSERT_EQ(0, xmem_attach(s.fd, 0, PAGE, XMEM_ATTACH_WRITE, &p));
	EXPECT_EQ(-EFAULT, xmem_create(s.dev, p, PAGE, 0));
	EXPECT_EQ(-EFAULT, xmem_create(s.dev, p, PAGE, XMEM_CREATE_RDONLY));
	EXPECT_EQ(pins, pins_outstanding());
	ASSERT_EQ(0, xmem_detach(s.fd, p, PAGE));
}

/* Out of file descriptors: EMFILE, nothing pinned. */
TEST(create_emfile)
{
	struct rlimit rl, low;
	long pins = pins_outstanding();
	struct share s;

	SETUP(s, 2, 0);
	pins += 2;
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	low = (struct rlimit){ open_fds() + 3, rl.rlim_max };
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &low));
	/* Use up what is left. */
	int first = dup(0), last = first, fd;

	while ((fd = dup(0)) >= 0)
		last = fd;
	EXPECT_EQ(-EMFILE, xmem_create(s.dev, s.buf, PAGE, 0));
	for (fd = first; first >= 0 && fd <= last; fd++)
		close(fd);
	EXPECT_EQ(pins, pins_outstanding());
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
}

/* Owner: share a buffer through the socket, then exit at once. */
static void short_lived_owner(void *arg)
{
	int sock = *(int *)arg, dev = xmem_open(), fd;
	unsigned char *buf = buffer(16 * PAGE, PROT_READ | PROT_WRITE, 3);

	CHECK(dev >= 0 && buf);
	fd = xmem_create(dev, buf, 16 * PAGE, 0);
	CHECK(fd >= 0);
	CHECK(xmem_send_fd(sock, fd) == 0);
}

TEST(owner_exits_first)
{
	long pins = pins_outstanding();
	int sv[2], fd, dev;
	unsigned char *p;
	unsigned char *filler[64];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	dev = xmem_open();
	ASSERT_LE(0, dev);
	ASSERT_TRUE(EXITED_OK(in_child(short_lived_owner, &sv[0])));
	fd = xmem_recv_fd(sv[1]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(pins + 16, pins_outstanding());
	ASSERT_EQ(0, xmem_pool_init(dev, POOL, 0));
	ASSERT_EQ(0, xmem_attach(fd, 0, 16 * PAGE, XMEM_ATTACH_WRITE, (void **)&p));
	/* Churn the page allocator: freed pages would be reused and zeroed. */
	for (int i = 0; i < 64; i++) {
		filler[i] = buffer(64 * PAGE, PROT_READ | PROT_WRITE, 0xee);
		ASSERT_NE(NULL, filler[i]);
	}
	EXPECT_TRUE(pattern_ok(p, 0, 16 * PAGE, 3));
	memset(p, 0x5a, 16 * PAGE);
	ASSERT_EQ(0, xmem_detach(fd, p, 16 * PAGE));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(pins, pins_outstanding());
}

static void *thr_attach_close_exit(void *arg)
{
	struct thr *t = arg;
	unsigned char *p;

	t->ret = xmem_attach(t->s->fd, 0, t->len, 0, (void **)&p);
	if (t->ret)
		return NULL;
	/* The last reference goes while attached: the mapping stays. */
	if (close(t->s->fd)) {
		t->ret = -errno;
		return NULL;
	}
	if (!pattern_ok(p, 0, t->len, 1))
		t->ret = -EBADMSG;
	return NULL;
}

TEST(last_close_while_attached)
{
	long pins = pins_outstanding();
	struct thr t;
	struct share s;
	pthread_t th;

	SETUP(s, 8, 0);
	ASSERT_EQ(0, xmem_pool_init(s.dev, POOL, 0));
	t = (struct thr){ .s = &s, .len = 8 * PAGE };
	ASSERT_EQ(0, pthread_create(&th, NULL, thr_attach_close_exit, &t));
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(0, t.ret);
	/* The thread's exit ended the attachment and so the pins. */
	EXPECT_EQ(pins, pins_outstanding());
	EXPECT_EQ(0, vm_pin_kb());
}

/* An ioctl with a raw argument; -errno or the result. */
static long raw(int fd, unsigned long cmd, const void *arg)
{
	long ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

TEST(bad_arguments)
{
	long pins = pins_outstanding();
	int fds = open_fds();
	struct share s;
	unsigned char big[PAGE + 8] = { 0 };
	struct xmem_create *c = (void *)big;
	struct xmem_attach a = { .size = sizeof(a), .length = PAGE };
	struct xmem_detach d = { .size = sizeof(d), .length = PAGE };
	struct xmem_info info;
	char *hole;
	void *p;

	SETUP(s, 2, 0);
	hole = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole + PAGE, PAGE));
	pins += 2;
	fds += 2;

	/* size */
	*c = (struct xmem_create){ .size = 0, .addr = (uintptr_t)s.buf, .length = PAGE };
	EXPECT_EQ(-EINVAL, raw(s.dev, XMEM_IOC_CREATE, c));
	c->size = sizeof(*c) - 8;
	EXPECT_EQ(-EINVAL, raw(s.dev, XMEM_IOC_CREATE, c));
	c->size = PAGE + 8;
	EXPECT_EQ(-E2BIG, raw(s.dev, XMEM_IOC_CREATE, c));
	c->size = sizeof(*c) + 8;
	big[sizeof(*c) + 3] = 1;
	EXPECT_EQ(-E2BIG, raw(s.dev, XMEM_IOC_CREATE, c));
	big[sizeof(*c) + 3] = 0;
	/* A larger struct with a zero tail is a newer caller: accepted. */
	long fd = raw(s.dev, XMEM_IOC_CREATE, c);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	info.size = sizeof(info) - 1;
	EXPECT_EQ(-EINVAL, raw(s.fd, XMEM_IOC_INFO, &info));
	/* INFO's input is checked as every other ioctl's. */
	unsigned char ibuf[sizeof(struct xmem_info) + 32] = { 0 };
	struct xmem_info *ib = (void *)ibuf;

	ib->size = sizeof(*ib);
	ib->flags = XMEM_INFO_RDONLY;
	EXPECT_EQ(-EINVAL, raw(s.fd, XMEM_IOC_INFO, ib));
	ib->flags = 0;
	ib->__reserved = 1;
	EXPECT_EQ(-EINVAL, raw(s.fd, XMEM_IOC_INFO, ib));
	ib->__reserved = 0;
	ib->id = 1;
	EXPECT_EQ(-EINVAL, raw(s.fd, XMEM_IOC_INFO, ib));
	ib->id = 0;
	ib->size = sizeof(*ib) + 16;
	ibuf[sizeof(*ib) + 5] = 1;
	EXPECT_EQ(-E2BIG, raw(s.fd, XMEM_IOC_INFO, ib));
	ibuf[sizeof(*ib) + 5] = 0;
	/* A newer caller's zero tail: accepted, and still zero on return. */
	ibuf[sizeof(*ib) + 16] = 0x5a;
	EXPECT_EQ(0, raw(s.fd, XMEM_IOC_INFO, ib));
	EXPECT_EQ(2 * PAGE, ib->length);
	EXPECT_EQ(0, ibuf[sizeof(*ib) + 5]);
	EXPECT_EQ(0x5a, ibuf[sizeof(*ib) + 16]);

	/* flags, reserved fields */
	c->size = sizeof(*c);
	c->flags = 1U << 7;
	EXPECT_EQ(-EINVAL, raw(s.dev, XMEM_IOC_CREATE, c));
	c->flags = 0;
	ASSERT_EQ(0, xmem_pool_init(s.dev, POOL, 0));
	a.flags = 1U << 5;
	EXPECT_EQ(-EINVAL, raw(s.fd, XMEM_IOC_ATTACH, &a));
	a.flags = 0;
	a.__reserved = 1;
	EXPECT_EQ(-EINVAL, raw(s.fd, XMEM_IOC_ATTACH, &a));
	a.__reserved = 0;
	ASSERT_EQ(0, xmem_attach(s.fd, 0, PAGE, 0, &p));
	d.addr = (uintptr_t)p;
	d.flags = 1;
	EXPECT_EQ(-EINVAL, raw(s.fd, XMEM_IOC_DETACH, &d));
	d.flags = 0;

	/* lengths: zero, wrapping, huge, unmapped */
	EXPECT_EQ(-EINVAL, xmem_create(s.dev, s.buf, 0, 0));
	EXPECT_EQ(-EINVAL, xmem_create(s.dev, s.buf, ~0UL - 10, 0));
	EXPECT_EQ(-EFAULT, xmem_create(s.dev, s.buf, 1UL << 46, 0));
	EXPECT_EQ(-EFAULT, xmem_create(s.dev, NULL, PAGE, 0));
	EXPECT_EQ(-EFAULT, xmem_create(s.dev, (void *)(1UL << 47), PAGE, 0));
	EXPECT_EQ(-EFAULT, xmem_create(s.dev, hole, 2 * PAGE, 0));

	/* pointers */
	EXPECT_EQ(-EFAULT, raw(s.dev, XMEM_IOC_CREATE, NULL));
	EXPECT_EQ(-EFAULT, raw(s.dev, XMEM_IOC_POOL_INIT, NULL));
	EXPECT_EQ(-EFAULT, raw(s.fd, XMEM_IOC_ATTACH, NULL));
	EXPECT_EQ(-EFAULT, raw(s.fd, XMEM_IOC_DETACH, NULL));
	EXPECT_EQ(-EFAULT, raw(s.fd, XMEM_IOC_INFO, NULL));
	EXPECT_EQ(-EFAULT, raw(s.fd, XMEM_IOC_ATTACH, (void *)1));
	EXPECT_EQ(-EINVAL, raw(s.fd, XMEM_IOC_XMDETACH, (void *)8));

	/* the wrong fd, the wrong command */
	EXPECT_EQ(-ENOTTY, raw(s.dev, XMEM_IOC_ATTACH, &a));
	EXPECT_EQ(-ENOTTY, raw(s.dev, XMEM_IOC_INFO, &info));
	EXPECT_EQ(-ENOTTY, raw(s.fd, XMEM_IOC_CREATE, c));
	EXPECT_EQ(-ENOTTY, raw(s.fd, _IO(XMEM_IOC_MAGIC, 0x0f), &a));
	EXPECT_EQ(-ENOTTY, raw(s.fd, _IO(XMEM_IOC_MAGIC, 0x02), &a));
	EXPECT_EQ(-ENOTTY, raw(s.fd, _IOR(XMEM_IOC_MAGIC, 0x02, struct xmem_attach), &a));

	/* Nothing was half-done. */
	ASSERT_EQ(0, xmem_info(s.fd, &info));
	EXPECT_EQ(1, info.attachments);
	ASSERT_EQ(0, xmem_detach(s.fd, p, PAGE));
	EXPECT_EQ(pins, pins_outstanding());
	EXPECT_EQ(fds, open_fds());
}

/* An attach whose address cannot be written back is undone. */
TEST(attach_result_unwritable)
{
	struct xmem_attach *a;
	struct xmem_info info;
	struct share s;

	SETUP(s, 1, 0);
	ASSERT_EQ(0, xmem_pool_init(s.dev, POOL, 0));
	a = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a);
	*a = (struct xmem_attach){ .size = sizeof(*a), .length = PAGE };
	ASSERT_EQ(0, mprotect(a, PAGE, PROT_READ));
	EXPECT_EQ(-EFAULT, raw(s.fd, XMEM_IOC_ATTACH, a));
	ASSERT_EQ(0, xmem_info(s.fd, &info));
	EXPECT_EQ(0, info.attachments);
	ASSERT_EQ(0, xmem_xmdetach(s.fd));
}

static void debug_use_after_detach(void *arg)
{
	struct share *s = arg;
	void *p;

	CHECK(xmem_pool_init(s->fd, POOL, XMEM_POOL_DEBUG) == 0);
	CHECK(xmem_attach(s->fd, 0, PAGE, 0, &p) == 0);
	CHECK(pattern_ok(p, 0, PAGE, 1));
	CHECK(xmem_detach(s->fd, p, PAGE) == 0);
	peek(p);	/* SIGSEGV at once with LW_DEBUG */
}

TEST(debug_pool_faults_after_detach)
{
	struct share s;

	SETUP(s, 1, 0);
	ASSERT_TRUE(SEGV(in_child(debug_use_after_detach, &s)));
}

#define TORTURE_THREADS	4
#define TORTURE_ROUNDS	300

static void *torture(void *arg)
{
	struct thr *t = arg;
	unsigned int seed = t->tid;

	for (int i = 0; i < TORTURE_ROUNDS; i++) {
		size_t pages = 1 + rand_r(&seed) % 8;
		size_t first = rand_r(&seed) % (32 - pages + 1);
		unsigned char *p;

		if (xmem_attach(t->s->fd, first * PAGE, pages * PAGE, 0,
				(void **)&p))
			return (void *)1;
		if (!pattern_ok(p, first * PAGE, pages * PAGE, 1))
			return (void *)2;
		if (xmem_detach(t->s->fd, p, pages * PAGE))
			return (void *)3;
	}
	return NULL;
}

TEST(threads_torture)
{
	long pins = pins_outstanding();
	struct thr t[TORTURE_THREADS];
	pthread_t th[TORTURE_THREADS];
	struct share s;

	SETUP(s, 32, 0);
	ASSERT_EQ(0, xmem_pool_init(s.fd, 16 * PAGE, 0));
	for (int i = 0; i < TORTURE_THREADS; i++) {
		t[i] = (struct thr){ .s = &s, .tid = i + 1 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, torture, &t[i]));
	}
	for (int i = 0; i < TORTURE_THREADS; i++) {
		void *rv;

		ASSERT_EQ(0, pthread_join(th[i], &rv));
		EXPECT_EQ(NULL, rv);
	}
	ASSERT_EQ(0, xmem_xmdetach(s.fd));
	EXPECT_EQ(pins, pins_outstanding());
}

static void memlock_baseline_child(void *arg)
{
	struct rlimit rl = { 64 * PAGE, 64 * PAGE };
	unsigned char *buf = buffer(65 * PAGE, PROT_READ | PROT_WRITE, 1);
	int dev = xmem_open(), fd;

	CHECK(buf && dev >= 0);
	CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
	CHECK(setresgid(NOBODY, NOBODY, NOBODY) == 0);
	CHECK(setresuid(NOBODY, NOBODY, NOBODY) == 0);
	/* The whole limit is free: nothing earlier left a charge behind ... */
	fd = xmem_create(dev, buf, 64 * PAGE, 0);
	CHECK(fd >= 0);
	/* ... and the limit is enforced. */
	CHECK(xmem_create(dev, buf + 64 * PAGE, PAGE, 0) == -ENOMEM);
	CHECK(close(fd) == 0);
}

/* Last: the charges of every earlier case came back. */
TEST(memlock_back_to_baseline)
{
	ASSERT_TRUE(EXITED_OK(in_child(memlock_baseline_child, NULL)));
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--exec-probe"))
		return exec_probe(atoi(argv[2]));
	if (access(XMEM_DEV_PATH, R_OK | W_OK)) {
		printf("1..0 # SKIP %s: %s (CONFIG_XMEM_DEV)\n", XMEM_DEV_PATH,
		       strerror(errno));
		return KSFT_SKIP;
	}
	return test_harness_run(argc, argv);
}
