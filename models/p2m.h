/* SPDX-License-Identifier: MIT */
/*
 * models/p2m.h — one domain's physical-to-machine map: gfn -> entry.
 *
 * Shape: a radix tree of 512-slot nodes, 9 bits of gfn per level, like an x86 page table.
 * The bottom level is a leaf of 512 entries; every node and leaf is exactly one 4 KiB page
 * (no header: kmalloc(4096) in the kernel module is one page, not an 8 KiB slab).  The height grows on demand: height h covers gfns [0, 2^(9h)), so 4 levels cover
 * 2^36 gfns (a 256 TiB guest), 5 levels 2^45; the limit is P2M_MAX_HEIGHT = 6 levels,
 * gfn < 2^54 (x86-64 itself stops at 52-bit physical addresses, gfn < 2^40).
 *
 * Entry: 64 bits, the type in the low 2 bits and the frame id above them (frame < 2^62).
 * Entry 0 is INVALID, so a freshly zeroed leaf is 512 invalid entries.  The frame id means
 * something only for SHARED entries (the shared frame); private pages are not modelled as
 * frames, so a PRIVATE entry carries frame 0.
 *
 * Invariants (p2m_check):
 *   - `nodes`/`leaves` count what the tree holds; `nshared`/`nprivate` count its entries of
 *     that type; no entry has the unused type 3, no PRIVATE entry a frame;
 *   - `max_mapped` is >= every gfn holding a non-INVALID entry (it never decreases: like
 *     Xen's max_mapped_pfn it is the highest gfn ever mapped, not the highest mapped now);
 *   - nodes are never freed before p2m_destroy (a real p2m keeps its tables until teardown),
 *     so a leaf pointer stays valid while entries change.
 *
 * Memory: a leaf is 4096 bytes for 512 entries (8 bytes per gfn when dense); interior
 * nodes add 1/512 of that per level.  Sparse maps pay up to one leaf per isolated gfn.
 *
 * Work units (into the struct work passed in, which may be NULL): WU_ALLOC per node
 * allocated, WU_FREE per node freed.  Lookups count nothing here: the relinquish scan counts
 * WU_P2M_ENTRY per gfn it examines (models/sharing.c).
 */
#ifndef MEMSIM_MODELS_P2M_H
#define MEMSIM_MODELS_P2M_H

#include "model.h"

#define P2M_BITS 9
#define P2M_ENTRIES (1u << P2M_BITS)           /* slots per node, entries per leaf */
#define P2M_MAX_HEIGHT 6
#define P2M_GFN_LIMIT (1ULL << (P2M_BITS * P2M_MAX_HEIGHT))  /* gfns are below this */
#define P2M_FRAME_LIMIT (1ULL << 62)           /* frame ids are below this */

enum p2m_type {
	P2M_INVALID = 0,
	P2M_PRIVATE = 1,
	P2M_SHARED = 2,
};

/* Type masks for p2m_next(). */
#define P2M_MASK_PRIVATE (1u << P2M_PRIVATE)
#define P2M_MASK_SHARED (1u << P2M_SHARED)

typedef uint64_t p2m_entry_t;

static inline p2m_entry_t p2m_mk(enum p2m_type t, uint64_t frame)
{
	return (frame << 2) | (uint64_t)t;
}
static inline enum p2m_type p2m_type_of(p2m_entry_t e) { return (enum p2m_type)(e & 3); }
static inline uint64_t p2m_frame_of(p2m_entry_t e) { return e >> 2; }

struct p2m_leaf {
	p2m_entry_t e[P2M_ENTRIES];
};

struct p2m_node {
	void *slot[P2M_ENTRIES];  /* struct p2m_node * above level 2, struct p2m_leaf * at 2 */
};

struct p2m {
	void *root;            /* a leaf when height == 1, else a node; NULL when empty */
	unsigned height;       /* levels, leaf level included; 0 when empty */
	bool mapped;           /* some gfn was ever mapped: max_mapped is meaningful */
	uint64_t max_mapped;   /* highest gfn ever given a non-INVALID entry */
	uint64_t nodes;        /* interior nodes allocated */
	uint64_t leaves;       /* leaves allocated */
	uint64_t nshared;      /* SHARED entries */
	uint64_t nprivate;     /* PRIVATE entries */
};

void p2m_init(struct p2m *p);
/* Frees every node (WU_FREE each); the p2m is empty afterwards. */
void p2m_destroy(struct p2m *p, struct work *w);

/* The entry of gfn; P2M_INVALID for a gfn under an absent leaf or beyond the limit. */
p2m_entry_t p2m_get(const struct p2m *p, uint64_t gfn);

/*
 * Makes sure the leaf holding gfn exists, so a following p2m_set() of that gfn cannot fail.
 * All nodes needed are allocated before any is linked: on -ENOMEM the tree is exactly as
 * before.  0, -ERANGE (gfn >= P2M_GFN_LIMIT), -ENOMEM.
 */
int p2m_reserve(struct p2m *p, uint64_t gfn, struct work *w);

/* Stores e at gfn (reserving its leaf first).  Storing INVALID under an absent leaf
 * allocates nothing.  0, -ERANGE (gfn or frame out of range, bad type), -ENOMEM. */
int p2m_set(struct p2m *p, uint64_t gfn, p2m_entry_t e, struct work *w);

/* The leaf holding gfn, or NULL if it is absent. */
struct p2m_leaf *p2m_leaf_at(const struct p2m *p, uint64_t gfn);

/* Stores e in slot idx of leaf l (which belongs to p and covers gfn), keeping the counters;
 * for loops that already hold the leaf.  The entry's type and frame must be valid. */
void p2m_leaf_store(struct p2m *p, struct p2m_leaf *l, unsigned idx, uint64_t gfn,
		    p2m_entry_t e);

/* First gfn of the first present leaf that covers some gfn >= from (the leaf holding
 * `from` itself if present); P2M_GFN_LIMIT if there is none. */
uint64_t p2m_next_leaf(const struct p2m *p, uint64_t from);

/*
 * Ordered iteration from a cursor: the first gfn >= from whose entry's type is in `mask`
 * (P2M_MASK_*).  Absent subtrees are skipped without looking at their slots.  true and
 * *gfn, *e set; false if there is none.
 */
bool p2m_next(const struct p2m *p, uint64_t from, unsigned mask, uint64_t *gfn,
	      p2m_entry_t *e);

/* Bytes held by the tree's nodes and leaves. */
uint64_t p2m_bytes(const struct p2m *p);

/* Every invariant above, walking the whole tree; 0 or -EINVAL.  Tests only. */
int p2m_check(const struct p2m *p);

#endif /* MEMSIM_MODELS_P2M_H */
