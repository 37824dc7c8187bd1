/* SPDX-License-Identifier: MIT */
/*
 * traces/scen_superpage.c — the synthetic scenario of seed 002 (superpage refcounting).
 *
 *   fork-storm  "something like a 64G region fully populated with hugepages.  This region
 *               has to be mapped in the child on every fork."  One domain; its region of
 *               `region_gb` GiB is populated with 2 MiB superpages, every superpage is
 *               marked, the parent maps the region, then `forks` times a child is forked and
 *               the whole region is mapped into it.
 *
 * The trace is policy-independent: it carries the guest's mark requests whatever the
 * hypervisor does with them (the per-page policy ignores them).
 *
 * Records (domain 1, address space 1 = the parent, 2.. = the children):
 *   domain_create; page_alloc order 9 per superpage; sp_mark per superpage;
 *   `pt_attempts` pt_alloc at random pages of the region (a guest trying to put a page table
 *   into marked memory: the hypervisor must refuse); sp_map per superpage (arg 1);
 *   per fork: fork (arg = child), sp_map per superpage (arg = child), and with exit = 1
 *   sp_unmap per superpage (the child exits before the next fork);
 *   with exit = 1, the parent's sp_unmap and sp_unmark per superpage; domain_destroy.
 * With exit = 0 every child keeps its mapping and the marks stay until the destroy, which
 * must then release all of them.
 *
 * Memory is constant: the generator keeps counters, never the region.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>

#include "scenarios.h"

#define SP_GFN_BASE 0x40000ULL  /* 1 GiB: the region is superpage-aligned */
#define SP_PAGES_PER 512ULL
#define REC_GAP_NS 100          /* spacing of records within a phase */
#define FORK_GAP_NS 1000000     /* 1 ms between the phases and before each fork */
#define PARENT_ASID 1

enum { P_REGION_GB, P_FORKS, P_EXIT, P_PT_ATTEMPTS };

static const struct scenario_param fork_storm_params[] = {
	[P_REGION_GB] = { "region_gb", 64, 1, 4096, "superpage region of the domain (GiB; seed: 64)" },
	[P_FORKS] = { "forks", 16, 0, 1000000, "forks, each mapping the whole region into its child" },
	[P_EXIT] = { "exit", 1, 0, 1,
		     "1: each child unmaps the region before the next fork and the guest unmaps and "
		     "unmarks everything before the destroy; 0: all mappings and marks live until the destroy" },
	[P_PT_ATTEMPTS] = { "pt_attempts", 0, 0, 1000000,
			    "page-table allocations at random pages of the region, after the marks" },
	{ NULL, 0, 0, 0, NULL }
};

enum phase {
	PH_CREATE, PH_POPULATE, PH_MARK, PH_PT, PH_PARENT_MAP, PH_FORK, PH_CHILD_MAP,
	PH_CHILD_UNMAP, PH_PARENT_UNMAP, PH_UNMARK, PH_DESTROY, PH_DONE
};

struct fork_storm {
	struct rec_source src;
	gsl_rng *rng;
	enum phase phase;
	uint64_t t, i;              /* time; index within the phase */
	uint64_t nsp, forks, exit, pt_attempts;
	uint64_t fork;              /* forks done */
};

/* Emits a record for superpage i of the current phase; false once the phase is done. */
static bool per_sp(struct fork_storm *g, struct trace_rec *r, uint16_t type, uint64_t arg)
{
	if (g->i == g->nsp)
		return false;
	r->type = type;
	r->frame = SP_GFN_BASE + g->i * SP_PAGES_PER;
	r->arg = arg;
	g->i++;
	return true;
}

static void next_phase(struct fork_storm *g, enum phase p)
{
	g->phase = p;
	g->i = 0;
	g->t += FORK_GAP_NS;
}

static int fs_next(struct rec_source *src, struct trace_rec *r)
{
	struct fork_storm *g = (struct fork_storm *)src;

	memset(r, 0, sizeof(*r));
	r->domain = 1;
	for (;;) {
		r->time_ns = g->t;
		switch (g->phase) {
		case PH_CREATE:
			r->type = TR_DOMAIN_CREATE;
			r->arg = 1;
			next_phase(g, PH_POPULATE);
			return 1;
		case PH_POPULATE:
			if (per_sp(g, r, TR_PAGE_ALLOC, 9))
				goto emitted;
			next_phase(g, PH_MARK);
			break;
		case PH_MARK:
			if (per_sp(g, r, TR_SP_MARK, 0))
				goto emitted;
			next_phase(g, PH_PT);
			break;
		case PH_PT:
			if (g->i < g->pt_attempts) {
				r->type = TR_PT_ALLOC;
				r->frame = SP_GFN_BASE +
					gsl_rng_uniform_int(g->rng, (unsigned long)(g->nsp * SP_PAGES_PER));
				r->arg = 1;
				g->i++;
				goto emitted;
			}
			next_phase(g, PH_PARENT_MAP);
			break;
		case PH_PARENT_MAP:
			if (per_sp(g, r, TR_SP_MAP, PARENT_ASID))
				goto emitted;
			next_phase(g, PH_FORK);
			break;
		case PH_FORK:
			if (g->fork == g->forks) {
				next_phase(g, g->exit ? PH_PARENT_UNMAP : PH_DESTROY);
				break;
			}
			r->type = TR_FORK;
			r->arg = PARENT_ASID + 1 + g->fork;
			g->phase = PH_CHILD_MAP;
			g->i = 0;
			g->t += REC_GAP_NS;
			return 1;
		case PH_CHILD_MAP:
			if (per_sp(g, r, TR_SP_MAP, PARENT_ASID + 1 + g->fork))
				goto emitted;
			if (g->exit) {
				next_phase(g, PH_CHILD_UNMAP);
			} else {
				g->fork++;
				next_phase(g, PH_FORK);
			}
			break;
		case PH_CHILD_UNMAP:
			if (per_sp(g, r, TR_SP_UNMAP, PARENT_ASID + 1 + g->fork))
				goto emitted;
			g->fork++;
			next_phase(g, PH_FORK);
			break;
		case PH_PARENT_UNMAP:
			if (per_sp(g, r, TR_SP_UNMAP, PARENT_ASID))
				goto emitted;
			next_phase(g, PH_UNMARK);
			break;
		case PH_UNMARK:
			if (per_sp(g, r, TR_SP_UNMARK, 0))
				goto emitted;
			next_phase(g, PH_DESTROY);
			break;
		case PH_DESTROY:
			r->type = TR_DOMAIN_DESTROY;
			g->phase = PH_DONE;
			return 1;
		case PH_DONE:
			return 0;
		}
	}
emitted:
	g->t += REC_GAP_NS;
	return 1;
}

static void fs_close(struct rec_source *src)
{
	struct fork_storm *g = (struct fork_storm *)src;

	if (g->rng)
		gsl_rng_free(g->rng);
	free(g);
}

static struct rec_source *fs_open(const uint64_t *v, uint64_t seed, char *err, size_t errlen)
{
	struct fork_storm *g = calloc(1, sizeof(*g));

	if (!g || !(g->rng = gsl_rng_alloc(gsl_rng_mt19937))) {
		free(g);
		snprintf(err, errlen, "scenario fork-storm: out of memory");
		return NULL;
	}
	/* GSL keeps only the low 32 bits of a seed: fold the high half in */
	gsl_rng_set(g->rng, (unsigned long)((seed ^ (seed >> 32)) & 0xffffffffu));
	g->src.next = fs_next;
	g->src.close = fs_close;
	g->nsp = v[P_REGION_GB] * 512;     /* 2 MiB superpages per GiB */
	g->forks = v[P_FORKS];
	g->exit = v[P_EXIT];
	g->pt_attempts = v[P_PT_ATTEMPTS];
	snprintf(g->src.hdr.workload, sizeof(g->src.hdr.workload),
		 "seed 002 fork storm over a %" PRIu64 " GiB superpage region", v[P_REGION_GB]);
	return &g->src;
}

/*
 * The superpage model keeps per-page state for the populated region whatever the policy:
 * measured state_bytes_peak 33817032 B for region_gb=16 (4 Mi pages), per-page and marked,
 * exit 0 and 1 alike, i.e. 8.06 B per 4 KiB page; the estimate takes 8 B per page.
 */
#define FS_PAGE_STATE_BYTES 8ULL

static uint64_t fs_estimate(const uint64_t *v, const char *model, char *what, size_t whatlen)
{
	uint64_t pages = v[P_REGION_GB] * (1024ULL * 1024 * 1024 / 4096);   /* region_gb <= 4096 */

	if (strcmp(model, "superpage"))
		return 0;
	snprintf(what, whatlen, "%" PRIu64 " pages x %llu B", pages, FS_PAGE_STATE_BYTES);
	return pages * FS_PAGE_STATE_BYTES;
}

const struct scenario scenario_fork_storm = {
	.name = "fork-storm",
	.doc = "a superpage region mapped into a child on every fork (seed 002: 64 GiB)",
	.params = fork_storm_params,
	.open = fs_open,
	.mem_estimate = fs_estimate,
};
