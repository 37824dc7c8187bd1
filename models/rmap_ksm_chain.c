/* SPDX-License-Identifier: MIT */
/*
 * models/rmap_ksm_chain.c — policy `ksm-chain`: Linux KSM's answer (mm/ksm.c, 2017) to the
 * problem of seed 000, applied to the seed's rmap.  KSM caps a stable node at
 * max_page_sharing sharers; past that, the node becomes a "chain" of "dups", each a separate
 * copy of the same write-protected page with its own reverse map of at most
 * max_page_sharing mappings.  A mapping points at its own dup's page, so every reverse-map
 * walk is bounded by the cap, whatever the degree of sharing; the price is one page of
 * memory per dup (sharing saves n - ndups pages instead of n - 1).
 *
 * Here a dup's reverse map is the seed's list (new entries at the head, searched from the
 * head), so the cap bounds the search an unshare does: at most max_page_sharing hops, and a
 * domain destroy costs work linear in n.  The frame's own page is the dup embedded in the
 * head (KSM's plain stable node); every other dup is allocated when all are full.
 *
 * Choice of dup for a new tuple, as KSM's stable_node_dup() without pruning: walk the chain
 * from its first dup and take the first one below the cap (one WU_BUCKET_VISIT per dup
 * head looked at); if it could take one more after this tuple and is not first, move it to
 * the front so the next add finds it at once.  All full: a new dup at the front.
 *
 * Differences from KSM, on purpose: an emptied dup is freed at once (KSM frees its page at
 * once but unlinks the stale node lazily, at the next prune of the chain, every 2 s); no
 * time-based pruning, so no "most populated dup" choice and no collapse of a one-dup chain
 * (the embedded first dup makes a one-dup chain cost what a plain node costs).  Which dup
 * holds a tuple is known from the tuple's p2m entry (it names the dup's page); the model
 * keeps that link in an index by key inside the policy, simulation machinery that counts
 * no work and no bytes (the caller's get_entry already paid for it).  A lookup of a tuple
 * that is not in the frame costs nothing for the same reason.
 *
 * Work units: add = WU_ALLOC (+ WU_ALLOC for a new dup) + one WU_BUCKET_VISIT per dup head
 * looked at; remove = one WU_LIST_HOP per entry compared in the tuple's dup + WU_FREE (+
 * WU_FREE of a dup emptied); contains = the hops; iterate = one WU_BUCKET_VISIT per dup +
 * one WU_LIST_HOP per tuple.  Conversions: none.
 *
 * Memory (bytes()): the head (its embedded dup included), 40 bytes per further dup, 32 per
 * tuple.  The dups' pages themselves, 4 KiB of guest memory each, are counted apart in
 * model->live_dup_pages.
 *
 * Invariants (ksm_check): the chain is consistent and holds `ndups` dups, the embedded one
 * among them; every dup's list is consistent and holds its `count` tuples, at most the cap
 * (unless a dup could not be allocated: stats.conv_failed), each entry naming that dup; an
 * empty dup other than the embedded one only while an iteration is in flight; the counts
 * add up to `count`; the index is a valid tree of `count` entries in which every listed
 * entry finds itself (hence no tuple twice).
 */
#include "rmap_impl.h"

static struct ksm_rmap *K(struct rmap *r) { return (struct ksm_rmap *)r; }
static const struct ksm_rmap *CK(const struct rmap *r) { return (const struct ksm_rmap *)r; }

static struct ksm_entry *kentry(const struct avl_node *a)
{
	return env_container_of(a, struct ksm_entry, by_key);
}

static struct ksm_dup *kdup(const struct env_list *l)
{
	return env_container_of(l, struct ksm_dup, chain);
}

static uint64_t ksm_bytes(const struct rmap_model *m, const struct rmap *r)
{
	const struct ksm_rmap *k = CK(r);

	(void)m;
	return KSM_RMAP_BYTES + (k->ndups - 1) * sizeof(struct ksm_dup) +
	       k->count * sizeof(struct rmap_entry);
}

static void dup_init(struct ksm_dup *d)
{
	env_list_init(&d->chain);
	env_list_init(&d->entries);
	d->count = 0;
}

static struct rmap *ksm_create(struct rmap_model *m)
{
	struct ksm_rmap *k = env_alloc(sizeof(*k));

	if (!k)
		return NULL;
	work_add(&m->work, WU_ALLOC, 1);
	dup_init(&k->first);
	env_list_init(&k->dups);
	env_list_add_head(&k->first.chain, &k->dups);
	k->count = 0;
	k->ndups = 1;
	k->empty_waiting = 0;
	k->iterating = 0;
	k->by_key.node = NULL;
	m->live_bytes += KSM_RMAP_BYTES;
	return (struct rmap *)k;
}

/* The index entry of key, or NULL with parent and link set to where it would go (uncounted). */
static struct ksm_entry *index_find(struct ksm_rmap *k, struct rmap_key key,
				    struct avl_node **parent, struct avl_node ***link)
{
	struct avl_node **pp = &k->by_key.node, *par = NULL;

	while (*pp) {
		struct ksm_entry *e = kentry(*pp);
		int c = rmap_key_cmp(key, rmap_entry_key(&e->e));

		if (c == 0)
			return e;
		par = *pp;
		pp = c < 0 ? &(*pp)->left : &(*pp)->right;
	}
	if (parent)
		*parent = par;
	if (link)
		*link = pp;
	return NULL;
}

static void dup_free(struct rmap_model *m, struct ksm_rmap *k, struct ksm_dup *d)
{
	env_list_del(&d->chain);
	env_free(d, sizeof(*d));
	work_add(&m->work, WU_FREE, 1);
	k->ndups--;
	m->live_dup_pages--;
}

/*
 * The dup a new tuple joins: the first one below the cap from the front of the chain, moved
 * to the front if it can take one more after this tuple; a new dup when all are full.  NULL
 * only if a new dup was needed and could not be allocated.
 */
static struct ksm_dup *choose_dup(struct rmap_model *m, struct ksm_rmap *k)
{
	uint64_t cap = m->p.max_page_sharing, visited = 0;
	struct env_list *pos;
	struct ksm_dup *d;

	for (pos = k->dups.next; pos != &k->dups; pos = pos->next) {
		d = kdup(pos);
		visited++;
		if (d->count < cap) {
			work_add(&m->work, WU_BUCKET_VISIT, visited);
			/* Reordering under an iterator could make it skip or revisit dups. */
			if (pos != k->dups.next && d->count + 1 < cap && !k->iterating) {
				env_list_del(pos);
				env_list_add_head(pos, &k->dups);
			}
			return d;
		}
	}
	work_add(&m->work, WU_BUCKET_VISIT, visited);
	d = env_alloc(sizeof(*d));
	if (!d)
		return NULL;
	work_add(&m->work, WU_ALLOC, 1);
	dup_init(d);
	env_list_add_head(&d->chain, &k->dups);
	k->ndups++;
	m->live_dup_pages++;
	m->stats.dups_created++;
	return d;
}

static int ksm_add(struct rmap_model *m, struct rmap *r, struct rmap_key key)
{
	struct ksm_rmap *k = K(r);
	uint64_t before = rmap_op_begin(m, r);
	struct avl_node *parent, **link;
	struct ksm_entry *e;
	struct ksm_dup *d;

	if (index_find(k, key, &parent, &link))
		return -EEXIST;   /* found by the index for free, whatever m->check_dups says */
	/* The seed allocates the gfn_info first: a failure changes nothing. */
	e = env_alloc(sizeof(*e));
	if (!e) {
		m->stats.alloc_failed++;
		return -ENOMEM;
	}
	work_add(&m->work, WU_ALLOC, 1);
	d = choose_dup(m, k);
	if (!d) {
		/* No page for a new dup: the tuple joins the first dup, over the cap. */
		m->stats.conv_failed++;
		d = kdup(k->dups.next);
	}
	env_list_init(&e->e.node);
	e->e.gfn = key.gfn;
	e->e.domain = key.domain;
	e->dup = d;
	env_list_add_head(&e->e.node, &d->entries);
	avl_insert(&k->by_key, &e->by_key, parent, link);   /* simulation: uncounted */
	d->count++;
	k->count++;
	m->live_entries++;
	rmap_op_end(m, r, before);
	return 0;
}

static int ksm_remove(struct rmap_model *m, struct rmap *r, struct rmap_key key,
		      unsigned flags)
{
	struct ksm_rmap *k = K(r);
	uint64_t before = rmap_op_begin(m, r);
	struct ksm_entry *e = index_find(k, key, NULL, NULL);
	struct ksm_dup *d;
	struct rmap_entry *found;

	(void)flags;   /* nothing converts: a dup is freed when it empties, whatever the flags */
	if (!e)
		return -ENOENT;
	d = e->dup;
	/* The search the seed's rmap_retrieve does, within the tuple's own dup. */
	found = rmap_chain_find(m, &d->entries, key);
	ENV_ASSERT(found == &e->e);
	env_list_del(&e->e.node);
	avl_erase(&k->by_key, &e->by_key);
	env_free(e, sizeof(*e));
	work_add(&m->work, WU_FREE, 1);
	d->count--;
	k->count--;
	m->live_entries--;
	if (!d->count && d != &k->first) {
		if (k->iterating)
			k->empty_waiting++;   /* the iterator may be walking it */
		else
			dup_free(m, k, d);
	}
	rmap_op_end(m, r, before);
	return 0;
}

static int ksm_contains(struct rmap_model *m, struct rmap *r, struct rmap_key key)
{
	struct ksm_rmap *k = K(r);
	struct ksm_entry *e;

	rmap_op_begin(m, r);
	e = index_find(k, key, NULL, NULL);
	if (!e)
		return 0;   /* the p2m entry does not point at this frame: no search */
	return rmap_chain_find(m, &e->dup->entries, key) != NULL;
}

static uint64_t ksm_count(const struct rmap *r)
{
	return CK(r)->count;
}

/* Frees the dups emptied during an iteration (the embedded one stays). */
static void sweep_empty_dups(struct rmap_model *m, struct ksm_rmap *k)
{
	uint64_t before = ksm_bytes(m, (struct rmap *)k);
	struct env_list *pos, *next;

	for (pos = k->dups.next; pos != &k->dups && k->empty_waiting; pos = next) {
		struct ksm_dup *d = kdup(pos);

		next = pos->next;
		if (!d->count && d != &k->first) {
			dup_free(m, k, d);
			k->empty_waiting--;
		}
	}
	rmap_op_end(m, (struct rmap *)k, before);
}

static int ksm_iterate(struct rmap_model *m, struct rmap *r, rmap_iter_fn fn, void *arg)
{
	struct ksm_rmap *k = K(r);
	struct env_list *pos, *next;
	int rc = 0;

	rmap_op_begin(m, r);
	k->iterating++;
	/* No dup is freed or reordered while iterating; a new dup goes to the front, behind
	 * the walk, and is not visited. */
	for (pos = k->dups.next; pos != &k->dups && !rc; pos = next) {
		next = pos->next;
		work_add(&m->work, WU_BUCKET_VISIT, 1);
		rc = rmap_chain_walk(m, &kdup(pos)->entries, fn, arg);
	}
	k->iterating--;
	if (!k->iterating && k->empty_waiting)
		sweep_empty_dups(m, k);
	return rc;
}

static void ksm_destroy(struct rmap_model *m, struct rmap *r)
{
	struct ksm_rmap *k = K(r);
	uint64_t before = ksm_bytes(m, r);

	while (!env_list_empty(&k->dups)) {
		struct ksm_dup *d = kdup(k->dups.next);

		while (!env_list_empty(&d->entries)) {
			struct env_list *pos = d->entries.next;

			env_list_del(pos);
			env_free(env_container_of(pos, struct ksm_entry, e.node),
				 sizeof(struct ksm_entry));
			work_add(&m->work, WU_FREE, 1);
		}
		env_list_del(&d->chain);
		if (d != &k->first) {
			env_free(d, sizeof(*d));
			work_add(&m->work, WU_FREE, 1);
			m->live_dup_pages--;
		}
	}
	m->live_entries -= k->count;
	m->live_bytes -= before;
	env_free(k, sizeof(*k));
	work_add(&m->work, WU_FREE, 1);
}

static int index_cmp(const struct avl_node *a, const struct avl_node *b)
{
	return rmap_key_cmp(rmap_entry_key(&kentry(a)->e), rmap_entry_key(&kentry(b)->e));
}

static int ksm_check(const struct rmap_model *m, const struct rmap *r)
{
	const struct ksm_rmap *k = CK(r);
	const struct env_list *pos, *prev = &k->dups;
	uint64_t ndups = 0, total = 0, empty = 0, n, height;
	bool first_seen = false;

	if (!k->dups.next || !k->dups.prev)
		return -EINVAL;
	for (pos = k->dups.next; pos != &k->dups; prev = pos, pos = pos->next) {
		const struct ksm_dup *d = kdup(pos);
		const struct env_list *ep;
		uint64_t seen = 0;

		if (!pos || pos->prev != prev || ++ndups > k->ndups)
			return -EINVAL;
		first_seen |= d == &k->first;
		if (rmap_chain_check(&m->p, &d->entries, 0, 0, k->count, &seen) || seen != d->count)
			return -EINVAL;
		if (d->count > m->p.max_page_sharing && !m->stats.conv_failed)
			return -EINVAL;
		if (!d->count && d != &k->first)
			empty++;
		for (ep = d->entries.next; ep != &d->entries; ep = ep->next) {
			const struct ksm_entry *e = env_container_of(ep, struct ksm_entry, e.node);
			struct ksm_entry *ix = index_find((struct ksm_rmap *)k, rmap_entry_key(&e->e),
							  NULL, NULL);

			if (e->dup != d || ix != e)
				return -EINVAL;
		}
		total += d->count;
	}
	if (k->dups.prev != prev || ndups != k->ndups || !first_seen || total != k->count)
		return -EINVAL;
	if (empty != k->empty_waiting || (empty && !k->iterating))
		return -EINVAL;
	if (avl_check(&k->by_key, index_cmp, k->count, &n, &height) || n != k->count)
		return -EINVAL;
	return 0;
}

const struct rmap_policy rmap_ksm_chain_policy = {
	.name = "ksm-chain",
	.doc = "at most max_page_sharing tuples per copy of the page, more on new copies (Linux KSM)",
	.create = ksm_create,
	.destroy = ksm_destroy,
	.add = ksm_add,
	.remove = ksm_remove,
	.contains = ksm_contains,
	.count = ksm_count,
	.iterate = ksm_iterate,
	.bytes = ksm_bytes,
	.check = ksm_check,
};
