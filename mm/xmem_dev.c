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
 *   /dev/xmem fd       XMEM_IOC_CREATE, XMEM_IOC_POOL_INIT, XMEM_IOC_OPEN,
 *                      XMEM_IOC_UNMAP
 *   descriptor fd      XMEM_IOC_POOL_INIT, XMEM_IOC_ATTACH, XMEM_IOC_DETACH,
 *                      XMEM_IOC_XMDETACH, XMEM_IOC_INFO, XMEM_IOC_PUBLISH,
 *                      XMEM_IOC_UNPUBLISH; mmap()
 *
 * XMEM_CREATE_ASPACE makes an address-space descriptor instead
 * (xmem_attach_aspace()): the range is recorded, holes and all, nothing is
 * pinned, and only mmap() reaches it, through the owner's page tables
 * (mm/xmem_map.c).  Either kind is mapped with mmap() of its file.
 *
 * Every descriptor has its own inode on a small pseudo filesystem, and
 * every file of it (the owner's, and those XMEM_IOC_OPEN makes) is a file
 * of that inode: the mappings of all of them are in one i_mmap tree, which
 * is what invalidation and revocation zap.  The descriptor lives as long as
 * its files (a mapping holds its file); the last one tears the mappings'
 * state down and detaches the descriptor.
 *
 * Names: the owner's file can publish its descriptor under an id
 * (XMEM_IOC_PUBLISH) with a mode; XMEM_IOC_OPEN of that id in the same IPC
 * namespace passes an ipcperms()-style check against the publisher's
 * effective uid and gid (CAP_IPC_OWNER bypasses it) and makes a new file,
 * read-only or read-write, that maps and attaches but cannot publish,
 * unpublish or detach.  Ids come from a 63-bit counter and are never
 * reused.  A name goes with XMEM_IOC_UNPUBLISH, XMEM_IOC_XMDETACH or the
 * owner file's last close; XMEM_UNPUBLISH_REVOKE also ends every mapping
 * (a later touch is SIGBUS), which is XPMEM's xpmem_remove().
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
#include <linux/compat.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/ipc_namespace.h>
#include <linux/kref.h>
#include <linux/magic.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/pseudo_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <linux/xmem.h>
#include <uapi/linux/xmem.h>

#include "xmem_internal.h"
#include "lw_attach_internal.h"

#include <trace/events/xmem_map.h>

struct xmem_name;

/**
 * struct xmem_desc - the object behind the files of a descriptor
 * @ref: one per file of the descriptor
 * @xm: the descriptor, attached with %LW_XMATTACH (or, @aspace, by
 *	xmem_attach_aspace()) by the creating process
 * @inode: the descriptor's inode, one reference; every file is of it
 * @map: what its mappings resolve through (mm/xmem_map.c)
 * @lock: serialises XMEM_IOC_XMDETACH, XMEM_IOC_INFO, publishing and
 *	revoking
 * @detached: XMEM_IOC_XMDETACH has succeeded; under @lock
 * @revoked: XMEM_UNPUBLISH_REVOKE has ended its mappings; under @lock
 * @name: where it is published, or NULL; under @lock and xmem_names' lock
 * @rdonly: the descriptor is never attached or mapped writable
 * @aspace: an address-space descriptor
 * @length: bytes in the range
 * @page_offset: offset of the range's first byte in its page
 */
struct xmem_desc {
	struct kref ref;
	struct xmem xm;
	struct inode *inode;
	struct xmem_map *map;
	struct mutex lock;	/* xmdetach, info, names, revoke */
	bool detached;
	bool revoked;
	struct xmem_name *name;
	bool rdonly;
	bool aspace;
	size_t length;
	unsigned long page_offset;
};

/**
 * struct xmem_handle - what one file of a descriptor is
 * @d: the descriptor, one reference
 * @owner: the file XMEM_IOC_CREATE made (and its dups), which may publish,
 *	unpublish and detach; not a file from XMEM_IOC_OPEN
 */
struct xmem_handle {
	struct xmem_desc *d;
	bool owner;
};

/**
 * struct xmem_name - a published descriptor
 * @id: its id, the key in xmem_names
 * @d: the descriptor; the name is erased before the descriptor can go
 * @ns: the IPC namespace it is visible in, one reference (NULL without
 *	IPC namespaces)
 * @uid: effective uid of the publisher
 * @gid: effective gid of the publisher
 * @mode: permission bits
 * @rcu: frees it after lookups
 */
struct xmem_name {
	u64 id;
	struct xmem_desc *d;
	struct ipc_namespace *ns;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	struct rcu_head rcu;
};

/* Published descriptors by id; its lock also orders lookups and erases. */
static DEFINE_XARRAY(xmem_names);
static atomic64_t xmem_name_seq = ATOMIC64_INIT(0);

/* The descriptor files' filesystem: an inode per descriptor. */
static struct vfsmount *xmem_mnt;

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

/* Once the descriptor is detached (now, or at its last attachment). */
static void xmem_desc_free(struct xmem *dp)
{
	struct xmem_desc *d = container_of(dp, struct xmem_desc, xm);

	mutex_destroy(&d->lock);
	kfree(d);
}

static struct ipc_namespace *xmem_ipc_ns(void)
{
	return current->nsproxy->ipc_ns;
}

static void xmem_name_free(struct xmem_name *name)
{
	if (name->ns)
		put_ipc_ns(name->ns);
	kfree_rcu(name, rcu);
}

/* Take @d's name away, if it has one: no XMEM_IOC_OPEN finds it after. */
static bool xmem_unpublish(struct xmem_desc *d)
{
	struct xmem_name *name = d->name;

	lockdep_assert_held(&d->lock);
	if (!name)
		return false;
	xa_erase(&xmem_names, name->id);
	d->name = NULL;
	xmem_name_free(name);
	return true;
}

/*
 * The last file is gone, so is every mapping: detach now or at the last
 * lightweight detach.
 */
static void xmem_desc_last_put(struct kref *ref)
{
	struct xmem_desc *d = container_of(ref, struct xmem_desc, ref);

	mutex_lock(&d->lock);
	xmem_unpublish(d);
	mutex_unlock(&d->lock);
	xmem_map_destroy(d->map);
	d->map = NULL;
	iput(d->inode);
	d->inode = NULL;
	if (d->detached)
		xmem_desc_free(&d->xm);
	else
		xmem_detach_orphan(&d->xm, xmem_desc_free);
}

static const struct file_operations xmem_desc_fops;

/*
 * A new file of @d, read-write or read-only, taking a reference to @d on
 * success.  Not installed in any fd table yet.
 */
static struct file *xmem_file_new(struct xmem_desc *d, bool writable,
				  bool owner)
{
	struct xmem_handle *h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	struct file *file;

	if (!h)
		return ERR_PTR(-ENOMEM);
	ihold(d->inode);
	file = alloc_file_pseudo(d->inode, xmem_mnt, "xmem",
				 writable ? O_RDWR : O_RDONLY, &xmem_desc_fops);
	if (IS_ERR(file)) {
		iput(d->inode);
		kfree(h);
		return file;
	}
	kref_get(&d->ref);
	h->d = d;
	h->owner = owner;
	file->private_data = h;
	return file;
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

static long xmem_ioc_attach(struct file *file, struct xmem_desc *d,
			    struct xmem_attach __user *uarg)
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
	if (write && (d->rdonly || !(file->f_mode & FMODE_WRITE)))
		return -EACCES;
	/* As for a detached descriptor: ENODEV means "no pool" here. */
	if (READ_ONCE(d->revoked))
		return -EINVAL;
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

static long xmem_ioc_xmdetach(struct xmem_handle *h, unsigned long arg)
{
	struct xmem_desc *d = h->d;
	int err;

	if (arg)
		return -EINVAL;
	if (!h->owner)
		return -EPERM;
	mutex_lock(&d->lock);
	err = xmdetach(&d->xm);
	if (!err) {
		d->detached = true;
		xmem_unpublish(d);
	}
	mutex_unlock(&d->lock);
	return err;
}

static long xmem_ioc_info(struct file *file, struct xmem_handle *h,
			  void __user *uarg)
{
	struct xmem_desc *d = h->d;
	struct xmem_info info = { .size = sizeof(info) }, in;
	long count;
	int err;

	/* In, the struct is checked as every other: no flags are defined. */
	err = xmem_get_args(&in, sizeof(in), uarg);
	if (err)
		return err;
	if (in.flags || in.id || in.__reserved)
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
	if (d->revoked)
		info.flags |= XMEM_INFO_REVOKED;
	if (d->name)
		info.id = d->name->id;
	mutex_unlock(&d->lock);
	if (d->rdonly || !(file->f_mode & FMODE_WRITE))
		info.flags |= XMEM_INFO_RDONLY;
	if (d->aspace)
		info.flags |= XMEM_INFO_ASPACE;
	if (!h->owner)
		info.flags |= XMEM_INFO_OPENED;
	/* A newer caller's larger struct: its tail was checked to be zero. */
	if (copy_to_user(uarg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long xmem_ioc_publish(struct xmem_handle *h,
			     struct xmem_publish __user *uarg)
{
	struct ipc_namespace *ns = xmem_ipc_ns();
	struct xmem_desc *d = h->d;
	struct xmem_publish args;
	struct xmem_name *name;
	int err;

	err = xmem_get_args(&args, sizeof(args), uarg);
	if (err)
		return err;
	if (args.flags || args.__reserved || (args.mode & ~0777))
		return -EINVAL;
	if (!h->owner)
		return -EPERM;
	name = kzalloc(sizeof(*name), GFP_KERNEL_ACCOUNT);
	if (!name)
		return -ENOMEM;
	name->d = d;
	name->ns = ns ? get_ipc_ns(ns) : NULL;
	name->uid = current_euid();
	name->gid = current_egid();
	name->mode = args.mode;
	mutex_lock(&d->lock);
	err = -EEXIST;
	if (d->name)
		goto unlock;
	err = -ENODEV;
	if (d->detached || d->revoked)
		goto unlock;
	/* Positive, and never reused: 2^63 publishes is a long time. */
	name->id = atomic64_inc_return(&xmem_name_seq);
	err = xa_insert(&xmem_names, name->id, name, GFP_KERNEL_ACCOUNT);
	if (err)
		goto unlock;
	if (put_user(name->id, &uarg->id)) {
		xa_erase(&xmem_names, name->id);
		err = -EFAULT;
		goto unlock;
	}
	d->name = name;
unlock:
	trace_xmem_name(&d->xm, err ? 0 : name->id, false, args.mode, err);
	mutex_unlock(&d->lock);
	if (err)
		xmem_name_free(name);
	return err;
}

static long xmem_ioc_unpublish(struct xmem_handle *h, unsigned long arg)
{
	struct xmem_desc *d = h->d;
	int err = 0;

	if (arg & ~XMEM_UNPUBLISH_REVOKE)
		return -EINVAL;
	if (!h->owner)
		return -EPERM;
	mutex_lock(&d->lock);
	if (!xmem_unpublish(d)) {
		err = -ENOENT;
	} else if (arg & XMEM_UNPUBLISH_REVOKE) {
		WRITE_ONCE(d->revoked, true);
		xmem_map_revoke(d->map);
	}
	mutex_unlock(&d->lock);
	return err;
}

static long xmem_desc_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct xmem_handle *h = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct xmem_desc *d = h->d;

	switch (cmd) {
	case XMEM_IOC_POOL_INIT:
		return xmem_ioc_pool_init(uarg);
	case XMEM_IOC_ATTACH:
		return xmem_ioc_attach(file, d, uarg);
	case XMEM_IOC_DETACH:
		return xmem_ioc_detach(d, uarg);
	case XMEM_IOC_XMDETACH:
		return xmem_ioc_xmdetach(h, arg);
	case XMEM_IOC_INFO:
		return xmem_ioc_info(file, h, uarg);
	case XMEM_IOC_PUBLISH:
		return xmem_ioc_publish(h, uarg);
	case XMEM_IOC_UNPUBLISH:
		return xmem_ioc_unpublish(h, arg);
	}
	return -ENOTTY;
}

static int xmem_desc_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct xmem_handle *h = file->private_data;

	return xmem_map_mmap(h->d->map, vma);
}

/*
 * A file's last reference.  The owner's takes the name away; the last of
 * all detaches the descriptor, now or at its last lightweight detach.
 */
static int xmem_desc_release(struct inode *inode, struct file *file)
{
	struct xmem_handle *h = file->private_data;
	struct xmem_desc *d = h->d;

	if (h->owner) {
		mutex_lock(&d->lock);
		xmem_unpublish(d);
		mutex_unlock(&d->lock);
	}
	kfree(h);
	kref_put(&d->ref, xmem_desc_last_put);
	return 0;
}

static void xmem_desc_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct xmem_handle *h = file->private_data;
	struct xmem_desc *d = h->d;
	u64 id;
	long count;

	mutex_lock(&d->lock);
	count = d->detached ? -1 : xmem_lw_count(&d->xm);
	id = d->name ? d->name->id : 0;
	mutex_unlock(&d->lock);
	seq_printf(m, "xmem-length:\t%zu\n", d->length);
	seq_printf(m, "xmem-kind:\t%s\n", d->aspace ? "aspace" : "pinned");
	seq_printf(m, "xmem-access:\t%s\n",
		   d->rdonly || !(file->f_mode & FMODE_WRITE) ? "ro" : "rw");
	seq_printf(m, "xmem-file:\t%s\n", h->owner ? "owner" : "opened");
	if (id)
		seq_printf(m, "xmem-id:\t%llu\n", id);
	if (count < 0)
		seq_puts(m, "xmem-state:\tdetached\n");
	else
		seq_printf(m, "xmem-state:\t%s\nxmem-attachments:\t%ld\n",
			   READ_ONCE(d->revoked) ? "revoked" : "attached",
			   count);
}

static const struct file_operations xmem_desc_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= xmem_desc_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= xmem_desc_mmap,
	.release	= xmem_desc_release,
	.show_fdinfo	= xmem_desc_show_fdinfo,
	.llseek		= noop_llseek,
};

static long xmem_ioc_create(void __user *uarg)
{
	struct xmem_create args;
	struct xmem_desc *d;
	struct file *file;
	bool rdonly, aspace;
	int err, fd;

	err = xmem_get_args(&args, sizeof(args), uarg);
	if (err)
		return err;
	if (args.flags & ~(XMEM_CREATE_RDONLY | XMEM_CREATE_CLOEXEC |
			   XMEM_CREATE_ASPACE))
		return -EINVAL;
	rdonly = args.flags & XMEM_CREATE_RDONLY;
	aspace = args.flags & XMEM_CREATE_ASPACE;
	if (aspace && !args.addr && args.length == XMEM_LENGTH_ALL)
		args.length = TASK_SIZE;
	d = kzalloc(sizeof(*d), GFP_KERNEL_ACCOUNT);
	if (!d)
		return -ENOMEM;
	xmem_init(&d->xm);
	mutex_init(&d->lock);
	kref_init(&d->ref);
	fd = get_unused_fd_flags(O_RDWR |
				 (args.flags & XMEM_CREATE_CLOEXEC ? O_CLOEXEC : 0));
	if (fd < 0) {
		err = fd;
		goto free;
	}
	if (aspace)
		err = xmem_attach_aspace(args.addr, args.length, &d->xm, rdonly);
	else
		err = xmem_attach_lw(args.addr, args.length, &d->xm, rdonly);
	if (err)
		goto put_fd;
	d->rdonly = d->xm.xmemflags & XMEM_RDONLY;
	d->aspace = aspace;
	d->length = d->xm.xm_len;
	d->page_offset = offset_in_page(d->xm.vaddr);
	d->inode = alloc_anon_inode(xmem_mnt->mnt_sb);
	if (IS_ERR(d->inode)) {
		err = PTR_ERR(d->inode);
		goto detach;
	}
	d->map = xmem_map_create(&d->xm, d->inode->i_mapping);
	if (IS_ERR(d->map)) {
		err = PTR_ERR(d->map);
		goto iput;
	}
	file = xmem_file_new(d, !d->rdonly, true);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto destroy;
	}
	/* The file holds the descriptor now; drop the creation reference. */
	kref_put(&d->ref, xmem_desc_last_put);
	fd_install(fd, file);
	return fd;

destroy:
	xmem_map_destroy(d->map);
iput:
	iput(d->inode);
detach:
	/* Nobody else has seen it: nothing can be attached. */
	WARN_ON_ONCE(xmdetach(&d->xm));
put_fd:
	put_unused_fd(fd);
free:
	xmem_desc_free(&d->xm);
	return err;
}

/*
 * ipcperms(): the publisher's mode bits for the caller (owner, group,
 * other), or CAP_IPC_OWNER in the user namespace of the name's IPC
 * namespace.
 */
static bool xmem_name_permits(kuid_t uid, kgid_t gid, umode_t mode,
			      struct ipc_namespace *ns, bool write)
{
	int want = write ? 6 : 4, granted = mode;

	if (uid_eq(current_euid(), uid))
		granted >>= 6;
	else if (in_group_p(gid))
		granted >>= 3;
	if (!(want & ~granted & 7))
		return true;
	return ns_capable(ns ? ns->user_ns : &init_user_ns, CAP_IPC_OWNER);
}

/*
 * The descriptor published as @id in the caller's IPC namespace, with a
 * reference, and who published it with what mode; NULL if there is none.
 */
static struct xmem_desc *xmem_name_lookup(u64 id, kuid_t *uid, kgid_t *gid,
					  umode_t *mode)
{
	struct xmem_desc *d = NULL;
	struct xmem_name *name;

	xa_lock(&xmem_names);
	name = xa_load(&xmem_names, id);
	if (name && name->ns == xmem_ipc_ns() &&
	    kref_get_unless_zero(&name->d->ref)) {
		d = name->d;
		*uid = name->uid;
		*gid = name->gid;
		*mode = name->mode;
	}
	xa_unlock(&xmem_names);
	return d;
}

static long xmem_ioc_open(void __user *uarg)
{
	struct xmem_desc *d;
	struct xmem_open args;
	struct file *file;
	umode_t mode = 0;
	kuid_t uid;
	kgid_t gid;
	bool write;
	int err, fd;

	err = xmem_get_args(&args, sizeof(args), uarg);
	if (err)
		return err;
	if (args.flags & ~(XMEM_OPEN_WRITE | XMEM_OPEN_CLOEXEC))
		return -EINVAL;
	write = args.flags & XMEM_OPEN_WRITE;
	d = xmem_name_lookup(args.id, &uid, &gid, &mode);
	err = -ENOENT;
	if (!d)
		goto out;
	/* The caller's namespace is the name's: it holds it for us. */
	err = -EACCES;
	if (!xmem_name_permits(uid, gid, mode, xmem_ipc_ns(), write) ||
	    (write && d->rdonly))
		goto out;
	fd = get_unused_fd_flags(O_RDWR |
				 (args.flags & XMEM_OPEN_CLOEXEC ? O_CLOEXEC : 0));
	if (fd < 0) {
		err = fd;
		goto out;
	}
	file = xmem_file_new(d, write, false);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		err = PTR_ERR(file);
		goto out;
	}
	fd_install(fd, file);
	err = fd;
out:
	trace_xmem_name(d ? &d->xm : NULL, args.id, true, write ? 06 : 04,
			err < 0 ? err : 0);
	if (d)
		kref_put(&d->ref, xmem_desc_last_put);
	return err;
}

static long xmem_ioc_unmap(void __user *uarg)
{
	struct xmem_unmap args;
	int err;

	err = xmem_get_args(&args, sizeof(args), uarg);
	if (err)
		return err;
	if (args.flags)
		return -EINVAL;
	return xmem_map_unmap(untagged_addr(args.addr));
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
	case XMEM_IOC_OPEN:
		return xmem_ioc_open(uarg);
	case XMEM_IOC_UNMAP:
		return xmem_ioc_unmap(uarg);
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

static int xmem_init_fs_context(struct fs_context *fc)
{
	if (!init_pseudo(fc, XMEM_MAGIC))
		return -ENOMEM;
	/*
	 * Another process's memory is data: a descriptor file is never
	 * mapped executable (mmap() PROT_EXEC gets -EPERM, mprotect() to
	 * add it -EACCES), as for anon_inodefs' files.
	 */
	fc->s_iflags |= SB_I_NOEXEC | SB_I_NODEV;
	return 0;
}

static struct file_system_type xmem_fs = {
	.name		= "xmem",
	.init_fs_context = xmem_init_fs_context,
	.kill_sb	= kill_anon_super,
};

static int __init xmem_dev_init(void)
{
	xmem_mnt = kern_mount(&xmem_fs);
	if (IS_ERR(xmem_mnt))
		return PTR_ERR(xmem_mnt);
	return misc_register(&xmem_miscdev);
}
device_initcall(xmem_dev_init);
