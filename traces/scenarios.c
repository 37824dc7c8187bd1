/* SPDX-License-Identifier: MIT */
/*
 * traces/scenarios.c — the scenario registry, and the "smoke" scenario: a tiny, plausible
 * mix of page allocations, writes and frees in a few domains, for tests and demos.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>

#include "scenarios.h"

#ifndef MEMSIM_VERSION
#define MEMSIM_VERSION "0.0.0"
#endif

/* ---- the registry: add `&scenario_NAME,` lines here (declared in scenarios.h) ---------- */
static const struct scenario *const scenarios[] = {
	&scenario_smoke,
	&scenario_one_frame,
	&scenario_population,
	&scenario_fork_storm,
	&scenario_scrub_destroy,
	&scenario_scrub_destroy_create,
	&scenario_working_set,
	&scenario_long_lived,
	&scenario_churn,
	&scenario_page_cache,
	NULL
};

const struct scenario *const *scenario_list(void)
{
	return scenarios;
}

const struct scenario *scenario_find(const char *name)
{
	const struct scenario *const *s;

	for (s = scenarios; *s; s++)
		if (!strcmp((*s)->name, name))
			return *s;
	return NULL;
}

size_t scenario_nparams(const struct scenario *sc)
{
	size_t n = 0;

	while (sc->params && sc->params[n].name)
		n++;
	return n;
}

void scenario_defaults(const struct scenario *sc, uint64_t *values)
{
	size_t i, n = scenario_nparams(sc);

	for (i = 0; i < n; i++)
		values[i] = sc->params[i].def;
}

int scenario_param_index(const struct scenario *sc, const char *name)
{
	size_t i, n = scenario_nparams(sc);

	for (i = 0; i < n; i++)
		if (!strcmp(sc->params[i].name, name))
			return (int)i;
	return -1;
}

void scenario_format_params(const struct scenario *sc, const uint64_t *values, uint64_t seed,
			    char *buf, size_t len)
{
	size_t i, n = scenario_nparams(sc), off = 0;

	if (!len)
		return;
	buf[0] = 0;
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s=%" PRIu64 " ",
					sc->params[i].name, values[i]);
	if (off < len)
		snprintf(buf + off, len - off, "seed=%" PRIu64, seed);
}

struct rec_source *scenario_open(const struct scenario *sc, const uint64_t *values,
				 uint64_t seed, char *err, size_t errlen)
{
	size_t i, n = scenario_nparams(sc);
	struct rec_source *src;
	struct trace_header *h;

	for (i = 0; i < n; i++) {
		const struct scenario_param *p = &sc->params[i];

		if (values[i] < p->min || values[i] > p->max) {
			snprintf(err, errlen, "scenario %s: %s=%" PRIu64 " out of range [%" PRIu64
				 ", %" PRIu64 "]", sc->name, p->name, values[i], p->min, p->max);
			return NULL;
		}
	}
	src = sc->open(values, seed, err, errlen);
	if (!src)
		return NULL;
	h = &src->hdr;
	h->version = TRACE_VERSION;
	if (!h->page_size)
		h->page_size = 4096;
	if (!h->source[0])
		snprintf(h->source, sizeof(h->source), "synthetic:%s", sc->name);
	if (!h->recorder[0])
		snprintf(h->recorder, sizeof(h->recorder), "memsim %s", MEMSIM_VERSION);
	if (!h->params[0])
		scenario_format_params(sc, values, seed, h->params, sizeof(h->params));
	return src;
}

/* ---- smoke ---------------------------------------------------------------------------- */
/*
 * Each domain owns `pages` gfns; gfn[] is a permutation whose first `nalloc` entries are the
 * allocated ones, so alloc and free are O(1) swaps and memory is domains * pages words.
 * Time advances by 1..2000 ns per record (integer draws only, so the output is the same on
 * every machine).
 */
enum { SMOKE_N, SMOKE_DOMAINS, SMOKE_PAGES };

static const struct scenario_param smoke_params[] = {
	[SMOKE_N] = { "n", 1000, 0, 10000000000ULL, "page records (alloc/write/free) to generate" },
	[SMOKE_DOMAINS] = { "domains", 3, 1, 64, "domains, created first and destroyed last" },
	[SMOKE_PAGES] = { "pages", 256, 1, 65536, "gfns each domain may allocate" },
	{ NULL, 0, 0, 0, NULL }
};

#define SMOKE_GFN_BASE 0x1000u
#define SMOKE_MAX_VCPUS 4u

struct smoke {
	struct rec_source src;
	gsl_rng *rng;
	uint64_t n, done, t;
	uint32_t domains, pages, phase_i;
	enum { PH_CREATE, PH_PAGES, PH_DESTROY, PH_DONE } phase;
	uint32_t *nalloc;            /* per domain */
	uint32_t *vcpus;             /* per domain */
	uint32_t *gfn;               /* domains x pages */
};

static uint32_t smoke_draw(struct smoke *s, uint32_t n)
{
	return (uint32_t)gsl_rng_uniform_int(s->rng, n);
}

static void smoke_swap(uint32_t *a, uint32_t i, uint32_t j)
{
	uint32_t x = a[i];

	a[i] = a[j];
	a[j] = x;
}

static int smoke_next(struct rec_source *src, struct trace_rec *r)
{
	struct smoke *s = (struct smoke *)src;
	uint32_t d, *g, *na, i, what;

	memset(r, 0, sizeof(*r));
	switch (s->phase) {
	case PH_CREATE:
		r->time_ns = s->t;
		r->type = TR_DOMAIN_CREATE;
		r->domain = 1 + s->phase_i;
		r->arg = s->vcpus[s->phase_i];
		if (++s->phase_i == s->domains) {
			s->phase_i = 0;
			s->phase = s->n ? PH_PAGES : PH_DESTROY;
		}
		return 1;
	case PH_PAGES:
		s->t += 1 + smoke_draw(s, 2000);
		d = smoke_draw(s, s->domains);
		g = s->gfn + (size_t)d * s->pages;
		na = &s->nalloc[d];
		r->time_ns = s->t;
		r->domain = 1 + d;
		r->vcpu = smoke_draw(s, s->vcpus[d]);
		/* 0-39 alloc, 40-79 write, 80-99 free; forced when none or all are allocated */
		what = smoke_draw(s, 100);
		if (*na == 0)
			what = 0;
		else if (*na == s->pages && what < 40)
			what = 40;
		if (what < 40) {
			i = *na + smoke_draw(s, s->pages - *na);
			smoke_swap(g, i, *na);
			r->type = TR_PAGE_ALLOC;
			r->frame = SMOKE_GFN_BASE + g[(*na)++];
		} else if (what < 80) {
			r->type = TR_PAGE_WRITE;
			r->frame = SMOKE_GFN_BASE + g[smoke_draw(s, *na)];
		} else {
			i = smoke_draw(s, *na);
			smoke_swap(g, i, --*na);
			r->type = TR_PAGE_FREE;
			r->frame = SMOKE_GFN_BASE + g[*na];
		}
		if (++s->done == s->n)
			s->phase = PH_DESTROY;
		return 1;
	case PH_DESTROY:
		s->t += 1000;
		r->time_ns = s->t;
		r->type = TR_DOMAIN_DESTROY;
		r->domain = 1 + s->phase_i;
		if (++s->phase_i == s->domains)
			s->phase = PH_DONE;
		return 1;
	case PH_DONE:
		break;
	}
	return 0;
}

static void smoke_close(struct rec_source *src)
{
	struct smoke *s = (struct smoke *)src;

	if (s->rng)
		gsl_rng_free(s->rng);
	free(s->nalloc);
	free(s->vcpus);
	free(s->gfn);
	free(s);
}

static struct rec_source *smoke_open(const uint64_t *values, uint64_t seed, char *err,
				     size_t errlen)
{
	struct smoke *s = calloc(1, sizeof(*s));
	uint32_t d, i;

	if (!s)
		goto nomem;
	s->src.next = smoke_next;
	s->src.close = smoke_close;
	s->n = values[SMOKE_N];
	s->domains = (uint32_t)values[SMOKE_DOMAINS];
	s->pages = (uint32_t)values[SMOKE_PAGES];
	s->rng = gsl_rng_alloc(gsl_rng_mt19937);
	s->nalloc = calloc(s->domains, sizeof(*s->nalloc));
	s->vcpus = calloc(s->domains, sizeof(*s->vcpus));
	s->gfn = calloc((size_t)s->domains * s->pages, sizeof(*s->gfn));
	if (!s->rng || !s->nalloc || !s->vcpus || !s->gfn)
		goto nomem;
	/* GSL keeps only the low 32 bits of a seed: fold the high half in */
	gsl_rng_set(s->rng, (unsigned long)((seed ^ (seed >> 32)) & 0xffffffffu));
	for (d = 0; d < s->domains; d++) {
		s->vcpus[d] = 1 + smoke_draw(s, SMOKE_MAX_VCPUS);
		for (i = 0; i < s->pages; i++)
			s->gfn[(size_t)d * s->pages + i] = i;
	}
	return &s->src;
nomem:
	snprintf(err, errlen, "scenario smoke: out of memory");
	if (s)
		smoke_close(&s->src);
	return NULL;
}

const struct scenario scenario_smoke = {
	.name = "smoke",
	.doc = "a few domains allocating, writing and freeing pages at random (tests, demos)",
	.params = smoke_params,
	.open = smoke_open,
};
