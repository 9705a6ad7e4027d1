// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libxpmem: the XPMEM interface over /dev/xmem.
 *
 * How each call maps onto the kernel (include/uapi/linux/xmem.h):
 *
 *   xpmem_make      XMEM_IOC_CREATE (XMEM_CREATE_ASPACE: nothing pinned,
 *                   holes allowed) + XMEM_IOC_PUBLISH; the segid is the
 *                   published id, the owner's descriptor fd is kept here
 *   xpmem_remove    XMEM_IOC_UNPUBLISH (XMEM_UNPUBLISH_REVOKE: every
 *                   mapping of the segment faults from then on) + close
 *   xpmem_get       XMEM_IOC_OPEN, read-only or read-write; the apid names
 *                   the new descriptor fd
 *   xpmem_release   close of that fd
 *   xpmem_attach    mmap() of that fd, MAP_SHARED (MAP_FIXED at vaddr)
 *   xpmem_detach    XMEM_IOC_UNMAP: the whole mapping at that address
 *
 * The kernel does the rest: permissions, coherence with the owner's page
 * tables, SIGBUS after a remove or the owner's exit, no inheritance across
 * fork().  Thread-safe: the only state here is the /dev/xmem fd, opened
 * once, and the table of this process's own segments under a mutex.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/xmem.h>

#include "xpmem.h"

#define XMEM_DEV_PATH	"/dev/xmem"

/*
 * The XPMEM interface version this library implements: the out-of-tree
 * module's 2.7.4, whose header and calls it matches.
 */
#define XPMEM_INTERFACE_VERSION	0x00027004

/*
 * An apid is the descriptor fd it names, tagged so that a stray integer
 * (or a segid) is refused: positive, and never 0 or -1.
 */
#define APID_TAG	((xpmem_apid_t)0x786d << 32)
#define APID_FD_MASK	0xffffffffLL

static int dev_fd = -1;
static pthread_once_t dev_once = PTHREAD_ONCE_INIT;
static int dev_errno;

/* This process's segments: their ids and the owner fds that keep them. */
struct segment {
	xpmem_segid_t segid;
	int fd;
	pid_t pid;	/* the process that made it: a forked child did not */
};

static pthread_mutex_t seg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct segment *segs;
static size_t nsegs, segs_cap;

static void dev_open(void)
{
	dev_fd = open(XMEM_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (dev_fd < 0)
		dev_errno = errno;
}

/**
 * xpmem_init() - open /dev/xmem once for the process
 *
 * Every call does it when needed; configure scripts look for the symbol.
 * Return: 0, or -1 with errno (ENOENT without the device).
 */
int xpmem_init(void)
{
	pthread_once(&dev_once, dev_open);
	if (dev_fd < 0) {
		errno = dev_errno;
		return -1;
	}
	return 0;
}

/**
 * xpmem_ioctl() - an ioctl on the library's /dev/xmem fd
 * @cmd: an XMEM_IOC_* command of /dev/xmem (XPMEM module commands are
 *	not understood: ENOTTY)
 * @arg: its argument
 *
 * Return: what ioctl() returns, -1 with errno on failure.
 */
int xpmem_ioctl(int cmd, void *arg)
{
	if (xpmem_init())
		return -1;
	return ioctl(dev_fd, (unsigned int)cmd, arg);
}

/**
 * xpmem_version() - the XPMEM interface version implemented
 *
 * Return: 0x00027004 (2.7.4), or -1 with errno without /dev/xmem.
 */
int xpmem_version(void)
{
	return xpmem_init() ? -1 : XPMEM_INTERFACE_VERSION;
}

static int seg_add(xpmem_segid_t segid, int fd)
{
	int ret = 0;

	pthread_mutex_lock(&seg_lock);
	if (nsegs == segs_cap) {
		size_t cap = segs_cap ? 2 * segs_cap : 16;
		struct segment *n = realloc(segs, cap * sizeof(*n));

		if (!n) {
			ret = -1;
			goto out;
		}
		segs = n;
		segs_cap = cap;
	}
	segs[nsegs++] = (struct segment){ segid, fd, getpid() };
out:
	pthread_mutex_unlock(&seg_lock);
	return ret;
}

/* Take @segid out of the table: its owner fd, or -1 if it is not ours. */
static int seg_take(xpmem_segid_t segid)
{
	pid_t pid = getpid();
	int fd = -1;
	size_t i;

	pthread_mutex_lock(&seg_lock);
	for (i = 0; i < nsegs; i++) {
		if (segs[i].segid == segid && segs[i].pid == pid) {
			fd = segs[i].fd;
			segs[i] = segs[--nsegs];
			break;
		}
	}
	pthread_mutex_unlock(&seg_lock);
	return fd;
}

/* Close @fd keeping the caller's errno. */
static void close_keep_errno(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
}

/**
 * xpmem_make() - export a range of this process's address space
 * @vaddr: its first byte, page-aligned; NULL with XPMEM_MAXADDR_SIZE for
 *	the whole address space
 * @size: its length, a multiple of the page size, or XPMEM_MAXADDR_SIZE
 * @permit_type: XPMEM_PERMIT_MODE
 * @permit_value: the mode, (void *)0600 for instance: 0777 at most
 *
 * Nothing is pinned or charged: a process that attaches the segment sees
 * this process's memory as it is at the time of each touch.
 *
 * Return: the segid, positive; -1 with errno: EINVAL (a bad permit, an
 * unaligned or wrapping range), EFAULT (past the address space), EMFILE,
 * ENOMEM, ENOENT (no /dev/xmem).
 */
xpmem_segid_t xpmem_make(void *vaddr, size_t size, int permit_type,
			 void *permit_value)
{
	uintptr_t mode = (uintptr_t)permit_value;
	struct xmem_create c = {
		.size = sizeof(c),
		.flags = XMEM_CREATE_ASPACE | XMEM_CREATE_CLOEXEC,
		.addr = (uintptr_t)vaddr,
		.length = size == XPMEM_MAXADDR_SIZE ? XMEM_LENGTH_ALL : size,
	};
	struct xmem_publish p = { .size = sizeof(p) };
	int fd;

	if (permit_type != XPMEM_PERMIT_MODE || (mode & ~(uintptr_t)0777)) {
		errno = EINVAL;
		return -1;
	}
	if (xpmem_init())
		return -1;
	fd = ioctl(dev_fd, XMEM_IOC_CREATE, &c);
	if (fd < 0)
		return -1;
	p.mode = mode;
	if (ioctl(fd, XMEM_IOC_PUBLISH, &p) || seg_add(p.id, fd)) {
		close_keep_errno(fd);
		return -1;
	}
	return p.id;
}

/**
 * xpmem_remove() - end a segment this process made
 * @segid: what xpmem_make() returned
 *
 * Nobody can xpmem_get() it any more, and every attachment of it, in any
 * process, gets SIGBUS on its next touch.
 *
 * Return: 0; -1 with errno EINVAL if @segid is not a segment this process
 * made and has not removed.
 */
int xpmem_remove(xpmem_segid_t segid)
{
	int fd = seg_take(segid);

	if (fd < 0) {
		errno = EINVAL;
		return -1;
	}
	if (ioctl(fd, XMEM_IOC_UNPUBLISH, XMEM_UNPUBLISH_REVOKE)) {
		close_keep_errno(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/**
 * xpmem_get() - get access to a segment
 * @segid: its id
 * @flags: XPMEM_RDONLY or XPMEM_RDWR
 * @permit_type: XPMEM_PERMIT_MODE
 * @permit_value: ignored, as by XPMEM
 *
 * The segment's mode is checked against the caller, as for a System V IPC
 * object (CAP_IPC_OWNER bypasses it).
 *
 * Return: the apid, valid in this process; -1 with errno: ENOENT (no such
 * segment, or removed, or in another IPC namespace), EACCES, EINVAL, EMFILE.
 */
xpmem_apid_t xpmem_get(xpmem_segid_t segid, int flags, int permit_type,
		       void *permit_value)
{
	struct xmem_open o = {
		.size = sizeof(o),
		.flags = XMEM_OPEN_CLOEXEC |
			 (flags == XPMEM_RDWR ? XMEM_OPEN_WRITE : 0),
		.id = segid,
	};
	int fd;

	(void)permit_value;
	if ((flags != XPMEM_RDONLY && flags != XPMEM_RDWR) ||
	    permit_type != XPMEM_PERMIT_MODE || segid <= 0) {
		errno = EINVAL;
		return -1;
	}
	if (xpmem_init())
		return -1;
	fd = ioctl(dev_fd, XMEM_IOC_OPEN, &o);
	if (fd < 0)
		return -1;
	return APID_TAG | fd;
}

/* The descriptor fd @apid names, and its access; -1 with EINVAL if none. */
static int apid_fd(xpmem_apid_t apid, bool *rdonly)
{
	struct xmem_info info = { .size = sizeof(info) };
	int fd = apid & APID_FD_MASK;

	if ((apid & ~APID_FD_MASK) != APID_TAG ||
	    ioctl(fd, XMEM_IOC_INFO, &info) || !(info.flags & XMEM_INFO_OPENED)) {
		errno = EINVAL;
		return -1;
	}
	*rdonly = info.flags & XMEM_INFO_RDONLY;
	return fd;
}

/**
 * xpmem_release() - give access back
 * @apid: what xpmem_get() returned
 *
 * Attachments made through @apid stay until they are detached.
 *
 * Return: 0; -1 with errno EINVAL for an apid that is not one.
 */
int xpmem_release(xpmem_apid_t apid)
{
	bool rdonly;
	int fd = apid_fd(apid, &rdonly);

	return fd < 0 ? -1 : close(fd);
}

/**
 * xpmem_attach() - map part of a segment into this process
 * @addr: the apid, and the offset into the segment: page-aligned
 * @size: bytes; rounded up to pages
 * @vaddr: where (page-aligned; what is there is replaced), or NULL
 *
 * An ordinary shared mapping, read-write if the apid is: every thread
 * uses it, any thread detaches it, fork() does not copy it.  A touch where
 * the owner has no memory, or after xpmem_remove() or the owner's exit, is
 * SIGBUS.
 *
 * Return: the address; (void *)-1 with errno: EINVAL (a bad apid, an
 * unaligned offset or vaddr, a zero size, a range past the segment),
 * ENODEV (the segment is removed), ENOMEM.
 */
void *xpmem_attach(struct xpmem_addr addr, size_t size, void *vaddr)
{
	long page = sysconf(_SC_PAGESIZE);
	bool rdonly;
	int fd = apid_fd(addr.apid, &rdonly);

	if (fd < 0)
		return (void *)-1;
	if (!size || addr.offset < 0 || (addr.offset & (page - 1)) ||
	    ((uintptr_t)vaddr & (page - 1)) || size > SIZE_MAX - page) {
		errno = EINVAL;
		return (void *)-1;
	}
	size = (size + page - 1) & ~(size_t)(page - 1);
	return mmap(vaddr, size, PROT_READ | (rdonly ? 0 : PROT_WRITE),
		    MAP_SHARED | (vaddr ? MAP_FIXED : 0), fd, addr.offset);
}

/**
 * xpmem_detach() - unmap what xpmem_attach() mapped
 * @vaddr: the address it returned
 *
 * Return: 0, also when nothing is mapped at @vaddr (as XPMEM); -1 with
 * errno EINVAL if what is mapped there is not an attachment's start.
 */
int xpmem_detach(void *vaddr)
{
	struct xmem_unmap u = { .size = sizeof(u), .addr = (uintptr_t)vaddr };

	if (xpmem_init())
		return -1;
	if (ioctl(dev_fd, XMEM_IOC_UNMAP, &u) == 0)
		return 0;
	return errno == ENOENT ? 0 : -1;
}
