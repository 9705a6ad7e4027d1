/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/xmem: cross-memory descriptors and lightweight attach for user space.
 *
 * A process turns a range of its own memory into a descriptor file
 * (XMEM_IOC_CREATE on /dev/xmem): the pages are pinned and charged to its
 * RLIMIT_MEMLOCK.  The descriptor file is the capability: a process that
 * receives it (SCM_RIGHTS, fork) sets up its lightweight pool once
 * (XMEM_IOC_POOL_INIT) and attaches and detaches ranges of the descriptor in
 * its calling thread's window (XMEM_IOC_ATTACH, XMEM_IOC_DETACH), with the
 * error codes of as_lw_pool_init(), as_lw_att64() and as_lw_det64().
 * XMEM_IOC_XMDETACH releases the pins explicitly (-EBUSY while attached);
 * the last close of the descriptor file does it too.
 *
 * Every argument struct starts with its size, which the caller sets to
 * sizeof() of the struct it was built with; reserved fields and unknown
 * flags must be zero.  See Documentation/mm/xmem.rst.
 */
#ifndef _UAPI_LINUX_XMEM_H
#define _UAPI_LINUX_XMEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define XMEM_IOC_MAGIC		0xB9

/* XMEM_IOC_CREATE flags */
#define XMEM_CREATE_RDONLY	(1U << 0)	/* never attached writable */
#define XMEM_CREATE_CLOEXEC	(1U << 1)	/* O_CLOEXEC on the new fd */

/**
 * struct xmem_create - XMEM_IOC_CREATE, on /dev/xmem
 * @size: sizeof(struct xmem_create)
 * @flags: XMEM_CREATE_RDONLY, XMEM_CREATE_CLOEXEC
 * @addr: first byte of a range of the caller's memory (any alignment)
 * @length: bytes in the range, not zero
 *
 * Returns the new descriptor fd.  Errors: those of xmattach() with
 * LW_XMATTACH (EFAULT for a range that is not mapped and readable or cannot
 * be pinned, ENOMEM over RLIMIT_MEMLOCK, EINVAL for a zero or wrapping
 * length), and EINVAL, E2BIG, EFAULT, EMFILE as for every ioctl here.
 */
struct xmem_create {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 length;
};

/* XMEM_IOC_POOL_INIT flags */
#define XMEM_POOL_DEBUG		(1U << 0)	/* LW_DEBUG */

/**
 * struct xmem_pool_init - XMEM_IOC_POOL_INIT, on /dev/xmem or a descriptor
 * @size: sizeof(struct xmem_pool_init)
 * @flags: 0 or XMEM_POOL_DEBUG
 * @pool_size: bytes each thread may have attached at once
 *
 * as_lw_pool_init() for the calling process: EINVAL, EEXIST, ENOSYS, EPERM.
 */
struct xmem_pool_init {
	__u32 size;
	__u32 flags;
	__u64 pool_size;
};

/* XMEM_IOC_ATTACH flags */
#define XMEM_ATTACH_WRITE	(1U << 0)	/* map writable */

/**
 * struct xmem_attach - XMEM_IOC_ATTACH, on a descriptor
 * @size: sizeof(struct xmem_attach)
 * @flags: XMEM_ATTACH_WRITE for a writable mapping (EACCES on a read-only
 *	descriptor); without it the mapping is read-only
 * @offset: first byte, from the start of the descriptor's range
 * @length: bytes to map
 * @addr: out: the address of byte @offset in the calling thread's window
 * @__reserved: must be zero
 *
 * as_lw_att64() in the calling thread: ENODEV, EINVAL, ENOMEM, EIO, ENOSYS,
 * EPERM, and EINTR if a fatal signal interrupts the thread's first attach.
 */
struct xmem_attach {
	__u32 size;
	__u32 flags;
	__u64 offset;
	__u64 length;
	__u64 addr;
	__u64 __reserved;
};

/**
 * struct xmem_detach - XMEM_IOC_DETACH, on a descriptor
 * @size: sizeof(struct xmem_detach)
 * @flags: must be zero
 * @addr: the address XMEM_IOC_ATTACH returned
 * @length: the length given to XMEM_IOC_ATTACH
 *
 * as_lw_det64() in the calling thread: ENOMEM (the thread never attached),
 * EINVAL (not exactly one of its attachments of this descriptor), EIO,
 * ENOSYS, EPERM.
 */
struct xmem_detach {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 length;
};

/* struct xmem_info flags */
#define XMEM_INFO_RDONLY	(1U << 0)	/* never attached writable */
#define XMEM_INFO_DETACHED	(1U << 1)	/* XMEM_IOC_XMDETACH done */

/**
 * struct xmem_info - XMEM_IOC_INFO, on a descriptor
 * @size: sizeof(struct xmem_info)
 * @flags: in: zero; out: XMEM_INFO_RDONLY, XMEM_INFO_DETACHED
 * @length: out: bytes in the descriptor's range
 * @page_offset: out: offset of its first byte in its page
 * @attachments: out: lightweight attachments outstanding, all processes
 * @__reserved: in: zero; out: zero
 */
struct xmem_info {
	__u32 size;
	__u32 flags;
	__u64 length;
	__u64 page_offset;
	__u64 attachments;
	__u64 __reserved[2];
};

/*
 * The argument is a pointer to the struct named (the size encoded in the
 * number is that of its first version; the struct's own size field is what
 * counts), or 0 for XMEM_IOC_XMDETACH.
 */
#define XMEM_IOC_CREATE		_IOW(XMEM_IOC_MAGIC, 0x00, struct xmem_create)
#define XMEM_IOC_POOL_INIT	_IOW(XMEM_IOC_MAGIC, 0x01, struct xmem_pool_init)
#define XMEM_IOC_ATTACH		_IOWR(XMEM_IOC_MAGIC, 0x02, struct xmem_attach)
#define XMEM_IOC_DETACH		_IOW(XMEM_IOC_MAGIC, 0x03, struct xmem_detach)
#define XMEM_IOC_XMDETACH	_IO(XMEM_IOC_MAGIC, 0x04)
#define XMEM_IOC_INFO		_IOWR(XMEM_IOC_MAGIC, 0x05, struct xmem_info)

#endif /* _UAPI_LINUX_XMEM_H */
