// SPDX-License-Identifier: GPL-2.0
/*
 * xmem-consumer: receive a descriptor from xmem-producer and attach its
 * messages one by one with the lightweight services; see xmem-share.h.
 *
 *   xmem-consumer [-s SOCKET]
 *
 * Attaches the control page for the whole run and each slot once per
 * message (writable: it writes its answer there), checks every word,
 * detaches, and prints bytes moved, attach and detach counts and their
 * latencies.  Exit status 0 if every byte was what the producer wrote.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "libxmem.h"
#include "xmem-share.h"

struct lat {
	double sum, min, max;
	uint64_t n;
};

static void lat_add(struct lat *l, double us)
{
	if (!l->n || us < l->min)
		l->min = us;
	if (us > l->max)
		l->max = us;
	l->sum += us;
	l->n++;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "xmem-consumer: %s: %s\n", what, strerror(err));
	exit(2);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		die("socket", errno);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (int i = 0; connect(s, (struct sockaddr *)&sa, sizeof(sa)); i++) {
		if (i == 500)
			die(path, errno);
		usleep(10000);
	}
	return s;
}

int main(int argc, char **argv)
{
	const char *path = XS_SOCKET;
	struct lat att = { 0 }, det = { 0 };
	uint64_t wrong = 0, bytes_in = 0, bytes_out = 0;
	struct xs_control *c;
	struct xmem_info info;
	int opt, s, fd, err;
	double t0, t1;

	while ((opt = getopt(argc, argv, "s:h")) != -1) {
		if (opt != 's') {
			fprintf(stderr, "usage: %s [-s SOCKET]\n", argv[0]);
			return opt == 'h' ? 0 : 2;
		}
		path = optarg;
	}
	s = connect_to(path);
	fd = xmem_recv_fd(s);
	if (fd < 0)
		die("SCM_RIGHTS", -fd);
	err = xmem_info(fd, &info);
	if (err)
		die("XMEM_IOC_INFO", -err);
	printf("xmem-consumer: got descriptor fd %d: %llu bytes, %s\n", fd,
	       (unsigned long long)info.length,
	       info.flags & XMEM_INFO_RDONLY ? "read-only" : "read-write");

	/* Room for the control page and one slot in each thread's window. */
	err = xmem_pool_init(fd, 4 << 20, 0);
	if (err)
		die("XMEM_IOC_POOL_INIT", -err);
	err = xmem_attach(fd, 0, XS_PAGE, XMEM_ATTACH_WRITE, (void **)&c);
	if (err)
		die("XMEM_IOC_ATTACH control page", -err);
	if (c->magic != XS_MAGIC || !c->nslots || !c->slot_size ||
	    XS_PAGE + c->nslots * c->slot_size > info.length)
		die("not an xmem-producer buffer", EPROTO);

	t0 = xs_now_us();
	for (uint64_t m = 0; m < c->messages; m++) {
		uint64_t *w = NULL, n = xs_words(c), sum = 0;
		double a;

		while (atomic_load(&c->produced) <= m)
			sched_yield();
		a = xs_now_us();
		err = xmem_attach(fd, xs_slot_offset(c, m), c->slot_size,
				  XMEM_ATTACH_WRITE, (void **)&w);
		lat_add(&att, xs_now_us() - a);
		if (err) {
			atomic_store(&c->abort, 1);
			die("XMEM_IOC_ATTACH", -err);
		}
		for (uint64_t i = 0; i < n; i++) {
			wrong += w[i] != xs_word(m, i);
			sum += w[i];
		}
		w[n] = sum;
		bytes_in += n * sizeof(*w);
		bytes_out += sizeof(*w);
		a = xs_now_us();
		err = xmem_detach(fd, w, c->slot_size);
		lat_add(&det, xs_now_us() - a);
		if (err) {
			atomic_store(&c->abort, 1);
			die("XMEM_IOC_DETACH", -err);
		}
		atomic_store(&c->consumed, m + 1);
	}
	t1 = xs_now_us();

	printf("xmem-consumer: %llu messages: %llu attaches, %llu detaches, ",
	       (unsigned long long)c->messages, (unsigned long long)att.n + 1,
	       (unsigned long long)det.n + 1);
	printf("%.1f MiB read, %llu bytes written, %llu wrong words\n",
	       bytes_in / 1048576.0, (unsigned long long)bytes_out,
	       (unsigned long long)wrong);
	printf("xmem-consumer: attach %.1f us avg (min %.1f, max %.1f), ",
	       att.sum / att.n, att.min, att.max);
	printf("detach %.1f us avg (min %.1f, max %.1f), %.1f MiB/s\n",
	       det.sum / det.n, det.min, det.max,
	       bytes_in / 1048576.0 / ((t1 - t0) / 1e6));
	err = xmem_detach(fd, c, XS_PAGE);
	if (err)
		die("XMEM_IOC_DETACH control page", -err);
	close(fd);
	close(s);
	return wrong ? 1 : 0;
}
