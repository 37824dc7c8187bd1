/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_calibrate.c — the calibration fit on synthetic data with known costs
 * (exact recovery, confidence intervals that cover the truth at their stated rate, refusal
 * of degenerate designs), the harness-output reader, plan files, and the profile it writes.
 */
#include <math.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "test.h"
#include "calibrate.h"
#include "profile.h"

/* The "true" machine of the synthetic tests: instructions per unit, and per batch. */
#define TRUE_INTERCEPT 16.0
static const struct { enum work_unit u; double cost; } truth[] = {
	{ WU_LIST_HOP, 6.25 }, { WU_BUCKET_VISIT, 110.0 }, { WU_ALLOC, 360.5 }, { WU_FREE, 231.0 },
};
#define NTRUTH (sizeof(truth) / sizeof(truth[0]))

static double true_time(const struct calib_obs *o)
{
	double y = TRUE_INTERCEPT;
	size_t i;

	for (i = 0; i < NTRUTH; i++)
		y += truth[i].cost * (double)o->wu[truth[i].u];
	return y;
}

/*
 * A design like a real plan: batches of different "operations" (each a different mix of
 * units) at sizes over three decades, so the units vary independently.
 */
static size_t make_design(gsl_rng *r, struct calib_obs *obs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t size = 50 + gsl_rng_uniform_int(r, 20000);

		memset(&obs[i], 0, sizeof(obs[i]));
		switch (i % 4) {
		case 0:   /* a list destroy: n^2/2 hops, n frees */
			obs[i].wu[WU_LIST_HOP] = size * (size + 1) / 2 / 64;
			obs[i].wu[WU_FREE] = size;
			break;
		case 1:   /* a hash build: allocs and bucket visits */
			obs[i].wu[WU_ALLOC] = size;
			obs[i].wu[WU_BUCKET_VISIT] = size + gsl_rng_uniform_int(r, 300);
			break;
		case 2:   /* a hash destroy */
			obs[i].wu[WU_BUCKET_VISIT] = size;
			obs[i].wu[WU_LIST_HOP] = 3 * size + gsl_rng_uniform_int(r, 1000);
			obs[i].wu[WU_FREE] = size + 1;
			break;
		default:  /* a list build */
			obs[i].wu[WU_ALLOC] = size;
			break;
		}
		obs[i].footprint = size * 32;
		obs[i].y = true_time(&obs[i]);
	}
	return n;
}

static bool close_rel(double a, double b, double tol)
{
	return fabs(a - b) <= tol * fmax(fabs(b), 1e-12);
}

TEST(noiseless_data_gives_the_true_costs_exactly)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	struct calib_obs obs[40];
	struct calib_fit_opts o;
	struct calib_fit f;
	char err[256];
	size_t i;

	gsl_rng_set(r, 1);
	make_design(r, obs, 40);
	calib_fit_opts_default(&o);
	CHECK(calib_fit(obs, 40, &o, &f, err, sizeof(err)) == 0);
	for (i = 0; i < NTRUTH; i++) {
		CHECK(f.state[truth[i].u] == CALIB_FITTED);
		CHECK(close_rel(f.unit[truth[i].u].est, truth[i].cost, 1e-7));
	}
	CHECK(f.has_intercept && close_rel(f.intercept.est, TRUE_INTERCEPT, 1e-5));
	CHECK(f.nparams == NTRUTH + 1 && f.dof == 40 - NTRUTH - 1);
	CHECK(f.rel_max < 1e-9);
	CHECK(f.r2 > 1 - 1e-12);
	/* units no batch counted are absent, not fitted at zero */
	CHECK(f.state[WU_TREE_NODE] == CALIB_ABSENT && f.state[WU_SWAP_IO] == CALIB_ABSENT);
	/* and ordinary least squares finds the same */
	o.weight = CALIB_WEIGHT_NONE;
	CHECK(calib_fit(obs, 40, &o, &f, err, sizeof(err)) == 0);
	for (i = 0; i < NTRUTH; i++)
		CHECK(close_rel(f.unit[truth[i].u].est, truth[i].cost, 1e-6));
	gsl_rng_free(r);
}

TEST(prediction_is_the_fitted_model)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	struct calib_obs obs[12];
	struct calib_fit_opts o;
	struct calib_fit f;
	char err[256];
	size_t i;

	gsl_rng_set(r, 2);
	make_design(r, obs, 12);
	calib_fit_opts_default(&o);
	CHECK(calib_fit(obs, 12, &o, &f, err, sizeof(err)) == 0);
	for (i = 0; i < 12; i++)
		CHECK(close_rel(calib_predict(&f, &obs[i]), obs[i].y, 1e-9));
	gsl_rng_free(r);
}

/*
 * Noise proportional to the time (what a relative-weighted fit assumes): over many data sets
 * drawn with seeded GSL noise, each coefficient's 95 % interval must hold the truth about 95 %
 * of the time — not 60 % (intervals too narrow: the covariance not scaled by the residuals)
 * and not 100 % (far too wide).
 */
TEST(noisy_data_confidence_intervals_cover_the_truth_at_95_percent)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	enum { SETS = 400, N = 30 };
	struct calib_obs obs[N];
	struct calib_fit_opts o;
	struct calib_fit f;
	unsigned covered = 0, total = 0, s;
	char err[256];
	size_t i;
	double width = 0;

	gsl_rng_set(r, 7);
	calib_fit_opts_default(&o);
	o.nonneg = false;   /* a removed unit would bias the coverage count */
	for (s = 0; s < SETS; s++) {
		make_design(r, obs, N);
		for (i = 0; i < N; i++)
			obs[i].y *= 1 + gsl_ran_gaussian(r, 0.03);
		CHECK(calib_fit(obs, N, &o, &f, err, sizeof(err)) == 0);
		for (i = 0; i < NTRUTH; i++) {
			const struct calib_coef *c = &f.unit[truth[i].u];

			covered += c->lo <= truth[i].cost && truth[i].cost <= c->hi;
			width += (c->hi - c->lo) / truth[i].cost;
			total++;
		}
	}
	printf("  coverage %u/%u = %.3f, mean relative width %.4f\n", covered, total,
	       (double)covered / total, width / total);
	CHECK((double)covered / total > 0.92);
	CHECK((double)covered / total < 0.98);
	/* 3 % noise on 30 batches: intervals of a few percent, not degenerate */
	CHECK(width / total > 0.005 && width / total < 0.2);
	gsl_rng_free(r);
}

TEST(collinear_units_are_refused_with_their_names)
{
	struct calib_obs obs[10];
	struct calib_fit_opts o;
	struct calib_fit f;
	char err[512] = "";
	size_t i;

	/* a destroy where every gfn costs one p2m_entry and one page_put: always equal */
	for (i = 0; i < 10; i++) {
		memset(&obs[i], 0, sizeof(obs[i]));
		obs[i].wu[WU_P2M_ENTRY] = 100 * (i + 1);
		obs[i].wu[WU_PAGE_PUT] = 100 * (i + 1);
		obs[i].wu[WU_LIST_HOP] = 37 * (i + 1) * (i + 3);
		obs[i].y = 16 + 200.0 * (double)obs[i].wu[WU_P2M_ENTRY] + 6.0 * (double)obs[i].wu[WU_LIST_HOP];
	}
	calib_fit_opts_default(&o);
	CHECK(calib_fit(obs, 10, &o, &f, err, sizeof(err)) == -1);
	CHECK(strstr(err, "degenerate design") != NULL);
	CHECK(strstr(err, "p2m_entry") != NULL && strstr(err, "page_put") != NULL);
	CHECK(strstr(err, "list_hop") == NULL);   /* only the culprits are named */
}

TEST(a_unit_constant_in_every_batch_cannot_be_told_from_the_intercept)
{
	struct calib_obs obs[8];
	struct calib_fit_opts o;
	struct calib_fit f;
	char err[512] = "";
	size_t i;

	for (i = 0; i < 8; i++) {
		memset(&obs[i], 0, sizeof(obs[i]));
		obs[i].wu[WU_HYPERCALL] = 1;
		obs[i].wu[WU_LIST_HOP] = 1000 * (i + 1);
		obs[i].y = 1016 + 5.0 * (double)obs[i].wu[WU_LIST_HOP];
	}
	calib_fit_opts_default(&o);
	CHECK(calib_fit(obs, 8, &o, &f, err, sizeof(err)) == -1);
	CHECK(strstr(err, "hypercall") != NULL && strstr(err, "intercept") != NULL);
	/* without the intercept the same data fit: hypercall carries the fixed cost */
	o.intercept = false;
	CHECK(calib_fit(obs, 8, &o, &f, err, sizeof(err)) == 0);
	CHECK(close_rel(f.unit[WU_HYPERCALL].est, 1016, 1e-7));
	CHECK(close_rel(f.unit[WU_LIST_HOP].est, 5, 1e-9));
}

TEST(fewer_batches_than_unknowns_are_refused)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	struct calib_obs obs[4];
	struct calib_fit_opts o;
	struct calib_fit f;
	char err[512] = "";

	gsl_rng_set(r, 3);
	make_design(r, obs, 4);
	calib_fit_opts_default(&o);
	CHECK(calib_fit(obs, 4, &o, &f, err, sizeof(err)) == -1);
	CHECK(strstr(err, "4 batches for 5 unknowns") != NULL);
	CHECK(calib_fit(obs, 0, &o, &f, err, sizeof(err)) == -1);
	CHECK(strstr(err, "nothing to fit") != NULL);
	gsl_rng_free(r);
}

TEST(a_zero_measurement_is_refused_under_relative_weights)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	struct calib_obs obs[12];
	struct calib_fit_opts o;
	struct calib_fit f;
	char err[512] = "";

	gsl_rng_set(r, 4);
	make_design(r, obs, 12);
	obs[5].y = 0;
	calib_fit_opts_default(&o);
	CHECK(calib_fit(obs, 12, &o, &f, err, sizeof(err)) == -1);
	CHECK(strstr(err, "batch 5: measured 0") != NULL);
	obs[5].y = -3;
	o.weight = CALIB_WEIGHT_NONE;
	CHECK(calib_fit(obs, 12, &o, &f, err, sizeof(err)) == -1);
	CHECK(strstr(err, "not a time") != NULL);
	gsl_rng_free(r);
}

TEST(a_negative_cost_is_removed_and_the_rest_refitted)
{
	struct calib_obs obs[10];
	struct calib_fit_opts o;
	struct calib_fit f;
	char err[256];
	size_t i;

	/* page_put "costs" -2: only possible when it stands for something else */
	for (i = 0; i < 10; i++) {
		memset(&obs[i], 0, sizeof(obs[i]));
		obs[i].wu[WU_LIST_HOP] = 500 * (i + 1);
		obs[i].wu[WU_PAGE_PUT] = (i * 37) % 11 + 1;
		obs[i].y = 10.0 * (double)obs[i].wu[WU_LIST_HOP] - 2.0 * (double)obs[i].wu[WU_PAGE_PUT];
	}
	calib_fit_opts_default(&o);
	o.intercept = false;
	o.nonneg = false;
	CHECK(calib_fit(obs, 10, &o, &f, err, sizeof(err)) == 0);
	CHECK(close_rel(f.unit[WU_PAGE_PUT].est, -2, 1e-6));
	o.nonneg = true;
	CHECK(calib_fit(obs, 10, &o, &f, err, sizeof(err)) == 0);
	CHECK(f.state[WU_PAGE_PUT] == CALIB_NEGATIVE && f.negative == 1);
	CHECK(f.unit[WU_PAGE_PUT].est == 0);
	CHECK(f.state[WU_LIST_HOP] == CALIB_FITTED && f.nparams == 1);
	CHECK(f.unit[WU_LIST_HOP].est > 9.9 && f.unit[WU_LIST_HOP].est < 10);
}

TEST(interrupts_are_fitted_apart_from_the_work)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	struct calib_obs obs[40];
	struct calib_fit_opts o;
	struct calib_fit f;
	char err[256];
	size_t i;

	gsl_rng_set(r, 5);
	make_design(r, obs, 40);
	for (i = 0; i < 40; i += 3) {
		obs[i].irqs = 1 + i % 2;
		obs[i].y += 95000.0 * (double)obs[i].irqs;
	}
	calib_fit_opts_default(&o);
	CHECK(calib_fit(obs, 40, &o, &f, err, sizeof(err)) == 0);
	CHECK(f.has_irq && close_rel(f.irq.est, 95000, 1e-6));
	for (i = 0; i < NTRUTH; i++)
		CHECK(close_rel(f.unit[truth[i].u].est, truth[i].cost, 1e-6));
	/* without the term the ticks land on the units */
	o.irq_term = false;
	CHECK(calib_fit(obs, 40, &o, &f, err, sizeof(err)) == 0);
	CHECK(!f.has_irq && f.rel_max > 0.01);
	gsl_rng_free(r);
}

TEST(tiers_fit_each_footprint_band_on_its_own)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	struct calib_obs obs[60];
	struct calib_fit_opts o;
	struct calib_tiers t;
	uint64_t bounds[1] = { 320000 };
	char err[256];
	size_t i;

	gsl_rng_set(r, 6);
	make_design(r, obs, 60);
	/* beyond 320 kB every hop misses the cache: 80 instead of 6.25 */
	for (i = 0; i < 60; i++)
		if (obs[i].footprint > bounds[0])
			obs[i].y += (80 - 6.25) * (double)obs[i].wu[WU_LIST_HOP];
	calib_fit_opts_default(&o);
	CHECK(calib_fit_tiers(obs, 60, &o, bounds, 1, &t, err, sizeof(err)) == 0);
	if (!t.used[0] || !t.used[1])
		printf("  band 0: %s; band 1: %s\n", t.msg[0], t.msg[1]);
	CHECK(t.used[0] && t.used[1]);
	CHECK(t.nobs[0] + t.nobs[1] == 60);
	CHECK(close_rel(calib_tier_cost(&t, 0, WU_LIST_HOP), 6.25, 1e-6));
	CHECK(close_rel(calib_tier_cost(&t, 1, WU_LIST_HOP), 80, 1e-6));
	CHECK(close_rel(calib_tier_cost(&t, 1, WU_ALLOC), 360.5, 1e-6));
	/* the flat fit is a compromise: neither */
	CHECK(!close_rel(t.flat.unit[WU_LIST_HOP].est, 6.25, 0.05));
	/* bounds must increase */
	bounds[0] = 0;
	{
		uint64_t b2[2] = { 5000, 4000 };

		CHECK(calib_fit_tiers(obs, 60, &o, b2, 2, &t, err, sizeof(err)) == -1);
		CHECK(strstr(err, "must increase") != NULL);
	}
	gsl_rng_free(r);
}

TEST(a_band_too_thin_to_fit_falls_back_to_the_flat_costs)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	struct calib_obs obs[30];
	struct calib_fit_opts o;
	struct calib_tiers t;
	uint64_t bounds[1] = { 1ULL << 40 };   /* nothing is that large */
	char err[256];

	gsl_rng_set(r, 8);
	make_design(r, obs, 30);
	calib_fit_opts_default(&o);
	CHECK(calib_fit_tiers(obs, 30, &o, bounds, 1, &t, err, sizeof(err)) == 0);
	CHECK(t.used[0] && !t.used[1] && t.nobs[1] == 0);
	CHECK(strstr(t.msg[1], "no batch") != NULL);
	CHECK(calib_tier_cost(&t, 1, WU_FREE) == t.flat.unit[WU_FREE].est);
	gsl_rng_free(r);
}

TEST(written_profile_reads_back_with_the_fitted_costs)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	struct calib_obs obs[40];
	struct calib_fit_opts o;
	struct calib_tiers t;
	struct cost_profile p;
	const char *keys[] = { "basis", "date", NULL };
	const char *vals[] = { "instructions", "2024-01-01T00:00:00Z", NULL };
	uint64_t bounds[1] = { 100000 };
	char *text = NULL, err[256];
	size_t len = 0, i;
	FILE *f;

	gsl_rng_set(r, 9);
	make_design(r, obs, 40);
	calib_fit_opts_default(&o);
	CHECK(calib_fit_tiers(obs, 40, &o, NULL, 0, &t, err, sizeof(err)) == 0);
	f = open_memstream(&text, &len);
	calib_write_profile(f, "synthetic", keys, vals, &t);
	fclose(f);
	CHECK(profile_parse(text, "mem", &p, err, sizeof(err)) == 0);
	CHECK(!strcmp(p.name, "synthetic") && p.nmeta == 2 && !strcmp(p.meta[0].value, "instructions"));
	for (i = 0; i < NTRUTH; i++) {
		CHECK(p.ntiers[truth[i].u] == 1);
		CHECK_EQ_U64(p.tiers[truth[i].u][0].ps, (uint64_t)llround(truth[i].cost * 1000));
	}
	CHECK(p.ntiers[WU_TREE_NODE] == 0);               /* absent: no cost line */
	CHECK(strstr(text, "95% CI [") != NULL);           /* intervals as comments */
	CHECK(strstr(text, "not calibrated") != NULL && strstr(text, "tree_node") != NULL);
	free(text);
	/* with tiers: one line per band, `upto` on all but the last */
	text = NULL;
	CHECK(calib_fit_tiers(obs, 40, &o, bounds, 1, &t, err, sizeof(err)) == 0);
	f = open_memstream(&text, &len);
	calib_write_profile(f, "tiered", NULL, NULL, &t);
	fclose(f);
	CHECK(profile_parse(text, "mem", &p, err, sizeof(err)) == 0);
	CHECK(p.ntiers[WU_LIST_HOP] == 2 && p.tiers[WU_LIST_HOP][0].upto_bytes == 100000);
	CHECK(p.tiers[WU_LIST_HOP][1].upto_bytes == UINT64_MAX);
	free(text);
	gsl_rng_free(r);
}

/* ---- harness output -------------------------------------------------------------------- */

static const char harness_text[] =
	"# memsim-hw 1 uapi=1\n"
	"host kernel=6.1.0-56-amd64 machine=x86_64 cpu=\"QEMU Virtual CPU version 2.5+\" pmu=amd64_k8_revg\n"
	"event name=cycles pfm=perf::PERF_COUNT_HW_CPU_CYCLES:u=1 type=0 config=0x0 status=unavailable errno=ENOENT reason=\"no hardware PMU\"\n"
	"event name=task-clock pfm=perf::PERF_COUNT_SW_TASK_CLOCK:u=1 type=1 config=0x1 status=ok\n"
	"request model=rmap policy=hash op=destroy n=1000 k=2 params=heavy=32,light=8 status=0 basis=clock-based batches=2 est_bytes=1 peak_bytes=1 leaked_bytes=0 asserts=0 ioctl_ns=7 ioctl.task-clock=9\n"
	"batch model=rmap policy=hash op=destroy n=1000 k=2 i=0 status=0 ns=380513 cycles=380459 ops=1000 footprint=36136 live=376 cpu=0 irqs=0 ev.task-clock=382143 wu.list_hop=4417 wu.bucket_visit=1193 wu.tree_node=0 wu.entry_move=64 wu.alloc=0 wu.free=1001 wu.p2m_entry=0 wu.page_put=0 wu.preempt_check=0 wu.page_scrub=0 wu.lock=0 wu.refcount=0 wu.pte_test=0 wu.shadow_zap=0 wu.shadow_build=0 wu.hypercall=0 wu.hint_page=0 wu.page_drop=0 wu.swap_io=0\n"
	"batch model=rmap policy=hash op=destroy n=1000 k=2 i=1 status=0 ns=480510 cycles=480457 ops=1000 footprint=36136 live=376 cpu=0 irqs=1 ev.task-clock=482141 wu.list_hop=4417 wu.bucket_visit=1193 wu.tree_node=0 wu.entry_move=64 wu.alloc=0 wu.free=1001 wu.p2m_entry=0 wu.page_put=0 wu.preempt_check=0 wu.page_scrub=0 wu.lock=0 wu.refcount=0 wu.pte_test=0 wu.shadow_zap=0 wu.shadow_build=0 wu.hypercall=0 wu.hint_page=0 wu.page_drop=0 wu.swap_io=0\n";

TEST(harness_output_is_read_field_by_field)
{
	struct calib_set s;
	char err[256];

	calib_set_init(&s);
	CHECK(calib_parse_harness(&s, harness_text, "h.txt", err, sizeof(err)) == 0);
	CHECK(s.n == 2 && s.requests == 1);
	CHECK(!strcmp(s.cpu, "QEMU Virtual CPU version 2.5+") && !strcmp(s.kernel, "6.1.0-56-amd64"));
	CHECK(!strcmp(s.counted, "task-clock") && !strcmp(s.unavailable, "cycles"));
	CHECK(s.clock_based);
	CHECK(!strcmp(s.b[0].model, "rmap") && !strcmp(s.b[0].policy, "hash") &&
	      !strcmp(s.b[0].op, "destroy") && s.b[0].n == 1000);
	CHECK(!strcmp(s.b[1].params, "heavy=32,light=8"));
	CHECK_EQ_U64(s.b[0].o.wu[WU_LIST_HOP], 4417);
	CHECK_EQ_U64(s.b[0].o.wu[WU_FREE], 1001);
	CHECK_EQ_U64(s.b[0].o.footprint, 36136);
	CHECK_EQ_U64(s.b[1].o.irqs, 1);
	CHECK(calib_set_measure(&s, "tsc", err, sizeof(err)) == 0 && s.b[0].o.y == 380459);
	CHECK(calib_set_measure(&s, "ns", err, sizeof(err)) == 0 && s.b[1].o.y == 480510);
	CHECK(calib_set_measure(&s, "ev.task-clock", err, sizeof(err)) == 0 && s.b[0].o.y == 382143);
	CHECK(calib_set_measure(&s, "ev.cycles", err, sizeof(err)) == -1);
	CHECK(strstr(err, "has no such counter (counted: task-clock)") != NULL);
	CHECK(calib_set_measure(&s, "wall", err, sizeof(err)) == -1);
	calib_set_free(&s);
}

TEST(harness_output_with_a_failed_request_is_refused)
{
	struct calib_set s;
	char err[256];
	char *bad = strdup(harness_text);

	*strstr(bad, "status=0 basis") = 0;   /* cut: rebuild with a failure */
	{
		char text[4096];

		snprintf(text, sizeof(text), "%sstatus=ETIME basis=clock-based batches=0\n", bad);
		calib_set_init(&s);
		CHECK(calib_parse_harness(&s, text, "h.txt", err, sizeof(err)) == -1);
		CHECK(strstr(err, "h.txt:5: the request failed (status=ETIME)") != NULL);
		calib_set_free(&s);
	}
	free(bad);
	/* a unit this memsim does not know: built from another tree */
	bad = strdup(harness_text);
	memcpy(strstr(bad, "wu.lock="), "wu.lokk=", 8);
	calib_set_init(&s);
	CHECK(calib_parse_harness(&s, bad, "h.txt", err, sizeof(err)) == -1);
	CHECK(strstr(err, "h.txt:6: unknown work unit 'lokk'") != NULL);
	calib_set_free(&s);
	free(bad);
	/* an unterminated quote */
	calib_set_init(&s);
	CHECK(calib_parse_harness(&s, "host cpu=\"QEMU kernel=1\n", "q.txt", err, sizeof(err)) == -1);
	CHECK(strstr(err, "q.txt:1: malformed 'host' record") != NULL);
	calib_set_free(&s);
}

/* ---- plans --------------------------------------------------------------------------- */

TEST(plan_lines_expand_into_one_request_per_size)
{
	struct calib_req *r;
	size_t n;
	char err[256];

	CHECK(calib_plan_parse("# comment\n\nrmap hash build n=100,300 k=3 heavy=32   # why\n"
			       "sharing hash+preemptible destroy n=1000 batch=8\n", "p", &r, &n,
			       err, sizeof(err)) == 0);
	CHECK(n == 3);
	CHECK(!strcmp(r[0].model, "rmap") && !strcmp(r[0].op, "build") && r[0].n == 100 && r[0].k == 3);
	CHECK(r[1].n == 300 && r[1].nparams == 1 && calib_req_param(&r[1], "heavy", 0) == 32);
	CHECK(r[1].line == 3 && r[2].line == 4 && r[2].k == 2);
	CHECK(!strcmp(r[2].policy, "hash+preemptible") && calib_req_param(&r[2], "batch", 0) == 8);
	calib_req_drop_param(&r[2], "batch");
	CHECK(r[2].nparams == 0 && calib_req_param(&r[2], "batch", 77) == 77);
	free(r);
	/* every built-in plan and scenario list parses */
	CHECK(calib_plan_parse(calib_builtin_plan("builtin"), "builtin", &r, &n, err, sizeof(err)) == 0);
	free(r);
	CHECK(calib_plan_parse(calib_builtin_plan("small"), "small", &r, &n, err, sizeof(err)) == 0);
	free(r);
	CHECK(calib_scen_parse(calib_builtin_scenarios("builtin"), "builtin", &r, &n, err, sizeof(err)) == 0);
	free(r);
	CHECK(calib_scen_parse(calib_builtin_scenarios("small"), "small", &r, &n, err, sizeof(err)) == 0);
	CHECK(n == 6);   /* rmap, relinquish, superpage, scrub, shadow, hinting */
	free(r);
	CHECK(calib_builtin_plan("nope") == NULL);
}

TEST(plan_errors_name_the_line)
{
	struct calib_req *r;
	size_t n;
	char err[256];

	CHECK(calib_plan_parse("rmap hash build n=100\nrmap hash destroy\n", "p.plan", &r, &n, err,
			       sizeof(err)) == -1);
	CHECK(strstr(err, "p.plan:2: no n=") != NULL && r == NULL);
	CHECK(calib_plan_parse("rmap hash build n=1x0\n", "p.plan", &r, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "p.plan:1: n=1x0") != NULL);
	CHECK(calib_plan_parse("rmap Hash build n=10\n", "p.plan", &r, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "'Hash' is not a name") != NULL);
	CHECK(calib_plan_parse("rmap hash build n=10 heavy=3 heavy=4\n", "p", &r, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "heavy given twice") != NULL);
	CHECK(calib_plan_parse("rmap hash build n=10 k=0\n", "p", &r, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "k=0") != NULL);
	CHECK(calib_plan_parse("rmap hash n=10\n", "p", &r, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "expected MODEL POLICY OP") != NULL);
	CHECK(calib_plan_parse("# nothing\n", "empty.plan", &r, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "empty.plan: no request") != NULL);
	CHECK(calib_scen_parse("rmap hash+monolithic n=10,20\n", "s", &r, &n, err, sizeof(err)) == -1);
	CHECK(strstr(err, "one size per scenario line") != NULL);
}

int main(void)
{
	return test_main();
}
