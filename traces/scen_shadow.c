/* SPDX-License-Identifier: MIT */
/*
 * traces/scen_shadow.c — the synthetic scenario of seed 003 (shadow-page reclaim).
 *
 *   working-set  One domain runs `processes` address spaces on `vcpus` vCPUs.  Each has a
 *                full 4-level page-table tree: a root, one L3, `l2` L2 tables and
 *                `leaves_per_l2` leaf tables under each L2.  The trees together are much
 *                larger than a 64-page shadow pool, but use is skewed: which process runs
 *                next, and which leaf a process touches, follow Zipf-like weights
 *                1/(rank+1)^skew (gsl_ran_discrete), so a hot set of tables is reused all
 *                the time and a long tail rarely.  A time slice (Poisson-distributed length,
 *                mean `accesses`) is a context switch, a cr3 load (unless the vCPU already
 *                runs that address space) and that many page-table accesses to leaves of
 *                the process.  An access sets the accessed bits (arg 1), except a fraction
 *                `prefetch_pct` that does not (arg 0).  At each switch the process leaving
 *                the vCPU exits with probability `churn_pct` % (all its tables freed,
 *                leaves first) and a new process takes its place and popularity (tables
 *                allocated root first, then a fork record): fresh gfns, so the guest
 *                frees and allocations the driver turns into zaps and new trees.
 *
 * Records (domain 1): domain_create; per process pt_alloc of the root (level 4), the L3,
 * each L2 followed by its leaves, then fork (arg = root gfn); per slice ctx_switch, maybe
 * cr3_load, pt_access x n; at exits pt_free leaves, L2s, L3, root; at the end every
 * process exits; domain_destroy.  Time: 2 us per switch, 100 ns per access, 50 ns per
 * allocation or free.  Memory: the process table and one process's worth of records.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "scenarios.h"

#define WS_GFN_BASE 0x100000ULL   /* 4 GiB: page tables live above the data the trace lacks */
#define WS_BLOCK 128ULL           /* gfns reserved per process instance */
#define WS_SWITCH_NS 2000
#define WS_ACCESS_NS 100
#define WS_PT_NS 50
#define WS_DOMAIN 1

enum {
	P_PROCESSES, P_L2, P_LEAVES, P_VCPUS, P_SWITCHES, P_ACCESSES, P_SKEW, P_PREFETCH,
	P_CHURN
};

static const struct scenario_param ws_params[] = {
	[P_PROCESSES] = { "processes", 24, 1, 4096, "address spaces alive at any time" },
	[P_L2] = { "l2", 2, 1, 8, "L2 tables per process" },
	[P_LEAVES] = { "leaves_per_l2", 3, 1, 8, "leaf tables under each L2" },
	[P_VCPUS] = { "vcpus", 2, 1, 64, "vCPUs the slices rotate over" },
	[P_SWITCHES] = { "switches", 2000, 0, 100000000, "context switches (time slices)" },
	[P_ACCESSES] = { "accesses", 40, 1, 100000, "mean page-table accesses per slice (Poisson, at least 1)" },
	[P_SKEW] = { "skew", 1, 0, 4,
		     "Zipf exponent of process and leaf popularity: weight 1/(rank+1)^skew (0: uniform)" },
	[P_PREFETCH] = { "prefetch_pct", 5, 0, 100, "% of accesses that leave the accessed bits alone" },
	[P_CHURN] = { "churn_pct", 2, 0, 100, "% of switches at which the outgoing process exits and a new one starts" },
	{ NULL, 0, 0, 0, NULL }
};

enum phase { PH_CREATE, PH_SPAWN, PH_RUN, PH_END, PH_DESTROY, PH_DONE };

struct proc {
	uint64_t base;            /* root gfn; the tables follow */
	uint32_t task;
};

struct ws {
	struct rec_source src;
	gsl_rng *rng;
	gsl_ran_discrete_t *pick_proc, *pick_leaf;
	enum phase phase;
	uint64_t t;
	uint32_t nproc, l2, lp, vcpus, skew;
	uint64_t switches, accesses, prefetch, churn;
	uint64_t switch_no, instances, next_task;
	uint32_t spawn_i;          /* PH_SPAWN: next process to create */
	uint32_t end_i;            /* PH_END: next process to exit */
	struct proc *procs;
	int64_t *on_vcpu;          /* process index running on each vCPU, -1 none */
	uint32_t cur_vcpu;
	/* the slice in progress */
	uint32_t slice_proc;
	uint64_t slice_left;
	/* queued records */
	struct trace_rec *q;
	size_t qn, qi, qcap;
};

static uint32_t tables_per_proc(const struct ws *g)
{
	return 2 + g->l2 + g->l2 * g->lp;
}

static void push(struct ws *g, uint16_t type, uint32_t vcpu, uint64_t frame, uint64_t arg,
		 uint64_t dt)
{
	struct trace_rec *r = &g->q[g->qn++];

	g->t += dt;
	memset(r, 0, sizeof(*r));
	r->time_ns = g->t;
	r->domain = WS_DOMAIN;
	r->vcpu = vcpu;
	r->type = type;
	r->frame = frame;
	r->arg = arg;
}

static uint64_t leaf_gfn(const struct ws *g, const struct proc *p, uint32_t j)
{
	return p->base + 2 + g->l2 + j;
}

/* A new instance in slot i: root, L3, then each L2 followed by its leaves, then the fork. */
static void spawn(struct ws *g, uint32_t i, uint32_t vcpu)
{
	struct proc *p = &g->procs[i];
	uint32_t k, j;

	p->base = WS_GFN_BASE + g->instances++ * WS_BLOCK;
	p->task = (uint32_t)++g->next_task;
	push(g, TR_PT_ALLOC, vcpu, p->base, 4, WS_PT_NS);
	push(g, TR_PT_ALLOC, vcpu, p->base + 1, 3, WS_PT_NS);
	for (k = 0; k < g->l2; k++) {
		push(g, TR_PT_ALLOC, vcpu, p->base + 2 + k, 2, WS_PT_NS);
		for (j = 0; j < g->lp; j++)
			push(g, TR_PT_ALLOC, vcpu, leaf_gfn(g, p, k * g->lp + j), 1, WS_PT_NS);
	}
	push(g, TR_FORK, vcpu, UINT64_MAX, p->base, WS_PT_NS);
}

/* The instance in slot i exits: leaves, L2s, L3, root. */
static void exit_proc(struct ws *g, uint32_t i, uint32_t vcpu)
{
	const struct proc *p = &g->procs[i];
	uint32_t k;

	for (k = 0; k < g->l2 * g->lp; k++)
		push(g, TR_PT_FREE, vcpu, leaf_gfn(g, p, k), 1, WS_PT_NS);
	for (k = 0; k < g->l2; k++)
		push(g, TR_PT_FREE, vcpu, p->base + 2 + k, 2, WS_PT_NS);
	push(g, TR_PT_FREE, vcpu, p->base + 1, 3, WS_PT_NS);
	push(g, TR_PT_FREE, vcpu, p->base, 4, WS_PT_NS);
}

static bool running_elsewhere(const struct ws *g, uint32_t i, uint32_t vcpu)
{
	uint32_t v;

	for (v = 0; v < g->vcpus; v++)
		if (v != vcpu && g->on_vcpu[v] == (int64_t)i)
			return true;
	return false;
}

/* Queues the next batch of records; false when the trace is over. */
static bool refill(struct ws *g)
{
	uint32_t v, next;
	int64_t out;

	g->qn = g->qi = 0;
	switch (g->phase) {
	case PH_CREATE:
		push(g, TR_DOMAIN_CREATE, 0, 0, g->vcpus, 0);
		g->phase = g->nproc ? PH_SPAWN : PH_RUN;
		return true;
	case PH_SPAWN:
		spawn(g, g->spawn_i++, 0);
		if (g->spawn_i == g->nproc)
			g->phase = PH_RUN;
		return true;
	case PH_RUN:
		if (g->slice_left) {
			const struct proc *p = &g->procs[g->slice_proc];
			uint32_t j = (uint32_t)gsl_ran_discrete(g->rng, g->pick_leaf);
			bool prefetch = gsl_rng_uniform_int(g->rng, 100) < g->prefetch;

			push(g, TR_PT_ACCESS, g->cur_vcpu, leaf_gfn(g, p, j), prefetch ? 0 : 1,
			     WS_ACCESS_NS);
			g->slice_left--;
			return true;
		}
		if (g->switch_no == g->switches) {
			g->phase = PH_END;
			return refill(g);
		}
		g->switch_no++;
		v = g->cur_vcpu = (uint32_t)(g->switch_no % g->vcpus);
		out = g->on_vcpu[v];
		if (out >= 0 && g->churn && gsl_rng_uniform_int(g->rng, 100) < g->churn &&
		    !running_elsewhere(g, (uint32_t)out, v)) {
			exit_proc(g, (uint32_t)out, v);
			spawn(g, (uint32_t)out, v);
			g->on_vcpu[v] = -1;
		}
		next = (uint32_t)gsl_ran_discrete(g->rng, g->pick_proc);
		push(g, TR_CTX_SWITCH, v, 0, g->procs[next].task, WS_SWITCH_NS);
		if (g->on_vcpu[v] != (int64_t)next)
			push(g, TR_CR3_LOAD, v, g->procs[next].base, 0, 0);
		g->on_vcpu[v] = next;
		g->slice_proc = next;
		g->slice_left = 1 + gsl_ran_poisson(g->rng, (double)(g->accesses - 1));
		return true;
	case PH_END:
		if (g->end_i == g->nproc) {
			g->phase = PH_DESTROY;
			return refill(g);
		}
		exit_proc(g, g->end_i++, 0);
		return true;
	case PH_DESTROY:
		push(g, TR_DOMAIN_DESTROY, 0, 0, 0, WS_SWITCH_NS);
		g->phase = PH_DONE;
		return true;
	case PH_DONE:
		break;
	}
	return false;
}

static int ws_next(struct rec_source *src, struct trace_rec *r)
{
	struct ws *g = (struct ws *)src;

	while (g->qi == g->qn)
		if (!refill(g))
			return 0;
	*r = g->q[g->qi++];
	return 1;
}

static void ws_close(struct rec_source *src)
{
	struct ws *g = (struct ws *)src;

	if (g->rng)
		gsl_rng_free(g->rng);
	if (g->pick_proc)
		gsl_ran_discrete_free(g->pick_proc);
	if (g->pick_leaf)
		gsl_ran_discrete_free(g->pick_leaf);
	free(g->procs);
	free(g->on_vcpu);
	free(g->q);
	free(g);
}

/* Zipf-like weights 1/(rank+1)^skew, by repeated division (no pow(): the same on every
 * libm). */
static gsl_ran_discrete_t *zipf_table(uint32_t n, uint32_t skew)
{
	double *w = malloc(n * sizeof(*w));
	gsl_ran_discrete_t *t;
	uint32_t i, k;

	if (!w)
		return NULL;
	for (i = 0; i < n; i++) {
		w[i] = 1.0;
		for (k = 0; k < skew; k++)
			w[i] /= (double)(i + 1);
	}
	t = gsl_ran_discrete_preproc(n, w);
	free(w);
	return t;
}

static struct rec_source *ws_open(const uint64_t *v, uint64_t seed, char *err, size_t errlen)
{
	struct ws *g = calloc(1, sizeof(*g));
	uint32_t i;

	if (!g)
		goto nomem;
	g->src.next = ws_next;
	g->src.close = ws_close;
	g->nproc = (uint32_t)v[P_PROCESSES];
	g->l2 = (uint32_t)v[P_L2];
	g->lp = (uint32_t)v[P_LEAVES];
	g->vcpus = (uint32_t)v[P_VCPUS];
	g->switches = v[P_SWITCHES];
	g->accesses = v[P_ACCESSES];
	g->skew = (uint32_t)v[P_SKEW];
	g->prefetch = v[P_PREFETCH];
	g->churn = v[P_CHURN];
	/* the largest batch: an exit and a spawn, plus the switch and the cr3 load */
	g->qcap = 2 * (size_t)tables_per_proc(g) + 4;
	g->q = calloc(g->qcap, sizeof(*g->q));
	g->procs = calloc(g->nproc, sizeof(*g->procs));
	g->on_vcpu = malloc(g->vcpus * sizeof(*g->on_vcpu));
	g->rng = gsl_rng_alloc(gsl_rng_mt19937);
	g->pick_proc = zipf_table(g->nproc, g->skew);
	g->pick_leaf = zipf_table(g->l2 * g->lp, g->skew);
	if (!g->q || !g->procs || !g->on_vcpu || !g->rng || !g->pick_proc || !g->pick_leaf)
		goto nomem;
	for (i = 0; i < g->vcpus; i++)
		g->on_vcpu[i] = -1;
	/* GSL keeps only the low 32 bits of a seed: fold the high half in */
	gsl_rng_set(g->rng, (unsigned long)((seed ^ (seed >> 32)) & 0xffffffffu));
	snprintf(g->src.hdr.workload, sizeof(g->src.hdr.workload),
		 "seed 003 working set: %u processes x %u page tables on %u vCPUs",
		 g->nproc, tables_per_proc(g), g->vcpus);
	return &g->src;
nomem:
	snprintf(err, errlen, "scenario working-set: out of memory");
	if (g)
		ws_close(&g->src);
	return NULL;
}

const struct scenario scenario_working_set = {
	.name = "working-set",
	.doc = "processes with page-table trees larger than the shadow pool, skewed reuse, "
	       "context switches and accessed bits (seed 003)",
	.params = ws_params,
	.open = ws_open,
};
