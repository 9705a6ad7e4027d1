// SPDX-License-Identifier: GPL-2.0
/*
 * xmem_torture: the races of /dev/xmem and the lightweight services, run
 * together for a while, each checking what must hold every time.
 *
 *   churn       threads of a process attach, check the bytes through the
 *               window and detach, while others xmdetach and recreate the
 *               descriptors; some threads exit with ranges attached (their
 *               windows torn down under the others); one such process is
 *               unprivileged, with a small RLIMIT_MEMLOCK
 *   forkexec    children attach and then exit, exec or detach: their
 *               windows go with them, the parent's stay
 *   lastclose   one process creates a descriptor and passes it to another,
 *               which attaches; then the owner's last close races the
 *               attacher's last detach (or its thread's exit)
 *   stale       a thread on one CPU attaches, a thread on another reads the
 *               pages (its TLB caches them), the first detaches; once the
 *               flush that makes the range reusable has run (the
 *               descriptor's xmdetach, or the window's wrap), a read from
 *               the other CPU must fault: it must never reach the pages
 *   coherence   an owner changes the pages of an address-space descriptor
 *               (writes, replaces pages with mremap(), mprotect()s them,
 *               forks children that write their copy-on-write copies) while
 *               threads of two other processes read them through mappings
 *               of the published descriptor: a read never finds older data
 *               than the owner had published before it started, nor a
 *               child's copy
 *
 * make torture runs it in the guest under memory pressure (stress-ng) and
 * CPU hotplug (harness/guest/torture.sh).  The run fails on a check that
 * does not hold, a scenario that does not end, pages left pinned or an
 * RLIMIT_MEMLOCK charge left behind; the kernel's checkers and the
 * harness's console scan judge the rest.
 *
 * Usage: xmem_torture [-t SECONDS] [-s SEED] [-T THREADS]
 * Run as root.  Prints TAP, one case per scenario, figures as diagnostics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "../../../xmem/libxmem.h"
#include "xmem_util.h"

#define DESCS		3
#define DESC_PAGES	16
#define POOL		(32 * PAGE)
#define MEMLOCK		(128 * PAGE)
#define MAX_THREADS	16

enum scenario {
	CHURN, CHURN_NOBODY, FORKEXEC, LASTCLOSE, STALE, COHERENCE, NR_SCEN
};

static const char * const scen_names[NR_SCEN] = {
	"churn", "churn_unprivileged", "forkexec", "lastclose", "stale",
	"coherence",
};

/* Figures and the first failure of each scenario, shared by all processes. */
struct scen_state {
	atomic_long rounds;
	atomic_long faults;		/* expected ones: stale reads */
	atomic_long failures;
	char first[200];
	atomic_int first_taken;
};

static struct scen_state *st;
static int seconds = 30, nthreads = 4;
static uint64_t seed;
static time_t deadline;

static void fail(enum scenario s, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&st[s].failures, 1);
	if (atomic_exchange(&st[s].first_taken, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(st[s].first, sizeof(st[s].first), fmt, ap);
	va_end(ap);
}

static bool over(void)
{
	return time(NULL) >= deadline;
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);	/* hotplug may refuse */
}

/* Byte @i of descriptor @d's range. */
static unsigned char pattern(int d, size_t i)
{
	return (unsigned char)(i * 13 + d * 71 + 1);
}

static unsigned char *patterned(void)
{
	unsigned char *buf = mmap(NULL, DESCS * DESC_PAGES * PAGE,
				  PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	size_t i;
	int d;

	if (buf == MAP_FAILED)
		return NULL;
	for (d = 0; d < DESCS; d++)
		for (i = 0; i < DESC_PAGES * PAGE; i++)
			buf[d * DESC_PAGES * PAGE + i] = pattern(d, i);
	return buf;
}

/* ===== churn ===== */

struct churn {
	enum scenario s;
	int dev;
	unsigned char *buf;
	pthread_mutex_t lock;		/* fds */
	int fds[DESCS];
	atomic_int alive;
	atomic_uint seq;
};

static int churn_fd(struct churn *c, int d)
{
	int fd;

	pthread_mutex_lock(&c->lock);
	fd = dup(c->fds[d]);	/* ours until we close it, whatever happens */
	pthread_mutex_unlock(&c->lock);
	return fd;
}

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	struct rng r;
	int n, left = 0;

	rng_seed(&r, seed, atomic_fetch_add(&c->seq, 1) | (uint64_t)c->s << 40);
	pin_to_cpu(rng_below(&r, 64));
	for (n = 1 + rng_below(&r, 400); n && !over(); n--) {
		int d = rng_below(&r, DESCS), fd = churn_fd(c, d), err;
		size_t off = rng_below(&r, DESC_PAGES * PAGE - 1);
		size_t len = 1 + rng_below(&r, DESC_PAGES * PAGE - off);
		unsigned char *p;
		size_t i;

		if (fd < 0)
			continue;
		err = xmem_attach(fd, off, len, 0, (void **)&p);
		if (err) {
			/* Refused only for a reason: xmdetached, or full. */
			if (err != -EINVAL && err != -ENOMEM)
				fail(c->s, "attach: %d", err);
			close(fd);
			continue;
		}
		for (i = 0; i < len; i += 1 + rng_below(&r, 700))
			if (p[i] != pattern(d, off + i)) {
				fail(c->s, "byte %zu of descriptor %d: %#x, not %#x",
				     off + i, d, p[i], pattern(d, off + i));
				break;
			}
		if (rng_chance(&r, 2) && !left) {
			left = 1;	/* the thread's exit detaches it */
			close(fd);
			break;
		}
		err = xmem_detach(fd, p, len);
		if (err)
			fail(c->s, "detach of one's own attachment: %d", err);
		close(fd);
		atomic_fetch_add(&st[c->s].rounds, 1);
	}
	atomic_fetch_sub(&c->alive, 1);
	return NULL;
}

/* xmdetach and recreate descriptors under the other threads. */
static void churn_recreate(struct churn *c, struct rng *r)
{
	int d = rng_below(r, DESCS), fd, nfd, err;

	pthread_mutex_lock(&c->lock);
	fd = c->fds[d];
	err = xmem_xmdetach(fd);
	if (err && err != -EBUSY)
		fail(c->s, "xmdetach: %d", err);
	if (!err) {
		nfd = xmem_create(c->dev, c->buf + d * DESC_PAGES * PAGE,
				  DESC_PAGES * PAGE, 0);
		if (nfd >= 0) {
			c->fds[d] = nfd;
			close(fd);
		} else if (nfd != -ENOMEM) {
			fail(c->s, "create: %d", nfd);
		}
	}
	pthread_mutex_unlock(&c->lock);
}

static int churn_main(enum scenario s)
{
	struct churn c = { .s = s, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct rng r;
	int d;

	rng_seed(&r, seed, s);
	c.buf = patterned();
	if (s == CHURN_NOBODY && become_nobody(MEMLOCK))
		return 3;
	c.dev = xmem_open();
	if (!c.buf || c.dev < 0 || xmem_pool_init(c.dev, POOL, 0))
		return 3;
	for (d = 0; d < DESCS; d++) {
		c.fds[d] = xmem_create(c.dev, c.buf + d * DESC_PAGES * PAGE,
				       DESC_PAGES * PAGE, 0);
		if (c.fds[d] < 0)
			return 3;
	}
	while (!over()) {
		while (atomic_load(&c.alive) < nthreads) {
			pthread_t th;

			atomic_fetch_add(&c.alive, 1);
			if (pthread_create(&th, NULL, churn_thread, &c)) {
				atomic_fetch_sub(&c.alive, 1);
				break;
			}
			pthread_detach(th);
		}
		churn_recreate(&c, &r);
		usleep(1000);
	}
	while (atomic_load(&c.alive))
		usleep(1000);
	return 0;
}

/* ===== forkexec ===== */

static int forkexec_child(int fd, int how)
{
	void *p;

	if (xmem_pool_init(fd, POOL, 0) || xmem_attach(fd, 0, 2 * PAGE, 0, &p))
		return 10;
	if (((unsigned char *)p)[PAGE] != pattern(0, PAGE))
		return 11;
	switch (how) {
	case 0:
		return 0;		/* exit attached */
	case 1:
		execl("/bin/true", "true", (char *)NULL);
		return 12;
	default:
		return xmem_detach(fd, p, 2 * PAGE) ? 13 : 0;
	}
}

static int forkexec_main(void)
{
	unsigned char *buf = patterned();
	int dev = xmem_open(), fd, how = 0;
	void *mine;

	if (!buf || dev < 0)
		return 3;
	fd = xmem_create(dev, buf, DESC_PAGES * PAGE, 0);
	/* The parent's own attachment must outlive every child's window. */
	if (fd < 0 || xmem_pool_init(dev, POOL, 0) ||
	    xmem_attach(fd, PAGE, PAGE, 0, &mine))
		return 3;
	while (!over()) {
		pid_t pid = fork();
		int status;

		if (pid < 0)
			break;
		if (!pid)
			_exit(forkexec_child(fd, how));
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail(FORKEXEC, "child (%d) ended with %#x", how, status);
		if (*(unsigned char *)mine != pattern(0, PAGE))
			fail(FORKEXEC, "the parent's attachment changed");
		how = (how + 1) % 3;
		atomic_fetch_add(&st[FORKEXEC].rounds, 1);
	}
	if (xmem_detach(fd, mine, PAGE) || xmem_xmdetach(fd))
		fail(FORKEXEC, "the parent's detach or xmdetach failed");
	return 0;
}

/* ===== lastclose ===== */

/*
 * Each round has three parties: the owner process, which creates the
 * descriptor, passes it over and closes its fd; the attacher process, which
 * closes the fd it received; and a thread of the attacher, which attached
 * through that fd and detaches through it.  They meet, then race: whichever
 * close is last releases the descriptor, and if the thread has not detached
 * yet (its DETACH finds the fd closed), its exit ends the attachment and
 * completes the release.
 */
struct meet {
	atomic_int ready, stop;
};

static void meet(struct meet *m, int round)
{
	atomic_fetch_add(&m->ready, 1);
	while (atomic_load(&m->ready) < 3 * round && !atomic_load(&m->stop) &&
	       time(NULL) < deadline + 30)
		;
}

struct lastclose {
	struct meet *m;
	int fd, round, err;
};

static void *lastclose_thread(void *arg)
{
	struct lastclose *l = arg;
	void *p = NULL;

	l->err = xmem_attach(l->fd, 0, PAGE, 0, &p);
	meet(l->m, l->round);
	if (!l->err) {
		l->err = xmem_detach(l->fd, p, PAGE);
		if (l->err == -EBADF)
			l->err = 0;	/* closed first: the exit detaches */
	}
	return NULL;
}

static int lastclose_attacher(int sock, struct meet *m)
{
	struct lastclose l = { .m = m };

	if (xmem_pool_init(xmem_open(), POOL, 0))
		return 3;
	while (!atomic_load(&m->stop)) {
		pthread_t th;

		l.fd = xmem_recv_fd(sock);
		if (l.fd == -EAGAIN) {
			usleep(100);
			continue;
		}
		if (l.fd < 0)
			return 4;
		l.round++;
		if (pthread_create(&th, NULL, lastclose_thread, &l))
			return 5;
		meet(m, l.round);
		close(l.fd);		/* races the owner's close and the detach */
		pthread_join(th, NULL);
		if (l.err)
			fail(LASTCLOSE, "attach or detach in the thread: %d", l.err);
		atomic_fetch_add(&st[LASTCLOSE].rounds, 1);
	}
	return 0;
}

static int lastclose_main(void)
{
	struct meet *m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned char *buf = patterned();
	int sv[2], dev = xmem_open(), round, status;
	pid_t pid;

	if (m == MAP_FAILED || !buf || dev < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		return 3;
	pid = fork();
	if (!pid) {
		close(sv[0]);
		fcntl(sv[1], F_SETFL, O_NONBLOCK);
		_exit(lastclose_attacher(sv[1], m));
	}
	close(sv[1]);
	for (round = 1; !over(); round++) {
		int fd = xmem_create(dev, buf, PAGE, 0);

		if (fd < 0 || xmem_send_fd(sv[0], fd)) {
			fail(LASTCLOSE, "create or send: %d", fd);
			break;
		}
		meet(m, round);
		close(fd);
	}
	atomic_store(&m->stop, 1);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail(LASTCLOSE, "the attacher ended with %#x", status);
	return 0;
}

/* ===== stale ===== */

struct stale {
	atomic_uintptr_t addr;		/* what the reader reads */
	size_t len;
	atomic_int phase;		/* 1: read it; 2: it must fault now */
	atomic_int ack;			/* the last phase the reader did */
	atomic_int done;
	atomic_long faulted, read;
};

static void *stale_reader(void *arg)
{
	struct stale *s = arg;

	pin_to_cpu(1);
	while (!atomic_load(&s->done)) {
		int phase = atomic_load(&s->phase);
		size_t i;

		if (phase == atomic_load(&s->ack)) {
			sched_yield();
			continue;
		}
		for (i = 0; phase && i < s->len; i += PAGE) {
			bool ok = touch((unsigned char *)atomic_load(&s->addr) + i,
					false);

			if (phase == 2 && ok)
				atomic_fetch_add(&s->read, 1);
			if (phase == 2 && !ok)
				atomic_fetch_add(&s->faulted, 1);
		}
		atomic_store(&s->ack, phase);
	}
	return NULL;
}

static void stale_step(struct stale *s, int phase)
{
	atomic_store(&s->phase, phase);
	while (atomic_load(&s->ack) != phase && time(NULL) < deadline + 30)
		sched_yield();
}

static int stale_main(void)
{
	unsigned char *buf = patterned();
	struct stale s = { 0 };
	int dev = xmem_open(), fd;
	pthread_t reader;
	bool wrap = false;
	void *p, *q;

	pin_to_cpu(0);
	touch_setup();
	if (!buf || dev < 0 || xmem_pool_init(dev, 8 * PAGE, 0))
		return 3;
	pthread_create(&reader, NULL, stale_reader, &s);
	while (!over()) {
		fd = xmem_create(dev, buf, 8 * PAGE, 0);
		if (fd < 0 || xmem_attach(fd, 0, 8 * PAGE, 0, &p)) {
			fail(STALE, "create or attach");
			break;
		}
		atomic_store(&s.addr, (uintptr_t)p);
		s.len = 8 * PAGE;
		stale_step(&s, 1);		/* the reader caches them */
		if (xmem_detach(fd, p, 8 * PAGE)) {
			fail(STALE, "detach");
			break;
		}
		if (wrap) {
			/* The whole window is dirty: this attach flushes it. */
			if (xmem_attach(fd, 0, PAGE, 0, &q) || q != p) {
				fail(STALE, "the wrap did not reuse the window's start");
				break;
			}
			atomic_store(&s.addr, (uintptr_t)p + PAGE);
			s.len = 7 * PAGE;
			stale_step(&s, 2);
			xmem_detach(fd, q, PAGE);
		} else {
			/* xmdetach runs the deferred flush before it unpins. */
			if (xmem_xmdetach(fd)) {
				fail(STALE, "xmdetach");
				break;
			}
			stale_step(&s, 2);
		}
		stale_step(&s, 0);
		close(fd);
		wrap = !wrap;
		atomic_fetch_add(&st[STALE].rounds, 1);
	}
	atomic_store(&s.done, 1);
	pthread_join(reader, NULL);
	st[STALE].faults = s.faulted;
	if (atomic_load(&s.read))
		fail(STALE, "%ld reads from another CPU after the flush did not fault",
		     atomic_load(&s.read));
	return 0;
}

/* ===== coherence ===== */

#define COH_PAGES	16
#define COH_READERS	2
#define CHILD_MARK	(~0ULL)

/* What the owner publishes, in memory shared with the readers. */
struct coherence {
	atomic_llong id;		/* the published descriptor, 0 before */
	atomic_ullong latest;		/* the newest generation written */
	atomic_ullong gen[COH_PAGES];	/* each page's, once it is there */
	atomic_int owner_done;
};

/* Read the u64 at @p, as touch() does: false if that faulted. */
static bool read_u64(uint64_t *p, uint64_t *v)
{
	if (sigsetjmp(touch_jmp, 1)) {
		atomic_fetch_add(&touch_faults, 1);
		return false;
	}
	__atomic_store_n(&touch_armed, 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	*v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&touch_armed, 0, __ATOMIC_RELAXED);
	return true;
}

/* Page @k of the owner now holds generation @g (written before @k's). */
static void coh_publish(struct coherence *c, int k, uint64_t g)
{
	atomic_store(&c->gen[k], g);
}

static int coherence_owner(struct coherence *c)
{
	unsigned char *buf, *tmp;
	struct xmem_publish p = { .size = sizeof(p), .mode = 0600 };
	struct xmem_create cr = { .size = sizeof(cr),
				  .flags = XMEM_CREATE_ASPACE };
	struct rng r;
	uint64_t g = 1;
	int dev = xmem_open(), fd, k;

	rng_seed(&r, seed, COHERENCE);
	buf = mmap(NULL, COH_PAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (dev < 0 || buf == MAP_FAILED)
		return 3;
	atomic_store(&c->latest, g);
	for (k = 0; k < COH_PAGES; k++) {
		*(uint64_t *)(buf + k * PAGE) = g;
		coh_publish(c, k, g);
	}
	cr.addr = (uintptr_t)buf;
	cr.length = COH_PAGES * PAGE;
	fd = ioctl(dev, XMEM_IOC_CREATE, &cr);
	if (fd < 0 || ioctl(fd, XMEM_IOC_PUBLISH, &p)) {
		fail(COHERENCE, "create or publish: %s", strerror(errno));
		return 0;
	}
	atomic_store(&c->id, p.id);
	while (!over()) {
		unsigned char *page;
		int op = rng_below(&r, 10);
		pid_t kid;

		k = rng_below(&r, COH_PAGES);
		page = buf + k * PAGE;
		atomic_store(&c->latest, ++g);
		if (op < 6) {
			__atomic_store_n((uint64_t *)page, g, __ATOMIC_RELEASE);
		} else if (op < 8) {
			/* A new page, already written, in the old one's place. */
			tmp = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (tmp == MAP_FAILED)
				continue;
			*(uint64_t *)tmp = g;
			if (mremap(tmp, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
				   page) != page) {
				fail(COHERENCE, "mremap: %s", strerror(errno));
				break;
			}
		} else if (op < 9) {
			/* Copy-on-write: the child's copy is never seen. */
			kid = fork();
			if (!kid) {
				__atomic_store_n((uint64_t *)page, CHILD_MARK,
						 __ATOMIC_RELEASE);
				_exit(0);
			}
			__atomic_store_n((uint64_t *)page, g, __ATOMIC_RELEASE);
			waitpid(kid, NULL, 0);
		} else {
			mprotect(page, PAGE, PROT_READ);
			mprotect(page, PAGE, PROT_READ | PROT_WRITE);
			__atomic_store_n((uint64_t *)page, g, __ATOMIC_RELEASE);
		}
		coh_publish(c, k, g);
		atomic_fetch_add(&st[COHERENCE].rounds, 1);
	}
	atomic_store(&c->owner_done, 1);
	close(fd);
	return 0;
}

struct coh_reader {
	struct coherence *c;
	unsigned char *m;
	uint64_t seed;
};

static void *coherence_thread(void *arg)
{
	struct coh_reader *cr = arg;
	struct coherence *c = cr->c;
	struct rng r;

	rng_seed(&r, cr->seed, (uintptr_t)pthread_self());
	while (!over() && !atomic_load(&c->owner_done)) {
		int k = rng_below(&r, COH_PAGES);
		uint64_t g0 = atomic_load(&c->gen[k]), v, g1;

		if (!read_u64((uint64_t *)(cr->m + k * PAGE), &v)) {
			atomic_fetch_add(&st[COHERENCE].faults, 1);
			continue;
		}
		g1 = atomic_load(&c->latest);
		if (v == CHILD_MARK)
			fail(COHERENCE, "page %d: read a forked child's copy", k);
		else if (v < g0)
			fail(COHERENCE, "page %d: generation %llu read, %llu published before",
			     k, (unsigned long long)v, (unsigned long long)g0);
		else if (v > g1)
			fail(COHERENCE, "page %d: read generation %llu, newer than any (%llu)",
			     k, (unsigned long long)v, (unsigned long long)g1);
	}
	return NULL;
}

static int coherence_reader(struct coherence *c, int n)
{
	struct xmem_open o = { .size = sizeof(o) };
	struct coh_reader cr = { .c = c, .seed = seed + n };
	int t = nthreads < MAX_THREADS ? nthreads : MAX_THREADS;
	int dev = xmem_open(), fd, i;
	pthread_t th[MAX_THREADS];

	touch_setup();
	while (!(o.id = atomic_load(&c->id)) && !over())
		usleep(1000);
	fd = ioctl(dev, XMEM_IOC_OPEN, &o);
	if (fd < 0) {
		fail(COHERENCE, "XMEM_IOC_OPEN: %s", strerror(errno));
		return 0;
	}
	cr.m = mmap(NULL, COH_PAGES * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (cr.m == MAP_FAILED) {
		fail(COHERENCE, "mmap of the descriptor: %s", strerror(errno));
		return 0;
	}
	for (i = 0; i < t; i++)
		pthread_create(&th[i], NULL, coherence_thread, &cr);
	for (i = 0; i < t; i++)
		pthread_join(th[i], NULL);
	munmap(cr.m, COH_PAGES * PAGE);
	close(fd);
	return 0;
}

static int coherence_main(void)
{
	struct coherence *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t readers[COH_READERS];
	int i, status, ret;

	if (c == MAP_FAILED)
		return 3;
	memset(c, 0, sizeof(*c));
	for (i = 0; i < COH_READERS; i++) {
		readers[i] = fork();
		if (!readers[i])
			_exit(coherence_reader(c, i));
	}
	ret = coherence_owner(c);
	atomic_store(&c->owner_done, 1);
	for (i = 0; i < COH_READERS; i++) {
		waitpid(readers[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail(COHERENCE, "a reader ended with %#x", status);
	}
	return ret;
}

/* ===== main ===== */

static int run(enum scenario s)
{
	switch (s) {
	case CHURN:
	case CHURN_NOBODY:
		return churn_main(s);
	case FORKEXEC:
		return forkexec_main();
	case LASTCLOSE:
		return lastclose_main();
	case STALE:
		return stale_main();
	case COHERENCE:
		return coherence_main();
	default:
		return 2;
	}
}

/* The unprivileged user can pin its whole RLIMIT_MEMLOCK: nothing left. */
static bool memlock_back(void)
{
	pid_t pid = fork();
	int status;

	if (!pid) {
		void *p = mmap(NULL, MEMLOCK, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (p == MAP_FAILED || become_nobody(MEMLOCK))
			_exit(2);
		_exit(xmem_create(xmem_open(), p, MEMLOCK, 0) >= 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && !WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	pid_t pids[NR_SCEN];
	long pins0, pins1;
	int s, opt, bad = 0, i;

	seed = time(NULL);
	while ((opt = getopt(argc, argv, "t:s:T:")) != -1) {
		if (opt == 't')
			seconds = atoi(optarg);
		else if (opt == 's')
			seed = strtoull(optarg, NULL, 0);
		else if (opt == 'T')
			nthreads = atoi(optarg);
		else
			return 2;
	}
	st = mmap(NULL, NR_SCEN * sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED || seconds < 1 || nthreads < 1)
		return 2;
	memset(st, 0, NR_SCEN * sizeof(*st));
	printf("TAP version 13\n1..%d\n", NR_SCEN + 1);
	printf("# xmem_torture: %d s, seed %llu, %d threads per process, %ld CPUs\n",
	       seconds, (unsigned long long)seed, nthreads,
	       sysconf(_SC_NPROCESSORS_ONLN));
	fflush(stdout);
	pins0 = pins_outstanding();
	deadline = time(NULL) + seconds;
	for (s = 0; s < NR_SCEN; s++) {
		pids[s] = fork();
		if (!pids[s])
			_exit(run(s));
	}
	for (s = 0; s < NR_SCEN; s++) {
		int status = 0;

		for (i = 0; waitpid(pids[s], &status, WNOHANG) == 0; i++) {
			if (time(NULL) > deadline + 60) {
				kill(pids[s], SIGKILL);
				waitpid(pids[s], &status, 0);
				fail(s, "did not end: hung");
				break;
			}
			usleep(20000);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail(s, "ended with status %#x", status);
		printf("# %s: %ld rounds, %ld expected faults\n", scen_names[s],
		       atomic_load(&st[s].rounds), atomic_load(&st[s].faults));
		if (atomic_load(&st[s].failures) || !atomic_load(&st[s].rounds)) {
			printf("not ok %d %s # %ld failures, first: %s\n", s + 1,
			       scen_names[s], atomic_load(&st[s].failures),
			       atomic_load(&st[s].rounds) ? st[s].first : "no round done");
			bad++;
		} else {
			printf("ok %d %s\n", s + 1, scen_names[s]);
		}
	}
	for (i = 0; i < 50 && (pins1 = pins_outstanding()) != pins0; i++)
		usleep(100000);
	if (pins0 < 0 || pins1 != pins0 || !memlock_back()) {
		printf("not ok %d baseline # pins before %ld after %ld, unprivileged memlock %s\n",
		       NR_SCEN + 1, pins0, pins1, memlock_back() ? "back" : "NOT back");
		bad++;
	} else {
		printf("ok %d baseline # pins before %ld after %ld, memlock back\n",
		       NR_SCEN + 1, pins0, pins1);
	}
	return bad ? 1 : 0;
}
