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

/* ---- page-cache: a guest reading files through its page cache (volatile pages) ------------ */
/*
 *   page-cache  `guests` guests of `guest_mib` MiB each read files through their page cache
 *          while the host is short of memory.  Each guest has a data set of `data_mib` MiB
 *          (file blocks 0 .. data pages - 1) and two readers:
 *            - a scan reads the data set block after block, wrapping, at `scan_mib_s` (a
 *              backup, a search, a build: data read once per pass);
 *            - a service re-reads its hot files — the first `hot_mib` of the data set — at
 *              `hot_mib_s`, in runs of `run_pages` consecutive blocks from a uniform random
 *              start; `write_pct` % of those page accesses write the page (it becomes dirty).
 *            - files read once and then deleted (a spool, a build's intermediate files, the
 *              recorder's dd-pagecache workload): `tmp_kib` each, at `tmp_mib_s`; when one
 *              is read its pages are freed at once, while they are young (pending).
 *          Processes hold `anon_pct` % of the guest's memory as anonymous pages, allocated
 *          and written in the first 100 ms, then `anon_churn_s` of them per second are freed
 *          and another page allocated and written in their place.
 *   The guest's page cache is an LRU over the pages it holds: reading a block that is not
 *   cached takes a free page, or when there is none evicts the least recently used cached
 *   page (page_free: removed from the cache and freed); every access moves the page to the
 *   head.  The free pages are a LIFO stack (recently freed first), untouched memory bottom up.
 *
 * Records (docs/models/hinting.md, "Trace records"): a block read into the page cache is
 * page_alloc (order 0) followed by page_write with arg = 1 + block (arg != 0: "filled from a
 * file", the page joins the page cache clean); a re-read of a cached block is page_fault with
 * arg 0, a write page_write with arg 0; an eviction is page_free of the cached page; anonymous
 * pages are page_alloc + page_write (arg 0) and page_free.  domain_create at 0, domain_destroy
 * at the end.  Memory: a few arrays per guest sized by its memory and data set.
 */

enum {
	C_GUESTS, C_GUEST_MIB, C_VCPUS, C_DURATION_MS, C_DATA_MIB, C_SCAN_MIB_S, C_HOT_MIB,
	C_HOT_MIB_S, C_RUN_PAGES, C_WRITE_PCT, C_ANON_PCT, C_ANON_CHURN_S, C_TMP_MIB_S, C_TMP_KIB
};

/* Defaults: the same four 256 MiB guests on the hinting driver's 640 MiB host as `churn`; a
 * disk of the seed's time streams ~64 MiB/s; the service re-reads a hot set of 32 MiB at a
 * quarter of the scan's rate (each hot page every 2 s on average), in 16-page (64 KiB) runs,
 * writing 5 % of what it touches; processes hold a quarter of the guest's memory; a 4 MiB file
 * (the size of dd-pagecache's) is read once and deleted every second. */
static const struct scenario_param pc_params[] = {
	[C_GUESTS] = { "guests", 4, 1, 64, "guests" },
	[C_GUEST_MIB] = { "guest_mib", 256, 1, 65536, "memory of each guest (MiB)" },
	[C_VCPUS] = { "vcpus", 2, 1, 64, "vCPUs per guest (records on random ones)" },
	[C_DURATION_MS] = { "duration_ms", 4000, 1, 3600000, "trace length (ms)" },
	[C_DATA_MIB] = { "data_mib", 1024, 1, 1048576, "data set each guest scans (MiB)" },
	[C_SCAN_MIB_S] = { "scan_mib_s", 64, 0, 65536, "scan read rate per guest (MiB/s)" },
	[C_HOT_MIB] = { "hot_mib", 32, 1, 65536, "hot files re-read, the start of the data set (MiB)" },
	[C_HOT_MIB_S] = { "hot_mib_s", 16, 0, 65536, "re-read rate of the hot files per guest (MiB/s)" },
	[C_RUN_PAGES] = { "run_pages", 16, 1, 65536, "pages per hot re-read (consecutive blocks)" },
	[C_WRITE_PCT] = { "write_pct", 5, 0, 100, "hot page accesses that write the page (%)" },
	[C_ANON_PCT] = { "anon_pct", 25, 0, 90, "anonymous memory of the processes (% of the guest)" },
	[C_ANON_CHURN_S] = { "anon_churn_s", 2048, 0, 10000000, "anonymous pages freed and reallocated per second per guest" },
	[C_TMP_MIB_S] = { "tmp_mib_s", 4, 0, 65536, "rate of files read once and deleted (MiB/s per guest)" },
	[C_TMP_KIB] = { "tmp_kib", 4096, 4, 16777216, "size of each such file (KiB)" },
	{ NULL, 0, 0, 0, NULL }
};

#define PC_NONE UINT32_MAX
#define PC_ANON_FILL_NS 100000000ULL   /* anonymous memory is allocated in the first 100 ms */

enum pc_stream { PS_SCAN, PS_HOT, PS_ANON, PS_TMP, PS__N };

struct pcguest {
	uint64_t next[PS__N];          /* ns of each stream's next step; UINT64_MAX: none */
	uint64_t period[PS__N];        /* ns between steps */
	uint32_t *blk2gfn, *gfn2blk;   /* page cache: block -> gfn, gfn -> block (PC_NONE) */
	uint32_t *prev, *next_lru;     /* LRU over cached gfns: head = most recent */
	uint32_t head, tail;
	uint32_t *freev;               /* free gfns, LIFO */
	uint32_t nfree, bump;
	uint32_t *anon;                /* anonymous gfns */
	uint32_t nanon, anon_target;
	uint64_t scan_pos;             /* next block of the scan */
	uint64_t hot_pos, hot_left;    /* the hot run in progress */
	uint32_t *tmp;                 /* pages of the file read once, deleted when read */
	uint32_t ntmp;
	bool deleting;
	uint64_t tmp_serial;           /* file blocks of these files, after the data set */
};

struct pcache {
	struct rec_source src;
	gsl_rng *rng;
	uint64_t guests, cap, data, hot, run, vcpus, duration_ns, write_pct, tmp_pages;
	struct pcguest *g;
	struct trace_rec q[4];         /* records of the current step, in order */
	unsigned nq, iq;
	uint64_t created, destroyed;
	bool failed;
};

static void lru_unlink(struct pcguest *g, uint32_t x)
{
	if (g->prev[x] != PC_NONE)
		g->next_lru[g->prev[x]] = g->next_lru[x];
	else
		g->head = g->next_lru[x];
	if (g->next_lru[x] != PC_NONE)
		g->prev[g->next_lru[x]] = g->prev[x];
	else
		g->tail = g->prev[x];
}

static void lru_push(struct pcguest *g, uint32_t x)
{
	g->prev[x] = PC_NONE;
	g->next_lru[x] = g->head;
	if (g->head != PC_NONE)
		g->prev[g->head] = x;
	else
		g->tail = x;
	g->head = x;
}

static void pc_emit(struct pcache *c, uint64_t t, uint32_t dom, uint16_t type, uint64_t frame,
		    uint64_t arg)
{
	struct trace_rec *r = &c->q[c->nq++];

	memset(r, 0, sizeof(*r));
	r->time_ns = t;
	r->domain = dom;
	r->vcpu = (uint32_t)gsl_rng_uniform_int(c->rng, (unsigned long)c->vcpus);
	r->type = type;
	r->frame = frame;
	r->arg = arg;
}

/* A free page for guest gi: from the stack, untouched memory, or by evicting the LRU tail. */
static uint32_t pc_take_page(struct pcache *c, uint64_t gi, uint64_t t)
{
	struct pcguest *g = &c->g[gi];
	uint32_t x;

	if (g->nfree)
		return g->freev[--g->nfree];
	if (g->bump < c->cap)
		return g->bump++;
	x = g->tail;
	if (x == PC_NONE)
		return PC_NONE;            /* all anonymous: nothing to evict */
	lru_unlink(g, x);
	g->blk2gfn[g->gfn2blk[x]] = PC_NONE;
	g->gfn2blk[x] = PC_NONE;
	pc_emit(c, t, (uint32_t)gi + 1, TR_PAGE_FREE, x, 0);
	return x;
}

/* The guest reads block b (possibly writing it): a re-read of a cached page, or a fill. */
static void pc_read(struct pcache *c, uint64_t gi, uint64_t t, uint64_t b, bool write)
{
	struct pcguest *g = &c->g[gi];
	uint32_t x = g->blk2gfn[b];

	if (x != PC_NONE) {
		lru_unlink(g, x);
		lru_push(g, x);
		if (write)
			pc_emit(c, t, (uint32_t)gi + 1, TR_PAGE_WRITE, x, 0);
		else
			pc_emit(c, t, (uint32_t)gi + 1, TR_PAGE_FAULT, x, 0);
		return;
	}
	x = pc_take_page(c, gi, t);
	if (x == PC_NONE)
		return;
	g->blk2gfn[b] = x;
	g->gfn2blk[x] = (uint32_t)b;
	lru_push(g, x);
	pc_emit(c, t, (uint32_t)gi + 1, TR_PAGE_ALLOC, x, 0);
	pc_emit(c, t, (uint32_t)gi + 1, TR_PAGE_WRITE, x, 1 + b);
	if (write)
		pc_emit(c, t, (uint32_t)gi + 1, TR_PAGE_WRITE, x, 0);
}

static void pc_anon(struct pcache *c, uint64_t gi, uint64_t t)
{
	struct pcguest *g = &c->g[gi];
	bool churn = g->nanon >= g->anon_target && g->nanon;
	uint32_t k = churn ? (uint32_t)gsl_rng_uniform_int(c->rng, g->nanon) : 0;
	uint32_t x = pc_take_page(c, gi, t);

	if (x == PC_NONE)
		return;
	pc_emit(c, t, (uint32_t)gi + 1, TR_PAGE_ALLOC, x, 0);
	pc_emit(c, t, (uint32_t)gi + 1, TR_PAGE_WRITE, x, 0);
	if (churn) {
		/* a process frees a page in place of the new one: it goes on the free stack */
		uint32_t old = g->anon[k];

		g->anon[k] = x;
		g->freev[g->nfree++] = old;
		pc_emit(c, t, (uint32_t)gi + 1, TR_PAGE_FREE, old, 0);
	} else {
		g->anon[g->nanon++] = x;
	}
}

/* Runs the guest's stream that is due first; fills c->q. */
static void pc_step(struct pcache *c, uint64_t gi, enum pc_stream k)
{
	struct pcguest *g = &c->g[gi];
	uint64_t t = g->next[k];

	switch (k) {
	case PS_SCAN:
		pc_read(c, gi, t, g->scan_pos, false);
		g->scan_pos = (g->scan_pos + 1) % c->data;
		break;
	case PS_HOT:
		if (!g->hot_left) {
			g->hot_pos = gsl_rng_uniform_int(c->rng, (unsigned long)c->hot);
			g->hot_left = c->run;
		}
		pc_read(c, gi, t, g->hot_pos, gsl_rng_uniform_int(c->rng, 100) < c->write_pct);
		g->hot_pos = (g->hot_pos + 1) % c->hot;
		g->hot_left--;
		break;
	case PS_TMP:
		if (g->deleting) {
			/* the file is deleted: its pages leave the cache and are freed at once */
			uint32_t x = g->tmp[--g->ntmp];

			g->freev[g->nfree++] = x;
			pc_emit(c, t, (uint32_t)gi + 1, TR_PAGE_FREE, x, 0);
			g->deleting = g->ntmp != 0;
			g->next[k] = g->deleting ? t : t + g->period[k];
			return;
		} else {
			uint32_t x = pc_take_page(c, gi, t);

			if (x != PC_NONE) {
				g->tmp[g->ntmp++] = x;
				pc_emit(c, t, (uint32_t)gi + 1, TR_PAGE_ALLOC, x, 0);
				pc_emit(c, t, (uint32_t)gi + 1, TR_PAGE_WRITE, x, 1 + c->data + g->tmp_serial++);
			}
			g->deleting = g->ntmp == c->tmp_pages;
			if (g->deleting) {
				g->next[k] = t;
				return;
			}
		}
		break;
	default:
		pc_anon(c, gi, t);
		break;
	}
	/* anonymous memory: filled quickly at first, then the churn rate */
	if (k == PS_ANON && g->nanon < g->anon_target)
		g->next[k] = t + PC_ANON_FILL_NS / (g->anon_target ? g->anon_target : 1) + 1;
	else
		g->next[k] = g->period[k] ? t + g->period[k] : UINT64_MAX;
}

static int pc_next(struct rec_source *src, struct trace_rec *r)
{
	struct pcache *c = (struct pcache *)src;

	if (c->failed) {
		snprintf(src->err, sizeof(src->err), "scenario page-cache: out of memory");
		return -1;
	}
	if (c->created < c->guests) {
		memset(r, 0, sizeof(*r));
		r->type = TR_DOMAIN_CREATE;
		r->domain = (uint32_t)++c->created;
		r->arg = c->vcpus;
		return 1;
	}
	while (c->iq == c->nq) {
		uint64_t gi, bt = UINT64_MAX, bg = 0;
		unsigned k, bk = 0;

		c->iq = c->nq = 0;
		for (gi = 0; gi < c->guests; gi++)
			for (k = 0; k < PS__N; k++)
				if (c->g[gi].next[k] < bt) {
					bt = c->g[gi].next[k];
					bg = gi;
					bk = k;
				}
		if (bt >= c->duration_ns) {
			if (c->destroyed == c->guests)
				return 0;
			memset(r, 0, sizeof(*r));
			r->time_ns = c->duration_ns;
			r->type = TR_DOMAIN_DESTROY;
			r->domain = (uint32_t)++c->destroyed;
			return 1;
		}
		pc_step(c, bg, (enum pc_stream)bk);
	}
	*r = c->q[c->iq++];
	return 1;
}

static void pc_close(struct rec_source *src)
{
	struct pcache *c = (struct pcache *)src;
	uint64_t i;

	for (i = 0; c->g && i < c->guests; i++) {
		free(c->g[i].blk2gfn);
		free(c->g[i].gfn2blk);
		free(c->g[i].prev);
		free(c->g[i].next_lru);
		free(c->g[i].freev);
		free(c->g[i].anon);
		free(c->g[i].tmp);
	}
	free(c->g);
	if (c->rng)
		gsl_rng_free(c->rng);
	free(c);
}

/* ns between steps of a stream moving `mib_s` MiB/s in 4 KiB pages (0: the stream is off). */
static uint64_t pc_period(uint64_t mib_s)
{
	return mib_s ? (1000000000ULL + mib_s * 128) / (mib_s * 256) : 0;
}

static struct rec_source *pc_open(const uint64_t *v, uint64_t seed, char *err, size_t errlen)
{
	struct pcache *c = calloc(1, sizeof(*c));
	uint64_t i;

	if (c && v[C_HOT_MIB] > v[C_DATA_MIB]) {
		snprintf(err, errlen, "scenario page-cache: --set hot_mib=%" PRIu64 ": above data_mib (%"
			 PRIu64 "): the hot files are part of the data set", v[C_HOT_MIB], v[C_DATA_MIB]);
		free(c);
		return NULL;
	}
	if (c && (v[C_GUEST_MIB] * 256 >= PC_NONE || v[C_DATA_MIB] * 256 >= PC_NONE)) {
		snprintf(err, errlen, "scenario page-cache: guest_mib and data_mib must stay below 16 TiB");
		free(c);
		return NULL;
	}
	if (!c || !(c->rng = gsl_rng_alloc(gsl_rng_mt19937)) ||
	    !(c->g = calloc(v[C_GUESTS], sizeof(*c->g))))
		goto nomem;
	gsl_rng_set(c->rng, (unsigned long)((seed ^ (seed >> 32)) & 0xffffffffu));
	c->src.next = pc_next;
	c->src.close = pc_close;
	c->guests = v[C_GUESTS];
	c->cap = v[C_GUEST_MIB] * 256;
	c->data = v[C_DATA_MIB] * 256;
	c->hot = v[C_HOT_MIB] * 256;
	c->run = v[C_RUN_PAGES];
	c->vcpus = v[C_VCPUS];
	c->duration_ns = v[C_DURATION_MS] * 1000000;
	c->write_pct = v[C_WRITE_PCT];
	c->tmp_pages = (v[C_TMP_KIB] + 3) / 4;
	if (c->tmp_pages > c->cap / 2) {
		snprintf(err, errlen, "scenario page-cache: --set tmp_kib=%" PRIu64 ": more than half "
			 "the guest's memory", v[C_TMP_KIB]);
		pc_close(&c->src);
		return NULL;
	}
	for (i = 0; i < c->guests; i++) {
		struct pcguest *g = &c->g[i];
		uint64_t k;

		g->blk2gfn = malloc(c->data * sizeof(uint32_t));
		g->gfn2blk = malloc(c->cap * sizeof(uint32_t));
		g->prev = malloc(c->cap * sizeof(uint32_t));
		g->next_lru = malloc(c->cap * sizeof(uint32_t));
		g->freev = malloc(c->cap * sizeof(uint32_t));
		g->anon = malloc(c->cap * sizeof(uint32_t));
		g->tmp = malloc(c->tmp_pages * sizeof(uint32_t));
		if (!g->blk2gfn || !g->gfn2blk || !g->prev || !g->next_lru || !g->freev || !g->anon ||
		    !g->tmp)
			goto nomem;
		memset(g->blk2gfn, 0xff, c->data * sizeof(uint32_t));
		memset(g->gfn2blk, 0xff, c->cap * sizeof(uint32_t));
		g->head = g->tail = PC_NONE;
		g->anon_target = (uint32_t)(c->cap * v[C_ANON_PCT] / 100);
		g->period[PS_SCAN] = pc_period(v[C_SCAN_MIB_S]);
		g->period[PS_HOT] = pc_period(v[C_HOT_MIB_S]);
		g->period[PS_ANON] = v[C_ANON_CHURN_S] ? 1000000000ULL / v[C_ANON_CHURN_S] : 0;
		g->period[PS_TMP] = pc_period(v[C_TMP_MIB_S]);
		/* streams start at staggered moments so the guests do not step in lockstep */
		for (k = 0; k < PS__N; k++)
			g->next[k] = g->period[k] || (k == PS_ANON && g->anon_target)
				     ? 1 + gsl_rng_uniform_int(c->rng, 1000000) : UINT64_MAX;
	}
	snprintf(c->src.hdr.workload, sizeof(c->src.hdr.workload),
		 "seed 004 page-cache: %" PRIu64 " guests x %" PRIu64 " MiB scanning %" PRIu64
		 " MiB at %" PRIu64 " MiB/s, re-reading %" PRIu64 " MiB at %" PRIu64 " MiB/s",
		 v[C_GUESTS], v[C_GUEST_MIB], v[C_DATA_MIB], v[C_SCAN_MIB_S], v[C_HOT_MIB],
		 v[C_HOT_MIB_S]);
	return &c->src;
nomem:
	if (c)
		pc_close(&c->src);
	snprintf(err, errlen, "scenario page-cache: out of memory");
	return NULL;
}

const struct scenario scenario_page_cache = {
	.name = "page-cache",
	.doc = "guests reading files through their page cache under host memory pressure: scans, hot re-reads, evictions (seed 004 volatile pages)",
	.params = pc_params,
	.open = pc_open,
};
