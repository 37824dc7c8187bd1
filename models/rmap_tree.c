/* SPDX-License-Identifier: MIT */
/*
 * models/rmap_tree.c — policy `tree`: the reviewer's alternative in seed 000 ("would it be
 * better to use a tree, since the keys are easily sorted?").  One balanced tree (AVL,
 * models/avl.c) keyed by (domain, gfn) from the first tuple on: no list phase, no
 * conversions, O(log n) retrieve at every size, and more memory per tuple than the list
 * (a 40-byte node with two child pointers and a parent/balance word, against the list's
 * 32-byte entry) — the author's objection for the 400k frames of ~100 tuples each.
 *
 * Work units: add = one WU_TREE_NODE per node compared on the way down + the nodes touched
 * by rebalancing (avl.h: ancestors whose balance is updated, +1 per extra node relinked by
 * a rotation) + WU_ALLOC; remove = the same descent + erase's rebalancing (and the walk to
 * the successor when the node has two children) + WU_FREE; contains = the descent;
 * iterate = one WU_TREE_NODE per node stepped through in order (about 2 per tuple).
 *
 * Invariants (tree_check): avl_check (parent pointers, balance factors equal to the real
 * height differences and within -1..+1, strictly increasing keys in order, hence no
 * duplicates), `count` nodes.
 */
#include "rmap_impl.h"

static struct tree_rmap *T(struct rmap *r) { return (struct tree_rmap *)r; }
static const struct tree_rmap *CT(const struct rmap *r) { return (const struct tree_rmap *)r; }

static struct tree_node *tnode(const struct avl_node *a)
{
	return env_container_of(a, struct tree_node, avl);
}

static struct rmap_key tnode_key(const struct tree_node *n)
{
	struct rmap_key k = { .gfn = n->gfn, .domain = n->domain };
	return k;
}

static uint64_t tree_bytes(const struct rmap_model *m, const struct rmap *r)
{
	return sizeof(struct tree_rmap) + CT(r)->count * sizeof(struct tree_node);
}

static struct rmap *tree_create(struct rmap_model *m)
{
	struct tree_rmap *t = env_alloc(sizeof(*t));

	if (!t)
		return NULL;
	work_add(&m->work, WU_ALLOC, 1);
	t->root.node = NULL;
	t->count = 0;
	t->iterating = 0;
	m->live_bytes += sizeof(*t);
	return (struct rmap *)t;
}

/*
 * Descends from the root looking for k, one WU_TREE_NODE per node compared.  Returns the
 * node, or NULL with *parent and *link set to where k would be linked.
 */
static struct tree_node *tree_find(struct rmap_model *m, struct tree_rmap *t, struct rmap_key k,
				   struct avl_node **parent, struct avl_node ***link)
{
	struct avl_node **pp = &t->root.node, *par = NULL;
	uint64_t visited = 0;

	while (*pp) {
		struct tree_node *n = tnode(*pp);
		int c = rmap_key_cmp(k, tnode_key(n));

		visited++;
		if (c == 0) {
			work_add(&m->work, WU_TREE_NODE, visited);
			return n;
		}
		par = *pp;
		pp = c < 0 ? &(*pp)->left : &(*pp)->right;
	}
	work_add(&m->work, WU_TREE_NODE, visited);
	if (parent)
		*parent = par;
	if (link)
		*link = pp;
	return NULL;
}

static int tree_add(struct rmap_model *m, struct rmap *r, struct rmap_key k)
{
	struct tree_rmap *t = T(r);
	uint64_t before = rmap_op_begin(m, r);
	struct avl_node *parent, **link;
	struct tree_node *n;

	/* The descent finds a duplicate for free, whatever m->check_dups says. */
	if (tree_find(m, t, k, &parent, &link))
		return -EEXIST;
	n = env_alloc(sizeof(*n));
	if (!n) {
		m->stats.alloc_failed++;
		return -ENOMEM;
	}
	work_add(&m->work, WU_ALLOC, 1);
	n->gfn = k.gfn;
	n->domain = k.domain;
	work_add(&m->work, WU_TREE_NODE, avl_insert(&t->root, &n->avl, parent, link));
	t->count++;
	m->live_entries++;
	rmap_op_end(m, r, before);
	return 0;
}

static int tree_remove(struct rmap_model *m, struct rmap *r, struct rmap_key k,
		       unsigned flags)
{
	struct tree_rmap *t = T(r);
	uint64_t before = rmap_op_begin(m, r);
	struct tree_node *n = tree_find(m, t, k, NULL, NULL);

	if (!n)
		return -ENOENT;
	work_add(&m->work, WU_TREE_NODE, avl_erase(&t->root, &n->avl));
	env_free(n, sizeof(*n));
	work_add(&m->work, WU_FREE, 1);
	t->count--;
	m->live_entries--;
	rmap_op_end(m, r, before);
	return 0;
}

static int tree_contains(struct rmap_model *m, struct rmap *r, struct rmap_key k)
{
	rmap_op_begin(m, r);
	return tree_find(m, T(r), k, NULL, NULL) != NULL;
}

static uint64_t tree_count(const struct rmap *r)
{
	return CT(r)->count;
}

static int tree_iterate(struct rmap_model *m, struct rmap *r, rmap_iter_fn fn, void *arg)
{
	struct tree_rmap *t = T(r);
	struct avl_node *a, *next;
	uint64_t steps = 0;
	int rc = 0;

	rmap_op_begin(m, r);
	t->iterating++;
	/* The successor is found before the callback, which may erase the node it is given:
	 * avl_erase() relinks nodes and never moves a key, so `next` stays valid. */
	for (a = avl_first(&t->root, &steps); a; a = next) {
		next = avl_next(a, &steps);
		rc = fn(arg, tnode_key(tnode(a)));
		if (rc)
			break;
	}
	work_add(&m->work, WU_TREE_NODE, steps);
	t->iterating--;
	return rc;
}

static void tree_destroy(struct rmap_model *m, struct rmap *r)
{
	struct tree_rmap *t = T(r);
	uint64_t before = tree_bytes(m, r);
	struct avl_node *a = avl_first_postorder(&t->root);

	while (a) {
		struct avl_node *next = avl_next_postorder(a);

		env_free(tnode(a), sizeof(struct tree_node));
		work_add(&m->work, WU_FREE, 1);
		a = next;
	}
	m->live_entries -= t->count;
	m->live_bytes -= before;
	env_free(t, sizeof(*t));
	work_add(&m->work, WU_FREE, 1);
}

static int tree_cmp(const struct avl_node *a, const struct avl_node *b)
{
	return rmap_key_cmp(tnode_key(tnode(a)), tnode_key(tnode(b)));
}

static int tree_check(const struct rmap_model *m, const struct rmap *r)
{
	const struct tree_rmap *t = CT(r);
	uint64_t n, height;

	if (avl_check(&t->root, tree_cmp, t->count, &n, &height) || n != t->count)
		return -EINVAL;
	return 0;
}

const struct rmap_policy rmap_tree_policy = {
	.name = "tree",
	.doc = "balanced (AVL) tree keyed by (domain, gfn), no list phase (the reviewer's proposal)",
	.create = tree_create,
	.destroy = tree_destroy,
	.add = tree_add,
	.remove = tree_remove,
	.contains = tree_contains,
	.count = tree_count,
	.iterate = tree_iterate,
	.bytes = tree_bytes,
	.check = tree_check,
};
