/* SPDX-License-Identifier: MIT */
/*
 * sim/hist.h — latency histogram with bounded relative error, for percentiles.
 *
 * Values below 2^HIST_SUB_BITS are kept exactly; above, a value falls in a bucket of width
 * 2^(e - HIST_SUB_BITS) where e is its highest set bit, so a reported percentile is within
 * 1/2^HIST_SUB_BITS (0.8 %) of the true sample.  Memory is fixed (no per-sample storage), and
 * results are integers: deterministic on every machine.
 */
#ifndef MEMSIM_SIM_HIST_H
#define MEMSIM_SIM_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) << HIST_SUB_BITS)

struct hist {
	uint64_t count;
	uint64_t max;
	uint64_t min;
	uint64_t sum_lo;           /* sum, saturating */
	uint64_t b[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t v);
/* The q-th quantile (q in per-mille: 500 = median, 990 = p99); 0 if empty.
 * Returns the upper bound of the bucket holding that rank, capped at max. */
uint64_t hist_quantile(const struct hist *h, unsigned permille);

#endif
