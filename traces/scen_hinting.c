/* SPDX-License-Identifier: MIT */
/*
 * traces/scen_hinting.c — the synthetic scenario of seed 004 (guest page hinting).
 *
 *   churn  `guests` guests of `guest_mib` MiB each allocate and free memory.  Guest i wants
 *          target_i(t) = cap x (low + (peak - low) x tri(t / period + i / guests)) pages in
 *          use, tri() a triangle wave between 0 and 1: the guests take turns at their peak,
 *          so every guest touches most of its memory while the sum in use stays near
 *          guests x cap x (low + peak) / 2.  With the defaults that is ~512 MiB in use out
 *          of 1 GiB of guest memory, of which 767 MiB gets touched: more than the hinting
 *          driver's default host memory (640 MiB) — what is free in one guest must make room
 *          for another, by swap or by hint.
 *
 * Allocations arrive per guest as a Poisson process whose rate follows the target
 * (rate = target / (mean lifetime x mean block pages), so the number in use tracks it as in
 * an M/G/inf queue); each lives an exponential time of mean life_ms (GSL), runs on a uniform
 * random vCPU, and has order k with probability proportional to 4^-k up to max_order
 * (order 0: 75 % with max_order 3).  It is touched `touches` times (page_fault, write) at
 * uniform random moments of its life, on a random page of the block, and freed at its end on
 * a random vCPU.
 *
 * The guest's page allocator is a buddy allocator without coalescing: one LIFO stack of free
 * blocks per order (recently freed pages are reused first, as with Linux's per-CPU lists), a
 * larger free block is split when an order runs dry, and untouched memory is taken from the
 * bottom up.  An allocation that finds no block of its order is not emitted (the guest is
 * out of memory for it); `memsim trace info` shows how many allocations the trace holds.
 *
 * Records: domain_create per guest at t = 0 (arg = vcpus); page_alloc / page_fault / page_free
 * as above; domain_destroy per guest at the end of `duration_ms` (blocks still live are
 * released by it).  Memory: the pending frees and touches (live state), not the trace length.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "scenarios.h"

enum {
	P_GUESTS, P_GUEST_MIB, P_VCPUS, P_DURATION_MS, P_PERIOD_MS, P_LIFE_MS, P_PEAK_PCT,
	P_LOW_PCT, P_TOUCHES, P_MAX_ORDER
};

static const struct scenario_param churn_params[] = {
	[P_GUESTS] = { "guests", 4, 1, 64, "guests, taking turns at their peak" },
	[P_GUEST_MIB] = { "guest_mib", 256, 1, 65536, "memory of each guest (MiB)" },
	[P_VCPUS] = { "vcpus", 2, 1, 64, "vCPUs per guest (allocations and frees on random ones)" },
	[P_DURATION_MS] = { "duration_ms", 4000, 1, 3600000, "trace length (ms)" },
	[P_PERIOD_MS] = { "period_ms", 4000, 1, 3600000, "period of each guest's load cycle (ms)" },
	[P_LIFE_MS] = { "life_ms", 500, 1, 3600000, "mean lifetime of an allocation (ms, exponential)" },
	[P_PEAK_PCT] = { "peak_pct", 90, 1, 100, "memory in use at a guest's peak (% of guest_mib)" },
	[P_LOW_PCT] = { "low_pct", 10, 0, 100, "memory in use at a guest's trough (%)" },
	[P_TOUCHES] = { "touches", 1, 0, 64, "touches (page_fault records) per allocation, during its life" },
	[P_MAX_ORDER] = { "max_order", 3, 0, 10, "largest block order; P(order k) ~ 4^-k" },
	{ NULL, 0, 0, 0, NULL }
};

enum ev_kind { EV_FREE = 0, EV_TOUCH = 1 };

struct pend {
	uint64_t t, seq, gfn;
	uint32_t guest, cpu;
	uint8_t kind, order;
};

struct stack {
	uint64_t *v;
	size_t n, cap;
};

struct cguest {
	uint64_t next_arrival;        /* ns */
	uint64_t bump;                /* first never-used gfn */
	struct stack free[11];        /* LIFO free blocks per order */
};

struct churn {
	struct rec_source src;
	gsl_rng *rng;
	uint64_t guests, cap_pages, vcpus, duration_ns, period_ns, life_ns, touches;
	unsigned max_order;
	double peak, low, mean_pages, order_w[11], order_wsum;
	struct cguest *g;
	struct pend *heap;
	size_t nheap, cap_heap;
	uint64_t seq;
	uint64_t created, destroyed;  /* guests announced / retired */
	bool failed;
};

/* ---- helpers ---------------------------------------------------------------------------- */

static int stack_push(struct stack *s, uint64_t v)
{
	if (s->n == s->cap) {
		size_t n = s->cap ? s->cap * 2 : 256;
		uint64_t *nv = realloc(s->v, n * sizeof(*nv));

		if (!nv)
			return -1;
		s->v = nv;
		s->cap = n;
	}
	s->v[s->n++] = v;
	return 0;
}

static bool pend_less(const struct pend *a, const struct pend *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int heap_push(struct churn *c, struct pend p)
{
	size_t i;

	if (c->nheap == c->cap_heap) {
		size_t n = c->cap_heap ? c->cap_heap * 2 : 1024;
		struct pend *nh = realloc(c->heap, n * sizeof(*nh));

		if (!nh)
			return -1;
		c->heap = nh;
		c->cap_heap = n;
	}
	p.seq = c->seq++;
	i = c->nheap++;
	while (i && pend_less(&p, &c->heap[(i - 1) / 2])) {
		c->heap[i] = c->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	c->heap[i] = p;
	return 0;
}

static struct pend heap_pop(struct churn *c)
{
	struct pend top = c->heap[0], last = c->heap[--c->nheap];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < c->nheap && pend_less(&c->heap[l], &last))
			m = l;
		if (l + 1 < c->nheap && pend_less(&c->heap[l + 1], m == i ? &last : &c->heap[l]))
			m = l + 1;
		if (m == i)
			break;
		c->heap[i] = c->heap[m];
		i = m;
	}
	if (c->nheap)
		c->heap[i] = last;
	return top;
}

static double tri(double x)
{
	double f = x - floor(x);

	return 1.0 - fabs(2.0 * f - 1.0);
}

/* Allocations per ns guest i wants at time t. */
static double rate(const struct churn *c, uint64_t i, uint64_t t)
{
	double phase = (double)t / (double)c->period_ns + (double)i / (double)c->guests;
	double target = (double)c->cap_pages * (c->low + (c->peak - c->low) * tri(phase));

	return target / ((double)c->life_ns * c->mean_pages);
}

static void schedule_arrival(struct churn *c, uint64_t i, uint64_t now)
{
	double r = rate(c, i, now);
	/* a trough of 0 % would stop arrivals for good: look again a mean lifetime later */
	double dt = r > 0 ? gsl_ran_exponential(c->rng, 1.0 / r) : (double)c->life_ns;

	c->g[i].next_arrival = now + (uint64_t)dt + 1;
}

static unsigned draw_order(struct churn *c)
{
	double u = gsl_rng_uniform(c->rng) * c->order_wsum;
	unsigned k;

	for (k = 0; k < c->max_order; k++) {
		if (u < c->order_w[k])
			return k;
		u -= c->order_w[k];
	}
	return c->max_order;
}

/* A block of 2^order pages for guest i: its gfn, or UINT64_MAX if none is left. */
static uint64_t guest_alloc(struct churn *c, struct cguest *g, unsigned order)
{
	unsigned j;

	if (g->free[order].n)
		return g->free[order].v[--g->free[order].n];
	for (j = order + 1; j <= c->max_order; j++) {
		if (g->free[j].n) {
			uint64_t gfn = g->free[j].v[--g->free[j].n];

			/* split: the upper halves go back, order j-1 down to order */
			while (j > order) {
				j--;
				if (stack_push(&g->free[j], gfn + (1ULL << j)))
					c->failed = true;
			}
			return gfn;
		}
	}
	/* untouched memory, aligned to the block size; the gap goes to the order-0 stack */
	while (g->bump & ((1ULL << order) - 1)) {
		if (g->bump >= c->cap_pages)
			return UINT64_MAX;
		if (stack_push(&g->free[0], g->bump++))
			c->failed = true;
	}
	if (g->bump + (1ULL << order) > c->cap_pages)
		return UINT64_MAX;
	g->bump += 1ULL << order;
	return g->bump - (1ULL << order);
}

/* ---- the record stream ------------------------------------------------------------------ */

static int churn_next(struct rec_source *src, struct trace_rec *r)
{
	struct churn *c = (struct churn *)src;

	memset(r, 0, sizeof(*r));
	if (c->failed) {
		snprintf(src->err, sizeof(src->err), "scenario churn: out of memory");
		return -1;
	}
	if (c->created < c->guests) {
		r->type = TR_DOMAIN_CREATE;
		r->domain = (uint32_t)++c->created;
		r->arg = c->vcpus;
		return 1;
	}
	for (;;) {
		uint64_t i, best = UINT64_MAX, bt = UINT64_MAX;

		for (i = 0; i < c->guests; i++)
			if (c->g[i].next_arrival < bt) {
				bt = c->g[i].next_arrival;
				best = i;
			}
		if (c->nheap && c->heap[0].t <= bt && c->heap[0].t < c->duration_ns) {
			struct pend p = heap_pop(c);

			r->time_ns = p.t;
			r->domain = p.guest + 1;
			r->vcpu = p.cpu;
			if (p.kind == EV_FREE) {
				r->type = TR_PAGE_FREE;
				r->frame = p.gfn;
				r->arg = p.order;
				if (stack_push(&c->g[p.guest].free[p.order], p.gfn))
					c->failed = true;
			} else {
				r->type = TR_PAGE_FAULT;
				r->frame = p.gfn;
				r->arg = 1;
			}
			return 1;
		}
		if (bt < c->duration_ns) {
			struct cguest *g = &c->g[best];
			unsigned order = draw_order(c), k;
			uint64_t gfn = guest_alloc(c, g, order);
			uint64_t life = (uint64_t)gsl_ran_exponential(c->rng, (double)c->life_ns) + 1;
			uint32_t cpu = (uint32_t)gsl_rng_uniform_int(c->rng, (unsigned long)c->vcpus);

			schedule_arrival(c, best, bt);
			if (gfn == UINT64_MAX)
				continue;            /* the guest is out of memory: nothing happens */
			for (k = 0; k < c->touches; k++) {
				struct pend t = {
					.t = bt + (uint64_t)(gsl_rng_uniform(c->rng) * (double)life),
					.gfn = gfn + gsl_rng_uniform_int(c->rng, 1UL << order),
					.guest = (uint32_t)best, .cpu = cpu, .kind = EV_TOUCH,
				};

				if (heap_push(c, t))
					c->failed = true;
			}
			{
				struct pend f = {
					.t = bt + life, .gfn = gfn, .guest = (uint32_t)best,
					.cpu = (uint32_t)gsl_rng_uniform_int(c->rng, (unsigned long)c->vcpus),
					.kind = EV_FREE, .order = (uint8_t)order,
				};

				if (heap_push(c, f))
					c->failed = true;
			}
			r->time_ns = bt;
			r->domain = (uint32_t)best + 1;
			r->vcpu = cpu;
			r->type = TR_PAGE_ALLOC;
			r->frame = gfn;
			r->arg = order;
			return 1;
		}
		/* the end: every guest is destroyed; what is still live goes with it */
		if (c->destroyed < c->guests) {
			r->time_ns = c->duration_ns;
			r->type = TR_DOMAIN_DESTROY;
			r->domain = (uint32_t)++c->destroyed;
			return 1;
		}
		return 0;
	}
}

static void churn_close(struct rec_source *src)
{
	struct churn *c = (struct churn *)src;
	uint64_t i;
	unsigned k;

	if (c->g)
		for (i = 0; i < c->guests; i++)
			for (k = 0; k < sizeof(c->g[i].free) / sizeof(c->g[i].free[0]); k++)
				free(c->g[i].free[k].v);
	free(c->g);
	free(c->heap);
	if (c->rng)
		gsl_rng_free(c->rng);
	free(c);
}

static struct rec_source *churn_open(const uint64_t *v, uint64_t seed, char *err, size_t errlen)
{
	struct churn *c = calloc(1, sizeof(*c));
	uint64_t i;
	unsigned k;
	double pages = 0;

	if (v[P_LOW_PCT] > v[P_PEAK_PCT]) {
		snprintf(err, errlen, "scenario churn: --set low_pct=%" PRIu64 ": above peak_pct (%"
			 PRIu64 ")", v[P_LOW_PCT], v[P_PEAK_PCT]);
		free(c);
		return NULL;
	}
	if (!c || !(c->rng = gsl_rng_alloc(gsl_rng_mt19937)) ||
	    !(c->g = calloc(v[P_GUESTS], sizeof(*c->g)))) {
		if (c && c->rng)
			gsl_rng_free(c->rng);
		free(c);
		snprintf(err, errlen, "scenario churn: out of memory");
		return NULL;
	}
	/* GSL keeps only the low 32 bits of a seed: fold the high half in */
	gsl_rng_set(c->rng, (unsigned long)((seed ^ (seed >> 32)) & 0xffffffffu));
	c->src.next = churn_next;
	c->src.close = churn_close;
	c->guests = v[P_GUESTS];
	c->cap_pages = v[P_GUEST_MIB] * 256;
	c->vcpus = v[P_VCPUS];
	c->duration_ns = v[P_DURATION_MS] * 1000000;
	c->period_ns = v[P_PERIOD_MS] * 1000000;
	c->life_ns = v[P_LIFE_MS] * 1000000;
	c->touches = v[P_TOUCHES];
	c->max_order = (unsigned)v[P_MAX_ORDER];
	c->peak = (double)v[P_PEAK_PCT] / 100.0;
	c->low = (double)v[P_LOW_PCT] / 100.0;
	for (k = 0; k <= c->max_order; k++) {
		c->order_w[k] = ldexp(1.0, -2 * (int)k);
		c->order_wsum += c->order_w[k];
		pages += c->order_w[k] * (double)(1u << k);
	}
	c->mean_pages = pages / c->order_wsum;
	for (i = 0; i < c->guests; i++)
		schedule_arrival(c, i, 0);
	snprintf(c->src.hdr.workload, sizeof(c->src.hdr.workload),
		 "seed 004 churn: %" PRIu64 " guests x %" PRIu64 " MiB taking turns at %" PRIu64
		 " %% in use", v[P_GUESTS], v[P_GUEST_MIB], v[P_PEAK_PCT]);
	return &c->src;
}

/*
 * The hinting model's state follows the guests' pages: measured state_bytes_peak 263304 B for
 * guests=2 guest_mib=256 duration_ms=1000 (131072 guest pages, policy lazy; none 83044 B for
 * a quarter of the pages), i.e. 2.0-2.5 B per guest page; the estimate takes 2 B.
 */
static uint64_t churn_estimate(const uint64_t *v, const char *model, char *what, size_t whatlen)
{
	uint64_t pages = v[P_GUESTS] * v[P_GUEST_MIB] * 256;   /* at most 2^30 */

	if (strcmp(model, "hinting"))
		return 0;
	snprintf(what, whatlen, "%" PRIu64 " guest pages x 2 B", pages);
	return pages * 2;
}

const struct scenario scenario_churn = {
	.name = "churn",
	.doc = "guests allocating and freeing in turns, more guest memory touched than the host has (seed 004)",
	.params = churn_params,
	.open = churn_open,
	.mem_estimate = churn_estimate,
};
