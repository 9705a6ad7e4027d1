/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libxmem.h: header-only helpers for /dev/xmem (include/uapi/linux/xmem.h).
 *
 * Every function returns 0 (or a file descriptor) on success and a negative
 * errno on failure, as libbpf does, and never changes errno's meaning: what
 * the kernel returned is what the caller gets.
 *
 *   int dev = xmem_open();                          open /dev/xmem
 *   int fd = xmem_create(dev, buf, len, flags);     share [buf, buf + len)
 *   xmem_send_fd(sock, fd); fd = xmem_recv_fd(sock) pass it (SCM_RIGHTS)
 *   xmem_pool_init(fd, pool_size, flags);           once per process
 *   xmem_attach(fd, off, len, XMEM_ATTACH_WRITE, &p) map into this thread
 *   xmem_detach(fd, p, len);                        unmap (same thread)
 *   xmem_xmdetach(fd);                              unpin now (or close())
 */
#ifndef LIBXMEM_H
#define LIBXMEM_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/xmem.h>

#define XMEM_DEV_PATH "/dev/xmem"

static inline int xmem_ret(long ret)
{
	return ret < 0 ? -errno : (int)ret;
}

/* Open /dev/xmem; the fd is close-on-exec. */
static inline int xmem_open(void)
{
	return xmem_ret(open(XMEM_DEV_PATH, O_RDWR | O_CLOEXEC));
}

/* A descriptor fd for [@addr, @addr + @len) of this process. */
static inline int xmem_create(int dev, const void *addr, size_t len,
			      unsigned int flags)
{
	struct xmem_create c = {
		.size = sizeof(c),
		.flags = flags,
		.addr = (uintptr_t)addr,
		.length = len,
	};

	return xmem_ret(ioctl(dev, XMEM_IOC_CREATE, &c));
}

/* as_lw_pool_init() for this process; @fd: /dev/xmem or a descriptor. */
static inline int xmem_pool_init(int fd, size_t pool_size, unsigned int flags)
{
	struct xmem_pool_init p = {
		.size = sizeof(p),
		.flags = flags,
		.pool_size = pool_size,
	};

	return xmem_ret(ioctl(fd, XMEM_IOC_POOL_INIT, &p));
}

/* Attach [@off, @off + @len) of descriptor @fd in this thread's window. */
static inline int xmem_attach(int fd, size_t off, size_t len,
			      unsigned int flags, void **addr)
{
	struct xmem_attach a = {
		.size = sizeof(a),
		.flags = flags,
		.offset = off,
		.length = len,
	};
	int ret = xmem_ret(ioctl(fd, XMEM_IOC_ATTACH, &a));

	if (!ret)
		*addr = (void *)(uintptr_t)a.addr;
	return ret;
}

/* Detach what xmem_attach() returned, from the same thread. */
static inline int xmem_detach(int fd, const void *addr, size_t len)
{
	struct xmem_detach d = {
		.size = sizeof(d),
		.addr = (uintptr_t)addr,
		.length = len,
	};

	return xmem_ret(ioctl(fd, XMEM_IOC_DETACH, &d));
}

/* Unpin now; -EBUSY while anything is attached. */
static inline int xmem_xmdetach(int fd)
{
	return xmem_ret(ioctl(fd, XMEM_IOC_XMDETACH, 0));
}

static inline int xmem_info(int fd, struct xmem_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return xmem_ret(ioctl(fd, XMEM_IOC_INFO, info));
}

/* A one-byte message with room for one SCM_RIGHTS fd. */
struct xmem_fd_msg {
	char data;
	struct iovec iov;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg;
};

static inline struct msghdr *xmem_fd_msg_init(struct xmem_fd_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->data = 'x';
	m->iov.iov_base = &m->data;
	m->iov.iov_len = 1;
	m->msg.msg_iov = &m->iov;
	m->msg.msg_iovlen = 1;
	m->msg.msg_control = m->u.buf;
	m->msg.msg_controllen = sizeof(m->u.buf);
	return &m->msg;
}

/* Send @fd over the unix socket @sock, with one byte of data. */
static inline int xmem_send_fd(int sock, int fd)
{
	struct xmem_fd_msg m;
	struct msghdr *msg = xmem_fd_msg_init(&m);
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Receive a descriptor fd sent by xmem_send_fd(); it is close-on-exec. */
static inline int xmem_recv_fd(int sock)
{
	struct xmem_fd_msg m;
	struct msghdr *msg = xmem_fd_msg_init(&m);
	struct cmsghdr *cmsg;
	ssize_t n;
	int fd;

	n = recvmsg(sock, msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	cmsg = CMSG_FIRSTHDR(msg);
	if (n == 0 || !cmsg || cmsg->cmsg_level != SOL_SOCKET ||
	    cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

#endif /* LIBXMEM_H */
