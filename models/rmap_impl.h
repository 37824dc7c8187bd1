/* SPDX-License-Identifier: MIT */
/*
 * models/rmap_impl.h — internals shared by the rmap policies (rmap_*.c) and their unit test.
 * Nothing outside models/rmap*.c and tests/unit/test_rmap.c should include this.
 *
 * The list phase of `hash` and `hash-grow` is the `list` policy itself: the same entry (the
 * seed's gfn_info: a tuple and a list node), added at the head, searched from the head.
 */
#ifndef MEMSIM_MODELS_RMAP_IMPL_H
#define MEMSIM_MODELS_RMAP_IMPL_H

#include "avl.h"
#include "rmap.h"

/* One tuple on a list or a hash chain: the seed's gfn_info_t (32 bytes on x86-64). */
struct rmap_entry {
	struct env_list node;
	uint64_t gfn;
	uint32_t domain;
};

/*
 * Per-frame rmap layouts, one per policy.  They live here rather than in each policy file
 * only so that tests/unit/test_rmap.c can corrupt a structure on purpose and prove that
 * check() notices; no other code may look inside.
 */
struct list_rmap {                 /* policy list */
	struct env_list head;
	uint64_t count;
	uint32_t iterating;        /* iterations in flight (nothing to defer; for symmetry) */
	/* Simulation machinery, not modelled memory (bytes() stops before it): */
	struct list_index *index;  /* list_fast only; NULL: walk the list */
};
#define LIST_RMAP_BYTES offsetof(struct list_rmap, index)

/*
 * list_fast: an index that gives a tuple's position in the list without walking it.  The
 * list keeps new entries at the head and never reorders, so a tuple's position is one plus
 * the number of live tuples added after it: entries carry an add sequence number, a
 * Fenwick tree over sequence numbers counts the live ones, and an AVL tree by key finds
 * the entry.  Sequence numbers are compacted (renumbered in list order) when they run out.
 */
struct list_index {
	struct avl_root by_key;    /* fast_entry.by_key, ordered by (domain, gfn) */
	uint64_t *bit;             /* Fenwick tree over seq slots [0, cap): cap + 1 words */
	uint64_t cap;
	uint64_t next_seq;
};

struct fast_entry {                /* a list entry of a list_fast model */
	struct rmap_entry e;       /* what is modelled: 32 bytes, as the seed's gfn_info */
	struct avl_node by_key;
	uint64_t seq;
};

struct hash_rmap {                 /* policy hash */
	struct env_list list;      /* the tuples while a list; empty while hashed */
	struct env_list *buckets;  /* NULL while a list */
	uint64_t count;
	uint32_t iterating;        /* iterations in flight: conversions wait */
};

struct tree_node {                 /* policy tree: one per tuple */
	struct avl_node avl;
	uint64_t gfn;
	uint32_t domain;
};

struct tree_rmap {
	struct avl_root root;
	uint64_t count;
	uint32_t iterating;        /* nothing to defer (no conversions); for symmetry */
};

struct grow_rmap {                 /* policy hash-grow */
	struct env_list list;      /* the tuples while a list */
	struct env_list *tab[2];   /* [0] current (old while resizing), [1] new while resizing */
	uint64_t size[2];
	uint64_t used[2];          /* entries in each table */
	uint64_t migrate;          /* next old bucket to migrate (while resizing) */
	uint64_t count;
	uint32_t iterating;
};

/*
 * policy ksm-chain: Linux KSM's stable-node chain applied to the seed's rmap.  A frame's
 * tuples are spread over "dups" (copies of the page), each a seed list capped at
 * max_page_sharing tuples.  The frame's own page is the dup embedded in the head.
 */
struct ksm_dup {
	struct env_list chain;     /* in ksm_rmap.dups; the dup new tuples go to is kept first */
	struct env_list entries;   /* its tuples: a seed list, new entries at the head */
	uint64_t count;
};

struct ksm_entry {                 /* a tuple of a ksm-chain rmap */
	struct rmap_entry e;       /* what is modelled: 32 bytes, as the seed's gfn_info */
	/* Simulation machinery, not modelled memory: which dup holds the tuple, found by key.
	 * In the hypervisor the gfn's p2m entry names the dup's page, and the caller has read
	 * that entry already (WU_P2M_ENTRY), so the link costs no further work. */
	struct avl_node by_key;
	struct ksm_dup *dup;
};

struct ksm_rmap {
	struct ksm_dup first;      /* the frame's own page; lives as long as the rmap */
	struct env_list dups;      /* every dup, first included */
	uint64_t count;            /* tuples over all dups */
	uint64_t ndups;            /* dups in the chain, first included */
	uint64_t empty_waiting;    /* emptied dups whose free waits for the iteration to end */
	uint32_t iterating;
	/* Simulation machinery, not modelled memory (bytes() stops before it): */
	struct avl_root by_key;    /* ksm_entry.by_key, ordered by (domain, gfn) */
};
#define KSM_RMAP_BYTES offsetof(struct ksm_rmap, by_key)

static inline bool rmap_key_eq(struct rmap_key a, struct rmap_key b)
{
	return a.gfn == b.gfn && a.domain == b.domain;
}

/* Total order of the tree policy: domain first, then gfn.  <0, 0, >0. */
static inline int rmap_key_cmp(struct rmap_key a, struct rmap_key b)
{
	if (a.domain != b.domain)
		return a.domain < b.domain ? -1 : 1;
	if (a.gfn != b.gfn)
		return a.gfn < b.gfn ? -1 : 1;
	return 0;
}

static inline struct rmap_key rmap_entry_key(const struct rmap_entry *e)
{
	struct rmap_key k = { .gfn = e->gfn, .domain = e->domain };
	return k;
}

/* Bucket of k in a table of nbuckets chains, by p->hash_fn (enum rmap_hash_fn). */
uint64_t rmap_hash(const struct rmap_params *p, struct rmap_key k, uint64_t nbuckets);

/* Entry allocation: counts WU_ALLOC, or stats.alloc_failed and returns NULL. */
struct rmap_entry *rmap_entry_alloc(struct rmap_model *m, struct rmap_key k);
/* Counts WU_FREE. */
void rmap_entry_free(struct rmap_model *m, struct rmap_entry *e);

/* Searches one chain from its head; one WU_LIST_HOP per entry compared.  NULL if absent. */
struct rmap_entry *rmap_chain_find(struct rmap_model *m, struct env_list *head,
				   struct rmap_key k);
/*
 * Calls fn on every tuple of one chain, one WU_LIST_HOP each; `next` is read before the
 * callback, so it may remove the tuple it is given.  Stops at fn's first non-zero return.
 */
int rmap_chain_walk(struct rmap_model *m, struct env_list *head, rmap_iter_fn fn, void *arg);
/* Same search, counting nothing (duplicate checks of test builds, check()). */
struct rmap_entry *rmap_chain_find_quiet(const struct env_list *head, struct rmap_key k);

/* A bucket array of n empty chains: one WU_ALLOC and n WU_BUCKET_VISIT; NULL on failure
 * (nothing counted but the caller's failure statistic). */
struct env_list *rmap_buckets_alloc(struct rmap_model *m, uint64_t n);
void rmap_buckets_free(struct rmap_model *m, struct env_list *b, uint64_t n);
static inline uint64_t rmap_buckets_bytes(uint64_t n) { return n * sizeof(struct env_list); }

/*
 * Checks one chain: links consistent both ways, no more than `limit` entries (catches a
 * cycle that does not pass through the head).  Adds the entries seen to *count.
 * If nbuckets != 0, every entry must hash to bucket `index`.  0 or -EINVAL.
 */
int rmap_chain_check(const struct rmap_params *p, const struct env_list *head,
		     uint64_t nbuckets, uint64_t index, uint64_t limit, uint64_t *count);

/*
 * Byte accounting around an operation: rmap_op_begin() returns the rmap's bytes before the
 * operation; rmap_op_end() moves model->live_bytes by the difference and raises
 * work.footprint_bytes to the larger of the two sizes (the structure the operation walked).
 */
static inline uint64_t rmap_op_begin(struct rmap_model *m, const struct rmap *r)
{
	uint64_t b = m->policy->bytes(m, r);

	m->work.footprint_bytes = ENV_MAX(m->work.footprint_bytes, b);
	return b;
}

static inline void rmap_op_end(struct rmap_model *m, const struct rmap *r, uint64_t before)
{
	uint64_t after = m->policy->bytes(m, r);

	m->live_bytes = m->live_bytes - before + after;
	m->work.footprint_bytes = ENV_MAX(m->work.footprint_bytes, after);
}

#endif /* MEMSIM_MODELS_RMAP_IMPL_H */
