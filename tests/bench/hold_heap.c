/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/hold_heap.c — hold model on a bare binary heap of (time, seq) keys: the
 * baseline.  A 1-based array, pop = move the last key into the root's hole and sift it down,
 * push = sift up; no payload, no function calls, no allocation in the loop.
 */
#include "hold.h"

struct key {
	uint64_t time, seq;
};

static inline int key_less(struct key a, struct key b)
{
	return a.time < b.time || (a.time == b.time && a.seq < b.seq);
}

static inline void heap_push(struct key *h, uint64_t *n, struct key x)
{
	uint64_t i = ++*n;

	while (i > 1 && key_less(x, h[i / 2])) {
		h[i] = h[i / 2];
		i /= 2;
	}
	h[i] = x;
}

static inline struct key heap_pop(struct key *h, uint64_t *n)
{
	struct key top = h[1], x = h[(*n)--];
	uint64_t i = 1, c, m = *n;

	while ((c = 2 * i) <= m) {
		if (c < m && key_less(h[c + 1], h[c]))
			c++;
		if (!key_less(h[c], x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
	return top;
}

int main(int argc, char **argv)
{
	struct hold_state st = { 0 };
	struct key *h, e = { 0, 0 };
	uint64_t n = 0, seq = 0, i;
	unsigned int k = 0;

	hold_setup(argc, argv, &st.cfg);
	h = malloc((st.cfg.n + 2) * sizeof(*h));
	if (!h)
		return 1;
	for (i = 0; i < st.cfg.n; i++)
		heap_push(h, &n, (struct key){ hold_incr[k++ % HOLD_TABLE], seq++ });
	do {
		e = heap_pop(h, &n);
		heap_push(h, &n, (struct key){ e.time + hold_incr[k++ % HOLD_TABLE], seq++ });
	} while (!hold_tick(&st));
	hold_report(&st, e.time);
	free(h);
	return 0;
}
