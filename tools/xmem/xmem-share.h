/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * xmem-share.h: the layout that xmem-producer and xmem-consumer agree on.
 *
 * The shared buffer is one control page followed by XS_SLOTS slots.  The
 * producer fills message m into slot m % nslots and publishes it by
 * raising produced; the consumer attaches that slot, checks every word,
 * writes its answer (the sum of the words) into the slot's last word,
 * detaches and raises consumed.  The producer checks each answer before it
 * reuses the slot.  The control page stays attached in the consumer for
 * the whole run; each slot is attached once per message.
 */
#ifndef XMEM_SHARE_H
#define XMEM_SHARE_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define XS_MAGIC	0x786d656d73686172ULL	/* "xmemshar" */
#define XS_PAGE		4096UL
#define XS_SOCKET	"/tmp/xmem-share.sock"

struct xs_control {
	uint64_t magic;
	uint64_t nslots;
	uint64_t slot_size;		/* bytes, a multiple of the page size */
	uint64_t messages;		/* how many the producer will send */
	atomic_ullong produced;		/* messages published */
	atomic_ullong consumed;		/* messages answered */
	atomic_ullong abort;		/* either side gave up */
};

/* Word @i of message @m. */
static inline uint64_t xs_word(uint64_t m, uint64_t i)
{
	return (m + 1) * 0x9e3779b97f4a7c15ULL ^ (i * 0xbf58476d1ce4e5b9ULL);
}

static inline uint64_t xs_slot_offset(const struct xs_control *c, uint64_t m)
{
	return XS_PAGE + (m % c->nslots) * c->slot_size;
}

/* The words of a slot that carry data: all but the answer word. */
static inline uint64_t xs_words(const struct xs_control *c)
{
	return c->slot_size / sizeof(uint64_t) - 1;
}

static inline double xs_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

#endif /* XMEM_SHARE_H */
