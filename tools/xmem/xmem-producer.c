// SPDX-License-Identifier: GPL-2.0
/*
 * xmem-producer: share a buffer through /dev/xmem and fill it with
 * messages for xmem-consumer, which attaches each one; see xmem-share.h.
 *
 *   xmem-producer [-s SOCKET] [-n MESSAGES] [-k SLOTS] [-S SLOT_KIB]
 *
 * Listens on SOCKET, sends the descriptor fd (SCM_RIGHTS) to the first
 * consumer that connects, fills the slots while the consumer drains them,
 * checks every answer, then releases the descriptor with XMEM_IOC_XMDETACH.
 * Exit status 0 if every answer was right.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "libxmem.h"
#include "xmem-share.h"

static void die(const char *what, int err)
{
	fprintf(stderr, "xmem-producer: %s: %s\n", what, strerror(err));
	exit(2);
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		die("socket", errno);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 1))
		die(path, errno);
	return s;
}

/* The consumer's answer for message @m in its slot: the sum of the words. */
static int check_answer(struct xs_control *c, unsigned char *buf, uint64_t m)
{
	uint64_t *w = (uint64_t *)(buf + xs_slot_offset(c, m));
	uint64_t sum = 0, n = xs_words(c);

	for (uint64_t i = 0; i < n; i++)
		sum += xs_word(m, i);
	return w[n] == sum ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *path = XS_SOCKET;
	uint64_t messages = 2000, nslots = 8, slot_kib = 64, bad = 0;
	struct xs_control *c;
	struct xmem_info info;
	unsigned char *buf;
	size_t len;
	int opt, dev, fd, ls, s, err;
	double t0, t1;

	while ((opt = getopt(argc, argv, "s:n:k:S:h")) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'n':
			messages = strtoull(optarg, NULL, 0);
			break;
		case 'k':
			nslots = strtoull(optarg, NULL, 0);
			break;
		case 'S':
			slot_kib = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-s SOCKET] [-n MESSAGES] %s\n",
				argv[0], "[-k SLOTS] [-S SLOT_KIB]");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!messages || !nslots || !slot_kib || slot_kib % 4)
		die("arguments", EINVAL);
	len = XS_PAGE + nslots * slot_kib * 1024;
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap", errno);
	c = (struct xs_control *)buf;
	c->magic = XS_MAGIC;
	c->nslots = nslots;
	c->slot_size = slot_kib * 1024;
	c->messages = messages;

	dev = xmem_open();
	if (dev < 0)
		die(XMEM_DEV_PATH, -dev);
	fd = xmem_create(dev, buf, len, XMEM_CREATE_CLOEXEC);
	if (fd < 0)
		die("XMEM_IOC_CREATE", -fd);
	printf("xmem-producer: shared %zu bytes (%lu slots of %lu KiB) as descriptor fd %d\n",
	       len, (unsigned long)nslots, (unsigned long)slot_kib, fd);
	ls = listen_on(path);
	printf("xmem-producer: waiting for a consumer on %s\n", path);
	fflush(stdout);
	s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		die("accept", errno);
	err = xmem_send_fd(s, fd);
	if (err)
		die("SCM_RIGHTS", -err);

	t0 = xs_now_us();
	for (uint64_t m = 0; m < messages; m++) {
		uint64_t *w, n = xs_words(c);

		while (atomic_load(&c->produced) - atomic_load(&c->consumed) >= nslots) {
			if (atomic_load(&c->abort))
				die("consumer gave up", EPIPE);
			sched_yield();
		}
		if (m >= nslots)
			bad += check_answer(c, buf, m - nslots);
		w = (uint64_t *)(buf + xs_slot_offset(c, m));
		for (uint64_t i = 0; i < n; i++)
			w[i] = xs_word(m, i);
		w[n] = 0;
		atomic_store(&c->produced, m + 1);
	}
	while (atomic_load(&c->consumed) < messages) {
		if (atomic_load(&c->abort))
			die("consumer gave up", EPIPE);
		sched_yield();
	}
	t1 = xs_now_us();
	for (uint64_t m = messages > nslots ? messages - nslots : 0; m < messages; m++)
		bad += check_answer(c, buf, m);

	/* The consumer detached everything: the pins can go now. */
	err = xmem_info(fd, &info);
	if (err)
		die("XMEM_IOC_INFO", -err);
	printf("xmem-producer: %lu messages of %lu KiB written, ",
	       (unsigned long)messages, (unsigned long)slot_kib);
	printf("%lu answers checked, %lu wrong, in %.1f ms\n",
	       (unsigned long)messages, (unsigned long)bad, (t1 - t0) / 1e3);
	close(s);
	s = -1;
	/* Wait for the consumer to let go of the control page. */
	for (int i = 0; i < 10000; i++) {
		if (xmem_info(fd, &info) || !info.attachments)
			break;
		usleep(1000);
	}
	err = xmem_xmdetach(fd);
	printf("xmem-producer: XMEM_IOC_XMDETACH: %s (attachments left: %llu)\n",
	       err ? strerror(-err) : "ok, pages unpinned",
	       (unsigned long long)info.attachments);
	close(fd);
	unlink(path);
	return bad || err ? 1 : 0;
}
