/* SPDX-License-Identifier: MIT */
/*
 * models/p2m.c — the per-domain gfn -> entry radix tree (see p2m.h for shape, invariants
 * and memory).  Levels are numbered from the bottom: level 1 is a leaf, a node at level L
 * has children at level L-1, each covering 2^(9(L-1)) gfns.  Recursion depth is bounded
 * by P2M_MAX_HEIGHT, so it is safe in the kernel module too.
 */
#include "p2m.h"

static inline unsigned level_shift(unsigned level) { return P2M_BITS * (level - 1); }

static inline unsigned slot_index(uint64_t gfn, unsigned level)
{
	return (unsigned)((gfn >> level_shift(level)) & (P2M_ENTRIES - 1));
}

/* gfns covered by a tree of the given height. */
static inline uint64_t height_span(unsigned height)
{
	return 1ULL << (P2M_BITS * height);
}

static unsigned height_for(uint64_t gfn)
{
	unsigned h = 1;

	while (h < P2M_MAX_HEIGHT && gfn >= height_span(h))
		h++;
	return h;
}

void p2m_init(struct p2m *p)
{
	env_memset(p, 0, sizeof(*p));
}

static void free_subtree(struct p2m *p, void *n, unsigned level, struct work *w)
{
	if (level == 1) {
		env_free(n, sizeof(struct p2m_leaf));
		p->leaves--;
	} else {
		struct p2m_node *node = n;
		unsigned i;

		for (i = 0; i < P2M_ENTRIES; i++)
			if (node->slot[i])
				free_subtree(p, node->slot[i], level - 1, w);
		env_free(n, sizeof(struct p2m_node));
		p->nodes--;
	}
	if (w)
		work_add(w, WU_FREE, 1);
}

void p2m_destroy(struct p2m *p, struct work *w)
{
	if (p->root)
		free_subtree(p, p->root, p->height, w);
	p2m_init(p);
}

struct p2m_leaf *p2m_leaf_at(const struct p2m *p, uint64_t gfn)
{
	void *n = p->root;
	unsigned level;

	if (!n || gfn >= height_span(p->height))
		return NULL;
	for (level = p->height; level > 1 && n; level--)
		n = ((struct p2m_node *)n)->slot[slot_index(gfn, level)];
	return n;
}

p2m_entry_t p2m_get(const struct p2m *p, uint64_t gfn)
{
	struct p2m_leaf *l = p2m_leaf_at(p, gfn);

	return l ? l->e[gfn & (P2M_ENTRIES - 1)] : 0;
}

/* Pops the levels stacked on top of the tree by a reserve that then failed: each such
 * root has the old root in slot 0 and nothing else. */
static void undo_grow(struct p2m *p, unsigned old_height)
{
	while (p->root && p->height > old_height) {
		struct p2m_node *top = p->root;

		p->root = top->slot[0];
		env_free(top, sizeof(*top));
		p->nodes--;
		p->height--;
	}
	if (!p->root)
		p->height = old_height;
}

int p2m_reserve(struct p2m *p, uint64_t gfn, struct work *w)
{
	unsigned old_height = p->height, need, level, missing, grown = 0, i;
	void *fresh[P2M_MAX_HEIGHT];
	void **link;
	void *n;

	if (gfn >= P2M_GFN_LIMIT)
		return -ERANGE;
	need = height_for(gfn);

	/* Grow upwards: each new root takes the old one in slot 0. */
	if (!p->root) {
		p->height = ENV_MAX(p->height, need);
	} else {
		while (p->height < need) {
			struct p2m_node *top = env_zalloc(sizeof(*top));

			if (!top) {
				undo_grow(p, old_height);
				return -ENOMEM;
			}
			top->slot[0] = p->root;
			p->root = top;
			p->height++;
			p->nodes++;
			grown++;
		}
	}

	/* Count the nodes missing on the path to gfn's leaf: levels `missing` .. 1. */
	n = p->root;
	for (level = p->height; n && level > 1; level--)
		n = ((struct p2m_node *)n)->slot[slot_index(gfn, level)];
	missing = n ? 0 : level;
	for (i = 0; i < missing; i++) {
		/* fresh[i] is for level missing - i: the leaf comes last. */
		size_t sz = missing - i == 1 ? sizeof(struct p2m_leaf) : sizeof(struct p2m_node);

		fresh[i] = env_zalloc(sz);
		if (!fresh[i]) {
			while (i--)
				env_free(fresh[i], missing - i == 1 ? sizeof(struct p2m_leaf) :
								      sizeof(struct p2m_node));
			undo_grow(p, old_height);
			return -ENOMEM;
		}
	}

	/* Everything is in hand: link it in. */
	if (w)
		work_add(w, WU_ALLOC, grown + missing);
	link = &p->root;
	i = 0;
	for (level = p->height;; level--) {
		if (!*link) {
			*link = fresh[i++];
			if (level == 1)
				p->leaves++;
			else
				p->nodes++;
		}
		if (level == 1)
			break;
		link = &((struct p2m_node *)*link)->slot[slot_index(gfn, level)];
	}
	ENV_ASSERT(i == missing);
	return 0;
}

static void count_entry(struct p2m *p, p2m_entry_t e, int delta)
{
	switch (p2m_type_of(e)) {
	case P2M_SHARED:
		p->nshared += (uint64_t)(int64_t)delta;
		break;
	case P2M_PRIVATE:
		p->nprivate += (uint64_t)(int64_t)delta;
		break;
	default:
		break;
	}
}

void p2m_leaf_store(struct p2m *p, struct p2m_leaf *l, unsigned idx, uint64_t gfn,
		    p2m_entry_t e)
{
	ENV_ASSERT(idx < P2M_ENTRIES && p2m_type_of(e) != 3);
	count_entry(p, l->e[idx], -1);
	l->e[idx] = e;
	count_entry(p, e, +1);
	if (p2m_type_of(e) != P2M_INVALID && (!p->mapped || gfn > p->max_mapped)) {
		p->mapped = true;
		p->max_mapped = gfn;
	}
}

int p2m_set(struct p2m *p, uint64_t gfn, p2m_entry_t e, struct work *w)
{
	struct p2m_leaf *l;
	int rc;

	if (gfn >= P2M_GFN_LIMIT || p2m_type_of(e) == 3)
		return -ERANGE;
	l = p2m_leaf_at(p, gfn);
	if (!l) {
		if (p2m_type_of(e) == P2M_INVALID)
			return 0;
		rc = p2m_reserve(p, gfn, w);
		if (rc)
			return rc;
		l = p2m_leaf_at(p, gfn);
	}
	p2m_leaf_store(p, l, gfn & (P2M_ENTRIES - 1), gfn, e);
	return 0;
}

/*
 * First present leaf covering a gfn >= from under node n (at `level`, covering gfns from
 * `base`).  Sets *leaf and *lbase.
 */
static bool find_leaf(void *n, unsigned level, uint64_t base, uint64_t from,
		      struct p2m_leaf **leaf, uint64_t *lbase)
{
	struct p2m_node *node;
	uint64_t span;
	unsigned i;

	if (level == 1) {
		*leaf = n;
		*lbase = base;
		return true;
	}
	node = n;
	span = 1ULL << level_shift(level);
	i = from > base ? (unsigned)((from - base) >> level_shift(level)) : 0;
	for (; i < P2M_ENTRIES; i++) {
		uint64_t cbase = base + i * span;

		if (node->slot[i] &&
		    find_leaf(node->slot[i], level - 1, cbase, from > cbase ? from : cbase, leaf,
			      lbase))
			return true;
	}
	return false;
}

uint64_t p2m_next_leaf(const struct p2m *p, uint64_t from)
{
	struct p2m_leaf *l;
	uint64_t base;

	if (!p->root || from >= height_span(p->height))
		return P2M_GFN_LIMIT;
	if (find_leaf(p->root, p->height, 0, from, &l, &base))
		return base;
	return P2M_GFN_LIMIT;
}

bool p2m_next(const struct p2m *p, uint64_t from, unsigned mask, uint64_t *gfn,
	      p2m_entry_t *e)
{
	struct p2m_leaf *l;
	uint64_t base, g;

	while (p->root && from < height_span(p->height)) {
		if (!find_leaf(p->root, p->height, 0, from, &l, &base))
			return false;
		for (g = from > base ? from : base; g < base + P2M_ENTRIES; g++) {
			p2m_entry_t x = l->e[g - base];

			if (mask & (1u << p2m_type_of(x))) {
				*gfn = g;
				*e = x;
				return true;
			}
		}
		from = base + P2M_ENTRIES;
	}
	return false;
}

uint64_t p2m_bytes(const struct p2m *p)
{
	return p->nodes * sizeof(struct p2m_node) + p->leaves * sizeof(struct p2m_leaf);
}

struct check_acc {
	uint64_t nodes, leaves, nshared, nprivate;
	bool bad;
};

static void check_subtree(const struct p2m *p, const void *n, unsigned level, uint64_t base,
			  struct check_acc *a)
{
	unsigned i;

	if (level == 1) {
		const struct p2m_leaf *l = n;

		a->leaves++;
		for (i = 0; i < P2M_ENTRIES; i++) {
			enum p2m_type t = p2m_type_of(l->e[i]);

			if (t == 3)
				a->bad = true;
			if (t != P2M_INVALID && (!p->mapped || base + i > p->max_mapped))
				a->bad = true;
			if (t == P2M_PRIVATE && p2m_frame_of(l->e[i]) != 0)
				a->bad = true;
			a->nshared += t == P2M_SHARED;
			a->nprivate += t == P2M_PRIVATE;
		}
	} else {
		const struct p2m_node *node = n;
		uint64_t span = 1ULL << level_shift(level);

		a->nodes++;
		for (i = 0; i < P2M_ENTRIES; i++)
			if (node->slot[i])
				check_subtree(p, node->slot[i], level - 1, base + i * span, a);
	}
}

int p2m_check(const struct p2m *p)
{
	struct check_acc a = { 0 };

	if (!p->root) {
		if (p->nodes || p->leaves || p->nshared || p->nprivate)
			return -EINVAL;
		return 0;
	}
	if (p->height < 1 || p->height > P2M_MAX_HEIGHT)
		return -EINVAL;
	check_subtree(p, p->root, p->height, 0, &a);
	if (a.bad || a.nodes != p->nodes || a.leaves != p->leaves || a.nshared != p->nshared ||
	    a.nprivate != p->nprivate)
		return -EINVAL;
	return 0;
}
