/* SPDX-License-Identifier: MIT */
/* tests/unit/test_plot.c — the arithmetic behind memsim plot: units, labels, intervals. */
#include <math.h>

#include "driver.h"
#include "plot.h"
#include "test.h"

static int near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(1, fabs(b));
}

TEST(times_scale_to_the_largest_unit_below_the_maximum)
{
	double div;
	const char *u;

	plot_unit("destroy_ns", 999, &div, &u);
	CHECK(div == 1 && !strcmp(u, "ns"));
	plot_unit("destroy_ns", 2.5e3, &div, &u);
	CHECK(div == 1e3 && !strcmp(u, "\xc2\xb5s"));	/* µs */
	plot_unit("destroy_ns", 7.2e8, &div, &u);
	CHECK(div == 1e6 && !strcmp(u, "ms"));
	plot_unit("destroy_ns", 4.2e11, &div, &u);
	CHECK(div == 1e9 && !strcmp(u, "s"));
}

TEST(sizes_scale_by_powers_of_1024)
{
	double div;
	const char *u;

	plot_unit("rmap_bytes_peak", 1023, &div, &u);
	CHECK(div == 1 && !strcmp(u, "bytes"));
	plot_unit("rmap_bytes_peak", 3 * 1048576.0, &div, &u);
	CHECK(div == 1048576.0 && !strcmp(u, "MiB"));
	plot_unit("rmap_bytes_end", 5 * 1073741824.0, &div, &u);
	CHECK(div == 1073741824.0 && !strcmp(u, "GiB"));
}

TEST(pages_are_pages)
{
	double div;
	const char *u;
	char b[128];

	plot_unit("occupancy", 60, &div, &u);	/* the shadow pool's series */
	CHECK(div == 1 && !strcmp(u, "pages"));
	plot_unit("scrub_backlog_pages", 1e6, &div, &u);
	CHECK(div == 1 && !strcmp(u, "pages"));
	plot_unit("rmap_dup_pages_peak", 10, &div, &u);
	CHECK(!strcmp(u, "pages"));
	plot_unit("pages_freed", 10, &div, &u);
	CHECK(!strcmp(u, "pages"));
	plot_label("scrub_backlog_pages", "pages", b, sizeof(b));
	CHECK(!strcmp(b, "scrub backlog (pages)"));
}

TEST(a_policy_has_one_colour_and_a_model_s_policies_differ)
{
	size_t i, j, k;

	/* the same whatever else is plotted, and found by name when the model is unknown */
	CHECK(!strcmp(plot_policy_colour("shadow", "clock"), "#2ca02c"));
	CHECK(!strcmp(plot_policy_colour(NULL, "clock"), plot_policy_colour("shadow", "clock")));
	CHECK(!strcmp(plot_policy_colour("superpage", "per-page"), "#1f77b4"));
	CHECK(!strcmp(plot_policy_colour("hinting", "per-page"), "#d62728"));
	CHECK(plot_policy_colour("shadow", "no-such-policy")[0] == '#');
	for (i = 0; model_drivers[i]; i++)
		for (j = 0; model_drivers[i]->policies[j]; j++)
			for (k = 0; k < j; k++)
				CHECK(strcmp(plot_policy_colour(model_drivers[i]->name,
								model_drivers[i]->policies[j]),
					     plot_policy_colour(model_drivers[i]->name,
								model_drivers[i]->policies[k])));
}

TEST(counts_have_no_unit)
{
	double div;
	const char *u;

	plot_unit("conversions_to_hash", 1e9, &div, &u);
	CHECK(div == 1 && !strcmp(u, ""));
}

TEST(labels_drop_the_unit_suffix_and_name_the_unit)
{
	char b[128];

	plot_label("destroy_ns", "ms", b, sizeof(b));
	CHECK(!strcmp(b, "destroy (ms)"));
	plot_label("unshare_p99_ns", "us", b, sizeof(b));
	CHECK(!strcmp(b, "unshare p99 (us)"));
	plot_label("rmap_bytes_peak", "KiB", b, sizeof(b));
	CHECK(!strcmp(b, "rmap peak (KiB)"));
	plot_label("heavy", "", b, sizeof(b));
	CHECK(!strcmp(b, "heavy"));
	plot_label("conversions_to_hash", NULL, b, sizeof(b));
	CHECK(!strcmp(b, "conversions to hash"));
}

TEST(interval_is_student_t_over_n_minus_1)
{
	const double v[] = { -1, 0, 1 };	/* a negative sample: no clamping at 0 */
	const double w[] = { 10, 12, 11, 13, 9, 11 };
	double m, lo, hi;

	/* mean 0, s = 1, t(0.975, 2) = 4.302652729911275 */
	plot_stats(v, 3, &m, &lo, &hi);
	CHECK(near(m, 0));
	CHECK(near(hi - m, 4.302652729911275 / sqrt(3)));
	CHECK(near(m - lo, hi - m));
	/* mean 11, s = sqrt(2), t(0.975, 5) = 2.570581835636314 */
	plot_stats(w, 6, &m, &lo, &hi);
	CHECK(near(m, 11));
	CHECK(near(hi - m, 2.570581835636314 * sqrt(2.0) / sqrt(6)));
}

TEST(interval_of_non_negative_samples_stops_at_zero)
{
	const double v[] = { 1, 2, 3 };	/* t interval 2 -+ 2.48: would reach -0.48 */
	const double w[] = { 0, 0, 9 };
	double m, lo, hi;

	plot_stats(v, 3, &m, &lo, &hi);
	CHECK(near(m, 2));
	CHECK(lo == 0);
	CHECK(near(hi - m, 4.302652729911275 / sqrt(3)));	/* the upper bound is kept */
	plot_stats(w, 3, &m, &lo, &hi);
	CHECK(near(m, 3) && lo == 0 && hi > 9);
}

TEST(one_run_has_no_interval)
{
	const double v[] = { 42 };
	double m, lo, hi;

	plot_stats(v, 1, &m, &lo, &hi);
	CHECK(m == 42 && lo == 42 && hi == 42);
}

TEST(identical_runs_have_a_zero_width_interval)
{
	const double v[] = { 5, 5, 5, 5 };
	double m, lo, hi;

	plot_stats(v, 4, &m, &lo, &hi);
	CHECK(m == 5 && lo == 5 && hi == 5);
}

int main(void)
{
	return test_main();
}
