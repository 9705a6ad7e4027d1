// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the cross-memory descriptors (mm/xmem.c).
 *
 * Each test runs in a KUnit kthread; kunit_vm_mmap() gives it a user mm, so
 * xmattach() sees a real address space and pins real anonymous pages.  Pins
 * are checked on the pages themselves and on the kernel's
 * nr_foll_pin_acquired/released counters; memlock charges on the user's
 * locked_vm and the mm's pinned_vm.  Tracepoint probes registered in
 * suite_init capture the events, as mm/kfence/kfence_test.c does, and are
 * reset before each test.  Descriptors come from lw_kunit_alloc_dp(), which
 * detaches them when the test ends, so a failed assertion leaves nothing
 * pinned.  That scaffolding is lw_kunit.h's, shared with the other suites.
 */

#include <kunit/test.h>
#include <asm/sections.h>
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/xmem.h>
#include <trace/events/xmem.h>

#include "lw_kunit.h"
#include "xmem_internal.h"

#define NPAGES	4
#define BUFSZ	(NPAGES * PAGE_SIZE)

/* ===== Event capture ===== */

struct xmem_event {
	const void *dp;
	unsigned long addr;
	size_t len;
	long arg;		/* segflag, out, or lw_count */
	int err;
	pid_t tgid, pid;
	pid_t owner_tgid, owner_pid;
	int count;
};

static LW_KUNIT_EVENTS(struct xmem_event attach, detach, copy, refused, holder;)
	seen = LW_KUNIT_EVENTS_INIT(seen);

/* Fill in @ev for the current call; seen.lock held. */
static void fill(struct xmem_event *ev, const void *dp, unsigned long addr,
		 size_t len, long arg, int err)
{
	lockdep_assert_held(&seen.lock);
	ev->dp = dp;
	ev->addr = addr;
	ev->len = len;
	ev->arg = arg;
	ev->err = err;
	ev->tgid = current->tgid;
	ev->pid = current->pid;
	ev->count++;
}

static void record(struct xmem_event *ev, const void *dp, unsigned long addr,
		   size_t len, long arg, int err)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	fill(ev, dp, addr, len, arg, err);
	lw_kunit_unlock(&seen.lock, flags);
}

static void probe_attach(void *data, const void *dp, unsigned long addr,
			 size_t len, int segflag, int err)
{
	record(&seen.attach, dp, addr, len, segflag, err);
}

static void probe_detach(void *data, const void *dp, unsigned long addr,
			 size_t len, int segflag, int err)
{
	/*
	 * A refused detach names a descriptor that is still there: look at
	 * it, as a tracer may (KASAN reports it if it was freed).
	 */
	if (err == -EBUSY)
		(void)READ_ONCE(((const struct xmem *)dp)->aspace_id);
	record(&seen.detach, dp, addr, len, segflag, err);
}

static void probe_copy(void *data, const void *dp, unsigned long addr,
		       size_t len, bool out, int err)
{
	record(&seen.copy, dp, addr, len, out, err);
}

/* test_orphan_events_before_free(): the last put, racing the events. */
struct orphan_race {
	struct xmem_obj *obj;
	atomic_t go, done;
};

static struct orphan_race *orphan_race;

static void probe_refused(void *data, const void *dp, unsigned long addr,
			  size_t len, long lw_count, pid_t owner_tgid,
			  pid_t owner_pid)
{
	struct orphan_race *race = xchg(&orphan_race, NULL);
	unsigned long flags = lw_kunit_lock(&seen.lock);
	int ms;

	(void)READ_ONCE(((const struct xmem *)dp)->aspace_id);
	fill(&seen.refused, dp, addr, len, lw_count, 0);
	seen.refused.owner_tgid = owner_tgid;
	seen.refused.owner_pid = owner_pid;
	lw_kunit_unlock(&seen.lock, flags);
	if (!race)
		return;
	/* Let the last attachment go now, and give it a second to finish. */
	atomic_set(&race->go, 1);
	for (ms = 0; ms < 1000 && !atomic_read(&race->done); ms++)
		mdelay(1);
}

/* A holder (owner_tgid/owner_pid, arg: its count), before the refusal. */
static void probe_holder(void *data, const void *dp, pid_t tgid, pid_t pid,
			 long count)
{
	unsigned long flags = lw_kunit_lock(&seen.lock);

	fill(&seen.holder, dp, 0, 0, count, 0);
	seen.holder.owner_tgid = tgid;
	seen.holder.owner_pid = pid;
	/* Refusals seen so far: the holder's must not be among them. */
	seen.holder.err = seen.refused.count;
	lw_kunit_unlock(&seen.lock, flags);
}

static const struct lw_kunit_probe xmem_probes[] = {
	LW_KUNIT_PROBE(xmem_attach, probe_attach),
	LW_KUNIT_PROBE(xmem_detach, probe_detach),
	LW_KUNIT_PROBE(xmem_copy, probe_copy),
	LW_KUNIT_PROBE(xmem_detach_refused, probe_refused),
	LW_KUNIT_PROBE(xmem_detach_holder, probe_holder),
};

static struct xmem_event last(struct xmem_event *ev)
{
	return lw_kunit_read(&seen, *ev);
}

static void expect_event(struct kunit *test, struct xmem_event *ev,
			 const void *dp, unsigned long addr, size_t len,
			 long arg, int err)
{
	struct xmem_event e = last(ev);

	KUNIT_EXPECT_PTR_EQ(test, e.dp, dp);
	KUNIT_EXPECT_EQ(test, e.addr, addr);
	KUNIT_EXPECT_EQ(test, e.len, len);
	KUNIT_EXPECT_EQ(test, e.arg, arg);
	KUNIT_EXPECT_EQ(test, e.err, err);
	KUNIT_EXPECT_EQ(test, e.tgid, current->tgid);
	KUNIT_EXPECT_EQ(test, e.pid, current->pid);
}

/* ===== Helpers ===== */

/* A read-write anonymous mapping of @len bytes, filled with a pattern. */
static unsigned long user_buf(struct kunit *test, size_t len)
{
	unsigned long addr;
	u8 *pattern;
	size_t i;

	addr = kunit_vm_mmap(test, NULL, 0, len, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, addr, 0, "kunit_vm_mmap failed");
	pattern = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	for (i = 0; i < len; i++)
		pattern[i] = i * 7 + 3;
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr, pattern, len), 0);
	return addr;
}

static u8 pattern_at(size_t i)
{
	return i * 7 + 3;
}

static struct xmem_obj *obj_of(struct xmem *dp)
{
	return rcu_dereference_raw(dp->xm_priv);
}

static void expect_free(struct kunit *test, struct xmem *dp)
{
	KUNIT_EXPECT_EQ(test, dp->aspace_id, XMEM_INVAL);
	KUNIT_EXPECT_NULL(test, obj_of(dp));
}

/* ===== xmattach() errors: each returns its code and changes nothing ===== */

static void test_attach_null_descriptor(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);

	KUNIT_EXPECT_EQ(test, xmattach(addr, BUFSZ, NULL, LW_XMATTACH), -EINVAL);
	expect_event(test, &seen.attach, NULL, addr, BUFSZ, LW_XMATTACH, -EINVAL);
}

static void test_attach_descriptor_in_use(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	struct xmem *dp = lw_kunit_alloc_dp(test), before;
	long pins = lw_kunit_pins_outstanding();

	dp->aspace_id = XMEM_PROC;
	dp->vaddr = 0x1234;
	before = *dp;
	KUNIT_EXPECT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), -EBUSY);
	KUNIT_EXPECT_EQ(test, memcmp(dp, &before, sizeof(*dp)), 0);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
	expect_event(test, &seen.attach, dp, addr, BUFSZ, LW_XMATTACH, -EBUSY);

	/* An attached descriptor is in use too. */
	xmem_init(dp);
	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, USER_ADSPACE), 0);
	before = *dp;
	KUNIT_EXPECT_EQ(test, xmattach(addr, PAGE_SIZE, dp, LW_XMATTACH), -EBUSY);
	KUNIT_EXPECT_EQ(test, memcmp(dp, &before, sizeof(*dp)), 0);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
}

static void test_attach_bad_count(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	struct xmem *dp = lw_kunit_alloc_dp(test), before;

	before = *dp;
	KUNIT_EXPECT_EQ(test, xmattach(addr, 0, dp, LW_XMATTACH), -EINVAL);
	KUNIT_EXPECT_EQ(test, memcmp(dp, &before, sizeof(*dp)), 0);
	expect_event(test, &seen.attach, dp, addr, 0, LW_XMATTACH, -EINVAL);

	/* addr + count wraps around the address space. */
	KUNIT_EXPECT_EQ(test, xmattach(addr, -addr + 1, dp, USER_ADSPACE), -EINVAL);
	KUNIT_EXPECT_EQ(test, memcmp(dp, &before, sizeof(*dp)), 0);
}

static void test_attach_bad_segflag(struct kunit *test)
{
	static const int bad[] = { USERI_ADSPACE, UIO_XMEM, 5, -1, 0x104 };
	unsigned long addr = user_buf(test, BUFSZ);
	struct xmem *dp = lw_kunit_alloc_dp(test), before;
	int i;

	before = *dp;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ(test, xmattach(addr, BUFSZ, dp, bad[i]), -EINVAL);
		KUNIT_EXPECT_EQ(test, memcmp(dp, &before, sizeof(*dp)), 0);
		expect_event(test, &seen.attach, dp, addr, BUFSZ, bad[i], -EINVAL);
	}
}

static void test_attach_unmapped_range(struct kunit *test)
{
	unsigned long addr = user_buf(test, 3 * PAGE_SIZE);
	long pins = lw_kunit_pins_outstanding();
	struct xmem *dp = lw_kunit_alloc_dp(test), before;

	/* A hole in the middle of the range. */
	KUNIT_ASSERT_EQ(test, vm_munmap(addr + PAGE_SIZE, PAGE_SIZE), 0);
	before = *dp;
	KUNIT_EXPECT_EQ(test, xmattach(addr, 3 * PAGE_SIZE, dp, LW_XMATTACH), -EFAULT);
	KUNIT_EXPECT_EQ(test, xmattach(addr, 3 * PAGE_SIZE, dp, USER_ADSPACE), -EFAULT);
	/* Past the end of the mapping. */
	KUNIT_EXPECT_EQ(test, xmattach(addr + 2 * PAGE_SIZE, 2 * PAGE_SIZE, dp,
				       LW_XMATTACH), -EFAULT);
	/* Beyond the user address space. */
	KUNIT_EXPECT_EQ(test, xmattach(TASK_SIZE - PAGE_SIZE, 2 * PAGE_SIZE, dp,
				       USER_ADSPACE), -EFAULT);
	KUNIT_EXPECT_EQ(test, memcmp(dp, &before, sizeof(*dp)), 0);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
	expect_event(test, &seen.attach, dp, TASK_SIZE - PAGE_SIZE, 2 * PAGE_SIZE,
		     USER_ADSPACE, -EFAULT);
}

static void test_attach_without_mm(struct kunit *test)
{
	static u8 kbuf[64];
	struct xmem *dp = lw_kunit_alloc_dp(test);

	/* A kthread that never mapped anything has no user address space. */
	KUNIT_ASSERT_NULL(test, current->mm);
	KUNIT_EXPECT_EQ(test, xmattach(0x10000, PAGE_SIZE, dp, USER_ADSPACE), -EFAULT);
	KUNIT_EXPECT_EQ(test, xmattach(0x10000, PAGE_SIZE, dp, LW_XMATTACH), -EFAULT);
	expect_free(test, dp);
	/* Kernel memory needs no mm. */
	KUNIT_EXPECT_EQ(test, xmattach((unsigned long)kbuf, sizeof(kbuf), dp,
				       SYS_ADSPACE), 0);
	KUNIT_EXPECT_EQ(test, dp->aspace_id, XMEM_GLOBAL);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
}

static void test_attach_sys_not_kernel_memory(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	struct xmem *dp = lw_kunit_alloc_dp(test), before;
	void *vbuf;

	before = *dp;
	KUNIT_EXPECT_EQ(test, xmattach(addr, BUFSZ, dp, SYS_ADSPACE), -EFAULT);
	KUNIT_EXPECT_EQ(test, memcmp(dp, &before, sizeof(*dp)), 0);

	/* Running off the end of a vmalloc area. */
	vbuf = vmalloc(2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, vbuf);
	KUNIT_EXPECT_EQ(test, xmattach((unsigned long)vbuf, 2 * PAGE_SIZE, dp,
				       SYS_ADSPACE), 0);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	KUNIT_EXPECT_EQ(test, xmattach((unsigned long)vbuf, 3 * PAGE_SIZE, dp,
				       SYS_ADSPACE), -EFAULT);
	KUNIT_EXPECT_EQ(test, memcmp(dp, &before, sizeof(*dp)), 0);
	vfree(vbuf);
}

static const u8 xmem_test_rodata[64] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static u8 xmem_test_data[3 * 64];

static void test_sys_static_and_readonly_memory(struct kunit *test)
{
	struct xmem *dp = lw_kunit_alloc_dp(test);
	u8 buf[8] = { 0xee };
	int ret;

	/* Static data: the kernel image when built in, module memory as =m. */
	KUNIT_ASSERT_EQ(test, xmattach((unsigned long)xmem_test_data,
				       sizeof(xmem_test_data), dp, SYS_ADSPACE), 0);
	KUNIT_EXPECT_EQ(test, dp->xmemflags, 0);
	KUNIT_EXPECT_EQ(test, xmemout(buf, (unsigned long)xmem_test_data + 70,
				      sizeof(buf), dp), 0);
	KUNIT_EXPECT_EQ(test, xmem_test_data[70], 0xee);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);

	/* Read-only memory: readable, and a write is refused, never an oops. */
	KUNIT_ASSERT_EQ(test, xmattach((unsigned long)xmem_test_rodata,
				       sizeof(xmem_test_rodata), dp, SYS_ADSPACE), 0);
	KUNIT_EXPECT_EQ(test, xmemin((unsigned long)xmem_test_rodata + 2, buf, 4, dp), 0);
	KUNIT_EXPECT_EQ(test, buf[0], 3);
	KUNIT_EXPECT_EQ(test, buf[3], 6);
	ret = xmemout(buf, (unsigned long)xmem_test_rodata, 4, dp);
	KUNIT_EXPECT_TRUE_MSG(test, ret == -EACCES || ret == -EFAULT, "xmemout: %d", ret);
	KUNIT_EXPECT_EQ(test, xmem_test_rodata[0], 1);
	if (is_kernel_rodata((unsigned long)xmem_test_rodata)) {
		KUNIT_EXPECT_EQ(test, dp->xmemflags, XMEM_RDONLY);
		KUNIT_EXPECT_EQ(test, ret, -EACCES);
	}
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
}

/* ===== LW_XMATTACH: pins and the RLIMIT_MEMLOCK charge ===== */

static void test_lw_pins_and_unpins(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ + PAGE_SIZE);
	unsigned long start = addr + 100;	/* straddles NPAGES + 1 pages */
	long pins = lw_kunit_pins_outstanding();
	struct page *pages[NPAGES + 1];
	struct xmem_obj *obj;
	struct xmem *dp = lw_kunit_alloc_dp(test);
	int i;

	KUNIT_ASSERT_EQ(test, xmattach(start, BUFSZ, dp, LW_XMATTACH), 0);
	expect_event(test, &seen.attach, dp, start, BUFSZ, LW_XMATTACH, 0);
	KUNIT_EXPECT_EQ(test, dp->aspace_id, XMEM_PROC);
	KUNIT_EXPECT_EQ(test, dp->xmemflags, XMEM_LW);
	KUNIT_EXPECT_EQ(test, dp->vaddr, start);
	KUNIT_EXPECT_EQ(test, dp->xm_len, BUFSZ);
	KUNIT_EXPECT_EQ(test, dp->num_sids, 1);
	KUNIT_EXPECT_EQ(test, dp->l2psize, PAGE_SHIFT);

	obj = obj_of(dp);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	KUNIT_ASSERT_EQ(test, obj->nr_pages, NPAGES + 1);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins + NPAGES + 1);
	for (i = 0; i <= NPAGES; i++) {
		pages[i] = obj->pages[i];
		KUNIT_EXPECT_TRUE(test, folio_maybe_dma_pinned(page_folio(pages[i])));
	}

	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	expect_event(test, &seen.detach, dp, start, BUFSZ, LW_XMATTACH, 0);
	expect_free(test, dp);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
	/* Still mapped in the test's mm, so still allocated: no pin left. */
	for (i = 0; i <= NPAGES; i++)
		KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(pages[i])));
}

static void test_usr_does_not_pin(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	long pins = lw_kunit_pins_outstanding();
	struct xmem *dp = lw_kunit_alloc_dp(test);

	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, USER_ADSPACE), 0);
	KUNIT_EXPECT_EQ(test, dp->aspace_id, XMEM_PROC);
	KUNIT_EXPECT_EQ(test, dp->xmemflags, 0);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm), 0);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	expect_free(test, dp);
}

static void test_lw_memlock_charge_returned(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	struct user_struct *user = current_user();
	struct xmem *dp = lw_kunit_alloc_dp(test);
	/* No ASSERT from here to revert_creds(). */
	const struct cred *old = lw_kunit_drop_ipc_lock(test);
	long locked = atomic_long_read(&user->locked_vm);

	lw_kunit_set_memlock_limit((locked + NPAGES) << PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&user->locked_vm), locked + NPAGES);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm), NPAGES);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&user->locked_vm), locked);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm), 0);
	revert_creds(old);
}

static void test_lw_memlock_over_limit(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	struct user_struct *user = current_user();
	struct xmem *dp = lw_kunit_alloc_dp(test), before;
	struct xmem *dp2 = lw_kunit_alloc_dp(test);
	/* No ASSERT from here to revert_creds(). */
	const struct cred *old = lw_kunit_drop_ipc_lock(test);
	long locked = atomic_long_read(&user->locked_vm);
	long pins = lw_kunit_pins_outstanding();

	lw_kunit_set_memlock_limit((locked + NPAGES - 1) << PAGE_SHIFT);
	before = *dp;
	KUNIT_EXPECT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), -ENOMEM);
	KUNIT_EXPECT_EQ(test, memcmp(dp, &before, sizeof(*dp)), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&user->locked_vm), locked);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm), 0);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
	expect_event(test, &seen.attach, dp, addr, BUFSZ, LW_XMATTACH, -ENOMEM);

	/* The limit is cumulative over the user's descriptors. */
	KUNIT_EXPECT_EQ(test, xmattach(addr, BUFSZ - PAGE_SIZE, dp, LW_XMATTACH), 0);
	KUNIT_EXPECT_EQ(test, xmattach(addr, PAGE_SIZE, dp2, LW_XMATTACH), -ENOMEM);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	KUNIT_EXPECT_EQ(test, xmattach(addr, PAGE_SIZE, dp2, LW_XMATTACH), 0);
	KUNIT_EXPECT_EQ(test, xmdetach(dp2), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&user->locked_vm), locked);
	revert_creds(old);
}

static void test_lw_cap_ipc_lock_not_charged(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	struct user_struct *user = current_user();
	long locked = atomic_long_read(&user->locked_vm);
	struct xmem *dp = lw_kunit_alloc_dp(test);

	/* KUnit threads run with full capabilities. */
	KUNIT_ASSERT_TRUE(test, capable(CAP_IPC_LOCK));
	lw_kunit_set_memlock_limit(0);
	KUNIT_EXPECT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&user->locked_vm), locked);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm), NPAGES);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm), 0);
}

static void test_lw_readonly_range(struct kunit *test)
{
	unsigned long addr;
	u8 buf[16], zero[16] = { };
	struct xmem *dp = lw_kunit_alloc_dp(test);

	addr = kunit_vm_mmap(test, NULL, 0, BUFSZ, PROT_READ,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE(test, addr, 0);
	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), 0);
	KUNIT_EXPECT_EQ(test, dp->xmemflags, XMEM_LW | XMEM_RDONLY);
	KUNIT_EXPECT_EQ(test, xmemin(addr + PAGE_SIZE - 8, buf, sizeof(buf), dp), 0);
	KUNIT_EXPECT_EQ(test, memcmp(buf, zero, sizeof(buf)), 0);
	KUNIT_EXPECT_EQ(test, xmemout(buf, addr, sizeof(buf), dp), -EACCES);
	expect_event(test, &seen.copy, dp, addr, sizeof(buf), true, -EACCES);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);

	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, USER_ADSPACE), 0);
	KUNIT_EXPECT_EQ(test, dp->xmemflags, XMEM_RDONLY);
	KUNIT_EXPECT_EQ(test, xmemout(buf, addr, sizeof(buf), dp), -EACCES);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
}

/*
 * A fatal signal while pinning: gup-fast pins the one present page, the slow
 * path then sees SIGKILL.  The partial pin must be undone exactly.
 */
static void test_lw_fatal_signal_unwinds(struct kunit *test)
{
	struct xmem *dp = lw_kunit_alloc_dp(test), before;
	unsigned long addr;
	long pins;
	u8 b = 1;
	int ret;

	addr = kunit_vm_mmap(test, NULL, 0, BUFSZ, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE(test, addr, 0);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr, &b, 1), 0);
	pins = lw_kunit_pins_outstanding();
	before = *dp;

	allow_signal(SIGKILL);
	send_sig(SIGKILL, current, 1);
	ret = xmattach(addr, BUFSZ, dp, LW_XMATTACH);
	flush_signals(current);
	disallow_signal(SIGKILL);

	KUNIT_EXPECT_EQ(test, ret, -EINTR);
	KUNIT_EXPECT_EQ(test, memcmp(dp, &before, sizeof(*dp)), 0);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm), 0);
}

/*
 * Running out of memory after the charge: a 1 TiB read-only mapping needs a
 * page array larger than kvmalloc() allows.  The charge must come back.
 */
static void test_lw_enomem_unwinds_charge(struct kunit *test)
{
	struct xmem *dp = lw_kunit_alloc_dp(test), before;
	unsigned long addr, len = 1UL << 40;

	addr = kunit_vm_mmap(test, NULL, 0, len, PROT_READ,
			     MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, 0);
	KUNIT_ASSERT_TRUE(test, addr && !IS_ERR_VALUE(addr));
	before = *dp;
	KUNIT_EXPECT_EQ(test, xmattach(addr, len, dp, LW_XMATTACH), -ENOMEM);
	KUNIT_EXPECT_EQ(test, memcmp(dp, &before, sizeof(*dp)), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm), 0);
	expect_event(test, &seen.attach, dp, addr, len, LW_XMATTACH, -ENOMEM);
}

/*
 * An owner that goes away does not free the pages its descriptor pins: a
 * kthread maps a buffer in its own mm, attaches it (LW_XMATTACH and
 * USER_ADSPACE), unmaps part of it and exits, which tears its mm down.  The
 * pinned pages must still hold the data; the USER_ADSPACE descriptor, which
 * pins nothing, must fail cleanly once the mm is gone.
 */
struct owner_ctx {
	struct kunit *test;
	struct completion attached;
	struct xmem dp;		/* LW_XMATTACH, range unmapped before exit */
	struct xmem udp;	/* USER_ADSPACE, mm torn down at exit */
	unsigned long addr;
	int ret, uret;
};

static int owner_fn(void *arg)
{
	struct owner_ctx *ctx = arg;
	u8 page[64];
	size_t i, off;

	ctx->ret = -ENOMEM;
	ctx->addr = kunit_vm_mmap(ctx->test, NULL, 0, BUFSZ, PROT_READ | PROT_WRITE,
				  MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (!ctx->addr)
		goto out;
	ctx->ret = -EFAULT;
	for (off = 0; off < BUFSZ; off += sizeof(page)) {
		for (i = 0; i < sizeof(page); i++)
			page[i] = pattern_at(off + i);
		if (copy_to_user((void __user *)ctx->addr + off, page, sizeof(page)))
			goto out;
	}
	ctx->ret = xmattach(ctx->addr + 1, BUFSZ - 1, &ctx->dp, LW_XMATTACH);
	ctx->uret = xmattach(ctx->addr, BUFSZ, &ctx->udp, USER_ADSPACE);
	vm_munmap(ctx->addr, PAGE_SIZE);
out:
	complete(&ctx->attached);
	return 0;
}

static void test_lw_pages_outlive_owner(struct kunit *test)
{
	struct owner_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	unsigned long timeout = jiffies + 10 * HZ;
	long pins = lw_kunit_pins_outstanding();
	struct task_struct *owner;
	struct mm_struct *mm;
	u8 *buf;
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	buf = kunit_kmalloc(test, BUFSZ, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	ctx->test = test;
	init_completion(&ctx->attached);
	xmem_init(&ctx->dp);
	xmem_init(&ctx->udp);
	owner = kthread_create(owner_fn, ctx, "xmem-owner");
	KUNIT_ASSERT_FALSE(test, IS_ERR(owner));
	get_task_struct(owner);
	wake_up_process(owner);
	wait_for_completion(&ctx->attached);
	kthread_stop(owner);		/* waits for it to exit */
	put_task_struct(owner);

	KUNIT_EXPECT_EQ(test, ctx->uret, 0);
	KUNIT_ASSERT_EQ(test, ctx->ret, 0);
	/* The mm is gone once its last user is (exit_mm() runs after exited). */
	mm = obj_of(&ctx->dp)->mm;
	while (atomic_read(&mm->mm_users) && time_before(jiffies, timeout))
		usleep_range(1000, 2000);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_users), 0);

	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins + NPAGES);
	KUNIT_EXPECT_EQ(test, xmemin(ctx->addr + 1, buf, BUFSZ - 1, &ctx->dp), 0);
	for (i = 0; i < BUFSZ - 1; i++)
		if (buf[i] != pattern_at(i + 1))
			break;
	KUNIT_EXPECT_EQ(test, i, BUFSZ - 1);
	KUNIT_EXPECT_EQ(test, xmdetach(&ctx->dp), 0);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);

	if (!ctx->uret) {
		KUNIT_EXPECT_EQ(test, xmemin(ctx->addr + PAGE_SIZE, buf, 1, &ctx->udp),
				-EFAULT);
		KUNIT_EXPECT_EQ(test, xmemout(buf, ctx->addr + PAGE_SIZE, 1, &ctx->udp),
				-EFAULT);
		KUNIT_EXPECT_EQ(test, xmdetach(&ctx->udp), 0);
	}
}

/* ===== xmdetach() ===== */

static void test_detach_not_attached(struct kunit *test)
{
	struct xmem *dp = lw_kunit_alloc_dp(test);

	KUNIT_EXPECT_EQ(test, xmdetach(NULL), -EINVAL);
	expect_event(test, &seen.detach, NULL, 0, 0, -1, -EINVAL);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), -EINVAL);
	expect_event(test, &seen.detach, dp, 0, 0, -1, -EINVAL);
	expect_free(test, dp);
}

static void test_detach_twice(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	struct xmem *dp = lw_kunit_alloc_dp(test);

	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), 0);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), -EINVAL);
	expect_free(test, dp);
}

static void test_reuse_after_detach(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	static const int segflags[] = { LW_XMATTACH, USER_ADSPACE, LW_XMATTACH };
	u8 b;
	struct xmem *dp = lw_kunit_alloc_dp(test);
	int i;

	for (i = 0; i < ARRAY_SIZE(segflags); i++) {
		KUNIT_ASSERT_EQ(test, xmattach(addr + i, BUFSZ - i, dp, segflags[i]), 0);
		KUNIT_EXPECT_EQ(test, xmemin(addr + i, &b, 1, dp), 0);
		KUNIT_EXPECT_EQ(test, b, pattern_at(i));
		KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
		expect_free(test, dp);
	}
}

static void test_detach_busy_while_lw_attached(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	long pins = lw_kunit_pins_outstanding();
	struct xmem_obj *obj, *obj2;
	struct xmem *dp = lw_kunit_alloc_dp(test), before;
	int refused;
	u8 b;

	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), 0);
	obj = xmem_lw_get(dp);
	KUNIT_ASSERT_FALSE(test, IS_ERR(obj));
	obj2 = xmem_lw_get(dp);
	KUNIT_ASSERT_PTR_EQ(test, obj2, obj);

	before = *dp;
	refused = last(&seen.refused).count;
	KUNIT_EXPECT_EQ(test, xmdetach(dp), -EBUSY);
	KUNIT_EXPECT_EQ(test, memcmp(dp, &before, sizeof(*dp)), 0);
	KUNIT_EXPECT_EQ(test, last(&seen.refused).count, refused + 1);
	expect_event(test, &seen.refused, dp, addr, BUFSZ, 2, 0);
	KUNIT_EXPECT_EQ(test, last(&seen.refused).owner_tgid, current->tgid);
	KUNIT_EXPECT_EQ(test, last(&seen.refused).owner_pid, current->pid);
	/* Counted without a hold: no thread to name. */
	KUNIT_EXPECT_EQ(test, last(&seen.holder).count, 0);
	expect_event(test, &seen.detach, dp, addr, BUFSZ, LW_XMATTACH, -EBUSY);
	/* Still attached, still pinned, still usable. */
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins + NPAGES);
	KUNIT_EXPECT_EQ(test, xmemin(addr + 5, &b, 1, dp), 0);
	KUNIT_EXPECT_EQ(test, b, pattern_at(5));

	xmem_lw_put(obj2);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), -EBUSY);
	expect_event(test, &seen.refused, dp, addr, BUFSZ, 1, 0);
	xmem_lw_put(obj);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
	/* A detached descriptor takes no new attachment. */
	KUNIT_EXPECT_EQ(test, PTR_ERR(xmem_lw_get(dp)), -EINVAL);
}

static void test_lw_get_needs_lw_descriptor(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	static u8 kbuf[32];
	struct xmem *dp = lw_kunit_alloc_dp(test);

	KUNIT_EXPECT_EQ(test, PTR_ERR(xmem_lw_get(dp)), -EINVAL);
	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, USER_ADSPACE), 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(xmem_lw_get(dp)), -EINVAL);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	KUNIT_ASSERT_EQ(test, xmattach((unsigned long)kbuf, sizeof(kbuf), dp,
				       SYS_ADSPACE), 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(xmem_lw_get(dp)), -EINVAL);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
}

struct test_flush {
	struct xmem_flush flush;
	struct page *page;
	int runs;
	bool pinned_when_run;
};

static void test_flush_fn(struct xmem_flush *flush)
{
	struct test_flush *tf = container_of(flush, struct test_flush, flush);

	tf->runs++;
	tf->pinned_when_run = folio_maybe_dma_pinned(page_folio(tf->page));
}

static void test_deferred_flush_runs_before_unpin(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	struct xmem *dp = lw_kunit_alloc_dp(test);
	struct test_flush a = { }, b = { };
	struct xmem_obj *obj;

	xmem_flush_init(&a.flush, test_flush_fn);
	xmem_flush_init(&b.flush, test_flush_fn);
	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), 0);
	obj = xmem_lw_get(dp);
	KUNIT_ASSERT_FALSE(test, IS_ERR(obj));
	a.page = obj->pages[0];
	b.page = obj->pages[0];
	KUNIT_EXPECT_EQ(test, xmem_flush_defer(obj, &a.flush), 0);
	KUNIT_EXPECT_EQ(test, xmem_flush_defer(obj, &a.flush), 0);	/* once */
	KUNIT_EXPECT_EQ(test, xmem_flush_defer(obj, &b.flush), 0);
	KUNIT_EXPECT_TRUE(test, xmem_flush_cancel(&b.flush));
	KUNIT_EXPECT_FALSE(test, xmem_flush_cancel(&b.flush));
	KUNIT_EXPECT_NULL(test, b.flush.obj);
	/* descriptor + attachment + a's registration */
	KUNIT_EXPECT_EQ(test, kref_read(&obj->ref), 3);
	xmem_lw_put(obj);

	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	KUNIT_EXPECT_EQ(test, a.runs, 1);
	KUNIT_EXPECT_TRUE(test, a.pinned_when_run);
	KUNIT_EXPECT_EQ(test, b.runs, 0);
	KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(a.page)));
	/* a's registration keeps the released object alive until cancelled. */
	KUNIT_EXPECT_PTR_EQ(test, a.flush.obj, obj);
	KUNIT_EXPECT_EQ(test, kref_read(&obj->ref), 1);
	KUNIT_EXPECT_EQ(test, obj->state, XMEM_OBJ_DETACHED);
	KUNIT_EXPECT_NULL(test, obj->pages);
	KUNIT_EXPECT_FALSE(test, xmem_flush_cancel(&a.flush));	/* it ran */
	KUNIT_EXPECT_EQ(test, a.runs, 1);
	KUNIT_EXPECT_NULL(test, a.flush.obj);
}

/* ===== /dev/xmem's helpers: read-only on request, orphaned descriptors ===== */

static void test_lw_rdonly_on_request(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	long pins = lw_kunit_pins_outstanding();
	struct xmem *dp = lw_kunit_alloc_dp(test);
	u8 b = 0;

	KUNIT_ASSERT_EQ(test, xmem_attach_lw(addr, BUFSZ, dp, true), 0);
	expect_event(test, &seen.attach, dp, addr, BUFSZ, LW_XMATTACH, 0);
	KUNIT_EXPECT_EQ(test, dp->xmemflags, XMEM_LW | XMEM_RDONLY);
	KUNIT_EXPECT_FALSE(test, obj_of(dp)->writable);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins + NPAGES);
	KUNIT_EXPECT_EQ(test, xmemin(addr + 5, &b, 1, dp), 0);
	KUNIT_EXPECT_EQ(test, b, pattern_at(5));
	KUNIT_EXPECT_EQ(test, xmemout(&b, addr, 1, dp), -EACCES);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);

	/* Not asked for: the same writable range gives a writable descriptor. */
	KUNIT_ASSERT_EQ(test, xmem_attach_lw(addr, BUFSZ, dp, false), 0);
	KUNIT_EXPECT_EQ(test, dp->xmemflags, XMEM_LW);
	KUNIT_EXPECT_TRUE(test, obj_of(dp)->writable);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	/* xmattach()'s errors, and nothing changed. */
	KUNIT_EXPECT_EQ(test, xmem_attach_lw(addr, 0, dp, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, xmem_attach_lw(PAGE_SIZE, BUFSZ, dp, true), -EFAULT);
	expect_free(test, dp);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
}

static struct {
	struct xmem *dp;
	int calls;
	long pins;
} orphan_released;

static void orphan_release(struct xmem *dp)
{
	orphan_released.dp = dp;
	orphan_released.calls++;
	orphan_released.pins = lw_kunit_pins_outstanding();
}

static void test_orphan_idle_detaches_now(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	long pins = lw_kunit_pins_outstanding();
	struct xmem *dp = lw_kunit_alloc_dp(test);

	memset(&orphan_released, 0, sizeof(orphan_released));
	KUNIT_EXPECT_EQ(test, xmem_detach_orphan(dp, orphan_release), -EINVAL);
	KUNIT_EXPECT_EQ(test, xmem_detach_orphan(NULL, orphan_release), -EINVAL);
	KUNIT_EXPECT_EQ(test, orphan_released.calls, 0);

	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), 0);
	KUNIT_EXPECT_EQ(test, xmem_lw_count(dp), 0);
	KUNIT_EXPECT_EQ(test, xmem_detach_orphan(dp, orphan_release), 0);
	expect_event(test, &seen.detach, dp, addr, BUFSZ, LW_XMATTACH, 0);
	KUNIT_EXPECT_EQ(test, orphan_released.calls, 1);
	KUNIT_EXPECT_PTR_EQ(test, orphan_released.dp, dp);
	KUNIT_EXPECT_EQ(test, orphan_released.pins, pins);
	expect_free(test, dp);
	KUNIT_EXPECT_EQ(test, xmem_lw_count(dp), -EINVAL);
}

/*
 * The last close of a /dev/xmem descriptor while attached: refused as
 * xmdetach() refuses, then completed by the last xmem_lw_put(), which runs
 * the deferred flushes while the pages are still pinned, unpins them and
 * only then calls the release callback.
 */
static void test_orphan_released_by_last_detach(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	long pins = lw_kunit_pins_outstanding();
	struct xmem *dp = lw_kunit_alloc_dp(test);
	struct xmem_obj *obj, *obj2;
	struct test_flush f = { };
	int refused;

	memset(&orphan_released, 0, sizeof(orphan_released));
	xmem_flush_init(&f.flush, test_flush_fn);
	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), 0);
	obj = xmem_lw_get(dp);
	KUNIT_ASSERT_FALSE(test, IS_ERR(obj));
	obj2 = xmem_lw_get(dp);
	KUNIT_ASSERT_FALSE(test, IS_ERR(obj2));
	f.page = obj->pages[0];
	KUNIT_EXPECT_EQ(test, xmem_flush_defer(obj, &f.flush), 0);
	KUNIT_EXPECT_EQ(test, xmem_lw_count(dp), 2);

	refused = last(&seen.refused).count;
	KUNIT_EXPECT_EQ(test, xmem_detach_orphan(dp, orphan_release), -EBUSY);
	KUNIT_EXPECT_EQ(test, last(&seen.refused).count, refused + 1);
	expect_event(test, &seen.refused, dp, addr, BUFSZ, 2, 0);
	expect_event(test, &seen.detach, dp, addr, BUFSZ, LW_XMATTACH, -EBUSY);
	KUNIT_EXPECT_EQ(test, orphan_released.calls, 0);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins + NPAGES);
	/* Handed over: no new attachment, and xmdetach() has nothing to take. */
	KUNIT_EXPECT_EQ(test, PTR_ERR(xmem_lw_get(dp)), -EINVAL);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), -EINVAL);
	KUNIT_EXPECT_EQ(test, last(&seen.refused).count, refused + 1);
	KUNIT_EXPECT_EQ(test, xmem_detach_orphan(dp, orphan_release), -EINVAL);

	xmem_lw_put(obj2);
	KUNIT_EXPECT_EQ(test, orphan_released.calls, 0);
	KUNIT_EXPECT_EQ(test, f.runs, 0);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins + NPAGES);
	xmem_lw_put(obj);
	KUNIT_EXPECT_EQ(test, f.runs, 1);
	KUNIT_EXPECT_TRUE(test, f.pinned_when_run);
	KUNIT_EXPECT_EQ(test, orphan_released.calls, 1);
	KUNIT_EXPECT_PTR_EQ(test, orphan_released.dp, dp);
	KUNIT_EXPECT_EQ(test, orphan_released.pins, pins);
	expect_event(test, &seen.detach, dp, addr, BUFSZ, LW_XMATTACH, 0);
	expect_free(test, dp);
	KUNIT_EXPECT_FALSE(test, xmem_flush_cancel(&f.flush));	/* it ran */
	KUNIT_EXPECT_NULL(test, f.flush.obj);
}

static void orphan_kfree(struct xmem *dp)
{
	orphan_released.calls++;
	kfree(dp);
}

static int orphan_last_put_fn(void *arg)
{
	struct orphan_race *race = arg;

	while (!atomic_read(&race->go))
		usleep_range(1000, 2000);
	xmem_lw_put(race->obj);		/* completes the detach: frees dp */
	atomic_set(&race->done, 1);
	return 0;
}

/*
 * The owner lets go of a descriptor whose last attachment ends at that very
 * moment: the detach that ends it frees the descriptor.  The events of the
 * refused xmdetach() (detach_refused, and xmem_detach with -EBUSY) name the
 * descriptor; they must be emitted while it is certainly still there.  The
 * probes look at it (KASAN would report a freed one) and, on the refused
 * event, let the last put run for up to a second first.
 */
static void test_orphan_events_before_free(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	struct orphan_race race = { };
	struct task_struct *t;
	struct xmem *dp;

	dp = kzalloc(sizeof(*dp), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dp);
	xmem_init(dp);
	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), 0);
	race.obj = xmem_lw_get(dp);
	KUNIT_ASSERT_FALSE(test, IS_ERR(race.obj));
	t = kthread_run(orphan_last_put_fn, &race, "orphan_put");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	memset(&orphan_released, 0, sizeof(orphan_released));
	WRITE_ONCE(orphan_race, &race);
	KUNIT_EXPECT_EQ(test, xmem_detach_orphan(dp, orphan_kfree), -EBUSY);
	WRITE_ONCE(orphan_race, NULL);
	atomic_set(&race.go, 1);	/* if the probe did not run */
	while (!atomic_read(&race.done))
		usleep_range(1000, 2000);
	KUNIT_EXPECT_EQ(test, orphan_released.calls, 1);
	KUNIT_EXPECT_EQ(test, last(&seen.refused).count, 1);
	KUNIT_EXPECT_EQ(test, last(&seen.detach).count, 2);
}

/* ===== Holds: an attachment count parked between attachments ===== */

/* A hold on @dp's object, made as lw_att64() makes one. */
static void hold_make(struct kunit *test, struct xmem_hold *hold,
		      struct xmem *dp)
{
	struct xmem_obj *obj = xmem_lw_get(dp);

	KUNIT_ASSERT_FALSE(test, IS_ERR(obj));
	xmem_hold_adopt(hold, obj);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hold->count), 1L);
}

/*
 * A hold counts its attachments as they come and go, stays parked after
 * the last, and a parked hold keeps nothing attached: xmdetach() revokes
 * it, and a revoked hold takes no attachment, not even of the same
 * descriptor attached again.
 */
static void test_hold_parks_and_xmdetach_revokes(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	long pins = lw_kunit_pins_outstanding();
	struct xmem *dp = lw_kunit_alloc_dp(test);
	struct xmem_event holder;
	struct xmem_hold hold;
	struct xmem_obj *obj;

	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), 0);
	hold_make(test, &hold, dp);
	obj = hold.obj;
	KUNIT_EXPECT_EQ(test, xmem_lw_count(dp), 1L);
	KUNIT_EXPECT_TRUE(test, xmem_hold_again(&hold, dp));
	KUNIT_EXPECT_EQ(test, xmem_lw_count(dp), 2L);
	KUNIT_EXPECT_EQ(test, obj->lw_count, 1L);	/* one for the hold */
	/* Counting attachments: refused, with their number and holder. */
	KUNIT_EXPECT_EQ(test, xmdetach(dp), -EBUSY);
	expect_event(test, &seen.refused, dp, addr, BUFSZ, 2, 0);
	holder = last(&seen.holder);
	KUNIT_EXPECT_EQ(test, holder.count, 1);
	KUNIT_EXPECT_PTR_EQ(test, holder.dp, (const void *)dp);
	KUNIT_EXPECT_EQ(test, holder.arg, 2L);
	KUNIT_EXPECT_EQ(test, holder.owner_tgid, current->tgid);
	KUNIT_EXPECT_EQ(test, holder.owner_pid, current->pid);
	KUNIT_EXPECT_EQ(test, holder.err, last(&seen.refused).count - 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hold.count), 2L);

	xmem_hold_put(&hold);
	xmem_hold_put(&hold);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hold.count), 0L);	/* parked */
	KUNIT_EXPECT_EQ(test, xmem_lw_count(dp), 0L);
	KUNIT_EXPECT_EQ(test, obj->lw_count, 1L);
	KUNIT_EXPECT_TRUE(test, xmem_hold_again(&hold, dp));	/* unparked */
	KUNIT_EXPECT_EQ(test, xmem_lw_count(dp), 1L);
	xmem_hold_put(&hold);

	/* Parked: xmdetach() takes it back and detaches, naming no holder. */
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	KUNIT_EXPECT_EQ(test, last(&seen.holder).count, 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hold.count), XMEM_HOLD_REVOKED);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
	KUNIT_EXPECT_EQ(test, obj->lw_count, 0L);
	KUNIT_EXPECT_TRUE(test, list_empty(&obj->holds));
	KUNIT_EXPECT_FALSE(test, xmem_hold_again(&hold, dp));
	/* The same descriptor attached again names another object. */
	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), 0);
	KUNIT_EXPECT_FALSE(test, xmem_hold_again(&hold, dp));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hold.count), XMEM_HOLD_REVOKED);
	KUNIT_EXPECT_EQ(test, xmem_lw_count(dp), 0L);
	/* The hold's reference is the last one on the old object. */
	KUNIT_EXPECT_EQ(test, kref_read(&obj->ref), 1);
	xmem_hold_free(&hold);
	KUNIT_EXPECT_NULL(test, hold.obj);

	/* Freed while parked: its count goes with it. */
	hold_make(test, &hold, dp);
	xmem_hold_put(&hold);
	obj = hold.obj;
	KUNIT_EXPECT_EQ(test, obj->lw_count, 1L);
	xmem_hold_free(&hold);
	KUNIT_EXPECT_EQ(test, obj->lw_count, 0L);
	KUNIT_EXPECT_TRUE(test, list_empty(&obj->holds));
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
}

/*
 * The last close of a /dev/xmem descriptor (xmem_detach_orphan()) with a
 * hold on it: a parked hold does not keep it, a counting one does until
 * its last attachment ends, and that end completes the detach.
 */
static void test_hold_and_orphan(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	long pins = lw_kunit_pins_outstanding();
	struct xmem *dp = lw_kunit_alloc_dp(test);
	struct xmem_hold hold;

	memset(&orphan_released, 0, sizeof(orphan_released));
	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), 0);
	hold_make(test, &hold, dp);
	xmem_hold_put(&hold);
	KUNIT_EXPECT_EQ(test, xmem_detach_orphan(dp, orphan_release), 0);
	KUNIT_EXPECT_EQ(test, orphan_released.calls, 1);
	KUNIT_EXPECT_EQ(test, orphan_released.pins, pins);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hold.count), XMEM_HOLD_REVOKED);
	xmem_hold_free(&hold);

	memset(&orphan_released, 0, sizeof(orphan_released));
	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, LW_XMATTACH), 0);
	hold_make(test, &hold, dp);
	KUNIT_EXPECT_EQ(test, xmem_detach_orphan(dp, orphan_release), -EBUSY);
	expect_event(test, &seen.refused, dp, addr, BUFSZ, 1, 0);
	KUNIT_EXPECT_EQ(test, orphan_released.calls, 0);
	/* Orphaned: no new attachment through the hold either. */
	KUNIT_EXPECT_FALSE(test, xmem_hold_again(&hold, dp));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hold.count), 1L);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins + NPAGES);
	xmem_hold_put(&hold);	/* the last: revoked, not parked */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hold.count), XMEM_HOLD_REVOKED);
	KUNIT_EXPECT_EQ(test, orphan_released.calls, 1);
	KUNIT_EXPECT_PTR_EQ(test, orphan_released.dp, dp);
	KUNIT_EXPECT_EQ(test, orphan_released.pins, pins);
	expect_event(test, &seen.detach, dp, addr, BUFSZ, LW_XMATTACH, 0);
	xmem_hold_free(&hold);
	expect_free(test, dp);
}

/*
 * xmdetach() racing with lightweight attachments: getter threads take and
 * drop attachments in a loop while the test detaches and re-attaches the
 * descriptor.  An attachment must only ever be granted on a live, pinned
 * descriptor, xmdetach() must only succeed with none outstanding, and every
 * pin must come back.  Parameterised by thread count, as kcsan_test does.
 */
struct race_ctx {
	struct xmem dp;
	atomic_long_t gets;
	atomic_long_t misses;
	atomic_t bad;
};

static int race_getter(void *arg)
{
	struct race_ctx *ctx = arg;
	struct xmem_obj *obj;

	while (!kthread_should_stop()) {
		obj = xmem_lw_get(&ctx->dp);
		if (IS_ERR(obj)) {
			atomic_long_inc(&ctx->misses);
		} else {
			if (READ_ONCE(obj->state) != XMEM_OBJ_LIVE ||
			    !folio_maybe_dma_pinned(page_folio(obj->pages[0])))
				atomic_inc(&ctx->bad);
			atomic_long_inc(&ctx->gets);
			xmem_lw_put(obj);
		}
		cond_resched();
	}
	return 0;
}

/* As race_getter(), counting through a hold parked between attachments. */
static int race_holder(void *arg)
{
	struct race_ctx *ctx = arg;
	struct xmem_hold hold = { };
	struct xmem_obj *obj;

	while (!kthread_should_stop()) {
		if (!hold.obj || !xmem_hold_again(&hold, &ctx->dp)) {
			if (hold.obj)
				xmem_hold_free(&hold);
			obj = xmem_lw_get(&ctx->dp);
			if (IS_ERR(obj)) {
				atomic_long_inc(&ctx->misses);
				cond_resched();
				continue;
			}
			xmem_hold_adopt(&hold, obj);
		}
		obj = hold.obj;
		if (READ_ONCE(obj->state) != XMEM_OBJ_LIVE ||
		    !folio_maybe_dma_pinned(page_folio(obj->pages[0])))
			atomic_inc(&ctx->bad);
		atomic_long_inc(&ctx->gets);
		xmem_hold_put(&hold);
		cond_resched();
	}
	if (hold.obj)
		xmem_hold_free(&hold);
	return 0;
}

#define RACE_ROUNDS	16

static void detach_races(struct kunit *test, int (*getter)(void *arg))
{
	long i, n = lw_kunit_nthreads(test), busy = 0;
	unsigned long addr = user_buf(test, BUFSZ);
	long pins = lw_kunit_pins_outstanding();
	struct task_struct **threads;
	struct race_ctx *ctx;
	int round, ret;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	threads = kunit_kcalloc(test, n, sizeof(*threads), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_NOT_NULL(test, threads);
	xmem_init(&ctx->dp);
	for (i = 0; i < n; i++) {
		threads[i] = kthread_run(getter, ctx, "xmem-race/%ld", i);
		if (IS_ERR(threads[i]))
			break;
	}
	KUNIT_EXPECT_EQ(test, i, n);
	/* No ASSERT until the threads are stopped: they use @ctx. */
	for (round = 0; i == n && round < RACE_ROUNDS; round++) {
		long seen_gets = atomic_long_read(&ctx->gets);
		unsigned long timeout = jiffies + 2 * HZ;

		ret = xmattach(addr, BUFSZ, &ctx->dp, LW_XMATTACH);
		KUNIT_EXPECT_EQ(test, ret, 0);
		if (ret)
			break;
		/* Let the getters find it attached before detaching. */
		while (atomic_long_read(&ctx->gets) < seen_gets + 8 &&
		       time_before(jiffies, timeout))
			cond_resched();
		timeout = jiffies + 10 * HZ;
		while ((ret = xmdetach(&ctx->dp)) == -EBUSY &&
		       time_before(jiffies, timeout)) {
			busy++;
			cond_resched();
		}
		KUNIT_EXPECT_EQ(test, ret, 0);
	}
	while (i--)
		kthread_stop(threads[i]);

	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->bad), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&ctx->gets), 0);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
	expect_free(test, &ctx->dp);
	if (ctx->dp.aspace_id != XMEM_INVAL)
		xmdetach(&ctx->dp);	/* after a failure: leave nothing pinned */
	kunit_info(test, "%d rounds: %ld attachments, %ld refused on detached, %ld xmdetach -EBUSY\n",
		   RACE_ROUNDS, atomic_long_read(&ctx->gets),
		   atomic_long_read(&ctx->misses), busy);
}

static void test_detach_races_lw_attach(struct kunit *test)
{
	detach_races(test, race_getter);
}

/*
 * The same with holds: xmdetach() must revoke the parked ones and still
 * never succeed under an attachment counted through a hold.
 */
static void test_detach_races_holds(struct kunit *test)
{
	detach_races(test, race_holder);
}

/* ===== xmemin() / xmemout() ===== */

static const int copy_segflags[] = { USER_ADSPACE, LW_XMATTACH, SYS_ADSPACE };

static void segflag_desc(const int *p, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s",
		 *p == USER_ADSPACE ? "USER_ADSPACE" :
		 *p == LW_XMATTACH ? "LW_XMATTACH" : "SYS_ADSPACE");
}

KUNIT_ARRAY_PARAM(copy_segflag, copy_segflags, segflag_desc);

/* Attach a patterned buffer of BUFSZ bytes with @segflag; returns its address. */
static unsigned long attach_pattern(struct kunit *test, struct xmem *dp,
				    int segflag)
{
	unsigned long addr;
	size_t i;
	u8 *k;

	if (segflag == SYS_ADSPACE) {
		k = kunit_kmalloc(test, BUFSZ, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, k);
		for (i = 0; i < BUFSZ; i++)
			k[i] = pattern_at(i);
		addr = (unsigned long)k;
	} else {
		addr = user_buf(test, BUFSZ);
	}
	xmem_init(dp);
	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, segflag), 0);
	return addr;
}

static void test_copy_round_trip(struct kunit *test)
{
	static const size_t offs[] = { 0, 1, PAGE_SIZE - 3, PAGE_SIZE, 2 * PAGE_SIZE + 17 };
	static const size_t lens[] = { 1, 7, PAGE_SIZE + 9, 2 * PAGE_SIZE - 17 };
	int segflag = *(const int *)test->param_value;
	u8 *buf, *back;
	unsigned long addr;
	struct xmem *dp = lw_kunit_alloc_dp(test);
	int i, j;
	size_t k;

	buf = kunit_kmalloc(test, BUFSZ, GFP_KERNEL);
	back = kunit_kmalloc(test, BUFSZ, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, back);
	addr = attach_pattern(test, dp, segflag);

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		for (j = 0; j < ARRAY_SIZE(lens); j++) {
			size_t off = offs[i], len = lens[j];

			if (off + len > BUFSZ)
				continue;
			KUNIT_ASSERT_EQ(test, xmemin(addr + off, buf, len, dp), 0);
			for (k = 0; k < len; k++)
				if (buf[k] != pattern_at(off + k))
					break;
			KUNIT_EXPECT_EQ_MSG(test, k, len, "xmemin off %zu len %zu", off, len);

			for (k = 0; k < len; k++)
				buf[k] = ~pattern_at(off + k) + i + j;
			KUNIT_ASSERT_EQ(test, xmemout(buf, addr + off, len, dp), 0);
			expect_event(test, &seen.copy, dp, addr + off, len, true, 0);
			memset(back, 0, len);
			KUNIT_ASSERT_EQ(test, xmemin(addr + off, back, len, dp), 0);
			expect_event(test, &seen.copy, dp, addr + off, len, false, 0);
			KUNIT_EXPECT_EQ(test, memcmp(back, buf, len), 0);
			/* Restore the pattern for the next round. */
			for (k = 0; k < len; k++)
				buf[k] = pattern_at(off + k);
			KUNIT_ASSERT_EQ(test, xmemout(buf, addr + off, len, dp), 0);
		}
	}
	/* The memory itself changed, not a copy of it. */
	if (segflag != SYS_ADSPACE) {
		buf[0] = 0xa5;
		KUNIT_ASSERT_EQ(test, xmemout(buf, addr + PAGE_SIZE + 1, 1, dp), 0);
		KUNIT_ASSERT_EQ(test, copy_from_user(back, (void __user *)addr, BUFSZ), 0);
		KUNIT_EXPECT_EQ(test, back[PAGE_SIZE + 1], 0xa5);
		KUNIT_EXPECT_EQ(test, back[PAGE_SIZE], pattern_at(PAGE_SIZE));
	}
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
}

static void test_copy_out_of_range(struct kunit *test)
{
	int segflag = *(const int *)test->param_value;
	unsigned long addr;
	struct xmem *dp = lw_kunit_alloc_dp(test);
	u8 buf[16];

	addr = attach_pattern(test, dp, segflag);
	KUNIT_EXPECT_EQ(test, xmemin(addr - 1, buf, 1, dp), -EFAULT);
	expect_event(test, &seen.copy, dp, addr - 1, 1, false, -EFAULT);
	KUNIT_EXPECT_EQ(test, xmemin(addr + BUFSZ, buf, 1, dp), -EFAULT);
	KUNIT_EXPECT_EQ(test, xmemin(addr + BUFSZ - 8, buf, 9, dp), -EFAULT);
	KUNIT_EXPECT_EQ(test, xmemout(buf, addr + BUFSZ - 8, 9, dp), -EFAULT);
	KUNIT_EXPECT_EQ(test, xmemin(addr + 8, buf, SIZE_MAX - 4, dp), -EFAULT);
	KUNIT_EXPECT_EQ(test, xmemin(addr, buf, 0, dp), -EINVAL);
	KUNIT_EXPECT_EQ(test, xmemin(addr, NULL, 1, dp), -EINVAL);
	KUNIT_EXPECT_EQ(test, xmemin(addr, buf, 1, NULL), -EINVAL);
	/* Exactly the last byte is fine. */
	KUNIT_EXPECT_EQ(test, xmemin(addr + BUFSZ - 1, buf, 1, dp), 0);
	KUNIT_EXPECT_EQ(test, buf[0], pattern_at(BUFSZ - 1));
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	/* A detached descriptor copies nothing. */
	KUNIT_EXPECT_EQ(test, xmemin(addr, buf, 1, dp), -EINVAL);
	KUNIT_EXPECT_EQ(test, xmemout(buf, addr, 1, dp), -EINVAL);
}

struct irq_copy {
	struct hrtimer timer;
	struct completion done;
	struct xmem *dp;
	unsigned long addr;
	u8 buf[3 * 64];
	int in, out;
	bool hardirq;
};

static enum hrtimer_restart irq_copy_fn(struct hrtimer *timer)
{
	struct irq_copy *ic = container_of(timer, struct irq_copy, timer);

	ic->hardirq = in_hardirq();
	ic->in = xmemin(ic->addr, ic->buf, sizeof(ic->buf), ic->dp);
	memset(ic->buf, 0x5a, 64);
	ic->out = xmemout(ic->buf, ic->addr, 64, ic->dp);
	complete(&ic->done);
	return HRTIMER_NORESTART;
}

static void run_in_hardirq(struct irq_copy *ic)
{
	init_completion(&ic->done);
	hrtimer_init(&ic->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	ic->timer.function = irq_copy_fn;
	hrtimer_start(&ic->timer, ns_to_ktime(1000), HRTIMER_MODE_REL_HARD);
	wait_for_completion(&ic->done);
	hrtimer_cancel(&ic->timer);
}

static void test_copy_from_hardirq(struct kunit *test)
{
	int segflag = *(const int *)test->param_value;
	struct irq_copy *ic = kunit_kzalloc(test, sizeof(*ic), GFP_KERNEL);
	u8 back[64];
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, ic);
	ic->dp = kunit_kzalloc(test, sizeof(*ic->dp), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ic->dp);
	ic->addr = attach_pattern(test, ic->dp, segflag) + PAGE_SIZE - 64;
	run_in_hardirq(ic);
	KUNIT_EXPECT_TRUE(test, ic->hardirq);
	if (segflag == USER_ADSPACE) {
		/* Needs process context: refused, nothing copied. */
		KUNIT_EXPECT_EQ(test, ic->in, -EINVAL);
		KUNIT_EXPECT_EQ(test, ic->out, -EINVAL);
	} else {
		KUNIT_EXPECT_EQ(test, ic->in, 0);
		KUNIT_EXPECT_EQ(test, ic->out, 0);
		for (i = 0; i < 64; i++)
			if (ic->buf[64 + i] != pattern_at(PAGE_SIZE + i))
				break;
		KUNIT_EXPECT_EQ(test, i, 64);
		KUNIT_ASSERT_EQ(test, xmemin(ic->addr, back, sizeof(back), ic->dp), 0);
		KUNIT_EXPECT_NULL(test, memchr_inv(back, 0x5a, sizeof(back)));
	}
	KUNIT_EXPECT_EQ(test, xmdetach(ic->dp), 0);
}

static void test_copy_user_owner_gone(struct kunit *test)
{
	unsigned long addr = user_buf(test, BUFSZ);
	struct xmem *dp = lw_kunit_alloc_dp(test);
	u8 b;

	/* USER_ADSPACE pins nothing: an unmapped range is an error at copy time. */
	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, USER_ADSPACE), 0);
	KUNIT_ASSERT_EQ(test, vm_munmap(addr + PAGE_SIZE, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, xmemin(addr, &b, 1, dp), 0);
	KUNIT_EXPECT_EQ(test, xmemin(addr + PAGE_SIZE, &b, 1, dp), -EFAULT);
	KUNIT_EXPECT_EQ(test, xmemout(&b, addr + PAGE_SIZE - 1, 2, dp), -EFAULT);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
}

/*
 * AIX code copies descriptors by value (the b_xmemd idiom).  A copy works
 * while the descriptor it was copied from is attached; once one of them is
 * detached every other copy is refused with -EINVAL, however long after,
 * and never reaches the object that went with the detach.
 */
static void test_copy_of_descriptor(struct kunit *test)
{
	int segflag = *(const int *)test->param_value;
	struct xmem *dp = lw_kunit_alloc_dp(test);
	struct xmem *copy = lw_kunit_alloc_dp(test);
	unsigned long addr;
	u8 b = 0;

	addr = attach_pattern(test, dp, segflag);
	*copy = *dp;
	KUNIT_EXPECT_EQ(test, xmemin(addr + 9, &b, 1, copy), 0);
	KUNIT_EXPECT_EQ(test, b, pattern_at(9));
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
	/* The object is freed after a grace period: let it be. */
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, xmemin(addr + 9, &b, 1, copy), -EINVAL);
	KUNIT_EXPECT_EQ(test, xmemout(&b, addr + 9, 1, copy), -EINVAL);
	KUNIT_EXPECT_EQ(test, xmem_lw_count(copy), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(xmem_lw_get(copy)), -EINVAL);
	KUNIT_EXPECT_EQ(test, xmdetach(copy), -EINVAL);
	expect_event(test, &seen.detach, copy, 0, 0, -1, -EINVAL);

	/* A new attachment in the old one's place does not revive the copy. */
	KUNIT_ASSERT_EQ(test, xmattach(addr, BUFSZ, dp, segflag), 0);
	KUNIT_EXPECT_EQ(test, xmemin(addr + 9, &b, 1, copy), -EINVAL);

	/* Detached through a copy: the original is the stale one now. */
	*copy = *dp;
	KUNIT_EXPECT_EQ(test, xmdetach(copy), 0);
	KUNIT_EXPECT_EQ(test, copy->aspace_id, XMEM_INVAL);
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, xmemin(addr + 9, &b, 1, dp), -EINVAL);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), -EINVAL);
	/* A stale descriptor is made free again by its owner. */
	xmem_init(dp);
	KUNIT_EXPECT_EQ(test, xmattach(addr, BUFSZ, dp, segflag), 0);
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
}

struct atomic_copy {
	int in_spinlock, out_spinlock, in_preempt_off, in_irqs_off;
};

/*
 * xmemin()/xmemout() of a USER_ADSPACE descriptor go through the owner's
 * mm and sleep: from atomic context they are refused with -EINVAL, never
 * attempted (a spinlock is only visible with CONFIG_PREEMPT_COUNT).
 */
static void test_copy_user_atomic_refused(struct kunit *test)
{
	struct xmem *dp = lw_kunit_alloc_dp(test);
	struct atomic_copy r = { 0 };
	DEFINE_SPINLOCK(lock);
	unsigned long addr, flags;
	u8 b = 0;

	addr = attach_pattern(test, dp, USER_ADSPACE);
	spin_lock(&lock);
	r.in_spinlock = xmemin(addr, &b, 1, dp);
	r.out_spinlock = xmemout(&b, addr, 1, dp);
	spin_unlock(&lock);
	preempt_disable();
	r.in_preempt_off = xmemin(addr, &b, 1, dp);
	preempt_enable();
	local_irq_save(flags);
	r.in_irqs_off = xmemin(addr, &b, 1, dp);
	local_irq_restore(flags);

	if (IS_ENABLED(CONFIG_PREEMPT_COUNT)) {
		KUNIT_EXPECT_EQ(test, r.in_spinlock, -EINVAL);
		KUNIT_EXPECT_EQ(test, r.out_spinlock, -EINVAL);
		KUNIT_EXPECT_EQ(test, r.in_preempt_off, -EINVAL);
	}
	KUNIT_EXPECT_EQ(test, r.in_irqs_off, -EINVAL);
	expect_event(test, &seen.copy, dp, addr, 1, 0, -EINVAL);
	/* In process context it copies. */
	KUNIT_EXPECT_EQ(test, xmemin(addr + 3, &b, 1, dp), 0);
	KUNIT_EXPECT_EQ(test, b, pattern_at(3));
	KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
}

/* ===== Fault injection ===== */

static const int fail_segflags[] = { USER_ADSPACE, LW_XMATTACH };

KUNIT_ARRAY_PARAM(fail_segflag, fail_segflags, segflag_desc);

/*
 * Every allocation xmattach() makes, fails in turn (fault injection: the
 * task's Nth allocation).  Each failure returns -ENOMEM, or -EFAULT where
 * a pin could not be made, and leaves the descriptor free, nothing pinned
 * and nothing charged.  A failure the call absorbs (kvmalloc() falling
 * back to vmalloc()) gives a normal attach; the loop ends with the first
 * call that makes fewer allocations than the one it was to fail.
 */
static void test_attach_fails_at_every_allocation(struct kunit *test)
{
	int segflag = *(const int *)test->param_value;
	unsigned long addr = user_buf(test, BUFSZ);
	struct xmem *dp = lw_kunit_alloc_dp(test), before = *dp;
	long pins = lw_kunit_pins_outstanding();
	int n, ret, failed = 0;
	unsigned int left = 0;

	if (lw_kunit_fail_allocations(test))
		kunit_skip(test, "needs FAILSLAB, FAIL_PAGE_ALLOC and their debugfs");
	for (n = 1; n < 500 && !left; n++) {
		lw_kunit_fail_nth(n);
		ret = xmattach(addr, BUFSZ, dp, segflag);
		left = lw_kunit_fail_nth(0);
		if (!ret) {
			KUNIT_EXPECT_EQ(test, xmdetach(dp), 0);
			continue;
		}
		failed++;
		KUNIT_EXPECT_TRUE_MSG(test, ret == -ENOMEM || ret == -EFAULT,
				      "allocation %d failed: %d", n, ret);
		KUNIT_EXPECT_EQ(test, memcmp(dp, &before, sizeof(*dp)), 0);
		KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
		KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm), 0LL);
	}
	KUNIT_EXPECT_NE(test, left, 0U);
	KUNIT_EXPECT_GT(test, failed, 0);
	kunit_info(test, "%d allocations, %d failures seen by the caller\n",
		   n - 1, failed);
	KUNIT_EXPECT_EQ(test, lw_kunit_pins_outstanding(), pins);
}

/* ===== Suite ===== */

static struct kunit_case xmem_test_cases[] = {
	KUNIT_CASE(test_attach_null_descriptor),
	KUNIT_CASE(test_attach_descriptor_in_use),
	KUNIT_CASE(test_attach_bad_count),
	KUNIT_CASE(test_attach_bad_segflag),
	KUNIT_CASE(test_attach_unmapped_range),
	KUNIT_CASE(test_attach_without_mm),
	KUNIT_CASE(test_attach_sys_not_kernel_memory),
	KUNIT_CASE(test_sys_static_and_readonly_memory),
	KUNIT_CASE(test_lw_pins_and_unpins),
	KUNIT_CASE(test_usr_does_not_pin),
	KUNIT_CASE(test_lw_memlock_charge_returned),
	KUNIT_CASE(test_lw_memlock_over_limit),
	KUNIT_CASE(test_lw_cap_ipc_lock_not_charged),
	KUNIT_CASE(test_lw_readonly_range),
	KUNIT_CASE(test_lw_fatal_signal_unwinds),
	KUNIT_CASE(test_lw_enomem_unwinds_charge),
	KUNIT_CASE(test_lw_pages_outlive_owner),
	KUNIT_CASE(test_detach_not_attached),
	KUNIT_CASE(test_detach_twice),
	KUNIT_CASE(test_reuse_after_detach),
	KUNIT_CASE(test_detach_busy_while_lw_attached),
	KUNIT_CASE(test_lw_get_needs_lw_descriptor),
	KUNIT_CASE(test_deferred_flush_runs_before_unpin),
	KUNIT_CASE(test_lw_rdonly_on_request),
	KUNIT_CASE(test_orphan_idle_detaches_now),
	KUNIT_CASE(test_orphan_released_by_last_detach),
	KUNIT_CASE(test_orphan_events_before_free),
	KUNIT_CASE(test_hold_parks_and_xmdetach_revokes),
	KUNIT_CASE(test_hold_and_orphan),
	KUNIT_CASE_PARAM(test_detach_races_lw_attach,
			 lw_kunit_nthreads_gen_params),
	KUNIT_CASE_PARAM(test_detach_races_holds, lw_kunit_nthreads_gen_params),
	KUNIT_CASE_PARAM(test_copy_round_trip, copy_segflag_gen_params),
	KUNIT_CASE_PARAM(test_copy_out_of_range, copy_segflag_gen_params),
	KUNIT_CASE_PARAM(test_copy_from_hardirq, copy_segflag_gen_params),
	KUNIT_CASE(test_copy_user_owner_gone),
	KUNIT_CASE_PARAM(test_copy_of_descriptor, copy_segflag_gen_params),
	KUNIT_CASE(test_copy_user_atomic_refused),
	KUNIT_CASE_PARAM(test_attach_fails_at_every_allocation,
			 fail_segflag_gen_params),
	{}
};

/* Each test sees only its own events. */
static int xmem_test_init(struct kunit *test)
{
	lw_kunit_reset(&seen);
	return 0;
}

static int xmem_suite_init(struct kunit_suite *suite)
{
	return lw_kunit_register_probes(xmem_probes, ARRAY_SIZE(xmem_probes));
}

static void xmem_suite_exit(struct kunit_suite *suite)
{
	lw_kunit_unregister_probes(xmem_probes, ARRAY_SIZE(xmem_probes));
}

static struct kunit_suite xmem_test_suite = {
	.name = "xmem",
	.test_cases = xmem_test_cases,
	.init = xmem_test_init,
	.suite_init = xmem_suite_init,
	.suite_exit = xmem_suite_exit,
};

kunit_test_suite(xmem_test_suite);

MODULE_DESCRIPTION("KUnit tests for cross-memory descriptors");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
