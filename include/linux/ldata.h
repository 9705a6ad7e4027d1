/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ldata: NUMA-aware pools of pinned, cache-aligned elements (AIX ldata).
 *
 * An ldata pool hands out fixed-size elements from one sub-pool per NUMA
 * node with memory, each backed by that node's memory.  It is meant for
 * code that must allocate in any context, hard interrupts included, and
 * wants the memory local to the CPU it runs on, at the price of a hard
 * bound: a sub-pool never holds more than @maxcount elements and only
 * grows when ldata_grow() is called from process context.
 *
 * - ldata_alloc() takes an element of the caller's node (or the nearest),
 *   or returns NULL when that node has none free.  It never grows the
 *   pool, never calls the page allocator and never takes another node's
 *   element.
 * - ldata_free() returns an element to the node that owns its memory,
 *   whichever CPU frees it.  Anything that is not an element of the pool
 *   is refused with a warning and an ldata_misuse event; so is an element
 *   that is already free, with CONFIG_LDATA_DEBUG or while a tool listens
 *   to ldata_misuse.
 *
 * Limitations:
 *  1) Elements live in a vmalloc-space reservation, so that any pointer
 *     can be checked in O(1) without touching memory it may not own: use
 *     vmalloc_to_page(), not virt_to_page(), to find an element's page,
 *     and do not hand elements to streaming DMA.
 *  2) Elements are not zeroed by ldata_alloc(): a new element is zero,
 *     a reused one holds what its last user left.
 *  3) @kkey is recorded and reported but not enforced: Linux has no
 *     supervisor storage keys.
 *  4) Per-CPU caches hold up to LDATA_PCP_MAX free elements of their node
 *     and LDATA_PCP_BATCH of another; a node that runs dry asks for them
 *     back.  A caller that may wait (preemptible()) gets them before
 *     ldata_alloc() returns NULL; any other caller gets NULL at once and
 *     the elements come back shortly after, for its next call.
 *
 * See Documentation/mm/ldata.rst.
 */
#ifndef _LINUX_LDATA_H
#define _LINUX_LDATA_H

#include <linux/sizes.h>
#include <linux/types.h>

struct ldata;

/* ldata_t: handle of an ldata pool, from ldata_create() (AIX's type). */
typedef struct ldata *ldata_t;

/**
 * typedef kkey_t - AIX kernel storage-protection key
 *
 * 0 requests no protection; 1 to %LDATA_KKEY_MAX are recorded but not
 * enforced by hardware on Linux.
 */
typedef u32 kkey_t;

/* Largest kkey accepted by ldata_create(). */
#define LDATA_KKEY_MAX		31
/* Largest element size, before rounding to a cache-line multiple. */
#define LDATA_MAX_SIZE		(64 * 1024)
/* Largest sub-pool: maxcount elements of the rounded size, in bytes. */
#define LDATA_MAX_SUBPOOL	SZ_1G
/* Free elements each CPU caches per pool, and the refill/drain batch. */
#define LDATA_PCP_MAX		32
#define LDATA_PCP_BATCH		16

int ldata_create(size_t size, long initcount, long maxcount, kkey_t kkey,
		 ldata_t *ldatap);
void *ldata_alloc(ldata_t pool);
void ldata_free(ldata_t pool, void *elem);
int ldata_grow(ldata_t pool, long count);
void ldata_destroy(ldata_t pool);

#endif /* _LINUX_LDATA_H */
