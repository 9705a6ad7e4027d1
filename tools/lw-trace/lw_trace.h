/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lw-trace: what the BPF programs (lw_trace.bpf.c) and the front end
 * (lw_trace.c) share: the kinds of misuse, the event record sent through
 * the ring buffer and the keys and values of the tool's own maps.  The
 * kernel's own kinds (enum lw_misuse_kind, enum ldata_misuse_kind, enum
 * xmem_misuse_kind) are not copied here: the BPF side takes them from the
 * kernel's BTF.
 */
#ifndef __LW_TRACE_H
#define __LW_TRACE_H

#define LWT_SCHEMA_VERSION	1	/* of the --json output */
#define LWT_COMM_LEN		16
#define LWT_MAX_STACK		32	/* frames kept per stack */
#define LWT_HIST_SLOTS		32	/* log2 buckets of nanoseconds */

/*
 * What lw-trace reports; the names are kind_names[] in lw_trace.c.  The
 * kernel's kinds map 1:1 onto those with the same name (cross_thread ...
 * window_damaged, ldata_<name>, xmem_<name>); the others are the tool's
 * own.
 */
enum lwt_kind {
	LWT_CROSS_THREAD = 1,	/* detach of another thread's attachment */
	LWT_XMDETACH_LIVE,	/* xmdetach or last close while attached */
	LWT_DETACH_UNATTACHED,	/* detach of an address never attached */
	LWT_DETACH_WRONG_DP,	/* detach with another descriptor */
	LWT_DETACH_WRONG_LENGTH, /* detach with another length */
	LWT_EXIT_LEAK,		/* thread ended with attachments */
	LWT_WINDOW_FULL,	/* attach failed: the window is full */
	LWT_POOL_INIT_EXISTS,	/* as_lw_pool_init() again: -EEXIST */
	LWT_POOL_INIT_INVALID,	/* as_lw_pool_init() bad size or flags */
	LWT_FAULT,		/* access to an unattached window page */
	LWT_RDONLY_WRITE,	/* write to a read-only attachment */
	LWT_WINDOW_DAMAGED,	/* the window VMA was unmapped or changed */
	LWT_LDATA_DOUBLE_FREE,
	LWT_LDATA_FOREIGN_FREE,
	LWT_LDATA_WRONG_POOL,
	LWT_LDATA_MISALIGNED_FREE,
	LWT_LDATA_DESTROY_LIVE,
	LWT_LDATA_ALLOC_FAIL,
	LWT_XMEM_TOUCH_REVOKED,	/* touch of a revoked (removed) mapping */
	LWT_XMEM_TOUCH_GONE,	/* touch where the owner has no memory */
	LWT_XMEM_UNMAP_UNATTACHED, /* XMEM_IOC_UNMAP of no mapping */
	LWT_XMEM_OWNER_EXIT,	/* owner exited while others mapped it */
	LWT_NR_KINDS
};

/* Who saw the misuse first. */
#define LWT_SRC_KERNEL	0	/* a misuse event of the kernel */
#define LWT_SRC_MAP	1	/* the tool's own maps */

#define LWT_MAX_ITEMS		16	/* attachments listed in a record */

/*
 * An attachment listed in a record (xmdetach_live, exit_leak), or a thread
 * whose attachments keep a descriptor attached (xmdetach_live without
 * --lw-track: a holder, only dp, pid, tid and count).
 */
struct lwt_item {
	__u64 dp;
	__u64 addr;
	__u64 offset;
	__u64 length;
	__u64 ts;		/* jiffies */
	__u64 count;		/* attachments: 1, or a holder's */
	__u32 pid;
	__u32 tid;
};

/*
 * What the kernel said of the attachments of a misuse before its report
 * (lw_misuse_att, xmem_detach_holder), per thread until the report: its
 * kind, the descriptor for holders, the items.
 */
struct lwt_pending {
	__u32 kind;
	__u32 nr;
	__u32 more;
	__u32 pad;
	__u64 dp;
	struct lwt_item item[LWT_MAX_ITEMS];
};

/* Ring buffer records */
#define LWT_REC_MISUSE	1
#define LWT_REC_WINDOW_END 2	/* a window ended (exit_leak if attachments) */
#define LWT_REC_POOL_END 3	/* an ldata pool was destroyed empty */

struct lwt_event {
	__u64 ts;		/* bpf_ktime_get_ns() */
	__u64 jiffies;		/* bpf_jiffies64() at the same time */
	__u32 rec;		/* LWT_REC_* */
	__u32 kind;		/* enum lwt_kind */
	__u32 source;		/* LWT_SRC_* */
	__u32 pid;		/* tgid of the thread that did it */
	__u32 tid;
	__u32 owner_pid;	/* the attachment's (or window's) thread */
	__u32 owner_tid;
	__s32 err;		/* the call's result */
	__s64 via;		/* syscall number at the time, -1 unknown */
	__u64 mm;
	__u64 dp;
	__u64 addr;
	__u64 length;
	__u64 offset;
	__u64 att_dp;		/* what the tool's map holds at addr */
	__u64 att_length;
	__u64 att_ts;		/* when that was attached or allocated, jiffies */
	__u64 pool;
	__u64 elem;
	__u64 owner_pool;
	__u64 call_site;
	__s64 count;
	__s32 att_kstack;	/* of the attach (or alloc): stacks map ids */
	__s32 att_ustack;	/* -1: none */
	__u32 reported;		/* 0: -p/-t filter it out, only clean up */
	__u32 nr_kips;		/* frames in kips[] and uips[] (--stacks) */
	__u32 nr_uips;
	char comm[LWT_COMM_LEN];
	__u64 kips[LWT_MAX_STACK];	/* this misuse's own stacks */
	__u64 uips[LWT_MAX_STACK];
	__u32 nr_items;		/* attachments listed, at most LWT_MAX_ITEMS */
	__u32 more_items;	/* ... and how many more there were */
	__u32 holders;		/* the items are holders, not attachments */
	__u32 pad;
	struct lwt_item items[LWT_MAX_ITEMS];
};

/*
 * An attachment, keyed by the process and its window address.  The entry
 * stays when the range is detached (live 0, with who detached it and
 * when): the next attach at that address reuses it in place, so that the
 * hot path neither inserts nor deletes, and a fault in the range can be
 * told to be a use after detach.  Times are jiffies (see track_now()).
 */
struct lwt_att_key {
	__u64 tgid;
	__u64 addr;
};

struct lwt_att {
	__u64 dp;
	__u64 offset;
	__u64 length;
	__u64 ts;		/* attached, jiffies */
	__u64 end_ts;		/* detached, jiffies */
	__u32 pid;
	__u32 tid;		/* the thread that attached */
	__u32 end_tid;		/* the thread that detached */
	__u32 live;
	__s32 kstack;
	__s32 ustack;
};

/*
 * The attachment records most attaches and detaches use: a direct-mapped
 * array indexed by process and window page (lwt_slot_index()), each entry
 * with its key.  An attach whose entry holds another live attachment goes
 * to the hash map instead.  @att.live is also a claim: the BPF side takes
 * an entry from 0 with a compare-and-swap (LWT_SLOT_BUSY while it writes),
 * and user space, to forget one, from 0 or 1 (LWT_SLOT_BUSY).  Memory-mapped
 * by user space, which reads it without system calls.
 */
#define LWT_SLOTS	16384	/* a power of two */
#define LWT_SLOT_BUSY	2

struct lwt_slot {
	struct lwt_att_key key;
	struct lwt_att att;
};

static inline __u32 lwt_slot_index(__u64 tgid, __u64 addr)
{
	/* A window's consecutive pages get consecutive entries. */
	return ((addr >> 12) + tgid * 0x9e3779b1ULL) & (LWT_SLOTS - 1);
}

/*
 * An ldata element, keyed by its address, reused in place as the element
 * is allocated and freed: pid/tid and ts are the last allocation's while
 * live, the last free's after.
 */
struct lwt_elem {
	__u64 pool;
	__u64 ts;		/* jiffies */
	__u64 call_site;
	__u32 pid;
	__u32 tid;
	__s32 kstack;
	__s32 ustack;
	__u32 live;
	__u32 pad;
};

/*
 * Per-process counts, per CPU: in the slot pid % LWT_COUNT_SLOTS of an
 * array (no hashing on the hot path), or in a hash map for a pid whose
 * slot another pid holds on that CPU.
 */
#define LWT_COUNT_SLOTS	4096

struct lwt_counts {
	__u32 pid;
	__u32 pad;
	__u64 attach;
	__u64 attach_err;
	__u64 detach;
	__u64 detach_err;
	__u64 xmattach;
	__u64 xmdetach;
	__u64 ldata_alloc;
	__u64 ldata_free;
	__u64 ldata_fail;
	__u64 misuse;
	char comm[LWT_COMM_LEN];
};

#define LWT_OP_ATTACH	0
#define LWT_OP_DETACH	1
#define LWT_NR_OPS	2

#endif /* __LW_TRACE_H */
