/* SPDX-License-Identifier: MIT */
/*
 * models/superpage.h — reference and type counts behind 2 MiB superpage mappings of a
 * paravirtualised guest (seed 002).
 *
 * Mechanism.  Every 4 KiB page of a domain has a general reference count and a type (none,
 * writable, page table) with a type count; a page can change type only when its type count
 * is zero, so a page that is mapped writable can never become a page table and vice versa.
 * A superpage is 512 pages starting at a 512-aligned gfn.  When the guest installs an L2
 * entry that maps a superpage (TR_SP_MAP), the hypervisor validates it and takes counts;
 * when the entry goes (TR_SP_UNMAP), it drops them.  Which counts is the policy:
 *
 *   per-page  every map takes a reference and a writable type count on each of the 512
 *             pages, every unmap drops them (the behaviour the seed found "seriously bogged
 *             down").  Marks do not exist for it: the requests are ignored.
 *   marked    the guest marks a superpage once (an mmuext op): a flag on the leading page and
 *             one reference + writable type count on each of the 512 pages.  A map of a
 *             marked superpage then takes one type count on the leading page only; an unmap
 *             drops it.  Unmarked superpages fall back to the per-page path.  Marking does not
 *             nest (a second mark is -EINVAL), a double unmark is -EINVAL, and a marked page
 *             can never become a page table (its writable type count forbids the change).
 *
 * What the seed left open ("how do we make sure all the superpage PTEs ... are gone before
 * the guest can unmark"): the leading page's type count holds one count for the mark plus one
 * per marked-path mapping, so unmark refuses (-EBUSY) while it is above 1.  The parameter
 * unmark_busy_check = 0 drops that check, to show what goes wrong without it: the later
 * unmaps take the per-page path on pages that hold no count for them and would underflow;
 * the model refuses each such decrement and counts it as an invariant violation.
 * A mark is also refused (-EBUSY) while the superpage is mapped through the per-page path,
 * since the later unmap would then release through the marked path and leak 511 counts.
 *
 * Page-table contents.  The model does not keep the guest's page tables; it keeps, per
 * superpage, how many L2 entries currently map it and through which path each was validated
 * (maps_pp, maps_mk).  Policies never read these: they decide from the page counts, as the
 * hypervisor does.  Domain destruction tears those entries down through the policy, drops the
 * mark, the page-table types and the allocation references, and then every count of every
 * page must be zero (anything left is a leak, counted as a violation).  superpage_check()
 * recomputes every page's expected counts from the entries and compares.
 *
 * Invariants (superpage_check): no count ever wraps below zero; each page's reference and
 * type counts equal what its allocation, the mark, the L2 entries and a page-table use imply;
 * a marked superpage contains no page-table page; the flag sits on leading pages only; all
 * counts are zero once the domain is destroyed.
 *
 * Memory.  Page state is allocated per superpage on first population (a 4 KiB + 16 B block
 * of 8-byte page entries) behind a directory indexed by superpage number that grows by
 * doubling to the highest superpage touched: a fully populated 64 GiB region is 32768
 * blocks, ~135 MB.  Allocation failures refuse the request with -ENOMEM (counted).
 *
 * Work counted into model->work (models/model.h):
 *   WU_REFCOUNT      one reference or type count taken, or a type count dropped
 *   WU_PAGE_PUT      one general reference dropped (put_page)
 *   WU_LOCK          the page-table page's lock around one L2 entry update
 *   WU_PREEMPT_CHECK one per request in the hypercall's request loop
 * Each map/unmap request also takes and drops a reference on the page-table page it writes
 * (WU_REFCOUNT + WU_PAGE_PUT), whatever the policy.  The hypercall entry itself
 * (WU_HYPERCALL) is counted by the caller, which knows how the guest batches requests.
 * work.footprint_bytes is the domain's page-state bytes (what a fork storm cycles through).
 */
#ifndef MEMSIM_MODELS_SUPERPAGE_H
#define MEMSIM_MODELS_SUPERPAGE_H

#include "model.h"

#define SP_ORDER 9
#define SP_PAGES (1u << SP_ORDER)           /* 4 KiB pages per 2 MiB superpage */

/* Which validation path a map or unmap took (non-negative return of superpage_map/unmap). */
enum sp_path {
	SP_PATH_PERPAGE = 0,   /* counts on all 512 pages */
	SP_PATH_MARKED = 1,    /* one type count on the leading page */
};

/* Page types (superpage_page_info). */
enum sp_type { SP_T_NONE = 0, SP_T_WRITABLE = 1, SP_T_PT = 2 };

struct superpage_params {
	uint64_t unmark_busy_check;  /* 1: unmark refused while mappings are outstanding */
	uint64_t max_gb;             /* guest-physical space the model accepts per domain, GiB */
	uint64_t lowmem_pct;         /* share of superpages (spn % 100 < this) whose pages are
				      * the guest's lowmem: a standing writable type count each */
	uint64_t mark_max_tc;        /* a mark is refused when the leading page's type count is
				      * above this: 0 (any count), 1 (tolerates a standing one) */
};

extern const struct model_param superpage_param_table[];
#define SUPERPAGE_NPARAMS 4

struct superpage_stats {
	uint64_t maps, maps_marked;        /* successful maps; of which through the mark */
	uint64_t unmaps, unmaps_marked;
	uint64_t marks, unmarks;           /* successful marks / unmarks */
	uint64_t marks_ignored;            /* mark/unmark requests the policy has no op for */
	uint64_t pt_allocs, pt_frees;
	uint64_t pt_rejected_marked;       /* page-table attempts on a page of a marked superpage */
	uint64_t rejected;                 /* requests refused (any -errno) */
	uint64_t underflows;               /* count decrements refused because the count was 0 */
	uint64_t path_mismatch;            /* L2 entries released through another path than the
					    * one that validated them (unmark_busy_check = 0) */
	uint64_t leaks;                    /* pages with a count left after domain destruction */
	uint64_t alloc_failed;             /* requests refused for lack of memory */
	uint64_t domains_destroyed;
	uint64_t pages_live;               /* pages allocated to domains now */
	/* lowmem (seed 002's open problem): pages the guest kernel maps writable for good */
	uint64_t lowmem_superpages;        /* superpages populated as lowmem */
	uint64_t marks_busy;               /* marks refused -EBUSY */
	uint64_t marks_busy_lowmem;        /* ... on lowmem superpages no L2 entry mapped per
					    * page: refused for the standing count alone */
	uint64_t unmarks_busy;             /* unmarks refused -EBUSY */
	uint64_t unmarks_busy_unmapped;    /* ... while no marked-path mapping remained: the
					    * busy check misread a standing count */
	uint64_t lowmem_pt_remaps;         /* page-table pins of lowmem pages, their writable
					    * direct mapping dropped first (and restored on unpin) */
};

struct superpage_domain;
struct superpage_policy;

struct superpage_model {
	const struct superpage_policy *pol;
	struct superpage_params p;
	struct work work;                  /* accumulated; the caller takes and resets it */
	struct superpage_stats stats;
	struct mem_account mem;            /* model memory (directories, blocks, tables) */
	struct superpage_domain **doms;
	uint32_t ndoms, cap_doms;
};

struct sp_block;

/*
 * A policy: how a superpage L2 entry is validated and released.  map/unmap return the
 * enum sp_path they took, or -errno with nothing changed.  mark/unmark may be NULL (the
 * request is ignored); they return 0 or -errno with nothing changed.  `force` (unmark only)
 * is set by domain destruction: no busy check.
 */
struct superpage_policy {
	const char *name;
	const char *doc;
	int (*map)(struct superpage_model *m, struct superpage_domain *d, struct sp_block *b);
	int (*unmap)(struct superpage_model *m, struct superpage_domain *d, struct sp_block *b);
	int (*mark)(struct superpage_model *m, struct superpage_domain *d, struct sp_block *b);
	int (*unmark)(struct superpage_model *m, struct superpage_domain *d, struct sp_block *b,
		      bool force);
};

extern const struct superpage_policy superpage_per_page_policy;
extern const struct superpage_policy superpage_marked_policy;
extern const struct superpage_policy *const superpage_policies[];   /* NULL-terminated */
const struct superpage_policy *superpage_policy_find(const char *name);

void superpage_params_default(struct superpage_params *p);
int superpage_params_validate(const struct superpage_params *p);

/* NULL on allocation failure or bad arguments. */
struct superpage_model *superpage_model_create(const struct superpage_policy *pol,
					       const struct superpage_params *p);
/* Frees everything, live domains included (no work counted, no leak check). */
void superpage_model_destroy(struct superpage_model *m);

/*
 * Requests.  Common errors: -ENOENT no such domain (or the pages are not the domain's);
 * -ERANGE gfn beyond max_gb (or a count at its ceiling); -ENOMEM no memory for page state.
 * Every refused request is counted in stats.rejected.
 */
/* 0, -EEXIST, -ENOMEM */
int superpage_domain_create(struct superpage_model *m, uint32_t domain);
bool superpage_domain_exists(const struct superpage_model *m, uint32_t domain);
/* Tears down every L2 entry, mark and page-table use, drops the allocation references,
 * checks that every count is zero (stats.leaks) and frees the domain.  0 or -ENOENT. */
int superpage_domain_destroy(struct superpage_model *m, uint32_t domain);
/* Gives the domain 2^order pages from gfn (already allocated pages stay as they are). */
int superpage_populate(struct superpage_model *m, uint32_t domain, uint64_t gfn, unsigned order);
/* Takes the pages back; -EBUSY (nothing freed) if any of them is mapped, marked or a page
 * table.  Pages that are not allocated are skipped. */
int superpage_release(struct superpage_model *m, uint32_t domain, uint64_t gfn, unsigned order);
/* gfn must be superpage-aligned (-EINVAL otherwise); the superpage must be fully populated
 * (-ENOENT).  map: path, or -EBUSY (a page of it is a page table).  unmap: path, or -EINVAL
 * (nothing maps it).  mark/unmark: 0, 1 if the policy ignores marks, -EINVAL (already
 * marked / not marked), -EBUSY (mark: mapped per page or a page-table page inside;
 * unmark: mappings outstanding). */
int superpage_map(struct superpage_model *m, uint32_t domain, uint64_t gfn);
int superpage_unmap(struct superpage_model *m, uint32_t domain, uint64_t gfn);
int superpage_mark(struct superpage_model *m, uint32_t domain, uint64_t gfn);
int superpage_unmark(struct superpage_model *m, uint32_t domain, uint64_t gfn);
/* Makes a page a page table (pin): 0, -EBUSY (it is writable-typed: mapped or marked),
 * -EINVAL (already a page table), -ENOENT (not allocated).  pt_free: 0 or -EINVAL. */
int superpage_pt_alloc(struct superpage_model *m, uint32_t domain, uint64_t gfn);
int superpage_pt_free(struct superpage_model *m, uint32_t domain, uint64_t gfn);

/* State of one page (tests, reports); no work counted.  -ENOENT if the page has no state. */
struct superpage_page_info {
	uint32_t count;       /* general references */
	uint32_t type_count;
	enum sp_type type;
	bool allocated;
	bool marked;          /* the mark flag (leading pages only) */
};
int superpage_page_info(const struct superpage_model *m, uint32_t domain, uint64_t gfn,
			struct superpage_page_info *out);
/* L2 entries mapping the superpage at gfn (0 if none / unknown). */
uint64_t superpage_mappings(const struct superpage_model *m, uint32_t domain, uint64_t gfn);
/* Every invariant listed above, over the whole model; 0 or -EINVAL.  O(state): tests only. */
int superpage_check(const struct superpage_model *m);
/* Invariant violations seen so far (underflows refused + path mismatches + leaks). */
uint64_t superpage_violations(const struct superpage_model *m);

#endif /* MEMSIM_MODELS_SUPERPAGE_H */
