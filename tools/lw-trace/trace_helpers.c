// SPDX-License-Identifier: GPL-2.0
/*
 * lw-trace's helpers (trace_helpers.h): symbols of kernel and user
 * addresses, log2 histograms, BPF map walks, clocks and system call names.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <asm/unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "output.h"
#include "trace_helpers.h"

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

void ksym_str(unsigned long addr, char *buf, size_t len)
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
int uexec_at(pid_t pid, unsigned long addr)
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
 * symbol tables the function; else the address.
 */
void usym_str(pid_t pid, unsigned long addr, char *buf, size_t len)
{
	unsigned long off, vaddr;
	char path[PATH_MAX];
	bool ok = false;
	Elf *elf;
	int fd = -1;

	if (umap_of(pid, addr, path, sizeof(path), &off))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		elf_version(EV_CURRENT);
		elf = elf_begin(fd, ELF_C_READ, NULL);
		if (elf && uvaddr_of(elf, off, &vaddr))
			ok = usym_find(elf, vaddr, buf, len);
		if (elf)
			elf_end(elf);
		close(fd);
	}
	if (!ok)
		snprintf(buf, len, "0x%lx", addr);
}

/* ===== log2 histograms ===== */

/*
 * JSON: the list @key of {low, high, count}, from the first bucket to the
 * last that counted; human: "@name latency", the buckets from the first
 * that counted, with a bar scaled to the largest.
 */
void print_log2_hist(const __u64 *vals, int nr, const char *key,
		     const char *name)
{
	static const char bar[] = "****************************************";
	int i, first = -1, last = -1;
	__u64 max = 0;

	for (i = 0; i < nr; i++) {
		if (!vals[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (vals[i] > max)
			max = vals[i];
	}
	out_human("\n%s latency\n%24s : %-10s distribution\n", name, "nsecs",
		  "count");
	out_list_begin(key, "");
	for (i = 0; i <= last; i++) {
		out_obj_begin(NULL, i < first ? OUT_JSON_ONLY : "");
		out_uint("low", "%10s", i ? 1ULL << i : 0);
		out_uint("high", " -> %-10s", (1ULL << (i + 1)) - 1);
		out_uint("count", " : %-10s", vals[i]);
		out_human(" |%-40.*s|\n", (int)(vals[i] * 40 / max), bar);
		out_obj_end(NULL);
	}
	out_list_end(NULL);
	if (last < 0)
		out_human("%24s   (none)\n", "");
}

/* ===== BPF maps ===== */

static bool map_percpu(const struct bpf_map *map)
{
	switch (bpf_map__type(map)) {
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
		return true;
	default:
		return false;
	}
}

int map_walk(struct bpf_map *map, map_walk_fn fn, void *arg)
{
	size_t ksz = bpf_map__key_size(map), vsz = bpf_map__value_size(map);
	int fd = bpf_map__fd(map), ncpu = 1, cpu, ret = 0;
	char *key, *next, *vals;
	void *prev = NULL;

	if (map_percpu(map)) {
		/* each CPU's value, 8-byte aligned */
		ncpu = libbpf_num_possible_cpus();
		if (ncpu < 0)
			return ncpu;
		vsz = (vsz + 7) & ~(size_t)7;
	}
	key = malloc(ksz);
	next = malloc(ksz);
	vals = calloc(ncpu, vsz);
	if (!key || !next || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	while (!ret && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, ksz);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, vals))
			continue;
		for (cpu = 0; !ret && cpu < ncpu; cpu++)
			ret = fn(key, vals + cpu * vsz, arg);
	}
out:
	free(vals);
	free(next);
	free(key);
	return ret;
}

static int collect_one(const void *key, const void *val, void *arg)
{
	struct map_entries *w = arg;
	size_t cap;
	char *k, *v;

	if (!w->match(key, val, w->arg))
		return 0;
	if (w->n == w->cap) {
		cap = w->cap ? w->cap * 2 : 16;
		k = realloc(w->keys, cap * w->ksz);
		if (!k)
			return -ENOMEM;
		w->keys = k;
		v = realloc(w->vals, cap * w->vsz);
		if (!v)
			return -ENOMEM;
		w->vals = v;
		w->cap = cap;
	}
	memcpy(w->keys + w->n * w->ksz, key, w->ksz);
	memcpy(w->vals + w->n * w->vsz, val, w->vsz);
	w->n++;
	return 0;
}

int map_collect(struct bpf_map *map, struct map_entries *w,
		map_match_fn match, const void *arg)
{
	memset(w, 0, sizeof(*w));
	w->ksz = bpf_map__key_size(map);
	w->vsz = bpf_map__value_size(map);
	w->match = match;
	w->arg = arg;
	return map_walk(map, collect_one, w);
}

void map_forget(struct bpf_map *map, struct map_entries *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		bpf_map_delete_elem(bpf_map__fd(map), w->keys + i * w->ksz);
	free(w->keys);
	free(w->vals);
	memset(w, 0, sizeof(*w));
}

/* ===== Clocks ===== */

/*
 * The monotonic clock and jiffies, as /proc/timer_list prints them: the
 * length of a tick is the ratio of two readings 100 ms apart, rounded to
 * the nearest CONFIG_HZ there is.
 */
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

__u64 tick_ns(void)
{
	static const int hz[] = { 100, 250, 300, 1000 };
	unsigned long long n0, j0, n1, j1;
	double best = 0, rate;
	size_t i;

	if (!timer_list_read(&n0, &j0))
		return 0;
	usleep(100000);
	if (!timer_list_read(&n1, &j1) || n1 <= n0 || j1 <= j0)
		return 0;
	rate = (double)(j1 - j0) * 1e9 / (double)(n1 - n0);
	for (i = 0; i < ARRAY_SIZE(hz); i++)
		if (!best || dist(rate, hz[i]) < dist(rate, best))
			best = hz[i];
	return 1000000000ULL / (unsigned long long)best;
}

time_t mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

__u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void wall_of(__u64 ts, const struct timespec *mono0,
	     const struct timespec *real0, char *buf, size_t len)
{
	__s64 mono = (__s64)mono0->tv_sec * 1000000000 + mono0->tv_nsec;
	__s64 ns = (__s64)real0->tv_sec * 1000000000 + real0->tv_nsec +
		   ((__s64)ts - mono);
	time_t sec = ns / 1000000000;
	struct tm tm;

	localtime_r(&sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (int)(ns % 1000000000 / 1000000));
}

/* ===== System calls ===== */

const char *syscall_name(long long nr)
{
	switch (nr) {
	case __NR_close:
		return "close";
	case __NR_ioctl:
		return "ioctl";
	case __NR_execve:
	case __NR_execveat:
		return "execve";
	case __NR_exit:
	case __NR_exit_group:
		return "exit";
	default:
		return nr < 0 ? "unknown" : "other";
	}
}
