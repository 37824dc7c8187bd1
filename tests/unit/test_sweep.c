/* SPDX-License-Identifier: MIT */
/* tests/unit/test_sweep.c — sweep spec parser, derived parameters and point expansion. */
#include <errno.h>
#include <unistd.h>

#include "sweep.h"
#include "test.h"

static char err[1024];

/* Fixed parameters a resolver knows: "batch" = 512 (integer), "relinquish" (a choice). */
static int fixed_resolve(void *ctx, const char *name, uint64_t *v)
{
	(void)ctx;
	if (!strcmp(name, "batch")) {
		*v = 512;
		return 0;
	}
	if (!strcmp(name, "relinquish") || !strcmp(name, "heavy") || !strcmp(name, "light"))
		return strcmp(name, "relinquish") ? (*v = 7, 0) : -EINVAL;
	return -ENOENT;
}

/* Builds a sweep from NULL-terminated NAME=SPEC strings; returns sweep_finish's result. */
static int build(struct sweep *sw, unsigned reps, const char *const *args)
{
	sweep_init(sw);
	sw->reps = reps;
	for (; *args; args++)
		if (sweep_add(sw, *args, NULL, err, sizeof(err)))
			return -100;
	return sweep_finish(sw, fixed_resolve, NULL, err, sizeof(err));
}

static int add_one(const char *arg)
{
	struct sweep sw;
	int rc;

	sweep_init(&sw);
	rc = sweep_add(&sw, arg, NULL, err, sizeof(err));
	sweep_free(&sw);
	return rc;
}

/* The values of axis 0 as "a b c". */
static const char *values_of(const char *arg)
{
	static char out[4096];
	struct sweep sw;
	size_t i, off = 0;

	out[0] = 0;
	sweep_init(&sw);
	if (sweep_add(&sw, arg, NULL, err, sizeof(err))) {
		snprintf(out, sizeof(out), "error: %s", err);
		return out;
	}
	for (i = 0; i < sw.axes[0].nvalues && off < sizeof(out); i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s", i ? " " : "",
					sw.axes[0].values[i].text);
	sweep_free(&sw);
	return out;
}

static const char *point_str(const struct sweep *sw, size_t i)
{
	static char out[1024];
	struct sweep_point pt;
	size_t k, off;

	if (sweep_point(sw, i, &pt, err, sizeof(err)))
		return "error";
	off = (size_t)snprintf(out, sizeof(out), "%s", pt.policy ? pt.policy : "-");
	for (k = 0; k < pt.nsets; k++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, " %s", pt.sets[k]);
	snprintf(out + off, sizeof(out) - off, " r%u", pt.rep);
	return out;
}

TEST(list_keeps_the_order_written)
{
	CHECK(!strcmp(values_of("heavy=256,64,128"), "256 64 128"));
}

TEST(integer_suffixes_are_normalised_to_decimal)
{
	CHECK(!strcmp(values_of("heavy=4Ki,1k,2M"), "4096 1000 2000000"));
}

TEST(range_by_factor_includes_both_ends)
{
	CHECK(!strcmp(values_of("heavy=64..4096*2"), "64 128 256 512 1024 2048 4096"));
}

TEST(range_by_factor_stops_below_an_end_it_does_not_hit)
{
	CHECK(!strcmp(values_of("heavy=64..5000*4"), "64 256 1024 4096"));
}

TEST(range_by_step_counts_up_to_the_end)
{
	const char *v = values_of("batch=128..2048+128");

	CHECK(!strncmp(v, "128 256 384 ", 12));
	CHECK(strlen(v) > 5 && !strcmp(v + strlen(v) - 5, " 2048"));
	{
		struct sweep sw;
		const char *const a[] = { "batch=128..2048+128", NULL };

		CHECK(build(&sw, 1, a) == 0);
		CHECK_EQ_U64(sw.npoints, 16);
		sweep_free(&sw);
	}
}

TEST(range_without_step_counts_by_one)
{
	CHECK(!strcmp(values_of("n=3..6"), "3 4 5 6"));
}

TEST(range_ends_take_suffixes)
{
	CHECK(!strcmp(values_of("n=1Ki..4Ki*2"), "1024 2048 4096"));
}

TEST(items_and_ranges_mix_in_one_list)
{
	CHECK(!strcmp(values_of("heavy=16, 64..256*2 ,5000"), "16 64 128 256 5000"));
}

TEST(range_near_u64_max_does_not_wrap)
{
	CHECK(!strcmp(values_of("n=18446744073709551614..18446744073709551615+4"),
		      "18446744073709551614"));
	CHECK(!strcmp(values_of("n=9223372036854775808..18446744073709551615*2"),
		      "9223372036854775808"));
}

TEST(choice_names_are_kept_as_words)
{
	CHECK(!strcmp(values_of("relinquish=monolithic,preemptible-seed"),
		      "monolithic preemptible-seed"));
}

TEST(bad_lists_are_rejected_with_the_reason)
{
	CHECK(add_one("heavy=64,128,64") == -EINVAL);
	CHECK(strstr(err, "heavy=64,128,64") && strstr(err, "64 appears twice"));
	CHECK(add_one("heavy=64..32*2") == -EINVAL && strstr(err, "empty"));
	CHECK(add_one("heavy=64..4096*1") == -EINVAL && strstr(err, "factor must be at least 2"));
	CHECK(add_one("heavy=0..4096*2") == -EINVAL && strstr(err, "cannot start at 0"));
	CHECK(add_one("heavy=64..4096+0") == -EINVAL && strstr(err, "step must be at least 1"));
	CHECK(add_one("heavy=64..") == -EINVAL && strstr(err, "missing its end"));
	CHECK(add_one("heavy=64,,128") == -EINVAL && strstr(err, "empty item"));
	CHECK(add_one("heavy=64,128,") == -EINVAL && strstr(err, "empty item"));
	CHECK(add_one("heavy=64,12x") == -EINVAL && strstr(err, "'12x' is not an integer"));
	CHECK(add_one("heavy=") == -EINVAL && strstr(err, "no value"));
	CHECK(add_one("heavy=1..2000000") == -E2BIG && strstr(err, "more than"));
}

TEST(bad_names_are_rejected)
{
	CHECK(add_one("heavy") == -EINVAL && strstr(err, "expected NAME=SPEC"));
	CHECK(add_one("=64") == -EINVAL && strstr(err, "not a parameter name"));
	CHECK(add_one("2x=64") == -EINVAL && strstr(err, "not a parameter name"));
	CHECK(add_one("he-avy=64") == -EINVAL && strstr(err, "not a parameter name"));
}

TEST(a_parameter_swept_twice_is_rejected)
{
	struct sweep sw;
	const char *const a[] = { "heavy=64", "heavy=128", NULL };

	CHECK(build(&sw, 1, a) == -100);
	CHECK(strstr(err, "heavy is swept twice"));
	sweep_free(&sw);
}

TEST(first_axis_varies_slowest_and_reps_innermost)
{
	struct sweep sw;
	const char *const a[] = { "heavy=64,128", "batch=1,2,3", NULL };

	CHECK(build(&sw, 2, a) == 0);
	CHECK_EQ_U64(sw.npoints, 12);
	CHECK(!strcmp(point_str(&sw, 0), "- heavy=64 batch=1 r0"));
	CHECK(!strcmp(point_str(&sw, 1), "- heavy=64 batch=1 r1"));
	CHECK(!strcmp(point_str(&sw, 2), "- heavy=64 batch=2 r0"));
	CHECK(!strcmp(point_str(&sw, 6), "- heavy=128 batch=1 r0"));
	CHECK(!strcmp(point_str(&sw, 11), "- heavy=128 batch=3 r1"));
	CHECK(!strcmp(point_str(&sw, 12), "error"));
	sweep_free(&sw);
}

TEST(derived_parameter_moves_with_its_source)
{
	struct sweep sw;
	const char *const a[] = { "heavy=64..256*2", "light=heavy/4", NULL };

	CHECK(build(&sw, 1, a) == 0);
	CHECK_EQ_U64(sw.npoints, 3);
	CHECK(!strcmp(point_str(&sw, 0), "- heavy=64 light=16 r0"));
	CHECK(!strcmp(point_str(&sw, 2), "- heavy=256 light=64 r0"));
	sweep_free(&sw);
}

TEST(derived_parameters_may_chain_in_any_order)
{
	struct sweep sw;
	const char *const a[] = { "c=b+1", "b=a*2", "a=1,5", NULL };

	CHECK(build(&sw, 1, a) == 0);
	CHECK_EQ_U64(sw.npoints, 2);
	CHECK(!strcmp(point_str(&sw, 1), "- c=11 b=10 a=5 r0"));
	sweep_free(&sw);
}

TEST(derived_parameter_may_use_a_fixed_parameter)
{
	struct sweep sw;
	const char *const a[] = { "n=1,2", "m=n*batch", NULL };

	CHECK(build(&sw, 1, a) == 0);
	CHECK(!strcmp(point_str(&sw, 1), "- n=2 m=1024 r0"));
	sweep_free(&sw);
}

TEST(bare_word_naming_a_parameter_is_a_reference)
{
	struct sweep sw;
	const char *const a[] = { "heavy=64,128", "light=heavy", "x=batch-12", NULL };

	CHECK(build(&sw, 1, a) == 0);
	CHECK(sw.axes[1].expr != NULL);
	CHECK(!strcmp(point_str(&sw, 1), "- heavy=128 light=128 x=500 r0"));
	sweep_free(&sw);
}

TEST(bare_word_not_naming_a_parameter_is_a_choice)
{
	struct sweep sw;
	const char *const a[] = { "relinquish=monolithic", "rmap=preemptible-seed", NULL };

	CHECK(build(&sw, 1, a) == 0);
	CHECK(sw.axes[0].expr == NULL && sw.axes[1].expr == NULL);
	CHECK(!strcmp(point_str(&sw, 0), "- relinquish=monolithic rmap=preemptible-seed r0"));
	sweep_free(&sw);
}

TEST(cycle_of_derived_parameters_is_rejected_naming_it)
{
	struct sweep sw;
	const char *const a[] = { "a=b+1", "b=c*2", "c=a/2", NULL };
	const char *const self[] = { "a=a+1", NULL };

	CHECK(build(&sw, 1, a) == -EINVAL);
	CHECK(strstr(err, "cycle") && strstr(err, "a -> b -> c -> a"));
	sweep_free(&sw);
	CHECK(build(&sw, 1, self) == -EINVAL && strstr(err, "a -> a"));
	sweep_free(&sw);
}

TEST(unknown_name_in_expression_is_rejected)
{
	struct sweep sw;
	const char *const a[] = { "heavy=64", "light=hevy/4", NULL };

	CHECK(build(&sw, 1, a) == -EINVAL);
	CHECK(strstr(err, "light=hevy/4: unknown parameter 'hevy'"));
	sweep_free(&sw);
}

TEST(choice_used_as_a_number_is_rejected)
{
	struct sweep sw;
	const char *const a[] = { "x=relinquish+1", NULL };
	const char *const b[] = { "policy=list,hash", "x=policy*2", NULL };

	CHECK(build(&sw, 1, a) == -EINVAL && strstr(err, "'relinquish' takes names"));
	sweep_free(&sw);
	CHECK(build(&sw, 1, b) == -EINVAL && strstr(err, "'policy' takes names (list)"));
	sweep_free(&sw);
}

TEST(value_below_zero_names_the_point)
{
	struct sweep sw;
	const char *const a[] = { "heavy=256,64", "light=heavy-100", NULL };

	CHECK(build(&sw, 1, a) == -EINVAL);
	CHECK(strstr(err, "light=heavy-100") && strstr(err, "below zero") &&
	      strstr(err, "at heavy=64"));
	sweep_free(&sw);
}

TEST(division_by_zero_is_an_error)
{
	struct sweep sw;
	const char *const a[] = { "d=0,2", "q=100/d", NULL };

	CHECK(build(&sw, 1, a) == -EINVAL && strstr(err, "division by zero") && strstr(err, "d=0"));
	sweep_free(&sw);
}

static int no_names(void *ctx, const char *name, uint64_t *v)
{
	(void)ctx;
	if (!strcmp(name, "h")) {
		*v = 10;
		return 0;
	}
	return -ENOENT;
}

static uint64_t eval(const char *text, int *rc)
{
	struct sweep_expr *e;
	uint64_t v = 0;

	*rc = sweep_expr_parse(text, &e, err, sizeof(err));
	if (*rc)
		return 0;
	*rc = sweep_expr_eval(e, no_names, NULL, &v, err, sizeof(err));
	sweep_expr_free(e);
	return v;
}

TEST(expressions_follow_precedence_and_parentheses)
{
	int rc;

	CHECK_EQ_U64(eval("2+3*4", &rc), 14);
	CHECK(rc == 0);
	CHECK_EQ_U64(eval("(2+3)*4", &rc), 20);
	CHECK_EQ_U64(eval("100-10-10", &rc), 80);
	CHECK_EQ_U64(eval("64/4/2", &rc), 8);
	CHECK_EQ_U64(eval("h*3 % 7", &rc), 2);
	CHECK_EQ_U64(eval(" max(h, 4Ki) / min(2, h) ", &rc), 2048);
	CHECK(rc == 0);
}

TEST(expression_errors_name_the_offset)
{
	int rc;

	eval("h/(4", &rc);
	CHECK(rc == -EINVAL && strstr(err, "expected ')'"));
	eval("h 4", &rc);
	CHECK(rc == -EINVAL && strstr(err, "offset 2"));
	eval("sqrt(h)", &rc);
	CHECK(rc == -EINVAL && strstr(err, "unknown function"));
	eval("h*", &rc);
	CHECK(rc == -EINVAL && strstr(err, "at the end"));
	eval("18446744073709551615+1", &rc);
	CHECK(rc == -EINVAL && strstr(err, "overflows"));
	eval("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1))))))))))))))))"
	     "))))))))))))))))))))))))))))))))))))))))))))))))))", &rc);
	CHECK(rc == -EINVAL && strstr(err, "nested too deeply"));
}

TEST(reps_get_distinct_deterministic_seeds_rep0_is_the_base)
{
	struct sweep sw;
	struct sweep_point p0, p1, p2;
	const char *const a[] = { "n=1", NULL };

	CHECK(build(&sw, 3, a) == 0);
	sw.base_seed = 42;
	CHECK(sweep_point(&sw, 0, &p0, err, sizeof(err)) == 0);
	CHECK(sweep_point(&sw, 1, &p1, err, sizeof(err)) == 0);
	CHECK(sweep_point(&sw, 2, &p2, err, sizeof(err)) == 0);
	CHECK_EQ_U64(p0.seed, 42);
	CHECK(p1.seed != p0.seed && p2.seed != p1.seed && p2.seed != p0.seed);
	CHECK(p1.seed == sweep_rep_seed(42, 1) && p1.seed < (1ULL << 53));
	CHECK(sweep_rep_seed(43, 1) != p1.seed);
	sweep_free(&sw);
}

TEST(policy_axis_sets_the_policy_not_a_parameter)
{
	struct sweep sw;
	const char *const a[] = { "heavy=64", NULL };

	CHECK(build(&sw, 1, a) == 0);
	CHECK(sweep_add_policies(&sw, "list,hash,tree", err, sizeof(err)) == 0);
	CHECK(sweep_finish(&sw, fixed_resolve, NULL, err, sizeof(err)) == 0);
	CHECK_EQ_U64(sw.npoints, 3);
	CHECK(!strcmp(sw.axes[0].name, "policy"));
	CHECK(!strcmp(point_str(&sw, 2), "tree heavy=64 r0"));
	CHECK(sweep_add_policies(&sw, "list", err, sizeof(err)) == -EINVAL);
	sweep_free(&sw);
}

TEST(shards_partition_the_points)
{
	unsigned n = 3, i, hits;
	size_t p;

	for (p = 0; p < 100; p++) {
		hits = 0;
		for (i = 1; i <= n; i++)
			hits += sweep_in_shard(p, i, n);
		CHECK(hits == 1);
	}
	CHECK(sweep_in_shard(5, 1, 1));
}

TEST(shard_spec_is_validated)
{
	unsigned i, n;

	CHECK(sweep_parse_shard("2/4", &i, &n) == 0 && i == 2 && n == 4);
	CHECK(sweep_parse_shard("0/4", &i, &n) == -EINVAL);
	CHECK(sweep_parse_shard("5/4", &i, &n) == -EINVAL);
	CHECK(sweep_parse_shard("1/", &i, &n) == -EINVAL);
	CHECK(sweep_parse_shard("1/2x", &i, &n) == -EINVAL);
	CHECK(sweep_parse_shard("-1/2", &i, &n) == -EINVAL);
}

TEST(too_many_points_are_refused)
{
	struct sweep sw;
	const char *const a[] = { "a=1..1000", "b=1..1000", "c=1..1000", NULL };

	CHECK(build(&sw, 1, a) == -E2BIG && strstr(err, "more than"));
	sweep_free(&sw);
}

static const char *axes_json(const char *const *args)
{
	static char buf[2048];
	struct sweep sw;
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	if (build(&sw, 1, args))
		snprintf(buf, sizeof(buf), "error");
	else
		sweep_write_axes_json(&sw, f);
	fclose(f);
	sweep_free(&sw);
	return buf;
}

TEST(equivalent_specs_have_the_same_canonical_form)
{
	const char *const a[] = { "heavy=64..256*2", "light=heavy / 4", NULL };
	const char *const b[] = { "heavy=64,128,256", "light=heavy/4", NULL };
	char ja[2048];

	snprintf(ja, sizeof(ja), "%s", axes_json(a));
	CHECK(!strcmp(ja, axes_json(b)));
	CHECK(!strcmp(ja, "[{\"name\":\"heavy\",\"values\":[64,128,256]},"
		      "{\"name\":\"light\",\"expr\":\"heavy/4\"}]"));
}

TEST(sweep_file_takes_comments_and_names_file_and_line)
{
	char path[] = "/tmp/test_sweep_XXXXXX";
	int fd = mkstemp(path);
	struct sweep sw;
	FILE *f;

	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "# rmap hysteresis\n\nheavy = 64..256*2   # by factor\n  light=heavy/4\n"
		"policy=list,hash\n");
	fclose(f);
	sweep_init(&sw);
	CHECK(sweep_add_file(&sw, path, err, sizeof(err)) == 0);
	CHECK(sweep_finish(&sw, fixed_resolve, NULL, err, sizeof(err)) == 0);
	CHECK_EQ_U64(sw.npoints, 6);
	CHECK(!strcmp(point_str(&sw, 5), "hash heavy=256 light=64 r0"));
	sweep_free(&sw);

	f = fopen(path, "w");
	fprintf(f, "heavy=64\n# fine\nlight=64..32\n");
	fclose(f);
	sweep_init(&sw);
	CHECK(sweep_add_file(&sw, path, err, sizeof(err)) == -EINVAL);
	{
		char want[64];

		snprintf(want, sizeof(want), "%s:3: light=64..32: ", path);
		CHECK(!strncmp(err, want, strlen(want)));
	}
	sweep_free(&sw);
	unlink(path);
	sweep_init(&sw);
	CHECK(sweep_add_file(&sw, path, err, sizeof(err)) == -ENOENT && strstr(err, path));
	sweep_free(&sw);
}

TEST(errors_from_a_file_carry_its_line_after_finish)
{
	struct sweep sw;

	sweep_init(&sw);
	CHECK(sweep_add(&sw, "light=heavy-100", "s.txt:7", err, sizeof(err)) == 0);
	CHECK(sweep_add(&sw, "heavy=64", "s.txt:8", err, sizeof(err)) == 0);
	CHECK(sweep_finish(&sw, fixed_resolve, NULL, err, sizeof(err)) == -EINVAL);
	CHECK(!strncmp(err, "s.txt:7: light=heavy-100: ", 26));
	sweep_free(&sw);
}

TEST(condition_leaves_out_points_where_it_is_false)
{
	struct sweep sw;
	const char *const a[] = { "heavy=64,128,256", "light=16..256*2", NULL };

	sweep_init(&sw);
	sw.reps = 2;
	CHECK(sweep_add(&sw, a[0], NULL, err, sizeof(err)) == 0);
	CHECK(sweep_add(&sw, a[1], NULL, err, sizeof(err)) == 0);
	CHECK(sweep_add_cond(&sw, "light < heavy && light*16 >= heavy", NULL, err,
			     sizeof(err)) == 0);
	CHECK(sweep_finish(&sw, fixed_resolve, NULL, err, sizeof(err)) == 0);
	/* kept: 64:{16,32} 128:{16,32,64} 256:{16,32,64,128} = 9 combinations, x 2 reps */
	CHECK_EQ_U64(sw.npoints, 18);
	CHECK(!strcmp(point_str(&sw, 0), "- heavy=64 light=16 r0"));
	CHECK(!strcmp(point_str(&sw, 3), "- heavy=64 light=32 r1"));
	CHECK(!strcmp(point_str(&sw, 4), "- heavy=128 light=16 r0"));
	CHECK(!strcmp(point_str(&sw, 17), "- heavy=256 light=128 r1"));
	CHECK(!strcmp(point_str(&sw, 18), "error"));
	sweep_free(&sw);
}

TEST(condition_errors_are_reported)
{
	struct sweep sw;

	sweep_init(&sw);
	CHECK(sweep_add_cond(&sw, "light <", NULL, err, sizeof(err)) == -EINVAL);
	CHECK(!strncmp(err, "--if light <: ", 14));
	CHECK(sweep_add(&sw, "heavy=64", NULL, err, sizeof(err)) == 0);
	CHECK(sweep_add_cond(&sw, "heavy > 1000", NULL, err, sizeof(err)) == 0);
	CHECK(sweep_finish(&sw, fixed_resolve, NULL, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "no point satisfies the conditions (heavy > 1000)"));
	sweep_free(&sw);
	sweep_init(&sw);
	CHECK(sweep_add_cond(&sw, "hevy > 1", NULL, err, sizeof(err)) == 0);
	CHECK(sweep_finish(&sw, fixed_resolve, NULL, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "--if hevy > 1: unknown parameter 'hevy'"));
	sweep_free(&sw);
}

TEST(comparisons_and_logic_give_one_or_zero)
{
	int rc;

	CHECK_EQ_U64(eval("h < 11", &rc), 1);
	CHECK_EQ_U64(eval("h <= 9", &rc), 0);
	CHECK_EQ_U64(eval("h == 10 && h != 3", &rc), 1);
	CHECK_EQ_U64(eval("h > 10 || h >= 10", &rc), 1);
	CHECK_EQ_U64(eval("(h > 3) * 7 + 1", &rc), 8);
	CHECK(rc == 0);
}

TEST(sweep_file_takes_conditions)
{
	char path[] = "/tmp/test_sweep_XXXXXX";
	int fd = mkstemp(path);
	struct sweep sw;
	FILE *f;
	char buf[512];
	FILE *j;

	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "heavy=64,128\nlight=32,64\nif light < heavy   # hysteresis below the threshold\n");
	fclose(f);
	sweep_init(&sw);
	CHECK(sweep_add_file(&sw, path, err, sizeof(err)) == 0);
	CHECK(sweep_finish(&sw, fixed_resolve, NULL, err, sizeof(err)) == 0);
	CHECK_EQ_U64(sw.npoints, 3);
	j = fmemopen(buf, sizeof(buf), "w");
	sweep_write_axes_json(&sw, j);
	fclose(j);
	CHECK(strstr(buf, ",{\"if\":\"light<heavy\"}]"));
	sweep_free(&sw);
	f = fopen(path, "w");
	fprintf(f, "heavy=64\nif heavy >\n");
	fclose(f);
	sweep_init(&sw);
	CHECK(sweep_add_file(&sw, path, err, sizeof(err)) == -EINVAL);
	snprintf(buf, sizeof(buf), "%s:2: if heavy >: ", path);
	CHECK(!strncmp(err, buf, strlen(buf)));
	sweep_free(&sw);
	unlink(path);
}

int main(void)
{
	return test_main();
}
