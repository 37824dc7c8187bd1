/* SPDX-License-Identifier: MIT */
/*
 * models/hinting_batched.c — the two unused-hint policies that hold pages back from the
 * hypervisor: `batched` (per-CPU free lists that stay stable, whose spills and refills are
 * hinted in vectors, with refill credits) and `lazy-unused` (freed pages wait in a pending
 * set, committed in one call when it is full; an allocation takes its page back out).
 * The host mechanism and the check are in hinting.c; the internals both see in hinting_impl.h.
 */
#include "hinting_impl.h"

/* ---- per-CPU state: free lists (batched) and refill credits (batched, the lazy ones) ------ */

uint32_t hg_pool_size(const struct hinting_model *m) { return (uint32_t)m->p.pcp_high + 1; }

static struct pcp_cpu *cpu_get(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu)
{
	struct pcp_cpu *pc;
	uint32_t i, n;

	if (cpu >= HINTING_MAX_CPUS)
		return NULL;
	if (cpu >= g->ncpus) {
		uint32_t nc = g->ncpus ? g->ncpus : 4;
		struct pcp_cpu **cpus;

		while (nc <= cpu)
			nc *= 2;
		cpus = hg_zalloc(m, nc * sizeof(*cpus));
		if (!cpus)
			return NULL;
		if (g->ncpus)
			env_memcpy(cpus, g->cpus, g->ncpus * sizeof(*cpus));
		hg_zfree(m, g->cpus, g->ncpus * sizeof(*cpus));
		g->cpus = cpus;
		g->ncpus = nc;
	}
	if (g->cpus[cpu])
		return g->cpus[cpu];
	pc = hg_zalloc(m, sizeof(*pc));
	if (!pc)
		return NULL;
	pc->head = pc->tail = NIL;
	if (m->pol->pcp) {
		n = hg_pool_size(m);
		pc->nodes = hg_zalloc(m, n * sizeof(*pc->nodes));
		if (!pc->nodes) {
			hg_zfree(m, pc, sizeof(*pc));
			return NULL;
		}
		for (i = 0; i < n; i++)
			pc->nodes[i].next = i + 1 < n ? i + 1 : NIL;
		pc->free_node = 0;
	} else {
		pc->free_node = NIL;
	}
	g->cpus[cpu] = pc;
	return pc;
}

void hg_cpu_free(struct hinting_model *m, struct pcp_cpu *pc)
{
	if (!pc)
		return;
	m->credits -= pc->credit;
	if (pc->nodes)
		hg_zfree(m, pc->nodes, hg_pool_size(m) * sizeof(*pc->nodes));
	hg_zfree(m, pc, sizeof(*pc));
}

/* Sets or clears PCP (and the node index) on the pages of a listed block. */
static void mark_pcp(struct hinting_guest *g, uint64_t gfn, unsigned order, uint32_t gidx,
		     bool on)
{
	uint64_t k, n = 1ULL << order;

	for (k = 0; k < n; k++) {
		uint32_t *s = &chunk_of(g, gfn + k)->st[(gfn + k) & CH_MASK];

		*s = on ? (*s & S_FLAGS) | S_PCP | (gidx << S_AUX_SHIFT) : (*s & S_FLAGS & ~S_PCP);
	}
}

static void node_unlink(struct hinting_model *m, struct pcp_cpu *pc, uint32_t ni)
{
	struct pcp_node *nd = &pc->nodes[ni];

	if (nd->prev != NIL)
		pc->nodes[nd->prev].next = nd->next;
	else
		pc->head = nd->next;
	if (nd->next != NIL)
		pc->nodes[nd->next].prev = nd->prev;
	else
		pc->tail = nd->prev;
	nd->next = pc->free_node;
	pc->free_node = ni;
	pc->count--;
	work_add(&m->work, WU_LIST_HOP, 1);
}

/* Spill: the hint_batch coldest blocks go to the buddy allocator in one unused vector. */
static void pcp_spill(struct hinting_model *m, struct hinting_guest *g, struct pcp_cpu *pc)
{
	uint64_t k;

	hg_hcall(m, true);
	m->stats.pcp_spills++;
	for (k = 0; k < m->p.hint_batch && pc->tail != NIL; k++) {
		uint32_t ni = pc->tail;
		uint64_t gfn = pc->nodes[ni].gfn;
		unsigned order = pc->nodes[ni].order;

		node_unlink(m, pc, ni);
		mark_pcp(g, gfn, order, 0, false);
		hg_hint_block(m, g, gfn, order, true);
	}
}

/* Takes the listed block holding the page at global node index gidx off its list. */
static void pcp_remove(struct hinting_model *m, struct hinting_guest *g, uint32_t gidx,
		       uint64_t *gfn, unsigned *order)
{
	uint32_t cpu = gidx / hg_pool_size(m), ni = gidx % hg_pool_size(m);
	struct pcp_cpu *pc = g->cpus[cpu];

	*gfn = pc->nodes[ni].gfn;
	*order = pc->nodes[ni].order;
	node_unlink(m, pc, ni);
	mark_pcp(g, *gfn, *order, 0, false);
}

/*
 * Stable hints for a block leaving the buddy allocator on this vCPU: one refill vector covers
 * hint_batch such blocks.  Nothing to say if none of its pages was hinted unused.
 */
void hg_refill_stable(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
			  uint64_t gfn, unsigned order)
{
	struct pcp_cpu *pc;

	if (!hg_block_has(g, gfn, order, S_UNUSED))
		return;
	if (order > m->p.pcp_max_order || !(pc = cpu_get(m, g, cpu))) {
		if (order <= m->p.pcp_max_order)
			m->stats.degraded++;
		hg_direct_hint(m, g, gfn, order, false);
		return;
	}
	if (!pc->credit) {
		hg_hcall(m, false);
		m->stats.refills++;
		pc->credit = m->p.hint_batch;
		m->credits += m->p.hint_batch;
	}
	pc->credit--;
	m->credits--;
	hg_hint_block(m, g, gfn, order, false);
}

/* ---- lazy set (the seed's hash of pages made unused but not yet submitted) ----------------- */

uint64_t hg_lz_home(const struct hinting_guest *g, uint64_t gfn)
{
	return env_mix64(gfn) & g->lz_mask;
}

int hg_lz_make(struct hinting_model *m, struct hinting_guest *g)
{
	uint64_t n = 2, i;

	while (n < 2 * m->p.lazy_pages)
		n *= 2;
	g->lz = hg_zalloc(m, n * sizeof(*g->lz));
	if (!g->lz) {
		g->lz_failed = true;
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		g->lz[i] = LZ_EMPTY;
	g->lz_mask = n - 1;
	return 0;
}

void hg_lz_insert(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn)
{
	uint64_t h = hg_lz_home(g, gfn);

	work_add(&m->work, WU_BUCKET_VISIT, 1);
	while (g->lz[h] != LZ_EMPTY) {
		h = (h + 1) & g->lz_mask;
		work_add(&m->work, WU_BUCKET_VISIT, 1);
	}
	g->lz[h] = gfn;
	g->lz_count++;
}

/* Removes gfn (present) with backward-shift deletion: no tombstones, probes stay short. */
void hg_lz_remove(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn)
{
	uint64_t h = hg_lz_home(g, gfn), j;

	work_add(&m->work, WU_BUCKET_VISIT, 1);
	while (g->lz[h] != gfn) {
		ENV_ASSERT(g->lz[h] != LZ_EMPTY);
		h = (h + 1) & g->lz_mask;
		work_add(&m->work, WU_BUCKET_VISIT, 1);
	}
	j = h;
	for (;;) {
		j = (j + 1) & g->lz_mask;
		work_add(&m->work, WU_BUCKET_VISIT, 1);
		if (g->lz[j] == LZ_EMPTY)
			break;
		/* the entry at j may fill the hole at h unless its home lies in (h, j] */
		if (((j - hg_lz_home(g, g->lz[j])) & g->lz_mask) >= ((j - h) & g->lz_mask)) {
			g->lz[h] = g->lz[j];
			h = j;
			work_add(&m->work, WU_ENTRY_MOVE, 1);
		}
	}
	g->lz[h] = LZ_EMPTY;
	g->lz_count--;
}

/* Commit: every pending page is hinted unused in one vector call; the set is emptied. */
static void lz_commit(struct hinting_model *m, struct hinting_guest *g)
{
	uint64_t i;

	hg_hcall(m, true);
	m->stats.lazy_commits++;
	for (i = 0; i <= g->lz_mask; i++) {
		uint64_t gfn = g->lz[i];
		struct hg_chunk *c;

		work_add(&m->work, WU_BUCKET_VISIT, 1);
		if (gfn == LZ_EMPTY)
			continue;
		c = chunk_of(g, gfn);
		c->st[gfn & CH_MASK] &= ~S_PEND;
		hg_hint_block(m, g, gfn, 0, true);
		g->lz[i] = LZ_EMPTY;
	}
	g->lz_count = 0;
}

static void batched_free(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
			 uint64_t gfn, unsigned order)
{
	struct pcp_cpu *pc;
	uint32_t ni;

	if (order > m->p.pcp_max_order) {
		hg_direct_hint(m, g, gfn, order, true);   /* straight to the buddy allocator */
		return;
	}
	pc = cpu_get(m, g, cpu);
	if (!pc) {
		m->stats.degraded++;
		hg_direct_hint(m, g, gfn, order, true);
		return;
	}
	ni = pc->free_node;
	ENV_ASSERT(ni != NIL);
	pc->free_node = pc->nodes[ni].next;
	pc->nodes[ni] = (struct pcp_node){ .gfn = gfn, .order = order, .prev = NIL, .next = pc->head };
	if (pc->head != NIL)
		pc->nodes[pc->head].prev = ni;
	else
		pc->tail = ni;
	pc->head = ni;
	pc->count++;
	work_add(&m->work, WU_LIST_HOP, 1);
	mark_pcp(g, gfn, order, cpu * hg_pool_size(m) + ni, true);
	if (pc->count > m->p.pcp_high)
		pcp_spill(m, g, pc);
}

static void batched_alloc(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
			  uint64_t gfn, unsigned order)
{
	uint64_t k, n = 1ULL << order;
	bool hit = false;

	for (k = 0; k < n; k++) {
		uint32_t s = chunk_of(g, gfn + k)->st[(gfn + k) & CH_MASK];
		uint64_t bg;
		unsigned bo;

		if (!(s & S_PCP))
			continue;
		pcp_remove(m, g, s >> S_AUX_SHIFT, &bg, &bo);
		if (bg == gfn && bo == order)
			hit = true;
		else if (bg < gfn || bg + (1ULL << bo) > gfn + n)
			m->stats.pcp_partial++;   /* the block's other pages: free, stable, unlisted */
	}
	if (hit) {
		m->stats.pcp_hits++;
		return;
	}
	hg_refill_stable(m, g, cpu, gfn, order);
}

static void lazy_free(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
		      uint64_t gfn, unsigned order)
{
	uint64_t k, n = 1ULL << order;

	(void)cpu;
	if (!g->lz) {
		m->stats.degraded++;
		hg_direct_hint(m, g, gfn, order, true);
		return;
	}
	for (k = 0; k < n; k++) {
		chunk_of(g, gfn + k)->st[(gfn + k) & CH_MASK] |= S_PEND;
		hg_lz_insert(m, g, gfn + k);
		if (g->lz_count >= m->p.lazy_pages)
			lz_commit(m, g);
	}
}

static void lazy_alloc(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
		       uint64_t gfn, unsigned order)
{
	uint64_t k, n = 1ULL << order;

	for (k = 0; k < n; k++) {
		uint32_t *s = &chunk_of(g, gfn + k)->st[(gfn + k) & CH_MASK];

		if (!(*s & S_PEND))
			continue;
		hg_lz_remove(m, g, gfn + k);
		*s &= ~S_PEND;
		m->stats.lazy_cancelled++;
	}
	hg_refill_stable(m, g, cpu, gfn, order);
}

const struct hinting_policy hinting_batched_policy = {
	.name = "batched",
	.doc = "per-CPU free lists stay stable; spills and refills are hinted in vectors",
	.pcp = true,
	.free = batched_free,
	.alloc = batched_alloc,
};

const struct hinting_policy hinting_lazy_unused_policy = {
	.name = "lazy-unused",
	.doc = "freed pages wait in a pending set, committed in one call when full",
	.lazy = true,
	.free = lazy_free,
	.alloc = lazy_alloc,
};
