// SPDX-License-Identifier: GPL-2.0
/*
 * ucx-check: data through UCX between two processes, verified.
 *
 * ucx_perftest measures but never looks at the bytes it moves.  This
 * does: two processes (a fork, joined by a socketpair for the out-of-band
 * exchange of worker addresses and remote keys) each map a buffer and
 * register it with UCP; then, each round, one of them writes a pattern
 * into the other's buffer with ucp_put_nbx() and flushes, the other checks
 * every word, reads the writer's buffer back with ucp_get_nbx() and
 * checks that too; the roles alternate.  Run it with UCX_TLS naming one
 * transport (xpmem, or cma with an active-message transport): when that
 * transport cannot do it, the endpoint or the operations fail.
 *
 * Usage: ucx-check [-n ROUNDS] [-s BYTES]   (default: 20 rounds, 1 MiB)
 * Prints one line with what was moved; exit status 0 when every byte was
 * right, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ucp/api/ucp.h>

struct side {
	ucp_context_h ctx;
	ucp_worker_h worker;
	ucp_ep_h ep;
	ucp_mem_h memh;
	ucp_rkey_h rkey;
	uint64_t *buf, *scratch;
	uint64_t remote;	/* the peer's buffer, in its address space */
	int sock;
	int me;
};

static void die(struct side *s, const char *what, const char *why)
{
	fprintf(stderr, "ucx-check[%d]: %s: %s\n", s->me, what, why);
	exit(1);
}

static void check(struct side *s, ucs_status_t st, const char *what)
{
	if (st != UCS_OK)
		die(s, what, ucs_status_string(st));
}

/* Wait for a request of ucp_*_nbx(), progressing the worker. */
static void wait_req(struct side *s, ucs_status_ptr_t req, const char *what)
{
	ucs_status_t st;

	if (req == NULL)
		return;
	if (UCS_PTR_IS_ERR(req))
		die(s, what, ucs_status_string(UCS_PTR_STATUS(req)));
	do {
		ucp_worker_progress(s->worker);
		st = ucp_request_check_status(req);
	} while (st == UCS_INPROGRESS);
	ucp_request_free(req);
	check(s, st, what);
}

static void xfer(struct side *s, void *p, size_t len, int out)
{
	struct pollfd pfd = { .fd = s->sock, .events = POLLIN };
	ssize_t r;

	/*
	 * Progress the worker while waiting: over a transport that cannot
	 * reach the memory itself UCP emulates put and get with messages
	 * that this side must answer.
	 */
	if (!out && s->worker) {
		while (poll(&pfd, 1, 0) == 0)
			ucp_worker_progress(s->worker);
	}
	r = out ? write(s->sock, p, len) : read(s->sock, p, len);

	if (r != (ssize_t)len)
		die(s, out ? "write to the peer" : "read from the peer",
		    r < 0 ? strerror(errno) : "short");
}

/* A length, then that many bytes. */
static void send_blob(struct side *s, const void *p, size_t len)
{
	uint64_t l = len;

	xfer(s, &l, sizeof(l), 1);
	xfer(s, (void *)p, len, 1);
}

static void *recv_blob(struct side *s)
{
	uint64_t l;
	void *p;

	xfer(s, &l, sizeof(l), 0);
	p = malloc(l);
	if (!p)
		die(s, "malloc", strerror(ENOMEM));
	xfer(s, p, l, 0);
	return p;
}

static uint64_t word(unsigned int round, int writer, size_t i)
{
	return ((uint64_t)round << 40) ^ ((uint64_t)writer << 32) ^
	       (i * 0x9e3779b97f4a7c15ULL);
}

static void setup(struct side *s, size_t size)
{
	ucp_params_t params = {
		.field_mask = UCP_PARAM_FIELD_FEATURES,
		.features = UCP_FEATURE_RMA,
	};
	ucp_worker_params_t wparams = {
		.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE,
		.thread_mode = UCS_THREAD_MODE_SINGLE,
	};
	ucp_mem_map_params_t mparams = {
		.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS |
			      UCP_MEM_MAP_PARAM_FIELD_LENGTH,
	};
	ucp_ep_params_t eparams = {
		.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS,
	};
	ucp_address_t *addr;
	size_t addr_len, rkey_len;
	uint64_t mine;
	void *rkey, *peer;

	s->buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	s->scratch = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (s->buf == MAP_FAILED || s->scratch == MAP_FAILED)
		die(s, "mmap", strerror(errno));
	check(s, ucp_init(&params, NULL, &s->ctx), "ucp_init");
	check(s, ucp_worker_create(s->ctx, &wparams, &s->worker),
	      "ucp_worker_create");
	check(s, ucp_worker_get_address(s->worker, &addr, &addr_len),
	      "ucp_worker_get_address");
	mparams.address = s->buf;
	mparams.length = size;
	check(s, ucp_mem_map(s->ctx, &mparams, &s->memh), "ucp_mem_map");
	check(s, ucp_rkey_pack(s->ctx, s->memh, &rkey, &rkey_len),
	      "ucp_rkey_pack");
	mine = (uintptr_t)s->buf;
	send_blob(s, addr, addr_len);
	send_blob(s, rkey, rkey_len);
	xfer(s, &mine, sizeof(mine), 1);
	ucp_rkey_buffer_release(rkey);
	ucp_worker_release_address(s->worker, addr);

	peer = recv_blob(s);
	eparams.address = peer;
	check(s, ucp_ep_create(s->worker, &eparams, &s->ep), "ucp_ep_create");
	free(peer);
	peer = recv_blob(s);
	check(s, ucp_ep_rkey_unpack(s->ep, peer, &s->rkey), "ucp_ep_rkey_unpack");
	free(peer);
	xfer(s, &s->remote, sizeof(s->remote), 0);
}

/* Both sides: @writer puts round @r into the other, which checks and gets. */
static int round_trip(struct side *s, unsigned int r, int writer, size_t size)
{
	ucp_request_param_t rp = { .op_attr_mask = 0 };
	size_t n = size / sizeof(uint64_t), i;
	char token = 't';

	if (s->me == writer) {
		for (i = 0; i < n; i++)
			s->scratch[i] = word(r, writer, i);
		memcpy(s->buf, s->scratch, size);
		wait_req(s, ucp_put_nbx(s->ep, s->scratch, size, s->remote,
					s->rkey, &rp), "ucp_put_nbx");
		wait_req(s, ucp_ep_flush_nbx(s->ep, &rp), "ucp_ep_flush_nbx");
		xfer(s, &token, 1, 1);
		xfer(s, &token, 1, 0);		/* the reader is done */
		return token == 't' ? 0 : 1;
	}
	xfer(s, &token, 1, 0);
	for (i = 0; i < n; i++) {
		if (s->buf[i] != word(r, writer, i)) {
			fprintf(stderr, "ucx-check: round %u: put word %zu is %#llx\n",
				r, i, (unsigned long long)s->buf[i]);
			token = 'x';
			break;
		}
	}
	memset(s->scratch, 0, size);
	wait_req(s, ucp_get_nbx(s->ep, s->scratch, size, s->remote, s->rkey,
				&rp), "ucp_get_nbx");
	wait_req(s, ucp_ep_flush_nbx(s->ep, &rp), "ucp_ep_flush_nbx");
	for (i = 0; token == 't' && i < n; i++) {
		if (s->scratch[i] != word(r, writer, i)) {
			fprintf(stderr, "ucx-check: round %u: got word %zu is %#llx\n",
				r, i, (unsigned long long)s->scratch[i]);
			token = 'x';
		}
	}
	xfer(s, &token, 1, 1);
	return token == 't' ? 0 : 1;
}

static int run(struct side *s, unsigned int rounds, size_t size)
{
	unsigned int r;
	int bad = 0;
	char token;

	setup(s, size);
	for (r = 0; r < rounds && !bad; r++)
		bad = round_trip(s, r, r & 1, size);
	ucp_rkey_destroy(s->rkey);
	wait_req(s, ucp_ep_close_nbx(s->ep, &(ucp_request_param_t){
		.op_attr_mask = 0 }), "ucp_ep_close_nbx");
	/* Neither side tears its memory down before the other closed. */
	token = 'c';
	xfer(s, &token, 1, 1);
	xfer(s, &token, 1, 0);
	ucp_mem_unmap(s->ctx, s->memh);
	ucp_worker_destroy(s->worker);
	ucp_cleanup(s->ctx);
	return bad;
}

int main(int argc, char **argv)
{
	unsigned int rounds = 20;
	size_t size = 1 << 20;
	struct side s = { 0 };
	int sv[2], opt, status, bad;
	const char *tls = getenv("UCX_TLS");
	pid_t kid;

	while ((opt = getopt(argc, argv, "n:s:")) != -1) {
		if (opt == 'n')
			rounds = strtoul(optarg, NULL, 0);
		else if (opt == 's')
			size = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (!rounds || size < sizeof(uint64_t) || size % sizeof(uint64_t)) {
		fprintf(stderr, "usage: ucx-check [-n ROUNDS] [-s BYTES (a multiple of 8)]\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die(&s, "socketpair", strerror(errno));
	fflush(stdout);
	kid = fork();
	if (kid < 0)
		die(&s, "fork", strerror(errno));
	s.me = !kid;
	s.sock = sv[!kid];
	close(sv[!!kid]);
	bad = run(&s, rounds, size);
	if (kid == 0)
		_exit(bad);
	if (waitpid(kid, &status, 0) != kid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		bad = 1;
	printf("ucx-check: UCX_TLS=%s: %u rounds of %zu bytes, put then get back, alternating: %s\n",
	       tls ? tls : "(all)", rounds, size,
	       bad ? "DATA WRONG or a call failed" : "every word verified");
	return bad;
}
