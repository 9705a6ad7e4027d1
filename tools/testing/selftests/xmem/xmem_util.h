/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the /dev/xmem suites share (xmem_test, xmem_fuzz, xmem_torture): the
 * system's outstanding FOLL_PIN count, becoming an unprivileged user with a
 * given RLIMIT_MEMLOCK, a seeded random generator, and touching memory that
 * may fault.
 */
#ifndef XMEM_UTIL_H
#define XMEM_UTIL_H

#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define PAGE		4096UL
#define NOBODY		65534
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * Pages pinned with FOLL_PIN and not yet released, system wide, after
 * folding the per-CPU deltas of the counters (root only); negative if the
 * counters cannot be read.
 */
static inline long pins_outstanding(void)
{
	long acquired = -1, released = -1, v;
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	char name[64];
	FILE *f;

	if (fd < 0 || write(fd, "1", 1) != 1) {
		if (fd >= 0)
			close(fd);
		return -2;
	}
	close(fd);
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acquired = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			released = v;
	}
	fclose(f);
	return acquired < 0 || released < 0 ? -1 : acquired - released;
}

/* Become uid/gid NOBODY, with @memlock bytes of RLIMIT_MEMLOCK; 0 or -1. */
static inline int become_nobody(unsigned long memlock)
{
	struct rlimit rl = { memlock, memlock };

	if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgroups(0, NULL) ||
	    setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -1;
	return 0;
}

/* ===== A seeded generator: xoshiro256**, one state per thread ===== */

struct rng {
	uint64_t s[4];
};

static inline uint64_t rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t res = rng_rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rng_rotl(r->s[3], 45);
	return res;
}

/* Seed @r from a run's seed @a and a place @b in it (splitmix64). */
static inline void rng_seed(struct rng *r, uint64_t a, uint64_t b)
{
	uint64_t z = a * 0x9e3779b97f4a7c15ULL ^ b;
	int i;

	for (i = 0; i < 4; i++) {
		z += 0x9e3779b97f4a7c15ULL;
		r->s[i] = z;
		r->s[i] = (r->s[i] ^ (r->s[i] >> 30)) * 0xbf58476d1ce4e5b9ULL;
		r->s[i] = (r->s[i] ^ (r->s[i] >> 27)) * 0x94d049bb133111ebULL;
		r->s[i] ^= r->s[i] >> 31;
	}
}

static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

static inline bool rng_chance(struct rng *r, unsigned int percent)
{
	return rng_below(r, 100) < percent;
}

/* ===== Touching memory that may fault ===== */

static __thread sigjmp_buf touch_jmp;
static __thread int touch_armed;	/* read by the signal handler */
static atomic_long touch_faults;

static void touch_on_fault(int sig, siginfo_t *si, void *uc)
{
	if (!__atomic_load_n(&touch_armed, __ATOMIC_RELAXED)) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	__atomic_store_n(&touch_armed, 0, __ATOMIC_RELAXED);
	siglongjmp(touch_jmp, 1);
}

/* Catch SIGSEGV and SIGBUS in touch(); once per process. */
static inline void touch_setup(void)
{
	struct sigaction sa = { .sa_sigaction = touch_on_fault,
				.sa_flags = SA_SIGINFO | SA_NODEFER };

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/*
 * Read the byte at @p, or write it back if @write, as real accesses the
 * compiler keeps; false if that faulted (counted in touch_faults).
 */
static inline bool touch(unsigned char *p, bool write)
{
	unsigned char v;

	if (sigsetjmp(touch_jmp, 1)) {
		atomic_fetch_add(&touch_faults, 1);
		return false;
	}
	__atomic_store_n(&touch_armed, 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	v = __atomic_load_n(p, __ATOMIC_RELAXED);
	if (write)
		__atomic_store_n(p, v, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&touch_armed, 0, __ATOMIC_RELAXED);
	return true;
}

#endif /* XMEM_UTIL_H */
