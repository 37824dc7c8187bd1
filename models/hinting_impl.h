/* SPDX-License-Identifier: MIT */
/*
 * models/hinting_impl.h — internals shared by the hinting model's files: models/hinting.c
 * (host mechanism, guest requests, the policy table, check), models/hinting_batched.c (the
 * batched and lazy-unused policies) and models/hinting_volatile.c (the volatile page-cache
 * policies).  Nothing else includes this.
 */
#ifndef MEMSIM_MODELS_HINTING_IMPL_H
#define MEMSIM_MODELS_HINTING_IMPL_H

#include "hinting.h"

#define CH_SHIFT 12
#define CH_PAGES (1u << CH_SHIFT)
#define CH_MASK (CH_PAGES - 1)

#define S_RES 3u
#define S_USED (1u << 2)
#define S_UNUSED (1u << 3)
#define S_PCP (1u << 4)
#define S_PEND (1u << 5)
#define S_REF (1u << 6)
#define S_VOL (1u << 7)           /* host: volatile (a page-cache page it may discard) */
#define S_AUX_SHIFT 8
#define S_FLAGS ((1u << S_AUX_SHIFT) - 1)
/* Guest page-cache facts, in the aux bits of a page the guest holds (USED pages are never PCP). */
#define S_CACHE (1u << 8)         /* in the guest's page cache: its content can be read again */
#define S_DIRTY (1u << 9)         /* written since it was read: only the guest has the content */
#define S_PIN (1u << 10)          /* in use by the guest right now (a reference held) */
#define S_CACHE_BITS (S_CACHE | S_DIRTY | S_PIN)

#define NIL 0xffffffffu
#define LZ_EMPTY (~0ULL)

struct hg_chunk {
	uint32_t resident;        /* RESIDENT pages in this chunk (reclaim skips empty ones) */
	uint32_t st[CH_PAGES];
};

/* A free block on a per-CPU list; nodes live in the CPU's pool of pcp_high + 1. */
struct pcp_node {
	uint64_t gfn;
	uint32_t prev, next;      /* pool indices; NIL ends */
	uint32_t order;
	uint32_t pad;
};

struct pcp_cpu {
	uint32_t head, tail;      /* head: hottest (last freed); tail: coldest */
	uint32_t count;           /* blocks on the list */
	uint32_t free_node;       /* pool free list */
	uint64_t credit;          /* buddy allocations the last refill vector still covers */
	struct pcp_node *nodes;   /* NULL for lazy (credits only) */
};

struct hinting_guest {
	uint32_t id;
	struct hg_chunk **dir;    /* indexed by gfn >> CH_SHIFT */
	uint64_t ndir;
	struct pcp_cpu **cpus;
	uint32_t ncpus;
	uint64_t *lz;             /* lazy set: open addressing, linear probing, keys = gfns */
	uint64_t lz_mask, lz_count;
	bool lz_failed;           /* the set could not be allocated: per-page hints */
};


static inline uint32_t res_of(uint32_t s) { return s & S_RES; }

/* A page the guest has freed and the host backs or once backed (not NONE). */
static inline bool is_free(uint32_t s)
{
	return !(s & S_USED) && res_of(s) != HRES_NONE;
}

static inline uint32_t with_res(uint32_t s, enum hinting_res r) { return (s & ~S_RES) | r; }

static inline struct hg_chunk *chunk_of(const struct hinting_guest *g, uint64_t gfn)
{
	uint64_t ci = gfn >> CH_SHIFT;

	return ci < g->ndir ? g->dir[ci] : NULL;
}

static inline uint32_t *hg_state(const struct hinting_guest *g, uint64_t gfn)
{
	return &chunk_of(g, gfn)->st[gfn & CH_MASK];
}

enum touch_kind { T_ALLOC, T_ACCESS };
enum hint_kind { H_UNUSED, H_STABLE, H_VOLATILE };

/* hinting.c: every state change goes through hg_pg_set (it keeps the counters exact). */
void hg_pg_set(struct hinting_model *m, struct hg_chunk *c, uint32_t i, uint32_t nv);
struct hinting_guest *hg_find_guest(const struct hinting_model *m, uint32_t id, uint32_t *pos);
void hg_host_touch(struct hinting_model *m, struct hg_chunk *c, uint32_t i, enum touch_kind k);
void hg_reclaim(struct hinting_model *m);
/* One hint call's fixed cost (by hint_mech) and its count, by kind. */
void hg_call(struct hinting_model *m, enum hint_kind kind);
void hg_hcall(struct hinting_model *m, bool unused);
/* One page carried by a call (by hint_mech: a vector entry's page, or one ESSA). */
void hg_hint_page_cost(struct hinting_model *m, uint64_t n);
void hg_hint_block(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn,
		   unsigned order, bool unused);
void hg_direct_hint(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn,
		    unsigned order, bool unused);
bool hg_block_has(const struct hinting_guest *g, uint64_t gfn, unsigned order, uint32_t flag);
void hg_refill_stable(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
		      uint64_t gfn, unsigned order);
int hg_lz_make(struct hinting_model *m, struct hinting_guest *g);
void hg_lz_insert(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn);
void hg_lz_remove(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn);
uint64_t hg_lz_home(const struct hinting_guest *g, uint64_t gfn);   /* its first probe slot */

/* Model memory, counted against the model's budget; a failed allocation is counted. */
void *hg_zalloc(struct hinting_model *m, size_t size);
void hg_zfree(struct hinting_model *m, void *p, size_t size);
/* The per-CPU lists (hinting_batched.c): nodes per CPU, and freeing one CPU's state. */
uint32_t hg_pool_size(const struct hinting_model *m);
void hg_cpu_free(struct hinting_model *m, struct pcp_cpu *pc);

#endif /* MEMSIM_MODELS_HINTING_IMPL_H */
