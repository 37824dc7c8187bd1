/* SPDX-License-Identifier: MIT */
/*
 * sim/cmd_compare.c — `memsim compare A B`: per metric, baseline, new, delta and delta %
 * (like `perf diff`), between two runs or between the matching points of two sweeps.
 *
 * Two sweeps are matched point by point on the configuration: the policy and every
 * parameter that varies within either sweep (its axes).  Parameters that are constant
 * within each sweep are the things being compared (a fixed --set, another profile) and are
 * not matched on.  A point's value is the mean over its repetitions.
 */
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "metrics.h"
#include "store.h"
#include "util.h"
#include "wide.h"

static const char compare_usage[] =
	"usage: memsim compare A B [--db FILE] [--runs | --sweeps] [--metric NAME]... [--json]\n"
	"\n"
	"Compares B (new) against A (baseline), metric by metric: baseline, new, delta = new -\n"
	"baseline, and delta % = 100 x delta / |baseline| (empty when the baseline is 0).\n"
	"A and B are two runs or two sweeps, each a full id, a unique prefix of at least 4\n"
	"characters, or 'last' (as in memsim db).  Without --runs or --sweeps, A is tried as a\n"
	"run id, then as a sweep id ('last' is the last run); B must be of the same kind.\n"
	"Sweeps are compared point by point: points are matched on the policy and on every\n"
	"parameter that varies within either sweep; a point's value is the mean of its\n"
	"repetitions; points only one sweep has are listed, not compared.\n"
	"  --db FILE        results database (default $MEMSIM_DB, else memsim.db)\n"
	"  --runs, --sweeps say what A and B are\n"
	"  --metric NAME    compare only this metric (repeatable)\n"
	"  --json           one JSON object instead of the table\n"
	"examples:\n"
	"  memsim compare 64d9 ddf2                      two runs\n"
	"  memsim compare --sweeps 8c4f last --metric destroy_ns\n"
	"Exit status: 0 ok, 1 failure or two sweeps without a common point, 2 bad usage or an\n"
	"unknown or ambiguous id.\n";

struct cmp_opts {
	const char *db;
	int kind;                   /* 0 guess, 1 runs, 2 sweeps */
	const char **metric;
	size_t nmetric;
	bool json;
};

static bool wanted(const struct cmp_opts *o, const char *name)
{
	size_t i;

	if (!o->nmetric)
		return true;
	for (i = 0; i < o->nmetric; i++)
		if (!strcmp(o->metric[i], name))
			return true;
	return false;
}

/* One compared metric.  NAN: absent on that side. */
struct cmp_row {
	const char *metric;
	double base, new;
	size_t nbase, nnew;         /* runs averaged (1 for a run) */
};

static void fmt(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		metrics_format_value(v, buf, len);
	else
		snprintf(buf, len, "%.10g", v);	/* a mean: --json keeps every digit */
}

static double delta_pct(const struct cmp_row *r)
{
	if (isnan(r->base) || isnan(r->new) || r->base == 0)
		return NAN;
	return 100.0 * (r->new - r->base) / fabs(r->base);
}

static void json_num(FILE *out, double v)
{
	char buf[40];

	if (isnan(v) || !isfinite(v)) {
		fputs("null", out);
		return;
	}
	metrics_format_value(v, buf, sizeof(buf));
	fputs(buf, out);
}

static void print_rows(FILE *out, const struct cmp_row *rows, size_t n, bool json,
		       const char *indent)
{
	size_t i, w = 6;
	char b[40], nw[40], d[40], p[40];

	if (json) {
		fputc('[', out);
		for (i = 0; i < n; i++) {
			fputs(i ? ",{\"metric\":" : "{\"metric\":", out);
			json_write_string(out, rows[i].metric);
			fputs(",\"baseline\":", out);
			json_num(out, rows[i].base);
			fputs(",\"new\":", out);
			json_num(out, rows[i].new);
			fputs(",\"delta\":", out);
			json_num(out, rows[i].new - rows[i].base);
			fputs(",\"delta_pct\":", out);
			json_num(out, delta_pct(&rows[i]));
			fputc('}', out);
		}
		fputc(']', out);
		return;
	}
	for (i = 0; i < n; i++)
		if (strlen(rows[i].metric) > w)
			w = strlen(rows[i].metric);
	fprintf(out, "%s%-*s  %16s  %16s  %16s  %9s\n", indent, (int)w, "metric", "baseline",
		"new", "delta", "delta %");
	for (i = 0; i < n; i++) {
		double pct = delta_pct(&rows[i]);

		fmt(rows[i].base, b, sizeof(b));
		fmt(rows[i].new, nw, sizeof(nw));
		fmt(rows[i].new - rows[i].base, d, sizeof(d));
		if (isnan(pct))
			snprintf(p, sizeof(p), "-");
		else
			snprintf(p, sizeof(p), "%+.2f%%", pct);
		fprintf(out, "%s%-*s  %16s  %16s  %16s  %9s\n", indent, (int)w, rows[i].metric, b,
			nw, d, p);
	}
}

static long metric_col(const struct wide *w, const char *name)
{
	size_t j;

	for (j = 0; j < w->ncols; j++)
		if (w->col[j].is_metric && !strcmp(w->col[j].key, name))
			return (long)j;
	return -1;
}

/* Mean of metric column c over the runs idx[0..n) of w; NAN if none has it. */
static double mean_of(const struct wide *w, long c, const size_t *idx, size_t n, size_t *used)
{
	double sum = 0;
	size_t i;

	*used = 0;
	if (c < 0)
		return NAN;
	for (i = 0; i < n; i++) {
		const char *v = wide_cell(w, idx[i], (size_t)c);

		if (v) {
			sum += strtod(v, NULL);
			(*used)++;
		}
	}
	return *used ? sum / (double)*used : NAN;
}

/* The metric names of a and b: a's in its order, then those only b has.  */
static size_t metric_names(const struct wide *a, const struct wide *b,
			   const struct cmp_opts *o, const char **names)
{
	size_t n = 0, j;

	for (j = 0; j < a->ncols; j++)
		if (a->col[j].is_metric && wanted(o, a->col[j].key))
			names[n++] = a->col[j].key;
	for (j = 0; j < b->ncols; j++)
		if (b->col[j].is_metric && wanted(o, b->col[j].key) && metric_col(a, b->col[j].key) < 0)
			names[n++] = b->col[j].key;
	return n;
}

static void json_run(FILE *out, const struct wide_run *r)
{
	fputs("{\"run_id\":", out);
	json_write_string(out, r->run_id);
	fputs(",\"model\":", out);
	json_write_string(out, r->model);
	fputs(",\"policy\":", out);
	json_write_string(out, r->policy);
	fputs(",\"trace\":", out);
	json_write_string(out, r->trace);
	fprintf(out, ",\"seed\":%llu}", (unsigned long long)r->seed);
}

static int compare_runs(const struct wide *a, const struct wide *b, const struct cmp_opts *o)
{
	const char **names = calloc(a->ncols + b->ncols + 1, sizeof(*names));
	struct cmp_row *rows = calloc(a->ncols + b->ncols + 1, sizeof(*rows));
	size_t n, i, zero = 0, used;

	if (!names || !rows) {
		free(names);
		free(rows);
		fputs("memsim: compare: out of memory\n", stderr);
		return 1;
	}
	n = metric_names(a, b, o, names);
	for (i = 0; i < n; i++) {
		rows[i].metric = names[i];
		rows[i].base = mean_of(a, metric_col(a, names[i]), &zero, 1, &used);
		rows[i].new = mean_of(b, metric_col(b, names[i]), &zero, 1, &used);
	}
	if (o->json) {
		fputs("{\"baseline\":", stdout);
		json_run(stdout, &a->run[0]);
		fputs(",\"new\":", stdout);
		json_run(stdout, &b->run[0]);
		fputs(",\"metrics\":", stdout);
		print_rows(stdout, rows, n, true, "");
		fputs("}\n", stdout);
	} else {
		const struct wide_run *r = &a->run[0], *s = &b->run[0];

		printf("baseline  run %s  %s %s  %s  seed %llu\n", r->run_id, r->model, r->policy,
		       r->trace, (unsigned long long)r->seed);
		printf("new       run %s  %s %s  %s  seed %llu\n", s->run_id, s->model, s->policy,
		       s->trace, (unsigned long long)s->seed);
		print_rows(stdout, rows, n, false, "");
	}
	free(names);
	free(rows);
	return 0;
}

/* ---- sweeps ---------------------------------------------------------------------------- */

struct point {
	char *key;                  /* "policy=hash heavy=16", the matching configuration */
	size_t *idx, n;             /* runs of the point */
};

static long param_col(const struct wide *w, const char *key)
{
	size_t j;

	for (j = 0; j < w->ncols; j++)
		if (!w->col[j].is_metric && !strcmp(w->col[j].key, key))
			return (long)j;
	return -1;
}

/* true if parameter key takes more than one value (absent counts as one) across w's runs. */
static bool varies(const struct wide *w, const char *key)
{
	long c = param_col(w, key);
	const char *first;
	size_t i;

	if (c < 0 || !w->nruns)
		return false;
	first = wide_cell(w, 0, (size_t)c);
	for (i = 1; i < w->nruns; i++) {
		const char *v = wide_cell(w, i, (size_t)c);

		if ((!v) != (!first) || (v && strcmp(v, first)))
			return true;
	}
	return false;
}

static int cmp_points(const void *x, const void *y)
{
	return strverscmp(((const struct point *)x)->key, ((const struct point *)y)->key);
}

/* Groups w's runs into points by their values of the axes; sorted in natural order. */
static struct point *group(const struct wide *w, const char **axes, size_t naxes, size_t *np)
{
	struct point *p = calloc(w->nruns + 1, sizeof(*p));
	size_t i, j, k, n = 0;

	if (!p)
		return NULL;
	for (i = 0; i < w->nruns; i++) {
		char key[4096];
		size_t len = (size_t)snprintf(key, sizeof(key), "policy=%s", w->run[i].policy);

		for (k = 0; k < naxes && len < sizeof(key); k++) {
			long c = param_col(w, axes[k]);
			const char *v = c < 0 ? NULL : wide_cell(w, i, (size_t)c);

			len += (size_t)snprintf(key + len, sizeof(key) - len, " %s=%s", axes[k],
						v ? v : "-");
		}
		for (j = 0; j < n && strcmp(p[j].key, key); j++)
			;
		if (j == n) {
			if (!(p[n].key = strdup(key)) || !(p[n].idx = calloc(w->nruns, sizeof(size_t))))
				goto oom;
			n++;
		}
		p[j].idx[p[j].n++] = i;
	}
	qsort(p, n, sizeof(*p), cmp_points);
	*np = n;
	return p;
oom:
	for (j = 0; j <= n; j++) {
		free(p[j].key);
		free(p[j].idx);
	}
	free(p);
	return NULL;
}

static void free_points(struct point *p, size_t n)
{
	size_t i;

	for (i = 0; p && i < n; i++) {
		free(p[i].key);
		free(p[i].idx);
	}
	free(p);
}

static int compare_sweeps(const char *ida, const char *idb, const struct wide *a,
			  const struct wide *b, const struct cmp_opts *o)
{
	const char **axes = calloc(a->ncols + b->ncols + 1, sizeof(*axes));
	const char **names = calloc(a->ncols + b->ncols + 1, sizeof(*names));
	struct cmp_row *rows = calloc(a->ncols + b->ncols + 1, sizeof(*rows));
	struct point *pa = NULL, *pb = NULL;
	size_t naxes = 0, nnames, npa = 0, npb = 0, i, j, k, matched = 0, used;
	int ret = 1;

	if (!axes || !names || !rows)
		goto oom;
	for (j = 0; j < a->ncols; j++)
		if (!a->col[j].is_metric && (varies(a, a->col[j].key) || varies(b, a->col[j].key)))
			axes[naxes++] = a->col[j].key;
	for (j = 0; j < b->ncols; j++)
		if (!b->col[j].is_metric && param_col(a, b->col[j].key) < 0 && varies(b, b->col[j].key))
			axes[naxes++] = b->col[j].key;
	nnames = metric_names(a, b, o, names);
	if (!(pa = group(a, axes, naxes, &npa)) || !(pb = group(b, axes, naxes, &npb)))
		goto oom;

	if (o->json) {
		fputs("{\"baseline\":", stdout);
		json_write_string(stdout, ida);
		fputs(",\"new\":", stdout);
		json_write_string(stdout, idb);
		fputs(",\"matched_on\":[\"policy\"", stdout);
		for (k = 0; k < naxes; k++) {
			fputc(',', stdout);
			json_write_string(stdout, axes[k]);
		}
		fputs("],\"points\":[", stdout);
	} else {
		printf("baseline  sweep %s  %zu runs, %zu points\n", ida, a->nruns, npa);
		printf("new       sweep %s  %zu runs, %zu points\n", idb, b->nruns, npb);
		printf("points matched on policy");
		for (k = 0; k < naxes; k++)
			printf(", %s", axes[k]);
		printf("; values are means over each point's repetitions\n");
	}
	for (i = 0; i < npa; i++) {
		for (j = 0; j < npb && strcmp(pa[i].key, pb[j].key); j++)
			;
		if (j == npb)
			continue;
		for (k = 0; k < nnames; k++) {
			rows[k].metric = names[k];
			rows[k].base = mean_of(a, metric_col(a, names[k]), pa[i].idx, pa[i].n, &used);
			rows[k].new = mean_of(b, metric_col(b, names[k]), pb[j].idx, pb[j].n, &used);
		}
		if (o->json) {
			fputs(matched ? ",{\"point\":" : "{\"point\":", stdout);
			json_write_string(stdout, pa[i].key);
			printf(",\"baseline_runs\":%zu,\"new_runs\":%zu,\"metrics\":", pa[i].n, pb[j].n);
			print_rows(stdout, rows, nnames, true, "");
			fputc('}', stdout);
		} else {
			printf("\npoint %s  (%zu baseline runs, %zu new runs)\n", pa[i].key, pa[i].n,
			       pb[j].n);
			print_rows(stdout, rows, nnames, false, "  ");
		}
		matched++;
	}
	if (o->json)
		fputs("],\"only_baseline\":[", stdout);
	for (i = 0, k = 0; i < npa; i++) {
		for (j = 0; j < npb && strcmp(pa[i].key, pb[j].key); j++)
			;
		if (j < npb)
			continue;
		if (o->json) {
			if (k++)
				fputc(',', stdout);
			json_write_string(stdout, pa[i].key);
		} else {
			printf("%sonly in baseline: %s\n", k++ ? "" : "\n", pa[i].key);
		}
	}
	if (o->json)
		fputs("],\"only_new\":[", stdout);
	for (j = 0, k = 0; j < npb; j++) {
		for (i = 0; i < npa && strcmp(pa[i].key, pb[j].key); i++)
			;
		if (i < npa)
			continue;
		if (o->json) {
			if (k++)
				fputc(',', stdout);
			json_write_string(stdout, pb[j].key);
		} else {
			printf("%sonly in new: %s\n", k++ ? "" : "\n", pb[j].key);
		}
	}
	if (o->json)
		fputs("]}\n", stdout);
	if (!matched) {
		fprintf(stderr, "memsim: compare: sweeps %s and %s have no point in common\n", ida,
			idb);
		ret = 1;
	} else {
		ret = 0;
	}
	goto done;
oom:
	fputs("memsim: compare: out of memory\n", stderr);
done:
	free_points(pa, npa);
	free_points(pb, npb);
	free(axes);
	free(names);
	free(rows);
	return ret;
}

/* Resolves arg as kind (1 run, 2 sweep); with kind 0, as a run, else as a sweep. */
static int resolve(struct store *st, const char *arg, int *kind, char id[STORE_ID_MAX])
{
	char err[1024], err2[1024];
	int rc;

	if (*kind != 2) {
		rc = store_resolve_id(st, "run", *kind ? "run" : "A", arg, id, STORE_ID_MAX, err,
				      sizeof(err));
		if (!rc) {
			*kind = 1;
			return 0;
		}
		if (*kind == 1 || rc == 1) {
			fprintf(stderr, "memsim: compare: %s\n", err);
			return rc;
		}
	}
	rc = store_resolve_id(st, "sweep", "sweep", arg, id, STORE_ID_MAX, err2, sizeof(err2));
	if (!rc) {
		*kind = 2;
		return 0;
	}
	if (*kind == 2)
		fprintf(stderr, "memsim: compare: %s\n", err2);
	else
		fprintf(stderr, "memsim: compare: %s: neither a run nor a sweep (%s; %s)\n", arg, err,
			err2);
	return rc;
}

int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "runs", no_argument, NULL, 'r' },
		{ "sweeps", no_argument, NULL, 's' },
		{ "metric", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmp_opts o = { 0 };
	const char *env = getenv("MEMSIM_DB");
	char ida[STORE_ID_MAX], idb[STORE_ID_MAX], err[512];
	struct wide a, b;
	struct store *st;
	int c, rc, kind_b;

	o.metric = calloc((size_t)argc + 1, sizeof(*o.metric));
	if (!o.metric) {
		fputs("memsim: compare: out of memory\n", stderr);
		return 1;
	}
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.db = optarg; break;
		case 'r': o.kind = o.kind == 2 ? -1 : 1; break;
		case 's': o.kind = o.kind == 1 ? -1 : 2; break;
		case 'm': o.metric[o.nmetric++] = optarg; break;
		case 'j': o.json = true; break;
		case 'h':
			fputs(compare_usage, stdout);
			free(o.metric);
			return 0;
		default:
			fprintf(stderr, "memsim: compare: %s %s (see memsim compare --help)\n",
				argv[optind - 1], c == ':' ? "needs a value" : "is not an option");
			free(o.metric);
			return 2;
		}
	}
	if (o.kind < 0 || argc - optind != 2) {
		fprintf(stderr, "memsim: compare: %s\n%s", o.kind < 0 ?
			"--runs and --sweeps exclude each other" : "give two ids, A and B",
			compare_usage);
		free(o.metric);
		return 2;
	}
	if (!o.db)
		o.db = env && *env ? env : "memsim.db";
	if (!(st = store_open_readonly(o.db, err, sizeof(err)))) {
		fprintf(stderr, "memsim: %s\n", err);
		free(o.metric);
		return 2;
	}
	rc = resolve(st, argv[optind], &o.kind, ida);
	kind_b = o.kind;
	if (!rc)
		rc = resolve(st, argv[optind + 1], &kind_b, idb);
	if (rc)
		goto out;
	if (wide_load(st, o.kind == 2 ? ida : NULL, o.kind == 1 ? ida : NULL, &a, err,
		      sizeof(err))) {
		fprintf(stderr, "memsim: compare: %s\n", err);
		rc = 1;
		goto out;
	}
	if (wide_load(st, o.kind == 2 ? idb : NULL, o.kind == 1 ? idb : NULL, &b, err,
		      sizeof(err))) {
		fprintf(stderr, "memsim: compare: %s\n", err);
		wide_free(&a);
		rc = 1;
		goto out;
	}
	if (o.kind == 1)
		rc = compare_runs(&a, &b, &o);
	else
		rc = compare_sweeps(ida, idb, &a, &b, &o);
	wide_free(&a);
	wide_free(&b);
	if (fflush(stdout) && !rc) {
		fputs("memsim: compare: cannot write the output\n", stderr);
		rc = 1;
	}
out:
	store_close(st);
	free(o.metric);
	return rc;
}
