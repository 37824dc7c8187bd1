/* SPDX-License-Identifier: MIT */
/*
 * models/model.h — what every policy family shares: work units and named parameters.
 *
 * A model never measures time.  It performs its real data-structure operations and counts
 * integer work units (list hops, buckets visited, entries moved, ...).  The simulator turns
 * units into nanoseconds with a cost profile (sim/profile.c); the kernel module reports the
 * same counts next to measured time so calibration can fit ns-per-unit (hw-validate/).
 *
 * Unit names are part of the cost-profile file format and of the results database: append
 * new units at the end, never renumber or rename.
 */
#ifndef MEMSIM_MODELS_MODEL_H
#define MEMSIM_MODELS_MODEL_H

#include "env.h"

enum work_unit {
	WU_LIST_HOP,       /* one list node visited while searching or walking */
	WU_BUCKET_VISIT,   /* one hash bucket head touched */
	WU_TREE_NODE,      /* one tree node visited (search, insert, rebalance step) */
	WU_ENTRY_MOVE,     /* one entry moved between containers (list<->hash, resize) */
	WU_ALLOC,          /* one heap allocation performed (xmalloc/kmalloc) */
	WU_FREE,           /* one heap free */
	WU_P2M_ENTRY,      /* one p2m entry examined by a scan (relinquish) */
	WU_PAGE_PUT,       /* one page reference dropped (put_page / put_page_and_type) */
	WU_PREEMPT_CHECK,  /* one hypercall_preempt_check() */
	WU_PAGE_SCRUB,     /* one 4 KiB page cleared */
	WU_LOCK,           /* one lock acquire/release pair on a shared lock */
	WU_REFCOUNT,       /* one reference/type count update on a page */
	WU_PTE_TEST,       /* one parent PTE tested (accessed bit) */
	WU_SHADOW_ZAP,     /* one shadow page torn down */
	WU_SHADOW_BUILD,   /* one shadow page (re)built */
	WU_HYPERCALL,      /* one guest->hypervisor call (fixed entry/exit cost) */
	WU_HINT_PAGE,      /* one page carried by a hint */
	WU_PAGE_DROP,      /* one unused page discarded by host reclaim */
	WU_SWAP_IO,        /* one page written to or read from swap */
	WU__COUNT
};

/* Stable lower-case names, indexed by enum work_unit (defined in models/model.c). */
extern const char *const work_unit_names[WU__COUNT];

/*
 * Work counted by one operation.  `footprint_bytes` is the size of the structure the
 * operation walked, so a profile can price a hop differently when the structure fits in
 * cache and when it does not (DESIGN.md "where the data lives matters").
 */
struct work {
	uint64_t n[WU__COUNT];
	uint64_t footprint_bytes;
};

static inline void work_reset(struct work *w) { env_memset(w, 0, sizeof(*w)); }
/* Counts saturate at UINT64_MAX instead of wrapping: the simulator refuses to price a
 * saturated count (sim/sim.h, sim_work_ps), so an overflow is reported, never a small count. */
static inline uint64_t work_sat_add(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;

	return s | -(uint64_t)(s < a);   /* branch-free: all ones on a carry */
}
static inline void work_add(struct work *w, enum work_unit u, uint64_t k)
{
	w->n[u] = work_sat_add(w->n[u], k);
}
void work_accumulate(struct work *into, const struct work *from);

/*
 * The bytes a model instance holds, kept by mem_zalloc()/mem_free() so every model reports
 * its live and peak memory the same way.
 */
struct mem_account {
	uint64_t live_bytes;
	uint64_t peak_bytes;
	uint64_t failed;          /* allocations refused (NULL returned) */
};

void *mem_zalloc(struct mem_account *a, size_t size);   /* zeroed; NULL on failure */
void mem_free(struct mem_account *a, void *p, size_t size);  /* p may be NULL */

/*
 * A named integer parameter of a model or policy, settable with --set name=value.
 * Values are plain integers (counts, sizes, nanoseconds): models hold no floating point.
 */
struct model_param {
	const char *name;
	uint64_t def;
	uint64_t min;
	uint64_t max;
	const char *doc;   /* one line, with the unit */
};

#endif /* MEMSIM_MODELS_MODEL_H */
