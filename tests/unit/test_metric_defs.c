/* SPDX-License-Identifier: MIT */
/* tests/unit/test_metric_defs.c — the metric catalogue: lookups, and well-formed tables. */
#include <ctype.h>
#include "test.h"
#include "driver.h"
#include "metric_defs.h"

TEST(star_entry_matches_its_family_and_nothing_shorter)
{
	const struct metric_def w = METRIC_DEF_WORK;

	CHECK(metric_def_matches(&w, "work_refcount"));
	CHECK(metric_def_matches(&w, "work_list_hop"));
	CHECK(!metric_def_matches(&w, "work_"));
	CHECK(!metric_def_matches(&w, "worker"));
	CHECK(!metric_def_matches(&w, "model_errors"));
}

TEST(exact_entry_matches_only_its_name)
{
	const struct metric_def m = METRIC_DEF_MODEL_ERRORS;

	CHECK(metric_def_matches(&m, "model_errors"));
	CHECK(!metric_def_matches(&m, "model_errors_x"));
	CHECK(!metric_def_matches(&m, "model_error"));
}

TEST(find_looks_in_the_family_then_the_common_table)
{
	const struct metric_def *d;

	d = metric_def_find(&scrub_driver, "dom0_wait_ns", false);
	CHECK(d && !strcmp(d->unit, "ns") && strstr(d->doc, "sum over all delayed"));
	d = metric_def_find(&scrub_driver, "sim_time_ns", false);
	CHECK(d && d >= metric_defs_common && !strcmp(d->unit, "ns"));
	d = metric_def_find(&superpage_driver, "work_refcount", false);
	CHECK(d && !strcmp(d->name, "work_*"));
	CHECK(metric_def_find(&scrub_driver, "no_such_metric", false) == NULL);
	CHECK(metric_def_find(NULL, "records", false) != NULL);
}

TEST(a_series_and_a_scalar_of_one_name_are_told_apart)
{
	const struct metric_def *scalar = metric_def_find(&hinting_driver, "coverage", false);
	const struct metric_def *series = metric_def_find(&hinting_driver, "coverage", true);

	CHECK(scalar && series && scalar != series);
	CHECK(!scalar->series && series->series);
	CHECK(metric_def_find(&shadow_driver, "occupancy", true) != NULL);
	CHECK(metric_def_find(&shadow_driver, "occupancy", false) == NULL);
}

static int well_formed(const struct metric_def *t, const char *what)
{
	const struct metric_def *m, *n;
	int ok = 1;

	for (m = t; m->name; m++) {
		const char *c;

		for (c = m->name; *c; c++)
			if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_' ||
			      (*c == '*' && !c[1]))) {
				printf("  %s: %s: not snake_case\n", what, m->name);
				ok = 0;
				break;
			}
		if (!m->unit || !*m->unit || !m->doc || strlen(m->doc) < 10) {
			printf("  %s: %s: no unit or no meaning\n", what, m->name);
			ok = 0;
		}
		/* a time is in ns and says so in its name (metrics.h) */
		if ((strlen(m->name) > 3 && !strcmp(m->name + strlen(m->name) - 3, "_ns") &&
		     strcmp(m->unit, "ns")) || (!strcmp(m->unit, "ns") && !strstr(m->name, "_ns"))) {
			printf("  %s: %s: unit %s disagrees with the name\n", what, m->name, m->unit);
			ok = 0;
		}
		for (n = t; n < m; n++)
			if (n->series == m->series && !strcmp(n->name, m->name)) {
				printf("  %s: %s: listed twice\n", what, m->name);
				ok = 0;
			}
	}
	return ok;
}

TEST(every_table_is_well_formed_and_every_driver_has_one)
{
	unsigned i;

	CHECK(well_formed(metric_defs_common, "common"));
	for (i = 0; model_drivers[i]; i++) {
		const struct metric_def *m;

		CHECK(model_drivers[i]->metrics != NULL);
		if (!model_drivers[i]->metrics)
			continue;
		CHECK(well_formed(model_drivers[i]->metrics, model_drivers[i]->name));
		/* no family redefines a metric of every run */
		for (m = model_drivers[i]->metrics; m->name; m++)
			CHECK(metric_def_find(NULL, m->name, m->series) == NULL);
	}
}

int main(void)
{
	return test_main();
}
