// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for lightweight attach and detach (mm/lw_attach.c).
 *
 * The services refuse kernel threads, so every call that must succeed is
 * made from a real user-mode task: the test thread gets a user mm with
 * kunit_vm_mmap(), then user_mode_thread() starts a task that shares it
 * and is not a kernel thread (as the first user process is before its
 * execve()).  That task can start sibling threads (CLONE_THREAD), fork a
 * child with its own copy of the mm (kernel_clone() without CLONE_VM) and
 * execve() a tiny ELF program written to the root file system.  The test
 * thread waits for it with CLONE_VFORK, which returns once the task has
 * released its mm, after its lightweight state is gone.
 *
 * Descriptors are attached with LW_XMATTACH by the test thread over its
 * kunit_vm_mmap() buffers; bytes written through the buffer must be read
 * through the window and the reverse.  Tracepoint probes count the events.
 * Probes, captured events, pin counts and descriptors detached when the
 * test ends are lw_kunit.h's, shared with the other suites.
 */

#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/adspace.h>
#include <linux/binfmts.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xmem.h>
#include <trace/events/lw_attach.h>
#include <trace/events/xmem.h>

#include "lw_attach_internal.h"
#include "lw_kunit.h"
#include "lw_utask.h"
#include "xmem_internal.h"

#define NPAGES	8
#define BUFSZ	(NPAGES * PAGE_SIZE)

/* ===== Events ===== */

struct lw_event {
	enum lw_misuse_kind kind;
	const void *dp;
	unsigned long addr;
	size_t length;
	pid_t tgid, pid, owner_tgid, owner_pid;
	long count;
	int err;		/* the call's, or the refused call's */
	int seen;
	/* lw_misuse_att: the attachment's offset, the jiffies of its attach */
	size_t offset;
	unsigned long since;
	unsigned long offsets;	/* BIT(offset) of each, below BITS_PER_LONG */
};

static LW_KUNIT_EVENTS(struct lw_event init, attach, detach, misuse, att;
		       struct lw_event created, destroyed;
		       int flush_seen[LW_FLUSH_EXIT + 1];
		       int misuse_seen[LW_MISUSE_WINDOW_FULL + 1];)
	seen = LW_KUNIT_EVENTS_INIT(seen);

/* Woken at each window created or destroyed. */
static DECLARE_WAIT_QUEUE_HEAD(window_wq);

static void probe_pool_init(void *d, const void *mm, size_t pool_size,
			    unsigned int flags, int err)
{
	unsigned long irqflags = lw_kunit_lock(&seen.lock);

	seen.init.err = err;
	seen.init.length = pool_size;
	seen.init.seen++;
	lw_kunit_unlock(&seen.lock, irqflags);
}

static void record_call(struct lw_event *ev, const void *dp, size_t length,
			unsigned long addr, int err)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	ev->dp = dp;
	ev->length = length;
	ev->addr = addr;
	ev->err = err;
	ev->tgid = current->tgid;
	ev->pid = current->pid;
	ev->seen++;
	lw_kunit_unlock(&seen.lock, flags);
}

static void probe_attach(void *d, const void *dp, size_t offset, size_t length,
			 unsigned long addr, int err)
{
	record_call(&seen.attach, dp, length, addr, err);
}

static void probe_detach(void *d, const void *dp, size_t offset, size_t length,
			 unsigned long addr, int err)
{
	record_call(&seen.detach, dp, length, addr, err);
}

static void probe_misuse(void *d, enum lw_misuse_kind kind, const void *dp,
			 unsigned long addr, size_t length, pid_t owner_tgid,
			 pid_t owner_pid, long count, int err)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	seen.misuse.kind = kind;
	seen.misuse.dp = dp;
	seen.misuse.addr = addr;
	seen.misuse.length = length;
	seen.misuse.owner_tgid = owner_tgid;
	seen.misuse.owner_pid = owner_pid;
	seen.misuse.count = count;
	seen.misuse.err = err;
	seen.misuse.tgid = current->tgid;
	seen.misuse.pid = current->pid;
	seen.misuse.seen++;
	if (kind > 0 && kind <= LW_MISUSE_WINDOW_FULL)
		seen.misuse_seen[kind]++;
	lw_kunit_unlock(&seen.lock, flags);
}

static void probe_misuse_att(void *d, enum lw_misuse_kind kind,
			     const void *dp, size_t offset, size_t length,
			     unsigned long addr, unsigned long since)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	seen.att.kind = kind;
	seen.att.dp = dp;
	seen.att.offset = offset;
	seen.att.length = length;
	seen.att.addr = addr;
	seen.att.since = since;
	seen.att.pid = current->pid;
	if (offset < BITS_PER_LONG)
		seen.att.offsets |= BIT(offset);
	seen.att.seen++;
	lw_kunit_unlock(&seen.lock, flags);
}

static void record_window(struct lw_event *ev, unsigned long start,
			  pid_t tgid, pid_t pid, long count)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	ev->addr = start;
	ev->tgid = tgid;
	ev->pid = pid;
	ev->count = count;
	ev->seen++;
	lw_kunit_unlock(&seen.lock, flags);
	wake_up_all(&window_wq);
}

static void probe_created(void *d, const void *mm, unsigned long start,
			  unsigned long len, pid_t tgid, pid_t pid, long count)
{
	record_window(&seen.created, start, tgid, pid, count);
}

static void probe_destroyed(void *d, const void *mm, unsigned long start,
			    unsigned long len, pid_t tgid, pid_t pid, long count)
{
	record_window(&seen.destroyed, start, tgid, pid, count);
}

static void probe_flush(void *d, const void *mm, unsigned long start,
			pid_t pid, enum lw_flush_reason reason,
			unsigned long pages)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	if (reason > 0 && reason <= LW_FLUSH_EXIT)
		seen.flush_seen[reason]++;
	lw_kunit_unlock(&seen.lock, flags);
}

static const struct lw_kunit_probe lw_probes[] = {
	LW_KUNIT_PROBE(lw_pool_init, probe_pool_init),
	LW_KUNIT_PROBE(lw_attach, probe_attach),
	LW_KUNIT_PROBE(lw_detach, probe_detach),
	LW_KUNIT_PROBE(lw_misuse, probe_misuse),
	LW_KUNIT_PROBE(lw_misuse_att, probe_misuse_att),
	LW_KUNIT_PROBE(lw_window_create, probe_created),
	LW_KUNIT_PROBE(lw_window_destroy, probe_destroyed),
	LW_KUNIT_PROBE(lw_flush, probe_flush),
};

static struct lw_event last(struct lw_event *ev)
{
	return lw_kunit_read(&seen, *ev);
}

static struct lw_event last_att(void)
{
	return lw_kunit_read(&seen, seen.att);
}

static int count_of(int *counter)
{
	return lw_kunit_read(&seen, *counter);
}

/* How many misuses of @kind were seen. */
static int misuses(enum lw_misuse_kind kind)
{
	return count_of(&seen.misuse_seen[kind]);
}

/* The last misuse is of @kind, by a call that returned @err (0: none). */
static void expect_misuse(struct kunit *test, enum lw_misuse_kind kind,
			  int err)
{
	struct lw_event ev = last(&seen.misuse);

	KUNIT_EXPECT_EQ(test, ev.kind, kind);
	KUNIT_EXPECT_EQ(test, ev.err, err);
}

/* ===== User buffers, descriptors and pins ===== */

static unsigned long user_buf(struct kunit *test, unsigned long prot)
{
	unsigned long addr = kunit_vm_mmap(test, NULL, 0, BUFSZ, prot,
					   MAP_PRIVATE | MAP_ANONYMOUS, 0);

	KUNIT_ASSERT_NE_MSG(test, addr, 0UL, "kunit_vm_mmap failed");
	return addr;
}

/*
 * Every descriptor over the test's mm is detached: the pins are back where
 * they were, and nothing is charged to the mm's pinned_vm any more (the
 * test runs with CAP_IPC_LOCK, so nothing was charged to locked_vm).
 */
static void expect_baseline(struct kunit *test, long pins)
{
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm), 0LL);
}

/* Fill the user buffer with a pattern that depends on @seed. */
static void fill(struct kunit *test, unsigned long addr, size_t len, u8 seed)
{
	u8 *tmp = kunit_kmalloc(test, len, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, tmp);
	for (i = 0; i < len; i++)
		tmp[i] = seed + i * 7;
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr, tmp, len), 0UL);
	kunit_kfree(test, tmp);
}

/* ===== User-mode tasks: lw_utask.h ===== */

static bool no_windows(struct mm_struct *mm)
{
	struct lw_mm *lwm = READ_ONCE(mm->lw);
	bool empty;

	if (!lwm)
		return true;
	spin_lock(&lwm->lock);
	empty = list_empty(&lwm->windows);
	spin_unlock(&lwm->lock);
	return empty;
}

/* Threads signal ready before do_exit(): wait until their windows went. */
static void wait_windows_gone(struct kunit *test, struct mm_struct *mm)
{
	KUNIT_EXPECT_GT(test, wait_event_timeout(window_wq, no_windows(mm),
						 10 * HZ), 0L);
}

/*
 * In user tasks, where a KUnit assertion cannot abort the test: expect
 * success, and tell the caller to give up on failure.
 */
static bool expect_ok_at(struct kunit *test, int err, const char *what)
{
	KUNIT_EXPECT_EQ_MSG(test, err, 0, "%s", what);
	return err != 0;
}

#define expect_ok(test, call) expect_ok_at(test, call, #call)

static int uread(unsigned long addr, void *buf, size_t len)
{
	return copy_from_user(buf, (const void __user *)addr, len) ? -EFAULT : 0;
}

static int uwrite(unsigned long addr, const void *buf, size_t len)
{
	return copy_to_user((void __user *)addr, buf, len) ? -EFAULT : 0;
}

/* ===== as_lw_pool_init() ===== */

static int init_errors_fn(struct utask *u)
{
	struct kunit *test = u->test;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, LW_DEBUG | 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, as_lw_pool_init(LW_POOL_MAX + 1, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, as_lw_pool_init(SIZE_MAX, 0), -EINVAL);
	KUNIT_EXPECT_NULL(test, current->mm->lw);
	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	KUNIT_EXPECT_EQ(test, last(&seen.init).err, 0);
	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), -EEXIST);
	KUNIT_EXPECT_EQ(test, as_lw_pool_init(2 * BUFSZ, LW_DEBUG), -EEXIST);
	KUNIT_EXPECT_EQ(test, last(&seen.init).err, -EEXIST);
	KUNIT_EXPECT_EQ(test, current->mm->lw->pool_size, (size_t)BUFSZ);
	KUNIT_EXPECT_EQ(test, current->mm->lw->flags, 0U);
	return 0;
}

static void test_pool_init_errors(struct kunit *test)
{
	user_buf(test, PROT_READ);
	KUNIT_EXPECT_EQ(test, run_user(test, init_errors_fn, NULL), 0);
	/* The test thread is a kernel thread. */
	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), -EPERM);
	KUNIT_EXPECT_EQ(test, last(&seen.init).err, -EPERM);
}

static int compat_fn(struct utask *u)
{
	struct kunit *test = u->test;
	struct xmem dp;
	unsigned long addr;
	int init, att, det;

	xmem_init(&dp);
	current_thread_info()->status |= TS_COMPAT;
	init = as_lw_pool_init(BUFSZ, 0);
	att = as_lw_att64(&dp, 0, 1, &addr);
	det = as_lw_det64(&dp, 0, 1);
	current_thread_info()->status &= ~TS_COMPAT;
	KUNIT_EXPECT_EQ(test, init, -ENOSYS);
	KUNIT_EXPECT_EQ(test, att, -ENOSYS);
	KUNIT_EXPECT_EQ(test, det, -ENOSYS);
	return 0;
}

/* A 32-bit task gets -ENOSYS from every service. */
static void test_compat_task(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_IA32_EMULATION))
		kunit_skip(test, "needs CONFIG_IA32_EMULATION");
	user_buf(test, PROT_READ);
	KUNIT_EXPECT_EQ(test, run_user(test, compat_fn, NULL), 0);
}

/* ===== as_lw_att64() ===== */

struct att_ctx {
	struct xmem *lw, *user, *free;
	unsigned long buf;
	size_t len;
	unsigned int flags;	/* for as_lw_pool_init() */
};

static int attach_errors_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	unsigned long addr = 0x5a5a;

	KUNIT_EXPECT_EQ(test, as_lw_att64(c->lw, 0, PAGE_SIZE, &addr), -ENODEV);
	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->user, 0, PAGE_SIZE, &addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->free, 0, PAGE_SIZE, &addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->lw, 0, 0, &addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->lw, 0, c->len + 1, &addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->lw, c->len, 1, &addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->lw, 1, SIZE_MAX, &addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->lw, SIZE_MAX, 2, &addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, addr, 0x5a5aUL);
	KUNIT_EXPECT_EQ(test, last(&seen.attach).err, -EINVAL);
	/* None of that made a window. */
	KUNIT_EXPECT_EQ(test, last(&seen.created).seen, 0);
	return 0;
}

static void test_attach_errors(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };
	unsigned long addr;

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	c.user = lw_kunit_attach_dp(test, c.buf, BUFSZ, USER_ADSPACE);
	c.free = lw_kunit_alloc_dp(test);
	KUNIT_EXPECT_EQ(test, run_user(test, attach_errors_fn, &c), 0);
	KUNIT_EXPECT_EQ(test, as_lw_att64(c.lw, 0, 1, &addr), -EPERM);
	/* Nothing holds the descriptor. */
	KUNIT_EXPECT_EQ(test, xmdetach(c.lw), 0);
}

/* Check @len bytes at window @addr against buffer @buf, both ways. */
static void expect_same_bytes(struct kunit *test, unsigned long waddr,
			      unsigned long baddr, size_t len, bool writable)
{
	u8 *a = kmalloc(len, GFP_KERNEL);
	u8 *b = kmalloc(len, GFP_KERNEL);

	KUNIT_EXPECT_NOT_NULL(test, a);
	KUNIT_EXPECT_NOT_NULL(test, b);
	if (!a || !b)
		goto out;
	KUNIT_EXPECT_EQ(test, uread(waddr, a, len), 0);
	KUNIT_EXPECT_EQ(test, uread(baddr, b, len), 0);
	KUNIT_EXPECT_EQ(test, memcmp(a, b, len), 0);
	if (writable) {
		memset(a, 0xc3, len);
		KUNIT_EXPECT_EQ(test, uwrite(waddr, a, len), 0);
		KUNIT_EXPECT_EQ(test, uread(baddr, b, len), 0);
		KUNIT_EXPECT_EQ(test, memcmp(a, b, len), 0);
	}
out:
	kfree(a);
	kfree(b);
}

struct bytes_case {
	size_t dp_off;		/* descriptor starts this far into the buffer */
	size_t off, len;	/* attach range */
};

static const struct bytes_case bytes_cases[] = {
	{ 0, 0, BUFSZ },
	{ 0, 0, 1 },
	{ 0, 100, 5000 },
	{ 0, PAGE_SIZE - 1, 2 },
	{ 10, 0, PAGE_SIZE },
	{ 4000, 200, 3 * PAGE_SIZE },
};

static int attach_bytes_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	int i;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	for (i = 0; i < ARRAY_SIZE(bytes_cases); i++) {
		const struct bytes_case *bc = &bytes_cases[i];
		unsigned long base = c->buf + bc->dp_off + bc->off;
		struct xmem *dp = &c->lw[i];
		unsigned long addr;

		if (as_lw_att64(dp, bc->off, bc->len, &addr)) {
			KUNIT_FAIL(test, "case %d: attach failed", i);
			continue;
		}
		KUNIT_EXPECT_EQ_MSG(test, offset_in_page(addr),
				    offset_in_page(base), "case %d", i);
		KUNIT_EXPECT_NE(test, addr, base);
		expect_same_bytes(test, addr, base, bc->len, true);
		KUNIT_EXPECT_EQ(test, as_lw_det64(dp, addr, bc->len), 0);
	}
	return 0;
}

/* The bytes at the returned address are the descriptor's, both ways. */
static void test_attach_bytes(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };
	int i;

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	fill(test, c.buf, BUFSZ, 1);
	c.lw = kunit_kcalloc(test, ARRAY_SIZE(bytes_cases), sizeof(*c.lw),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c.lw);
	for (i = 0; i < ARRAY_SIZE(bytes_cases); i++) {
		xmem_init(&c.lw[i]);
		KUNIT_ASSERT_EQ(test, xmattach(c.buf +
					       bytes_cases[i].dp_off,
					       BUFSZ - bytes_cases[i].dp_off,
					       &c.lw[i], LW_XMATTACH), 0);
	}
	KUNIT_EXPECT_EQ(test, run_user(test, attach_bytes_fn, &c), 0);
	for (i = 0; i < ARRAY_SIZE(bytes_cases); i++)
		KUNIT_EXPECT_EQ(test, xmdetach(&c.lw[i]), 0);
}

static int rdonly_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	unsigned long addr;
	u8 byte = 0x77;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	if (expect_ok(test, as_lw_att64(c->lw, 0, BUFSZ, &addr)))
		return -EIO;
	expect_same_bytes(test, addr, c->buf, BUFSZ, false);
	KUNIT_EXPECT_EQ(test, uwrite(addr + 5, &byte, 1), -EFAULT);
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_RDONLY_WRITE), 1);
	expect_misuse(test, LW_MISUSE_RDONLY_WRITE, 0);
	KUNIT_EXPECT_EQ(test, last(&seen.misuse).addr, addr + 5);
	KUNIT_EXPECT_EQ(test, uread(addr + 5, &byte, 1), 0);
	KUNIT_EXPECT_NE(test, byte, 0x77);
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr, BUFSZ), 0);
	return 0;
}

/* A read-only descriptor maps read-only: a write faults and is reported. */
static void test_attach_rdonly(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };

	c.buf = user_buf(test, PROT_READ);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	KUNIT_ASSERT_TRUE(test, c.lw->xmemflags & XMEM_RDONLY);
	KUNIT_EXPECT_EQ(test, run_user(test, rdonly_fn, &c), 0);
}

/* ===== The window: exhaustion, dirty ranges, LW_DEBUG ===== */

static int exhaust_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	unsigned long addr[NPAGES + 1];
	struct lw_window *win;
	int i;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(4 * PAGE_SIZE, 0), 0);
	/* More than the pool: window_full, before there is a window. */
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->lw, 0, 5 * PAGE_SIZE, &addr[0]),
			-ENOMEM);
	expect_misuse(test, LW_MISUSE_WINDOW_FULL, -ENOMEM);
	KUNIT_EXPECT_PTR_EQ(test, last(&seen.misuse).dp, (const void *)c->lw);
	KUNIT_EXPECT_EQ(test, last(&seen.misuse).length, 5 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, last(&seen.misuse).count, 0L);
	KUNIT_EXPECT_EQ(test, last(&seen.misuse).owner_pid, current->pid);
	/* Four single bytes in four pages fill a four-page pool. */
	for (i = 0; i < 4; i++)
		if (expect_ok(test, as_lw_att64(c->lw, i * PAGE_SIZE + 1, 1, &addr[i])))
			return -EIO;
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_WINDOW_FULL), 1);
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->lw, 0, 1, &addr[4]), -ENOMEM);
	expect_misuse(test, LW_MISUSE_WINDOW_FULL, -ENOMEM);
	KUNIT_EXPECT_EQ(test, last(&seen.misuse).length, 1UL);
	KUNIT_EXPECT_EQ(test, last(&seen.misuse).count, 4L);
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_WINDOW_FULL), 2);
	win = current->lw_window;
	KUNIT_EXPECT_NOT_NULL(test, win);
	if (!win)
		return -EIO;
	KUNIT_EXPECT_EQ(test, win->attached, 4UL);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr[i], 1), 0);

	/* Exactly the pool size in one attachment. */
	if (expect_ok(test, as_lw_att64(c->lw, 0, 4 * PAGE_SIZE, &addr[0])))
		return -EIO;
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->lw, 0, 1, &addr[1]), -ENOMEM);
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_WINDOW_FULL), 3);
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr[0], 4 * PAGE_SIZE), 0);
	return 0;
}

static void test_window_exhaustion(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	KUNIT_EXPECT_EQ(test, run_user(test, exhaust_fn, &c), 0);
}

static int dirty_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	unsigned long addr[5];
	struct lw_window *win;
	int i, j;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(4 * PAGE_SIZE, 0), 0);
	for (i = 0; i < 5; i++) {
		if (expect_ok(test, as_lw_att64(c->lw, 0, PAGE_SIZE, &addr[i])))
			return -EIO;
		/*
		 * A detached page that was never touched faults: no CPU can
		 * hold a translation of it (without LW_DEBUG, detach flushes
		 * nothing).
		 */
		KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr[i], PAGE_SIZE), 0);
		KUNIT_EXPECT_EQ(test, uread(addr[i], &j, 1), -EFAULT);
	}
	win = current->lw_window;
	/* Four distinct pages before the wrap, then the first one again. */
	for (i = 0; i < 4; i++)
		for (j = 0; j < i; j++)
			KUNIT_EXPECT_NE(test, addr[i], addr[j]);
	KUNIT_EXPECT_EQ(test, addr[4], addr[0]);
	KUNIT_EXPECT_EQ(test, win->wraps, 1UL);
	KUNIT_EXPECT_EQ(test, count_of(&seen.flush_seen[LW_FLUSH_WRAP]), 1);
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_FAULT), 5);
	expect_misuse(test, LW_MISUSE_FAULT, 0);
	return 0;
}

/*
 * A detached range is not reused until one global flush of the window:
 * without LW_DEBUG, xmdetach() runs the flush the detach deferred.
 */
static void test_dirty_reuse_after_wrap(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	KUNIT_EXPECT_EQ(test, run_user(test, dirty_fn, &c), 0);
	/* The exit flushed everything: nothing left for xmdetach() to run. */
	KUNIT_EXPECT_EQ(test, xmdetach(c.lw), 0);
	KUNIT_EXPECT_EQ(test, count_of(&seen.flush_seen[LW_FLUSH_XMDETACH]), 0);
}

static int deferred_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	unsigned long addr;
	int busy;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, c->flags), 0);
	if (expect_ok(test, as_lw_att64(c->lw, 0, BUFSZ, &addr)))
		return -EIO;
	busy = xmdetach(c->lw);
	KUNIT_EXPECT_EQ(test, busy, -EBUSY);
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr, BUFSZ), 0);
	/* The descriptor goes while this thread's window is still there. */
	KUNIT_EXPECT_EQ(test, xmdetach(c->lw), 0);
	KUNIT_EXPECT_EQ(test, uread(addr, &busy, 1), -EFAULT);
	return 0;
}

/*
 * xmdetach() refuses while attached, and then runs the flush that the
 * detach deferred before it unpins.
 */
static void test_xmdetach_runs_deferred_flush(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };
	long pins = lw_kunit_pins_outstanding();

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	KUNIT_EXPECT_EQ(test, run_user(test, deferred_fn, &c), 0);
	KUNIT_EXPECT_EQ(test, count_of(&seen.flush_seen[LW_FLUSH_XMDETACH]), 1);
	expect_baseline(test, pins);
}

/* ===== Holds: a thread's count on a descriptor, parked between attaches ===== */

#define NR_HOLD_DPS	(LW_HOLDS + 4)

struct holds_ctx {
	struct xmem *dp[NR_HOLD_DPS];
	unsigned long buf;
};

static int holds_fn(struct utask *u)
{
	struct holds_ctx *c = u->arg;
	struct kunit *test = u->test;
	unsigned long addr, addr2;
	struct lw_window *win;
	int i;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	for (i = 0; i < NR_HOLD_DPS; i++) {
		if (expect_ok(test, as_lw_att64(c->dp[i], 0, PAGE_SIZE, &addr)))
			return -EIO;
		KUNIT_EXPECT_EQ(test, xmem_lw_count(c->dp[i]), 1L);
		KUNIT_EXPECT_EQ(test, as_lw_det64(c->dp[i], addr, PAGE_SIZE), 0);
		KUNIT_EXPECT_EQ(test, xmem_lw_count(c->dp[i]), 0L);
	}
	/* Parked holds are kept up to LW_HOLDS; those beyond end at detach. */
	win = current->lw_window;
	KUNIT_EXPECT_EQ(test, win->nr_holds, (unsigned int)LW_HOLDS);

	/* Two attachments through one hold, counted as two. */
	if (expect_ok(test, as_lw_att64(c->dp[1], 0, PAGE_SIZE, &addr)) ||
	    expect_ok(test, as_lw_att64(c->dp[1], PAGE_SIZE, 8, &addr2)))
		return -EIO;
	KUNIT_EXPECT_EQ(test, xmem_lw_count(c->dp[1]), 2L);
	KUNIT_EXPECT_EQ(test, xmdetach(c->dp[1]), -EBUSY);
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->dp[1], addr, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, xmem_lw_count(c->dp[1]), 1L);
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->dp[1], addr2, 8), 0);

	/*
	 * A parked hold does not keep its descriptor: xmdetach() revokes it,
	 * an attach of the detached descriptor is refused, and once it is
	 * attached again the thread's attach takes a new hold in its place.
	 */
	KUNIT_EXPECT_EQ(test, xmdetach(c->dp[0]), 0);
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->dp[0], 0, PAGE_SIZE, &addr),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, xmattach(c->buf, BUFSZ, c->dp[0], LW_XMATTACH), 0);
	if (expect_ok(test, as_lw_att64(c->dp[0], 0, PAGE_SIZE, &addr)))
		return -EIO;
	KUNIT_EXPECT_EQ(test, xmem_lw_count(c->dp[0]), 1L);
	KUNIT_EXPECT_EQ(test, win->nr_holds, (unsigned int)LW_HOLDS);
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->dp[0], addr, PAGE_SIZE), 0);

	/*
	 * Holds xmdetach() revoked do not keep their places: the next new
	 * hold ends them, and the holds still parked stay.
	 */
	for (i = 1; i < LW_HOLDS; i++)
		KUNIT_EXPECT_EQ(test, xmdetach(c->dp[i]), 0);
	KUNIT_EXPECT_EQ(test, win->nr_holds, (unsigned int)LW_HOLDS);
	if (expect_ok(test, as_lw_att64(c->dp[LW_HOLDS], 0, PAGE_SIZE, &addr)))
		return -EIO;
	KUNIT_EXPECT_EQ(test, win->nr_holds, 2U);	/* dp[0]'s and this one */
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->dp[LW_HOLDS], addr, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, win->nr_holds, 2U);
	for (i = 1; i < LW_HOLDS; i++)
		KUNIT_EXPECT_EQ(test, xmattach(c->buf, BUFSZ, c->dp[i], LW_XMATTACH), 0);
	return 0;		/* the exit ends the parked holds */
}

/*
 * A thread's holds: attachments of a descriptor counted through one hold,
 * parked between them, never in the way of xmdetach(), at most LW_HOLDS
 * parked, revoked ones ended when their places are wanted, all ended by
 * the thread's exit.
 */
static void test_holds(struct kunit *test)
{
	long pins = lw_kunit_pins_outstanding();
	struct holds_ctx c;
	int i;

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	for (i = 0; i < NR_HOLD_DPS; i++)
		c.dp[i] = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	KUNIT_EXPECT_EQ(test, run_user(test, holds_fn, &c), 0);
	for (i = 0; i < NR_HOLD_DPS; i++) {
		KUNIT_EXPECT_EQ(test, xmem_lw_count(c.dp[i]), 0L);
		KUNIT_EXPECT_EQ(test, xmdetach(c.dp[i]), 0);
	}
	expect_baseline(test, pins);
}

/* With LW_DEBUG the detach flushed already: xmdetach() has nothing to run. */
static void test_lw_debug_leaves_nothing_deferred(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ, .flags = LW_DEBUG };
	long pins = lw_kunit_pins_outstanding();

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	KUNIT_EXPECT_EQ(test, run_user(test, deferred_fn, &c), 0);
	KUNIT_EXPECT_EQ(test, count_of(&seen.flush_seen[LW_FLUSH_XMDETACH]), 0);
	expect_baseline(test, pins);
}

static int debug_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	unsigned long addr[3];
	int i, byte;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(2 * PAGE_SIZE, LW_DEBUG), 0);
	for (i = 0; i < 3; i++) {
		if (expect_ok(test, as_lw_att64(c->lw, 0, 1, &addr[i])))
			return -EIO;
		KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr[i], 1), 0);
		KUNIT_EXPECT_EQ(test, uread(addr[i], &byte, 1), -EFAULT);
	}
	/* Quarantined until the wrap: the second attach got a new page. */
	KUNIT_EXPECT_NE(test, addr[1], addr[0]);
	KUNIT_EXPECT_EQ(test, addr[2], addr[0]);
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_FAULT), 3);
	expect_misuse(test, LW_MISUSE_FAULT, 0);
	return 0;
}

static void test_lw_debug(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	KUNIT_EXPECT_EQ(test, run_user(test, debug_fn, &c), 0);
}

/* ===== as_lw_det64() ===== */

struct det_ctx {
	struct att_ctx *c;
	unsigned long addr;	/* attached by the main thread */
	pid_t owner;
	u8 bytes[16];
};

static int stranger_fn(struct utask *u)
{
	struct det_ctx *d = u->arg;
	struct kunit *test = u->test;

	/*
	 * A thread with no lightweight resources, so -ENOMEM; a range in
	 * another thread's window, so a cross-thread detach all the same.
	 */
	KUNIT_EXPECT_EQ(test, as_lw_det64(d->c->lw, d->addr, PAGE_SIZE), -ENOMEM);
	expect_misuse(test, LW_MISUSE_CROSS_THREAD, -ENOMEM);
	KUNIT_EXPECT_EQ(test, last(&seen.misuse).owner_pid, d->owner);
	KUNIT_EXPECT_EQ(test, last(&seen.misuse).pid, current->pid);
	return 0;
}

static int neighbour_fn(struct utask *u)
{
	struct det_ctx *d = u->arg;
	struct kunit *test = u->test;
	unsigned long mine;

	/* A thread with a window of its own. */
	if (expect_ok(test, as_lw_att64(d->c->lw, 0, 1, &mine)))
		return -EIO;
	KUNIT_EXPECT_EQ(test, as_lw_det64(d->c->lw, d->addr, PAGE_SIZE), -EINVAL);
	expect_misuse(test, LW_MISUSE_CROSS_THREAD, -EINVAL);
	KUNIT_EXPECT_EQ(test, last(&seen.misuse).owner_pid, d->owner);
	KUNIT_EXPECT_EQ(test, as_lw_det64(d->c->lw, mine, 1), 0);
	return 0;
}

static int detach_errors_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	struct det_ctx d = { .c = c, .owner = current->pid };
	struct lw_event att;
	unsigned long addr;
	int atts;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	/* No window yet: -ENOMEM, and nothing attached there. */
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, c->buf, PAGE_SIZE), -ENOMEM);
	expect_misuse(test, LW_MISUSE_DETACH_UNATTACHED, -ENOMEM);
	if (expect_ok(test, as_lw_att64(c->lw, 0, PAGE_SIZE, &addr)))
		return -EIO;
	d.addr = addr;
	atts = last_att().seen;
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->user, addr, PAGE_SIZE), -EINVAL);
	expect_misuse(test, LW_MISUSE_DETACH_WRONG_DP, -EINVAL);
	/* The attachment at the address, as the kernel holds it. */
	att = last_att();
	KUNIT_EXPECT_EQ(test, att.seen, atts + 1);
	KUNIT_EXPECT_EQ(test, att.kind, LW_MISUSE_DETACH_WRONG_DP);
	KUNIT_EXPECT_PTR_EQ(test, att.dp, (const void *)c->lw);
	KUNIT_EXPECT_EQ(test, att.addr, addr);
	KUNIT_EXPECT_EQ(test, att.offset, 0UL);
	KUNIT_EXPECT_EQ(test, att.length, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, att.pid, current->pid);
	KUNIT_EXPECT_TRUE(test, time_before_eq(att.since, jiffies));
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr + 1, PAGE_SIZE), -EINVAL);
	expect_misuse(test, LW_MISUSE_DETACH_UNATTACHED, -EINVAL);
	KUNIT_EXPECT_EQ(test, last_att().seen, atts + 1);
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr, PAGE_SIZE - 1), -EINVAL);
	expect_misuse(test, LW_MISUSE_DETACH_WRONG_LENGTH, -EINVAL);
	att = last_att();
	KUNIT_EXPECT_EQ(test, att.seen, atts + 2);
	KUNIT_EXPECT_EQ(test, att.kind, LW_MISUSE_DETACH_WRONG_LENGTH);
	KUNIT_EXPECT_PTR_EQ(test, att.dp, (const void *)c->lw);
	KUNIT_EXPECT_EQ(test, att.length, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr + PAGE_SIZE, PAGE_SIZE),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, c->buf, PAGE_SIZE), -EINVAL);
	/* In the window's PMD padding, past its last page: no attachment. */
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, ALIGN_DOWN(addr, PMD_SIZE) +
					  PMD_SIZE - PAGE_SIZE, PAGE_SIZE),
			-EINVAL);
	expect_misuse(test, LW_MISUSE_DETACH_UNATTACHED, -EINVAL);
	/* No other thread has a window yet: nothing was cross-thread. */
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_DETACH_UNATTACHED), 5);
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_DETACH_WRONG_DP), 1);
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_DETACH_WRONG_LENGTH), 1);
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_CROSS_THREAD), 0);

	KUNIT_EXPECT_EQ(test, run_thread(u, stranger_fn, &d), 0);
	KUNIT_EXPECT_EQ(test, run_thread(u, neighbour_fn, &d), 0);
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_CROSS_THREAD), 2);
	/* Only the caller's own attachments are named. */
	KUNIT_EXPECT_EQ(test, last_att().seen, atts + 2);
	/* Still attached, and detachable by its owner, once. */
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr, PAGE_SIZE), -EINVAL);
	return 0;
}

static void test_detach_errors(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	c.user = lw_kunit_attach_dp(test, c.buf, BUFSZ, USER_ADSPACE);
	KUNIT_EXPECT_EQ(test, run_user(test, detach_errors_fn, &c), 0);
	wait_windows_gone(test, current->mm);
	KUNIT_EXPECT_EQ(test, as_lw_det64(c.lw, c.buf, PAGE_SIZE), -EPERM);
	KUNIT_EXPECT_EQ(test, xmdetach(c.lw), 0);
}

/* ===== Thread exit, fork, exec ===== */

static int leaker_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	unsigned long addr;
	int i;

	for (i = 0; i < 3; i++)
		if (as_lw_att64(c->lw, i, 1, &addr))
			return -EIO;
	return 0;		/* exits with three attachments */
}

static int thread_exit_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	struct utask t = { .test = test };
	struct lw_event att;
	int atts;
	pid_t tid;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	atts = last_att().seen;
	tid = uthread_start(&t, leaker_fn, c);
	KUNIT_EXPECT_GT(test, tid, 0);
	if (tid <= 0)
		return -EIO;
	wait_for_completion(&t.ready);
	KUNIT_EXPECT_EQ(test, t.ret, 0);
	KUNIT_EXPECT_GT(test,
			wait_event_timeout(window_wq,
					   last(&seen.destroyed).seen == 1,
					   10 * HZ),
			0L);
	KUNIT_EXPECT_EQ(test, last(&seen.destroyed).pid, tid);
	KUNIT_EXPECT_EQ(test, last(&seen.destroyed).count, 3L);
	expect_misuse(test, LW_MISUSE_EXIT_LEAK, 0);
	KUNIT_EXPECT_EQ(test, last(&seen.misuse).count, 3L);
	KUNIT_EXPECT_EQ(test, last(&seen.misuse).owner_pid, tid);
	/* Each of them named: offsets 0, 1 and 2, by the exiting thread. */
	att = last_att();
	KUNIT_EXPECT_EQ(test, att.seen, atts + 3);
	KUNIT_EXPECT_EQ(test, att.offsets & GENMASK(2, 0), GENMASK(2, 0));
	KUNIT_EXPECT_EQ(test, att.kind, LW_MISUSE_EXIT_LEAK);
	KUNIT_EXPECT_PTR_EQ(test, att.dp, (const void *)c->lw);
	KUNIT_EXPECT_EQ(test, att.length, 1UL);
	KUNIT_EXPECT_EQ(test, att.pid, tid);
	/* The thread's attachments no longer hold the descriptor. */
	KUNIT_EXPECT_EQ(test, xmdetach(c->lw), 0);
	return 0;
}

/* A thread that exits with attachments: detached, reported, released. */
static void test_thread_exit_cleanup(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };
	long pins = lw_kunit_pins_outstanding();

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	KUNIT_EXPECT_EQ(test, run_user(test, thread_exit_fn, &c), 0);
	expect_baseline(test, pins);
}

static int fork_child_fn(struct utask *u)
{
	struct det_ctx *d = u->arg;
	struct kunit *test = u->test;
	unsigned long addr;
	int byte;

	KUNIT_EXPECT_NULL(test, current->lw_window);
	KUNIT_EXPECT_NULL(test, current->mm->lw);
	KUNIT_EXPECT_EQ(test, as_lw_att64(d->c->lw, 0, 1, &addr), -ENODEV);
	KUNIT_EXPECT_EQ(test, as_lw_det64(d->c->lw, d->addr, 1), -ENOMEM);
	/* The window was not copied. */
	KUNIT_EXPECT_EQ(test, uread(d->addr, &byte, 1), -EFAULT);
	/* A new pool, a new window, the parent's descriptor. */
	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	if (expect_ok(test, as_lw_att64(d->c->lw, 0, BUFSZ, &addr)))
		return -EIO;
	/* The parent sees this through its buffer. */
	memset(d->bytes, 0xc3, sizeof(d->bytes));
	KUNIT_EXPECT_EQ(test, uwrite(addr, d->bytes, sizeof(d->bytes)), 0);
	return 0;		/* exits attached */
}

static int fork_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	struct det_ctx d = { .c = c };
	struct utask child = { .test = test, .fn = fork_child_fn, .arg = &d };
	struct kernel_clone_args args = {
		.flags = CLONE_VFORK,
		.exit_signal = SIGCHLD,
		.fn = utask_main,
		.fn_arg = &child,
	};
	int status;
	pid_t pid;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	if (expect_ok(test, as_lw_att64(c->lw, 0, PAGE_SIZE, &d.addr)))
		return -EIO;
	init_completion(&child.ready);
	pid = kernel_clone(&args);
	KUNIT_EXPECT_GT(test, pid, 0);
	if (pid <= 0)
		return -EIO;
	kernel_wait(pid, &status);
	KUNIT_EXPECT_EQ(test, child.ret, 0);
	/* The child wrote the descriptor's pages through its own window. */
	memset(d.bytes, 0, sizeof(d.bytes));
	KUNIT_EXPECT_EQ(test, uread(c->buf, d.bytes, sizeof(d.bytes)), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(d.bytes, 0xc3, sizeof(d.bytes)));
	/* The parent's attachment is untouched. */
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, d.addr, PAGE_SIZE), 0);
	return 0;
}

/*
 * fork: the child inherits no pool, window or attachment; its own
 * attachment of the parent's descriptor goes with it.
 */
static void test_fork_child_inherits_nothing(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };
	long pins = lw_kunit_pins_outstanding();

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	KUNIT_EXPECT_EQ(test, run_user(test, fork_fn, &c), 0);
	KUNIT_EXPECT_EQ(test, last(&seen.destroyed).count, 0L);
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_EXIT_LEAK), 1);
	expect_misuse(test, LW_MISUSE_EXIT_LEAK, 0);
	KUNIT_EXPECT_EQ(test, xmdetach(c.lw), 0);
	expect_baseline(test, pins);
}

/* A static x86-64 ELF executable: exit(0). */
static const u8 exit0_elf[] = {
	0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x3e, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x78, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x38, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x81, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xb8, 0x3c, 0x00, 0x00, 0x00, 0x31, 0xff, 0x0f, 0x05,
};

#define EXIT0_PATH "/lw_attach_kunit_exit0"

static int exec_fn(struct utask *u)
{
	static const char *const argv[] = { EXIT0_PATH, NULL };
	static const char *const envp[] = { NULL };
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	unsigned long addr;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	if (expect_ok(test, as_lw_att64(c->lw, 0, PAGE_SIZE, &addr)))
		return -EIO;
	if (expect_ok(test, as_lw_att64(c->lw, PAGE_SIZE, 1, &addr)))
		return -EIO;
	/* Only returns on failure. */
	return kernel_execve(EXIT0_PATH, argv, envp);
}

/* exec tears the window down and starts without a pool. */
static void test_exec_releases_everything(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };
	long pins = lw_kunit_pins_outstanding();
	struct file *f;
	loff_t pos = 0;

	f = filp_open(EXIT0_PATH, O_CREAT | O_TRUNC | O_WRONLY, 0755);
	if (IS_ERR(f))
		kunit_skip(test, "cannot write %s: %ld", EXIT0_PATH, PTR_ERR(f));
	KUNIT_ASSERT_EQ(test, kernel_write(f, exit0_elf, sizeof(exit0_elf), &pos),
			(ssize_t)sizeof(exit0_elf));
	fput(f);

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	/* CLONE_VFORK returns at the exec; the window went before it. */
	run_user(test, exec_fn, &c);
	KUNIT_EXPECT_EQ(test, last(&seen.destroyed).seen, 1);
	KUNIT_EXPECT_EQ(test, last(&seen.destroyed).count, 2L);
	expect_misuse(test, LW_MISUSE_EXIT_LEAK, 0);
	KUNIT_EXPECT_EQ(test, xmdetach(c.lw), 0);
	expect_baseline(test, pins);
}

static int sealed_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	struct vm_area_struct *vma;
	struct lw_window *win;
	unsigned long addr, r;
	vm_flags_t flags;
	int err;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(4 * PAGE_SIZE, 0), 0);
	/* As after mlockall(MCL_FUTURE): the window must not inherit it. */
	current->mm->def_flags |= VM_LOCKED;
	err = as_lw_att64(c->lw, 0, PAGE_SIZE, &addr);
	current->mm->def_flags &= ~VM_LOCKED;
	if (expect_ok(test, err))
		return -EIO;
	win = current->lw_window;
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(win->start, PMD_SIZE));
	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, win->start);
	flags = vma ? vma->vm_flags : 0;
	mmap_read_unlock(current->mm);
	KUNIT_EXPECT_FALSE(test, flags & VM_LOCKED);
	KUNIT_EXPECT_TRUE(test, flags & VM_DONTCOPY);
	/* fork() must never copy it. */
	KUNIT_EXPECT_EQ(test, do_madvise(current->mm, win->start, PAGE_SIZE,
					 MADV_DOFORK), -EINVAL);
	KUNIT_EXPECT_EQ(test, vm_munmap(win->start, win->end - win->start),
			-EPERM);
	KUNIT_EXPECT_EQ(test, vm_munmap(addr, PAGE_SIZE), -EPERM);
	r = vm_mmap(NULL, win->start, PAGE_SIZE, PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0);
	KUNIT_EXPECT_EQ(test, r, (unsigned long)-EPERM);
	/* Still the window, still attached. */
	expect_same_bytes(test, addr, c->buf, PAGE_SIZE, true);
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr, PAGE_SIZE), 0);
	return 0;
}

/* The process cannot unmap or replace its windows. */
static void test_window_is_sealed(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	KUNIT_EXPECT_EQ(test, run_user(test, sealed_fn, &c), 0);
}

static int damaged_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	struct vm_area_struct *vma;
	struct lw_window *win;
	unsigned long addr, other;
	int byte;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(4 * PAGE_SIZE, 0), 0);
	if (expect_ok(test, as_lw_att64(c->lw, 0, PAGE_SIZE, &addr)))
		return -EIO;
	win = current->lw_window;
	/* What no process can do: unseal and unmap the window. */
	mmap_write_lock(current->mm);
	vma = vma_lookup(current->mm, win->start);
	vm_flags_clear(vma, VM_SEALED);
	KUNIT_EXPECT_EQ(test, do_munmap(current->mm, win->start,
					win->end - win->start, NULL), 0);
	mmap_write_unlock(current->mm);

	KUNIT_EXPECT_EQ(test, uread(addr, &byte, 1), -EFAULT);
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->lw, 0, 1, &other), -EIO);
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_WINDOW_DAMAGED), 1);
	expect_misuse(test, LW_MISUSE_WINDOW_DAMAGED, -EIO);
	KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr, PAGE_SIZE), -EIO);
	KUNIT_EXPECT_EQ(test, xmdetach(c->lw), -EBUSY);
	return 0;		/* the exit still releases the attachment */
}

/* A window damaged anyway: -EIO, and the exit still cleans up. */
static void test_damaged_window(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };
	long pins = lw_kunit_pins_outstanding();

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	KUNIT_EXPECT_EQ(test, run_user(test, damaged_fn, &c), 0);
	KUNIT_EXPECT_EQ(test, last(&seen.destroyed).count, 1L);
	KUNIT_EXPECT_EQ(test, xmdetach(c.lw), 0);
	expect_baseline(test, pins);
}

/* ===== What a window may cost ===== */

static int window_limits_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	struct user_struct *user = current_user();
	unsigned long addr, cost = lw_window_pages(BUFSZ);
	const struct cred *old;
	int maps, max_maps;
	long locked;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	old = lw_kunit_drop_ipc_lock(test);
	if (!old)
		return -ENOMEM;
	locked = atomic_long_read(&user->locked_vm);
	maps = current->mm->map_count;

	/* A page short of the window's cost: no window, nothing charged. */
	lw_kunit_set_memlock_limit((locked + cost - 1) << PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->lw, 0, 1, &addr), -ENOMEM);
	KUNIT_EXPECT_NULL(test, current->lw_window);
	KUNIT_EXPECT_EQ(test, current->mm->map_count, maps);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&user->locked_vm), locked);
	KUNIT_EXPECT_EQ(test, last(&seen.created).seen, 0);

	/* vm.max_map_count VMAs already: no room for the window's. */
	lw_kunit_set_memlock_limit(RLIM_INFINITY);
	max_maps = sysctl_max_map_count;
	sysctl_max_map_count = maps;
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->lw, 0, 1, &addr), -ENOMEM);
	sysctl_max_map_count = max_maps;
	KUNIT_EXPECT_NULL(test, current->lw_window);
	KUNIT_EXPECT_EQ(test, current->mm->map_count, maps);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&user->locked_vm), locked);

	/* Exactly enough: charged as long as the window lives. */
	lw_kunit_set_memlock_limit((locked + cost) << PAGE_SHIFT);
	if (!expect_ok(test, as_lw_att64(c->lw, 0, 1, &addr))) {
		KUNIT_EXPECT_EQ(test, atomic_long_read(&user->locked_vm),
				locked + (long)cost);
		KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr, 1), 0);
	}
	revert_creds(old);
	return 0;
}

/*
 * A window's page tables and tables cost memory the kernel keeps for the
 * thread's life: charged to RLIMIT_MEMLOCK (unless CAP_IPC_LOCK) and
 * subject to vm.max_map_count, as an mmap of it would be.
 */
static void test_window_limits(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };
	struct user_struct *user = current_user();
	long locked = atomic_long_read(&user->locked_vm);

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	KUNIT_EXPECT_EQ(test, run_user(test, window_limits_fn, &c), 0);
	/* The window went with its thread, and so did the charge. */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&user->locked_vm), locked);
	KUNIT_EXPECT_EQ(test, xmdetach(c.lw), 0);
}

/* ===== Fault injection ===== */

/*
 * A thread's first attach makes its window: every allocation of that (the
 * window, its tables, its file, its VMA, its page tables) fails in turn.
 * Each failure returns -ENOMEM and leaves no window, no VMA, no charge and
 * no attachment counted on the descriptor; then, with the window made,
 * every allocation of an attach and a detach fails in turn too.
 */
static int alloc_fails_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	struct user_struct *user = current_user();
	long locked = atomic_long_read(&user->locked_vm);
	int maps = current->mm->map_count, n, err, failed = 0;
	int full = misuses(LW_MISUSE_WINDOW_FULL);
	unsigned int left = 0;
	unsigned long addr;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	for (n = 1; n < 1000 && !left; n++) {
		lw_kunit_fail_nth(n);
		err = as_lw_att64(c->lw, 0, PAGE_SIZE, &addr);
		left = lw_kunit_fail_nth(0);
		if (!err) {
			/* Made, a failure absorbed or none reached: undo it. */
			KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr, PAGE_SIZE), 0);
			if (!left)
				lw_thread_exit(current);
			continue;
		}
		failed++;
		KUNIT_EXPECT_EQ_MSG(test, err, -ENOMEM, "allocation %d", n);
		KUNIT_EXPECT_NULL(test, current->lw_window);
		KUNIT_EXPECT_EQ(test, current->mm->map_count, maps);
		KUNIT_EXPECT_EQ(test, atomic_long_read(&user->locked_vm), locked);
		KUNIT_EXPECT_EQ(test, xmem_lw_count(c->lw), 0L);
	}
	KUNIT_EXPECT_NE(test, left, 0U);
	kunit_info(test, "first attach: %d allocations, %d failures seen\n",
		   n - 1, failed);

	/* With the window made: an attach, then a detach, failing in turn. */
	for (n = 1, left = 0; n < 100 && !left; n++) {
		lw_kunit_fail_nth(n);
		err = as_lw_att64(c->lw, PAGE_SIZE, 2 * PAGE_SIZE, &addr);
		left = lw_kunit_fail_nth(0);
		if (!err) {
			/* A detach that cannot defer its flush flushes at once. */
			lw_kunit_fail_nth(1);
			KUNIT_EXPECT_EQ(test, as_lw_det64(c->lw, addr, 2 * PAGE_SIZE), 0);
			lw_kunit_fail_nth(0);
			continue;
		}
		KUNIT_EXPECT_EQ_MSG(test, err, -ENOMEM, "attach allocation %d", n);
		KUNIT_EXPECT_EQ(test, xmem_lw_count(c->lw), 0L);
	}
	KUNIT_EXPECT_NE(test, left, 0U);
	KUNIT_EXPECT_EQ(test, xmem_lw_count(c->lw), 0L);
	/* Out of memory is no misuse: no window_full. */
	KUNIT_EXPECT_EQ(test, misuses(LW_MISUSE_WINDOW_FULL), full);
	return 0;
}

static void test_allocations_fail_in_turn(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };
	long pins = lw_kunit_pins_outstanding();

	if (lw_kunit_fail_allocations(test))
		kunit_skip(test, "needs FAILSLAB, FAIL_PAGE_ALLOC and their debugfs");
	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	KUNIT_EXPECT_EQ(test, run_user(test, alloc_fails_fn, &c), 0);
	KUNIT_EXPECT_EQ(test, xmdetach(c.lw), 0);
	expect_baseline(test, pins);
}

/*
 * A fatal signal while the first attach waits for mmap_lock (the test
 * holds it for reading): -EINTR, and no window is left behind.
 */
static int eintr_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	int maps = current->mm->map_count;
	unsigned long addr;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	/* Tasks started from a kthread ignore signals: let SIGKILL in. */
	kernel_sigaction(SIGKILL, SIG_DFL);
	send_sig(SIGKILL, current, 1);
	KUNIT_EXPECT_TRUE(test, fatal_signal_pending(current));
	KUNIT_EXPECT_EQ(test, as_lw_att64(c->lw, 0, PAGE_SIZE, &addr), -EINTR);
	KUNIT_EXPECT_NULL(test, current->lw_window);
	KUNIT_EXPECT_EQ(test, current->mm->map_count, maps);
	KUNIT_EXPECT_EQ(test, xmem_lw_count(c->lw), 0L);
	return 0;
}

static void test_window_eintr(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };
	struct user_struct *user = current_user();
	long locked = atomic_long_read(&user->locked_vm);
	int ret;

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	mmap_read_lock(current->mm);
	ret = run_user(test, eintr_fn, &c);
	mmap_read_unlock(current->mm);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, last(&seen.created).seen, 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&user->locked_vm), locked);
	KUNIT_EXPECT_EQ(test, xmdetach(c.lw), 0);
}

/* ===== Window teardown ===== */

/*
 * A sibling thread on another CPU keeps reading a page of the owner's
 * window, so that CPU keeps its translation; the owner exits with the page
 * attached.  Its teardown clears the window's PTEs, unmaps the VMA and
 * drops mmap_lock, and right then (the static stub holds it there) maps
 * fresh memory at that address, as any thread of the process may.  The
 * sibling must read zeros, not the descriptor's page through a translation
 * nobody flushed; and the flush of the whole window must already be done
 * (its lw_flush event seen) when the lock is dropped.  The first check
 * needs a TLB that keeps the entry (real ones do, QEMU's TCG may not); the
 * second holds on any machine.
 */
struct stale_ctx {
	struct att_ctx *c;
	unsigned long addr;	/* page 1 of the owner's attachment */
	atomic_t step;
	u64 seen;		/* what the sibling read after the remap */
	unsigned long mapped;
	int flushed;		/* exit flushes seen when the lock was dropped */
};

enum { STALE_ATTACHED = 1, STALE_TOUCHED, STALE_MAPPED, STALE_READ };

static struct stale_ctx *stale;

static bool stale_wait(int step, unsigned long timeout)
{
	unsigned long end = jiffies + timeout;

	while (atomic_read(&stale->step) < step) {
		if (time_after(jiffies, end))
			return false;
		usleep_range(1000, 2000);
	}
	return true;
}

/* The owner's teardown, right after mmap_write_unlock(). */
static void stale_window_unlocked(struct mm_struct *mm)
{
	stale->flushed = count_of(&seen.flush_seen[LW_FLUSH_EXIT]);
	stale->mapped = vm_mmap(NULL, stale->addr, PAGE_SIZE,
				PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS |
				MAP_FIXED_NOREPLACE, 0);
	atomic_set(&stale->step, STALE_MAPPED);
	stale_wait(STALE_READ, 5 * HZ);
}

static int stale_owner_fn(struct utask *u)
{
	struct kunit *test = u->test;
	unsigned long addr;

	set_cpus_allowed_ptr(current, cpumask_of(0));
	if (expect_ok(test, as_lw_att64(stale->c->lw, 0, 2 * PAGE_SIZE, &addr)))
		return -EIO;
	stale->addr = addr + PAGE_SIZE;
	atomic_set(&stale->step, STALE_ATTACHED);
	KUNIT_EXPECT_TRUE(test, stale_wait(STALE_TOUCHED, 10 * HZ));
	return 0;		/* exits attached: the window is torn down */
}

static int stale_sibling_fn(struct utask *u)
{
	struct kunit *test = u->test;
	struct utask owner = { .test = test };
	unsigned long end;
	u64 v = 0;

	set_cpus_allowed_ptr(current, cpumask_of(1));
	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	if (uthread_start(&owner, stale_owner_fn, NULL) <= 0)
		return -ESRCH;
	if (!stale_wait(STALE_ATTACHED, 10 * HZ)) {
		wait_for_completion(&owner.ready);
		return -ETIMEDOUT;
	}
	/* Through the owner's window: this CPU caches the translation. */
	KUNIT_EXPECT_EQ(test, uread(stale->addr, &v, sizeof(v)), 0);
	KUNIT_EXPECT_NE(test, v, 0ULL);
	atomic_set(&stale->step, STALE_TOUCHED);
	/*
	 * Keep reading it, without sleeping or running anything else that
	 * could push the translation out, until the owner has remapped it.
	 */
	end = jiffies + 10 * HZ;
	while (atomic_read(&stale->step) < STALE_MAPPED &&
	       time_before(jiffies, end))
		(void)uread(stale->addr, &v, sizeof(v));
	KUNIT_EXPECT_EQ(test, atomic_read(&stale->step), STALE_MAPPED);
	KUNIT_EXPECT_EQ(test, stale->mapped, stale->addr);
	if (stale->mapped == stale->addr)
		KUNIT_EXPECT_EQ(test, uread(stale->addr, &stale->seen,
					    sizeof(stale->seen)), 0);
	atomic_set(&stale->step, STALE_READ);
	wait_for_completion(&owner.ready);
	if (stale->mapped == stale->addr)
		vm_munmap(stale->addr, PAGE_SIZE);
	return 0;
}

static void test_teardown_flushes_before_unlock(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };
	struct stale_ctx ctx = { .c = &c };

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	fill(test, c.buf, BUFSZ, 0x5b);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	stale = &ctx;
	kunit_activate_static_stub(test, lw_window_unlocked,
				   stale_window_unlocked);
	KUNIT_EXPECT_EQ(test, run_user(test, stale_sibling_fn, NULL), 0);
	kunit_deactivate_static_stub(test, lw_window_unlocked);
	KUNIT_EXPECT_EQ_MSG(test, ctx.flushed, 1,
			    "mmap_lock dropped before the window was flushed");
	KUNIT_EXPECT_EQ_MSG(test, ctx.seen, 0ULL,
			    "read the detached descriptor's page through a stale TLB entry");
	KUNIT_EXPECT_EQ(test, xmdetach(c.lw), 0);
}

/*
 * A window whose VMA cannot be unmapped at teardown (do_munmap() fails):
 * the VMA stays, but its file no longer leads to the freed window.  Mapping
 * that file again (what remap_file_pages() does) is refused.
 */
static int munmap_fails_fn(struct utask *u)
{
	struct att_ctx *c = u->arg;
	struct kunit *test = u->test;
	unsigned long addr;

	KUNIT_EXPECT_EQ(test, as_lw_pool_init(BUFSZ, 0), 0);
	if (expect_ok(test, as_lw_att64(c->lw, 0, PAGE_SIZE, &addr)))
		return -EIO;
	return 0;		/* exits: the teardown's munmap fails */
}

static int munmap_fails_stub(struct mm_struct *mm, unsigned long start,
			     size_t len)
{
	return -ENOMEM;
}

static void test_teardown_munmap_fails(struct kunit *test)
{
	struct att_ctx c = { .len = BUFSZ };
	struct vm_area_struct *vma;
	struct file *file = NULL;
	unsigned long start, len, ret;
	long pins = lw_kunit_pins_outstanding();
	int byte;

	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	c.lw = lw_kunit_attach_dp(test, c.buf, BUFSZ, LW_XMATTACH);
	kunit_activate_static_stub(test, lw_window_munmap, munmap_fails_stub);
	KUNIT_EXPECT_EQ(test, run_user(test, munmap_fails_fn, &c), 0);
	kunit_deactivate_static_stub(test, lw_window_munmap);
	start = last(&seen.destroyed).addr;
	KUNIT_ASSERT_NE(test, start, 0UL);
	/* Nothing holds the descriptor any more. */
	KUNIT_EXPECT_EQ(test, xmdetach(c.lw), 0);
	expect_baseline(test, pins);

	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, start);
	if (vma && vma->vm_file)
		file = get_file(vma->vm_file);
	len = vma ? vma->vm_end - vma->vm_start : 0;
	mmap_read_unlock(current->mm);
	KUNIT_ASSERT_NOT_NULL_MSG(test, file, "the window's VMA went away");
	/* What is left faults, and its file maps nothing any more. */
	KUNIT_EXPECT_EQ(test, uread(start, &byte, 1), -EFAULT);
	ret = vm_mmap(file, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	KUNIT_EXPECT_TRUE(test, IS_ERR_VALUE(ret));
	if (!IS_ERR_VALUE(ret))
		vm_munmap(ret, len);
	fput(file);
}

/* ===== Torture ===== */

struct torture {
	struct att_ctx *c;
	struct xmem *dps;	/* NDPS descriptors over the buffer */
	atomic_t stop;
	atomic_long_t attaches, einval, enomem, bad;
	struct utask *threads;
	int nthreads;
};

#define NDPS	3
#define TORTURE_MS	400

/* A thread: attach and detach random ranges; sometimes leave some. */
static int torture_thread_fn(struct utask *u)
{
	struct torture *t = u->arg;
	unsigned long addr[4];
	size_t off[4], len[4];
	struct xmem *dp[4];
	int n = 0, err;
	u8 byte, want;

	while (!atomic_read(&t->stop)) {
		if (n < 4 && (get_random_u32() & 1)) {
			dp[n] = &t->dps[get_random_u32_below(NDPS)];
			off[n] = get_random_u32_below(BUFSZ - 1);
			len[n] = 1 + get_random_u32_below(BUFSZ - off[n]);
			err = as_lw_att64(dp[n], off[n], len[n], &addr[n]);
			if (!err) {
				atomic_long_inc(&t->attaches);
				/* The buffer's pattern, through the window. */
				want = 1 + off[n] * 7;
				if (uread(addr[n], &byte, 1) || byte != want)
					atomic_long_inc(&t->bad);
				n++;
			} else if (err == -EINVAL) {
				atomic_long_inc(&t->einval);	/* xmdetach()ed */
			} else if (err == -ENOMEM) {
				atomic_long_inc(&t->enomem);
			} else {
				atomic_long_inc(&t->bad);
			}
		} else if (n) {
			n--;
			if (as_lw_det64(dp[n], addr[n], len[n]))
				atomic_long_inc(&t->bad);
		}
		cond_resched();
	}
	/* Half the threads exit with their attachments. */
	if (u->pid & 1)
		while (n--)
			if (as_lw_det64(dp[n], addr[n], len[n]))
				atomic_long_inc(&t->bad);
	return 0;
}

static int torture_fn(struct utask *u)
{
	struct torture *t = u->arg;
	int i, started = 0;

	if (as_lw_pool_init(2 * BUFSZ, 0))
		return -EIO;
	for (i = 0; i < t->nthreads; i++) {
		t->threads[i].test = u->test;
		if (uthread_start(&t->threads[i], torture_thread_fn, t) > 0)
			started++;
	}
	if (started != t->nthreads)
		atomic_long_inc(&t->bad);
	/* Meanwhile, detach and re-attach the descriptors. */
	msleep_interruptible(TORTURE_MS / 2);
	for (i = 0; i < 50; i++) {
		struct xmem *dp = &t->dps[get_random_u32_below(NDPS)];
		int err = xmdetach(dp);

		if (!err)
			err = xmattach(t->c->buf, BUFSZ, dp, LW_XMATTACH);
		else if (err != -EBUSY)
			atomic_long_inc(&t->bad);
		if (err && err != -EBUSY)
			atomic_long_inc(&t->bad);
		usleep_range(1000, 2000);
	}
	atomic_set(&t->stop, 1);
	for (i = 0; i < started; i++)
		wait_for_completion(&t->threads[i].ready);
	return 0;
}

/*
 * Threads attach and detach random ranges of three descriptors while the
 * process detaches and re-attaches them, and half the threads exit with
 * attachments: the bytes are always the descriptor's, every call returns
 * an error it may return, and every pin comes back.
 */
static void test_torture(struct kunit *test)
{
	long pins = lw_kunit_pins_outstanding();
	struct att_ctx c = { .len = BUFSZ };
	struct torture *t;
	int i;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->nthreads = lw_kunit_nthreads(test);
	t->threads = kunit_kcalloc(test, t->nthreads, sizeof(*t->threads),
				   GFP_KERNEL);
	t->dps = kunit_kcalloc(test, NDPS, sizeof(*t->dps), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t->threads);
	KUNIT_ASSERT_NOT_NULL(test, t->dps);
	c.buf = user_buf(test, PROT_READ | PROT_WRITE);
	fill(test, c.buf, BUFSZ, 1);
	t->c = &c;
	for (i = 0; i < NDPS; i++) {
		xmem_init(&t->dps[i]);
		KUNIT_ASSERT_EQ(test, xmattach(c.buf, BUFSZ, &t->dps[i],
					       LW_XMATTACH), 0);
		lw_kunit_detach_at_end(test, &t->dps[i]);
	}
	KUNIT_EXPECT_EQ(test, run_user(test, torture_fn, t), 0);
	wait_windows_gone(test, current->mm);
	/* Every thread's window is gone: the descriptors are free to go. */
	for (i = 0; i < NDPS; i++)
		KUNIT_EXPECT_EQ(test, xmdetach(&t->dps[i]), 0);
	kunit_info(test, "%ld attaches, %ld -EINVAL, %ld -ENOMEM\n",
		   atomic_long_read(&t->attaches), atomic_long_read(&t->einval),
		   atomic_long_read(&t->enomem));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&t->bad), 0L);
	KUNIT_EXPECT_GT(test, atomic_long_read(&t->attaches), 0L);
	expect_baseline(test, pins);
}

static struct kunit_case lw_test_cases[] = {
	KUNIT_CASE(test_pool_init_errors),
	KUNIT_CASE(test_compat_task),
	KUNIT_CASE(test_attach_errors),
	KUNIT_CASE(test_attach_bytes),
	KUNIT_CASE(test_attach_rdonly),
	KUNIT_CASE(test_window_exhaustion),
	KUNIT_CASE(test_dirty_reuse_after_wrap),
	KUNIT_CASE(test_xmdetach_runs_deferred_flush),
	KUNIT_CASE(test_holds),
	KUNIT_CASE(test_lw_debug_leaves_nothing_deferred),
	KUNIT_CASE(test_lw_debug),
	KUNIT_CASE(test_detach_errors),
	KUNIT_CASE(test_thread_exit_cleanup),
	KUNIT_CASE(test_fork_child_inherits_nothing),
	KUNIT_CASE(test_exec_releases_everything),
	KUNIT_CASE(test_window_is_sealed),
	KUNIT_CASE(test_damaged_window),
	KUNIT_CASE(test_window_limits),
	KUNIT_CASE(test_allocations_fail_in_turn),
	KUNIT_CASE(test_window_eintr),
	KUNIT_CASE(test_teardown_flushes_before_unlock),
	KUNIT_CASE(test_teardown_munmap_fails),
	KUNIT_CASE_PARAM(test_torture, lw_kunit_nthreads_gen_params),
	{}
};

static int lw_test_init(struct kunit *test)
{
	lw_kunit_reset(&seen);
	return 0;
}

static int lw_suite_init(struct kunit_suite *suite)
{
	return lw_kunit_register_probes(lw_probes, ARRAY_SIZE(lw_probes));
}

static void lw_suite_exit(struct kunit_suite *suite)
{
	lw_kunit_unregister_probes(lw_probes, ARRAY_SIZE(lw_probes));
}

static struct kunit_suite lw_test_suite = {
	.name = "lw_attach",
	.test_cases = lw_test_cases,
	.init = lw_test_init,
	.suite_init = lw_suite_init,
	.suite_exit = lw_suite_exit,
};

kunit_test_suite(lw_test_suite);

MODULE_DESCRIPTION("KUnit tests for lightweight attach and detach");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
