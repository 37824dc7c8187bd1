/* SPDX-License-Identifier: MIT */
/*
 * traces/scen_scrub.c — synthetic scenarios of seed 001 (scrubbing a dying domain's memory).
 *
 *   destroy         domain 1 is built with `mem_gb` GiB at time 0 (page_alloc records of
 *                   `order`, 1 GiB each by default) and destroyed at `destroy_at_ns`: the seed's
 *                   "xl des PV-30G" (mem_gb=30) and its "nearly 1 TB" guest (mem_gb=1024).
 *   destroy-create  the same, then domain 2 is created `create_delay_ns` after the destroy
 *                   began and asks for `new_gb` GiB in `new_order` chunks (2 MiB by default)
 *                   while domain 1's memory is still being freed and scrubbed.
 *
 * The generator keeps counters only (constant memory, however large the guest), and draws no
 * randomness: the seed only names the run.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios.h"

#define PAGES_PER_GIB 262144ULL
#define PAGES_PER_MIB 256ULL


enum { P_MEM_GB, P_MEM_MB, P_ORDER, P_DESTROY_AT, P_NEW_GB, P_NEW_MB, P_NEW_ORDER,
       P_CREATE_DELAY, P_ALLOC_GAP };

enum phase { PH_CREATE1, PH_ALLOC1, PH_DESTROY, PH_CREATE2, PH_ALLOC2, PH_DONE };

struct scrub_gen {
	struct rec_source src;
	enum phase phase;
	bool create;
	uint64_t pages1, pages2, order1, order2;
	uint64_t destroy_at, create_delay, alloc_gap;
	uint64_t left, gfn, t;
};

/* Largest order <= max whose chunk fits in `left` pages (left > 0). */
static uint64_t chunk_order(uint64_t left, uint64_t max)
{
	uint64_t o = max;

	while (o && (1ULL << o) > left)
		o--;
	return o;
}

static void emit(struct trace_rec *out, uint64_t t, uint16_t type, uint32_t dom, uint64_t frame,
		 uint64_t arg)
{
	memset(out, 0, sizeof(*out));
	out->time_ns = t;
	out->type = type;
	out->domain = dom;
	out->frame = frame;
	out->arg = arg;
}

static int gen_next(struct rec_source *src, struct trace_rec *out)
{
	struct scrub_gen *g = (struct scrub_gen *)src;
	uint64_t o;

	for (;;) {
		switch (g->phase) {
		case PH_CREATE1:
			emit(out, 0, TR_DOMAIN_CREATE, 1, 0, 1);
			g->left = g->pages1;
			g->gfn = 0;
			g->phase = PH_ALLOC1;
			return 1;
		case PH_ALLOC1:
			if (!g->left) {
				g->phase = PH_DESTROY;
				break;
			}
			o = chunk_order(g->left, g->order1);
			emit(out, 0, TR_PAGE_ALLOC, 1, g->gfn, o);
			g->gfn += 1ULL << o;
			g->left -= 1ULL << o;
			return 1;
		case PH_DESTROY:
			emit(out, g->destroy_at, TR_DOMAIN_DESTROY, 1, 0, 0);
			g->phase = g->create ? PH_CREATE2 : PH_DONE;
			return 1;
		case PH_CREATE2:
			g->t = g->destroy_at + g->create_delay;
			emit(out, g->t, TR_DOMAIN_CREATE, 2, 0, 1);
			g->left = g->pages2;
			g->gfn = 0;
			g->phase = PH_ALLOC2;
			return 1;
		case PH_ALLOC2:
			if (!g->left) {
				g->phase = PH_DONE;
				break;
			}
			o = chunk_order(g->left, g->order2);
			emit(out, g->t, TR_PAGE_ALLOC, 2, g->gfn, o);
			g->gfn += 1ULL << o;
			g->left -= 1ULL << o;
			g->t += g->alloc_gap;
			return 1;
		case PH_DONE:
			return 0;
		}
	}
}

static void gen_close(struct rec_source *src)
{
	free(src);
}

static uint64_t size_pages(uint64_t gb, uint64_t mb)
{
	return mb ? mb * PAGES_PER_MIB : gb * PAGES_PER_GIB;
}

static struct rec_source *open_common(const char *name, bool create, const uint64_t *v,
				      uint64_t seed, char *err, size_t errlen)
{
	struct scrub_gen *g = calloc(1, sizeof(*g));

	if (!g) {
		snprintf(err, errlen, "scenario %s: out of memory", name);
		return NULL;
	}
	g->src.next = gen_next;
	g->src.close = gen_close;
	g->create = create;
	g->pages1 = size_pages(v[P_MEM_GB], v[P_MEM_MB]);
	g->order1 = v[P_ORDER];
	g->destroy_at = v[P_DESTROY_AT];
	if (create) {
		g->pages2 = (v[P_NEW_GB] || v[P_NEW_MB]) ? size_pages(v[P_NEW_GB], v[P_NEW_MB])
							   : g->pages1;
		g->order2 = v[P_NEW_ORDER];
		g->create_delay = v[P_CREATE_DELAY];
		g->alloc_gap = v[P_ALLOC_GAP];
	}
	if (create) {
		/* the last record's time must fit in 64 bits (docs/security.md, 3): destroy +
		 * delay + a gap per allocation, of which there are at most pages >> order whole
		 * chunks and one per bit of the remainder */
		uint64_t allocs = (g->pages2 >> g->order2) + g->order2, last;

		if (__builtin_mul_overflow(allocs, g->alloc_gap, &last) ||
		    __builtin_add_overflow(last, g->destroy_at + g->create_delay, &last)) {
			snprintf(err, errlen, "scenario %s: time overflow: alloc_gap_ns %" PRIu64
				 " x %" PRIu64 " allocations after the destroy does not fit in 64 bits",
				 name, g->alloc_gap, allocs);
			free(g);
			return NULL;
		}
	}
	snprintf(g->src.hdr.workload, sizeof(g->src.hdr.workload),
		 "seed 001 %s: domain 1, %" PRIu64 " pages%s", name, g->pages1,
		 create ? ", then domain 2 built while it is scrubbed" : "");
	(void)seed;
	return &g->src;
}

#define COMMON_PARAMS                                                                          \
	[P_MEM_GB] = { "mem_gb", 30, 0, 65536,                                                  \
		       "GiB of the destroyed domain (seed: 30; 1024 for the ~1 TB guest)" },         \
	[P_MEM_MB] = { "mem_mb", 0, 0, 1ULL << 26,                                              \
		       "if > 0: the destroyed domain's size in MiB instead of mem_gb (small runs)" }, \
	[P_ORDER] = { "order", 18, 0, 18,                                                       \
		      "order of the domain's page_alloc records (18: 1 GiB chunks)" },              \
	[P_DESTROY_AT] = { "destroy_at_ns", 1000000, 0, 1ULL << 50,                             \
			   "time of the destroy (the domain is built at time 0)" }

static const struct scenario_param destroy_params[] = {
	COMMON_PARAMS,
	{ NULL, 0, 0, 0, NULL },
};

static const struct scenario_param destroy_create_params[] = {
	COMMON_PARAMS,
	[P_NEW_GB] = { "new_gb", 0, 0, 65536,
		       "GiB the new domain asks for (0 with new_mb 0: as much as the destroyed one)" },
	[P_NEW_MB] = { "new_mb", 0, 0, 1ULL << 26, "if > 0: the new domain's size in MiB" },
	[P_NEW_ORDER] = { "new_order", 9, 0, 18,
			  "order of the new domain's page_alloc records (9: 2 MiB chunks)" },
	[P_CREATE_DELAY] = { "create_delay_ns", 0, 0, 1ULL << 50,
			     "ns from the destroy to the new domain's creation" },
	[P_ALLOC_GAP] = { "alloc_gap_ns", 0, 0, 1ULL << 40,
			  "ns between the new domain's page_alloc records (0: asked all at once)" },
	{ NULL, 0, 0, 0, NULL },
};

static struct rec_source *destroy_open(const uint64_t *v, uint64_t seed, char *err, size_t errlen)
{
	return open_common("destroy", false, v, seed, err, errlen);
}

static struct rec_source *destroy_create_open(const uint64_t *v, uint64_t seed, char *err,
					      size_t errlen)
{
	return open_common("destroy-create", true, v, seed, err, errlen);
}

const struct scenario scenario_scrub_destroy = {
	.name = "destroy",
	.doc = "a domain of mem_gb GiB built, then destroyed: its memory freed and scrubbed (seed 001)",
	.params = destroy_params,
	.open = destroy_open,
};

const struct scenario scenario_scrub_destroy_create = {
	.name = "destroy-create",
	.doc = "destroy as above, and a new domain allocating while the old one is scrubbed (seed 001)",
	.params = destroy_create_params,
	.open = destroy_create_open,
};
