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

/*
 *   long-lived   A server guest: `daemons` long-lived processes (init, a logger, sshd, cron,
 *                a database, a web server) are started at boot, so their page tables are
 *                the oldest shadow pages, and each vCPU's shell forks short-lived children
 *                (commands) that run `child_slices` slices and exit.  A slice runs a child
 *                with probability `child_pct` % (spawning a new one when the vCPU has none
 *                left), else a daemon (Zipf weights 1/(rank+1)^skew).  Each access of a
 *                slice is a pt_access to a leaf of the process (Zipf over its leaves,
 *                `prefetch_pct` % leave the accessed bits alone) and a page_write to a data
 *                page that leaf maps.  Guest-physical placement is scattered, as a buddy
 *                allocator gives: page tables and the 2 MiB data region of each leaf are
 *                spread over `mem_mb` of guest memory by a multiplicative permutation.  The
 *                shadow driver ignores the page_writes; under tdp = 1 they, and the tables'
 *                own addresses, are what the EPT must map.  A child's exit is seen after
 *                its vCPU switched away (ctx_switch and cr3_load of the next process, then
 *                its tables freed), as Linux drops an mm only once no CPU runs on it.
 *
 * Records (domain 1): domain_create; each daemon's tables (root, L3, then each L2 followed
 * by its leaves) and a fork record; per slice ctx_switch, maybe cr3_load, then per access
 * pt_access + page_write; children: pt_alloc x 5 and fork at spawn, pt_free x 5 at exit;
 * at the end every process exits; domain_destroy.  Time as in working-set.
 */
#define LL_L2 2                   /* daemon tree: root, L3, 2 L2s x 3 leaves (working-set's) */
#define LL_LEAVES 3
#define LL_CHILD_LEAVES 2         /* child tree: root, L3, one L2, 2 leaves (text, stack) */
#define LL_MAX_TABLES (2 + LL_L2 + LL_L2 * LL_LEAVES)

enum { L_DAEMONS, L_VCPUS, L_SWITCHES, L_ACCESSES, L_SKEW, L_PREFETCH, L_CHILD_PCT,
       L_CHILD_SLICES, L_MEM_MB };

static const struct scenario_param ll_params[] = {
	[L_DAEMONS] = { "daemons", 6, 1, 1024, "long-lived processes started at boot" },
	[L_VCPUS] = { "vcpus", 2, 1, 64, "vCPUs the slices rotate over (each has a shell forking children)" },
	[L_SWITCHES] = { "switches", 2000, 0, 100000000, "context switches (time slices)" },
	[L_ACCESSES] = { "accesses", 40, 1, 100000, "mean accesses per slice (Poisson, at least 1)" },
	[L_SKEW] = { "skew", 1, 0, 4, "Zipf exponent of daemon and leaf popularity" },
	[L_PREFETCH] = { "prefetch_pct", 5, 0, 100, "% of accesses that leave the accessed bits alone" },
	[L_CHILD_PCT] = { "child_pct", 30, 0, 100, "% of slices that run a short-lived child" },
	[L_CHILD_SLICES] = { "child_slices", 4, 1, 1000000, "slices a child runs before it exits" },
	[L_MEM_MB] = { "mem_mb", 1024, 64, 1u << 20, "guest memory the tables and data are spread over (MiB)" },
	{ NULL, 0, 0, 0, NULL }
};

struct ll_proc {
	uint64_t tables[LL_MAX_TABLES];   /* root, L3, L2s and leaves as allocated */
	uint8_t levels[LL_MAX_TABLES];
	uint64_t region[LL_L2 * LL_LEAVES];   /* first gfn of each leaf's 2 MiB data region */
	uint32_t ntables, nleaves, first_leaf, task, slices_left;
	bool live;
};

struct ll {
	struct rec_source src;
	gsl_rng *rng;
	gsl_ran_discrete_t *pick_daemon, *pick_leaf, *pick_child_leaf;
	enum phase phase;
	uint64_t t;
	uint32_t ndaemons, vcpus, child_pct, child_slices, prefetch, skew;
	uint64_t switches, accesses, switch_no, pt_serial, region_serial, next_task;
	uint64_t mem_pages, regions;      /* guest pages; 2 MiB regions (power-of-two masks) */
	uint32_t spawn_i, end_i;
	struct ll_proc *procs;            /* daemons, then one child slot per vCPU */
	struct ll_proc dying;             /* a child replaced in its slot, freed after the switch */
	int64_t *on_vcpu;
	uint32_t cur_vcpu, slice_proc;
	uint64_t slice_left;
	struct trace_rec *q;
	size_t qn, qi, qcap;
};

static void ll_push(struct ll *g, uint16_t type, uint32_t vcpu, uint64_t frame, uint64_t arg,
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

/* Scattered but distinct: odd multipliers permute a power-of-two range. */
static uint64_t ll_pt_gfn(struct ll *g)
{
	return (g->pt_serial++ * 0x9E3779B1ULL) & (g->mem_pages - 1);
}

static uint64_t ll_region(struct ll *g)
{
	return ((g->region_serial++ * 0x85EBCA77ULL) & (g->regions - 1)) * 512;
}

static void ll_table(struct ll *g, struct ll_proc *p, uint32_t vcpu, uint8_t level)
{
	uint64_t gfn = ll_pt_gfn(g);

	p->tables[p->ntables] = gfn;
	p->levels[p->ntables++] = level;
	ll_push(g, TR_PT_ALLOC, vcpu, gfn, level, WS_PT_NS);
	if (level == 1)
		p->region[p->nleaves++] = ll_region(g);
}

static void ll_spawn(struct ll *g, struct ll_proc *p, uint32_t vcpu, uint32_t l2, uint32_t lp)
{
	uint32_t k, j;

	memset(p, 0, sizeof(*p));
	p->live = true;
	p->task = (uint32_t)++g->next_task;
	ll_table(g, p, vcpu, 4);
	ll_table(g, p, vcpu, 3);
	for (k = 0; k < l2; k++) {
		ll_table(g, p, vcpu, 2);
		if (!k)
			p->first_leaf = p->ntables;
		for (j = 0; j < lp; j++)
			ll_table(g, p, vcpu, 1);
	}
	ll_push(g, TR_FORK, vcpu, UINT64_MAX, p->tables[0], WS_PT_NS);
}

/* Leaves first, then up to the root (the order exit_mmap frees them). */
static void ll_exit(struct ll *g, struct ll_proc *p, uint32_t vcpu)
{
	uint32_t i;

	for (i = p->ntables; i-- > 0;)
		if (p->levels[i] == 1)
			ll_push(g, TR_PT_FREE, vcpu, p->tables[i], 1, WS_PT_NS);
	for (i = p->ntables; i-- > 0;)
		if (p->levels[i] > 1)
			ll_push(g, TR_PT_FREE, vcpu, p->tables[i], p->levels[i], WS_PT_NS);
	p->live = false;
}

/* The gfn of leaf j's table in p (leaves follow their L2 in allocation order). */
static uint64_t ll_leaf(const struct ll_proc *p, uint32_t j)
{
	uint32_t i, seen = 0;

	for (i = 0; i < p->ntables; i++)
		if (p->levels[i] == 1 && seen++ == j)
			return p->tables[i];
	return p->tables[0];
}

static bool ll_refill(struct ll *g)
{
	struct ll_proc *p;
	uint32_t v, next;
	bool dying, fresh;
	int64_t out;

	g->qn = g->qi = 0;
	switch (g->phase) {
	case PH_CREATE:
		ll_push(g, TR_DOMAIN_CREATE, 0, 0, g->vcpus, 0);
		g->phase = PH_SPAWN;
		return true;
	case PH_SPAWN:
		ll_spawn(g, &g->procs[g->spawn_i], 0, LL_L2, LL_LEAVES);
		if (++g->spawn_i == g->ndaemons)
			g->phase = PH_RUN;
		return true;
	case PH_RUN:
		if (g->slice_left) {
			uint32_t j;
			bool prefetch = gsl_rng_uniform_int(g->rng, 100) < g->prefetch;

			p = &g->procs[g->slice_proc];
			j = (uint32_t)gsl_ran_discrete(g->rng, p->nleaves == LL_CHILD_LEAVES ?
						       g->pick_child_leaf : g->pick_leaf);
			ll_push(g, TR_PT_ACCESS, g->cur_vcpu, ll_leaf(p, j), prefetch ? 0 : 1,
				WS_ACCESS_NS);
			ll_push(g, TR_PAGE_WRITE, g->cur_vcpu,
				p->region[j] + gsl_rng_uniform_int(g->rng, 512), 0, 0);
			g->slice_left--;
			return true;
		}
		if (g->switch_no == g->switches) {
			g->phase = PH_END;
			return ll_refill(g);
		}
		g->switch_no++;
		v = g->cur_vcpu = (uint32_t)(g->switch_no % g->vcpus);
		out = g->on_vcpu[v];
		p = &g->procs[g->ndaemons + v];         /* this vCPU's shell child */
		dying = false;
		fresh = false;
		if (gsl_rng_uniform_int(g->rng, 100) < g->child_pct) {
			next = g->ndaemons + v;
			if (p->live && !p->slices_left) {
				g->dying = *p;              /* done: exits once switched away */
				dying = true;
				p->live = false;
			}
			if (!p->live) {
				ll_spawn(g, p, v, 1, LL_CHILD_LEAVES);
				p->slices_left = g->child_slices;
				fresh = true;
			}
			p->slices_left--;
		} else {
			next = (uint32_t)gsl_ran_discrete(g->rng, g->pick_daemon);
		}
		ll_push(g, TR_CTX_SWITCH, v, 0, g->procs[next].task, WS_SWITCH_NS);
		if (out != (int64_t)next || fresh)
			ll_push(g, TR_CR3_LOAD, v, g->procs[next].tables[0], 0, 0);
		g->on_vcpu[v] = next;
		/* a child that ran its last slice exits once its vCPU switched away */
		if (dying)
			ll_exit(g, &g->dying, v);
		else if (out == (int64_t)(g->ndaemons + v) && next != (uint32_t)out && p->live &&
			 !p->slices_left)
			ll_exit(g, p, v);
		g->slice_proc = next;
		g->slice_left = 1 + gsl_ran_poisson(g->rng, (double)(g->accesses - 1));
		return true;
	case PH_END:
		while (g->end_i < g->ndaemons + g->vcpus && !g->procs[g->end_i].live)
			g->end_i++;
		if (g->end_i == g->ndaemons + g->vcpus) {
			g->phase = PH_DESTROY;
			return ll_refill(g);
		}
		ll_exit(g, &g->procs[g->end_i++], 0);
		return true;
	case PH_DESTROY:
		ll_push(g, TR_DOMAIN_DESTROY, 0, 0, 0, WS_SWITCH_NS);
		g->phase = PH_DONE;
		return true;
	case PH_DONE:
		break;
	}
	return false;
}

static int ll_next(struct rec_source *src, struct trace_rec *r)
{
	struct ll *g = (struct ll *)src;

	while (g->qi == g->qn)
		if (!ll_refill(g))
			return 0;
	*r = g->q[g->qi++];
	return 1;
}

static void ll_close(struct rec_source *src)
{
	struct ll *g = (struct ll *)src;

	if (g->rng)
		gsl_rng_free(g->rng);
	if (g->pick_daemon)
		gsl_ran_discrete_free(g->pick_daemon);
	if (g->pick_leaf)
		gsl_ran_discrete_free(g->pick_leaf);
	if (g->pick_child_leaf)
		gsl_ran_discrete_free(g->pick_child_leaf);
	free(g->procs);
	free(g->on_vcpu);
	free(g->q);
	free(g);
}

static struct rec_source *ll_open(const uint64_t *v, uint64_t seed, char *err, size_t errlen)
{
	struct ll *g = calloc(1, sizeof(*g));
	uint64_t pages;
	uint32_t i;

	if (!g)
		goto nomem;
	g->src.next = ll_next;
	g->src.close = ll_close;
	g->ndaemons = (uint32_t)v[L_DAEMONS];
	g->vcpus = (uint32_t)v[L_VCPUS];
	g->switches = v[L_SWITCHES];
	g->accesses = v[L_ACCESSES];
	g->skew = (uint32_t)v[L_SKEW];
	g->prefetch = v[L_PREFETCH];
	g->child_pct = (uint32_t)v[L_CHILD_PCT];
	g->child_slices = (uint32_t)v[L_CHILD_SLICES];
	/* round guest memory down to a power of two so the permutations are exact */
	for (pages = 1; pages * 2 <= v[L_MEM_MB] * 256; pages *= 2)
		;
	g->mem_pages = pages;
	g->regions = pages / 512;
	/* the largest batch: a switch, a cr3 load, a child's exit and a spawn */
	g->qcap = 2 * (size_t)LL_MAX_TABLES + 8;
	g->q = calloc(g->qcap, sizeof(*g->q));
	g->procs = calloc((size_t)g->ndaemons + g->vcpus, sizeof(*g->procs));
	g->on_vcpu = malloc(g->vcpus * sizeof(*g->on_vcpu));
	g->rng = gsl_rng_alloc(gsl_rng_mt19937);
	g->pick_daemon = zipf_table(g->ndaemons, g->skew);
	g->pick_leaf = zipf_table(LL_L2 * LL_LEAVES, g->skew);
	g->pick_child_leaf = zipf_table(LL_CHILD_LEAVES, g->skew);
	if (!g->q || !g->procs || !g->on_vcpu || !g->rng || !g->pick_daemon || !g->pick_leaf ||
	    !g->pick_child_leaf)
		goto nomem;
	for (i = 0; i < g->vcpus; i++)
		g->on_vcpu[i] = -1;
	gsl_rng_set(g->rng, (unsigned long)((seed ^ (seed >> 32)) & 0xffffffffu));
	snprintf(g->src.hdr.workload, sizeof(g->src.hdr.workload),
		 "seed 003 long-lived: %u daemons, short-lived children on %u vCPUs",
		 g->ndaemons, g->vcpus);
	return &g->src;
nomem:
	snprintf(err, errlen, "scenario long-lived: out of memory");
	if (g)
		ll_close(&g->src);
	return NULL;
}

const struct scenario scenario_long_lived = {
	.name = "long-lived",
	.doc = "long-lived daemons whose roots are the oldest shadow pages, and short-lived "
	       "children forked on every vCPU (seed 003)",
	.params = ll_params,
	.open = ll_open,
};
