/* SPDX-License-Identifier: MIT */
/*
 * models/shadow.c — shadow-page pool and reclaim (seed 003): the mechanism (pages, links,
 * walks, make-room, zap, invalid roots and reloads), the policies (fifo, fifo-skip-roots,
 * clock, accessed) and the whole-model
 * check.  models/shadow.h states the mechanism and the invariants; docs/models/shadow.md
 * explains the model and the results.
 *
 * Life of a shadow page:
 *
 *   (absent) --walk/load finds it missing--> build --> [pool, on the active list]
 *   [pool] --walk passes through--> accessed bits set on its parent PTEs (no work)
 *   [pool] --make_room picks it--> zap (recycled; a ghost remembers the key) --> (absent)
 *   [pool] --guest frees the table--> zap (zaps_guest; ghost forgotten) --> (absent)
 *   [pool, loaded root] --zap--> invalid [pool, head of the list, not hashed]
 *                        --last vCPU reloads or loads another cr3--> freed --> (absent)
 *   [pool] --a parent is zapped--> loses that parent PTE (an orphan if it was the last)
 *
 * Where the work is: building and zapping are priced per page (WU_SHADOW_BUILD/ZAP); links
 * are list insertions/removals (WU_LIST_HOP); reclaim pays per page looked at and per
 * parent PTE tested.
 */
#include "shadow.h"

/* A shadow entry of a non-leaf page pointing to a child shadow page: a parent PTE. */
struct shadow_spte {
	struct env_list pnode;          /* on parent->children */
	struct env_list cnode;          /* on child->parents */
	struct shadow_page *parent, *child;
	bool accessed;                  /* set by the hardware walking through it */
};

struct shadow_page {
	struct env_list link;           /* active list */
	struct shadow_page *hnext;      /* hash chain */
	struct env_list parents;        /* struct shadow_spte, by cnode */
	struct env_list children;       /* struct shadow_spte, by pnode */
	uint64_t gfn;
	uint32_t root_count;            /* vCPUs with this page loaded as their root */
	uint32_t nparents, nchildren;
	uint8_t level;
	bool accessed;                  /* the accessed policy's flag */
	bool invalid;                   /* a zapped root still loaded on a vCPU (role.invalid) */
};

/* What the model knows of one vCPU; made on its first operation. */
struct shadow_vcpu {
	struct shadow_vcpu *hnext;      /* m->vhash chain */
	struct env_list node;           /* on m->vcpus */
	uint32_t id;
	struct shadow_key key;          /* its cr3 (level 0: none) */
	struct shadow_page *root;       /* the page it runs on (may be invalid), NULL: none */
	bool reload_pending;            /* KVM_REQ_MMU_RELOAD */
};

struct shadow_ghost {
	struct shadow_ghost *next;
	uint64_t gfn;
	uint8_t level;
};

/* ---- parameters ------------------------------------------------------------------------ */

/*
 * limit 64 is the seed's test setting ("a limit of 64 for the shadow page table to increase
 * the effect").  min_free / refill are KVM's KVM_MIN_FREE_MMU_PAGES and KVM_REFILL_PAGES of
 * the time: reclaim starts below 5 free pages and frees up to 25, so occupancy saw-tooths
 * between limit - 25 and limit - 5.  overscan_div 4 is the seed patch's used/4.
 */
const struct model_param shadow_param_table[SHADOW_NPARAMS] = {
	{ "limit", 64, SHADOW_MAX_LEVELS, 1u << 24,
	  "shadow pages the pool may hold (seed test: 64)" },
	{ "min_free", 5, 1, 1u << 24,
	  "reclaim starts when fewer pages than this are free (KVM_MIN_FREE_MMU_PAGES: 5)" },
	{ "refill", 25, 1, 1u << 24,
	  "reclaim frees pages until this many are free, at most limit (KVM_REFILL_PAGES: 25)" },
	{ "overscan_div", 4, 1, 1u << 20,
	  "clock/accessed look at no more than max(1, used / overscan_div) pages per victim (seed: 4)" },
	{ "hand_persist", 1, 0, 1,
	  "clock: 1 the hand resumes where it stopped; 0 every scan starts at the tail (the seed "
	  "patch as written)" },
	{ "clock_fallback_skips_roots", 0, 0, 1,
	  "clock, when the window held no idle page: 0 the first leaf seen, else the tail even if "
	  "a loaded root (the seed patch); 1 the first leaf, else a page that is not a loaded "
	  "root (memsim's refinement)" },
	{ "tdp", 0, 0, 1,
	  "1: EPT/TDP, the pool holds the EPT tables and the hardware sets no accessed bit "
	  "(policy accessed is refused)" },
};

void shadow_params_default(struct shadow_params *p)
{
	p->limit = shadow_param_table[0].def;
	p->min_free = shadow_param_table[1].def;
	p->refill = shadow_param_table[2].def;
	p->overscan_div = shadow_param_table[3].def;
	p->hand_persist = shadow_param_table[4].def;
	p->clock_fallback_skips_roots = shadow_param_table[5].def;
	p->tdp = shadow_param_table[6].def;
}

int shadow_params_validate(const struct shadow_params *p)
{
	if (!p || p->limit < SHADOW_MAX_LEVELS || p->limit > shadow_param_table[0].max)
		return -EINVAL;
	if (p->min_free < 1 || p->min_free > p->refill || p->refill > p->limit)
		return -EINVAL;
	if (p->overscan_div < 1 || p->overscan_div > shadow_param_table[3].max ||
	    p->hand_persist > 1 || p->clock_fallback_skips_roots > 1 || p->tdp > 1)
		return -EINVAL;
	return 0;
}

/* ---- memory, keys, hash ------------------------------------------------------------------ */

static void *sh_zalloc(struct shadow_model *m, size_t size) { return mem_zalloc(&m->mem, size); }
static void sh_free(struct shadow_model *m, void *p, size_t size) { mem_free(&m->mem, p, size); }

static inline bool key_eq(struct shadow_key a, uint64_t gfn, uint8_t level)
{
	return a.gfn == gfn && a.level == level;
}

static inline uint32_t bucket_of(const struct shadow_model *m, uint64_t gfn, uint8_t level)
{
	return (uint32_t)(env_mix64(gfn * 8 + level) & (m->nbuckets - 1));
}

static inline struct shadow_page *sp_of(struct env_list *n)
{
	return env_container_of(n, struct shadow_page, link);
}

static struct shadow_page *hash_find(const struct shadow_model *m, struct shadow_key k)
{
	struct shadow_page *sp = m->hash[bucket_of(m, k.gfn, k.level)];

	while (sp && !(sp->gfn == k.gfn && sp->level == k.level))
		sp = sp->hnext;
	return sp;
}

static void hash_remove(struct shadow_model *m, struct shadow_page *sp)
{
	struct shadow_page **pp = &m->hash[bucket_of(m, sp->gfn, sp->level)];

	while (*pp && *pp != sp)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = sp->hnext;
	sp->hnext = NULL;
}

static struct shadow_ghost **ghost_slot(struct shadow_model *m, uint64_t gfn, uint8_t level)
{
	struct shadow_ghost **gp = &m->ghosts[bucket_of(m, gfn, level)];

	while (*gp && !((*gp)->gfn == gfn && (*gp)->level == level))
		gp = &(*gp)->next;
	return gp;
}

/* Forgets the ghost of (gfn, level); true if there was one. */
static bool ghost_forget(struct shadow_model *m, uint64_t gfn, uint8_t level)
{
	struct shadow_ghost **gp = ghost_slot(m, gfn, level), *g = *gp;

	if (!g)
		return false;
	*gp = g->next;
	sh_free(m, g, sizeof(*g));
	m->nghosts--;
	return true;
}

/* Remembers a key reclaim zapped.  Without memory the later rebuild is not recognised:
 * a measurement loss only, nothing the hypervisor does changes. */
static void ghost_add(struct shadow_model *m, uint64_t gfn, uint8_t level)
{
	struct shadow_ghost **gp = ghost_slot(m, gfn, level), *g;

	if (*gp)
		return;
	g = sh_zalloc(m, sizeof(*g));
	if (!g)
		return;
	g->gfn = gfn;
	g->level = level;
	*gp = g;
	m->nghosts++;
}

static void observe(struct shadow_model *m)
{
	m->work.footprint_bytes = m->used * SHADOW_PAGE_BYTES;
	if (m->observe)
		m->observe(m->observe_arg, m->used);
}

/* ---- the active list and the scan helpers the policies share ------------------------------ */

static inline struct env_list *tail_of(struct shadow_model *m)
{
	return env_list_empty(&m->active) ? NULL : m->active.prev;
}

/* One step from the tail toward the head, wrapping from the head back to the tail. */
static struct env_list *toward_head(struct shadow_model *m, struct env_list *n)
{
	n = n->prev;
	if (n == &m->active)
		n = m->active.prev;
	return n;
}

static void scan_one(struct shadow_model *m)
{
	m->scan_now++;
	work_add(&m->work, WU_LIST_HOP, 1);
}

/* How many pages a scanning policy may look at for one victim (the overscan limit). */
static uint64_t scan_window(const struct shadow_model *m)
{
	uint64_t w = m->used / m->p.overscan_div;

	return w ? w : 1;
}

/* Tests and clears the accessed bit of every parent PTE of sp; true if any was set. */
static bool parents_test_and_clear(struct shadow_model *m, struct shadow_page *sp)
{
	struct env_list *n;
	bool any = false;

	for (n = sp->parents.next; n != &sp->parents; n = n->next) {
		struct shadow_spte *e = env_container_of(n, struct shadow_spte, cnode);

		work_add(&m->work, WU_PTE_TEST, 1);
		m->stats.ptes_tested++;
		if (e->accessed) {
			e->accessed = false;
			m->stats.ptes_cleared++;
			any = true;
		}
	}
	return any;
}

/*
 * The window held no page that was not accessed.  Evict anyway, preferring a leaf (cheap to
 * rebuild, the seed's "prefer page table level pages over directory level pages"), then any
 * page that is not a loaded root.  If the window saw only roots, look further from the tail
 * for one; the tail itself only if every page is a loaded root.
 */
static struct shadow_page *overscan_fallback(struct shadow_model *m, struct shadow_page *leaf,
					     struct shadow_page *nonroot)
{
	struct env_list *n;

	m->stats.overscans++;
	if (leaf)
		return leaf;
	if (nonroot)
		return nonroot;
	m->stats.overscan_extended++;
	for (n = m->active.prev; n != &m->active; n = n->prev) {
		scan_one(m);
		if (!sp_of(n)->root_count)
			return sp_of(n);
	}
	return sp_of(m->active.prev);
}

/* ---- policies ---------------------------------------------------------------------------- */

static struct shadow_page *fifo_pick(struct shadow_model *m)
{
	scan_one(m);
	return sp_of(tail_of(m));
}

const struct shadow_policy shadow_fifo_policy = {
	.name = "fifo",
	.doc = "zap the oldest shadow page (the tail of the active list), roots included",
	.pick_victim = fifo_pick,
};

/* Today's KVM (kvm_mmu_zap_oldest_mmu_pages): from the tail, skip pages with root_count. */
static struct shadow_page *fifo_skip_roots_pick(struct shadow_model *m)
{
	struct env_list *n;

	for (n = m->active.prev; n != &m->active; n = n->prev) {
		scan_one(m);
		if (!sp_of(n)->root_count)
			return sp_of(n);
	}
	return NULL;                         /* only loaded roots: nothing can be freed */
}

const struct shadow_policy shadow_fifo_skip_roots_policy = {
	.name = "fifo-skip-roots",
	.doc = "zap the oldest shadow page that no vCPU has loaded (KVM today)",
	.pick_victim = fifo_skip_roots_pick,
};

static struct shadow_page *clock_pick(struct shadow_model *m)
{
	struct shadow_page *leaf = NULL, *nonroot = NULL, *victim = NULL;
	struct env_list *n = m->p.hand_persist && m->hand ? m->hand : tail_of(m);
	uint64_t i, window = scan_window(m);

	for (i = 0; i < window; i++) {
		struct shadow_page *sp = sp_of(n);
		bool accessed;

		scan_one(m);
		n = toward_head(m, n);
		/* a loaded root counts as accessed: its parent PTEs are not even looked at */
		accessed = sp->root_count || parents_test_and_clear(m, sp);
		if (!accessed) {
			victim = sp;
			break;
		}
		if (!sp->root_count) {
			if (!nonroot)
				nonroot = sp;
			if (!leaf && sp->level == SHADOW_LEAF)
				leaf = sp;
		}
	}
	m->hand = m->p.hand_persist ? n : NULL;
	if (victim)
		return victim;
	if (m->p.clock_fallback_skips_roots)
		return overscan_fallback(m, leaf, nonroot);
	/* the patch: "prev ? prev : the tail", and the tail may be a loaded root */
	m->stats.overscans++;
	return leaf ? leaf : sp_of(tail_of(m));
}

const struct shadow_policy shadow_clock_policy = {
	.name = "clock",
	.doc = "a hand skips pages whose parent PTEs were accessed (clearing the bits) and "
	       "loaded roots; after used/4 pages, the first leaf seen, else the tail",
	.pick_victim = clock_pick,
};

static struct shadow_page *accessed_pick(struct shadow_model *m)
{
	struct shadow_page *leaf = NULL, *nonroot = NULL;
	struct env_list *n = tail_of(m);
	uint64_t i, window = scan_window(m);

	for (i = 0; i < window && n != &m->active; i++) {
		struct shadow_page *sp = sp_of(n);
		struct env_list *prev = n->prev;
		bool accessed = sp->accessed || sp->root_count;

		scan_one(m);
		/* the scan folds the parent PTEs' bits into the flag (and clears them) */
		if (parents_test_and_clear(m, sp))
			accessed = true;
		if (!accessed)
			return sp;
		/* second chance: the flag is consumed and the page goes to the head */
		sp->accessed = false;
		if (!sp->root_count) {
			if (!nonroot)
				nonroot = sp;
			if (!leaf && sp->level == SHADOW_LEAF)
				leaf = sp;
		}
		env_list_del(&sp->link);
		env_list_add_head(&sp->link, &m->active);
		work_add(&m->work, WU_ENTRY_MOVE, 1);
		n = prev;
	}
	return overscan_fallback(m, leaf, nonroot);
}

static void accessed_spte_dropped(struct shadow_model *m, struct shadow_page *child, bool accessed)
{
	if (accessed)
		child->accessed = true;
}

static void accessed_root_loaded(struct shadow_model *m, struct shadow_page *sp)
{
	sp->accessed = true;
}

const struct shadow_policy shadow_accessed_policy = {
	.name = "accessed",
	.doc = "an accessed flag per page (from parent PTEs at scan time, dropped sptes, cr3 "
	       "loads); evict a page not recently accessed, else a leaf",
	.pick_victim = accessed_pick,
	.spte_dropped = accessed_spte_dropped,
	.root_loaded = accessed_root_loaded,
};

const struct shadow_policy *const shadow_policies[] = {
	&shadow_fifo_policy,
	&shadow_fifo_skip_roots_policy,
	&shadow_clock_policy,
	&shadow_accessed_policy,
	NULL,
};

int shadow_policy_usable(const struct shadow_policy *pol, const struct shadow_params *p)
{
	/* Avi's flag is fed by accessed bits; EPT of 2009 sets none, so it has nothing to use */
	if (!pol || !p || (p->tdp && pol == &shadow_accessed_policy))
		return -EINVAL;
	return 0;
}

const struct shadow_policy *shadow_policy_find(const char *name)
{
	unsigned i;

	if (!name)
		return NULL;
	for (i = 0; shadow_policies[i]; i++)
		if (env_streq(shadow_policies[i]->name, name))
			return shadow_policies[i];
	return NULL;
}

/* ---- links ------------------------------------------------------------------------------ */

static struct shadow_spte *link_find(struct shadow_page *parent, struct shadow_page *child)
{
	struct env_list *n;

	for (n = child->parents.next; n != &child->parents; n = n->next) {
		struct shadow_spte *e = env_container_of(n, struct shadow_spte, cnode);

		if (e->parent == parent)
			return e;
	}
	return NULL;
}

static struct shadow_spte *link_make(struct shadow_model *m, struct shadow_page *parent,
				     struct shadow_page *child)
{
	struct shadow_spte *e = sh_zalloc(m, sizeof(*e));

	if (!e)
		return NULL;
	e->parent = parent;
	e->child = child;
	env_list_add_tail(&e->pnode, &parent->children);
	env_list_add_tail(&e->cnode, &child->parents);
	parent->nchildren++;
	child->nparents++;
	work_add(&m->work, WU_LIST_HOP, 1);
	return e;
}

/* Removes a parent PTE.  tell: the child stays, so the policy hears of the dropped spte. */
static void link_drop(struct shadow_model *m, struct shadow_spte *e, bool tell)
{
	struct shadow_page *child = e->child;
	bool accessed = e->accessed;

	env_list_del(&e->pnode);
	env_list_del(&e->cnode);
	e->parent->nchildren--;
	child->nparents--;
	sh_free(m, e, sizeof(*e));
	work_add(&m->work, WU_LIST_HOP, 1);
	if (tell && m->pol->spte_dropped)
		m->pol->spte_dropped(m, child, accessed);
}

/* ---- build and zap ------------------------------------------------------------------------- */

static struct shadow_page *build(struct shadow_model *m, struct shadow_key k)
{
	struct shadow_page *sp = sh_zalloc(m, sizeof(*sp));
	uint32_t b;

	if (!sp)
		return NULL;
	sp->gfn = k.gfn;
	sp->level = k.level;
	env_list_init(&sp->parents);
	env_list_init(&sp->children);
	env_list_add_head(&sp->link, &m->active);
	b = bucket_of(m, k.gfn, k.level);
	sp->hnext = m->hash[b];
	m->hash[b] = sp;
	m->used++;
	if (m->used > m->stats.used_peak)
		m->stats.used_peak = m->used;
	m->stats.builds++;
	if (ghost_forget(m, k.gfn, k.level))
		m->stats.rebuilds++;
	work_add(&m->work, WU_SHADOW_BUILD, 1);
	observe(m);
	return sp;
}

static void free_page(struct shadow_model *m, struct shadow_page *sp)
{
	if (m->pol->page_removed)
		m->pol->page_removed(m, sp);
	if (m->hand == &sp->link) {
		m->hand = toward_head(m, m->hand);
		if (m->hand == &sp->link)
			m->hand = NULL;            /* it was the only page */
	}
	env_list_del(&sp->link);
	if (sp->invalid)
		m->ninvalid--;
	else
		hash_remove(m, sp);
	sh_free(m, sp, sizeof(*sp));
	m->used--;
	observe(m);
}

/* kvm_reload_remote_mmus: every vCPU running on a root reloads at its next entry. */
static void request_reloads(struct shadow_model *m)
{
	struct env_list *n;

	m->stats.reload_requests++;
	for (n = m->vcpus.next; n != &m->vcpus; n = n->next) {
		struct shadow_vcpu *vc = env_container_of(n, struct shadow_vcpu, node);

		if (vc->root)
			vc->reload_pending = true;
	}
}

/* A zapped root that vCPUs still run on: invalid, not findable, at the head, kept. */
static void invalidate_root(struct shadow_model *m, struct shadow_page *sp)
{
	if (!sp->invalid) {
		sp->invalid = true;
		hash_remove(m, sp);
		m->ninvalid++;
		if (m->ninvalid > m->stats.invalid_peak)
			m->stats.invalid_peak = m->ninvalid;
	}
	if (m->hand == &sp->link) {
		m->hand = toward_head(m, m->hand);
		if (m->hand == &sp->link)
			m->hand = NULL;
	}
	env_list_del(&sp->link);
	env_list_add_head(&sp->link, &m->active);
	request_reloads(m);
}

/* Returns true if the page left the pool (false: a loaded root, now invalid). */
static bool zap(struct shadow_model *m, struct shadow_page *sp, bool by_reclaim)
{
	bool parentless = !sp->nparents && !sp->root_count;
	struct env_list *n;

	while (!env_list_empty(&sp->parents))
		link_drop(m, env_container_of(sp->parents.next, struct shadow_spte, cnode), false);
	while (!env_list_empty(&sp->children))
		link_drop(m, env_container_of(sp->children.next, struct shadow_spte, pnode), true);
	if (by_reclaim) {
		if (parentless)
			m->stats.parentless_zapped++;
		if (sp->root_count)
			m->stats.roots_zapped++;
		m->stats.recycled++;
		if (sp->level == SHADOW_LEAF)
			m->stats.leaves_zapped++;
		if (!sp->invalid)            /* an invalid root's key may live again already */
			ghost_add(m, sp->gfn, sp->level);
	} else {
		m->stats.zaps_guest++;
	}
	m->stats.zaps++;
	work_add(&m->work, WU_SHADOW_ZAP, 1);
	if (sp->root_count && !by_reclaim) {
		/* the guest freed a table still in a cr3: a guest switches away before it frees
		 * one, so the vCPUs on it let go now and have no cr3 until their next load */
		for (n = m->vcpus.next; n != &m->vcpus && sp->root_count; n = n->next) {
			struct shadow_vcpu *vc = env_container_of(n, struct shadow_vcpu, node);

			if (vc->root == sp) {
				vc->root = NULL;
				vc->key.level = 0;
				sp->root_count--;
			}
		}
	}
	if (sp->root_count) {
		invalidate_root(m, sp);
		return false;
	}
	free_page(m, sp);
	return true;
}

/* A vCPU lets go of its root; an invalid root goes with its last vCPU (mmu_free_roots). */
static void unpin(struct shadow_model *m, struct shadow_vcpu *vc)
{
	struct shadow_page *sp = vc->root;

	vc->root = NULL;
	if (!sp)
		return;
	sp->root_count--;
	if (sp->invalid && !sp->root_count) {
		while (!env_list_empty(&sp->children))
			link_drop(m, env_container_of(sp->children.next, struct shadow_spte, pnode),
				  true);
		work_add(&m->work, WU_SHADOW_ZAP, 1);
		m->stats.invalid_roots_freed++;
		free_page(m, sp);
	}
}

/* ---- walks -------------------------------------------------------------------------------- */

static int check_path(const struct shadow_key *path, unsigned n)
{
	unsigned i;

	if (!path || !n || n > SHADOW_MAX_LEVELS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (path[i].level < 1 || path[i].level > SHADOW_MAX_LEVELS)
			return -EINVAL;
		if (i && path[i].level >= path[i - 1].level)
			return -EINVAL;
	}
	return 0;
}

static struct shadow_vcpu *vcpu_find(const struct shadow_model *m, uint32_t vcpu)
{
	struct shadow_vcpu *vc;

	if (!m->nvbuckets)
		return NULL;
	vc = m->vhash[env_mix64(vcpu) & (m->nvbuckets - 1)];
	while (vc && vc->id != vcpu)
		vc = vc->hnext;
	return vc;
}

/* The vCPU's state, made on its first operation: memory follows the vCPUs used. */
static int vcpu_get(struct shadow_model *m, uint32_t vcpu, struct shadow_vcpu **out)
{
	struct shadow_vcpu *vc;
	uint32_t b;

	if (vcpu >= SHADOW_MAX_VCPUS)
		return -ERANGE;
	vc = vcpu_find(m, vcpu);
	if (!vc && m->nvcpus >= 2 * m->nvbuckets) {
		uint32_t nb = m->nvbuckets ? 2 * m->nvbuckets : 4, i;
		struct shadow_vcpu **nh = sh_zalloc(m, nb * sizeof(*nh));

		if (nh) {   /* without memory the chains just get longer */
			for (i = 0; i < m->nvbuckets; i++)
				while (m->vhash[i]) {
					struct shadow_vcpu *x = m->vhash[i];

					m->vhash[i] = x->hnext;
					b = (uint32_t)(env_mix64(x->id) & (nb - 1));
					x->hnext = nh[b];
					nh[b] = x;
				}
			sh_free(m, m->vhash, m->nvbuckets * sizeof(*m->vhash));
			m->vhash = nh;
			m->nvbuckets = nb;
		} else if (!m->nvbuckets) {
			m->stats.alloc_failed++;
			return -ENOMEM;
		}
	}
	if (!vc) {
		vc = sh_zalloc(m, sizeof(*vc));
		if (!vc) {
			m->stats.alloc_failed++;
			return -ENOMEM;
		}
		vc->id = vcpu;
		b = (uint32_t)(env_mix64(vcpu) & (m->nvbuckets - 1));
		vc->hnext = m->vhash[b];
		m->vhash[b] = vc;
		env_list_add_tail(&vc->node, &m->vcpus);
		m->nvcpus++;
	}
	*out = vc;
	return 0;
}

static bool is_cr3(const struct shadow_vcpu *vc, struct shadow_key k)
{
	return vc && vc->key.level && vc->key.gfn == k.gfn && vc->key.level == k.level;
}

/* The page a walk's path[i] is: for the vCPU's cr3, the root it runs on (even invalid). */
static struct shadow_page *path_page(const struct shadow_model *m, const struct shadow_vcpu *vc,
				     const struct shadow_key *path, unsigned i)
{
	if (i == 0 && is_cr3(vc, path[0]) && vc->root)
		return vc->root;
	return hash_find(m, path[i]);
}

static unsigned missing_pages(const struct shadow_model *m, const struct shadow_vcpu *vc,
			      const struct shadow_key *path, unsigned n)
{
	unsigned i, k = 0;

	for (i = 0; i < n; i++)
		k += !path_page(m, vc, path, i);
	return k;
}

/*
 * Make room before a fault builds anything (kvm_mmu_free_some_pages): if fewer than min_free
 * pages are free, or fewer than the walk will build, zap victims until max(refill, pages to
 * build) are free.  A victim on the walk's own path just means one more page to build.  A
 * loaded root zapped is not freed, so it does not count; if only roots are left (the policy
 * finds no victim, or the pool went round without freeing), reclaim stops.  0, or -EBUSY if
 * the walk still does not fit.
 */
static int make_room(struct shadow_model *m, const struct shadow_vcpu *vc,
		     const struct shadow_key *path, unsigned n)
{
	uint64_t need = missing_pages(m, vc, path, n), futile = 0;
	unsigned i;

	if (m->p.limit - m->used >= m->p.min_free && m->p.limit - m->used >= need)
		return 0;
	m->stats.reclaims++;
	while (m->used && m->p.limit - m->used < ENV_MAX(m->p.refill, need)) {
		struct shadow_page *v;
		bool on_path = false;

		m->scan_now = 0;
		v = m->pol->pick_victim(m);
		m->stats.pages_scanned += m->scan_now;
		if (m->scan_now > m->stats.scan_max)
			m->stats.scan_max = m->scan_now;
		if (!v)
			break;
		for (i = 0; i < n; i++)
			if (v == path_page(m, vc, path, i))
				on_path = true;
		if (zap(m, v, true)) {
			need += on_path;
			futile = 0;
		} else if (++futile > m->used) {
			break;                    /* round the whole pool: only roots are left */
		}
	}
	if (m->p.limit - m->used < need) {
		m->stats.reclaim_stuck++;
		return -EBUSY;
	}
	return 0;
}

/* The trapped part of a walk: make room, then find or build every page and link. */
static int walk_fault(struct shadow_model *m, struct shadow_vcpu *vc, const struct shadow_key *path,
		      unsigned n, bool set_accessed, bool is_load)
{
	struct shadow_page *prev = NULL;
	bool fault = false;
	unsigned i;
	int rc = make_room(m, vc, path, n);

	if (rc)
		return rc;
	if (m->p.tdp)
		set_accessed = false;        /* EPT (2009) has no accessed bit */
	for (i = 0; i < n; i++) {
		struct shadow_page *sp = path_page(m, vc, path, i);
		bool found = sp != NULL;

		if (!sp) {
			work_add(&m->work, WU_BUCKET_VISIT, 1);
			sp = build(m, path[i]);
			if (!sp)
				goto nomem;
			fault = true;
		}
		if (i == 0 && is_cr3(vc, path[0]) && vc->root != sp) {
			if (found)
				work_add(&m->work, WU_BUCKET_VISIT, 1);
			vc->root = sp;
			sp->root_count++;
		}
		if (prev) {
			struct shadow_spte *e = link_find(prev, sp);

			if (!e) {
				if (found) {
					work_add(&m->work, WU_BUCKET_VISIT, 1);
					m->stats.relinks++;
				}
				e = link_make(m, prev, sp);
				if (!e)
					goto nomem;
				fault = true;
			}
			if (set_accessed)
				e->accessed = true;
		}
		prev = sp;
	}
	(void)is_load;
	if (fault)
		m->stats.shadow_faults++;
	return fault;
nomem:
	m->stats.alloc_failed++;
	if (fault)
		m->stats.shadow_faults++;
	return -ENOMEM;
}

/*
 * A reload request reaches the vCPU at its next entry: a forced exit, its root unpinned
 * (an invalid one may go), its cr3's root found or rebuilt and pinned.  Its next walks
 * relink the tree below the new root.
 */
static int reload_if_asked(struct shadow_model *m, struct shadow_vcpu *vc)
{
	if (!vc->reload_pending)
		return 0;
	vc->reload_pending = false;
	m->stats.root_reloads++;
	work_add(&m->work, WU_HYPERCALL, 1);
	unpin(m, vc);
	if (!vc->key.level)
		return 0;
	if (walk_fault(m, vc, &vc->key, 1, false, true) < 0)
		return -ENOMEM;
	if (m->pol->root_loaded && vc->root)
		m->pol->root_loaded(m, vc->root);   /* a reload is a cr3 load too */
	return 0;
}

int shadow_walk(struct shadow_model *m, uint32_t vcpu, const struct shadow_key *path,
		unsigned n, bool set_accessed)
{
	struct shadow_page *pg[SHADOW_MAX_LEVELS];
	struct shadow_vcpu *vc;
	bool trap = false;
	unsigned i;
	int rc = check_path(path, n);

	if (rc)
		return rc;
	rc = vcpu_get(m, vcpu, &vc);
	if (rc)
		return rc;
	m->stats.walks++;
	if (vc->reload_pending) {
		rc = reload_if_asked(m, vc);
		if (rc < 0)
			return rc;
	}
	/* the hardware walk: does it find every page and every link? */
	for (i = 0; i < n && !trap; i++) {
		pg[i] = path_page(m, vc, path, i);
		if (!pg[i] || (i && !link_find(pg[i - 1], pg[i])))
			trap = true;
	}
	if (is_cr3(vc, path[0]) && !vc->root)
		trap = true;                 /* its root could not be rebuilt before */
	if (trap)
		return walk_fault(m, vc, path, n, set_accessed, false);
	if (set_accessed && !m->p.tdp)
		for (i = 1; i < n; i++)
			link_find(pg[i - 1], pg[i])->accessed = true;
	return 0;
}

int shadow_load_root(struct shadow_model *m, uint32_t vcpu, struct shadow_key root)
{
	struct shadow_vcpu *vc;
	int rc = check_path(&root, 1);

	if (rc)
		return rc;
	rc = vcpu_get(m, vcpu, &vc);
	if (rc)
		return rc;
	m->stats.walks++;
	m->stats.root_loads++;
	/* the new cr3 does what the pending reload would: unpin, then load */
	vc->reload_pending = false;
	unpin(m, vc);
	vc->key = root;
	/* a cr3 load always traps: make room, look the root up, build it if needed */
	rc = walk_fault(m, vc, &root, 1, false, true);
	if (rc >= 0 && m->pol->root_loaded && vc->root)
		m->pol->root_loaded(m, vc->root);
	return rc;
}

int shadow_guest_free(struct shadow_model *m, struct shadow_key key)
{
	struct shadow_page *sp;

	if (key.level < 1 || key.level > SHADOW_MAX_LEVELS)
		return -EINVAL;
	ghost_forget(m, key.gfn, key.level);
	sp = hash_find(m, key);
	if (!sp)
		return 0;
	zap(m, sp, false);
	return 1;
}

/* ---- model ---------------------------------------------------------------------------------- */

struct shadow_model *shadow_model_create(const struct shadow_policy *pol,
					 const struct shadow_params *p)
{
	struct shadow_model *m;
	uint32_t nb = 64;

	if (!pol || !pol->pick_victim || shadow_params_validate(p) || shadow_policy_usable(pol, p))
		return NULL;
	m = env_zalloc(sizeof(*m));
	if (!m)
		return NULL;
	m->pol = pol;
	m->p = *p;
	m->mem.live_bytes = m->mem.peak_bytes = sizeof(*m);
	env_list_init(&m->active);
	env_list_init(&m->vcpus);
	while (nb < 2 * p->limit && nb < (1u << 22))
		nb *= 2;
	m->nbuckets = nb;
	m->hash = sh_zalloc(m, nb * sizeof(*m->hash));
	m->ghosts = sh_zalloc(m, nb * sizeof(*m->ghosts));
	if (!m->hash || !m->ghosts) {
		shadow_model_destroy(m);
		return NULL;
	}
	return m;
}

void shadow_model_destroy(struct shadow_model *m)
{
	struct env_list *n;
	uint32_t b;

	if (!m)
		return;
	/* links first (each sits on one parent's children list): a link unlinks itself from
	 * its child's list, so no page may be freed while links still point into it */
	for (n = m->active.next; n != &m->active; n = n->next) {
		struct shadow_page *sp = sp_of(n);

		while (!env_list_empty(&sp->children)) {
			struct shadow_spte *e = env_container_of(sp->children.next,
								 struct shadow_spte, pnode);

			env_list_del(&e->pnode);
			env_list_del(&e->cnode);
			sh_free(m, e, sizeof(*e));
		}
	}
	while (!env_list_empty(&m->active)) {
		struct shadow_page *sp = sp_of(m->active.next);

		env_list_del(&sp->link);
		sh_free(m, sp, sizeof(*sp));
	}
	for (b = 0; m->ghosts && b < m->nbuckets; b++) {
		while (m->ghosts[b]) {
			struct shadow_ghost *g = m->ghosts[b];

			m->ghosts[b] = g->next;
			sh_free(m, g, sizeof(*g));
		}
	}
	sh_free(m, m->hash, m->nbuckets * sizeof(*m->hash));
	sh_free(m, m->ghosts, m->nbuckets * sizeof(*m->ghosts));
	while (!env_list_empty(&m->vcpus)) {
		struct shadow_vcpu *vc = env_container_of(m->vcpus.next, struct shadow_vcpu, node);

		env_list_del(&vc->node);
		sh_free(m, vc, sizeof(*vc));
	}
	sh_free(m, m->vhash, m->nvbuckets * sizeof(*m->vhash));
	env_free(m, sizeof(*m));
}

/* ---- queries and the whole-model check -------------------------------------------------------- */

int shadow_vcpu_info(const struct shadow_model *m, uint32_t vcpu, struct shadow_vcpu_info *out)
{
	const struct shadow_vcpu *vc = vcpu_find(m, vcpu);

	if (!vc)
		return -ENOENT;
	out->cr3 = vc->key;
	out->has_root = vc->root != NULL;
	out->root_invalid = vc->root && vc->root->invalid;
	out->reload_pending = vc->reload_pending;
	return 0;
}

int shadow_page_info(const struct shadow_model *m, struct shadow_key key,
		     struct shadow_page_info *out)
{
	const struct shadow_page *sp = hash_find(m, key);
	const struct env_list *n;

	if (!sp)
		return -ENOENT;
	out->root_count = sp->root_count;
	out->nparents = sp->nparents;
	out->nchildren = sp->nchildren;
	out->level = sp->level;
	out->accessed = sp->accessed;
	out->parents_accessed = 0;
	for (n = sp->parents.next; n != &sp->parents; n = n->next)
		out->parents_accessed += env_container_of(n, struct shadow_spte, cnode)->accessed;
	return 0;
}

bool shadow_linked(const struct shadow_model *m, struct shadow_key parent, struct shadow_key child)
{
	struct shadow_page *p = hash_find(m, parent), *c = hash_find(m, child);

	return p && c && link_find(p, c);
}

unsigned shadow_list_keys(const struct shadow_model *m, struct shadow_key *out, unsigned max)
{
	const struct env_list *n;
	unsigned k = 0;

	for (n = m->active.prev; n != &m->active && k < max; n = n->prev) {
		out[k].gfn = sp_of((struct env_list *)n)->gfn;
		out[k].level = sp_of((struct env_list *)n)->level;
		k++;
	}
	return k;
}

static int check_page(const struct shadow_model *m, struct shadow_page *sp)
{
	struct env_list *n, *q;
	uint32_t k = 0, roots = 0;
	struct shadow_key key = { sp->gfn, sp->level };

	if (sp->level < 1 || sp->level > SHADOW_MAX_LEVELS)
		return -EINVAL;
	if (sp->invalid) {
		/* a zapped root kept for its vCPUs: pinned, parentless, not findable */
		if (!sp->root_count || sp->nparents || hash_find(m, key) == sp)
			return -EINVAL;
	} else {
		if (hash_find(m, key) != sp)
			return -EINVAL;
		if (*ghost_slot((struct shadow_model *)m, sp->gfn, sp->level))
			return -EINVAL;          /* a live page is no ghost */
	}
	for (n = sp->parents.next; n != &sp->parents; n = n->next, k++) {
		struct shadow_spte *e = env_container_of(n, struct shadow_spte, cnode);
		struct shadow_key pk;
		bool on_parent = false;

		if (e->child != sp || !e->parent || e->parent->level <= sp->level)
			return -EINVAL;
		pk.gfn = e->parent->gfn;
		pk.level = e->parent->level;
		if (!e->parent->invalid && hash_find(m, pk) != e->parent)
			return -EINVAL;
		for (q = e->parent->children.next; q != &e->parent->children; q = q->next)
			if (q == &e->pnode)
				on_parent = true;
		if (!on_parent)
			return -EINVAL;
	}
	if (k != sp->nparents)
		return -EINVAL;
	k = 0;
	for (n = sp->children.next; n != &sp->children; n = n->next, k++)
		if (env_container_of(n, struct shadow_spte, pnode)->parent != sp)
			return -EINVAL;
	if (k != sp->nchildren)
		return -EINVAL;
	for (n = m->vcpus.next; n != &m->vcpus; n = n->next)
		roots += env_container_of(n, struct shadow_vcpu, node)->root == sp;
	return roots == sp->root_count ? 0 : -EINVAL;
}

int shadow_check(const struct shadow_model *m)
{
	struct env_list *n;
	uint64_t listed = 0, hashed = 0, ghosts = 0, invalid = 0, nv = 0;
	uint32_t b;

	for (n = m->active.next; n != &m->active; n = n->next) {
		if (check_page(m, sp_of(n)))
			return -EINVAL;
		invalid += sp_of(n)->invalid;
		listed++;
	}
	for (b = 0; b < m->nbuckets; b++) {
		const struct shadow_page *sp;
		const struct shadow_ghost *g;

		for (sp = m->hash[b]; sp; sp = sp->hnext)
			hashed++;
		for (g = m->ghosts[b]; g; g = g->next)
			ghosts++;
	}
	if (listed != m->used || invalid != m->ninvalid || hashed + invalid != m->used ||
	    m->used > m->p.limit || m->stats.used_peak > m->p.limit || ghosts != m->nghosts)
		return -EINVAL;
	for (n = m->vcpus.next; n != &m->vcpus; n = n->next, nv++) {
		const struct shadow_vcpu *vc = env_container_of(n, struct shadow_vcpu, node);
		const struct shadow_page *sp = vc->root;

		if (vcpu_find(m, vc->id) != vc)
			return -EINVAL;
		/* a valid root is the vCPU's cr3; an invalid one awaits its reload */
		if (sp && !sp->invalid && !key_eq(vc->key, sp->gfn, sp->level))
			return -EINVAL;
		if (sp && sp->invalid && !vc->reload_pending)
			return -EINVAL;
	}
	if (nv != m->nvcpus)
		return -EINVAL;
	if (m->hand) {
		for (n = m->active.next; n != &m->active && n != m->hand; n = n->next)
			;
		if (n != m->hand)
			return -EINVAL;              /* the hand points into the list */
	}
	return 0;
}
