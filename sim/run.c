/* SPDX-License-Identifier: MIT */
/* sim/run.c — one simulation run (see run.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "env_user.h"
#include "hash.h"
#include "memlimit.h"
#include "run.h"
#include "scenarios.h"
#include "sim.h"
#include "store.h"
#include "util.h"

/* Identity of a file's contents for change detection: device, inode, size, and the
 * modification and change times (a write moves both; ctime cannot be set back). */
static void trace_file_stat(const char *path, uint64_t id[5])
{
	struct stat sb;

	memset(id, 0, 5 * sizeof(id[0]));
	if (stat(path, &sb))
		return;	/* trace_file_scan() names the problem */
	id[0] = (uint64_t)sb.st_dev;
	id[1] = (uint64_t)sb.st_ino;
	id[2] = (uint64_t)sb.st_size;
	id[3] = (uint64_t)sb.st_mtim.tv_sec * 1000000000u + (uint64_t)sb.st_mtim.tv_nsec;
	id[4] = (uint64_t)sb.st_ctim.tv_sec * 1000000000u + (uint64_t)sb.st_ctim.tv_nsec;
}

static void add_scenario_params(struct param_set *ps, const struct scenario *sc)
{
	const struct scenario_param *p;

	for (p = sc->params; p->name; p++) {
		struct param_def d = {
			.name = p->name, .kind = PARAM_INT, .def = p->def, .min = p->min,
			.max = p->max, .doc = p->doc,
		};

		param_set_add(ps, "scenario", &d, 1);
	}
}

/* Generic to every model: the seeds' -ENOMEM paths, as part of the configuration. */
static const struct param_def alloc_fail_param = {
	.name = "alloc_fail_ppm", .kind = PARAM_INT, .def = 0, .min = 0, .max = 1000000,
	.doc = "modelled allocation failures per million model allocations, which ones drawn "
	       "from the run seed (the hypervisor's -ENOMEM paths; 0: none)",
};

/*
 * The parameters that identify a run: all of them, except alloc_fail_ppm at 0, which is left
 * out so that a run without modelled failures keeps the id (and the stored parameters) it had
 * before the parameter existed.
 */
static void identity_params(const struct param_set *in, struct param_set *out)
{
	size_t i;

	*out = *in;
	out->n = 0;
	for (i = 0; i < in->n; i++) {
		if (in->defs[i].name == alloc_fail_param.name && !in->values[i])
			continue;
		out->defs[out->n] = in->defs[i];
		out->group[out->n] = in->group[i];
		out->values[out->n] = in->values[i];
		out->explicit_set[out->n] = in->explicit_set[i];
		out->n++;
	}
}

static size_t scenario_values(const struct run *r, const struct param_set *ps, uint64_t *v,
			      size_t max)
{
	const struct scenario_param *p;
	size_t n = 0;

	for (p = r->scen->params; p->name && n < max; p++)
		v[n++] = param_get(ps, p->name);
	return n;
}

int run_check_memory(const struct run *r, const struct param_set *ps, uint64_t max_mem,
		     const char *how, char *err, size_t errlen)
{
	uint64_t v[64], est;
	char what[160] = "", eb[32], lb[32];

	if (!r->scen || !r->scen->mem_estimate || !max_mem)
		return EXIT_OK;
	scenario_values(r, ps, v, 64);
	est = r->scen->mem_estimate(v, r->drv->name, what, sizeof(what));
	if (est <= max_mem)
		return EXIT_OK;
	env_format_bytes(est, eb, sizeof(eb));
	env_format_bytes(max_mem, lb, sizeof(lb));
	if (est > MEMLIMIT_ADDRESSABLE) {
		snprintf(err, errlen, "scenario %s: estimated model memory %s (%s) exceeds what any "
			 "machine can address (128.0 TiB): impossible parameters, not run",
			 r->scen->name, eb, what);
		return EXIT_USAGE;
	}
	if (how && strcmp(how, "--max-mem"))
		snprintf(err, errlen, "scenario %s: estimated model memory %s (%s) exceeds --max-mem "
			 "%s (%s); not run", r->scen->name, eb, what, lb, how);
	else
		snprintf(err, errlen, "scenario %s: estimated model memory %s (%s) exceeds --max-mem "
			 "%s; not run", r->scen->name, eb, what, lb);
	return EXIT_FAIL;
}

int run_prepare(struct run *r, const struct run_opts *o, char *err, size_t errlen)
{
	static __thread struct param_set idp;   /* large; one run is prepared at a time */
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	memset(r, 0, sizeof(*r));
	r->opts = *o;
	metrics_init(&r->mx);
	r->drv = driver_find(o->model ? o->model : "rmap");
	if (!r->drv) {
		size_t off = (size_t)snprintf(err, errlen, "--model %s: unknown model; known:", o->model);

		for (i = 0; model_drivers[i] && off < errlen; i++)
			off += (size_t)snprintf(err + off, errlen - off, " %s", model_drivers[i]->name);
		return EXIT_USAGE;
	}
	r->policy = o->policy ? o->policy : r->drv->policies[0];
	if (driver_policy_index(r->drv, r->policy) < 0) {
		size_t off = (size_t)snprintf(err, errlen, "--policy %s: not a policy of model %s; known:",
					      r->policy, r->drv->name);

		for (i = 0; r->drv->policies[i] && off < errlen; i++)
			off += (size_t)snprintf(err + off, errlen - off, " %s", r->drv->policies[i]);
		return EXIT_USAGE;
	}
	if (!!o->trace == !!o->scenario) {
		snprintf(err, errlen, "give exactly one of --trace FILE and --scenario NAME");
		return EXIT_USAGE;
	}
	param_set_init(&r->params);
	r->drv->add_params(&r->params);
	param_set_add(&r->params, "run", &alloc_fail_param, 1);
	if (o->scenario) {
		r->scen = scenario_find(o->scenario);
		if (!r->scen) {
			size_t off = (size_t)snprintf(err, errlen, "--scenario %s: unknown scenario; known:",
						      o->scenario);
			const struct scenario *const *l = scenario_list();

			for (i = 0; l[i] && off < errlen; i++)
				off += (size_t)snprintf(err + off, errlen - off, " %s", l[i]->name);
			return EXIT_USAGE;
		}
		add_scenario_params(&r->params, r->scen);
	}
	for (i = 0; i < o->nsets; i++)
		if (param_set_assign(&r->params, o->sets[i], err, errlen))
			return EXIT_USAGE;
	if (profile_load(o->profile ? o->profile : "seed-2012", &r->profile, err, errlen))
		return EXIT_USAGE;

	if (o->scenario) {
		/* A generated trace is identified by generator, parameters and seed. */
		uint64_t h = hash_str(r->scen->name);
		const struct scenario_param *p;

		for (p = r->scen->params; p->name; p++)
			h = hash_fold(h, param_get(&r->params, p->name));
		r->trace_digest = hash_fold(h, o->seed);
		snprintf(r->trace_name, sizeof(r->trace_name), "scenario:%s", r->scen->name);
	} else {
		trace_file_stat(o->trace, r->trace_stat);
		if (trace_file_scan(o->trace, &r->trace_digest, err, errlen))
			return EXIT_USAGE;
		snprintf(r->trace_name, sizeof(r->trace_name), "%s", o->trace);
	}

	f = open_memstream(&buf, &len);
	if (!f)
		abort();
	fprintf(f, "{\"memsim_version\":");
	json_write_string(f, MEMSIM_VERSION);
	fprintf(f, ",\"model\":");
	json_write_string(f, r->drv->name);
	fprintf(f, ",\"policy\":");
	json_write_string(f, r->policy);
	/* A file is identified by its digest; only its base name goes into the configuration,
	 * so the same trace at another path (another machine, a shard) is the same run. */
	fprintf(f, ",\"trace\":");
	json_write_string(f, run_trace_id_name(r));
	fprintf(f, ",\"trace_digest\":\"%016" PRIx64 "\",\"seed\":%" PRIu64 ",\"profile\":",
		r->trace_digest, o->seed);
	json_write_string(f, r->profile.name);
	fprintf(f, ",\"profile_digest\":\"%016" PRIx64 "\",\"params\":", r->profile.digest);
	identity_params(&r->params, &idp);
	param_write_json(&idp, f);
	fputc('}', f);
	fclose(f);
	r->config_json = buf;
	snprintf(r->run_id, sizeof(r->run_id), "%016" PRIx64, hash_str(buf));
	return run_check_memory(r, &r->params, o->max_mem, o->max_mem_how, err, errlen);
}

const char *run_trace_id_name(const struct run *r)
{
	const char *t = r->opts.trace, *slash;

	if (!t)
		return r->trace_name;
	slash = strrchr(t, '/');
	return slash ? slash + 1 : t;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int run_execute(struct run *r, char *err, size_t errlen)
{
	struct env_run_limits limits;
	struct rec_source *src;
	struct sim s;
	void *ctx;
	int64_t t0 = mono_ns();
	int rc;

	if (r->scen) {
		uint64_t v[64];

		scenario_values(r, &r->params, v, 64);
		src = scenario_open(r->scen, v, r->opts.seed, err, errlen);
	} else {
		src = trace_open(r->opts.trace, err, errlen);
	}
	if (!src)
		return EXIT_USAGE;
	if (sim_init(&s, r->opts.seed)) {
		rec_source_close(src);
		snprintf(err, errlen, "out of memory");
		return EXIT_FAIL;
	}
	/* From here every model allocation is accounted: a modelled failure is drawn from the
	 * run's own stream, a host failure or the cap fails the run. */
	limits.fail_seed = hash_fold(r->opts.seed, hash_str("alloc_fail"));
	limits.fail_ppm = (uint32_t)param_get(&r->params, "alloc_fail_ppm");
	limits.max_bytes = r->opts.max_mem;
	env_run_begin(&limits);
	ctx = r->drv->create(&s, r->policy, &r->params, &r->profile, err, errlen);
	if (!ctx) {
		rc = env_run_failed() ? EXIT_FAIL : EXIT_USAGE;
		if (env_run_failed())
			snprintf(err, errlen, "%s, creating the model; the run is not stored",
				 env_run_failure());
		env_run_end();
		sim_fini(&s);
		rec_source_close(src);
		return rc;
	}
	rc = sim_run(&s, src, r->drv->handlers, ctx);
	if (rc) {
		/* a corrupt trace is bad input; anything else is a failure of the run */
		snprintf(err, errlen, "%s", s.err);
		rc = rc == -2 ? EXIT_USAGE : EXIT_FAIL;
	} else {
		r->drv->report(ctx, &s, &r->mx);
	}
	if (!rc && s.overflow) {
		/* a sum computed by the report: as bad as one computed during the run */
		snprintf(err, errlen, "%s", s.err);
		rc = EXIT_FAIL;
	} else if (!rc) {
		metrics_set(&r->mx, "sim_time_ns", (double)s.now);
		metrics_set(&r->mx, "records", (double)s.records);
		metrics_set(&r->mx, "events", (double)s.events);
		if (limits.fail_ppm)
			metrics_set(&r->mx, "alloc_fail_injected", (double)env_run_modelled_failures());
		r->event_digest = s.digest;
	}
	/* The first host failure is the cause, whatever came of it (also while creating or
	 * reporting, which run outside the engine's checks). */
	if (env_run_failed() && rc != EXIT_USAGE) {
		snprintf(err, errlen, "%s, at record %" PRIu64 " (sim time %" PRIu64 " ns); "
			 "the run is not stored", env_run_failure(), s.records, s.now);
		rc = EXIT_FAIL;
	}
	r->drv->destroy(ctx);
	env_run_end();
	sim_fini(&s);
	rec_source_close(src);
	if (!rc && !r->scen) {
		uint64_t now[5];

		/* the run id holds the digest of the file as it was; these results must be its */
		trace_file_stat(r->opts.trace, now);
		if (memcmp(now, r->trace_stat, sizeof(now))) {
			snprintf(err, errlen, "%s: the trace changed (modified or replaced) between "
				 "its digest and its replay; run again", r->opts.trace);
			rc = EXIT_FAIL;
		}
	}
	r->wall_ns = mono_ns() - t0;
	return rc;
}

void run_free(struct run *r)
{
	free(r->config_json);
	r->config_json = NULL;
	metrics_free(&r->mx);
}

void run_write_json(const struct run *r, FILE *out)
{
	fprintf(out, "{\"run_id\":\"%s\",\"config\":%s,\"metrics\":", r->run_id, r->config_json);
	metrics_write_json(&r->mx, out);
	fprintf(out, ",\"event_digest\":\"%016" PRIx64 "\"}\n", r->event_digest);
}

int run_store(const struct run *r, struct store *st, const char *sweep_id,
	      char *err, size_t errlen)
{
	static __thread struct param_set idp;
	struct run_param params[PARAM_SET_MAX];
	char values[PARAM_SET_MAX][64];
	struct run_record rec = { 0 };
	size_t i;
	int rc;

	identity_params(&r->params, &idp);
	for (i = 0; i < idp.n; i++) {
		param_value_text(&idp, i, values[i], sizeof(values[i]));
		params[i].key = idp.defs[i].name;
		params[i].value = values[i];
	}
	memcpy(rec.run_id, r->run_id, sizeof(rec.run_id));
	rec.sweep_id = sweep_id;
	rec.model = r->drv->name;
	rec.policy = r->policy;
	rec.trace = r->trace_name;
	rec.trace_digest = r->trace_digest;
	rec.seed = r->opts.seed;
	rec.profile_name = r->profile.name;
	rec.profile_digest = r->profile.digest;
	rec.event_digest = r->event_digest;
	rec.memsim_version = MEMSIM_VERSION;
	rec.config_json = r->config_json;
	rec.wall_ns = r->wall_ns;
	rec.status = "ok";
	rec.params = params;
	rec.nparams = idp.n;
	rec.metrics = &r->mx;
	{
		/* what the metrics mean, first: a failure leaves no run half-described */
		const struct metric_def *defs[2] = { metric_defs_common, r->drv->metrics };

		if (store_put_metric_defs(st, r->drv->name, defs, 2, err, errlen))
			return -1;
	}
	rc = store_put_run(st, &rec, err, errlen);
	return rc < 0 ? -1 : rc;
}
