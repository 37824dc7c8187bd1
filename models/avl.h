/* SPDX-License-Identifier: MIT */
/*
 * models/avl.h — an intrusive AVL tree, in the style of the kernel's rbtree: the user embeds
 * a struct avl_node, walks down from the root with its own comparison to find the link where
 * a new node belongs, then calls avl_insert() to link and rebalance.  Keys and comparison
 * stay with the user; the tree only keeps shape.
 *
 * A node is three words: left, right, and the parent pointer with the balance factor
 * (height(right) - height(left), -1..+1) in its two low bits, so a node costs 24 bytes on
 * x86-64, the same as the kernel's rb_node.
 *
 * Work: avl_insert()/avl_erase() return the number of nodes they touched while
 * rebalancing, so callers can count WU_TREE_NODE honestly: one per ancestor whose balance
 * is read on the way up, one per further node relinked by a rotation (a single rotation
 * relinks the ancestor and one child: +1; a double rotation two more: +2), and for an
 * erase of a node with two children one per node on the way down to its successor.
 */
#ifndef MEMSIM_MODELS_AVL_H
#define MEMSIM_MODELS_AVL_H

#include "env.h"

struct avl_node {
	struct avl_node *left, *right;
	uintptr_t parent_bal;   /* parent pointer | (balance + 1) */
};

struct avl_root {
	struct avl_node *node;
};

static inline struct avl_node *avl_parent(const struct avl_node *n)
{
	return (struct avl_node *)(n->parent_bal & ~(uintptr_t)3);
}

static inline int avl_balance(const struct avl_node *n)
{
	return (int)(n->parent_bal & 3) - 1;
}

/* Links n (fresh) as a leaf at *link under parent (NULL for the root), then rebalances.
 * Returns the nodes touched by rebalancing. */
uint64_t avl_insert(struct avl_root *root, struct avl_node *n, struct avl_node *parent,
		    struct avl_node **link);
/* Unlinks n and rebalances; n's fields are garbage afterwards.  Every other node keeps its
 * identity (nodes are relinked, never copied), so a saved pointer to another node, e.g. the
 * successor an iterator is about to visit, stays valid.  Returns the nodes touched. */
uint64_t avl_erase(struct avl_root *root, struct avl_node *n);

/* In-order traversal.  *steps (may be NULL) is increased by the nodes stepped through. */
struct avl_node *avl_first(const struct avl_root *root, uint64_t *steps);
struct avl_node *avl_next(const struct avl_node *n, uint64_t *steps);

/* Post-order: the first node whose children come before it; for freeing a whole tree. */
struct avl_node *avl_first_postorder(const struct avl_root *root);
struct avl_node *avl_next_postorder(const struct avl_node *n);

/* Ordering callback for avl_check: <0, 0, >0 as a < b, a == b, a > b. */
typedef int (*avl_cmp_fn)(const struct avl_node *a, const struct avl_node *b);

/*
 * Checks the whole tree: parent pointers agree with child pointers, every balance factor
 * equals the real height difference and lies in -1..+1, in-order keys strictly increase
 * (hence no duplicates), at most `limit` nodes (catches cycles).  On success stores the
 * node count and the height (0 for an empty tree).  0 or -EINVAL.
 */
int avl_check(const struct avl_root *root, avl_cmp_fn cmp, uint64_t limit,
	      uint64_t *count, uint64_t *height);

#endif /* MEMSIM_MODELS_AVL_H */
