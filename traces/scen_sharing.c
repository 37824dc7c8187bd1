/* SPDX-License-Identifier: MIT */
/*
 * traces/scen_sharing.c — synthetic scenarios of seed 000 (memory sharing).
 *
 *   one-frame   N gfns of one domain shared onto one frame, then the domain is destroyed:
 *               the seed's "domain that points over 100 thousand pages to the same shared
 *               frame" (list: > 7 min, hash: < 2 s).
 *   population  F shared frames whose sharing degrees follow the seed's "regular case": most
 *               with about a hundred <domain, gfn> tuples, some with over a hundred thousand, a
 *               few with thousands; tuples spread over D domains; some copy-on-write breaks;
 *               optionally merges of two shared frames (a shared gfn shared into another
 *               frame: the seed's share_pages()); then one domain (or all) destroyed.
 *
 * Both stream their records (constant memory: the generator keeps counters, never the
 * tuples), with randomness from one GSL mt19937 stream seeded with the seed.
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "scenarios.h"

#define FRAME_BASE 1        /* shared frame ids start here */
#define SHARE_GAP_NS 100    /* spacing of generated records */
#define MAX_DOMAINS 4096

enum phase { PH_CREATE, PH_SHARE, PH_WRITE, PH_MERGE, PH_DESTROY, PH_DONE };

struct sharing_gen {
	struct rec_source src;
	gsl_rng *rng;
	enum phase phase;
	uint64_t t;
	/* parameters */
	uint64_t frames, domains, mean_degree, big_ppm, big_min, big_max, mid_ppm, mid_min, mid_max;
	uint64_t writes, destroy;   /* destroy: domain to destroy, 0 = all */
	uint64_t merges;            /* shares of a random shared gfn into a random other frame */
	bool one_frame;
	/* progress */
	uint64_t frame;             /* current frame index (0-based) */
	uint64_t left;              /* tuples left for the current frame */
	uint64_t done;              /* writes done / domains created / destroyed */
	uint64_t next_gfn[MAX_DOMAINS + 1];
};

static uint64_t uniform_between(gsl_rng *r, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo + 1;

	/* gsl_rng_uniform_int takes an unsigned long below the generator's range (2^32) */
	if (span <= 0xffffffffUL)
		return lo + gsl_rng_uniform_int(r, (unsigned long)span);
	return lo + (((uint64_t)gsl_rng_get(r) << 32) | gsl_rng_get(r)) % span;
}

static uint64_t draw_degree(struct sharing_gen *g)
{
	uint64_t u;

	if (g->one_frame)
		return g->mean_degree;
	u = gsl_rng_uniform_int(g->rng, 1000000);
	if (u < g->big_ppm)
		return uniform_between(g->rng, g->big_min, g->big_max);
	if (u < g->big_ppm + g->mid_ppm)
		return uniform_between(g->rng, g->mid_min, g->mid_max);
	u = gsl_ran_poisson(g->rng, (double)g->mean_degree);
	return u < 2 ? 2 : u;   /* a shared frame backs at least two gfns */
}

static uint32_t draw_domain(struct sharing_gen *g)
{
	return g->domains == 1 ? 1 : 1 + (uint32_t)gsl_rng_uniform_int(g->rng, (unsigned long)g->domains);
}

static int gen_next(struct rec_source *src, struct trace_rec *out)
{
	struct sharing_gen *g = (struct sharing_gen *)src;

	memset(out, 0, sizeof(*out));
	for (;;) {
		switch (g->phase) {
		case PH_CREATE:
			if (g->done < g->domains) {
				out->type = TR_DOMAIN_CREATE;
				out->domain = (uint32_t)++g->done;
				out->arg = 1;
				out->time_ns = g->t;
				g->t += SHARE_GAP_NS;
				return 1;
			}
			g->phase = PH_SHARE;
			g->done = 0;
			break;
		case PH_SHARE:
			while (!g->left && g->frame < g->frames) {
				g->left = draw_degree(g);
				g->frame++;
			}
			if (!g->left) {
				g->phase = PH_WRITE;
				break;
			}
			out->type = TR_SHARE;
			out->domain = draw_domain(g);
			out->frame = g->next_gfn[out->domain]++;
			out->arg = FRAME_BASE + g->frame - 1;
			out->time_ns = g->t;
			g->t += SHARE_GAP_NS;
			g->left--;
			return 1;
		case PH_WRITE:
			if (g->done < g->writes) {
				uint32_t dom = draw_domain(g);

				g->done++;
				if (!g->next_gfn[dom])
					continue;
				out->type = TR_PAGE_WRITE;
				out->domain = dom;
				out->frame = uniform_between(g->rng, 0, g->next_gfn[dom] - 1);
				out->time_ns = g->t;
				g->t += SHARE_GAP_NS;
				return 1;
			}
			g->phase = PH_MERGE;
			g->done = 0;
			break;
		case PH_MERGE:
			/* The seed's share_pages() of two shared frames: the gfn's whole frame
			 * merges into the other (a gfn made private by a write is a plain share). */
			if (g->done < g->merges) {
				uint32_t dom = draw_domain(g);
				uint64_t to = FRAME_BASE + uniform_between(g->rng, 0, g->frames - 1);

				g->done++;
				if (!g->next_gfn[dom])
					continue;
				out->type = TR_SHARE;
				out->domain = dom;
				out->frame = uniform_between(g->rng, 0, g->next_gfn[dom] - 1);
				out->arg = to;
				out->time_ns = g->t;
				g->t += SHARE_GAP_NS;
				return 1;
			}
			g->phase = PH_DESTROY;
			g->done = 0;
			g->t += 1000000;   /* 1 ms of quiet before the destroy */
			break;
		case PH_DESTROY:
			if (g->destroy ? g->done == 0 : g->done < g->domains) {
				out->type = TR_DOMAIN_DESTROY;
				out->domain = g->destroy ? (uint32_t)g->destroy : (uint32_t)(g->done + 1);
				out->time_ns = g->t;
				g->done++;
				return 1;
			}
			g->phase = PH_DONE;
			break;
		case PH_DONE:
			return 0;
		}
	}
}

static void gen_close(struct rec_source *src)
{
	struct sharing_gen *g = (struct sharing_gen *)src;

	gsl_rng_free(g->rng);
	free(g);
}

static struct sharing_gen *gen_alloc(const char *name, uint64_t seed, char *err, size_t errlen)
{
	struct sharing_gen *g = calloc(1, sizeof(*g));

	if (!g || !(g->rng = gsl_rng_alloc(gsl_rng_mt19937))) {
		free(g);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	gsl_rng_set(g->rng, (unsigned long)seed);
	g->src.next = gen_next;
	g->src.close = gen_close;
	g->src.hdr.version = TRACE_VERSION;
	g->src.hdr.page_size = 4096;
	snprintf(g->src.hdr.source, sizeof(g->src.hdr.source), "synthetic:%s", name);
	snprintf(g->src.hdr.recorder, sizeof(g->src.hdr.recorder), "memsim %s", MEMSIM_VERSION);
	snprintf(g->src.hdr.workload, sizeof(g->src.hdr.workload), "seed 000 %s", name);
	return g;
}

/* ---- memory estimates ------------------------------------------------------------------- */

/*
 * The rmap and relinquish models hold one reverse-map entry per live <domain, gfn> tuple.
 * Measured (rmap_bytes_peak / rmap_entries_peak, population frames=2000): list 32.3 B,
 * hash 32.4 B, hash-grow 33.3 B, tree 40.2 B per tuple; the smallest entry, 32 B, is the
 * estimate for every policy, so the estimate never exceeds what a run holds.
 */
#define TUPLE_BYTES 32.0

static uint64_t tuples_estimate(double tuples, const char *model, char *what, size_t whatlen)
{
	double b;

	if (strcmp(model, "rmap") && strcmp(model, "relinquish"))
		return 0;
	b = tuples * TUPLE_BYTES;
	snprintf(what, whatlen, "%.3g tuples x %.0f B", tuples, TUPLE_BYTES);
	return b >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)b;
}

/* ---- one-frame -------------------------------------------------------------------------- */

static const struct scenario_param one_frame_params[] = {
	{ "n", 100000, 1, 100000000, "gfns of domain 1 shared onto one frame" },
	{ "writes", 0, 0, 100000000, "copy-on-write breaks at random gfns before the destroy" },
	{ NULL, 0, 0, 0, NULL },
};

static struct rec_source *one_frame_open(const uint64_t *v, uint64_t seed, char *err, size_t errlen)
{
	struct sharing_gen *g = gen_alloc("one-frame", seed, err, errlen);

	if (!g)
		return NULL;
	g->one_frame = true;
	g->frames = 1;
	g->domains = 1;
	g->mean_degree = v[0];
	g->writes = v[1];
	g->destroy = 1;
	snprintf(g->src.hdr.params, sizeof(g->src.hdr.params),
		 "n=%" PRIu64 " writes=%" PRIu64 " seed=%" PRIu64, v[0], v[1], seed);
	return &g->src;
}

/* all n tuples are live before the writes and the destroy */
static uint64_t one_frame_estimate(const uint64_t *v, const char *model, char *what, size_t whatlen)
{
	return tuples_estimate((double)v[0], model, what, whatlen);
}

const struct scenario scenario_one_frame = {
	.name = "one-frame",
	.doc = "N gfns of one domain shared onto one frame, then the domain is destroyed (seed 000)",
	.params = one_frame_params,
	.open = one_frame_open,
	.mem_estimate = one_frame_estimate,
};

/* ---- population ------------------------------------------------------------------------- */

static const struct scenario_param population_params[] = {
	{ "frames", 400000, 1, 100000000, "shared frames" },
	{ "domains", 8, 1, MAX_DOMAINS, "domains the tuples are spread over" },
	{ "mean_degree", 100, 2, 100000000, "mean tuples per ordinary frame (Poisson)" },
	{ "big_ppm", 100, 0, 1000000, "frames per million with a big degree (seed: 'some over 100k')" },
	{ "big_min", 100000, 2, 100000000, "smallest big degree" },
	{ "big_max", 200000, 2, 100000000, "largest big degree" },
	{ "mid_ppm", 1000, 0, 1000000, "frames per million with a middle degree (seed: 'a few < 10k')" },
	{ "mid_min", 1000, 2, 100000000, "smallest middle degree" },
	{ "mid_max", 10000, 2, 100000000, "largest middle degree" },
	{ "writes", 100000, 0, 1000000000, "copy-on-write breaks at random shared gfns" },
	{ "destroy", 1, 0, MAX_DOMAINS, "domain destroyed at the end (0: every domain, in order)" },
	{ "merges", 0, 0, 100000000, "shares of a random shared gfn into a random frame: merges of two shared frames (seed's share_pages)" },
	{ NULL, 0, 0, 0, NULL },
};

static struct rec_source *population_open(const uint64_t *v, uint64_t seed, char *err, size_t errlen)
{
	struct sharing_gen *g;

	if (v[4] > v[5] || v[7] > v[8] || v[3] + v[6] > 1000000) {
		snprintf(err, errlen, "population: need big_min <= big_max, mid_min <= mid_max, "
			 "big_ppm + mid_ppm <= 1000000");
		return NULL;
	}
	if (v[10] > v[1]) {
		snprintf(err, errlen, "population: destroy=%" PRIu64 " but there are only %" PRIu64
			 " domains", v[10], v[1]);
		return NULL;
	}
	g = gen_alloc("population", seed, err, errlen);
	if (!g)
		return NULL;
	g->frames = v[0];
	g->domains = v[1];
	g->mean_degree = v[2];
	g->big_ppm = v[3];
	g->big_min = v[4];
	g->big_max = v[5];
	g->mid_ppm = v[6];
	g->mid_min = v[7];
	g->mid_max = v[8];
	g->writes = v[9];
	g->destroy = v[10];
	g->merges = v[11];
	snprintf(g->src.hdr.params, sizeof(g->src.hdr.params),
		 "frames=%" PRIu64 " domains=%" PRIu64 " mean_degree=%" PRIu64 " big_ppm=%" PRIu64
		 " big=%" PRIu64 "..%" PRIu64 " mid_ppm=%" PRIu64 " mid=%" PRIu64 "..%" PRIu64
		 " writes=%" PRIu64 " destroy=%" PRIu64 " merges=%" PRIu64 " seed=%" PRIu64,
		 v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], seed);
	return &g->src;
}

/*
 * Every share comes before the first write, so the peak is all the tuples: frames times the
 * expected degree (draw_degree: big, middle or Poisson(mean_degree), at least 2).  It is an
 * expectation: a run with few frames and rare big degrees may hold more or less; the run-time
 * cap covers the difference.
 */
static uint64_t population_estimate(const uint64_t *v, const char *model, char *what,
				    size_t whatlen)
{
	double big = (double)v[3] / 1e6, mid = (double)v[6] / 1e6;
	double ordinary = 1.0 - big - mid;
	double mean = (double)v[2] < 2 ? 2 : (double)v[2];
	double degree = (ordinary > 0 ? ordinary : 0) * mean +
			big * ((double)v[4] + (double)v[5]) / 2 + mid * ((double)v[7] + (double)v[8]) / 2;

	return tuples_estimate((double)v[0] * degree, model, what, whatlen);
}

const struct scenario scenario_population = {
	.name = "population",
	.doc = "the seed's regular case: 400k shared frames, most ~100 tuples, some > 100k, then destroy",
	.params = population_params,
	.open = population_open,
	.mem_estimate = population_estimate,
};
