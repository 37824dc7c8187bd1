/* SPDX-License-Identifier: MIT */
/*
 * models/hinting.c — guest page hinting (seed 004): the host mechanism (residency, reclaim,
 * swap), the guest policies (none, per-page, batched, lazy) and the whole-model check.
 * models/hinting.h states the invariants; docs/models/hinting.md explains the model.
 *
 * Page life cycle (guest view x host view):
 *
 *   from            event                      to
 *   NONE            alloc                      USED, RESIDENT (zero-filled first touch)
 *   NONE            free                       adopted: USED, RESIDENT; then as below
 *   USED            free                       free; the policy hints, lists or queues it
 *   free            alloc                      the policy makes it stable (or finds it on a
 *                                              list / in the set); touched: USED, RESIDENT
 *   free, UNUSED    reclaim                    DROPPED (no I/O)
 *   any stable      reclaim, REF clear         SWAPPED (one write)
 *   SWAPPED         unused hint                DROPPED (swap slot freed, no I/O)
 *   SWAPPED         touch                      RESIDENT (one read)
 *   DROPPED         touch                      RESIDENT (zero page: a cheap fault)
 *
 * Every change of a page's state goes through pg_set(), which keeps the counters the
 * reclaim trigger and the coverage sample read (resident, swapped, free_pages,
 * free_unused, per-chunk resident) exact; hinting_check() recounts them.
 */
#include "hinting.h"

#define CH_SHIFT 12
#define CH_PAGES (1u << CH_SHIFT)
#define CH_MASK (CH_PAGES - 1)

#define S_RES 3u
#define S_USED (1u << 2)
#define S_UNUSED (1u << 3)
#define S_PCP (1u << 4)
#define S_PEND (1u << 5)
#define S_REF (1u << 6)
#define S_AUX_SHIFT 8
#define S_FLAGS ((1u << S_AUX_SHIFT) - 1)

#define NIL 0xffffffffu
#define LZ_EMPTY (~0ULL)

struct hg_chunk {
	uint32_t resident;        /* RESIDENT pages in this chunk (reclaim skips empty ones) */
	uint32_t st[CH_PAGES];
};

/* A free block on a per-CPU list; nodes live in the CPU's pool of pcp_high + 1. */
struct pcp_node {
	uint64_t gfn;
	uint32_t prev, next;      /* pool indices; NIL ends */
	uint32_t order;
	uint32_t pad;
};

struct pcp_cpu {
	uint32_t head, tail;      /* head: hottest (last freed); tail: coldest */
	uint32_t count;           /* blocks on the list */
	uint32_t free_node;       /* pool free list */
	uint64_t credit;          /* buddy allocations the last refill vector still covers */
	struct pcp_node *nodes;   /* NULL for lazy (credits only) */
};

struct hinting_guest {
	uint32_t id;
	struct hg_chunk **dir;    /* indexed by gfn >> CH_SHIFT */
	uint64_t ndir;
	struct pcp_cpu **cpus;
	uint32_t ncpus;
	uint64_t *lz;             /* lazy set: open addressing, linear probing, keys = gfns */
	uint64_t lz_mask, lz_count;
	bool lz_failed;           /* the set could not be allocated: per-page hints */
};

/* ---- parameters ------------------------------------------------------------------------ */

/*
 * hint_batch / pcp_high are the per-CPU list sizes Linux 2.6.18 (the seed's kernel) gives a
 * 256 MiB zone — the recorded sample guests' and the churn scenario's size: batch 31, high
 * 6 x batch; pcp_max_order is PAGE_ALLOC_COSTLY_ORDER, the largest order today's kernels keep
 * on those lists; lazy_pages is the seed's "order of 1K pages"; reclaim_batch is
 * SWAP_CLUSTER_MAX.
 * host_mem_pages: 640 MiB, between what the churn scenario's four 256 MiB guests use at once
 * (~512 MiB) and what they touch (767 MiB).
 */
const struct model_param hinting_param_table[HINTING_NPARAMS] = {
	{ "host_mem_pages", 163840, 16, 1ULL << 32,
	  "host frames for guest memory (4 KiB pages; 163840 = 640 MiB)" },
	{ "reclaim_batch", 32, 1, 1ULL << 20,
	  "pages reclaimed below the limit each time host memory runs out (hysteresis)" },
	{ "hint_batch", 31, 1, 4096,
	  "blocks per vector hint call: per-CPU list spill and buddy refill (batched, lazy)" },
	{ "pcp_high", 186, 1, 4095,
	  "blocks a vCPU's free list holds before it spills hint_batch of them (batched)" },
	{ "pcp_max_order", 3, 0, HINTING_MAX_ORDER,
	  "largest order kept on per-CPU lists and refilled in vectors (batched, lazy)" },
	{ "lazy_pages", 1024, 1, 1ULL << 20,
	  "pages the pending set holds before it is committed in one call (lazy)" },
	{ "max_gb", 1024, 1, 65536,
	  "guest-physical memory accepted per domain (GiB); gfns beyond are refused" },
};

void hinting_params_default(struct hinting_params *p)
{
	p->host_mem_pages = hinting_param_table[0].def;
	p->reclaim_batch = hinting_param_table[1].def;
	p->hint_batch = hinting_param_table[2].def;
	p->pcp_high = hinting_param_table[3].def;
	p->pcp_max_order = hinting_param_table[4].def;
	p->lazy_pages = hinting_param_table[5].def;
	p->max_gb = hinting_param_table[6].def;
}

int hinting_params_validate(const struct hinting_params *p)
{
	const uint64_t v[HINTING_NPARAMS] = { p->host_mem_pages, p->reclaim_batch, p->hint_batch,
					      p->pcp_high, p->pcp_max_order, p->lazy_pages,
					      p->max_gb };
	unsigned i;

	for (i = 0; i < HINTING_NPARAMS; i++)
		if (v[i] < hinting_param_table[i].min || v[i] > hinting_param_table[i].max)
			return -EINVAL;
	/* a spill must leave the list at or below high; reclaim must leave some memory */
	if (p->hint_batch > p->pcp_high + 1 || p->reclaim_batch >= p->host_mem_pages)
		return -EINVAL;
	return 0;
}

/* ---- memory ----------------------------------------------------------------------------- */

static void *hz_alloc(struct hinting_model *m, size_t size)
{
	void *p = mem_zalloc(&m->mem, size);

	if (!p)
		m->stats.alloc_failed++;
	return p;
}

static void hz_free(struct hinting_model *m, void *p, size_t size) { mem_free(&m->mem, p, size); }

/* ---- page state and counters ------------------------------------------------------------ */

static inline uint32_t res_of(uint32_t s) { return s & S_RES; }

/* A page the guest has freed and the host backs or once backed (not NONE). */
static inline bool is_free(uint32_t s)
{
	return !(s & S_USED) && res_of(s) != HRES_NONE;
}

static void cls_sub(struct hinting_model *m, struct hg_chunk *c, uint32_t s)
{
	if (res_of(s) == HRES_RESIDENT) {
		m->resident--;
		c->resident--;
	} else if (res_of(s) == HRES_SWAPPED) {
		m->swapped--;
	}
	if (is_free(s)) {
		m->free_pages--;
		if (s & S_UNUSED)
			m->free_unused--;
	}
}

static void cls_add(struct hinting_model *m, struct hg_chunk *c, uint32_t s)
{
	if (res_of(s) == HRES_RESIDENT) {
		m->resident++;
		c->resident++;
		if (m->resident > m->stats.resident_peak)
			m->stats.resident_peak = m->resident;
	} else if (res_of(s) == HRES_SWAPPED) {
		m->swapped++;
		if (m->swapped > m->stats.swap_peak)
			m->stats.swap_peak = m->swapped;
	}
	if (is_free(s)) {
		m->free_pages++;
		if (s & S_UNUSED)
			m->free_unused++;
	}
}

static void pg_set(struct hinting_model *m, struct hg_chunk *c, uint32_t i, uint32_t nv)
{
	cls_sub(m, c, c->st[i]);
	c->st[i] = nv;
	cls_add(m, c, nv);
}

static inline uint32_t with_res(uint32_t s, enum hinting_res r) { return (s & ~S_RES) | r; }

static struct hinting_guest *find_guest(const struct hinting_model *m, uint32_t id,
					uint32_t *pos)
{
	uint32_t lo = 0, hi = m->nguests;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (m->guests[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pos)
		*pos = lo;
	return lo < m->nguests && m->guests[lo]->id == id ? m->guests[lo] : NULL;
}

static inline struct hg_chunk *chunk_of(const struct hinting_guest *g, uint64_t gfn)
{
	uint64_t ci = gfn >> CH_SHIFT;

	return ci < g->ndir ? g->dir[ci] : NULL;
}

/* The chunks of [gfn, gfn + n) exist afterwards, or -ENOMEM (those made stay, empty). */
static int ensure_chunks(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn,
			 uint64_t n)
{
	uint64_t first = gfn >> CH_SHIFT, last = (gfn + n - 1) >> CH_SHIFT, ci;

	if (last >= g->ndir) {
		uint64_t nd = g->ndir ? g->ndir : 16;
		struct hg_chunk **dir;

		while (nd <= last)
			nd *= 2;
		dir = hz_alloc(m, nd * sizeof(*dir));
		if (!dir)
			return -ENOMEM;
		if (g->ndir)
			env_memcpy(dir, g->dir, g->ndir * sizeof(*dir));
		hz_free(m, g->dir, g->ndir * sizeof(*dir));
		g->dir = dir;
		g->ndir = nd;
	}
	for (ci = first; ci <= last; ci++)
		if (!g->dir[ci] && !(g->dir[ci] = hz_alloc(m, sizeof(struct hg_chunk))))
			return -ENOMEM;
	return 0;
}

static int check_range(const struct hinting_model *m, uint64_t gfn, unsigned order)
{
	uint64_t limit = m->p.max_gb << (30 - 12);

	if (order > HINTING_MAX_ORDER || gfn >= limit || (1ULL << order) > limit - gfn)
		return -ERANGE;
	return 0;
}

/* ---- host side ---------------------------------------------------------------------------- */

enum touch_kind { T_ALLOC, T_ACCESS };

/* The guest writes or reads page i of chunk c: back it, read it in, or just mark it used. */
static void host_touch(struct hinting_model *m, struct hg_chunk *c, uint32_t i,
		       enum touch_kind k)
{
	uint32_t s = c->st[i];

	switch (res_of(s)) {
	case HRES_NONE:
		m->stats.first_touches++;
		work_add(&m->work, WU_PAGE_SCRUB, 1);
		break;
	case HRES_DROPPED:
		m->stats.faults_on_dropped++;
		work_add(&m->work, WU_PAGE_SCRUB, 1);
		break;
	case HRES_SWAPPED:
		m->stats.swap_ins++;
		if (k == T_ALLOC)
			m->stats.swap_ins_on_alloc++;
		work_add(&m->work, WU_SWAP_IO, 1);
		break;
	default:
		break;
	}
	pg_set(m, c, i, with_res(s, HRES_RESIDENT) | S_REF);
}

/* The host learns that a free page's content is of no interest. */
static void host_unused(struct hinting_model *m, struct hg_chunk *c, uint32_t i)
{
	uint32_t s = c->st[i];

	ENV_ASSERT(!(s & S_USED));
	if (res_of(s) == HRES_SWAPPED) {
		s = with_res(s, HRES_DROPPED);   /* the swap slot is freed, nothing to read back */
		m->stats.swap_discards++;
	}
	pg_set(m, c, i, s | S_UNUSED);
}

/* Coverage: the guest's free pages, and those the host knows as unused, at this reclaim. */
static void sample_coverage(struct hinting_model *m)
{
	uint64_t unused = m->free_unused > m->credits ? m->free_unused - m->credits : 0;

	m->stats.cov_free += m->free_pages;
	m->stats.cov_unused += unused;
	m->stats.last_cov_free = m->free_pages;
	m->stats.last_cov_unused = unused;
}

/*
 * Inline host reclaim: a clock over every guest's page array.  Two passes reach every
 * resident page with its referenced bit cleared, so the scan budget is two full turns.
 */
static void reclaim(struct hinting_model *m)
{
	uint64_t target, budget = CH_PAGES;
	uint32_t gi;

	if (m->resident <= m->p.host_mem_pages || !m->nguests)
		return;
	target = m->p.host_mem_pages - m->p.reclaim_batch;
	m->stats.reclaims++;
	sample_coverage(m);
	for (gi = 0; gi < m->nguests; gi++)
		budget += 2 * m->guests[gi]->ndir * CH_PAGES;
	if (m->hand_guest >= m->nguests)
		m->hand_guest = 0;

	while (m->resident > target) {
		struct hinting_guest *g = m->guests[m->hand_guest];
		uint64_t ci = m->hand_gfn >> CH_SHIFT;
		struct hg_chunk *c;
		uint32_t i, s;

		if (budget == 0) {
			m->stats.reclaim_short++;
			return;
		}
		if (ci >= g->ndir) {
			m->hand_guest = (m->hand_guest + 1) % m->nguests;
			m->hand_gfn = 0;
			continue;
		}
		c = g->dir[ci];
		if (!c || !c->resident) {
			work_add(&m->work, WU_P2M_ENTRY, 1);   /* one directory slot looked at */
			m->hand_gfn = (ci + 1) << CH_SHIFT;
			budget = budget > CH_PAGES ? budget - CH_PAGES : 0;
			continue;
		}
		i = (uint32_t)(m->hand_gfn & CH_MASK);
		m->hand_gfn++;
		budget--;
		work_add(&m->work, WU_P2M_ENTRY, 1);
		m->stats.reclaim_scanned++;
		s = c->st[i];
		if (res_of(s) != HRES_RESIDENT)
			continue;
		if (s & S_UNUSED) {
			/* content the guest said it does not need: forget it */
			pg_set(m, c, i, with_res(s, HRES_DROPPED) & ~S_REF);
			m->stats.pages_dropped++;
			work_add(&m->work, WU_PAGE_DROP, 1);
		} else if (s & S_REF) {
			c->st[i] = s & ~S_REF;             /* second chance; no counter changes */
		} else {
			pg_set(m, c, i, with_res(s, HRES_SWAPPED));
			m->stats.pages_swapped++;
			if (!(s & S_USED))
				m->stats.swap_outs_free++;
			work_add(&m->work, WU_SWAP_IO, 1);
		}
	}
}

/* ---- hint calls --------------------------------------------------------------------------- */

static void hcall(struct hinting_model *m, bool unused)
{
	work_add(&m->work, WU_HYPERCALL, 1);
	m->stats.hint_calls++;
	if (unused)
		m->stats.calls_unused++;
	else
		m->stats.calls_stable++;
}

/* One (gfn, order) entry of a hint call: the host applies it page by page. */
static void hint_block(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn,
		       unsigned order, bool unused)
{
	uint64_t n = 1ULL << order, k;

	m->stats.hint_entries++;
	work_add(&m->work, WU_HINT_PAGE, n);
	if (unused)
		m->stats.pages_hinted_unused += n;
	else
		m->stats.pages_hinted_stable += n;
	for (k = 0; k < n; k++) {
		struct hg_chunk *c = chunk_of(g, gfn + k);
		uint32_t i = (uint32_t)((gfn + k) & CH_MASK);

		if (unused)
			host_unused(m, c, i);
		else
			pg_set(m, c, i, c->st[i] & ~S_UNUSED);
	}
}

/* A hint call carrying one block (per-page, and the direct path of the others). */
static void direct_hint(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn,
			unsigned order, bool unused)
{
	hcall(m, unused);
	hint_block(m, g, gfn, order, unused);
}

static bool block_has(const struct hinting_guest *g, uint64_t gfn, unsigned order, uint32_t flag)
{
	uint64_t k, n = 1ULL << order;

	for (k = 0; k < n; k++)
		if (chunk_of(g, gfn + k)->st[(gfn + k) & CH_MASK] & flag)
			return true;
	return false;
}

/* ---- per-CPU state: free lists (batched) and refill credits (batched, lazy) --------------- */

static uint32_t pool_size(const struct hinting_model *m) { return (uint32_t)m->p.pcp_high + 1; }

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
		cpus = hz_alloc(m, nc * sizeof(*cpus));
		if (!cpus)
			return NULL;
		if (g->ncpus)
			env_memcpy(cpus, g->cpus, g->ncpus * sizeof(*cpus));
		hz_free(m, g->cpus, g->ncpus * sizeof(*cpus));
		g->cpus = cpus;
		g->ncpus = nc;
	}
	if (g->cpus[cpu])
		return g->cpus[cpu];
	pc = hz_alloc(m, sizeof(*pc));
	if (!pc)
		return NULL;
	pc->head = pc->tail = NIL;
	if (m->pol->pcp) {
		n = pool_size(m);
		pc->nodes = hz_alloc(m, n * sizeof(*pc->nodes));
		if (!pc->nodes) {
			hz_free(m, pc, sizeof(*pc));
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

static void cpu_free(struct hinting_model *m, struct pcp_cpu *pc)
{
	if (!pc)
		return;
	m->credits -= pc->credit;
	if (pc->nodes)
		hz_free(m, pc->nodes, pool_size(m) * sizeof(*pc->nodes));
	hz_free(m, pc, sizeof(*pc));
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

	hcall(m, true);
	m->stats.pcp_spills++;
	for (k = 0; k < m->p.hint_batch && pc->tail != NIL; k++) {
		uint32_t ni = pc->tail;
		uint64_t gfn = pc->nodes[ni].gfn;
		unsigned order = pc->nodes[ni].order;

		node_unlink(m, pc, ni);
		mark_pcp(g, gfn, order, 0, false);
		hint_block(m, g, gfn, order, true);
	}
}

/* Takes the listed block holding the page at global node index gidx off its list. */
static void pcp_remove(struct hinting_model *m, struct hinting_guest *g, uint32_t gidx,
		       uint64_t *gfn, unsigned *order)
{
	uint32_t cpu = gidx / pool_size(m), ni = gidx % pool_size(m);
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
static void refill_stable(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
			  uint64_t gfn, unsigned order)
{
	struct pcp_cpu *pc;

	if (!block_has(g, gfn, order, S_UNUSED))
		return;
	if (order > m->p.pcp_max_order || !(pc = cpu_get(m, g, cpu))) {
		if (order <= m->p.pcp_max_order)
			m->stats.degraded++;
		direct_hint(m, g, gfn, order, false);
		return;
	}
	if (!pc->credit) {
		hcall(m, false);
		m->stats.refills++;
		pc->credit = m->p.hint_batch;
		m->credits += m->p.hint_batch;
	}
	pc->credit--;
	m->credits--;
	hint_block(m, g, gfn, order, false);
}

/* ---- lazy set (the seed's hash of pages made unused but not yet submitted) ----------------- */

static uint64_t lz_home(const struct hinting_guest *g, uint64_t gfn)
{
	return env_mix64(gfn) & g->lz_mask;
}

static int lz_make(struct hinting_model *m, struct hinting_guest *g)
{
	uint64_t n = 2, i;

	while (n < 2 * m->p.lazy_pages)
		n *= 2;
	g->lz = hz_alloc(m, n * sizeof(*g->lz));
	if (!g->lz) {
		g->lz_failed = true;
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		g->lz[i] = LZ_EMPTY;
	g->lz_mask = n - 1;
	return 0;
}

static void lz_insert(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn)
{
	uint64_t h = lz_home(g, gfn);

	work_add(&m->work, WU_BUCKET_VISIT, 1);
	while (g->lz[h] != LZ_EMPTY) {
		h = (h + 1) & g->lz_mask;
		work_add(&m->work, WU_BUCKET_VISIT, 1);
	}
	g->lz[h] = gfn;
	g->lz_count++;
}

/* Removes gfn (present) with backward-shift deletion: no tombstones, probes stay short. */
static void lz_remove(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn)
{
	uint64_t h = lz_home(g, gfn), j;

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
		if (((j - lz_home(g, g->lz[j])) & g->lz_mask) >= ((j - h) & g->lz_mask)) {
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

	hcall(m, true);
	m->stats.lazy_commits++;
	for (i = 0; i <= g->lz_mask; i++) {
		uint64_t gfn = g->lz[i];
		struct hg_chunk *c;

		work_add(&m->work, WU_BUCKET_VISIT, 1);
		if (gfn == LZ_EMPTY)
			continue;
		c = chunk_of(g, gfn);
		c->st[gfn & CH_MASK] &= ~S_PEND;
		hint_block(m, g, gfn, 0, true);
		g->lz[i] = LZ_EMPTY;
	}
	g->lz_count = 0;
}

/* ---- policies ------------------------------------------------------------------------------ */

static void pp_free(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
		    uint64_t gfn, unsigned order)
{
	(void)cpu;
	direct_hint(m, g, gfn, order, true);
}

static void pp_alloc(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
		     uint64_t gfn, unsigned order)
{
	(void)cpu;
	direct_hint(m, g, gfn, order, false);   /* the seed: page_set_stable on every allocation */
}

static void batched_free(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
			 uint64_t gfn, unsigned order)
{
	struct pcp_cpu *pc;
	uint32_t ni;

	if (order > m->p.pcp_max_order) {
		direct_hint(m, g, gfn, order, true);   /* straight to the buddy allocator */
		return;
	}
	pc = cpu_get(m, g, cpu);
	if (!pc) {
		m->stats.degraded++;
		direct_hint(m, g, gfn, order, true);
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
	mark_pcp(g, gfn, order, cpu * pool_size(m) + ni, true);
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
	refill_stable(m, g, cpu, gfn, order);
}

static void lazy_free(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
		      uint64_t gfn, unsigned order)
{
	uint64_t k, n = 1ULL << order;

	(void)cpu;
	if (!g->lz) {
		m->stats.degraded++;
		direct_hint(m, g, gfn, order, true);
		return;
	}
	for (k = 0; k < n; k++) {
		chunk_of(g, gfn + k)->st[(gfn + k) & CH_MASK] |= S_PEND;
		lz_insert(m, g, gfn + k);
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
		lz_remove(m, g, gfn + k);
		*s &= ~S_PEND;
		m->stats.lazy_cancelled++;
	}
	refill_stable(m, g, cpu, gfn, order);
}

const struct hinting_policy hinting_none_policy = {
	.name = "none",
	.doc = "no hints: the host swaps free pages like any other",
};

const struct hinting_policy hinting_per_page_policy = {
	.name = "per-page",
	.doc = "one hint hypercall on every free (unused) and every allocation (stable)",
	.free = pp_free,
	.alloc = pp_alloc,
};

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

const struct hinting_policy *const hinting_policies[] = {
	&hinting_none_policy, &hinting_per_page_policy, &hinting_batched_policy,
	&hinting_lazy_unused_policy, NULL,
};

const struct hinting_policy *hinting_policy_find(const char *name)
{
	unsigned i;

	for (i = 0; hinting_policies[i]; i++)
		if (env_streq(hinting_policies[i]->name, name))
			return hinting_policies[i];
	return NULL;
}

/* ---- model and domains ----------------------------------------------------------------------- */

struct hinting_model *hinting_model_create(const struct hinting_policy *pol,
					   const struct hinting_params *p)
{
	struct hinting_model *m;

	if (!pol || !p || hinting_params_validate(p))
		return NULL;
	m = env_zalloc(sizeof(*m));
	if (!m)
		return NULL;
	m->pol = pol;
	m->p = *p;
	m->mem.live_bytes = m->mem.peak_bytes = sizeof(*m);
	return m;
}

static void guest_free(struct hinting_model *m, struct hinting_guest *g)
{
	uint64_t ci;
	uint32_t i;

	for (ci = 0; ci < g->ndir; ci++) {
		struct hg_chunk *c = g->dir[ci];

		if (!c)
			continue;
		for (i = 0; i < CH_PAGES; i++)
			if (c->st[i])
				pg_set(m, c, i, 0);
		hz_free(m, c, sizeof(*c));
	}
	hz_free(m, g->dir, g->ndir * sizeof(*g->dir));
	for (i = 0; i < g->ncpus; i++)
		cpu_free(m, g->cpus[i]);
	hz_free(m, g->cpus, g->ncpus * sizeof(*g->cpus));
	if (g->lz)
		hz_free(m, g->lz, (g->lz_mask + 1) * sizeof(*g->lz));
	hz_free(m, g, sizeof(*g));
}

void hinting_model_destroy(struct hinting_model *m)
{
	uint32_t i;

	if (!m)
		return;
	for (i = 0; i < m->nguests; i++)
		guest_free(m, m->guests[i]);
	hz_free(m, m->guests, m->cap_guests * sizeof(*m->guests));
	env_free(m, sizeof(*m));
}

int hinting_domain_create(struct hinting_model *m, uint32_t domain, uint32_t vcpus)
{
	struct hinting_guest *g;
	uint32_t pos, i;

	(void)vcpus;
	if (find_guest(m, domain, &pos))
		return -EEXIST;
	if (m->nguests == m->cap_guests) {
		uint32_t nc = m->cap_guests ? m->cap_guests * 2 : 8;
		struct hinting_guest **ng = hz_alloc(m, nc * sizeof(*ng));

		if (!ng)
			return -ENOMEM;
		if (m->nguests)
			env_memcpy(ng, m->guests, m->nguests * sizeof(*ng));
		hz_free(m, m->guests, m->cap_guests * sizeof(*ng));
		m->guests = ng;
		m->cap_guests = nc;
	}
	g = hz_alloc(m, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->id = domain;
	if (m->pol->lazy && lz_make(m, g))
		m->stats.degraded++;       /* per-page hints for this guest */
	for (i = m->nguests; i > pos; i--)
		m->guests[i] = m->guests[i - 1];
	m->guests[pos] = g;
	m->nguests++;
	if (m->nguests > 1 && m->hand_guest >= pos)
		m->hand_guest++;           /* the hand stays on the guest it was on */
	return 0;
}

bool hinting_domain_exists(const struct hinting_model *m, uint32_t domain)
{
	return find_guest(m, domain, NULL) != NULL;
}

int hinting_domain_destroy(struct hinting_model *m, uint32_t domain)
{
	uint32_t pos, i;
	struct hinting_guest *g = find_guest(m, domain, &pos);

	if (!g)
		return -ENOENT;
	guest_free(m, g);
	for (i = pos; i + 1 < m->nguests; i++)
		m->guests[i] = m->guests[i + 1];
	m->nguests--;
	if (m->hand_guest > pos) {
		m->hand_guest--;
	} else if (m->hand_guest == pos) {
		m->hand_gfn = 0;
		if (m->hand_guest >= m->nguests)
			m->hand_guest = 0;
	}
	return 0;
}

/* ---- guest requests ----------------------------------------------------------------------- */

static struct hinting_guest *request_guest(struct hinting_model *m, uint32_t domain,
					   uint64_t gfn, unsigned order, int *rc)
{
	struct hinting_guest *g = find_guest(m, domain, NULL);

	*rc = 0;
	if (!g)
		*rc = -ENOENT;
	else if ((*rc = check_range(m, gfn, order)) == 0)
		*rc = ensure_chunks(m, g, gfn, 1ULL << order);
	if (*rc)
		m->stats.rejected++;
	return *rc ? NULL : g;
}

/* The guest allocates the block (chunks exist): the policy makes it stable, then the guest
 * writes it. */
static void do_alloc(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
		     uint64_t gfn, unsigned order)
{
	uint64_t k, n = 1ULL << order;
	bool dup = false;

	for (k = 0; k < n && !dup; k++)
		dup = chunk_of(g, gfn + k)->st[(gfn + k) & CH_MASK] & S_USED;
	m->stats.double_allocs += dup;
	if (m->pol->alloc)
		m->pol->alloc(m, g, cpu, gfn, order);
	/* the whole block is the guest's before any of it is touched: a reclaim between two
	 * touches must see neither free stable pages nor victims among these */
	for (k = 0; k < n; k++) {
		struct hg_chunk *c = chunk_of(g, gfn + k);
		uint32_t i = (uint32_t)((gfn + k) & CH_MASK);

		ENV_ASSERT(!(c->st[i] & (S_UNUSED | S_PCP | S_PEND)));
		pg_set(m, c, i, c->st[i] | S_USED);
	}
	for (k = 0; k < n; k++) {
		host_touch(m, chunk_of(g, gfn + k), (uint32_t)((gfn + k) & CH_MASK), T_ALLOC);
		reclaim(m);
	}
	m->stats.allocs++;
}

int hinting_alloc(struct hinting_model *m, uint32_t domain, uint32_t cpu, uint64_t gfn,
		  unsigned order)
{
	struct hinting_guest *g;
	int rc;

	if (cpu >= HINTING_MAX_CPUS) {
		m->stats.rejected++;
		return -ERANGE;
	}
	g = request_guest(m, domain, gfn, order, &rc);
	if (!g)
		return rc;
	do_alloc(m, g, cpu, gfn, order);
	return 0;
}

int hinting_free(struct hinting_model *m, uint32_t domain, uint32_t cpu, uint64_t gfn,
		 unsigned order)
{
	uint64_t k, n;
	struct hinting_guest *g;
	int rc;

	if (cpu >= HINTING_MAX_CPUS) {
		m->stats.rejected++;
		return -ERANGE;
	}
	g = request_guest(m, domain, gfn, order, &rc);
	if (!g)
		return rc;
	n = 1ULL << order;
	for (k = 0; k < n; k++) {
		uint32_t s = chunk_of(g, gfn + k)->st[(gfn + k) & CH_MASK];

		if (res_of(s) != HRES_NONE && !(s & S_USED)) {
			/* already free: the guest allocated it again where the trace could not see
			 * (Linux's bulk allocator has no tracepoint); that allocation happens now */
			m->stats.double_frees++;
			do_alloc(m, g, cpu, gfn, order);
			break;
		}
	}
	for (k = 0; k < n; k++) {
		struct hg_chunk *c = chunk_of(g, gfn + k);
		uint32_t i = (uint32_t)((gfn + k) & CH_MASK), s = c->st[i];

		if (res_of(s) == HRES_NONE) {
			/* in use since before the trace began: its content is in host memory */
			m->stats.adopted_pages++;
			s = HRES_RESIDENT | S_USED | S_REF;
		}
		pg_set(m, c, i, s & ~S_USED);
	}
	if (m->pol->free)
		m->pol->free(m, g, cpu, gfn, order);
	m->stats.frees++;
	reclaim(m);
	return 0;
}

int hinting_touch(struct hinting_model *m, uint32_t domain, uint64_t gfn)
{
	struct hinting_guest *g;
	struct hg_chunk *c;
	uint32_t i;
	int rc;

	g = request_guest(m, domain, gfn, 0, &rc);
	if (!g)
		return rc;
	c = chunk_of(g, gfn);
	i = (uint32_t)(gfn & CH_MASK);
	/*
	 * Only pages the guest holds are touched.  A fault record naming a free or unseen page
	 * is the recorder's attribution of a fault to the page the fault is about to allocate
	 * (docs/recording.md): its page_alloc record follows and does the touching.
	 */
	if (res_of(c->st[i]) == HRES_NONE) {
		m->stats.touches_untracked++;
		return 0;
	}
	if (!(c->st[i] & S_USED)) {
		m->stats.touches_free++;
		return 0;
	}
	host_touch(m, c, i, T_ACCESS);
	m->stats.touches++;
	reclaim(m);
	return 0;
}

/* ---- inspection and the whole-model check ---------------------------------------------------- */

int hinting_page_info(const struct hinting_model *m, uint32_t domain, uint64_t gfn,
		      struct hinting_page_info *out)
{
	const struct hinting_guest *g = find_guest(m, domain, NULL);
	const struct hg_chunk *c = g ? chunk_of(g, gfn) : NULL;
	uint32_t s;

	if (!c)
		return -ENOENT;
	s = c->st[gfn & CH_MASK];
	out->res = (enum hinting_res)res_of(s);
	out->used = s & S_USED;
	out->unused = s & S_UNUSED;
	out->pcp = s & S_PCP;
	out->pending = s & S_PEND;
	out->ref = s & S_REF;
	return 0;
}

uint64_t hinting_pending_pages(const struct hinting_model *m, uint32_t domain)
{
	const struct hinting_guest *g = find_guest(m, domain, NULL);

	return g ? g->lz_count : 0;
}

uint64_t hinting_pcp_blocks(const struct hinting_model *m, uint32_t domain)
{
	const struct hinting_guest *g = find_guest(m, domain, NULL);
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; g && i < g->ncpus; i++)
		n += g->cpus[i] ? g->cpus[i]->count : 0;
	return n;
}

static bool lz_contains(const struct hinting_guest *g, uint64_t gfn)
{
	uint64_t h = lz_home(g, gfn);

	while (g->lz[h] != LZ_EMPTY) {
		if (g->lz[h] == gfn)
			return true;
		h = (h + 1) & g->lz_mask;
	}
	return false;
}

static int check_guest(const struct hinting_model *m, const struct hinting_guest *g,
		       uint64_t *res, uint64_t *swp, uint64_t *fr, uint64_t *fu)
{
	uint64_t ci, pend = 0, pcp_pages = 0, listed_pages = 0;
	uint32_t i, cpu;

	for (ci = 0; ci < g->ndir; ci++) {
		const struct hg_chunk *c = g->dir[ci];
		uint32_t cres = 0;

		if (!c)
			continue;
		for (i = 0; i < CH_PAGES; i++) {
			uint32_t s = c->st[i];
			uint64_t gfn = (ci << CH_SHIFT) | i;

			if (res_of(s) == HRES_RESIDENT)
				cres++;
			*res += res_of(s) == HRES_RESIDENT;
			*swp += res_of(s) == HRES_SWAPPED;
			*fr += is_free(s);
			*fu += is_free(s) && (s & S_UNUSED);
			if ((s & S_USED) && (res_of(s) == HRES_NONE || res_of(s) == HRES_DROPPED))
				return -EINVAL;        /* in use but not backed */
			if ((s & S_USED) && (s & (S_UNUSED | S_PCP | S_PEND)))
				return -EINVAL;
			if ((s & S_UNUSED) && res_of(s) != HRES_RESIDENT && res_of(s) != HRES_DROPPED)
				return -EINVAL;
			if (res_of(s) == HRES_NONE && (s & S_FLAGS))
				return -EINVAL;
			if ((s & S_PEND) && (!g->lz || !lz_contains(g, gfn)))
				return -EINVAL;
			if (!(s & S_PCP) && (s >> S_AUX_SHIFT))
				return -EINVAL;
			pend += !!(s & S_PEND);
			pcp_pages += !!(s & S_PCP);
		}
		if (cres != c->resident)
			return -EINVAL;
	}
	if (pend != g->lz_count)
		return -EINVAL;
	for (cpu = 0; cpu < g->ncpus; cpu++) {
		const struct pcp_cpu *pc = g->cpus[cpu];
		uint32_t ni, prev = NIL, count = 0;

		if (!pc)
			continue;
		if (pc->credit > m->p.hint_batch)
			return -EINVAL;
		if (!pc->nodes) {
			if (pc->head != NIL || pc->count)
				return -EINVAL;
			continue;
		}
		for (ni = pc->head; ni != NIL; ni = pc->nodes[ni].next) {
			const struct pcp_node *nd = &pc->nodes[ni];
			uint64_t k;

			if (nd->prev != prev || ++count > pool_size(m))
				return -EINVAL;
			for (k = 0; k < (1ULL << nd->order); k++) {
				const struct hg_chunk *c = chunk_of(g, nd->gfn + k);
				uint32_t s = c ? c->st[(nd->gfn + k) & CH_MASK] : 0;

				if (!(s & S_PCP) || (s >> S_AUX_SHIFT) != cpu * pool_size(m) + ni)
					return -EINVAL;
			}
			listed_pages += 1ULL << nd->order;
			prev = ni;
		}
		if (prev != pc->tail || count != pc->count || count > m->p.pcp_high)
			return -EINVAL;
	}
	if (listed_pages != pcp_pages)
		return -EINVAL;
	return 0;
}

int hinting_check(const struct hinting_model *m)
{
	uint64_t res = 0, swp = 0, fr = 0, fu = 0, credits = 0;
	uint32_t gi, cpu;

	for (gi = 0; gi < m->nguests; gi++) {
		const struct hinting_guest *g = m->guests[gi];

		if (gi && m->guests[gi - 1]->id >= g->id)
			return -EINVAL;
		if (check_guest(m, g, &res, &swp, &fr, &fu))
			return -EINVAL;
		for (cpu = 0; cpu < g->ncpus; cpu++)
			credits += g->cpus[cpu] ? g->cpus[cpu]->credit : 0;
	}
	if (res != m->resident || swp != m->swapped || fr != m->free_pages ||
	    fu != m->free_unused || credits != m->credits)
		return -EINVAL;
	if (m->resident > m->p.host_mem_pages && !m->stats.reclaim_short)
		return -EINVAL;
	return 0;
}
