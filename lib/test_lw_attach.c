// SPDX-License-Identifier: GPL-2.0
/*
 * Test driver for the lightweight attach services from user space:
 * /dev/test_lw_attach.
 *
 * /dev/xmem reaches as_lw_att64() and as_lw_det64() through an ioctl each,
 * so a loop of its calls measures the system call as much as the services.
 * tools/lw-trace's overhead benchmark needs both: what its probes add to a
 * pair as a program sees it, and what they add to the pair itself.  Like
 * lib/test_hmm.c, this is a test-only driver with an ioctl interface
 * (lib/test_lw_attach_uapi.h).  Its one op runs the pairs in the calling
 * thread, whose window and pool they use as any caller's: the services
 * refuse kernel threads.
 *
 * The descriptor is the driver's, attached to the caller's own memory
 * and detached before the ioctl returns, so nothing outlives the call but
 * the process's pool and the thread's window, which every attach makes
 * anyway.  One thing can keep it attached: a detach refused with -EIO
 * because another thread of the process damaged the window meanwhile.
 * The range then stays attached until the thread exits, as any caller's
 * would, and a worker detaches the descriptor as soon as xmdetach() no
 * longer refuses it.  The driver is built in only, so that no such worker
 * outlives its code.
 *
 * Only CAP_SYS_ADMIN may open the device: the loop pins memory and can run
 * for seconds.
 */

#include <linux/adspace.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <linux/xmem.h>

#include "test_lw_attach_uapi.h"

/* Pairs between two checks for a fatal signal and a reschedule. */
#define TEST_LW_ATTACH_BATCH	1024
/*
 * The pool made for a process that has none: room for many ranges of the
 * largest length, so that pairs reuse the window as a program's do rather
 * than flush it at every attach (a pool of just the range would).
 */
#define TEST_LW_ATTACH_POOL	SZ_64M

/* The loop's descriptor; while its xmdetach() is refused, retried by @work. */
struct test_lw_attach_stuck {
	struct xmem dp;
	struct delayed_work work;
};

static void test_lw_attach_retry(struct work_struct *work)
{
	struct test_lw_attach_stuck *s =
		container_of(to_delayed_work(work), struct test_lw_attach_stuck,
			     work);

	if (xmdetach(&s->dp) == -EBUSY) {
		schedule_delayed_work(&s->work, HZ);
		return;
	}
	kfree(s);
}

/*
 * Detach @s's descriptor and free @s, or, while an attachment the loop
 * could not detach keeps it attached, leave that to the worker.
 */
static void test_lw_attach_release(struct test_lw_attach_stuck *s)
{
	if (xmdetach(&s->dp) == -EBUSY) {
		INIT_DELAYED_WORK(&s->work, test_lw_attach_retry);
		schedule_delayed_work(&s->work, HZ);
		return;
	}
	kfree(s);
}

/*
 * test_lw_attach_pairs - @count attach and detach pairs of all of @dp,
 * @length bytes; 0, or the first error.
 */
static int test_lw_attach_pairs(struct xmem *dp, size_t length, u64 count)
{
	unsigned long addr;
	u64 i;
	int ret;

	for (i = 0; i < count; i++) {
		ret = as_lw_att64(dp, 0, length, &addr);
		if (ret)
			return ret;
		ret = as_lw_det64(dp, addr, length);
		if (ret)
			return ret;
		if (i % TEST_LW_ATTACH_BATCH == TEST_LW_ATTACH_BATCH - 1) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

static long test_lw_attach_loop(struct test_lw_attach_loop __user *uarg)
{
	struct test_lw_attach_loop arg;
	struct test_lw_attach_stuck *s;
	u64 start;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.length || arg.length > TEST_LW_ATTACH_MAX_LENGTH ||
	    !arg.count || arg.count > TEST_LW_ATTACH_MAX_LOOP || arg.result ||
	    memchr_inv(arg.reserved, 0, sizeof(arg.reserved)))
		return -EINVAL;

	/* The descriptor: on the heap, in case it must outlive the call. */
	s = kmalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	xmem_init(&s->dp);
	ret = xmattach(arg.addr, arg.length, &s->dp, LW_XMATTACH);
	if (ret) {
		kfree(s);
		return ret;
	}
	ret = as_lw_pool_init(TEST_LW_ATTACH_POOL, 0);
	if (ret == -EEXIST)
		ret = 0;
	if (!ret) {
		start = ktime_get_ns();
		ret = test_lw_attach_pairs(&s->dp, arg.length, arg.count);
		arg.result = ktime_get_ns() - start;
	}
	test_lw_attach_release(s);
	if (!ret && copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
	return ret;
}

static long test_lw_attach_ioctl(struct file *file, unsigned int op,
				 unsigned long arg)
{
	if (op != TEST_LW_ATTACH_LOOP)
		return -ENOTTY;
	return test_lw_attach_loop((struct test_lw_attach_loop __user *)arg);
}

static int test_lw_attach_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return nonseekable_open(inode, file);
}

static const struct file_operations test_lw_attach_fops = {
	.owner		= THIS_MODULE,
	.open		= test_lw_attach_open,
	.unlocked_ioctl	= test_lw_attach_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice test_lw_attach_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "test_lw_attach",
	.fops	= &test_lw_attach_fops,
	.mode	= 0600,
};
module_misc_device(test_lw_attach_misc);

MODULE_DESCRIPTION("Test driver timing lightweight attach and detach from user space");
MODULE_LICENSE("GPL");
