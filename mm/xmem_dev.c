// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/xmem: cross-memory descriptors and the lightweight attach services
 * for user space.
 *
 * A process turns a range of its own memory into a descriptor file with
 * XMEM_IOC_CREATE on /dev/xmem: xmattach() with LW_XMATTACH in the caller,
 * so the pages are pinned and charged to the caller's RLIMIT_MEMLOCK, and
 * the descriptor is read-only if the caller asks or its mapping is.  The
 * descriptor file is the capability, fd-based like memfd and dma-buf: a
 * process that holds it (SCM_RIGHTS, fork) attaches and detaches ranges of
 * it in the calling thread's window with the lightweight services, and gets
 * exactly their error codes.  Nothing reaches the memory without the file.
 *
 *   /dev/xmem fd       XMEM_IOC_CREATE, XMEM_IOC_POOL_INIT
 *   descriptor fd      XMEM_IOC_POOL_INIT, XMEM_IOC_ATTACH, XMEM_IOC_DETACH,
 *                      XMEM_IOC_XMDETACH, XMEM_IOC_INFO
 *
 * Every argument struct starts with its size.  A size below the struct's
 * first version is -EINVAL; a larger one is accepted only if the bytes the
 * kernel does not know are zero (-E2BIG otherwise), as for openat2() and
 * clone3(); reserved fields and unknown flags must be zero (-EINVAL).  A
 * failing ioctl leaves nothing attached, pinned or charged: an attachment
 * whose address cannot be copied out is detached again (its range of the
 * window is then dirty until the next wrap flush, like any detached range).
 *
 * The descriptor's pages stay pinned until XMEM_IOC_XMDETACH (refused with
 * -EBUSY while any process has a range attached) or the last close of the
 * file.  A last close with attachments outstanding cannot wait: it is
 * reported as a refused xmdetach() (an xmem_detach_refused event) and the
 * pins are released by the detach, or the thread exit, that ends the last
 * attachment (xmem_detach_orphan()).  The pages are never unpinned under a
 * live mapping, whoever exits first.
 */

#define pr_fmt(fmt) "xmem: " fmt

#include <linux/adspace.h>
#include <linux/anon_inodes.h>
#include <linux/compat.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xmem.h>
#include <uapi/linux/xmem.h>

#include "xmem_internal.h"
#include "lw_attach_internal.h"

/**
 * struct xmem_desc - the object behind a descriptor file
 * @xm: the descriptor, attached with %LW_XMATTACH by the creating process
 * @lock: serialises XMEM_IOC_XMDETACH and XMEM_IOC_INFO
 * @detached: XMEM_IOC_XMDETACH has succeeded; under @lock
 * @rdonly: the descriptor is never attached writable
 * @length: bytes in the range
 * @page_offset: offset of the range's first byte in its page
 */
struct xmem_desc {
	struct xmem xm;
	struct mutex lock;	/* serialises xmdetach and info */
	bool detached;
	bool rdonly;
	size_t length;
	unsigned long page_offset;
};

/* The size an argument struct gives itself: from @ksize up to a page. */
static int xmem_get_size(void __user *uarg, size_t ksize, u32 *usize)
{
	if (get_user(*usize, (u32 __user *)uarg))
		return -EFAULT;
	if (*usize < ksize)
		return -EINVAL;
	if (*usize > PAGE_SIZE)
		return -E2BIG;
	return 0;
}

/*
 * Copy an argument struct whose first member is its size.  Any size from
 * @ksize (the first version) up to a page is accepted if what the kernel
 * does not know of it is zero.
 */
static int xmem_get_args(void *args, size_t ksize, void __user *uarg)
{
	u32 usize;
	int err = xmem_get_size(uarg, ksize, &usize);

	return err ?: copy_struct_from_user(args, ksize, uarg, usize);
}

static void xmem_desc_free(struct xmem *dp)
{
	struct xmem_desc *d = container_of(dp, struct xmem_desc, xm);

	mutex_destroy(&d->lock);
	kfree(d);
}

static long xmem_ioc_pool_init(void __user *uarg)
{
	struct xmem_pool_init args;
	int err;

	BUILD_BUG_ON(XMEM_POOL_DEBUG != LW_DEBUG);
	err = xmem_get_args(&args, sizeof(args), uarg);
	if (err)
		return err;
	/* as_lw_pool_init() refuses unknown flags with its own event. */
	return as_lw_pool_init(args.pool_size, args.flags);
}

static long xmem_ioc_attach(struct xmem_desc *d, struct xmem_attach __user *uarg)
{
	struct xmem_attach args;
	unsigned long addr;
	bool write;
	int err;

	err = xmem_get_args(&args, sizeof(args), uarg);
	if (err)
		return err;
	if ((args.flags & ~XMEM_ATTACH_WRITE) || args.__reserved)
		return -EINVAL;
	write = args.flags & XMEM_ATTACH_WRITE;
	if (write && d->rdonly)
		return -EACCES;
	err = lw_att64(&d->xm, args.offset, args.length, write, &addr);
	if (err)
		return err;
	if (put_user(addr, &uarg->addr)) {
		/*
		 * Nothing half-done: the caller never learnt the address.  If
		 * even this fails, the window is damaged and the thread's exit
		 * releases the attachment.
		 */
		as_lw_det64(&d->xm, addr, args.length);
		return -EFAULT;
	}
	return 0;
}

static long xmem_ioc_detach(struct xmem_desc *d, void __user *uarg)
{
	struct xmem_detach args;
	int err;

	err = xmem_get_args(&args, sizeof(args), uarg);
	if (err)
		return err;
	if (args.flags)
		return -EINVAL;
	return as_lw_det64(&d->xm, args.addr, args.length);
}

static long xmem_ioc_xmdetach(struct xmem_desc *d, unsigned long arg)
{
	int err;

	if (arg)
		return -EINVAL;
	mutex_lock(&d->lock);
	err = xmdetach(&d->xm);
	if (!err)
		d->detached = true;
	mutex_unlock(&d->lock);
	return err;
}

static long xmem_ioc_info(struct xmem_desc *d, void __user *uarg)
{
	struct xmem_info info = { .size = sizeof(info) }, in;
	long count;
	int err;

	/* In, the struct is checked as every other: no flags are defined. */
	err = xmem_get_args(&in, sizeof(in), uarg);
	if (err)
		return err;
	if (in.flags || in.__reserved[0] || in.__reserved[1])
		return -EINVAL;
	info.length = d->length;
	info.page_offset = d->page_offset;
	mutex_lock(&d->lock);
	if (d->detached) {
		info.flags |= XMEM_INFO_DETACHED;
	} else {
		count = xmem_lw_count(&d->xm);
		info.attachments = count > 0 ? count : 0;
	}
	mutex_unlock(&d->lock);
	if (d->rdonly)
		info.flags |= XMEM_INFO_RDONLY;
	/* A newer caller's larger struct: its tail was checked to be zero. */
	if (copy_to_user(uarg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long xmem_desc_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct xmem_desc *d = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case XMEM_IOC_POOL_INIT:
		return xmem_ioc_pool_init(uarg);
	case XMEM_IOC_ATTACH:
		return xmem_ioc_attach(d, uarg);
	case XMEM_IOC_DETACH:
		return xmem_ioc_detach(d, uarg);
	case XMEM_IOC_XMDETACH:
		return xmem_ioc_xmdetach(d, arg);
	case XMEM_IOC_INFO:
		return xmem_ioc_info(d, uarg);
	}
	return -ENOTTY;
}

/* The last reference: xmdetach() now, or at the last detach. */
static int xmem_desc_release(struct inode *inode, struct file *file)
{
	struct xmem_desc *d = file->private_data;

	if (d->detached)
		xmem_desc_free(&d->xm);
	else
		xmem_detach_orphan(&d->xm, xmem_desc_free);
	return 0;
}

static void xmem_desc_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct xmem_desc *d = file->private_data;
	long count;

	mutex_lock(&d->lock);
	count = d->detached ? -1 : xmem_lw_count(&d->xm);
	mutex_unlock(&d->lock);
	seq_printf(m, "xmem-length:\t%zu\n", d->length);
	seq_printf(m, "xmem-access:\t%s\n", d->rdonly ? "ro" : "rw");
	if (count < 0)
		seq_puts(m, "xmem-state:\tdetached\n");
	else
		seq_printf(m, "xmem-state:\tpinned\nxmem-attachments:\t%ld\n",
			   count);
}

static const struct file_operations xmem_desc_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= xmem_desc_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= xmem_desc_release,
	.show_fdinfo	= xmem_desc_show_fdinfo,
	.llseek		= noop_llseek,
};

static long xmem_ioc_create(void __user *uarg)
{
	struct xmem_create args;
	struct xmem_desc *d;
	struct file *file;
	int err, fd;

	err = xmem_get_args(&args, sizeof(args), uarg);
	if (err)
		return err;
	if (args.flags & ~(XMEM_CREATE_RDONLY | XMEM_CREATE_CLOEXEC))
		return -EINVAL;
	d = kzalloc(sizeof(*d), GFP_KERNEL_ACCOUNT);
	if (!d)
		return -ENOMEM;
	xmem_init(&d->xm);
	mutex_init(&d->lock);
	fd = get_unused_fd_flags(O_RDWR |
				 (args.flags & XMEM_CREATE_CLOEXEC ? O_CLOEXEC : 0));
	if (fd < 0) {
		err = fd;
		goto free;
	}
	err = xmem_attach_lw(args.addr, args.length, &d->xm,
			     args.flags & XMEM_CREATE_RDONLY);
	if (err)
		goto put_fd;
	d->rdonly = d->xm.xmemflags & XMEM_RDONLY;
	d->length = d->xm.xm_len;
	d->page_offset = offset_in_page(d->xm.vaddr);
	file = anon_inode_getfile("[xmem]", &xmem_desc_fops, d, O_RDWR);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto detach;
	}
	fd_install(fd, file);
	return fd;

detach:
	/* Nobody else has seen it: nothing can be attached. */
	WARN_ON_ONCE(xmdetach(&d->xm));
put_fd:
	put_unused_fd(fd);
free:
	xmem_desc_free(&d->xm);
	return err;
}

static long xmem_dev_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case XMEM_IOC_CREATE:
		return xmem_ioc_create(uarg);
	case XMEM_IOC_POOL_INIT:
		return xmem_ioc_pool_init(uarg);
	}
	return -ENOTTY;
}

static const struct file_operations xmem_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= xmem_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* Any user may open it: what it reaches is the caller's own memory. */
static struct miscdevice xmem_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "xmem",
	.fops	= &xmem_dev_fops,
	.mode	= 0666,
};

static int __init xmem_dev_init(void)
{
	return misc_register(&xmem_miscdev);
}
device_initcall(xmem_dev_init);
