/* SPDX-License-Identifier: MIT */
/*
 * models/hinting.c — guest page hinting (seed 004): the host mechanism (residency, reclaim,
 * swap), the guest requests, the policies none and per-page, the policy table and the
 * whole-model check.  batched and lazy-unused are in models/hinting_batched.c, the volatile
 * page-cache policies in models/hinting_volatile.c.
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
 *   USED, cache     clean (volatile policies)  VOLATILE (now, or at the array's commit)
 *   VOLATILE        reclaim, REF clear         DROPPED, still USED: discarded (no I/O)
 *   VOLATILE        use / write / removal      stable (one call); DROPPED: discard fault
 *   VOLATILE        free                       free, UNUSED for the host (no call)
 *
 * Every change of a page's state goes through hg_pg_set(), which keeps the counters the
 * reclaim trigger and the coverage sample read (resident, swapped, free_pages,
 * free_unused, per-chunk resident) exact; hinting_check() recounts them.
 */
#include "hinting_impl.h"

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
	  "blocks per vector hint call: per-CPU list spill and buddy refill (batched, lazy-unused, volatile-lazy)" },
	{ "pcp_high", 186, 1, 4095,
	  "blocks a vCPU's free list holds before it spills hint_batch of them (batched)" },
	{ "pcp_max_order", 3, 0, HINTING_MAX_ORDER,
	  "largest order kept on per-CPU lists and refilled in vectors (batched, lazy-unused, volatile-lazy)" },
	{ "lazy_pages", 1024, 1, 1ULL << 20,
	  "pages the pending set holds before it is committed in one call (lazy-unused, volatile-lazy)" },
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
	p->mech = HINT_MECH_HYPERCALL;
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
	if (p->mech != HINT_MECH_HYPERCALL && p->mech != HINT_MECH_ESSA)
		return -EINVAL;
	return 0;
}

/* ---- memory ----------------------------------------------------------------------------- */

void *hg_zalloc(struct hinting_model *m, size_t size)
{
	void *p = mem_zalloc(&m->mem, size);

	if (!p)
		m->stats.alloc_failed++;
	return p;
}

void hg_zfree(struct hinting_model *m, void *p, size_t size) { mem_free(&m->mem, p, size); }

/* ---- page state and counters ------------------------------------------------------------ */

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
	if ((s & S_USED) && (s & S_CACHE))
		m->cache_pages--;
	if (s & S_VOL)
		m->volatile_pages--;
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
	if ((s & S_USED) && (s & S_CACHE) && ++m->cache_pages > m->stats.cache_pages_peak)
		m->stats.cache_pages_peak = m->cache_pages;
	if ((s & S_VOL) && ++m->volatile_pages > m->stats.volatile_pages_peak)
		m->stats.volatile_pages_peak = m->volatile_pages;
}

void hg_pg_set(struct hinting_model *m, struct hg_chunk *c, uint32_t i, uint32_t nv)
{
	cls_sub(m, c, c->st[i]);
	c->st[i] = nv;
	cls_add(m, c, nv);
}

struct hinting_guest *hg_find_guest(const struct hinting_model *m, uint32_t id,
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
		dir = hg_zalloc(m, nd * sizeof(*dir));
		if (!dir)
			return -ENOMEM;
		if (g->ndir)
			env_memcpy(dir, g->dir, g->ndir * sizeof(*dir));
		hg_zfree(m, g->dir, g->ndir * sizeof(*dir));
		g->dir = dir;
		g->ndir = nd;
	}
	for (ci = first; ci <= last; ci++)
		if (!g->dir[ci] && !(g->dir[ci] = hg_zalloc(m, sizeof(struct hg_chunk))))
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

/* The guest writes or reads page i of chunk c: back it, read it in, or just mark it used. */
void hg_host_touch(struct hinting_model *m, struct hg_chunk *c, uint32_t i,
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
	hg_pg_set(m, c, i, with_res(s, HRES_RESIDENT) | S_REF);
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
	hg_pg_set(m, c, i, s | S_UNUSED);
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
void hg_reclaim(struct hinting_model *m)
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
		if ((s & S_UNUSED) || ((s & S_VOL) && !(s & S_REF))) {
			/*
			 * content the guest said it does not need (unused) or can read again
			 * (volatile, once its referenced bit is clear: a volatile page the guest
			 * reads gets the same second chance as a stable one).  The host sees only
			 * those flags; what the guest knows must agree, or a stable page was lost.
			 */
			bool ok = (s & S_UNUSED) ? !(s & S_USED)
						 : (s & S_USED) && (s & S_CACHE) &&
						   !(s & (S_DIRTY | S_PIN));

			m->stats.stable_pages_lost += !ok;
			hg_pg_set(m, c, i, with_res(s, HRES_DROPPED) & ~S_REF);
			if (s & S_UNUSED)
				m->stats.pages_dropped++;
			else
				m->stats.pages_discarded++;
			work_add(&m->work, WU_PAGE_DROP, 1);
		} else if (s & S_REF) {
			c->st[i] = s & ~S_REF;             /* second chance; no counter changes */
		} else {
			hg_pg_set(m, c, i, with_res(s, HRES_SWAPPED));
			m->stats.pages_swapped++;
			if (!(s & S_USED))
				m->stats.swap_outs_free++;
			work_add(&m->work, WU_SWAP_IO, 1);
		}
	}
}

/* ---- hint calls --------------------------------------------------------------------------- */

void hg_call(struct hinting_model *m, enum hint_kind kind)
{
	/* a hypercall is an exit; ESSA is an instruction per page (hg_hint_page_cost) */
	if (m->p.mech == HINT_MECH_HYPERCALL)
		work_add(&m->work, WU_HYPERCALL, 1);
	m->stats.hint_calls++;
	if (kind == H_UNUSED)
		m->stats.calls_unused++;
	else if (kind == H_STABLE)
		m->stats.calls_stable++;
	else
		m->stats.calls_volatile++;
}

void hg_hcall(struct hinting_model *m, bool unused)
{
	hg_call(m, unused ? H_UNUSED : H_STABLE);
}

void hg_hint_page_cost(struct hinting_model *m, uint64_t n)
{
	if (m->p.mech == HINT_MECH_HYPERCALL)
		work_add(&m->work, WU_HINT_PAGE, n);
	else
		m->stats.essa_ops += n;    /* priced by the driver: no work unit for it */
}

/* One (gfn, order) entry of a hint call: the host applies it page by page. */
void hg_hint_block(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn,
		       unsigned order, bool unused)
{
	uint64_t n = 1ULL << order, k;

	m->stats.hint_entries++;
	hg_hint_page_cost(m, n);
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
			hg_pg_set(m, c, i, c->st[i] & ~S_UNUSED);
	}
}

/* A hint call carrying one block (per-page, and the direct path of the others). */
void hg_direct_hint(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn,
			unsigned order, bool unused)
{
	hg_hcall(m, unused);
	hg_hint_block(m, g, gfn, order, unused);
}

bool hg_block_has(const struct hinting_guest *g, uint64_t gfn, unsigned order, uint32_t flag)
{
	uint64_t k, n = 1ULL << order;

	for (k = 0; k < n; k++)
		if (chunk_of(g, gfn + k)->st[(gfn + k) & CH_MASK] & flag)
			return true;
	return false;
}

/* ---- policies ------------------------------------------------------------------------------ */

static void pp_free(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
		    uint64_t gfn, unsigned order)
{
	(void)cpu;
	hg_direct_hint(m, g, gfn, order, true);
}

static void pp_alloc(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
		     uint64_t gfn, unsigned order)
{
	(void)cpu;
	hg_direct_hint(m, g, gfn, order, false);   /* the seed: page_set_stable on every allocation */
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

const struct hinting_policy *const hinting_policies[] = {
	&hinting_none_policy, &hinting_per_page_policy, &hinting_batched_policy,
	&hinting_lazy_unused_policy, &hinting_volatile_policy, &hinting_volatile_lazy_policy, NULL,
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
				hg_pg_set(m, c, i, 0);
		hg_zfree(m, c, sizeof(*c));
	}
	hg_zfree(m, g->dir, g->ndir * sizeof(*g->dir));
	for (i = 0; i < g->ncpus; i++)
		hg_cpu_free(m, g->cpus[i]);
	hg_zfree(m, g->cpus, g->ncpus * sizeof(*g->cpus));
	if (g->lz)
		hg_zfree(m, g->lz, (g->lz_mask + 1) * sizeof(*g->lz));
	hg_zfree(m, g, sizeof(*g));
}

void hinting_model_destroy(struct hinting_model *m)
{
	uint32_t i;

	if (!m)
		return;
	for (i = 0; i < m->nguests; i++)
		guest_free(m, m->guests[i]);
	hg_zfree(m, m->guests, m->cap_guests * sizeof(*m->guests));
	env_free(m, sizeof(*m));
}

int hinting_domain_create(struct hinting_model *m, uint32_t domain, uint32_t vcpus)
{
	struct hinting_guest *g;
	uint32_t pos, i;

	(void)vcpus;
	if (hg_find_guest(m, domain, &pos))
		return -EEXIST;
	if (m->nguests == m->cap_guests) {
		uint32_t nc = m->cap_guests ? m->cap_guests * 2 : 8;
		struct hinting_guest **ng = hg_zalloc(m, nc * sizeof(*ng));

		if (!ng)
			return -ENOMEM;
		if (m->nguests)
			env_memcpy(ng, m->guests, m->nguests * sizeof(*ng));
		hg_zfree(m, m->guests, m->cap_guests * sizeof(*ng));
		m->guests = ng;
		m->cap_guests = nc;
	}
	g = hg_zalloc(m, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->id = domain;
	if (m->pol->lazy && hg_lz_make(m, g))
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
	return hg_find_guest(m, domain, NULL) != NULL;
}

int hinting_domain_destroy(struct hinting_model *m, uint32_t domain)
{
	uint32_t pos, i;
	struct hinting_guest *g = hg_find_guest(m, domain, &pos);

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
	struct hinting_guest *g = hg_find_guest(m, domain, NULL);

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
	for (k = 0; dup && k < n; k++) {
		struct hg_chunk *c = chunk_of(g, gfn + k);
		uint32_t i = (uint32_t)((gfn + k) & CH_MASK), s = c->st[i];

		/* a page-cache page allocated again was freed where the trace could not see: it
		 * left the cache (and the pending array); a volatile one is discardable, as freed */
		if (!(s & S_USED) || !(s & S_CACHE))
			continue;
		m->stats.cache_removes++;
		if (s & S_VOL) {
			m->stats.volatile_freed++;
			s = (s & ~S_VOL) | S_UNUSED;
		}
		if ((s & S_PEND) && m->pol->volatile_pages) {
			hg_lz_remove(m, g, gfn + k);
			s &= ~S_PEND;
			m->stats.vlazy_removed_on_free++;
		}
		hg_pg_set(m, c, i, s & ~(S_USED | S_CACHE_BITS));
	}
	if (m->pol->alloc)
		m->pol->alloc(m, g, cpu, gfn, order);
	/* the whole block is the guest's before any of it is touched: a reclaim between two
	 * touches must see neither free stable pages nor victims among these */
	for (k = 0; k < n; k++) {
		struct hg_chunk *c = chunk_of(g, gfn + k);
		uint32_t i = (uint32_t)((gfn + k) & CH_MASK);

		ENV_ASSERT(!(c->st[i] & (S_UNUSED | S_PCP | S_PEND)));
		hg_pg_set(m, c, i, c->st[i] | S_USED);
	}
	for (k = 0; k < n; k++) {
		hg_host_touch(m, chunk_of(g, gfn + k), (uint32_t)((gfn + k) & CH_MASK), T_ALLOC);
		hg_reclaim(m);
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
		if (s & S_CACHE)
			m->stats.cache_removes++;      /* a free takes the page out of the cache */
		if (s & S_VOL) {
			/* for the host still discardable, now as a free page: no call needed */
			m->stats.volatile_freed++;
			s = (s & ~S_VOL) | S_UNUSED;
		}
		hg_pg_set(m, c, i, s & ~(S_USED | S_CACHE_BITS));
	}
	if (m->pol->free)
		m->pol->free(m, g, cpu, gfn, order);
	m->stats.frees++;
	hg_reclaim(m);
	return 0;
}

enum use_kind { U_READ, U_WRITE, U_FILL };

/* The guest uses the page it holds: a read, a write, or a fill from a file (page cache). */
static void do_use(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn,
		   enum use_kind k)
{
	struct hg_chunk *c = chunk_of(g, gfn);
	uint32_t i = (uint32_t)(gfn & CH_MASK);
	bool cache = c->st[i] & S_CACHE;

	/* a page-cache page must be stable before it is used: the policy sees to it */
	if (cache && m->pol->use)
		m->pol->use(m, g, gfn);
	ENV_ASSERT(!(c->st[i] & S_VOL));
	hg_pg_set(m, c, i, c->st[i] | S_PIN);
	hg_host_touch(m, c, i, k == U_FILL ? T_ALLOC : T_ACCESS);
	hg_reclaim(m);                        /* the page is in use: it must survive this */
	if (k == U_FILL) {
		m->stats.cache_fills++;
		hg_pg_set(m, c, i, (c->st[i] & ~(S_PIN | S_DIRTY)) | S_CACHE);
	} else if (k == U_WRITE && cache) {
		m->stats.cache_writes++;
		hg_pg_set(m, c, i, (c->st[i] & ~S_PIN) | S_DIRTY);
	} else {
		m->stats.cache_uses += cache;
		hg_pg_set(m, c, i, c->st[i] & ~S_PIN);
	}
	/* clean and no longer in use: the policy may make it volatile */
	if ((c->st[i] & S_CACHE) && !(c->st[i] & S_DIRTY) && m->pol->clean)
		m->pol->clean(m, g, gfn);
	m->stats.touches++;
}

/* The page the request names, if the guest holds it; else NULL (counted, no effect). */
static struct hinting_guest *held_page(struct hinting_model *m, uint32_t domain, uint64_t gfn,
				       int *rc)
{
	struct hinting_guest *g = request_guest(m, domain, gfn, 0, rc);
	uint32_t s;

	if (!g)
		return NULL;
	s = *hg_state(g, gfn);
	/*
	 * Only pages the guest holds are touched.  A fault record naming a free or unseen page
	 * is the recorder's attribution of a fault to the page the fault is about to allocate
	 * (docs/recording.md): its page_alloc record follows and does the touching.
	 */
	if (res_of(s) == HRES_NONE) {
		m->stats.touches_untracked++;
		return NULL;
	}
	if (!(s & S_USED)) {
		m->stats.touches_free++;
		return NULL;
	}
	return g;
}

int hinting_touch(struct hinting_model *m, uint32_t domain, uint64_t gfn)
{
	int rc;
	struct hinting_guest *g = held_page(m, domain, gfn, &rc);

	if (g)
		do_use(m, g, gfn, U_READ);
	return rc;
}

int hinting_write(struct hinting_model *m, uint32_t domain, uint64_t gfn)
{
	int rc;
	struct hinting_guest *g = held_page(m, domain, gfn, &rc);

	if (g)
		do_use(m, g, gfn, U_WRITE);
	return rc;
}

int hinting_cache_fill(struct hinting_model *m, uint32_t domain, uint64_t gfn)
{
	int rc;
	struct hinting_guest *g = held_page(m, domain, gfn, &rc);

	if (g)
		do_use(m, g, gfn, U_FILL);
	return rc;
}

int hinting_cache_remove(struct hinting_model *m, uint32_t domain, uint64_t gfn)
{
	int rc;
	struct hinting_guest *g = held_page(m, domain, gfn, &rc);
	struct hg_chunk *c;
	uint32_t i;

	if (!g)
		return rc;
	c = chunk_of(g, gfn);
	i = (uint32_t)(gfn & CH_MASK);
	if (!(c->st[i] & S_CACHE))
		return 0;
	/* it can no longer be read again from a file: stable before it leaves the cache */
	if (m->pol->use)
		m->pol->use(m, g, gfn);
	ENV_ASSERT(!(c->st[i] & S_VOL));
	m->stats.cache_removes++;
	/* a pending page stays in the array: the commit's check will find it out of the cache */
	hg_pg_set(m, c, i, c->st[i] & ~(S_CACHE | S_DIRTY));
	hg_reclaim(m);                        /* a discarded page was backed again */
	return 0;
}

/* ---- inspection and the whole-model check ---------------------------------------------------- */

int hinting_page_info(const struct hinting_model *m, uint32_t domain, uint64_t gfn,
		      struct hinting_page_info *out)
{
	const struct hinting_guest *g = hg_find_guest(m, domain, NULL);
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
	out->vol = s & S_VOL;
	out->cache = (s & S_USED) && (s & S_CACHE);
	out->dirty = (s & S_USED) && (s & S_DIRTY);
	return 0;
}

uint64_t hinting_pending_pages(const struct hinting_model *m, uint32_t domain)
{
	const struct hinting_guest *g = hg_find_guest(m, domain, NULL);

	return g ? g->lz_count : 0;
}

uint64_t hinting_pcp_blocks(const struct hinting_model *m, uint32_t domain)
{
	const struct hinting_guest *g = hg_find_guest(m, domain, NULL);
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; g && i < g->ncpus; i++)
		n += g->cpus[i] ? g->cpus[i]->count : 0;
	return n;
}

static bool lz_contains(const struct hinting_guest *g, uint64_t gfn)
{
	uint64_t h = hg_lz_home(g, gfn);

	while (g->lz[h] != LZ_EMPTY) {
		if (g->lz[h] == gfn)
			return true;
		h = (h + 1) & g->lz_mask;
	}
	return false;
}

static int check_guest(const struct hinting_model *m, const struct hinting_guest *g,
		       uint64_t *res, uint64_t *swp, uint64_t *fr, uint64_t *fu, uint64_t *cache,
		       uint64_t *vol)
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
			if ((s & S_USED) && res_of(s) == HRES_NONE)
				return -EINVAL;        /* in use but not backed */
			if ((s & S_USED) && res_of(s) == HRES_DROPPED && !(s & S_VOL))
				return -EINVAL;        /* in use, dropped, and not a discarded volatile page */
			if ((s & S_USED) && (s & (S_UNUSED | S_PCP)))
				return -EINVAL;
			/* pending: a free page (lazy-unused) or a page-cache page (volatile-lazy) */
			if ((s & S_PEND) && (m->pol->volatile_pages ? !(s & S_USED) : (s & S_USED) != 0))
				return -EINVAL;
			if ((s & S_UNUSED) && res_of(s) != HRES_RESIDENT && res_of(s) != HRES_DROPPED)
				return -EINVAL;
			/* volatile: held, in the page cache, clean, not in use; resident or discarded */
			if ((s & S_VOL) && (!(s & S_USED) || !(s & S_CACHE) || (s & (S_DIRTY | S_PIN)) ||
					    (res_of(s) != HRES_RESIDENT && res_of(s) != HRES_DROPPED)))
				return -EINVAL;
			if (res_of(s) == HRES_NONE && (s & S_FLAGS))
				return -EINVAL;
			if ((s & S_PEND) && (!g->lz || !lz_contains(g, gfn)))
				return -EINVAL;
			/* aux bits: a list node index (PCP), or page-cache facts (held pages) */
			if ((s & S_USED) ? ((s >> S_AUX_SHIFT) & ~(S_CACHE_BITS >> S_AUX_SHIFT)) ||
					   (s & S_PIN)
					 : !(s & S_PCP) && (s >> S_AUX_SHIFT))
				return -EINVAL;
			*cache += (s & S_USED) && (s & S_CACHE);
			*vol += !!(s & S_VOL);
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

			if (nd->prev != prev || ++count > hg_pool_size(m))
				return -EINVAL;
			for (k = 0; k < (1ULL << nd->order); k++) {
				const struct hg_chunk *c = chunk_of(g, nd->gfn + k);
				uint32_t s = c ? c->st[(nd->gfn + k) & CH_MASK] : 0;

				if (!(s & S_PCP) || (s >> S_AUX_SHIFT) != cpu * hg_pool_size(m) + ni)
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
	uint64_t res = 0, swp = 0, fr = 0, fu = 0, credits = 0, cache = 0, vol = 0;
	uint32_t gi, cpu;

	for (gi = 0; gi < m->nguests; gi++) {
		const struct hinting_guest *g = m->guests[gi];

		if (gi && m->guests[gi - 1]->id >= g->id)
			return -EINVAL;
		if (check_guest(m, g, &res, &swp, &fr, &fu, &cache, &vol))
			return -EINVAL;
		for (cpu = 0; cpu < g->ncpus; cpu++)
			credits += g->cpus[cpu] ? g->cpus[cpu]->credit : 0;
	}
	if (res != m->resident || swp != m->swapped || fr != m->free_pages ||
	    fu != m->free_unused || credits != m->credits || cache != m->cache_pages ||
	    vol != m->volatile_pages)
		return -EINVAL;
	/* the host never dropped a page the guest had declared stable */
	if (m->stats.stable_pages_lost)
		return -EINVAL;
	if (m->resident > m->p.host_mem_pages && !m->stats.reclaim_short)
		return -EINVAL;
	return 0;
}
