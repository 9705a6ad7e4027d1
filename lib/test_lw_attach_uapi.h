/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Interface of the lightweight attach test driver, /dev/test_lw_attach
 * (lib/test_lw_attach.c): times as_lw_att64() and as_lw_det64() pairs run
 * by the kernel in the calling thread, without a system call each, so that
 * tools/lw-trace's overhead can be measured on the services themselves as
 * well as through /dev/xmem.  Test-only, like lib/test_hmm_uapi.h: not a
 * stable ABI.
 */
#ifndef _LIB_TEST_LW_ATTACH_UAPI_H
#define _LIB_TEST_LW_ATTACH_UAPI_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * struct test_lw_attach_loop - the argument of TEST_LW_ATTACH_LOOP
 * @addr: start of the caller's memory to attach (any alignment)
 * @length: its bytes, 1 to TEST_LW_ATTACH_MAX_LENGTH; each pair attaches
 *	and detaches all of it
 * @count: pairs to run, 1 to TEST_LW_ATTACH_MAX_LOOP
 * @result: out: nanoseconds the pairs took; must be 0 in
 * @reserved: must be 0
 */
struct test_lw_attach_loop {
	__u64 addr;
	__u64 length;
	__u64 count;
	__u64 result;
	__u64 reserved[2];
};

#define TEST_LW_ATTACH_MAX_LENGTH	_BITULL(24)
#define TEST_LW_ATTACH_MAX_LOOP		_BITULL(24)

/*
 * LOOP: xmattach() [@addr, @addr + @length) with LW_XMATTACH, as the
 * calling process's memory; as_lw_pool_init() of 64 MiB if the process
 * has no pool yet; then @count times as_lw_att64() of the whole range and
 * as_lw_det64() of it, in the calling thread; then xmdetach().  0 with
 * @result; -EINVAL for a bad field; what xmattach(), as_lw_pool_init() or
 * a first as_lw_att64() returns (-ENOMEM when the process's pool is
 * smaller than @length); -EINTR on a fatal signal.  The pool, and the
 * calling thread's window, stay; nothing stays attached or pinned,
 * whatever the result.
 */
#define TEST_LW_ATTACH_LOOP	_IOWR('L', 0x50, struct test_lw_attach_loop)

#endif /* _LIB_TEST_LW_ATTACH_UAPI_H */
