/* SPDX-License-Identifier: MIT */
/* sim/run.c — one simulation run (see run.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "run.h"
#include "scenarios.h"
#include "sim.h"
#include "store.h"
#include "util.h"

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

int run_prepare(struct run *r, const struct run_opts *o, char *err, size_t errlen)
{
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
		if (trace_file_digest(o->trace, &r->trace_digest, err, errlen))
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
	json_write_string(f, o->trace ? (strrchr(o->trace, '/') ? strrchr(o->trace, '/') + 1 : o->trace)
				: r->trace_name);
	fprintf(f, ",\"trace_digest\":\"%016" PRIx64 "\",\"seed\":%" PRIu64 ",\"profile\":",
		r->trace_digest, o->seed);
	json_write_string(f, r->profile.name);
	fprintf(f, ",\"profile_digest\":\"%016" PRIx64 "\",\"params\":", r->profile.digest);
	param_write_json(&r->params, f);
	fputc('}', f);
	fclose(f);
	r->config_json = buf;
	snprintf(r->run_id, sizeof(r->run_id), "%016" PRIx64, hash_str(buf));
	return EXIT_OK;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int run_execute(struct run *r, char *err, size_t errlen)
{
	struct rec_source *src;
	struct sim s;
	void *ctx;
	int64_t t0 = mono_ns();
	int rc;

	if (r->scen) {
		uint64_t v[64];
		size_t n = 0;
		const struct scenario_param *p;

		for (p = r->scen->params; p->name && n < 64; p++)
			v[n++] = param_get(&r->params, p->name);
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
	ctx = r->drv->create(&s, r->policy, &r->params, &r->profile, err, errlen);
	if (!ctx) {
		sim_fini(&s);
		rec_source_close(src);
		return EXIT_USAGE;
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
		r->event_digest = s.digest;
	}
	r->drv->destroy(ctx);
	sim_fini(&s);
	rec_source_close(src);
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
	struct run_param params[PARAM_SET_MAX];
	char values[PARAM_SET_MAX][64];
	struct run_record rec = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < r->params.n; i++) {
		param_value_text(&r->params, i, values[i], sizeof(values[i]));
		params[i].key = r->params.defs[i].name;
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
	rec.nparams = r->params.n;
	rec.metrics = &r->mx;
	rc = store_put_run(st, &rec, err, errlen);
	return rc < 0 ? -1 : rc;
}
