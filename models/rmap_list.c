/* SPDX-License-Identifier: MIT */
/*
 * models/rmap_list.c — policy `list`: the seed's original reverse map (patch 2).
 *
 * A doubly linked list of entries (the seed's gfn_info_t), new entries at the head.
 * Retrieve walks from the head comparing (gfn, domain): O(n), and on domain destroy, which
 * unshares gfns in ascending order while the list holds them in descending order, every
 * search goes to the tail: n(n+1)/2 hops for n gfns, the seed's minutes-long freeze.
 *
 * Work units: add = WU_ALLOC; remove/contains = one WU_LIST_HOP per entry compared (+ WU_FREE
 * on remove); iterate = one WU_LIST_HOP per entry; destroy = one WU_FREE per entry.
 *
 * list_fast = 1 (simulation only): the same list is kept, but a search is answered from an
 * order index (rmap_impl.h: struct list_index) and counts exactly the hops the walk would
 * have made — the position of the tuple, or the whole count for a miss — in O(log n).  A
 * 1M-tuple destroy (5e11 hops) then takes seconds instead of hours.  Tests prove the counts
 * identical to the walk's.  If the index cannot be (re)allocated it is dropped and counted
 * (stats.index_failed) and that rmap walks from then on: same counts, slower.  The index is
 * not modelled memory: bytes() counts the 32-byte entry and the list head only.
 *
 * Invariants (list_check): links consistent both ways, `count` entries, no duplicate tuple,
 * bytes() = head + count entries; with an index: every entry is in it under its own key
 * (tree valid, same count) and the index's position of every entry is its real position.
 */
#include "rmap_impl.h"

static struct list_rmap *L(struct rmap *r) { return (struct list_rmap *)r; }
static const struct list_rmap *CL(const struct rmap *r) { return (const struct list_rmap *)r; }

static struct fast_entry *fentry(const struct rmap_entry *e)
{
	return env_container_of(e, struct fast_entry, e);
}

static struct fast_entry *by_key_entry(const struct avl_node *a)
{
	return env_container_of(a, struct fast_entry, by_key);
}

/* An entry's allocation: list_fast entries carry the index fields. */
static size_t entry_size(const struct rmap_model *m)
{
	return m->p.list_fast ? sizeof(struct fast_entry) : sizeof(struct rmap_entry);
}

static uint64_t list_bytes(const struct rmap_model *m, const struct rmap *r)
{
	return LIST_RMAP_BYTES + CL(r)->count * sizeof(struct rmap_entry);
}

/* ---- the order index (list_fast) --------------------------------------------------------- */

static uint64_t lowbit(uint64_t i) { return i & (~i + 1); }

/* Slot s gains delta (1 or -1 as two's complement). */
static void fen_add(struct list_index *ix, uint64_t s, uint64_t delta)
{
	uint64_t i;

	for (i = s + 1; i <= ix->cap; i += lowbit(i))
		ix->bit[i] += delta;
}

/* Live entries in slots [0, s). */
static uint64_t fen_prefix(const struct list_index *ix, uint64_t s)
{
	uint64_t sum = 0;

	for (; s; s -= lowbit(s))
		sum += ix->bit[s];
	return sum;
}

/* Position (1 = head) of an indexed entry: one plus the live entries added after it. */
static uint64_t fast_position(const struct list_rmap *l, const struct fast_entry *f)
{
	return l->count - fen_prefix(l->index, f->seq + 1) + 1;
}

static void index_drop(struct rmap_model *m, struct list_rmap *l)
{
	struct list_index *ix = l->index;

	if (ix->bit)
		env_free(ix->bit, (ix->cap + 1) * sizeof(uint64_t));
	env_free(ix, sizeof(*ix));
	l->index = NULL;
	m->stats.index_failed++;
}

/*
 * Sequence numbers ran out: renumber the entries 0..count-1 from the tail (oldest) and
 * rebuild the Fenwick tree with room for as many adds again.  Amortised O(1) per add.
 */
static int index_rebuild(struct list_rmap *l)
{
	struct list_index *ix = l->index;
	uint64_t cap = ENV_MAX(64, 2 * (l->count + 1)), s = 0, i;
	uint64_t *bit = env_zalloc((cap + 1) * sizeof(uint64_t));
	struct env_list *pos;

	if (!bit)
		return -ENOMEM;
	for (pos = l->head.prev; pos != &l->head; pos = pos->prev) {
		fentry(env_container_of(pos, struct rmap_entry, node))->seq = s;
		bit[++s] = 1;
	}
	for (i = 1; i <= cap; i++)   /* linear-time Fenwick construction */
		if (i + lowbit(i) <= cap)
			bit[i + lowbit(i)] += bit[i];
	if (ix->bit)
		env_free(ix->bit, (ix->cap + 1) * sizeof(uint64_t));
	ix->bit = bit;
	ix->cap = cap;
	ix->next_seq = s;
	return 0;
}

static struct fast_entry *index_find(const struct list_index *ix, struct rmap_key k,
				     struct avl_node **parent, struct avl_node ***link)
{
	struct avl_node *const *pp = &ix->by_key.node, *par = NULL;

	while (*pp) {
		struct fast_entry *f = by_key_entry(*pp);
		int c = rmap_key_cmp(k, rmap_entry_key(&f->e));

		if (c == 0)
			return f;
		par = *pp;
		pp = c < 0 ? &(*pp)->left : &(*pp)->right;
	}
	if (parent)
		*parent = par;
	if (link)
		*link = (struct avl_node **)pp;
	return NULL;
}

/* Enters a new entry (not yet on the list) into the index; drops the index when it cannot
 * (no memory for a rebuild, or a duplicate tuple). */
static void index_insert(struct rmap_model *m, struct list_rmap *l, struct fast_entry *f)
{
	struct list_index *ix = l->index;
	struct avl_node *parent, **link;

	if (ix->next_seq == ix->cap && index_rebuild(l)) {
		index_drop(m, l);
		return;
	}
	if (index_find(ix, rmap_entry_key(&f->e), &parent, &link)) {
		/* A duplicate tuple (the hypervisor never adds one): the list can hold it, the
		 * index cannot; walk from now on. */
		index_drop(m, l);
		return;
	}
	avl_insert(&ix->by_key, &f->by_key, parent, link);
	f->seq = ix->next_seq++;
	fen_add(ix, f->seq, 1);
}

/* ---- operations ---------------------------------------------------------------------------- */

static struct rmap *list_create(struct rmap_model *m)
{
	struct list_rmap *l = env_alloc(sizeof(*l));

	if (!l)
		return NULL;
	work_add(&m->work, WU_ALLOC, 1);
	env_list_init(&l->head);
	l->count = 0;
	l->iterating = 0;
	l->index = NULL;
	if (m->p.list_fast) {
		/* Simulation machinery: not counted as work. */
		l->index = env_zalloc(sizeof(*l->index));
		if (!l->index)
			m->stats.index_failed++;
	}
	m->live_bytes += LIST_RMAP_BYTES;
	return (struct rmap *)l;
}

static void list_destroy(struct rmap_model *m, struct rmap *r)
{
	struct list_rmap *l = L(r);
	uint64_t before = list_bytes(m, r);

	while (!env_list_empty(&l->head)) {
		struct env_list *pos = l->head.next;

		env_list_del(pos);
		env_free(env_container_of(pos, struct rmap_entry, node), entry_size(m));
		work_add(&m->work, WU_FREE, 1);
	}
	if (l->index) {
		if (l->index->bit)
			env_free(l->index->bit, (l->index->cap + 1) * sizeof(uint64_t));
		env_free(l->index, sizeof(*l->index));
	}
	m->live_entries -= l->count;
	m->live_bytes -= before;
	env_free(l, sizeof(*l));
	work_add(&m->work, WU_FREE, 1);
}

/* The counted search: walks, or reads the walk's length from the index. */
static struct rmap_entry *list_find(struct rmap_model *m, struct list_rmap *l, struct rmap_key k)
{
	struct fast_entry *f;

	if (!l->index)
		return rmap_chain_find(m, &l->head, k);
	f = index_find(l->index, k, NULL, NULL);
	work_add(&m->work, WU_LIST_HOP, f ? fast_position(l, f) : l->count);
	return f ? &f->e : NULL;
}

static bool list_present_quiet(const struct list_rmap *l, struct rmap_key k)
{
	if (l->index)
		return index_find(l->index, k, NULL, NULL) != NULL;
	return rmap_chain_find_quiet(&l->head, k) != NULL;
}

static int list_add(struct rmap_model *m, struct rmap *r, struct rmap_key k)
{
	struct list_rmap *l = L(r);
	uint64_t before = rmap_op_begin(m, r);
	struct rmap_entry *e;

	if (m->check_dups && list_present_quiet(l, k))
		return -EEXIST;
	e = env_alloc(entry_size(m));
	if (!e) {
		m->stats.alloc_failed++;
		return -ENOMEM;
	}
	work_add(&m->work, WU_ALLOC, 1);
	e->gfn = k.gfn;
	e->domain = k.domain;
	if (l->index)
		index_insert(m, l, fentry(e));
	env_list_add_head(&e->node, &l->head);
	l->count++;
	m->live_entries++;
	rmap_op_end(m, r, before);
	return 0;
}

static int list_remove(struct rmap_model *m, struct rmap *r, struct rmap_key k,
		       unsigned flags)
{
	struct list_rmap *l = L(r);
	uint64_t before = rmap_op_begin(m, r);
	struct rmap_entry *e = list_find(m, l, k);

	if (!e)
		return -ENOENT;
	if (l->index) {
		avl_erase(&l->index->by_key, &fentry(e)->by_key);
		fen_add(l->index, fentry(e)->seq, (uint64_t)-1);
	}
	env_list_del(&e->node);
	env_free(e, entry_size(m));
	work_add(&m->work, WU_FREE, 1);
	l->count--;
	m->live_entries--;
	rmap_op_end(m, r, before);
	return 0;
}

static int list_contains(struct rmap_model *m, struct rmap *r, struct rmap_key k)
{
	rmap_op_begin(m, r);
	return list_find(m, L(r), k) != NULL;
}

static uint64_t list_count(const struct rmap *r)
{
	return CL(r)->count;
}

static int list_iterate(struct rmap_model *m, struct rmap *r, rmap_iter_fn fn, void *arg)
{
	struct list_rmap *l = L(r);
	int rc;

	rmap_op_begin(m, r);
	l->iterating++;
	rc = rmap_chain_walk(m, &l->head, fn, arg);
	l->iterating--;
	return rc;
}

static int by_key_cmp(const struct avl_node *a, const struct avl_node *b)
{
	return rmap_key_cmp(rmap_entry_key(&by_key_entry(a)->e), rmap_entry_key(&by_key_entry(b)->e));
}

/* With an index: a valid tree of `count` entries, every list entry found in it as itself
 * (so no duplicates), and every entry's indexed position equal to its real one. */
static int index_check(const struct list_rmap *l)
{
	const struct list_index *ix = l->index;
	const struct env_list *pos;
	uint64_t n, height, want = 1;

	if (avl_check(&ix->by_key, by_key_cmp, l->count, &n, &height) || n != l->count)
		return -EINVAL;
	if (ix->next_seq > ix->cap || fen_prefix(ix, ix->cap) != l->count)
		return -EINVAL;
	for (pos = l->head.next; pos != &l->head; pos = pos->next, want++) {
		const struct fast_entry *f = fentry(env_container_of(pos, struct rmap_entry, node));

		if (index_find(ix, rmap_entry_key(&f->e), NULL, NULL) != f ||
		    f->seq >= ix->next_seq || fast_position(l, f) != want)
			return -EINVAL;
	}
	return 0;
}

static int list_check(const struct rmap_model *m, const struct rmap *r)
{
	const struct list_rmap *l = CL(r);
	const struct env_list *pos;
	uint64_t n = 0;

	if (rmap_chain_check(&m->p, &l->head, 0, 0, l->count, &n) || n != l->count)
		return -EINVAL;
	if (l->index)
		return index_check(l);
	/* No duplicates: quadratic, which is what a check of an unindexed list costs. */
	for (pos = l->head.next; pos != &l->head; pos = pos->next) {
		const struct rmap_entry *e = env_container_of(pos, struct rmap_entry, node);
		const struct env_list *q;

		for (q = pos->next; q != &l->head; q = q->next) {
			const struct rmap_entry *f = env_container_of(q, struct rmap_entry, node);

			if (rmap_key_eq(rmap_entry_key(e), rmap_entry_key(f)))
				return -EINVAL;
		}
	}
	/* n == count was checked above, so bytes() (head + count entries) is what is held. */
	return 0;
}

const struct rmap_policy rmap_list_policy = {
	.name = "list",
	.doc = "doubly linked list, new tuples at the head, O(n) retrieve (seed patch 2)",
	.create = list_create,
	.destroy = list_destroy,
	.add = list_add,
	.remove = list_remove,
	.contains = list_contains,
	.count = list_count,
	.iterate = list_iterate,
	.bytes = list_bytes,
	.check = list_check,
};
