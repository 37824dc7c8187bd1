/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_shadow.c — shadow-page reclaim (models/shadow.c, seed 003).
 *
 * Like ChampSim's replacement tests, each policy decision is checked against a small worked
 * example traced by hand (the trace is in the comment above each test: the active list is
 * written tail (oldest) first).  Then the invariants over random operation mixes (the pool
 * never above its limit, roots evicted only when everything is a root, the clock's overscan
 * bound), allocation failures, determinism, and the policies' ordering on the synthetic
 * working-set scenario through the simulator.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env_user.h"
#include "run.h"
#include "shadow.h"
#include "test.h"
#include "trace.h"

static struct shadow_key K(uint64_t gfn, uint8_t level)
{
	struct shadow_key k = { gfn, level };

	return k;
}

/* Worked-example keys: a level-2 root R and leaves A..F. */
#define R K(100, 2)
#define A K(1, 1)
#define B K(2, 1)
#define C K(3, 1)
#define D K(4, 1)
#define E K(5, 1)

static uint64_t clock_fallback_skips_roots;   /* mk()'s clock: 0 the patch, 1 memsim's */

static struct shadow_model *mk(const char *policy, uint64_t limit, uint64_t min_free,
			       uint64_t refill, uint64_t div)
{
	struct shadow_params p;
	struct shadow_model *m;

	shadow_params_default(&p);
	p.clock_fallback_skips_roots = clock_fallback_skips_roots;
	p.limit = limit;
	p.min_free = min_free;
	p.refill = refill;
	p.overscan_div = div;
	m = shadow_model_create(shadow_policy_find(policy), &p);
	if (!m) {
		printf("# cannot create the model\n");
		exit(1);
	}
	return m;
}

static int walk2(struct shadow_model *m, struct shadow_key root, struct shadow_key leaf, bool a)
{
	struct shadow_key path[2] = { root, leaf };

	return shadow_walk(m, 0, path, 2, a);
}

static int walk3(struct shadow_model *m, struct shadow_key r, struct shadow_key mid,
		 struct shadow_key leaf, bool a)
{
	struct shadow_key path[3] = { r, mid, leaf };

	return shadow_walk(m, 0, path, 3, a);
}

/* The active list, tail first, equals keys[0..n). */
static bool list_is(const struct shadow_model *m, const struct shadow_key *keys, unsigned n)
{
	struct shadow_key got[64];
	unsigned k = shadow_list_keys(m, got, 64), i;

	if (k != n)
		return false;
	for (i = 0; i < n; i++)
		if (got[i].gfn != keys[i].gfn || got[i].level != keys[i].level)
			return false;
	return true;
}

static bool present(const struct shadow_model *m, struct shadow_key k)
{
	struct shadow_page_info pi;

	return shadow_page_info(m, k, &pi) == 0;
}

/* Load R on vCPU 0, walk R->A, R->B, R->C, R->D: the pool [R A B C D] is full (limit 5). */
static struct shadow_model *five_full(const char *policy, uint64_t div)
{
	struct shadow_model *m = mk(policy, 5, 1, 1, div);

	shadow_load_root(m, 0, R);
	walk2(m, R, A, true);
	walk2(m, R, B, true);
	walk2(m, R, C, true);
	walk2(m, R, D, true);
	return m;
}

/* ---- worked examples -------------------------------------------------------------------- */

/*
 * fifo, limit 5, min_free = refill = 1.  [R A B C D] full, R loaded on vCPU 0.
 *   R->A   present: no fault.
 *   R->E   E missing, 0 free: victim = tail R, the loaded root.  Its children A..D lose
 *          their parent PTE; R cannot be freed: it turns invalid (R*), goes to the head and
 *          vCPU 0 is asked to reload.  Nothing freed, so a second victim: A.  The fault
 *          goes on in the root the vCPU runs on: E built, linked under R*: [B C D R* E].
 *   R->A   first the reload: R* unpinned and freed (its link to E goes), R rebuilt and
 *          pinned: [B C D E R].  Then A is missing: victim B; A rebuilt: [C D E R A].
 * recycled 3 (R A B), rebuilds 2 (R A), one loaded root zapped, one reload, E an orphan.
 */
TEST(fifo_worked_example_zaps_the_oldest_even_the_loaded_root)
{
	struct shadow_model *m = five_full("fifo", 4);
	const struct shadow_key after[] = { C, D, E, R, A };

	CHECK(walk2(m, R, A, true) == 0);
	CHECK(walk2(m, R, E, true) == 1);
	CHECK(walk2(m, R, A, true) == 1);
	CHECK(list_is(m, after, 5));
	CHECK_EQ_U64(m->stats.recycled, 3);
	CHECK_EQ_U64(m->stats.rebuilds, 2);
	CHECK_EQ_U64(m->stats.roots_zapped, 1);
	CHECK_EQ_U64(m->stats.root_reloads, 1);
	CHECK_EQ_U64(m->stats.builds, 8);
	CHECK_EQ_U64(m->stats.reclaims, 2);
	CHECK_EQ_U64(m->stats.pages_scanned, 3);
	CHECK_EQ_U64(m->stats.reload_requests, 1);
	CHECK_EQ_U64(m->stats.invalid_roots_freed, 1);
	CHECK_EQ_U64(m->stats.invalid_peak, 1);
	CHECK(shadow_linked(m, R, A) && !shadow_linked(m, R, E) && present(m, E));
	CHECK(!present(m, B));
	CHECK(shadow_check(m) == 0);
	shadow_model_destroy(m);
}

/*
 * clock, hand persists, no overscan limit (overscan_div 1).  [R A B C D], every R->x
 * accessed.
 *   R->E   hand at the tail: R (loaded root: accessed), A B C D (bits set: cleared,
 *          skipped; A is the first leaf) — 5 looked at, none idle: overscan, victim A.
 *          The hand wrapped to R.  E built: [R B C D E].
 *   R->A   hand R (root, skip), B (bit cleared last time, not set since): victim B.
 *          A rebuilt: [R C D E A].
 * recycled 2 (A B), rebuilds 1 (A), the root never zapped; 7 pages looked at, 5 PTEs
 * tested, 4 bits found set.
 */
TEST(clock_worked_example_skips_accessed_pages_and_loaded_roots)
{
	struct shadow_model *m = five_full("clock", 1);
	const struct shadow_key after[] = { R, C, D, E, A };
	struct shadow_page_info pi;

	CHECK(walk2(m, R, E, true) == 1);
	CHECK_EQ_U64(m->stats.overscans, 1);
	CHECK(!present(m, A));
	CHECK(shadow_page_info(m, C, &pi) == 0 && pi.parents_accessed == 0);  /* cleared */
	CHECK(walk2(m, R, A, true) == 1);
	CHECK(list_is(m, after, 5));
	CHECK_EQ_U64(m->stats.recycled, 2);
	CHECK_EQ_U64(m->stats.rebuilds, 1);
	CHECK_EQ_U64(m->stats.roots_zapped, 0);
	CHECK_EQ_U64(m->stats.pages_scanned, 7);
	CHECK_EQ_U64(m->stats.ptes_tested, 5);
	CHECK_EQ_U64(m->stats.ptes_cleared, 4);
	CHECK(shadow_check(m) == 0);
	shadow_model_destroy(m);
}

/*
 * accessed, no overscan limit.  [R A B C D].
 *   R->E   from the tail: R (flag from its cr3 load, and loaded), A B C D (parent bits):
 *          all accessed; each loses its flag and moves to the head.  Overscan: the first
 *          leaf seen, A.  [R B C D]; E built: [R B C D E].
 *   R->A   tail R: loaded, to the head: [B C D E R]; B: flag clear, bit clear: victim.
 *          A rebuilt: [C D E R A].
 * recycled 2, rebuilds 1; 6 moves to the head.
 */
TEST(accessed_worked_example_gives_second_chances_at_the_head)
{
	struct shadow_model *m = five_full("accessed", 1);
	const struct shadow_key mid[] = { R, B, C, D, E };
	const struct shadow_key after[] = { C, D, E, R, A };
	struct shadow_page_info pi;

	CHECK(shadow_page_info(m, R, &pi) == 0 && pi.accessed);   /* the cr3 load set it */
	CHECK(walk2(m, R, E, true) == 1);
	CHECK(list_is(m, mid, 5));
	CHECK(shadow_page_info(m, R, &pi) == 0 && !pi.accessed);  /* consumed by the scan */
	CHECK(walk2(m, R, A, true) == 1);
	CHECK(list_is(m, after, 5));
	CHECK_EQ_U64(m->stats.recycled, 2);
	CHECK_EQ_U64(m->stats.rebuilds, 1);
	CHECK_EQ_U64(m->stats.roots_zapped, 0);
	CHECK_EQ_U64(m->stats.pages_scanned, 7);
	CHECK_EQ_U64(m->work.n[WU_ENTRY_MOVE], 6);
	CHECK(shadow_check(m) == 0);
	shadow_model_destroy(m);
}

/*
 * The difference between clock and accessed: a dropped spte.  limit 6, min_free = refill
 * = 1, no overscan limit.  Root R3 (level 3), directories M N (level 2), leaves A..E.
 *   load R3; R3->M->A (accessed); the guest frees M: M is zapped, A keeps no parent PTE but
 *   its dropped spte had the accessed bit.  R3->N->B (accessed), R3->N->C (a prefetch: no
 *   bit), R3->N->D (accessed): [R3 A N B C D] full.  R3->N->E:
 *     clock:    R3 loaded (skip); A has no parent PTE and no root_count: victim A.
 *     accessed: R3 (loaded), A (its flag from the dropped spte), N and B (bits) are
 *               accessed and rotate; C (prefetched, never used): victim C.
 */
TEST(accessed_remembers_a_dropped_accessed_spte_clock_evicts_the_orphan)
{
	const struct shadow_key R3 = K(300, 3), M = K(30, 2), N = K(31, 2);
	const char *pols[] = { "clock", "accessed" };
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct shadow_model *m = mk(pols[i], 6, 1, 1, 1);
		struct shadow_page_info pi;

		shadow_load_root(m, 0, R3);
		walk3(m, R3, M, A, true);
		CHECK(shadow_guest_free(m, M) == 1);
		CHECK(shadow_page_info(m, A, &pi) == 0 && pi.nparents == 0);
		CHECK(pi.accessed == (i == 1));       /* only the accessed policy keeps the bit */
		walk3(m, R3, N, B, true);
		walk3(m, R3, N, C, false);
		walk3(m, R3, N, D, true);
		CHECK_EQ_U64(m->used, 6);
		CHECK(walk3(m, R3, N, E, true) == 1);
		CHECK_EQ_U64(m->stats.recycled, 1);
		if (i == 0) {
			CHECK(!present(m, A) && present(m, C));
		} else {
			CHECK(present(m, A) && !present(m, C));
		}
		CHECK_EQ_U64(m->stats.zaps_guest, 1);
		CHECK(shadow_check(m) == 0);
		shadow_model_destroy(m);
	}
}

/*
 * The overscan limit: limit 8, overscan_div 4, every page accessed.  [R L1..L7] full;
 * R->L8: the window is 8 / 4 = 2 pages: R (loaded root) and L1 (bit set: cleared, first
 * leaf).  Nothing idle in the window: victim L1; L2..L7 are not even tested.
 */
TEST(clock_looks_at_a_quarter_of_the_pool_then_takes_the_first_leaf)
{
	struct shadow_model *m = mk("clock", 8, 1, 1, 4);
	struct shadow_page_info pi;
	uint64_t i;

	shadow_load_root(m, 0, R);
	for (i = 1; i <= 7; i++)
		walk2(m, R, K(i, 1), true);
	CHECK(walk2(m, R, K(8, 1), true) == 1);
	CHECK(!present(m, K(1, 1)));
	CHECK_EQ_U64(m->stats.pages_scanned, 2);
	CHECK_EQ_U64(m->stats.scan_max, 2);
	CHECK_EQ_U64(m->stats.ptes_tested, 1);
	CHECK_EQ_U64(m->stats.overscans, 1);
	CHECK(shadow_page_info(m, K(2, 1), &pi) == 0 && pi.parents_accessed == 1);
	CHECK(shadow_check(m) == 0);
	shadow_model_destroy(m);
}

/* overscan_div 4 on a 3-page pool would be a window of 0: it is 1 (the seed's used/4
 * counter would start at 0 and never stop). */
TEST(a_tiny_pool_still_looks_at_one_page)
{
	struct shadow_model *m;

	clock_fallback_skips_roots = 1;
	m = mk("clock", 5, 1, 1, 4);
	clock_fallback_skips_roots = 0;

	shadow_load_root(m, 0, R);
	walk2(m, R, A, true);
	walk2(m, R, B, true);
	walk2(m, R, C, true);
	walk2(m, R, D, true);
	/* used 5: window 1 = the root; no candidate, fallback: look further for a non-root */
	CHECK(walk2(m, R, E, true) == 1);
	CHECK_EQ_U64(m->stats.overscan_extended, 1);
	CHECK(!present(m, A));
	CHECK_EQ_U64(m->stats.roots_zapped, 0);
	shadow_model_destroy(m);
}

/* hand_persist = 0 is the seed patch as written: every scan restarts at the tail, so the
 * page it cleared last time is the next victim even if the hand had moved past it. */
TEST(clock_without_a_persistent_hand_restarts_at_the_tail)
{
	struct shadow_params p;
	struct shadow_model *m;
	const struct shadow_key after[] = { R, C, D, E, A };

	shadow_params_default(&p);
	p.limit = 5;
	p.min_free = p.refill = 1;
	p.overscan_div = 1;
	p.hand_persist = 0;
	m = shadow_model_create(&shadow_clock_policy, &p);
	shadow_load_root(m, 0, R);
	walk2(m, R, A, true);
	walk2(m, R, B, true);
	walk2(m, R, C, true);
	walk2(m, R, D, true);
	walk2(m, R, E, true);              /* as with the hand: victim A, bits cleared */
	CHECK(m->hand == NULL);
	walk2(m, R, A, true);              /* from the tail again: R skip, B idle */
	CHECK(list_is(m, after, 5));
	CHECK_EQ_U64(m->stats.pages_scanned, 7);
	shadow_model_destroy(m);
}

/* ---- roots ---------------------------------------------------------------------------------- */

/* Three loaded roots and three leaves, window 1 (limit 6 / 4): the window holds a root, so
 * both scanning policies look further and take the first non-root, never a root. */
TEST(scanning_policies_skip_loaded_roots_beyond_the_window)
{
	const char *pols[] = { "clock", "accessed" };
	unsigned i, v;

	clock_fallback_skips_roots = 1;    /* the literal patch is tested apart */
	for (i = 0; i < 2; i++) {
		struct shadow_model *m = mk(pols[i], 6, 1, 1, 4);

		for (v = 0; v < 3; v++)
			shadow_load_root(m, v, K(100 + v, 2));
		walk2(m, K(100, 2), A, true);
		walk2(m, K(100, 2), B, true);
		walk2(m, K(100, 2), C, true);
		CHECK(walk2(m, K(100, 2), D, true) == 1);
		CHECK(!present(m, A));
		CHECK_EQ_U64(m->stats.roots_zapped, 0);
		CHECK_EQ_U64(m->stats.overscan_extended, 1);
		for (v = 0; v < 3; v++)
			CHECK(present(m, K(100 + v, 2)));
		CHECK(shadow_check(m) == 0);
		shadow_model_destroy(m);
	}
	clock_fallback_skips_roots = 0;
}

/*
 * Every page a loaded root (5 vCPUs, limit 5): then, and only then, the scanning policies
 * take a root.  A loaded root cannot be freed (it turns invalid and its vCPU must reload),
 * so reclaim goes round the pool without freeing anything and gives up: the sixth vCPU's
 * cr3 load is refused with -EBUSY (KVM of 2009 would have looped).  When a vCPU next runs
 * it reloads: its invalid root is freed and rebuilt.
 */
TEST(a_root_is_taken_only_when_every_page_is_a_loaded_root_and_frees_nothing)
{
	const char *pols[] = { "clock", "accessed", "fifo-skip-roots" };
	unsigned i, v;

	clock_fallback_skips_roots = 1;
	for (i = 0; i < 3; i++) {
		struct shadow_model *m = mk(pols[i], 5, 1, 1, 4);
		struct shadow_vcpu_info vi;
		struct shadow_key r = K(100, 2);
		uint32_t invalid = 0;

		for (v = 0; v < 5; v++)
			shadow_load_root(m, v, K(100 + v, 2));
		CHECK_EQ_U64(m->stats.recycled, 0);
		CHECK(shadow_load_root(m, 5, K(105, 2)) == -EBUSY);
		CHECK_EQ_U64(m->stats.reclaim_stuck, 1);
		CHECK_EQ_U64(m->used, 5);
		for (v = 0; v < 5; v++) {
			CHECK(shadow_vcpu_info(m, v, &vi) == 0);
			invalid += vi.root_invalid;
		}
		if (i < 2) {
			CHECK(m->stats.roots_zapped > 0 && invalid > 0);
		} else {
			/* today's KVM never touches a loaded root: it just finds no victim */
			CHECK_EQ_U64(m->stats.roots_zapped, 0);
			CHECK_EQ_U64(invalid, 0);
		}
		CHECK(shadow_check(m) == 0);
		CHECK(shadow_walk(m, 0, &r, 1, true) >= 0);
		CHECK(shadow_vcpu_info(m, 0, &vi) == 0);
		CHECK(vi.has_root && !vi.root_invalid && !vi.reload_pending);
		CHECK_EQ_U64(m->stats.root_reloads, i < 2 ? 1 : 0);
		CHECK(shadow_check(m) == 0);
		shadow_model_destroy(m);
	}
	clock_fallback_skips_roots = 0;
}

/* ---- mechanism -------------------------------------------------------------------------------- */

/* KVM's make-room: below min_free (5) free pages, zap until refill (25) are free.  The
 * occupancy saw-tooths between limit - 25 and limit - 1. */
TEST(reclaim_frees_down_to_refill_in_one_batch)
{
	struct shadow_model *m = mk("fifo", 64, 5, 25, 4);
	uint64_t i, lo = 64, hi = 0, prev = 0;

	shadow_load_root(m, 0, K(1000, 2));
	for (i = 0; i < 300; i++) {
		walk2(m, K(1000, 2), K(i, 1), true);
		if (m->used < prev && m->used < lo)
			lo = m->used;
		if (m->used > hi)
			hi = m->used;
		prev = m->used;
	}
	CHECK_EQ_U64(hi, 60);                /* 59 used + 1 built: reclaim starts at 4 free */
	CHECK(m->stats.reclaims > 5);
	/* each episode zaps until 25 are free, then the walk builds its leaf (and the fifo
	 * takes the root first, so the walk rebuilds that too) */
	CHECK(m->stats.recycled >= 20 * m->stats.reclaims);
	CHECK(shadow_check(m) == 0);
	shadow_model_destroy(m);
}

TEST(walk_that_finds_everything_costs_nothing_and_sets_accessed_bits)
{
	struct shadow_model *m = mk("clock", 8, 1, 1, 4);
	struct shadow_page_info pi;
	struct work before;

	shadow_load_root(m, 0, R);
	walk2(m, R, A, false);
	CHECK(shadow_page_info(m, A, &pi) == 0 && pi.parents_accessed == 0);
	before = m->work;
	CHECK(walk2(m, R, A, true) == 0);
	CHECK(memcmp(&before, &m->work, sizeof(before)) == 0);
	CHECK(shadow_page_info(m, A, &pi) == 0 && pi.parents_accessed == 1);
	shadow_model_destroy(m);
}

/* Zapping a directory leaves its children as orphans; the next walk relinks them (a relink,
 * not a rebuild). */
TEST(zapping_a_directory_orphans_its_children_and_the_walk_relinks_them)
{
	struct shadow_model *m = mk("fifo", 8, 1, 1, 4);
	const struct shadow_key R3 = K(300, 3), M = K(30, 2);
	struct shadow_page_info pi;

	shadow_load_root(m, 0, R3);
	walk3(m, R3, M, A, true);
	walk3(m, R3, M, B, true);
	CHECK(shadow_guest_free(m, M) == 1);
	CHECK(shadow_page_info(m, A, &pi) == 0 && pi.nparents == 0);
	CHECK(walk3(m, R3, M, A, true) == 1);
	CHECK_EQ_U64(m->stats.relinks, 1);
	CHECK_EQ_U64(m->stats.rebuilds, 0);        /* a guest free leaves no ghost */
	CHECK(shadow_linked(m, M, A) && !shadow_linked(m, M, B));
	CHECK(shadow_check(m) == 0);
	shadow_model_destroy(m);
}

TEST(bad_paths_and_parameters_are_refused)
{
	struct shadow_model *m = mk("fifo", 8, 1, 1, 4);
	struct shadow_key up[2] = { K(1, 1), K(2, 2) }, six = K(1, 6);
	struct shadow_params p;

	CHECK(shadow_walk(m, 0, up, 2, true) == -EINVAL);
	CHECK(shadow_walk(m, 0, up, 0, true) == -EINVAL);
	CHECK(shadow_load_root(m, 0, six) == -EINVAL);
	CHECK(shadow_walk(m, SHADOW_MAX_VCPUS, up + 1, 1, true) == -ERANGE);
	CHECK_EQ_U64(m->used, 0);
	shadow_params_default(&p);
	CHECK(shadow_params_validate(&p) == 0);
	p.limit = 4;
	CHECK(shadow_params_validate(&p) == -EINVAL);
	p.limit = 16;                              /* refill 25 > limit */
	CHECK(shadow_params_validate(&p) == -EINVAL);
	p.refill = 16;
	p.min_free = 17;
	CHECK(shadow_params_validate(&p) == -EINVAL);
	CHECK(shadow_policy_find("lru") == NULL);
	CHECK(shadow_policy_find("accessed") == &shadow_accessed_policy);
	shadow_model_destroy(m);
}

/* ---- random mixes: invariants, allocation failures ---------------------------------------- */

struct rnd {
	uint64_t s;
};

static uint64_t rnd(struct rnd *r, uint64_t n)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s % n;
}

/*
 * 8 address spaces, each root (4) -> L3 -> 2 L2 -> 4 leaves each: 88 tables over a pool of
 * 24.  Operations: cr3 loads on 2 vCPUs, walks to a random leaf or L2 (a few prefetches),
 * guest frees of random tables.  Returns how many operations failed with -ENOMEM.
 */
static uint64_t random_mix(struct shadow_model *m, uint64_t seed, unsigned ops, bool check_each,
			   uint64_t *bad)
{
	struct rnd r = { seed * 0x9e3779b97f4a7c15ULL + 1 };
	uint32_t loaded[2] = { 0, 0 };
	uint64_t nomem = 0;
	unsigned i;

	for (i = 0; i < ops; i++) {
		uint32_t v = (uint32_t)rnd(&r, 2), as = loaded[v];
		uint64_t base = 1000 * (as + 1), what = rnd(&r, 100), l2 = rnd(&r, 2), leaf = rnd(&r, 4);
		struct shadow_key path[4] = { K(base, 4), K(base + 1, 3), K(base + 2 + l2, 2),
					      K(base + 10 + l2 * 4 + leaf, 1) };
		int rc;

		if (what < 10) {
			loaded[v] = (uint32_t)rnd(&r, 8);
			rc = shadow_load_root(m, v, K(1000 * (loaded[v] + 1), 4));
		} else if (what < 15) {
			rc = shadow_guest_free(m, path[1 + rnd(&r, 3)]);
		} else {
			rc = shadow_walk(m, v, path, what < 25 ? 3 : 4, what % 10 != 0);
		}
		if (rc == -ENOMEM)
			nomem++;
		else if (rc < 0)
			(*bad)++;
		if (m->used > m->p.limit)
			(*bad)++;
		if (check_each && shadow_check(m))
			(*bad)++;
	}
	return nomem;
}

TEST(random_mixes_keep_every_invariant_and_the_overscan_bound)
{
	unsigned i, seed, fb;
	uint64_t literal_clock_roots = 0;

	for (i = 0; shadow_policies[i]; i++) {
		const char *name = shadow_policies[i]->name;
		bool is_clock = !strcmp(name, "clock");

		for (fb = 0; fb <= (is_clock ? 1u : 0u); fb++)
		for (seed = 1; seed <= 4; seed++) {
			struct shadow_model *m;
			uint64_t bad = 0;

			clock_fallback_skips_roots = fb;
			m = mk(name, 24, 3, 8, 4);
			clock_fallback_skips_roots = 0;
			random_mix(m, seed, 3000, true, &bad);
			CHECK_EQ_U64(bad, 0);
			CHECK(m->stats.recycled > 100);           /* reclaim really ran */
			CHECK_EQ_U64(m->stats.zaps, m->stats.recycled + m->stats.zaps_guest);
			/* a zapped loaded root leaves the pool later, when its last vCPU reloads */
			CHECK_EQ_U64(m->stats.builds + m->stats.reload_requests,
				     m->used + m->stats.zaps + m->stats.invalid_roots_freed);
			CHECK(m->stats.used_peak <= 24);
			CHECK_EQ_U64(m->stats.reclaim_stuck, 0);
			if (!strcmp(name, "fifo")) {
				CHECK(m->stats.roots_zapped > 0 && m->stats.root_reloads > 0);
			} else if (is_clock && !fb) {
				/* the patch's fallback is the tail when the window saw no leaf,
				 * and that may be a loaded root */
				literal_clock_roots += m->stats.roots_zapped;
				CHECK(m->stats.scan_max <= 24 / 4);
			} else {
				/* 2 loaded roots never fill a window of >= 4: no root is ever
				 * taken and no scan looks past 24 / 4 pages (fifo-skip-roots:
				 * past the 2 roots) */
				CHECK_EQ_U64(m->stats.roots_zapped, 0);
				CHECK_EQ_U64(m->stats.root_reloads, 0);
				CHECK_EQ_U64(m->stats.overscan_extended, 0);
				CHECK(m->stats.scan_max <= 24 / 4);
			}
			shadow_model_destroy(m);
		}
	}
	CHECK(literal_clock_roots > 0);
}

TEST(allocation_failures_refuse_the_walk_and_break_nothing)
{
	unsigned i, k;

	for (i = 0; shadow_policies[i]; i++) {
		for (k = 2; k <= 7; k++) {
			struct shadow_model *m = mk(shadow_policies[i]->name, 24, 3, 8, 4);
			uint64_t bad = 0, nomem;

			env_fail_every(k);
			nomem = random_mix(m, k, 1500, false, &bad);
			env_fail_reset();
			CHECK(nomem > 0);
			CHECK_EQ_U64(bad, 0);
			CHECK_EQ_U64(nomem, m->stats.alloc_failed);
			CHECK(shadow_check(m) == 0);
			/* and it works normally afterwards */
			random_mix(m, k + 100, 500, false, &bad);
			CHECK_EQ_U64(bad, 0);
			CHECK(shadow_check(m) == 0);
			shadow_model_destroy(m);
		}
	}
	/* creation itself: every failure point returns NULL (ASan checks nothing leaks) */
	for (k = 0; k < 3; k++) {
		struct shadow_params p;

		shadow_params_default(&p);
		env_fail_after(k);
		CHECK(shadow_model_create(&shadow_clock_policy, &p) == NULL);
		env_fail_reset();
	}
}

TEST(same_operations_give_the_same_pool)
{
	unsigned i;

	for (i = 0; shadow_policies[i]; i++) {
		struct shadow_model *a = mk(shadow_policies[i]->name, 24, 3, 8, 4);
		struct shadow_model *b = mk(shadow_policies[i]->name, 24, 3, 8, 4);
		struct shadow_key ka[32], kb[32];
		uint64_t bad = 0;
		unsigned na, nb, j;
		bool same;

		random_mix(a, 11, 2000, false, &bad);
		random_mix(b, 11, 2000, false, &bad);
		na = shadow_list_keys(a, ka, 32);
		nb = shadow_list_keys(b, kb, 32);
		same = na == nb && na > 0;
		for (j = 0; same && j < na; j++)
			same = ka[j].gfn == kb[j].gfn && ka[j].level == kb[j].level;
		CHECK(same);
		CHECK(memcmp(&a->stats, &b->stats, sizeof(a->stats)) == 0);
		CHECK(memcmp(&a->work, &b->work, sizeof(a->work)) == 0);
		shadow_model_destroy(a);
		shadow_model_destroy(b);
	}
}

/* ---- through the simulator ---------------------------------------------------------------------- */

struct result {
	double zaps, rebuilds, recycled, faults, roots_zapped, violations, errors, synthetic;
	double unknown_frees, peak, root_reloads, reload_requests, invalid_freed, stuck;
	double state_bytes, implicit_domains, ept_walks, ept_root_loads, pt_allocs;
	size_t occ_points;
	double occ_max;
	uint64_t digest;
};

static double metric(const struct run *r, const char *name)
{
	double v = -1;

	metrics_get(&r->mx, name, &v);
	return v;
}

static int sim(const char *policy, const char *trace, uint64_t seed, const char *const *sets,
	       struct result *out)
{
	struct run_opts o = { .model = "shadow", .policy = policy, .seed = seed,
			      .profile = "seed-2012" };
	const struct series *s;
	char err[1024];
	struct run r;
	size_t i;
	int rc;

	if (trace && !strncmp(trace, "scenario:", 9))
		o.scenario = trace + 9;
	else if (trace)
		o.trace = trace;
	else
		o.scenario = "working-set";
	while (sets && *sets && o.nsets < RUN_MAX_SETS)
		o.sets[o.nsets++] = *sets++;
	rc = run_prepare(&r, &o, err, sizeof(err));
	if (rc == 0)
		rc = run_execute(&r, err, sizeof(err));
	if (rc) {
		printf("# run failed: %s\n", err);
		run_free(&r);
		return rc;
	}
	memset(out, 0, sizeof(*out));
	out->zaps = metric(&r, "zaps");
	out->rebuilds = metric(&r, "rebuilds");
	out->recycled = metric(&r, "recycled");
	out->faults = metric(&r, "shadow_faults");
	out->roots_zapped = metric(&r, "roots_zapped");
	out->violations = metric(&r, "invariant_violations");
	out->errors = metric(&r, "model_errors");
	out->synthetic = metric(&r, "synthetic_target_walks");
	out->unknown_frees = metric(&r, "unknown_frees");
	out->peak = metric(&r, "occupancy_peak");
	out->root_reloads = metric(&r, "root_reloads");
	out->reload_requests = metric(&r, "reload_requests");
	out->invalid_freed = metric(&r, "invalid_roots_freed");
	out->stuck = metric(&r, "reclaim_stuck");
	out->state_bytes = metric(&r, "state_bytes_peak");
	out->implicit_domains = metric(&r, "implicit_domains");
	out->ept_walks = metric(&r, "ept_walks");
	out->ept_root_loads = metric(&r, "ept_root_loads");
	out->pt_allocs = metric(&r, "pt_allocs");
	s = metrics_series_find(&r.mx, "occupancy");
	for (i = 0; s && i < s->n; i++)
		if (s->pts[i].value > out->occ_max)
			out->occ_max = s->pts[i].value;
	out->occ_points = s ? s->n : 0;
	out->digest = r.event_digest;
	run_free(&r);
	return 0;
}

/* The design's target on the synthetic scenario: clock and accessed below fifo in zaps and
 * rebuilds (ratios of counts, never time); both skews of the scenario. */
TEST(working_set_clock_and_accessed_zap_and_rebuild_less_than_fifo)
{
	const char *skew1[] = { "switches=1000", NULL };
	const char *skew2[] = { "switches=1000", "skew=2", NULL };
	unsigned k;

	for (k = 0; k < 2; k++) {
		const char *const *sets = k ? skew2 : skew1;
		struct result f, c, a;

		if (sim("fifo", NULL, 1, sets, &f) || sim("clock", NULL, 1, sets, &c) ||
		    sim("accessed", NULL, 1, sets, &a)) {
			CHECK(0);
			return;
		}
		CHECK(f.recycled > 1000);                 /* the pool really is too small */
		CHECK(c.zaps < f.zaps && a.zaps < f.zaps);
		CHECK(c.rebuilds < f.rebuilds && a.rebuilds < f.rebuilds);
		CHECK(c.faults < f.faults && a.faults < f.faults);
		/* fifo zaps loaded roots; the scanning policies never need to */
		CHECK(f.roots_zapped > 0 && c.roots_zapped == 0 && a.roots_zapped == 0);
		CHECK(f.violations == 0 && c.violations == 0 && a.violations == 0);
		CHECK(f.errors == 0 && f.synthetic == 0 && f.unknown_frees == 0);
		/* the saw-tooth: a series of every change, never above the limit */
		CHECK(f.occ_points > 100 && f.occ_max <= 64 && f.peak <= 64);
	}
}

TEST(working_set_runs_are_deterministic_and_seeded)
{
	const char *sets[] = { "switches=300", NULL };
	struct result a, b, c;

	CHECK(sim("accessed", NULL, 5, sets, &a) == 0);
	CHECK(sim("accessed", NULL, 5, sets, &b) == 0);
	CHECK(sim("accessed", NULL, 6, sets, &c) == 0);
	CHECK(a.digest == b.digest && a.zaps == b.zaps && a.rebuilds == b.rebuilds);
	CHECK(a.digest != c.digest);
}

/* What the recorded samples show at the seed's limit: their guests (busybox, 256 MiB, one
 * vCPU) never fill a 64-page pool, so no policy has anything to decide there
 * (docs/models/shadow.md has the smaller limits where they do). */
TEST(recorded_fork_tar_sample_never_fills_a_64_page_pool)
{
	char path[512];
	struct result f, c;

	snprintf(path, sizeof(path), "%s/traces/samples/fork-tar-2g-10s.mst",
		 getenv("MEMSIM_TOP") ? getenv("MEMSIM_TOP") : ".");
	if (sim("fifo", path, 1, NULL, &f) || sim("clock", path, 1, NULL, &c)) {
		CHECK(0);
		return;
	}
	CHECK_EQ_U64(f.recycled, 0);
	CHECK(f.peak < 64 - 5);
	CHECK(f.zaps == c.zaps && f.faults == c.faults);
	CHECK(f.zaps > 1000);                      /* guest frees of page tables */
	CHECK(f.violations == 0);
}

/* ---- seed 003's finding: loaded roots, the patch's fallback, EPT ------------------------ */

/*
 * Why skipping loaded roots is worth little in this model: the figures the docs report at
 * the seed's limit 64 (docs/models/shadow.md, "Skipping loaded roots").  Counts only.
 * fifo zaps loaded roots and pays reloads; fifo-skip-roots never does; both agree on
 * everything else to within the loaded roots' share of the victims.
 */
TEST(fifo_zaps_loaded_roots_and_reloads_fifo_skip_roots_never_does)
{
	const char *sets[] = { NULL };
	const char *scen[] = { NULL, "scenario:long-lived" };
	unsigned k;

	for (k = 0; k < 2; k++) {
		struct result f, sr;

		if (sim("fifo", scen[k], 1, sets, &f) || sim("fifo-skip-roots", scen[k], 1, sets, &sr)) {
			CHECK(0);
			return;
		}
		CHECK(f.recycled > 1000);
		CHECK(f.roots_zapped > 0 && f.reload_requests == f.roots_zapped);
		/* each request reaches every vCPU on a root (requests coalesce, and a cr3
		 * load does a reload's work) */
		CHECK(f.root_reloads > 0);
		/* an invalid root goes when its vCPU reloads or loads another cr3 */
		CHECK(f.invalid_freed > 0 && f.invalid_freed <= f.roots_zapped);
		CHECK(sr.roots_zapped == 0 && sr.root_reloads == 0 && sr.reload_requests == 0);
		CHECK(sr.zaps < f.zaps && sr.rebuilds < f.rebuilds);
		/* the measured gain is small: at most the loaded roots' share of the victims,
		 * about two rebuilds for each loaded root fifo took */
		CHECK(f.rebuilds - sr.rebuilds <= 4 * f.roots_zapped);
		CHECK(f.violations == 0 && sr.violations == 0 && f.errors == 0 && sr.errors == 0);
		CHECK(f.stuck == 0 && sr.stuck == 0);
	}
}

/* The targets at limit 64, recorded as measured: clock beats fifo by 8.8 % (zaps)
 * and 9.3 % (rebuilds) on working-set seed 1, not the 10 % asked; fifo-skip-roots by 0.4 %
 * and 0.4 %; on long-lived fifo-skip-roots rebuilds 0.96 x fifo's, not <= 0.8 x.  These
 * assertions hold the figures the docs give, so a change that moves them is seen. */
TEST(limit_64_figures_are_the_ones_the_docs_report)
{
	struct result f, sr, c, lf, lsr;

	if (sim("fifo", NULL, 1, NULL, &f) || sim("fifo-skip-roots", NULL, 1, NULL, &sr) ||
	    sim("clock", NULL, 1, NULL, &c) || sim("fifo", "scenario:long-lived", 1, NULL, &lf) ||
	    sim("fifo-skip-roots", "scenario:long-lived", 1, NULL, &lsr)) {
		CHECK(0);
		return;
	}
	CHECK(c.zaps <= 0.92 * f.zaps && c.zaps > 0.90 * f.zaps);
	CHECK(c.rebuilds <= 0.92 * f.rebuilds && c.rebuilds > 0.90 * f.rebuilds);
	CHECK(sr.zaps < f.zaps && sr.zaps > 0.99 * f.zaps);
	CHECK(sr.rebuilds < f.rebuilds && sr.rebuilds > 0.99 * f.rebuilds);
	CHECK(lsr.rebuilds < 0.97 * lf.rebuilds && lsr.rebuilds > 0.8 * lf.rebuilds);
}

/*
 * clock, the patch's fallback, limit 5, window 1 (overscan_div 8): [R A B C D] with R
 * loaded and every link accessed.  R->E: the hand looks at R (a loaded root: accessed);
 * the window is over and no leaf was seen, so the patch takes the tail: R itself.  R turns
 * invalid, the next victim is found, and the vCPU reloads at its next walk.  With
 * clock_fallback_skips_roots = 1 the root is never taken.
 */
TEST(clock_falls_back_to_the_tail_even_a_loaded_root_as_the_patch_does)
{
	unsigned fb;

	for (fb = 0; fb <= 1; fb++) {
		struct shadow_model *m;
		struct shadow_vcpu_info vi;

		clock_fallback_skips_roots = fb;
		m = mk("clock", 5, 1, 1, 8);
		clock_fallback_skips_roots = 0;
		shadow_load_root(m, 0, R);
		walk2(m, R, A, true);
		walk2(m, R, B, true);
		walk2(m, R, C, true);
		walk2(m, R, D, true);
		CHECK(walk2(m, R, E, true) == 1);
		CHECK(shadow_vcpu_info(m, 0, &vi) == 0);
		if (!fb) {
			CHECK_EQ_U64(m->stats.roots_zapped, 1);
			CHECK(vi.root_invalid && vi.reload_pending);
			CHECK(shadow_check(m) == 0);
			CHECK(walk2(m, R, E, true) >= 0);
			CHECK_EQ_U64(m->stats.root_reloads, 1);
			CHECK_EQ_U64(m->stats.invalid_roots_freed, 1);
		} else {
			CHECK_EQ_U64(m->stats.roots_zapped, 0);
			CHECK(!vi.root_invalid && !vi.reload_pending);
		}
		CHECK(shadow_check(m) == 0);
		shadow_model_destroy(m);
	}
}

/* A reload request reaches every vCPU on a root, each reloads once at its next operation;
 * the invalid root goes with the last of its vCPUs; a cr3 load also lets it go. */
TEST(a_zapped_loaded_root_waits_for_every_vcpu_on_it)
{
	struct shadow_model *m = mk("fifo", 6, 1, 1, 4);
	struct shadow_vcpu_info vi;
	struct shadow_key r = R;
	uint32_t v;

	for (v = 0; v < 3; v++)
		shadow_load_root(m, v, R);            /* three vCPUs share R */
	walk2(m, R, A, true);
	walk2(m, R, B, true);
	walk2(m, R, C, true);
	shadow_load_root(m, 3, K(200, 2));
	/* [R A B C S] + R->D: 1 free, no reclaim; R->E: victim R (loaded on 3 vCPUs),
	 * turned invalid, then A */
	walk2(m, R, D, true);
	CHECK(walk2(m, R, E, true) == 1);
	CHECK_EQ_U64(m->stats.roots_zapped, 1);
	CHECK_EQ_U64(m->ninvalid, 1);
	for (v = 0; v < 4; v++) {
		CHECK(shadow_vcpu_info(m, v, &vi) == 0);
		CHECK(vi.reload_pending);                 /* every vCPU, as in 2009 */
		CHECK(vi.root_invalid == (v < 3));
	}
	CHECK(shadow_check(m) == 0);
	CHECK(shadow_walk(m, 1, &r, 1, true) >= 0);  /* vCPU 1 reloads: R* still held */
	CHECK_EQ_U64(m->stats.root_reloads, 1);
	CHECK_EQ_U64(m->ninvalid, 1);
	CHECK(shadow_load_root(m, 2, K(300, 2)) >= 0);   /* vCPU 2 moves away: no reload */
	CHECK_EQ_U64(m->stats.root_reloads, 1);
	CHECK_EQ_U64(m->ninvalid, 1);
	CHECK(shadow_walk(m, 0, &r, 1, true) >= 0);  /* the last one: R* freed */
	CHECK_EQ_U64(m->stats.root_reloads, 2);
	CHECK_EQ_U64(m->ninvalid, 0);
	CHECK_EQ_U64(m->stats.invalid_roots_freed, 1);
	CHECK(shadow_check(m) == 0);
	shadow_model_destroy(m);
}

/*
 * EPT/TDP: no accessed bits, so `accessed` is refused, and clock with the patch's restart
 * at the tail is exactly fifo-skip-roots (the seed's "not zapping shadow pages with
 * root_count != 0 already makes much difference" was measured on EPT).  Roots are per vCPU
 * and loaded once.
 */
TEST(tdp_has_no_accessed_bits_and_clock_becomes_fifo_skip_roots)
{
	const char *tdp[] = { "tdp=1", NULL };
	const char *tdp0[] = { "tdp=1", "hand_persist=0", NULL };
	struct shadow_params p;
	struct result f, sr, c;
	struct run_opts o = { .model = "shadow", .policy = "accessed", .seed = 1,
			      .profile = "seed-2012", .scenario = "long-lived" };
	char err[1024];
	struct run r;

	shadow_params_default(&p);
	p.tdp = 1;
	CHECK(shadow_model_create(&shadow_accessed_policy, &p) == NULL);
	CHECK(shadow_policy_usable(&shadow_clock_policy, &p) == 0);
	o.sets[o.nsets++] = "tdp=1";
	CHECK(run_prepare(&r, &o, err, sizeof(err)) != 0 || run_execute(&r, err, sizeof(err)) != 0);
	CHECK(strstr(err, "accessed bits") != NULL);
	run_free(&r);

	if (sim("fifo", "scenario:long-lived", 1, tdp, &f) ||
	    sim("fifo-skip-roots", "scenario:long-lived", 1, tdp, &sr) ||
	    sim("clock", "scenario:long-lived", 1, tdp0, &c)) {
		CHECK(0);
		return;
	}
	CHECK(f.ept_walks > 10000 && f.ept_root_loads == 2);   /* one root per vCPU */
	CHECK(f.recycled > 1000);
	CHECK(c.zaps == sr.zaps && c.rebuilds == sr.rebuilds && c.faults == sr.faults);
	CHECK(f.roots_zapped > 0 && f.root_reloads > 0 && sr.roots_zapped == 0);
	CHECK(sr.rebuilds < f.rebuilds);
	CHECK(f.violations == 0 && sr.violations == 0 && c.violations == 0);
}

/* long-lived: daemons' tables are allocated first; children come and go on every vCPU. */
TEST(long_lived_scenario_has_daemons_first_and_short_lived_children)
{
	struct result f;

	if (sim("fifo", "scenario:long-lived", 1, NULL, &f)) {
		CHECK(0);
		return;
	}
	/* 6 daemons x 10 tables, then children of 5 tables each, all freed by the end */
	CHECK(f.pt_allocs > 6 * 10 + 100 * 5);
	CHECK(f.unknown_frees == 0 && f.synthetic == 0 && f.errors == 0);
	CHECK(f.peak <= 64 && f.recycled > 1000);
}

/*
 * Issue 9 item 11: many domain_create records, each for 4096 vCPUs, cost what they use.
 * 2^18 domains are created (records on vCPU 4095, arg 4096) and 256 of them do a cr3 load
 * and a walk on vCPU 4095.  Per-domain and per-vCPU state (state_bytes_peak) must stay
 * under 64 bytes per idle domain plus 8 KiB per used one; the run also fits a 1 GiB
 * address-space limit (not checked under the sanitizers, which reserve far more).
 */
static int write_many_domains(const char *path, uint32_t ndoms, uint32_t used)
{
	struct trace_header h;
	struct trace_writer *w;
	struct trace_rec r;
	char err[512];
	uint32_t i;

	memset(&h, 0, sizeof(h));
	h.page_size = 4096;
	snprintf(h.source, sizeof(h.source), "synthetic:test");
	snprintf(h.recorder, sizeof(h.recorder), "test_shadow");
	w = trace_writer_open(path, &h, err, sizeof(err));
	if (!w)
		return -1;
	for (i = 0; i < ndoms; i++) {
		memset(&r, 0, sizeof(r));
		r.time_ns = i;
		r.domain = i + 1;
		r.vcpu = 4095;
		r.type = TR_DOMAIN_CREATE;
		r.arg = 4096;
		if (trace_writer_put(w, &r))
			goto fail;
		if (i < used) {
			r.type = TR_CR3_LOAD;
			r.frame = 0x1000 + i;
			r.arg = 0;
			if (trace_writer_put(w, &r))
				goto fail;
			r.type = TR_PAGE_FAULT;
			r.frame = 0x2000 + i;
			r.arg = 1;
			if (trace_writer_put(w, &r))
				goto fail;
		}
	}
	return trace_writer_close(w, err, sizeof(err));
fail:
	trace_writer_abort(w);
	return -1;
}

TEST(many_domains_of_4096_vcpus_cost_what_they_use)
{
	char dir[] = "/tmp/memsim-shadow-XXXXXX", path[512];
	const uint32_t ndoms = 1u << 18, used = 256;
	struct result f;
	pid_t pid;
	int st = 0;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/doms.mst", dir);
	CHECK(write_many_domains(path, ndoms, used) == 0);
	CHECK(sim("fifo", path, 1, NULL, &f) == 0);
	CHECK(f.implicit_domains == 0 && f.violations == 0 && f.errors == 0);
	CHECK(f.state_bytes > 0);
	CHECK(f.state_bytes < 64.0 * ndoms + 8192.0 * used);
	printf("# %u domains (%u used): state_bytes_peak %.0f\n", ndoms, used, f.state_bytes);
	if (!getenv("MEMSIM_SANITIZED")) {
		pid = fork();
		if (pid == 0) {
			struct rlimit rl = { 1ul << 30, 1ul << 30 };
			struct result g;

			setrlimit(RLIMIT_AS, &rl);
			_exit(sim("fifo", path, 1, NULL, &g) == 0 && g.errors == 0 ? 0 : 1);
		}
		CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	return test_main();
}
