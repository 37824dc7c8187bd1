/* SPDX-License-Identifier: MIT */
/* tests/unit/test_metrics.c — scalar metrics, bounded series, number formatting, JSON. */
#include <math.h>
#include "test.h"
#include "metrics.h"

static char *json_of(const struct metrics *mx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	metrics_write_json(mx, f);
	fclose(f);
	return buf;
}

static int fmt_is(double v, const char *want)
{
	char buf[40];

	metrics_format_value(v, buf, sizeof(buf));
	if (strcmp(buf, want) != 0) {
		printf("  format(%.17g) = \"%s\", wanted \"%s\"\n", v, buf, want);
		return 0;
	}
	return 1;
}

TEST(set_keeps_first_insertion_order_and_replaces_in_place)
{
	struct metrics mx;
	double v;
	char *js;

	metrics_init(&mx);
	metrics_set(&mx, "zaps", 3);
	metrics_set(&mx, "alpha", 1);
	metrics_set(&mx, "zaps", 7);
	CHECK(mx.n == 2);
	CHECK(strcmp(mx.m[0].name, "zaps") == 0 && mx.m[0].value == 7);
	CHECK(metrics_get(&mx, "alpha", &v) == 0 && v == 1);
	CHECK(metrics_get(&mx, "beta", &v) == -1);
	js = json_of(&mx);
	CHECK(strcmp(js, "{\"zaps\":7,\"alpha\":1}") == 0);
	free(js);
	metrics_free(&mx);
}

TEST(integers_below_2_pow_53_print_exactly)
{
	CHECK(fmt_is(0, "0"));
	CHECK(fmt_is(-0.0, "0"));
	CHECK(fmt_is(42, "42"));
	CHECK(fmt_is(-17, "-17"));
	CHECK(fmt_is(9007199254740991.0, "9007199254740991"));	/* 2^53 - 1 */
	CHECK(fmt_is(123456789012.0, "123456789012"));
}

TEST(fractions_print_in_shortest_round_trip_form)
{
	char buf[40];
	double vals[] = { 0.1, 1.0 / 3, 2.5, 1e-300, 6.02214076e23, 9007199254740993.0 * 4,
			  -123.456, 0.30000000000000004 };
	size_t i;

	CHECK(fmt_is(0.1, "0.1"));
	CHECK(fmt_is(2.5, "2.5"));
	CHECK(fmt_is(0.30000000000000004, "0.30000000000000004"));
	CHECK(fmt_is(1.0 / 3, "0.3333333333333333"));
	CHECK(fmt_is(18014398509481984.0, "18014398509481984"));	/* 2^54: 17 digits */
	CHECK(fmt_is(1e20, "1e+20"));
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		metrics_format_value(vals[i], buf, sizeof(buf));
		CHECK(strtod(buf, NULL) == vals[i]);
	}
}

TEST(non_finite_values_are_named_and_null_in_json)
{
	struct metrics mx;
	char *js;

	CHECK(fmt_is(NAN, "nan"));
	CHECK(fmt_is(INFINITY, "inf"));
	CHECK(fmt_is(-INFINITY, "-inf"));
	metrics_init(&mx);
	metrics_set(&mx, "ratio", NAN);
	metrics_set(&mx, "odd\"name", 0.5);
	js = json_of(&mx);
	CHECK(strcmp(js, "{\"ratio\":null,\"odd\\\"name\":0.5}") == 0);
	free(js);
	metrics_free(&mx);
}

TEST(empty_metrics_write_an_empty_object)
{
	struct metrics mx;
	char *js;

	metrics_init(&mx);
	js = json_of(&mx);
	CHECK(strcmp(js, "{}") == 0);
	free(js);
	metrics_free(&mx);
}

TEST(short_series_keeps_every_point)
{
	struct metrics mx;
	const struct series *s;
	uint64_t t;

	metrics_init(&mx);
	for (t = 0; t < 1000; t++)
		metrics_series_add(&mx, "occupancy", t * 10, (double)(t % 7));
	s = metrics_series_find(&mx, "occupancy");
	CHECK(s && s->n == 1000);
	CHECK(s && s->pts[999].t_ns == 9990 && s->pts[999].value == 999 % 7);
	CHECK(metrics_series_find(&mx, "nothing") == NULL);
	metrics_free(&mx);
}

TEST(samples_inside_the_interval_merge_into_the_bucket_max)
{
	struct metrics mx;
	const struct series *s;

	metrics_init(&mx);
	metrics_series_set_interval(&mx, "backlog", 100);
	metrics_series_add(&mx, "backlog", 1000, 5);
	metrics_series_add(&mx, "backlog", 1050, 9);
	metrics_series_add(&mx, "backlog", 1099, 2);
	metrics_series_add(&mx, "backlog", 1100, 4);
	metrics_series_add(&mx, "backlog", 900, 11);	/* back in time: joins the last bucket */
	s = metrics_series_find(&mx, "backlog");
	CHECK(s && s->n == 2);
	CHECK(s && s->pts[0].t_ns == 1000 && s->pts[0].value == 9);
	CHECK(s && s->pts[1].t_ns == 1100 && s->pts[1].value == 11);
	metrics_free(&mx);
}

TEST(long_series_stays_bounded_with_increasing_times)
{
	struct metrics mx;
	const struct series *s;
	uint64_t t;
	size_t i;
	int ok = 1;

	metrics_init(&mx);
	for (t = 0; t < 1000000; t++)
		metrics_series_add(&mx, "x", t * 3, (double)t);
	s = metrics_series_find(&mx, "x");
	CHECK(s && s->n <= METRICS_SERIES_MAX_POINTS && s->n >= METRICS_SERIES_MAX_POINTS / 2);
	for (i = 1; s && i < s->n; i++)
		ok &= s->pts[i].t_ns > s->pts[i - 1].t_ns;
	CHECK(ok);
	/* a growing counter keeps its final value in the last bucket */
	CHECK(s && s->pts[s->n - 1].value == 999999);
	CHECK(s && s->pts[0].t_ns == 0);
	metrics_free(&mx);
}

TEST(merged_series_has_uniform_resolution)
{
	struct metrics mx;
	const struct series *s;
	uint64_t t, first_half = 0;
	size_t i;

	metrics_init(&mx);
	for (t = 0; t < 300000; t++)
		metrics_series_add(&mx, "x", t * 1000, 1);
	s = metrics_series_find(&mx, "x");
	/* about as many buckets in the first half of the run as in the second */
	for (i = 0; s && i < s->n; i++)
		first_half += s->pts[i].t_ns < 150000ull * 1000;
	CHECK(s && first_half * 10 > s->n * 4 && first_half * 10 < s->n * 6);
	metrics_free(&mx);
}

TEST(saw_tooth_keeps_every_peak_after_merging)
{
	struct metrics mx;
	const struct series *s;
	const uint64_t period = 2000, periods = 50;
	uint64_t t, k;
	size_t i;
	int all_peaks = 1;

	metrics_init(&mx);
	for (t = 0; t < period * periods; t++)	/* rises 0..1999, drops, rises again */
		metrics_series_add(&mx, "occupancy", t * 100, (double)(t % period));
	s = metrics_series_find(&mx, "occupancy");
	CHECK(s && s->n <= METRICS_SERIES_MAX_POINTS && s->n < period * periods);
	for (k = 0; s && k < periods; k++) {
		int seen = 0;

		for (i = 0; i < s->n; i++)
			if (s->pts[i].t_ns >= k * period * 100 &&
			    s->pts[i].t_ns < (k + 1) * period * 100 &&
			    s->pts[i].value == (double)(period - 1))
				seen = 1;
		all_peaks &= seen;
	}
	CHECK(all_peaks);
	metrics_free(&mx);
}

TEST(series_merging_is_deterministic)
{
	struct metrics a, b;
	const struct series *sa, *sb;
	uint64_t t, x = 12345;

	metrics_init(&a);
	metrics_init(&b);
	for (t = 0; t < 200000; t++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		metrics_series_add(&a, "s", t * 7 + (x >> 60), (double)(x >> 40));
		metrics_series_add(&b, "s", t * 7 + (x >> 60), (double)(x >> 40));
	}
	sa = metrics_series_find(&a, "s");
	sb = metrics_series_find(&b, "s");
	CHECK(sa && sb && sa->n == sb->n && sa->min_interval_ns == sb->min_interval_ns);
	CHECK(sa && sb && memcmp(sa->pts, sb->pts, sa->n * sizeof(*sa->pts)) == 0);
	metrics_free(&a);
	metrics_free(&b);
}

TEST(samples_at_one_instant_stay_bounded)
{
	struct metrics mx;
	const struct series *s;
	int i;

	metrics_init(&mx);
	for (i = 0; i < 20000; i++)
		metrics_series_add(&mx, "burst", 5, i);
	s = metrics_series_find(&mx, "burst");
	CHECK(s && s->n <= METRICS_SERIES_MAX_POINTS);
	CHECK(s && s->pts[s->n - 1].value == 19999);
	metrics_free(&mx);
}

TEST(nan_sample_does_not_hide_the_bucket_maximum)
{
	struct metrics mx;
	const struct series *s;

	metrics_init(&mx);
	metrics_series_set_interval(&mx, "v", 10);
	metrics_series_add(&mx, "v", 0, NAN);
	metrics_series_add(&mx, "v", 1, 3);
	metrics_series_add(&mx, "v", 2, NAN);
	s = metrics_series_find(&mx, "v");
	CHECK(s && s->n == 1 && s->pts[0].value == 3);
	metrics_free(&mx);
}

int main(void)
{
	return test_main();
}
