/* SPDX-License-Identifier: MIT */
/*
 * models/rmap.h — reverse map of a shared frame: the <domain, gfn> tuples it backs.
 *
 * Mechanism (seed 000, patches 2-3): every shared frame keeps an rmap.  Sharing adds a
 * tuple, unsharing (copy-on-write break, domain destroy) retrieves and removes one, audit
 * and frame merging iterate, and the frame's type count is the rmap's count.
 *
 * One ops struct, several policies (one file each):
 *   list       rmap_list.c       doubly linked, new entries at the head, O(n) retrieve
 *   hash       rmap_hash.c       a list until count reaches `heavy`, then `buckets` hash chains;
 *                                back to a list when count falls to `light` (hysteresis)
 *   tree       rmap_tree.c       balanced tree keyed by (domain, gfn), no list phase
 *   hash-grow  rmap_hash_grow.c  hash whose bucket array doubles in bounded incremental
 *                                steps (Redis dict.c style), so chains stay short at any n
 *   ksm-chain  rmap_ksm_chain.c  Linux KSM's answer: at most max_page_sharing tuples per copy
 *                                of the page ("dup"), further tuples on a new dup
 *
 * Work units counted into model->work (see models/model.h): WU_LIST_HOP per chain/list node
 * compared, WU_BUCKET_VISIT per bucket head touched, WU_TREE_NODE per tree node visited,
 * WU_ENTRY_MOVE per entry moved by a conversion/resize step, WU_ALLOC/WU_FREE per heap
 * allocation/free.  work.footprint_bytes is set to the frame's rmap bytes at each operation.
 */
#ifndef MEMSIM_MODELS_RMAP_H
#define MEMSIM_MODELS_RMAP_H

#include "model.h"

struct rmap_key {
	uint64_t gfn;
	uint32_t domain;
};

/* Tunables.  Seed values: buckets 256 (one 4 KiB page of list heads), heavy 256,
 * light heavy/4 = 64, hash (gfn + domain) mod buckets. */
enum rmap_hash_fn {
	RMAP_HASH_SEED = 0,   /* (gfn + domain) % buckets, as in the seed */
	RMAP_HASH_MIX = 1,    /* env_mix64(gfn ^ domain << 48) % buckets */
};

struct rmap_params {
	uint64_t heavy;          /* list -> hash when count reaches this (entries) */
	uint64_t light;          /* hash -> list when count falls to this (entries) */
	uint64_t buckets;        /* bucket count of the hash policy (and initial for hash-grow) */
	uint64_t hash_fn;        /* enum rmap_hash_fn */
	uint64_t grow_load;      /* hash-grow: grow when count > grow_load * buckets */
	uint64_t grow_step;      /* hash-grow: buckets migrated per operation while growing */
	uint64_t list_fast;      /* list: 1 = count hops from an order index instead of walking
				  * (identical counts, for huge simulated lists; not for timing) */
	uint64_t max_page_sharing; /* ksm-chain: tuples per dup (Linux default 256) */
};

/* Named parameters for the CLI, in struct rmap_params field order. */
extern const struct model_param rmap_param_table[];
#define RMAP_NPARAMS 8

struct rmap_stats {
	uint64_t to_hash;        /* list -> hash conversions */
	uint64_t to_list;        /* hash -> list conversions */
	uint64_t conv_failed;    /* conversions abandoned for lack of memory (frame stayed a list) */
	uint64_t conv_deferred;  /* conversions (and hash-grow resize starts) skipped: iterator
				  * in flight or RMAP_NO_CONVERT; retried by a later operation */
	uint64_t resize_steps;   /* hash-grow incremental migration steps */
	uint64_t alloc_failed;   /* entry allocations that failed (-ENOMEM to the caller) */
	uint64_t resizes;        /* hash-grow: bucket-array resizes started (grow or shrink) */
	uint64_t resize_failed;  /* hash-grow: resizes abandoned for lack of memory (kept the
				  * current array) */
	uint64_t index_failed;   /* list_fast: order index lost for lack of memory (that rmap
				  * walks its list from then on: same counts, slower) */
	uint64_t dups_created;   /* ksm-chain: dups (page copies) allocated beyond the frame's own
				  * (a dup that cannot be allocated counts in conv_failed: the tuple
				  * joins a full dup, over the cap) */
};

struct rmap;   /* one per shared frame; layout private to the policy */

/* A model instance: one per run (or per kernel-module request). */
struct rmap_model {
	const struct rmap_policy *policy;
	struct rmap_params p;
	struct rmap_stats stats;
	struct work work;        /* accumulates; the caller reads and resets it per operation */
	uint64_t live_bytes;     /* bytes held by all rmaps of this model (entries + buckets + heads) */
	uint64_t live_entries;
	uint64_t live_dup_pages; /* ksm-chain: dup pages alive beyond each frame's own (4 KiB of
				  * guest memory each, not in live_bytes) */
	bool check_dups;         /* tests: add() looks for the tuple first (uncounted work) and
				  * returns -EEXIST; off by default, as in the hypervisor */
};

/* Flags for remove(). */
#define RMAP_NO_CONVERT 0x1  /* do not convert hash->list: the frame is about to be freed
			      * or the caller is moving entries between frames */

/* Iteration callback: return 0 to continue, non-zero to stop (returned by iterate()). */
typedef int (*rmap_iter_fn)(void *arg, struct rmap_key key);

struct rmap_policy {
	const char *name;
	const char *doc;
	/* New empty rmap for a frame; NULL on allocation failure. */
	struct rmap *(*create)(struct rmap_model *m);
	/* Frees the rmap and every entry still in it. */
	void (*destroy)(struct rmap_model *m, struct rmap *r);
	/* Adds a tuple; 0, or -ENOMEM (nothing changed), -EEXIST if present (checked only
	 * by rmap_check-enabled test builds; the hypervisor never adds a duplicate). */
	int (*add)(struct rmap_model *m, struct rmap *r, struct rmap_key k);
	/* Retrieves and removes a tuple (the unshare path); 0 or -ENOENT. */
	int (*remove)(struct rmap_model *m, struct rmap *r, struct rmap_key k, unsigned flags);
	/* Retrieve only: 1 if present, 0 if not. */
	int (*contains)(struct rmap_model *m, struct rmap *r, struct rmap_key k);
	uint64_t (*count)(const struct rmap *r);
	/* Visits every tuple; no conversion may happen while an iteration is in flight (it is
	 * deferred and counted in stats.conv_deferred).  The callback may remove the tuple it
	 * is given (the seed's merge of two frames) and may add tuples (which may or may not be
	 * visited); it must not remove any other tuple of this rmap. */
	int (*iterate)(struct rmap_model *m, struct rmap *r, rmap_iter_fn fn, void *arg);
	/* Bytes this rmap holds (entries + buckets + head). */
	uint64_t (*bytes)(const struct rmap_model *m, const struct rmap *r);
	/* Checks every invariant of the structure; 0 or -EINVAL (first broken invariant). */
	int (*check)(const struct rmap_model *m, const struct rmap *r);
};

extern const struct rmap_policy rmap_list_policy;
extern const struct rmap_policy rmap_hash_policy;
extern const struct rmap_policy rmap_tree_policy;
extern const struct rmap_policy rmap_hash_grow_policy;
extern const struct rmap_policy rmap_ksm_chain_policy;

/* NULL-terminated registry, and lookup by name (NULL if unknown). */
extern const struct rmap_policy *const rmap_policies[];
const struct rmap_policy *rmap_policy_find(const char *name);

/* Fills p with the seed defaults. */
void rmap_params_default(struct rmap_params *p);
/* 0, or -EINVAL if the parameters are inconsistent (light >= heavy, buckets 0, ...). */
int rmap_params_validate(const struct rmap_params *p);
void rmap_model_init(struct rmap_model *m, const struct rmap_policy *pol,
		     const struct rmap_params *p);

/* Whole-structure check used by every test: policy check + count/bytes consistency. */
int rmap_check(const struct rmap_model *m, const struct rmap *r);

#endif /* MEMSIM_MODELS_RMAP_H */
