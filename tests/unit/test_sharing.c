/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_sharing.c — the memory-sharing machine (models/sharing.c): share, unshare,
 * destroy, against a reference model, with every rmap policy, under allocation failures.
 */
#include "test.h"
#include "sharing.h"
#include "env_user.h"

static uint64_t rng_state = 777;

static uint64_t rnd(void)
{
	rng_state += 0x9e3779b97f4a7c15ULL;
	return env_mix64(rng_state);
}

static bool sanitized(void)
{
	const char *s = getenv("MEMSIM_SANITIZED");

	return s && *s && strcmp(s, "0");
}

static struct sharing_model *model_with(const struct rmap_policy *rpol, const char *lpol,
					bool shrunk)
{
	struct rmap_params rp;
	struct relinquish_params lp;
	struct sharing_model *sm;

	rmap_params_default(&rp);
	if (shrunk) {
		/* Small thresholds so conversions and resizes happen all the time. */
		rp.heavy = 4;
		rp.light = 1;
		rp.buckets = 4;
		rp.grow_load = 1;
		rp.grow_step = 1;
	}
	relinquish_params_default(&lp);
	sm = sharing_model_create(rpol, &rp, relinquish_policy_find(lpol), &lp);
	if (!sm) {
		printf("sharing_model_create failed\n");
		exit(1);
	}
	return sm;
}

static struct sharing_model *model(void)
{
	return model_with(&rmap_list_policy, "preemptible", false);
}

static int destroy_all(struct sharing_model *sm, uint32_t dom)
{
	int rc;

	do
		rc = sharing_relinquish_step(sm, dom, NULL, NULL);
	while (rc == -EAGAIN);
	return rc;
}

/* ---- single operations ------------------------------------------------------------------- */

TEST(domain_create_twice_is_eexist_and_unknown_domain_is_enoent)
{
	struct sharing_model *sm = model();

	CHECK(sharing_domain_create(sm, 3) == 0);
	CHECK(sharing_domain_create(sm, 3) == -EEXIST);
	CHECK(sharing_page_alloc(sm, 4, 0) == -ENOENT);
	CHECK(sharing_share(sm, 4, 0, 1) == -ENOENT);
	CHECK(sharing_unshare(sm, 4, 0) == -ENOENT);
	CHECK(sharing_lookup(sm, 4, 0, NULL) == -ENOENT);
	CHECK_EQ_U64(sharing_domain_shared(sm, 4), 0);
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

TEST(share_creates_frame_then_joining_frees_the_duplicate_page)
{
	struct sharing_model *sm = model();
	struct rmap_model *rm = sharing_rmap(sm);
	uint64_t f = 0;

	CHECK(sharing_domain_create(sm, 1) == 0);
	CHECK(sharing_domain_create(sm, 2) == 0);
	CHECK(sharing_page_alloc(sm, 1, 5) == 0);
	CHECK(sharing_page_alloc(sm, 2, 7) == 0);
	work_reset(&rm->work);
	CHECK(sharing_share(sm, 1, 5, 9) == 0);
	/* Nominate: the private page becomes the frame; one type count taken, nothing put. */
	CHECK_EQ_U64(rm->work.n[WU_REFCOUNT], 1);
	CHECK_EQ_U64(rm->work.n[WU_PAGE_PUT], 0);
	work_reset(&rm->work);
	CHECK(sharing_share(sm, 2, 7, 9) == 0);
	/* Joining: the client's own page is put. */
	CHECK_EQ_U64(rm->work.n[WU_REFCOUNT], 1);
	CHECK_EQ_U64(rm->work.n[WU_PAGE_PUT], 1);
	CHECK(sharing_lookup(sm, 2, 7, &f) == P2M_SHARED && f == 9);
	CHECK_EQ_U64(sharing_frame_degree(sm, 9), 2);
	CHECK_EQ_U64(sharing_max_degree(sm), 2);
	CHECK_EQ_U64(sharing_stats(sm)->shares, 2);
	CHECK_EQ_U64(sharing_stats(sm)->frames_live, 1);
	CHECK_EQ_U64(sharing_stats(sm)->shared_entries, 2);
	CHECK_EQ_U64(sharing_domain_shared(sm, 1), 1);
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

TEST(sharing_the_same_frame_again_changes_nothing)
{
	struct sharing_model *sm = model();
	struct rmap_model *rm = sharing_rmap(sm);

	CHECK(sharing_domain_create(sm, 1) == 0);
	CHECK(sharing_share(sm, 1, 5, 9) == 0);
	work_reset(&rm->work);
	CHECK(sharing_share(sm, 1, 5, 9) == 0);
	CHECK_EQ_U64(sharing_frame_degree(sm, 9), 1);
	CHECK_EQ_U64(sharing_stats(sm)->shares, 1);
	CHECK_EQ_U64(rm->work.n[WU_ALLOC] + rm->work.n[WU_LIST_HOP], 0);
	sharing_model_destroy(sm);
}

TEST(unshare_breaks_cow_and_the_last_unshare_frees_the_frame)
{
	struct sharing_model *sm = model();
	struct rmap_model *rm = sharing_rmap(sm);

	CHECK(sharing_domain_create(sm, 1) == 0);
	CHECK(sharing_share(sm, 1, 1, 4) == 0);
	CHECK(sharing_share(sm, 1, 2, 4) == 0);
	CHECK(sharing_share(sm, 1, 3, 4) == 0);
	work_reset(&rm->work);
	CHECK(sharing_unshare(sm, 1, 1) == 1);
	/* Tail of a 3-list (gfn 1 was added first): 3 hops; a copy allocated, the frame put. */
	CHECK_EQ_U64(rm->work.n[WU_LIST_HOP], 3);
	CHECK_EQ_U64(rm->work.n[WU_ALLOC], 1);
	CHECK_EQ_U64(rm->work.n[WU_PAGE_PUT], 1);
	CHECK(sharing_lookup(sm, 1, 1, NULL) == P2M_PRIVATE);
	CHECK(sharing_unshare(sm, 1, 1) == 0);          /* already private */
	CHECK(sharing_unshare(sm, 1, 99) == 0);         /* never mapped */
	CHECK(sharing_unshare(sm, 1, 1ULL << 60) == 0); /* beyond the p2m */
	CHECK(sharing_unshare(sm, 1, 2) == 1);
	work_reset(&rm->work);
	CHECK(sharing_unshare(sm, 1, 3) == 1);
	/* The last gfn keeps the page: no copy, no put; the frame and its rmap go. */
	CHECK_EQ_U64(rm->work.n[WU_ALLOC], 0);
	CHECK_EQ_U64(rm->work.n[WU_PAGE_PUT], 0);
	CHECK_EQ_U64(rm->work.n[WU_REFCOUNT], 1);
	CHECK_EQ_U64(sharing_frame_degree(sm, 4), 0);
	CHECK_EQ_U64(sharing_stats(sm)->frames_live, 0);
	CHECK_EQ_U64(sharing_stats(sm)->frames_freed, 1);
	CHECK_EQ_U64(sharing_stats(sm)->unshares, 3);
	CHECK_EQ_U64(rm->live_entries, 0);
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

TEST(share_onto_another_frame_moves_the_tuple)
{
	struct sharing_model *sm = model();
	uint64_t f = 0;

	CHECK(sharing_domain_create(sm, 1) == 0);
	CHECK(sharing_share(sm, 1, 8, 100) == 0);
	CHECK(sharing_share(sm, 1, 9, 100) == 0);
	CHECK(sharing_share(sm, 1, 8, 200) == 0);
	CHECK(sharing_lookup(sm, 1, 8, &f) == P2M_SHARED && f == 200);
	CHECK_EQ_U64(sharing_frame_degree(sm, 100), 1);
	CHECK_EQ_U64(sharing_frame_degree(sm, 200), 1);
	CHECK(sharing_share(sm, 1, 9, 200) == 0);       /* frame 100 loses its last tuple */
	CHECK_EQ_U64(sharing_frame_degree(sm, 100), 0);
	CHECK_EQ_U64(sharing_stats(sm)->frames_live, 1);
	CHECK_EQ_U64(sharing_domain_shared(sm, 1), 2);
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

TEST(page_alloc_is_idempotent_and_leaves_a_shared_gfn_shared)
{
	struct sharing_model *sm = model();

	CHECK(sharing_domain_create(sm, 1) == 0);
	CHECK(sharing_page_alloc(sm, 1, 3) == 0);
	CHECK(sharing_page_alloc(sm, 1, 3) == 0);
	CHECK(sharing_lookup(sm, 1, 3, NULL) == P2M_PRIVATE);
	CHECK(sharing_share(sm, 1, 4, 1) == 0);
	CHECK(sharing_page_alloc(sm, 1, 4) == 0);
	CHECK(sharing_lookup(sm, 1, 4, NULL) == P2M_SHARED);
	CHECK(sharing_lookup(sm, 1, 5, NULL) == P2M_INVALID);
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

TEST(out_of_range_gfn_or_frame_is_erange)
{
	struct sharing_model *sm = model();

	CHECK(sharing_domain_create(sm, 1) == 0);
	CHECK(sharing_page_alloc(sm, 1, P2M_GFN_LIMIT) == -ERANGE);
	CHECK(sharing_share(sm, 1, P2M_GFN_LIMIT, 1) == -ERANGE);
	CHECK(sharing_share(sm, 1, 1, P2M_FRAME_LIMIT) == -ERANGE);
	CHECK(sharing_share(sm, 1, P2M_GFN_LIMIT - 1, P2M_FRAME_LIMIT - 1) == 0);
	CHECK_EQ_U64(sharing_frame_degree(sm, P2M_FRAME_LIMIT - 1), 1);
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

static bool always(void *arg)
{
	(void)arg;
	return true;
}

TEST(dying_domain_refuses_share_alloc_and_unshare_with_ebusy)
{
	struct sharing_model *sm = model();
	uint64_t g;

	CHECK(sharing_domain_create(sm, 1) == 0);
	for (g = 0; g < 2000; g++)
		CHECK(sharing_share(sm, 1, g, g % 3) == 0);
	CHECK(sharing_relinquish_step(sm, 1, always, NULL) == -EAGAIN);
	CHECK_EQ_U64(sharing_domain_shared(sm, 1), 2000 - 512);
	CHECK(sharing_share(sm, 1, 1999, 7) == -EBUSY);
	CHECK(sharing_page_alloc(sm, 1, 5000) == -EBUSY);
	CHECK(sharing_unshare(sm, 1, 1999) == -EBUSY);
	CHECK(sharing_domain_create(sm, 1) == -EEXIST);
	CHECK(sharing_check(sm) == 0);
	CHECK(destroy_all(sm, 1) == 0);
	CHECK(sharing_domain_create(sm, 1) == 0);      /* the id is free again */
	CHECK(sharing_share(sm, 1, 1999, 7) == 0);
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

TEST(check_notices_a_broken_count)
{
	struct sharing_model *sm = model();
	struct sharing_stats *st = (struct sharing_stats *)sharing_stats(sm);

	CHECK(sharing_domain_create(sm, 1) == 0);
	CHECK(sharing_share(sm, 1, 3, 3) == 0);
	CHECK(sharing_check(sm) == 0);
	st->shared_entries++;
	CHECK(sharing_check(sm) == -EINVAL);
	st->shared_entries--;
	st->frames_live++;
	CHECK(sharing_check(sm) == -EINVAL);
	st->frames_live--;
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

TEST(check_leaves_the_work_accumulator_alone)
{
	struct sharing_model *sm = model();
	struct rmap_model *rm = sharing_rmap(sm);
	struct work before;
	uint64_t g;

	CHECK(sharing_domain_create(sm, 1) == 0);
	for (g = 0; g < 300; g++)
		CHECK(sharing_share(sm, 1, g, 1) == 0);
	before = rm->work;
	CHECK(sharing_check(sm) == 0);
	CHECK(!memcmp(&before, &rm->work, sizeof(before)));
	sharing_model_destroy(sm);
}

/* ---- random operation sequences against a reference -------------------------------------- */

#define NDOM 3
#define NG 48
#define NF 6

struct ref {
	int state[NDOM + 1];         /* 0 absent, 1 live, 2 dying */
	uint8_t type[NDOM + 1][NG];
	uint64_t frame[NDOM + 1][NG];
};

static uint64_t gfn_of(unsigned i)
{
	if (i < 32)
		return i;
	if (i < 40)
		return (1ULL << 20) + i;
	/* Height 4.  (2^40 works too, see test_p2m, but a weighted destroy checks for
	 * preemption every 8192 gfns of a hole: 2^27 calls for 2^40, slow for a test.) */
	return (1ULL << 30) + i;
}

static uint64_t frame_of(unsigned f)
{
	return (uint64_t)f * 1000003ULL;
}

static int expect_absent_or_dying(const struct ref *r, unsigned d)
{
	return r->state[d] == 0 ? -ENOENT : -EBUSY;
}

/* Live domains agree with the reference gfn by gfn; frame degrees too when none is dying. */
static void compare(struct sharing_model *sm, const struct ref *r)
{
	uint64_t deg[NF] = { 0 }, total = 0;
	bool dying = false;
	unsigned d, i, f;

	for (d = 1; d <= NDOM; d++) {
		if (r->state[d] == 0) {
			CHECK(sharing_lookup(sm, d, 0, NULL) == -ENOENT);
			continue;
		}
		if (r->state[d] == 2) {
			dying = true;
			continue;
		}
		for (i = 0; i < NG; i++) {
			uint64_t fr = ~0ULL;
			int t = sharing_lookup(sm, d, gfn_of(i), &fr);

			CHECK_EQ_U64(t, r->type[d][i]);
			if (t == P2M_SHARED) {
				CHECK_EQ_U64(fr, r->frame[d][i]);
				for (f = 0; f < NF; f++)
					deg[f] += frame_of(f) == fr;
				total++;
			}
		}
	}
	if (!dying) {
		for (f = 0; f < NF; f++)
			CHECK_EQ_U64(sharing_frame_degree(sm, frame_of(f)), deg[f]);
		CHECK_EQ_U64(sharing_stats(sm)->shared_entries, total);
	}
}

static bool coin(void *arg)
{
	(void)arg;
	return rnd() % 10 < 7;
}

static uint64_t merges_seen;   /* merges done by random_ops, over all its runs */

static void random_ops(struct sharing_model *sm, unsigned steps, uint64_t fail_every)
{
	struct ref r;
	unsigned s;
	uint64_t enomem_seen = 0;

	memset(&r, 0, sizeof(r));
	for (s = 0; s < steps && !test_failed_now; s++) {
		unsigned d = 1 + (unsigned)(rnd() % NDOM), i = (unsigned)(rnd() % NG);
		unsigned f = (unsigned)(rnd() % NF), op = (unsigned)(rnd() % 100);
		int rc;

		/* Fail the k-th allocation of this operation, k varying so deep p2m inserts
		 * (up to 8 allocations) sometimes get through. */
		if (fail_every)
			env_fail_every(fail_every + rnd() % 10);
		if (op < 10) {
			rc = sharing_domain_create(sm, d);
			if (r.state[d]) {
				CHECK(rc == -EEXIST);
			} else if (rc == -ENOMEM) {
				enomem_seen++;
			} else {
				CHECK(rc == 0);
				r.state[d] = 1;
				memset(r.type[d], 0, sizeof(r.type[d]));
			}
		} else if (op < 25) {
			rc = sharing_page_alloc(sm, d, gfn_of(i));
			if (r.state[d] != 1) {
				CHECK(rc == expect_absent_or_dying(&r, d));
			} else if (rc == -ENOMEM) {
				enomem_seen++;
			} else {
				CHECK(rc == 0);
				if (r.type[d][i] == P2M_INVALID)
					r.type[d][i] = P2M_PRIVATE;
			}
		} else if (op < 67 && op >= 60 && r.state[d] == 1 && r.type[d][i] == P2M_SHARED) {
			uint64_t from = r.frame[d][i], to = frame_of(f);
			unsigned dd, j;

			rc = sharing_merge(sm, d, gfn_of(i), to);
			CHECK(rc == 0 || rc == -ENOMEM);
			if (rc == -ENOMEM)
				enomem_seen++;
			/* Every tuple of the client frame moved (or, after -ENOMEM, some did): take
			 * where each one is now, but only from the two frames. */
			for (dd = 1; dd <= NDOM; dd++) {
				if (r.state[dd] != 1)
					continue;
				for (j = 0; j < NG; j++) {
					uint64_t now = ~0ULL;

					if (r.type[dd][j] != P2M_SHARED || r.frame[dd][j] != from)
						continue;
					CHECK(sharing_lookup(sm, dd, gfn_of(j), &now) == P2M_SHARED);
					CHECK(now == from || now == to);
					CHECK(rc != 0 || now == to || from == to);
					r.frame[dd][j] = now;
				}
			}
		} else if (op < 67) {
			rc = sharing_share(sm, d, gfn_of(i), frame_of(f));
			if (r.state[d] != 1) {
				CHECK(rc == expect_absent_or_dying(&r, d));
			} else if (rc == -ENOMEM) {
				enomem_seen++;
			} else {
				CHECK(rc == 0);
				r.type[d][i] = P2M_SHARED;
				r.frame[d][i] = frame_of(f);
			}
		} else if (op < 88) {
			rc = sharing_unshare(sm, d, gfn_of(i));
			if (r.state[d] != 1) {
				CHECK(rc == expect_absent_or_dying(&r, d));
			} else if (r.type[d][i] == P2M_SHARED) {
				CHECK(rc == 1);
				r.type[d][i] = P2M_PRIVATE;
			} else {
				CHECK(rc == 0);
			}
		} else {
			uint64_t before = sharing_domain_shared(sm, d);

			/* Half the slices may be preempted, half run to the end (a weighted
			 * destroy crosses the 2^30 hole 8192 gfns a slice otherwise). */
			rc = sharing_relinquish_step(sm, d, rnd() & 1 ? coin : NULL, NULL);
			if (r.state[d] == 0) {
				CHECK(rc == -ENOENT);
			} else {
				CHECK(rc == 0 || rc == -EAGAIN);
				CHECK(sharing_domain_shared(sm, d) <= before);
				r.state[d] = rc == 0 ? 0 : 2;
			}
		}
		env_fail_reset();
		CHECK(sharing_check(sm) == 0);
		compare(sm, &r);
		if (test_failed_now)
			printf("  step %u op %u domain %u gfn %u frame %u\n", s, op, d, i, f);
	}
	if (fail_every)
		CHECK(enomem_seen > 0);
	merges_seen += sharing_stats(sm)->merges;
	/* Destroy everything: every count back to zero, nothing held. */
	for (s = 1; s <= NDOM; s++)
		if (r.state[s])
			CHECK(destroy_all(sm, s) == 0);
	CHECK(sharing_check(sm) == 0);
	CHECK_EQ_U64(sharing_stats(sm)->frames_live, 0);
	CHECK_EQ_U64(sharing_stats(sm)->shared_entries, 0);
	CHECK_EQ_U64(sharing_rmap(sm)->live_entries, 0);
	CHECK_EQ_U64(sharing_rmap(sm)->live_bytes, 0);
	CHECK_EQ_U64(sharing_max_degree(sm), 0);
	CHECK(sharing_model_bytes(sm) < 4096);
}

static const char *const rmap_names[] = { "list", "hash", "tree", "hash-grow", "ksm-chain" };

TEST(random_operations_keep_every_invariant_with_every_rmap)
{
	uint64_t merges_before = merges_seen;
	unsigned p;

	for (p = 0; p < ENV_ARRAY_SIZE(rmap_names); p++) {
		const struct rmap_policy *rp = rmap_policy_find(rmap_names[p]);
		struct sharing_model *sm;

		CHECK(rp != NULL);
		if (!rp)
			continue;
		sm = model_with(rp, p % 2 ? "weighted" : "preemptible", true);
		random_ops(sm, sanitized() ? 1000 : 3000, 0);
		if (test_failed_now)
			printf("  rmap %s\n", rmap_names[p]);
		sharing_model_destroy(sm);
		if (test_failed_now)
			return;
	}
	CHECK(merges_seen > merges_before);   /* the merge path ran */
}

TEST(allocation_failures_refuse_operations_and_change_nothing)
{
	uint64_t merges_before = merges_seen;
	unsigned p;

	for (p = 0; p < ENV_ARRAY_SIZE(rmap_names); p++) {
		const struct rmap_policy *rp = rmap_policy_find(rmap_names[p]);
		struct sharing_model *sm;

		if (!rp)
			continue;
		sm = model_with(rp, "preemptible-seed", true);
		random_ops(sm, sanitized() ? 1000 : 3000, 1 + p);
		CHECK(sharing_stats(sm)->enomem > 0);
		if (test_failed_now)
			printf("  rmap %s\n", rmap_names[p]);
		sharing_model_destroy(sm);
		if (test_failed_now)
			return;
	}
	CHECK(merges_seen > merges_before);
}

/* Every allocation of a deep share fails in turn: -ENOMEM and nothing changed, or done. */
TEST(share_fails_cleanly_at_every_allocation)
{
	unsigned k;
	bool succeeded = false;

	for (k = 0; k < 20 && !succeeded; k++) {
		struct sharing_model *sm = model_with(&rmap_hash_policy, "preemptible", true);
		int rc;

		CHECK(sharing_domain_create(sm, 1) == 0);
		CHECK(sharing_share(sm, 1, 0, 5) == 0);
		env_fail_after(k);
		rc = sharing_share(sm, 1, 1ULL << 40, 6);
		env_fail_reset();
		if (rc == 0) {
			succeeded = true;
			CHECK_EQ_U64(sharing_frame_degree(sm, 6), 1);
		} else {
			CHECK(rc == -ENOMEM);
			CHECK(sharing_lookup(sm, 1, 1ULL << 40, NULL) == P2M_INVALID);
			CHECK_EQ_U64(sharing_frame_degree(sm, 6), 0);
			CHECK_EQ_U64(sharing_stats(sm)->frames_live, 1);
			CHECK_EQ_U64(sharing_stats(sm)->enomem, 1);
			CHECK(sharing_share(sm, 1, 1ULL << 40, 6) == 0);
		}
		CHECK(sharing_check(sm) == 0);
		CHECK(destroy_all(sm, 1) == 0);
		CHECK_EQ_U64(sharing_rmap(sm)->live_bytes, 0);
		sharing_model_destroy(sm);
	}
	CHECK(succeeded);
	CHECK(k > 3);   /* a deep share needs several allocations: p2m nodes, rmap, table */
}

TEST(domain_create_fails_cleanly_without_memory)
{
	struct sharing_model *sm = model();
	unsigned k;

	for (k = 0; k < 2; k++) {
		env_fail_after(k);
		CHECK(sharing_domain_create(sm, 10 + k) == -ENOMEM);
		env_fail_reset();
		CHECK(sharing_lookup(sm, 10 + k, 0, NULL) == -ENOENT);
		CHECK(sharing_check(sm) == 0);
	}
	CHECK_EQ_U64(sharing_stats(sm)->enomem, 2);
	sharing_model_destroy(sm);
}

/* ---- merging two shared frames (share_pages of a shared client page) --------------------------- */

TEST(merge_moves_every_tuple_of_the_client_frame_hand_traced)
{
	struct sharing_model *sm = model();
	struct rmap_model *rm = sharing_rmap(sm);
	uint64_t g, f = 0;

	CHECK(sharing_domain_create(sm, 1) == 0);
	CHECK(sharing_domain_create(sm, 2) == 0);
	for (g = 0; g < 5; g++)
		CHECK(sharing_share(sm, 1, g, 100) == 0);
	for (g = 10; g < 13; g++)
		CHECK(sharing_share(sm, 2, g, 200) == 0);
	CHECK(sharing_share(sm, 1, 7, 200) == 0);   /* the client frame backs two domains */
	work_reset(&rm->work);
	CHECK(sharing_merge(sm, 2, 11, 100) == 0);
	CHECK_EQ_U64(sharing_frame_degree(sm, 100), 9);
	CHECK_EQ_U64(sharing_frame_degree(sm, 200), 0);
	CHECK_EQ_U64(sharing_stats(sm)->frames_live, 1);
	CHECK_EQ_U64(sharing_stats(sm)->merges, 1);
	CHECK_EQ_U64(sharing_stats(sm)->merged_tuples, 4);
	for (g = 10; g < 13; g++)
		CHECK(sharing_lookup(sm, 2, g, &f) == P2M_SHARED && f == 100);
	CHECK(sharing_lookup(sm, 1, 7, &f) == P2M_SHARED && f == 100);
	CHECK_EQ_U64(sharing_domain_shared(sm, 1), 6);
	CHECK_EQ_U64(sharing_domain_shared(sm, 2), 3);
	/* list rmap: the walk visits 4 tuples, each found at the head of what is left (1 hop),
	 * an entry allocated on the source and freed on the client; a type count taken on the
	 * source and put on the client each; the client page's last put, its rmap head freed. */
	CHECK_EQ_U64(rm->work.n[WU_LIST_HOP], 4 + 4);
	CHECK_EQ_U64(rm->work.n[WU_ALLOC], 4);
	CHECK_EQ_U64(rm->work.n[WU_FREE], 4 + 1);
	CHECK_EQ_U64(rm->work.n[WU_REFCOUNT], 4);
	CHECK_EQ_U64(rm->work.n[WU_PAGE_PUT], 4 + 1);
	CHECK(sharing_check(sm) == 0);
	/* the merged frame destroys like any other */
	CHECK(destroy_all(sm, 2) == 0);
	CHECK_EQ_U64(sharing_frame_degree(sm, 100), 6);
	CHECK(destroy_all(sm, 1) == 0);
	CHECK_EQ_U64(sharing_stats(sm)->frames_live, 0);
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

TEST(merge_edge_cases)
{
	struct sharing_model *sm = model();
	uint64_t f = 0;

	CHECK(sharing_domain_create(sm, 1) == 0);
	CHECK(sharing_page_alloc(sm, 1, 3) == 0);
	CHECK(sharing_merge(sm, 1, 3, 100) == -EINVAL);      /* private: nothing to merge */
	CHECK(sharing_merge(sm, 1, 4, 100) == -EINVAL);      /* not mapped */
	CHECK(sharing_merge(sm, 9, 4, 100) == -ENOENT);
	CHECK(sharing_share(sm, 1, 5, 100) == 0);
	CHECK(sharing_share(sm, 1, 6, 100) == 0);
	CHECK(sharing_merge(sm, 1, 5, 100) == 0);            /* already there */
	CHECK_EQ_U64(sharing_stats(sm)->merges, 0);
	CHECK(sharing_merge(sm, 1, 5, 300) == 0);            /* into a frame not yet shared */
	CHECK_EQ_U64(sharing_frame_degree(sm, 300), 2);
	CHECK(sharing_lookup(sm, 1, 6, &f) == P2M_SHARED && f == 300);
	CHECK_EQ_U64(sharing_stats(sm)->frames_live, 1);
	CHECK(sharing_merge(sm, 1, 5, 1ULL << 62) == -ERANGE);
	CHECK(sharing_relinquish_step(sm, 1, NULL, NULL) == 0);
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

/* The rmap sizes after a merge, for every policy, with conversions (shrunk thresholds):
 * the client's hash must not convert back while it empties under the iterator. */
TEST(merge_with_every_rmap_leaves_the_sizes_and_invariants_right)
{
	unsigned p;

	for (p = 0; p < ENV_ARRAY_SIZE(rmap_names); p++) {
		struct sharing_model *sm = model_with(rmap_policy_find(rmap_names[p]), "preemptible",
						      true);
		struct rmap_model *rm = sharing_rmap(sm);
		uint64_t g, bytes_before;

		CHECK(sharing_domain_create(sm, 1) == 0);
		CHECK(sharing_domain_create(sm, 2) == 0);
		for (g = 0; g < 40; g++)
			CHECK(sharing_share(sm, 1 + (uint32_t)(g & 1), g, g < 30 ? 500 : 600) == 0);
		rm->stats.to_list = 0;
		bytes_before = rm->live_bytes;
		CHECK(sharing_merge(sm, 1, 4, 600) == 0);
		CHECK_EQ_U64(sharing_frame_degree(sm, 500), 0);
		CHECK_EQ_U64(sharing_frame_degree(sm, 600), 40);
		CHECK_EQ_U64(sharing_stats(sm)->merged_tuples, 30);
		CHECK_EQ_U64(rm->live_entries, 40);
		CHECK_EQ_U64(rm->stats.to_list, 0);
		/* one rmap fewer, the same tuples (hash-grow's source may double its table) */
		if (strcmp(rmap_names[p], "hash-grow"))
			CHECK(rm->live_bytes < bytes_before);
		CHECK(sharing_check(sm) == 0);
		if (test_failed_now)
			printf("  rmap %s\n", rmap_names[p]);
		sharing_model_destroy(sm);
	}
}

/* Each allocation of a merge into a new frame fails in turn: -ENOMEM with the tuples moved
 * so far on the source and the rest on the client, every invariant holding. */
TEST(merge_fails_partway_and_stays_consistent)
{
	unsigned k;
	bool done = false;

	for (k = 0; k < 30 && !done; k++) {
		struct sharing_model *sm = model_with(&rmap_tree_policy, "preemptible", false);
		int rc;
		uint64_t g;

		CHECK(sharing_domain_create(sm, 1) == 0);
		for (g = 0; g < 8; g++)
			CHECK(sharing_share(sm, 1, g, 5) == 0);
		env_fail_after(k);
		rc = sharing_merge(sm, 1, 0, 6);
		env_fail_reset();
		CHECK(rc == 0 || rc == -ENOMEM);
		CHECK_EQ_U64(sharing_frame_degree(sm, 5) + sharing_frame_degree(sm, 6), 8);
		if (rc == 0) {
			done = true;
			CHECK_EQ_U64(sharing_frame_degree(sm, 6), 8);
		} else {
			CHECK_EQ_U64(sharing_frame_degree(sm, 6), sharing_stats(sm)->merged_tuples);
			CHECK_EQ_U64(sharing_stats(sm)->frames_live,
				     1 + (sharing_frame_degree(sm, 6) && sharing_frame_degree(sm, 5)));
		}
		CHECK(sharing_check(sm) == 0);
		CHECK(destroy_all(sm, 1) == 0);
		CHECK_EQ_U64(sharing_rmap(sm)->live_bytes, 0);
		sharing_model_destroy(sm);
	}
	CHECK(done);
	CHECK(k > 8);   /* a head, a table slot, then one entry per tuple */
}

/* ---- tables follow the live state ---------------------------------------------------------- */

TEST(frame_table_grows_and_shrinks_with_live_frames)
{
	struct sharing_model *sm = model();
	uint64_t n = 100000, g, base, peak;

	CHECK(sharing_domain_create(sm, 1) == 0);
	base = sharing_model_bytes(sm);
	for (g = 0; g < n; g++)
		CHECK(sharing_share(sm, 1, g, g * 7919) == 0);
	peak = sharing_model_bytes(sm);
	CHECK_EQ_U64(sharing_stats(sm)->frames_live, n);
	CHECK(sharing_check(sm) == 0);
	for (g = 0; g < n; g++)
		CHECK(sharing_unshare(sm, 1, g) == 1);
	CHECK_EQ_U64(sharing_stats(sm)->frames_live, 0);
	CHECK_EQ_U64(sharing_stats(sm)->frames_freed, n);
	/* What remains is the p2m (now private pages) and a minimum-size table. */
	CHECK(peak > base + n * 24);
	CHECK(sharing_model_bytes(sm) < base + n * 9);
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

TEST(table_resize_failures_degrade_but_stay_correct)
{
	struct sharing_model *sm = model();
	uint64_t g, ok = 0;

	CHECK(sharing_domain_create(sm, 1) == 0);
	for (g = 0; g < 20000; g++) {
		int rc;

		/* Fail the 2nd, 3rd or 4th allocation of each share: the rmap's, the table's or
		 * a p2m leaf's, in turn. */
		env_fail_every(2 + g % 3);
		rc = sharing_share(sm, 1, g, g);
		env_fail_reset();
		CHECK(rc == 0 || rc == -ENOMEM);
		ok += rc == 0;
	}
	CHECK(sharing_stats(sm)->table_resize_failed > 0);
	CHECK_EQ_U64(sharing_stats(sm)->frames_live, ok);
	CHECK(sharing_check(sm) == 0);
	for (g = 0; g < 20000; g++) {
		env_fail_every(2);
		CHECK(sharing_unshare(sm, 1, g) >= 0);
		env_fail_reset();
	}
	CHECK_EQ_U64(sharing_stats(sm)->frames_live, 0);
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

TEST(many_domains_come_and_go)
{
	struct sharing_model *sm = model();
	uint32_t d;
	uint64_t base = sharing_model_bytes(sm);

	for (d = 0; d < 300; d++) {
		uint32_t id = (d * 7919u) % 1000u;   /* out of order */

		CHECK(sharing_domain_create(sm, id) == 0);
		CHECK(sharing_share(sm, id, d, 1) == 0);
	}
	CHECK_EQ_U64(sharing_frame_degree(sm, 1), 300);
	CHECK(sharing_check(sm) == 0);
	for (d = 0; d < 300; d++)
		CHECK(destroy_all(sm, (d * 7919u) % 1000u) == 0);
	CHECK_EQ_U64(sharing_frame_degree(sm, 1), 0);
	CHECK(sharing_model_bytes(sm) < base + 4096);
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
}

/* Bytes per tuple outside the rmap, with dense gfns (DESIGN's population scenario shape:
 * ~100 tuples per frame). */
TEST(machine_holds_about_8_bytes_per_tuple_outside_the_rmap)
{
	struct sharing_model *sm = model();
	uint64_t per_dom = 250000, d, g, tuples, bytes;

	for (d = 1; d <= 4; d++) {
		CHECK(sharing_domain_create(sm, (uint32_t)d) == 0);
		for (g = per_dom; g-- > 0;)
			CHECK(sharing_share(sm, (uint32_t)d, g, g % 10000) == 0);
	}
	tuples = sharing_stats(sm)->shared_entries;
	bytes = sharing_model_bytes(sm);
	CHECK_EQ_U64(tuples, 4 * per_dom);
	/* 8.02 bytes of p2m + 24-byte slots for 10k frames (0.4 bytes a tuple). */
	CHECK(bytes * 100 / tuples < 900);
	CHECK(bytes * 100 / tuples > 800);
	printf("  bytes per tuple: machine %" PRIu64 ".%02" PRIu64 ", rmap (list) %" PRIu64 "\n",
	       bytes / tuples, bytes * 100 / tuples % 100, sharing_rmap(sm)->live_bytes / tuples);
	sharing_model_destroy(sm);
}

/* ---- the seed's scenario: 100k gfns on one frame ------------------------------------------- */

static struct work destroy_one_frame(const struct rmap_policy *rp, const char *lpol, uint64_t n,
				     bool list_fast)
{
	struct rmap_params p;
	struct relinquish_params lp;
	struct sharing_model *sm;
	struct work w;
	uint64_t g;

	rmap_params_default(&p);
	p.list_fast = list_fast;
	relinquish_params_default(&lp);
	sm = sharing_model_create(rp, &p, relinquish_policy_find(lpol), &lp);
	CHECK(sm != NULL);
	if (!sm)
		exit(1);

	CHECK(sharing_domain_create(sm, 1) == 0);
	for (g = 0; g < n; g++)
		CHECK(sharing_share(sm, 1, g, 42) == 0);
	work_reset(&sharing_rmap(sm)->work);
	CHECK(sharing_relinquish_step(sm, 1, NULL, NULL) == 0);
	w = sharing_rmap(sm)->work;
	CHECK_EQ_U64(sharing_stats(sm)->frames_live, 0);
	CHECK_EQ_U64(sharing_rmap(sm)->live_entries, 0);
	CHECK(sharing_check(sm) == 0);
	sharing_model_destroy(sm);
	return w;
}

/*
 * Gfns shared in ascending order sit in the list newest first; destroy walks gfns ascending,
 * so every search goes to the tail: n + (n-1) + ... + 1 = n(n+1)/2 hops (rmap_list counts a
 * hop per entry compared, the found one included).  The 100k case uses list_fast (the
 * rmap's exact closed-form count; its own tests prove it equal to the walk); the walk itself
 * runs here at 20k (5k under sanitizers) to keep the program fast.
 */
static void check_one_frame_destroy(uint64_t n, bool list_fast)
{
	uint64_t leaves = (n + 511) / 512;
	struct work w = destroy_one_frame(&rmap_list_policy, "monolithic", n, list_fast);
	unsigned u;

	CHECK_EQ_U64(w.n[WU_LIST_HOP], n * (n + 1) / 2);
	CHECK_EQ_U64(w.n[WU_P2M_ENTRY], n);
	CHECK_EQ_U64(w.n[WU_PAGE_PUT], n);
	CHECK_EQ_U64(w.n[WU_PREEMPT_CHECK], 0);
	/* n entries + the rmap head + the p2m: its leaves and one root above them. */
	CHECK_EQ_U64(w.n[WU_FREE], n + 1 + leaves + 1);
	for (u = 0; u < WU__COUNT; u++)
		if (u != WU_LIST_HOP && u != WU_P2M_ENTRY && u != WU_PAGE_PUT && u != WU_FREE)
			CHECK_EQ_U64(w.n[u], 0);
	/* The preemptible form does the same work plus a check every 512 shared entries. */
	w = destroy_one_frame(&rmap_list_policy, "preemptible", n, list_fast);
	CHECK_EQ_U64(w.n[WU_LIST_HOP], n * (n + 1) / 2);
	CHECK_EQ_U64(w.n[WU_PREEMPT_CHECK], n / 512);
}

TEST(destroy_of_100k_gfns_on_one_frame_counts_n_n_plus_1_over_2_list_hops)
{
	check_one_frame_destroy(100000, true);
}

TEST(destroy_of_one_frame_domain_really_walks_n_n_plus_1_over_2_list_hops)
{
	check_one_frame_destroy(sanitized() ? 5000 : 20000, false);
}

TEST(hash_rmap_destroys_the_one_frame_domain_with_100x_fewer_hops)
{
	uint64_t n = sanitized() ? 10000 : 100000;
	struct work wh = destroy_one_frame(&rmap_hash_policy, "monolithic", n, false);
	uint64_t list_hops = n * (n + 1) / 2;

	CHECK(wh.n[WU_LIST_HOP] > 0);
	printf("  n=%" PRIu64 ": list %" PRIu64 " hops, hash %" PRIu64 " hops + %" PRIu64
	       " bucket visits\n", n, list_hops, wh.n[WU_LIST_HOP], wh.n[WU_BUCKET_VISIT]);
	if (n == 100000)
		CHECK(list_hops / (wh.n[WU_LIST_HOP] + wh.n[WU_BUCKET_VISIT]) >= 100);
	else
		CHECK(list_hops / (wh.n[WU_LIST_HOP] + wh.n[WU_BUCKET_VISIT]) >= 10);
}

int main(void)
{
	return test_main();
}
