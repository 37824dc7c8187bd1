/* SPDX-License-Identifier: MIT */
/* tests/unit/test_p2m.c — the per-domain p2m radix tree (models/p2m.c). */
#include "test.h"
#include "p2m.h"
#include "env_user.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state += 0x9e3779b97f4a7c15ULL;
	return env_mix64(rng_state);
}

TEST(empty_p2m_reads_invalid_everywhere)
{
	struct p2m p;
	uint64_t g;
	p2m_entry_t e;

	p2m_init(&p);
	CHECK(p2m_get(&p, 0) == 0);
	CHECK(p2m_get(&p, (1ULL << 40) + 7) == 0);
	CHECK(p2m_get(&p, UINT64_MAX) == 0);
	CHECK(!p2m_next(&p, 0, P2M_MASK_SHARED | P2M_MASK_PRIVATE, &g, &e));
	CHECK_EQ_U64(p2m_next_leaf(&p, 0), P2M_GFN_LIMIT);
	CHECK(p2m_check(&p) == 0);
	CHECK_EQ_U64(p2m_bytes(&p), 0);
}

TEST(set_then_get_returns_type_and_frame)
{
	struct p2m p;
	struct work w;

	work_reset(&w);
	p2m_init(&p);
	CHECK(p2m_set(&p, 5, p2m_mk(P2M_SHARED, 1234), &w) == 0);
	CHECK(p2m_set(&p, 6, p2m_mk(P2M_PRIVATE, 0), &w) == 0);
	CHECK(p2m_type_of(p2m_get(&p, 5)) == P2M_SHARED);
	CHECK_EQ_U64(p2m_frame_of(p2m_get(&p, 5)), 1234);
	CHECK(p2m_type_of(p2m_get(&p, 6)) == P2M_PRIVATE);
	CHECK(p2m_type_of(p2m_get(&p, 7)) == P2M_INVALID);
	CHECK_EQ_U64(p.nshared, 1);
	CHECK_EQ_U64(p.nprivate, 1);
	CHECK_EQ_U64(p.max_mapped, 6);
	/* One leaf is the whole tree for gfns below 512. */
	CHECK_EQ_U64(p.height, 1);
	CHECK_EQ_U64(w.n[WU_ALLOC], 1);
	CHECK(p2m_check(&p) == 0);
	p2m_destroy(&p, &w);
	CHECK_EQ_U64(w.n[WU_FREE], 1);
}

TEST(height_grows_to_five_levels_for_gfn_2_pow_40)
{
	struct p2m p;
	struct work w;
	uint64_t big = 1ULL << 40;

	work_reset(&w);
	p2m_init(&p);
	CHECK(p2m_set(&p, 3, p2m_mk(P2M_PRIVATE, 0), &w) == 0);
	CHECK(p2m_set(&p, big, p2m_mk(P2M_SHARED, 99), &w) == 0);
	CHECK_EQ_U64(p.height, 5);    /* 2^36 <= 2^40 < 2^45 */
	CHECK(p2m_type_of(p2m_get(&p, 3)) == P2M_PRIVATE);
	CHECK_EQ_U64(p2m_frame_of(p2m_get(&p, big)), 99);
	CHECK(p2m_get(&p, big - 1) == 0 && p2m_get(&p, big + 1) == 0);
	/* Two leaves, the old leaf's 4 new ancestors, and 3 interior nodes for the new path. */
	CHECK_EQ_U64(p.leaves, 2);
	CHECK_EQ_U64(p.nodes, 4 + 3);
	CHECK_EQ_U64(w.n[WU_ALLOC], 2 + 7);
	CHECK_EQ_U64(p.max_mapped, big);
	CHECK(p2m_check(&p) == 0);
	p2m_destroy(&p, &w);
	CHECK_EQ_U64(w.n[WU_FREE], 9);
}

TEST(gfn_at_limit_is_out_of_range)
{
	struct p2m p;

	p2m_init(&p);
	CHECK(p2m_set(&p, P2M_GFN_LIMIT, p2m_mk(P2M_PRIVATE, 0), NULL) == -ERANGE);
	CHECK(p2m_reserve(&p, UINT64_MAX, NULL) == -ERANGE);
	CHECK(p2m_set(&p, P2M_GFN_LIMIT - 1, p2m_mk(P2M_PRIVATE, 0), NULL) == 0);
	CHECK_EQ_U64(p.height, P2M_MAX_HEIGHT);
	CHECK(p2m_set(&p, 1, 3, NULL) == -ERANGE);   /* type 3 does not exist */
	CHECK(p2m_check(&p) == 0);
	p2m_destroy(&p, NULL);
}

TEST(invalid_store_under_absent_leaf_allocates_nothing)
{
	struct p2m p;
	struct work w;

	work_reset(&w);
	p2m_init(&p);
	CHECK(p2m_set(&p, 1ULL << 30, 0, &w) == 0);
	CHECK(p.root == NULL);
	CHECK_EQ_U64(w.n[WU_ALLOC], 0);
	CHECK(!p.mapped);
}

TEST(next_iterates_in_gfn_order_across_holes)
{
	struct p2m p;
	uint64_t gfns[] = { 0, 1, 511, 512, 100000, 1ULL << 27, (1ULL << 36) + 5, 1ULL << 40 };
	uint64_t g, from = 0;
	p2m_entry_t e;
	unsigned i, n = 0;

	p2m_init(&p);
	/* Insert out of order. */
	for (i = ENV_ARRAY_SIZE(gfns); i-- > 0;)
		CHECK(p2m_set(&p, gfns[i], p2m_mk(P2M_SHARED, i + 1), NULL) == 0);
	while (p2m_next(&p, from, P2M_MASK_SHARED, &g, &e)) {
		CHECK(n < ENV_ARRAY_SIZE(gfns));
		if (n >= ENV_ARRAY_SIZE(gfns))
			break;
		CHECK_EQ_U64(g, gfns[n]);
		CHECK_EQ_U64(p2m_frame_of(e), n + 1);
		n++;
		from = g + 1;
	}
	CHECK_EQ_U64(n, ENV_ARRAY_SIZE(gfns));
	CHECK(p2m_check(&p) == 0);
	p2m_destroy(&p, NULL);
}

TEST(next_filters_by_type_and_skips_leaves_without_it)
{
	struct p2m p;
	uint64_t g;
	p2m_entry_t e;

	p2m_init(&p);
	CHECK(p2m_set(&p, 10, p2m_mk(P2M_PRIVATE, 0), NULL) == 0);
	CHECK(p2m_set(&p, 700, p2m_mk(P2M_SHARED, 4), NULL) == 0);
	CHECK(p2m_set(&p, 5000, p2m_mk(P2M_PRIVATE, 0), NULL) == 0);
	CHECK(p2m_next(&p, 0, P2M_MASK_SHARED, &g, &e) && g == 700);
	CHECK(p2m_next(&p, 0, P2M_MASK_PRIVATE, &g, &e) && g == 10);
	CHECK(p2m_next(&p, 11, P2M_MASK_PRIVATE, &g, &e) && g == 5000);
	CHECK(!p2m_next(&p, 701, P2M_MASK_SHARED, &g, &e));
	/* A slot set back to INVALID is skipped; the leaf stays. */
	CHECK(p2m_set(&p, 700, 0, NULL) == 0);
	CHECK(!p2m_next(&p, 0, P2M_MASK_SHARED, &g, &e));
	CHECK_EQ_U64(p.leaves, 3);
	CHECK(p2m_check(&p) == 0);
	p2m_destroy(&p, NULL);
}

TEST(next_leaf_reports_present_leaves_and_holes)
{
	struct p2m p;

	p2m_init(&p);
	CHECK(p2m_set(&p, 600, p2m_mk(P2M_PRIVATE, 0), NULL) == 0);        /* leaf 512..1023 */
	CHECK(p2m_set(&p, 1ULL << 30, p2m_mk(P2M_PRIVATE, 0), NULL) == 0);
	CHECK_EQ_U64(p2m_next_leaf(&p, 0), 512);
	CHECK_EQ_U64(p2m_next_leaf(&p, 512), 512);
	CHECK_EQ_U64(p2m_next_leaf(&p, 1000), 512);   /* the leaf holding 1000 is present */
	CHECK_EQ_U64(p2m_next_leaf(&p, 1024), 1ULL << 30);
	CHECK_EQ_U64(p2m_next_leaf(&p, (1ULL << 30) + 1), 1ULL << 30);
	CHECK_EQ_U64(p2m_next_leaf(&p, (1ULL << 30) + 512), P2M_GFN_LIMIT);
	CHECK(p2m_leaf_at(&p, 0) == NULL);
	CHECK(p2m_leaf_at(&p, 1023) != NULL);
	p2m_destroy(&p, NULL);
}

TEST(max_mapped_never_decreases)
{
	struct p2m p;

	p2m_init(&p);
	CHECK(p2m_set(&p, 9000, p2m_mk(P2M_PRIVATE, 0), NULL) == 0);
	CHECK(p2m_set(&p, 9000, 0, NULL) == 0);
	CHECK(p2m_set(&p, 4, p2m_mk(P2M_PRIVATE, 0), NULL) == 0);
	CHECK(p.mapped);
	CHECK_EQ_U64(p.max_mapped, 9000);
	CHECK(p2m_check(&p) == 0);
	p2m_destroy(&p, NULL);
}

/* Random sets against a plain array: the tree agrees with it everywhere and iterates it in
 * order. */
TEST(random_sets_match_reference_array)
{
	enum { N = 4096 };
	static p2m_entry_t ref[N];
	/* Spread the N reference slots over a huge gfn space: slot i <-> gfn i * stride + i. */
	const uint64_t stride = 1ULL << 28;
	struct p2m p;
	unsigned i, step;
	uint64_t g, from;
	p2m_entry_t e;

	env_memset(ref, 0, sizeof(ref));
	p2m_init(&p);
	for (step = 0; step < 20000; step++) {
		unsigned k = (unsigned)(rnd() % N);
		uint64_t gfn = (k % 64) * stride + k;
		unsigned t = (unsigned)(rnd() % 3);
		p2m_entry_t v = p2m_mk(t, t == P2M_SHARED ? rnd() % 1000 : 0);

		CHECK(p2m_set(&p, gfn, v, NULL) == 0);
		ref[k] = v;
	}
	for (i = 0; i < N; i++)
		CHECK(p2m_get(&p, (i % 64) * stride + i) == ref[i]);
	/* Ordered iteration visits exactly the non-invalid reference slots. */
	from = 0;
	i = 0;
	while (p2m_next(&p, from, P2M_MASK_SHARED | P2M_MASK_PRIVATE, &g, &e)) {
		unsigned k = (unsigned)(g % stride);

		CHECK(k < N && (k % 64) * stride + k == g && ref[k] == e);
		from = g + 1;
		i++;
	}
	{
		unsigned live = 0;

		for (g = 0; g < N; g++)
			live += ref[g] != 0;
		CHECK_EQ_U64(i, live);
	}
	CHECK(p2m_check(&p) == 0);
	p2m_destroy(&p, NULL);
}

/* Node allocation fails at every possible point of a deep insertion: the tree is left
 * exactly as it was, and a retry succeeds. */
TEST(reserve_failure_leaves_tree_unchanged)
{
	unsigned k;

	for (k = 0; k < 8; k++) {
		struct p2m p;
		uint64_t nodes, leaves, height, bytes;
		int rc;

		p2m_init(&p);
		CHECK(p2m_set(&p, 7, p2m_mk(P2M_SHARED, 3), NULL) == 0);
		nodes = p.nodes;
		leaves = p.leaves;
		height = p.height;
		bytes = p2m_bytes(&p);
		env_fail_after(k);
		rc = p2m_set(&p, 1ULL << 40, p2m_mk(P2M_PRIVATE, 0), NULL);
		env_fail_reset();
		/* The insertion needs 4 new roots + 3 interior nodes + 1 leaf = 8 allocations. */
		if (k < 8) {
			CHECK(rc == -ENOMEM);
			CHECK_EQ_U64(p.nodes, nodes);
			CHECK_EQ_U64(p.leaves, leaves);
			CHECK_EQ_U64(p.height, height);
			CHECK_EQ_U64(p2m_bytes(&p), bytes);
			CHECK_EQ_U64(p2m_frame_of(p2m_get(&p, 7)), 3);
			CHECK(p2m_get(&p, 1ULL << 40) == 0);
			CHECK(p2m_check(&p) == 0);
		}
		CHECK(p2m_set(&p, 1ULL << 40, p2m_mk(P2M_PRIVATE, 0), NULL) == 0);
		CHECK(p2m_check(&p) == 0);
		p2m_destroy(&p, NULL);
	}
}

TEST(reserve_failure_on_empty_tree_keeps_it_empty)
{
	struct p2m p;

	p2m_init(&p);
	env_fail_after(2);
	CHECK(p2m_set(&p, 1ULL << 20, p2m_mk(P2M_PRIVATE, 0), NULL) == -ENOMEM);
	env_fail_reset();
	CHECK(p.root == NULL && p.height == 0 && p.nodes == 0 && p.leaves == 0);
	CHECK(p2m_check(&p) == 0);
	CHECK(p2m_set(&p, 1ULL << 20, p2m_mk(P2M_PRIVATE, 0), NULL) == 0);
	CHECK_EQ_U64(p.height, 3);
	p2m_destroy(&p, NULL);
}

TEST(nodes_and_leaves_are_one_4k_page_each)
{
	CHECK_EQ_U64(sizeof(struct p2m_leaf), 4096);
	CHECK_EQ_U64(sizeof(struct p2m_node), 4096);
}

TEST(dense_map_costs_about_8_bytes_per_gfn)
{
	struct p2m p;
	uint64_t g, n = 1 << 20;

	p2m_init(&p);
	for (g = 0; g < n; g++)
		CHECK(p2m_set(&p, g, p2m_mk(P2M_PRIVATE, 0), NULL) == 0);
	/* 2048 leaves + 4 level-2 nodes + 1 root: 8.02 bytes per gfn. */
	CHECK_EQ_U64(p.leaves, 2048);
	CHECK_EQ_U64(p.nodes, 5);
	CHECK(p2m_bytes(&p) < n * 8 + n / 16);
	CHECK(p2m_check(&p) == 0);
	p2m_destroy(&p, NULL);
}

int main(void)
{
	return test_main();
}
