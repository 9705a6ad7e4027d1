/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * xpmem.h: the XPMEM programming interface, over /dev/xmem.
 *
 * Source-compatible with the header of the out-of-tree XPMEM module that
 * Open MPI, MPICH, UCX and OpenSHMEM are built against: the same types,
 * constants and prototypes, so a program built for XPMEM builds and runs
 * against libxpmem.so.0 of lw-mm unchanged.  Every call returns -1
 * ((void *)-1 for xpmem_attach()) and sets errno on failure.  See
 * Documentation/userspace-api/xmem.rst, "XPMEM".
 */
#ifndef XPMEM_H
#define XPMEM_H

#include <linux/types.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A segment: what xpmem_make() exports. */
typedef __s64 xpmem_segid_t;
/* Access to a segment, valid in the process that xpmem_get() it. */
typedef __s64 xpmem_apid_t;

/* What xpmem_attach() maps: @offset bytes into the segment of @apid. */
struct xpmem_addr {
	xpmem_apid_t apid;
	off_t offset;
};

/* xpmem_make() size: the whole address space (with a NULL vaddr). */
#define XPMEM_MAXADDR_SIZE	((size_t)-1L)

/* An errno the XPMEM module uses for a process it does not know. */
#define XPMEM_ERRNO_NOPROC	2004

/* xpmem_get() flags */
#define XPMEM_RDONLY	0x1
#define XPMEM_RDWR	0x2

/* xpmem_make() and xpmem_get() permit types */
enum {
	/* The permit value is a mode, (void *)0666: 0777 at most. */
	XPMEM_PERMIT_MODE = 0x1,
};

int xpmem_version(void);
xpmem_segid_t xpmem_make(void *vaddr, size_t size, int permit_type,
			 void *permit_value);
int xpmem_remove(xpmem_segid_t segid);
xpmem_apid_t xpmem_get(xpmem_segid_t segid, int flags, int permit_type,
		       void *permit_value);
int xpmem_release(xpmem_apid_t apid);
void *xpmem_attach(struct xpmem_addr addr, size_t size, void *vaddr);
int xpmem_detach(void *vaddr);

/* What configure scripts probe for; not needed by programs. */
int xpmem_init(void);
int xpmem_ioctl(int cmd, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* XPMEM_H */
