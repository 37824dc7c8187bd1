/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_eventq.c — the pending-event set against a reference binary heap ordered
 * by (time, seq), over millions of random operations, plus its invariants, its memory bound
 * and its behaviour when allocation fails.
 *
 * sim/eventq.c is compiled into this program with allocations that fail on demand (plain
 * malloc otherwise), so the archive's copy is not linked in.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

static uint64_t fail_state;     /* xorshift state; 0 = never fail */
static uint64_t fail_one_in;    /* fail an allocation with probability 1/fail_one_in */
static int fail_all;
static uint64_t alloc_calls, alloc_refused;

static int test_fail_alloc(void)
{
	alloc_calls++;
	if (fail_all) {
		alloc_refused++;
		return 1;
	}
	if (fail_one_in) {
		fail_state ^= fail_state << 13;
		fail_state ^= fail_state >> 7;
		fail_state ^= fail_state << 17;
		if (fail_state % fail_one_in == 0) {
			alloc_refused++;
			return 1;
		}
	}
	return 0;
}

#define EVENTQ_FAIL_ALLOC() test_fail_alloc()
#include "eventq.c"
#include "test.h"

static void alloc_reset(void)
{
	fail_state = 0;
	fail_one_in = 0;
	fail_all = 0;
	alloc_calls = alloc_refused = 0;
}

/* ---- deterministic randomness ------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A bijection of 64-bit integers: unique seqs in no particular order. */
static uint64_t scramble(uint64_t x)
{
	x = (x ^ (x >> 33)) * 0xff51afd7ed558ccdull;
	x = (x ^ (x >> 33)) * 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* ---- reference: plain binary heap on (time, seq) ------------------------------------- */

struct ref {
	struct sim_event *h;
	size_t n, cap;
};

static int ev_less(const struct sim_event *a, const struct sim_event *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void ref_push(struct ref *r, const struct sim_event *ev)
{
	size_t i;

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->h = realloc(r->h, r->cap * sizeof(*r->h));
		if (!r->h)
			abort();
	}
	i = r->n++;
	while (i > 0 && ev_less(ev, &r->h[(i - 1) / 2])) {
		r->h[i] = r->h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	r->h[i] = *ev;
}

static struct sim_event ref_pop(struct ref *r)
{
	struct sim_event top = r->h[0], x = r->h[--r->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= r->n)
			break;
		if (c + 1 < r->n && ev_less(&r->h[c + 1], &r->h[c]))
			c++;
		if (!ev_less(&r->h[c], &x))
			break;
		r->h[i] = r->h[c];
		i = c;
	}
	if (r->n)
		r->h[i] = x;
	return top;
}

static int ev_equal(const struct sim_event *a, const struct sim_event *b)
{
	return a->time == b->time && a->seq == b->seq && a->arg == b->arg &&
	       a->kind == b->kind && a->target == b->target;
}

/* ---- invariants of the radix heap ------------------------------------------------------ */

static int invariants_hold(const struct eventq *q)
{
	size_t total = q->now_n, chunks = 0, k;
	const struct eventq_chunk *c;
	unsigned int i, w;

	if (q->now_n > q->now_cap)
		return 0;
	for (k = 0; k < q->now_n; k++) {
		if (q->now[k].time != q->last)
			return 0;
		if (k > 0 && q->now[(k - 1) / 2].seq > q->now[k].seq)
			return 0;
	}
	if (q->b[0].tail || (q->nonempty[0] & 1))
		return 0;
	for (i = 1; i < NBUCKET; i++) {
		const struct eventq_bucket *b = &q->b[i];
		uint64_t min = UINT64_MAX, nmin = 0, n = 0;
		size_t fill = b->tail_n;

		/* the first chunk holds 1..CHUNK_EV events, the older ones are full */
		if (b->tail ? (fill == 0 || fill > CHUNK_EV) : fill != 0)
			return 0;
		for (c = b->tail; c; c = c->next, fill = CHUNK_EV) {
			chunks++;
			for (k = 0; k < fill; k++) {
				uint64_t t = c->ev[k].time;

				if (t <= q->last || bucket_of(t, q->last) != i)
					return 0;
				if (t < min) {
					min = t;
					nmin = 0;
				}
				nmin += t == min;
			}
			n += fill;
		}
		if (b->min != min || (n && b->nmin != nmin))
			return 0;
		if (!!(q->nonempty[i / 64] & (1ull << (i % 64))) != (n > 0))
			return 0;
		total += n;
	}
	for (w = 0; w < NWORDS; w++)
		if (!!(q->summary & (1ull << w)) != (q->nonempty[w] != 0))
			return 0;
	for (c = q->free, k = 0; c; c = c->next)
		k++;
	if (k != q->nfree || chunks + q->nfree != q->nchunks)
		return 0;
	if (q->len && q->nchunks < pool_need(q->len))
		return 0;
	return total == q->len;
}

/* Bytes the queue holds for its events (pool and now heap). */
static size_t footprint(const struct eventq *q)
{
	return q->nchunks * sizeof(struct eventq_chunk) + q->now_cap * sizeof(struct sim_event);
}

static struct sim_event make_event(uint64_t time, uint64_t seq)
{
	struct sim_event ev = {
		.time = time, .seq = seq, .arg = scramble(seq ^ time),
		.kind = (uint32_t)(seq * 7), .target = (uint32_t)(time >> 3),
	};
	return ev;
}

/* ---- tests ------------------------------------------------------------------------------- */

TEST(empty_queue_pops_nothing_and_has_no_time)
{
	struct eventq *q = eventq_create();
	struct sim_event ev;
	uint64_t t = 42;

	CHECK(q != NULL);
	CHECK(!eventq_pop(q, &ev));
	CHECK(!eventq_peek_time(q, &t));
	CHECK_EQ_U64(t, 42);
	CHECK_EQ_U64(eventq_len(q), 0);
	eventq_destroy(q);
	eventq_destroy(NULL);
}

TEST(equal_times_pop_in_seq_order_whatever_the_push_order)
{
	struct eventq *q = eventq_create();
	struct sim_event ev;
	uint64_t seqs[] = { 9, 3, 7, 1, 8, 2, 6, 4, 5, 0 };
	unsigned int i;

	for (i = 0; i < 10; i++) {
		ev = make_event(100, seqs[i]);
		CHECK(eventq_push(q, &ev) == 0);
	}
	ev = make_event(99, 100);       /* earlier time, larger seq: comes first */
	CHECK(eventq_push(q, &ev) == 0);
	CHECK(eventq_pop(q, &ev));
	CHECK_EQ_U64(ev.time, 99);
	for (i = 0; i < 10; i++) {
		CHECK(eventq_pop(q, &ev));
		CHECK_EQ_U64(ev.time, 100);
		CHECK_EQ_U64(ev.seq, i);
		if (i == 4) {   /* a same-time push while "now" is 100 lands in seq order too */
			struct sim_event e2 = make_event(100, 5);

			CHECK(eventq_pop(q, &ev));
			CHECK_EQ_U64(ev.seq, 5);
			CHECK(eventq_push(q, &e2) == 0);
		}
	}
	CHECK(!eventq_pop(q, &ev));
	eventq_destroy(q);
}

TEST(whole_payload_comes_back_unchanged)
{
	struct eventq *q = eventq_create();
	struct sim_event in = { .time = 5, .seq = 77, .arg = 0xdeadbeefcafef00dull,
				.kind = 0xffffffffu, .target = 12345 }, out;

	CHECK(eventq_push(q, &in) == 0);
	CHECK(eventq_pop(q, &out));
	CHECK(ev_equal(&in, &out));
	eventq_destroy(q);
}

TEST(extreme_times_order_correctly_up_to_uint64_max)
{
	struct eventq *q = eventq_create();
	uint64_t times[] = { UINT64_MAX, 1ull << 63, 0, (1ull << 63) - 1, UINT64_MAX - 1, 1,
			     UINT64_MAX, (1ull << 63) + 1 };
	uint64_t want[] = { 0, 1, (1ull << 63) - 1, 1ull << 63, (1ull << 63) + 1,
			    UINT64_MAX - 1, UINT64_MAX, UINT64_MAX };
	struct sim_event ev;
	unsigned int i;

	for (i = 0; i < 8; i++) {
		ev = make_event(times[i], i);
		CHECK(eventq_push(q, &ev) == 0);
	}
	for (i = 0; i < 8; i++) {
		CHECK(eventq_pop(q, &ev));
		CHECK_EQ_U64(ev.time, want[i]);
		CHECK(invariants_hold(q));
	}
	CHECK_EQ_U64(ev.seq, 6);        /* the later of the two UINT64_MAX events */
	eventq_destroy(q);
}

TEST(push_before_last_popped_time_is_refused_and_changes_nothing)
{
	struct eventq *q = eventq_create();
	struct sim_event ev = make_event(1000, 1);
	uint64_t t = 0;

	CHECK(eventq_push(q, &ev) == 0);
	ev = make_event(5000, 2);
	CHECK(eventq_push(q, &ev) == 0);
	CHECK(eventq_pop(q, &ev));
	ev = make_event(999, 3);
	CHECK(eventq_push(q, &ev) == -EINVAL);
	CHECK_EQ_U64(eventq_len(q), 1);
	CHECK(eventq_peek_time(q, &t));
	CHECK_EQ_U64(t, 5000);
	ev = make_event(1000, 4);       /* equal to the last popped time is fine */
	CHECK(eventq_push(q, &ev) == 0);
	CHECK(eventq_pop(q, &ev));
	CHECK_EQ_U64(ev.seq, 4);
	eventq_destroy(q);
}

TEST(peek_does_not_stop_earlier_pushes_after_the_last_pop)
{
	struct eventq *q = eventq_create();
	struct sim_event ev = make_event(10, 1);
	uint64_t t = 0;

	CHECK(eventq_push(q, &ev) == 0);
	ev = make_event(1000, 2);
	CHECK(eventq_push(q, &ev) == 0);
	CHECK(eventq_pop(q, &ev));      /* now = 10 */
	CHECK(eventq_peek_time(q, &t));
	CHECK_EQ_U64(t, 1000);
	ev = make_event(500, 3);        /* between now and the peeked time */
	CHECK(eventq_push(q, &ev) == 0);
	CHECK(eventq_peek_time(q, &t));
	CHECK_EQ_U64(t, 500);
	CHECK(eventq_pop(q, &ev));
	CHECK_EQ_U64(ev.time, 500);
	CHECK(eventq_pop(q, &ev));
	CHECK_EQ_U64(ev.time, 1000);
	eventq_destroy(q);
}

/*
 * One random run: phases of interleaved push/pop with a push probability, increments of a
 * chosen scale (zero for floods of equal times, up to 2^63 for jumps), unique seqs either
 * increasing (as the engine assigns them) or scrambled, and drains to empty.  Every pop and
 * every peek is compared with the reference.
 */
struct run_stats {
	uint64_t ops, pops, pushes, refused, mismatches, equal_time_pops, max_len, restarts;
};

static void random_run(uint64_t seed, uint64_t ops, uint64_t fail_one_in_, struct run_stats *st)
{
	struct eventq *q = eventq_create();
	struct ref r = { 0 };
	uint64_t now = 0, seqctr = 0, prev_time = 0, op;
	unsigned int push_pct = 50, scale = 10, phase_left = 0;
	int scrambled = (int)(seed & 1), bad_invariant = 0;

	rng_state = seed;
	fail_one_in = fail_one_in_;
	fail_state = seed | 1;
	memset(st, 0, sizeof(*st));
	if (!q)
		abort();
	for (op = 0; op < ops; op++) {
		struct sim_event got, want;
		uint64_t t;

		if (phase_left-- == 0) {
			static const unsigned int pcts[] = { 20, 45, 50, 55, 80, 100 };
			static const unsigned int scales[] = { 0, 1, 2, 4, 8, 12, 20, 32, 48, 63 };

			push_pct = pcts[rng() % 6];
			scale = scales[rng() % 10];
			phase_left = 1 + (unsigned int)(rng() % 20000);
			if (rng() % 8 == 0)
				push_pct = 0;   /* drain to empty, then refill */
			if (r.n > 200000)
				push_pct = 20;
		}
		if (rng() % 100 < push_pct) {
			uint64_t inc = scale ? rng() >> (64 - scale) : 0, time;
			struct sim_event ev;
			int rc;

			if (rng() % 4 == 0)
				inc = 0;        /* plenty of ties at every scale */
			time = now + inc < now ? UINT64_MAX : now + inc;
			seqctr++;
			ev = make_event(time, scrambled ? scramble(seqctr) : seqctr);
			rc = eventq_push(q, &ev);
			if (rc == 0) {
				ref_push(&r, &ev);
				st->pushes++;
			} else {
				st->refused++;
				if (rc != -1)
					st->mismatches++;
			}
			if (r.n > st->max_len)
				st->max_len = r.n;
		} else {
			bool ok = eventq_pop(q, &got);

			if (ok != (r.n > 0)) {
				st->mismatches++;
			} else if (ok) {
				want = ref_pop(&r);
				if (!ev_equal(&got, &want))
					st->mismatches++;
				if (got.time == prev_time)
					st->equal_time_pops++;
				prev_time = now = got.time;
				st->pops++;
				if (r.n == 0 && now > (1ull << 62)) {
					/* far out after big jumps: start over at 0 */
					eventq_destroy(q);
					q = eventq_create();
					if (!q)
						abort();
					now = prev_time = 0;
					st->restarts++;
				}
			}
		}
		if (eventq_len(q) != r.n)
			st->mismatches++;
		if (eventq_peek_time(q, &t) != (r.n > 0) || (r.n && t != r.h[0].time))
			st->mismatches++;
		if (op % 4096 == 0 && !invariants_hold(q))
			bad_invariant = 1;
	}
	while (r.n) {           /* the tail must come out in order too */
		struct sim_event got, want = ref_pop(&r);

		if (!eventq_pop(q, &got) || !ev_equal(&got, &want))
			st->mismatches++;
	}
	if (bad_invariant || eventq_len(q) != 0)
		st->mismatches++;
	st->ops = ops;
	fail_one_in = 0;
	eventq_destroy(q);
	free(r.h);
}

TEST(random_operations_match_a_reference_heap_on_time_then_seq)
{
	uint64_t seed, ops = 0, equal = 0, pops = 0, max_len = 0;
	struct run_stats st;

	alloc_reset();
	for (seed = 1; seed <= 8; seed++) {
		random_run(seed, 500000, 0, &st);
		CHECK_EQ_U64(st.mismatches, 0);
		CHECK_EQ_U64(st.refused, 0);
		ops += st.ops;
		pops += st.pops;
		equal += st.equal_time_pops;
		if (st.max_len > max_len)
			max_len = st.max_len;
	}
	/* the runs really covered millions of operations, floods of ties and deep queues */
	CHECK(ops >= 4000000);
	CHECK(pops >= 1000000);
	CHECK(equal >= pops / 10);
	CHECK(max_len >= 100000);
}

TEST(random_operations_stay_exact_when_allocations_fail)
{
	uint64_t seed, refused = 0, pushes = 0;
	struct run_stats st;

	alloc_reset();
	for (seed = 11; seed <= 14; seed++) {
		random_run(seed, 300000, 50, &st);
		CHECK_EQ_U64(st.mismatches, 0);
		refused += st.refused;
		pushes += st.pushes;
	}
	CHECK(refused > 0);
	CHECK(pushes > refused);
	CHECK(alloc_refused > 0);
	alloc_reset();
}

TEST(pop_is_exact_when_refill_cannot_allocate)
{
	struct eventq *q = eventq_create();
	struct ref r = { 0 };
	struct sim_event ev;
	uint64_t i, mism = 0;

	alloc_reset();
	/* all in one top bucket (times >= 2^63, last = 0); the now heap has no memory yet */
	for (i = 0; i < 3000; i++) {    /* about six events a time: the scan must keep nmin */
		ev = make_event((1ull << 63) + (scramble(i) % 500), scramble(i + 99));
		CHECK(eventq_push(q, &ev) == 0);
		ref_push(&r, &ev);
	}
	fail_all = 1;
	for (i = 0; i < 1000; i++) {
		struct sim_event want = ref_pop(&r);

		if (!eventq_pop(q, &ev) || !ev_equal(&ev, &want) || !invariants_hold(q))
			mism++;
	}
	CHECK(alloc_refused > 0);
	ev = make_event((1ull << 63) + 100000, 1);     /* a push that needs no memory */
	CHECK(eventq_push(q, &ev) == 0);
	ref_push(&r, &ev);
	fail_all = 0;           /* memory is back: refills work again */
	while (r.n) {
		struct sim_event want = ref_pop(&r);

		if (!eventq_pop(q, &ev) || !ev_equal(&ev, &want))
			mism++;
	}
	CHECK_EQ_U64(mism, 0);
	CHECK(!eventq_pop(q, &ev));
	eventq_destroy(q);
	free(r.h);
	alloc_reset();
}

TEST(failed_push_leaves_the_queue_unchanged)
{
	struct eventq *q = eventq_create();
	struct sim_event ev;
	uint64_t i, t;

	alloc_reset();
	fail_all = 1;
	ev = make_event(10, 1);
	CHECK(eventq_push(q, &ev) == -1);
	CHECK_EQ_U64(eventq_len(q), 0);
	CHECK(!eventq_peek_time(q, &t));
	fail_all = 0;
	for (i = 0; i < NOW_MIN_CAP; i++) {     /* fills the now heap's first array exactly */
		ev = make_event(0, 100 - i);
		CHECK(eventq_push(q, &ev) == 0);
	}
	fail_all = 1;
	ev = make_event(0, 1);
	CHECK(eventq_push(q, &ev) == -1);
	CHECK_EQ_U64(eventq_len(q), NOW_MIN_CAP);
	CHECK(invariants_hold(q));
	fail_all = 0;
	CHECK(eventq_pop(q, &ev));
	CHECK_EQ_U64(ev.seq, 100 - NOW_MIN_CAP + 1);
	eventq_destroy(q);
	alloc_reset();
}

/* The classic hold model: memory settles at the peak pending count and stays there. */
TEST(memory_stays_bounded_in_a_long_hold_run)
{
	struct eventq *q = eventq_create();
	const uint64_t n = 1000;
	uint64_t i, seq = 0, bytes_warm = 0, calls_warm = 0, order_errors = 0, prev = 0;
	struct sim_event ev;

	alloc_reset();
	rng_state = 7;
	for (i = 0; i < n; i++) {
		ev = make_event(rng() % 2000000, ++seq);
		CHECK(eventq_push(q, &ev) == 0);
	}
	for (i = 0; i < 2000000; i++) {
		if (!eventq_pop(q, &ev) || ev.time < prev)
			order_errors++;
		prev = ev.time;
		/* roughly exponential, mean ~1e6: a geometric number of halvings of a uniform */
		ev = make_event(ev.time + (rng() % 2000000 >> (rng() % 4)), ++seq);
		if (eventq_push(q, &ev))
			order_errors++;
		if (i == 200000) {
			bytes_warm = footprint(q);
			calls_warm = alloc_calls;
		}
	}
	CHECK_EQ_U64(order_errors, 0);
	CHECK_EQ_U64(eventq_len(q), n);
	/*
	 * after warm-up nothing more is allocated, though the clock crossed many multiples of
	 * large powers of two (each crossing puts the pending events beyond it into a bucket
	 * of their own), and the footprint is the events' chunks plus the fixed reserve
	 */
	CHECK(prev > (1ull << 29));
	CHECK_EQ_U64(footprint(q), bytes_warm);
	CHECK_EQ_U64(alloc_calls, calls_warm);
	CHECK(footprint(q) <= pool_need(n) * sizeof(struct eventq_chunk) +
			      64 * sizeof(struct sim_event));
	eventq_destroy(q);
}

int main(void)
{
	return test_main();
}
