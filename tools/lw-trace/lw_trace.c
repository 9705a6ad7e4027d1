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
#include <stddef.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
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

static bool libbpf_quiet;	/* a first attempt that may fail */

/* Seconds of CLOCK_MONOTONIC, for -d and the summary interval. */
static time_t mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if ((level == LIBBPF_DEBUG && !env.verbose) || libbpf_quiet)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Print an error and exit with status 2. */
static noreturn void lwt_err(const char *fmt, ...)
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
	static bool loaded;
	size_t lo = 0, hi;

	if (!loaded) {
		ksyms_load();
		loaded = true;
	}
	hi = nr_ksyms;
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

/* The file and file offset that @addr of @pid maps, from /proc/PID/maps. */
static bool umap_of(pid_t pid, unsigned long addr, char *path, size_t len,
		    unsigned long *off)
{
	unsigned long start, end, pgoff;
	char line[PATH_MAX + 128], file[PATH_MAX];
	bool found = false;
	FILE *f;

	snprintf(line, sizeof(line), "/proc/%d/maps", pid);
	f = fopen(line, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %4095s", &start, &end,
			   &pgoff, file) != 4 || addr < start || addr >= end ||
		    file[0] != '/')
			continue;
		snprintf(path, len, "%s", file);
		*off = addr - start + pgoff;
		found = true;
	}
	fclose(f);
	return found;
}

/*
 * Whether @addr is in an executable mapping of @pid: 1 yes, 0 no (a frame
 * pointer walk that left the stack's frames), -1 unknown (it exited).
 */
static int uexec_at(pid_t pid, unsigned long addr)
{
	unsigned long start, end;
	char line[PATH_MAX + 128], perms[8];
	int ret = 0;
	FILE *f;

	snprintf(line, sizeof(line), "/proc/%d/maps", pid);
	f = fopen(line, "r");
	if (!f)
		return -1;
	while (!ret && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3 &&
		    addr >= start && addr < end && perms[2] == 'x')
			ret = 1;
	fclose(f);
	return ret;
}

/* The virtual address of file offset @off, from the PT_LOAD holding it. */
static bool uvaddr_of(Elf *elf, unsigned long off, unsigned long *vaddr)
{
	size_t i, n;

	if (elf_getphdrnum(elf, &n))
		return false;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD ||
		    off < ph.p_offset || off >= ph.p_offset + ph.p_filesz)
			continue;
		*vaddr = off - ph.p_offset + ph.p_vaddr;
		return true;
	}
	return false;
}

/* The function symbol that holds @vaddr in @elf's symbol tables. */
static bool usym_find(Elf *elf, unsigned long vaddr, char *buf, size_t len)
{
	unsigned long best_addr = 0;
	const char *best = NULL;
	Elf_Scn *scn = NULL;

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
			    sym.st_value > vaddr || sym.st_value < best_addr ||
			    (sym.st_size && vaddr >= sym.st_value + sym.st_size))
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			best_addr = sym.st_value;
			best = name;
		}
	}
	if (best)
		snprintf(buf, len, "%s+0x%lx", best, vaddr - best_addr);
	return best;
}

/*
 * @addr of process @pid as symbol+offset, while the process lives: its
 * mapping gives the file and offset, the file's program headers the
 * virtual address (an executable, PIE or not, or a shared object) and its
 * symbol tables the function.
 */
static bool usym_str(pid_t pid, unsigned long addr, char *buf, size_t len)
{
	unsigned long off, vaddr;
	char path[PATH_MAX];
	bool ok = false;
	Elf *elf;
	int fd;

	if (!umap_of(pid, addr, path, sizeof(path), &off))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && uvaddr_of(elf, off, &vaddr))
		ok = usym_find(elf, vaddr, buf, len);
	if (elf)
		elf_end(elf);
	close(fd);
	return ok;
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
static void print_ips(const char *what, const __u64 *ips, int nr, bool user,
		      pid_t pid)
{
	char sym[192];
	int i;

	if (nr <= 0)
		return;
	if (env.json)
		printf(",\"%s\":[", what);
	else
		printf("\n    %s:", what);
	for (i = 0; i < nr && i < LWT_MAX_STACK && ips[i]; i++) {
		/* Past the first frame, stop where the walk left the code. */
		if (user && i && !uexec_at(pid, ips[i]))
			break;
		if (user) {
			if (!usym_str(pid, ips[i], sym, sizeof(sym)))
				snprintf(sym, sizeof(sym), "0x%llx", ips[i]);
		} else {
			ksym_str(ips[i], sym, sizeof(sym));
		}
		if (env.json) {
			printf("%s", i ? "," : "");
			json_str(sym);
		} else {
			printf("\n      %s", sym);
		}
	}
	if (env.json)
		putchar(']');
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

/*
 * The length of a tick in ns, from two readings of /proc/timer_list (which
 * prints the monotonic clock and jiffies) 100 ms apart, rounded to the
 * nearest CONFIG_HZ there is; 0 if it cannot be read.
 */
static __u64 ns_per_jiffy;

static bool timer_list_read(unsigned long long *now, unsigned long long *jif)
{
	char line[256];
	bool n = false, j = false;
	FILE *f = fopen("/proc/timer_list", "r");

	if (!f)
		return false;
	while ((!n || !j) && fgets(line, sizeof(line), f)) {
		if (!n && sscanf(line, "now at %llu nsecs", now) == 1)
			n = true;
		else if (!j && sscanf(line, "jiffies: %llu", jif) == 1)
			j = true;
	}
	fclose(f);
	return n && j;
}

static double dist(double a, double b)
{
	return a > b ? a - b : b - a;
}

static void tick_length(void)
{
	static const int hz[] = { 100, 250, 300, 1000 };
	unsigned long long n0, j0, n1, j1;
	double best = 0, rate;
	size_t i;

	if (!timer_list_read(&n0, &j0))
		return;
	usleep(100000);
	if (!timer_list_read(&n1, &j1) || n1 <= n0 || j1 <= j0)
		return;
	rate = (double)(j1 - j0) * 1e9 / (double)(n1 - n0);
	for (i = 0; i < ARRAY_SIZE(hz); i++)
		if (!best || dist(rate, hz[i]) < dist(rate, best))
			best = hz[i];
	ns_per_jiffy = 1000000000ULL / (unsigned long long)best;
}

/* key=value in human output, "key":value in JSON. */
static bool obj_first;		/* no comma before the next JSON field */

static const char *sep(void)
{
	const char *c = obj_first ? "" : ",";

	obj_first = false;
	return c;
}

static void field_u(const char *k, unsigned long long v)
{
	if (env.json)
		printf("%s\"%s\":%llu", sep(), k, v);
	else
		printf(" %s=%llu", k, v);
}

static void field_d(const char *k, long long v)
{
	if (env.json)
		printf("%s\"%s\":%lld", sep(), k, v);
	else
		printf(" %s=%lld", k, v);
}

static void field_x(const char *k, unsigned long long v)
{
	if (env.json)
		printf("%s\"%s\":\"0x%llx\"", sep(), k, v);
	else
		printf(" %s=0x%llx", k, v);
}

static void field_s(const char *k, const char *v)
{
	if (env.json) {
		printf("%s\"%s\":", sep(), k);
		json_str(v);
	} else {
		printf(" %s=%s", k, v);
	}
}

/*
 * How long ago jiffies @then was at jiffies @now, in ns, to a tick's
 * resolution; nothing if the tick's length is unknown.
 */
static void field_ago(const char *k, __u64 then, __u64 now)
{
	size_t n = strlen(k);
	__u64 ns;

	if (!then || !ns_per_jiffy)
		return;
	ns = now > then ? (now - then) * ns_per_jiffy : 0;
	if (env.json)
		printf("%s\"%s\":%llu", sep(), k, ns);
	else	/* "age_ns" reads "age=12ms" */
		printf(" %.*s=%llums", (int)(n > 3 && !strcmp(k + n - 3, "_ns") ?
					     n - 3 : n), k, ns / 1000000);
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
		printf("%s{", list_n ? "," : "");
	obj_first = env.json;
	if (!env.json)
		printf("\n    %s", what);
	list_n++;
}

static void item_close(void)
{
	obj_first = false;
	if (env.json)
		putchar('}');
}

static void list_close(void)
{
	if (env.json)
		putchar(']');
}

/*
 * The keys of @map whose entries @match, with their values, in one pass:
 * deleting while walking would restart the walk at every delete.
 */
struct walk {
	void *keys, *vals;
	size_t n, cap;
};

static void walk_map(struct bpf_map *map, struct walk *w,
		     bool (*match)(const void *key, const void *val,
				   const void *arg), const void *arg)
{
	size_t ksz = bpf_map__key_size(map), vsz = bpf_map__value_size(map);
	char key[64], next[64], val[128];
	int fd = bpf_map__fd(map);
	void *prev = NULL;

	memset(w, 0, sizeof(*w));
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, ksz);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, val) || !match(key, val, arg))
			continue;
		if (w->n == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 16;
			void *k = realloc(w->keys, cap * ksz);
			void *v = k ? realloc(w->vals, cap * vsz) : NULL;

			if (k)
				w->keys = k;
			if (!v)
				break;
			w->vals = v;
			w->cap = cap;
		}
		memcpy((char *)w->keys + w->n * ksz, key, ksz);
		memcpy((char *)w->vals + w->n * vsz, val, vsz);
		w->n++;
	}
}

/* Delete @w's entries from @map, and free @w. */
static void walk_forget(struct bpf_map *map, struct walk *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		bpf_map_delete_elem(bpf_map__fd(map),
				    (char *)w->keys + i * bpf_map__key_size(map));
	free(w->keys);
	free(w->vals);
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
	struct walk w;

	walk_map(skel->maps.atts, &w, att_matches, &m);
	walk_forget(skel->maps.atts, &w);
}

/* The attachments a record lists (gathered by the BPF side). */
static void print_items(const struct lwt_event *e)
{
	__u32 i;

	list_open("attachments");
	for (i = 0; i < e->nr_items && i < LWT_MAX_ITEMS; i++) {
		const struct lwt_item *it = &e->items[i];

		item_open("attachment");
		field_d("pid", it->pid);
		field_d("tid", it->tid);
		field_x("dp", it->dp);
		field_x("addr", it->addr);
		field_u("offset", it->offset);
		field_u("length", it->length);
		field_ago("age_ns", it->ts, e->jiffies);
		item_close();
	}
	list_close();
	if (e->more_items)
		field_u("attachments_not_listed", e->more_items);
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

/*
 * The entries of @pool made up to jiffies @before, dropped from the map: it
 * was destroyed.  @print lists the live ones, the elements it still had.
 */
static void list_elems(__u64 pool, __u64 before, bool print)
{
	struct elem_match m = { .pool = pool, .before = before };
	char sym[192];
	struct walk w;
	size_t i;

	walk_map(skel->maps.elems, &w, elem_matches, &m);
	if (print) {
		list_open("elements");
		for (i = 0; i < w.n; i++) {
			const struct lwt_elem *el = (struct lwt_elem *)w.vals + i;

			if (!el->live)
				continue;
			item_open("element");
			field_x("elem", ((__u64 *)w.keys)[i]);
			field_d("pid", el->pid);
			field_d("tid", el->tid);
			if (el->call_site) {
				ksym_str(el->call_site, sym, sizeof(sym));
				field_s("call_site", sym);
			}
			field_ago("age_ns", el->ts, before);
			item_close();
		}
		list_close();
	}
	walk_forget(skel->maps.elems, &w);
}

/* The detached range of process @tgid that holds @addr, for a fault. */
static void find_detached(__u64 tgid, __u64 addr, __u64 now)
{
	int fd = bpf_map__fd(skel->maps.atts);
	struct lwt_att_key key, next, *prev = NULL;
	struct lwt_att att;
	__u64 ago;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &att) || att.live ||
		    key.tgid != tgid || addr < key.addr ||
		    addr >= key.addr + att.length)
			continue;
		ago = now > att.end_ts ? (now - att.end_ts) * ns_per_jiffy : 0;
		if (env.json) {
			printf(",\"detached\":{\"dp\":\"0x%llx\",\"addr\":\"0x%llx\",",
			       att.dp, key.addr);
			printf("\"length\":%llu,\"tid\":%u,\"ago_ns\":%llu}",
			       att.length, att.end_tid, ago);
		} else {
			printf(" use-after-detach of addr=0x%llx length=%llu",
			       key.addr, att.length);
			printf(" detached by tid %u %llums ago", att.end_tid,
			       ago / 1000000);
		}
		return;
	}
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct lwt_event *e = data;
	char when[32], sym[192];

	if (size < sizeof(*e) || e->kind >= LWT_NR_KINDS)
		return 0;
	if (!e->reported) {
		/*
		 * The end of a window or pool without a misuse, or one that
		 * -p/-t filter out: only forget what it ended.
		 */
		if (e->rec == LWT_REC_WINDOW_END)
			forget_atts(e->pid, e->tid, e->jiffies);
		else if (e->rec == LWT_REC_POOL_END ||
			 e->kind == LWT_LDATA_DESTROY_LIVE)
			list_elems(e->pool, e->jiffies, false);
		return 0;
	}
	misuse_seen[e->kind]++;
	misuse_total++;
	wall_of(e->ts, when, sizeof(when));
	obj_first = false;
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
			field_ago("attached_ago_ns", e->att_ts, e->jiffies);
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
		print_items(e);
		break;
	case LWT_EXIT_LEAK:
		field_x("window", e->addr);
		field_d("count", e->count);
		field_s("via", syscall_name(e->via));
		print_stacks(e, "attach");
		print_items(e);
		forget_atts(e->pid, e->tid, e->jiffies);
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
		find_detached(e->pid, e->addr, e->jiffies);
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
			field_ago(k, e->att_ts, e->jiffies);
		}
		print_stacks(e, e->kind == LWT_LDATA_DOUBLE_FREE ? "free" :
			     "alloc");
		if (e->kind == LWT_LDATA_DESTROY_LIVE)
			list_elems(e->pool, e->jiffies, true);
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

/* Add @v, one CPU's counts of a process, to its sum in @sums. */
static void add_counts(struct lwt_counts **sums, size_t *n,
		       const struct lwt_counts *v)
{
	struct lwt_counts *s = NULL, *grown;
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*sums)[i].pid == v->pid)
			s = &(*sums)[i];
	if (!s) {
		grown = realloc(*sums, (*n + 1) * sizeof(**sums));
		if (!grown)
			return;
		*sums = grown;
		s = &grown[(*n)++];
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

static void print_counts(void)
{
	int fd = bpf_map__fd(skel->maps.counts);
	int ncpu = libbpf_num_possible_cpus();
	__u32 key, next, *prev = NULL;
	struct lwt_counts *v, *sums = NULL;
	size_t n = 0, i;
	int cpu;

	v = ncpu > 0 ? calloc(ncpu, sizeof(*v)) : NULL;
	if (!v)
		return;
	for (key = 0; key < LWT_COUNT_SLOTS; key++) {
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.count_slots),
					&key, v))
			continue;
		for (cpu = 0; cpu < ncpu; cpu++)
			if (v[cpu].pid)
				add_counts(&sums, &n, &v[cpu]);
	}
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, v))
			continue;
		for (cpu = 0; cpu < ncpu; cpu++) {
			v[cpu].pid = key;
			add_counts(&sums, &n, &v[cpu]);
		}
	}
	if (env.json)
		printf(",\"processes\":[");
	else
		printf("%-7s %-16s %8s %8s %8s %8s %8s %8s %8s %8s %7s\n",
		       "PID", "COMM", "ATTACH", "ATT-ERR", "DETACH", "DET-ERR",
		       "XMATTACH", "L-ALLOC", "L-FREE", "L-FAIL", "MISUSE");
	for (i = 0; i < n; i++) {
		const struct lwt_counts *c = &sums[i];

		if (env.json) {
			printf("%s{\"pid\":%u,\"comm\":", i ? "," : "", c->pid);
			json_str(c->comm);
			printf(",\"attach\":%llu,\"attach_err\":%llu,", c->attach,
			       c->attach_err);
			printf("\"detach\":%llu,\"detach_err\":%llu,", c->detach,
			       c->detach_err);
			printf("\"xmattach\":%llu,\"xmdetach\":%llu,", c->xmattach,
			       c->xmdetach);
			printf("\"ldata_alloc\":%llu,\"ldata_free\":%llu,",
			       c->ldata_alloc, c->ldata_free);
			printf("\"ldata_fail\":%llu,\"misuse\":%llu}",
			       c->ldata_fail, c->misuse);
		} else {
			printf("%-7u %-16s %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %7llu\n",
			       c->pid, c->comm, c->attach, c->attach_err,
			       c->detach, c->detach_err, c->xmattach,
			       c->ldata_alloc, c->ldata_free, c->ldata_fail,
			       c->misuse);
		}
	}
	if (env.json)
		putchar(']');
	free(sums);
	free(v);
}

static void print_hist(int op, const char *name)
{
	int fd = bpf_map__fd(skel->maps.hist);
	__u64 vals[LWT_HIST_SLOTS] = {}, max = 0;
	int i, first = -1, last = -1, n = 0;

	for (i = 0; i < LWT_HIST_SLOTS; i++) {
		__u32 key = op * LWT_HIST_SLOTS + i;

		bpf_map_lookup_elem(fd, &key, &vals[i]);
		if (vals[i]) {
			if (first < 0)
				first = i;
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
	for (i = first < 0 ? 0 : first; i <= last; i++) {
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

/* Live attachments or elements in @map (the last field of the value). */
static long live_count(struct bpf_map *map)
{
	size_t vsz = bpf_map__value_size(map);
	int fd = bpf_map__fd(map);
	char key[64], next[64], val[128];
	void *prev = NULL;
	long n = 0;

	size_t live = map == skel->maps.atts ? offsetof(struct lwt_att, live) :
					       offsetof(struct lwt_elem, live);

	if (vsz > sizeof(val))
		return -1;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		if (!bpf_map_lookup_elem(fd, key, val) && *(__u32 *)(val + live))
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
		for (i = 1, obj_first = true; i < LWT_NR_KINDS; i++) {
			if (!misuse_seen[i])
				continue;
			printf("%s\"%s\":%llu", sep(), kind_names[i],
			       (unsigned long long)misuse_seen[i]);
		}
		printf("},\"lost\":%llu,\"untracked\":%llu,", skel->bss->lost,
		       skel->bss->untracked);
		printf("\"live_attachments\":%ld,\"live_elements\":%ld",
		       live_count(skel->maps.atts), live_count(skel->maps.elems));
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
		       live_count(skel->maps.atts), live_count(skel->maps.elems));
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

/*
 * Open the skeleton, set what the programs read as constants, choose the
 * tp_btf or the raw_tp set and load it; the skeleton stays in skel.
 */
static int open_and_load(struct bpf_object_open_opts *opts, bool use_btf,
			 bool ldata, const struct btf *vmlinux)
{
	struct tp_progs tps[] = {
#define TP(s, t) { #s, #t, NULL, NULL }
		TP(lw, lw_attach), TP(lw, lw_detach), TP(lw, lw_misuse),
		TP(lw, lw_window_destroy), TP(lw, lw_pool_init),
		TP(xmem, xmem_attach), TP(xmem, xmem_detach),
		TP(xmem, xmem_detach_refused), TP(ldata, ldata_alloc),
		TP(ldata, ldata_free), TP(ldata, ldata_destroy),
		TP(ldata, ldata_misuse),
#undef TP
	};
	size_t i;
	int err;

	skel = lw_trace_bpf__open_opts(opts);
	if (!skel)
		lwt_err("cannot open the BPF object: %s", strerror(errno));
	skel->rodata->targ_pid = env.pid;
	skel->rodata->targ_tid = env.tid;
	skel->rodata->want_stacks = env.stacks;
	skel->rodata->want_latency = env.latency;
	skel->rodata->task_btf = !!vmlinux;
	if (!env.stacks)
		bpf_map__set_max_entries(skel->maps.stacks, 1);
	for (i = 0; i < ARRAY_SIZE(tps); i++) {
		char name[64];
		bool on = ldata || strcmp(tps[i].sys, "ldata");

		snprintf(name, sizeof(name), "%s_btf", tps[i].tp);
		tps[i].btf = bpf_object__find_program_by_name(skel->obj, name);
		snprintf(name, sizeof(name), "%s_raw", tps[i].tp);
		tps[i].raw = bpf_object__find_program_by_name(skel->obj, name);
		if (!tps[i].btf || !tps[i].raw)
			lwt_err("the BPF object has no program for %s", tps[i].tp);
		bpf_program__set_autoload(tps[i].btf, on && use_btf);
		bpf_program__set_autoload(tps[i].raw, on && !use_btf);
	}
	bpf_program__set_autoload(skel->progs.lw_att64_entry, env.latency);
	bpf_program__set_autoload(skel->progs.as_lw_att64_entry, env.latency);
	bpf_program__set_autoload(skel->progs.as_lw_det64_entry, env.latency);
	libbpf_quiet = use_btf && !env.verbose;
	err = lw_trace_bpf__load(skel);
	libbpf_quiet = false;
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
	struct btf *vmlinux;
	time_t deadline = 0, next_summary = 0;
	bool ldata = true, use_btf;
	long summaries = 0;
	int err;

	argp_err_exit_status = EXIT_ERROR;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return EXIT_ERROR;
	libbpf_set_print(libbpf_print);

	if (!privileged())
		lwt_err("must run as root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)");

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux && !env.btf_path)
		lwt_err("the kernel has no BTF (/sys/kernel/btf/vmlinux: CONFIG_DEBUG_INFO_BTF); pass --btf with its vmlinux");
	open_opts.btf_custom_path = env.btf_path;
	if (!kernel_has_tp(vmlinux, "lw", "lw_attach") ||
	    !kernel_has_tp(vmlinux, "xmem", "xmem_detach_refused"))
		lwt_err("this kernel has no lw/xmem tracepoints: it is not built with the lw-mm patchset (CONFIG_LW_ATTACH)");
	if (!kernel_has_tp(vmlinux, "ldata", "ldata_misuse")) {
		ldata = false;
		lwt_warn("no ldata tracepoints (CONFIG_LDATA): ldata checks off");
	}

	use_btf = vmlinux && !env.raw_tp;
	err = open_and_load(&open_opts, use_btf, ldata, vmlinux);
	if (err && err != -EPERM && use_btf) {
		/*
		 * 6.12's verifier rejects tp_btf reads of const void *
		 * arguments, which the patchset's tracepoints have (mainline
		 * accepts them; patch 0017 of the series backports that):
		 * the raw_tp programs read the same arguments.
		 */
		if (env.verbose)
			fprintf(stderr, "lw-trace: tp_btf programs not loaded (%s): using raw_tp\n",
				strerror(-err));
		lw_trace_bpf__destroy(skel);
		use_btf = false;
		err = open_and_load(&open_opts, use_btf, ldata, vmlinux);
	}
	if (err == -EPERM)
		lwt_err("loading the BPF programs: permission denied (root, or kernel.unprivileged_bpf_disabled / lockdown?)");
	if (err)
		lwt_err("cannot load the BPF programs (%s); -v shows libbpf's log",
			strerror(-err));
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
	tick_length();
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

	if (env.duration)
		deadline = mono_sec() + env.duration;
	if (env.interval)
		next_summary = mono_sec() + env.interval;
	while (!exiting) {
		time_t now;

		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "lw-trace: polling the ring buffer: %s\n",
				strerror(-err));
			break;
		}
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
