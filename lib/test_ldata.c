// SPDX-License-Identifier: GPL-2.0
/*
 * Test driver for ldata pools from user space: /dev/test_ldata.
 *
 * ldata has no user-space interface, but tools/lw-trace needs a program
 * that makes the kernel use a pool, correctly or with each misuse that
 * ldata reports, to test its detection end to end and to measure what its
 * probes cost.  Like lib/test_hmm.c, this is a test-only driver with an
 * ioctl interface (lib/test_ldata_uapi.h): each open file holds up to
 * TEST_LDATA_MAX_POOLS pools and, per pool, up to TEST_LDATA_MAX_ELEMS
 * elements that user space names by handle, an index into the driver's
 * table, so that no kernel address ever reaches user space.
 *
 * Every misuse is memory-safe because ldata refuses it before touching
 * anything: ldata_free() finds the sub-pool and index of a pointer by
 * arithmetic alone, refuses one outside the pool (a kmalloc() buffer, an
 * element of another pool) or inside an element, and, while its
 * double-free check is on, an element that is already free, and never
 * reads the pointer.  The driver never reads or writes an element either,
 * so the elements ldata_destroy() frees under live handles are simply
 * forgotten.  TEST_LDATA_FREE_DOUBLE frees an element and then frees it
 * again within one ioctl, under the file's lock, so nothing can allocate
 * it in between; the check is on with CONFIG_LDATA_DEBUG and while
 * anything listens to ldata_misuse (lw-trace, which the op is for).
 * Without it ldata would link the element twice, so the op is refused
 * then.
 *
 * Only CAP_SYS_ADMIN may open the device: a pool pins kernel memory.
 */

#include <linux/cache.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/ldata.h>
#include <linux/limits.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <trace/events/ldata.h>

#include "test_ldata_uapi.h"

/* Bytes added to an element for TEST_LDATA_FREE_MISALIGNED. */
#define TEST_LDATA_MISALIGN	8
/* LOOP pairs between two checks for a fatal signal and a reschedule. */
#define TEST_LDATA_LOOP_BATCH	1024

/**
 * struct test_ldata_pool - a pool slot of an open file
 * @pool: the pool, or NULL when the slot is free
 * @elems: TEST_LDATA_MAX_ELEMS element handles; NULL when a handle is free
 * @nr_live: handles that hold an element
 */
struct test_ldata_pool {
	ldata_t pool;
	void **elems;
	unsigned int nr_live;
};

/**
 * struct test_ldata_file - the state of an open file
 * @lock: serialises the ioctls of the file
 * @pools: the pool slots
 */
struct test_ldata_file {
	struct mutex lock;	/* the pools and every call into them */
	struct test_ldata_pool pools[TEST_LDATA_MAX_POOLS];
};

/* The slot @id of @tf if it holds a pool, else NULL. */
static struct test_ldata_pool *test_ldata_pool(struct test_ldata_file *tf,
					       u32 id)
{
	struct test_ldata_pool *p;

	if (id >= TEST_LDATA_MAX_POOLS)
		return NULL;
	p = &tf->pools[array_index_nospec(id, TEST_LDATA_MAX_POOLS)];
	return p->pool ? p : NULL;
}

/* The handle @elem of @p if it holds an element, else NULL. */
static void **test_ldata_handle(struct test_ldata_pool *p, u64 elem)
{
	void **slot;

	if (elem >= TEST_LDATA_MAX_ELEMS)
		return NULL;
	slot = &p->elems[array_index_nospec(elem, TEST_LDATA_MAX_ELEMS)];
	return *slot ? slot : NULL;
}

/* Free every element @p holds and destroy its pool, without misuse. */
static void test_ldata_put_pool(struct test_ldata_pool *p)
{
	unsigned int i;

	for (i = 0; i < TEST_LDATA_MAX_ELEMS; i++)
		if (p->elems[i])
			ldata_free(p->pool, p->elems[i]);
	ldata_destroy(p->pool);
	kvfree(p->elems);
	memset(p, 0, sizeof(*p));
}

static int test_ldata_create(struct test_ldata_file *tf,
			     struct test_ldata_cmd *cmd,
			     struct test_ldata_cmd __user *ucmd)
{
	struct test_ldata_pool *p = NULL;
	int err;
	u32 id;

	/* ldata_create() checks the rest; only a truncation is caught here. */
	if (cmd->size > LDATA_MAX_SIZE || cmd->count > LONG_MAX ||
	    cmd->maxcount > LONG_MAX)
		return -EINVAL;
	for (id = 0; id < TEST_LDATA_MAX_POOLS; id++) {
		if (!tf->pools[id].pool) {
			p = &tf->pools[id];
			break;
		}
	}
	if (!p)
		return -ENOSPC;
	p->elems = kvcalloc(TEST_LDATA_MAX_ELEMS, sizeof(*p->elems),
			    GFP_KERNEL);
	if (!p->elems)
		return -ENOMEM;
	err = ldata_create(cmd->size, cmd->count, cmd->maxcount, 0, &p->pool);
	if (err)
		goto fail;
	cmd->pool = id;
	if (copy_to_user(ucmd, cmd, sizeof(*cmd))) {
		ldata_destroy(p->pool);		/* no element yet: no misuse */
		err = -EFAULT;
		goto fail;
	}
	return 0;
fail:
	kvfree(p->elems);
	memset(p, 0, sizeof(*p));
	return err;
}

static int test_ldata_alloc(struct test_ldata_pool *p,
			    struct test_ldata_cmd *cmd,
			    struct test_ldata_cmd __user *ucmd)
{
	unsigned int h;
	void *elem;

	if (p->nr_live == TEST_LDATA_MAX_ELEMS)
		return -ENOSPC;
	for (h = 0; p->elems[h]; h++)
		;
	elem = ldata_alloc(p->pool);
	if (!elem)
		return -ENOMEM;
	cmd->elem = h;
	if (copy_to_user(ucmd, cmd, sizeof(*cmd))) {
		ldata_free(p->pool, elem);
		return -EFAULT;
	}
	p->elems[h] = elem;
	p->nr_live++;
	return 0;
}

static int test_ldata_free(struct test_ldata_file *tf,
			   struct test_ldata_pool *p,
			   const struct test_ldata_cmd *cmd)
{
	struct test_ldata_pool *other;
	void **slot = NULL;
	void *buf;

	if (cmd->flags != TEST_LDATA_FREE_FOREIGN) {
		slot = test_ldata_handle(p, cmd->elem);
		if (!slot)
			return -EINVAL;
	}
	switch (cmd->flags) {
	case TEST_LDATA_FREE_NORMAL:
		ldata_free(p->pool, *slot);
		break;
	case TEST_LDATA_FREE_DOUBLE:
		/* The double-free check's condition (mm/ldata.c). */
		if (!IS_ENABLED(CONFIG_LDATA_DEBUG) &&
		    !trace_ldata_misuse_enabled())
			return -EOPNOTSUPP;
		ldata_free(p->pool, *slot);
		/* Refused: the element is free and the lock kept it so. */
		ldata_free(p->pool, *slot);
		break;
	case TEST_LDATA_FREE_FOREIGN:
		buf = kmalloc(SMP_CACHE_BYTES, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		/* Refused: not in any pool. */
		ldata_free(p->pool, buf);
		kfree(buf);
		return 0;
	case TEST_LDATA_FREE_MISALIGNED:
		/* Refused: inside the element; the handle keeps it. */
		ldata_free(p->pool, *slot + TEST_LDATA_MISALIGN);
		return 0;
	case TEST_LDATA_FREE_WRONG_POOL:
		other = test_ldata_pool(tf, cmd->other);
		if (!other || other == p)
			return -EINVAL;
		/* Refused: an element of another pool; the handle keeps it. */
		ldata_free(other->pool, *slot);
		return 0;
	default:
		return -EINVAL;
	}
	*slot = NULL;
	p->nr_live--;
	return 0;
}

static int test_ldata_destroy(struct test_ldata_pool *p,
			      struct test_ldata_cmd *cmd,
			      struct test_ldata_cmd __user *ucmd)
{
	cmd->result = p->nr_live;
	if (copy_to_user(ucmd, cmd, sizeof(*cmd)))
		return -EFAULT;
	/* With elements allocated, ldata reports ldata_destroy_live. */
	ldata_destroy(p->pool);
	kvfree(p->elems);
	memset(p, 0, sizeof(*p));
	return 0;
}

static int test_ldata_loop(struct test_ldata_pool *p,
			   struct test_ldata_cmd *cmd,
			   struct test_ldata_cmd __user *ucmd)
{
	u64 i, start;
	void *elem;

	if (!cmd->count || cmd->count > TEST_LDATA_MAX_LOOP)
		return -EINVAL;
	start = ktime_get_ns();
	for (i = 0; i < cmd->count; i++) {
		elem = ldata_alloc(p->pool);
		if (!elem)
			return -ENOMEM;
		ldata_free(p->pool, elem);
		if (i % TEST_LDATA_LOOP_BATCH == TEST_LDATA_LOOP_BATCH - 1) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	cmd->result = ktime_get_ns() - start;
	if (copy_to_user(ucmd, cmd, sizeof(*cmd)))
		return -EFAULT;
	return 0;
}

/*
 * test_ldata_check - -EINVAL unless every field of @cmd that @op does not
 * read is zero, outputs included.
 */
static int test_ldata_check(unsigned int op, const struct test_ldata_cmd *cmd)
{
	struct test_ldata_cmd rest = *cmd;

	switch (op) {
	case TEST_LDATA_CREATE:
		rest.size = 0;
		rest.count = 0;
		rest.maxcount = 0;
		break;
	case TEST_LDATA_ALLOC:
	case TEST_LDATA_DESTROY:
		rest.pool = 0;
		break;
	case TEST_LDATA_FREE:
		rest.pool = 0;
		rest.flags = 0;
		if (cmd->flags != TEST_LDATA_FREE_FOREIGN)
			rest.elem = 0;
		if (cmd->flags == TEST_LDATA_FREE_WRONG_POOL)
			rest.other = 0;
		break;
	case TEST_LDATA_GROW:
	case TEST_LDATA_LOOP:
		rest.pool = 0;
		rest.count = 0;
		break;
	default:
		return -ENOTTY;
	}
	return memchr_inv(&rest, 0, sizeof(rest)) ? -EINVAL : 0;
}

static long test_ldata_ioctl(struct file *file, unsigned int op,
			     unsigned long arg)
{
	struct test_ldata_cmd __user *ucmd = (void __user *)arg;
	struct test_ldata_file *tf = file->private_data;
	struct test_ldata_pool *p = NULL;
	struct test_ldata_cmd cmd;
	long ret;

	switch (op) {
	case TEST_LDATA_CREATE:
	case TEST_LDATA_ALLOC:
	case TEST_LDATA_FREE:
	case TEST_LDATA_DESTROY:
	case TEST_LDATA_GROW:
	case TEST_LDATA_LOOP:
		break;
	default:
		return -ENOTTY;
	}
	if (copy_from_user(&cmd, ucmd, sizeof(cmd)))
		return -EFAULT;
	ret = test_ldata_check(op, &cmd);
	if (ret)
		return ret;

	mutex_lock(&tf->lock);
	if (op != TEST_LDATA_CREATE) {
		p = test_ldata_pool(tf, cmd.pool);
		if (!p) {
			ret = -EINVAL;
			goto out;
		}
	}
	switch (op) {
	case TEST_LDATA_CREATE:
		ret = test_ldata_create(tf, &cmd, ucmd);
		break;
	case TEST_LDATA_ALLOC:
		ret = test_ldata_alloc(p, &cmd, ucmd);
		break;
	case TEST_LDATA_FREE:
		ret = test_ldata_free(tf, p, &cmd);
		break;
	case TEST_LDATA_DESTROY:
		ret = test_ldata_destroy(p, &cmd, ucmd);
		break;
	case TEST_LDATA_GROW:
		ret = cmd.count > LONG_MAX ? -EINVAL :
		      ldata_grow(p->pool, cmd.count);
		break;
	case TEST_LDATA_LOOP:
		ret = test_ldata_loop(p, &cmd, ucmd);
		break;
	}
out:
	mutex_unlock(&tf->lock);
	return ret;
}

static int test_ldata_open(struct inode *inode, struct file *file)
{
	struct test_ldata_file *tf;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	tf = kzalloc(sizeof(*tf), GFP_KERNEL);
	if (!tf)
		return -ENOMEM;
	mutex_init(&tf->lock);
	file->private_data = tf;
	return nonseekable_open(inode, file);
}

static int test_ldata_release(struct inode *inode, struct file *file)
{
	struct test_ldata_file *tf = file->private_data;
	unsigned int i;

	for (i = 0; i < TEST_LDATA_MAX_POOLS; i++)
		if (tf->pools[i].pool)
			test_ldata_put_pool(&tf->pools[i]);
	mutex_destroy(&tf->lock);
	kfree(tf);
	return 0;
}

static const struct file_operations test_ldata_fops = {
	.owner		= THIS_MODULE,
	.open		= test_ldata_open,
	.release	= test_ldata_release,
	.unlocked_ioctl	= test_ldata_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice test_ldata_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "test_ldata",
	.fops	= &test_ldata_fops,
	.mode	= 0600,
};
module_misc_device(test_ldata_misc);

MODULE_DESCRIPTION("Test driver for ldata pools and their misuse from user space");
MODULE_LICENSE("GPL");
