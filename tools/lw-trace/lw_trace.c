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
 * process counts, latency histograms and a summary.
 *
 * Exit status: 0; 1 with --fail-on-misuse when a misuse was seen; 2 on an
 * error (not root, no BTF, no patchset tracepoints, bad arguments).
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lw_trace.h"
#include "lw_trace.skel.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
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
"                [--fail-on-misuse] [interval] [count]\n"
"\n"
"EXAMPLES:\n"
"    lw-trace                  # every misuse, one line each, until Ctrl-C\n"
"    lw-trace -p 181 --stacks  # process 181, with kernel and user stacks\n"
"    lw-trace -j -d 30         # 30 seconds of NDJSON (schema 1)\n"
"    lw-trace -L 5 3           # attach/detach latency, three 5 s summaries\n"
"    lw-trace --fail-on-misuse -d 60   # for CI: status 1 on any misuse\n"
"\n"
"Exit status: 0; 1 with --fail-on-misuse if a misuse was seen; 2 on error.";

enum {
	OPT_STACKS = 0x100,
	OPT_FAIL,
	OPT_RAW_TP,
	OPT_BTF,
};

static const struct argp_option opts[] = {
	{ "pid", 'p', "PID", 0, "Only this process (its threads, or its attachments' owner)", 0 },
	{ "tid", 't', "TID", 0, "Only this thread", 0 },
	{ "json", 'j', NULL, 0, "NDJSON output, one object per line (schema 1)", 0 },
	{ "stacks", OPT_STACKS, NULL, 0,
	  "Kernel and user stacks of each misuse and of the attach or alloc it involves",
	  0 },
	{ "latency", 'L', NULL, 0, "Histograms of attach and detach latency (log2 ns)", 0 },
	{ "duration", 'd', "SECONDS", 0, "Trace for this long", 0 },
	{ "fail-on-misuse", OPT_FAIL, NULL, 0, "Exit with status 1 if any misuse was seen", 0 },
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

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if (level == LIBBPF_DEBUG && !env.verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Print an error and exit with status 2. */
static _Noreturn void lwt_err(const char *fmt, ...)
{
	va_list ap;

	fputs("lw-trace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_ERROR);
}

static void lwt_warn(const char *msg)
{
	fprintf(stderr, "lw-trace: %s\n", msg);
}

/* ===== Kernel symbols (/proc/kallsyms) ===== */

struct ksym {
	unsigned long addr;
	char *name;
};

static struct ksym *ksyms;
static size_t nr_ksyms;

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void ksyms_load(void)
{
	char name[256], type;
	size_t cap = 0;
	unsigned long addr;
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return;
	while (fscanf(f, "%lx %c %255s%*[^\n]", &addr, &type, name) == 3) {
		if (!addr || (type != 't' && type != 'T' && type != 'W'))
			continue;
		if (nr_ksyms == cap) {
			struct ksym *n;

			cap = cap ? cap * 2 : 4096;
			n = realloc(ksyms, cap * sizeof(*ksyms));
			if (!n)
				break;
			ksyms = n;
		}
		ksyms[nr_ksyms].addr = addr;
		ksyms[nr_ksyms].name = strdup(name);
		if (ksyms[nr_ksyms].name)
			nr_ksyms++;
	}
	fclose(f);
	qsort(ksyms, nr_ksyms, sizeof(*ksyms), ksym_cmp);
}

static const struct ksym *ksym_of(unsigned long addr)
{
	size_t lo = 0, hi = nr_ksyms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ksyms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &ksyms[lo - 1] : NULL;
}

static void ksym_str(unsigned long addr, char *buf, size_t len)
{
	const struct ksym *s = ksym_of(addr);

	if (s)
		snprintf(buf, len, "%s+0x%lx", s->name, addr - s->addr);
	else
		snprintf(buf, len, "0x%lx", addr);
}

/* ===== User symbols: the ELF symbol table of the mapped file ===== */

static bool usym_str(pid_t pid, unsigned long addr, char *buf, size_t len)
{
	unsigned long start, end, pgoff, best_addr = 0;
	char path[PATH_MAX], line[PATH_MAX + 128], best[128] = "";
	bool found = false;
	Elf_Scn *scn = NULL;
	GElf_Ehdr ehdr;
	Elf *elf;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %s", &start, &end,
			   &pgoff, path) == 4 && addr >= start && addr < end &&
		    path[0] == '/') {
			found = true;
			break;
		}
	}
	fclose(f);
	if (!found)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || !gelf_getehdr(elf, &ehdr))
		goto out;
	/* A shared object or PIE: symbols are relative to its load base. */
	if (ehdr.e_type == ET_DYN)
		addr = addr - start + pgoff;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		data = elf_getdata(scn, NULL);
		n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (i = 0; data && i < n; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, i, &sym) ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    sym.st_value > addr || sym.st_value < best_addr ||
			    (sym.st_size && addr >= sym.st_value + sym.st_size))
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			best_addr = sym.st_value;
			snprintf(best, sizeof(best), "%s", name);
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	if (!best[0])
		return false;
	snprintf(buf, len, "%s+0x%lx", best, addr - best_addr);
	return true;
}

/* ===== Output ===== */

static struct lw_trace_bpf *skel;
static __u64 misuse_seen[LWT_NR_KINDS];
static __u64 misuse_total;
static struct timespec mono0, real0;	/* to date kernel timestamps */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void wall_of(__u64 ts, char *buf, size_t len)
{
	__s64 mono = (__s64)mono0.tv_sec * 1000000000 + mono0.tv_nsec;
	__s64 ns = (__s64)real0.tv_sec * 1000000000 + real0.tv_nsec +
		   ((__s64)ts - mono);
	time_t sec = ns / 1000000000;
	struct tm tm;

	localtime_r(&sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (int)(ns % 1000000000 / 1000000));
}

static const char *syscall_name(__s64 nr)
{
	switch (nr) {
	case 3:
		return "close";
	case 16:
		return "ioctl";
	case 59:
	case 322:
		return "execve";
	case 60:
	case 231:
		return "exit";
	default:
		return nr < 0 ? "unknown" : "other";
	}
}

/* Print a stack as a JSON array or as indented lines. */
static void print_stack(const char *what, __s32 id, bool user, pid_t pid)
{
	__u64 ips[LWT_MAX_STACK] = {};
	char sym[192];
	int i, n = 0;

	if (id < 0 || bpf_map_lookup_elem(bpf_map__fd(skel->maps.stacks), &id,
					  ips))
		return;
	if (env.json)
		printf(",\"%s\":[", what);
	else
		printf("\n    %s:", what);
	for (i = 0; i < LWT_MAX_STACK && ips[i]; i++) {
		if (user) {
			if (!usym_str(pid, ips[i], sym, sizeof(sym)))
				snprintf(sym, sizeof(sym), "0x%llx", ips[i]);
		} else {
			ksym_str(ips[i], sym, sizeof(sym));
		}
		if (env.json) {
			printf("%s", n++ ? "," : "");
			json_str(sym);
		} else {
			printf("\n      %s", sym);
		}
	}
	if (env.json)
		putchar(']');
}

static void print_stacks(const struct lwt_event *e, const char *site)
{
	char k[32], u[32];

	if (!env.stacks)
		return;
	print_stack("kstack", e->kstack, false, e->pid);
	print_stack("ustack", e->ustack, true, e->pid);
	snprintf(k, sizeof(k), "%s_kstack", site);
	snprintf(u, sizeof(u), "%s_ustack", site);
	print_stack(k, e->att_kstack, false, e->owner_pid);
	print_stack(u, e->att_ustack, true, e->owner_pid);
}

/* key=value in human output, "key":value in JSON. */
static bool first_field;

static void field_u(const char *k, unsigned long long v)
{
	if (env.json)
		printf(",\"%s\":%llu", k, v);
	else
		printf(" %s=%llu", k, v);
}

static void field_d(const char *k, long long v)
{
	if (env.json)
		printf(",\"%s\":%lld", k, v);
	else
		printf(" %s=%lld", k, v);
}

static void field_x(const char *k, unsigned long long v)
{
	if (env.json)
		printf(",\"%s\":\"0x%llx\"", k, v);
	else
		printf(" %s=0x%llx", k, v);
}

static void field_s(const char *k, const char *v)
{
	if (env.json) {
		printf(",\"%s\":", k);
		json_str(v);
	} else {
		printf(" %s=%s", k, v);
	}
}

static void field_ago(const char *k, __u64 then, __u64 now)
{
	if (!then)
		return;
	if (env.json)
		printf(",\"%s\":%llu", k, now > then ? now - then : 0);
	else
		printf(" %s=%.3fms", k, now > then ? (now - then) / 1e6 : 0.0);
}

/* Open a list: human lines are indented, JSON is an array of objects. */
static int list_n;

static void list_open(const char *k)
{
	list_n = 0;
	if (env.json)
		printf(",\"%s\":[", k);
}

static void item_open(const char *what)
{
	if (env.json)
		printf("%s{\"_\":0", list_n ? "," : "");
	else
		printf("\n    %s", what);
	list_n++;
}

static void item_close(void)
{
	if (env.json)
		putchar('}');
}

static void list_close(void)
{
	if (env.json)
		putchar(']');
}

/*
 * The attachments of the map that match: @dp (xmdetach) or the thread
 * @tid of @mm (exit); those of an exit are dropped from the map.
 */
static long list_atts(__u64 dp, __u64 mm, __u32 tid, __u64 before,
		      bool forget)
{
	int fd = bpf_map__fd(skel->maps.atts);
	struct lwt_att_key key, next, *prev = NULL;
	struct lwt_att att;
	long n = 0;

	list_open("attachments");
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &att))
			continue;
		if (dp ? att.dp != dp : (key.mm != mm || att.tid != tid))
			continue;
		if (att.ts > before)
			continue;
		item_open("attachment");
		field_d("pid", att.pid);
		field_d("tid", att.tid);
		field_x("dp", att.dp);
		field_x("addr", key.addr);
		field_u("offset", att.offset);
		field_u("length", att.length);
		field_ago("age_ns", att.ts, before);
		item_close();
		n++;
		if (forget)
			bpf_map_delete_elem(fd, &key);
	}
	list_close();
	return n;
}

/* The live elements of @pool, dropped from the map: it was destroyed. */
static long list_elems(__u64 pool, __u64 before)
{
	int fd = bpf_map__fd(skel->maps.elems);
	__u64 key, next, *prev = NULL;
	struct lwt_elem el;
	long n = 0;

	list_open("elements");
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &el) || el.pool != pool ||
		    el.ts > before)
			continue;
		item_open("element");
		field_x("elem", key);
		field_d("pid", el.pid);
		field_d("tid", el.tid);
		if (el.call_site) {
			char sym[192];

			ksym_str(el.call_site, sym, sizeof(sym));
			field_s("call_site", sym);
		}
		field_ago("age_ns", el.ts, before);
		item_close();
		n++;
		bpf_map_delete_elem(fd, &key);
	}
	list_close();
	return n;
}

/* The recently detached range that holds @addr, for a fault. */
static void find_detached(__u64 mm, __u64 addr, __u64 now)
{
	int fd = bpf_map__fd(skel->maps.detached);
	struct lwt_att_key key, next, *prev = NULL;
	struct lwt_att att;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &att) || key.mm != mm ||
		    addr < key.addr || addr >= key.addr + att.length)
			continue;
		if (env.json) {
			printf(",\"detached\":{\"dp\":\"0x%llx\",\"addr\":\"0x%llx\",",
			       att.dp, key.addr);
			printf("\"length\":%llu,\"tid\":%u,\"ago_ns\":%llu}",
			       att.length, att.tid, now > att.ts ? now - att.ts : 0);
		} else {
			printf(" use-after-detach of addr=0x%llx length=%llu",
			       key.addr, att.length);
			printf(" detached by tid %u %.3fms ago", att.tid,
			       now > att.ts ? (now - att.ts) / 1e6 : 0.0);
		}
		return;
	}
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct lwt_event *e = data;
	char when[32], sym[192];

	if (size < sizeof(*e) || !e->kind || e->kind >= LWT_NR_KINDS)
		return 0;
	misuse_seen[e->kind]++;
	misuse_total++;
	wall_of(e->ts, when, sizeof(when));
	first_field = true;
	if (env.json) {
		printf("{\"v\":%d,\"type\":\"misuse\",\"kind\":\"%s\",",
		       LWT_SCHEMA_VERSION, kind_names[e->kind]);
		printf("\"source\":\"%s\",\"ts\":%llu,\"time\":\"%s\",\"comm\":",
		       e->source == LWT_SRC_MAP ? "map" : "kernel", e->ts, when);
		json_str(e->comm);
		printf(",\"pid\":%u,\"tid\":%u", e->pid, e->tid);
	} else {
		printf("%s %-16s %u/%u %s", when, e->comm, e->pid, e->tid,
		       kind_names[e->kind]);
	}

	switch (e->kind) {
	case LWT_CROSS_THREAD:
	case LWT_DETACH_UNATTACHED:
	case LWT_DETACH_WRONG_DP:
	case LWT_DETACH_WRONG_LENGTH:
		field_x("dp", e->dp);
		field_x("addr", e->addr);
		field_u("length", e->length);
		field_d("err", e->err);
		if (e->owner_tid) {
			field_d("owner_pid", e->owner_pid);
			field_d("owner_tid", e->owner_tid);
		}
		if (e->att_ts) {
			field_x("attached_dp", e->att_dp);
			field_u("attached_length", e->att_length);
			field_u("attached_offset", e->offset);
			field_ago("attached_ago_ns", e->att_ts, e->ts);
		}
		print_stacks(e, "attach");
		break;
	case LWT_XMDETACH_LIVE:
		field_x("dp", e->dp);
		field_x("addr", e->addr);
		field_u("length", e->length);
		field_d("attachments_live", e->count);
		field_d("owner_pid", e->owner_pid);
		field_d("owner_tid", e->owner_tid);
		field_s("via", syscall_name(e->via));
		print_stacks(e, "attach");
		list_atts(e->dp, 0, 0, e->ts, false);
		break;
	case LWT_EXIT_LEAK:
		field_x("window", e->addr);
		field_d("count", e->count);
		field_s("via", syscall_name(e->via));
		print_stacks(e, "attach");
		list_atts(0, e->mm, e->tid, e->ts, true);
		break;
	case LWT_WINDOW_FULL:
		field_x("dp", e->dp);
		field_u("offset", e->offset);
		field_u("length", e->length);
		field_d("err", e->err);
		print_stacks(e, "attach");
		break;
	case LWT_POOL_INIT_EXISTS:
	case LWT_POOL_INIT_INVALID:
		field_u("pool_size", e->length);
		field_x("flags", e->count);
		field_d("err", e->err);
		print_stacks(e, "attach");
		break;
	case LWT_FAULT:
	case LWT_RDONLY_WRITE:
	case LWT_WINDOW_DAMAGED:
		field_x("addr", e->addr);
		if (e->owner_tid) {
			field_d("owner_pid", e->owner_pid);
			field_d("owner_tid", e->owner_tid);
		}
		find_detached(e->mm, e->addr, e->ts);
		print_stacks(e, "attach");
		break;
	default:	/* ldata */
		field_x("pool", e->pool);
		if (e->elem)
			field_x("elem", e->elem);
		if (e->call_site) {
			ksym_str(e->call_site, sym, sizeof(sym));
			field_s("call_site", sym);
		}
		if (e->kind == LWT_LDATA_DESTROY_LIVE)
			field_d("count", e->count);
		else if (e->kind == LWT_LDATA_ALLOC_FAIL)
			field_d("node", e->count);
		else if (e->kind == LWT_LDATA_WRONG_POOL)
			field_x("owner_pool", e->owner_pool);
		if (e->att_ts) {
			const char *who = e->kind == LWT_LDATA_DOUBLE_FREE ?
					  "freed" : "allocated";
			char k[32];

			snprintf(k, sizeof(k), "%s_by_pid", who);
			field_d(k, e->owner_pid);
			snprintf(k, sizeof(k), "%s_by_tid", who);
			field_d(k, e->owner_tid);
			snprintf(k, sizeof(k), "%s_ago_ns", who);
			field_ago(k, e->att_ts, e->ts);
		}
		print_stacks(e, e->kind == LWT_LDATA_DOUBLE_FREE ? "free" :
			     "alloc");
		if (e->kind == LWT_LDATA_DESTROY_LIVE)
			list_elems(e->pool, e->ts);
		break;
	}
	if (env.json)
		puts("}");
	else
		putchar('\n');
	fflush(stdout);
	return 0;
}

/* ===== Summaries ===== */

static void print_counts(void)
{
	int fd = bpf_map__fd(skel->maps.counts);
	int ncpu = libbpf_num_possible_cpus();
	__u32 key, next, *prev = NULL;
	struct lwt_counts *v, sum;
	int i, n = 0;

	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return;
	if (env.json)
		printf(",\"processes\":[");
	else
		printf("%-7s %-16s %8s %8s %8s %8s %8s %8s %8s %8s %7s\n",
		       "PID", "COMM", "ATTACH", "ATT-ERR", "DETACH", "DET-ERR",
		       "XMATTACH", "L-ALLOC", "L-FREE", "L-FAIL", "MISUSE");
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, v))
			continue;
		memset(&sum, 0, sizeof(sum));
		for (i = 0; i < ncpu; i++) {
			sum.attach += v[i].attach;
			sum.attach_err += v[i].attach_err;
			sum.detach += v[i].detach;
			sum.detach_err += v[i].detach_err;
			sum.xmattach += v[i].xmattach;
			sum.xmdetach += v[i].xmdetach;
			sum.ldata_alloc += v[i].ldata_alloc;
			sum.ldata_free += v[i].ldata_free;
			sum.ldata_fail += v[i].ldata_fail;
			sum.misuse += v[i].misuse;
			if (v[i].comm[0])
				memcpy(sum.comm, v[i].comm, sizeof(sum.comm));
		}
		sum.comm[LWT_COMM_LEN - 1] = 0;
		if (env.json) {
			printf("%s{\"pid\":%u,\"comm\":", n++ ? "," : "", key);
			json_str(sum.comm);
			printf(",\"attach\":%llu,\"attach_err\":%llu,", sum.attach,
			       sum.attach_err);
			printf("\"detach\":%llu,\"detach_err\":%llu,", sum.detach,
			       sum.detach_err);
			printf("\"xmattach\":%llu,\"xmdetach\":%llu,", sum.xmattach,
			       sum.xmdetach);
			printf("\"ldata_alloc\":%llu,\"ldata_free\":%llu,",
			       sum.ldata_alloc, sum.ldata_free);
			printf("\"ldata_fail\":%llu,\"misuse\":%llu}",
			       sum.ldata_fail, sum.misuse);
		} else {
			printf("%-7u %-16s %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %7llu\n",
			       key, sum.comm, sum.attach, sum.attach_err,
			       sum.detach, sum.detach_err, sum.xmattach,
			       sum.ldata_alloc, sum.ldata_free, sum.ldata_fail,
			       sum.misuse);
		}
	}
	if (env.json)
		putchar(']');
	free(v);
}

static void print_hist(int op, const char *name)
{
	int fd = bpf_map__fd(skel->maps.hist);
	__u64 vals[LWT_HIST_SLOTS] = {}, max = 0;
	int i, last = -1, n = 0;

	for (i = 0; i < LWT_HIST_SLOTS; i++) {
		__u32 key = op * LWT_HIST_SLOTS + i;

		bpf_map_lookup_elem(fd, &key, &vals[i]);
		if (vals[i]) {
			last = i;
			if (vals[i] > max)
				max = vals[i];
		}
	}
	if (env.json) {
		printf(",\"%s\":[", name);
		for (i = 0; i <= last; i++)
			printf("%s{\"low\":%llu,\"high\":%llu,\"count\":%llu}",
			       n++ ? "," : "", i ? 1ULL << i : 0,
			       (1ULL << (i + 1)) - 1, vals[i]);
		putchar(']');
		return;
	}
	printf("\n%s latency\n%24s : %-10s distribution\n", name, "nsecs",
	       "count");
	for (i = 0; i <= last; i++) {
		int stars = max ? (int)(vals[i] * 40 / max) : 0;

		printf("%10llu -> %-10llu : %-10llu |%-40.*s|\n",
		       i ? 1ULL << i : 0, (1ULL << (i + 1)) - 1, vals[i], stars,
		       "****************************************");
	}
	if (last < 0)
		printf("%24s   (none)\n", "");
}

static void clear_hist(void)
{
	int fd = bpf_map__fd(skel->maps.hist);
	__u64 zero = 0;
	__u32 key;

	for (key = 0; key < LWT_NR_OPS * LWT_HIST_SLOTS; key++)
		bpf_map_update_elem(fd, &key, &zero, BPF_ANY);
}

static long map_count(struct bpf_map *map)
{
	int fd = bpf_map__fd(map);
	char key[64], next[64];
	void *prev = NULL;
	long n = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

static void print_summary(bool final)
{
	struct timespec now;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (env.json) {
		printf("{\"v\":%d,\"type\":\"%s\",\"ts\":%llu,\"misuse\":%llu",
		       LWT_SCHEMA_VERSION, final ? "end" : "summary",
		       (unsigned long long)now.tv_sec * 1000000000 + now.tv_nsec,
		       (unsigned long long)misuse_total);
		printf(",\"kinds\":{");
		for (i = 1, first_field = true; i < LWT_NR_KINDS; i++) {
			if (!misuse_seen[i])
				continue;
			printf("%s\"%s\":%llu", first_field ? "" : ",",
			       kind_names[i], (unsigned long long)misuse_seen[i]);
			first_field = false;
		}
		printf("},\"lost\":%llu,\"untracked\":%llu,", skel->bss->lost,
		       skel->bss->untracked);
		printf("\"live_attachments\":%ld,\"live_elements\":%ld",
		       map_count(skel->maps.atts), map_count(skel->maps.elems));
		print_counts();
		if (env.latency) {
			print_hist(LWT_OP_ATTACH, "attach_ns");
			print_hist(LWT_OP_DETACH, "detach_ns");
		}
		puts("}");
	} else {
		printf("\n--- lw-trace %s: %llu misuse", final ? "summary" :
		       "interval", (unsigned long long)misuse_total);
		for (i = 1; i < LWT_NR_KINDS; i++)
			if (misuse_seen[i])
				printf(", %s %llu", kind_names[i],
				       (unsigned long long)misuse_seen[i]);
		printf("; lost events %llu; untracked %llu;", skel->bss->lost,
		       skel->bss->untracked);
		printf(" live attachments %ld, ldata elements %ld\n",
		       map_count(skel->maps.atts), map_count(skel->maps.elems));
		print_counts();
		if (env.latency) {
			print_hist(LWT_OP_ATTACH, "attach");
			print_hist(LWT_OP_DETACH, "detach");
		}
	}
	if (env.latency && !final)
		clear_hist();
	fflush(stdout);
}

/* ===== Setup ===== */

/* CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, in the effective set. */
static bool privileged(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};
	unsigned long long eff;

	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0;
	eff = data[0].effective | (unsigned long long)data[1].effective << 32;
	if (eff & (1ULL << CAP_SYS_ADMIN))
		return true;
	return (eff & (1ULL << 39)) && (eff & (1ULL << 38));
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

struct tp_progs {
	const char *sys, *tp;
	struct bpf_program *btf, *raw;
};

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.doc = doc,
	};
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct ring_buffer *rb = NULL;
	struct btf *vmlinux;
	time_t deadline = 0, next_summary = 0;
	bool ldata = true;
	long summaries = 0;
	int err, i;

	argp_err_exit_status = EXIT_ERROR;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return EXIT_ERROR;
	libbpf_set_print(libbpf_print);

	if (!privileged())
		lwt_err("must run as root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)");

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		if (!env.btf_path)
			lwt_err("the kernel has no BTF (/sys/kernel/btf/vmlinux: CONFIG_DEBUG_INFO_BTF); pass --btf with its vmlinux");
		open_opts.btf_custom_path = env.btf_path;
	} else if (env.btf_path) {
		open_opts.btf_custom_path = env.btf_path;
	}
	if (!kernel_has_tp(vmlinux, "lw", "lw_attach") ||
	    !kernel_has_tp(vmlinux, "xmem", "xmem_detach_refused"))
		lwt_err("this kernel has no lw/xmem tracepoints: it is not built with the lw-mm patchset (CONFIG_LW_ATTACH)");
	if (!kernel_has_tp(vmlinux, "ldata", "ldata_misuse")) {
		ldata = false;
		lwt_warn("no ldata tracepoints (CONFIG_LDATA): ldata checks off");
	}

	skel = lw_trace_bpf__open_opts(&open_opts);
	if (!skel)
		lwt_err("cannot open the BPF object: %s", strerror(errno));
	skel->rodata->targ_pid = env.pid;
	skel->rodata->targ_tid = env.tid;
	skel->rodata->want_stacks = env.stacks;
	skel->rodata->want_latency = env.latency;
	skel->rodata->task_btf = !!vmlinux;
	if (!env.stacks)
		bpf_map__set_max_entries(skel->maps.stacks, 1);

	{
		struct tp_progs tps[] = {
#define TP(s, t) { #s, #t, skel->progs.t##_btf, skel->progs.t##_raw }
			TP(lw, lw_attach), TP(lw, lw_detach),
			TP(lw, lw_misuse), TP(lw, lw_window_destroy),
			TP(lw, lw_pool_init), TP(xmem, xmem_attach),
			TP(xmem, xmem_detach), TP(xmem, xmem_detach_refused),
			TP(ldata, ldata_alloc), TP(ldata, ldata_free),
			TP(ldata, ldata_misuse),
#undef TP
		};
		bool use_btf = vmlinux && !env.raw_tp;

		for (i = 0; i < (int)ARRAY_SIZE(tps); i++) {
			bool on = ldata || strcmp(tps[i].sys, "ldata");

			bpf_program__set_autoload(tps[i].btf, on && use_btf);
			bpf_program__set_autoload(tps[i].raw, on && !use_btf);
		}
		bpf_program__set_autoload(skel->progs.lw_att64_entry,
					  env.latency);
		bpf_program__set_autoload(skel->progs.as_lw_att64_entry,
					  env.latency);
		bpf_program__set_autoload(skel->progs.as_lw_det64_entry,
					  env.latency);
		err = lw_trace_bpf__load(skel);
		if (err) {
			if (err == -EPERM)
				lwt_err("loading the BPF programs: permission denied (root, or kernel.unprivileged_bpf_disabled / lockdown?)");
			lwt_err("cannot load the BPF programs (%s); -v shows libbpf's log",
				strerror(-err));
		}
		err = lw_trace_bpf__attach(skel);
		if (err) {
			if (err == -ENOENT)
				lwt_err("cannot attach: a tracepoint or function is missing in this kernel (%s); -v for details",
					strerror(-err));
			lwt_err("cannot attach the BPF programs: %s", strerror(-err));
		}
		if (env.verbose)
			fprintf(stderr, "lw-trace: %s programs attached\n",
				use_btf ? "tp_btf" : "raw_tp");

		rb = ring_buffer__new(bpf_map__fd(skel->maps.events),
				      handle_event, NULL, NULL);
		if (!rb)
			lwt_err("cannot create the ring buffer: %s",
				strerror(errno));
		if (env.stacks)
			ksyms_load();
		clock_gettime(CLOCK_MONOTONIC, &mono0);
		clock_gettime(CLOCK_REALTIME, &real0);

		signal(SIGINT, sig_handler);
		signal(SIGTERM, sig_handler);
		if (env.json) {
			printf("{\"v\":%d,\"type\":\"start\",\"ts\":%llu,",
			       LWT_SCHEMA_VERSION,
			       (unsigned long long)mono0.tv_sec * 1000000000 +
			       mono0.tv_nsec);
			printf("\"mode\":\"%s\",\"pid\":%d,\"tid\":%d,",
			       use_btf ? "tp_btf" : "raw_tp", env.pid, env.tid);
			printf("\"stacks\":%s,\"latency\":%s,\"ldata\":%s}\n",
			       env.stacks ? "true" : "false",
			       env.latency ? "true" : "false",
			       ldata ? "true" : "false");
		} else {
			printf("Tracing lw/xmem%s misuse (%s)%s... Ctrl-C to end.\n",
			       ldata ? "/ldata" : "",
			       use_btf ? "tp_btf" : "raw_tp",
			       env.latency ? ", attach/detach latency" : "");
			printf("%-12s %-16s %s %s\n", "TIME", "COMM", "PID/TID",
			       "KIND DETAILS");
		}
		fflush(stdout);
	}

	if (env.duration)
		deadline = time(NULL) + env.duration;
	if (env.interval)
		next_summary = time(NULL) + env.interval;
	while (!exiting) {
		time_t now;

		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "lw-trace: polling the ring buffer: %s\n",
				strerror(-err));
			break;
		}
		now = time(NULL);
		if (next_summary && now >= next_summary) {
			print_summary(false);
			next_summary += env.interval;
			if (env.times && ++summaries >= env.times)
				break;
		}
		if (deadline && now >= deadline)
			break;
	}
	/* What is still in the buffer, then the totals. */
	ring_buffer__consume(rb);
	print_summary(true);

	ring_buffer__free(rb);
	lw_trace_bpf__destroy(skel);
	btf__free(vmlinux);
	if (err < 0 && err != -EINTR)
		return EXIT_ERROR;
	return env.fail_on_misuse && misuse_total ? EXIT_MISUSE : 0;
}
