/* SPDX-License-Identifier: MIT */
/* sim/cmd_run.c — `memsim run`: one simulation, printed and optionally stored. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "run.h"
#include "scenarios.h"
#include "store.h"

static void usage(FILE *out)
{
	unsigned i, j;

	fprintf(out,
		"usage: memsim run (--trace FILE | --scenario NAME) [--model M] [--policy P]\n"
		"                  [--set NAME=VALUE]... [--seed N] [--profile NAME|FILE]\n"
		"                  [--db FILE] [--json] [--params]\n"
		"\n"
		"Replays a trace (or a generated scenario) through one model policy and prints its\n"
		"metrics (times in ns, names ending in _ns).  With --db (or $MEMSIM_DB) the run is\n"
		"stored in SQLite in one transaction.\n"
		"\n"
		"  --trace FILE        a trace file in memsim format v1 (docs/trace-format.md)\n"
		"  --scenario NAME     generate the trace (see `memsim trace gen --list`)\n"
		"  --model M           model family (default rmap)\n"
		"  --policy P          policy of the model (default: the model's first)\n"
		"  --set NAME=VALUE    a model, machine or scenario parameter (repeatable, each\n"
		"                      parameter once); k M G Ki Mi Gi Ti multiply, and only a\n"
		"                      time (NAME ending in _ns or _ms) takes ns us ms s\n"
		"  --seed N            run seed (default 1): scenario and model randomness\n"
		"  --profile P         cost profile: built-in name or file (default seed-2012)\n"
		"  --db FILE           store the run in this SQLite database\n"
		"  --json              print one JSON object: run_id, config, metrics, event_digest\n"
		"  --params            list the parameters of --model (and --scenario) and exit\n"
		"\nmodels and policies:\n");
	for (i = 0; model_drivers[i]; i++) {
		fprintf(out, "  %-12s %s\n", model_drivers[i]->name, model_drivers[i]->doc);
		for (j = 0; model_drivers[i]->policies[j]; j++)
			fprintf(out, "      %-18s %s\n", model_drivers[i]->policies[j],
				model_drivers[i]->policy_docs[j]);
	}
}

static void print_human(const struct run *r, FILE *out)
{
	size_t i;
	char v[64];

	fprintf(out, "run %s  model %s  policy %s  trace %s  seed %" PRIu64 "  profile %s\n",
		r->run_id, r->drv->name, r->policy, r->trace_name, r->opts.seed, r->profile.name);
	for (i = 0; i < r->mx.n; i++) {
		const char *name = r->mx.m[i].name;
		size_t nl = strlen(name);

		metrics_format_value(r->mx.m[i].value, v, sizeof(v));
		if (nl > 3 && !strcmp(name + nl - 3, "_ns") && r->mx.m[i].value >= 1e6)
			fprintf(out, "  %-24s %s  (%.3f s)\n", name, v, r->mx.m[i].value * 1e-9);
		else
			fprintf(out, "  %-24s %s\n", name, v);
	}
	fprintf(out, "event_digest %016" PRIx64 "\n", r->event_digest);
}

static int store_run(const struct run *r, const char *db, char *err, size_t errlen)
{
	struct store *st = store_open(db, err, errlen);
	int rc;

	if (!st)
		return -1;
	rc = run_store(r, st, NULL, err, errlen);
	store_close(st);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trace", required_argument, NULL, 't' },
		{ "scenario", required_argument, NULL, 'S' },
		{ "model", required_argument, NULL, 'm' },
		{ "policy", required_argument, NULL, 'p' },
		{ "set", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'r' },
		{ "profile", required_argument, NULL, 'P' },
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "params", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts o = { .seed = 1 };
	const char *db = getenv("MEMSIM_DB");
	bool json = false, list_params = false;
	char err[1024];
	struct run r;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 't': o.trace = optarg; break;
		case 'S': o.scenario = optarg; break;
		case 'm': o.model = optarg; break;
		case 'p': o.policy = optarg; break;
		case 's':
			if (o.nsets == RUN_MAX_SETS) {
				fprintf(stderr, "memsim run: more than %d --set options\n", RUN_MAX_SETS);
				return EXIT_USAGE;
			}
			o.sets[o.nsets++] = optarg;
			break;
		case 'r':
			if (param_parse_u64(optarg, &o.seed)) {
				fprintf(stderr, "memsim run: --seed %s: not a non-negative integer\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'P': o.profile = optarg; break;
		case 'd': db = optarg; break;
		case 'j': json = true; break;
		case 'L': list_params = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			fprintf(stderr, "memsim run: %s: unknown option or missing value (see memsim run --help)\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "memsim run: unexpected argument '%s' (see memsim run --help)\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (list_params && !o.trace && !o.scenario)
		o.scenario = NULL, o.trace = "/dev/null";
	rc = run_prepare(&r, &o, err, sizeof(err));
	if (list_params && (rc == EXIT_OK || r.drv)) {
		if (r.drv)
			param_print_help(&r.params, stdout);
		run_free(&r);
		return r.drv ? EXIT_OK : rc;
	}
	if (rc != EXIT_OK) {
		fprintf(stderr, "memsim run: %s\n", err);
		run_free(&r);
		return rc;
	}
	rc = run_execute(&r, err, sizeof(err));
	if (rc != EXIT_OK) {
		fprintf(stderr, "memsim run: %s\n", err);
		run_free(&r);
		return rc;
	}
	if (db && *db) {
		int s = store_run(&r, db, err, sizeof(err));

		if (s < 0) {
			fprintf(stderr, "memsim run: %s\n", err);
			run_free(&r);
			return EXIT_FAIL;
		}
		if (s == 1 && !json)
			fprintf(stderr, "memsim run: run %s already stored in %s (identical results)\n",
				r.run_id, db);
	}
	if (json)
		run_write_json(&r, stdout);
	else
		print_human(&r, stdout);
	run_free(&r);
	return EXIT_OK;
}
