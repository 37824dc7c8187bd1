/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_simtime.c — simulated time never wraps (docs/security.md, 3): the checked
 * helpers of sim/sim.h at the 2^64 boundary, the pricing of work (profile_price_ps,
 * sim_work_ps), saturating work counts, the engine failing a run whose handler overflowed,
 * and the cost bound a profile must respect when it is loaded.
 */
#include <stdint.h>
#include <string.h>

#include "model.h"
#include "profile.h"
#include "sim.h"
#include "test.h"

static struct sim fresh(void)
{
	struct sim s;

	memset(&s, 0, sizeof(s));   /* the helpers need no queue */
	return s;
}

TEST(add_at_the_boundary_fits_and_one_more_overflows)
{
	struct sim s = fresh();

	CHECK_EQ_U64(sim_add(&s, UINT64_MAX - 1, 1, "x"), UINT64_MAX);
	CHECK_EQ_U64(sim_add(&s, UINT64_MAX, 0, "x"), UINT64_MAX);   /* "never" stays valid */
	CHECK(!s.overflow);
	CHECK_EQ_U64(sim_add(&s, UINT64_MAX, 1, "the end of a slice"), UINT64_MAX);
	CHECK(s.overflow);
	CHECK(strstr(s.err, "time overflow: the end of a slice") != NULL);
	CHECK(strstr(s.err, "18446744073709551615 + 1") != NULL);
}

TEST(mul_at_the_boundary_fits_and_one_more_overflows)
{
	struct sim s = fresh();

	/* (2^32 - 1)(2^32 + 1) = 2^64 - 1 */
	CHECK_EQ_U64(sim_mul(&s, 0xffffffffULL, 0x100000001ULL, "x"), UINT64_MAX);
	CHECK_EQ_U64(sim_mul(&s, 0, UINT64_MAX, "x"), 0);
	CHECK(!s.overflow);
	CHECK_EQ_U64(sim_mul(&s, 1ULL << 32, 1ULL << 32, "dom0's delayed bursts"), UINT64_MAX);
	CHECK(s.overflow);
	CHECK(strstr(s.err, "dom0's delayed bursts") != NULL);
}

TEST(first_overflow_is_the_one_reported)
{
	struct sim s = fresh();

	sim_add(&s, UINT64_MAX, 2, "first");
	sim_mul(&s, UINT64_MAX, 2, "second");
	CHECK(strstr(s.err, "first") != NULL);
	CHECK(strstr(s.err, "second") == NULL);
}

TEST(ps_to_ns_rounds_without_overflow_at_the_top)
{
	CHECK_EQ_U64(sim_ps_to_ns(UINT64_MAX), UINT64_MAX / 1000 + 1);   /* ...615 ps: rounds up */
	CHECK_EQ_U64(sim_ps_to_ns(1499), 1);
	CHECK_EQ_U64(sim_ps_to_ns(1500), 2);
	CHECK_EQ_U64(sim_ps_to_ns_ceil(UINT64_MAX), UINT64_MAX / 1000 + 1);
	CHECK_EQ_U64(sim_ps_to_ns_ceil(1000), 1);
	CHECK_EQ_U64(sim_ps_to_ns_ceil(1001), 2);
}

static void load(const char *text, struct cost_profile *p)
{
	char err[256];

	if (profile_parse(text, "t", p, err, sizeof(err)))
		printf("unexpected: %s\n", err);
}

TEST(work_priced_up_to_2_64_ps_and_refused_beyond)
{
	struct cost_profile p;
	struct work w;
	uint64_t ps;
	int unit = -1;
	struct sim s = fresh();

	load("name t\ncost list_hop 85\ncost alloc 100\n", &p);
	work_reset(&w);
	w.n[WU_LIST_HOP] = UINT64_MAX / 85000;   /* the largest count that fits */
	CHECK(profile_price_ps(&p, &w, &ps, &unit) == 0);
	CHECK_EQ_U64(ps, UINT64_MAX / 85000 * 85000);
	w.n[WU_LIST_HOP]++;
	CHECK(profile_price_ps(&p, &w, &ps, &unit) == -1);
	CHECK_EQ_U64(unit, WU_LIST_HOP);
	/* each term fits, the sum does not */
	w.n[WU_LIST_HOP] = UINT64_MAX / 85000;
	w.n[WU_ALLOC] = UINT64_MAX / 100000;
	CHECK(profile_price_ps(&p, &w, &ps, &unit) == -1);
	CHECK_EQ_U64(unit, WU_ALLOC);
	CHECK_EQ_U64(profile_cost_ps(&p, &w), UINT64_MAX);   /* the estimate saturates */
	CHECK_EQ_U64(sim_work_ps(&s, &p, &w), UINT64_MAX);
	CHECK(s.overflow);
	CHECK(strstr(s.err, "alloc") != NULL && strstr(s.err, "profile t") != NULL);
}

TEST(the_issue_destroy_is_refused_not_wrapped)
{
	/* one-frame n=25e6, list, monolithic: n(n+1)/2 hops of 85 ns is 2.66e19 ps */
	struct cost_profile p;
	struct work w;
	struct sim s = fresh();
	char err[256];

	CHECK(profile_load("seed-2012", &p, err, sizeof(err)) == 0);
	work_reset(&w);
	w.n[WU_LIST_HOP] = 25000000ULL * 25000001ULL / 2;
	CHECK_EQ_U64(sim_work_ns(&s, &p, &w), UINT64_MAX / 1000 + 1);
	CHECK(s.overflow);
	CHECK(strstr(s.err, "list_hop 312500012500000 units x 85.000 ns") != NULL);
}

TEST(work_counts_saturate_and_a_saturated_count_has_no_price)
{
	struct cost_profile p;
	struct work w, total;
	uint64_t ps;
	int unit;

	load("name t\ncost list_hop 0.001\ncost alloc 0\n", &p);
	work_reset(&w);
	work_add(&w, WU_LIST_HOP, UINT64_MAX - 1);
	work_add(&w, WU_LIST_HOP, 1);
	CHECK_EQ_U64(w.n[WU_LIST_HOP], UINT64_MAX);
	work_add(&w, WU_LIST_HOP, 5);
	CHECK_EQ_U64(w.n[WU_LIST_HOP], UINT64_MAX);   /* saturated, not 4 */
	/* at 1 ps a unit the product would fit: the saturated count is still refused */
	CHECK(profile_price_ps(&p, &w, &ps, &unit) == -1);
	work_reset(&total);
	work_accumulate(&total, &w);
	work_accumulate(&total, &w);
	CHECK_EQ_U64(total.n[WU_LIST_HOP], UINT64_MAX);
	/* a unit that costs nothing costs nothing, however many */
	work_reset(&w);
	w.n[WU_ALLOC] = UINT64_MAX;
	CHECK(profile_price_ps(&p, &w, &ps, &unit) == 0 && ps == 0);
}

static int rec_calls;

static int one_record(struct rec_source *src, struct trace_rec *out)
{
	(void)src;
	if (rec_calls++ >= 3)
		return 0;
	memset(out, 0, sizeof(*out));
	out->time_ns = (uint64_t)rec_calls;
	return 1;
}

static void no_close(struct rec_source *src) { (void)src; }

static int handler_records;

static int overflowing_record(struct sim *s, void *ctx, const struct trace_rec *r)
{
	(void)ctx;
	handler_records++;
	if (r->time_ns == 2)
		sim_add(s, UINT64_MAX - 5, 6, "a handler's sum");
	return 0;   /* the handler does not even notice */
}

static int no_event(struct sim *s, void *ctx, const struct sim_event *ev)
{
	(void)s;
	(void)ctx;
	(void)ev;
	return 0;
}

TEST(engine_fails_the_run_right_after_the_overflowing_handler)
{
	struct rec_source src = { .next = one_record, .close = no_close };
	const struct sim_handlers h = { overflowing_record, no_event };
	struct sim s;

	CHECK(sim_init(&s, 1) == 0);
	s.progress = false;
	rec_calls = handler_records = 0;
	CHECK(sim_run(&s, &src, &h, NULL) == -1);
	CHECK_EQ_U64(handler_records, 2);   /* the third record is never processed */
	CHECK(strstr(s.err, "time overflow: a handler's sum") != NULL);
	sim_fini(&s);
}

TEST(profile_costs_are_bounded_so_2_24_units_always_fit)
{
	struct cost_profile p;
	struct work w;
	uint64_t ps;
	int unit;
	char err[256];

	/* one unit at the bound: accepted */
	CHECK(profile_parse("name t\ncost swap_io 1000000000\n", "t", &p, err, sizeof(err)) == 0);
	CHECK(profile_parse("name t\ncost swap_io 1000000000.001\n", "t", &p, err,
			    sizeof(err)) == -1);
	CHECK(strstr(err, "t:2:") != NULL && strstr(err, "above the largest") != NULL);
	CHECK(profile_parse("name t\ncost list_hop 1844674407370955\n", "t", &p, err,
			    sizeof(err)) == -1);
	CHECK(strstr(err, "t:2:") != NULL);
	/* the dearest tiers of all units together: at most 1 s */
	CHECK(profile_parse("name t\ncost list_hop 10 upto 4096\ncost list_hop 600000000\n"
			    "cost alloc 400000000\n", "t", &p, err, sizeof(err)) == 0);
	CHECK(profile_parse("name t\ncost list_hop 10 upto 4096\ncost list_hop 600000000\n"
			    "cost alloc 400000000.001\n", "t", &p, err, sizeof(err)) == -1);
	CHECK(strstr(err, "t:4:") != NULL && strstr(err, "in all") != NULL);
	/* what the bound guarantees: PROFILE_MAX_OP_UNITS units of any mix are priced */
	CHECK(profile_parse("name t\ncost list_hop 600000000\ncost alloc 400000000\n", "t", &p,
			    err, sizeof(err)) == 0);
	work_reset(&w);
	w.n[WU_LIST_HOP] = PROFILE_MAX_OP_UNITS / 2;
	w.n[WU_ALLOC] = PROFILE_MAX_OP_UNITS / 2;
	CHECK(profile_price_ps(&p, &w, &ps, &unit) == 0);
	w.n[WU_LIST_HOP] = PROFILE_MAX_OP_UNITS;
	w.n[WU_ALLOC] = 0;
	CHECK(profile_price_ps(&p, &w, &ps, &unit) == 0);
	CHECK(PROFILE_MAX_OP_UNITS * PROFILE_MAX_COST_PS <= UINT64_MAX);
}

int main(void) { return test_main(); }
