/* SPDX-License-Identifier: MIT */
/*
 * models/hinting_volatile.c — the volatile page-cache policies of the hinting model (seed
 * 004, Martin Schwidefsky's guest page states), behind the family's ops struct:
 *
 *   volatile       a clean page-cache page the guest holds and is not using is made
 *                  volatile at once, one call per page; before the guest uses, writes or
 *                  drops it from the cache it is made stable again (one call), which is where
 *                  a page the host discarded shows up: a discard fault, the guest reads the
 *                  page again from its file.  A freed volatile page is a page the host may
 *                  discard (no call); its next allocation makes it stable (one call: the
 *                  seed's page_set_stable).
 *   volatile-lazy  the seed's ~1K array: pages to be made volatile wait in the guest's
 *                  pending set (the lazy set's hash keyed by gfn, lazy_pages of them, global
 *                  to the guest: not per-CPU, since a page may be freed on another CPU); when
 *                  it is full one call makes them volatile, after checking each page's flags
 *                  (still held and in the page cache, clean, not in use: Rik van Riel's check
 *                  at walk time, Martin's conditions).  A freed page leaves the set at once
 *                  (Martin: "It only has to be removed if it gets freed"); a pending page the
 *                  guest uses or writes stays in it and needs no make-stable call, the host
 *                  never heard it was volatile (Rik: the lazy transition saves "the
 *                  transition the other way, too"); the commit's check leaves a page written
 *                  meanwhile stable.  Reallocated discardable pages are made stable through
 *                  the refill vectors batched and lazy-unused use.
 *
 * Neither policy hints ordinary free pages: what is compared is the make-volatile protocol.
 * The host side (discard of a resident volatile page by reclaim, the stable_pages_lost check)
 * is in models/hinting.c.
 */
#include "hinting_impl.h"

/* The host hears that the page is volatile: it may discard it while resident.  A copy in
 * swap is no longer needed (the page can be read from its file): its slot is freed. */
static void host_volatile(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn)
{
	struct hg_chunk *c = chunk_of(g, gfn);
	uint32_t i = (uint32_t)(gfn & CH_MASK), s = c->st[i];

	ENV_ASSERT((s & S_USED) && (s & S_CACHE) && !(s & (S_DIRTY | S_PIN | S_VOL)));
	if (res_of(s) == HRES_SWAPPED) {
		s = with_res(s, HRES_DROPPED);
		m->stats.swap_discards++;
	}
	hg_pg_set(m, c, i, s | S_VOL);
	m->stats.pages_made_volatile++;
	m->stats.hint_entries++;
	hg_hint_page_cost(m, 1);
}

/* Make-stable of a volatile page (one call).  If the host discarded it, that is a discard
 * fault: the guest reads the page again from its file into a fresh frame (the driver prices
 * the fault and the read; the frame is a page_scrub, as for any zero page). */
static void make_stable(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn)
{
	struct hg_chunk *c = chunk_of(g, gfn);
	uint32_t i = (uint32_t)(gfn & CH_MASK), s = c->st[i];

	hg_call(m, H_STABLE);
	m->stats.hint_entries++;
	m->stats.pages_hinted_stable++;
	hg_hint_page_cost(m, 1);
	m->stats.pages_made_stable++;
	s &= ~S_VOL;
	if (res_of(s) == HRES_DROPPED) {
		m->stats.discard_faults++;
		work_add(&m->work, WU_PAGE_SCRUB, 1);
		s = with_res(s, HRES_RESIDENT) | S_REF;
	}
	hg_pg_set(m, c, i, s);
}

/* ---- volatile: one call per page ------------------------------------------------------------ */

static void vol_clean(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn)
{
	if (*hg_state(g, gfn) & S_VOL)
		return;
	hg_call(m, H_VOLATILE);
	host_volatile(m, g, gfn);
}

static void vol_use(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn)
{
	if (*hg_state(g, gfn) & S_VOL)
		make_stable(m, g, gfn);
}

/* A discardable page (a freed volatile one) is made stable before its new owner writes it. */
static void vol_alloc(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
		      uint64_t gfn, unsigned order)
{
	(void)cpu;
	if (hg_block_has(g, gfn, order, S_UNUSED))
		hg_direct_hint(m, g, gfn, order, false);
}

/* ---- volatile-lazy: the pending array ------------------------------------------------------- */

/*
 * One call for the whole array.  Each page's flags are checked first: only a page still held,
 * in the page cache, clean and not in use may become volatile; the others stay stable.
 */
static void vlazy_commit(struct hinting_model *m, struct hinting_guest *g)
{
	uint64_t i, made = 0;

	m->stats.vlazy_commits++;
	for (i = 0; i <= g->lz_mask; i++) {
		uint64_t gfn = g->lz[i];
		uint32_t *s;

		work_add(&m->work, WU_BUCKET_VISIT, 1);
		if (gfn == LZ_EMPTY)
			continue;
		g->lz[i] = LZ_EMPTY;
		s = hg_state(g, gfn);
		*s &= ~S_PEND;
		if ((*s & S_USED) && (*s & S_CACHE) && !(*s & (S_DIRTY | S_PIN | S_VOL))) {
			if (!made++)
				hg_call(m, H_VOLATILE);
			host_volatile(m, g, gfn);
		} else {
			m->stats.vlazy_skipped++;
		}
	}
	g->lz_count = 0;
}

static void vlazy_clean(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn)
{
	uint32_t *s = hg_state(g, gfn);

	if (*s & (S_VOL | S_PEND))
		return;                     /* already volatile, or already waiting */
	if (!g->lz) {
		m->stats.degraded++;        /* no array: one call now, as `volatile` does */
		vol_clean(m, g, gfn);
		return;
	}
	*s |= S_PEND;
	hg_lz_insert(m, g, gfn);
	if (g->lz_count >= m->p.lazy_pages)
		vlazy_commit(m, g);
}

static void vlazy_use(struct hinting_model *m, struct hinting_guest *g, uint64_t gfn)
{
	uint32_t s = *hg_state(g, gfn);

	if (s & S_PEND)
		m->stats.vlazy_saved_stable++;   /* stable for the host: nothing to say */
	else if (s & S_VOL)
		make_stable(m, g, gfn);
}

/* A page freed while pending must leave the array: else a page that is no longer in the page
 * cache (perhaps allocated again for something else) would be made volatile. */
static void vlazy_free(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
		       uint64_t gfn, unsigned order)
{
	uint64_t k, n = 1ULL << order;

	(void)cpu;
	for (k = 0; k < n; k++) {
		uint32_t *s = hg_state(g, gfn + k);

		if (!(*s & S_PEND))
			continue;
		hg_lz_remove(m, g, gfn + k);
		*s &= ~S_PEND;
		m->stats.vlazy_removed_on_free++;
	}
}

static void vlazy_alloc(struct hinting_model *m, struct hinting_guest *g, uint32_t cpu,
			uint64_t gfn, unsigned order)
{
	hg_refill_stable(m, g, cpu, gfn, order);
}

const struct hinting_policy hinting_volatile_policy = {
	.name = "volatile",
	.doc = "clean page-cache pages made volatile one call per page; stable again before use",
	.volatile_pages = true,
	.alloc = vol_alloc,
	.use = vol_use,
	.clean = vol_clean,
};

const struct hinting_policy hinting_volatile_lazy_policy = {
	.name = "volatile-lazy",
	.doc = "pages to be made volatile wait in a pending array, one call when full; freed ones leave it",
	.lazy = true,
	.volatile_pages = true,
	.free = vlazy_free,
	.alloc = vlazy_alloc,
	.use = vlazy_use,
	.clean = vlazy_clean,
};
