/* SPDX-License-Identifier: MIT */
/*
 * models/sharing.c — the memory-sharing machine of seed 000: domains with p2m trees, shared
 * frames with reverse maps, share / unshare / relinquish on destroy (see sharing.h for the
 * entry state machine and the invariants sharing_check() verifies).
 *
 * State
 *   domains  a sorted array of domain ids -> struct sharing_domain (p2m, shr_pages, phase,
 *            relinquish cursor).  Binary search; inserts shift (domains are few).
 *   frames   an open-addressing hash table (linear probing, backward-shift deletion) of
 *            struct shared_frame {id, rmap, refs}, 24 bytes a slot, stored in the slot.  It
 *            grows at load 3/4 and shrinks at 1/8, so its size follows the live frames; a
 *            resize that cannot get memory leaves the table as it is (counted) and an insert
 *            fails with -ENOMEM only when no free slot is left.  Positions depend on
 *            env_mix64(frame id), never on pointers.
 *
 * Domain phases (a domain enters RELINQUISH_SHARED at its first sharing_relinquish_step):
 *
 *   LIVE --first step--> SHARED --shr_pages == 0 or scan done--> PRIVATE --no private left-->
 *   freed.  A step preempted in SHARED or PRIVATE returns -EAGAIN and resumes at the cursor.
 *
 *   SHARED   the seed's relinquish_shared_pages(): gfns ascending from the cursor to
 *            max_mapped, holes included, while the domain has shared entries; each SHARED
 *            entry is unshared with the DESTROY semantics and cleared; the relinquish policy
 *            decides after each gfn whether to call the preemption check.
 *   PRIVATE  relinquish_memory() over the domain's own pages: each private page is put, and,
 *            as Xen does there, the preemption check runs after every page.  This phase is
 *            not what the seed changed, so the policy does not govern it.
 *   freed    p2m_teardown: the p2m's nodes are freed (WU_FREE each), the domain goes.
 *
 * Memory per tuple (a SHARED gfn) outside the rmap: its p2m entry, 8 bytes when gfns are
 * dense (plus 1/512 of that for interior nodes).  Per frame: one table slot of 24 bytes at load 3/8..3/4,
 * 32-64 bytes.  The population scenario (400k frames, ~40M tuples) thus needs ~320 MB of p2m
 * plus ~20 MB of frame table, plus the rmap's own bytes per tuple (32 for list entries).
 *
 * Work units counted into sm->rm.work besides the rmap's own: WU_P2M_ENTRY per gfn examined
 * by the relinquish scan, WU_PAGE_PUT per page reference dropped (put_page_and_type on
 * destroy and copy-on-write, put_page of a private page), WU_REFCOUNT per type-count change
 * (get_page_and_type on share, page_make_private), WU_ALLOC for the private page a
 * copy-on-write break allocates (the 4 KiB copy itself has no unit), WU_PREEMPT_CHECK per
 * preemption check, WU_ALLOC/WU_FREE per p2m node.  The rmap's create/destroy allocations
 * stand for the seed's page_sharing_info, which holds the rmap head.
 */
#include "sharing.h"

enum domain_phase {
	PHASE_LIVE = 0,
	PHASE_RELINQUISH_SHARED,
	PHASE_RELINQUISH_PRIVATE,
};

struct sharing_domain {
	uint32_t id;
	uint8_t phase;                  /* enum domain_phase */
	uint64_t shr_pages;             /* SHARED entries (the seed's d->shr_pages) */
	struct p2m p2m;
	struct relinquish_cursor cur;
};

struct shared_frame {
	uint64_t id;
	struct rmap *rmap;              /* NULL: empty slot */
	uint64_t refs;                  /* page references held by gfns: one per tuple */
};

struct sharing_model {
	struct rmap_model rm;
	const struct relinquish_policy *lpol;
	struct relinquish_params lp;
	struct sharing_stats st;

	struct sharing_domain **doms;   /* sorted by id */
	uint32_t ndoms, domcap;

	struct shared_frame *ft;        /* ftcap slots, a power of two, or NULL */
	uint64_t ftcap, ftcount;
};

#define FT_MIN_CAP 64
#define DOM_MIN_CAP 8

/* ---- frame table -------------------------------------------------------------------------- */

static inline uint64_t ft_home(uint64_t id, uint64_t cap)
{
	return env_mix64(id) & (cap - 1);
}

static struct shared_frame *ft_find(const struct sharing_model *sm, uint64_t id)
{
	uint64_t i;

	if (!sm->ftcap)
		return NULL;
	for (i = ft_home(id, sm->ftcap); sm->ft[i].rmap; i = (i + 1) & (sm->ftcap - 1))
		if (sm->ft[i].id == id)
			return &sm->ft[i];
	return NULL;
}

static int ft_resize(struct sharing_model *sm, uint64_t cap)
{
	struct shared_frame *nt = env_zalloc(cap * sizeof(*nt));
	uint64_t i, j;

	if (!nt)
		return -ENOMEM;
	for (i = 0; i < sm->ftcap; i++) {
		if (!sm->ft[i].rmap)
			continue;
		for (j = ft_home(sm->ft[i].id, cap); nt[j].rmap; j = (j + 1) & (cap - 1))
			;
		nt[j] = sm->ft[i];
	}
	if (sm->ft)
		env_free(sm->ft, sm->ftcap * sizeof(*sm->ft));
	sm->ft = nt;
	sm->ftcap = cap;
	return 0;
}

/* A new slot for frame `id` (absent) holding r; NULL when no slot can be had. */
static struct shared_frame *ft_insert(struct sharing_model *sm, uint64_t id, struct rmap *r)
{
	uint64_t i;

	if ((sm->ftcount + 1) * 4 > sm->ftcap * 3) {
		if (ft_resize(sm, sm->ftcap ? sm->ftcap * 2 : FT_MIN_CAP)) {
			sm->st.table_resize_failed++;
			/* Denser is fine; full is not: probing needs one empty slot. */
			if (sm->ftcount + 1 >= sm->ftcap)
				return NULL;
		}
	}
	for (i = ft_home(id, sm->ftcap); sm->ft[i].rmap; i = (i + 1) & (sm->ftcap - 1))
		;
	sm->ft[i].id = id;
	sm->ft[i].rmap = r;
	sm->ft[i].refs = 0;
	sm->ftcount++;
	return &sm->ft[i];
}

/* Empties slot f (backward-shift deletion keeps every probe chain gap-free); may shrink
 * the table, so no slot pointer survives this call. */
static void ft_remove(struct sharing_model *sm, struct shared_frame *f)
{
	uint64_t mask = sm->ftcap - 1, i = (uint64_t)(f - sm->ft), j = i;

	for (;;) {
		uint64_t k;

		j = (j + 1) & mask;
		if (!sm->ft[j].rmap)
			break;
		k = ft_home(sm->ft[j].id, sm->ftcap);
		/* The entry at j may fill the hole at i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			sm->ft[i] = sm->ft[j];
			i = j;
		}
	}
	sm->ft[i].rmap = NULL;
	sm->ft[i].id = 0;
	sm->ft[i].refs = 0;
	sm->ftcount--;
	if (sm->ftcap > FT_MIN_CAP && sm->ftcount * 8 < sm->ftcap) {
		if (ft_resize(sm, sm->ftcap / 2))
			sm->st.table_resize_failed++;
	}
}

/* ---- domain table ------------------------------------------------------------------------- */

/* Index of the first domain with id >= `id`. */
static uint32_t dom_lower_bound(const struct sharing_model *sm, uint32_t id)
{
	uint32_t lo = 0, hi = sm->ndoms;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (sm->doms[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct sharing_domain *dom_find(const struct sharing_model *sm, uint32_t id)
{
	uint32_t i = dom_lower_bound(sm, id);

	return i < sm->ndoms && sm->doms[i]->id == id ? sm->doms[i] : NULL;
}

/* A domain that may still take memory: NULL and *rc = -ENOENT or -EBUSY otherwise. */
static struct sharing_domain *live_domain(const struct sharing_model *sm, uint32_t id, int *rc)
{
	struct sharing_domain *d = dom_find(sm, id);

	if (!d) {
		*rc = -ENOENT;
		return NULL;
	}
	if (d->phase != PHASE_LIVE) {
		*rc = -EBUSY;
		return NULL;
	}
	return d;
}

static int dom_resize(struct sharing_model *sm, uint32_t cap)
{
	struct sharing_domain **nd = env_alloc((size_t)cap * sizeof(*nd));
	uint32_t i;

	if (!nd)
		return -ENOMEM;
	for (i = 0; i < sm->ndoms; i++)
		nd[i] = sm->doms[i];
	if (sm->doms)
		env_free(sm->doms, (size_t)sm->domcap * sizeof(*sm->doms));
	sm->doms = nd;
	sm->domcap = cap;
	return 0;
}

/* ---- model life cycle --------------------------------------------------------------------- */

struct sharing_model *sharing_model_create(const struct rmap_policy *rpol,
					   const struct rmap_params *rp,
					   const struct relinquish_policy *lpol,
					   const struct relinquish_params *lp)
{
	struct sharing_model *sm;

	if (!rpol || !rp || !lpol || !lp || rmap_params_validate(rp) ||
	    relinquish_params_validate(lp))
		return NULL;
	sm = env_zalloc(sizeof(*sm));
	if (!sm)
		return NULL;
	rmap_model_init(&sm->rm, rpol, rp);
	sm->lpol = lpol;
	sm->lp = *lp;
	return sm;
}

static void domain_free(struct sharing_model *sm, uint32_t index, struct work *w)
{
	struct sharing_domain *d = sm->doms[index];
	uint32_t i;

	p2m_destroy(&d->p2m, w);
	env_free(d, sizeof(*d));
	for (i = index + 1; i < sm->ndoms; i++)
		sm->doms[i - 1] = sm->doms[i];
	sm->ndoms--;
	if (sm->domcap > DOM_MIN_CAP && sm->ndoms * 4 < sm->domcap && dom_resize(sm, sm->domcap / 2))
		sm->st.table_resize_failed++;
}

void sharing_model_destroy(struct sharing_model *sm)
{
	uint64_t i;

	if (!sm)
		return;
	while (sm->ndoms)
		domain_free(sm, sm->ndoms - 1, NULL);
	if (sm->doms)
		env_free(sm->doms, (size_t)sm->domcap * sizeof(*sm->doms));
	for (i = 0; i < sm->ftcap; i++)
		if (sm->ft[i].rmap)
			sm->rm.policy->destroy(&sm->rm, sm->ft[i].rmap);
	if (sm->ft)
		env_free(sm->ft, sm->ftcap * sizeof(*sm->ft));
	env_free(sm, sizeof(*sm));
}

struct rmap_model *sharing_rmap(struct sharing_model *sm)
{
	return &sm->rm;
}

const struct sharing_stats *sharing_stats(const struct sharing_model *sm)
{
	return &sm->st;
}

uint64_t sharing_model_bytes(const struct sharing_model *sm)
{
	uint64_t b = sizeof(*sm) + (uint64_t)sm->domcap * sizeof(*sm->doms) +
		     sm->ftcap * sizeof(*sm->ft);
	uint32_t i;

	for (i = 0; i < sm->ndoms; i++)
		b += sizeof(*sm->doms[i]) + p2m_bytes(&sm->doms[i]->p2m);
	return b;
}

/* ---- operations --------------------------------------------------------------------------- */

int sharing_domain_create(struct sharing_model *sm, uint32_t domain)
{
	struct sharing_domain *d;
	uint32_t at, i;

	at = dom_lower_bound(sm, domain);
	if (at < sm->ndoms && sm->doms[at]->id == domain)
		return -EEXIST;
	if (sm->ndoms == sm->domcap &&
	    dom_resize(sm, sm->domcap ? sm->domcap * 2 : DOM_MIN_CAP)) {
		sm->st.enomem++;
		return -ENOMEM;
	}
	d = env_zalloc(sizeof(*d));
	if (!d) {
		sm->st.enomem++;
		return -ENOMEM;
	}
	d->id = domain;
	d->phase = PHASE_LIVE;
	p2m_init(&d->p2m);
	for (i = sm->ndoms; i > at; i--)
		sm->doms[i] = sm->doms[i - 1];
	sm->doms[at] = d;
	sm->ndoms++;
	return 0;
}

int sharing_page_alloc(struct sharing_model *sm, uint32_t domain, uint64_t gfn)
{
	struct sharing_domain *d;
	int rc;

	d = live_domain(sm, domain, &rc);
	if (!d)
		return rc;
	if (gfn >= P2M_GFN_LIMIT)
		return -ERANGE;
	if (p2m_type_of(p2m_get(&d->p2m, gfn)) != P2M_INVALID)
		return 0;
	rc = p2m_set(&d->p2m, gfn, p2m_mk(P2M_PRIVATE, 0), &sm->rm.work);
	if (rc == -ENOMEM)
		sm->st.enomem++;
	return rc;
}

/* Drops a frame's rmap and slot; no statistics (also undoes a frame that never lived). */
static void frame_discard(struct sharing_model *sm, struct shared_frame *f)
{
	sm->rm.policy->destroy(&sm->rm, f->rmap);
	ft_remove(sm, f);
}

static void frame_free(struct sharing_model *sm, struct shared_frame *f)
{
	frame_discard(sm, f);
	sm->st.frames_live--;
	sm->st.frames_freed++;
}

/*
 * Removes <domain, gfn> from frame `frame`'s rmap and drops the gfn's reference; frees the
 * frame with its last tuple (its rmap is not converted on the way: RMAP_NO_CONVERT).
 * Returns whether that was the last tuple.  The caller updates the p2m entry and counts.
 */
static bool drop_tuple(struct sharing_model *sm, uint32_t domain, uint64_t gfn, uint64_t frame)
{
	struct shared_frame *f = ft_find(sm, frame);
	struct rmap_key k = { .gfn = gfn, .domain = domain };
	bool last;
	int rc;

	ENV_ASSERT(f != NULL);
	if (!f)
		return false;
	last = sm->rm.policy->count(f->rmap) == 1;
	rc = sm->rm.policy->remove(&sm->rm, f->rmap, k, last ? RMAP_NO_CONVERT : 0);
	ENV_ASSERT(rc == 0);
	f->refs--;
	if (last)
		frame_free(sm, f);
	return last;
}

int sharing_share(struct sharing_model *sm, uint32_t domain, uint64_t gfn, uint64_t frame)
{
	struct rmap_key k = { .gfn = gfn, .domain = domain };
	struct sharing_domain *d;
	struct shared_frame *f;
	struct p2m_leaf *l;
	p2m_entry_t old;
	bool created = false;
	int rc;

	d = live_domain(sm, domain, &rc);
	if (!d)
		return rc;
	if (gfn >= P2M_GFN_LIMIT || frame >= P2M_FRAME_LIMIT)
		return -ERANGE;
	old = p2m_get(&d->p2m, gfn);
	if (p2m_type_of(old) == P2M_SHARED && p2m_frame_of(old) == frame)
		return 0;

	/* Everything that can fail comes first, so a failure changes no entry (a p2m leaf
	 * reserved on the way stays, empty, as p2m nodes do until teardown). */
	rc = p2m_reserve(&d->p2m, gfn, &sm->rm.work);
	if (rc)
		goto enomem;
	f = ft_find(sm, frame);
	if (!f) {
		struct rmap *r = sm->rm.policy->create(&sm->rm);

		if (!r) {
			rc = -ENOMEM;
			goto enomem;
		}
		f = ft_insert(sm, frame, r);
		if (!f) {
			sm->rm.policy->destroy(&sm->rm, r);
			rc = -ENOMEM;
			goto enomem;
		}
		created = true;
	}
	rc = sm->rm.policy->add(&sm->rm, f->rmap, k);
	if (rc) {
		if (created)
			frame_discard(sm, f);
		if (rc == -ENOMEM)
			goto enomem;
		return rc;
	}
	if (created) {
		sm->st.frames_live++;
		sm->st.frames_peak = ENV_MAX(sm->st.frames_peak, sm->st.frames_live);
	}
	f->refs++;
	work_add(&sm->rm.work, WU_REFCOUNT, 1);   /* get_page_and_type on the shared frame */

	/* Let go of what backed the gfn before.  f is not used past this point: freeing the
	 * old frame may move slots of the frame table. */
	switch (p2m_type_of(old)) {
	case P2M_SHARED:
		drop_tuple(sm, domain, gfn, p2m_frame_of(old));
		work_add(&sm->rm.work, WU_PAGE_PUT, 1);
		d->shr_pages--;
		sm->st.shared_entries--;
		sm->st.unshares++;
		break;
	case P2M_PRIVATE:
		/* A new frame is the private page itself (nominate); joining an existing frame
		 * frees the duplicate page (share_pages puts the client page). */
		if (!created)
			work_add(&sm->rm.work, WU_PAGE_PUT, 1);
		break;
	default:
		break;
	}
	l = p2m_leaf_at(&d->p2m, gfn);
	p2m_leaf_store(&d->p2m, l, gfn & (P2M_ENTRIES - 1), gfn, p2m_mk(P2M_SHARED, frame));
	d->shr_pages++;
	sm->st.shared_entries++;
	sm->st.shares++;
	return 0;

enomem:
	sm->st.enomem++;
	return rc;
}

struct merge_iter {
	struct sharing_model *sm;
	struct shared_frame *src, *client;
	uint64_t moved;
	int rc;
};

/* One tuple of the client frame: to the source's rmap, its p2m entry to the source frame. */
static int merge_tuple(void *arg, struct rmap_key k)
{
	struct merge_iter *mi = arg;
	struct sharing_model *sm = mi->sm;
	struct sharing_domain *d = dom_find(sm, k.domain);
	struct p2m_leaf *l = d ? p2m_leaf_at(&d->p2m, k.gfn) : NULL;
	int rc;

	ENV_ASSERT(l != NULL);
	if (!l) {
		mi->rc = -EINVAL;
		return 1;
	}
	/* Xen relinks the gfn_info; the rmap interface allocates in the source first, so a
	 * failure leaves this tuple where it was. */
	rc = sm->rm.policy->add(&sm->rm, mi->src->rmap, k);
	if (rc) {
		mi->rc = rc;
		return 1;
	}
	work_add(&sm->rm.work, WU_REFCOUNT, 1);   /* get_page_and_type(spage) */
	rc = sm->rm.policy->remove(&sm->rm, mi->client->rmap, k, RMAP_NO_CONVERT);
	ENV_ASSERT(rc == 0);
	work_add(&sm->rm.work, WU_PAGE_PUT, 1);   /* put_page_and_type(cpage) */
	mi->src->refs++;
	mi->client->refs--;
	p2m_leaf_store(&d->p2m, l, k.gfn & (P2M_ENTRIES - 1), k.gfn,
		       p2m_mk(P2M_SHARED, mi->src->id));
	mi->moved++;
	return 0;
}

int sharing_merge(struct sharing_model *sm, uint32_t domain, uint64_t gfn, uint64_t frame)
{
	struct merge_iter mi = { .sm = sm };
	struct sharing_domain *d;
	p2m_entry_t old;
	bool created = false;
	int rc;

	d = live_domain(sm, domain, &rc);
	if (!d)
		return rc;
	if (gfn >= P2M_GFN_LIMIT || frame >= P2M_FRAME_LIMIT)
		return -ERANGE;
	old = p2m_get(&d->p2m, gfn);
	if (p2m_type_of(old) != P2M_SHARED)
		return -EINVAL;
	if (p2m_frame_of(old) == frame)
		return 0;
	mi.src = ft_find(sm, frame);
	if (!mi.src) {
		struct rmap *r = sm->rm.policy->create(&sm->rm);

		if (!r || !(mi.src = ft_insert(sm, frame, r))) {
			if (r)
				sm->rm.policy->destroy(&sm->rm, r);
			sm->st.enomem++;
			return -ENOMEM;
		}
		created = true;
	}
	/* Looked up after the insertion, which may have moved slots. */
	mi.client = ft_find(sm, p2m_frame_of(old));
	ENV_ASSERT(mi.client != NULL);
	if (!mi.client)
		return -EINVAL;
	sm->rm.policy->iterate(&sm->rm, mi.client->rmap, merge_tuple, &mi);
	if (mi.moved) {
		sm->st.merges++;
		sm->st.merged_tuples += mi.moved;
		if (created) {
			sm->st.frames_live++;
			sm->st.frames_peak = ENV_MAX(sm->st.frames_peak, sm->st.frames_live);
		}
	}
	/* Slot pointers die here: freeing a frame may shrink the table. */
	if (!mi.moved && created) {
		frame_discard(sm, mi.src);
	} else if (!sm->rm.policy->count(mi.client->rmap)) {
		/* page_sharing_dispose(cpage) and the client page's last put */
		work_add(&sm->rm.work, WU_PAGE_PUT, 1);
		frame_free(sm, mi.client);
	}
	if (mi.rc == -ENOMEM)
		sm->st.enomem++;
	return mi.rc;
}

int sharing_unshare(struct sharing_model *sm, uint32_t domain, uint64_t gfn)
{
	struct sharing_domain *d;
	struct p2m_leaf *l;
	p2m_entry_t e;
	int rc;

	d = live_domain(sm, domain, &rc);
	if (!d)
		return rc;
	l = p2m_leaf_at(&d->p2m, gfn);
	if (!l)
		return 0;
	e = l->e[gfn & (P2M_ENTRIES - 1)];
	if (p2m_type_of(e) != P2M_SHARED)
		return 0;
	if (drop_tuple(sm, domain, gfn, p2m_frame_of(e))) {
		/* The last gfn keeps the page: page_make_private changes its type, no copy. */
		work_add(&sm->rm.work, WU_REFCOUNT, 1);
	} else {
		/* A private copy (alloc_domheap_page + 4 KiB copy), then put_page_and_type. */
		work_add(&sm->rm.work, WU_ALLOC, 1);
		work_add(&sm->rm.work, WU_PAGE_PUT, 1);
	}
	p2m_leaf_store(&d->p2m, l, gfn & (P2M_ENTRIES - 1), gfn, p2m_mk(P2M_PRIVATE, 0));
	d->shr_pages--;
	sm->st.shared_entries--;
	sm->st.unshares++;
	return 1;
}

/* ---- relinquish on destroy ---------------------------------------------------------------- */

/* hypercall_preempt_check(): counted whether or not the host has a callback. */
static bool preempt_check(struct sharing_model *sm, sharing_preempt_fn preempt, void *arg)
{
	work_add(&sm->rm.work, WU_PREEMPT_CHECK, 1);
	return preempt ? preempt(arg) : false;
}

/* __mem_sharing_unshare_page(d, gfn, MEM_SHARING_DESTROY_GFN), then the entry is cleared. */
static void release_shared(struct sharing_model *sm, struct sharing_domain *d,
			   struct p2m_leaf *l, unsigned idx, uint64_t gfn)
{
	drop_tuple(sm, d->id, gfn, p2m_frame_of(l->e[idx]));
	work_add(&sm->rm.work, WU_PAGE_PUT, 1);   /* put_page_and_type, freeing if last */
	p2m_leaf_store(&d->p2m, l, idx, gfn, 0);
	d->shr_pages--;
	sm->st.shared_entries--;
}

/*
 * The seed's loop: gfns ascending from the cursor while the domain has shared entries.  The
 * scan ends at max_mapped inclusive (the seed writes `gfn < max_mapped_pfn`, which would
 * leave a shared entry at max_mapped_pfn behind; see docs/models/relinquish.md).  Absent
 * leaves are examined in closed form: every gfn of a hole still counts WU_P2M_ENTRY and
 * still goes past the policy, through its skip() hook.
 */
static int relinquish_shared(struct sharing_model *sm, struct sharing_domain *d,
			     sharing_preempt_fn preempt, void *arg)
{
	const struct relinquish_policy *pol = sm->lpol;
	struct relinquish_cursor *c = &d->cur;
	struct work *w = &sm->rm.work;
	struct p2m *p = &d->p2m;
	uint64_t gfn = c->next_gfn, end;

	if (!p->mapped)
		return 0;
	end = p->max_mapped;
	while (gfn <= end && d->shr_pages) {
		struct p2m_leaf *l = p2m_leaf_at(p, gfn);
		unsigned idx;

		if (!l) {
			/* A hole: nothing in it is shared, so shr_pages cannot reach 0 inside. */
			uint64_t stop = ENV_MIN(p2m_next_leaf(p, gfn), end + 1);

			while (gfn < stop) {
				uint64_t n = stop - gfn, k = 1;
				bool chk;

				if (pol->skip)
					k = pol->skip(&sm->lp, c, n, &chk);
				else
					chk = pol->should_check(&sm->lp, c, false);
				ENV_ASSERT(k >= 1 && k <= n);
				if (k < 1 || k > n)
					k = n;
				work_add(w, WU_P2M_ENTRY, k);
				gfn += k;
				if (chk && preempt_check(sm, preempt, arg)) {
					c->next_gfn = gfn;
					return -EAGAIN;
				}
			}
			continue;
		}
		for (idx = gfn & (P2M_ENTRIES - 1); idx < P2M_ENTRIES && gfn <= end; idx++, gfn++) {
			bool shared;

			if (!d->shr_pages)
				break;
			work_add(w, WU_P2M_ENTRY, 1);
			shared = p2m_type_of(l->e[idx]) == P2M_SHARED;
			if (shared)
				release_shared(sm, d, l, idx, gfn);
			if (pol->should_check(&sm->lp, c, shared) && preempt_check(sm, preempt, arg)) {
				c->next_gfn = gfn + 1;
				return -EAGAIN;
			}
		}
	}
	return 0;
}

/* relinquish_memory() over the domain's private pages: a put and a preemption check each. */
static int relinquish_private(struct sharing_model *sm, struct sharing_domain *d,
			      sharing_preempt_fn preempt, void *arg)
{
	struct relinquish_cursor *c = &d->cur;
	struct p2m *p = &d->p2m;
	uint64_t gfn;
	p2m_entry_t e;

	while (p->nprivate && p2m_next(p, c->next_gfn, P2M_MASK_PRIVATE, &gfn, &e)) {
		p2m_leaf_store(p, p2m_leaf_at(p, gfn), gfn & (P2M_ENTRIES - 1), gfn, 0);
		work_add(&sm->rm.work, WU_PAGE_PUT, 1);
		c->next_gfn = gfn + 1;
		if (preempt_check(sm, preempt, arg))
			return -EAGAIN;
	}
	return 0;
}

int sharing_relinquish_step(struct sharing_model *sm, uint32_t domain,
			    sharing_preempt_fn preempt, void *arg)
{
	uint32_t at = dom_lower_bound(sm, domain);
	struct sharing_domain *d;
	int rc;

	if (at >= sm->ndoms || sm->doms[at]->id != domain)
		return -ENOENT;
	d = sm->doms[at];
	if (d->phase == PHASE_LIVE) {
		env_memset(&d->cur, 0, sizeof(d->cur));
		d->cur.started = true;
		d->phase = PHASE_RELINQUISH_SHARED;
	}
	/* The seed's `count` is a local of the hypercall: every slice starts from zero. */
	d->cur.count = 0;
	d->cur.progress = 0;

	if (d->phase == PHASE_RELINQUISH_SHARED) {
		rc = relinquish_shared(sm, d, preempt, arg);
		if (rc)
			goto preempted;
		d->phase = PHASE_RELINQUISH_PRIVATE;
		d->cur.next_gfn = 0;
	}
	rc = relinquish_private(sm, d, preempt, arg);
	if (rc)
		goto preempted;
	/* p2m_teardown and the domain's end. */
	domain_free(sm, at, &sm->rm.work);
	return 0;

preempted:
	sm->st.preemptions++;
	return rc;
}

/* ---- queries and checks ------------------------------------------------------------------- */

uint64_t sharing_domain_shared(const struct sharing_model *sm, uint32_t domain)
{
	const struct sharing_domain *d = dom_find(sm, domain);

	return d ? d->shr_pages : 0;
}

int sharing_lookup(const struct sharing_model *sm, uint32_t domain, uint64_t gfn,
		   uint64_t *frame)
{
	const struct sharing_domain *d = dom_find(sm, domain);
	p2m_entry_t e;

	if (!d)
		return -ENOENT;
	e = p2m_get(&d->p2m, gfn);
	if (frame && p2m_type_of(e) == P2M_SHARED)
		*frame = p2m_frame_of(e);
	return (int)p2m_type_of(e);
}

uint64_t sharing_frame_degree(const struct sharing_model *sm, uint64_t frame)
{
	const struct shared_frame *f = ft_find(sm, frame);

	return f ? sm->rm.policy->count(f->rmap) : 0;
}

uint64_t sharing_max_degree(const struct sharing_model *sm)
{
	uint64_t i, m = 0;

	for (i = 0; i < sm->ftcap; i++)
		if (sm->ft[i].rmap)
			m = ENV_MAX(m, sm->rm.policy->count(sm->ft[i].rmap));
	return m;
}

/* A digest of one tuple; summing it over both sides compares the multisets of tuples. */
static inline uint64_t tuple_digest(uint32_t domain, uint64_t gfn, uint64_t frame)
{
	return env_mix64(env_mix64(env_mix64(gfn) + domain) + frame);
}

struct check_iter {
	const struct sharing_model *sm;
	uint64_t frame;
	uint64_t sum;
	uint64_t n;
	bool bad;
};

static int check_tuple(void *arg, struct rmap_key k)
{
	struct check_iter *ci = arg;
	const struct sharing_domain *d = dom_find(ci->sm, k.domain);
	p2m_entry_t e;

	ci->n++;
	if (!d) {
		ci->bad = true;
		return 1;
	}
	e = p2m_get(&d->p2m, k.gfn);
	if (p2m_type_of(e) != P2M_SHARED || p2m_frame_of(e) != ci->frame) {
		ci->bad = true;
		return 1;
	}
	ci->sum += tuple_digest(k.domain, k.gfn, ci->frame);
	return 0;
}

int sharing_check(const struct sharing_model *sm)
{
	/* Iterating an rmap counts work into the model: the check puts the accumulator back. */
	struct rmap_model *rm = (struct rmap_model *)&sm->rm;
	const struct work saved = rm->work;
	uint64_t shared = 0, p2m_sum = 0, rmap_sum = 0, tuples = 0, frames = 0, i;
	int rc = -EINVAL;
	uint32_t di;

	for (di = 0; di < sm->ndoms; di++) {
		const struct sharing_domain *d = sm->doms[di];
		uint64_t gfn = 0, g;
		p2m_entry_t e;

		if (di && sm->doms[di - 1]->id >= d->id)
			goto out;
		if (p2m_check(&d->p2m) || d->p2m.nshared != d->shr_pages)
			goto out;
		if (d->phase == PHASE_LIVE && d->cur.started)
			goto out;
		while (p2m_next(&d->p2m, gfn, P2M_MASK_SHARED, &g, &e)) {
			const struct shared_frame *f = ft_find(sm, p2m_frame_of(e));

			if (!f)
				goto out;
			p2m_sum += tuple_digest(d->id, g, p2m_frame_of(e));
			gfn = g + 1;
		}
		shared += d->shr_pages;
	}
	if (shared != sm->st.shared_entries)
		goto out;

	for (i = 0; i < sm->ftcap; i++) {
		const struct shared_frame *f = &sm->ft[i];
		struct check_iter ci = { .sm = sm, .frame = f->id };
		uint64_t cnt;

		if (!f->rmap)
			continue;
		frames++;
		if (ft_find(sm, f->id) != f)  /* reachable from its home slot */
			goto out;
		if (rmap_check(&sm->rm, f->rmap))
			goto out;
		cnt = sm->rm.policy->count(f->rmap);
		if (cnt == 0 || cnt != f->refs)
			goto out;
		rm->policy->iterate(rm, f->rmap, check_tuple, &ci);
		if (ci.bad || ci.n != cnt)
			goto out;
		rmap_sum += ci.sum;
		tuples += cnt;
	}
	if (frames != sm->ftcount || frames != sm->st.frames_live || tuples != shared ||
	    tuples != sm->rm.live_entries || rmap_sum != p2m_sum)
		goto out;
	if (sm->ftcap && (sm->ftcount >= sm->ftcap || (sm->ftcap & (sm->ftcap - 1))))
		goto out;
	rc = 0;
out:
	rm->work = saved;
	return rc;
}
