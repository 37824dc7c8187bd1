/* SPDX-License-Identifier: MIT */
/* sim/hist.c — log-linear histogram (see hist.h). */
#include <string.h>
#include "hist.h"

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static unsigned bucket_of(uint64_t v)
{
	unsigned e;

	if (v < (1ULL << HIST_SUB_BITS))
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v);                 /* e >= HIST_SUB_BITS */
	return ((e - HIST_SUB_BITS + 1) << HIST_SUB_BITS) |
	       (unsigned)((v >> (e - HIST_SUB_BITS)) & ((1u << HIST_SUB_BITS) - 1));
}

static uint64_t bucket_upper(unsigned b)
{
	unsigned row = b >> HIST_SUB_BITS, col = b & ((1u << HIST_SUB_BITS) - 1);
	unsigned shift;

	if (row == 0)
		return col;
	shift = row - 1;
	/* values in the bucket: ((2^SUB + col) << shift) ... +(1 << shift) - 1 */
	return ((((uint64_t)1 << HIST_SUB_BITS) + col) << shift) + (((uint64_t)1 << shift) - 1);
}

void hist_add(struct hist *h, uint64_t v)
{
	h->b[bucket_of(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
	if (v < h->min)
		h->min = v;
	h->sum_lo = (h->sum_lo + v < h->sum_lo) ? UINT64_MAX : h->sum_lo + v;
}

uint64_t hist_quantile(const struct hist *h, unsigned permille)
{
	uint64_t rank, seen = 0;
	unsigned i;

	if (!h->count)
		return 0;
	/* nearest-rank: the smallest value with at least q of the samples at or below it */
	rank = (h->count * permille + 999) / 1000;
	if (rank == 0)
		rank = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t u = bucket_upper(i);

			return u > h->max ? h->max : u;
		}
	}
	return h->max;
}
