/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ldata pool events, in the shape of kmem.h: the pool, the element, the
 * call site, the node that owns the element and the node of the CPU that
 * made the call, as plain fields that BPF tools (tools/lw-trace) can
 * correlate.  ldata_misuse reports every misuse the pool itself sees.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ldata

#if !defined(_TRACE_LDATA_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_LDATA_H

#include <linux/tracepoint.h>

/*
 * Kinds of misuse, in the vocabulary of tools/lw-trace (which reports them
 * as ldata_<name>).  An enum named by the ldata_misuse prototype, so it is
 * in the kernel's BTF for BPF tools; TRACE_DEFINE_ENUM for tracefs.
 */
#ifndef _TRACE_LDATA_ENUMS
#define _TRACE_LDATA_ENUMS
enum ldata_misuse_kind {
	LDATA_MISUSE_FOREIGN_FREE = 1,	/* free of a pointer in no ldata pool */
	LDATA_MISUSE_WRONG_POOL,	/* free of an element of another pool */
	LDATA_MISUSE_MISALIGNED_FREE,	/* free of a pointer inside an element */
	LDATA_MISUSE_DOUBLE_FREE,	/* free of an element that is free */
	LDATA_MISUSE_DESTROY_LIVE,	/* destroy with elements allocated */
};

/*
 * The first probe on ldata_misuse turns ldata's double-free check on, the
 * last one off again (mm/ldata.c).
 */
int ldata_misuse_reg(void);
void ldata_misuse_unreg(void);
#endif

TRACE_DEFINE_ENUM(LDATA_MISUSE_FOREIGN_FREE);
TRACE_DEFINE_ENUM(LDATA_MISUSE_WRONG_POOL);
TRACE_DEFINE_ENUM(LDATA_MISUSE_MISALIGNED_FREE);
TRACE_DEFINE_ENUM(LDATA_MISUSE_DOUBLE_FREE);
TRACE_DEFINE_ENUM(LDATA_MISUSE_DESTROY_LIVE);

#define show_ldata_misuse(k)						\
	__print_symbolic(k,						\
		{ LDATA_MISUSE_FOREIGN_FREE, "foreign_free" },		\
		{ LDATA_MISUSE_WRONG_POOL, "wrong_pool" },		\
		{ LDATA_MISUSE_MISALIGNED_FREE, "misaligned_free" },	\
		{ LDATA_MISUSE_DOUBLE_FREE, "double_free" },		\
		{ LDATA_MISUSE_DESTROY_LIVE, "destroy_live" })

/*
 * ldata_create: ldata_create() returned @err; @pool is NULL on error.
 * @stride is @size rounded up to a cache-line multiple; @nr_nodes is the
 * number of sub-pools.
 */
TRACE_EVENT(ldata_create,
	    TP_PROTO(const void *pool, unsigned int id, size_t size,
		     size_t stride, long initcount, long maxcount, u32 kkey,
		     int nr_nodes, int err),
	    TP_ARGS(pool, id, size, stride, initcount, maxcount, kkey,
		    nr_nodes, err),
	    TP_STRUCT__entry(__field(const void *, pool)
			     __field(unsigned int, id)
			     __field(size_t, size)
			     __field(size_t, stride)
			     __field(long, initcount)
			     __field(long, maxcount)
			     __field(u32, kkey)
			     __field(int, nr_nodes)
			     __field(int, err)),
	    TP_fast_assign(__entry->pool = pool;
			   __entry->id = id;
			   __entry->size = size;
			   __entry->stride = stride;
			   __entry->initcount = initcount;
			   __entry->maxcount = maxcount;
			   __entry->kkey = kkey;
			   __entry->nr_nodes = nr_nodes;
			   __entry->err = err;),
	    TP_printk("pool=%p id=%u size=%zu stride=%zu initcount=%ld maxcount=%ld kkey=%u nr_nodes=%d err=%d",
		      __entry->pool, __entry->id, __entry->size,
		      __entry->stride, __entry->initcount, __entry->maxcount,
		      __entry->kkey, __entry->nr_nodes, __entry->err)
);

DECLARE_EVENT_CLASS(ldata_elem,
		    TP_PROTO(const void *pool, const void *elem,
			     unsigned long call_site, int node,
			     int caller_node),
		    TP_ARGS(pool, elem, call_site, node, caller_node),
		    TP_STRUCT__entry(__field(const void *, pool)
				     __field(const void *, elem)
				     __field(unsigned long, call_site)
				     __field(int, node)
				     __field(int, caller_node)),
		    TP_fast_assign(__entry->pool = pool;
				   __entry->elem = elem;
				   __entry->call_site = call_site;
				   __entry->node = node;
				   __entry->caller_node = caller_node;),
		    TP_printk("pool=%p elem=%p call_site=%pS node=%d caller_node=%d",
			      __entry->pool, __entry->elem,
			      (void *)__entry->call_site, __entry->node,
			      __entry->caller_node)
);

/*
 * ldata_alloc: ldata_alloc() from @call_site returned @elem of @node's
 * sub-pool, or NULL when @node had no free element (@node is -1 when the
 * caller's node has no sub-pool).
 */
DEFINE_EVENT(ldata_elem, ldata_alloc,
	     TP_PROTO(const void *pool, const void *elem,
		      unsigned long call_site, int node, int caller_node),
	     TP_ARGS(pool, elem, call_site, node, caller_node)
);

/*
 * ldata_free: ldata_free() from @call_site returned @elem to the sub-pool
 * of @node, the node that owns its memory.
 */
DEFINE_EVENT(ldata_elem, ldata_free,
	     TP_PROTO(const void *pool, const void *elem,
		      unsigned long call_site, int node, int caller_node),
	     TP_ARGS(pool, elem, call_site, node, caller_node)
);

/*
 * ldata_alloc_fail: ldata_alloc() from @call_site returned NULL: @node had
 * no free element, even after the CPUs' caches were asked for theirs (-1
 * when the caller's node has no sub-pool).  Also an ldata_alloc event with
 * a NULL element; this one is for tools that do not trace every call.
 */
TRACE_EVENT(ldata_alloc_fail,
	    TP_PROTO(const void *pool, unsigned long call_site, int node,
		     int caller_node),
	    TP_ARGS(pool, call_site, node, caller_node),
	    TP_STRUCT__entry(__field(const void *, pool)
			     __field(unsigned long, call_site)
			     __field(int, node)
			     __field(int, caller_node)),
	    TP_fast_assign(__entry->pool = pool;
			   __entry->call_site = call_site;
			   __entry->node = node;
			   __entry->caller_node = caller_node;),
	    TP_printk("pool=%p call_site=%pS node=%d caller_node=%d",
		      __entry->pool, (void *)__entry->call_site,
		      __entry->node, __entry->caller_node)
);

/*
 * ldata_grow: ldata_grow(@pool, @count) returned @err; every sub-pool now
 * holds @capacity elements.
 */
TRACE_EVENT(ldata_grow,
	    TP_PROTO(const void *pool, long count, long capacity, int err),
	    TP_ARGS(pool, count, capacity, err),
	    TP_STRUCT__entry(__field(const void *, pool)
			     __field(long, count)
			     __field(long, capacity)
			     __field(int, err)),
	    TP_fast_assign(__entry->pool = pool;
			   __entry->count = count;
			   __entry->capacity = capacity;
			   __entry->err = err;),
	    TP_printk("pool=%p count=%ld capacity=%ld err=%d",
		      __entry->pool, __entry->count, __entry->capacity,
		      __entry->err)
);

/*
 * ldata_destroy: @pool (ldata_create()'s @id) was destroyed with
 * @outstanding elements still allocated.
 */
TRACE_EVENT(ldata_destroy,
	    TP_PROTO(const void *pool, unsigned int id, long outstanding),
	    TP_ARGS(pool, id, outstanding),
	    TP_STRUCT__entry(__field(const void *, pool)
			     __field(unsigned int, id)
			     __field(long, outstanding)),
	    TP_fast_assign(__entry->pool = pool;
			   __entry->id = id;
			   __entry->outstanding = outstanding;),
	    TP_printk("pool=%p id=%u outstanding=%ld",
		      __entry->pool, __entry->id, __entry->outstanding)
);

/*
 * ldata_misuse: a misuse of @pool from @call_site: ldata_free() of @elem
 * refused for @kind, or ldata_destroy() with @count elements allocated.
 * @owner is the pool that @elem belongs to for %LDATA_MISUSE_WRONG_POOL,
 * else NULL; @node is the node owning @elem, or -1 if none.  While a
 * probe is attached, ldata refuses double frees (ldata_misuse_reg()).
 */
TRACE_EVENT_FN(ldata_misuse,
	       TP_PROTO(const void *pool, const void *elem,
			unsigned long call_site, enum ldata_misuse_kind kind,
			long count,
			const void *owner, int node, int caller_node),
	       TP_ARGS(pool, elem, call_site, kind, count, owner, node,
		       caller_node),
	       TP_STRUCT__entry(__field(const void *, pool)
				__field(const void *, elem)
				__field(unsigned long, call_site)
				__field(int, kind)
				__field(long, count)
				__field(const void *, owner)
				__field(int, node)
				__field(int, caller_node)),
	       TP_fast_assign(__entry->pool = pool;
			      __entry->elem = elem;
			      __entry->call_site = call_site;
			      __entry->kind = kind;
			      __entry->count = count;
			      __entry->owner = owner;
			      __entry->node = node;
			      __entry->caller_node = caller_node;),
	       TP_printk("pool=%p elem=%p call_site=%pS kind=%s count=%ld owner=%p node=%d caller_node=%d",
			 __entry->pool, __entry->elem,
			 (void *)__entry->call_site,
			 show_ldata_misuse(__entry->kind), __entry->count,
			 __entry->owner, __entry->node, __entry->caller_node),
	       ldata_misuse_reg, ldata_misuse_unreg
);

#endif /* _TRACE_LDATA_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
