/* SPDX-License-Identifier: MIT */
/*
 * models/sharing.h — the memory-sharing machine of seed 000: domains with p2m tables, shared
 * frames with reverse maps, share / unshare (copy-on-write break) / relinquish on destroy.
 *
 * This is the code the simulator drives record by record and the kernel module drives with
 * synthetic sizes: both see the same data structures and the same work-unit counts.
 *
 * State of one gfn (p2m entry):  INVALID -> PRIVATE (page alloc) -> SHARED(frame) (share)
 *   SHARED -> PRIVATE (unshare / write)   SHARED|PRIVATE -> INVALID (relinquish, free)
 * A shared frame lives while its rmap is non-empty; the last unshare frees it (and its rmap,
 * with RMAP_NO_CONVERT: no point converting a map that is about to go).
 * Invariants (sharing_check): every SHARED p2m entry is in its frame's rmap exactly once; every
 * rmap tuple names a SHARED p2m entry pointing back at the frame; domain shared counts equal
 * the number of their SHARED entries.
 */
#ifndef MEMSIM_MODELS_SHARING_H
#define MEMSIM_MODELS_SHARING_H

#include "model.h"
#include "rmap.h"
#include "relinquish.h"
#include "p2m.h"

struct sharing_model;   /* opaque; allocated by sharing_model_create */

struct sharing_stats {
	uint64_t shares;          /* successful share operations */
	uint64_t unshares;        /* copy-on-write breaks and explicit unshares */
	uint64_t frames_live;     /* shared frames currently alive */
	uint64_t frames_peak;
	uint64_t frames_freed;    /* frames freed when their last tuple went */
	uint64_t shared_entries;  /* SHARED p2m entries over all domains */
	uint64_t enomem;          /* operations refused for lack of memory */
	uint64_t preemptions;     /* relinquish slices that ended in -EAGAIN */
	uint64_t merges;          /* sharing_merge calls that moved at least one tuple */
	uint64_t merged_tuples;   /* tuples moved from a client frame to a source frame */
	uint64_t table_resize_failed;  /* frame/domain table resizes refused for lack of memory
				       * (the table stayed at its size: denser, still correct) */
};

/* Host callback: is other work waiting for this pCPU?  (hypercall_preempt_check) */
typedef bool (*sharing_preempt_fn)(void *arg);

/* NULL on allocation failure, or if a policy is NULL or its parameters do not validate. */
struct sharing_model *sharing_model_create(const struct rmap_policy *rpol,
					   const struct rmap_params *rp,
					   const struct relinquish_policy *lpol,
					   const struct relinquish_params *lp);
void sharing_model_destroy(struct sharing_model *sm);

/* The rmap model inside (its stats, work accumulator and live bytes). */
struct rmap_model *sharing_rmap(struct sharing_model *sm);
const struct sharing_stats *sharing_stats(const struct sharing_model *sm);

/*
 * Errors common to the operations below: -ENOENT no such domain; -EBUSY the domain is dying
 * (its relinquish has started: it takes no new memory and no copy-on-write); -ERANGE gfn
 * >= P2M_GFN_LIMIT (2^54) or frame >= P2M_FRAME_LIMIT (2^62), see models/p2m.h.
 */
/* 0, -EEXIST (also while a domain of that id is still dying), -ENOMEM */
int sharing_domain_create(struct sharing_model *sm, uint32_t domain);
/* Gives gfn a private page (idempotent; a SHARED gfn stays shared: allocation is not a
 * write). 0, -ENOENT (no domain), -EBUSY, -ERANGE, -ENOMEM */
int sharing_page_alloc(struct sharing_model *sm, uint32_t domain, uint64_t gfn);
/* gfn of domain becomes backed by shared frame `frame` (created on first use); a gfn that
 * was shared elsewhere is unshared first.  0, -ENOENT, -EBUSY, -ERANGE, -ENOMEM (nothing
 * changed) */
int sharing_share(struct sharing_model *sm, uint32_t domain, uint64_t gfn, uint64_t frame);
/*
 * The seed's mem_sharing_share_pages() when the client page is itself a shared frame: every
 * tuple of the frame backing gfn of domain (the client, "cpage") moves to frame `frame`
 * (the source, "spage", created on first use): its rmap is iterated, each tuple removed from
 * it (RMAP_NO_CONVERT) and added to the source's, each p2m entry repointed; the emptied
 * client frame is freed.  0 (also when gfn is already on `frame`), -EINVAL if gfn is not
 * shared, -ENOENT, -EBUSY, -ERANGE, -ENOMEM (an entry of the source's rmap could not be
 * allocated: the tuples moved so far stay moved, the rest stay on the client frame, every
 * invariant holds).
 */
int sharing_merge(struct sharing_model *sm, uint32_t domain, uint64_t gfn, uint64_t frame);
/* Copy-on-write break.  1 if the gfn was shared and is now private, 0 if it was not shared,
 * -ENOENT (no domain), -EBUSY (dying), -ENOMEM (no private page could be had: the entry
 * stays shared; guest pages are not modelled as allocations, so the model never fails so). */
int sharing_unshare(struct sharing_model *sm, uint32_t domain, uint64_t gfn);
/*
 * Destroy, one slice: releases the domain's p2m entries from where the last slice stopped,
 * asking `preempt(arg)` whenever the relinquish policy says so.  Returns 0 when the domain is
 * gone (all memory released, domain freed), -EAGAIN when preempted (call again to resume),
 * -ENOENT if there is no such domain.  Work is counted into sharing_rmap(sm)->work.
 */
int sharing_relinquish_step(struct sharing_model *sm, uint32_t domain,
			    sharing_preempt_fn preempt, void *arg);
/* What backs gfn of domain: P2M_INVALID, P2M_PRIVATE or P2M_SHARED (models/p2m.h), with
 * *frame set for SHARED (frame may be NULL); -ENOENT for an unknown domain.  Counts no work. */
int sharing_lookup(const struct sharing_model *sm, uint32_t domain, uint64_t gfn,
		   uint64_t *frame);
/* Tuples frame `frame` backs (its rmap count); 0 if it is not a live shared frame. */
uint64_t sharing_frame_degree(const struct sharing_model *sm, uint64_t frame);
/* SHARED entries the domain still has; 0 for an unknown domain. */
uint64_t sharing_domain_shared(const struct sharing_model *sm, uint32_t domain);
/* Bytes the machine holds outside the rmaps (model, domain table and domains, p2m trees,
 * frame table); the rmaps' own bytes are sharing_rmap(sm)->live_bytes. */
uint64_t sharing_model_bytes(const struct sharing_model *sm);
/* Largest rmap count of any live frame (for reports). */
uint64_t sharing_max_degree(const struct sharing_model *sm);
/* All invariants above, over the whole model; 0 or -EINVAL. O(state): tests only. */
int sharing_check(const struct sharing_model *sm);

#endif
