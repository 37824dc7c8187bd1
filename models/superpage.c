/* SPDX-License-Identifier: MIT */
/*
 * models/superpage.c — superpage reference counting (seed 002): the page-count mechanism,
 * the two policies (per-page, marked) and the whole-model check.  models/superpage.h states
 * the invariants; docs/models/superpage.md explains the model and the seed figure.
 *
 * Page entry (8 bytes):  count = general references;
 *   tinfo = [31:30] type (enum sp_type) | [29] MARKED (leading page only) |
 *           [28] ALLOC (the page belongs to the domain) | [27:0] type count.
 * An allocated page holds one reference for its allocation.  A type count implies a
 * reference: every get takes both, every put drops both.
 *
 * Request life cycle (map, unmap):
 *   core: find the domain and the superpage's block, count the request's fixed work (the
 *         page-table page's reference and lock, the preemption check), refuse what the
 *         hypervisor can see is wrong from the old entry (unmap of a superpage nothing maps);
 *   policy: take or drop the counts, returning the path taken;
 *   core: record the L2 entry (maps_pp / maps_mk) under that path.
 */
#include "superpage.h"

#define T_SHIFT 30
#define T_MASK (3u << T_SHIFT)
#define F_MARKED (1u << 29)
#define F_ALLOC (1u << 28)
#define TC_MASK ((1u << 28) - 1)
#define COUNT_MAX 0xffffffffu

struct sp_page {
	uint32_t count;
	uint32_t tinfo;
};

struct sp_block {
	uint32_t maps_pp;     /* L2 entries mapping this superpage, validated per page */
	uint32_t maps_mk;     /* ... validated through the mark */
	uint32_t allocated;   /* pages of the block that belong to the domain */
	uint32_t pad;
	struct sp_page pg[SP_PAGES];
};

struct superpage_domain {
	uint32_t id;
	struct sp_block **dir;    /* indexed by superpage number (gfn >> SP_ORDER) */
	uint64_t ndir;            /* directory slots */
	uint64_t blocks;          /* live blocks */
};

/* ---- parameters ------------------------------------------------------------------------ */

/*
 * unmark_busy_check is the answer to the seed's open question; 0 reproduces the question.
 * max_gb bounds the directory a hostile or corrupt trace could make us allocate: 16 TiB
 * of guest-physical space is 8 M superpages, a 64 MiB directory at worst.
 */
const struct model_param superpage_param_table[SUPERPAGE_NPARAMS] = {
	{ "unmark_busy_check", 1, 0, 1,
	  "1: unmark refused (-EBUSY) while marked-path mappings remain; 0: allowed, as the seed "
	  "left it (later unmaps would underflow; refused and counted)" },
	{ "max_gb", 16384, 1, 65536,
	  "guest-physical memory accepted per domain (GiB); gfns beyond are refused" },
	{ "lowmem_pct", 0, 0, 100,
	  "percent of superpages (those with spn % 100 below it) that are guest lowmem: each page "
	  "holds a standing writable type count from the kernel's direct map (seed 002)" },
	{ "mark_max_tc", 0, 0, 1,
	  "marked: a mark is refused (-EBUSY) when the leading page's type count is above this "
	  "(0: any count; 1: tolerates lowmem's standing count)" },
};

void superpage_params_default(struct superpage_params *p)
{
	p->unmark_busy_check = superpage_param_table[0].def;
	p->max_gb = superpage_param_table[1].def;
	p->lowmem_pct = superpage_param_table[2].def;
	p->mark_max_tc = superpage_param_table[3].def;
}

int superpage_params_validate(const struct superpage_params *p)
{
	if (!p || p->unmark_busy_check > 1 || p->max_gb < superpage_param_table[1].min ||
	    p->max_gb > superpage_param_table[1].max || p->lowmem_pct > 100 || p->mark_max_tc > 1)
		return -EINVAL;
	return 0;
}

/* ---- small helpers ---------------------------------------------------------------------- */

static inline uint32_t tc_of(const struct sp_page *pg) { return pg->tinfo & TC_MASK; }
static inline uint32_t type_of(const struct sp_page *pg) { return pg->tinfo >> T_SHIFT; }

static void *sp_zalloc(struct superpage_model *m, size_t size)
{
	void *p = mem_zalloc(&m->mem, size);

	if (!p)
		m->stats.alloc_failed++;
	return p;
}

static void sp_free(struct superpage_model *m, void *p, size_t size) { mem_free(&m->mem, p, size); }

static uint64_t max_superpages(const struct superpage_model *m)
{
	return m->p.max_gb << (30 - 12 - SP_ORDER);   /* GiB -> 2 MiB superpages */
}

/*
 * Lowmem.  A 32-bit Linux PV guest maps its lowmem permanently, writable, in the kernel's
 * direct map, so Xen holds a writable type count (and a reference) on each lowmem page for
 * as long as the guest has it, free or not; highmem pages have none until mapped.  A share
 * of the superpages, spread evenly by number, is lowmem; the standing count is held by each
 * allocated page of such a superpage except while it is a page table (the guest remaps it
 * read-only before pinning it).  The hypervisor cannot tell that count from any other.
 */
static bool lowmem(const struct superpage_model *m, uint64_t spn)
{
	return m->p.lowmem_pct && spn % 100 < m->p.lowmem_pct;
}

/* The kernel's direct-map entry of one page: taken at population, dropped at release. */
static void standing_get(struct superpage_model *m, struct sp_page *pg)
{
	pg->count++;
	pg->tinfo = (pg->tinfo & ~T_MASK) | ((uint32_t)SP_T_WRITABLE << T_SHIFT);
	pg->tinfo++;
	work_add(&m->work, WU_REFCOUNT, 2);
}

static struct superpage_domain *find_domain(const struct superpage_model *m, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < m->ndoms; i++)
		if (m->doms[i]->id == id)
			return m->doms[i];
	return NULL;
}

static struct sp_block *block_of(const struct superpage_domain *d, uint64_t spn)
{
	return spn < d->ndir ? d->dir[spn] : NULL;
}

static void set_footprint(struct superpage_model *m, const struct superpage_domain *d)
{
	m->work.footprint_bytes = d->blocks * sizeof(struct sp_block);
}

static int reject(struct superpage_model *m, int rc)
{
	m->stats.rejected++;
	return rc;
}

/* Grows d's directory to hold slot spn. */
static int dir_reserve(struct superpage_model *m, struct superpage_domain *d, uint64_t spn)
{
	uint64_t n = d->ndir ? d->ndir : 64, lim = max_superpages(m);
	struct sp_block **nd;

	if (spn < d->ndir)
		return 0;
	while (n <= spn)
		n *= 2;
	if (n > lim)
		n = lim;
	nd = sp_zalloc(m, n * sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	if (d->ndir)
		env_memcpy(nd, d->dir, d->ndir * sizeof(*nd));
	sp_free(m, d->dir, d->ndir * sizeof(*nd));
	d->dir = nd;
	d->ndir = n;
	return 0;
}

static bool block_empty(const struct sp_block *b)
{
	unsigned i;

	if (b->maps_pp || b->maps_mk || b->allocated)
		return false;
	for (i = 0; i < SP_PAGES; i++)
		if (b->pg[i].count || b->pg[i].tinfo)
			return false;
	return true;
}

static void block_free(struct superpage_model *m, struct superpage_domain *d, uint64_t spn)
{
	sp_free(m, d->dir[spn], sizeof(struct sp_block));
	d->dir[spn] = NULL;
	d->blocks--;
}

/* ---- page counts ------------------------------------------------------------------------ */

/* get_page + get_page_type(writable): 0, -ENOENT (not the domain's), -EBUSY (a page table),
 * -ERANGE (a count at its ceiling).  Nothing changes on failure. */
static int get_writable(struct superpage_model *m, struct sp_page *pg)
{
	if (!(pg->tinfo & F_ALLOC))
		return -ENOENT;
	if (type_of(pg) == SP_T_PT)
		return -EBUSY;
	if (tc_of(pg) == TC_MASK || pg->count == COUNT_MAX)
		return -ERANGE;
	pg->count++;
	pg->tinfo = (pg->tinfo & ~T_MASK) | ((uint32_t)SP_T_WRITABLE << T_SHIFT);
	pg->tinfo++;
	work_add(&m->work, WU_REFCOUNT, 2);
	return 0;
}

/* put_page_type + put_page.  A decrement that would go below zero is refused and counted:
 * the hypervisor's counts must never wrap (that is how a guest would forge them). */
static void put_writable(struct superpage_model *m, struct sp_page *pg)
{
	if (type_of(pg) != SP_T_WRITABLE || !tc_of(pg) || !pg->count) {
		m->stats.underflows++;
		return;
	}
	pg->tinfo--;
	if (!tc_of(pg))
		pg->tinfo &= ~T_MASK;
	pg->count--;
	work_add(&m->work, WU_REFCOUNT, 1);
	work_add(&m->work, WU_PAGE_PUT, 1);
}

/* Counts on all 512 pages, undone (and the undo counted) if one page refuses. */
static int get_all(struct superpage_model *m, struct sp_block *b)
{
	unsigned i;
	int rc;

	for (i = 0; i < SP_PAGES; i++) {
		rc = get_writable(m, &b->pg[i]);
		if (rc) {
			while (i--)
				put_writable(m, &b->pg[i]);
			return rc;
		}
	}
	return 0;
}

static void put_all(struct superpage_model *m, struct sp_block *b)
{
	unsigned i;

	for (i = 0; i < SP_PAGES; i++)
		put_writable(m, &b->pg[i]);
}

/* ---- policy: per-page ------------------------------------------------------------------- */

static int pp_map(struct superpage_model *m, struct superpage_domain *d, struct sp_block *b)
{
	int rc = get_all(m, b);

	return rc ? rc : SP_PATH_PERPAGE;
}

static int pp_unmap(struct superpage_model *m, struct superpage_domain *d, struct sp_block *b)
{
	put_all(m, b);
	return SP_PATH_PERPAGE;
}

const struct superpage_policy superpage_per_page_policy = {
	.name = "per-page",
	.doc = "every map takes a reference and a type count on each of the 512 pages",
	.map = pp_map,
	.unmap = pp_unmap,
	.mark = NULL,
	.unmark = NULL,
};

/* ---- policy: marked --------------------------------------------------------------------- */

static int mk_map(struct superpage_model *m, struct superpage_domain *d, struct sp_block *b)
{
	struct sp_page *lead = &b->pg[0];

	if (!(lead->tinfo & F_MARKED))
		return pp_map(m, d, b);
	if (tc_of(lead) == TC_MASK)
		return -ERANGE;
	lead->tinfo++;
	work_add(&m->work, WU_REFCOUNT, 1);
	return SP_PATH_MARKED;
}

static int mk_unmap(struct superpage_model *m, struct superpage_domain *d, struct sp_block *b)
{
	struct sp_page *lead = &b->pg[0];

	if (!(lead->tinfo & F_MARKED))
		return pp_unmap(m, d, b);
	/* The count the mark itself holds is not a mapping's to drop. */
	if (tc_of(lead) <= 1) {
		m->stats.underflows++;
		return SP_PATH_MARKED;
	}
	lead->tinfo--;
	work_add(&m->work, WU_REFCOUNT, 1);
	return SP_PATH_MARKED;
}

static int mk_mark(struct superpage_model *m, struct superpage_domain *d, struct sp_block *b)
{
	struct sp_page *lead = &b->pg[0];
	int rc;

	if (lead->tinfo & F_MARKED)
		return -EINVAL;            /* marks do not nest */
	/* Mapped through the per-page path: those entries would later be released through the
	 * mark, leaving 511 counts behind.  Unmap first. */
	if (tc_of(lead) > m->p.mark_max_tc)
		return -EBUSY;
	rc = get_all(m, b);
	if (rc)
		return rc;
	lead->tinfo |= F_MARKED;
	return 0;
}

static int mk_unmark(struct superpage_model *m, struct superpage_domain *d, struct sp_block *b,
		     bool force)
{
	struct sp_page *lead = &b->pg[0];

	if (!(lead->tinfo & F_MARKED))
		return -EINVAL;            /* double unmark */
	if (!force && m->p.unmark_busy_check && tc_of(lead) > 1)
		return -EBUSY;             /* superpage mappings outstanding */
	lead->tinfo &= ~F_MARKED;
	put_all(m, b);
	return 0;
}

const struct superpage_policy superpage_marked_policy = {
	.name = "marked",
	.doc = "a marked superpage is mapped with one type count on its leading page",
	.map = mk_map,
	.unmap = mk_unmap,
	.mark = mk_mark,
	.unmark = mk_unmark,
};

const struct superpage_policy *const superpage_policies[] = {
	&superpage_per_page_policy,
	&superpage_marked_policy,
	NULL,
};

const struct superpage_policy *superpage_policy_find(const char *name)
{
	unsigned i;

	for (i = 0; superpage_policies[i]; i++)
		if (env_streq(superpage_policies[i]->name, name))
			return superpage_policies[i];
	return NULL;
}

/* ---- model and domains ------------------------------------------------------------------ */

struct superpage_model *superpage_model_create(const struct superpage_policy *pol,
					       const struct superpage_params *p)
{
	struct superpage_model *m;

	if (!pol || !pol->map || !pol->unmap || superpage_params_validate(p))
		return NULL;
	m = env_zalloc(sizeof(*m));
	if (!m)
		return NULL;
	m->pol = pol;
	m->p = *p;
	m->mem.live_bytes = m->mem.peak_bytes = sizeof(*m);
	return m;
}

static void domain_free(struct superpage_model *m, struct superpage_domain *d)
{
	uint64_t i;

	for (i = 0; i < d->ndir; i++)
		if (d->dir[i])
			block_free(m, d, i);
	sp_free(m, d->dir, d->ndir * sizeof(*d->dir));
	sp_free(m, d, sizeof(*d));
}

void superpage_model_destroy(struct superpage_model *m)
{
	uint32_t i;

	if (!m)
		return;
	for (i = 0; i < m->ndoms; i++)
		domain_free(m, m->doms[i]);
	sp_free(m, m->doms, m->cap_doms * sizeof(*m->doms));
	env_free(m, sizeof(*m));
}

int superpage_domain_create(struct superpage_model *m, uint32_t domain)
{
	struct superpage_domain *d;

	if (find_domain(m, domain))
		return reject(m, -EEXIST);
	if (m->ndoms == m->cap_doms) {
		uint32_t n = m->cap_doms ? m->cap_doms * 2 : 8;
		struct superpage_domain **nd = sp_zalloc(m, n * sizeof(*nd));

		if (!nd)
			return reject(m, -ENOMEM);
		if (m->ndoms)
			env_memcpy(nd, m->doms, m->ndoms * sizeof(*nd));
		sp_free(m, m->doms, m->cap_doms * sizeof(*nd));
		m->doms = nd;
		m->cap_doms = n;
	}
	d = sp_zalloc(m, sizeof(*d));
	if (!d)
		return reject(m, -ENOMEM);
	d->id = domain;
	m->doms[m->ndoms++] = d;
	return 0;
}

bool superpage_domain_exists(const struct superpage_model *m, uint32_t domain)
{
	return find_domain(m, domain) != NULL;
}

/* Resolves (domain, gfn) for a superpage request; counts the request's fixed work. */
static int sp_lookup(struct superpage_model *m, uint32_t domain, uint64_t gfn,
		     struct superpage_domain **dp, struct sp_block **bp)
{
	struct superpage_domain *d = find_domain(m, domain);

	if (!d)
		return -ENOENT;
	set_footprint(m, d);
	if (gfn & (SP_PAGES - 1))
		return -EINVAL;
	if ((gfn >> SP_ORDER) >= max_superpages(m))
		return -ERANGE;
	*dp = d;
	*bp = block_of(d, gfn >> SP_ORDER);
	return *bp ? 0 : -ENOENT;
}

/* The page-table page an L2 entry lives in: referenced, locked, unlocked, released. */
static void l2_update_work(struct superpage_model *m)
{
	work_add(&m->work, WU_PREEMPT_CHECK, 1);
	work_add(&m->work, WU_REFCOUNT, 1);
	work_add(&m->work, WU_LOCK, 1);
	work_add(&m->work, WU_PAGE_PUT, 1);
}

int superpage_map(struct superpage_model *m, uint32_t domain, uint64_t gfn)
{
	struct superpage_domain *d;
	struct sp_block *b;
	int rc = sp_lookup(m, domain, gfn, &d, &b);

	if (rc)
		return reject(m, rc);
	l2_update_work(m);
	if (b->maps_pp + (uint64_t)b->maps_mk >= COUNT_MAX)
		return reject(m, -ERANGE);
	rc = m->pol->map(m, d, b);
	if (rc < 0)
		return reject(m, rc);
	if (rc == SP_PATH_MARKED) {
		b->maps_mk++;
		m->stats.maps_marked++;
	} else {
		b->maps_pp++;
	}
	m->stats.maps++;
	return rc;
}

/* Releases one L2 entry of b through the policy and records which path released it. */
static int unmap_entry(struct superpage_model *m, struct superpage_domain *d, struct sp_block *b)
{
	int path;

	l2_update_work(m);
	path = m->pol->unmap(m, d, b);
	if (path == SP_PATH_MARKED) {
		m->stats.unmaps_marked++;
		if (b->maps_mk) {
			b->maps_mk--;
		} else {
			m->stats.path_mismatch++;
			b->maps_pp--;
		}
	} else {
		if (b->maps_pp) {
			b->maps_pp--;
		} else {
			m->stats.path_mismatch++;
			b->maps_mk--;
		}
	}
	m->stats.unmaps++;
	return path;
}

int superpage_unmap(struct superpage_model *m, uint32_t domain, uint64_t gfn)
{
	struct superpage_domain *d;
	struct sp_block *b;
	int rc = sp_lookup(m, domain, gfn, &d, &b);

	if (rc == -ENOENT && find_domain(m, domain))
		rc = -EINVAL;        /* no state at all: nothing maps it */
	if (rc)
		return reject(m, rc);
	if (!b->maps_pp && !b->maps_mk) {
		l2_update_work(m);   /* the old entry is read before it is found empty */
		return reject(m, -EINVAL);
	}
	return unmap_entry(m, d, b);
}

int superpage_mark(struct superpage_model *m, uint32_t domain, uint64_t gfn)
{
	struct superpage_domain *d;
	struct sp_block *b;
	int rc = sp_lookup(m, domain, gfn, &d, &b);

	if (!m->pol->mark) {
		m->stats.marks_ignored++;
		return 1;
	}
	if (rc)
		return reject(m, rc);
	work_add(&m->work, WU_PREEMPT_CHECK, 1);
	rc = m->pol->mark(m, d, b);
	if (rc == -EBUSY) {
		m->stats.marks_busy++;
		if (lowmem(m, gfn >> SP_ORDER) && !b->maps_pp && type_of(&b->pg[0]) != SP_T_PT)
			m->stats.marks_busy_lowmem++;
	}
	if (rc)
		return reject(m, rc);
	m->stats.marks++;
	return 0;
}

int superpage_unmark(struct superpage_model *m, uint32_t domain, uint64_t gfn)
{
	struct superpage_domain *d;
	struct sp_block *b;
	int rc = sp_lookup(m, domain, gfn, &d, &b);

	if (!m->pol->unmark) {
		m->stats.marks_ignored++;
		return 1;
	}
	if (rc)
		return reject(m, rc == -ENOENT && find_domain(m, domain) ? -EINVAL : rc);
	work_add(&m->work, WU_PREEMPT_CHECK, 1);
	rc = m->pol->unmark(m, d, b, false);
	if (rc == -EBUSY) {
		m->stats.unmarks_busy++;
		if (!b->maps_mk)
			m->stats.unmarks_busy_unmapped++;
	}
	if (rc)
		return reject(m, rc);
	m->stats.unmarks++;
	return 0;
}

/* Resolves a single page; NULL with *rc set if it has no state. */
static struct sp_page *page_lookup(struct superpage_model *m, uint32_t domain, uint64_t gfn,
				   struct sp_block **bp, int *rc)
{
	struct superpage_domain *d = find_domain(m, domain);
	struct sp_block *b;

	*rc = -ENOENT;
	if (!d)
		return NULL;
	set_footprint(m, d);
	if ((gfn >> SP_ORDER) >= max_superpages(m)) {
		*rc = -ERANGE;
		return NULL;
	}
	b = block_of(d, gfn >> SP_ORDER);
	if (!b)
		return NULL;
	*bp = b;
	*rc = 0;
	return &b->pg[gfn & (SP_PAGES - 1)];
}

int superpage_pt_alloc(struct superpage_model *m, uint32_t domain, uint64_t gfn)
{
	struct sp_block *b;
	struct sp_page *pg;
	int rc;

	pg = page_lookup(m, domain, gfn, &b, &rc);
	if (!pg)
		return reject(m, rc);
	work_add(&m->work, WU_PREEMPT_CHECK, 1);
	if (!(pg->tinfo & F_ALLOC))
		return reject(m, -ENOENT);
	if (type_of(pg) == SP_T_PT)
		return reject(m, -EINVAL);
	if (lowmem(m, gfn >> SP_ORDER) && tc_of(pg) == 1 && !(b->pg[0].tinfo & F_MARKED) &&
	    !b->maps_pp) {
		/* the guest remaps its direct-map entry read-only first: the standing count goes */
		put_writable(m, pg);
		m->stats.lowmem_pt_remaps++;
	}
	if (tc_of(pg)) {
		/* writable-typed: mapped, or marked (a marked page never becomes a page table) */
		if (b->pg[0].tinfo & F_MARKED)
			m->stats.pt_rejected_marked++;
		return reject(m, -EBUSY);
	}
	if (pg->count == COUNT_MAX) {
		if (lowmem(m, gfn >> SP_ORDER))
			standing_get(m, pg);   /* not pinned: writable again */
		return reject(m, -ERANGE);
	}
	pg->count++;
	pg->tinfo = (pg->tinfo & ~(T_MASK | TC_MASK)) | ((uint32_t)SP_T_PT << T_SHIFT) | 1;
	work_add(&m->work, WU_REFCOUNT, 2);
	m->stats.pt_allocs++;
	return 0;
}

static void pt_drop(struct superpage_model *m, struct sp_page *pg)
{
	pg->tinfo &= ~(T_MASK | TC_MASK);
	if (pg->count)
		pg->count--;
	else
		m->stats.underflows++;
	work_add(&m->work, WU_REFCOUNT, 1);
	work_add(&m->work, WU_PAGE_PUT, 1);
	m->stats.pt_frees++;
}

int superpage_pt_free(struct superpage_model *m, uint32_t domain, uint64_t gfn)
{
	struct sp_block *b;
	struct sp_page *pg;
	int rc;

	pg = page_lookup(m, domain, gfn, &b, &rc);
	if (!pg)
		return reject(m, rc == -ENOENT ? -EINVAL : rc);
	work_add(&m->work, WU_PREEMPT_CHECK, 1);
	if (type_of(pg) != SP_T_PT)
		return reject(m, -EINVAL);
	pt_drop(m, pg);
	if (lowmem(m, gfn >> SP_ORDER))
		standing_get(m, pg);   /* writable in the direct map again */
	return 0;
}

/* Page range [gfn, gfn + 2^order) checked against max_gb. */
static int range_ok(const struct superpage_model *m, uint64_t gfn, unsigned order)
{
	uint64_t lim = max_superpages(m) << SP_ORDER;

	if (order > 40 || gfn >= lim || (1ULL << order) > lim - gfn)
		return -ERANGE;
	return 0;
}

int superpage_populate(struct superpage_model *m, uint32_t domain, uint64_t gfn, unsigned order)
{
	struct superpage_domain *d = find_domain(m, domain);
	uint64_t g, end;
	int rc;

	if (!d)
		return reject(m, -ENOENT);
	rc = range_ok(m, gfn, order);
	if (rc)
		return reject(m, rc);
	end = gfn + (1ULL << order);
	rc = dir_reserve(m, d, (end - 1) >> SP_ORDER);
	if (rc)
		return reject(m, rc);
	for (g = gfn; g < end; g++) {
		uint64_t spn = g >> SP_ORDER;
		struct sp_block *b = d->dir[spn];
		struct sp_page *pg;

		if (!b) {
			b = sp_zalloc(m, sizeof(*b));
			if (!b)
				return reject(m, -ENOMEM);   /* pages done so far stay populated */
			d->dir[spn] = b;
			d->blocks++;
		}
		pg = &b->pg[g & (SP_PAGES - 1)];
		if (pg->tinfo & F_ALLOC)
			continue;
		pg->tinfo |= F_ALLOC;
		pg->count++;
		b->allocated++;
		m->stats.pages_live++;
		work_add(&m->work, WU_REFCOUNT, 1);
		if (lowmem(m, spn)) {
			m->stats.lowmem_superpages += !(g & (SP_PAGES - 1));
			standing_get(m, pg);
		}
	}
	set_footprint(m, d);
	return 0;
}

int superpage_release(struct superpage_model *m, uint32_t domain, uint64_t gfn, unsigned order)
{
	struct superpage_domain *d = find_domain(m, domain);
	uint64_t g, end;
	int rc;

	if (!d)
		return reject(m, -ENOENT);
	rc = range_ok(m, gfn, order);
	if (rc)
		return reject(m, rc);
	set_footprint(m, d);
	end = gfn + (1ULL << order);
	/* First pass: any page in use refuses the whole release. */
	for (g = gfn; g < end; g++) {
		struct sp_block *b = block_of(d, g >> SP_ORDER);
		const struct sp_page *pg;

		if (!b) {
			g |= SP_PAGES - 1;   /* skip the absent superpage */
			continue;
		}
		pg = &b->pg[g & (SP_PAGES - 1)];
		if (lowmem(m, g >> SP_ORDER)) {
			/* idle lowmem: the allocation and the direct map's count, nothing else */
			if ((pg->tinfo & F_ALLOC) &&
			    (pg->count != 2 || pg->tinfo != (F_ALLOC | ((uint32_t)SP_T_WRITABLE << T_SHIFT) | 1)))
				return reject(m, -EBUSY);
		} else if ((pg->tinfo & F_ALLOC) && (pg->count != 1 || (pg->tinfo & ~F_ALLOC))) {
			return reject(m, -EBUSY);
		}
	}
	for (g = gfn; g < end; g++) {
		uint64_t spn = g >> SP_ORDER;
		struct sp_block *b = block_of(d, spn);
		struct sp_page *pg;

		if (!b) {
			g |= SP_PAGES - 1;
			continue;
		}
		pg = &b->pg[g & (SP_PAGES - 1)];
		if (pg->tinfo & F_ALLOC) {
			if (lowmem(m, spn))
				work_add(&m->work, WU_PAGE_PUT, 1);   /* the direct map's count */
			pg->tinfo = 0;
			pg->count = 0;
			b->allocated--;
			m->stats.pages_live--;
			work_add(&m->work, WU_PAGE_PUT, 1);
		}
		if (((g + 1) & (SP_PAGES - 1)) == 0 || g + 1 == end) {
			if (block_empty(b))
				block_free(m, d, spn);
		}
	}
	return 0;
}

int superpage_domain_destroy(struct superpage_model *m, uint32_t domain)
{
	struct superpage_domain *d = find_domain(m, domain);
	uint64_t spn;
	uint32_t i;

	if (!d)
		return reject(m, -ENOENT);
	set_footprint(m, d);
	for (spn = 0; spn < d->ndir; spn++) {
		struct sp_block *b = d->dir[spn];

		if (!b)
			continue;
		/* page-table teardown: every L2 entry that maps the superpage */
		while (b->maps_pp || b->maps_mk)
			unmap_entry(m, d, b);
		if ((b->pg[0].tinfo & F_MARKED) && m->pol->unmark)
			m->pol->unmark(m, d, b, true);
		/* relinquish: page-table uses, then the allocation references */
		for (i = 0; i < SP_PAGES; i++) {
			struct sp_page *pg = &b->pg[i];

			if (type_of(pg) == SP_T_PT)
				pt_drop(m, pg);
			else if (lowmem(m, spn) && (pg->tinfo & F_ALLOC))
				put_writable(m, pg);   /* the kernel's direct map goes */
			if (pg->tinfo & F_ALLOC) {
				pg->tinfo &= ~F_ALLOC;
				if (pg->count)
					pg->count--;
				else
					m->stats.underflows++;
				b->allocated--;
				m->stats.pages_live--;
				work_add(&m->work, WU_PAGE_PUT, 1);
			}
			if (pg->count || pg->tinfo)
				m->stats.leaks++;
		}
		block_free(m, d, spn);
	}
	for (i = 0; i < m->ndoms; i++)
		if (m->doms[i] == d)
			break;
	m->doms[i] = m->doms[--m->ndoms];
	domain_free(m, d);
	m->stats.domains_destroyed++;
	return 0;
}

/* ---- queries and the whole-model check -------------------------------------------------- */

int superpage_page_info(const struct superpage_model *m, uint32_t domain, uint64_t gfn,
			struct superpage_page_info *out)
{
	const struct superpage_domain *d = find_domain(m, domain);
	const struct sp_block *b;
	const struct sp_page *pg;

	if (!d || (gfn >> SP_ORDER) >= d->ndir || !(b = d->dir[gfn >> SP_ORDER]))
		return -ENOENT;
	pg = &b->pg[gfn & (SP_PAGES - 1)];
	out->count = pg->count;
	out->type_count = tc_of(pg);
	out->type = (enum sp_type)type_of(pg);
	out->allocated = !!(pg->tinfo & F_ALLOC);
	out->marked = !!(pg->tinfo & F_MARKED);
	return 0;
}

uint64_t superpage_mappings(const struct superpage_model *m, uint32_t domain, uint64_t gfn)
{
	const struct superpage_domain *d = find_domain(m, domain);
	const struct sp_block *b;

	if (!d || (gfn >> SP_ORDER) >= d->ndir || !(b = d->dir[gfn >> SP_ORDER]))
		return 0;
	return (uint64_t)b->maps_pp + b->maps_mk;
}

uint64_t superpage_violations(const struct superpage_model *m)
{
	return m->stats.underflows + m->stats.path_mismatch + m->stats.leaks;
}

/* Every page's counts against what its allocation, the mark, the L2 entries and a
 * page-table use imply. */
static int check_block(const struct superpage_model *m, const struct sp_block *b, uint64_t spn)
{
	bool marked = !!(b->pg[0].tinfo & F_MARKED), low = lowmem(m, spn);
	uint32_t i, allocated = 0;

	if (b->maps_mk && !marked)
		return -EINVAL;
	for (i = 0; i < SP_PAGES; i++) {
		const struct sp_page *pg = &b->pg[i];
		uint32_t alloc = !!(pg->tinfo & F_ALLOC), type = type_of(pg);
		uint64_t tc, count;

		allocated += alloc;
		if (i && (pg->tinfo & F_MARKED))
			return -EINVAL;            /* the flag lives on leading pages only */
		if (type == 3)
			return -EINVAL;
		if (type == SP_T_PT) {
			if (marked || b->maps_pp || tc_of(pg) != 1 || !alloc)
				return -EINVAL;    /* a marked or mapped page is never a page table */
			if (pg->count != alloc + 1)
				return -EINVAL;
			continue;
		}
		tc = (uint64_t)(low && alloc) + marked + b->maps_pp + (i == 0 ? b->maps_mk : 0);
		count = (uint64_t)alloc + (low && alloc) + marked + b->maps_pp;
		if (tc_of(pg) != tc || pg->count != count)
			return -EINVAL;
		if (type != (tc ? SP_T_WRITABLE : SP_T_NONE))
			return -EINVAL;
		if ((tc || count) && !alloc)
			return -EINVAL;            /* counts only on the domain's own pages */
	}
	return allocated == b->allocated ? 0 : -EINVAL;
}

int superpage_check(const struct superpage_model *m)
{
	uint64_t pages = 0, spn;
	uint32_t i;

	if (superpage_violations(m))
		return -EINVAL;
	for (i = 0; i < m->ndoms; i++) {
		const struct superpage_domain *d = m->doms[i];
		uint64_t blocks = 0;

		for (spn = 0; spn < d->ndir; spn++) {
			const struct sp_block *b = d->dir[spn];

			if (!b)
				continue;
			if (check_block(m, b, spn))
				return -EINVAL;
			blocks++;
			pages += b->allocated;
		}
		if (blocks != d->blocks)
			return -EINVAL;
	}
	return pages == m->stats.pages_live ? 0 : -EINVAL;
}
