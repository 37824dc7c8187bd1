/* SPDX-License-Identifier: MIT */
/* tests/unit/test_core.c — cost profiles, parameters, histogram, and the engine loop. */
#include <string.h>

#include "hist.h"
#include "param.h"
#include "profile.h"
#include "sim.h"
#include "test.h"

/* ---- cost profiles ---------------------------------------------------------------------- */

TEST(profile_seed_2012_prices_a_list_hop_at_85_ns)
{
	struct cost_profile p;
	struct work w;
	char err[256];

	CHECK(profile_load("seed-2012", &p, err, sizeof(err)) == 0);
	work_reset(&w);
	w.n[WU_LIST_HOP] = 1000;
	CHECK_EQ_U64(profile_cost_ps(&p, &w), 85ULL * 1000 * 1000);
	CHECK(!strcmp(p.name, "seed-2012"));
}

TEST(profile_seed_2012_puts_the_100k_list_destroy_over_7_minutes)
{
	struct cost_profile p;
	struct work w;
	char err[256];
	uint64_t n = 100000;

	CHECK(profile_load("seed-2012", &p, err, sizeof(err)) == 0);
	work_reset(&w);
	w.n[WU_LIST_HOP] = n * (n + 1) / 2;
	CHECK(profile_cost_ps(&p, &w) / 1000 > 7ULL * 60 * 1000000000ULL);
}

TEST(profile_tiers_price_by_footprint)
{
	struct cost_profile p;
	struct work w;
	char err[256];
	const char *text = "name t\ncost list_hop 2.5 upto 32768\ncost list_hop 80\n";

	CHECK(profile_parse(text, "t", &p, err, sizeof(err)) == 0);
	work_reset(&w);
	w.n[WU_LIST_HOP] = 10;
	w.footprint_bytes = 32768;
	CHECK_EQ_U64(profile_cost_ps(&p, &w), 25000);
	w.footprint_bytes = 32769;
	CHECK_EQ_U64(profile_cost_ps(&p, &w), 800000);
}

TEST(profile_digest_changes_with_any_cost)
{
	struct cost_profile a, b;
	char err[256];

	CHECK(profile_parse("name x\ncost alloc 100\n", "a", &a, err, sizeof(err)) == 0);
	CHECK(profile_parse("name x\ncost alloc 100.001\n", "b", &b, err, sizeof(err)) == 0);
	CHECK(a.digest != b.digest);
	CHECK(profile_parse("name x\n# comment\ncost alloc 100\n\n", "c", &b, err, sizeof(err)) == 0);
	CHECK_EQ_U64(a.digest, b.digest);
}

TEST(profile_errors_name_the_line)
{
	struct cost_profile p;
	char err[256];

	CHECK(profile_parse("name x\ncost no_such_unit 5\n", "f.prof", &p, err, sizeof(err)) == -1);
	CHECK(strstr(err, "f.prof:2:") && strstr(err, "no_such_unit"));
	CHECK(profile_parse("name x\ncost alloc abc\n", "f", &p, err, sizeof(err)) == -1);
	CHECK(strstr(err, "f:2:") != NULL);
	CHECK(profile_parse("cost alloc 1\n", "f", &p, err, sizeof(err)) == -1);
	CHECK(strstr(err, "no 'name'") != NULL);
	CHECK(profile_parse("name x\ncost alloc 1 upto 100\n", "f", &p, err, sizeof(err)) == -1);
	CHECK(strstr(err, "last tier") != NULL);
	CHECK(profile_parse("name x\ncost alloc 1 upto 100\ncost alloc 2 upto 50\n", "f", &p, err,
			    sizeof(err)) == -1);
	CHECK(profile_parse("name x\nbogus 1\n", "f", &p, err, sizeof(err)) == -1);
	CHECK(profile_load("/nonexistent/profile", &p, err, sizeof(err)) == -1);
	CHECK(strstr(err, "/nonexistent/profile") != NULL);
}

TEST(profile_write_then_parse_round_trips)
{
	struct cost_profile a, b;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	CHECK(profile_load("seed-2012", &a, err, sizeof(err)) == 0);
	f = open_memstream(&buf, &len);
	profile_write(&a, f);
	fclose(f);
	CHECK(profile_parse(buf, "rt", &b, err, sizeof(err)) == 0);
	CHECK_EQ_U64(a.digest, b.digest);
	free(buf);
}

/* ---- parameters ------------------------------------------------------------------------- */

static const char *const colours[] = { "red", "green", NULL };
static const struct param_def defs[] = {
	{ "heavy", PARAM_INT, 256, 2, 1000000, NULL, "entries" },
	{ "period_ns", PARAM_INT, 1000, 0, UINT64_MAX, NULL, "ns" },
	{ "colour", PARAM_CHOICE, 0, 0, 0, colours, "a choice" },
};

TEST(param_suffixes_scale_integers)
{
	uint64_t v;

	CHECK(param_parse_u64("100k", &v) == 0 && v == 100000);
	CHECK(param_parse_u64("2Mi", &v) == 0 && v == 2097152);
	CHECK(param_parse_value("20s", PARAM_UNIT_NS, &v) == 0 && v == 20000000000ULL);
	CHECK(param_parse_value("5ms", PARAM_UNIT_NS, &v) == 0 && v == 5000000);
	CHECK(param_parse_u64("5ms", &v) == -1);   /* a count takes no time suffix */
	CHECK(param_parse_u64("18446744073709551615", &v) == 0 && v == UINT64_MAX);
	CHECK(param_parse_u64("18446744073709551616", &v) == -1);
	CHECK(param_parse_u64("20000000000G", &v) == -1);
	CHECK(param_parse_u64("-1", &v) == -1);
	CHECK(param_parse_u64("12x", &v) == -1);
	CHECK(param_parse_u64("", &v) == -1);
}

TEST(param_assign_rejects_unknown_and_out_of_range)
{
	struct param_set ps;
	char err[512];

	param_set_init(&ps);
	param_set_add(&ps, "model", defs, 3);
	CHECK(param_set_assign(&ps, "heavy=512", err, sizeof(err)) == 0);
	CHECK_EQ_U64(param_get(&ps, "heavy"), 512);
	param_set_init(&ps);   /* a parameter is set once: start again */
	param_set_add(&ps, "model", defs, 3);
	CHECK(param_set_assign(&ps, "heavy=1", err, sizeof(err)) == -1);
	CHECK(strstr(err, "[2, 1000000]") != NULL);
	CHECK(param_set_assign(&ps, "hevy=5", err, sizeof(err)) == -1);
	CHECK(strstr(err, "unknown parameter 'hevy'") && strstr(err, "heavy"));
	CHECK(param_set_assign(&ps, "heavy", err, sizeof(err)) == -1);
	CHECK(param_set_assign(&ps, "heavy=abc", err, sizeof(err)) == -1);
	CHECK(param_set_assign(&ps, "colour=green", err, sizeof(err)) == 0);
	CHECK_EQ_U64(param_get(&ps, "colour"), 1);
	param_set_init(&ps);
	param_set_add(&ps, "model", defs, 3);
	CHECK(param_set_assign(&ps, "colour=blue", err, sizeof(err)) == -1);
	CHECK(strstr(err, "red green") != NULL);
}

TEST(param_json_is_in_table_order_with_choice_names)
{
	struct param_set ps;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	param_set_init(&ps);
	param_set_add(&ps, "model", defs, 3);
	f = open_memstream(&buf, &len);
	param_write_json(&ps, f);
	fclose(f);
	CHECK(!strcmp(buf, "{\"heavy\":256,\"period_ns\":1000,\"colour\":\"red\"}"));
	free(buf);
}

/* ---- histogram -------------------------------------------------------------------------- */

TEST(hist_quantiles_are_exact_for_small_values)
{
	struct hist h;
	uint64_t i;

	hist_init(&h);
	for (i = 1; i <= 100; i++)
		hist_add(&h, i);
	CHECK_EQ_U64(hist_quantile(&h, 500), 50);
	CHECK_EQ_U64(hist_quantile(&h, 990), 99);
	CHECK_EQ_U64(hist_quantile(&h, 1000), 100);
	CHECK_EQ_U64(h.max, 100);
}

TEST(hist_quantiles_stay_within_one_percent_for_large_values)
{
	struct hist h;
	uint64_t i, q;

	hist_init(&h);
	for (i = 1; i <= 100000; i++)
		hist_add(&h, i * 1000);
	q = hist_quantile(&h, 500);
	CHECK(q >= 50000000 && q <= 50000000 + 50000000 / 100);
	q = hist_quantile(&h, 990);
	CHECK(q >= 99000000 && q <= 99000000 + 99000000 / 100);
	CHECK_EQ_U64(hist_quantile(&h, 1000), 100000000);
}

TEST(hist_empty_reports_zero)
{
	struct hist h;

	hist_init(&h);
	CHECK_EQ_U64(hist_quantile(&h, 500), 0);
}

/* ---- engine ----------------------------------------------------------------------------- */

struct seen {
	uint64_t log[64][3];   /* time, kind (0 = record), payload */
	unsigned n;
};

struct arr_src {
	struct rec_source src;
	const struct trace_rec *recs;
	unsigned n, i;
};

static int arr_next(struct rec_source *s, struct trace_rec *r)
{
	struct arr_src *a = (struct arr_src *)s;

	if (a->i == a->n)
		return 0;
	*r = a->recs[a->i++];
	return 1;
}

static void arr_close(struct rec_source *s) { (void)s; }

static int on_rec(struct sim *s, void *ctx, const struct trace_rec *r)
{
	struct seen *sn = ctx;

	sn->log[sn->n][0] = s->now;
	sn->log[sn->n][1] = 0;
	sn->log[sn->n][2] = r->frame;
	sn->n++;
	/* each record schedules two events at the same instant and one later */
	sim_schedule(s, s->now, 1, 0, r->frame * 10 + 1);
	sim_schedule(s, s->now, 1, 0, r->frame * 10 + 2);
	sim_schedule(s, s->now + 5, 1, 0, r->frame * 10 + 3);
	return 0;
}

static int on_ev(struct sim *s, void *ctx, const struct sim_event *ev)
{
	struct seen *sn = ctx;

	sn->log[sn->n][0] = s->now;
	sn->log[sn->n][1] = ev->kind;
	sn->log[sn->n][2] = ev->arg;
	sn->n++;
	return 0;
}

static const struct sim_handlers test_handlers = { on_rec, on_ev };

static uint64_t run_engine(struct seen *sn, uint64_t seed)
{
	static const struct trace_rec recs[] = {
		{ .time_ns = 10, .frame = 1 }, { .time_ns = 10, .frame = 2 }, { .time_ns = 15, .frame = 3 },
	};
	struct arr_src a = { .src = { .next = arr_next, .close = arr_close }, .recs = recs, .n = 3 };
	struct sim s;
	uint64_t d;

	memset(sn, 0, sizeof(*sn));
	sim_init(&s, seed);
	s.progress = false;
	CHECK(sim_run(&s, &a.src, &test_handlers, sn) == 0);
	d = s.digest;
	sim_fini(&s);
	return d;
}

TEST(engine_runs_records_before_events_at_equal_time_then_by_seq)
{
	struct seen sn;
	static const uint64_t want[][3] = {
		{ 10, 0, 1 }, { 10, 0, 2 }, { 10, 1, 11 }, { 10, 1, 12 }, { 10, 1, 21 }, { 10, 1, 22 },
		{ 15, 0, 3 }, { 15, 1, 13 }, { 15, 1, 23 }, { 15, 1, 31 }, { 15, 1, 32 }, { 20, 1, 33 },
	};
	unsigned i;

	run_engine(&sn, 1);
	CHECK_EQ_U64(sn.n, 12);
	for (i = 0; i < 12 && i < sn.n; i++) {
		CHECK_EQ_U64(sn.log[i][0], want[i][0]);
		CHECK_EQ_U64(sn.log[i][1], want[i][1]);
		CHECK_EQ_U64(sn.log[i][2], want[i][2]);
	}
}

TEST(engine_digest_is_reproducible_and_seed_sensitive)
{
	struct seen sn;
	uint64_t a = run_engine(&sn, 7), b = run_engine(&sn, 7), c = run_engine(&sn, 8);

	CHECK_EQ_U64(a, b);
	CHECK(a != c);
}

TEST(engine_rng_streams_do_not_depend_on_creation_order)
{
	struct sim s1, s2;
	unsigned long x1, x2;

	sim_init(&s1, 42);
	sim_init(&s2, 42);
	(void)sim_rng(&s1, "scrub");
	x1 = gsl_rng_get(sim_rng(&s1, "guest"));
	x2 = gsl_rng_get(sim_rng(&s2, "guest"));
	CHECK_EQ_U64(x1, x2);
	CHECK(gsl_rng_get(sim_rng(&s2, "scrub")) != gsl_rng_get(sim_rng(&s2, "guest")));
	sim_fini(&s1);
	sim_fini(&s2);
}

int main(void) { return test_main(); }
