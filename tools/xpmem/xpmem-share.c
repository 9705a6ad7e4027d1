// SPDX-License-Identifier: GPL-2.0
/*
 * xpmem-share: two processes share memory through the XPMEM interface,
 * as an MPI library's ranks on one node do.
 *
 * The owner maps a buffer and exports it with xpmem_make(); the attacher,
 * another process, gets the segment, attaches it once and then, each
 * round, checks the message the owner wrote in the first half and writes
 * its answer (the message, inverted) in the second half, which the owner
 * checks.  The two take turns over a pipe; the data never goes through
 * it.  At the end the attacher detaches and releases, the owner removes.
 *
 * Usage: xpmem-share [-n ROUNDS] [-s KIB]    (default: 200 rounds, 1024 KiB)
 * Exit status 0 when every message and answer arrived intact.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xpmem.h"

static void die(const char *what)
{
	fprintf(stderr, "xpmem-share: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* One byte over a pipe: whose turn it is. */
static void pass(int fd)
{
	if (write(fd, "t", 1) != 1)
		die("write to the pipe");
}

static int wait_turn(int fd)
{
	char c;

	return read(fd, &c, 1) == 1;
}

/* Word @i of round @r's message. */
static uint64_t word(unsigned long r, size_t i)
{
	return (r << 32) ^ (i * 0x9e3779b97f4a7c15ULL);
}

static int attacher(xpmem_segid_t segid, size_t size, int in, int out)
{
	size_t half = size / 2 / sizeof(uint64_t), i;
	struct xpmem_addr addr = { .offset = 0 };
	unsigned long r;
	uint64_t *m;

	/* XPMEM_RDWR: the owner's mode (0600) must allow this uid to write. */
	addr.apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	if (addr.apid == -1)
		die("xpmem_get");
	m = xpmem_attach(addr, size, NULL);
	if (m == (void *)-1)
		die("xpmem_attach");
	for (r = 0; wait_turn(in); r++) {
		for (i = 0; i < half; i++) {
			if (m[i] != word(r, i)) {
				fprintf(stderr, "xpmem-share: round %lu: word %zu is %#llx\n",
					r, i, (unsigned long long)m[i]);
				return 1;
			}
			m[half + i] = ~m[i];
		}
		pass(out);
	}
	if (xpmem_detach(m) || xpmem_release(addr.apid))
		die("xpmem_detach or xpmem_release");
	return 0;
}

int main(int argc, char **argv)
{
	int to_att[2], to_own[2], opt, status, bad = 0;
	unsigned long rounds = 200, r;
	size_t size = 1024 << 10, half, i;
	struct timespec t0, t1;
	xpmem_segid_t segid;
	uint64_t *buf;
	pid_t kid;
	double s;

	while ((opt = getopt(argc, argv, "n:s:")) != -1) {
		if (opt == 'n')
			rounds = strtoul(optarg, NULL, 0);
		else if (opt == 's')
			size = strtoul(optarg, NULL, 0) << 10;
		else
			return 2;
	}
	if (!rounds || size < 2 * sizeof(uint64_t)) {
		fprintf(stderr, "usage: xpmem-share [-n ROUNDS] [-s KIB]\n");
		return 2;
	}
	half = size / 2 / sizeof(uint64_t);
	if (pipe(to_att) || pipe(to_own))
		die("pipe");
	/* The attacher first, so that it has no copy of the owner's buffer. */
	kid = fork();
	if (kid < 0)
		die("fork");
	if (!kid) {
		close(to_att[1]);
		close(to_own[0]);
		if (read(to_att[0], &segid, sizeof(segid)) != sizeof(segid))
			_exit(1);
		_exit(attacher(segid, size, to_att[0], to_own[1]));
	}
	close(to_att[0]);
	close(to_own[1]);
	buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap");
	segid = xpmem_make(buf, size, XPMEM_PERMIT_MODE, (void *)0600);
	if (segid == -1)
		die("xpmem_make");
	if (write(to_att[1], &segid, sizeof(segid)) != sizeof(segid))
		die("write to the pipe");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (r = 0; r < rounds && !bad; r++) {
		for (i = 0; i < half; i++)
			buf[i] = word(r, i);
		pass(to_att[1]);
		if (!wait_turn(to_own[0])) {
			fprintf(stderr, "xpmem-share: round %lu: the attacher is gone\n", r);
			bad = 1;
			break;
		}
		for (i = 0; i < half && !bad; i++)
			bad = buf[half + i] != ~word(r, i);
		if (bad)
			fprintf(stderr, "xpmem-share: round %lu: answer word %zu is wrong\n",
				r, i - 1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(to_att[1]);
	if (waitpid(kid, &status, 0) != kid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		bad = 1;
	if (xpmem_remove(segid))
		die("xpmem_remove");
	s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("xpmem-share: segment %#llx, %lu rounds of %zu KiB each way: %s, %.1f MiB/s\n",
	       (unsigned long long)segid, r, size / 2 >> 10,
	       bad ? "DATA WRONG" : "data verified",
	       s > 0 ? (double)r * size / s / (1 << 20) : 0.0);
	return bad;
}
