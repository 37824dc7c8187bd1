/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_relinquish.c — preemption policies of the relinquish-on-destroy loop
 * (models/relinquish.c) on their own, then driving sharing_relinquish_step().
 *
 * "Stretch" below is the shared entries released between two consecutive preemption
 * checks (slice start and end count as checks): the longest a pending vCPU can wait.
 */
#include "test.h"
#include "relinquish.h"
#include "sharing.h"
#include "env_user.h"

static uint64_t rng_state = 12345;

static uint64_t rnd(void)
{
	rng_state += 0x9e3779b97f4a7c15ULL;
	return env_mix64(rng_state);
}

static const struct relinquish_policy *pol(const char *name)
{
	const struct relinquish_policy *p = relinquish_policy_find(name);

	if (!p) {
		printf("no relinquish policy %s\n", name);
		exit(1);
	}
	return p;
}

/* ---- policies alone ------------------------------------------------------------------- */

TEST(defaults_are_the_seed_and_upstream_values)
{
	struct relinquish_params p;

	relinquish_params_default(&p);
	CHECK_EQ_U64(p.batch, 512);
	CHECK_EQ_U64(p.weight_shared, 16);
	CHECK_EQ_U64(p.weight_private, 1);
	CHECK_EQ_U64(p.weight_threshold, 8192);
	CHECK(relinquish_params_validate(&p) == 0);
	CHECK(!strcmp(relinquish_param_table[0].name, "batch"));
	CHECK(strstr(relinquish_param_table[0].doc, "2 MiB") != NULL);
	p.batch = 0;
	CHECK(relinquish_params_validate(&p) == -EINVAL);
	relinquish_params_default(&p);
	p.weight_threshold = 0;
	CHECK(relinquish_params_validate(&p) == -EINVAL);
	relinquish_params_default(&p);
	p.weight_private = 0;    /* holes free of charge is a legal choice */
	CHECK(relinquish_params_validate(&p) == 0);
}

TEST(every_policy_is_registered_by_name)
{
	const char *names[] = { "monolithic", "preemptible", "preemptible-seed", "weighted" };
	unsigned i, n = 0;

	for (i = 0; i < ENV_ARRAY_SIZE(names); i++)
		CHECK(relinquish_policy_find(names[i]) != NULL);
	for (i = 0; relinquish_policies[i]; i++) {
		n++;
		CHECK(relinquish_policies[i]->should_check != NULL);
		CHECK(relinquish_policies[i]->doc && relinquish_policies[i]->doc[0]);
	}
	CHECK_EQ_U64(n, 4);
	CHECK(relinquish_policy_find("preemptible-sed") == NULL);
	CHECK(relinquish_policy_find(NULL) == NULL);
}

TEST(monolithic_never_checks)
{
	struct relinquish_params p;
	struct relinquish_cursor c = { 0 };
	unsigned i, checks = 0;

	relinquish_params_default(&p);
	for (i = 0; i < 200000; i++)
		checks += pol("monolithic")->should_check(&p, &c, i % 3 != 0);
	CHECK_EQ_U64(checks, 0);
}

TEST(preemptible_checks_every_batch_shared_entries)
{
	struct relinquish_params p;
	struct relinquish_cursor c = { 0 };
	unsigned i, checks = 0, shared = 0;

	relinquish_params_default(&p);
	for (i = 0; i < 100000; i++) {
		bool sh = i % 3 != 0;

		shared += sh;
		if (pol("preemptible")->should_check(&p, &c, sh)) {
			checks++;
			CHECK(sh);                          /* only a shared entry brings a check */
			CHECK_EQ_U64(shared % 512, 0);
		}
	}
	CHECK_EQ_U64(checks, shared / 512);
}

TEST(seed_policy_checks_once_then_only_until_the_next_shared_entry)
{
	struct relinquish_params p;
	struct relinquish_cursor c = { 0 };
	const struct relinquish_policy *s = pol("preemptible-seed");
	unsigned i, checks = 0;

	relinquish_params_default(&p);
	for (i = 0; i < 511; i++)
		checks += s->should_check(&p, &c, true);
	CHECK_EQ_U64(checks, 0);
	CHECK(s->should_check(&p, &c, true));       /* the 512th */
	CHECK(s->should_check(&p, &c, false));      /* count stays 512: checks again */
	CHECK(s->should_check(&p, &c, false));
	CHECK(!s->should_check(&p, &c, true));      /* 513: never equal again */
	for (i = 0; i < 100000; i++)
		checks += s->should_check(&p, &c, i & 1);
	CHECK_EQ_U64(checks, 0);
}

TEST(weighted_checks_at_512_shared_or_8192_other_entries)
{
	struct relinquish_params p;
	struct relinquish_cursor c = { 0 };
	const struct relinquish_policy *w = pol("weighted");
	unsigned i;

	relinquish_params_default(&p);
	for (i = 1; i < 512; i++)
		CHECK(!w->should_check(&p, &c, true));
	CHECK(w->should_check(&p, &c, true));
	for (i = 1; i < 8192; i++)
		CHECK(!w->should_check(&p, &c, false));
	CHECK(w->should_check(&p, &c, false));
	/* Mixed: 500 shared (8000) + 192 other = 8192. */
	for (i = 0; i < 500; i++)
		CHECK(!w->should_check(&p, &c, true));
	for (i = 1; i < 192; i++)
		CHECK(!w->should_check(&p, &c, false));
	CHECK(w->should_check(&p, &c, false));
}

/* skip(n) is the closed form of n calls should_check(false), stopping at the first true. */
TEST(skip_matches_per_entry_calls_for_every_policy)
{
	struct relinquish_params sets[4];
	unsigned s, i, trial;

	relinquish_params_default(&sets[0]);
	sets[1] = (struct relinquish_params){ .batch = 3, .weight_shared = 5, .weight_private = 2,
					      .weight_threshold = 11 };
	sets[2] = (struct relinquish_params){ .batch = 1, .weight_shared = 1, .weight_private = 0,
					      .weight_threshold = 1 };
	sets[3] = (struct relinquish_params){ .batch = 7, .weight_shared = 3, .weight_private = 7,
					      .weight_threshold = 7 };
	for (i = 0; relinquish_policies[i]; i++) {
		const struct relinquish_policy *rp = relinquish_policies[i];

		CHECK(rp->skip != NULL);
		for (s = 0; s < ENV_ARRAY_SIZE(sets); s++) {
			struct relinquish_cursor c = { 0 };

			for (trial = 0; trial < 3000; trial++) {
				struct relinquish_cursor a, b;
				uint64_t n = 1 + rnd() % (rnd() & 1 ? 20 : 20000), k, j;
				bool chk_a, chk_b = false;

				/* Random reachable state. */
				if (rnd() % 4 == 0)
					c.count = 0, c.progress = 0;
				for (j = rnd() % 1100; j; j--)
					rp->should_check(&sets[s], &c, rnd() % 3 != 0);
				a = b = c;
				k = rp->skip(&sets[s], &a, n, &chk_a);
				for (j = 0; j < n && !chk_b; j++)
					chk_b = rp->should_check(&sets[s], &b, false);
				CHECK_EQ_U64(k, j);
				CHECK(chk_a == chk_b);
				CHECK(!memcmp(&a, &b, sizeof(a)));
				if (test_failed_now) {
					printf("  policy %s set %u n %" PRIu64 "\n", rp->name, s, n);
					return;
				}
			}
		}
	}
}

/* ---- driving sharing_relinquish_step() -------------------------------------------------- */

struct probe {
	struct sharing_model *sm;
	uint32_t dom;
	uint64_t last;         /* domain's shared count at the previous check */
	uint64_t longest;      /* longest stretch, shared entries */
	uint64_t calls;
	int mode;              /* 0 always pending, 1 never, 2 pending from the 2nd call on,
				* 3 every third call */
};

static void stretch_end(struct probe *pr)
{
	uint64_t now = sharing_domain_shared(pr->sm, pr->dom);

	if (pr->last - now > pr->longest)
		pr->longest = pr->last - now;
	pr->last = now;
}

static bool probe_preempt(void *arg)
{
	struct probe *pr = arg;

	stretch_end(pr);
	pr->calls++;
	switch (pr->mode) {
	case 0:
		return true;
	case 1:
		return false;
	case 2:
		return pr->calls >= 2;
	default:
		return pr->calls % 3 == 0;
	}
}

static struct sharing_model *model(const char *lpol, const struct relinquish_params *lpin)
{
	struct rmap_params rp;
	struct relinquish_params lp;
	struct sharing_model *sm;

	rmap_params_default(&rp);
	if (lpin)
		lp = *lpin;
	else
		relinquish_params_default(&lp);
	sm = sharing_model_create(&rmap_list_policy, &rp, pol(lpol), &lp);
	if (!sm) {
		printf("sharing_model_create failed\n");
		exit(1);
	}
	return sm;
}

/*
 * Domain 1 gets gfns [lo, hi): every fifth private, the others shared onto frames gfn % 7.
 * Domain 2 shares a gfn on each of those frames, so frames outlive domain 1.  Gfns are
 * shared in descending order so a list rmap finds each at its head on the ascending
 * destroy (keeps the tests fast; the worst case is test_sharing's business).
 */
static void populate(struct sharing_model *sm, uint64_t lo, uint64_t hi)
{
	uint64_t g;

	if (sharing_domain_create(sm, 1) == 0) {
		CHECK(sharing_domain_create(sm, 2) == 0);
		for (g = 0; g < 7; g++)
			CHECK(sharing_share(sm, 2, g, g) == 0);
	}
	for (g = hi; g-- > lo;) {
		if (g % 5 == 0)
			CHECK(sharing_page_alloc(sm, 1, g) == 0);
		else
			CHECK(sharing_share(sm, 1, g, g % 7) == 0);
	}
}

/* Runs slices until done; returns the slice count.  Checks every slice's work. */
struct slice_log {
	uint64_t n;
	uint64_t p2m[4096], checks[4096], released[4096];
};

static uint64_t run_destroy(struct sharing_model *sm, uint32_t dom, struct probe *pr,
			    struct slice_log *log)
{
	struct rmap_model *rm = sharing_rmap(sm);
	uint64_t slices = 0;
	int rc;

	do {
		uint64_t before = sharing_domain_shared(sm, dom);

		pr->last = before;
		work_reset(&rm->work);
		rc = sharing_relinquish_step(sm, dom, probe_preempt, pr);
		CHECK(rc == 0 || rc == -EAGAIN);
		stretch_end(pr);
		if (log && log->n < 4096) {
			log->p2m[log->n] = rm->work.n[WU_P2M_ENTRY];
			log->checks[log->n] = rm->work.n[WU_PREEMPT_CHECK];
			log->released[log->n] = before - sharing_domain_shared(sm, dom);
			log->n++;
		}
		slices++;
	} while (rc == -EAGAIN && slices < 1000000);
	CHECK(rc == 0);
	return slices;
}

TEST(preemptible_slices_release_at_most_batch_and_resume_in_order)
{
	struct sharing_model *sm = model("preemptible", NULL);
	struct probe pr = { .sm = sm, .dom = 1, .mode = 0 };
	struct rmap_model *rm = sharing_rmap(sm);
	static uint64_t shared_gfns[8000];
	uint64_t nsh = 0, done = 0, g, slices = 0, i;
	int rc;

	populate(sm, 0, 6000);
	CHECK(sharing_share(sm, 1, 1ULL << 30, 3) == 0);    /* beyond a huge hole */
	for (g = 0; g < 6000; g++)
		if (g % 5)
			shared_gfns[nsh++] = g;
	shared_gfns[nsh++] = 1ULL << 30;
	CHECK_EQ_U64(sharing_domain_shared(sm, 1), nsh);

	do {
		uint64_t before = sharing_domain_shared(sm, 1), released;

		work_reset(&rm->work);
		rc = sharing_relinquish_step(sm, 1, probe_preempt, &pr);
		released = before - sharing_domain_shared(sm, 1);
		slices++;
		CHECK(released <= 512);
		/* Until the shared entries run out, every slice releases exactly a batch. */
		if (sharing_domain_shared(sm, 1) && rc == -EAGAIN)
			CHECK_EQ_U64(released, 512);
		done += released;
		/* Resumed exactly where it stopped: the released gfns are the lowest ones. */
		if (rc == -EAGAIN && done < nsh) {
			CHECK(sharing_lookup(sm, 1, shared_gfns[done - 1], NULL) == P2M_INVALID);
			CHECK(sharing_lookup(sm, 1, shared_gfns[done], NULL) == P2M_SHARED);
		}
		CHECK(sharing_check(sm) == 0);
	} while (rc == -EAGAIN && slices < 100000);
	CHECK(rc == 0);
	CHECK_EQ_U64(done, nsh);
	CHECK(sharing_lookup(sm, 1, 0, NULL) == -ENOENT);
	/* Shared slices: ceil(nsh / 512), the last one ending the shared phase; then one slice
	 * per private page (relinquish_memory checks after each). */
	CHECK_EQ_U64(slices, (nsh + 511) / 512 + 1200);
	for (i = 0; i < 7; i++)
		CHECK_EQ_U64(sharing_frame_degree(sm, i), 1);   /* domain 2's tuples remain */
	sharing_model_destroy(sm);
}

/* The same destroy, sliced or not, ends in the same state with the same work (checks
 * aside). */
TEST(preemptible_destroy_ends_identical_to_monolithic)
{
	struct sharing_model *a = model("monolithic", NULL), *b = model("preemptible", NULL);
	struct probe pb = { .sm = b, .dom = 1, .mode = 0 };
	struct work wa, wb;
	uint64_t sa, sb;
	unsigned u;

	populate(a, 0, 5000);
	populate(b, 0, 5000);
	CHECK(sharing_share(a, 1, 123456789, 2) == 0);
	CHECK(sharing_share(b, 1, 123456789, 2) == 0);
	work_reset(&sharing_rmap(a)->work);
	CHECK(sharing_relinquish_step(a, 1, NULL, NULL) == 0);
	wa = sharing_rmap(a)->work;
	/* Accumulate b's work over all slices. */
	work_reset(&wb);
	{
		int rc;

		do {
			work_reset(&sharing_rmap(b)->work);
			rc = sharing_relinquish_step(b, 1, probe_preempt, &pb);
			work_accumulate(&wb, &sharing_rmap(b)->work);
		} while (rc == -EAGAIN);
		CHECK(rc == 0);
	}
	for (u = 0; u < WU__COUNT; u++)
		if (u != WU_PREEMPT_CHECK)
			CHECK_EQ_U64(wa.n[u], wb.n[u]);
	/* Monolithic checks only in the private phase (relinquish_memory): one per page. */
	CHECK_EQ_U64(wa.n[WU_PREEMPT_CHECK], 1000);
	CHECK(wb.n[WU_PREEMPT_CHECK] > wa.n[WU_PREEMPT_CHECK]);
	CHECK_EQ_U64(sharing_stats(a)->frames_freed, sharing_stats(b)->frames_freed);
	CHECK_EQ_U64(sharing_stats(a)->shared_entries, sharing_stats(b)->shared_entries);
	CHECK_EQ_U64(sharing_stats(a)->frames_live, sharing_stats(b)->frames_live);
	CHECK_EQ_U64(sharing_stats(a)->preemptions, 0);
	CHECK(sharing_stats(b)->preemptions > 0);
	for (u = 0; u < 7; u++)
		CHECK_EQ_U64(sharing_frame_degree(a, u), sharing_frame_degree(b, u));
	sa = sharing_rmap(a)->live_bytes;
	sb = sharing_rmap(b)->live_bytes;
	CHECK_EQ_U64(sa, sb);
	CHECK_EQ_U64(sharing_model_bytes(a), sharing_model_bytes(b));
	CHECK(sharing_check(a) == 0 && sharing_check(b) == 0);
	sharing_model_destroy(a);
	sharing_model_destroy(b);
}

/* Shared gfns [0, n) only, descending so destroy finds each tuple at the list head. */
static void populate_shared(struct sharing_model *sm, uint64_t n)
{
	uint64_t g;

	CHECK(sharing_domain_create(sm, 1) == 0);
	for (g = n; g-- > 0;)
		CHECK(sharing_share(sm, 1, g, g % 16) == 0);
}

/*
 * The seed's `count == 512` quirk: the first check finds nothing pending, count moves on to
 * 513, and no check ever comes again.  The stretch after it grows with the domain: no bound.
 */
TEST(seed_policy_stretch_is_unbounded_after_a_quiet_first_check)
{
	uint64_t sizes[] = { 4096, 16384 };
	unsigned i;

	for (i = 0; i < ENV_ARRAY_SIZE(sizes); i++) {
		uint64_t n = sizes[i];
		struct sharing_model *sm = model("preemptible-seed", NULL);
		struct probe pr = { .sm = sm, .dom = 1, .mode = 2 };
		uint64_t slices;

		populate_shared(sm, n);
		slices = run_destroy(sm, 1, &pr, NULL);
		CHECK_EQ_U64(pr.calls, 1);           /* one check, at the 512th entry */
		CHECK_EQ_U64(slices, 1);             /* never preempted */
		CHECK_EQ_U64(pr.longest, n - 512);   /* everything after the check: one stretch */
		CHECK_EQ_U64(sharing_stats(sm)->preemptions, 0);
		sharing_model_destroy(sm);
	}
}

TEST(preemptible_bounds_every_stretch_by_batch_with_the_same_callback)
{
	uint64_t n = 16384;
	struct sharing_model *sm = model("preemptible", NULL);
	struct probe pr = { .sm = sm, .dom = 1, .mode = 2 };
	uint64_t slices;

	populate_shared(sm, n);
	slices = run_destroy(sm, 1, &pr, NULL);
	CHECK_EQ_U64(pr.longest, 512);
	/* Checks at every 512th entry: the first quiet, each later one ends a slice (the one
	 * at the last entry too, leaving an empty final slice): 32 checks, 32 slices. */
	CHECK_EQ_U64(slices, n / 512);
	CHECK_EQ_U64(pr.calls, n / 512);
	sharing_model_destroy(sm);
}

/* With count stuck at 512, the seed's test fires on every entry that is not shared until
 * the next shared one. */
TEST(seed_policy_rechecks_at_each_unshared_entry_after_the_512th)
{
	struct sharing_model *sm = model("preemptible-seed", NULL);
	struct probe pr = { .sm = sm, .dom = 1, .mode = 1 };
	struct rmap_model *rm = sharing_rmap(sm);
	uint64_t g;

	CHECK(sharing_domain_create(sm, 1) == 0);
	for (g = 0; g < 601; g++) {
		if (g >= 512 && g < 522)
			CHECK(sharing_page_alloc(sm, 1, g) == 0);
		else
			CHECK(sharing_share(sm, 1, g, 1 + g % 3) == 0);
	}
	work_reset(&rm->work);
	CHECK(sharing_relinquish_step(sm, 1, probe_preempt, &pr) == 0);
	/* 1 at gfn 511 + 10 at the private gfns 512..521 in the shared pass, then 10 in the
	 * private pass (one per page). */
	CHECK_EQ_U64(pr.calls, 1 + 10 + 10);
	CHECK_EQ_U64(rm->work.n[WU_PREEMPT_CHECK], 21);
	CHECK_EQ_U64(rm->work.n[WU_P2M_ENTRY], 601);
	sharing_model_destroy(sm);
}

/* The same stuck count makes a hole right after the 512th shared entry check on each gfn;
 * the closed form must stop at the first one. */
TEST(seed_policy_in_a_hole_checks_per_gfn_until_preempted)
{
	struct sharing_model *sm = model("preemptible-seed", NULL);
	struct probe pr = { .sm = sm, .dom = 1, .mode = 3 };
	struct rmap_model *rm = sharing_rmap(sm);
	uint64_t g;

	CHECK(sharing_domain_create(sm, 1) == 0);
	for (g = 0; g < 512; g++)
		CHECK(sharing_share(sm, 1, g, 1) == 0);
	CHECK(sharing_share(sm, 1, 1ULL << 24, 1) == 0);
	work_reset(&rm->work);
	/* Checks at gfn 511 (quiet), 512 (quiet), 513 (pending). */
	CHECK(sharing_relinquish_step(sm, 1, probe_preempt, &pr) == -EAGAIN);
	CHECK_EQ_U64(pr.calls, 3);
	CHECK_EQ_U64(rm->work.n[WU_P2M_ENTRY], 514);
	/* The next slice starts its count at 0: it walks the rest of the hole unchecked. */
	work_reset(&rm->work);
	CHECK(sharing_relinquish_step(sm, 1, probe_preempt, &pr) == 0);
	CHECK_EQ_U64(pr.calls, 3);
	CHECK_EQ_U64(rm->work.n[WU_P2M_ENTRY], (1ULL << 24) + 1 - 514);
	sharing_model_destroy(sm);
}

TEST(weighted_slices_are_bounded_by_threshold_over_weight)
{
	struct sharing_model *sm = model("weighted", NULL);
	struct probe pr = { .sm = sm, .dom = 1, .mode = 0 };
	static struct slice_log log;
	uint64_t g, i, shared_slices = 0;

	CHECK(sharing_domain_create(sm, 1) == 0);
	for (g = 3000; g-- > 0;)
		CHECK(sharing_share(sm, 1, g, g % 5) == 0);
	for (g = 3000; g < 23000; g++)
		CHECK(sharing_page_alloc(sm, 1, g) == 0);
	CHECK(sharing_share(sm, 1, 1ULL << 22, 9) == 0);       /* after a 4M-gfn hole */
	log.n = 0;
	run_destroy(sm, 1, &pr, &log);
	for (i = 0; i < log.n; i++) {
		uint64_t others = log.p2m[i] - log.released[i];

		CHECK(log.released[i] <= 8192 / 16);
		CHECK(others <= 8192 / 1);
		CHECK(16 * log.released[i] + others <= 8192);
		shared_slices += log.p2m[i] > 0;
	}
	/* 3000 shared: 5 slices of 512, then 440 (7040) + 1152 private = 8192.  Then 8192
	 * private or hole gfns a slice up to gfn 2^22: 511 slices, and a last one with 4040
	 * gfns, the final shared entry and the first private page of the private pass. */
	for (i = 0; i < 5; i++)
		CHECK_EQ_U64(log.released[i], 512);
	CHECK_EQ_U64(log.released[5], 440);
	CHECK_EQ_U64(log.p2m[5], 440 + 1152);
	for (i = 6; i < 517; i++)
		CHECK_EQ_U64(log.p2m[i], 8192);
	CHECK_EQ_U64(log.p2m[517], 4040 + 1);
	CHECK_EQ_U64(log.released[517], 1);
	CHECK_EQ_U64(shared_slices, 518);
	sharing_model_destroy(sm);
}

/*
 * The closed form over holes against the real per-gfn walk: the same domain destroyed
 * with each policy and with a copy of it without skip() must slice identically.
 */
TEST(hole_closed_form_equals_per_gfn_walk)
{
	static struct slice_log la, lb;
	unsigned i;

	for (i = 0; relinquish_policies[i]; i++) {
		struct relinquish_policy noskip = *relinquish_policies[i];
		struct relinquish_params lp;
		struct sharing_model *a, *b;
		struct probe pa, pb;
		uint64_t sla, slb, j;
		int which;

		noskip.skip = NULL;
		relinquish_params_default(&lp);
		lp.batch = 100;
		lp.weight_threshold = 50000;
		for (which = 0; which < 2; which++) {
			struct rmap_params rp;
			struct sharing_model *sm;
			uint64_t g;

			rmap_params_default(&rp);
			sm = sharing_model_create(&rmap_list_policy, &rp,
						  which ? &noskip : relinquish_policies[i], &lp);
			CHECK(sm != NULL);
			if (!sm)
				return;
			CHECK(sharing_domain_create(sm, 1) == 0);
			/* 100 shared just before a hole (preemptible-seed's count hits 100 there),
			 * then runs separated by holes of many sizes. */
			for (g = 0; g < 100; g++)
				CHECK(sharing_share(sm, 1, g, 1) == 0);
			for (g = 0; g < 40; g++) {
				uint64_t base = 1000 + g * g * g * 997;

				CHECK(sharing_share(sm, 1, base, 2) == 0);
				CHECK(sharing_page_alloc(sm, 1, base + 1) == 0);
			}
			if (which)
				b = sm;
			else
				a = sm;
		}
		pa = (struct probe){ .sm = a, .dom = 1, .mode = 3 };
		pb = (struct probe){ .sm = b, .dom = 1, .mode = 3 };
		la.n = lb.n = 0;
		sla = run_destroy(a, 1, &pa, &la);
		slb = run_destroy(b, 1, &pb, &lb);
		CHECK_EQ_U64(sla, slb);
		CHECK_EQ_U64(pa.calls, pb.calls);
		for (j = 0; j < la.n && j < lb.n; j++) {
			CHECK_EQ_U64(la.p2m[j], lb.p2m[j]);
			CHECK_EQ_U64(la.checks[j], lb.checks[j]);
			CHECK_EQ_U64(la.released[j], lb.released[j]);
		}
		if (test_failed_now) {
			printf("  policy %s\n", relinquish_policies[i]->name);
			return;
		}
		sharing_model_destroy(a);
		sharing_model_destroy(b);
	}
}

TEST(relinquish_of_unknown_domain_is_enoent)
{
	struct sharing_model *sm = model("preemptible", NULL);

	CHECK(sharing_relinquish_step(sm, 42, NULL, NULL) == -ENOENT);
	sharing_model_destroy(sm);
}

TEST(shared_entry_at_max_mapped_is_released)
{
	struct sharing_model *sm = model("monolithic", NULL);
	struct rmap_model *rm = sharing_rmap(sm);

	CHECK(sharing_domain_create(sm, 1) == 0);
	CHECK(sharing_domain_create(sm, 2) == 0);
	CHECK(sharing_share(sm, 2, 0, 5) == 0);
	CHECK(sharing_share(sm, 1, 1000, 5) == 0);   /* the only, and highest, gfn */
	work_reset(&rm->work);
	CHECK(sharing_relinquish_step(sm, 1, NULL, NULL) == 0);
	CHECK_EQ_U64(sharing_frame_degree(sm, 5), 1);
	CHECK_EQ_U64(rm->work.n[WU_P2M_ENTRY], 1001);   /* gfns 0..1000, hole included */
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

TEST(scan_stops_when_the_domain_has_no_shared_entry_left)
{
	struct sharing_model *sm = model("monolithic", NULL);
	struct rmap_model *rm = sharing_rmap(sm);
	uint64_t g;

	CHECK(sharing_domain_create(sm, 1) == 0);
	CHECK(sharing_share(sm, 1, 10, 5) == 0);
	for (g = 11; g < 3000; g++)
		CHECK(sharing_page_alloc(sm, 1, g) == 0);
	CHECK(sharing_page_alloc(sm, 1, 1ULL << 40) == 0);
	work_reset(&rm->work);
	CHECK(sharing_relinquish_step(sm, 1, NULL, NULL) == 0);
	/* gfns 0..10 examined; the loop's shr_pages == 0 test ends it before gfn 11. */
	CHECK_EQ_U64(rm->work.n[WU_P2M_ENTRY], 11);
	CHECK_EQ_U64(rm->work.n[WU_PAGE_PUT], 1 + 2989 + 1);
	sharing_model_destroy(sm);
}

int main(void)
{
	return test_main();
}
