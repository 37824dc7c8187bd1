// SPDX-License-Identifier: MIT
/*
 * sim/vfamily.c — `memsim validate` scenarios of scrub, shadow and hinting (vfamily.h).
 *
 * The module's ops (hw-validate/kmod/ops_scrub.c, ops_shadow.c, ops_hinting.c) describe the
 * instance each builds; the simulator side here builds the same one: for scrub a generated
 * scenario, for shadow and hinting a small trace file written to a temporary directory,
 * replayed, and removed.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hinting.h"
#include "scrub.h"
#include "shadow.h"
#include "trace.h"
#include "vfamily.h"

#define PAGES_PER_MIB 256u

/* The module's layout of the shadow op (hw-validate/kmod/ops_shadow.c): gfns only name
 * the tables (the model's work does not depend on them), the tree's shape is what counts. */
#define SH_ROOT_GFN 0x1000ULL
#define SH_L2_BASE 0x2000ULL
#define SH_LEAF_BASE 0x100000ULL
#define SH_LEAVES_PER_L2 512u

/* Largest scenario the trace families write (records: a few per page or leaf). */
#define VF_MAX_N (4u << 20)

/* ---- parameters ------------------------------------------------------------------------ */

/* Is name one of the table's parameters, or one of the extra names? */
static bool known_param(const char *name, const struct model_param *t, unsigned nt,
			const char *const *extra)
{
	unsigned i;

	for (i = 0; i < nt; i++)
		if (!strcmp(t[i].name, name))
			return true;
	for (i = 0; extra && extra[i]; i++)
		if (!strcmp(extra[i], name))
			return true;
	return false;
}

static int check_params(const struct calib_req *s, const struct model_param *t, unsigned nt,
			const char *const *extra, char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < s->nparams; i++) {
		if (known_param(s->pname[i], t, nt, extra))
			continue;
		snprintf(err, errlen, "%s scenarios take ", s->model);
		for (unsigned j = 0; j < nt; j++)
			snprintf(err + strlen(err), errlen - strlen(err), "%s%s", j ? "," : "", t[j].name);
		for (unsigned j = 0; extra && extra[j]; j++)
			snprintf(err + strlen(err), errlen - strlen(err), ",%s", extra[j]);
		snprintf(err + strlen(err), errlen - strlen(err), "; not %s", s->pname[i]);
		return -1;
	}
	return 0;
}

/*
 * Copies the line's parameters into run sets, leaving out the module-only ones (the
 * module's clear pool, the block order the trace carries in its records).
 */
static void add_sets(const struct calib_req *s, struct run_opts *o, char (*sets)[96],
		     unsigned *k, const char *const *module_only)
{
	unsigned i, j;

	for (i = 0; i < s->nparams; i++) {
		bool skip = false;

		for (j = 0; module_only && module_only[j]; j++)
			skip |= !strcmp(s->pname[i], module_only[j]);
		if (skip || *k >= RUN_MAX_SETS)
			continue;
		snprintf(sets[*k], 96, "%s=%" PRIu64, s->pname[i], s->pval[i]);
		o->sets[o->nsets++] = sets[(*k)++];
	}
}

static int run_one(struct run *r, const struct run_opts *o, const char *metric, double *v,
		   char *err, size_t errlen)
{
	int rc = run_prepare(r, o, err, errlen);

	if (rc == EXIT_OK)
		rc = run_execute(r, err, errlen);
	if (rc == EXIT_OK && metrics_get(&r->mx, metric, v)) {
		snprintf(err, errlen, "the simulator reported no %s", metric);
		rc = EXIT_FAIL;
	}
	if (rc == EXIT_OK) {
		double bad = 0;

		if (!metrics_get(&r->mx, "model_errors", &bad) && bad != 0) {
			snprintf(err, errlen, "the simulated model refused %.0f operations "
				 "(model_errors)", bad);
			rc = EXIT_FAIL;
		}
	}
	return rc;
}

/* ---- scrub ------------------------------------------------------------------------------ */

static const char *const scrub_extra[] = { "pool_pages", NULL };

static int scrub_check_line(const struct calib_req *s, char *err, size_t errlen)
{
	const struct scrub_policy *pol = scrub_policy_find(s->policy);

	if (!pol) {
		snprintf(err, errlen, "policy %s: not a scrub policy (sync, deferred-percpu, idle, "
			 "on-alloc)", s->policy);
		return -1;
	}
	if (pol->one_tasklet) {
		/* its tasklet takes the lock with each page the destroy frees: the destroy's time
		 * is the race between the two, which the module's one CPU does not run */
		snprintf(err, errlen, "policy %s: its polling tasklet races the destroy for the lock "
			 "on another pCPU; validate sync, deferred-percpu, idle or on-alloc "
			 "(calibrate measures %s's work in its plan)", s->policy, s->policy);
		return -1;
	}
	if (s->n % PAGES_PER_MIB || s->n / PAGES_PER_MIB > (1u << 26)) {
		snprintf(err, errlen, "n=%" PRIu64 ": scrub scenarios want whole MiB (a multiple of "
			 "%u pages, at most 2^26 MiB)", s->n, PAGES_PER_MIB);
		return -1;
	}
	return check_params(s, scrub_param_table, SCRUB_NPARAMS, scrub_extra, err, errlen);
}

static int scrub_sim(const struct calib_req *s, const char *profile, struct run *r, double *ns,
		     char *err, size_t errlen)
{
	char sets[RUN_MAX_SETS][96];
	struct run_opts o = { .model = "scrub", .policy = s->policy, .scenario = "destroy",
			      .profile = profile, .seed = 1 };
	unsigned k = 0;
	double d;
	int rc;

	/* one pCPU: no scrubber runs beside the destroy (they start when it ends), and no
	 * dom0 tick ends its slices: the destroy's time is its own work, as in the module */
	snprintf(sets[k], 96, "mem_mb=%" PRIu64, s->n / PAGES_PER_MIB);
	o.sets[o.nsets++] = sets[k++];
	snprintf(sets[k], 96, "pcpus=1");
	o.sets[o.nsets++] = sets[k++];
	snprintf(sets[k], 96, "dom0_period_ns=0");
	o.sets[o.nsets++] = sets[k++];
	add_sets(s, &o, sets, &k, scrub_extra);
	rc = run_one(r, &o, "destroy_ns", ns, err, errlen);
	if (rc == EXIT_OK && (metrics_get(&r->mx, "destroys", &d) || d != 1)) {
		snprintf(err, errlen, "the simulated destroy did not finish");
		rc = EXIT_FAIL;
	}
	return rc;
}

/* ---- trace scenarios: shadow and hinting -------------------------------------------------- */

struct vtrace {
	struct trace_writer *w;
	uint64_t t;
	int failed;
};

static void put(struct vtrace *v, uint16_t type, uint32_t dom, uint64_t frame, uint64_t arg)
{
	struct trace_rec r = { .time_ns = v->t, .frame = frame, .arg = arg, .domain = dom,
			       .vcpu = 0, .type = type };

	v->t += 1000;
	if (!v->failed && trace_writer_put(v->w, &r))
		v->failed = 1;
}

/* Writes the records of the instance (setup) and, with op, those of the timed region. */
typedef void (*records_fn)(struct vtrace *v, const struct calib_req *s, bool op);

static void shadow_records(struct vtrace *v, const struct calib_req *s, bool op)
{
	uint64_t i;

	put(v, TR_DOMAIN_CREATE, 1, 0, 1);
	put(v, TR_PT_ALLOC, 1, SH_ROOT_GFN, 4);
	for (i = 0; i < s->n; i++) {
		/* a leaf's parent is the latest L2 (drv_shadow.c); the L3 is synthetic */
		if (i % SH_LEAVES_PER_L2 == 0)
			put(v, TR_PT_ALLOC, 1, SH_L2_BASE + i / SH_LEAVES_PER_L2, 2);
		put(v, TR_PT_ALLOC, 1, SH_LEAF_BASE + i, 1);
	}
	put(v, TR_CR3_LOAD, 1, SH_ROOT_GFN, 0);
	for (i = 0; op && i < s->n; i++)
		put(v, TR_PT_ACCESS, 1, SH_LEAF_BASE + i, 1);
}

static void hinting_records(struct vtrace *v, const struct calib_req *s, bool op)
{
	uint64_t order = calib_req_param(s, "order", 0), step = 1ULL << order, g;

	put(v, TR_DOMAIN_CREATE, 1, 0, 1);
	for (g = 0; g < s->n; g += step)
		put(v, TR_PAGE_ALLOC, 1, g, order);
	for (g = 0; op && g < s->n; g += step)
		put(v, TR_PAGE_FREE, 1, g, order);
	for (g = 0; op && g < s->n; g += step)
		put(v, TR_PAGE_ALLOC, 1, g, order);
}

static int write_trace(const char *path, records_fn fn, const struct calib_req *s, bool op,
		       char *err, size_t errlen)
{
	struct trace_header h;
	struct vtrace v = { 0 };

	memset(&h, 0, sizeof(h));
	h.version = TRACE_VERSION;
	h.page_size = 4096;
	snprintf(h.source, sizeof(h.source), "synthetic:memsim-validate-%s", s->model);
	snprintf(h.recorder, sizeof(h.recorder), "memsim validate");
	v.w = trace_writer_open(path, &h, err, errlen);
	if (!v.w)
		return -1;
	fn(&v, s, op);
	if (v.failed) {
		snprintf(err, errlen, "%s: %s", path, trace_writer_error(v.w));
		trace_writer_abort(v.w);
		return -1;
	}
	return trace_writer_close(v.w, err, errlen) ? -1 : 0;
}

/*
 * Runs the setup trace and the full trace; *ns = the metric's difference (the timed
 * region's share).  The full run stays in *r.  The traces' names are fixed (in a fresh
 * directory), so the same scenario gives the same run id every time.
 */
static int trace_sim(const struct calib_req *s, const char *model, records_fn fn,
		     const char *metric, const char *const *module_only, const char *profile,
		     struct run *r, double *ns, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[PATH_MAX - 64], setup_path[PATH_MAX], full_path[PATH_MAX];
	char sets[RUN_MAX_SETS][96];
	struct run_opts o = { .model = model, .policy = s->policy, .profile = profile, .seed = 1 };
	struct run base;
	double v0 = 0;
	unsigned k = 0;
	int rc = EXIT_FAIL;

	memset(r, 0, sizeof(*r));
	memset(&base, 0, sizeof(base));
	snprintf(dir, sizeof(dir), "%s/memsim-validate-XXXXXX", tmp);
	if (!mkdtemp(dir)) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return EXIT_FAIL;
	}
	snprintf(setup_path, sizeof(setup_path), "%s/%s-setup.mst", dir, model);
	snprintf(full_path, sizeof(full_path), "%s/%s.mst", dir, model);
	if (write_trace(setup_path, fn, s, false, err, errlen) ||
	    write_trace(full_path, fn, s, true, err, errlen))
		goto out;
	add_sets(s, &o, sets, &k, module_only);
	o.trace = setup_path;
	rc = run_one(&base, &o, metric, &v0, err, errlen);
	if (rc == EXIT_OK) {
		o.trace = full_path;
		rc = run_one(r, &o, metric, ns, err, errlen);
	}
	if (rc == EXIT_OK)
		*ns -= v0;
out:
	run_free(&base);
	unlink(setup_path);
	unlink(full_path);
	rmdir(dir);
	return rc;
}

/* ---- shadow ----------------------------------------------------------------------------- */

static const char *const shadow_extra[] = { "pool_pages", NULL };

static int shadow_check_line(const struct calib_req *s, char *err, size_t errlen)
{
	if (!shadow_policy_find(s->policy)) {
		snprintf(err, errlen, "policy %s: not a shadow policy (fifo, fifo-skip-roots, clock, "
			 "accessed)", s->policy);
		return -1;
	}
	if (s->n > VF_MAX_N) {
		snprintf(err, errlen, "n=%" PRIu64 ": at most %u leaves", s->n, VF_MAX_N);
		return -1;
	}
	if (calib_req_param(s, "tdp", 0)) {
		snprintf(err, errlen, "tdp=%" PRIu64 ": the module walks shadow tables; EPT walks "
			 "(tdp=1) have no scenario here", calib_req_param(s, "tdp", 0));
		return -1;
	}
	return check_params(s, shadow_param_table, SHADOW_NPARAMS, shadow_extra, err, errlen);
}

static int shadow_sim(const struct calib_req *s, const char *profile, struct run *r, double *ns,
		      char *err, size_t errlen)
{
	return trace_sim(s, "shadow", shadow_records, "shadow_ns", shadow_extra, profile, r, ns,
			 err, errlen);
}

/* ---- hinting ---------------------------------------------------------------------------- */

static const char *const hinting_extra[] = { "order", "pool_pages", NULL };

static int hinting_check_line(const struct calib_req *s, char *err, size_t errlen)
{
	uint64_t order = calib_req_param(s, "order", 0);

	if (!hinting_policy_find(s->policy)) {
		snprintf(err, errlen, "policy %s: not a hinting policy (none, per-page, batched, "
			 "lazy-unused, volatile, volatile-lazy)", s->policy);
		return -1;
	}
	if (order > 10 || s->n % (1ULL << order) || s->n > VF_MAX_N) {
		snprintf(err, errlen, "n=%" PRIu64 " order=%" PRIu64 ": want order 0..10 and n a "
			 "multiple of 2^order, at most %u pages", s->n, order, VF_MAX_N);
		return -1;
	}
	return check_params(s, hinting_param_table, HINTING_NPARAMS, hinting_extra, err, errlen);
}

static int hinting_sim(const struct calib_req *s, const char *profile, struct run *r,
		       double *ns, char *err, size_t errlen)
{
	return trace_sim(s, "hinting", hinting_records, "total_ns", hinting_extra, profile, r, ns,
			 err, errlen);
}

/* ---- the table -------------------------------------------------------------------------- */

static const struct vfamily families[] = {
	{ "scrub", "scrub", "destroy", "destroy_ns", scrub_check_line, scrub_sim },
	{ "shadow", "shadow", "walk", "shadow_ns", shadow_check_line, shadow_sim },
	{ "hinting", "hinting", "cycle", "total_ns", hinting_check_line, hinting_sim },
};

const struct vfamily *vfamily_find(const char *model)
{
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (!strcmp(families[i].model, model))
			return &families[i];
	return NULL;
}

const char vfamily_usage[] =
	"                      `scrub POLICY n=PAGES`: the module destroys a domain of PAGES pages\n"
	"                      (whole MiB), the simulator runs scenario destroy on one pCPU;\n"
	"                      `shadow POLICY n=LEAVES`: the module walks to LEAVES new leaf tables,\n"
	"                      the simulator replays the same address space's pt_access records;\n"
	"                      `hinting POLICY n=PAGES [order=K]`: the module frees PAGES pages and\n"
	"                      allocates them again, the simulator replays those page records\n";
