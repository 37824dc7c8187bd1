/* SPDX-License-Identifier: MIT */
/*
 * models/rmap_hash.c — policy `hash`: the seed's list/hash-table reverse map (patch 3).
 *
 * State machine of one rmap (count = tuples held, as the seed's page type count):
 *
 *   LIST --add, count after the add >= heavy, no iterator in flight--> HASH   (to_hash)
 *        (bucket array allocation fails: stays LIST, conv_failed++, retried at every add)
 *   HASH --remove, count before the removal <= light, no RMAP_NO_CONVERT,
 *          no iterator in flight--> LIST                                      (to_list)
 *        (a conversion blocked by an iterator or RMAP_NO_CONVERT: conv_deferred++, and it is
 *         retried at the next operation of the same kind)
 *
 * The seed raises the page's type count before rmap_add() and lowers it after rmap_del(),
 * so its `rmap_count(page) >= RMAP_HEAVY_SHARED_PAGE` sees the count including the new tuple
 * and `rmap_count(page) <= RMAP_LIGHT_SHARED_PAGE` sees the count including the tuple being
 * removed.  Here: the add that brings the count to `heavy` converts (moving heavy-1 entries,
 * then inserting the new one in its bucket); the removal that starts from `light` (taking
 * the count to light-1) converts back, moving all `light` entries then unlinking the victim.
 * A count oscillating within [light, heavy-1] never converts.
 *
 * Buckets: `buckets` chains (seed: 256 list heads = one 4 KiB page), bucket of a tuple
 * rmap_hash() (seed: (gfn + domain) % buckets); new entries at the head of their chain.
 *
 * Work units: add = WU_ALLOC (+ 1 WU_BUCKET_VISIT when hashed); remove/contains = one
 * WU_BUCKET_VISIT when hashed + one WU_LIST_HOP per entry compared (+ WU_FREE on remove);
 * a conversion = WU_ALLOC or WU_FREE of the bucket array, one WU_BUCKET_VISIT per bucket
 * (initialised or emptied) and one WU_ENTRY_MOVE per entry moved.
 *
 * Invariants (hash_check): as a list, the list check; as a hash, the list head is empty,
 * every chain is consistent both ways, every entry is in the bucket its key hashes to, no
 * duplicate tuple in a chain (hence none at all), the chains hold `count` entries.
 */
#include "rmap_impl.h"

static struct hash_rmap *H(struct rmap *r) { return (struct hash_rmap *)r; }
static const struct hash_rmap *CH(const struct rmap *r) { return (const struct hash_rmap *)r; }

static uint64_t hash_bytes(const struct rmap_model *m, const struct rmap *r)
{
	const struct hash_rmap *h = CH(r);

	return sizeof(*h) + h->count * sizeof(struct rmap_entry) +
	       (h->buckets ? rmap_buckets_bytes(m->p.buckets) : 0);
}

static struct rmap *hash_create(struct rmap_model *m)
{
	struct hash_rmap *h = env_alloc(sizeof(*h));

	if (!h)
		return NULL;
	work_add(&m->work, WU_ALLOC, 1);
	env_list_init(&h->list);
	h->buckets = NULL;
	h->count = 0;
	h->iterating = 0;
	m->live_bytes += sizeof(*h);
	return (struct rmap *)h;
}

/* LIST -> HASH: 0, or -ENOMEM with the rmap untouched. */
static int hash_to_hash(struct rmap_model *m, struct hash_rmap *h)
{
	uint64_t nb = m->p.buckets;
	struct env_list *b = rmap_buckets_alloc(m, nb);

	if (!b) {
		m->stats.conv_failed++;
		return -ENOMEM;
	}
	while (!env_list_empty(&h->list)) {
		struct env_list *pos = h->list.next;
		struct rmap_entry *e = env_container_of(pos, struct rmap_entry, node);

		env_list_del(pos);
		env_list_add_head(pos, &b[rmap_hash(&m->p, rmap_entry_key(e), nb)]);
		work_add(&m->work, WU_ENTRY_MOVE, 1);
	}
	h->buckets = b;
	m->stats.to_hash++;
	return 0;
}

/* HASH -> LIST: walks every bucket, moves every entry to the list head, frees the array. */
static void hash_to_list(struct rmap_model *m, struct hash_rmap *h)
{
	uint64_t nb = m->p.buckets, i;

	for (i = 0; i < nb; i++) {
		struct env_list *head = &h->buckets[i];

		work_add(&m->work, WU_BUCKET_VISIT, 1);
		while (!env_list_empty(head)) {
			struct env_list *pos = head->next;

			env_list_del(pos);
			env_list_add_head(pos, &h->list);
			work_add(&m->work, WU_ENTRY_MOVE, 1);
		}
	}
	rmap_buckets_free(m, h->buckets, nb);
	h->buckets = NULL;
	m->stats.to_list++;
}

/* The chain holding k: the list, or its bucket (one bucket visit). */
static struct env_list *hash_head(struct rmap_model *m, struct hash_rmap *h, struct rmap_key k)
{
	if (!h->buckets)
		return &h->list;
	work_add(&m->work, WU_BUCKET_VISIT, 1);
	return &h->buckets[rmap_hash(&m->p, k, m->p.buckets)];
}

static const struct env_list *hash_head_quiet(const struct rmap_model *m,
					      const struct hash_rmap *h, struct rmap_key k)
{
	return h->buckets ? &h->buckets[rmap_hash(&m->p, k, m->p.buckets)] : &h->list;
}

static int hash_add(struct rmap_model *m, struct rmap *r, struct rmap_key k)
{
	struct hash_rmap *h = H(r);
	uint64_t before = rmap_op_begin(m, r);
	struct rmap_entry *e;

	if (m->check_dups && rmap_chain_find_quiet(hash_head_quiet(m, h, k), k))
		return -EEXIST;
	/* The seed allocates the gfn_info before rmap_add(): a failure changes nothing. */
	e = rmap_entry_alloc(m, k);
	if (!e)
		return -ENOMEM;
	if (!h->buckets && h->count + 1 >= m->p.heavy) {
		if (h->iterating)
			m->stats.conv_deferred++;
		else
			(void)hash_to_hash(m, h);   /* failure: stay a list, slower but correct */
	}
	env_list_add_head(&e->node, hash_head(m, h, k));
	h->count++;
	m->live_entries++;
	rmap_op_end(m, r, before);
	return 0;
}

static int hash_remove(struct rmap_model *m, struct rmap *r, struct rmap_key k,
		       unsigned flags)
{
	struct hash_rmap *h = H(r);
	uint64_t before = rmap_op_begin(m, r);
	struct rmap_entry *e = rmap_chain_find(m, hash_head(m, h, k), k);

	if (!e)
		return -ENOENT;
	if (h->buckets && h->count <= m->p.light) {
		if ((flags & RMAP_NO_CONVERT) || h->iterating)
			m->stats.conv_deferred++;
		else
			hash_to_list(m, h);
	}
	env_list_del(&e->node);
	rmap_entry_free(m, e);
	h->count--;
	m->live_entries--;
	rmap_op_end(m, r, before);
	return 0;
}

static int hash_contains(struct rmap_model *m, struct rmap *r, struct rmap_key k)
{
	struct hash_rmap *h = H(r);

	rmap_op_begin(m, r);
	return rmap_chain_find(m, hash_head(m, h, k), k) != NULL;
}

static uint64_t hash_count(const struct rmap *r)
{
	return CH(r)->count;
}

static int hash_iterate(struct rmap_model *m, struct rmap *r, rmap_iter_fn fn, void *arg)
{
	struct hash_rmap *h = H(r);
	int rc = 0;

	rmap_op_begin(m, r);
	h->iterating++;
	if (!h->buckets) {
		rc = rmap_chain_walk(m, &h->list, fn, arg);
	} else {
		uint64_t i;

		/* The array cannot go away under us: conversions wait for iterating == 0. */
		for (i = 0; i < m->p.buckets && !rc; i++) {
			work_add(&m->work, WU_BUCKET_VISIT, 1);
			rc = rmap_chain_walk(m, &h->buckets[i], fn, arg);
		}
	}
	h->iterating--;
	return rc;
}

static void hash_free_chain(struct rmap_model *m, struct env_list *head)
{
	while (!env_list_empty(head)) {
		struct env_list *pos = head->next;

		env_list_del(pos);
		rmap_entry_free(m, env_container_of(pos, struct rmap_entry, node));
	}
}

static void hash_destroy(struct rmap_model *m, struct rmap *r)
{
	struct hash_rmap *h = H(r);
	uint64_t before = hash_bytes(m, r);

	hash_free_chain(m, &h->list);
	if (h->buckets) {
		uint64_t i;

		/* The seed's page_sharing_dispose() frees a table that is still there. */
		for (i = 0; i < m->p.buckets; i++)
			hash_free_chain(m, &h->buckets[i]);
		rmap_buckets_free(m, h->buckets, m->p.buckets);
	}
	m->live_entries -= h->count;
	m->live_bytes -= before;
	env_free(h, sizeof(*h));
	work_add(&m->work, WU_FREE, 1);
}

/* No tuple twice in one chain (entries are checked to sit in their own bucket, so a
 * duplicate could only be in the same chain). */
static int chain_has_dup(const struct env_list *head)
{
	const struct env_list *pos;

	for (pos = head->next; pos != head; pos = pos->next) {
		const struct rmap_entry *e = env_container_of(pos, struct rmap_entry, node);

		if (rmap_chain_find_quiet(head, rmap_entry_key(e)) != e)
			return 1;
	}
	return 0;
}

static int hash_check(const struct rmap_model *m, const struct rmap *r)
{
	const struct hash_rmap *h = CH(r);
	uint64_t n = 0;

	if (rmap_chain_check(&m->p, &h->list, 0, 0, h->count, &n))
		return -EINVAL;
	if (!h->buckets) {
		if (n != h->count || chain_has_dup(&h->list))
			return -EINVAL;
		return 0;
	}
	if (n != 0)
		return -EINVAL;
	{
		uint64_t i;

		for (i = 0; i < m->p.buckets; i++) {
			if (rmap_chain_check(&m->p, &h->buckets[i], m->p.buckets, i,
					     h->count, &n))
				return -EINVAL;
			if (n > h->count || chain_has_dup(&h->buckets[i]))
				return -EINVAL;
		}
	}
	return n == h->count ? 0 : -EINVAL;
}

const struct rmap_policy rmap_hash_policy = {
	.name = "hash",
	.doc = "list until count reaches heavy, then a fixed hash table; back at light (seed patch 3)",
	.create = hash_create,
	.destroy = hash_destroy,
	.add = hash_add,
	.remove = hash_remove,
	.contains = hash_contains,
	.count = hash_count,
	.iterate = hash_iterate,
	.bytes = hash_bytes,
	.check = hash_check,
};
