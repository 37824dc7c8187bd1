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
 * Invariants (list_check): links consistent both ways, `count` entries, no duplicate tuple,
 * bytes() = head + count entries.
 */
#include "rmap_impl.h"

static struct list_rmap *L(struct rmap *r) { return (struct list_rmap *)r; }
static const struct list_rmap *CL(const struct rmap *r) { return (const struct list_rmap *)r; }

static uint64_t list_bytes(const struct rmap_model *m, const struct rmap *r)
{
	return sizeof(struct list_rmap) + CL(r)->count * sizeof(struct rmap_entry);
}

static struct rmap *list_create(struct rmap_model *m)
{
	struct list_rmap *l = env_alloc(sizeof(*l));

	if (!l)
		return NULL;
	work_add(&m->work, WU_ALLOC, 1);
	env_list_init(&l->head);
	l->count = 0;
	l->iterating = 0;
	m->live_bytes += sizeof(*l);
	return (struct rmap *)l;
}

static void list_destroy(struct rmap_model *m, struct rmap *r)
{
	struct list_rmap *l = L(r);
	uint64_t before = list_bytes(m, r);

	while (!env_list_empty(&l->head)) {
		struct env_list *pos = l->head.next;

		env_list_del(pos);
		rmap_entry_free(m, env_container_of(pos, struct rmap_entry, node));
	}
	m->live_entries -= l->count;
	m->live_bytes -= before;
	env_free(l, sizeof(*l));
	work_add(&m->work, WU_FREE, 1);
}

static int list_add(struct rmap_model *m, struct rmap *r, struct rmap_key k)
{
	struct list_rmap *l = L(r);
	uint64_t before = rmap_op_begin(m, r);
	struct rmap_entry *e;

	if (m->check_dups && rmap_chain_find_quiet(&l->head, k))
		return -EEXIST;
	e = rmap_entry_alloc(m, k);
	if (!e)
		return -ENOMEM;
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
	struct rmap_entry *e = rmap_chain_find(m, &l->head, k);

	if (!e)
		return -ENOENT;
	env_list_del(&e->node);
	rmap_entry_free(m, e);
	l->count--;
	m->live_entries--;
	rmap_op_end(m, r, before);
	return 0;
}

static int list_contains(struct rmap_model *m, struct rmap *r, struct rmap_key k)
{
	rmap_op_begin(m, r);
	return rmap_chain_find(m, &L(r)->head, k) != NULL;
}

static uint64_t list_count(const struct rmap *r)
{
	return CL(r)->count;
}

static int list_iterate(struct rmap_model *m, struct rmap *r, rmap_iter_fn fn, void *arg)
{
	struct list_rmap *l = L(r);
	struct env_list *pos, *next;
	int rc = 0;

	rmap_op_begin(m, r);
	l->iterating++;
	/* `next` is read before the callback so it may remove the entry it is given. */
	for (pos = l->head.next; pos != &l->head; pos = next) {
		struct rmap_entry *e = env_container_of(pos, struct rmap_entry, node);

		next = pos->next;
		work_add(&m->work, WU_LIST_HOP, 1);
		rc = fn(arg, rmap_entry_key(e));
		if (rc)
			break;
	}
	l->iterating--;
	return rc;
}

static int list_check(const struct rmap_model *m, const struct rmap *r)
{
	const struct list_rmap *l = CL(r);
	const struct env_list *pos;
	uint64_t n = 0;

	if (rmap_chain_check(&m->p, &l->head, 0, 0, l->count, &n) || n != l->count)
		return -EINVAL;
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
