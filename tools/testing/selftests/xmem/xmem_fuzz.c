// SPDX-License-Identifier: GPL-2.0
/*
 * xmem_fuzz: a stateful fuzzer of /dev/xmem and the lightweight services.
 *
 * Several worker processes, every other one unprivileged (uid 65534, a small
 * RLIMIT_MEMLOCK), each with several threads, issue random but mostly
 * well-formed sequences of every ioctl: wrong sizes, flags, reserved fields,
 * offsets, lengths and file descriptors among them.  They pass descriptors
 * to each other over SCM_RIGHTS, fork children that use what they inherit,
 * let threads exit with ranges attached, close descriptors that are still
 * attached, touch attached memory (and memory that is not: the faults are
 * caught and counted), and try what a process may do to a window:
 * mprotect(), every madvise() advice, munmap(), mremap(), MAP_FIXED over it,
 * /proc/self/mem, process_vm_readv()/process_vm_writev() and O_DIRECT.  They
 * mmap() descriptors (and unmap them with munmap() or XMEM_IOC_UNMAP, or
 * leave them to exit), publish them, open what any worker published, and
 * unpublish and revoke them.
 *
 * Every run is seeded: each worker thread draws from its own generator,
 * seeded from the run's seed and its place, so a failure names the seed that
 * replays the same operations (their interleaving is the scheduler's).
 *
 * The fuzzer checks what must hold whatever was done: an exact detach of
 * one's own attachment through an open descriptor succeeds, reading one's
 * own attachment never faults, nor does a mapping of a pinned descriptor
 * that is not revoked, errors are only the documented ones, every
 * worker ends (a hung one fails the run), and once all are gone no page is
 * left pinned and the unprivileged user has nothing left charged to its
 * RLIMIT_MEMLOCK.  The kernel's own checkers (KASAN, lockdep, the console
 * scan of the harness) judge the rest.
 *
 * Usage: xmem_fuzz [-s SEED] [-n IOCTLS] [-t SECONDS] [-p PROCS]
 *                  [-T THREADS] [-v]
 * Run as root.  Prints TAP (one case) with the figures as diagnostics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../../xmem/libxmem.h"
#include "xmem_util.h"

#define next(r)		rng_next(r)
#define below(r, n)	rng_below(r, n)
#define chance(r, p)	rng_chance(r, p)

/* Newer than the C library's <sys/mman.h>: asm-generic/mman-common.h. */
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED	24
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif

#define BUF_PAGES	64
#define POOL		(32 * PAGE)
#define MEMLOCK_PAGES	256		/* RLIMIT_MEMLOCK of the unprivileged */
#define MAX_PROCS	16
#define MAX_THREADS	16
#define SLOTS		16		/* descriptor fds per worker */
#define MAX_ATTS	8		/* attachments per thread */
#define THREAD_OPS	4000		/* a thread's life, at most, in operations */

/* ===== Figures, shared by every process ===== */

enum {
	ST_IOCTLS, ST_ACCEPTED, ST_FAULTS, ST_FORKS, ST_THREADS, ST_PASSED,
	ST_TOUCHES, ST_VMOPS, ST_EXITS_ATTACHED, ST_CLOSED_ATTACHED,
	ST_MAPS, ST_SURPRISES, ST_NR
};

static const char * const st_names[ST_NR] = {
	"ioctls", "accepted", "faults", "forks", "threads", "fds_passed",
	"touches", "vm_ops", "thread_exits_attached", "closed_attached",
	"maps", "surprises",
};

struct shared {
	atomic_long st[ST_NR];
	atomic_long errnos[64];		/* -ret of refused ioctls, < 64 */
	atomic_int stop;
	char surprise[256];		/* the first one, for the report */
	atomic_int surprise_taken;
	atomic_llong ids[32];		/* ids published, by any worker */
};

static struct shared *sh;
static long target_ioctls = 1000000;
static int seconds = 60, nprocs = 4, nthreads = 4, verbose;
static uint64_t seed;
static time_t deadline;

static void count(int what, long n)
{
	atomic_fetch_add(&sh->st[what], n);
}

/* ===== A worker process's state ===== */

struct slot {
	int fd;			/* -1: empty */
	unsigned int gen;	/* changes whenever the slot changes */
	size_t length;		/* of the descriptor's range */
};

struct att {
	int slot;
	unsigned int gen;	/* of the slot when attached */
	int fd;
	void *addr;
	size_t len;
	bool writable;
};

struct worker {
	int index;
	bool unprivileged;
	int dev;		/* /dev/xmem */
	int sock;		/* to the peer worker */
	int odirect;		/* an O_DIRECT file, or -1 */
	unsigned char *buf;	/* BUF_PAGES read-write pages, patterned */
	unsigned char *ro;	/* BUF_PAGES read-only pages */
	pthread_mutex_t lock;	/* slots, pool */
	struct slot slots[SLOTS];
	bool pool;
	bool child;		/* a forked child of the worker */
	atomic_int threads_alive;
	atomic_uint thread_seq;
};

static struct worker w;

/* Something the kernel must not do: kept, reported, and the run fails. */
static void surprise(const char *fmt, ...)
{
	va_list ap;
	int n;

	count(ST_SURPRISES, 1);
	if (atomic_exchange(&sh->surprise_taken, 1))
		return;
	n = snprintf(sh->surprise, sizeof(sh->surprise), "worker %d%s: ",
		     w.index, w.child ? " (a forked child)" : "");
	va_start(ap, fmt);
	vsnprintf(sh->surprise + n, sizeof(sh->surprise) - n, fmt, ap);
	va_end(ap);
}

struct thread {
	struct rng rng;
	unsigned int id;
	struct att atts[MAX_ATTS];
	int natts;
};

/* Read or write a byte at @p, counted; false if it faulted. */
static bool touch_counted(unsigned char *p, bool write)
{
	bool ok;

	count(ST_TOUCHES, 1);
	ok = touch(p, write);
	if (!ok)
		count(ST_FAULTS, 1);
	return ok;
}

/* ===== ioctls, counted ===== */

static bool done(void)
{
	return atomic_load(&sh->stop) ||
	       atomic_load(&sh->st[ST_IOCTLS]) >= target_ioctls ||
	       time(NULL) >= deadline;
}

/* The errors each ioctl may return; anything else is a surprise. */
static const int ok_errnos[] = {
	EINVAL, E2BIG, EFAULT, ENOMEM, EBUSY, EEXIST, ENODEV, EACCES, EIO,
	ENOTTY, EBADF, EINTR, EPERM, EMFILE, ENFILE, ENOENT,
};

/* Count the result @ret (0 or -errno) of a call; a surprise if not known. */
static long counted(long ret, const char *what)
{
	size_t i;

	count(ST_IOCTLS, 1);
	if (!ret) {
		count(ST_ACCEPTED, 1);
		return 0;
	}
	if (-ret < 64)
		atomic_fetch_add(&sh->errnos[-ret], 1);
	for (i = 0; i < ARRAY_SIZE(ok_errnos); i++)
		if (-ret == ok_errnos[i])
			return ret;
	surprise("%s: unexpected error %ld", what, ret);
	return ret;
}

static long xioctl(int fd, unsigned long cmd, void *arg, const char *what)
{
	return counted(ioctl(fd, cmd, arg) < 0 ? -errno : 0, what);
}

/* An ioctl argument: the struct's own size, or a wrong one. */
static uint32_t arg_size(struct rng *r, uint32_t size)
{
	switch (below(r, 20)) {
	case 0:
		return 0;
	case 1:
		return size - 1;
	case 2:
		return size + 8 * (1 + below(r, 4));	/* zero tail */
	case 3:
		return PAGE + 8;
	default:
		return size;
	}
}

/* A buffer for an argument struct of @size, with what follows @want. */
struct argbuf {
	unsigned char b[256];
};

static void *arg_prepare(struct rng *r, struct argbuf *a, uint32_t *sizep,
			 uint32_t ksize)
{
	uint32_t size = arg_size(r, ksize);

	memset(a->b, 0, sizeof(a->b));
	if (size > ksize && size <= sizeof(a->b) && chance(r, 30))
		a->b[ksize + below(r, size - ksize)] = 1;	/* nonzero tail */
	*sizep = size;
	return a->b;
}

/* A descriptor fd, or not quite one. */
static int pick_fd(struct rng *r, int *slotp, unsigned int *genp)
{
	int s = below(r, SLOTS), fd;

	*slotp = -1;
	switch (below(r, 30)) {
	case 0:
		return w.dev;		/* not a descriptor: ENOTTY */
	case 1:
		return -1;
	case 2:
		return 1000 + below(r, 10);
	case 3:
		return w.sock;
	default:
		break;
	}
	pthread_mutex_lock(&w.lock);
	fd = w.slots[s].fd;
	*genp = w.slots[s].gen;
	pthread_mutex_unlock(&w.lock);
	*slotp = s;
	return fd;
}

static void slot_put(int fd, size_t length)
{
	int s, victim = -1;

	pthread_mutex_lock(&w.lock);
	for (s = 0; s < SLOTS; s++)
		if (w.slots[s].fd < 0)
			break;
	if (s == SLOTS) {
		s = fd % SLOTS;
		victim = w.slots[s].fd;
	}
	w.slots[s].fd = fd;
	w.slots[s].gen++;
	w.slots[s].length = length;
	pthread_mutex_unlock(&w.lock);
	if (victim >= 0)
		close(victim);
}

/* ===== Operations ===== */

static void op_create(struct thread *t)
{
	struct rng *r = &t->rng;
	struct argbuf a;
	struct xmem_create *c;
	uint32_t size;
	size_t off = below(r, BUF_PAGES) * PAGE + (chance(r, 20) ? below(r, PAGE) : 0);
	size_t len = 1 + below(r, BUF_PAGES * PAGE - off);
	unsigned char *base = chance(r, 80) ? w.buf : w.ro;
	int fd;

	c = arg_prepare(r, &a, &size, sizeof(*c));
	c->size = size;
	c->flags = (chance(r, 30) ? XMEM_CREATE_RDONLY : 0) |
		   (chance(r, 50) ? XMEM_CREATE_CLOEXEC : 0) |
		   (chance(r, 3) ? 1U << below(r, 32) : 0);
	c->addr = (uintptr_t)(base + off);
	c->length = len;
	switch (below(r, 25)) {
	case 0:
		c->length = 0;
		break;
	case 1:
		c->length = ~0UL - below(r, PAGE);
		break;
	case 2:
		c->addr = 0;
		break;
	case 3:
		c->addr = 1UL << 47;
		break;
	case 4:
		c->length = (BUF_PAGES + 1) * PAGE;	/* past the buffer */
		break;
	}
	fd = ioctl(w.dev, XMEM_IOC_CREATE, c);
	count(ST_IOCTLS, 1);
	if (fd < 0) {
		int e = errno;

		if (e < 64)
			atomic_fetch_add(&sh->errnos[e], 1);
		if (e != EINVAL && e != E2BIG && e != EFAULT && e != ENOMEM &&
		    e != EMFILE && e != ENFILE)
			surprise("CREATE: unexpected error %d", -e);
		return;
	}
	count(ST_ACCEPTED, 1);
	slot_put(fd, c->length);
}

static void op_pool_init(struct thread *t)
{
	struct rng *r = &t->rng;
	struct argbuf a;
	struct xmem_pool_init *p;
	uint32_t size;
	long ret;

	p = arg_prepare(r, &a, &size, sizeof(*p));
	p->size = size;
	p->pool_size = chance(r, 80) ? POOL : below(r, 1UL << 34);
	p->flags = chance(r, 10) ? XMEM_POOL_DEBUG : (chance(r, 3) ? 2 : 0);
	ret = xioctl(chance(r, 50) ? w.dev : pick_fd(r, &(int){0}, &(unsigned int){0}),
		     XMEM_IOC_POOL_INIT, p, "POOL_INIT");
	if (!ret) {
		pthread_mutex_lock(&w.lock);
		w.pool = true;
		pthread_mutex_unlock(&w.lock);
	}
}

static void op_attach(struct thread *t)
{
	struct rng *r = &t->rng;
	struct argbuf a;
	struct xmem_attach *at;
	unsigned int gen = 0;
	uint32_t size;
	int slot, fd;
	size_t dlen = 0;
	bool pool;
	long ret;

	fd = pick_fd(r, &slot, &gen);
	if (slot >= 0) {
		pthread_mutex_lock(&w.lock);
		dlen = w.slots[slot].length;
		pthread_mutex_unlock(&w.lock);
	}
	at = arg_prepare(r, &a, &size, sizeof(*at));
	at->size = size;
	at->flags = chance(r, 60) ? XMEM_ATTACH_WRITE : 0;
	if (chance(r, 3))
		at->flags |= 1U << below(r, 32);
	if (chance(r, 3))
		at->__reserved = 1 + below(r, 1000);
	at->offset = dlen ? below(r, dlen) : below(r, 1UL << 20);
	at->length = 1 + below(r, dlen > at->offset ? dlen - at->offset : PAGE);
	if (chance(r, 5))
		at->length = below(r, 3) ? ~0UL - below(r, 8) : 0;
	if (chance(r, 5))
		at->offset = ~0UL - below(r, PAGE);
	ret = xioctl(fd, XMEM_IOC_ATTACH, at, "ATTACH");
	if (ret) {
		pthread_mutex_lock(&w.lock);
		pool = w.pool;
		pthread_mutex_unlock(&w.lock);
		/* Refusing a well-formed attach needs a reason. */
		if (ret == -ENODEV && pool)
			surprise("ATTACH: -ENODEV after the pool was set up");
		return;
	}
	if (t->natts == MAX_ATTS) {
		/* No room to remember it: detach it (its fd may be gone). */
		struct xmem_detach d = { .size = sizeof(d), .addr = at->addr,
					 .length = at->length };

		xioctl(fd, XMEM_IOC_DETACH, &d, "DETACH");
		return;
	}
	/* An attach with XMEM_ATTACH_WRITE succeeds only writable. */
	t->atts[t->natts++] = (struct att){
		.slot = slot, .gen = gen, .fd = fd,
		.addr = (void *)(uintptr_t)at->addr, .len = at->length,
		.writable = at->flags & XMEM_ATTACH_WRITE,
	};
}

/* Is @a's descriptor still in its slot, so its fd still names it?  w.lock */
static bool att_fd_valid_locked(const struct att *a)
{
	return a->slot >= 0 && w.slots[a->slot].gen == a->gen &&
	       w.slots[a->slot].fd == a->fd;
}

static void op_detach(struct thread *t)
{
	struct rng *r = &t->rng;
	struct xmem_detach d = { .size = sizeof(d) };
	struct att *a;
	bool valid;
	int i, fd;
	long ret;

	if (!t->natts || chance(r, 10)) {
		/* Something that is no attachment of this thread. */
		int slot;
		unsigned int gen;

		d.addr = chance(r, 50) ? (uintptr_t)w.buf : next(r);
		d.length = 1 + below(r, 4 * PAGE);
		d.flags = chance(r, 10);
		xioctl(pick_fd(r, &slot, &gen), XMEM_IOC_DETACH, &d, "DETACH");
		return;
	}
	i = below(r, t->natts);
	a = &t->atts[i];
	d.addr = (uintptr_t)a->addr;
	d.length = a->len;
	fd = a->fd;
	switch (below(r, 12)) {
	case 0:
		d.addr += 1;
		break;
	case 1:
		d.length += 1;
		break;
	case 2:
		fd = w.dev;
		break;
	default:
		break;
	}
	if (d.addr != (uintptr_t)a->addr || d.length != a->len || fd != a->fd) {
		xioctl(fd, XMEM_IOC_DETACH, &d, "DETACH");
		return;
	}
	/* The exact detach: its fd cannot be closed meanwhile. */
	pthread_mutex_lock(&w.lock);
	valid = att_fd_valid_locked(a);
	ret = xioctl(fd, XMEM_IOC_DETACH, &d, "DETACH");
	pthread_mutex_unlock(&w.lock);
	if (valid && ret)
		surprise("DETACH of this thread's own attachment: %ld", ret);
	if (valid || !ret)
		t->atts[i] = t->atts[--t->natts];
	/* else: its fd is gone; the thread's exit detaches it */
}

static void op_xmdetach(struct thread *t)
{
	int slot;
	unsigned int gen;

	xioctl(pick_fd(&t->rng, &slot, &gen), XMEM_IOC_XMDETACH,
	       (void *)(uintptr_t)(chance(&t->rng, 5) ? 8 : 0), "XMDETACH");
}

static void op_info(struct thread *t)
{
	struct rng *r = &t->rng;
	struct argbuf a;
	struct xmem_info *in;
	uint32_t size;
	int slot;
	unsigned int gen;

	in = arg_prepare(r, &a, &size, sizeof(*in));
	in->size = size;
	if (chance(r, 5))
		in->flags = 1U << below(r, 32);
	if (chance(r, 5)) {
		if (chance(r, 50))
			in->__reserved = 1;
		else
			in->id = 1 + below(r, 1000);
	}
	xioctl(pick_fd(r, &slot, &gen), XMEM_IOC_INFO, in, "INFO");
}

static void op_close(struct thread *t)
{
	int s = below(&t->rng, SLOTS), fd;

	pthread_mutex_lock(&w.lock);
	fd = w.slots[s].fd;
	w.slots[s].fd = -1;
	w.slots[s].gen++;
	pthread_mutex_unlock(&w.lock);
	if (fd >= 0) {
		count(ST_CLOSED_ATTACHED, t->natts ? 1 : 0);
		close(fd);
	}
}

/* Send a descriptor to the peer worker, and take in what it sent. */
static void op_pass(struct thread *t)
{
	int slot, fd;
	unsigned int gen;

	fd = pick_fd(&t->rng, &slot, &gen);
	if (fd >= 0 && slot >= 0 && !xmem_send_fd(w.sock, fd))
		count(ST_PASSED, 1);
	for (;;) {
		int got = xmem_recv_fd(w.sock);
		struct xmem_info info;

		if (got < 0)
			break;
		if (xmem_info(got, &info)) {
			close(got);
			continue;
		}
		slot_put(got, info.length);
	}
}

/* Touch an attachment, or a window page that is not one. */
static void op_touch(struct thread *t)
{
	struct rng *r = &t->rng;
	struct att *a;
	unsigned char *p;
	bool write;

	if (!t->natts)
		return;
	a = &t->atts[below(r, t->natts)];
	p = (unsigned char *)a->addr + below(r, a->len);
	write = chance(r, 50);
	if (chance(r, 10)) {
		/* Past the attachment's last page: nothing, or another one. */
		p = (unsigned char *)(((uintptr_t)a->addr + a->len + PAGE - 1) &
				      ~(PAGE - 1)) + below(r, 64) * PAGE;
		touch_counted(p, false);
		return;
	}
	if (!touch_counted(p, write && a->writable))
		surprise("fault touching this thread's own attachment at %p", p);
	if (write && !a->writable && touch_counted(p, true))
		surprise("wrote through a read-only attachment at %p", p);
}

/* What a process may try on a window: all refused or harmless. */
static void op_vm(struct thread *t)
{
	static const int advices[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED,
		MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_DONTFORK,
		MADV_DOFORK, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE,
		MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP, MADV_WIPEONFORK,
		MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ,
		MADV_POPULATE_WRITE, MADV_DONTNEED_LOCKED, MADV_COLLAPSE,
	};
	struct rng *r = &t->rng;
	unsigned char tmp[64];
	struct iovec local = { tmp, sizeof(tmp) }, remote;
	struct att *a;
	void *p;
	size_t len;

	if (!t->natts)
		return;
	a = &t->atts[below(r, t->natts)];
	p = (void *)((uintptr_t)a->addr & ~(PAGE - 1));
	len = PAGE * (1 + below(r, 4));
	remote = (struct iovec){ a->addr, sizeof(tmp) < a->len ? sizeof(tmp) : a->len };
	count(ST_VMOPS, 1);
	switch (below(r, 9)) {
	case 0:
		mprotect(p, len, below(r, 8));
		break;
	case 1:
		madvise(p, len, advices[below(r, ARRAY_SIZE(advices))]);
		break;
	case 2:
		if (!munmap(p, len))
			surprise("munmap() of a window succeeded");
		break;
	case 3:
		if (mremap(p, len, 2 * len, MREMAP_MAYMOVE) != MAP_FAILED)
			surprise("mremap() of a window succeeded");
		break;
	case 4:
		if (mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0) != MAP_FAILED)
			surprise("MAP_FIXED over a window succeeded");
		break;
	case 5: {
		int fd = open("/proc/self/mem", O_RDWR);

		if (fd >= 0) {
			if (chance(r, 50))
				(void)!pread(fd, tmp, sizeof(tmp), (uintptr_t)a->addr);
			else
				(void)!pwrite(fd, tmp, sizeof(tmp), (uintptr_t)a->addr);
			close(fd);
		}
		break;
	}
	case 6:
		process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		break;
	case 7:
		process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
		break;
	case 8:
		if (w.odirect >= 0)
			(void)!pread(w.odirect, p, PAGE, 0);
		break;
	}
}

/*
 * mmap() of a descriptor: a process-wide attachment of its pinned pages,
 * touched (never a fault), then unmapped with munmap() or XMEM_IOC_UNMAP,
 * or left for the process's exit.  Private mappings, ranges past the
 * descriptor and writable mappings of read-only ones are refused.
 */
static void op_mmap_fd(struct thread *t)
{
	struct rng *r = &t->rng;
	size_t dlen = 0, pages, off, len, i;
	int slot, fd, prot, flags;
	struct xmem_info info;
	unsigned int gen;
	unsigned char *p;
	bool pinned;

	fd = pick_fd(r, &slot, &gen);
	if (slot >= 0) {
		pthread_mutex_lock(&w.lock);
		dlen = w.slots[slot].length;
		pthread_mutex_unlock(&w.lock);
	}
	/* The pages it spans: one more if it starts inside a page. */
	pages = dlen ? dlen / PAGE + 2 : 2;
	off = below(r, pages);
	len = 1 + below(r, pages - off);
	prot = PROT_READ | (chance(r, 40) ? PROT_WRITE : 0);
	flags = chance(r, 10) ? MAP_PRIVATE : MAP_SHARED;
	/* Our own fd for it: another thread may close and reuse @fd. */
	fd = fd >= 0 ? dup(fd) : fd;
	pinned = fd >= 0 && !xmem_info(fd, &info) &&
		 !(info.flags & XMEM_INFO_ASPACE);
	p = mmap(NULL, len * PAGE, prot, flags, fd, off * PAGE);
	count(ST_IOCTLS, 1);
	if (p == MAP_FAILED) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		if (e < 64)
			atomic_fetch_add(&sh->errnos[e], 1);
		if (e != EINVAL && e != EACCES && e != ENODEV && e != EBADF &&
		    e != ENOMEM && e != EOVERFLOW)
			surprise("mmap() of a descriptor: unexpected error %d",
				 -e);
		return;
	}
	count(ST_ACCEPTED, 1);
	count(ST_MAPS, 1);
	if (flags == MAP_PRIVATE)
		surprise("MAP_PRIVATE of a descriptor file succeeded");
	/*
	 * A pinned descriptor's mapping faults only once it is revoked (by
	 * its owner, maybe the peer worker, at any time); an address-space
	 * one (a CREATE with a random flag) also where its owner's memory is
	 * read-only or absent.
	 */
	for (i = 0; i < len; i += 1 + below(r, 4)) {
		bool write = (prot & PROT_WRITE) && chance(r, 50);

		if (!touch_counted(p + i * PAGE + below(r, PAGE), write) &&
		    pinned && !xmem_info(fd, &info) &&
		    !(info.flags & XMEM_INFO_REVOKED))
			surprise("fault touching a mapping of a descriptor at %p",
				 p + i * PAGE);
	}
	close(fd);
	switch (below(r, 10)) {
	case 0:
		break;		/* the process's exit unmaps it */
	case 1:
	case 2:
	case 3: {
		struct xmem_unmap u = { .size = sizeof(u),
					.addr = (uintptr_t)p };

		if (xioctl(w.dev, XMEM_IOC_UNMAP, &u, "UNMAP"))
			surprise("XMEM_IOC_UNMAP of a mapping failed");
		break;
	}
	default:
		munmap(p, len * PAGE);
	}
}

/*
 * Names: publish a descriptor (any mode, sometimes a bad one), open an id
 * some worker published (or one nobody did) read-only or read-write, take
 * a name away, sometimes revoking every mapping of the descriptor.
 */
static void op_name(struct thread *t)
{
	struct rng *r = &t->rng;
	unsigned int gen;
	struct argbuf a;
	uint32_t size;
	int slot, fd;

	fd = pick_fd(r, &slot, &gen);
	switch (below(r, 4)) {
	case 0: {
		struct xmem_publish *p = arg_prepare(r, &a, &size, sizeof(*p));

		p->size = size;
		p->mode = below(r, 01000) | (chance(r, 3) ? 01000 : 0);
		if (chance(r, 3))
			p->flags = 1U << below(r, 32);
		if (chance(r, 3))
			p->__reserved = 1;
		if (!xioctl(fd, XMEM_IOC_PUBLISH, p, "PUBLISH"))
			atomic_store(&sh->ids[below(r, ARRAY_SIZE(sh->ids))],
				     p->id);
		break;
	}
	case 1:
	case 2: {
		struct xmem_open *o = arg_prepare(r, &a, &size, sizeof(*o));
		struct xmem_info info;
		int got;

		o->size = size;
		o->flags = (chance(r, 50) ? XMEM_OPEN_WRITE : 0) |
			   (chance(r, 50) ? XMEM_OPEN_CLOEXEC : 0) |
			   (chance(r, 3) ? 1U << below(r, 32) : 0);
		o->id = chance(r, 90) ?
			atomic_load(&sh->ids[below(r, ARRAY_SIZE(sh->ids))]) :
			next(r);
		got = ioctl(w.dev, XMEM_IOC_OPEN, o);
		if (counted(got < 0 ? -errno : 0, "OPEN"))
			break;
		if (xmem_info(got, &info)) {
			surprise("INFO of a file XMEM_IOC_OPEN made failed");
			close(got);
			break;
		}
		if (!(info.flags & XMEM_INFO_OPENED))
			surprise("a file XMEM_IOC_OPEN made is not marked opened");
		slot_put(got, info.length);
		break;
	}
	default:
		xioctl(fd, XMEM_IOC_UNPUBLISH,
		       (void *)(uintptr_t)(chance(r, 30) ? XMEM_UNPUBLISH_REVOKE :
					   chance(r, 5) ? 1U << below(r, 32) : 0),
		       "UNPUBLISH");
	}
}

static void run_ops(struct thread *t, int nops);

/* A child of the worker: its own copy of the mm, no pool, no window. */
static void op_fork(struct thread *t)
{
	struct thread child = { .id = t->id };
	pid_t pid;
	int status;

	if (atomic_load(&sh->st[ST_FORKS]) > target_ioctls / 2000 + 20)
		return;
	count(ST_FORKS, 1);
	pid = fork();
	if (pid < 0)
		return;
	if (!pid) {
		int s;

		/* Only this thread is in the child: the lock may look held. */
		pthread_mutex_init(&w.lock, NULL);
		/*
		 * fork() copies the fd table before the memory: a descriptor
		 * a sibling was installing may be in the child's slots and not
		 * in its fd table, and a later fd could reuse its number.
		 */
		for (s = 0; s < SLOTS; s++) {
			if (w.slots[s].fd >= 0 &&
			    fcntl(w.slots[s].fd, F_GETFD) < 0) {
				w.slots[s].fd = -1;
				w.slots[s].gen++;
			}
		}
		w.child = true;
		rng_seed(&child.rng, next(&t->rng), getpid());
		w.pool = false;
		run_ops(&child, 50 + below(&child.rng, 100));
		_exit(0);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		surprise("a forked child ended with status %#x", status);
}

static void run_ops(struct thread *t, int nops)
{
	int i;

	for (i = 0; i < nops && !done(); i++) {
		unsigned int pick = below(&t->rng, 1000);

		if (pick < 250)
			op_attach(t);
		else if (pick < 450)
			op_detach(t);
		else if (pick < 600)
			op_touch(t);
		else if (pick < 650)
			op_create(t);
		else if (pick < 700)
			op_info(t);
		else if (pick < 730)
			op_xmdetach(t);
		else if (pick < 760)
			op_close(t);
		else if (pick < 790)
			op_pass(t);
		else if (pick < 850)
			op_vm(t);
		else if (pick < 860)
			op_pool_init(t);
		else if (pick < 880)
			op_mmap_fd(t);
		else if (pick < 900)
			op_name(t);
		else if (pick < 902)
			op_fork(t);
		else
			op_attach(t);
	}
}

/* ===== Threads and workers ===== */

static void *thread_main(void *arg)
{
	struct thread *t = arg;

	run_ops(t, 1 + below(&t->rng, THREAD_OPS));
	/* Some threads end with ranges attached: the kernel detaches them. */
	if (t->natts)
		count(ST_EXITS_ATTACHED, 1);
	atomic_fetch_sub(&w.threads_alive, 1);
	free(t);
	return NULL;
}

static int start_thread(void)
{
	struct thread *t = calloc(1, sizeof(*t));
	pthread_t th;

	if (!t)
		return -1;
	t->id = atomic_fetch_add(&w.thread_seq, 1);
	rng_seed(&t->rng, seed, ((uint64_t)w.index << 32) | t->id);
	atomic_fetch_add(&w.threads_alive, 1);
	count(ST_THREADS, 1);
	if (pthread_create(&th, NULL, thread_main, t)) {
		atomic_fetch_sub(&w.threads_alive, 1);
		free(t);
		return -1;
	}
	pthread_detach(th);
	return 0;
}

static void drop_privileges(void)
{
	if (become_nobody(MEMLOCK_PAGES * PAGE)) {
		perror("xmem_fuzz: dropping privileges");
		_exit(3);
	}
}

static int worker_main(int index, int sock)
{
	int s;

	w.index = index;
	w.sock = sock;
	w.unprivileged = index & 1;
	pthread_mutex_init(&w.lock, NULL);
	for (s = 0; s < SLOTS; s++)
		w.slots[s].fd = -1;
	touch_setup();
	fcntl(sock, F_SETFL, O_NONBLOCK);
	w.odirect = open("/tmp", O_TMPFILE | O_RDWR | O_DIRECT, 0600);
	if (w.odirect >= 0 && ftruncate(w.odirect, PAGE)) {
		close(w.odirect);
		w.odirect = -1;
	}
	if (w.unprivileged)
		drop_privileges();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	w.dev = xmem_open();
	w.buf = mmap(NULL, BUF_PAGES * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	w.ro = mmap(NULL, BUF_PAGES * PAGE, PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (w.dev < 0 || w.buf == MAP_FAILED || w.ro == MAP_FAILED) {
		fprintf(stderr, "xmem_fuzz: worker %d: setup failed\n", index);
		return 3;
	}
	memset(w.buf, 0x5a, BUF_PAGES * PAGE);
	if (!xmem_pool_init(w.dev, POOL, 0))
		w.pool = true;
	/* Keep nthreads alive: a thread that ends is replaced. */
	while (!done()) {
		while (atomic_load(&w.threads_alive) < nthreads && !done())
			if (start_thread())
				break;
		usleep(2000);
	}
	while (atomic_load(&w.threads_alive))
		usleep(1000);
	return 0;
}

/* ===== The supervisor ===== */

/*
 * Nothing is left charged to the unprivileged user: a process of it can
 * pin exactly its RLIMIT_MEMLOCK.
 */
static int memlock_back_at_zero(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (!pid) {
		void *p;
		int dev, fd;

		drop_privileges();
		p = mmap(NULL, MEMLOCK_PAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		dev = xmem_open();
		if (p == MAP_FAILED || dev < 0)
			_exit(2);
		fd = xmem_create(dev, p, MEMLOCK_PAGES * PAGE, 0);
		_exit(fd >= 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void print_usage(void)
{
	fprintf(stderr, "xmem_fuzz [-s SEED] [-n IOCTLS] [-t SECONDS] [-p PROCS]\n"
		"          [-T THREADS] [-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	pid_t pids[MAX_PROCS];
	int socks[MAX_PROCS][2], i, opt, hung = 0, bad = 0, memlock;
	long pins0, pins1, e;
	time_t start;

	seed = time(NULL) ^ getpid();
	while ((opt = getopt(argc, argv, "s:n:t:p:T:v")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			target_ioctls = strtol(optarg, NULL, 0);
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		case 'p':
			nprocs = atoi(optarg);
			break;
		case 'T':
			nthreads = atoi(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			print_usage();
		}
	}
	if (nprocs < 1 || nprocs > MAX_PROCS || nthreads < 1 ||
	    nthreads > MAX_THREADS || target_ioctls < 1 || seconds < 1)
		print_usage();
	printf("TAP version 13\n1..1\n");
	printf("# xmem_fuzz: seed %llu, %ld ioctls or %d s, %d processes x %d threads\n",
	       (unsigned long long)seed, target_ioctls, seconds, nprocs, nthreads);
	fflush(stdout);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	memset(sh, 0, sizeof(*sh));
	pins0 = pins_outstanding();
	start = time(NULL);
	deadline = start + seconds;
	for (i = 0; i < nprocs; i += 2)
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, socks[i])) {
			perror("xmem_fuzz: socketpair");
			return 2;
		}
	for (i = 0; i < nprocs; i++) {
		int sock = i & 1 ? socks[i - 1][1] : socks[i][0];

		pids[i] = fork();
		if (pids[i] < 0) {
			perror("xmem_fuzz: fork");
			return 2;
		}
		if (!pids[i])
			_exit(worker_main(i, sock));
	}
	for (i = 0; i < nprocs; i += 2) {
		close(socks[i][0]);
		close(socks[i][1]);
	}
	/* Wait, with a watchdog: a worker that does not end is hung. */
	for (i = 0; i < nprocs; i++) {
		int status;

		while (waitpid(pids[i], &status, WNOHANG) == 0) {
			if (time(NULL) > deadline + 60) {
				fprintf(stderr, "xmem_fuzz: worker %d (pid %d) hung\n",
					i, pids[i]);
				hung++;
				atomic_store(&sh->stop, 1);
				kill(pids[i], SIGKILL);
				waitpid(pids[i], &status, 0);
				break;
			}
			usleep(20000);
		}
		if (!hung && (!WIFEXITED(status) || WEXITSTATUS(status))) {
			fprintf(stderr, "xmem_fuzz: worker %d ended with status %#x\n",
				i, status);
			bad++;
		}
	}
	/* In-flight fds of closed sockets may be released a little later. */
	for (i = 0; i < 50 && (pins1 = pins_outstanding()) != pins0; i++)
		usleep(100000);
	memlock = memlock_back_at_zero();

	printf("# %ld s:", (long)(time(NULL) - start));
	for (i = 0; i < ST_NR; i++)
		printf(" %s %ld", st_names[i], atomic_load(&sh->st[i]));
	printf("\n# refused:");
	for (e = 1; e < 64; e++)
		if (atomic_load(&sh->errnos[e]))
			printf(" %s %ld", strerrorname_np(e) ?: "?", atomic_load(&sh->errnos[e]));
	printf("\n# pins before %ld after %ld; unprivileged memlock %s\n", pins0,
	       pins1, memlock ? "NOT back at zero" : "back at zero");
	if (atomic_load(&sh->st[ST_SURPRISES]))
		printf("# first surprise: %s\n", sh->surprise);
	if (hung || bad || pins0 < 0 || pins1 != pins0 || memlock ||
	    atomic_load(&sh->st[ST_SURPRISES]) ||
	    atomic_load(&sh->st[ST_IOCTLS]) == 0) {
		printf("not ok 1 fuzz # replay with -s %llu\n", (unsigned long long)seed);
		return 1;
	}
	printf("ok 1 fuzz\n");
	return 0;
}
