/* SPDX-License-Identifier: MIT */
/*
 * sim/eventq.c — the pending-event set: a radix heap on the 64-bit time with byte-wide
 * digits, and the events due "now" in a small binary heap on seq.
 *
 * Buckets.  Write a time in base 256: digits d7..d0.  An event at time t > last goes to the
 * bucket of the most significant digit position L where t and q->last differ, and of t's
 * digit v there (v > last's digit, so v >= 1): index L * 256 + v.  Index order is time order:
 * every event of a lower bucket is earlier than every event of a higher one.
 *
 * Invariants (tests/unit/test_eventq.c checks them all during random operations):
 *   - every pending event has time >= q->last, the time of the last event popped (0 before
 *     the first pop; after an out-of-memory fallback pop, see below, it may lag behind);
 *   - the now heap holds exactly the events with time == q->last, heap-ordered by seq;
 *   - bucket i (1..NBUCKET-1) holds the events t > last with bucket_of(t, last) == i, in no
 *     particular order; b[i].min is their least time (UINT64_MAX when empty), b[i].nmin how
 *     many have it; bit i of q->nonempty is set iff it holds any, and bit w of q->summary
 *     iff word w of q->nonempty is non-zero;
 *   - a bucket is a list of chunks starting at b[i].tail, the one being filled, which holds
 *     b[i].tail_n events (1..CHUNK_EV); the older chunks it links to are full.  Spare chunks
 *     wait on q->free, and q->nchunks >= pool_need(q->len) (see there).
 *
 * Pop takes the root of the now heap.  When that is empty, the lowest non-empty bucket, at
 * digit position L, is "refilled": last moves up to its least time and each of its events
 * moves to the now heap (time == last) or to the bucket given by its time relative to the
 * new last, which is at a digit position below L (digits above and at L are shared with
 * the new last), while the buckets above keep their meaning.  So an event moves at most 8
 * times in its life; in a hold model, one to three times.  Each move is a sequential copy
 * into the tail of a bucket, and a big bucket is read in chunk order with the next chunk
 * prefetched: this is why it beats a comparison heap, whose every level is a cache miss
 * once N is large.  Equal times always share a bucket and reach the now heap in the same
 * refill (or are pushed straight into it), where seq orders them.  Nothing depends on
 * pointer values.
 *
 * Memory: buckets draw fixed-size chunks from one pool, so the footprint follows the number
 * of pending events (plus at most one partial chunk per non-empty bucket), however long the
 * run and whichever buckets happen to be busy.  The pool is trimmed when it is far larger
 * than needed.
 *
 * Out of memory: only push allocates chunks, and it keeps the pool large enough that a
 * refill never runs short, so a push that cannot allocate returns -1 with the queue
 * unchanged.  The now heap is sized before a refill from b[i].nmin; if that growth fails, pop
 * (which cannot fail) takes the least (time, seq) of the bucket by a linear scan instead and
 * leaves q->last where it was.  Slow but exact.
 *
 * A push earlier than q->last breaks the contract of eventq.h (monotone keys) and is
 * refused with -EINVAL, the queue unchanged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "eventq.h"

/* Tests compile this file into themselves with allocations that fail on demand. */
#ifndef EVENTQ_FAIL_ALLOC
#define EVENTQ_FAIL_ALLOC() 0
#endif

#define DIGIT_BITS 8
#define DIGIT_MASK ((1u << DIGIT_BITS) - 1)
#define NLEVEL (64 / DIGIT_BITS)
#define NBUCKET (NLEVEL << DIGIT_BITS)  /* b[0] unused: the now heap takes its place */
#define NWORDS (NBUCKET / 64)
#define CHUNK_EV 31                     /* 32-byte header + 31 events = 1 KiB */
#define CHUNK_ALIGN 64                  /* no event straddles a cache line */
#define NOW_MIN_CAP 8

struct eventq_chunk {
	struct eventq_chunk *next;
	uint64_t unused[3];
	struct sim_event ev[CHUNK_EV];
};

struct eventq_bucket {            /* 32 bytes: two to a cache line */
	struct eventq_chunk *tail;      /* NULL when empty */
	uint64_t min;
	size_t nmin;
	size_t tail_n;
};

struct eventq {
	uint64_t last;
	size_t len;
	struct sim_event *now;  /* heap on seq of the events at time last */
	size_t now_n, now_cap;
	struct eventq_chunk *free;
	size_t nchunks, nfree;
	uint64_t summary;
	uint64_t nonempty[NWORDS];
	struct eventq_bucket b[NBUCKET] __attribute__((aligned(64)));
};

static inline unsigned int bucket_of(uint64_t t, uint64_t last)
{
	unsigned int level = (63 - (unsigned int)__builtin_clzll(t ^ last)) / DIGIT_BITS;

	return level << DIGIT_BITS | ((unsigned int)(t >> (level * DIGIT_BITS)) & DIGIT_MASK);
}

static inline void set_nonempty(struct eventq *q, unsigned int i)
{
	q->nonempty[i / 64] |= 1ull << (i % 64);
	q->summary |= 1ull << (i / 64);
}

static inline void clear_nonempty(struct eventq *q, unsigned int i)
{
	q->nonempty[i / 64] &= ~(1ull << (i % 64));
	if (!q->nonempty[i / 64])
		q->summary &= ~(1ull << (i / 64));
}

/* Lowest non-empty bucket, 0 if none. */
static inline unsigned int lowest_bucket(const struct eventq *q)
{
	unsigned int w;

	if (!q->summary)
		return 0;
	w = (unsigned int)__builtin_ctzll(q->summary);
	return w * 64 + (unsigned int)__builtin_ctzll(q->nonempty[w]);
}

/* ---- chunk pool ------------------------------------------------------------------------ */

/*
 * Chunks the pool must own with len events pending.  While a bucket is refilled, the chunks
 * in use are: those of the other buckets (full but one partial each), those the events
 * moved so far fill in their targets (full but one partial each), the unread part of the
 * source and the chunk being read.  That is at most len / CHUNK_EV + (buckets non-empty
 * after the refill) + 2, and non-empty buckets number at most min(len, NBUCKET).  Push
 * keeps this many, so a refill never allocates.
 */
static inline size_t pool_need(size_t len)
{
	return len / CHUNK_EV + 1 + (len < NBUCKET ? len : NBUCKET) + 2;
}

static int pool_reserve(struct eventq *q)
{
	size_t need = pool_need(q->len + 1);

	while (q->nchunks < need) {
		struct eventq_chunk *c;

		if (EVENTQ_FAIL_ALLOC())
			return -1;
		c = aligned_alloc(CHUNK_ALIGN, sizeof(*c));
		if (!c)
			return -1;
		c->next = q->free;
		q->free = c;
		q->nfree++;
		q->nchunks++;
	}
	return 0;
}

/* Gives chunks back when the pool holds more than twice what the queue needs. */
static void pool_trim(struct eventq *q)
{
	size_t need = pool_need(q->len);

	if (q->nchunks <= 2 * need)
		return;
	while (q->nchunks > need + need / 2 && q->free) {
		struct eventq_chunk *c = q->free;

		q->free = c->next;
		q->nfree--;
		q->nchunks--;
		free(c);
	}
}

static inline void bucket_append(struct eventq *q, struct eventq_bucket *b,
				 const struct sim_event *ev)
{
	uint64_t t = ev->time, m = b->min;

	if (b->tail_n == CHUNK_EV || !b->tail) {
		struct eventq_chunk *f = q->free;   /* never NULL: see pool_need() */

		q->free = f->next;
		q->nfree--;
		f->next = b->tail;
		b->tail = f;
		b->tail_n = 0;
	}
	b->tail->ev[b->tail_n++] = *ev;
	/* without branches: in a refill, whether an event lowers the min is a coin toss */
	b->nmin = t < m ? 1 : b->nmin + (t == m);
	b->min = t < m ? t : m;
}

static void bucket_clear(struct eventq_bucket *b)
{
	b->tail = NULL;
	b->tail_n = 0;
	b->min = UINT64_MAX;
	b->nmin = 0;
}

/* ---- the now heap: binary min-heap on seq (all its events share one time) -------------- */

static int now_reserve(struct eventq *q, size_t want)
{
	size_t cap = q->now_cap ? q->now_cap : NOW_MIN_CAP;
	struct sim_event *h;

	while (cap < want) {
		if (cap > SIZE_MAX / 2 / sizeof(*h))
			return -1;
		cap *= 2;
	}
	if (cap == q->now_cap)
		return 0;
	if (EVENTQ_FAIL_ALLOC())
		return -1;
	h = realloc(q->now, cap * sizeof(*h));
	if (!h)
		return -1;
	q->now = h;
	q->now_cap = cap;
	return 0;
}

static void now_sift_up(struct sim_event *h, size_t i)
{
	struct sim_event x = h[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (h[p].seq <= x.seq)
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = x;
}

static void now_sift_down(struct sim_event *h, size_t n, size_t i)
{
	struct sim_event x = h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1].seq < h[c].seq)
			c++;
		if (x.seq <= h[c].seq)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/* ---- queue ----------------------------------------------------------------------------- */

struct eventq *eventq_create(void)
{
	struct eventq *q = aligned_alloc(64, sizeof(*q));
	unsigned int i;

	if (!q)
		return NULL;
	memset(q, 0, sizeof(*q));
	for (i = 0; i < NBUCKET; i++)
		bucket_clear(&q->b[i]);
	return q;
}

static void chunk_list_free(struct eventq_chunk *c)
{
	while (c) {
		struct eventq_chunk *next = c->next;

		free(c);
		c = next;
	}
}

void eventq_destroy(struct eventq *q)
{
	unsigned int i;

	if (!q)
		return;
	for (i = 1; i < NBUCKET; i++)
		chunk_list_free(q->b[i].tail);
	chunk_list_free(q->free);
	free(q->now);
	free(q);
}

int eventq_push(struct eventq *q, const struct sim_event *ev)
{
	unsigned int i;

	if (ev->time < q->last)
		return -EINVAL;
	if (pool_reserve(q))
		return -1;
	if (ev->time == q->last) {
		if (q->now_n == q->now_cap && now_reserve(q, q->now_n + 1))
			return -1;
		q->now[q->now_n] = *ev;
		now_sift_up(q->now, q->now_n++);
		q->len++;
		return 0;
	}
	i = bucket_of(ev->time, q->last);
	bucket_append(q, &q->b[i], ev);
	set_nonempty(q, i);
	q->len++;
	return 0;
}

static inline void prefetch_chunk(const struct eventq_chunk *c)
{
	const char *p = (const char *)c;
	unsigned int off;

	for (off = 0; off < sizeof(*c); off += 64)
		__builtin_prefetch(p + off);
}

/*
 * Empties bucket src, the lowest non-empty one, into the now heap and the buckets below it,
 * after moving last up to its least time.  0, or -1 (nothing changed) if the now heap could
 * not grow to take the events at that time.
 */
static int refill(struct eventq *q, unsigned int src)
{
	struct eventq_bucket *s = &q->b[src];
	struct eventq_chunk *c = s->tail;
	uint64_t last = s->min;
	size_t n = s->tail_n;           /* the first chunk is the partial one */

	if (now_reserve(q, s->nmin))
		return -1;
	bucket_clear(s);
	clear_nonempty(q, src);
	for (; c; n = CHUNK_EV) {
		struct eventq_chunk *next = c->next;
		size_t k;

		if (next)
			prefetch_chunk(next);
		for (k = 0; k < n; k++) {
			const struct sim_event *e = &c->ev[k];

			if (e->time == last) {
				q->now[q->now_n++] = *e;
			} else {
				unsigned int j = bucket_of(e->time, last);

				bucket_append(q, &q->b[j], e);
				set_nonempty(q, j);
			}
		}
		c->next = q->free;      /* read: back to the pool, likely the next one taken */
		q->free = c;
		q->nfree++;
		c = next;
	}
	q->last = last;
	if (q->now_n > 1) {
		size_t k;

		for (k = q->now_n / 2; k-- > 0;)
			now_sift_down(q->now, q->now_n, k);
	}
	pool_trim(q);
	return 0;
}

/* The out-of-memory pop: takes the least (time, seq) of bucket src by a scan. */
static void pop_scan(struct eventq *q, unsigned int src, struct sim_event *out)
{
	struct eventq_bucket *s = &q->b[src];
	struct eventq_chunk *c, *bc = s->tail;
	size_t k, bk = 0, n;

	for (c = s->tail, n = s->tail_n; c; c = c->next, n = CHUNK_EV)
		for (k = 0; k < n; k++) {
			const struct sim_event *e = &c->ev[k], *m = &bc->ev[bk];

			if (e->time < m->time || (e->time == m->time && e->seq < m->seq)) {
				bc = c;
				bk = k;
			}
		}
	*out = bc->ev[bk];
	/* fill the hole from the partial chunk, so the others stay full */
	bc->ev[bk] = s->tail->ev[--s->tail_n];
	if (s->tail_n == 0) {
		c = s->tail;
		s->tail = c->next;
		s->tail_n = s->tail ? CHUNK_EV : 0;
		c->next = q->free;
		q->free = c;
		q->nfree++;
	}
	s->min = UINT64_MAX;
	s->nmin = 0;
	for (c = s->tail, n = s->tail_n; c; c = c->next, n = CHUNK_EV)
		for (k = 0; k < n; k++) {
			uint64_t t = c->ev[k].time;

			s->nmin = t < s->min ? 1 : s->nmin + (t == s->min);
			s->min = t < s->min ? t : s->min;
		}
	if (!s->tail)
		clear_nonempty(q, src);
}

bool eventq_pop(struct eventq *q, struct sim_event *out)
{
	if (q->now_n == 0) {
		unsigned int src = lowest_bucket(q);

		if (!src)
			return false;
		if (refill(q, src)) {
			pop_scan(q, src, out);
			q->len--;
			return true;
		}
	}
	*out = q->now[0];
	if (--q->now_n > 0) {
		q->now[0] = q->now[q->now_n];
		now_sift_down(q->now, q->now_n, 0);
	}
	q->len--;
	return true;
}

bool eventq_peek_time(struct eventq *q, uint64_t *time)
{
	unsigned int i;

	if (q->now_n) {
		*time = q->last;
		return true;
	}
	i = lowest_bucket(q);
	if (!i)
		return false;
	*time = q->b[i].min;
	return true;
}

size_t eventq_len(const struct eventq *q)
{
	return q->len;
}
