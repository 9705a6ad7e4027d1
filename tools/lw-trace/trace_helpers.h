/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lw-trace's helpers, as libbpf-tools keeps them in trace_helpers.c: the
 * kernel and user symbolizers, log2 histograms, walking BPF maps from user
 * space, and clocks and names the records need.  Nothing here knows the
 * tool's events.
 */
#ifndef __LWT_TRACE_HELPERS_H
#define __LWT_TRACE_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <sys/types.h>
#include <linux/types.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct bpf_map;

/* "function+0xoff" of a kernel address (/proc/kallsyms), else "0x..." */
void ksym_str(unsigned long addr, char *buf, size_t len);
/* ... of an address of process @pid, from the ELF file it maps, else "0x..." */
void usym_str(pid_t pid, unsigned long addr, char *buf, size_t len);
/* 1: @addr is in an executable mapping of @pid; 0: not; -1: @pid is gone */
int uexec_at(pid_t pid, unsigned long addr);

/* @nr (< 64) log2 buckets of ns: the JSON list @key, or histogram @name */
void print_log2_hist(const __u64 *vals, int nr, const char *key,
		     const char *name);

/*
 * @fn with each key and value of @map (of a per-CPU map: with each possible
 * CPU's value) until it returns nonzero.  Return: what @fn returned, 0 at
 * the end of the map, or a negative errno.
 */
typedef int (*map_walk_fn)(const void *key, const void *val, void *arg);
int map_walk(struct bpf_map *map, map_walk_fn fn, void *arg);

typedef bool (*map_match_fn)(const void *key, const void *val,
			     const void *arg);

/* The entries map_collect() kept: copies, ksz and vsz bytes apart. */
struct map_entries {
	char *keys, *vals;
	size_t ksz, vsz;
	size_t n, cap;
	map_match_fn match;
	const void *arg;
};

/*
 * Copy into @w the entries of @map for which @match(key, val, @arg) holds,
 * in one pass: deleting while walking would restart the walk at every
 * delete.  Return: 0 or a negative errno; @w holds what was copied.
 */
int map_collect(struct bpf_map *map, struct map_entries *w,
		map_match_fn match, const void *arg);
/* Delete @w's entries from @map and free @w's copies. */
void map_forget(struct bpf_map *map, struct map_entries *w);

/* The length of a tick in ns (/proc/timer_list), 0 if unknown; takes 100 ms */
__u64 tick_ns(void);
/* CLOCK_MONOTONIC in seconds, in ns */
time_t mono_sec(void);
__u64 mono_ns(void);
/*
 * "HH:MM:SS.mmm", local time, of CLOCK_MONOTONIC @ts; @mono0 and @real0
 * are readings of the two clocks at the same time.
 */
void wall_of(__u64 ts, const struct timespec *mono0,
	     const struct timespec *real0, char *buf, size_t len);
/* The system call @nr as the records name it ("ioctl", ...), -1 "unknown" */
const char *syscall_name(long long nr);

#endif /* __LWT_TRACE_HELPERS_H */
