/* SPDX-License-Identifier: MIT */
/* sim/cmd_run.c — `memsim run`: one simulation, printed, then stored (unless --no-db). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "memlimit.h"
#include "run.h"
#include "scenarios.h"
#include "store.h"

static void usage(FILE *out)
{
	unsigned i, j;

	fprintf(out,
		"usage: memsim run (--trace FILE | --scenario NAME) [--model M] [--policy P]\n"
		"                  [--set NAME=VALUE]... [--seed N] [--profile NAME|FILE]\n"
		"                  [--max-mem SIZE] [--db FILE | --no-db] [--json] [--params]\n"
		"\n"
		"Replays a trace (or a generated scenario) through one model policy and prints its\n"
		"metrics (times in ns, names ending in _ns), then stores the run in SQLite in one\n"
		"transaction, like a sweep: in --db FILE, else $MEMSIM_DB, else ./memsim.db.\n"
		"\n"
		"  --trace FILE        a trace file in memsim format v1 (docs/trace-format.md); a\n"
		"                      regular file (read twice: digest, then replay), not a FIFO\n"
		"                      or a device\n"
		"  --scenario NAME     generate the trace (see `memsim trace gen --list`)\n"
		"  --model M           model family (default rmap)\n"
		"  --policy P          policy of the model (default: the model's first)\n"
		"  --set NAME=VALUE    a model, machine or scenario parameter (repeatable, each\n"
		"                      parameter once); k M G Ki Mi Gi Ti multiply, and only a\n"
		"                      time (NAME ending in _ns or _ms) takes ns us ms s\n"
		"  --seed N            run seed (default 1): scenario and model randomness\n"
		"  --profile P         cost profile: built-in name or file (default seed-2012); a\n"
		"                      file is a regular file of at most 1 MiB\n"
		"  --max-mem SIZE      most memory the model may hold (e.g. 8Gi, 500M; 0: no limit).\n"
		"                      Default 3/4 of MemAvailable, or of ulimit -v if lower.  A\n"
		"                      scenario estimated above it is refused before it starts; a\n"
		"                      run that reaches it, or whose host allocation fails, exits 1\n"
		"                      and stores nothing (docs/security.md, 4 and 11)\n"
		"  --db FILE           store the run in this SQLite database (a regular file, or a\n"
		"                      new one; default $MEMSIM_DB, else ./memsim.db): opened and\n"
		"                      checked before the run; the results are printed even if\n"
		"                      storing them fails (then exit 1)\n"
		"  --no-db             store nothing (only print the results)\n"
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
		{ "no-db", no_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'j' },
		{ "params", no_argument, NULL, 'L' },
		{ "max-mem", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts o = { .seed = 1 };
	const char *db = getenv("MEMSIM_DB");
	bool json = false, list_params = false, max_mem_set = false, no_db = false, db_opt = false;
	char err[1024], store_err[1024], max_mem_how[160];
	struct store *st = NULL;
	struct run r;
	int c, rc, stored = 0;

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
		case 'd': db = optarg; db_opt = true; break;
		case 'N': no_db = true; break;
		case 'j': json = true; break;
		case 'L': list_params = true; break;
		case 'M':
			if (memlimit_parse(optarg, &o.max_mem)) {
				fprintf(stderr, "memsim run: --max-mem %s: not a size (e.g. 8Gi, 500M, "
					"0 for no limit)\n", optarg);
				return EXIT_USAGE;
			}
			max_mem_set = true;
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			fprintf(stderr, "memsim run: %s: unknown option or missing value (see memsim run --help)\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (no_db && db_opt) {
		fprintf(stderr, "memsim run: --db and --no-db together: choose one\n");
		return EXIT_USAGE;
	}
	/* stored where a sweep stores: --db, else $MEMSIM_DB, else ./memsim.db */
	if (no_db)
		db = NULL;
	else if (!db || !*db)
		db = "memsim.db";
	if (optind < argc) {
		fprintf(stderr, "memsim run: unexpected argument '%s' (see memsim run --help)\n", argv[optind]);
		return EXIT_USAGE;
	}
	o.max_mem_how = "--max-mem";
	if (!max_mem_set) {
		o.max_mem = memlimit_default(1, max_mem_how, sizeof(max_mem_how));
		o.max_mem_how = max_mem_how;
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
	/* the database is opened (created, checked) before the simulation: a bad --db costs
	 * nothing, and a run is never computed only to be lost */
	if (db && !(st = store_open(db, err, sizeof(err)))) {
		fprintf(stderr, "memsim run: --db %s\n", err);
		run_free(&r);
		return EXIT_USAGE;
	}
	rc = run_execute(&r, err, sizeof(err));
	if (rc != EXIT_OK) {
		fprintf(stderr, "memsim run: %s\n", err);
		store_close(st);
		run_free(&r);
		return rc;
	}
	if (st) {
		stored = run_store(&r, st, NULL, store_err, sizeof(store_err));
		store_close(st);
	}
	/* the results are printed even when they could not be stored */
	if (json)
		run_write_json(&r, stdout);
	else
		print_human(&r, stdout);
	rc = EXIT_OK;
	if (fflush(stdout)) {
		fprintf(stderr, "memsim run: cannot write the results to stdout\n");
		rc = EXIT_FAIL;
	}
	if (stored == 1 && !json)
		fprintf(stderr, "memsim run: run %s already stored in %s (identical results)\n",
			r.run_id, db);
	if (stored < 0) {
		fprintf(stderr, "memsim run: %s (the results above are not stored)\n", store_err);
		rc = EXIT_FAIL;
	}
	run_free(&r);
	return rc;
}
