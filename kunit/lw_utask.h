/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-mode tasks for the lightweight attach KUnit suite and benchmark.
 *
 * The services refuse kernel threads.  run_user() starts, from a KUnit
 * test thread that has a user mm (kunit_vm_mmap()), a task that shares that
 * mm but is not a kernel thread, as the first user process is before its
 * execve(), and runs a function in it; uthread_start() and run_thread()
 * start sibling threads of such a task.  Built in only: the functions run
 * through do_exit(), which is not exported.
 */
#ifndef _MM_LW_UTASK_H
#define _MM_LW_UTASK_H

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/sched.h>
#include <linux/sched/task.h>

struct utask;
typedef int (*ufn_t)(struct utask *u);

struct utask {
	struct kunit *test;
	ufn_t fn;
	void *arg;
	int ret;
	pid_t tgid, pid;
	struct completion ready;	/* for threads that run concurrently */
};

static inline int utask_main(void *data)
{
	struct utask *u = data;

	u->tgid = current->tgid;
	u->pid = current->pid;
	u->ret = u->fn(u);
	complete(&u->ready);
	do_exit(0);
}

/*
 * Run @fn in a new user-mode process that shares the test's mm, and return
 * its result once it has exited (CLONE_VFORK waits until it let go of the
 * mm, after its window was released).
 */
static inline int run_user(struct kunit *test, ufn_t fn, void *arg)
{
	struct utask u = { .test = test, .fn = fn, .arg = arg, .ret = -ESRCH };
	int status;
	pid_t pid;

	init_completion(&u.ready);
	pid = user_mode_thread(utask_main, &u, CLONE_VFORK | SIGCHLD);
	KUNIT_ASSERT_GT(test, pid, 0);
	kernel_wait(pid, &status);
	return u.ret;
}

/* Start @fn as a sibling thread of the calling user task; don't wait. */
static inline pid_t uthread_start(struct utask *t, ufn_t fn, void *arg)
{
	t->fn = fn;
	t->arg = arg;
	t->ret = -ESRCH;
	init_completion(&t->ready);
	return user_mode_thread(utask_main, t, CLONE_THREAD | CLONE_SIGHAND |
				CLONE_FS | CLONE_FILES);
}

/* Run @fn in a sibling thread of the calling user task and wait for it. */
static inline int run_thread(struct utask *parent, ufn_t fn, void *arg)
{
	struct utask t = { .test = parent->test };

	if (uthread_start(&t, fn, arg) < 0)
		return -ESRCH;
	wait_for_completion(&t.ready);
	return t.ret;
}

#endif /* _MM_LW_UTASK_H */
