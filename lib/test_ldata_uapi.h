/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Interface of the ldata test driver, /dev/test_ldata (lib/test_ldata.c):
 * lets a user program create ldata pools and make the kernel allocate,
 * free and destroy, correctly or with each misuse that ldata reports, so
 * that tools/lw-trace can be tested end to end.  Test-only, like
 * lib/test_hmm_uapi.h: not a stable ABI.
 */
#ifndef _LIB_TEST_LDATA_UAPI_H
#define _LIB_TEST_LDATA_UAPI_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * struct test_ldata_cmd - the argument of every TEST_LDATA_* ioctl
 * @pool: pool slot, 0 to TEST_LDATA_MAX_POOLS - 1 (out for CREATE)
 * @flags: FREE: one TEST_LDATA_FREE_* value; 0 for the other ops
 * @other: FREE with TEST_LDATA_FREE_WRONG_POOL: the pool slot to free into
 * @reserved0: must be 0
 * @size: CREATE: bytes per element
 * @count: CREATE: initcount; GROW: elements to add; LOOP: pairs to run
 * @maxcount: CREATE: maxcount
 * @elem: element handle, 0 to TEST_LDATA_MAX_ELEMS - 1, an index into the
 *	driver's table of the elements it holds for @pool, never an address
 *	(out for ALLOC)
 * @result: out: DESTROY: elements still allocated; LOOP: nanoseconds
 * @reserved: must be 0
 *
 * Every field an op does not read, its output fields included, must be 0.
 * A failing ioctl changes nothing.
 */
struct test_ldata_cmd {
	__u32 pool;
	__u32 flags;
	__u32 other;
	__u32 reserved0;
	__u64 size;
	__u64 count;
	__u64 maxcount;
	__u64 elem;
	__u64 result;
	__u64 reserved[2];
};

/* Pool slots per open file, and element handles per pool. */
#define TEST_LDATA_MAX_POOLS	8
#define TEST_LDATA_MAX_ELEMS	4096
/* Most pairs one TEST_LDATA_LOOP runs. */
#define TEST_LDATA_MAX_LOOP	_BITULL(24)

/*
 * TEST_LDATA_FREE flags: what the driver hands to ldata_free().
 * NORMAL: the element of handle @elem of @pool; the handle is released.
 * DOUBLE: the same, then the same element again (ldata_double_free); the
 *	handle is released.  -EOPNOTSUPP while ldata's double-free check is
 *	off (no CONFIG_LDATA_DEBUG and nothing attached to the ldata_misuse
 *	tracepoint), when ldata would really free the element twice.
 * FOREIGN: a kmalloc()ed buffer of the driver, to @pool (ldata_foreign_free);
 *	@elem must be 0.
 * MISALIGNED: the element of handle @elem plus 8 bytes, to @pool
 *	(ldata_misaligned_free); the handle stays allocated.
 * WRONG_POOL: the element of handle @elem of @pool, to pool @other
 *	(ldata_wrong_pool); the handle stays allocated.
 * ldata_free() returns nothing, so a FREE that calls it returns 0: the
 * refusal shows only as an ldata_misuse event and a kernel warning.
 */
#define TEST_LDATA_FREE_NORMAL		0
#define TEST_LDATA_FREE_DOUBLE		1
#define TEST_LDATA_FREE_FOREIGN		2
#define TEST_LDATA_FREE_MISALIGNED	3
#define TEST_LDATA_FREE_WRONG_POOL	4

/*
 * CREATE: ldata_create(@size, @count, @maxcount, 0); the new slot in @pool.
 * ALLOC: ldata_alloc() from @pool; the new handle in @elem.  -ENOMEM when
 *	ldata_alloc() returns NULL, -ENOSPC when @pool has
 *	TEST_LDATA_MAX_ELEMS handles (ldata_alloc() is then not called).
 * FREE: ldata_free() as @flags says.
 * DESTROY: ldata_destroy() of @pool, even with elements allocated (their
 *	number in @result: ldata_destroy_live); their handles are forgotten.
 * GROW: ldata_grow(@pool, @count).
 * LOOP: @count ldata_alloc() and ldata_free() pairs in the calling thread,
 *	1 to TEST_LDATA_MAX_LOOP; the elapsed nanoseconds in @result.  -ENOMEM
 *	if an allocation fails, -EINTR on a fatal signal.
 */
#define TEST_LDATA_CREATE	_IOWR('L', 0x40, struct test_ldata_cmd)
#define TEST_LDATA_ALLOC	_IOWR('L', 0x41, struct test_ldata_cmd)
#define TEST_LDATA_FREE		_IOWR('L', 0x42, struct test_ldata_cmd)
#define TEST_LDATA_DESTROY	_IOWR('L', 0x43, struct test_ldata_cmd)
#define TEST_LDATA_GROW		_IOWR('L', 0x44, struct test_ldata_cmd)
#define TEST_LDATA_LOOP		_IOWR('L', 0x45, struct test_ldata_cmd)

#endif /* _LIB_TEST_LDATA_UAPI_H */
