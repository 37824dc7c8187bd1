/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_strict_input.c — options and profiles are parsed strictly
 * (docs/security.md, 5): a parameter set twice, a unit on a parameter that has none, a time
 * that is not a whole number of the parameter's unit, a cost finer than a picosecond and a
 * profile key given twice are errors that name the problem, never a value silently chosen.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "param.h"
#include "profile.h"
#include "sweep.h"
#include "test.h"

static const struct param_def defs[] = {
	{ "n", PARAM_INT, 100, 1, 100000000, NULL, "entries" },
	{ "wake_ns", PARAM_INT, 2000, 0, 1000000000000ULL, NULL, "ns" },
	{ "period_ms", PARAM_INT, 4000, 1, 3600000, NULL, "ms" },
};

static void fresh(struct param_set *ps)
{
	param_set_init(ps);
	param_set_add(ps, "model", defs, 3);
}

TEST(a_parameter_given_twice_is_an_error_naming_it)
{
	struct param_set ps;
	char err[512];

	fresh(&ps);
	CHECK(param_set_assign(&ps, "n=10", err, sizeof(err)) == 0);
	CHECK(param_set_assign(&ps, "n=20", err, sizeof(err)) == -1);
	CHECK(strstr(err, "--set n=20: n is given twice") != NULL);
	CHECK_EQ_U64(param_get(&ps, "n"), 10);   /* the first value is not replaced either */
	/* even with the same value: the second is a mistake worth reporting */
	CHECK(param_set_assign(&ps, "n=10", err, sizeof(err)) == -1);
}

TEST(units_are_accepted_only_by_time_parameters)
{
	struct param_set ps;
	char err[512];

	fresh(&ps);
	CHECK(param_set_assign(&ps, "n=5us", err, sizeof(err)) == -1);
	CHECK(strstr(err, "--set n=5us: '5us' has a time suffix") != NULL);
	CHECK(strstr(err, "plain number") != NULL);
	CHECK(param_set_assign(&ps, "n=5k", err, sizeof(err)) == 0);   /* a multiplier is fine */
	CHECK_EQ_U64(param_get(&ps, "n"), 5000);
	CHECK(param_set_assign(&ps, "wake_ns=5us", err, sizeof(err)) == 0);
	CHECK_EQ_U64(param_get(&ps, "wake_ns"), 5000);
}

TEST(times_convert_exactly_to_the_parameter_unit)
{
	struct param_set ps;
	char err[512];
	uint64_t v;

	fresh(&ps);
	CHECK(param_set_assign(&ps, "period_ms=2s", err, sizeof(err)) == 0);
	CHECK_EQ_U64(param_get(&ps, "period_ms"), 2000);
	fresh(&ps);
	CHECK(param_set_assign(&ps, "period_ms=1500us", err, sizeof(err)) == -1);
	CHECK(strstr(err, "not a whole number of milliseconds") != NULL);
	CHECK(param_set_assign(&ps, "period_ms=3000us", err, sizeof(err)) == 0);
	CHECK_EQ_U64(param_get(&ps, "period_ms"), 3);
	CHECK(param_unit_of("dom0_period_ns") == PARAM_UNIT_NS);
	CHECK(param_unit_of("life_ms") == PARAM_UNIT_MS);
	CHECK(param_unit_of("ns") == PARAM_UNIT_NONE);   /* a bare suffix names nothing */
	CHECK(param_unit_of("host_mb") == PARAM_UNIT_NONE);
	CHECK(param_parse_value("18446744073709551615ns", PARAM_UNIT_NS, &v) == 0);
	CHECK(param_parse_value("18446744073709552s", PARAM_UNIT_NS, &v) == PARAM_ERANGE);
	CHECK(param_parse_value("5us", PARAM_UNIT_NONE, &v) == PARAM_EUNIT);
	CHECK(param_parse_value("5 us", PARAM_UNIT_NS, &v) == PARAM_ESYNTAX);
}

static int add_axis(const char *spec, char *err, size_t errlen)
{
	struct sweep sw;
	int rc;

	sweep_init(&sw);
	rc = sweep_add(&sw, spec, NULL, err, errlen);
	sweep_free(&sw);
	return rc;
}

TEST(sweep_values_follow_the_same_unit_rule)
{
	char err[512];
	struct sweep sw;

	CHECK(add_axis("n=5us,10us", err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "'5us' has a time suffix") != NULL);
	CHECK(add_axis("n=1us..4us*2", err, sizeof(err)) == -EINVAL);
	CHECK(add_axis("n=5us", err, sizeof(err)) == -EINVAL);
	CHECK(add_axis("n=2*1us", err, sizeof(err)) == -EINVAL);   /* inside an expression */
	CHECK(add_axis("wake_ns=1us..4us*2", err, sizeof(err)) == 0);
	CHECK(add_axis("wake_ns=1us..2us+500ns", err, sizeof(err)) == 0);
	CHECK(add_axis("period_ms=1500us", err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "whole number of milliseconds") != NULL);
	sweep_init(&sw);
	CHECK(sweep_add(&sw, "period_ms=1s,2s", NULL, err, sizeof(err)) == 0);
	CHECK(sw.naxes == 1 && sw.axes[0].nvalues == 2 && sw.axes[0].values[1].num == 2000);
	/* a condition compares raw values of parameters of any unit: no time suffix there */
	CHECK(sweep_add_cond(&sw, "period_ms < 1s", NULL, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "not in a condition") != NULL);
	sweep_free(&sw);
}

static int parse(const char *text, char *err, size_t errlen)
{
	struct cost_profile p;

	return profile_parse(text, "my.prof", &p, err, errlen);
}

TEST(a_cost_finer_than_a_picosecond_is_an_error_naming_the_line)
{
	char err[512];
	struct cost_profile p;

	CHECK(parse("name a\ncost list_hop 85.0009\n", err, sizeof(err)) == -1);
	CHECK(strstr(err, "my.prof:2: '85.0009' has more than 3 decimals") != NULL);
	CHECK(parse("name a\ncost list_hop 85.0000\n", err, sizeof(err)) == -1);
	CHECK(parse("name a\ncost list_hop 85.\n", err, sizeof(err)) == -1);
	CHECK(parse("name a\ncost list_hop .5\n", err, sizeof(err)) == -1);
	CHECK(profile_parse("name a\ncost list_hop 85.001\n", "x", &p, err, sizeof(err)) == 0);
	CHECK_EQ_U64(p.tiers[WU_LIST_HOP][0].ps, 85001);
}

TEST(a_profile_key_given_twice_is_an_error_naming_the_line)
{
	char err[512];

	CHECK(parse("name a\n# x\nname b\ncost list_hop 85\n", err, sizeof(err)) == -1);
	CHECK(strstr(err, "my.prof:3: a second 'name' line (the first is line 1)") != NULL);
	CHECK(parse("name a\nmeta source x\nmeta source y\n", err, sizeof(err)) == -1);
	CHECK(strstr(err, "my.prof:3: meta source given twice") != NULL);
	CHECK(parse("name a\ncost list_hop 85\ncost list_hop 90\n", err, sizeof(err)) == -1);
	CHECK(strstr(err, "my.prof:3:") != NULL);
	CHECK(parse("name a\ncost list_hop 8 upto 64\ncost list_hop 9 upto 64\ncost list_hop 85\n",
		    err, sizeof(err)) == -1);
	CHECK(strstr(err, "my.prof:3:") != NULL);
}

TEST(builtin_profiles_pass_the_strict_parser)
{
	const char *const *n;
	struct cost_profile p;
	char err[512];

	for (n = profile_builtin_names(); *n; n++)
		CHECK(profile_load(*n, &p, err, sizeof(err)) == 0);
}

int main(void) { return test_main(); }
