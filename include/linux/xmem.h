/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cross-memory descriptors: the AIX xmattach(), xmdetach(), xmemin() and
 * xmemout() kernel services, for code ported from AIX kernel extensions.
 *
 * A descriptor (struct xmem) names a range of memory so that code running
 * outside the process that owns it (another process, a kernel thread, an
 * interrupt handler) can reach it later:
 *
 *  - USER_ADSPACE records a range of the caller's address space without
 *    pinning it; xmemin()/xmemout() then copy through the owner's mm from
 *    process context.
 *  - LW_XMATTACH pins the range (a long-term FOLL_PIN) and charges the pages
 *    to the owner's RLIMIT_MEMLOCK, as io_uring and RDMA do; the descriptor can
 *    then be copied to and from in any context, and attached into other
 *    processes by the lightweight services of <linux/adspace.h>.
 *  - SYS_ADSPACE records a kernel buffer.
 *
 * Names, argument order and constant values are AIX's, so that ported code
 * changes one include line; errors follow the Linux convention (0 or a
 * negative errno).  See Documentation/mm/xmem.rst for the error mapping.
 */
#ifndef _LINUX_XMEM_H
#define _LINUX_XMEM_H

#include <linux/errno.h>
#include <linux/types.h>

/* Values of struct xmem::aspace_id. */
#define XMEM_PROC	0	/* a user address space (USER_ADSPACE, LW_XMATTACH) */
#define XMEM_GLOBAL	(-1)	/* kernel memory (SYS_ADSPACE) */
#define XMEM_INVAL	(-2)	/* free: required by xmattach(), set by xmdetach() */

/* Values of the segflag argument of xmattach(). */
#define USER_ADSPACE	0	/* a range of the caller's address space */
#define SYS_ADSPACE	1	/* a kernel buffer */
#define USERI_ADSPACE	2	/* AIX user instruction space: refused on Linux */
#define UIO_XMEM	3	/* AIX uio cross-memory: not a segflag, refused */
#define LW_XMATTACH	4	/* user range, pinned, lightweight-attachable */

/* Bits of struct xmem::xmemflags. */
#define XMEM_LW		0x04	/* attached with LW_XMATTACH */
#define XMEM_RDONLY	0x100	/* Linux: the range was not writable at attach time */

struct xmem_obj;

/**
 * struct xmem - cross-memory descriptor
 * @aspace_id: %XMEM_INVAL while free; %XMEM_PROC or %XMEM_GLOBAL while attached.
 * @num_sids: number of address ranges described: 1 while attached, else 0.
 * @subspace_id: AIX segment id; always 0 on Linux.
 * @vaddr: start address of the described range (user or kernel address).
 * @xmemflags: %XMEM_LW, %XMEM_RDONLY.
 * @prexflags: AIX private flags; always 0 on Linux.
 * @xm_amr: AIX authority mask for storage keys; always 0 on Linux.
 * @l2psize: log2 of the page size backing the range.
 * @xm_len: length in bytes of the described range (Linux).
 * @xm_priv: the private Linux object: owner mm, pinned pages, memlock charge,
 *	lightweight-attach count and deferred flushes.  Not for callers.
 * @xm_id: the attachment's id (Linux).  Not for callers.
 * @xm_gen: the attachment's generation, never reused (Linux).  Not for
 *	callers.
 *
 * The caller owns the memory of the descriptor; set @aspace_id to
 * %XMEM_INVAL (or use xmem_init()) before the first xmattach().  While the
 * descriptor is free only @aspace_id is looked at.
 *
 * A descriptor may be copied by value, as AIX code does (the b_xmemd idiom):
 * a copy reaches the same attachment as long as it lasts.  Once any copy is
 * xmdetach()ed, every other one is stale: each service refuses it with
 * -EINVAL (never reaching freed memory, whenever it is used), and it cannot
 * be attached again until xmem_init() makes it free.
 */
struct xmem {
	int aspace_id;
	int num_sids;
	unsigned long subspace_id;
	unsigned long vaddr;
	unsigned int xmemflags;
	unsigned int prexflags;
	u64 xm_amr;
	unsigned int l2psize;
	size_t xm_len;
	struct xmem_obj __rcu *xm_priv;
	u32 xm_id;
	u64 xm_gen;
};

/**
 * xmem_init() - initialise a descriptor to the free state
 * @dp: descriptor
 *
 * Context: Any context.
 */
static inline void xmem_init(struct xmem *dp)
{
	*dp = (struct xmem){ .aspace_id = XMEM_INVAL };
}

#ifdef CONFIG_XMEM
int xmattach(unsigned long addr, size_t count, struct xmem *dp, int segflag);
int xmdetach(struct xmem *dp);
int xmemin(unsigned long uaddr, void *kaddr, size_t count, struct xmem *dp);
int xmemout(const void *kaddr, unsigned long uaddr, size_t count, struct xmem *dp);
#else
static inline int xmattach(unsigned long addr, size_t count, struct xmem *dp,
			   int segflag)
{
	return -EOPNOTSUPP;
}

static inline int xmdetach(struct xmem *dp)
{
	return -EINVAL;
}

static inline int xmemin(unsigned long uaddr, void *kaddr, size_t count,
			 struct xmem *dp)
{
	return -EINVAL;
}

static inline int xmemout(const void *kaddr, unsigned long uaddr, size_t count,
			  struct xmem *dp)
{
	return -EINVAL;
}
#endif /* CONFIG_XMEM */

#endif /* _LINUX_XMEM_H */
