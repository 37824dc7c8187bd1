/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_superpage.c — superpage reference counting (models/superpage.c, seed 002):
 * the count rules of each policy, the seed's safety rules (marks do not nest, a double unmark
 * is refused, a marked page never becomes a page table, no count underflows, nothing left
 * at destruction), a random request mix against a reference model, allocation failures,
 * and the fork storm through the simulator (the seed's ratio, determinism).
 */
#include <stdlib.h>
#include <string.h>

#include "env_user.h"
#include "profile.h"
#include "run.h"
#include "superpage.h"
#include "test.h"

#define DOM 7
#define BASE 0x40000ULL     /* a superpage-aligned gfn */

static struct superpage_model *model_p(const char *policy, uint64_t busy_check)
{
	struct superpage_params p;
	struct superpage_model *m;

	superpage_params_default(&p);
	p.unmark_busy_check = busy_check;
	m = superpage_model_create(superpage_policy_find(policy), &p);
	if (!m || superpage_domain_create(m, DOM)) {
		printf("# cannot create the model\n");
		exit(1);
	}
	return m;
}

static struct superpage_model *model(const char *policy) { return model_p(policy, 1); }

static uint64_t sp(unsigned i) { return BASE + (uint64_t)i * SP_PAGES; }

static struct superpage_page_info info(const struct superpage_model *m, uint64_t gfn)
{
	struct superpage_page_info pi;

	memset(&pi, 0, sizeof(pi));
	superpage_page_info(m, DOM, gfn, &pi);
	return pi;
}

/* Every page of superpage i has this reference and type count (leading page: lead_tc). */
static bool counts_are(const struct superpage_model *m, unsigned i, uint32_t count, uint32_t tc,
		       uint32_t lead_count, uint32_t lead_tc)
{
	unsigned k;

	for (k = 0; k < SP_PAGES; k++) {
		struct superpage_page_info pi = info(m, sp(i) + k);

		if (pi.count != (k ? count : lead_count) || pi.type_count != (k ? tc : lead_tc))
			return false;
	}
	return true;
}

static void populate(struct superpage_model *m, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (superpage_populate(m, DOM, sp(i), SP_ORDER)) {
			printf("# populate failed\n");
			exit(1);
		}
	work_reset(&m->work);
}

/* ---- count rules ----------------------------------------------------------------------- */

TEST(per_page_map_takes_a_reference_and_type_count_on_every_page)
{
	struct superpage_model *m = model("per-page");

	populate(m, 1);
	CHECK(counts_are(m, 0, 1, 0, 1, 0));
	CHECK_EQ_U64(superpage_map(m, DOM, sp(0)), SP_PATH_PERPAGE);
	CHECK(counts_are(m, 0, 2, 1, 2, 1));
	CHECK(info(m, sp(0) + 17).type == SP_T_WRITABLE);
	/* 512 references + 512 type counts, and the page-table page's own reference */
	CHECK_EQ_U64(m->work.n[WU_REFCOUNT], 2 * SP_PAGES + 1);
	CHECK_EQ_U64(m->work.n[WU_LOCK], 1);
	CHECK_EQ_U64(superpage_map(m, DOM, sp(0)), SP_PATH_PERPAGE);
	CHECK(counts_are(m, 0, 3, 2, 3, 2));
	work_reset(&m->work);
	CHECK_EQ_U64(superpage_unmap(m, DOM, sp(0)), SP_PATH_PERPAGE);
	CHECK_EQ_U64(m->work.n[WU_PAGE_PUT], SP_PAGES + 1);
	CHECK_EQ_U64(superpage_unmap(m, DOM, sp(0)), SP_PATH_PERPAGE);
	CHECK(counts_are(m, 0, 1, 0, 1, 0));
	CHECK(info(m, sp(0) + 17).type == SP_T_NONE);
	CHECK(superpage_check(m) == 0);
	superpage_model_destroy(m);
}

TEST(per_page_policy_ignores_marks)
{
	struct superpage_model *m = model("per-page");

	populate(m, 1);
	CHECK(superpage_mark(m, DOM, sp(0)) == 1);
	CHECK(superpage_unmark(m, DOM, sp(0)) == 1);
	CHECK(counts_are(m, 0, 1, 0, 1, 0));
	CHECK_EQ_U64(m->stats.marks_ignored, 2);
	CHECK_EQ_U64(m->work.n[WU_REFCOUNT], 0);
	superpage_model_destroy(m);
}

TEST(marked_map_touches_only_the_leading_page)
{
	struct superpage_model *m = model("marked");

	populate(m, 1);
	CHECK(superpage_mark(m, DOM, sp(0)) == 0);
	CHECK(info(m, sp(0)).marked && !info(m, sp(0) + 1).marked);
	/* the mark: one reference + one writable type count on each page */
	CHECK(counts_are(m, 0, 2, 1, 2, 1));
	CHECK_EQ_U64(m->work.n[WU_REFCOUNT], 2 * SP_PAGES);
	work_reset(&m->work);
	CHECK_EQ_U64(superpage_map(m, DOM, sp(0)), SP_PATH_MARKED);
	CHECK_EQ_U64(superpage_map(m, DOM, sp(0)), SP_PATH_MARKED);
	CHECK(counts_are(m, 0, 2, 1, 2, 3));
	/* per map: one type count on the leading page + the page-table page's reference */
	CHECK_EQ_U64(m->work.n[WU_REFCOUNT], 2 * 2);
	CHECK_EQ_U64(superpage_unmap(m, DOM, sp(0)), SP_PATH_MARKED);
	CHECK_EQ_U64(superpage_unmap(m, DOM, sp(0)), SP_PATH_MARKED);
	CHECK(superpage_unmark(m, DOM, sp(0)) == 0);
	CHECK(counts_are(m, 0, 1, 0, 1, 0));
	CHECK(!info(m, sp(0)).marked);
	CHECK(superpage_check(m) == 0);
	superpage_model_destroy(m);
}

TEST(marked_policy_maps_an_unmarked_superpage_per_page)
{
	struct superpage_model *m = model("marked");

	populate(m, 1);
	CHECK_EQ_U64(superpage_map(m, DOM, sp(0)), SP_PATH_PERPAGE);
	CHECK(counts_are(m, 0, 2, 1, 2, 1));
	CHECK_EQ_U64(superpage_unmap(m, DOM, sp(0)), SP_PATH_PERPAGE);
	CHECK(superpage_check(m) == 0);
	superpage_model_destroy(m);
}

/* ---- the seed's safety rules ----------------------------------------------------------- */

TEST(marking_does_not_nest)
{
	struct superpage_model *m = model("marked");

	populate(m, 1);
	CHECK(superpage_mark(m, DOM, sp(0)) == 0);
	CHECK(superpage_mark(m, DOM, sp(0)) == -EINVAL);
	CHECK(counts_are(m, 0, 2, 1, 2, 1));
	CHECK(superpage_unmark(m, DOM, sp(0)) == 0);
	CHECK(counts_are(m, 0, 1, 0, 1, 0));
	CHECK_EQ_U64(m->stats.rejected, 1);
	superpage_model_destroy(m);
}

TEST(double_unmark_is_rejected_with_einval)
{
	struct superpage_model *m = model("marked");

	populate(m, 1);
	CHECK(superpage_unmark(m, DOM, sp(0)) == -EINVAL);
	CHECK(superpage_mark(m, DOM, sp(0)) == 0);
	CHECK(superpage_unmark(m, DOM, sp(0)) == 0);
	CHECK(superpage_unmark(m, DOM, sp(0)) == -EINVAL);
	CHECK(counts_are(m, 0, 1, 0, 1, 0));
	CHECK_EQ_U64(superpage_violations(m), 0);
	CHECK(superpage_check(m) == 0);
	superpage_model_destroy(m);
}

TEST(unmark_while_mapped_is_busy)
{
	struct superpage_model *m = model("marked");

	populate(m, 1);
	CHECK(superpage_mark(m, DOM, sp(0)) == 0);
	CHECK(superpage_map(m, DOM, sp(0)) == SP_PATH_MARKED);
	CHECK(superpage_unmark(m, DOM, sp(0)) == -EBUSY);
	CHECK(info(m, sp(0)).marked);
	CHECK(superpage_unmap(m, DOM, sp(0)) == SP_PATH_MARKED);
	CHECK(superpage_unmark(m, DOM, sp(0)) == 0);
	CHECK(superpage_check(m) == 0);
	superpage_model_destroy(m);
}

TEST(mark_while_mapped_per_page_is_busy)
{
	struct superpage_model *m = model("marked");

	populate(m, 1);
	CHECK(superpage_map(m, DOM, sp(0)) == SP_PATH_PERPAGE);
	CHECK(superpage_mark(m, DOM, sp(0)) == -EBUSY);
	CHECK(!info(m, sp(0)).marked);
	CHECK(counts_are(m, 0, 2, 1, 2, 1));
	CHECK(superpage_check(m) == 0);
	superpage_model_destroy(m);
}

TEST(marked_page_never_becomes_a_page_table)
{
	struct superpage_model *m = model("marked");
	unsigned k;

	populate(m, 2);
	CHECK(superpage_mark(m, DOM, sp(0)) == 0);
	for (k = 0; k < SP_PAGES; k += 37)
		CHECK(superpage_pt_alloc(m, DOM, sp(0) + k) == -EBUSY);
	CHECK_EQ_U64(m->stats.pt_rejected_marked, (SP_PAGES + 36) / 37);
	CHECK(info(m, sp(0) + 37).type == SP_T_WRITABLE);
	/* and a superpage holding a page table cannot be marked */
	CHECK(superpage_pt_alloc(m, DOM, sp(1) + 300) == 0);
	CHECK(info(m, sp(1) + 300).type == SP_T_PT);
	CHECK(superpage_mark(m, DOM, sp(1)) == -EBUSY);
	CHECK(counts_are(m, 1, 1, 0, 1, 0) == false);   /* page 300 holds the pin */
	CHECK(info(m, sp(1) + 299).count == 1 && info(m, sp(1) + 299).type_count == 0);
	CHECK(superpage_check(m) == 0);
	/* once unmarked, the page may become a page table */
	CHECK(superpage_unmark(m, DOM, sp(0)) == 0);
	CHECK(superpage_pt_alloc(m, DOM, sp(0) + 37) == 0);
	CHECK(superpage_mark(m, DOM, sp(0)) == -EBUSY);
	CHECK(superpage_check(m) == 0);
	superpage_model_destroy(m);
}

TEST(per_page_map_over_a_page_table_is_refused_and_undone)
{
	struct superpage_model *m = model("per-page");
	struct superpage_page_info pi;

	populate(m, 1);
	CHECK(superpage_pt_alloc(m, DOM, sp(0) + 300) == 0);
	work_reset(&m->work);
	CHECK(superpage_map(m, DOM, sp(0)) == -EBUSY);
	/* 300 pages were taken, then released again: the failed map cost work */
	CHECK_EQ_U64(m->work.n[WU_PAGE_PUT], 300 + 1);
	pi = info(m, sp(0) + 299);
	CHECK(pi.count == 1 && pi.type_count == 0 && pi.type == SP_T_NONE);
	pi = info(m, sp(0) + 300);
	CHECK(pi.count == 2 && pi.type_count == 1 && pi.type == SP_T_PT);
	CHECK_EQ_U64(superpage_mappings(m, DOM, sp(0)), 0);
	CHECK(superpage_pt_free(m, DOM, sp(0) + 300) == 0);
	CHECK(superpage_map(m, DOM, sp(0)) == SP_PATH_PERPAGE);
	CHECK(superpage_pt_alloc(m, DOM, sp(0) + 5) == -EBUSY);   /* mapped writable */
	CHECK_EQ_U64(m->stats.pt_rejected_marked, 0);
	CHECK(superpage_check(m) == 0);
	superpage_model_destroy(m);
}

TEST(unmap_of_an_unmapped_superpage_is_rejected_without_underflow)
{
	const char *pols[] = { "per-page", "marked" };
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct superpage_model *m = model(pols[i]);

		populate(m, 1);
		CHECK(superpage_unmap(m, DOM, sp(0)) == -EINVAL);
		CHECK(superpage_unmap(m, DOM, sp(5)) == -EINVAL);     /* no state at all */
		if (i == 1) {
			CHECK(superpage_mark(m, DOM, sp(0)) == 0);
			CHECK(superpage_unmap(m, DOM, sp(0)) == -EINVAL);  /* the mark is no mapping */
		}
		CHECK_EQ_U64(superpage_violations(m), 0);
		CHECK(superpage_check(m) == 0);
		superpage_model_destroy(m);
	}
}

TEST(requests_on_bad_addresses_are_refused)
{
	struct superpage_params p;
	struct superpage_model *m;

	superpage_params_default(&p);
	p.max_gb = 1;
	m = superpage_model_create(&superpage_marked_policy, &p);
	CHECK(m && superpage_domain_create(m, DOM) == 0);
	CHECK(superpage_domain_create(m, DOM) == -EEXIST);
	CHECK(superpage_populate(m, DOM, 0, SP_ORDER) == 0);
	CHECK(superpage_map(m, DOM, 1) == -EINVAL);                  /* not aligned */
	CHECK(superpage_map(m, DOM, 1ULL << 18) == -ERANGE);         /* beyond 1 GiB */
	CHECK(superpage_populate(m, DOM, (1ULL << 18) - 1, 1) == -ERANGE);
	CHECK(superpage_populate(m, DOM, 0, 41) == -ERANGE);
	CHECK(superpage_map(m, DOM + 1, 0) == -ENOENT);
	CHECK(superpage_map(m, DOM, SP_PAGES) == -ENOENT);            /* not populated */
	CHECK(superpage_pt_alloc(m, DOM, SP_PAGES + 3) == -ENOENT);
	CHECK(superpage_pt_free(m, DOM, 3) == -EINVAL);
	CHECK(superpage_domain_destroy(m, DOM + 1) == -ENOENT);
	CHECK_EQ_U64(m->stats.rejected, 10);
	CHECK(superpage_check(m) == 0);
	superpage_model_destroy(m);
}

TEST(partly_populated_superpage_cannot_be_mapped_or_marked)
{
	const char *pols[] = { "per-page", "marked" };
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct superpage_model *m = model(pols[i]);

		CHECK(superpage_populate(m, DOM, sp(0), SP_ORDER - 1) == 0);   /* first half */
		CHECK(superpage_map(m, DOM, sp(0)) == -ENOENT);
		if (i == 1)
			CHECK(superpage_mark(m, DOM, sp(0)) == -ENOENT);
		CHECK(info(m, sp(0) + 3).count == 1 && info(m, sp(0) + 3).type_count == 0);
		CHECK(superpage_check(m) == 0);
		superpage_model_destroy(m);
	}
}

TEST(release_of_pages_in_use_is_busy_and_free_pages_go)
{
	struct superpage_model *m = model("marked");
	uint64_t bytes;

	populate(m, 2);
	bytes = m->mem.live_bytes;
	CHECK(superpage_mark(m, DOM, sp(0)) == 0);
	CHECK(superpage_release(m, DOM, sp(0), SP_ORDER + 1) == -EBUSY);
	CHECK_EQ_U64(m->stats.pages_live, 2 * SP_PAGES);
	CHECK(superpage_release(m, DOM, sp(1), SP_ORDER) == 0);
	CHECK_EQ_U64(m->stats.pages_live, SP_PAGES);
	CHECK(m->mem.live_bytes < bytes);                 /* the emptied block is freed */
	CHECK(superpage_page_info(m, DOM, sp(1), &(struct superpage_page_info){ 0 }) == -ENOENT);
	CHECK(superpage_check(m) == 0);
	superpage_model_destroy(m);
}

/* ---- destruction ------------------------------------------------------------------------- */

TEST(counts_are_zero_at_domain_destruction_with_live_mappings_marks_and_page_tables)
{
	const char *pols[] = { "per-page", "marked" };
	unsigned i, k;

	for (i = 0; i < 2; i++) {
		struct superpage_model *m = model(pols[i]);
		uint64_t base_bytes = m->mem.live_bytes;

		populate(m, 8);
		CHECK(superpage_populate(m, DOM, sp(40) + 3, 0) == 0);   /* a lone page */
		for (k = 0; k < 8; k += 2)
			superpage_mark(m, DOM, sp(k));
		for (k = 0; k < 8; k++)
			CHECK(superpage_map(m, DOM, sp(k)) >= 0);
		for (k = 0; k < 8; k += 3)
			CHECK(superpage_map(m, DOM, sp(k)) >= 0);
		CHECK(superpage_pt_alloc(m, DOM, sp(40) + 3) == 0);
		CHECK(superpage_check(m) == 0);
		CHECK(superpage_domain_destroy(m, DOM) == 0);
		CHECK_EQ_U64(m->stats.leaks, 0);
		CHECK_EQ_U64(superpage_violations(m), 0);
		CHECK_EQ_U64(m->stats.pages_live, 0);
		CHECK(!superpage_domain_exists(m, DOM));
		CHECK(m->work.n[WU_PAGE_PUT] > 0);                      /* the teardown cost work */
		CHECK(superpage_check(m) == 0);
		/* what is left is the model and its (empty) domain table */
		CHECK(m->mem.live_bytes <= base_bytes);
		superpage_model_destroy(m);
	}
}

TEST(unmark_without_busy_check_underflows_are_refused_and_counted)
{
	/* The seed's open question: nothing stops an unmark while superpage PTEs remain.
	 * The later unmap then releases through the per-page path pages that hold no count
	 * for it; the model refuses each decrement (no wrap) and counts violations.  The leading
	 * page's stray put consumes its allocation reference: exactly the forged count the
	 * seed's reviewer feared, caught again when the domain is destroyed. */
	struct superpage_model *m = model_p("marked", 0);
	unsigned k;

	populate(m, 1);
	CHECK(superpage_mark(m, DOM, sp(0)) == 0);
	CHECK(superpage_map(m, DOM, sp(0)) == SP_PATH_MARKED);
	CHECK(superpage_unmark(m, DOM, sp(0)) == 0);
	CHECK(superpage_unmap(m, DOM, sp(0)) == SP_PATH_PERPAGE);
	CHECK_EQ_U64(m->stats.underflows, SP_PAGES - 1);
	CHECK_EQ_U64(m->stats.path_mismatch, 1);
	CHECK(superpage_violations(m) > 0);
	CHECK(superpage_check(m) == -EINVAL);
	for (k = 1; k < SP_PAGES; k++)
		CHECK(info(m, sp(0) + k).count == 1 && info(m, sp(0) + k).type_count == 0);
	CHECK(info(m, sp(0)).count == 0 && info(m, sp(0)).allocated);
	CHECK(superpage_domain_destroy(m, DOM) == 0);
	CHECK_EQ_U64(m->stats.underflows, SP_PAGES);
	CHECK_EQ_U64(m->stats.leaks, 0);
	superpage_model_destroy(m);
}

/* ---- random request mix against a reference model ---------------------------------------- */

#define NSP 6

struct ref_sp {
	bool populated, marked;
	uint32_t maps_pp, maps_mk;
	bool pt[SP_PAGES];
	unsigned npt;
};

static uint64_t rng = 2010;

static uint64_t rnd(uint64_t n)
{
	rng += 0x9e3779b97f4a7c15ULL;
	return env_mix64(rng) % n;
}

/* What each request must return, from the rules alone; applies it to the reference. */
static int ref_apply(struct ref_sp *r, bool marked_pol, unsigned op, unsigned page)
{
	switch (op) {
	case 0:   /* map */
		if (!r->populated)
			return -ENOENT;
		if (marked_pol && r->marked) {
			r->maps_mk++;
			return SP_PATH_MARKED;
		}
		if (r->npt)
			return -EBUSY;
		r->maps_pp++;
		return SP_PATH_PERPAGE;
	case 1:   /* unmap */
		if (!r->maps_pp && !r->maps_mk)
			return -EINVAL;
		if (marked_pol && r->marked) {
			r->maps_mk--;
			return SP_PATH_MARKED;
		}
		r->maps_pp--;
		return SP_PATH_PERPAGE;
	case 2:   /* mark */
		if (!marked_pol)
			return 1;
		if (!r->populated)
			return -ENOENT;
		if (r->marked)
			return -EINVAL;
		if (r->maps_pp || r->npt)
			return -EBUSY;
		r->marked = true;
		return 0;
	case 3:   /* unmark */
		if (!marked_pol)
			return 1;
		if (!r->populated || !r->marked)
			return -EINVAL;
		if (r->maps_mk)
			return -EBUSY;
		r->marked = false;
		return 0;
	case 4:   /* pt_alloc */
		if (!r->populated)
			return -ENOENT;
		if (r->pt[page])
			return -EINVAL;
		if (r->marked || r->maps_pp)
			return -EBUSY;
		r->pt[page] = true;
		r->npt++;
		return 0;
	case 5:   /* pt_free */
		if (!r->populated || !r->pt[page])
			return -EINVAL;
		r->pt[page] = false;
		r->npt--;
		return 0;
	case 6:   /* populate */
		r->populated = true;
		return 0;
	default:  /* release */
		if (r->populated && (r->marked || r->maps_pp || r->maps_mk || r->npt))
			return -EBUSY;
		r->populated = false;
		return 0;
	}
}

static int model_apply(struct superpage_model *m, unsigned i, unsigned op, unsigned page)
{
	switch (op) {
	case 0: return superpage_map(m, DOM, sp(i));
	case 1: return superpage_unmap(m, DOM, sp(i));
	case 2: return superpage_mark(m, DOM, sp(i));
	case 3: return superpage_unmark(m, DOM, sp(i));
	case 4: return superpage_pt_alloc(m, DOM, sp(i) + page);
	case 5: return superpage_pt_free(m, DOM, sp(i) + page);
	case 6: return superpage_populate(m, DOM, sp(i), SP_ORDER);
	default: return superpage_release(m, DOM, sp(i), SP_ORDER);
	}
}

/* A page's counts as the reference says they must be. */
static bool page_matches(const struct superpage_model *m, const struct ref_sp *r, unsigned i,
			 unsigned k)
{
	struct superpage_page_info pi;
	uint32_t tc, count;

	if (superpage_page_info(m, DOM, sp(i) + k, &pi))
		return !r->populated;
	if (!r->populated)
		return pi.count == 0 && pi.type_count == 0;
	if (r->pt[k])
		return pi.type == SP_T_PT && pi.type_count == 1 && pi.count == 2;
	tc = r->marked + r->maps_pp + (k == 0 ? r->maps_mk : 0);
	count = 1 + r->marked + r->maps_pp;
	return pi.count == count && pi.type_count == tc && pi.marked == (k == 0 && r->marked);
}

static void random_mix(const char *policy, uint64_t fail_every, unsigned steps)
{
	static struct ref_sp ref[NSP];
	struct superpage_model *m = model(policy);
	bool marked_pol = !strcmp(policy, "marked");
	unsigned s, bad = 0, mismatched = 0, enomem = 0, ok[8] = { 0 }, refused[8] = { 0 }, op;

	memset(ref, 0, sizeof(ref));
	env_fail_every(fail_every);
	for (s = 0; s < steps; s++) {
		unsigned i = (unsigned)rnd(NSP), page = (unsigned)rnd(4) * 129;
		struct ref_sp before = ref[i];

		op = (unsigned)rnd(8);
		int want = ref_apply(&ref[i], marked_pol, op, page);
		int got = model_apply(m, i, op, page);

		if (got == -ENOMEM) {
			ref[i] = before;   /* refused for lack of memory: nothing changed */
			enomem++;
		} else if (got != want) {
			if (!mismatched++)
				printf("# step %u: sp %u op %u page %u: model %d, reference %d\n",
				       s, i, op, page, got, want);
		}
		if (got >= 0)
			ok[op]++;
		else if (got != -ENOMEM)
			refused[op]++;
		if (s % 64 == 0 || s + 1 == steps) {
			unsigned k;

			bad += superpage_check(m) != 0;
			for (i = 0; i < NSP; i++)
				for (k = 0; k < SP_PAGES; k += 43)
					bad += !page_matches(m, &ref[i], i, k);
		}
	}
	env_fail_reset();
	CHECK_EQ_U64(mismatched, 0);
	CHECK_EQ_U64(bad, 0);
	CHECK(fail_every == 0 || enomem > 0);
	/* every kind of request both succeeded and was refused (populate is never refused;
	 * marks under per-page are ignored, never refused) */
	for (op = 0; op < 8; op++) {
		CHECK(ok[op] > 0);
		CHECK(refused[op] > 0 || op == 6 || (!marked_pol && (op == 2 || op == 3)));
	}
	CHECK_EQ_U64(superpage_violations(m), 0);
	CHECK(superpage_domain_destroy(m, DOM) == 0);
	CHECK_EQ_U64(m->stats.leaks, 0);
	CHECK_EQ_U64(m->stats.pages_live, 0);
	superpage_model_destroy(m);
}

TEST(random_requests_follow_the_rules_and_keep_every_invariant_per_page)
{
	random_mix("per-page", 0, 6000);
}

TEST(random_requests_follow_the_rules_and_keep_every_invariant_marked)
{
	random_mix("marked", 0, 6000);
}

/* ---- allocation failures --------------------------------------------------------------- */

TEST(allocation_failure_refuses_the_request_and_is_counted)
{
	struct superpage_params p;
	struct superpage_model *m;

	superpage_params_default(&p);
	env_fail_after(0);
	CHECK(superpage_model_create(&superpage_marked_policy, &p) == NULL);
	env_fail_reset();
	m = superpage_model_create(&superpage_marked_policy, &p);
	CHECK(m != NULL);
	env_fail_after(0);
	CHECK(superpage_domain_create(m, DOM) == -ENOMEM);
	env_fail_reset();
	CHECK(superpage_domain_create(m, DOM) == 0);
	env_fail_after(0);                          /* the directory */
	CHECK(superpage_populate(m, DOM, sp(0), SP_ORDER) == -ENOMEM);
	env_fail_after(1);                          /* the directory, not the block */
	CHECK(superpage_populate(m, DOM, sp(0), SP_ORDER) == -ENOMEM);
	env_fail_reset();
	CHECK(m->stats.alloc_failed >= 3);
	CHECK_EQ_U64(m->stats.pages_live, 0);
	CHECK(superpage_check(m) == 0);
	CHECK(superpage_populate(m, DOM, sp(0), SP_ORDER) == 0);
	CHECK(superpage_mark(m, DOM, sp(0)) == 0);
	CHECK(superpage_check(m) == 0);
	superpage_model_destroy(m);
}

TEST(random_requests_under_allocation_failures_stay_consistent)
{
	random_mix("marked", 3, 3000);
	random_mix("per-page", 2, 3000);
}

/* ---- the fork storm through the simulator ----------------------------------------------- */

struct result {
	double fork_map_ns, map_mean_ns, forks, violations, rejected, rejected_map, leaks;
	double refcount_ops, hypercalls, pt_allocs, pt_rejected_marked, pages_live_end, maps;
	double marks_ignored, state_bytes_peak;
	double lowmem_superpages, marks_busy_lowmem, unmarks_busy_unmapped, marks, unmarks;
	uint64_t digest;
};

static double metric(const struct run *r, const char *name)
{
	double v = -1;

	metrics_get(&r->mx, name, &v);
	return v;
}

/* sets: up to 6 "k=v" strings, NULL-terminated */
static int storm(const char *policy, const char *profile, uint64_t seed, const char *const *sets,
		 struct result *out)
{
	struct run_opts o = { .model = "superpage", .policy = policy, .scenario = "fork-storm",
			      .profile = profile, .seed = seed };
	char err[1024];
	struct run r;
	int rc;

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
	out->fork_map_ns = metric(&r, "fork_map_ns");
	out->map_mean_ns = metric(&r, "map_mean_ns");
	out->forks = metric(&r, "forks");
	out->violations = metric(&r, "invariant_violations");
	out->rejected = metric(&r, "rejected");
	out->rejected_map = metric(&r, "rejected_map");
	out->leaks = metric(&r, "leaks");
	out->refcount_ops = metric(&r, "refcount_ops");
	out->hypercalls = metric(&r, "hypercalls");
	out->pt_allocs = metric(&r, "pt_allocs");
	out->pt_rejected_marked = metric(&r, "pt_rejected_marked");
	out->pages_live_end = metric(&r, "pages_live_end");
	out->maps = metric(&r, "maps");
	out->marks_ignored = metric(&r, "marks_ignored");
	out->state_bytes_peak = metric(&r, "state_bytes_peak");
	out->lowmem_superpages = metric(&r, "lowmem_superpages");
	out->marks_busy_lowmem = metric(&r, "marks_busy_lowmem");
	out->unmarks_busy_unmapped = metric(&r, "unmarks_busy_unmapped");
	out->marks = metric(&r, "marks");
	out->unmarks = metric(&r, "unmarks");
	out->digest = r.event_digest;
	run_free(&r);
	return 0;
}

/* ns of one superpage map request, from the profile's unit costs and the counted units */
static double map_cost_ns(const char *profile, bool marked, uint64_t batch)
{
	struct cost_profile p;
	struct work w;
	char err[256];

	if (profile_load(profile, &p, err, sizeof(err)))
		return -1;
	work_reset(&w);
	w.n[WU_HYPERCALL] = 1;
	w.n[WU_PREEMPT_CHECK] = batch;
	w.n[WU_LOCK] = batch;
	w.n[WU_PAGE_PUT] = batch;
	w.n[WU_REFCOUNT] = batch * (marked ? 1 + 1 : 1 + 2 * SP_PAGES);
	return (double)profile_cost_ps(&p, &w) / 1000.0 / (double)batch;
}

static const char *const small[] = { "region_gb=2", "forks=3", NULL };

TEST(seed002_fork_map_ratio_under_seed_2012_is_19x_not_the_seeds_50x)
{
	/*
	 * The seed: marked mapping "on the order of 50 times faster".  The model counts, per
	 * superpage map request: per-page 1024 count updates (a reference and a type count on
	 * each of 512 pages), marked 1 (the leading page's type count); both pay the same fixed
	 * part: the page-table page's reference, lock and release, a preemption check and, with
	 * hypercall_batch = 1, a hypercall each.  Under seed-2012 (refcount 20 ns, page_put 40,
	 * lock 50, preempt_check 5, hypercall 1000 - hand-chosen, not fitted) that is
	 * 21 595 ns against 1 135 ns: 19.0x, BELOW the seed's 30-70x band.  The fixed part
	 * dominates the marked map; the seed's 50x implies ~400 ns of fixed cost per map, which
	 * seed-2012 reaches only when 2-6 requests share a hypercall (next test).  Costs are not
	 * tuned to hit the figure: docs/models/superpage.md discusses it.
	 */
	struct result pp, mk;
	double ratio;

	CHECK(storm("per-page", "seed-2012", 1, small, &pp) == 0);
	CHECK(storm("marked", "seed-2012", 1, small, &mk) == 0);
	CHECK(pp.forks == 3 && mk.forks == 3);
	CHECK(pp.map_mean_ns == map_cost_ns("seed-2012", false, 1));
	CHECK(mk.map_mean_ns == map_cost_ns("seed-2012", true, 1));
	CHECK(pp.map_mean_ns == 21595 && mk.map_mean_ns == 1135);
	ratio = pp.fork_map_ns / mk.fork_map_ns;
	printf("# fork map ratio per-page/marked under seed-2012, batch 1: %.2fx\n", ratio);
	CHECK(ratio > 18.9 && ratio < 19.1);
	CHECK(ratio < 30);   /* the seed's figure is not reproduced with this profile */
	CHECK(pp.violations == 0 && mk.violations == 0);
}

TEST(seed002_ratio_is_within_30_to_70x_when_2_to_6_requests_share_a_hypercall)
{
	/* Sensitivity, not a fit: the band the target names holds for these batch sizes. */
	static const struct { const char *set; double lo, hi; } cases[] = {
		{ "hypercall_batch=2", 30, 70 },
		{ "hypercall_batch=4", 30, 70 },
		{ "hypercall_batch=6", 30, 70 },
		{ "hypercall_batch=8", 70, 1000 },
		{ "hypercall_batch=64", 70, 1000 },
	};
	unsigned i;

	for (i = 0; i < ENV_ARRAY_SIZE(cases); i++) {
		const char *sets[] = { "region_gb=2", "forks=2", cases[i].set, NULL };
		struct result pp, mk;
		double ratio;

		CHECK(storm("per-page", "seed-2012", 1, sets, &pp) == 0);
		CHECK(storm("marked", "seed-2012", 1, sets, &mk) == 0);
		ratio = pp.fork_map_ns / mk.fork_map_ns;
		printf("# %s: %.1fx\n", cases[i].set, ratio);
		CHECK(ratio >= cases[i].lo && ratio <= cases[i].hi);
	}
}

TEST(seed002_work_ratio_with_the_unit_profile_is_the_count_ratio)
{
	/* unit profile: time = work units.  Per map 1029 units per-page against 6 marked. */
	struct result pp, mk;

	CHECK(storm("per-page", "unit", 1, small, &pp) == 0);
	CHECK(storm("marked", "unit", 1, small, &mk) == 0);
	CHECK_EQ_U64(pp.map_mean_ns, 1 + 1 + 1 + 1 + (1 + 2 * SP_PAGES));
	CHECK_EQ_U64(mk.map_mean_ns, 1 + 1 + 1 + 1 + 2);
}

TEST(fork_storm_leaves_no_counts_and_breaks_no_invariant)
{
	const char *pols[] = { "per-page", "marked" };
	const char *const exit0[] = { "region_gb=1", "forks=5", "exit=0", NULL };
	const char *const exit1[] = { "region_gb=1", "forks=5", "exit=1", NULL };
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct result a, b;

		CHECK(storm(pols[i], "seed-2012", 1, exit0, &a) == 0);
		CHECK(storm(pols[i], "seed-2012", 1, exit1, &b) == 0);
		CHECK(a.violations == 0 && b.violations == 0);
		CHECK(a.leaks == 0 && b.leaks == 0);
		CHECK(a.rejected == 0 && b.rejected == 0);
		CHECK(a.pages_live_end == 0 && b.pages_live_end == 0);
		CHECK(a.maps == 6 * 512 && b.maps == 6 * 512);
		/* 1 GiB region: 512 blocks of 4112 bytes plus the directory and tables */
		CHECK(a.state_bytes_peak > 512 * 4096.0 && a.state_bytes_peak < 512 * 4096.0 * 1.1);
	}
}

TEST(fork_storm_count_updates_match_the_per_superpage_rules)
{
	/* exit=1, 1 GiB (512 superpages), 2 forks: 3 maps and 3 unmaps of every superpage */
	const char *const sets[] = { "region_gb=1", "forks=2", NULL };
	struct result pp, mk;
	double n = 512, pop = n * 512, fixed = 2 * 6 * n;

	CHECK(storm("per-page", "seed-2012", 1, sets, &pp) == 0);
	CHECK(storm("marked", "seed-2012", 1, sets, &mk) == 0);
	/* populate 1/page, destroy 1/page; per map 1024, per unmap 1024 */
	CHECK_EQ_U64(pp.refcount_ops, 2 * pop + fixed + 6 * n * 1024);
	/* + mark 1024 and unmark 1024 per superpage; 1 per marked-path map or unmap */
	CHECK_EQ_U64(mk.refcount_ops, 2 * pop + fixed + 2 * n * 1024 + 6 * n);
	CHECK_EQ_U64(pp.marks_ignored, 2 * n);
	/* a hypercall per request (batch 1) and the destroy's */
	CHECK_EQ_U64(pp.hypercalls, 6 * n + 1);
	CHECK_EQ_U64(mk.hypercalls, 8 * n + 1);
}

TEST(page_table_attempts_in_marked_memory_are_rejected)
{
	const char *const sets[] = { "region_gb=1", "forks=2", "pt_attempts=40", NULL };
	struct result pp, mk;

	CHECK(storm("marked", "seed-2012", 5, sets, &mk) == 0);
	CHECK(mk.pt_allocs == 0 && mk.pt_rejected_marked == 40);
	CHECK(mk.rejected == 40 && mk.violations == 0);
	/* without marks the pins succeed, and every map over a pinned page is refused */
	CHECK(storm("per-page", "seed-2012", 5, sets, &pp) == 0);
	CHECK(pp.pt_allocs > 0 && pp.pt_rejected_marked == 0);
	CHECK(pp.rejected_map > 0 && pp.violations == 0 && pp.leaks == 0);
}

TEST(fork_storm_runs_are_deterministic)
{
	const char *const sets[] = { "region_gb=1", "forks=3", "pt_attempts=10", NULL };
	struct result a, b, c;

	CHECK(storm("marked", "seed-2012", 9, sets, &a) == 0);
	CHECK(storm("marked", "seed-2012", 9, sets, &b) == 0);
	CHECK(storm("marked", "seed-2012", 10, sets, &c) == 0);
	CHECK(a.digest == b.digest && a.fork_map_ns == b.fork_map_ns);
	CHECK(a.digest != c.digest);   /* the page-table attempts land elsewhere */
}

TEST(domain_destroy_through_the_driver_reports_refused_requests)
{
	/* marks under per-page are ignored, not refused: the run has no rejections */
	const char *const sets[] = { "region_gb=1", "forks=1", NULL };
	struct result pp;

	CHECK(storm("per-page", "seed-2012", 1, sets, &pp) == 0);
	CHECK(pp.rejected == 0 && pp.marks_ignored == 1024);
}

/* ---- lowmem: the seed's open problem ------------------------------------------------------ */

static struct superpage_model *model_low(const char *policy, uint64_t lowmem_pct,
					 uint64_t mark_max_tc)
{
	struct superpage_params p;
	struct superpage_model *m;

	superpage_params_default(&p);
	p.lowmem_pct = lowmem_pct;
	p.mark_max_tc = mark_max_tc;
	m = superpage_model_create(superpage_policy_find(policy), &p);
	if (!m || superpage_domain_create(m, DOM) ||
	    superpage_populate(m, DOM, sp(0), SP_ORDER)) {
		printf("# cannot create the model\n");
		exit(1);
	}
	return m;
}

/* BASE is superpage 512: spn % 100 = 12, lowmem for any lowmem_pct above 12. */
TEST(lowmem_pages_hold_a_standing_writable_count_until_released)
{
	struct superpage_model *m = model_low("marked", 100, 0);

	CHECK(counts_are(m, 0, 2, 1, 2, 1));
	CHECK(info(m, sp(0) + 5).type == SP_T_WRITABLE);
	CHECK_EQ_U64(m->stats.lowmem_superpages, 1);
	CHECK(superpage_check(m) == 0);
	CHECK(superpage_release(m, DOM, sp(0), SP_ORDER) == 0);   /* idle lowmem: released */
	CHECK_EQ_U64(m->stats.pages_live, 0);
	CHECK(superpage_check(m) == 0);
	superpage_model_destroy(m);
	m = model_low("marked", 12, 0);                            /* spn % 100 = 12: highmem */
	CHECK(counts_are(m, 0, 1, 0, 1, 0));
	CHECK_EQ_U64(m->stats.lowmem_superpages, 0);
	superpage_model_destroy(m);
}

/* The mark rule cannot tell the direct map's count from a per-page superpage mapping: every
 * lowmem mark is refused, and the superpage stays on the slow per-page path. */
TEST(the_mark_rule_refuses_every_lowmem_superpage)
{
	struct superpage_model *m = model_low("marked", 100, 0);

	CHECK(superpage_mark(m, DOM, sp(0)) == -EBUSY);
	CHECK_EQ_U64(m->stats.marks_busy_lowmem, 1);
	CHECK(superpage_map(m, DOM, sp(0)) == SP_PATH_PERPAGE);
	CHECK(counts_are(m, 0, 3, 2, 3, 2));
	CHECK(superpage_unmap(m, DOM, sp(0)) == SP_PATH_PERPAGE);
	CHECK(superpage_unmark(m, DOM, sp(0)) == -EINVAL);           /* never marked */
	CHECK(superpage_check(m) == 0);
	CHECK(superpage_domain_destroy(m, DOM) == 0);
	CHECK_EQ_U64(superpage_violations(m), 0);
	superpage_model_destroy(m);
}

/* A mark that tolerates one count marks lowmem, but then the unmark-busy check reads the
 * standing count as a mapping: the unmark is refused with nothing mapped, for good. */
TEST(tolerating_one_count_marks_lowmem_and_the_unmark_stays_busy)
{
	struct superpage_model *m = model_low("marked", 100, 1);

	CHECK(superpage_mark(m, DOM, sp(0)) == 0);
	CHECK(counts_are(m, 0, 3, 2, 3, 2));
	CHECK(superpage_map(m, DOM, sp(0)) == SP_PATH_MARKED);
	CHECK(superpage_unmap(m, DOM, sp(0)) == SP_PATH_MARKED);
	CHECK_EQ_U64(superpage_mappings(m, DOM, sp(0)), 0);
	CHECK(superpage_unmark(m, DOM, sp(0)) == -EBUSY);
	CHECK(superpage_unmark(m, DOM, sp(0)) == -EBUSY);
	CHECK_EQ_U64(m->stats.unmarks_busy, 2);
	CHECK_EQ_U64(m->stats.unmarks_busy_unmapped, 2);
	CHECK(superpage_release(m, DOM, sp(0), SP_ORDER) == -EBUSY);   /* still marked */
	CHECK(superpage_check(m) == 0);
	CHECK(superpage_domain_destroy(m, DOM) == 0);                  /* forced: no leak */
	CHECK_EQ_U64(superpage_violations(m), 0);
	superpage_model_destroy(m);
}

/* ... and on highmem the same tolerance lets a superpage mapped per page be marked: its
 * unmap then releases through the mark, and 511 pages keep a count (what the rule is for). */
TEST(tolerating_one_count_marks_a_highmem_superpage_mapped_per_page)
{
	struct superpage_model *m = model_low("marked", 0, 1);

	CHECK(superpage_map(m, DOM, sp(0)) == SP_PATH_PERPAGE);
	CHECK(superpage_mark(m, DOM, sp(0)) == 0);
	CHECK(superpage_unmap(m, DOM, sp(0)) == SP_PATH_MARKED);
	CHECK_EQ_U64(m->stats.path_mismatch, 1);
	CHECK(superpage_domain_destroy(m, DOM) == 0);
	CHECK(m->stats.leaks >= SP_PAGES - 1);
	CHECK(superpage_violations(m) > 0);
	superpage_model_destroy(m);
	/* with the rule as it is (0), the mark is refused */
	m = model_low("marked", 0, 0);
	CHECK(superpage_map(m, DOM, sp(0)) == SP_PATH_PERPAGE);
	CHECK(superpage_mark(m, DOM, sp(0)) == -EBUSY);
	CHECK_EQ_U64(m->stats.marks_busy_lowmem, 0);
	superpage_model_destroy(m);
}

/* A lowmem page becomes a page table after the guest drops its writable direct mapping;
 * unpinned, it is writable in the direct map again. */
TEST(a_lowmem_page_table_pin_drops_the_direct_map_count_first)
{
	struct superpage_model *m = model_low("marked", 100, 0);

	CHECK(superpage_pt_alloc(m, DOM, sp(0) + 3) == 0);
	CHECK(info(m, sp(0) + 3).type == SP_T_PT);
	CHECK_EQ_U64(info(m, sp(0) + 3).count, 2);
	CHECK_EQ_U64(m->stats.lowmem_pt_remaps, 1);
	CHECK(superpage_check(m) == 0);
	CHECK(superpage_map(m, DOM, sp(0)) == -EBUSY);                 /* a page table inside */
	CHECK(superpage_pt_free(m, DOM, sp(0) + 3) == 0);
	CHECK(info(m, sp(0) + 3).type == SP_T_WRITABLE && info(m, sp(0) + 3).type_count == 1);
	CHECK(superpage_check(m) == 0);
	CHECK(superpage_pt_alloc(m, DOM, sp(0) + 3) == 0);
	CHECK(superpage_domain_destroy(m, DOM) == 0);                  /* pinned at destroy */
	CHECK_EQ_U64(superpage_violations(m), 0);
	superpage_model_destroy(m);
}

/* The fork storm with a quarter of lowmem: the rule as written refuses their marks (slow
 * forks); tolerating one count marks them but leaves their unmarks busy.  No violation. */
TEST(fork_storm_with_lowmem_shows_both_mark_rules)
{
	static const char *const none[] = { "region_gb=1", "forks=4", NULL };
	static const char *const low[] = { "region_gb=1", "forks=4", "lowmem_pct=25", NULL };
	static const char *const tol[] = { "region_gb=1", "forks=4", "lowmem_pct=25",
					   "mark_max_tc=1", NULL };
	struct result a, b, c;

	CHECK(storm("marked", "seed-2012", 1, none, &a) == 0);
	CHECK(storm("marked", "seed-2012", 1, low, &b) == 0);
	CHECK(storm("marked", "seed-2012", 1, tol, &c) == 0);
	CHECK(a.lowmem_superpages == -1);             /* not reported unless asked for */
	CHECK_EQ_U64(b.lowmem_superpages, 137);       /* spn % 100 < 25 of 512 */
	CHECK_EQ_U64(b.marks_busy_lowmem, 137);
	CHECK_EQ_U64(b.marks, 512 - 137);
	CHECK(b.fork_map_ns > 4 * a.fork_map_ns);
	CHECK_EQ_U64(c.marks, 512);
	CHECK_EQ_U64(c.unmarks, 512 - 137);
	CHECK_EQ_U64(c.unmarks_busy_unmapped, 137);
	CHECK_EQ_U64(c.fork_map_ns, a.fork_map_ns);
	CHECK(a.violations == 0 && b.violations == 0 && c.violations == 0);
	CHECK(b.leaks == 0 && c.leaks == 0);
}

int main(void)
{
	return test_main();
}
