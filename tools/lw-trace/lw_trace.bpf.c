// SPDX-License-Identifier: GPL-2.0
/*
 * lw-trace BPF side: the patchset's tracepoints (lw, xmem, ldata) keep the
 * tool's own view of live attachments and ldata elements, and every misuse
 * goes to user space through a ring buffer with what that view knows of
 * it.  Each handler is built twice, as tp_btf and as raw_tp; lw_trace.c
 * loads one set.  Tracking runs for every process; -p/-t only filter what
 * is reported and counted.  The kernel's kinds of misuse (enum
 * lw_misuse_kind, enum ldata_misuse_kind) come from its BTF, relocated at
 * load time.
 */
#include "vmlinux.h"
#include <asm-generic/errno-base.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lw_trace.h"

const volatile __u32 targ_pid;		/* report only this process ... */
const volatile __u32 targ_tid;		/* ... or thread; 0: all */
const volatile bool want_stacks;	/* --stacks */
const volatile bool want_latency;	/* --latency */
const volatile bool lw_track;		/* --lw-track: every attach and detach */
const volatile bool task_btf = true;	/* kernel BTF: syscall numbers */

__u64 lost;		/* ring buffer full: events dropped */
__u64 untracked;	/* a map was full: an attachment or element not kept */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} events SEC(".maps");

/* The attachments a record lists, gathered before the record is made. */
struct lwt_items {
	struct lwt_item item[LWT_MAX_ITEMS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lwt_items);
} scratch SEC(".maps");

/*
 * Without --lw-track: what the kernel's lw_misuse_att and
 * xmem_detach_holder events said, by thread, until the report they belong
 * to takes it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct lwt_pending);
} pending SEC(".maps");

/* An empty struct lwt_pending, to insert from (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lwt_pending);
} pending_zero SEC(".maps");

/* Attachment records: in slots (see struct lwt_slot), else here. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LWT_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct lwt_slot);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct lwt_att_key);
	__type(value, struct lwt_att);
} atts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__type(key, __u64);
	__type(value, struct lwt_elem);
} elems SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LWT_COUNT_SLOTS);
	__type(key, __u32);
	__type(value, struct lwt_counts);
} count_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct lwt_counts);
} counts SEC(".maps");

/*
 * Stacks of attaches, allocations and frees, referred to by later misuse
 * reports (a misuse's own stacks travel in its record); sized to 1 by the
 * front end without --stacks.  A hash collision loses that stack (-EEXIST).
 */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, LWT_MAX_STACK * sizeof(__u64));
} stacks SEC(".maps");

/* --latency: when the thread entered lw_att64() or as_lw_det64(). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LWT_NR_OPS * LWT_HIST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

/*
 * When an attachment or element was made or ended, for "attached 4 ms
 * ago": jiffies, because these run on every call and the precise clock can
 * cost microseconds where the clocksource is not the TSC (under emulation,
 * or with an unstable TSC); bpf_ktime_get_coarse_ns() is not allowed here.
 */
static __always_inline __u64 track_now(void)
{
	return bpf_jiffies64();
}

static __always_inline bool wanted(__u32 pid, __u32 tid, __u32 opid,
				   __u32 otid)
{
	if (targ_pid && pid != targ_pid && opid != targ_pid)
		return false;
	if (targ_tid && tid != targ_tid && otid != targ_tid)
		return false;
	return true;
}

static __always_inline __u64 cur_mm(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	return (__u64)BPF_CORE_READ(t, mm);
}

/* The system call the current thread is in (x86-64 numbers), or -1. */
static __always_inline __s64 cur_syscall(void)
{
	struct pt_regs *regs;

	if (!task_btf)
		return -1;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	return BPF_CORE_READ(regs, orig_ax);
}

static __always_inline void stack_ids(void *ctx, __s32 *k, __s32 *u)
{
	*k = -1;
	*u = -1;
	if (!want_stacks)
		return;
	*k = bpf_get_stackid(ctx, &stacks, 0);
	*u = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
}

/*
 * counts_of()'s slow path, a function of its own so that the calls that
 * find their slot do not zero a struct on the stack first.
 */
static __noinline struct lwt_counts *counts_hashed(__u32 pid)
{
	struct lwt_counts *c, zero = {};

	c = bpf_map_lookup_elem(&counts, &pid);
	if (c)
		return c;
	zero.pid = pid;
	bpf_get_current_comm(zero.comm, sizeof(zero.comm));
	bpf_map_update_elem(&counts, &pid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&counts, &pid);
}

static __always_inline struct lwt_counts *counts_of(__u32 pid, __u32 tid)
{
	__u32 slot = pid % LWT_COUNT_SLOTS;
	struct lwt_counts *c;

	if (!wanted(pid, tid, 0, 0))
		return NULL;
	c = bpf_map_lookup_elem(&count_slots, &slot);
	if (c && c->pid == pid)
		return c;
	if (c && !c->pid) {
		/* Per CPU: only a nested program could race for it. */
		bpf_get_current_comm(c->comm, sizeof(c->comm));
		c->pid = pid;
		return c;
	}
	return counts_hashed(pid);
}

/*
 * A new ring buffer record for the current thread, or NULL if the buffer is
 * full (counted in lost).  A record that -p/-t filter out is not sent,
 * unless @always: user space still cleans up after it.
 */
static __always_inline struct lwt_event *
event_new(void *ctx, __u32 rec, __u32 kind, __u32 source, __u32 opid,
	  __u32 otid, bool always)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;
	bool reported = kind && wanted(pid, tid, opid, otid);
	struct lwt_counts *c;
	struct lwt_event *e;
	long n;

	if (!reported && !always)
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return NULL;
	}
	__builtin_memset(e, 0, offsetof(struct lwt_event, kips));
	e->nr_items = 0;
	e->more_items = 0;
	e->holders = 0;
	e->ts = bpf_ktime_get_ns();
	e->jiffies = bpf_jiffies64();
	e->rec = rec;
	e->kind = kind;
	e->source = source;
	e->pid = pid;
	e->tid = tid;
	e->owner_pid = opid;
	e->owner_tid = otid;
	e->via = -1;
	e->mm = cur_mm();
	e->att_kstack = -1;
	e->att_ustack = -1;
	e->reported = reported;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (want_stacks && reported) {
		n = bpf_get_stack(ctx, e->kips, sizeof(e->kips), 0);
		e->nr_kips = n > 0 ? n / sizeof(__u64) : 0;
		n = bpf_get_stack(ctx, e->uips, sizeof(e->uips),
				  BPF_F_USER_STACK);
		e->nr_uips = n > 0 ? n / sizeof(__u64) : 0;
	}
	c = reported ? counts_of(pid, tid) : NULL;
	if (c)
		c->misuse++;
	return e;
}

/* What collect_att() looks for, and how many it found: on the stack. */
struct collect {
	__u64 dp;
	__u64 tgid;
	__u32 tid;
	__u32 nr;
	__u32 more;
};

static __always_inline long collect_one(struct lwt_att_key *key,
					struct lwt_att *att, struct collect *c)
{
	struct lwt_items *it;
	__u32 zero = 0, n = c->nr;

	if (att->live != 1 || (c->dp ? att->dp != c->dp :
			       key->tgid != c->tgid || att->tid != c->tid))
		return 0;
	it = bpf_map_lookup_elem(&scratch, &zero);
	if (!it || n >= LWT_MAX_ITEMS) {
		c->more++;
		return 0;
	}
	it->item[n].dp = att->dp;
	it->item[n].addr = key->addr;
	it->item[n].offset = att->offset;
	it->item[n].length = att->length;
	it->item[n].ts = att->ts;
	it->item[n].pid = att->pid;
	it->item[n].tid = att->tid;
	it->item[n].count = 1;
	c->nr = n + 1;
	return 0;
}

static long collect_att(struct bpf_map *map, struct lwt_att_key *key,
			struct lwt_att *att, struct collect *c)
{
	return collect_one(key, att, c);
}

static long collect_slot(struct bpf_map *map, __u32 *i, struct lwt_slot *s,
			 struct collect *c)
{
	return collect_one(&s->key, &s->att, c);
}

/*
 * List in @e the live attachments of @dp, or of thread @tid of @tgid, as they are
 * now: by the time user space reads the record they may be detached.
 */
static __always_inline void list_atts(struct lwt_event *e, __u64 dp,
				      __u64 tgid, __u32 tid)
{
	struct collect c = { .dp = dp, .tgid = tgid, .tid = tid };
	struct lwt_items *it;
	__u32 zero = 0;

	bpf_for_each_map_elem(&slots, collect_slot, &c, 0);
	bpf_for_each_map_elem(&atts, collect_att, &c, 0);
	it = bpf_map_lookup_elem(&scratch, &zero);
	if (!it)
		return;
	__builtin_memcpy(e->items, it->item, sizeof(e->items));
	e->nr_items = c.nr < LWT_MAX_ITEMS ? c.nr : LWT_MAX_ITEMS;
	e->more_items = c.more;
}

/*
 * The current thread's pending items for a report of @kind (of @dp for
 * holders), made or started over if they were for another report, or if
 * @fresh; NULL if the map is full.
 */
static __noinline struct lwt_pending *pending_of(__u32 kind, __u64 dp,
						 bool fresh)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), zero = 0;
	struct lwt_pending *p, *z;

	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p) {
		z = bpf_map_lookup_elem(&pending_zero, &zero);
		if (!z)
			return NULL;
		bpf_map_update_elem(&pending, &tid, z, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&pending, &tid);
		if (!p)
			return NULL;
		fresh = true;
	}
	if (fresh || p->kind != kind || p->dp != dp) {
		p->kind = kind;
		p->dp = dp;
		p->nr = 0;
		p->more = 0;
	}
	return p;
}

/* @it, one more item for the current thread's next report of @kind. */
static __noinline void pending_add(__u32 kind, __u64 key, bool fresh,
				   const struct lwt_item *it)
{
	struct lwt_pending *p = pending_of(kind, key, fresh);
	__u32 n;

	if (!p || !it)
		return;
	n = p->nr;
	if (n >= LWT_MAX_ITEMS) {
		p->more++;
		return;
	}
	p->item[n & (LWT_MAX_ITEMS - 1)] = *it;
	p->nr = n + 1;
}

/*
 * Move thread @tid's pending items for a report of @kind (of @dp) into
 * @e, and forget them; false if it has none for that report.  With @e
 * NULL (the report is filtered out, or the ring buffer full), only forget
 * them.
 */
static __noinline bool pending_take(struct lwt_event *e, __u32 tid,
				    __u32 kind, __u64 dp)
{
	struct lwt_pending *p = bpf_map_lookup_elem(&pending, &tid);
	bool ok;

	if (!p)
		return false;
	ok = e && p->kind == kind && p->dp == dp;
	if (ok) {
		__builtin_memcpy(e->items, p->item, sizeof(e->items));
		e->nr_items = p->nr < LWT_MAX_ITEMS ? p->nr : LWT_MAX_ITEMS;
		e->more_items = p->more;
	}
	bpf_map_delete_elem(&pending, &tid);
	return ok;
}

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffff) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r < LWT_HIST_SLOTS ? r : LWT_HIST_SLOTS - 1;
}

static __always_inline void latency_end(__u32 op, __u32 pid, __u32 tid)
{
	__u64 *t0, *slot;
	__u32 key;

	if (!want_latency)
		return;
	t0 = bpf_map_lookup_elem(&start, &tid);
	if (!t0)
		return;
	if (wanted(pid, tid, 0, 0)) {
		key = op * LWT_HIST_SLOTS + log2_slot(bpf_ktime_get_ns() - *t0);
		slot = bpf_map_lookup_elem(&hist, &key);
		if (slot)
			__sync_fetch_and_add(slot, 1);
	}
	bpf_map_delete_elem(&start, &tid);
}

static __always_inline int latency_begin(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();

	/* as_lw_att64() calls lw_att64(): keep the outer entry */
	bpf_map_update_elem(&start, &tid, &now, BPF_NOEXIST);
	return 0;
}

SEC("kprobe/lw_att64")
int BPF_KPROBE(lw_att64_entry)
{
	return latency_begin();
}

SEC("kprobe/as_lw_att64")
int BPF_KPROBE(as_lw_att64_entry)
{
	return latency_begin();
}

SEC("kprobe/as_lw_det64")
int BPF_KPROBE(as_lw_det64_entry)
{
	return latency_begin();
}

/* ===== Lightweight attach ===== */

static __always_inline struct lwt_slot *slot_of(struct lwt_att_key *key)
{
	__u32 i = lwt_slot_index(key->tgid, key->addr);

	return bpf_map_lookup_elem(&slots, &i);
}

/*
 * The record of the attachment at @key, live or not, or NULL: its slot
 * holds the latest one if any (an attach takes the slot whenever it holds
 * no live attachment), the hash map else.
 */
static __always_inline struct lwt_att *att_find(struct lwt_att_key *key)
{
	struct lwt_slot *s = slot_of(key);

	if (s && s->att.live != LWT_SLOT_BUSY && s->key.tgid == key->tgid &&
	    s->key.addr == key->addr)
		return &s->att;
	return bpf_map_lookup_elem(&atts, key);
}

/*
 * A record for a new attachment at @key: its slot, claimed, if it holds no
 * live attachment (then the caller sets live to 1 when it is written), or
 * the hash map's entry, inserted if new; NULL if the map is full.
 */
/* att_new()'s slow path: the hash map's entry of @key, inserted if new. */
static __noinline struct lwt_att *att_hashed(struct lwt_att_key *key)
{
	struct lwt_att att, *a;

	a = bpf_map_lookup_elem(&atts, key);
	if (a)
		return a;
	__builtin_memset(&att, 0, sizeof(att));
	bpf_map_update_elem(&atts, key, &att, BPF_NOEXIST);
	return bpf_map_lookup_elem(&atts, key);
}

static __always_inline struct lwt_att *att_new(struct lwt_att_key *key)
{
	struct lwt_slot *s = slot_of(key);

	if (s && !__sync_val_compare_and_swap(&s->att.live, 0, LWT_SLOT_BUSY)) {
		s->key = *key;
		return &s->att;
	}
	return att_hashed(key);
}

/* One call counted: in @ok, or in @failed if it returned @err. */
static __always_inline void count_call(__u64 *ok, __u64 *failed, int err)
{
	if (err)
		(*failed)++;
	else
		(*ok)++;
}

static __always_inline int on_lw_attach(void *ctx, const void *dp,
					size_t offset, size_t length,
					unsigned long addr, int err)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;
	struct lwt_att_key key;
	struct lwt_counts *c;
	struct lwt_att *a;

	latency_end(LWT_OP_ATTACH, pid, tid);
	c = counts_of(pid, tid);
	if (c)
		count_call(&c->attach, &c->attach_err, err);
	if (err || !lw_track)
		return 0;
	key.tgid = pid;
	key.addr = addr;
	a = att_new(&key);
	if (!a) {
		__sync_fetch_and_add(&untracked, 1);
		return 0;
	}
	/* Only this thread attaches and detaches at this address. */
	a->dp = (__u64)dp;
	a->offset = offset;
	a->length = length;
	a->ts = track_now();
	a->pid = pid;
	a->tid = tid;
	a->end_tid = 0;
	a->end_ts = 0;
	stack_ids(ctx, &a->kstack, &a->ustack);
	a->live = 1;
	return 0;
}

static __always_inline int on_lw_detach(void *ctx, const void *dp,
					size_t offset, size_t length,
					unsigned long addr, int err)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;
	struct lwt_att_key key;
	struct lwt_counts *c;
	struct lwt_att *att;

	latency_end(LWT_OP_DETACH, pid, tid);
	c = counts_of(pid, tid);
	if (c)
		count_call(&c->detach, &c->detach_err, err);
	if (err || !lw_track)
		return 0;
	key.tgid = pid;
	key.addr = addr;
	att = att_find(&key);
	if (!att || att->live != 1)
		return 0;
	/* Kept for a later fault in the range: who detached it, and when. */
	att->end_ts = track_now();
	att->end_tid = tid;
	att->live = 0;
	return 0;
}

/*
 * A detach the kernel refused and classified (@kind, the tool's), returning
 * @err, and the attachment at @addr: with --lw-track, the tool's map's, if
 * it holds a live one: its owner, descriptor, length and offset, when and
 * where it was attached.  Without, what the kernel's lw_misuse_att said of
 * the caller's own attachment there (a detach with the wrong descriptor or
 * length), stacks aside.  Else the owner is the kernel's, the thread whose
 * window holds @addr.
 */
static __always_inline int on_bad_detach(void *ctx, __u32 kind,
					 const void *dp, unsigned long addr,
					 size_t length, __u32 opid, __u32 otid,
					 int err)
{
	struct lwt_att_key key = {
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.addr = addr,
	};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct lwt_att *att = NULL;
	struct lwt_event *e;
	bool taken;

	if (lw_track)
		att = att_find(&key);
	if (att && att->live != 1)
		att = NULL;
	if (att) {
		opid = att->pid;
		otid = att->tid;
	}
	e = event_new(ctx, LWT_REC_MISUSE, kind, LWT_SRC_KERNEL, opid, otid, false);
	taken = !lw_track && pending_take(e, tid, kind, 0);
	if (!e)
		return 0;
	if (taken && e->nr_items && e->items[0].addr == addr) {
		e->att_dp = e->items[0].dp;
		e->att_length = e->items[0].length;
		e->offset = e->items[0].offset;
		e->att_ts = e->items[0].ts;
	}
	e->nr_items = 0;
	e->more_items = 0;
	e->dp = (__u64)dp;
	e->addr = addr;
	e->length = length;
	e->err = err;
	if (att) {
		e->att_dp = att->dp;
		e->att_length = att->length;
		e->offset = att->offset;
		e->att_ts = att->ts;
		e->att_kstack = att->kstack;
		e->att_ustack = att->ustack;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* enum lw_misuse_kind's value of LW_MISUSE_@k in the running kernel */
#define LW_MISUSE(k)	bpf_core_enum_value(enum lw_misuse_kind, LW_MISUSE_##k)

/*
 * The tool's kind of the kernel's lw_misuse @kind, the same name; 0 for
 * an exit leak (reported from lw_window_destroy, with the list) and for a
 * kind this lw-trace does not know.
 */
static __always_inline __u32 lw_kind(enum lw_misuse_kind kind)
{
	if (kind == LW_MISUSE(CROSS_THREAD))
		return LWT_CROSS_THREAD;
	if (kind == LW_MISUSE(DETACH_UNATTACHED))
		return LWT_DETACH_UNATTACHED;
	if (kind == LW_MISUSE(DETACH_WRONG_DP))
		return LWT_DETACH_WRONG_DP;
	if (kind == LW_MISUSE(DETACH_WRONG_LENGTH))
		return LWT_DETACH_WRONG_LENGTH;
	if (kind == LW_MISUSE(FAULT))
		return LWT_FAULT;
	if (kind == LW_MISUSE(RDONLY_WRITE))
		return LWT_RDONLY_WRITE;
	if (kind == LW_MISUSE(WINDOW_DAMAGED))
		return LWT_WINDOW_DAMAGED;
	if (kind == LW_MISUSE(WINDOW_FULL))
		return LWT_WINDOW_FULL;
	return 0;
}

static __always_inline int on_lw_misuse(void *ctx, enum lw_misuse_kind kkind,
					const void *dp, unsigned long addr,
					size_t length, pid_t owner_tgid,
					pid_t owner_pid, long count, int err)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 kind = lw_kind(kkind);
	struct lwt_event *e;

	switch (kind) {
	case 0:
		/* An exit leak: its lw_misuse_att events come next. */
		if (!lw_track && kkind == LW_MISUSE(EXIT_LEAK))
			bpf_map_delete_elem(&pending, &tid);
		return 0;
	case LWT_CROSS_THREAD:
	case LWT_DETACH_UNATTACHED:
	case LWT_DETACH_WRONG_DP:
	case LWT_DETACH_WRONG_LENGTH:
		return on_bad_detach(ctx, kind, dp, addr, length, owner_tgid,
				     owner_pid, err);
	}
	e = event_new(ctx, LWT_REC_MISUSE, kind, LWT_SRC_KERNEL, owner_tgid,
		      owner_pid, false);
	if (!e)
		return 0;
	e->dp = (__u64)dp;
	e->addr = addr;
	e->length = length;
	e->count = count;
	e->err = err;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * The patchset's own teardown event: a thread's window went away with
 * @count attachments.  User space lists (and forgets) the map's entries of
 * the thread; sched_process_exit would come before the teardown.
 */
static __always_inline int on_lw_window_destroy(void *ctx, const void *mm,
						unsigned long start,
						unsigned long len, pid_t tgid,
						pid_t pid, long count)
{
	struct lwt_event *e;

	/* Without attachments left, a record only for the map's cleanup. */
	e = event_new(ctx, LWT_REC_WINDOW_END, count > 0 ? LWT_EXIT_LEAK : 0,
		      LWT_SRC_KERNEL, tgid, pid, true);
	if (count > 0 && !lw_track)
		pending_take(e, pid, LWT_EXIT_LEAK, 0);
	if (!e)
		return 0;
	/* The exiting thread is current, but say so from the event. */
	e->pid = tgid;
	e->tid = pid;
	e->mm = (__u64)mm;
	e->addr = start;
	e->length = len;
	e->count = count;
	e->via = cur_syscall();
	if (count > 0 && lw_track)
		list_atts(e, 0, tgid, pid);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * Without --lw-track: the kernel names an attachment of the current thread
 * that a misuse of @kind concerns, before its report: each one left at
 * exit, or the one a detach with the wrong descriptor or length found.
 */
static __always_inline int on_lw_misuse_att(enum lw_misuse_kind kkind,
					    const void *dp, size_t offset,
					    size_t length, unsigned long addr,
					    unsigned long since)
{
	__u64 id = bpf_get_current_pid_tgid();
	bool leak = kkind == LW_MISUSE(EXIT_LEAK);
	struct lwt_item it = {
		.dp = (__u64)dp,
		.addr = addr,
		.offset = offset,
		.length = length,
		.ts = since,
		.count = 1,
		.pid = id >> 32,
		.tid = (__u32)id,
	};

	pending_add(leak ? LWT_EXIT_LEAK : lw_kind(kkind), 0, !leak, &it);
	return 0;
}

static __always_inline int on_lw_pool_init(void *ctx, const void *mm,
					   size_t pool_size,
					   unsigned int flags, int err)
{
	struct lwt_event *e;
	__u32 kind;

	if (err == -EEXIST)
		kind = LWT_POOL_INIT_EXISTS;
	else if (err == -EINVAL)
		kind = LWT_POOL_INIT_INVALID;
	else
		return 0;
	e = event_new(ctx, LWT_REC_MISUSE, kind, LWT_SRC_KERNEL, 0, 0, false);
	if (!e)
		return 0;
	e->err = err;
	e->mm = (__u64)mm;
	e->length = pool_size;
	e->count = flags;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* ===== Cross-memory descriptors ===== */

static __always_inline int on_xmem_call(bool attach, int err)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct lwt_counts *c;

	if (err)
		return 0;
	c = counts_of(id >> 32, (__u32)id);
	if (!c)
		return 0;
	if (attach)
		c->xmattach++;
	else
		c->xmdetach++;
	return 0;
}

static __always_inline int on_xmem_detach_refused(void *ctx, const void *dp,
						  unsigned long addr,
						  size_t len, long lw_count,
						  pid_t owner_tgid,
						  pid_t owner_pid)
{
	struct lwt_event *e;
	bool holders;

	e = event_new(ctx, LWT_REC_MISUSE, LWT_XMDETACH_LIVE, LWT_SRC_KERNEL,
		      owner_tgid, owner_pid, false);
	holders = !lw_track && pending_take(e, (__u32)bpf_get_current_pid_tgid(),
					    LWT_XMDETACH_LIVE, (__u64)dp);
	if (!e)
		return 0;
	e->dp = (__u64)dp;
	e->addr = addr;
	e->length = len;
	e->count = lw_count;
	e->err = -EBUSY;
	e->via = cur_syscall();
	if (lw_track)
		list_atts(e, (__u64)dp, 0, 0);
	e->holders = holders;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * Without --lw-track: a thread whose attachments keep @dp attached, before
 * the xmem_detach_refused event of the same call.
 */
static __always_inline int on_xmem_detach_holder(const void *dp, pid_t tgid,
						 pid_t pid, long count)
{
	struct lwt_item it = {
		.dp = (__u64)dp,
		.count = count,
		.pid = tgid,
		.tid = pid,
	};

	pending_add(LWT_XMDETACH_LIVE, (__u64)dp, false, &it);
	return 0;
}

/* ===== ldata ===== */

/* The map's entry of @key, inserted if new; NULL if the map is full. */
static __always_inline struct lwt_elem *elem_entry(__u64 key)
{
	struct lwt_elem *el, zero = {};

	el = bpf_map_lookup_elem(&elems, &key);
	if (el)
		return el;
	bpf_map_update_elem(&elems, &key, &zero, BPF_NOEXIST);
	el = bpf_map_lookup_elem(&elems, &key);
	if (!el)
		__sync_fetch_and_add(&untracked, 1);
	return el;
}

/* @el was allocated (@live) or freed now, by the current thread. */
static __always_inline void elem_set(void *ctx, struct lwt_elem *el,
				     const void *pool, unsigned long call_site,
				     __u32 pid, __u32 tid, __u32 live)
{
	el->pool = (__u64)pool;
	el->ts = track_now();
	el->call_site = call_site;
	el->pid = pid;
	el->tid = tid;
	stack_ids(ctx, &el->kstack, &el->ustack);
	el->live = live;
}

/* --ldata-track: an allocation (a NULL one is ldata_alloc_fail's). */
static __always_inline int on_ldata_alloc(void *ctx, const void *pool,
					  const void *elem,
					  unsigned long call_site)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;
	struct lwt_counts *c;
	struct lwt_elem *el;

	if (!elem)
		return 0;
	c = counts_of(pid, tid);
	if (c)
		c->ldata_alloc++;
	el = elem_entry((__u64)elem);
	if (el)
		elem_set(ctx, el, pool, call_site, pid, tid, 1);
	return 0;
}

static __always_inline int on_ldata_alloc_fail(void *ctx, const void *pool,
					       unsigned long call_site,
					       int node)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct lwt_counts *c;
	struct lwt_event *e;

	c = counts_of(id >> 32, (__u32)id);
	if (c)
		c->ldata_fail++;
	e = event_new(ctx, LWT_REC_MISUSE, LWT_LDATA_ALLOC_FAIL,
		      LWT_SRC_KERNEL, 0, 0, false);
	if (!e)
		return 0;
	e->pool = (__u64)pool;
	e->call_site = call_site;
	e->count = node;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

static __always_inline void fill_elem(struct lwt_event *e, struct lwt_elem *el)
{
	e->owner_pid = el->pid;
	e->owner_tid = el->tid;
	e->owner_pool = el->pool;
	e->att_ts = el->ts;
	e->att_kstack = el->kstack;
	e->att_ustack = el->ustack;
}

/*
 * --ldata-track: an accepted free.  A free of an element that the map saw
 * freed, and not allocated since, is a double free that the kernel did not
 * see (two frees that raced past its plain check).
 */
static __always_inline int on_ldata_free(void *ctx, const void *pool,
					 const void *elem,
					 unsigned long call_site)
{
	__u64 id = bpf_get_current_pid_tgid(), key = (__u64)elem;
	__u32 pid = id >> 32, tid = (__u32)id;
	struct lwt_counts *c;
	struct lwt_event *e;
	struct lwt_elem *el;

	c = counts_of(pid, tid);
	if (c)
		c->ldata_free++;
	el = bpf_map_lookup_elem(&elems, &key);
	if (el && !el->live && el->pool == (__u64)pool) {
		e = event_new(ctx, LWT_REC_MISUSE, LWT_LDATA_DOUBLE_FREE,
			      LWT_SRC_MAP, el->pid, el->tid, false);
		if (e) {
			e->pool = (__u64)pool;
			e->elem = key;
			e->call_site = call_site;
			fill_elem(e, el);
			bpf_ringbuf_submit(e, 0);
		}
		return 0;
	}
	if (!el)	/* allocated before lw-trace started */
		el = elem_entry(key);
	if (!el)
		return 0;
	/* From now on: who freed it, and when. */
	elem_set(ctx, el, pool, call_site, pid, tid, 0);
	return 0;
}

/* enum ldata_misuse_kind's value of LDATA_MISUSE_@k in the running kernel */
#define LDATA_MISUSE(k) \
	bpf_core_enum_value(enum ldata_misuse_kind, LDATA_MISUSE_##k)

/* The tool's kind of the kernel's ldata_misuse @kind: ldata_<name>, or 0. */
static __always_inline __u32 ldata_kind(enum ldata_misuse_kind kind)
{
	if (kind == LDATA_MISUSE(FOREIGN_FREE))
		return LWT_LDATA_FOREIGN_FREE;
	if (kind == LDATA_MISUSE(WRONG_POOL))
		return LWT_LDATA_WRONG_POOL;
	if (kind == LDATA_MISUSE(MISALIGNED_FREE))
		return LWT_LDATA_MISALIGNED_FREE;
	if (kind == LDATA_MISUSE(DOUBLE_FREE))
		return LWT_LDATA_DOUBLE_FREE;
	if (kind == LDATA_MISUSE(DESTROY_LIVE))
		return LWT_LDATA_DESTROY_LIVE;
	return 0;
}

/* The map's entry of element @key if it is @live (allocated) or not. */
static __always_inline struct lwt_elem *elem_if(__u64 key, __u32 live)
{
	struct lwt_elem *el = bpf_map_lookup_elem(&elems, &key);

	return el && el->live == live ? el : NULL;
}

static __always_inline int on_ldata_misuse(void *ctx, const void *pool,
					   const void *elem,
					   unsigned long call_site,
					   enum ldata_misuse_kind kkind,
					   long count, const void *owner)
{
	__u32 kind = ldata_kind(kkind);
	__u64 key = (__u64)elem;
	struct lwt_elem *el = NULL;
	struct lwt_event *e;

	if (!kind)
		return 0;
	/* Who allocated the other pool's element; who freed it first. */
	if (kind == LWT_LDATA_WRONG_POOL)
		el = elem_if(key, 1);
	else if (kind == LWT_LDATA_DOUBLE_FREE)
		el = elem_if(key, 0);
	e = event_new(ctx, LWT_REC_MISUSE, kind, LWT_SRC_KERNEL,
		      el ? el->pid : 0, el ? el->tid : 0,
		      kind == LWT_LDATA_DESTROY_LIVE);
	if (!e)
		return 0;
	e->pool = (__u64)pool;
	e->elem = key;
	e->call_site = call_site;
	e->count = count;
	if (el)
		fill_elem(e, el);
	e->owner_pool = (__u64)owner;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * A destroyed pool: its entries go.  With elements outstanding the
 * destroy_live misuse that follows lists them first.
 */
static __always_inline int on_ldata_destroy(void *ctx, const void *pool,
					    long outstanding)
{
	struct lwt_event *e;

	if (outstanding)
		return 0;
	e = event_new(ctx, LWT_REC_POOL_END, 0, LWT_SRC_KERNEL, 0, 0, true);
	if (!e)
		return 0;
	e->pool = (__u64)pool;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* enum xmem_misuse_kind's value of XMEM_MISUSE_@k in the running kernel */
#define XMEM_MISUSE(k) \
	bpf_core_enum_value(enum xmem_misuse_kind, XMEM_MISUSE_##k)

/* The tool's kind of the kernel's xmem_map_misuse @kind: xmem_<name>, or 0. */
static __always_inline __u32 xmem_kind(enum xmem_misuse_kind kind)
{
	if (kind == XMEM_MISUSE(TOUCH_REVOKED))
		return LWT_XMEM_TOUCH_REVOKED;
	if (kind == XMEM_MISUSE(TOUCH_GONE))
		return LWT_XMEM_TOUCH_GONE;
	if (kind == XMEM_MISUSE(UNMAP_UNATTACHED))
		return LWT_XMEM_UNMAP_UNATTACHED;
	if (kind == XMEM_MISUSE(OWNER_EXIT))
		return LWT_XMEM_OWNER_EXIT;
	return 0;
}

/*
 * Misuse of a mapping of a descriptor, seen by the kernel: the record says
 * what it was done to, and whose descriptor it is.
 */
static __always_inline int on_xmem_map_misuse(void *ctx,
					      enum xmem_misuse_kind kkind,
					      const void *dp,
					      unsigned long addr, size_t len,
					      pid_t owner_tgid, long count,
					      int err)
{
	__u32 kind = xmem_kind(kkind);
	struct lwt_event *e;

	if (!kind)
		return 0;
	e = event_new(ctx, LWT_REC_MISUSE, kind, LWT_SRC_KERNEL, owner_tgid,
		      0, false);
	if (!e)
		return 0;
	e->dp = (__u64)dp;
	e->addr = addr;
	e->length = len;
	e->count = count;
	e->err = err;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * Each handler as tp_btf (typed arguments, needs kernel BTF) and as raw_tp
 * (the fallback); the argument lists are the tracepoints' TP_PROTO.
 */
#define LWT_TRACE_PROG(tp, call, args...)				\
SEC("tp_btf/" #tp)						\
int BPF_PROG(tp##_btf, args)					\
{								\
	return call;						\
}								\
SEC("raw_tp/" #tp)						\
int BPF_PROG(tp##_raw, args)					\
{								\
	return call;						\
}

LWT_TRACE_PROG(lw_attach, on_lw_attach(ctx, dp, offset, length, addr, err),
	       const void *dp, size_t offset, size_t length, unsigned long addr, int err)
LWT_TRACE_PROG(lw_detach, on_lw_detach(ctx, dp, offset, length, addr, err),
	       const void *dp, size_t offset, size_t length, unsigned long addr, int err)
LWT_TRACE_PROG(lw_misuse,
	       on_lw_misuse(ctx, kind, dp, addr, length, owner_tgid, owner_pid, count, err),
	       enum lw_misuse_kind kind, const void *dp, unsigned long addr, size_t length,
	       pid_t owner_tgid, pid_t owner_pid, long count, int err)
LWT_TRACE_PROG(lw_misuse_att, on_lw_misuse_att(kind, dp, offset, length, addr, since),
	       enum lw_misuse_kind kind, const void *dp, size_t offset, size_t length,
	       unsigned long addr, unsigned long since)
LWT_TRACE_PROG(lw_window_destroy, on_lw_window_destroy(ctx, mm, start, len, tgid, pid, count),
	       const void *mm, unsigned long start, unsigned long len, pid_t tgid, pid_t pid,
	       long count)
LWT_TRACE_PROG(lw_pool_init, on_lw_pool_init(ctx, mm, pool_size, flags, err),
	       const void *mm, size_t pool_size, unsigned int flags, int err)
LWT_TRACE_PROG(xmem_attach, on_xmem_call(true, err),
	       const void *dp, unsigned long addr, size_t len, int segflag, int err)
LWT_TRACE_PROG(xmem_detach, on_xmem_call(false, err),
	       const void *dp, unsigned long addr, size_t len, int segflag, int err)
LWT_TRACE_PROG(xmem_detach_refused,
	       on_xmem_detach_refused(ctx, dp, addr, len, lw_count, owner_tgid, owner_pid),
	       const void *dp, unsigned long addr, size_t len, long lw_count, pid_t owner_tgid,
	       pid_t owner_pid)
LWT_TRACE_PROG(xmem_detach_holder, on_xmem_detach_holder(dp, tgid, pid, count),
	       const void *dp, pid_t tgid, pid_t pid, long count)
LWT_TRACE_PROG(ldata_alloc, on_ldata_alloc(ctx, pool, elem, call_site),
	       const void *pool, const void *elem, unsigned long call_site, int node,
	       int caller_node)
LWT_TRACE_PROG(ldata_free, on_ldata_free(ctx, pool, elem, call_site),
	       const void *pool, const void *elem, unsigned long call_site, int node,
	       int caller_node)
LWT_TRACE_PROG(ldata_alloc_fail, on_ldata_alloc_fail(ctx, pool, call_site, node),
	       const void *pool, unsigned long call_site, int node, int caller_node)
LWT_TRACE_PROG(ldata_destroy, on_ldata_destroy(ctx, pool, outstanding),
	       const void *pool, unsigned int id, long outstanding)
LWT_TRACE_PROG(ldata_misuse, on_ldata_misuse(ctx, pool, elem, call_site, kind, count, owner),
	       const void *pool, const void *elem, unsigned long call_site,
	       enum ldata_misuse_kind kind, long count, const void *owner, int node,
	       int caller_node)
LWT_TRACE_PROG(xmem_map_misuse,
	       on_xmem_map_misuse(ctx, kind, dp, addr, len, owner_tgid, count, err),
	       enum xmem_misuse_kind kind, const void *dp, unsigned long addr, size_t len,
	       pid_t owner_tgid, long count, int err)

char LICENSE[] SEC("license") = "GPL";
