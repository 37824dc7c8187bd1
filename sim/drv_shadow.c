/* SPDX-License-Identifier: MIT */
/*
 * sim/drv_shadow.c — drives models/shadow.c (seed 003): a bounded pool of shadow pages per
 * domain and its reclaim, fed by the guest's page-table activity.
 *
 * Machine model
 *   - Each domain is one VM with its own pool (KVM's limit is per VM).  A record is served
 *     on its vCPU; its latency is the cost of the work the model counted for it.  Nothing
 *     queues: the seed is about how much shadow work the policies cause, not contention.
 *   - The driver keeps the guest's page-table trees as the records reveal them:
 *       pt_alloc level >= 4   a new address space (its root); the vCPU is "building" it
 *                             until its fork record or the vCPU's next cr3 load (exec
 *                             builds one and runs in it without a cr3_load record)
 *       pt_alloc level 1..3   a table of the address space being built on the vCPU, else
 *                             of the one loaded; its parent is the most recent table one
 *                             level up in that address space (a fork copies an L2, then its
 *                             L1s; the recorded traces show exactly that order)
 *       pt_free               the table dies: its shadow page is zapped; a root's death
 *                             ends the address space
 *     Levels the trace never shows (L3 in the recorded traces; L2/L1 of an address space
 *     that existed before tracing) are synthetic tables, one per (address space, level), so
 *     every walk has the full depth.
 *   - Guest accesses → walks:
 *       cr3_load              the vCPU loads that root (shadow_load_root)
 *       page_fault            a walk from the vCPU's root to the address space's current
 *                             leaf: the last leaf table it allocated (the recorded faults
 *                             carry a gfn, not a virtual address, so which leaf maps the
 *                             faulting page is unknown; a fault right after pte_alloc_one is
 *                             in the new leaf, and later faults of a process mostly follow
 *                             on).  The walk sets the accessed bits along the path.
 *       pt_access             a walk to that table; arg = 1 sets the accessed bits, 0 does
 *                             not (a prefetch) — synthetic traces carry these
 *     A fault or access in an address space that is not the one the model has in the vCPU's
 *     cr3 first loads it (implicit_loads: exec, or faults before the first cr3 record).
 *   - Occupancy (pages in the pool) is a time series: every change of the pool of the first
 *     domain that uses one, between series_from_ns and series_to_ns.
 *   - tdp = 1 (EPT): the pool holds the EPT tables; every guest-physical access (page_write,
 *     page_fault, the guest's own walk in pt_access, pt_alloc, cr3_load) is an EPT walk to
 *     its frame; roots are per vCPU (or shared, tdp_roots) and guest frees leave them alone.
 *   - State follows use: a domain_create costs a 16-byte entry until the domain acts; vCPU
 *     state (here and in the model) is made on the vCPU's first record (state_bytes_peak).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "env_user.h"
#include "shadow.h"

static const char *const shadow_choices[] = { "fifo", "fifo-skip-roots", "clock", "accessed", NULL };

static const char *const shadow_policy_docs[] = {
	"zap the oldest shadow page (the original behaviour)",
	"zap the oldest shadow page no vCPU has loaded (KVM's kvm_mmu_zap_oldest_mmu_pages today)",
	"a scan hand skips pages whose parent PTEs were accessed; overscan limit used/4, then the "
	"first leaf seen, else the tail (the seed patch)",
	"an accessed flag per page from parent PTEs, dropped sptes and cr3 loads; prefer leaves",
	NULL,
};

enum { FL_SPREAD, FL_NEWEST };
static const char *const fault_leaf_choices[] = { "spread", "newest", NULL };
enum { TR_PER_VCPU, TR_SHARED };
static const char *const tdp_roots_choices[] = { "per-vcpu", "shared", NULL };

/*
 * The recorded traces say which frame a fault populated, not which leaf table maps it.
 * `spread` hashes the frame over the address space's live leaf tables (a process faults in
 * all its regions: text, heap, stack, libraries); `newest` sends every fault to the leaf
 * it allocated last (the narrowest reading: about 4 shadow pages per process).
 */
static const struct param_def machine_params[] = {
	{ "fault_leaf", PARAM_CHOICE, FL_SPREAD, 0, 0, fault_leaf_choices,
	  "leaf table a page fault walks to: spread (hash of the frame over the address "
	  "space's leaf tables) or newest (the last one it allocated)" },
	{ "resume_walk", PARAM_INT, 1, 0, 1, NULL,
	  "1: after a cr3 load the process resumes where it stopped: a walk to the leaf it "
	  "last walked to (the traces show faults, not the accesses that need no fault)" },
	{ "tdp_roots", PARAM_CHOICE, TR_PER_VCPU, 0, 0, tdp_roots_choices,
	  "tdp=1: per-vcpu (2009: the direct root was keyed by the vCPU's cr3, so vCPUs had "
	  "their own) or shared (from 2.6.36 one direct root for every vCPU)" },
	{ "series_from_ns", PARAM_INT, 0, 0, UINT64_MAX, NULL,
	  "occupancy series: first instant recorded (ns)" },
	{ "series_to_ns", PARAM_INT, UINT64_MAX, 1, UINT64_MAX, NULL,
	  "occupancy series: records before this instant (ns; the default is the whole run)" },
};

#define NONE UINT64_MAX
#define SYN_BIT (1ULL << 62)     /* gfns of synthetic tables: beyond any guest frame */
#define ROOT_LEVEL_MIN 4         /* pt_alloc at this level or above is a root */

struct gas;

struct gpt {                     /* a guest page-table page below the root */
	struct gpt *hnext;
	struct gas *as;
	uint64_t gfn;
	uint64_t parent_gfn;     /* the table one level up it was linked under, or NONE */
	uint32_t leaf_idx;       /* level 1: its slot in as->leaves */
	uint8_t level;
};

struct gas {                     /* a guest address space */
	struct gas *hnext;
	uint64_t root;           /* root gfn: the address-space id */
	uint64_t serial;         /* names its synthetic tables */
	uint64_t last[SHADOW_MAX_LEVELS + 1];   /* latest table per level, or NONE */
	uint64_t walked;         /* the leaf its last walk went to (NONE: the synthetic one) */
	bool has_walked;
	uint64_t *leaves;        /* live leaf tables (gfns), unordered */
	uint32_t nleaves, cap_leaves;
	uint32_t ntables;        /* gpts that point here */
	uint8_t root_level;
	bool dead;               /* root freed; the struct goes with its last gpt */
	bool in_hash;
};

struct gvcpu {                   /* made on the vCPU's first record: cost follows use */
	struct gvcpu *hnext;
	uint64_t id;
	struct gas *loaded, *building, *unknown;
};

struct htab {                    /* chained hash by a 64-bit key, grows by doubling */
	void **b;
	size_t nb, n;
	uint64_t *bytes;         /* the driver's state bytes, kept up to date */
};

/* A domain_create seen for a domain that has done nothing yet: all it costs. */
struct dom_seen {
	struct dom_seen *hnext;
	uint64_t id;
};

struct gdom {
	struct gdom *hnext;      /* d->dom_index chain */
	uint64_t id;
	struct shadow_model *m;  /* NULL until the domain's first shadow record */
	struct htab gpts, ases, vcpus;
	uint64_t serial;
	uint64_t model_bytes;    /* m's live bytes as last added to d->state_bytes */
	bool tdp;
};

struct shadow_drv {
	struct sim *s;
	const struct cost_profile *prof;
	const struct shadow_policy *pol;
	struct shadow_params p;
	uint64_t series_from, series_to;
	uint64_t fault_leaf;     /* FL_SPREAD or FL_NEWEST */
	uint64_t resume_walk;
	uint64_t tdp;            /* the pool holds EPT tables (model parameter tdp) */
	uint64_t tdp_roots;      /* TR_PER_VCPU or TR_SHARED */
	struct gdom **doms;      /* in order of creation (reports), and an index by id */
	uint32_t ndoms, cap_doms;
	struct htab dom_index;
	struct htab dom_seen;    /* created, not yet used (struct dom_seen) */
	uint64_t state_bytes, state_bytes_peak;   /* per-domain and per-vCPU state, models' */
	uint64_t ept_walks, ept_root_loads;
	uint32_t series_dom;     /* the domain whose occupancy is the series */
	bool have_series_dom;
	uint64_t now;

	/* occupancy points, kept until report (metrics are not available before) */
	struct { uint64_t t, v; } *occ;
	size_t nocc, cap_occ;
	bool occ_truncated;

	/* results */
	struct work total;
	struct shadow_stats st;          /* of destroyed domains */
	uint64_t used_peak;
	uint64_t shadow_ns, fault_walks, fault_ns;
	uint64_t cr3_loads, page_faults, pt_accesses, pt_allocs, pt_frees;
	uint64_t resume_walks, implicit_loads, implicit_domains, synthetic_walks, unknown_frees, unknown_accesses;
	uint64_t realloc_tables, ignored_records, model_errors, violations;
};

/* ---- small hash of gfn -> struct (gpt or gas; both start with their chain pointer) -------- */

static size_t hslot(const struct htab *h, uint64_t gfn)
{
	return (size_t)(env_mix64(gfn) & (h->nb - 1));
}

static int htab_init(struct htab *h, size_t nb, uint64_t *bytes)
{
	h->nb = nb;
	h->n = 0;
	h->bytes = bytes;
	h->b = host_calloc("the shadow driver's hash table", h->nb, sizeof(*h->b));
	if (h->b)
		*bytes += h->nb * sizeof(*h->b);
	return h->b ? 0 : -ENOMEM;
}

static void htab_fini(struct htab *h)
{
	if (h->b)
		*h->bytes -= h->nb * sizeof(*h->b);
	free(h->b);
	h->b = NULL;
}

/* The structs start with their chain pointer; these give their key. */
static uint64_t gpt_key(void *e) { return ((struct gpt *)e)->gfn; }
static uint64_t gas_key(void *e) { return ((struct gas *)e)->root; }
static uint64_t gvcpu_key(void *e) { return ((struct gvcpu *)e)->id; }
static uint64_t gdom_key(void *e) { return ((struct gdom *)e)->id; }
static uint64_t seen_key(void *e) { return ((struct dom_seen *)e)->id; }

static void *htab_find(const struct htab *h, uint64_t gfn, uint64_t (*key)(void *))
{
	void *e = h->b[hslot(h, gfn)];

	while (e && key(e) != gfn)
		e = *(void **)e;
	return e;
}

static void htab_put(struct htab *h, void *e, uint64_t gfn, uint64_t (*key)(void *))
{
	size_t i;

	if (h->n >= 2 * h->nb) {
		size_t nb = h->nb * 2;
		void **b = host_calloc("the shadow driver's hash table", nb, sizeof(*b));

		if (b) {   /* else the run has failed (host_calloc): it stops at the next record */
			for (i = 0; i < h->nb; i++) {
				void *x = h->b[i];

				while (x) {
					void *next = *(void **)x;
					size_t j = (size_t)(env_mix64(key(x)) & (nb - 1));

					*(void **)x = b[j];
					b[j] = x;
					x = next;
				}
			}
			free(h->b);
			*h->bytes += (nb - h->nb) * sizeof(*b);
			h->b = b;
			h->nb = nb;
		}
	}
	i = hslot(h, gfn);
	*(void **)e = h->b[i];
	h->b[i] = e;
	h->n++;
}

static void htab_del(struct htab *h, void *e, uint64_t gfn)
{
	void **pp = &h->b[hslot(h, gfn)];

	while (*pp && *pp != e)
		pp = (void **)*pp;
	if (*pp) {
		*pp = *(void **)e;
		h->n--;
	}
}

/* ---- time and work ---------------------------------------------------------------------- */

static uint64_t take_work(struct shadow_drv *d, struct shadow_model *m)
{
	uint64_t ns = sim_work_ns(d->s, d->prof, &m->work);

	work_accumulate(&d->total, &m->work);
	work_reset(&m->work);
	m->work.footprint_bytes = m->used * SHADOW_PAGE_BYTES;
	return ns;
}

static void observe_occupancy(void *arg, uint64_t used)
{
	struct shadow_drv *d = arg;

	if (d->now < d->series_from || d->now >= d->series_to || d->occ_truncated)
		return;
	if (d->nocc == d->cap_occ) {
		size_t n = d->cap_occ ? 2 * d->cap_occ : 1024;
		void *p = host_reallocarray("the occupancy series", d->occ, n, sizeof(*d->occ));

		if (!p) {
			d->occ_truncated = true;   /* the run has failed (host_reallocarray) */
			return;
		}
		d->occ = p;
		d->cap_occ = n;
	}
	d->occ[d->nocc].t = d->now;
	d->occ[d->nocc].v = used;
	d->nocc++;
}

/* ---- domains, address spaces, tables ------------------------------------------------------- */

static void add_stats(struct shadow_stats *to, const struct shadow_stats *from)
{
#define SUM(f) to->f += from->f
	SUM(walks); SUM(shadow_faults); SUM(builds); SUM(rebuilds); SUM(relinks);
	SUM(root_loads); SUM(root_reloads); SUM(zaps); SUM(recycled); SUM(zaps_guest);
	SUM(roots_zapped); SUM(leaves_zapped); SUM(parentless_zapped); SUM(reclaims); SUM(pages_scanned);
	SUM(ptes_tested); SUM(ptes_cleared); SUM(overscans); SUM(overscan_extended);
	SUM(alloc_failed); SUM(reload_requests); SUM(invalid_roots_freed); SUM(reclaim_stuck);
#undef SUM
	to->scan_max = ENV_MAX(to->scan_max, from->scan_max);
	to->used_peak = ENV_MAX(to->used_peak, from->used_peak);
	to->invalid_peak = ENV_MAX(to->invalid_peak, from->invalid_peak);
}

static void state_add(struct shadow_drv *d, int64_t delta)
{
	d->state_bytes += (uint64_t)delta;
	if (d->state_bytes > d->state_bytes_peak)
		d->state_bytes_peak = d->state_bytes;
}

/* The model's memory changed: bring d->state_bytes up to date. */
static void model_bytes_sync(struct shadow_drv *d, struct gdom *g)
{
	uint64_t now = g->m ? g->m->mem.live_bytes : 0;

	state_add(d, (int64_t)(now - g->model_bytes));
	g->model_bytes = now;
}

static struct gdom *dom_find(struct shadow_drv *d, uint32_t id)
{
	return htab_find(&d->dom_index, id, gdom_key);
}

static void gas_free(struct gas *as)
{
	free(as->leaves);
	free(as);
}

static void dom_free(struct shadow_drv *d, struct gdom *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; g->gpts.b && i < g->gpts.nb; i++)
		while (g->gpts.b[i]) {
			struct gpt *t = g->gpts.b[i];

			g->gpts.b[i] = t->hnext;
			if (--t->as->ntables == 0 && t->as->dead)
				gas_free(t->as);
			free(t);
		}
	for (i = 0; g->ases.b && i < g->ases.nb; i++)
		while (g->ases.b[i]) {
			struct gas *as = g->ases.b[i];

			g->ases.b[i] = as->hnext;
			gas_free(as);   /* its gpts are gone already */
		}
	for (i = 0; g->vcpus.b && i < g->vcpus.nb; i++)
		while (g->vcpus.b[i]) {
			struct gvcpu *v = g->vcpus.b[i];

			g->vcpus.b[i] = v->hnext;
			if (v->unknown)
				gas_free(v->unknown);
			free(v);
			d->state_bytes -= sizeof(*v);
		}
	htab_fini(&g->gpts);
	htab_fini(&g->ases);
	htab_fini(&g->vcpus);
	shadow_model_destroy(g->m);
	g->m = NULL;
	model_bytes_sync(d, g);
	free(g);
	d->state_bytes -= sizeof(*g);
}

/* A domain costs a small record until its first shadow record (dom_ready). */
static struct gdom *dom_get(struct shadow_drv *d, uint32_t id, bool *created)
{
	struct gdom *g = dom_find(d, id);

	*created = false;
	if (g)
		return g;
	if (d->ndoms == d->cap_doms) {
		uint32_t n = d->cap_doms ? 2 * d->cap_doms : 8;
		struct gdom **nd = host_reallocarray("the domain table", d->doms, n, sizeof(*nd));

		if (!nd)
			return NULL;
		state_add(d, (int64_t)((n - d->cap_doms) * sizeof(*nd)));
		d->doms = nd;
		d->cap_doms = n;
	}
	g = host_calloc("a domain", 1, sizeof(*g));
	if (!g)
		return NULL;
	state_add(d, sizeof(*g));
	g->id = id;
	g->tdp = d->tdp != 0;
	htab_put(&d->dom_index, g, id, gdom_key);
	d->doms[d->ndoms++] = g;
	*created = true;
	return g;
}

/* The domain's pool and tables, made when it first needs them.  0 or -ENOMEM. */
static int dom_ready(struct shadow_drv *d, struct gdom *g)
{
	if (g->m)
		return 0;
	if ((!g->gpts.b && htab_init(&g->gpts, 16, &d->state_bytes)) ||
	    (!g->ases.b && htab_init(&g->ases, 16, &d->state_bytes)) ||
	    (!g->vcpus.b && htab_init(&g->vcpus, 4, &d->state_bytes)))
		return -ENOMEM;
	g->m = shadow_model_create(d->pol, &d->p);
	if (!g->m)
		return -ENOMEM;
	model_bytes_sync(d, g);
	if (!d->have_series_dom) {
		d->have_series_dom = true;
		d->series_dom = (uint32_t)g->id;
	}
	if (d->series_dom == g->id) {
		g->m->observe = observe_occupancy;
		g->m->observe_arg = d;
	}
	return 0;
}

static struct gvcpu *vcpu_get(struct shadow_drv *d, struct gdom *g, uint32_t id)
{
	struct gvcpu *v = htab_find(&g->vcpus, id, gvcpu_key);

	if (v)
		return v;
	v = host_calloc("a vCPU", 1, sizeof(*v));
	if (!v)
		return NULL;
	state_add(d, sizeof(*v));
	v->id = id;
	htab_put(&g->vcpus, v, id, gvcpu_key);
	return v;
}

static struct gas *gas_new(struct gdom *g, uint64_t root, uint8_t level)
{
	struct gas *as = host_calloc("an address space", 1, sizeof(*as));
	unsigned i;

	if (!as)
		return NULL;
	as->root = root;
	as->root_level = level;
	as->serial = ++g->serial;
	for (i = 0; i <= SHADOW_MAX_LEVELS; i++)
		as->last[i] = NONE;
	as->walked = NONE;
	return as;
}

static struct shadow_key syn_key(const struct gas *as, unsigned level)
{
	struct shadow_key k = { SYN_BIT | (as->serial << 4) | level, (uint8_t)level };

	return k;
}

static struct shadow_key root_key(const struct gas *as)
{
	struct shadow_key k = { as->root, as->root_level };

	return k;
}

/* The address space of accesses on this vCPU: the one being built, else the loaded one,
 * else the vCPU's "whatever was in cr3 when tracing started". */
static struct gas *current_as(struct gdom *g, struct gvcpu *v)
{
	if (v->building)
		return v->building;
	if (v->loaded)
		return v->loaded;
	if (!v->unknown) {
		v->unknown = gas_new(g, 0, ROOT_LEVEL_MIN);
		if (v->unknown)
			v->unknown->root = syn_key(v->unknown, ROOT_LEVEL_MIN).gfn;
	}
	return v->unknown;
}

/* Drops every vCPU reference to as (its root died). */
static void forget_as(struct gdom *g, struct gas *as)
{
	size_t i;
	struct gvcpu *v;

	for (i = 0; i < g->vcpus.nb; i++)
		for (v = g->vcpus.b[i]; v; v = v->hnext) {
			if (v->loaded == as)
				v->loaded = NULL;
			if (v->building == as)
				v->building = NULL;
		}
}

/* The root died: its shadow root and synthetic tables go; the struct stays while tables
 * still name it. */
static void as_end(struct shadow_drv *d, struct gdom *g, struct gas *as)
{
	unsigned l;

	if (!g->tdp) {          /* EPT tables outlive guest tables */
		shadow_guest_free(g->m, root_key(as));
		for (l = 1; l < as->root_level; l++)
			shadow_guest_free(g->m, syn_key(as, l));
	}
	forget_as(g, as);
	if (as->in_hash) {
		htab_del(&g->ases, as, as->root);
		as->in_hash = false;
	}
	as->dead = true;
	if (!as->ntables)
		gas_free(as);
	(void)d;
}

static void table_end(struct gdom *g, struct gpt *t)
{
	struct gas *as = t->as;
	struct shadow_key k = { t->gfn, t->level };

	if (!g->tdp)
		shadow_guest_free(g->m, k);
	htab_del(&g->gpts, t, t->gfn);
	if (as->last[t->level] == t->gfn)
		as->last[t->level] = NONE;
	if (t->level == 1) {
		uint64_t moved = as->leaves[--as->nleaves];

		if (t->leaf_idx < as->nleaves) {
			struct gpt *m = htab_find(&g->gpts, moved, gpt_key);

			as->leaves[t->leaf_idx] = moved;
			if (m)
				m->leaf_idx = t->leaf_idx;
		}
		if (as->has_walked && as->walked == t->gfn)
			as->has_walked = false;
	}
	free(t);
	if (--as->ntables == 0 && as->dead)
		gas_free(as);
}

static int pt_alloc(struct shadow_drv *d, struct gdom *g, struct gvcpu *v,
		    const struct trace_rec *r)
{
	uint8_t level = (uint8_t)r->arg;
	struct gpt *t;
	struct gas *as;

	d->pt_allocs++;
	if (level >= ROOT_LEVEL_MIN) {
		as = htab_find(&g->ases, r->frame, gas_key);
		if (as) {            /* a free we never saw */
			d->realloc_tables++;
			as_end(d, g, as);
		}
		as = gas_new(g, r->frame, level);
		if (!as)
			return -ENOMEM;
		htab_put(&g->ases, as, as->root, gas_key);
		as->in_hash = true;
		v->building = as;
		return 0;
	}
	t = htab_find(&g->gpts, r->frame, gpt_key);
	if (t) {
		d->realloc_tables++;
		table_end(g, t);
	}
	as = current_as(g, v);
	t = host_calloc("a guest page table", 1, sizeof(*t));
	if (!as || !t) {
		free(t);
		return -ENOMEM;
	}
	t->gfn = r->frame;
	t->level = level;
	t->as = as;
	t->parent_gfn = level + 1 < as->root_level ? as->last[level + 1] : NONE;
	if (level == 1) {
		if (as->nleaves == as->cap_leaves) {
			uint32_t n = as->cap_leaves ? 2 * as->cap_leaves : 8;
			uint64_t *nl = host_reallocarray("an address space's leaf list", as->leaves, n, sizeof(*nl));

			if (!nl) {
				free(t);
				return -ENOMEM;
			}
			as->leaves = nl;
			as->cap_leaves = n;
		}
		t->leaf_idx = as->nleaves;
		as->leaves[as->nleaves++] = r->frame;
	}
	as->ntables++;
	as->last[level] = r->frame;
	htab_put(&g->gpts, t, t->gfn, gpt_key);
	return 0;
}

static void pt_free(struct shadow_drv *d, struct gdom *g, const struct trace_rec *r)
{
	d->pt_frees++;
	if (r->arg >= ROOT_LEVEL_MIN) {
		struct gas *as = htab_find(&g->ases, r->frame, gas_key);

		if (as)
			as_end(d, g, as);
		else
			d->unknown_frees++;
	} else {
		struct gpt *t = htab_find(&g->gpts, r->frame, gpt_key);

		if (t && t->level == r->arg)
			table_end(g, t);
		else
			d->unknown_frees++;
	}
}

/*
 * The path root .. target (target: a table of `as` at `level`, or NONE for the synthetic
 * one).  Levels the trace did not show are the address space's synthetic tables.
 */
static unsigned build_path(struct gdom *g, struct gas *as, uint64_t target, unsigned level,
			   struct shadow_key *path, bool *synthetic)
{
	unsigned n = as->root_level - level + 1, l;
	uint64_t gfn = target;

	*synthetic = false;
	path[0] = root_key(as);
	for (l = level; l < as->root_level; l++) {
		struct gpt *t = gfn == NONE ? NULL : htab_find(&g->gpts, gfn, gpt_key);

		if (t && t->level == l && t->as == as) {
			path[as->root_level - l].gfn = t->gfn;
			path[as->root_level - l].level = (uint8_t)l;
			gfn = t->parent_gfn;
		} else {
			path[as->root_level - l] = syn_key(as, l);
			if (l == level)
				*synthetic = true;   /* the target itself is unknown */
			gfn = NONE;
		}
	}
	return n;
}

/* The model's cr3 for this vCPU must be the address space's root before it walks. */
static int ensure_loaded(struct shadow_drv *d, struct gdom *g, uint32_t vcpu, struct gas *as)
{
	struct shadow_vcpu_info vi;
	struct shadow_key k = root_key(as);

	if (shadow_vcpu_info(g->m, vcpu, &vi) == 0 && vi.cr3.gfn == k.gfn && vi.cr3.level == k.level)
		return 0;
	d->implicit_loads++;
	return shadow_load_root(g->m, vcpu, k);
}

static int walk_to(struct shadow_drv *d, struct gdom *g, uint32_t vcpu, struct gas *as,
		   uint64_t target, unsigned level, bool set_accessed)
{
	struct shadow_key path[SHADOW_MAX_LEVELS];
	bool synthetic;
	unsigned n;
	int rc = ensure_loaded(d, g, vcpu, as);

	if (rc < 0)
		return rc;
	n = build_path(g, as, target, level, path, &synthetic);
	d->synthetic_walks += synthetic;
	rc = shadow_walk(g->m, vcpu, path, n, set_accessed);
	d->fault_walks += rc == 1;
	if (level == 1) {
		as->walked = target;
		as->has_walked = true;
	}
	return rc;
}

/* The leaf table a page fault on `frame` walks to (NONE: the synthetic leaf). */
static uint64_t fault_leaf(const struct shadow_drv *d, const struct gas *as, uint64_t frame)
{
	if (d->fault_leaf == FL_NEWEST || !as->nleaves)
		return as->last[1];
	if (frame == NONE)   /* no frame (a fault that allocated nothing): stay where it was */
		return as->has_walked && as->walked != NONE ? as->walked
							    : as->leaves[as->nleaves - 1];
	return as->leaves[env_mix64(frame) % as->nleaves];
}

/* ---- EPT/TDP (tdp = 1) ------------------------------------------------------------------- */

/*
 * The pool holds the EPT tables: a direct map of guest-physical memory.  A table at level
 * l covers 2^(9 l) guest frames (a leaf table: 2 MiB), so its key is the frame >> 9 l.
 * Each vCPU has its own root (in 2009 KVM keyed the direct root by the vCPU's cr3, so
 * vCPUs running different processes had different roots), loaded at its first access;
 * guest cr3 loads do not exit.  The hardware sets no accessed bit (model parameter tdp).
 */
static struct shadow_key ept_root(const struct shadow_drv *d, uint32_t vcpu)
{
	struct shadow_key k = { SYN_BIT | (d->tdp_roots == TR_SHARED ? 0 : vcpu), 4 };

	return k;
}

/* One guest-physical access: the EPT walk root -> L3 -> L2 -> leaf table. */
static int ept_walk(struct shadow_drv *d, struct gdom *g, uint32_t vcpu, uint64_t frame)
{
	struct shadow_key path[4] = { ept_root(d, vcpu), { frame >> 27, 3 }, { frame >> 18, 2 },
				      { frame >> 9, 1 } };
	struct shadow_vcpu_info vi;
	int rc;

	if (shadow_vcpu_info(g->m, vcpu, &vi) || !vi.cr3.level) {
		d->ept_root_loads++;    /* the vCPU's first entry: mmu_alloc_roots */
		rc = shadow_load_root(g->m, vcpu, path[0]);
		if (rc < 0)
			return rc;
	}
	d->ept_walks++;
	return shadow_walk(g->m, vcpu, path, 4, false);
}

/* The guest's own walk to table t reads each of its tables through the EPT. */
static int ept_guest_walk(struct shadow_drv *d, struct gdom *g, uint32_t vcpu, struct gpt *t,
			  uint64_t frame)
{
	struct shadow_key path[SHADOW_MAX_LEVELS];
	struct gas *as = t ? t->as : htab_find(&g->ases, frame, gas_key);
	bool synthetic;
	unsigned n, i;
	int rc = 0, r1;

	if (!as) {
		d->unknown_accesses++;
		return ept_walk(d, g, vcpu, frame);
	}
	n = build_path(g, as, t ? t->gfn : as->root, t ? t->level : as->root_level, path,
		       &synthetic);
	for (i = 0; i < n; i++) {
		if (path[i].gfn & SYN_BIT)
			continue;       /* a table the trace never showed: no address to walk */
		r1 = ept_walk(d, g, vcpu, path[i].gfn);
		if (r1 < 0)
			return r1;
		rc |= r1;
	}
	return rc;
}

/* ---- records --------------------------------------------------------------------------- */

static int on_record(struct sim *s, void *ctx, const struct trace_rec *r)
{
	struct shadow_drv *d = ctx;
	struct gdom *g;
	struct gvcpu *v;
	struct gas *as;
	bool created;
	uint64_t ns;
	int rc = 0;

	d->now = r->time_ns;
	switch (r->type) {
	case TR_DOMAIN_CREATE:
	case TR_PT_ALLOC:
	case TR_PT_FREE:
	case TR_CR3_LOAD:
	case TR_FORK:
	case TR_PAGE_FAULT:
	case TR_PT_ACCESS:
		break;
	case TR_PAGE_WRITE:
		if (d->tdp)
			break;            /* under EPT every guest-physical access may need a walk */
		d->ignored_records++;
		return 0;
	case TR_DOMAIN_DESTROY: {
		struct dom_seen *ds = htab_find(&d->dom_seen, r->domain, seen_key);

		if (ds) {          /* created and destroyed without doing anything */
			htab_del(&d->dom_seen, ds, ds->id);
			free(ds);
			d->state_bytes -= sizeof(*ds);
		}
		g = dom_find(d, r->domain);
		if (g) {
			if (g->m) {
				if (shadow_check(g->m))
					d->violations++;
				add_stats(&d->st, &g->m->stats);
				work_accumulate(&d->total, &g->m->work);
			}
			htab_del(&d->dom_index, g, g->id);
			for (uint32_t i = 0; i < d->ndoms; i++)
				if (d->doms[i] == g)
					d->doms[i] = d->doms[--d->ndoms];
			dom_free(d, g);
		}
		return 0;
	}
	default:
		d->ignored_records++;
		return 0;
	}
	if (r->type == TR_DOMAIN_CREATE) {
		/* a domain costs only this until it does something */
		if (!dom_find(d, r->domain) && !htab_find(&d->dom_seen, r->domain, seen_key)) {
			struct dom_seen *ds = host_calloc("a created domain", 1, sizeof(*ds));

			if (!ds) {
				snprintf(s->err, sizeof(s->err), "out of memory recording domain %u",
					 r->domain);
				return -1;
			}
			ds->id = r->domain;
			htab_put(&d->dom_seen, ds, ds->id, seen_key);
			state_add(d, sizeof(*ds));
		}
		sim_digest_add(s, 0);     /* as a record that did no work */
		return 0;
	}
	g = dom_get(d, r->domain, &created);
	if (!g) {
		snprintf(s->err, sizeof(s->err), "out of memory creating the shadow state of domain %u",
			 r->domain);
		return -1;
	}
	if (created) {
		struct dom_seen *ds = htab_find(&d->dom_seen, r->domain, seen_key);

		if (ds) {
			htab_del(&d->dom_seen, ds, ds->id);
			free(ds);
			d->state_bytes -= sizeof(*ds);
		} else {
			d->implicit_domains++;
		}
	}
	if (dom_ready(d, g)) {
		snprintf(s->err, sizeof(s->err), "out of memory creating the shadow state of domain %u",
			 r->domain);
		return -1;
	}
	v = vcpu_get(d, g, r->vcpu);
	if (!v) {
		snprintf(s->err, sizeof(s->err), "out of memory for vCPU %u", r->vcpu);
		return -1;
	}
	switch (r->type) {
	case TR_PT_ALLOC:
		rc = pt_alloc(d, g, v, r);
		if (rc >= 0 && g->tdp)
			rc = ept_walk(d, g, r->vcpu, r->frame);   /* the guest writes the new table */
		break;
	case TR_PT_FREE:
		pt_free(d, g, r);
		break;
	case TR_CR3_LOAD:
		d->cr3_loads++;
		as = htab_find(&g->ases, r->frame, gas_key);
		if (!as) {        /* an address space older than the trace */
			as = gas_new(g, r->frame, ROOT_LEVEL_MIN);
			if (!as) {
				rc = -ENOMEM;
				break;
			}
			htab_put(&g->ases, as, as->root, gas_key);
			as->in_hash = true;
		}
		v->loaded = as;
		v->building = NULL;
		if (g->tdp) {     /* no exit under EPT; the next guest walk reads the new root */
			rc = ept_walk(d, g, r->vcpu, r->frame);
			break;
		}
		rc = shadow_load_root(g->m, r->vcpu, root_key(as));
		if (rc >= 0 && d->resume_walk && as->has_walked) {
			int rw = walk_to(d, g, r->vcpu, as, as->walked, 1, true);

			d->resume_walks++;
			rc = rw < 0 ? rw : rc | rw;
		}
		break;
	case TR_FORK:
		v->building = NULL;
		break;
	case TR_PAGE_FAULT:
		d->page_faults++;
		if (g->tdp) {     /* the guest handles it; the page it fills is touched */
			if (r->frame != NONE)
				rc = ept_walk(d, g, r->vcpu, r->frame);
			break;
		}
		as = current_as(g, v);
		if (!as) {
			rc = -ENOMEM;
			break;
		}
		rc = walk_to(d, g, r->vcpu, as, fault_leaf(d, as, r->frame), 1, true);
		break;
	case TR_PT_ACCESS: {
		struct gpt *t = htab_find(&g->gpts, r->frame, gpt_key);

		d->pt_accesses++;
		if (g->tdp) {
			rc = ept_guest_walk(d, g, r->vcpu, t, r->frame);
		} else if (t) {
			rc = walk_to(d, g, r->vcpu, t->as, t->gfn, t->level, r->arg != 0);
		} else if ((as = htab_find(&g->ases, r->frame, gas_key))) {
			rc = walk_to(d, g, r->vcpu, as, as->root, as->root_level, r->arg != 0);
		} else {
			d->unknown_accesses++;
		}
		break;
	}
	case TR_PAGE_WRITE:
		rc = ept_walk(d, g, r->vcpu, r->frame);
		break;
	default:
		break;
	}
	model_bytes_sync(d, g);
	ns = take_work(d, g->m);
	d->shadow_ns = sim_add(s, d->shadow_ns, ns, "the total time of the shadow operations");
	if (rc == 1)
		d->fault_ns = sim_add(s, d->fault_ns, ns, "the total time of the faults");
	if (rc < 0)
		d->model_errors++;   /* no memory: the access is dropped, the run goes on */
	sim_digest_add(s, ns ^ ((uint64_t)(uint8_t)rc << 56) ^ ((uint64_t)g->m->used << 32));
	return 0;
}

static int on_event(struct sim *s, void *ctx, const struct sim_event *ev)
{
	(void)ctx;
	snprintf(s->err, sizeof(s->err), "shadow driver: unknown event kind %u", ev->kind);
	return -1;
}

static const struct sim_handlers shadow_handlers = { on_record, on_event };

/* ---- life cycle ------------------------------------------------------------------------- */

static void shadow_add_params(struct param_set *ps)
{
	param_set_add_model(ps, "model", shadow_param_table, SHADOW_NPARAMS);
	param_set_add(ps, "machine", machine_params, ENV_ARRAY_SIZE(machine_params));
}

static void *shadow_create(struct sim *s, const char *policy, const struct param_set *ps,
			   const struct cost_profile *prof, char *err, size_t errlen)
{
	const struct shadow_policy *pol = shadow_policy_find(policy);
	struct shadow_drv *d;
	struct shadow_params p;

	if (!pol) {
		snprintf(err, errlen, "unknown policy '%s'", policy);
		return NULL;
	}
	p.limit = param_get(ps, "limit");
	p.min_free = param_get(ps, "min_free");
	p.refill = param_get(ps, "refill");
	p.overscan_div = param_get(ps, "overscan_div");
	p.hand_persist = param_get(ps, "hand_persist");
	p.clock_fallback_skips_roots = param_get(ps, "clock_fallback_skips_roots");
	p.tdp = param_get(ps, "tdp");
	if (shadow_params_validate(&p)) {
		snprintf(err, errlen, "inconsistent shadow parameters: need limit >= %u and "
			 "1 <= min_free <= refill <= limit (got limit=%" PRIu64 " min_free=%" PRIu64
			 " refill=%" PRIu64 ")", SHADOW_MAX_LEVELS, p.limit, p.min_free, p.refill);
		return NULL;
	}
	if (shadow_policy_usable(pol, &p)) {
		snprintf(err, errlen, "policy %s needs accessed bits, and EPT/TDP (tdp=1) has none "
			 "(the seed: \"EPT doesn't have an accessed bit\"); use clock, fifo or "
			 "fifo-skip-roots", pol->name);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->s = s;
	d->prof = prof;
	d->pol = pol;
	d->p = p;
	d->series_from = param_get(ps, "series_from_ns");
	d->series_to = param_get(ps, "series_to_ns");
	d->fault_leaf = param_get(ps, "fault_leaf");
	d->resume_walk = param_get(ps, "resume_walk");
	d->tdp = p.tdp;
	d->tdp_roots = param_get(ps, "tdp_roots");
	if (htab_init(&d->dom_index, 16, &d->state_bytes) ||
	    htab_init(&d->dom_seen, 16, &d->state_bytes)) {
		htab_fini(&d->dom_index);
		free(d);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return d;
}

static void shadow_report(void *ctx, struct sim *s, struct metrics *mx)
{
	struct shadow_drv *d = ctx;
	struct shadow_stats st = d->st;
	uint64_t occupancy_end = 0;
	char name[64];
	unsigned u;
	size_t i;

	(void)s;
	for (i = 0; i < d->ndoms; i++) {
		struct gdom *g = d->doms[i];

		if (!g->m)
			continue;         /* created, never used */
		if (shadow_check(g->m))
			d->violations++;
		add_stats(&st, &g->m->stats);
		occupancy_end += g->m->used;
	}
	for (i = 0; i < d->nocc; i++)
		metrics_series_add(mx, "occupancy", d->occ[i].t, (double)d->occ[i].v);

	metrics_set(mx, "shadow_faults", (double)st.shadow_faults);
	metrics_set(mx, "rebuilds", (double)st.rebuilds);
	metrics_set(mx, "zaps", (double)st.zaps);
	metrics_set(mx, "recycled", (double)st.recycled);
	metrics_set(mx, "builds", (double)st.builds);
	metrics_set(mx, "relinks", (double)st.relinks);
	metrics_set(mx, "zaps_guest", (double)st.zaps_guest);
	metrics_set(mx, "roots_zapped", (double)st.roots_zapped);
	metrics_set(mx, "leaves_zapped", (double)st.leaves_zapped);
	metrics_set(mx, "parentless_zapped", (double)st.parentless_zapped);
	metrics_set(mx, "root_reloads", (double)st.root_reloads);
	metrics_set(mx, "reload_requests", (double)st.reload_requests);
	metrics_set(mx, "invalid_roots_freed", (double)st.invalid_roots_freed);
	metrics_set(mx, "invalid_peak", (double)st.invalid_peak);
	metrics_set(mx, "reclaim_stuck", (double)st.reclaim_stuck);
	metrics_set(mx, "ept_walks", (double)d->ept_walks);
	metrics_set(mx, "ept_root_loads", (double)d->ept_root_loads);
	metrics_set(mx, "state_bytes_peak", (double)d->state_bytes_peak);
	metrics_set(mx, "reclaims", (double)st.reclaims);
	metrics_set(mx, "pages_scanned", (double)st.pages_scanned);
	metrics_set(mx, "pages_scanned_per_reclaim_mean",
		    st.recycled ? (double)st.pages_scanned / (double)st.recycled : 0);
	metrics_set(mx, "pages_scanned_per_reclaim_max", (double)st.scan_max);
	metrics_set(mx, "ptes_tested", (double)st.ptes_tested);
	metrics_set(mx, "ptes_cleared", (double)st.ptes_cleared);
	metrics_set(mx, "overscans", (double)st.overscans);
	metrics_set(mx, "overscan_extended", (double)st.overscan_extended);
	metrics_set(mx, "walks", (double)st.walks);
	metrics_set(mx, "root_loads", (double)st.root_loads);
	metrics_set(mx, "occupancy_peak", (double)st.used_peak);
	metrics_set(mx, "occupancy_end", (double)occupancy_end);
	metrics_set(mx, "shadow_ns", (double)d->shadow_ns);
	metrics_set(mx, "fault_ns_mean", d->fault_walks ? (double)(d->fault_ns / d->fault_walks) : 0);
	metrics_set(mx, "cr3_loads", (double)d->cr3_loads);
	metrics_set(mx, "page_faults", (double)d->page_faults);
	metrics_set(mx, "pt_accesses", (double)d->pt_accesses);
	metrics_set(mx, "pt_allocs", (double)d->pt_allocs);
	metrics_set(mx, "pt_frees", (double)d->pt_frees);
	metrics_set(mx, "resume_walks", (double)d->resume_walks);
	metrics_set(mx, "implicit_loads", (double)d->implicit_loads);
	metrics_set(mx, "synthetic_target_walks", (double)d->synthetic_walks);
	metrics_set(mx, "unknown_frees", (double)d->unknown_frees);
	metrics_set(mx, "unknown_accesses", (double)d->unknown_accesses);
	metrics_set(mx, "realloc_tables", (double)d->realloc_tables);
	metrics_set(mx, "alloc_failed", (double)st.alloc_failed);
	metrics_set(mx, "model_errors", (double)d->model_errors);
	metrics_set(mx, "invariant_violations", (double)d->violations);
	metrics_set(mx, "ignored_records", (double)d->ignored_records);
	metrics_set(mx, "implicit_domains", (double)d->implicit_domains);
	metrics_set(mx, "series_truncated", d->occ_truncated ? 1 : 0);
	for (u = 0; u < WU__COUNT; u++) {
		if (!d->total.n[u])
			continue;
		snprintf(name, sizeof(name), "work_%s", work_unit_names[u]);
		metrics_set(mx, name, (double)d->total.n[u]);
	}
}

static void shadow_destroy(void *ctx)
{
	struct shadow_drv *d = ctx;
	uint32_t i;

	if (!d)
		return;
	for (i = 0; i < d->ndoms; i++)
		dom_free(d, d->doms[i]);
	htab_fini(&d->dom_index);
	for (i = 0; d->dom_seen.b && i < d->dom_seen.nb; i++)
		while (d->dom_seen.b[i]) {
			struct dom_seen *ds = d->dom_seen.b[i];

			d->dom_seen.b[i] = ds->hnext;
			free(ds);
		}
	htab_fini(&d->dom_seen);
	free(d->doms);
	free(d->occ);
	free(d);
}

/* What shadow_report() puts into the metrics: the models' counters summed over domains, then
 * the driver's own (records seen, walks made).  A walk maps one guest path into the pool. */
static const struct metric_def shadow_metric_defs[] = {
	{ "shadow_faults", "count", "walks that built a shadow page or created a link", NULL,
	  false },
	{ "rebuilds", "count", "shadow pages built again after reclaim had zapped the same key",
	  NULL, false },
	{ "zaps", "count", "shadow pages torn down, by reclaim or guest frees (recycled + "
	  "zaps_guest)", NULL, false },
	{ "recycled", "count", "reclaim victims (KVM's mmu_recycled)", NULL, false },
	{ "builds", "count", "shadow pages built", NULL, false },
	{ "relinks", "count", "links made to a page already in the pool", NULL, false },
	{ "zaps_guest", "count", "shadow pages torn down because the guest freed the table", NULL,
	  false },
	{ "roots_zapped", "count", "reclaim victims that were loaded roots", NULL, false },
	{ "leaves_zapped", "count", "reclaim victims at level 1", NULL, false },
	{ "parentless_zapped", "count", "reclaim victims with no parent PTE and no vCPU "
	  "(unloaded roots, orphans)", NULL, false },
	{ "root_reloads", "count", "vCPU root reloads forced by zapping a loaded root", NULL,
	  false },
	{ "reload_requests", "count", "zaps of a loaded root (each asks every vCPU to reload)",
	  NULL, false },
	{ "invalid_roots_freed", "count", "invalid roots freed when their last vCPU let go", NULL,
	  false },
	{ "invalid_peak", "pages", "most invalid roots in one pool at once", NULL, false },
	{ "reclaim_stuck", "count", "walks refused because only loaded roots were left to zap",
	  NULL, false },
	{ "ept_walks", "count", "EPT walks of guest-physical frames (tdp=1; 0 otherwise)", NULL,
	  false },
	{ "ept_root_loads", "count", "EPT roots allocated at a vCPU's first entry (tdp=1; 0 "
	  "otherwise)", NULL, false },
	{ "state_bytes_peak", "bytes", "most bytes of per-domain and per-vCPU state, the driver's "
	  "and the models' accounted bytes together", NULL, false },
	{ "reclaims", "count", "make-room episodes of reclaim", NULL, false },
	{ "pages_scanned", "pages", "shadow pages looked at while choosing victims, all reclaims",
	  NULL, false },
	{ "pages_scanned_per_reclaim_mean", "pages", "mean pages looked at per victim chosen",
	  NULL, false },
	{ "pages_scanned_per_reclaim_max", "pages", "most pages looked at for one victim", NULL,
	  false },
	{ "ptes_tested", "count", "parent PTEs whose accessed bit scans tested", NULL, false },
	{ "ptes_cleared", "count", "accessed bits scans found set (and cleared)", NULL, false },
	{ "overscans", "count", "victims chosen after the scan window held no candidate", NULL,
	  false },
	{ "overscan_extended", "count", "of those, windows that held only roots, so the scan "
	  "looked further", NULL, false },
	{ "walks", "count", "walks served (faults, accesses, root loads)", NULL, false },
	{ "root_loads", "count", "cr3 loads the models served", NULL, false },
	{ "occupancy_peak", "pages", "most shadow pages in one pool at once", NULL, false },
	{ "occupancy_end", "pages", "shadow pages in all pools at the end", NULL, false },
	{ "shadow_ns", "ns", "priced time of all shadow work (walks, builds, zaps, scans), summed "
	  "over the run", NULL, false },
	{ "fault_ns_mean", "ns", "mean priced time of a walk that built or linked (a shadow "
	  "fault)", NULL, false },
	{ "cr3_loads", "count", "cr3-load records replayed", NULL, false },
	{ "page_faults", "count", "page-fault records replayed", NULL, false },
	{ "pt_accesses", "count", "page-table access records replayed", NULL, false },
	{ "pt_allocs", "count", "page-table allocation records replayed", NULL, false },
	{ "pt_frees", "count", "page-table free records replayed", NULL, false },
	{ "resume_walks", "count", "walks to a root's last leaf when a vCPU reloads it "
	  "(resume_walk=1)", NULL, false },
	{ "implicit_loads", "count", "root loads the driver made because a walk's vCPU had "
	  "another root loaded", NULL, false },
	{ "synthetic_target_walks", "count", "walks whose path ended in a synthetic table (the "
	  "trace never allocated the target)", NULL, false },
	{ "unknown_frees", "count", "tables freed that the trace never allocated", NULL, false },
	{ "unknown_accesses", "count", "accesses to tables the trace never allocated", NULL,
	  false },
	{ "realloc_tables", "count", "tables allocated again without a free in between (a free "
	  "the trace missed)", NULL, false },
	{ "alloc_failed", "count", "walks refused for lack of memory (-ENOMEM)", NULL, false },
	METRIC_DEF_MODEL_ERRORS,
	{ "invariant_violations", "count", "domains whose shadow_check() failed at their end "
	  "(must be 0)", NULL, false },
	METRIC_DEF_IGNORED_RECORDS,
	METRIC_DEF_IMPLICIT_DOMAINS,
	{ "series_truncated", "flag", "1 if the occupancy series stopped early for lack of memory "
	  "(the scalars stay exact)", NULL, false },
	METRIC_DEF_WORK,
	{ "occupancy", "pages", "shadow pages in the pool of the first domain that uses one, at "
	  "every change", NULL, true },
	METRIC_DEF_END,
};

const struct model_driver shadow_driver = {
	.name = "shadow",
	.doc = "shadow page-table pool with a limit and its reclaim (seed 003)",
	.policies = shadow_choices,
	.policy_docs = shadow_policy_docs,
	.add_params = shadow_add_params,
	.create = shadow_create,
	.handlers = &shadow_handlers,
	.report = shadow_report,
	.destroy = shadow_destroy,
	.metrics = shadow_metric_defs,
};
