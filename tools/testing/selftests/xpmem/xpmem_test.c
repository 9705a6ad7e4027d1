// SPDX-License-Identifier: GPL-2.0
/*
 * The XPMEM interface (tools/xpmem, over /dev/xmem), tested from what XPMEM
 * documents and what its clients (Open MPI, MPICH, UCX) rely on: make, get,
 * attach, detach, release and remove across processes; whole-address-space
 * segments; permissions; coherence with the owner's memory (writes, munmap,
 * remap, fork and copy-on-write), SIGBUS where the owner has nothing, after
 * a remove and after the owner's exit; detach from another thread; fork of
 * an attacher; atomics across processes and a futex on attached memory;
 * many attachers and threads; every error path.  Pins and page tables come
 * back to where they were.
 *
 * Run as root: the permission cases drop to an unprivileged uid in a child.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "../../../xpmem/xpmem.h"
#include "../xmem/xmem_util.h"

#define MODE		((void *)0600)
#define FAILED		((void *)-1)

/* ===== Touching memory that may fault, and which signal it got ===== */

static __thread sigjmp_buf sig_jmp;
static __thread int sig_armed;		/* read by the signal handler */

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	if (!__atomic_load_n(&sig_armed, __ATOMIC_RELAXED)) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	__atomic_store_n(&sig_armed, 0, __ATOMIC_RELAXED);
	siglongjmp(sig_jmp, sig);
}

static void catch_faults(void)
{
	struct sigaction sa = { .sa_sigaction = on_signal,
				.sa_flags = SA_SIGINFO | SA_NODEFER };

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/*
 * Read (or write @v to) the byte at @p, as accesses the compiler keeps:
 * 0, or the signal it raised.
 */
static int access_byte(unsigned char *p, bool write, unsigned char v,
		       unsigned char *out)
{
	unsigned char got;
	int sig = sigsetjmp(sig_jmp, 1);

	if (sig)
		return sig;
	__atomic_store_n(&sig_armed, 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (write) {
		__atomic_store_n(p, v, __ATOMIC_RELAXED);
	} else {
		got = __atomic_load_n(p, __ATOMIC_RELAXED);
		if (out)
			*out = got;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&sig_armed, 0, __ATOMIC_RELAXED);
	return 0;
}

static int peek(void *p, unsigned char *out)
{
	return access_byte(p, false, 0, out);
}

static int poke(void *p, unsigned char v)
{
	return access_byte(p, true, v, NULL);
}

/* ===== Helpers ===== */

static void *anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void fill(void *p, size_t len, unsigned char seed)
{
	for (size_t i = 0; i < len; i++)
		((unsigned char *)p)[i] = seed + i * 7;
}

/* The seed of what fill(p, ..., @seed) put at @off onwards. */
static unsigned char seed_at(unsigned char seed, size_t off)
{
	return seed + off * 7;
}

static bool filled(const void *p, size_t len, unsigned char seed)
{
	for (size_t i = 0; i < len; i++)
		if (((const unsigned char *)p)[i] != (unsigned char)(seed + i * 7))
			return false;
	return true;
}

/* CLOCK_MONOTONIC, in seconds. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Page-table pages of the whole system, in kB. */
static long page_tables_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PageTables: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* A child that runs @fn(@arg) and exits with its result. */
static pid_t child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (!pid) {
		catch_faults();
		_exit(fn(arg));
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Exchange a value with the other end of a socketpair. */
static int send_val(int sock, int64_t v)
{
	return write(sock, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

static int64_t recv_val(int sock)
{
	int64_t v;

	return read(sock, &v, sizeof(v)) == sizeof(v) ? v : -1;
}

/* ===== Round trips ===== */

/* A child gets, attaches, reads, writes, detaches, releases. */
struct rt_arg {
	xpmem_segid_t segid;
	size_t len;
	off_t off;
};

static int rt_child(void *p)
{
	struct rt_arg *a = p;
	xpmem_apid_t apid = xpmem_get(a->segid, XPMEM_RDWR, XPMEM_PERMIT_MODE,
				      NULL);
	struct xpmem_addr addr = { .apid = apid, .offset = a->off };
	unsigned char *m;

	if (apid <= 0)
		return 10;
	m = xpmem_attach(addr, a->len, NULL);
	if (m == FAILED)
		return 11;
	if (!filled(m, a->len, 0x31))
		return 12;
	fill(m, a->len, 0x77);
	if (xpmem_detach(m) || xpmem_release(apid))
		return 13;
	return 0;
}

TEST(round_trip)
{
	size_t len = 16 * PAGE;
	unsigned char *buf = anon(len);
	struct rt_arg a = { .len = len };
	long pins = pins_outstanding();

	ASSERT_NE(NULL, buf);
	fill(buf, len, 0x31);
	a.segid = xpmem_make(buf, len, XPMEM_PERMIT_MODE, MODE);
	ASSERT_GT(a.segid, 0);
	EXPECT_EQ(0, wait_status(child(rt_child, &a)));
	EXPECT_TRUE(filled(buf, len, 0x77));
	EXPECT_EQ(0, xpmem_remove(a.segid));
	/* Nothing is pinned by a segment or its attachments. */
	EXPECT_EQ(pins, pins_outstanding());
	munmap(buf, len);
}

/* The whole address space: any address of the owner is an offset. */
TEST(whole_address_space)
{
	size_t len = 8 * PAGE;
	unsigned char *buf = anon(len), *later;
	struct rt_arg a = { .len = len };

	ASSERT_NE(NULL, buf);
	fill(buf, len, 0x31);
	a.segid = xpmem_make(NULL, XPMEM_MAXADDR_SIZE, XPMEM_PERMIT_MODE, MODE);
	ASSERT_GT(a.segid, 0);
	a.off = (uintptr_t)buf;
	EXPECT_EQ(0, wait_status(child(rt_child, &a)));
	EXPECT_TRUE(filled(buf, len, 0x77));
	/* Memory mapped after the make is in the segment too. */
	later = anon(len);
	ASSERT_NE(NULL, later);
	fill(later, len, 0x31);
	a.off = (uintptr_t)later;
	EXPECT_EQ(0, wait_status(child(rt_child, &a)));
	EXPECT_TRUE(filled(later, len, 0x77));
	EXPECT_EQ(0, xpmem_remove(a.segid));
	munmap(buf, len);
	munmap(later, len);
}

/* In one process too: a segment of its own memory. */
TEST(self_attach_sizes_and_fixed_address)
{
	size_t len = 8 * PAGE;
	unsigned char *buf = anon(len), *m, *fixed;
	xpmem_segid_t segid;
	xpmem_apid_t apid;
	struct xpmem_addr addr;

	ASSERT_NE(NULL, buf);
	catch_faults();
	fill(buf, len, 0x31);
	segid = xpmem_make(buf, len, XPMEM_PERMIT_MODE, MODE);
	ASSERT_GT(segid, 0);
	apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	ASSERT_GT(apid, 0);
	addr = (struct xpmem_addr){ .apid = apid, .offset = 2 * PAGE };
	/* 1 byte: a whole page is mapped. */
	m = xpmem_attach(addr, 1, NULL);
	ASSERT_NE(FAILED, m);
	EXPECT_TRUE(filled(m, PAGE, seed_at(0x31, 2 * PAGE)));
	EXPECT_EQ(0, xpmem_detach(m));
	/* At a fixed address, replacing what is there. */
	fixed = anon(2 * PAGE);
	ASSERT_NE(NULL, fixed);
	m = xpmem_attach(addr, PAGE + 1, fixed);
	ASSERT_EQ(fixed, m);
	EXPECT_TRUE(filled(m, 2 * PAGE, seed_at(0x31, 2 * PAGE)));
	EXPECT_EQ(0, xpmem_detach(m));
	/* Detached: nothing mapped there any more. */
	EXPECT_EQ(SIGSEGV, peek(fixed, NULL));
	EXPECT_EQ(0, xpmem_release(apid));
	EXPECT_EQ(0, xpmem_remove(segid));
	munmap(buf, len);
}

/* ===== Permissions ===== */

struct perm_arg {
	xpmem_segid_t segid;
	int flags;
};

/* As nobody: the errno of xpmem_get(), 0 if it worked; then a write. */
static int perm_child(void *p)
{
	struct perm_arg *a = p;
	xpmem_apid_t apid;
	unsigned char *m;

	if (become_nobody(0))
		return 99;
	apid = xpmem_get(a->segid, a->flags, XPMEM_PERMIT_MODE, NULL);
	if (apid < 0)
		return errno == EACCES ? 20 : 21;
	m = xpmem_attach((struct xpmem_addr){ .apid = apid }, PAGE, NULL);
	if (m == FAILED)
		return 22;
	if (peek(m, NULL))
		return 23;
	/* A read-only get maps read-only: a write is SIGSEGV. */
	if (a->flags == XPMEM_RDONLY)
		return poke(m, 1) == SIGSEGV ? 0 : 24;
	return poke(m, 1) ? 25 : 0;
}

TEST(permissions)
{
	unsigned char *buf = anon(PAGE);
	struct perm_arg a;

	ASSERT_NE(NULL, buf);
	/* 0600: another uid is refused either way. */
	a.segid = xpmem_make(buf, PAGE, XPMEM_PERMIT_MODE, (void *)0600);
	ASSERT_GT(a.segid, 0);
	a.flags = XPMEM_RDONLY;
	EXPECT_EQ(20, wait_status(child(perm_child, &a)));
	a.flags = XPMEM_RDWR;
	EXPECT_EQ(20, wait_status(child(perm_child, &a)));
	EXPECT_EQ(0, xpmem_remove(a.segid));
	/* 0604: read-only for others, mapped read-only. */
	a.segid = xpmem_make(buf, PAGE, XPMEM_PERMIT_MODE, (void *)0604);
	ASSERT_GT(a.segid, 0);
	a.flags = XPMEM_RDONLY;
	EXPECT_EQ(0, wait_status(child(perm_child, &a)));
	a.flags = XPMEM_RDWR;
	EXPECT_EQ(20, wait_status(child(perm_child, &a)));
	EXPECT_EQ(0, xpmem_remove(a.segid));
	/* 0666: read-write for others. */
	a.segid = xpmem_make(buf, PAGE, XPMEM_PERMIT_MODE, (void *)0666);
	ASSERT_GT(a.segid, 0);
	EXPECT_EQ(0, wait_status(child(perm_child, &a)));
	EXPECT_EQ(1, buf[0]);
	EXPECT_EQ(0, xpmem_remove(a.segid));
	munmap(buf, PAGE);
}

/* A read-only get by the owner itself maps read-only, too. */
TEST(rdonly_get_maps_rdonly)
{
	unsigned char *buf = anon(PAGE), *m;
	xpmem_segid_t segid;
	xpmem_apid_t apid;

	ASSERT_NE(NULL, buf);
	catch_faults();
	segid = xpmem_make(buf, PAGE, XPMEM_PERMIT_MODE, MODE);
	ASSERT_GT(segid, 0);
	apid = xpmem_get(segid, XPMEM_RDONLY, XPMEM_PERMIT_MODE, NULL);
	ASSERT_GT(apid, 0);
	m = xpmem_attach((struct xpmem_addr){ .apid = apid }, PAGE, NULL);
	ASSERT_NE(FAILED, m);
	EXPECT_EQ(0, peek(m, NULL));
	EXPECT_EQ(SIGSEGV, poke(m, 1));
	/* mprotect() cannot make it writable. */
	EXPECT_EQ(-1, mprotect(m, PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, xpmem_detach(m));
	EXPECT_EQ(0, xpmem_release(apid));
	EXPECT_EQ(0, xpmem_remove(segid));
	munmap(buf, PAGE);
}

/* ===== Coherence with the owner ===== */

/*
 * The owner (this process) and an attacher (a child, over a socketpair):
 * the attacher maps the segment and runs commands, one per message, and
 * answers with what it saw.
 */
enum { CMD_PEEK = 1, CMD_EXIT };

struct attacher {
	pid_t pid;
	int sock;
};

static int attacher_main(int sock, xpmem_segid_t segid, size_t len)
{
	xpmem_apid_t apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE,
				      NULL);
	unsigned char *m;

	catch_faults();
	if (apid < 0)
		return 30;
	m = xpmem_attach((struct xpmem_addr){ .apid = apid }, len, NULL);
	if (m == FAILED)
		return 31;
	send_val(sock, 0);
	for (;;) {
		int64_t cmd = recv_val(sock), off;
		unsigned char v = 0;
		int sig;

		if (cmd == CMD_EXIT || cmd < 0)
			return 0;
		off = recv_val(sock);
		sig = peek(m + off, &v);
		/* A value, or minus the signal. */
		send_val(sock, sig ? -sig : v);
	}
}

static int start_attacher(struct attacher *at, xpmem_segid_t segid,
			  size_t len)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -1;
	at->pid = fork();
	if (!at->pid) {
		close(sv[0]);
		_exit(attacher_main(sv[1], segid, len));
	}
	close(sv[1]);
	at->sock = sv[0];
	return recv_val(at->sock) == 0 ? 0 : -1;
}

/* What the attacher reads at @off: the byte, or minus the signal. */
static int64_t attacher_peek(struct attacher *at, size_t off)
{
	send_val(at->sock, CMD_PEEK);
	send_val(at->sock, off);
	return recv_val(at->sock);
}

static int stop_attacher(struct attacher *at)
{
	send_val(at->sock, CMD_EXIT);
	close(at->sock);
	return wait_status(at->pid);
}

TEST(coherent_with_owner)
{
	size_t len = 4 * PAGE;
	unsigned char *buf = anon(len), *again;
	struct attacher at;
	xpmem_segid_t segid;

	ASSERT_NE(NULL, buf);
	memset(buf, 1, len);
	segid = xpmem_make(buf, len, XPMEM_PERMIT_MODE, MODE);
	ASSERT_GT(segid, 0);
	ASSERT_EQ(0, start_attacher(&at, segid, len));
	EXPECT_EQ(1, attacher_peek(&at, PAGE));
	/* The owner writes: seen. */
	buf[PAGE] = 2;
	EXPECT_EQ(2, attacher_peek(&at, PAGE));
	/* The owner unmaps: SIGBUS, never the old page. */
	ASSERT_EQ(0, munmap(buf + PAGE, PAGE));
	EXPECT_EQ(-SIGBUS, attacher_peek(&at, PAGE));
	EXPECT_EQ(1, attacher_peek(&at, 0));
	/* The owner maps something else there: that is what is seen. */
	again = mmap(buf + PAGE, PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(buf + PAGE, again);
	EXPECT_EQ(0, attacher_peek(&at, PAGE));
	again[0] = 3;
	EXPECT_EQ(3, attacher_peek(&at, PAGE));
	EXPECT_EQ(0, stop_attacher(&at));
	EXPECT_EQ(0, xpmem_remove(segid));
	munmap(buf, len);
}

/* The owner forks: copy-on-write; the attacher follows the owner. */
TEST(owner_fork_cow)
{
	size_t len = 2 * PAGE;
	unsigned char *buf = anon(len);
	struct attacher at;
	xpmem_segid_t segid;
	int go[2];
	pid_t kid;

	ASSERT_NE(NULL, buf);
	memset(buf, 5, len);
	segid = xpmem_make(buf, len, XPMEM_PERMIT_MODE, MODE);
	ASSERT_GT(segid, 0);
	ASSERT_EQ(0, start_attacher(&at, segid, len));
	EXPECT_EQ(5, attacher_peek(&at, 0));
	ASSERT_EQ(0, pipe(go));
	kid = fork();
	if (!kid) {
		char c;

		/* The child writes its copy; the attacher must not see it. */
		buf[0] = 9;
		(void)!read(go[0], &c, 1);
		_exit(buf[0] == 9 ? 0 : 1);
	}
	/* The owner writes its own copy after the fork. */
	buf[0] = 6;
	EXPECT_EQ(6, attacher_peek(&at, 0));
	(void)!write(go[1], "x", 1);
	EXPECT_EQ(0, wait_status(kid));
	EXPECT_EQ(6, attacher_peek(&at, 0));
	EXPECT_EQ(0, stop_attacher(&at));
	EXPECT_EQ(0, xpmem_remove(segid));
	munmap(buf, len);
}

/* A hole in the segment: SIGBUS on touch, and nothing else breaks. */
TEST(hole_is_sigbus)
{
	size_t len = 3 * PAGE;
	unsigned char *buf = anon(len);
	struct attacher at;
	xpmem_segid_t segid;

	ASSERT_NE(NULL, buf);
	memset(buf, 4, len);
	ASSERT_EQ(0, munmap(buf + PAGE, PAGE));
	segid = xpmem_make(buf, len, XPMEM_PERMIT_MODE, MODE);
	ASSERT_GT(segid, 0);
	ASSERT_EQ(0, start_attacher(&at, segid, len));
	EXPECT_EQ(4, attacher_peek(&at, 0));
	EXPECT_EQ(-SIGBUS, attacher_peek(&at, PAGE));
	EXPECT_EQ(4, attacher_peek(&at, 2 * PAGE));
	EXPECT_EQ(0, stop_attacher(&at));
	EXPECT_EQ(0, xpmem_remove(segid));
	munmap(buf, PAGE);
	munmap(buf + 2 * PAGE, PAGE);
}

/* xpmem_remove(): every attacher gets SIGBUS; no new get. */
TEST(remove_is_sigbus)
{
	unsigned char *buf = anon(PAGE);
	struct attacher at;
	xpmem_segid_t segid;

	ASSERT_NE(NULL, buf);
	buf[0] = 8;
	segid = xpmem_make(buf, PAGE, XPMEM_PERMIT_MODE, MODE);
	ASSERT_GT(segid, 0);
	ASSERT_EQ(0, start_attacher(&at, segid, PAGE));
	EXPECT_EQ(8, attacher_peek(&at, 0));
	EXPECT_EQ(0, xpmem_remove(segid));
	EXPECT_EQ(-SIGBUS, attacher_peek(&at, 0));
	EXPECT_EQ(-1, xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, xpmem_remove(segid));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, stop_attacher(&at));
	/* The owner's memory is its own still. */
	EXPECT_EQ(8, buf[0]);
	munmap(buf, PAGE);
}

/* The owner exits: SIGBUS in the attacher, no crash, nothing leaked. */
static int owner_main(int sock)
{
	unsigned char *buf = anon(PAGE);
	xpmem_segid_t segid;

	if (!buf)
		return 1;
	buf[0] = 7;
	segid = xpmem_make(buf, PAGE, XPMEM_PERMIT_MODE, MODE);
	send_val(sock, segid);
	recv_val(sock);		/* the attacher has it mapped */
	return 0;
}

TEST(owner_exit_is_sigbus)
{
	int sv[2];
	struct attacher at;
	xpmem_segid_t segid;
	pid_t owner;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	owner = fork();
	if (!owner)
		_exit(owner_main(sv[1]));
	segid = recv_val(sv[0]);
	ASSERT_GT(segid, 0);
	ASSERT_EQ(0, start_attacher(&at, segid, PAGE));
	EXPECT_EQ(7, attacher_peek(&at, 0));
	send_val(sv[0], 1);
	EXPECT_EQ(0, wait_status(owner));
	EXPECT_EQ(-SIGBUS, attacher_peek(&at, 0));
	EXPECT_EQ(0, stop_attacher(&at));
	/* Gone with its owner. */
	EXPECT_EQ(-1, xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL));
	EXPECT_EQ(ENOENT, errno);
	close(sv[0]);
	close(sv[1]);
}

/* ===== Threads and fork of an attacher ===== */

struct detach_arg {
	void *m;
	int ret;
};

static void *detach_thread(void *p)
{
	struct detach_arg *a = p;

	a->ret = xpmem_detach(a->m);
	return NULL;
}

TEST(detach_from_another_thread)
{
	unsigned char *buf = anon(PAGE), *m;
	struct detach_arg a;
	xpmem_segid_t segid;
	xpmem_apid_t apid;
	pthread_t th;

	ASSERT_NE(NULL, buf);
	catch_faults();
	buf[0] = 3;
	segid = xpmem_make(buf, PAGE, XPMEM_PERMIT_MODE, MODE);
	apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	ASSERT_GT(apid, 0);
	m = xpmem_attach((struct xpmem_addr){ .apid = apid }, PAGE, NULL);
	ASSERT_NE(FAILED, m);
	EXPECT_EQ(3, m[0]);
	a.m = m;
	ASSERT_EQ(0, pthread_create(&th, NULL, detach_thread, &a));
	pthread_join(th, NULL);
	EXPECT_EQ(0, a.ret);
	EXPECT_EQ(SIGSEGV, peek(m, NULL));
	EXPECT_EQ(0, xpmem_release(apid));
	EXPECT_EQ(0, xpmem_remove(segid));
	munmap(buf, PAGE);
}

static int fork_child_touch(void *m)
{
	return peek(m, NULL) == SIGSEGV ? 0 : 1;
}

TEST(fork_inherits_no_attachment)
{
	unsigned char *buf = anon(PAGE), *m;
	xpmem_segid_t segid;
	xpmem_apid_t apid;

	ASSERT_NE(NULL, buf);
	segid = xpmem_make(buf, PAGE, XPMEM_PERMIT_MODE, MODE);
	apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	m = xpmem_attach((struct xpmem_addr){ .apid = apid }, PAGE, NULL);
	ASSERT_NE(FAILED, m);
	m[0] = 1;
	EXPECT_EQ(0, wait_status(child(fork_child_touch, m)));
	EXPECT_EQ(1, m[0]);
	EXPECT_EQ(0, xpmem_detach(m));
	EXPECT_EQ(0, xpmem_release(apid));
	EXPECT_EQ(0, xpmem_remove(segid));
	munmap(buf, PAGE);
}

/*
 * madvise(MADV_DOFORK) asks for the attachment in the child: its copy is
 * one more mapping, coherent with the owner, and SIGBUS once the segment
 * is removed, as the parent's would be.
 */
struct dofork_arg {
	unsigned char *m;
	int sock;
};

static int dofork_child(void *p)
{
	struct dofork_arg *a = p;
	unsigned char v = 0;

	if (peek(a->m, &v) || v != 1)
		return 1;
	if (send_val(a->sock, 1) || recv_val(a->sock) != 2)
		return 2;
	/* The owner has written its own memory since. */
	if (peek(a->m, &v) || v != 2)
		return 3;
	if (send_val(a->sock, 3) || recv_val(a->sock) != 4)
		return 4;
	/* Removed. */
	return peek(a->m, NULL) == SIGBUS ? 0 : 5;
}

TEST(dofork_copy_is_coherent)
{
	unsigned char *buf = anon(PAGE), *m;
	struct dofork_arg a;
	xpmem_segid_t segid;
	xpmem_apid_t apid;
	int sv[2];
	pid_t kid;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	buf[0] = 1;
	segid = xpmem_make(buf, PAGE, XPMEM_PERMIT_MODE, MODE);
	apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	m = xpmem_attach((struct xpmem_addr){ .apid = apid }, PAGE, NULL);
	ASSERT_NE(FAILED, m);
	ASSERT_EQ(1, m[0]);
	ASSERT_EQ(0, madvise(m, PAGE, MADV_DOFORK));
	a = (struct dofork_arg){ .m = m, .sock = sv[1] };
	kid = child(dofork_child, &a);
	ASSERT_LT(0, kid);
	EXPECT_EQ(1, recv_val(sv[0]));
	buf[0] = 2;	/* breaks copy-on-write of the owner's page */
	EXPECT_EQ(0, send_val(sv[0], 2));
	EXPECT_EQ(3, recv_val(sv[0]));
	EXPECT_EQ(2, m[0]);
	EXPECT_EQ(0, xpmem_detach(m));
	EXPECT_EQ(0, xpmem_release(apid));
	EXPECT_EQ(0, xpmem_remove(segid));
	EXPECT_EQ(0, send_val(sv[0], 4));
	EXPECT_EQ(0, wait_status(kid));
	close(sv[0]);
	close(sv[1]);
	munmap(buf, PAGE);
}

/* ===== Atomics and futexes on attached memory ===== */

#define ROUNDS	20000

static int atomics_child(void *p)
{
	struct rt_arg *a = p;
	xpmem_apid_t apid = xpmem_get(a->segid, XPMEM_RDWR, XPMEM_PERMIT_MODE,
				      NULL);
	atomic_long *c;

	if (apid < 0)
		return 40;
	c = xpmem_attach((struct xpmem_addr){ .apid = apid }, PAGE, NULL);
	if (c == FAILED)
		return 41;
	for (int i = 0; i < ROUNDS; i++)
		atomic_fetch_add(c, 1);
	return xpmem_detach(c) ? 42 : 0;
}

TEST(cross_process_atomics)
{
	atomic_long *c = anon(PAGE);
	struct rt_arg a = { 0 };
	pid_t kids[3];

	ASSERT_NE(NULL, c);
	atomic_store(c, 0);
	a.segid = xpmem_make(c, PAGE, XPMEM_PERMIT_MODE, MODE);
	ASSERT_GT(a.segid, 0);
	for (int i = 0; i < 3; i++)
		kids[i] = child(atomics_child, &a);
	for (int i = 0; i < ROUNDS; i++)
		atomic_fetch_add(c, 1);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(0, wait_status(kids[i]));
	EXPECT_EQ(4 * ROUNDS, atomic_load(c));
	EXPECT_EQ(0, xpmem_remove(a.segid));
	munmap(c, PAGE);
}

static long futex(uint32_t *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static void *futex_waker(void *p)
{
	atomic_uint *f = p;

	usleep(20000);
	atomic_store(f, 1);
	futex((uint32_t *)f, FUTEX_WAKE_PRIVATE, 1);
	return NULL;
}

/*
 * Threads of an attacher wait and wake on attached memory (a private
 * futex); a shared futex needs GUP, which refuses these mappings' special
 * PTEs with EEXIST (XPMEM's VM_PFNMAP mappings give EFAULT).
 */
TEST(futex_on_attached_memory)
{
	uint32_t *buf = anon(PAGE);
	atomic_uint *f;
	xpmem_segid_t segid;
	xpmem_apid_t apid;
	pthread_t th;

	ASSERT_NE(NULL, buf);
	buf[0] = 0;
	segid = xpmem_make(buf, PAGE, XPMEM_PERMIT_MODE, MODE);
	apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	f = xpmem_attach((struct xpmem_addr){ .apid = apid }, PAGE, NULL);
	ASSERT_NE(FAILED, (void *)f);
	ASSERT_EQ(0, pthread_create(&th, NULL, futex_waker, (void *)f));
	while (!atomic_load(f))
		futex((uint32_t *)f, FUTEX_WAIT_PRIVATE, 0);
	pthread_join(th, NULL);
	EXPECT_EQ(1, buf[0]);
	EXPECT_EQ(-1, futex((uint32_t *)f, FUTEX_WAKE, 1));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(0, xpmem_detach((void *)f));
	EXPECT_EQ(0, xpmem_release(apid));
	EXPECT_EQ(0, xpmem_remove(segid));
	munmap(buf, PAGE);
}

/* ===== Many attachers, many threads ===== */

#define ATTACHERS	4
#define THREADS		4
#define MANY_PAGES	64

struct many_arg {
	xpmem_segid_t segid;
	atomic_int bad;
};

static void *many_thread(void *p)
{
	struct many_arg *a = p;
	xpmem_apid_t apid = xpmem_get(a->segid, XPMEM_RDONLY,
				      XPMEM_PERMIT_MODE, NULL);

	for (int r = 0; r < 50 && apid > 0; r++) {
		struct xpmem_addr addr = { .apid = apid,
					   .offset = (r % 8) * PAGE };
		unsigned char *m = xpmem_attach(addr, 8 * PAGE, NULL);

		if (m == FAILED || !filled(m, 8 * PAGE, seed_at(0x11, (r % 8) * PAGE)) ||
		    xpmem_detach(m))
			atomic_fetch_add(&a->bad, 1);
	}
	if (apid <= 0 || xpmem_release(apid))
		atomic_fetch_add(&a->bad, 1);
	return NULL;
}

static int many_child(void *p)
{
	struct many_arg *a = p;
	pthread_t th[THREADS];

	atomic_store(&a->bad, 0);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, many_thread, a);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	return atomic_load(&a->bad) ? 50 : 0;
}

TEST(many_attachers_and_threads)
{
	size_t len = MANY_PAGES * PAGE;
	unsigned char *buf = anon(len);
	struct many_arg a;
	pid_t kids[ATTACHERS];
	long pt = page_tables_kb(), pins = pins_outstanding();

	ASSERT_NE(NULL, buf);
	fill(buf, len, 0x11);
	a.segid = xpmem_make(buf, len, XPMEM_PERMIT_MODE, (void *)0644);
	ASSERT_GT(a.segid, 0);
	for (int i = 0; i < ATTACHERS; i++)
		kids[i] = child(many_child, &a);
	for (int i = 0; i < ATTACHERS; i++)
		EXPECT_EQ(0, wait_status(kids[i]));
	EXPECT_EQ(0, xpmem_remove(a.segid));
	munmap(buf, len);
	EXPECT_EQ(pins, pins_outstanding());
	/* Page tables of the exited attachers are freed (some slack). */
	EXPECT_LE(page_tables_kb(), pt + 64);
}

/*
 * Two processes attach each other's memory and touch it while a thread of
 * each keeps taking its own mmap_lock for writing (mprotect() of the
 * attached range, which also zaps the other's mapping of it, and
 * mmap()/munmap()).  A fault holds its own process's mmap_lock and needs
 * the owner's: if it waited for it, each process's fault would wait
 * behind the other's queued writer, forever.  Both must finish, having
 * read the right bytes.
 */
#define MUTUAL_PAGES	16

struct mutual {
	unsigned char *own;
	atomic_bool stop;
};

static void *mutual_writer(void *p)
{
	struct mutual *m = p;
	size_t len = MUTUAL_PAGES * PAGE;
	void *x;

	while (!atomic_load(&m->stop)) {
		mprotect(m->own, len, PROT_READ);
		mprotect(m->own, len, PROT_READ | PROT_WRITE);
		x = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (x != MAP_FAILED)
			munmap(x, PAGE);
	}
	return NULL;
}

/* One side: seeds its memory with @seed, the other's is @other_seed's. */
static int mutual_side(int sock, unsigned char seed, unsigned char other_seed)
{
	size_t len = MUTUAL_PAGES * PAGE;
	struct mutual m = { .own = anon(len) };
	xpmem_segid_t segid, theirs;
	unsigned char *other;
	xpmem_apid_t apid;
	long rounds = 0;
	pthread_t th;
	double end;
	int bad = 0;

	if (!m.own)
		return 1;
	fill(m.own, len, seed);
	segid = xpmem_make(m.own, len, XPMEM_PERMIT_MODE, MODE);
	if (segid <= 0 || send_val(sock, segid))
		return 2;
	theirs = recv_val(sock);
	apid = xpmem_get(theirs, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	other = xpmem_attach((struct xpmem_addr){ .apid = apid }, len, NULL);
	if (apid <= 0 || other == FAILED)
		return 3;
	if (pthread_create(&th, NULL, mutual_writer, &m))
		return 4;
	for (end = now() + 2; now() < end; rounds++)
		for (size_t i = 0; i < MUTUAL_PAGES; i++)
			if (other[i * PAGE + 5] != seed_at(other_seed, i * PAGE + 5))
				bad = 1;
	atomic_store(&m.stop, true);
	pthread_join(th, NULL);
	/* Neither removes its segment while the other still reads it. */
	if (send_val(sock, rounds) || recv_val(sock) <= 0)
		return 5;
	if (xpmem_detach(other) || xpmem_release(apid) || xpmem_remove(segid))
		return 6;
	munmap(m.own, len);
	return bad ? 7 : rounds > 0 ? 0 : 8;
}

static int mutual_child(void *p)
{
	return mutual_side(*(int *)p, 0x61, 0x37);
}

TEST(mutual_attach_with_writers)
{
	int sv[2];
	pid_t kid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	kid = child(mutual_child, &sv[1]);
	ASSERT_LT(0, kid);
	EXPECT_EQ(0, mutual_side(sv[0], 0x37, 0x61));
	EXPECT_EQ(0, wait_status(kid));
	close(sv[0]);
	close(sv[1]);
}

/* ===== Who else reaches an attachment ===== */

/*
 * GUP refuses these mappings, so process_vm_readv() and process_vm_writev()
 * of them fail with EFAULT, as on XPMEM; /proc/PID/mem and ptrace go
 * through the mapping's ->access(): they read the owner's memory (pages
 * never touched through the mapping included) and write it only through
 * an attachment that may write, FOLL_FORCE or not.
 */
TEST(foreign_access)
{
	size_t len = 2 * PAGE;
	unsigned char *buf = anon(len), *rw, *ro, c = 0;
	struct iovec local = { .iov_base = &c, .iov_len = 1 }, remote;
	xpmem_segid_t segid;
	xpmem_apid_t rwid, roid;
	int fd, sv[2], status;
	uintptr_t at;
	long word;
	pid_t kid;

	ASSERT_NE(NULL, buf);
	fill(buf, len, 0x41);
	segid = xpmem_make(buf, len, XPMEM_PERMIT_MODE, MODE);
	rwid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	roid = xpmem_get(segid, XPMEM_RDONLY, XPMEM_PERMIT_MODE, NULL);
	rw = xpmem_attach((struct xpmem_addr){ .apid = rwid }, len, NULL);
	ro = xpmem_attach((struct xpmem_addr){ .apid = roid }, len, NULL);
	ASSERT_NE(FAILED, (void *)rw);
	ASSERT_NE(FAILED, (void *)ro);

	/* process_vm_*(): GUP, refused. */
	remote = (struct iovec){ .iov_base = rw + 5, .iov_len = 1 };
	EXPECT_EQ(-1, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);

	/* /proc/self/mem: ->access(). */
	fd = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, pread(fd, &c, 1, (uintptr_t)(rw + PAGE + 3)));
	EXPECT_EQ(seed_at(0x41, PAGE + 3), c);
	c = 0x99;
	EXPECT_EQ(1, pwrite(fd, &c, 1, (uintptr_t)(rw + 7)));
	EXPECT_EQ(0x99, buf[7]);
	/* Not through the read-only attachment, though the write is forced. */
	EXPECT_EQ(-1, pwrite(fd, &c, 1, (uintptr_t)(ro + 8)));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(seed_at(0x41, 8), buf[8]);
	EXPECT_EQ(1, pread(fd, &c, 1, (uintptr_t)(ro + 8)));
	EXPECT_EQ(seed_at(0x41, 8), c);
	close(fd);

	/*
	 * ptrace: a child attaches the segment itself (the apid is an fd it
	 * inherited, the attachment is not), says where, and stops.
	 */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	kid = fork();
	ASSERT_LE(0, kid);
	if (!kid) {
		unsigned char *m = xpmem_attach((struct xpmem_addr){ .apid = rwid },
						len, NULL);

		at = (uintptr_t)m;
		if (m == FAILED || ptrace(PTRACE_TRACEME, 0, NULL, NULL) ||
		    write(sv[1], &at, sizeof(at)) != sizeof(at))
			_exit(1);
		raise(SIGSTOP);
		_exit(0);
	}
	ASSERT_EQ(sizeof(at), read(sv[0], &at, sizeof(at)));
	ASSERT_EQ(kid, waitpid(kid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, kid, (void *)(at + PAGE), NULL);
	EXPECT_EQ(0, errno);
	EXPECT_EQ(0, memcmp(&word, buf + PAGE, sizeof(word)));
	word = 0x0123456789abcdefL;
	EXPECT_EQ(0, ptrace(PTRACE_POKEDATA, kid, (void *)(at + 16), (void *)word));
	EXPECT_EQ(0, memcmp(&word, buf + 16, sizeof(word)));
	kill(kid, SIGKILL);
	waitpid(kid, &status, 0);
	close(sv[0]);
	close(sv[1]);

	EXPECT_EQ(0, xpmem_detach(rw));
	EXPECT_EQ(0, xpmem_detach(ro));
	EXPECT_EQ(0, xpmem_release(rwid));
	EXPECT_EQ(0, xpmem_release(roid));
	EXPECT_EQ(0, xpmem_remove(segid));
	munmap(buf, len);
}

/* Another process's memory is data: never mapped executable. */
TEST(never_executable)
{
	unsigned char *buf = anon(PAGE), *m;
	xpmem_segid_t segid;
	xpmem_apid_t apid;

	ASSERT_NE(NULL, buf);
	segid = xpmem_make(buf, PAGE, XPMEM_PERMIT_MODE, MODE);
	apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	ASSERT_GT(apid, 0);
	m = xpmem_attach((struct xpmem_addr){ .apid = apid }, PAGE, NULL);
	ASSERT_NE(FAILED, m);
	EXPECT_EQ(-1, mprotect(m, PAGE, PROT_READ | PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	/* The low 32 bits of an apid are its descriptor fd: mmap() that. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_EXEC,
				   MAP_SHARED, (int)apid, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, xpmem_detach(m));
	EXPECT_EQ(0, xpmem_release(apid));
	EXPECT_EQ(0, xpmem_remove(segid));
	munmap(buf, PAGE);
}

/* ===== Every error ===== */

TEST(errors)
{
	unsigned char *buf = anon(4 * PAGE), *m;
	xpmem_segid_t segid;
	xpmem_apid_t apid;
	struct xpmem_addr addr;

	ASSERT_NE(NULL, buf);
	EXPECT_GT(xpmem_version(), 0);
	/* make */
	EXPECT_EQ(-1, xpmem_make(buf, PAGE, 2, MODE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, xpmem_make(buf, PAGE, XPMEM_PERMIT_MODE, (void *)01000));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, xpmem_make(buf + 1, PAGE, XPMEM_PERMIT_MODE, MODE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, xpmem_make(buf, PAGE + 1, XPMEM_PERMIT_MODE, MODE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, xpmem_make(buf, 0, XPMEM_PERMIT_MODE, MODE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, xpmem_make((void *)(1UL << 47), PAGE, XPMEM_PERMIT_MODE,
				 MODE));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, xpmem_make(buf, XPMEM_MAXADDR_SIZE, XPMEM_PERMIT_MODE,
				 MODE));
	EXPECT_EQ(EINVAL, errno);
	/* remove */
	EXPECT_EQ(-1, xpmem_remove(12345678));
	EXPECT_EQ(EINVAL, errno);
	segid = xpmem_make(buf, 4 * PAGE, XPMEM_PERMIT_MODE, MODE);
	ASSERT_GT(segid, 0);
	/* get */
	EXPECT_EQ(-1, xpmem_get(segid, 0, XPMEM_PERMIT_MODE, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, xpmem_get(segid, XPMEM_RDWR, 7, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, xpmem_get(-5, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, xpmem_get(segid + 1000000, XPMEM_RDWR, XPMEM_PERMIT_MODE,
				NULL));
	EXPECT_EQ(ENOENT, errno);
	apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, (void *)0777);
	ASSERT_GT(apid, 0);
	/* attach */
	addr = (struct xpmem_addr){ .apid = apid + 1000, .offset = 0 };
	EXPECT_EQ(FAILED, xpmem_attach(addr, PAGE, NULL));
	EXPECT_EQ(EINVAL, errno);
	addr.apid = segid;
	EXPECT_EQ(FAILED, xpmem_attach(addr, PAGE, NULL));
	EXPECT_EQ(EINVAL, errno);
	addr.apid = apid;
	addr.offset = 1;
	EXPECT_EQ(FAILED, xpmem_attach(addr, PAGE, NULL));
	EXPECT_EQ(EINVAL, errno);
	addr.offset = 0;
	EXPECT_EQ(FAILED, xpmem_attach(addr, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(FAILED, xpmem_attach(addr, 5 * PAGE, NULL));
	EXPECT_EQ(EINVAL, errno);
	addr.offset = 4 * PAGE;
	EXPECT_EQ(FAILED, xpmem_attach(addr, PAGE, NULL));
	EXPECT_EQ(EINVAL, errno);
	addr.offset = 0;
	EXPECT_EQ(FAILED, xpmem_attach(addr, PAGE, buf + 1));
	EXPECT_EQ(EINVAL, errno);
	/* detach */
	m = xpmem_attach(addr, 2 * PAGE, NULL);
	ASSERT_NE(FAILED, m);
	EXPECT_EQ(-1, xpmem_detach(m + PAGE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, xpmem_detach(buf));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, xpmem_detach((void *)PAGE));	/* nothing there: as XPMEM */
	EXPECT_EQ(0, xpmem_detach(m));
	/* release */
	EXPECT_EQ(-1, xpmem_release(segid));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, xpmem_release(apid));
	EXPECT_EQ(-1, xpmem_release(apid));
	EXPECT_EQ(EINVAL, errno);
	addr.apid = apid;
	EXPECT_EQ(FAILED, xpmem_attach(addr, PAGE, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, xpmem_remove(segid));
	munmap(buf, 4 * PAGE);
}

TEST_HARNESS_MAIN
