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
 * XMEM_CREATE_ASPACE makes an address-space descriptor instead: a range of
 * the caller's address space, up to all of it, with holes, nothing pinned
 * or charged.  Either kind can be mmap()ed (MAP_SHARED) from its file: a
 * process-wide attachment that every thread uses and any thread unmaps,
 * never inherited by fork, counted as an attachment by XMEM_IOC_XMDETACH.
 * A mapping of an address-space descriptor stays coherent with the
 * owner's memory: a touch finds the owner's current page, or gets SIGBUS
 * where the owner has none (a hole, an unmapped range, an exited owner).
 *
 * A descriptor can be published under a 64-bit id (XMEM_IOC_PUBLISH) with
 * a mode checked like a System V IPC object's; XMEM_IOC_OPEN on /dev/xmem
 * opens a published id, in the caller's IPC namespace, as a new descriptor
 * file, read-only or read-write.  XMEM_IOC_UNPUBLISH removes the name and,
 * with XMEM_UNPUBLISH_REVOKE, every mapping of the descriptor.  This is
 * what the XPMEM-compatible library (tools/xpmem) is built on.
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
#define XMEM_CREATE_ASPACE	(1U << 2)	/* an address-space descriptor */

/* XMEM_IOC_CREATE with XMEM_CREATE_ASPACE, @addr 0: the whole address space */
#define XMEM_LENGTH_ALL		(~0ULL)

/**
 * struct xmem_create - XMEM_IOC_CREATE, on /dev/xmem
 * @size: sizeof(struct xmem_create)
 * @flags: XMEM_CREATE_RDONLY, XMEM_CREATE_CLOEXEC, XMEM_CREATE_ASPACE
 * @addr: first byte of a range of the caller's memory (any alignment;
 *	page-aligned with XMEM_CREATE_ASPACE)
 * @length: bytes in the range, not zero (a multiple of the page size with
 *	XMEM_CREATE_ASPACE, or XMEM_LENGTH_ALL with @addr 0)
 *
 * Returns the new descriptor fd.  Errors: those of xmattach() with
 * LW_XMATTACH (EFAULT for a range that is not mapped and readable or cannot
 * be pinned, ENOMEM over RLIMIT_MEMLOCK, EINVAL for a zero or wrapping
 * length), and EINVAL, E2BIG, EFAULT, EMFILE as for every ioctl here.  With
 * XMEM_CREATE_ASPACE: EINVAL for an unaligned range, EFAULT for one past
 * the end of the user address space.
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
#define XMEM_INFO_RDONLY	(1U << 0)	/* not writable through this file */
#define XMEM_INFO_DETACHED	(1U << 1)	/* XMEM_IOC_XMDETACH done */
#define XMEM_INFO_ASPACE	(1U << 2)	/* an address-space descriptor */
#define XMEM_INFO_OPENED	(1U << 3)	/* this file is from XMEM_IOC_OPEN */
#define XMEM_INFO_REVOKED	(1U << 4)	/* XMEM_UNPUBLISH_REVOKE done */

/**
 * struct xmem_info - XMEM_IOC_INFO, on a descriptor
 * @size: sizeof(struct xmem_info)
 * @flags: in: zero; out: XMEM_INFO_*
 * @length: out: bytes in the descriptor's range
 * @page_offset: out: offset of its first byte in its page
 * @attachments: out: attachments outstanding, all processes: lightweight
 *	ones and mappings (one per VMA)
 * @id: in: zero; out: the id it is published under, 0 if none
 * @__reserved: in: zero; out: zero
 */
struct xmem_info {
	__u32 size;
	__u32 flags;
	__u64 length;
	__u64 page_offset;
	__u64 attachments;
	__u64 id;
	__u64 __reserved;
};

/**
 * struct xmem_publish - XMEM_IOC_PUBLISH, on a descriptor its owner created
 * @size: sizeof(struct xmem_publish)
 * @flags: must be zero
 * @mode: permission bits (0777 at most), checked against the publisher's
 *	effective uid and gid as for a System V IPC object: read to open
 *	read-only, read and write to open read-write; CAP_IPC_OWNER in the
 *	IPC namespace's user namespace bypasses them
 * @__reserved: must be zero
 * @id: out: the id, positive, never reused
 *
 * The name lasts until XMEM_IOC_UNPUBLISH or the last close of the owner's
 * file.  Errors: EPERM on a file from XMEM_IOC_OPEN, EEXIST if already
 * published, ENODEV if detached or revoked, EINVAL, E2BIG, EFAULT.
 */
struct xmem_publish {
	__u32 size;
	__u32 flags;
	__u32 mode;
	__u32 __reserved;
	__u64 id;
};

/* XMEM_IOC_UNPUBLISH argument */
#define XMEM_UNPUBLISH_REVOKE	(1U << 0)	/* and end every mapping */

/* XMEM_IOC_OPEN flags */
#define XMEM_OPEN_WRITE		(1U << 0)	/* read-write (else read-only) */
#define XMEM_OPEN_CLOEXEC	(1U << 1)	/* O_CLOEXEC on the new fd */

/**
 * struct xmem_open - XMEM_IOC_OPEN, on /dev/xmem
 * @size: sizeof(struct xmem_open)
 * @flags: XMEM_OPEN_WRITE, XMEM_OPEN_CLOEXEC
 * @id: an id published in the caller's IPC namespace
 *
 * Returns a new descriptor fd for the published descriptor, which maps,
 * attaches and reports XMEM_IOC_INFO like the owner's but cannot publish,
 * unpublish or XMEM_IOC_XMDETACH it (EPERM).  Errors: ENOENT for an id that
 * is not published here, EACCES if the mode refuses the access (or
 * XMEM_OPEN_WRITE of a read-only descriptor), EINVAL, E2BIG, EFAULT,
 * EMFILE.
 */
struct xmem_open {
	__u32 size;
	__u32 flags;
	__u64 id;
};

/**
 * struct xmem_unmap - XMEM_IOC_UNMAP, on /dev/xmem
 * @size: sizeof(struct xmem_unmap)
 * @flags: must be zero
 * @addr: an address mmap() of a descriptor returned
 *
 * munmap() of that mapping, all of it (with the pieces mprotect() split it
 * into), from any thread of the process.  Errors: ENOENT if nothing is
 * mapped at @addr, EINVAL if it is not the start of a descriptor's mapping
 * (both reported as misuse), EINVAL, E2BIG, EFAULT.
 */
struct xmem_unmap {
	__u32 size;
	__u32 flags;
	__u64 addr;
};

/*
 * The argument is a pointer to the struct named (the size encoded in the
 * number is that of its first version; the struct's own size field is what
 * counts), 0 for XMEM_IOC_XMDETACH, the flags for XMEM_IOC_UNPUBLISH.
 */
#define XMEM_IOC_CREATE		_IOW(XMEM_IOC_MAGIC, 0x00, struct xmem_create)
#define XMEM_IOC_POOL_INIT	_IOW(XMEM_IOC_MAGIC, 0x01, struct xmem_pool_init)
#define XMEM_IOC_ATTACH		_IOWR(XMEM_IOC_MAGIC, 0x02, struct xmem_attach)
#define XMEM_IOC_DETACH		_IOW(XMEM_IOC_MAGIC, 0x03, struct xmem_detach)
#define XMEM_IOC_XMDETACH	_IO(XMEM_IOC_MAGIC, 0x04)
#define XMEM_IOC_INFO		_IOWR(XMEM_IOC_MAGIC, 0x05, struct xmem_info)
#define XMEM_IOC_PUBLISH	_IOWR(XMEM_IOC_MAGIC, 0x06, struct xmem_publish)
#define XMEM_IOC_UNPUBLISH	_IO(XMEM_IOC_MAGIC, 0x07)
#define XMEM_IOC_OPEN		_IOW(XMEM_IOC_MAGIC, 0x08, struct xmem_open)
#define XMEM_IOC_UNMAP		_IOW(XMEM_IOC_MAGIC, 0x09, struct xmem_unmap)

#endif /* _UAPI_LINUX_XMEM_H */
