/* SPDX-License-Identifier: MIT */
/*
 * models/scrub.c — the scrub queue of seed 001: the host's pages as runs (the clean pages in
 * an address-ordered tree that merges neighbours, the dirty pages and each domain's pages in
 * FIFO rings), the free path of each policy, scrubber batches, allocation of clean (or dirty)
 * pages.  Page states, sets and invariants are described in scrub.h; docs/models/scrub.md
 * explains the policies.
 *
 * Work units, per page unless said otherwise (what the seed's perf profile names them):
 *   relinquish_memory() of one page          refcount 1 (get_page ->
 *                                            page_get_owner_and_reference), list_hop 1 (the
 *                                            page-list walk: relinquish_memory's own time),
 *                                            page_put 2 (the allocation reference, then the
 *                                            walk's own), preempt_check 1
 *   free path, sync                          page_scrub 1 (scrub_one_page with its
 *                                            map/unmap_domain_page), free 1
 *                                            (free_heap_pages), lock 1 (the heap lock)
 *   free path, deferred / idle               lock 1 + entry_move 1 (onto the scrub list)
 *   free path, on-alloc                      lock 1 + free 1 (into the heap, marked dirty)
 *   scrubber take (under the lock)           lock 1 per take, entry_move 1 per page
 *   scrubber finish                          page_scrub 1, free 1 per page; lock 1 per batch
 *   allocation of d dirty pages (on-alloc)   lock 1 per allocation, page_scrub 1 per page
 * Counting is in closed form per run (k pages at once): the counts equal the per-page loop's,
 * which tests/unit/test_scrub.c checks against a per-page model.
 *
 * Lack of memory (a queue's ring buffer cannot grow) never loses a page: an operation that
 * cannot make room changes nothing and returns -ENOMEM, except that a deferred free which
 * cannot extend the dirty queue scrubs the page at once instead (counted as a fallback), the
 * way an optimisation degrades.
 */
#include "avl.h"
#include "scrub.h"

/*
 * Parameters, in struct scrub_params order.  `batch` bounds how long a scrubber holds its
 * pCPU between checks for other work and how long it holds the lock (one entry move per
 * page): 512 pages is 2 MiB, the same granularity as the project's relinquish batch (seed 000
 * "every 2 MiB"); the seed itself detached one page per lock hold.  `kick_pages` is when the
 * free path wakes the scrubbers: a full batch, so that a woken scrubber has work worth the
 * wake-up (1 wakes them on every page that finds the list empty, the seed's busy-polling
 * tasklets' behaviour, at the cost of a wake-up storm per page).
 */
const struct model_param scrub_param_table[SCRUB_NPARAMS] = {
	{ "batch", 512, 1, 1ULL << 30,
	  "pages a scrubber detaches per lock hold, one contiguous run (512 = 2 MiB of 4 KiB pages)" },
	{ "kick_pages", 512, 1, 1ULL << 40,
	  "scrub backlog (pages) at which freeing wakes the scrubbers (1: whenever the list was empty)" },
};

void scrub_params_default(struct scrub_params *p)
{
	p->batch = scrub_param_table[0].def;
	p->kick_pages = scrub_param_table[1].def;
}

int scrub_params_validate(const struct scrub_params *p)
{
	if (!p)
		return -EINVAL;
	if (p->batch < scrub_param_table[0].min || p->batch > scrub_param_table[0].max)
		return -EINVAL;
	if (p->kick_pages < scrub_param_table[1].min || p->kick_pages > scrub_param_table[1].max)
		return -EINVAL;
	return 0;
}

/* ---- policies ------------------------------------------------------------------------------ */

static const struct scrub_policy scrub_sync = {
	.name = "sync",
	.doc = "each page a dying domain frees is scrubbed inside the free (before the patch)",
	.defer = false, .alloc_dirty = false, .all_cpus = false,
};

/* The patch as written: one static tasklet, scheduled on each online pCPU in turn, which
 * never returns (it polls the list while it is empty) and detaches one page per lock hold. */
static const struct scrub_policy scrub_deferred = {
	.name = "deferred",
	.doc = "freed pages go on a scrub list under one lock; one never-returning tasklet polls it and scrubs a page per lock hold (the seed's patch)",
	.defer = true, .alloc_dirty = false, .all_cpus = false, .one_tasklet = true,
};

static const struct scrub_policy scrub_deferred_percpu = {
	.name = "deferred-percpu",
	.doc = "freed pages go on a scrub list under one lock; a tasklet per online pCPU, woken together, drains it in batches (a herd, not the patch)",
	.defer = true, .alloc_dirty = false, .all_cpus = true,
};

static const struct scrub_policy scrub_idle = {
	.name = "idle",
	.doc = "scrub list as deferred, but drained only by pCPUs with nothing else to run",
	.defer = true, .alloc_dirty = false, .all_cpus = false,
};

static const struct scrub_policy scrub_on_alloc = {
	.name = "on-alloc",
	.doc = "freed pages stay in the heap marked dirty; an allocation scrubs the dirty pages it gets, idle pCPUs scrub the rest",
	.defer = true, .alloc_dirty = true, .all_cpus = false,
};

const struct scrub_policy *const scrub_policies[] = {
	&scrub_sync,
	&scrub_deferred,
	&scrub_deferred_percpu,
	&scrub_idle,
	&scrub_on_alloc,
	NULL,
};

const struct scrub_policy *scrub_policy_find(const char *name)
{
	unsigned i;

	if (!name)
		return NULL;
	for (i = 0; scrub_policies[i]; i++)
		if (env_streq(scrub_policies[i]->name, name))
			return scrub_policies[i];
	return NULL;
}

/* ---- the model ----------------------------------------------------------------------------- */

struct scrub_domain {
	struct env_list link;
	struct scrub_domain *hnext; /* chain of its bucket in the domain hash */
	uint32_t id;
	bool dying;
	struct scrub_xq pages;      /* allocation order: relinquish takes from the head */
};

/* A run of the clean set, in an AVL tree ordered by start. */
struct clean_run {
	struct avl_node avl;
	uint64_t start, len;
};

/*
 * The heap's clean pages: runs ordered by address, a freed run merging with its neighbours
 * (as free_heap_pages merges buddies), so clean memory is as few runs as it has holes.
 * Allocation takes the lowest pages.  Inserting may need one node: `reserved` nodes are
 * promised (held in `spare`) so that scrub_finish cannot fail, and one more is kept cached
 * (nspare is reserved or reserved + 1).
 */
struct clean_set {
	struct avl_root root;
	uint64_t pages, runs;
	uint32_t reserved, nspare;
	struct clean_run *spare;    /* singly linked through avl.left */
};

struct scrub_model {
	const struct scrub_policy *pol;
	struct scrub_params p;
	struct work work;
	struct scrub_stats st;
	struct clean_set clean;
	struct scrub_xq dirty;
	uint64_t inflight;          /* pages detached by scrub_take, not yet finished */
	uint64_t owned;             /* pages owned by domains */
	uint64_t dying_owned;       /* of which by dying domains */
	uint64_t next_mfn;          /* host memory is [0, next_mfn) */
	struct env_list domains;    /* creation order (checks, teardown) */
	struct scrub_domain **dhash; /* by id: a lookup costs O(1), not O(domains) */
	uint32_t dhash_cap;          /* a power of two, or 0 */
	uint32_t ndomains;
	uint64_t runs;              /* runs over all queues */
	uint64_t bytes;             /* ring buffers + domains + the model */
};

#define XQ_MIN_CAP 4u
#define XQ_MAX_CAP (1u << 30)

static struct scrub_extent *xq_at(const struct scrub_xq *q, uint32_t i)
{
	return &q->v[(q->head + i) & (q->cap - 1)];
}

static void note_peaks(struct scrub_model *m)
{
	if (m->runs > m->st.runs_peak)
		m->st.runs_peak = m->runs;
	if (m->bytes > m->st.bytes_peak)
		m->st.bytes_peak = m->bytes;
	if (m->dirty.pages > m->st.dirty_peak)
		m->st.dirty_peak = m->dirty.pages;
}

static int xq_resize(struct scrub_model *m, struct scrub_xq *q, uint32_t cap)
{
	struct scrub_extent *v = env_alloc((size_t)cap * sizeof(*v));
	uint32_t i;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < q->n; i++)
		v[i] = *xq_at(q, i);
	if (q->v)
		env_free(q->v, (size_t)q->cap * sizeof(*v));
	m->bytes += (uint64_t)cap * sizeof(*v);
	m->bytes -= (uint64_t)q->cap * sizeof(*v);
	q->v = v;
	q->cap = cap;
	q->head = 0;
	note_peaks(m);
	return 0;
}

/* Makes sure k more pushes cannot fail.  0 or -ENOMEM (nothing changed). */
static int xq_reserve(struct scrub_model *m, struct scrub_xq *q, uint32_t k)
{
	uint64_t need = (uint64_t)q->n + q->reserved + k;
	uint32_t cap = q->cap ? q->cap : XQ_MIN_CAP;

	if (need > XQ_MAX_CAP)
		return -ENOMEM;
	while (cap < need)
		cap *= 2;
	if (cap != q->cap && xq_resize(m, q, cap))
		return -ENOMEM;
	q->reserved += k;
	return 0;
}

/* Appends a run, merging it into the tail run when contiguous; consumes one reservation. */
static void xq_push(struct scrub_model *m, struct scrub_xq *q, uint64_t start, uint64_t len)
{
	ENV_ASSERT(q->reserved > 0 && len > 0);
	q->reserved--;
	q->pages += len;
	if (q->n) {
		struct scrub_extent *t = xq_at(q, q->n - 1);

		if (t->start + t->len == start) {
			t->len += len;
			return;
		}
	}
	ENV_ASSERT(q->n < q->cap);
	xq_at(q, q->n)->start = start;
	xq_at(q, q->n)->len = len;
	q->n++;
	m->runs++;
	note_peaks(m);
}

/* A ring at most 1/8 used halves (a failed shrink just keeps the larger ring). */
static void xq_maybe_shrink(struct scrub_model *m, struct scrub_xq *q)
{
	if (q->cap > XQ_MIN_CAP && ((uint64_t)q->n + q->reserved) * 8 <= q->cap)
		xq_resize(m, q, q->cap / 2);
}

/* Removes at most max pages from the head run; returns how many (0 if empty). */
static uint64_t xq_pop(struct scrub_model *m, struct scrub_xq *q, uint64_t max, uint64_t *start)
{
	struct scrub_extent *h;
	uint64_t k;

	if (!q->n || !max)
		return 0;
	h = xq_at(q, 0);
	k = ENV_MIN(max, h->len);
	*start = h->start;
	h->start += k;
	h->len -= k;
	q->pages -= k;
	if (!h->len) {
		q->head = (q->head + 1) & (q->cap - 1);
		q->n--;
		m->runs--;
		xq_maybe_shrink(m, q);
	}
	return k;
}

/* Runs the first `pages` pages of q span. */
static uint32_t xq_runs_for(const struct scrub_xq *q, uint64_t pages)
{
	uint32_t i;

	for (i = 0; i < q->n && pages; i++)
		pages -= ENV_MIN(pages, xq_at(q, i)->len);
	return i;
}

static void xq_free(struct scrub_model *m, struct scrub_xq *q)
{
	if (q->v) {
		env_free(q->v, (size_t)q->cap * sizeof(*q->v));
		m->bytes -= (uint64_t)q->cap * sizeof(*q->v);
	}
	m->runs -= q->n;
	env_memset(q, 0, sizeof(*q));
}

static int xq_check(const struct scrub_xq *q)
{
	uint64_t sum = 0;
	uint32_t i;

	if (q->cap & (q->cap - 1))
		return -EINVAL;
	if ((uint64_t)q->n + q->reserved > q->cap)
		return -EINVAL;
	for (i = 0; i < q->n; i++) {
		const struct scrub_extent *e = xq_at(q, i);

		if (!e->len)
			return -EINVAL;
		if (i && xq_at(q, i - 1)->start + xq_at(q, i - 1)->len == e->start)
			return -EINVAL;   /* neighbours that should have merged */
		sum += e->len;
	}
	return sum == q->pages ? 0 : -EINVAL;
}

/* ---- the clean set ------------------------------------------------------------------------ */

static struct clean_run *crun(const struct avl_node *a)
{
	return env_container_of(a, struct clean_run, avl);
}

static void cs_release(struct scrub_model *m, struct clean_run *r)
{
	env_free(r, sizeof(*r));
	m->bytes -= sizeof(*r);
}

/*
 * Frees spare nodes beyond what is promised, keeping `keep` more: one unpromised spare stays
 * cached, so a free that merges with its neighbour (a relinquish page by page, the common
 * case) does not allocate and free a node every time.
 */
static void cs_trim_to(struct scrub_model *m, uint32_t keep)
{
	while (m->clean.nspare > m->clean.reserved + keep) {
		struct clean_run *r = m->clean.spare;

		m->clean.spare = (struct clean_run *)r->avl.left;
		m->clean.nspare--;
		cs_release(m, r);
	}
}

static void cs_trim(struct scrub_model *m)
{
	cs_trim_to(m, 1);
}

/* Promises one insertion.  0 or -ENOMEM (nothing changed). */
static int cs_reserve(struct scrub_model *m)
{
	if (m->clean.nspare <= m->clean.reserved) {
		struct clean_run *r = env_zalloc(sizeof(*r));

		if (!r)
			return -ENOMEM;
		m->bytes += sizeof(*r);
		r->avl.left = (struct avl_node *)m->clean.spare;
		m->clean.spare = r;
		m->clean.nspare++;
		note_peaks(m);
	}
	m->clean.reserved++;
	return 0;
}

/* Adds [start, start + len), merging with the runs it touches; consumes one promise. */
static void cs_insert(struct scrub_model *m, uint64_t start, uint64_t len)
{
	struct clean_set *cs = &m->clean;
	struct avl_node **link = &cs->root.node, *parent = NULL;
	struct clean_run *pred = NULL, *succ = NULL, *r;

	ENV_ASSERT(cs->reserved > 0 && len > 0);
	while (*link) {
		parent = *link;
		r = crun(parent);
		if (r->start <= start) {
			pred = r;
			link = &parent->right;
		} else {
			succ = r;
			link = &parent->left;
		}
	}
	ENV_ASSERT(!pred || pred->start + pred->len <= start);
	ENV_ASSERT(!succ || start + len <= succ->start);
	cs->pages += len;
	cs->reserved--;
	if (pred && pred->start + pred->len == start) {
		pred->len += len;
		if (succ && start + len == succ->start) {
			pred->len += succ->len;
			avl_erase(&cs->root, &succ->avl);
			cs_release(m, succ);
			cs->runs--;
			m->runs--;
		}
	} else if (succ && start + len == succ->start) {
		succ->start = start;    /* still above pred: the order holds */
		succ->len += len;
	} else {
		r = cs->spare;
		ENV_ASSERT(r != NULL);
		cs->spare = (struct clean_run *)r->avl.left;
		cs->nspare--;
		env_memset(r, 0, sizeof(*r));
		r->start = start;
		r->len = len;
		avl_insert(&cs->root, &r->avl, parent, link);
		cs->runs++;
		m->runs++;
	}
	cs_trim(m);
	note_peaks(m);
}

/* Removes at most max pages from the lowest run; returns how many (0 if empty). */
static uint64_t cs_pop(struct scrub_model *m, uint64_t max, uint64_t *start)
{
	struct avl_node *a = avl_first(&m->clean.root, NULL);
	struct clean_run *r;
	uint64_t k;

	if (!a || !max)
		return 0;
	r = crun(a);
	k = ENV_MIN(max, r->len);
	*start = r->start;
	r->start += k;
	r->len -= k;
	m->clean.pages -= k;
	if (!r->len) {
		avl_erase(&m->clean.root, a);
		cs_release(m, r);
		m->clean.runs--;
		m->runs--;
	}
	return k;
}

/* Runs the lowest `pages` clean pages span. */
static uint32_t cs_runs_for(const struct scrub_model *m, uint64_t pages)
{
	struct avl_node *a;
	uint32_t n = 0;

	for (a = avl_first(&m->clean.root, NULL); a && pages; a = avl_next(a, NULL), n++)
		pages -= ENV_MIN(pages, crun(a)->len);
	return n;
}

static void cs_free(struct scrub_model *m)
{
	struct avl_node *a = avl_first_postorder(&m->clean.root);

	while (a) {
		struct avl_node *next = avl_next_postorder(a);

		cs_release(m, crun(a));
		m->runs--;
		a = next;
	}
	m->clean.root.node = NULL;
	m->clean.reserved = 0;
	cs_trim_to(m, 0);
	m->clean.runs = m->clean.pages = 0;
}

static int cs_cmp(const struct avl_node *a, const struct avl_node *b)
{
	return crun(a)->start < crun(b)->start ? -1 : crun(a)->start > crun(b)->start;
}

static int cs_check(const struct scrub_model *m)
{
	const struct avl_node *a;
	uint64_t count, height, sum = 0, prev_end = 0;
	bool first = true;

	if (avl_check(&m->clean.root, cs_cmp, m->clean.runs, &count, &height) ||
	    count != m->clean.runs)
		return -EINVAL;
	for (a = avl_first(&m->clean.root, NULL); a; a = avl_next(a, NULL)) {
		const struct clean_run *r = crun(a);

		if (!r->len || (!first && r->start <= prev_end))
			return -EINVAL;   /* empty, overlapping, or touching: should have merged */
		first = false;
		prev_end = r->start + r->len;
		sum += r->len;
	}
	if (sum != m->clean.pages || m->clean.nspare < m->clean.reserved ||
	    m->clean.nspare > m->clean.reserved + 1)
		return -EINVAL;
	return 0;
}

struct scrub_model *scrub_model_create(const struct scrub_policy *pol,
				       const struct scrub_params *p)
{
	struct scrub_model *m;

	if (!pol || scrub_params_validate(p))
		return NULL;
	m = env_zalloc(sizeof(*m));
	if (!m)
		return NULL;
	m->pol = pol;
	m->p = *p;
	env_list_init(&m->domains);
	m->bytes = sizeof(*m);
	note_peaks(m);
	return m;
}

/* ---- domains by id ------------------------------------------------------------------------- */

#define DHASH_MIN_CAP 16u

static uint32_t dhash_slot(uint32_t cap, uint32_t id)
{
	return (uint32_t)(env_mix64(id) & (cap - 1));
}

/* The domain of that id or NULL; *probes += the domains examined. */
static struct scrub_domain *dhash_lookup(const struct scrub_model *m, uint32_t id,
					 uint64_t *probes)
{
	struct scrub_domain *d;

	if (!m->dhash_cap)
		return NULL;
	for (d = m->dhash[dhash_slot(m->dhash_cap, id)]; d; d = d->hnext) {
		(*probes)++;
		if (d->id == id)
			return d;
	}
	return NULL;
}

/* A lookup on behalf of an operation, counted in the stats (which a const query may
 * update: the model itself is never const, only the caller's view of it). */
static struct scrub_domain *find_domain(const struct scrub_model *m, uint32_t id)
{
	struct scrub_stats *st = (struct scrub_stats *)&m->st;

	st->domain_lookups++;
	return dhash_lookup(m, id, &st->domain_probes);
}

/* Doubles the table when it holds more domains than buckets; without memory it keeps the
 * old one (longer chains: slower, never wrong).  -ENOMEM only if there is no table at all. */
static int dhash_grow(struct scrub_model *m)
{
	uint32_t cap = m->dhash_cap ? m->dhash_cap * 2 : DHASH_MIN_CAP, i;
	struct scrub_domain **t;

	if (m->dhash_cap && (m->ndomains < m->dhash_cap || m->dhash_cap >= (1u << 30)))
		return 0;
	t = env_zalloc((size_t)cap * sizeof(*t));
	if (!t) {
		m->st.dhash_grow_failures++;
		return m->dhash_cap ? 0 : -ENOMEM;
	}
	for (i = 0; i < m->dhash_cap; i++)
		while (m->dhash[i]) {
			struct scrub_domain *d = m->dhash[i];

			m->dhash[i] = d->hnext;
			d->hnext = t[dhash_slot(cap, d->id)];
			t[dhash_slot(cap, d->id)] = d;
		}
	if (m->dhash) {
		env_free(m->dhash, (size_t)m->dhash_cap * sizeof(*m->dhash));
		m->bytes -= (uint64_t)m->dhash_cap * sizeof(*m->dhash);
	}
	m->dhash = t;
	m->dhash_cap = cap;
	m->bytes += (uint64_t)cap * sizeof(*t);
	note_peaks(m);
	return 0;
}

static void dhash_remove(struct scrub_model *m, struct scrub_domain *d)
{
	struct scrub_domain **p = &m->dhash[dhash_slot(m->dhash_cap, d->id)];

	while (*p != d)
		p = &(*p)->hnext;
	*p = d->hnext;
}

static void free_domain(struct scrub_model *m, struct scrub_domain *d)
{
	dhash_remove(m, d);
	env_list_del(&d->link);
	xq_free(m, &d->pages);
	env_free(d, sizeof(*d));
	m->bytes -= sizeof(*d);
	m->ndomains--;
}

void scrub_model_destroy(struct scrub_model *m)
{
	if (!m)
		return;
	while (!env_list_empty(&m->domains))
		free_domain(m, env_container_of(m->domains.next, struct scrub_domain, link));
	cs_free(m);
	xq_free(m, &m->dirty);
	if (m->dhash)
		env_free(m->dhash, (size_t)m->dhash_cap * sizeof(*m->dhash));
	env_free(m, sizeof(*m));
}

const struct scrub_stats *scrub_stats(const struct scrub_model *m) { return &m->st; }
struct work *scrub_work(struct scrub_model *m) { return &m->work; }
uint64_t scrub_backlog(const struct scrub_model *m) { return m->dirty.pages; }
uint64_t scrub_inflight(const struct scrub_model *m) { return m->inflight; }
uint64_t scrub_dying_pages(const struct scrub_model *m) { return m->dying_owned; }
uint64_t scrub_clean_pages(const struct scrub_model *m) { return m->clean.pages; }
uint64_t scrub_clean_runs(const struct scrub_model *m) { return m->clean.runs; }
uint64_t scrub_model_bytes(const struct scrub_model *m) { return m->bytes; }
uint64_t scrub_model_runs(const struct scrub_model *m) { return m->runs; }

uint64_t scrub_allocatable(const struct scrub_model *m)
{
	return m->clean.pages + (m->pol->alloc_dirty ? m->dirty.pages : 0);
}

int scrub_host_grow(struct scrub_model *m, uint64_t pages)
{
	if (!pages)
		return 0;
	if (m->next_mfn + pages < m->next_mfn)
		return -EINVAL;
	if (cs_reserve(m)) {
		m->st.enomem++;
		return -ENOMEM;
	}
	cs_insert(m, m->next_mfn, pages);
	m->next_mfn += pages;
	m->st.host_pages += pages;
	return 0;
}

int scrub_domain_create(struct scrub_model *m, uint32_t id)
{
	struct scrub_domain *d;

	if (find_domain(m, id))
		return -EEXIST;
	d = env_zalloc(sizeof(*d));
	if (!d || dhash_grow(m)) {
		if (d)
			env_free(d, sizeof(*d));
		m->st.enomem++;
		return -ENOMEM;
	}
	d->id = id;
	d->hnext = m->dhash[dhash_slot(m->dhash_cap, id)];
	m->dhash[dhash_slot(m->dhash_cap, id)] = d;
	env_list_add_tail(&d->link, &m->domains);
	m->ndomains++;
	m->bytes += sizeof(*d);
	note_peaks(m);
	return 0;
}

uint64_t scrub_domain_pages(const struct scrub_model *m, uint32_t id)
{
	const struct scrub_domain *d = find_domain(m, id);

	return d ? d->pages.pages : 0;
}

/* Moves `pages` pages from the head of `from` to the tail of `to` (room reserved). */
static void move_pages(struct scrub_model *m, struct scrub_xq *from, struct scrub_xq *to,
		       uint64_t pages)
{
	uint64_t s, k;

	while (pages) {
		k = xq_pop(m, from, pages, &s);
		ENV_ASSERT(k > 0);
		xq_push(m, to, s, k);
		pages -= k;
	}
}

int scrub_alloc(struct scrub_model *m, uint32_t id, uint64_t pages, uint64_t *dirty_taken)
{
	struct scrub_domain *d = find_domain(m, id);
	uint64_t from_clean, from_dirty;
	uint32_t runs;

	if (dirty_taken)
		*dirty_taken = 0;
	if (!d)
		return -ENOENT;
	if (d->dying)
		return -EBUSY;
	if (!pages)
		return 0;
	if (scrub_allocatable(m) < pages)
		return -EAGAIN;
	from_clean = ENV_MIN(pages, m->clean.pages);
	from_dirty = pages - from_clean;
	runs = cs_runs_for(m, from_clean) + xq_runs_for(&m->dirty, from_dirty);
	if (xq_reserve(m, &d->pages, runs)) {
		m->st.enomem++;
		return -ENOMEM;
	}
	while (from_clean) {
		uint64_t s = 0, k = cs_pop(m, from_clean, &s);

		ENV_ASSERT(k > 0);
		xq_push(m, &d->pages, s, k);
		from_clean -= k;
	}
	move_pages(m, &m->dirty, &d->pages, from_dirty);
	if (from_dirty) {
		/* the dirty pages sit in the heap under the lock; each is scrubbed before the
		 * domain may see it */
		work_add(&m->work, WU_LOCK, 1);
		work_add(&m->work, WU_PAGE_SCRUB, from_dirty);
		m->st.scrubbed_alloc += from_dirty;
	}
	m->owned += pages;
	m->st.pages_allocated += pages;
	if (dirty_taken)
		*dirty_taken = from_dirty;
	return 0;
}

int scrub_destroy_begin(struct scrub_model *m, uint32_t id)
{
	struct scrub_domain *d = find_domain(m, id);

	if (!d)
		return -ENOENT;
	if (d->dying)
		return -EBUSY;
	d->dying = true;
	m->dying_owned += d->pages.pages;
	return 0;
}

void scrub_page_work(const struct scrub_model *m, struct work *pre, struct work *locked)
{
	work_reset(pre);
	work_reset(locked);
	work_add(pre, WU_REFCOUNT, 1);
	work_add(pre, WU_LIST_HOP, 1);
	work_add(pre, WU_PAGE_PUT, 2);
	work_add(pre, WU_PREEMPT_CHECK, 1);
	if (!m->pol->defer) {
		work_add(pre, WU_PAGE_SCRUB, 1);
		work_add(pre, WU_FREE, 1);
		work_add(pre, WU_LOCK, 1);
	} else if (m->pol->alloc_dirty) {
		work_add(locked, WU_LOCK, 1);
		work_add(locked, WU_FREE, 1);
	} else {
		work_add(locked, WU_LOCK, 1);
		work_add(locked, WU_ENTRY_MOVE, 1);
	}
}

static void count_pages(struct scrub_model *m, uint64_t k)
{
	struct work pre, locked;
	unsigned u;

	scrub_page_work(m, &pre, &locked);
	for (u = 0; u < WU__COUNT; u++)
		m->work.n[u] += k * (pre.n[u] + locked.n[u]);
}

/* A deferred free that found no room in the dirty queue: scrubbed here, like sync. */
static int free_one_sync(struct scrub_model *m, struct scrub_domain *d)
{
	uint64_t s;

	if (cs_reserve(m))
		return -ENOMEM;
	xq_pop(m, &d->pages, 1, &s);
	cs_insert(m, s, 1);
	work_add(&m->work, WU_REFCOUNT, 1);
	work_add(&m->work, WU_LIST_HOP, 1);
	work_add(&m->work, WU_PAGE_PUT, 2);
	work_add(&m->work, WU_PREEMPT_CHECK, 1);
	work_add(&m->work, WU_PAGE_SCRUB, 1);
	work_add(&m->work, WU_FREE, 1);
	work_add(&m->work, WU_LOCK, 1);
	m->st.scrubbed_free++;
	m->st.sync_fallbacks++;
	return 0;
}

/* Room for one more run where the policy's free path puts pages.  0 or -ENOMEM. */
static int free_reserve(struct scrub_model *m)
{
	return m->pol->defer ? xq_reserve(m, &m->dirty, 1) : cs_reserve(m);
}

/* Backlog at which the free path stops for the scrubbers: a polling tasklet sees the page
 * that makes the list non-empty; woken scrubbers are woken at kick_pages. */
static uint64_t kick_at(const struct scrub_model *m)
{
	return m->pol->one_tasklet ? 1 : m->p.kick_pages;
}

int scrub_relinquish(struct scrub_model *m, uint32_t id, uint64_t max, uint64_t *freed,
		     bool *kick)
{
	struct scrub_domain *d = find_domain(m, id);
	uint64_t s, k, want, kick_pages = kick_at(m);
	int rc = 0;

	*freed = 0;
	*kick = false;
	if (!d)
		return -ENOENT;
	if (!d->dying)
		return -EINVAL;
	while (*freed < max && d->pages.n) {
		want = max - *freed;
		if (m->pol->defer && m->dirty.pages < kick_pages)
			want = ENV_MIN(want, kick_pages - m->dirty.pages);
		if (free_reserve(m)) {
			if (m->pol->defer && !free_one_sync(m, d)) {
				(*freed)++;
				continue;
			}
			m->st.enomem++;
			rc = -ENOMEM;
			break;
		}
		k = xq_pop(m, &d->pages, want, &s);
		if (m->pol->defer)
			xq_push(m, &m->dirty, s, k);
		else
			cs_insert(m, s, k);
		count_pages(m, k);
		*freed += k;
		if (!m->pol->defer)
			m->st.scrubbed_free += k;
		if (m->pol->defer && m->dirty.pages == kick_pages &&
		    m->dirty.pages - k < kick_pages) {
			*kick = true;
			m->st.kicks += !m->pol->one_tasklet;   /* a polling tasklet is not woken */
			break;
		}
	}
	m->owned -= *freed;
	m->dying_owned -= *freed;
	m->st.pages_freed += *freed;
	note_peaks(m);
	if (rc)
		return rc;
	if (!d->pages.n) {
		free_domain(m, d);
		return 0;
	}
	return -EAGAIN;
}

int scrub_take(struct scrub_model *m, struct scrub_batch *b)
{
	uint64_t s;

	b->start = b->len = 0;
	work_add(&m->work, WU_LOCK, 1);
	if (!m->dirty.pages) {
		m->st.empty_takes++;
		return -ENOENT;
	}
	if (cs_reserve(m)) {
		m->st.enomem++;
		return -ENOMEM;
	}
	b->len = xq_pop(m, &m->dirty, m->pol->one_tasklet ? 1 : m->p.batch, &s);
	b->start = s;
	m->inflight += b->len;
	work_add(&m->work, WU_ENTRY_MOVE, b->len);
	m->st.batches++;
	return 0;
}

void scrub_finish_work(const struct scrub_model *m, uint64_t len, struct work *w)
{
	(void)m;
	work_reset(w);
	work_add(w, WU_PAGE_SCRUB, len);
	work_add(w, WU_FREE, len);
	work_add(w, WU_LOCK, 1);
}

void scrub_finish(struct scrub_model *m, struct scrub_batch *b)
{
	struct work w;
	unsigned u;

	ENV_ASSERT(b->len > 0 && b->len <= m->inflight);
	scrub_finish_work(m, b->len, &w);
	for (u = 0; u < WU__COUNT; u++)
		m->work.n[u] += w.n[u];
	cs_insert(m, b->start, b->len);
	m->inflight -= b->len;
	m->st.scrubbed_batch += b->len;
	b->start = b->len = 0;
}

static void each_run(const struct scrub_xq *q, void (*fn)(void *, uint64_t, uint64_t), void *arg)
{
	uint32_t i;

	for (i = 0; i < q->n; i++)
		fn(arg, xq_at(q, i)->start, xq_at(q, i)->len);
}

int scrub_domain_runs(const struct scrub_model *m, uint32_t id,
		      void (*fn)(void *arg, uint64_t start, uint64_t len), void *arg)
{
	const struct scrub_domain *d = find_domain(m, id);

	if (!d)
		return -ENOENT;
	each_run(&d->pages, fn, arg);
	return 0;
}

void scrub_queue_runs(const struct scrub_model *m, int which,
		      void (*fn)(void *arg, uint64_t start, uint64_t len), void *arg)
{
	const struct avl_node *a;

	if (which) {
		each_run(&m->dirty, fn, arg);
		return;
	}
	for (a = avl_first(&m->clean.root, NULL); a; a = avl_next(a, NULL))
		fn(arg, crun(a)->start, crun(a)->len);
}

int scrub_check(const struct scrub_model *m)
{
	const struct env_list *l;
	uint64_t owned = 0, dying = 0, runs = m->clean.runs + m->dirty.n, probes = 0;
	uint32_t nd = 0;

	if (cs_check(m) || xq_check(&m->dirty) || m->dirty.reserved)
		return -EINVAL;
	for (l = m->domains.next; l != &m->domains; l = l->next) {
		const struct scrub_domain *d = env_container_of(l, struct scrub_domain, link);

		if (xq_check(&d->pages) || d->pages.reserved)
			return -EINVAL;
		if (dhash_lookup(m, d->id, &probes) != d)
			return -EINVAL;
		owned += d->pages.pages;
		if (d->dying)
			dying += d->pages.pages;
		runs += d->pages.n;
		nd++;
	}
	if (nd != m->ndomains || owned != m->owned || dying != m->dying_owned || runs != m->runs)
		return -EINVAL;
	if (m->clean.pages + m->dirty.pages + m->inflight + m->owned != m->st.host_pages)
		return -EINVAL;
	if (m->st.host_pages != m->next_mfn)
		return -EINVAL;
	return 0;
}
