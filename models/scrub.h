/* SPDX-License-Identifier: MIT */
/*
 * models/scrub.h — who clears the memory of a dying domain, and when (seed 001).
 *
 * Xen scrubs (zeroes) every page a dying domain frees before another domain may get it.  The
 * seed measured `xl destroy` of a 30 GB guest at 16.0 s with the scrub done inside the free
 * (sync) and 3.58 s with the pages queued for a tasklet (deferred).  This model
 * holds the host's memory as integer state and counts the work of each policy; the simulator
 * (sim/drv_scrub.c) owns time, pCPUs, the lock and the tasklets.
 *
 * Page states (every host page is in exactly one):
 *
 *   CLEAN  --scrub_alloc-->  OWNED  --scrub_relinquish (dying domain)-->  CLEAN   (sync)
 *                                                                    \-> DIRTY   (others)
 *   DIRTY  --scrub_take-->  IN FLIGHT  --scrub_finish-->  CLEAN
 *   DIRTY  --scrub_alloc (on-alloc only: scrubbed by the allocation)-->  OWNED
 *
 * Every set of pages is held as runs of consecutive machine frames, never per page, so
 * memory follows the number of runs: a 1 TB guest built from contiguous memory is one run.
 *   clean   the heap's free clean pages: runs ordered by address in a tree, a freed run
 *           merging with its neighbours (free_heap_pages merges buddies); allocation takes
 *           the lowest pages first
 *   dirty   the scrub list (deferred, idle) or the heap's dirty pages (on-alloc): a FIFO,
 *           pages enter at the tail (merging with the tail run when contiguous), leave from
 *           the head
 *   a domain's pages, a FIFO in allocation order: relinquish_memory() takes from the head
 * A scrubber's batch is one contiguous run: at most `batch` pages from the head run.
 *
 * Invariants (scrub_check): each set's page count is the sum of its runs; two neighbouring
 * runs are never contiguous (they would have merged); the clean runs are ordered and do not
 * overlap; clean + dirty + in flight + owned = host pages; a dead domain owns nothing.  tests/unit/test_scrub.c replays random
 * operations against a per-page model and finds the same pages in the same order and the
 * same work.
 */
#ifndef MEMSIM_MODELS_SCRUB_H
#define MEMSIM_MODELS_SCRUB_H

#include "model.h"

/* A run of consecutive machine frames [start, start + len). */
struct scrub_extent {
	uint64_t start, len;
};

/* A FIFO of runs in a ring buffer whose size follows the number of runs (at most 8x). */
struct scrub_xq {
	struct scrub_extent *v;
	uint32_t cap;        /* a power of two, or 0 */
	uint32_t head, n;    /* first run, number of runs */
	uint32_t reserved;   /* slots promised to pushes that cannot fail (scrub_take) */
	uint64_t pages;      /* sum of the runs' lengths */
};

struct scrub_params {
	uint64_t batch;       /* pages a scrubber detaches per lock hold (one contiguous run) */
	uint64_t kick_pages;  /* backlog at which the free path wakes the scrubbers */
};

extern const struct model_param scrub_param_table[];
#define SCRUB_NPARAMS 2

/* A policy is data: what the free path does and who may scrub. */
struct scrub_policy {
	const char *name;
	const char *doc;
	bool defer;        /* a dying domain's freed page goes to `dirty` instead of being
			    * scrubbed inside the free (false: sync) */
	bool alloc_dirty;  /* an allocation may take dirty pages, scrubbing each itself */
	bool all_cpus;     /* scrubbers are tasklets on every online pCPU, taking time from
			    * whatever runs there; false: only pCPUs with nothing else to run */
	bool one_tasklet;  /* one static tasklet that never returns: it busy-polls the list and
			    * takes one page per lock hold; the free path wakes nobody */
};

extern const struct scrub_policy *const scrub_policies[];   /* NULL-terminated */
const struct scrub_policy *scrub_policy_find(const char *name);
void scrub_params_default(struct scrub_params *p);
int scrub_params_validate(const struct scrub_params *p);

struct scrub_stats {
	uint64_t host_pages;
	uint64_t pages_allocated;
	uint64_t pages_freed;         /* relinquished by dying domains */
	uint64_t scrubbed_free;       /* scrubbed inside the free (sync, or fallback) */
	uint64_t scrubbed_batch;      /* scrubbed by scrubbers (scrub_finish) */
	uint64_t scrubbed_alloc;      /* scrubbed by an allocation (on-alloc) */
	uint64_t batches;             /* scrub_take that detached pages */
	uint64_t empty_takes;         /* scrub_take that found the list empty under the lock */
	uint64_t kicks;               /* times the free path asked for scrubbers */
	uint64_t sync_fallbacks;      /* deferred pages scrubbed in the free for lack of memory
				       * to extend the dirty queue */
	uint64_t enomem;              /* operations refused for lack of memory */
	uint64_t dirty_peak;          /* largest backlog (dirty pages) */
	uint64_t runs_peak;           /* most runs held at once, all queues together */
	uint64_t bytes_peak;          /* most bytes held at once (scrub_model_bytes) */
	uint64_t domain_lookups;      /* domains looked up by id (hashed) */
	uint64_t domain_probes;       /* domains examined by those lookups */
	uint64_t dhash_grow_failures; /* the domain hash could not grow (kept, chains longer) */
};

/* Largest page order an allocation record may ask for: 20 (4 GiB), the largest buddy of
 * Xen's heap (MAX_ORDER).  The driver refuses larger ones as bad input. */
#define SCRUB_MAX_ORDER 20u

struct scrub_model;

/* NULL on allocation failure, if pol is NULL, or if the parameters do not validate. */
struct scrub_model *scrub_model_create(const struct scrub_policy *pol,
				       const struct scrub_params *p);
void scrub_model_destroy(struct scrub_model *m);
const struct scrub_stats *scrub_stats(const struct scrub_model *m);
/* Work counted since the caller last reset it (work_reset). */
struct work *scrub_work(struct scrub_model *m);

/* Adds `pages` never-used (clean) frames above the highest so far.  0 or -ENOMEM. */
int scrub_host_grow(struct scrub_model *m, uint64_t pages);

/* 0, -EEXIST (also while a domain of that id is still dying), -ENOMEM */
int scrub_domain_create(struct scrub_model *m, uint32_t id);
/* Pages the domain owns; 0 for an unknown domain. */
uint64_t scrub_domain_pages(const struct scrub_model *m, uint32_t id);
/*
 * Gives the domain `pages` pages: clean ones first (oldest first), then, with alloc_dirty,
 * dirty ones from the head of the dirty queue, each scrubbed here (*dirty_taken says how many;
 * may be NULL).  All or nothing: -EAGAIN if fewer pages are allocatable, -ENOENT no domain,
 * -EBUSY the domain is dying, -ENOMEM (nothing changed).  Taking clean pages counts no work
 * (building a domain is not what is modelled); dirty pages count one lock and a scrub each.
 */
int scrub_alloc(struct scrub_model *m, uint32_t id, uint64_t pages, uint64_t *dirty_taken);
/* Pages an allocation could take now: clean, plus dirty with alloc_dirty. */
uint64_t scrub_allocatable(const struct scrub_model *m);

/* Marks the domain dying: it takes no more memory.  0, -ENOENT, -EBUSY (already dying). */
int scrub_destroy_begin(struct scrub_model *m, uint32_t id);
/*
 * relinquish_memory() of a dying domain, up to `max` pages from the head of its page list,
 * each freed as the policy says.  With `defer`, the free path stops after the page that
 * brings the dirty backlog to exactly kick_pages (one_tasklet: to 1, the page a polling
 * tasklet sees) and sets *kick: the caller wakes the scrubbers then.  *freed: pages released by this call.  Returns 0 when the domain owns
 * nothing any more (it is gone), -EAGAIN if pages remain, -ENOENT no domain, -EINVAL not
 * dying, -ENOMEM (stopped early: no memory to extend a queue; *freed says how far it got).
 */
int scrub_relinquish(struct scrub_model *m, uint32_t id, uint64_t max, uint64_t *freed,
		     bool *kick);
/* Work of relinquishing one page: before the free takes the lock that guards the dirty
 * pages (`pre`) and while holding it (`locked`; empty for sync, which holds no such lock).
 * scrub_relinquish counts exactly this per page unless it falls back for lack of memory. */
void scrub_page_work(const struct scrub_model *m, struct work *pre, struct work *locked);

/* A scrubber's detached run. */
struct scrub_batch {
	uint64_t start, len;
};
/*
 * Under the lock: detaches at most `batch` pages (one_tasklet: 1), one run from the head of the dirty queue.
 * Counts the lock and one entry move per page.  0 with b->len > 0; -ENOENT if the queue is
 * empty (the lock was taken for nothing: counted); -ENOMEM (nothing taken).
 */
int scrub_take(struct scrub_model *m, struct scrub_batch *b);
/* Scrubs the batch and returns it to the clean pages (one heap lock, a scrub and a free per
 * page).  Cannot fail: scrub_take reserved the slot. */
void scrub_finish(struct scrub_model *m, struct scrub_batch *b);
/* The work scrub_finish will count for a batch of len pages (to price it in advance). */
void scrub_finish_work(const struct scrub_model *m, uint64_t len, struct work *w);

uint64_t scrub_backlog(const struct scrub_model *m);    /* dirty pages (queued) */
uint64_t scrub_inflight(const struct scrub_model *m);   /* detached, being scrubbed */
uint64_t scrub_dying_pages(const struct scrub_model *m); /* owned by dying domains */
uint64_t scrub_clean_pages(const struct scrub_model *m);
uint64_t scrub_clean_runs(const struct scrub_model *m);
/* Bytes the model holds (queues' ring buffers, domains). */
uint64_t scrub_model_bytes(const struct scrub_model *m);
/* Runs held by all queues together. */
uint64_t scrub_model_runs(const struct scrub_model *m);
/* Calls fn for each run of a domain's page list in order (tests); -ENOENT no domain. */
int scrub_domain_runs(const struct scrub_model *m, uint32_t id,
		      void (*fn)(void *arg, uint64_t start, uint64_t len), void *arg);
/* Same for the clean set (which = 0, by address) and the dirty queue (which = 1, in order). */
void scrub_queue_runs(const struct scrub_model *m, int which,
		      void (*fn)(void *arg, uint64_t start, uint64_t len), void *arg);
/* The invariants above; 0 or -EINVAL.  O(runs). */
int scrub_check(const struct scrub_model *m);

#endif
