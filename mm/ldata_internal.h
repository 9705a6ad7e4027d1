/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ldata internals shared with the KUnit suite (mm/ldata_kunit.c): the
 * per-node statistics that debugfs shows, and the page allocation hook
 * that the suite redirects to inject -ENOMEM.
 */
#ifndef _MM_LDATA_INTERNAL_H
#define _MM_LDATA_INTERNAL_H

#include <linux/ldata.h>
#include <kunit/visibility.h>

/**
 * struct ldata_node_stats - one sub-pool's counters, as debugfs shows them
 * @nid: the node
 * @capacity: elements made (initcount plus every grow)
 * @free: elements free, in the sub-pool or cached by a CPU
 * @cached: of @free, those held in per-CPU caches
 * @in_use: @capacity - @free
 * @high_water: most elements ever out of the sub-pool's shared stack at
 *	once (allocated, or cached by a CPU); never below the true peak
 * @failed: ldata_alloc() calls that returned NULL on this node
 * @grows: successful ldata_grow() calls
 */
struct ldata_node_stats {
	int nid;
	long capacity;
	long free;
	long cached;
	long in_use;
	long high_water;
	unsigned long failed;
	unsigned long grows;
};

int ldata_node_stats(ldata_t pool, int nid, struct ldata_node_stats *st);

/* The double-free check's generations, 1 to LDATA_GEN_MAX, then 1 again. */
#define LDATA_GEN_MAX		127

#if IS_ENABLED(CONFIG_KUNIT)
struct page *ldata_alloc_page(int nid);
void ldata_free_unchecked(ldata_t pool, void *elem);
bool ldata_set_debug(bool on);
void ldata_drain_caches(ldata_t pool);
long ldata_nr_pages(void);
int ldata_nr_pools(void);
#endif

#endif /* _MM_LDATA_INTERNAL_H */
