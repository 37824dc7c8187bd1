/* SPDX-License-Identifier: MIT */
/*
 * models/shadow.h — a bounded pool of shadow page-table pages and its reclaim (seed 003).
 *
 * Mechanism.  Under shadow paging the hypervisor keeps, for every guest page-table page it
 * has seen in use, a shadow page (one per (gfn, level): the role is reduced to the level).
 * Shadow pages sit on an active list (new pages at the head, so the tail is the oldest) and
 * in a hash by key.  A non-leaf shadow page holds shadow entries (sptes) pointing to child
 * shadow pages: each such link is one of the child's parent PTEs and carries the accessed
 * bit the hardware sets when a walk passes through it.  A page may have several parents
 * (a table reachable from several places, e.g. shared kernel tables); a root has none and
 * is pinned by the vCPUs that have it loaded (root_count).
 *
 * A guest walk (shadow_walk) needs every page on its path, root first, and every link
 * between them.  If all are present the hardware does the walk: only accessed bits change,
 * no work is counted.  Otherwise it is a shadow fault: before building anything the
 * hypervisor makes room (below), then looks each missing piece up in the hash, builds the
 * pages that are absent and links them.  A cr3 load (shadow_load_root) is a walk of the
 * root alone that also moves the vCPU's root_count from the old root to the new one.
 *
 * Reclaim ("make room", as kvm_mmu_free_some_pages did at every fault and root load):
 * when fewer than `min_free` pages are free — or fewer than the walk will build — victims
 * are zapped until `refill` are free (at least as many as the walk builds): that batch is
 * the saw-tooth of the occupancy plot.  The policy picks each victim.  The pool never holds
 * more than `limit` pages (limit >= SHADOW_MAX_LEVELS, so one walk always fits).
 *
 * Zapping a page: its parents' entries pointing to it are cleared (the parents stay);
 * its own entries are dropped, so each child loses one parent PTE — children are NOT
 * zapped: they stay in the pool as orphans until the walk that rebuilds the parent finds
 * them in the hash and relinks them (cheap), or a reclaim takes them (an orphan has no
 * parent PTE, so clock and accessed see it as not accessed).
 *
 * Zapping a loaded root (root_count != 0), as KVM did in 2009: its children are unlinked
 * as above, but the page cannot be freed while a vCPU runs on it.  It is marked invalid
 * (lookups no longer find it), moved to the head of the active list and stays in the pool,
 * and every vCPU with a root loaded is asked to reload (kvm_reload_remote_mmus).  A vCPU
 * reloads at its next operation (its next entry to guest mode): one forced exit, its root
 * unpinned, its cr3's root looked up or rebuilt and pinned (root_reloads), and its next
 * walks relink the tree from the new root.  The invalid page is freed when its last vCPU
 * unpins it (invalid_roots_freed).  A zap that frees nothing does not count toward the
 * refill, so reclaim goes on to the next victim.  The guest freeing a page-table page zaps
 * its shadow page (KVM notices later, when the reused page is written; the model does it at
 * the free); a vCPU that still has it in cr3 lets go at once and has no cr3 until its next
 * load (a guest switches away before it frees a table; only odd traces do otherwise).
 *
 * EPT/TDP (tdp = 1): the pool holds the EPT tables (the driver makes the paths); the
 * hardware sets no accessed bit (EPT had none in 2009), so walks leave the bits clear and
 * the `accessed` policy, which has nothing to work from, is refused.
 *
 * Policies (ops struct below; pick_victim is pure decision logic over the list):
 *   fifo      the tail of the active list: the oldest page, roots included (the original).
 *   fifo-skip-roots  the oldest page that no vCPU has loaded (root_count == 0): what KVM's
 *             kvm_mmu_zap_oldest_mmu_pages does today; none (-EBUSY) if every page is one.
 *   clock     a hand walks the list from the tail toward the head, wrapping; a page whose
 *             parent PTEs have the accessed bit set gets them cleared and is skipped, a
 *             loaded root counts as accessed; at most max(1, used / overscan_div) pages are
 *             looked at; then, as the seed patch does, the first leaf seen, else the tail of
 *             the list (which may be a loaded root).  clock_fallback_skips_roots = 1 is
 *             memsim's earlier refinement: the first leaf, else the first non-root seen,
 *             else the first non-root beyond the window.
 *             hand_persist = 0 restarts at the tail every time (the seed patch as written:
 *             its list_for_each_entry_reverse re-initialises the cursor, so its scan_hand
 *             never takes effect).
 *   accessed  an accessed flag per page, set when an spte pointing to the page is dropped
 *             with its accessed bit set, and on every cr3 (re)load of the page; a scan from
 *             the tail ORs the parent PTEs' bits into it (clearing them); a loaded root is
 *             accessed.  A page not accessed is the victim; an accessed one loses its flag
 *             and moves to the head (second chance, so the list tends to LRU order).  Under
 *             overscan (same limit) the first leaf seen, else the first non-root; if the
 *             window held only roots it looks further (overscan_extended) and takes the
 *             tail only if every page is a loaded root.
 *
 * Work counted into model->work (models/model.h):
 *   WU_LIST_HOP      a page the reclaim looks at; a link created or removed
 *   WU_PTE_TEST      a parent PTE's accessed bit tested during a scan
 *   WU_ENTRY_MOVE    a page moved to the head of the list (accessed)
 *   WU_BUCKET_VISIT  a hash lookup of a missing piece during a shadow fault or root load
 *   WU_SHADOW_BUILD  a shadow page built (allocated, cleared, hashed, listed)
 *   WU_SHADOW_ZAP    a shadow page torn down (its 512 entries cleared, freed); an invalid
 *                    root pays it twice, when zapped and when freed (KVM called
 *                    kvm_mmu_zap_page again from mmu_free_roots)
 *   WU_HYPERCALL     a forced exit: a vCPU's reload of its root after a reload request
 * A walk that finds everything present counts nothing: the hardware did it.
 * work.footprint_bytes = used * 4096 (the pool's shadow pages).
 *
 * Measurement only (no work units, nothing KVM keeps): the model remembers the keys of pages
 * reclaim zapped ("ghosts") so that building one again counts as a rebuild — a reclaim
 * mistake.  A ghost goes when the page is rebuilt or the guest frees the table.
 *
 * Invariants (shadow_check): used == pages on the list == pages in the hash <= limit; every
 * link is on both its parent's and its child's list and the counts agree; a child's level is
 * below its parent's; root_count == vCPUs that have the page loaded; an invalid page is a
 * root with root_count > 0, no parent and not in the hash; no ghost is live.
 */
#ifndef MEMSIM_MODELS_SHADOW_H
#define MEMSIM_MODELS_SHADOW_H

#include "model.h"

#define SHADOW_MAX_LEVELS 5        /* 5-level paging: the longest walk */
#define SHADOW_LEAF 1
#define SHADOW_MAX_VCPUS 4096u     /* TRACE_MAX_VCPUS; state is allocated per vCPU used */
#define SHADOW_PAGE_BYTES 4096u

struct shadow_params {
	uint64_t limit;         /* shadow pages the pool may hold */
	uint64_t min_free;      /* reclaim when fewer pages than this are free */
	uint64_t refill;        /* ... until this many are free */
	uint64_t overscan_div;  /* clock/accessed: at most max(1, used / overscan_div) looked at */
	uint64_t hand_persist;  /* clock: 1 the hand resumes where it stopped; 0 from the tail */
	uint64_t clock_fallback_skips_roots; /* clock overscan: 0 leaf else tail (the patch);
					      * 1 leaf, else a non-root (memsim's refinement) */
	uint64_t tdp;           /* 1: EPT/TDP tables, no accessed bits */
};

extern const struct model_param shadow_param_table[];
#define SHADOW_NPARAMS 7

struct shadow_key {
	uint64_t gfn;
	uint8_t level;          /* 1 = leaf .. SHADOW_MAX_LEVELS */
};

struct shadow_stats {
	uint64_t walks;              /* walks served (faults, accesses, root loads) */
	uint64_t shadow_faults;      /* walks that built a page or created a link */
	uint64_t builds;             /* shadow pages built */
	uint64_t rebuilds;           /* ... of which reclaim had zapped the same key before */
	uint64_t relinks;            /* links made to a page already in the pool */
	uint64_t root_loads;         /* cr3 loads */
	uint64_t root_reloads;       /* vCPU reloads forced by zapping a loaded root */
	uint64_t reload_requests;    /* zaps of a loaded root (each asks every vCPU to reload) */
	uint64_t invalid_roots_freed;/* invalid roots freed when their last vCPU let go */
	uint64_t invalid_peak;       /* most invalid roots in the pool at once */
	uint64_t reclaim_stuck;      /* walks refused: only loaded roots left to zap (-EBUSY) */
	uint64_t zaps;               /* pages torn down by reclaim or guest frees */
	uint64_t recycled;           /* ... by reclaim (KVM's mmu_recycled): victims */
	uint64_t zaps_guest;         /* ... because the guest freed the table */
	uint64_t roots_zapped;       /* reclaim victims that were loaded roots */
	uint64_t leaves_zapped;      /* reclaim victims at level 1 */
	uint64_t parentless_zapped;  /* reclaim victims with no parent PTE and no vCPU:
				      * unloaded roots and orphans */
	uint64_t reclaims;           /* make-room episodes */
	uint64_t pages_scanned;      /* pages looked at choosing victims */
	uint64_t scan_max;           /* most pages looked at for one victim */
	uint64_t ptes_tested;
	uint64_t ptes_cleared;       /* accessed bits found set (and cleared) by scans */
	uint64_t overscans;          /* victims chosen after the window held no candidate */
	uint64_t overscan_extended;  /* ... the window held only roots: looked further */
	uint64_t alloc_failed;       /* walks refused for lack of memory (-ENOMEM) */
	uint64_t used_peak;
};

struct shadow_page;
struct shadow_ghost;
struct shadow_vcpu;
struct shadow_model;

/*
 * A reclaim policy.  pick_victim is called with used > 0 and returns a page of the pool
 * (never NULL then) and counts each page it looks at (scan_one() in shadow.c).  The hooks may be
 * NULL: spte_dropped (a link to child was removed; accessed = its bit), root_loaded (a cr3
 * load of sp), page_removed (sp leaves the pool).
 */
struct shadow_policy {
	const char *name;
	const char *doc;
	struct shadow_page *(*pick_victim)(struct shadow_model *m);
	void (*spte_dropped)(struct shadow_model *m, struct shadow_page *child, bool accessed);
	void (*root_loaded)(struct shadow_model *m, struct shadow_page *sp);
	void (*page_removed)(struct shadow_model *m, struct shadow_page *sp);
};

extern const struct shadow_policy shadow_fifo_policy;
extern const struct shadow_policy shadow_fifo_skip_roots_policy;
extern const struct shadow_policy shadow_clock_policy;
extern const struct shadow_policy shadow_accessed_policy;
extern const struct shadow_policy *const shadow_policies[];   /* NULL-terminated */
const struct shadow_policy *shadow_policy_find(const char *name);

struct shadow_model {
	const struct shadow_policy *pol;
	struct shadow_params p;
	struct work work;              /* accumulated; the caller takes and resets it */
	struct shadow_stats stats;
	struct env_list active;        /* head = newest, tail = oldest */
	uint64_t used;
	struct shadow_page **hash;     /* by key; nbuckets is a power of two */
	struct shadow_ghost **ghosts;  /* same bucket count */
	uint32_t nbuckets;
	uint64_t nghosts;
	struct env_list *hand;         /* clock: the next page to look at (NULL: the tail) */
	struct shadow_vcpu **vhash;    /* per-vCPU state, made on a vCPU's first operation */
	uint32_t nvbuckets;
	uint32_t nvcpus;               /* vCPUs with state */
	struct env_list vcpus;         /* ... all of them, in order of first use */
	uint64_t ninvalid;             /* invalid roots in the pool */
	uint64_t scan_now;             /* pages looked at for the current victim */
	struct mem_account mem;            /* model memory */
	/* Optional observer of every occupancy change (the driver's saw-tooth series). */
	void (*observe)(void *arg, uint64_t used);
	void *observe_arg;
};

void shadow_params_default(struct shadow_params *p);
/* 0, or -EINVAL: need SHADOW_MAX_LEVELS <= limit, 1 <= min_free <= refill <= limit,
 * overscan_div >= 1, hand_persist, clock_fallback_skips_roots and tdp 0 or 1. */
int shadow_params_validate(const struct shadow_params *p);

/* Can pol run with p?  0, or -EINVAL: `accessed` needs accessed bits, which tdp lacks. */
int shadow_policy_usable(const struct shadow_policy *pol, const struct shadow_params *p);
/* NULL on allocation failure or bad arguments (including an unusable policy). */
struct shadow_model *shadow_model_create(const struct shadow_policy *pol,
					 const struct shadow_params *p);
/* Frees everything; no work counted. */
void shadow_model_destroy(struct shadow_model *m);

/*
 * One guest walk on vcpu through path[0] (the root) .. path[n-1], levels strictly
 * decreasing.  set_accessed: the hardware sets the accessed bit of each link it passes
 * (0: a walk that leaves them alone, e.g. a prefetch).  If path[0] is the vCPU's cr3 and
 * its root was zapped, the root is rebuilt and pinned again.
 * Returns 0 (all present), 1 (shadow fault: something built or linked), -EINVAL (bad path),
 * -ERANGE (vcpu), -ENOMEM (a page or link could not be allocated: pieces built so far stay),
 * -EBUSY (reclaim found only loaded roots and the walk does not fit).  A vCPU with a reload
 * pending reloads first.
 */
int shadow_walk(struct shadow_model *m, uint32_t vcpu, const struct shadow_key *path,
		unsigned n, bool set_accessed);
/* cr3 load on vcpu: unpins the old root, finds or builds the new one, pins it, tells the
 * policy.  Same returns as shadow_walk. */
int shadow_load_root(struct shadow_model *m, uint32_t vcpu, struct shadow_key root);
/* The guest freed the table: zaps its shadow page (1), or 0 if it has none; forgets its
 * ghost either way. */
int shadow_guest_free(struct shadow_model *m, struct shadow_key key);

/* ---- queries (tests, reports); no work counted ---- */
struct shadow_page_info {
	uint32_t root_count;
	uint32_t nparents;          /* parent PTEs */
	uint32_t parents_accessed;  /* ... with the accessed bit set */
	uint32_t nchildren;
	uint8_t level;
	bool accessed;              /* the accessed policy's flag */
};
/* 0, or -ENOENT if the key has no shadow page. */
int shadow_page_info(const struct shadow_model *m, struct shadow_key key,
		     struct shadow_page_info *out);
struct shadow_vcpu_info {
	struct shadow_key cr3;      /* level 0: none */
	bool has_root;              /* a root page pinned */
	bool root_invalid;          /* ... which was zapped and awaits this vCPU's reload */
	bool reload_pending;
};
/* 0, or -ENOENT if the vCPU never did anything. */
int shadow_vcpu_info(const struct shadow_model *m, uint32_t vcpu, struct shadow_vcpu_info *out);
/* Is the link parent -> child present? */
bool shadow_linked(const struct shadow_model *m, struct shadow_key parent, struct shadow_key child);
/* Keys of the active list from the tail (oldest) toward the head; returns how many are
 * written (at most max). */
unsigned shadow_list_keys(const struct shadow_model *m, struct shadow_key *out, unsigned max);
/* Every invariant above; 0 or -EINVAL.  O(pool): tests and end-of-run checks. */
int shadow_check(const struct shadow_model *m);

#endif /* MEMSIM_MODELS_SHADOW_H */
