/* SPDX-License-Identifier: MIT */
/*
 * models/hinting.h — guest page hinting (seed 004): the guest tells the host which of its
 * pages are unused (freed) and which are stable again (allocated); when host memory runs
 * short, the host drops unused pages (a later touch gets a zero page) instead of writing them
 * to swap, and swaps stable pages out.
 *
 * Guest side: the policy (ops struct below) decides when and how hints reach the host.
 *   none      no hints: every resident page is stable to the host; freed pages get swapped.
 *   per-page  the seed's patch: one hint hypercall on every free (unused) and every
 *             allocation (stable), carrying that one (gfn, order) block.
 *   batched   the reviewer's proposal: freed blocks (order <= pcp_max_order) go on the vCPU's
 *             per-CPU free list and stay stable; when the list holds more than pcp_high blocks
 *             its hint_batch coldest blocks spill to the buddy allocator and are hinted unused
 *             in one vector hypercall.  An allocation served from the per-CPU list needs no
 *             hint; one served from the buddy allocator draws on a per-CPU refill: the first
 *             such allocation issues one stable vector call that covers it and the next
 *             hint_batch - 1 buddy allocations on that vCPU (Linux moves a batch of pages to
 *             the per-CPU list in one go; which ones the trace reveals as they are allocated).
 *             Larger blocks go straight to the buddy allocator: one call per free / alloc.
 *   lazy-unused  the seed's "order of 1K pages" pending set applied to unused hints (a hash
 *             keyed by gfn, one per guest): freed pages are added, not hinted; when the set
 *             holds lazy_pages pages it is committed in one vector call; an allocation of a page still pending
 *             removes it from the set and needs no hint (the host never heard it was
 *             unused).  Other allocations use batched's refill vectors.  (In the seed the 1K
 *             array is Martin Schwidefsky's lazy make-volatile, below; this is the same idea
 *             applied to free pages.)
 *   volatile  page-cache pages (models/hinting_volatile.c): a clean page-cache page the
 *             guest holds and is not using is made volatile, one hint per page as it
 *             becomes so; the host may discard a resident volatile page instead of swapping
 *             it; before the guest uses or writes the page it makes it stable again (one
 *             call), and if the host discarded it that is a discard fault: the guest reads
 *             the page again from its file.  A volatile page the guest frees is, for the
 *             host, a page it may discard, like an unused one; its next allocation makes it
 *             stable (one call).
 *   volatile-lazy  Martin's lazy make-volatile: pages to be made volatile wait in a pending
 *             array (the lazy set's hash, lazy_pages of them) and are made volatile in one
 *             call when it is full; the call checks each page's flags first (still in the
 *             page cache, clean, not in use) and skips those that are not.  A page freed
 *             while pending leaves the array (the seed's rule); one used or written while
 *             pending stays in it and needs no call (the host never heard it was volatile).
 *             Stable hints for reallocated discardable pages go through refill vectors.
 *
 * Host side (the mechanism, shared by every policy):
 *   - each guest page is NONE (never backed: pages the trace has not shown), RESIDENT,
 *     SWAPPED or DROPPED;  RESIDENT pages count against host_mem_pages;
 *   - a guest touch (an allocation writes its pages; a fault or write record) of a DROPPED or
 *     NONE page backs it with a zeroed frame (WU_PAGE_SCRUB; for DROPPED a cheap fault,
 *     faults_on_dropped); of a SWAPPED page reads it back (WU_SWAP_IO);
 *   - an unused hint on a SWAPPED page frees its swap slot: the page becomes DROPPED with no
 *     I/O (swap_discards);
 *   - whenever a touch or adoption makes RESIDENT exceed host_mem_pages, reclaim runs inline
 *     (direct reclaim in the faulting context) until RESIDENT <= host_mem_pages -
 *     reclaim_batch: a clock hand walks the guests' page arrays in (domain, gfn) order; an
 *     unused page is dropped at once (WU_PAGE_DROP); a stable page with its referenced bit
 *     set gets a second chance (the bit is cleared), otherwise it is swapped out
 *     (WU_SWAP_IO).  WU_P2M_ENTRY per page examined.
 *   - at each reclaim the model samples coverage: of the guest's free pages (those the host
 *     backs or once backed: RESIDENT, SWAPPED or DROPPED), how many the host knew as unused
 *     (UNUSED: resident or already dropped).  One page per outstanding refill credit is
 *     counted as not covered: the real refill made that many free blocks stable ahead of
 *     their allocation, which ones the trace shows only later.
 *
 * Pages not seen yet (NONE) are outside the model: a first allocation is a zero-filled first
 * touch; a first free means the page was in use before the trace began, so it is adopted as
 * resident and in use (adopted_pages).  Touches apply to pages the guest holds; a touch of a
 * free or unseen page changes nothing (counted): in a recorded trace it is a fault the
 * recorder attributed to the page the fault then allocates (docs/recording.md).  A free of a
 * page already free means the guest re-allocated it where the trace could not see (Linux's
 * bulk allocator): the model performs that allocation first (double_frees).
 *
 * Page state (uint32 per page, in 4096-page chunks allocated on first sight behind a
 * directory that doubles up to max_gb):
 *   [1:0] residency  [2] USED (allocated in the guest)  [3] UNUSED (host knows it unused)
 *   [4] PCP (on a per-CPU list)  [5] PENDING (in the lazy set)  [6] REF (host referenced bit)
 *   [7] VOLATILE (host knows it volatile)
 *   [31:8] free pages: index of the per-CPU list node holding the page's block (PCP only);
 *          pages in use: [8] CACHE (in the page cache) [9] DIRTY [10] PIN (in use now)
 *
 * Invariants (hinting_check): a USED page is RESIDENT or SWAPPED (never DROPPED or NONE) unless
 * it is a volatile page-cache page the host discarded, and neither UNUSED nor PCP; it is
 * PENDING only under volatile-lazy, and then in the page cache (a freed page is never
 * pending there); a VOLATILE page is USED, in the page cache, clean, not in use, and
 * RESIDENT or DROPPED; no stable page was ever dropped (stable_pages_lost = 0); an UNUSED page is RESIDENT or DROPPED; PCP pages are the
 * pages of the nodes on the per-CPU lists, each list's count is its node count and never above
 * pcp_high after an operation; PENDING pages are exactly the lazy set's keys; the global and
 * per-chunk counters equal a recount; after reclaim RESIDENT <= host_mem_pages.
 *
 * Work counted into model->work (the caller takes it per operation):
 *   WU_HYPERCALL   one hint hypercall            WU_HINT_PAGE  one page carried by a hint
 *                  (hint_mech hypercall only; with essa each page is one ESSA instruction,
 *                  counted in stats.essa_ops and priced by the driver)
 *   WU_LIST_HOP    one per-CPU list node linked, unlinked or walked
 *   WU_BUCKET_VISIT one lazy-set slot probed     WU_ENTRY_MOVE one slot shifted by a delete
 *   WU_P2M_ENTRY   one page examined by reclaim  WU_PAGE_DROP  one unused page discarded
 *   WU_SWAP_IO     one page written to or read from swap
 *   WU_PAGE_SCRUB  one zero page supplied (first touch, touch of a dropped page, or the fresh
 *                  frame of a discard fault; the fault's exit and re-read are priced by the
 *                  driver from stats.discard_faults)
 *
 * Allocation failure: a chunk that cannot be allocated refuses the request (-ENOMEM,
 * counted); a per-CPU list or lazy set that cannot be allocated degrades that guest to
 * per-page hints (degraded, counted).
 */
#ifndef MEMSIM_MODELS_HINTING_H
#define MEMSIM_MODELS_HINTING_H

#include "model.h"

#define HINTING_MAX_ORDER 20u      /* largest block a request may carry (4 GiB) */
#define HINTING_MAX_CPUS 4096u     /* vCPU ids per guest (TRACE_MAX_VCPUS) */

/* How a hint reaches the host: a hypercall (an exit, a vector of pages) or s390's ESSA
 * instruction (no exit, one instruction per page; a "call" is a sequence of them). */
enum hinting_mech { HINT_MECH_HYPERCALL = 0, HINT_MECH_ESSA = 1 };

/* Residency of a page in host memory. */
enum hinting_res { HRES_NONE = 0, HRES_RESIDENT = 1, HRES_SWAPPED = 2, HRES_DROPPED = 3 };

struct hinting_params {
	uint64_t host_mem_pages;  /* host frames available to guest memory (4 KiB pages) */
	uint64_t reclaim_batch;   /* pages reclaimed below the limit per reclaim (hysteresis) */
	uint64_t hint_batch;      /* blocks per spill / refill vector call */
	uint64_t pcp_high;        /* blocks a per-CPU list holds before it spills */
	uint64_t pcp_max_order;   /* largest order that goes through the per-CPU lists */
	uint64_t lazy_pages;      /* pages the lazy set holds before it is committed */
	uint64_t max_gb;          /* guest-physical memory accepted per domain (GiB) */
	enum hinting_mech mech;   /* not in the table: a choice the driver sets (hint_mech) */
};

extern const struct model_param hinting_param_table[];
#define HINTING_NPARAMS 7

struct hinting_stats {
	/* hints */
	uint64_t hint_calls;              /* hypercalls carrying hints */
	uint64_t calls_unused, calls_stable, calls_volatile;
	uint64_t essa_ops;                /* ESSA instructions (hint_mech essa): one per page */
	uint64_t pages_hinted_unused, pages_hinted_stable;
	uint64_t hint_entries;            /* (gfn, order) entries carried by all calls */
	uint64_t pcp_hits;                /* allocations served from a per-CPU list */
	uint64_t pcp_spills, refills;     /* spill vectors, refill vectors */
	uint64_t pcp_partial;             /* list blocks only partly reused (rest: free, not hinted) */
	uint64_t lazy_commits;
	uint64_t lazy_cancelled;          /* pages freed and reallocated while pending */
	/* guest operations */
	uint64_t allocs, frees, touches;  /* requests performed (touches: of pages in use) */
	uint64_t adopted_pages;           /* in use before the trace: first seen freed */
	uint64_t touches_untracked;       /* touches of pages never seen (no effect) */
	uint64_t touches_free;            /* touches of pages the guest has freed (no effect) */
	/* host */
	uint64_t first_touches;           /* NONE pages backed with a zeroed frame */
	uint64_t faults_on_dropped;       /* touches of a dropped page: a zero page */
	uint64_t pages_dropped;           /* unused pages discarded by reclaim */
	uint64_t pages_swapped;           /* pages written to swap by reclaim */
	uint64_t swap_outs_free;          /* ... of which the guest had freed (wasted writes) */
	uint64_t swap_ins;                /* pages read back from swap */
	uint64_t swap_ins_on_alloc;       /* ... by an allocation, whose content it overwrites */
	uint64_t swap_discards;           /* swap slots freed by an unused hint (no I/O) */
	uint64_t reclaims, reclaim_scanned;
	uint64_t reclaim_short;           /* reclaims that could not reach their target */
	uint64_t cov_free, cov_unused;    /* coverage sums over reclaims (see above) */
	uint64_t last_cov_free, last_cov_unused;
	uint64_t resident_peak, swap_peak;
	/* refused or odd input */
	uint64_t rejected;                /* requests refused (any -errno) */
	uint64_t double_allocs;           /* allocation of a page the guest holds (re-allocated) */
	uint64_t double_frees;            /* free of a page already free: allocated first */
	uint64_t alloc_failed;            /* model allocations that failed */
	uint64_t degraded;                /* guests fallen back to per-page hints */
	/* page cache and volatile pages */
	uint64_t cache_fills;             /* pages read into the page cache (clean) */
	uint64_t cache_removes;           /* pages taken out of the page cache (free included) */
	uint64_t cache_uses;              /* uses (reads) of page-cache pages */
	uint64_t cache_writes;            /* writes to page-cache pages (dirty: stable for good) */
	uint64_t pages_made_volatile;     /* pages the host was told are volatile */
	uint64_t pages_made_stable;       /* volatile pages made stable before a use or write */
	uint64_t pages_discarded;         /* volatile pages the host discarded (no I/O) */
	uint64_t discard_faults;          /* uses of a discarded page: the guest reads it again */
	uint64_t volatile_freed;          /* volatile pages freed (discardable free pages) */
	uint64_t vlazy_commits;           /* pending arrays made volatile in one call */
	uint64_t vlazy_skipped;           /* pending pages the commit's check left stable */
	uint64_t vlazy_removed_on_free;   /* pending pages freed: taken out of the array */
	uint64_t vlazy_saved_stable;      /* uses of pending pages: no make-stable needed */
	uint64_t stable_pages_lost;       /* stable pages the host dropped: must stay 0 */
	uint64_t cache_pages_peak, volatile_pages_peak;
};

struct hinting_guest;
struct hinting_model;

/*
 * A policy: the guest side of hinting.  Both hooks may be NULL (no hints).
 *   free:  the pages of the block have just been freed (USED cleared); the policy may hint
 *          them, list them, or leave them stable.
 *   alloc: the block is about to be allocated and touched; the policy must leave none of its
 *          pages UNUSED, PCP or PENDING (the core asserts it).
 *   use:   (volatile policies) a page-cache page the guest holds is about to be used or
 *          written: leave it stable for the host (VOLATILE clear), re-reading it if it was
 *          discarded.
 *   clean: (volatile policies) a page-cache page is clean and not in use again: the policy
 *          may make it volatile, now or later.
 */
struct hinting_policy {
	const char *name;
	const char *doc;
	bool pcp;     /* keeps per-CPU free lists */
	bool lazy;    /* keeps the pending set */
	bool volatile_pages;   /* makes page-cache pages volatile (hinting_volatile.c) */
	void (*free)(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu, uint64_t gfn,
		     unsigned order);
	void (*alloc)(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu, uint64_t gfn,
		      unsigned order);
	void (*use)(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn);
	void (*clean)(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn);
};

struct hinting_model {
	const struct hinting_policy *pol;
	struct hinting_params p;
	struct work work;                 /* accumulated; the caller takes and resets it */
	struct hinting_stats stats;
	uint64_t resident, swapped;       /* host pages in memory / in swap, all guests */
	uint64_t free_pages, free_unused; /* guest-free pages not NONE; of which UNUSED */
	uint64_t credits;                 /* outstanding refill credits, all guests */
	uint64_t cache_pages, volatile_pages; /* pages in the page cache; of which VOLATILE */
	struct mem_account mem;           /* model memory */
	struct hinting_guest **guests;    /* sorted by domain id */
	uint32_t nguests, cap_guests;
	uint32_t hand_guest;              /* reclaim clock hand: guest index, gfn */
	uint64_t hand_gfn;
};

extern const struct hinting_policy hinting_none_policy;
extern const struct hinting_policy hinting_per_page_policy;
extern const struct hinting_policy hinting_batched_policy;
extern const struct hinting_policy hinting_lazy_unused_policy;
extern const struct hinting_policy hinting_volatile_policy;        /* hinting_volatile.c */
extern const struct hinting_policy hinting_volatile_lazy_policy;   /* hinting_volatile.c */
extern const struct hinting_policy *const hinting_policies[];   /* NULL-terminated */
const struct hinting_policy *hinting_policy_find(const char *name);

void hinting_params_default(struct hinting_params *p);
int hinting_params_validate(const struct hinting_params *p);   /* 0 or -EINVAL */

/* NULL on allocation failure or bad arguments. */
struct hinting_model *hinting_model_create(const struct hinting_policy *pol,
					   const struct hinting_params *p);
void hinting_model_destroy(struct hinting_model *m);

/* 0, -EEXIST, -ENOMEM.  vcpus is a hint for sizing (lists are made on first use). */
int hinting_domain_create(struct hinting_model *m, uint32_t domain, uint32_t vcpus);
bool hinting_domain_exists(const struct hinting_model *m, uint32_t domain);
/* Releases every host page and swap slot of the domain, queued hints are dropped. 0/-ENOENT. */
int hinting_domain_destroy(struct hinting_model *m, uint32_t domain);

/*
 * Guest requests.  Errors (nothing changed, counted in stats.rejected): -ENOENT no such
 * domain, -ERANGE gfn/order/vCPU out of range, -ENOMEM no memory for page state.
 */
int hinting_alloc(struct hinting_model *m, uint32_t domain, uint32_t cpu, uint64_t gfn,
		  unsigned order);
int hinting_free(struct hinting_model *m, uint32_t domain, uint32_t cpu, uint64_t gfn,
		 unsigned order);
/* The guest reads or writes the page (fault, write record); only pages it holds count.
 * A page-cache page is used (read): the volatile policies make it stable first. */
int hinting_touch(struct hinting_model *m, uint32_t domain, uint64_t gfn);
/* The guest writes the page: as a touch, and a page-cache page becomes dirty (stable until
 * it leaves the page cache: the model has no writeback). */
int hinting_write(struct hinting_model *m, uint32_t domain, uint64_t gfn);
/* The page the guest holds is filled from a file and joins the page cache, clean (a page of
 * the page cache already: read again, clean).  A free or unseen page: nothing (counted). */
int hinting_cache_fill(struct hinting_model *m, uint32_t domain, uint64_t gfn);
/* The page leaves the page cache but stays allocated (a free does this implicitly). */
int hinting_cache_remove(struct hinting_model *m, uint32_t domain, uint64_t gfn);

/* One page's state (tests); -ENOENT if it has none.  No work counted. */
struct hinting_page_info {
	enum hinting_res res;
	bool used, unused, pcp, pending, ref;
	bool vol, cache, dirty;
};
int hinting_page_info(const struct hinting_model *m, uint32_t domain, uint64_t gfn,
		      struct hinting_page_info *out);
/* Pages in the domain's lazy set, blocks on its per-CPU lists (tests, reports). */
uint64_t hinting_pending_pages(const struct hinting_model *m, uint32_t domain);
uint64_t hinting_pcp_blocks(const struct hinting_model *m, uint32_t domain);
/* Every invariant listed above; 0 or -EINVAL.  O(state): tests and end-of-run report. */
int hinting_check(const struct hinting_model *m);

#endif /* MEMSIM_MODELS_HINTING_H */
