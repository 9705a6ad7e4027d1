// SPDX-License-Identifier: GPL-2.0
/*
 * lw-trace: report misuse of the lightweight attach services, cross-memory
 * descriptors and ldata pools on a live kernel, from the patchset's
 * tracepoints (include/trace/events/{lw_attach,xmem,ldata}.h).
 *
 * The BPF side (lw_trace.bpf.c) keeps the live attachments and elements in
 * maps and sends each misuse through a ring buffer; this side prints it,
 * one line (or one JSON object) per event, completes it from the maps
 * (the attachments left at an xmdetach or a thread exit, the elements left
 * at a pool's destroy, the detached range a fault hit), and prints per-
 * process counts, latency histograms and a summary.  Every record goes
 * through output.c's emitter; symbols, histograms and map walks are in
 * trace_helpers.c.
 *
 * Exit status: 0; 1 with --fail-on-misuse when a misuse was seen; 2 on an
 * error (not root, no BTF, no patchset tracepoints, bad arguments).
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lw_trace.h"
#include "lw_trace.skel.h"
#include "output.h"
#include "trace_helpers.h"

#define EXIT_MISUSE	1
#define EXIT_ERROR	2

static const char * const kind_names[LWT_NR_KINDS] = {
	[LWT_CROSS_THREAD] = "cross_thread",
	[LWT_XMDETACH_LIVE] = "xmdetach_live",
	[LWT_DETACH_UNATTACHED] = "detach_unattached",
	[LWT_DETACH_WRONG_DP] = "detach_wrong_dp",
	[LWT_DETACH_WRONG_LENGTH] = "detach_wrong_length",
	[LWT_EXIT_LEAK] = "exit_leak",
	[LWT_WINDOW_FULL] = "window_full",
	[LWT_POOL_INIT_EXISTS] = "pool_init_exists",
	[LWT_POOL_INIT_INVALID] = "pool_init_invalid",
	[LWT_FAULT] = "fault",
	[LWT_RDONLY_WRITE] = "rdonly_write",
	[LWT_WINDOW_DAMAGED] = "window_damaged",
	[LWT_LDATA_DOUBLE_FREE] = "ldata_double_free",
	[LWT_LDATA_FOREIGN_FREE] = "ldata_foreign_free",
	[LWT_LDATA_WRONG_POOL] = "ldata_wrong_pool",
	[LWT_LDATA_MISALIGNED_FREE] = "ldata_misaligned_free",
	[LWT_LDATA_DESTROY_LIVE] = "ldata_destroy_live",
	[LWT_LDATA_ALLOC_FAIL] = "ldata_alloc_fail",
	[LWT_XMEM_TOUCH_REVOKED] = "xmem_touch_revoked",
	[LWT_XMEM_TOUCH_GONE] = "xmem_touch_gone",
	[LWT_XMEM_UNMAP_UNATTACHED] = "xmem_unmap_unattached",
	[LWT_XMEM_OWNER_EXIT] = "xmem_owner_exit",
};

static struct env {
	pid_t pid;
	pid_t tid;
	bool json;
	bool stacks;
	bool latency;
	bool verbose;
	bool fail_on_misuse;
	bool raw_tp;
	bool ldata_track;	/* every ldata_alloc()/ldata_free() */
	bool lw_track;		/* every as_lw_att64()/as_lw_det64() */
	const char *btf_path;
	long duration;		/* seconds, 0: until interrupted */
	long interval;		/* seconds between summaries, 0: at exit */
	long times;		/* summaries before exiting, 0: no limit */
} env;

const char *argp_program_version = "lw-trace 1.0 (json schema 1)";
const char *argp_program_bug_address = "linux-mm@kvack.org";
static const char doc[] =
"Report misuse of lightweight attach, xmem descriptors and ldata pools.\n"
"\n"
"USAGE: lw-trace [-p PID] [-t TID] [-j] [--stacks] [-L] [-d SECONDS]\n"
"                [--lw-track] [--ldata-track] [--fail-on-misuse]\n"
"                [interval] [count]\n"
"\n"
"EXAMPLES:\n"
"    lw-trace                  # every misuse, one line each, until Ctrl-C\n"
"    lw-trace -p 181 --stacks  # process 181, with kernel and user stacks\n"
"    lw-trace -j -d 30         # 30 seconds of NDJSON (schema 1)\n"
"    lw-trace -L 5 3           # attach/detach latency, three 5 s summaries\n"
"    lw-trace --lw-track --stacks  # also where each attachment was made\n"
"    lw-trace --ldata-track    # also who allocated or freed each element\n"
"    lw-trace --fail-on-misuse -d 60   # for CI: status 1 on any misuse\n"
"\n"
"Exit status: 0; 1 with --fail-on-misuse if a misuse was seen; 2 on error.";

enum {
	OPT_STACKS = 0x100,
	OPT_FAIL,
	OPT_RAW_TP,
	OPT_BTF,
	OPT_LDATA_TRACK,
	OPT_LW_TRACK,
};

static const struct argp_option opts[] = {
	{ "pid", 'p', "PID", 0, "Only this process (its threads, or its attachments' owner)", 0 },
	{ "tid", 't', "TID", 0, "Only this thread", 0 },
	{ "json", 'j', NULL, 0, "NDJSON output, one object per line (schema 1)", 0 },
	{ "stacks", OPT_STACKS, NULL, 0,
	  "Kernel and user stacks of each misuse, and of the attach (--lw-track) or alloc (--ldata-track) it involves",
	  0 },
	{ "latency", 'L', NULL, 0, "Histograms of attach and detach latency (log2 ns)", 0 },
	{ "duration", 'd', "SECONDS", 0, "Trace for this long", 0 },
	{ "fail-on-misuse", OPT_FAIL, NULL, 0, "Exit with status 1 if any misuse was seen", 0 },
	{ "lw-track", OPT_LW_TRACK, NULL, 0,
	  "Trace every lightweight attach and detach: where each attachment was made (--stacks), who detached a range a fault hits and when, the addresses of the attachments that keep a descriptor attached, per-process counts (costs a BPF program per call)",
	  0 },
	{ "ldata-track", OPT_LDATA_TRACK, NULL, 0,
	  "Trace every ldata alloc and free: who allocated or first freed an element, the live elements of a pool destroyed with some, per-process counts (costs a BPF program per call)",
	  0 },
	{ "raw-tp", OPT_RAW_TP, NULL, 0, "Use raw_tp programs even when tp_btf works", 0 },
	{ "btf", OPT_BTF, "FILE", 0,
	  "Kernel BTF for CO-RE when the kernel has none (implies --raw-tp)",
	  0 },
	{ "verbose", 'v', NULL, 0, "libbpf debug output", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show this help", 0 },
	{},
};

static long parse_num(const char *arg, long min, struct argp_state *state,
		      const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > INT_MAX)
		argp_error(state, "invalid %s: %s", what, arg);
	return v;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	static int pos;

	switch (key) {
	case 'p':
		env.pid = parse_num(arg, 1, state, "PID");
		break;
	case 't':
		env.tid = parse_num(arg, 1, state, "TID");
		break;
	case 'j':
		env.json = true;
		break;
	case OPT_STACKS:
		env.stacks = true;
		break;
	case 'L':
		env.latency = true;
		break;
	case 'd':
		env.duration = parse_num(arg, 1, state, "duration");
		break;
	case OPT_FAIL:
		env.fail_on_misuse = true;
		break;
	case OPT_RAW_TP:
		env.raw_tp = true;
		break;
	case OPT_LDATA_TRACK:
		env.ldata_track = true;
		break;
	case OPT_LW_TRACK:
		env.lw_track = true;
		break;
	case OPT_BTF:
		env.btf_path = arg;
		env.raw_tp = true;
		break;
	case 'v':
		env.verbose = true;
		break;
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		if (pos == 0)
			env.interval = parse_num(arg, 1, state, "interval");
		else if (pos == 1)
			env.times = parse_num(arg, 1, state, "count");
		else
			argp_error(state, "unexpected argument: %s", arg);
		pos++;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static atomic_int exiting;

static void sig_handler(int sig)
{
	exiting = 1;
}

/* SIGINT and SIGTERM stop the tool with its final summary. */
static int stop_on_signals(void)
{
	struct sigaction sa = { .sa_handler = sig_handler };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigprocmask(SIG_UNBLOCK, &set, NULL)) {
		fprintf(stderr, "lw-trace: cannot handle SIGINT/SIGTERM: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

static bool libbpf_quiet;	/* a first attempt that may fail */

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if ((level == LIBBPF_DEBUG && !env.verbose) || libbpf_quiet)
		return 0;
	out_vlog(fmt, args);
	return 0;
}

static struct lw_trace_bpf *skel;
/* The BPF side's slots array (struct lwt_slot), mapped; NULL before. */
static struct lwt_slot *slots;
static __u64 misuse_seen[LWT_NR_KINDS];
static __u64 misuse_total;
static struct timespec mono0, real0;	/* to date kernel timestamps */
static __u64 ns_per_jiffy;		/* 0: unknown, ages not printed */

/* ===== Misuse records ===== */

/*
 * How long ago jiffies @then was at jiffies @now, in ns, to a tick's
 * resolution; nothing if the tick's length is unknown.
 */
static void field_ago(const char *key, __u64 then, __u64 now)
{
	if (!then || !ns_per_jiffy)
		return;
	out_ms(key, OUT_KV, now > then ? (now - then) * ns_per_jiffy : 0);
}

/* A stack, symbolized: a JSON array of "symbol+0xoff", or indented lines. */
static void print_ips(const char *what, const __u64 *ips, int nr, bool user,
		      pid_t pid)
{
	char sym[192];
	int i;

	if (nr <= 0)
		return;
	out_list_begin(what, "\n    %s:");
	for (i = 0; i < nr && i < LWT_MAX_STACK && ips[i]; i++) {
		/* Past the first frame, stop where the walk left the code. */
		if (user && i && !uexec_at(pid, ips[i]))
			break;
		if (user)
			usym_str(pid, ips[i], sym, sizeof(sym));
		else
			ksym_str(ips[i], sym, sizeof(sym));
		out_str(NULL, "\n      %s", sym);
	}
	out_list_end(NULL);
}

/* A stack that an attach, alloc or free left in the stacks map. */
static void print_stack_id(const char *what, __s32 id, bool user, pid_t pid)
{
	__u64 ips[LWT_MAX_STACK] = {};
	int nr = 0;

	if (id < 0 || bpf_map_lookup_elem(bpf_map__fd(skel->maps.stacks), &id,
					  ips))
		return;
	while (nr < LWT_MAX_STACK && ips[nr])
		nr++;
	print_ips(what, ips, nr, user, pid);
}

/* The misuse's own stacks, then those of the attach (@site) it involves. */
static void print_stacks(const struct lwt_event *e, const char *site)
{
	char k[32], u[32];

	if (!env.stacks)
		return;
	print_ips("kstack", e->kips, e->nr_kips, false, e->pid);
	print_ips("ustack", e->uips, e->nr_uips, true, e->pid);
	snprintf(k, sizeof(k), "%s_kstack", site);
	snprintf(u, sizeof(u), "%s_ustack", site);
	print_stack_id(k, e->att_kstack, false, e->owner_pid);
	print_stack_id(u, e->att_ustack, true, e->owner_pid);
}

struct att_match {
	__u64 tgid, before;
	__u32 tid;
};

static bool att_matches(const void *k, const void *v, const void *arg)
{
	const struct lwt_att_key *key = k;
	const struct lwt_att *att = v;
	const struct att_match *m = arg;

	return att->ts <= m->before && key->tgid == m->tgid &&
	       att->tid == m->tid;
}

/*
 * Drop from the map the entries (attached or detached) of thread @tid of
 * process @tgid, made up to jiffies @before: its window is gone.
 */
static void forget_atts(__u64 tgid, __u32 tid, __u64 before)
{
	struct att_match m = { .tgid = tgid, .tid = tid, .before = before };
	struct map_entries w;
	__u32 i, live;

	map_collect(skel->maps.atts, &w, att_matches, &m);
	map_forget(skel->maps.atts, &w);
	for (i = 0; i < LWT_SLOTS; i++) {
		struct lwt_slot *sl = &slots[i];

		if (!att_matches(&sl->key, &sl->att, &m))
			continue;
		/* Claimed from 0 or 1, as the BPF side claims only from 0. */
		live = __atomic_load_n(&sl->att.live, __ATOMIC_ACQUIRE);
		if (live == LWT_SLOT_BUSY ||
		    !__atomic_compare_exchange_n(&sl->att.live, &live, LWT_SLOT_BUSY,
						 false, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		if (att_matches(&sl->key, &sl->att, &m))
			memset(&sl->key, 0, sizeof(sl->key));
		__atomic_store_n(&sl->att.live, 0, __ATOMIC_RELEASE);
	}
}

/* The attachments a record lists (gathered by the BPF side). */
/* The threads whose attachments keep a descriptor attached (holders). */
static void print_holders(const struct lwt_event *e)
{
	__u32 i;

	out_list_begin("holders", NULL);
	for (i = 0; i < e->nr_items && i < LWT_MAX_ITEMS; i++) {
		const struct lwt_item *it = &e->items[i];

		out_obj_begin(NULL, "\n    holder");
		out_uint("pid", OUT_KV, it->pid);
		out_uint("tid", OUT_KV, it->tid);
		out_uint("attachments", OUT_KV, it->count);
		out_obj_end(NULL);
	}
	out_list_end(NULL);
	if (e->more_items)
		out_uint("holders_not_listed", OUT_KV, e->more_items);
}

static void print_items(const struct lwt_event *e)
{
	__u32 i;

	if (e->holders) {
		print_holders(e);
		return;
	}
	out_list_begin("attachments", NULL);
	for (i = 0; i < e->nr_items && i < LWT_MAX_ITEMS; i++) {
		const struct lwt_item *it = &e->items[i];

		out_obj_begin(NULL, "\n    attachment");
		out_uint("pid", OUT_KV, it->pid);
		out_uint("tid", OUT_KV, it->tid);
		out_hex("dp", OUT_KV, it->dp);
		out_hex("addr", OUT_KV, it->addr);
		out_uint("offset", OUT_KV, it->offset);
		out_uint("length", OUT_KV, it->length);
		field_ago("age_ns", it->ts, e->jiffies);
		out_obj_end(NULL);
	}
	out_list_end(NULL);
	if (e->more_items)
		out_uint("attachments_not_listed", OUT_KV, e->more_items);
}

struct elem_match {
	__u64 pool, before;
};

static bool elem_matches(const void *k, const void *v, const void *arg)
{
	const struct lwt_elem *el = v;
	const struct elem_match *m = arg;

	return el->pool == m->pool && el->ts <= m->before;
}

/* The live elements among @n entries of the elems map. */
static void print_elems(const __u64 *keys, const struct lwt_elem *els,
			size_t n, __u64 now)
{
	char sym[192];
	size_t i;

	out_list_begin("elements", NULL);
	for (i = 0; i < n; i++) {
		if (!els[i].live)
			continue;
		out_obj_begin(NULL, "\n    element");
		out_hex("elem", OUT_KV, keys[i]);
		out_uint("pid", OUT_KV, els[i].pid);
		out_uint("tid", OUT_KV, els[i].tid);
		if (els[i].call_site) {
			ksym_str(els[i].call_site, sym, sizeof(sym));
			out_str("call_site", OUT_KV, sym);
		}
		field_ago("age_ns", els[i].ts, now);
		out_obj_end(NULL);
	}
	out_list_end(NULL);
}

/*
 * The entries of @pool made up to jiffies @before, dropped from the map: it
 * was destroyed.  @print lists the live ones, the elements it still had.
 */
static void list_elems(__u64 pool, __u64 before, bool print)
{
	struct elem_match m = { .pool = pool, .before = before };
	struct map_entries w;

	map_collect(skel->maps.elems, &w, elem_matches, &m);
	if (print)
		print_elems((__u64 *)w.keys, (struct lwt_elem *)w.vals, w.n,
			    before);
	map_forget(skel->maps.elems, &w);
}

struct detached {
	__u64 tgid, addr;	/* what to look for */
	struct lwt_att_key key;	/* what was found */
	struct lwt_att att;
	int found;
};

static int detached_at(const void *k, const void *v, void *arg)
{
	const struct lwt_att_key *key = k;
	const struct lwt_att *att = v;
	struct detached *d = arg;

	if (att->live || !key->tgid || key->tgid != d->tgid || d->addr < key->addr ||
	    d->addr >= key->addr + att->length)
		return 0;
	d->key = *key;
	d->att = *att;
	return 1;
}

/* The detached range of process @tgid that holds @addr, for a fault. */
static void find_detached(__u64 tgid, __u64 addr, __u64 now)
{
	struct detached d = { .tgid = tgid, .addr = addr };
	__u64 end;

	for (__u32 i = 0; i < LWT_SLOTS && !d.found; i++)
		d.found = detached_at(&slots[i].key, &slots[i].att, &d);
	if (!d.found && map_walk(skel->maps.atts, detached_at, &d) != 1)
		return;
	end = d.att.end_ts;
	out_obj_begin("detached", " use-after-detach of");
	out_hex("dp", OUT_JSON_ONLY, d.att.dp);
	out_hex("addr", OUT_KV, d.key.addr);
	out_uint("length", OUT_KV, d.att.length);
	out_uint("tid", " detached by tid %s", d.att.end_tid);
	out_ms("ago_ns", " %sms ago", now > end ? (now - end) * ns_per_jiffy : 0);
	out_obj_end(NULL);
}

/* Who attached the range, if the kernel or the map knows. */
static void print_owner(const struct lwt_event *e)
{
	if (!e->owner_tid)
		return;
	out_uint("owner_pid", OUT_KV, e->owner_pid);
	out_uint("owner_tid", OUT_KV, e->owner_tid);
}

static void print_bad_detach(const struct lwt_event *e)
{
	out_hex("dp", OUT_KV, e->dp);
	out_hex("addr", OUT_KV, e->addr);
	out_uint("length", OUT_KV, e->length);
	out_int("err", OUT_KV, e->err);
	print_owner(e);
	if (e->att_ts) {
		out_hex("attached_dp", OUT_KV, e->att_dp);
		out_uint("attached_length", OUT_KV, e->att_length);
		out_uint("attached_offset", OUT_KV, e->offset);
		field_ago("attached_ago_ns", e->att_ts, e->jiffies);
	}
	print_stacks(e, "attach");
}

static void print_xmdetach_live(const struct lwt_event *e)
{
	out_hex("dp", OUT_KV, e->dp);
	out_hex("addr", OUT_KV, e->addr);
	out_uint("length", OUT_KV, e->length);
	out_int("attachments_live", OUT_KV, e->count);
	out_uint("owner_pid", OUT_KV, e->owner_pid);
	out_uint("owner_tid", OUT_KV, e->owner_tid);
	out_str("via", OUT_KV, syscall_name(e->via));
	print_stacks(e, "attach");
	print_items(e);
}

static void print_exit_leak(const struct lwt_event *e)
{
	out_hex("window", OUT_KV, e->addr);
	out_int("count", OUT_KV, e->count);
	out_str("via", OUT_KV, syscall_name(e->via));
	print_stacks(e, "attach");
	print_items(e);
	if (env.lw_track)
		forget_atts(e->pid, e->tid, e->jiffies);
}

/* ldata: the pool, the element, and who allocated (or freed) it. */
static void print_ldata(const struct lwt_event *e)
{
	bool freed = e->kind == LWT_LDATA_DOUBLE_FREE;
	const char *who = freed ? "freed" : "allocated";
	char sym[192], k[32];

	out_hex("pool", OUT_KV, e->pool);
	if (e->elem)
		out_hex("elem", OUT_KV, e->elem);
	if (e->call_site) {
		ksym_str(e->call_site, sym, sizeof(sym));
		out_str("call_site", OUT_KV, sym);
	}
	/* A double free found draining a cache names no element: how many. */
	if (e->kind == LWT_LDATA_DESTROY_LIVE ||
	    (freed && e->count > 1))
		out_int("count", OUT_KV, e->count);
	else if (e->kind == LWT_LDATA_ALLOC_FAIL)
		out_int("node", OUT_KV, e->count);
	else if (e->kind == LWT_LDATA_WRONG_POOL)
		out_hex("owner_pool", OUT_KV, e->owner_pool);
	if (e->att_ts) {
		snprintf(k, sizeof(k), "%s_by_pid", who);
		out_uint(k, OUT_KV, e->owner_pid);
		snprintf(k, sizeof(k), "%s_by_tid", who);
		out_uint(k, OUT_KV, e->owner_tid);
		snprintf(k, sizeof(k), "%s_ago_ns", who);
		field_ago(k, e->att_ts, e->jiffies);
	}
	print_stacks(e, freed ? "free" : "alloc");
	if (e->kind == LWT_LDATA_DESTROY_LIVE && env.ldata_track)
		list_elems(e->pool, e->jiffies, true);
}

/* What each kind says after the time, comm, pid/tid and kind. */
static void print_details(const struct lwt_event *e)
{
	switch (e->kind) {
	case LWT_CROSS_THREAD:
	case LWT_DETACH_UNATTACHED:
	case LWT_DETACH_WRONG_DP:
	case LWT_DETACH_WRONG_LENGTH:
		print_bad_detach(e);
		break;
	case LWT_XMDETACH_LIVE:
		print_xmdetach_live(e);
		break;
	case LWT_EXIT_LEAK:
		print_exit_leak(e);
		break;
	case LWT_WINDOW_FULL:
		out_hex("dp", OUT_KV, e->dp);
		out_uint("length", OUT_KV, e->length);
		out_int("attached_pages", OUT_KV, e->count);
		out_int("err", OUT_KV, e->err);
		print_stacks(e, "attach");
		break;
	case LWT_POOL_INIT_EXISTS:
	case LWT_POOL_INIT_INVALID:
		out_uint("pool_size", OUT_KV, e->length);
		out_hex("flags", OUT_KV, e->count);
		out_int("err", OUT_KV, e->err);
		print_stacks(e, "attach");
		break;
	case LWT_FAULT:
	case LWT_RDONLY_WRITE:
	case LWT_WINDOW_DAMAGED:
		out_hex("addr", OUT_KV, e->addr);
		print_owner(e);
		find_detached(e->pid, e->addr, e->jiffies);
		print_stacks(e, "attach");
		break;
	case LWT_XMEM_TOUCH_REVOKED:
	case LWT_XMEM_TOUCH_GONE:
	case LWT_XMEM_UNMAP_UNATTACHED:
	case LWT_XMEM_OWNER_EXIT:
		out_hex("dp", OUT_KV, e->dp);
		out_hex("addr", OUT_KV, e->addr);
		out_uint("length", OUT_KV, e->length);
		out_uint("owner_pid", OUT_KV, e->owner_pid);
		out_int("mappings", OUT_KV, e->count);
		out_int("err", OUT_KV, e->err);
		print_stacks(e, "attach");
		break;
	default:
		print_ldata(e);
		break;
	}
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct lwt_event *e = data;
	char when[32];

	if (size < sizeof(*e) || e->kind >= LWT_NR_KINDS)
		return 0;
	if (!e->reported) {
		/*
		 * The end of a window or pool without a misuse, or one that
		 * -p/-t filter out: only forget what it ended.
		 */
		if (e->rec == LWT_REC_WINDOW_END && env.lw_track)
			forget_atts(e->pid, e->tid, e->jiffies);
		else if (e->rec == LWT_REC_POOL_END ||
			 e->kind == LWT_LDATA_DESTROY_LIVE)
			list_elems(e->pool, e->jiffies, false);
		return 0;
	}
	misuse_seen[e->kind]++;
	misuse_total++;
	wall_of(e->ts, &mono0, &real0, when, sizeof(when));
	out_begin("misuse");
	out_str("kind", OUT_JSON_ONLY, kind_names[e->kind]);
	out_str("source", OUT_JSON_ONLY,
		e->source == LWT_SRC_MAP ? "map" : "kernel");
	out_uint("ts", OUT_JSON_ONLY, e->ts);
	out_str("time", "%s", when);
	out_str("comm", " %-16s", e->comm);
	out_uint("pid", " %s", e->pid);
	out_uint("tid", "/%s", e->tid);
	out_human(" %s", kind_names[e->kind]);
	print_details(e);
	out_end("\n");
	return 0;
}

/* ===== Summaries ===== */

/* Per-process counts, summed over the CPUs, in the order first seen. */
struct count_sums {
	struct lwt_counts *c;
	size_t n;
};

/* Add @v, one CPU's counts of a process, to its sum in @sums. */
static void add_counts(struct count_sums *sums, const struct lwt_counts *v)
{
	struct lwt_counts *s = NULL, *grown;
	size_t i;

	for (i = 0; i < sums->n; i++)
		if (sums->c[i].pid == v->pid)
			s = &sums->c[i];
	if (!s) {
		grown = realloc(sums->c, (sums->n + 1) * sizeof(*grown));
		if (!grown)
			return;
		sums->c = grown;
		s = &grown[sums->n++];
		memset(s, 0, sizeof(*s));
		s->pid = v->pid;
	}
	s->attach += v->attach;
	s->attach_err += v->attach_err;
	s->detach += v->detach;
	s->detach_err += v->detach_err;
	s->xmattach += v->xmattach;
	s->xmdetach += v->xmdetach;
	s->ldata_alloc += v->ldata_alloc;
	s->ldata_free += v->ldata_free;
	s->ldata_fail += v->ldata_fail;
	s->misuse += v->misuse;
	if (v->comm[0])
		memcpy(s->comm, v->comm, sizeof(s->comm));
	s->comm[LWT_COMM_LEN - 1] = 0;
}

/* A CPU's slot of count_slots: the pid it holds is in the value. */
static int add_slot(const void *key, const void *val, void *arg)
{
	const struct lwt_counts *v = val;

	if (v->pid)
		add_counts(arg, v);
	return 0;
}

/* A CPU's value in the counts hash: keyed by pid. */
static int add_hashed(const void *key, const void *val, void *arg)
{
	struct lwt_counts v = *(const struct lwt_counts *)val;

	v.pid = *(const __u32 *)key;
	add_counts(arg, &v);
	return 0;
}

/* Whether lw_attach and lw_detach have programs: per-call counts. */
static bool lw_calls_traced(void)
{
	return env.lw_track || env.latency;
}

static void print_counts(void)
{
	struct count_sums sums = {};
	size_t i;

	map_walk(skel->maps.count_slots, add_slot, &sums);
	map_walk(skel->maps.counts, add_hashed, &sums);
	out_human("%-7s %-16s %8s %8s %8s %8s %8s %8s %8s %8s %7s\n",
		  "PID", "COMM", "ATTACH", "ATT-ERR", "DETACH", "DET-ERR",
		  "XMATTACH", "L-ALLOC", "L-FREE", "L-FAIL", "MISUSE");
	out_list_begin("processes", NULL);
	for (i = 0; i < sums.n; i++) {
		const struct lwt_counts *c = &sums.c[i];

		out_obj_begin(NULL, NULL);
		out_uint("pid", "%-7s", c->pid);
		out_str("comm", " %-16s", c->comm);
		if (lw_calls_traced()) {
			out_uint("attach", " %8s", c->attach);
			out_uint("attach_err", " %8s", c->attach_err);
			out_uint("detach", " %8s", c->detach);
			out_uint("detach_err", " %8s", c->detach_err);
		} else {
			/* Not traced: not counted. */
			out_human(" %8s %8s %8s %8s", "-", "-", "-", "-");
		}
		out_uint("xmattach", " %8s", c->xmattach);
		out_uint("xmdetach", OUT_JSON_ONLY, c->xmdetach);
		if (env.ldata_track) {
			out_uint("ldata_alloc", " %8s", c->ldata_alloc);
			out_uint("ldata_free", " %8s", c->ldata_free);
		} else {
			/* Not traced: not counted. */
			out_human(" %8s %8s", "-", "-");
		}
		out_uint("ldata_fail", " %8s", c->ldata_fail);
		out_uint("misuse", " %7s", c->misuse);
		out_obj_end("\n");
	}
	out_list_end(NULL);
	free(sums.c);
}

static void print_hist(int op, const char *key, const char *name)
{
	int fd = bpf_map__fd(skel->maps.hist);
	__u64 vals[LWT_HIST_SLOTS] = {};
	__u32 i, slot;

	for (i = 0; i < LWT_HIST_SLOTS; i++) {
		slot = op * LWT_HIST_SLOTS + i;
		bpf_map_lookup_elem(fd, &slot, &vals[i]);
	}
	print_log2_hist(vals, LWT_HIST_SLOTS, key, name);
}

static void clear_hist(void)
{
	int fd = bpf_map__fd(skel->maps.hist);
	__u64 zero = 0;
	__u32 key;

	for (key = 0; key < LWT_NR_OPS * LWT_HIST_SLOTS; key++)
		bpf_map_update_elem(fd, &key, &zero, BPF_ANY);
}

struct live {
	size_t off;		/* of the __u32 live flag in the value */
	long n;
};

static int count_live(const void *key, const void *val, void *arg)
{
	struct live *l = arg;

	if (*(const __u32 *)((const char *)val + l->off))
		l->n++;
	return 0;
}

/* Live attachments or elements in @map. */
static long live_count(struct bpf_map *map)
{
	struct live l = {
		.off = map == skel->maps.atts ? offsetof(struct lwt_att, live) :
						offsetof(struct lwt_elem, live),
	};

	if (map == skel->maps.atts)
		for (__u32 i = 0; i < LWT_SLOTS; i++)
			l.n += slots[i].att.live == 1;
	return map_walk(map, count_live, &l) < 0 ? -1 : l.n;
}

static void print_summary(bool final)
{
	int i;

	out_begin(final ? "end" : "summary");
	out_human("\n--- lw-trace %s: ", final ? "summary" : "interval");
	out_uint("ts", OUT_JSON_ONLY, mono_ns());
	out_uint("misuse", "%s misuse", misuse_total);
	out_obj_begin("kinds", NULL);
	for (i = 1; i < LWT_NR_KINDS; i++) {
		if (!misuse_seen[i])
			continue;
		out_human(", %s ", kind_names[i]);
		out_uint(kind_names[i], "%s", misuse_seen[i]);
	}
	out_obj_end(NULL);
	out_uint("lost", "; lost events %s", skel->bss->lost);
	out_uint("untracked", "; untracked %s;", skel->bss->untracked);
	if (env.lw_track)
		out_int("live_attachments", " live attachments %s",
			live_count(skel->maps.atts));
	if (env.ldata_track)
		out_int("live_elements", ", ldata elements %s",
			live_count(skel->maps.elems));
	out_human("\n");
	print_counts();
	if (env.latency) {
		print_hist(LWT_OP_ATTACH, "attach_ns", "attach");
		print_hist(LWT_OP_DETACH, "detach_ns", "detach");
	}
	out_end(NULL);
	if (env.latency && !final)
		clear_hist();
}

/* The optional parts of the patchset this kernel has. */
struct kparts {
	bool ldata;	/* CONFIG_LDATA */
	bool xmap;	/* CONFIG_XMEM_MAP */
};

static void print_start(bool use_btf, const struct kparts *kp)
{
	out_begin("start");
	out_uint("ts", OUT_JSON_ONLY,
		 (__u64)mono0.tv_sec * 1000000000 + mono0.tv_nsec);
	out_human("Tracing lw/xmem%s%s misuse (", kp->xmap ? "/xmem_map" : "",
		  kp->ldata ? "/ldata" : "");
	out_str("mode", "%s)", use_btf ? "tp_btf" : "raw_tp");
	out_int("pid", OUT_JSON_ONLY, env.pid);
	out_int("tid", OUT_JSON_ONLY, env.tid);
	out_bool("stacks", OUT_JSON_ONLY, env.stacks);
	out_bool("latency", OUT_JSON_ONLY, env.latency);
	out_bool("ldata", OUT_JSON_ONLY, kp->ldata);
	out_bool("ldata_track", OUT_JSON_ONLY, env.ldata_track);
	out_bool("lw_track", OUT_JSON_ONLY, env.lw_track);
	out_bool("xmem_map", OUT_JSON_ONLY, kp->xmap);
	out_human("%s... Ctrl-C to end.\n",
		  env.latency ? ", attach/detach latency" : "");
	out_human("%-12s %-16s %s %s\n", "TIME", "COMM", "PID/TID",
		  "KIND DETAILS");
	out_end(NULL);
}

/* ===== Setup ===== */

/* CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, in the effective set. */
static bool privileged(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
	unsigned long long eff;

	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0;
	eff = data[0].effective | (unsigned long long)data[1].effective << 32;
	if (eff & (1ULL << CAP_SYS_ADMIN))
		return true;
	return (eff & (1ULL << CAP_BPF)) && (eff & (1ULL << CAP_PERFMON));
}

static bool tracefs_has(const char *event)
{
	char path[192];

	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s", event);
	if (!access(path, F_OK))
		return true;
	snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/%s",
		 event);
	return !access(path, F_OK);
}

/* Whether the kernel has tracepoint @tp (@sys/@tp in tracefs). */
static bool kernel_has_tp(const struct btf *vmlinux, const char *sys,
			  const char *tp)
{
	char name[96];

	if (vmlinux) {
		snprintf(name, sizeof(name), "btf_trace_%s", tp);
		return btf__find_by_name_kind(vmlinux, name,
					      BTF_KIND_TYPEDEF) > 0;
	}
	snprintf(name, sizeof(name), "%s/%s", sys, tp);
	return tracefs_has(name);
}

/*
 * The patchset's tracepoints, as this lw-trace knows them (their misuse
 * kinds are enums of the kernel's BTF); without ldata's, ldata is off, and
 * without xmem_map's, mappings are.  Return: 0, or -ENOENT, said.
 */
static int check_kernel(const struct btf *vmlinux, struct kparts *kp)
{
	if (!kernel_has_tp(vmlinux, "lw", "lw_attach") ||
	    !kernel_has_tp(vmlinux, "xmem", "xmem_detach_refused")) {
		out_err("this kernel has no lw/xmem tracepoints: it is not built with the lw-mm patchset (CONFIG_LW_ATTACH)");
		return -ENOENT;
	}
	if (vmlinux &&
	    btf__find_by_name_kind(vmlinux, "lw_misuse_kind", BTF_KIND_ENUM) <= 0 &&
	    btf__find_by_name_kind(vmlinux, "lw_misuse_kind", BTF_KIND_ENUM64) <= 0) {
		out_err("this kernel's lw tracepoints are older than this lw-trace (no enum lw_misuse_kind in its BTF): build lw-trace from the kernel's tree");
		return -ENOENT;
	}
	if (!kernel_has_tp(vmlinux, "lw", "lw_misuse_att") ||
	    !kernel_has_tp(vmlinux, "xmem", "xmem_detach_holder")) {
		out_err("this kernel's lw tracepoints are older than this lw-trace (no lw_misuse_att or xmem_detach_holder): build lw-trace from the kernel's tree");
		return -ENOENT;
	}
	kp->ldata = kernel_has_tp(vmlinux, "ldata", "ldata_misuse");
	if (!kp->ldata)
		out_warn("no ldata tracepoints (CONFIG_LDATA): ldata checks off");
	kp->xmap = kernel_has_tp(vmlinux, "xmem_map", "xmem_map_misuse");
	if (!kp->xmap)
		out_warn("no xmem_map tracepoints (CONFIG_XMEM_MAP): mapping checks off");
	return 0;
}

struct tp_progs {
	const char *sys, *tp;
	struct bpf_program *btf, *raw;
};

/*
 * Open the skeleton into skel, set what the programs read as constants and
 * choose the tp_btf or the raw_tp set.  Return: 0, or a negative errno,
 * said.
 */
static int open_skel(struct bpf_object_open_opts *opts, bool use_btf,
		     const struct kparts *kp, const struct btf *vmlinux)
{
	struct tp_progs tps[] = {
#define TP(s, t) { #s, #t, NULL, NULL }
		TP(lw, lw_attach), TP(lw, lw_detach), TP(lw, lw_misuse),
		TP(lw, lw_misuse_att), TP(lw, lw_window_destroy),
		TP(lw, lw_pool_init), TP(xmem, xmem_attach),
		TP(xmem, xmem_detach), TP(xmem, xmem_detach_refused),
		TP(xmem, xmem_detach_holder), TP(ldata, ldata_alloc),
		TP(ldata, ldata_free), TP(ldata, ldata_alloc_fail),
		TP(ldata, ldata_destroy), TP(ldata, ldata_misuse),
		TP(xmem_map, xmem_map_misuse),
#undef TP
	};
	char name[64];
	size_t i;
	bool on;
	int err;

	skel = lw_trace_bpf__open_opts(opts);
	if (!skel) {
		err = -errno;
		out_err("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	skel->rodata->targ_pid = env.pid;
	skel->rodata->targ_tid = env.tid;
	skel->rodata->want_stacks = env.stacks;
	skel->rodata->want_latency = env.latency;
	skel->rodata->lw_track = env.lw_track;
	skel->rodata->task_btf = !!vmlinux;
	if (!env.stacks)
		bpf_map__set_max_entries(skel->maps.stacks, 1);
	if (!env.ldata_track)
		bpf_map__set_max_entries(skel->maps.elems, 1);
	if (!env.lw_track)
		bpf_map__set_max_entries(skel->maps.atts, 1);
	for (i = 0; i < ARRAY_SIZE(tps); i++) {
		on = (kp->ldata || strcmp(tps[i].sys, "ldata")) &&
		     (kp->xmap || strcmp(tps[i].sys, "xmem_map"));
		/*
		 * The kernel refuses and reports every ldata misuse itself;
		 * following each call is only for --ldata-track's details.
		 */
		if (!strcmp(tps[i].tp, "ldata_alloc") ||
		    !strcmp(tps[i].tp, "ldata_free"))
			on = on && env.ldata_track;
		/*
		 * Likewise the kernel reports every lw misuse and names the
		 * attachments involved (lw_misuse_att, xmem_detach_holder);
		 * following each attach and detach is for --lw-track's
		 * details, and for -L's latency and per-process counts.
		 */
		if (!strcmp(tps[i].tp, "lw_attach") ||
		    !strcmp(tps[i].tp, "lw_detach"))
			on = on && lw_calls_traced();
		if (!strcmp(tps[i].tp, "lw_misuse_att") ||
		    !strcmp(tps[i].tp, "xmem_detach_holder"))
			on = on && !env.lw_track;
		snprintf(name, sizeof(name), "%s_btf", tps[i].tp);
		tps[i].btf = bpf_object__find_program_by_name(skel->obj, name);
		snprintf(name, sizeof(name), "%s_raw", tps[i].tp);
		tps[i].raw = bpf_object__find_program_by_name(skel->obj, name);
		if (!tps[i].btf || !tps[i].raw) {
			out_err("the BPF object has no program for %s",
				tps[i].tp);
			return -ENOENT;
		}
		bpf_program__set_autoload(tps[i].btf, on && use_btf);
		bpf_program__set_autoload(tps[i].raw, on && !use_btf);
	}
	bpf_program__set_autoload(skel->progs.lw_att64_entry, env.latency);
	bpf_program__set_autoload(skel->progs.as_lw_att64_entry, env.latency);
	bpf_program__set_autoload(skel->progs.as_lw_det64_entry, env.latency);
	return 0;
}

/*
 * Open and load the tp_btf set (if @use_btf) or the raw_tp set; the
 * tp_btf set may fail where raw_tp loads.  Return: 0 with @use_btf saying
 * which set, or a negative errno, said.
 */
static int load_progs(struct bpf_object_open_opts *opts, bool *use_btf,
		      const struct kparts *kp, const struct btf *vmlinux)
{
	int err;

	err = open_skel(opts, *use_btf, kp, vmlinux);
	if (err)
		return err;
	libbpf_quiet = *use_btf && !env.verbose;
	err = lw_trace_bpf__load(skel);
	libbpf_quiet = false;
	if (err && err != -EPERM && *use_btf) {
		/*
		 * 6.12's verifier rejects tp_btf reads of const void *
		 * arguments, which the patchset's tracepoints have (mainline
		 * accepts them; a patch of the series backports that):
		 * the raw_tp programs read the same arguments.
		 */
		if (env.verbose)
			out_log("lw-trace: tp_btf programs not loaded (%s): using raw_tp\n",
				strerror(-err));
		lw_trace_bpf__destroy(skel);
		*use_btf = false;
		err = open_skel(opts, false, kp, vmlinux);
		if (err)
			return err;
		err = lw_trace_bpf__load(skel);
	}
	if (err == -EPERM)
		out_err("loading the BPF programs: permission denied (root, or kernel.unprivileged_bpf_disabled / lockdown?)");
	else if (err)
		out_err("cannot load the BPF programs (%s); -v shows libbpf's log",
			strerror(-err));
	return err;
}

/* Map the BPF side's slots, which user space reads and forgets in place. */
static int map_slots(void)
{
	size_t len = LWT_SLOTS * sizeof(struct lwt_slot);
	void *mem;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		   bpf_map__fd(skel->maps.slots), 0);
	if (mem == MAP_FAILED) {
		out_err("cannot map the attachment slots: %s", strerror(errno));
		return -errno;
	}
	slots = mem;
	return 0;
}

static int attach_progs(void)
{
	int err = lw_trace_bpf__attach(skel);

	if (err == -ENOENT)
		out_err("cannot attach: a tracepoint or function is missing in this kernel (%s); -v for details",
			strerror(-err));
	else if (err)
		out_err("cannot attach the BPF programs: %s", strerror(-err));
	return err;
}

/*
 * Records until interrupted, -d's deadline or the last of [count]
 * summaries, then what is still in the buffer and the totals.  Return: 0,
 * or the error of a failed poll.
 */
static int poll_events(struct ring_buffer *rb)
{
	time_t deadline = 0, next_summary = 0, now;
	long summaries = 0;
	int err = 0;

	if (env.duration)
		deadline = mono_sec() + env.duration;
	if (env.interval)
		next_summary = mono_sec() + env.interval;
	while (!exiting) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR) {
			out_err("polling the ring buffer: %s", strerror(-err));
			break;
		}
		err = 0;
		now = mono_sec();
		if (next_summary && now >= next_summary) {
			print_summary(false);
			next_summary += env.interval;
			if (env.times && ++summaries >= env.times)
				break;
		}
		if (deadline && now >= deadline)
			break;
	}
	ring_buffer__consume(rb);
	print_summary(true);
	return err;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.doc = doc,
	};
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct ring_buffer *rb = NULL;
	struct btf *vmlinux = NULL;
	struct kparts kp = { .ldata = true, .xmap = true };
	bool use_btf;
	int status = EXIT_ERROR;

	argp_err_exit_status = EXIT_ERROR;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return EXIT_ERROR;
	/*
	 * Before anything slow: a SIGINT while the programs load (which takes
	 * seconds on a slow machine) must stop the tool, not be lost, as it
	 * would be for a background job that starts with SIGINT ignored.
	 */
	if (stop_on_signals())
		return EXIT_ERROR;
	out_init("lw-trace", LWT_SCHEMA_VERSION, env.json);
	libbpf_set_print(libbpf_print);

	if (!privileged()) {
		out_err("must run as root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)");
		goto cleanup;
	}
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux && !env.btf_path) {
		out_err("the kernel has no BTF (/sys/kernel/btf/vmlinux: CONFIG_DEBUG_INFO_BTF); pass --btf with its vmlinux");
		goto cleanup;
	}
	if (check_kernel(vmlinux, &kp))
		goto cleanup;

	open_opts.btf_custom_path = env.btf_path;
	use_btf = vmlinux && !env.raw_tp;
	if (load_progs(&open_opts, &use_btf, &kp, vmlinux) || map_slots() ||
	    attach_progs())
		goto cleanup;
	if (env.verbose)
		out_log("lw-trace: %s programs attached\n",
			use_btf ? "tp_btf" : "raw_tp");

	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event,
			      NULL, NULL);
	if (!rb) {
		out_err("cannot create the ring buffer: %s", strerror(errno));
		goto cleanup;
	}
	ns_per_jiffy = tick_ns();
	clock_gettime(CLOCK_MONOTONIC, &mono0);
	clock_gettime(CLOCK_REALTIME, &real0);
	print_start(use_btf, &kp);

	if (poll_events(rb))
		goto cleanup;
	status = env.fail_on_misuse && misuse_total ? EXIT_MISUSE : 0;
cleanup:
	ring_buffer__free(rb);
	if (slots)
		munmap(slots, LWT_SLOTS * sizeof(struct lwt_slot));
	lw_trace_bpf__destroy(skel);
	btf__free(vmlinux);
	return status;
}
