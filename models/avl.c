/* SPDX-License-Identifier: MIT */
/*
 * models/avl.c — intrusive AVL tree (see avl.h).
 *
 * Balance factor b(n) = height(n->right) - height(n->left), kept in -1..+1.
 * Insert: the new leaf raises its parent's height; walk up while a subtree grew, and fix
 * the first ancestor that would reach +-2 with one single or double rotation, after which
 * the subtree has its old height again (at most one rotation per insert).
 * Erase: a node with two children first swaps places with its in-order successor (nodes
 * are relinked, not copied, so pointers held by users stay valid), then a node with at
 * most one child is spliced out; walk up while a subtree shrank, rotating where needed
 * (possibly once per level).
 */
#include "avl.h"

static inline void set_parent(struct avl_node *n, struct avl_node *p)
{
	n->parent_bal = (uintptr_t)p | (n->parent_bal & 3);
}

static inline void set_bal(struct avl_node *n, int b)
{
	n->parent_bal = (n->parent_bal & ~(uintptr_t)3) | (uintptr_t)(b + 1);
}

static inline void set_parent_bal(struct avl_node *n, struct avl_node *p, int b)
{
	n->parent_bal = (uintptr_t)p | (uintptr_t)(b + 1);
}

static inline void replace_child(struct avl_root *root, struct avl_node *parent,
				 struct avl_node *old, struct avl_node *new)
{
	if (!parent)
		root->node = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

/* x's right child y takes x's place; x becomes y's left child.  Balances: caller's job. */
static void rotate_left(struct avl_root *root, struct avl_node *x)
{
	struct avl_node *y = x->right, *p = avl_parent(x);

	x->right = y->left;
	if (y->left)
		set_parent(y->left, x);
	y->left = x;
	set_parent(x, y);
	set_parent(y, p);
	replace_child(root, p, x, y);
}

static void rotate_right(struct avl_root *root, struct avl_node *x)
{
	struct avl_node *y = x->left, *p = avl_parent(x);

	x->left = y->right;
	if (y->right)
		set_parent(y->right, x);
	y->right = x;
	set_parent(x, y);
	set_parent(y, p);
	replace_child(root, p, x, y);
}

uint64_t avl_insert(struct avl_root *root, struct avl_node *n, struct avl_node *parent,
		    struct avl_node **link)
{
	struct avl_node *child = n, *p = parent;
	uint64_t touched = 0;

	n->left = n->right = NULL;
	set_parent_bal(n, parent, 0);
	*link = n;

	/* Invariant of the loop: the subtree rooted at `child` grew by one level. */
	while (p) {
		touched++;
		if (child == p->left) {
			if (avl_balance(p) == 1) {
				set_bal(p, 0);
				break;
			}
			if (avl_balance(p) == 0) {
				set_bal(p, -1);
				child = p;
				p = avl_parent(p);
				continue;
			}
			if (avl_balance(child) == -1) {          /* left-left */
				rotate_right(root, p);
				set_bal(p, 0);
				set_bal(child, 0);
				touched += 1;
			} else {                                 /* left-right */
				struct avl_node *g = child->right;
				int gb = avl_balance(g);

				rotate_left(root, child);
				rotate_right(root, p);
				set_bal(p, gb == -1 ? 1 : 0);
				set_bal(child, gb == 1 ? -1 : 0);
				set_bal(g, 0);
				touched += 2;
			}
			break;
		} else {
			if (avl_balance(p) == -1) {
				set_bal(p, 0);
				break;
			}
			if (avl_balance(p) == 0) {
				set_bal(p, 1);
				child = p;
				p = avl_parent(p);
				continue;
			}
			if (avl_balance(child) == 1) {           /* right-right */
				rotate_left(root, p);
				set_bal(p, 0);
				set_bal(child, 0);
				touched += 1;
			} else {                                 /* right-left */
				struct avl_node *g = child->left;
				int gb = avl_balance(g);

				rotate_right(root, child);
				rotate_left(root, p);
				set_bal(p, gb == 1 ? -1 : 0);
				set_bal(child, gb == -1 ? 1 : 0);
				set_bal(g, 0);
				touched += 2;
			}
			break;
		}
	}
	return touched;
}

/* n has two children and s is its in-order successor (leftmost of n->right): exchange
 * their places and balance factors, so n ends up with no left child. */
static void swap_with_successor(struct avl_root *root, struct avl_node *n, struct avl_node *s)
{
	struct avl_node *np = avl_parent(n), *sr = s->right;
	int nb = avl_balance(n), sb = avl_balance(s);

	s->left = n->left;
	set_parent(s->left, s);
	if (s == n->right) {
		s->right = n;
		set_parent_bal(n, s, sb);
	} else {
		struct avl_node *sp = avl_parent(s);

		s->right = n->right;
		set_parent(s->right, s);
		sp->left = n;
		set_parent_bal(n, sp, sb);
	}
	set_parent_bal(s, np, nb);
	replace_child(root, np, n, s);
	n->left = NULL;
	n->right = sr;
	if (sr)
		set_parent(sr, n);
}

uint64_t avl_erase(struct avl_root *root, struct avl_node *n)
{
	struct avl_node *child, *p;
	uint64_t touched = 0;
	bool left_shrank;

	if (n->left && n->right) {
		struct avl_node *s = n->right;

		touched++;
		while (s->left) {
			s = s->left;
			touched++;
		}
		swap_with_successor(root, n, s);
	}
	child = n->left ? n->left : n->right;
	p = avl_parent(n);
	if (child)
		set_parent(child, p);
	if (!p) {
		root->node = child;
		return touched;
	}
	left_shrank = p->left == n;
	if (left_shrank)
		p->left = child;
	else
		p->right = child;

	/* Invariant of the loop: p's left (or right) subtree lost one level. */
	for (;;) {
		struct avl_node *top = p;   /* root of the subtree after this level's fix */
		struct avl_node *up;

		touched++;
		if (left_shrank) {
			if (avl_balance(p) == -1) {
				set_bal(p, 0);
			} else if (avl_balance(p) == 0) {
				set_bal(p, 1);
				break;
			} else {
				struct avl_node *s = p->right;
				int sb = avl_balance(s);

				touched++;
				if (sb == 0) {
					rotate_left(root, p);
					set_bal(p, 1);
					set_bal(s, -1);
					break;           /* height unchanged */
				} else if (sb == 1) {
					rotate_left(root, p);
					set_bal(p, 0);
					set_bal(s, 0);
					top = s;
				} else {
					struct avl_node *g = s->left;
					int gb = avl_balance(g);

					touched++;
					rotate_right(root, s);
					rotate_left(root, p);
					set_bal(p, gb == 1 ? -1 : 0);
					set_bal(s, gb == -1 ? 1 : 0);
					set_bal(g, 0);
					top = g;
				}
			}
		} else {
			if (avl_balance(p) == 1) {
				set_bal(p, 0);
			} else if (avl_balance(p) == 0) {
				set_bal(p, -1);
				break;
			} else {
				struct avl_node *s = p->left;
				int sb = avl_balance(s);

				touched++;
				if (sb == 0) {
					rotate_right(root, p);
					set_bal(p, -1);
					set_bal(s, 1);
					break;
				} else if (sb == -1) {
					rotate_right(root, p);
					set_bal(p, 0);
					set_bal(s, 0);
					top = s;
				} else {
					struct avl_node *g = s->right;
					int gb = avl_balance(g);

					touched++;
					rotate_left(root, s);
					rotate_right(root, p);
					set_bal(p, gb == -1 ? 1 : 0);
					set_bal(s, gb == 1 ? -1 : 0);
					set_bal(g, 0);
					top = g;
				}
			}
		}
		/* The subtree rooted at `top` is one level lower than before: go up. */
		up = avl_parent(top);
		if (!up)
			break;
		left_shrank = up->left == top;
		p = up;
	}
	return touched;
}

struct avl_node *avl_first(const struct avl_root *root, uint64_t *steps)
{
	struct avl_node *n = root->node;
	uint64_t k = 0;

	if (n) {
		k++;
		while (n->left) {
			n = n->left;
			k++;
		}
	}
	if (steps)
		*steps += k;
	return n;
}

struct avl_node *avl_next(const struct avl_node *n, uint64_t *steps)
{
	struct avl_node *p;
	uint64_t k = 0;

	if (n->right) {
		struct avl_node *c = n->right;

		k++;
		while (c->left) {
			c = c->left;
			k++;
		}
		if (steps)
			*steps += k;
		return c;
	}
	for (p = avl_parent(n); p && n == p->right; n = p, p = avl_parent(p))
		k++;
	if (p)
		k++;
	if (steps)
		*steps += k;
	return p;
}

static struct avl_node *deepest_first(struct avl_node *n)
{
	for (;;) {
		if (n->left)
			n = n->left;
		else if (n->right)
			n = n->right;
		else
			return n;
	}
}

struct avl_node *avl_first_postorder(const struct avl_root *root)
{
	return root->node ? deepest_first(root->node) : NULL;
}

struct avl_node *avl_next_postorder(const struct avl_node *n)
{
	struct avl_node *p = avl_parent(n);

	if (p && n == p->left && p->right)
		return deepest_first(p->right);
	return p;
}

struct avl_check_ctx {
	avl_cmp_fn cmp;
	uint64_t limit;
	uint64_t count;
	const struct avl_node *prev;   /* in-order predecessor of the node being checked */
};

/* An AVL tree of 2^64 nodes is under 93 levels high: anything deeper is corrupt, and the
 * bound keeps the recursion's stack use small on a corrupt tree. */
#define AVL_MAX_DEPTH 96

static int check_sub(struct avl_check_ctx *c, const struct avl_node *n,
		     const struct avl_node *parent, unsigned depth, uint64_t *height)
{
	uint64_t hl, hr;

	if (!n) {
		*height = 0;
		return 0;
	}
	if (depth > AVL_MAX_DEPTH || ++c->count > c->limit)
		return -EINVAL;
	if (avl_parent(n) != parent || (n->parent_bal & 3) == 3)
		return -EINVAL;
	if (check_sub(c, n->left, n, depth + 1, &hl))
		return -EINVAL;
	if (c->prev && c->cmp(c->prev, n) >= 0)
		return -EINVAL;
	c->prev = n;
	if (check_sub(c, n->right, n, depth + 1, &hr))
		return -EINVAL;
	if ((int64_t)hr - (int64_t)hl != avl_balance(n))
		return -EINVAL;
	*height = 1 + ENV_MAX(hl, hr);
	return 0;
}

int avl_check(const struct avl_root *root, avl_cmp_fn cmp, uint64_t limit,
	      uint64_t *count, uint64_t *height)
{
	struct avl_check_ctx c = { .cmp = cmp, .limit = limit };
	uint64_t h;

	if (check_sub(&c, root->node, NULL, 0, &h))
		return -EINVAL;
	*count = c.count;
	*height = h;
	return 0;
}
