/* SPDX-License-Identifier: MIT */
/*
 * sim/cmd_plot.c — `memsim plot KIND`: pictures from the results database (docs/plots.md).
 *
 *   selection    temp.sel: the run ids of --sweep (id, prefix or "last") matching every --where
 *   query        analysis/plot-KIND.sql over temp.sel, with :metric :x :y :by :series bound
 *   arithmetic   here: means and 95 % confidence intervals (GSL), grids, CDFs, Pareto fronts,
 *                units (ns -> ms, bytes -> MiB) chosen from the metric's name
 *   drawing      a prelude of gnuplot variables + analysis/KIND.gp, run by gnuplot
 *
 * The database is opened read-only; the selection lives in SQLite's temp schema.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <sqlite3.h>

#include "cmds.h"
#include "driver.h"
#include "gnuplot.h"
#include "param.h"
#include "plot.h"
#include "run.h"
#include "store.h"
#include "util.h"
#include "where.h"

#define MAX_SERIES_RUNS 12
#define TITLE_WIDTH 86      /* characters per title line at the default size */

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "memsim plot: out of memory\n");
		exit(EXIT_FAIL);
	}
	return q;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		fprintf(stderr, "memsim plot: out of memory\n");
		exit(EXIT_FAIL);
	}
	return d;
}

/* A growing list of strings. */
struct strv {
	char **v;
	size_t n, cap;
};

static size_t strv_push(struct strv *s, const char *x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n] = xstrdup(x);
	return s->n++;
}

static long strv_find(const struct strv *s, const char *x)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x))
			return (long)i;
	return -1;
}

static void strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

struct dvec {
	double *v;
	size_t n, cap;
};

static void dvec_push(struct dvec *d, double x)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	d->v[d->n++] = x;
}

static bool is_number(const char *s, double *v)
{
	char *end;
	uint64_t u;

	if (!s || !*s)
		return false;
	errno = 0;
	*v = strtod(s, &end);
	if (!*end && !errno && end != s)
		return true;
	if (!param_parse_u64(s, &u)) {   /* 4Ki, 10ms */
		*v = (double)u;
		return true;
	}
	return false;
}

/* ---- analysis files ------------------------------------------------------------------- */

static bool has_file(const char *dir, const char *name)
{
	char p[PATH_MAX + 256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, R_OK) == 0;
}

const char *plot_analysis_dir(void)
{
	static char dir[PATH_MAX];
	static const char *const rel[] = { "../analysis", "../share/memsim/analysis",
					   "../../analysis" };
	const char *e = getenv("MEMSIM_ANALYSIS");
	char exe[PATH_MAX - 64], *slash;
	ssize_t n;
	size_t i;

	if (e && *e)
		return e;
	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
				char canon[PATH_MAX];

				snprintf(dir, sizeof(dir), "%s/%s", exe, rel[i]);
				if (has_file(dir, "common.gp")) {
					if (realpath(dir, canon) && strlen(canon) < sizeof(dir))
						strcpy(dir, canon);
					return dir;
				}
			}
		}
	}
	snprintf(dir, sizeof(dir), "analysis");
	return dir;
}

char *plot_sql(const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	FILE *f;
	char *buf = NULL;
	long len;

	snprintf(path, sizeof(path), "%s/%s", plot_analysis_dir(), name);
	f = fopen(path, "r");
	if (!f) {
		seterr(err, errlen, "%s: cannot read: %s (set MEMSIM_ANALYSIS to memsim's analysis/ "
		       "directory)", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = xrealloc(NULL, (size_t)len + 1);
		if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		} else {
			buf[len] = 0;
		}
	}
	fclose(f);
	if (!buf)
		seterr(err, errlen, "%s: read error", path);
	return buf;
}

/* Values for the named parameters of the analysis queries. */
struct binds {
	const char *metric, *x, *y, *by, *series, *sweep;
};

static void bind_named(sqlite3_stmt *s, const struct binds *b)
{
	const struct {
		const char *name, *val;
	} t[] = {
		{ ":metric", b->metric }, { ":x", b->x }, { ":y", b->y }, { ":by", b->by },
		{ ":series", b->series }, { ":sweep", b->sweep },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int k = sqlite3_bind_parameter_index(s, t[i].name);

		if (k > 0 && t[i].val)
			sqlite3_bind_text(s, k, t[i].val, -1, SQLITE_TRANSIENT);
	}
}

/* Prepares analysis/NAME with the named parameters bound.  NULL + message. */
static sqlite3_stmt *query_file(sqlite3 *db, const char *name, const struct binds *b,
				char *err, size_t errlen)
{
	char *sql = plot_sql(name, err, errlen);
	sqlite3_stmt *s = NULL;

	if (!sql)
		return NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL)) {
		seterr(err, errlen, "%s/%s: %s", plot_analysis_dir(), name, sqlite3_errmsg(db));
		s = NULL;
	} else {
		bind_named(s, b);
	}
	free(sql);
	return s;
}

/* First column of every row of analysis/NAME into out. */
static int query_list(sqlite3 *db, const char *name, const struct binds *b, struct strv *out,
		      char *err, size_t errlen)
{
	sqlite3_stmt *s = query_file(db, name, b, err, errlen);
	int rc;

	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		strv_push(out, (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		seterr(err, errlen, "%s: %s", name, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

char *plot_query_one(sqlite3 *db, const char *sql, const char *arg)
{
	sqlite3_stmt *s;
	char *out = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL))
		return NULL;
	if (arg)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		out = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return out;
}

/* ---- selection ------------------------------------------------------------------------ */

static const char *const run_columns[] = {
	"run_id", "sweep_id", "model", "policy", "trace", "trace_digest", "seed", "profile_name",
	"profile_digest", "event_digest", "memsim_version", "status", NULL,
};

struct sel_bind {
	bool num;
	double d;
	const char *t;
};

/* Resolves an id, unique prefix or "last" with the shared resolver (store.h).
 * 0, or -2 (unknown, ambiguous) / -1 with a message. */
static int resolve_id(struct store *st, const char *what, const char *opt, const char *in,
		      char out[17], char *err, size_t errlen)
{
	int rc = store_resolve_id(st, what, opt, in, out, 17, err, errlen);

	return rc == 0 ? 0 : rc == 2 ? -2 : -1;
}

/* The --where conditions of one selection, for memsim_where() (SQL) to compare exactly. */
struct where_sql {
	struct where_cond c[PLOT_MAX_WHERE];
	bool text_only[PLOT_MAX_WHERE];   /* identifiers and names: compared as text */
	bool failed;                      /* a stored value could not be compared */
};

/* memsim_where(value, i, run_id): does value satisfy condition i? */
static void where_sql_fn(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct where_sql *ws = sqlite3_user_data(cx);
	int i = sqlite3_value_int(argv[1]), m;
	const unsigned char *run = sqlite3_value_text(argv[2]);
	char err[256], msg[400];

	(void)argc;
	if (i < 0 || i >= PLOT_MAX_WHERE) {
		sqlite3_result_error(cx, "memsim_where: no such condition", -1);
		return;
	}
	switch (sqlite3_value_type(argv[0])) {
	case SQLITE_NULL:
		m = 0;
		break;
	case SQLITE_INTEGER:
		m = where_match_int(&ws->c[i], sqlite3_value_int64(argv[0]), err, sizeof(err));
		break;
	case SQLITE_FLOAT:
		m = where_match_double(&ws->c[i], sqlite3_value_double(argv[0]), err, sizeof(err));
		break;
	default:
		m = where_match_text(&ws->c[i], (const char *)sqlite3_value_text(argv[0]),
				     ws->text_only[i], err, sizeof(err));
		break;
	}
	if (m < 0) {
		ws->failed = true;
		snprintf(msg, sizeof(msg), "run %s: %s", run ? (const char *)run : "?", err);
		sqlite3_result_error(cx, msg, -1);
		return;
	}
	sqlite3_result_int(cx, m);
}

long plot_select(struct store *st, const char *sweep, const char *const *where,
		 unsigned nwhere, const char *run, char resolved[17], char *err, size_t errlen)
{
	sqlite3 *db = store_sqlite(st);
	struct sel_bind bv[2 * PLOT_MAX_WHERE + 2];
	static struct where_sql ws;
	char *sql = NULL, sid[17] = "", rid[17] = "", *cnt;
	size_t len = 0, nb = 0, k;
	sqlite3_stmt *s;
	unsigned i;
	long n;
	FILE *f;
	int rc;

	if (nwhere > PLOT_MAX_WHERE) {
		seterr(err, errlen, "more than %d --where conditions", PLOT_MAX_WHERE);
		return -2;
	}
	if (sweep && (rc = resolve_id(st, "sweep", "--sweep", sweep, sid, err, errlen)))
		return rc;
	if (run && (rc = resolve_id(st, "run", "--run", run, rid, err, errlen)))
		return rc;
	if (resolved)
		snprintf(resolved, 17, "%s", sid);
	f = open_memstream(&sql, &len);
	if (!f)
		return -1;
	fprintf(f, "INSERT INTO temp.sel SELECT r.run_id FROM runs r WHERE 1");
	if (sweep) {
		fprintf(f, " AND r.sweep_id = ?");
		bv[nb++] = (struct sel_bind){ .t = sid };
	}
	if (run) {
		fprintf(f, " AND r.run_id = ?");
		bv[nb++] = (struct sel_bind){ .t = rid };
	}
	memset(&ws, 0, sizeof(ws));
	for (i = 0; i < nwhere; i++) {
		const char *w = where[i], *col = NULL, *name = ws.c[i].name;
		bool is_metric = false;
		char msg[512];

		if (where_parse(w, &ws.c[i], msg, sizeof(msg))) {
			fclose(f);
			free(sql);
			seterr(err, errlen, "--where '%s': %s", w, msg);
			return -2;
		}
		for (k = 0; run_columns[k]; k++)
			if (!strcmp(run_columns[k], name))
				col = run_columns[k];
		if (!col) {
			char *have = plot_query_one(db, "SELECT 1 FROM params WHERE key = ? LIMIT 1", name);

			if (!have) {
				have = plot_query_one(db, "SELECT 1 FROM metrics WHERE name = ? LIMIT 1", name);
				is_metric = have != NULL;
			}
			if (!have) {
				fclose(f);
				free(sql);
				seterr(err, errlen, "--where %s: no run has a parameter or metric '%s' "
				       "(nor is it a run column such as policy, model, trace, seed)", w,
				       name);
				return -2;
			}
			free(have);
			bv[nb++] = (struct sel_bind){ .t = name };
		}
		/* run ids, digests and names are text even when all digits; seed is a number */
		ws.text_only[i] = col && strcmp(col, "seed");
		if (ws.text_only[i] && ws.c[i].op >= WHERE_LT) {
			fclose(f);
			free(sql);
			seterr(err, errlen, "--where '%s': %s is text: it takes = or != only", w, col);
			return -2;
		}
		if (col)	/* col is one of run_columns[]: safe in the SQL text */
			fprintf(f, " AND memsim_where(r.%s, %u, r.run_id)", col, i);
		else if (is_metric)
			fprintf(f, " AND EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = r.run_id "
				"AND m.name = ? AND memsim_where(m.value, %u, r.run_id))", i);
		else
			fprintf(f, " AND EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.run_id "
				"AND p.key = ? AND memsim_where(p.value, %u, r.run_id))", i);
	}
	if (fclose(f)) {
		free(sql);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	if (sqlite3_exec(db, "DROP TABLE IF EXISTS temp.sel; "
			 "CREATE TEMP TABLE sel (run_id TEXT PRIMARY KEY)", NULL, NULL, NULL)) {
		seterr(err, errlen, "%s", sqlite3_errmsg(db));
		free(sql);
		return -1;
	}
	if (sqlite3_create_function(db, "memsim_where", 3, SQLITE_UTF8, &ws, where_sql_fn, NULL,
				    NULL)) {
		seterr(err, errlen, "%s", sqlite3_errmsg(db));
		free(sql);
		return -1;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	free(sql);
	if (rc) {
		seterr(err, errlen, "selecting runs: %s", sqlite3_errmsg(db));
		return -1;
	}
	for (k = 0; k < nb; k++) {
		if (bv[k].num)
			sqlite3_bind_double(s, (int)k + 1, bv[k].d);
		else
			sqlite3_bind_text(s, (int)k + 1, bv[k].t, -1, SQLITE_TRANSIENT);
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		/* a stored value --where cannot compare is a usage error, named with its run */
		seterr(err, errlen, ws.failed ? "--where: %s" : "selecting runs: %s", sqlite3_errmsg(db));
		sqlite3_finalize(s);
		return ws.failed ? -2 : -1;
	}
	sqlite3_finalize(s);
	cnt = plot_query_one(db, "SELECT count(*) FROM temp.sel", NULL);
	n = cnt ? atol(cnt) : 0;
	free(cnt);
	return n;
}

/* ---- units, labels, statistics --------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

void plot_unit(const char *name, double maxabs, double *div, const char **unit)
{
	*div = 1;
	*unit = "";
	if (ends_with(name, "_ns")) {
		if (maxabs >= 1e9) {
			*div = 1e9;
			*unit = "s";
		} else if (maxabs >= 1e6) {
			*div = 1e6;
			*unit = "ms";
		} else if (maxabs >= 1e3) {
			*div = 1e3;
			*unit = "\xc2\xb5s";	/* µs */
		} else {
			*unit = "ns";
		}
	} else if (ends_with(name, "_bytes") || ends_with(name, "_bytes_peak") ||
		   ends_with(name, "_bytes_end")) {
		if (maxabs >= 1073741824.0) {
			*div = 1073741824.0;
			*unit = "GiB";
		} else if (maxabs >= 1048576.0) {
			*div = 1048576.0;
			*unit = "MiB";
		} else if (maxabs >= 1024.0) {
			*div = 1024.0;
			*unit = "KiB";
		} else {
			*unit = "bytes";
		}
	} else if (ends_with(name, "_pages") || strstr(name, "_pages_") || !strcmp(name, "occupancy") ||
		   !strncmp(name, "pages_", 6)) {
		*unit = "pages";	/* occupancy: the shadow pages a domain holds */
	}
}

/*
 * One colour per policy, the same in every plot and in the report: a policy's colour is
 * fixed by its place in its model's policy list (so the policies of a model never share
 * one), whatever else a selection holds.  A name no model lists gets one by its hash.
 */
static const char *const policy_palette[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};
#define NPALETTE (sizeof(policy_palette) / sizeof(policy_palette[0]))

const char *plot_policy_colour(const char *model, const char *policy)
{
	size_t i, j, pass;
	uint32_t h = 2166136261u;

	for (pass = 0; pass < 2; pass++)	/* pass 0: the run's model; 1: any model */
		for (i = 0; model_drivers[i]; i++) {
			if (!pass && (!model || strcmp(model_drivers[i]->name, model)))
				continue;
			for (j = 0; model_drivers[i]->policies[j]; j++)
				if (!strcmp(model_drivers[i]->policies[j], policy))
					return policy_palette[j % NPALETTE];
		}
	for (; *policy; policy++)
		h = (h ^ (unsigned char)*policy) * 16777619u;
	return policy_palette[h % NPALETTE];
}

/* array var[1..n]: the colour of each block's policy (pol[i]) */
static void gp_colours(FILE *f, const char *var, const char *model, const char *const *pol,
		       size_t n)
{
	size_t i;
	char name[64];

	fprintf(f, "array %s[%zu]\n", var, n ? n : 1);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s[%zu]", var, i + 1);
		gp_str(f, name, plot_policy_colour(model, pol[i]));
	}
}

void plot_label(const char *name, const char *unit, char *buf, size_t len)
{
	static const char *const strip[] = { "_ns", "_bytes", "_pages" };
	size_t i, n = strlen(name), off;

	for (i = 0; i < sizeof(strip) / sizeof(strip[0]); i++) {
		const char *at = strstr(name, strip[i]);

		/* destroy_ns -> destroy; rmap_bytes_peak -> rmap peak */
		if (at && (at[strlen(strip[i])] == 0 || at[strlen(strip[i])] == '_')) {
			off = (size_t)snprintf(buf, len, "%.*s%s", (int)(at - name), name,
					       at + strlen(strip[i]));
			goto words;
		}
	}
	off = (size_t)snprintf(buf, len, "%.*s", (int)n, name);
words:
	for (i = 0; buf[i]; i++)
		if (buf[i] == '_')
			buf[i] = ' ';
	if (unit && *unit && off < len)
		snprintf(buf + strlen(buf), len - strlen(buf), " (%s)", unit);
}

void plot_stats(const double *v, size_t n, double *mean, double *lo, double *hi)
{
	double sd, h;

	*mean = gsl_stats_mean(v, 1, n);
	if (n < 2) {
		*lo = *hi = *mean;
		return;
	}
	sd = gsl_stats_sd_m(v, 1, n, *mean);
	h = gsl_cdf_tdist_Pinv(0.975, (double)(n - 1)) * sd / sqrt((double)n);
	*lo = *mean - h;
	*hi = *mean + h;
	/* a metric that cannot be negative (every sample >= 0) never gets an interval below 0:
	 * the symmetric t interval is clamped there (docs/plots.md) */
	if (*lo < 0 && gsl_stats_min(v, 1, n) >= 0)
		*lo = 0;
}

/* ---- gnuplot (sim/gnuplot.c) ------------------------------------------------------------ */

/* array var[1..n] of strings; tics: they label tics (gnuplot reads those as formats) */
static void gp_array(FILE *f, const char *var, const struct strv *v, bool tics)
{
	size_t i;
	char name[64];

	fprintf(f, "array %s[%zu]\n", var, v->n ? v->n : 1);
	for (i = 0; i < v->n; i++) {
		snprintf(name, sizeof(name), "%s[%zu]", var, i + 1);
		(tics ? gp_tic : gp_str)(f, name, v->v[i]);
	}
}

/* ---- what the selection holds ------------------------------------------------------------ */

struct info {
	char *models, *traces, *profiles;
	long runs, seeds;
	struct strv policies;
	struct strv varying;      /* parameters with several values */
};

static void info_free(struct info *in)
{
	free(in->models);
	free(in->traces);
	free(in->profiles);
	strv_free(&in->policies);
	strv_free(&in->varying);
}

static int info_load(sqlite3 *db, struct info *in, char *err, size_t errlen)
{
	struct binds b = { 0 };
	sqlite3_stmt *s;
	int rc;

	memset(in, 0, sizeof(*in));
	s = query_file(db, "info.sql", &b, err, errlen);
	if (!s)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		in->models = xstrdup((const char *)sqlite3_column_text(s, 0));
		in->traces = xstrdup((const char *)sqlite3_column_text(s, 1));
		in->profiles = xstrdup((const char *)sqlite3_column_text(s, 2));
		in->runs = sqlite3_column_int64(s, 3);
		in->seeds = sqlite3_column_int64(s, 4);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		seterr(err, errlen, "info.sql: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT r.policy FROM temp.sel s JOIN runs r "
			       "ON r.run_id = s.run_id ORDER BY r.policy", -1, &s, NULL) == 0) {
		while (sqlite3_step(s) == SQLITE_ROW)
			strv_push(&in->policies, (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	return query_list(db, "varying.sql", &b, &in->varying, err, errlen);
}

/* "hash heavy=64 light=16": the policy and the varying parameters of one run. */
static void run_label(sqlite3 *db, const char *run_id, const struct info *in, bool seed,
		      char *buf, size_t len)
{
	sqlite3_stmt *s;
	size_t i, off;
	char *pol = plot_query_one(db, "SELECT policy FROM runs WHERE run_id = ?", run_id);

	off = (size_t)snprintf(buf, len, "%s", pol ? pol : "?");
	free(pol);
	if (sqlite3_prepare_v2(db, "SELECT value FROM params WHERE run_id = ? AND key = ?", -1, &s,
			       NULL))
		return;
	for (i = 0; i < in->varying.n && off < len; i++) {
		sqlite3_bind_text(s, 1, run_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, in->varying.v[i], -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW)
			off += (size_t)snprintf(buf + off, len - off, " %s=%s", in->varying.v[i],
						(const char *)sqlite3_column_text(s, 0));
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	if (seed && off < len) {
		char *sd = plot_query_one(db, "SELECT seed FROM runs WHERE run_id = ?", run_id);

		snprintf(buf + off, len - off, " seed=%s", sd ? sd : "?");
		free(sd);
	}
}

/* The second title line: policies, trace, profile. */
static void title_context(const struct info *in, const char *extra, char *buf, size_t len)
{
	size_t i, off;

	off = (size_t)snprintf(buf, len, "%s ", in->policies.n > 1 ? "policies" : "policy");
	for (i = 0; i < in->policies.n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", in->policies.v[i]);
	/* traces by their base names: a path says where a file was, not what it is */
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, "; trace%s ",
					strchr(in->traces, ',') ? "s" : "");
	{
		const char *t = in->traces;

		while (*t && off < len) {
			size_t l = strcspn(t, ",");
			const char *b = t, *q;

			for (q = t; q < t + l; q++)
				if (*q == '/' && q + 1 < t + l)
					b = q + 1;
			off += (size_t)snprintf(buf + off, len - off, "%s%.*s", t == in->traces ? "" :
						", ", (int)(t + l - b), b);
			t += l + (t[l] == ',');
		}
	}
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, "; profile %s", in->profiles);
	if (extra && *extra && off < len)
		snprintf(buf + off, len - off, "; %s", extra);
}

static void make_title(const struct plot_opts *o, const struct info *in, const char *what,
		       const char *extra, char *buf, size_t len)
{
	char ctx[1024];

	if (o->title) {
		snprintf(buf, len, "%s", o->title);
		return;
	}
	title_context(in, extra, ctx, sizeof(ctx));
	snprintf(buf, len, "%s: %s\n%s", in->models, what, ctx);
	/* gnuplot centres the title over the plot and does not wrap it: break long lines
	 * at the "; " between their parts */
	{
		size_t i, line = 0, last = 0;

		for (i = 0; buf[i]; i++, line++) {
			if (buf[i] == '\n') {
				line = 0;
				last = 0;
			} else if (buf[i] == ';' && buf[i + 1] == ' ') {
				last = i + 1;
			}
			if (line >= TITLE_WIDTH && last) {
				buf[last] = '\n';
				line = i - last;
				last = 0;
			}
		}
	}
}

/* Checks that some selected run has metric (or parameter, or series) name. */
static int check_name(sqlite3 *db, const char *table, const char *col, const char *opt,
		      const char *name, char *err, size_t errlen)
{
	char sql[256], *have;

	snprintf(sql, sizeof(sql), "SELECT 1 FROM temp.sel s JOIN %s t ON t.run_id = s.run_id "
		 "WHERE t.%s = ? LIMIT 1", table, col);
	have = plot_query_one(db, sql, name);
	if (have) {
		free(have);
		return 0;
	}
	snprintf(sql, sizeof(sql), "SELECT group_concat(n, ', ') FROM (SELECT DISTINCT t.%s AS n "
		 "FROM temp.sel s JOIN %s t ON t.run_id = s.run_id ORDER BY t.%s LIMIT 40)",
		 col, table, col);
	have = plot_query_one(db, sql, NULL);
	seterr(err, errlen, "%s %s: no selected run has it; %s: %s", opt, name,
	       !strcmp(table, "metrics") ? "metrics" : !strcmp(table, "params") ? "parameters" :
	       "series", have ? have : "none");
	free(have);
	return 2;
}

/* Default metric: the first varying one whose name ends in want (or any varying one). */
static char *default_metric(sqlite3 *db, const char *const *want)
{
	struct binds b = { 0 };
	struct strv v = { 0 };
	char e[16], *out = NULL;
	size_t i;

	if (query_list(db, "metrics-varying.sql", &b, &v, e, sizeof(e)))
		return NULL;
	for (; *want && !out; want++)
		for (i = 0; i < v.n && !out; i++)
			if (ends_with(v.v[i], *want))
				out = xstrdup(v.v[i]);
	if (!out && v.n)
		out = xstrdup(v.v[0]);
	strv_free(&v);
	return out;
}

/* Default axis k (0: x, 1: y): the sweep's k-th list axis, else the k-th varying parameter. */
static char *default_axis(sqlite3 *db, const char *sweep_id, const struct info *in, size_t k)
{
	struct binds b = { .sweep = sweep_id };
	struct strv v = { 0 };
	char e[16], *out = NULL;

	if (sweep_id && *sweep_id && !query_list(db, "sweep-axes.sql", &b, &v, e, sizeof(e)) &&
	    v.n > k)
		out = xstrdup(v.v[k]);
	strv_free(&v);
	if (!out && in->varying.n > k)
		out = xstrdup(in->varying.v[k]);
	return out;
}

static int auto_log(int opt, double lo, double hi, double span)
{
	if (opt >= 0)
		return opt;
	return lo > 0 && hi / lo >= span;
}

/* ---- line ------------------------------------------------------------------------------ */

struct cell {
	size_t line;              /* index in lines */
	char *xtext;
	double x;
	struct dvec v;
	double mean, lo, hi;
};

static int plot_line(sqlite3 *db, const struct plot_opts *o, const struct info *in,
		     const char *sweep_id, char *err, size_t errlen)
{
	struct binds b = { .metric = o->metric, .x = o->x, .by = o->by };
	struct strv lines = { 0 }, xcats = { 0 }, pols = { 0 }, byvs = { 0 };
	size_t *lc_of = NULL, *dt_of = NULL;
	struct cell *cells = NULL;
	size_t nc = 0, cap = 0, i, maxn = 0;
	bool numeric = true;
	double maxabs = 0, div, xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = 0;
	char *metric = NULL, *x = NULL, ylabel[256], xlabel[256], title[2048], what[512];
	char extra[256];
	const char *unit;
	struct gp g;
	sqlite3_stmt *s = NULL;
	int rc;

	(void)sweep_id;
	metric = o->metric ? xstrdup(o->metric) :
		 default_metric(db, (const char *const[]){ "_ns", NULL });
	x = o->x ? xstrdup(o->x) : default_axis(db, sweep_id, in, 0);
	if (!metric || !x) {
		seterr(err, errlen, "%s", !metric ? "--metric: no metric varies in the selection; "
		       "name one with --metric" : "--x: no parameter varies in the selection; name "
		       "one with --x");
		rc = 2;
		goto out;
	}
	if ((rc = check_name(db, "metrics", "name", "--metric", metric, err, errlen)) ||
	    (rc = check_name(db, "params", "key", "--x", x, err, errlen)) ||
	    (o->by && (rc = check_name(db, "params", "key", "--by", o->by, err, errlen))))
		goto out;
	b.metric = metric;
	b.x = x;

	/* averaging over a parameter that is neither x nor by mixes configurations */
	if (!o->quiet) {
		s = query_file(db, "plot-mixed.sql", &b, err, errlen);
		if (s && sqlite3_step(s) == SQLITE_ROW)
			fprintf(stderr, "memsim plot: warning: %s takes several values at one %s: the "
				"means mix them (narrow with --where %s=VALUE or split with --by %s)\n",
				sqlite3_column_text(s, 0), x, sqlite3_column_text(s, 0),
				sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}

	s = query_file(db, "plot-line.sql", &b, err, errlen);
	if (!s) {
		rc = 1;
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(s, 0);
		const char *xt = (const char *)sqlite3_column_text(s, 1);
		long li = strv_find(&lines, line);
		struct cell *c = nc ? &cells[nc - 1] : NULL;
		double xv;

		if (li < 0) {
			const char *pv = (const char *)sqlite3_column_text(s, 3);
			const char *bv = sqlite3_column_type(s, 4) == SQLITE_NULL ? "" :
					 (const char *)sqlite3_column_text(s, 4);
			long pi = strv_find(&pols, pv), bi = strv_find(&byvs, bv);

			li = (long)strv_push(&lines, line);
			lc_of = xrealloc(lc_of, lines.n * sizeof(*lc_of));
			dt_of = xrealloc(dt_of, lines.n * sizeof(*dt_of));
			lc_of[li] = 1 + (size_t)(pi < 0 ? (long)strv_push(&pols, pv) : pi);
			dt_of[li] = 1 + (size_t)(bi < 0 ? (long)strv_push(&byvs, bv) : bi);
		}
		if (!c || c->line != (size_t)li || strcmp(c->xtext, xt)) {
			if (nc == cap) {
				cap = cap ? 2 * cap : 64;
				cells = xrealloc(cells, cap * sizeof(*cells));
			}
			c = &cells[nc++];
			memset(c, 0, sizeof(*c));
			c->line = (size_t)li;
			c->xtext = xstrdup(xt);
			if (is_number(xt, &xv))
				c->x = xv;
			else
				numeric = false;
		}
		dvec_push(&c->v, sqlite3_column_double(s, 2));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		seterr(err, errlen, "plot-line.sql: %s", sqlite3_errmsg(db));
		rc = 1;
		goto out;
	}
	if (!nc) {
		seterr(err, errlen, "no selected run has both parameter %s and metric %s", x, metric);
		rc = 1;
		goto out;
	}
	for (i = 0; i < nc; i++) {
		struct cell *c = &cells[i];

		plot_stats(c->v.v, c->v.n, &c->mean, &c->lo, &c->hi);
		if (fabs(c->lo) > maxabs)
			maxabs = fabs(c->lo);
		if (fabs(c->hi) > maxabs)
			maxabs = fabs(c->hi);
		if (c->v.n > maxn)
			maxn = c->v.n;
		if (!numeric) {
			long k = strv_find(&xcats, c->xtext);

			c->x = (double)(k < 0 ? (long)strv_push(&xcats, c->xtext) : k);
		}
		if (c->x < xmin)
			xmin = c->x;
		if (c->x > xmax)
			xmax = c->x;
		if (c->mean < ymin)
			ymin = c->mean;
		if (c->mean > ymax)
			ymax = c->mean;
	}
	plot_unit(metric, maxabs, &div, &unit);
	plot_label(metric, unit, ylabel, sizeof(ylabel));
	{
		double xd;
		const char *xu;

		plot_unit(x, fabs(xmax), &xd, &xu);
		plot_label(x, xu, xlabel, sizeof(xlabel));
		if (numeric && xd != 1)
			for (i = 0; i < nc; i++)
				cells[i].x /= xd;
		if (numeric) {
			xmin /= xd;
			xmax /= xd;
		}
	}
	if ((rc = gp_begin(&g, o->out, o->data, o->width, o->height, err, errlen)))
		goto out;
	{
		int ly = auto_log(o->logy, ymin, ymax, 1000);

		fprintf(g.pre, "logx = %d\nlogy = %d\n", numeric ? auto_log(o->logx, xmin, xmax, 16) :
			0, ly);
		fprintf(g.dat, "# memsim plot line: %s against %s; x mean ci95_low ci95_high n "
			"(y in %s)\n", metric, x, *unit ? unit : "units");
		for (i = 0; i < nc; i++) {
			struct cell *c = &cells[i];
			double lo = c->lo / div;

			if (i && c->line != cells[i - 1].line)
				fprintf(g.dat, "\n\n");
			if (ly && lo <= 0)	/* a log axis cannot show a band through zero */
				lo = c->mean / div / 10;
			fprintf(g.dat, "%.10g %.10g %.10g %.10g %zu\n", c->x, c->mean / div, lo,
				c->hi / div, c->v.n);
		}
	}
	fprintf(g.pre, "n = %zu\n", lines.n);
	gp_array(g.pre, "names", &lines, false);
	fprintf(g.pre, "array lc_of[%zu]\narray dt_of[%zu]\n", lines.n, lines.n);
	for (i = 0; i < lines.n; i++)
		fprintf(g.pre, "lc_of[%zu] = %zu\ndt_of[%zu] = %zu\n", i + 1, lc_of[i], i + 1,
			dt_of[i]);
	{
		const char **lp = xrealloc(NULL, (lines.n ? lines.n : 1) * sizeof(*lp));

		for (i = 0; i < lines.n; i++)
			lp[i] = pols.v[lc_of[i] - 1];
		gp_colours(g.pre, "pc", in->models, lp, lines.n);
		free(lp);
	}
	fprintf(g.pre, "nx = %zu\n", numeric ? 0 : xcats.n);
	if (!numeric)
		gp_array(g.pre, "xl", &xcats, true);
	snprintf(what, sizeof(what), "%s vs %s", ylabel, x);
	if (maxn > 1)
		snprintf(extra, sizeof(extra), "mean and 95%% CI of up to %zu runs", maxn);
	else
		snprintf(extra, sizeof(extra), "one run per point");
	make_title(o, in, what, extra, title, sizeof(title));
	gp_str(g.pre, "plottitle", title);
	gp_str(g.pre, "xlabel", xlabel);
	gp_str(g.pre, "ylabel", ylabel);
	rc = gp_run(&g, "line.gp", o->quiet, err, errlen);
	gp_cleanup(&g);
out:
	for (i = 0; i < nc; i++) {
		free(cells[i].xtext);
		free(cells[i].v.v);
	}
	free(cells);
	strv_free(&lines);
	strv_free(&xcats);
	strv_free(&pols);
	strv_free(&byvs);
	free(lc_of);
	free(dt_of);
	free(metric);
	free(x);
	return rc;
}

/* ---- heatmap -------------------------------------------------------------------------- */

/* Sorts strings numerically when they all are numbers, else as text. */
static bool all_numeric;

static int cmp_axis(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	double dx, dy;

	if (all_numeric && is_number(x, &dx) && is_number(y, &dy))
		return dx < dy ? -1 : dx > dy;
	return strcmp(x, y);
}

static void sort_axis(struct strv *v)
{
	size_t i;
	double d;

	all_numeric = true;
	for (i = 0; i < v->n; i++)
		all_numeric &= is_number(v->v[i], &d);
	qsort(v->v, v->n, sizeof(*v->v), cmp_axis);
}

static int plot_heatmap(sqlite3 *db, const struct plot_opts *o, const struct info *in,
			const char *sweep_id, char *err, size_t errlen)
{
	struct binds b = { 0 };
	struct strv xs = { 0 }, ys = { 0 }, pol = { 0 };
	double *sum = NULL, *cnt = NULL, zmin = INFINITY, zmax = -INFINITY, div;
	char *metric = NULL, *x = NULL, *y = NULL, xl[256], yl[256], zl[256], title[2048];
	char what[512], extra[128];
	const char *unit;
	sqlite3_stmt *s = NULL;
	size_t i, j, p, nx, ny, np;
	struct plot_opts oo = *o;
	struct gp g;
	int rc, pass;

	metric = o->metric ? xstrdup(o->metric) :
		 default_metric(db, (const char *const[]){ "_ns", NULL });
	x = o->x ? xstrdup(o->x) : default_axis(db, sweep_id, in, 0);
	y = o->y ? xstrdup(o->y) : default_axis(db, sweep_id, in, 1);
	if (!metric || !x || !y) {
		seterr(err, errlen, "%s", !metric ? "--metric: no metric varies; name one" :
		       "--x/--y: fewer than two parameters vary; name them with --x and --y");
		rc = 2;
		goto out;
	}
	if ((rc = check_name(db, "metrics", "name", "--metric", metric, err, errlen)) ||
	    (rc = check_name(db, "params", "key", "--x", x, err, errlen)) ||
	    (rc = check_name(db, "params", "key", "--y", y, err, errlen)))
		goto out;
	b.metric = metric;
	b.x = x;
	b.y = y;
	/* two passes: the axes, then the cell sums */
	for (pass = 0; pass < 2; pass++) {
		s = query_file(db, "plot-heatmap.sql", &b, err, errlen);
		if (!s) {
			rc = 1;
			goto out;
		}
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *pv = (const char *)sqlite3_column_text(s, 0);
			const char *xv = (const char *)sqlite3_column_text(s, 1);
			const char *yv = (const char *)sqlite3_column_text(s, 2);

			if (!pass) {
				if (strv_find(&pol, pv) < 0)
					strv_push(&pol, pv);
				if (strv_find(&xs, xv) < 0)
					strv_push(&xs, xv);
				if (strv_find(&ys, yv) < 0)
					strv_push(&ys, yv);
				continue;
			}
			i = (size_t)strv_find(&xs, xv);
			j = (size_t)strv_find(&ys, yv);
			p = (size_t)strv_find(&pol, pv);
			sum[(p * ys.n + j) * xs.n + i] += sqlite3_column_double(s, 3);
			cnt[(p * ys.n + j) * xs.n + i] += 1;
		}
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			seterr(err, errlen, "plot-heatmap.sql: %s", sqlite3_errmsg(db));
			rc = 1;
			goto out;
		}
		if (!pass) {
			if (!xs.n) {
				seterr(err, errlen, "no selected run has parameters %s and %s and "
				       "metric %s", x, y, metric);
				rc = 1;
				goto out;
			}
			sort_axis(&xs);
			sort_axis(&ys);
			sum = calloc(pol.n * xs.n * ys.n, sizeof(*sum));
			cnt = calloc(pol.n * xs.n * ys.n, sizeof(*cnt));
			if (!sum || !cnt) {
				seterr(err, errlen, "out of memory");
				rc = 1;
				goto out;
			}
		}
	}
	nx = xs.n;
	ny = ys.n;
	np = pol.n;
	for (i = 0; i < np * nx * ny; i++) {
		if (!cnt[i])
			continue;
		sum[i] /= cnt[i];
		if (sum[i] < zmin)
			zmin = sum[i];
		if (sum[i] > zmax)
			zmax = sum[i];
	}
	plot_unit(metric, fmax(fabs(zmin), fabs(zmax)), &div, &unit);
	plot_label(metric, unit, zl, sizeof(zl));
	plot_label(x, NULL, xl, sizeof(xl));
	plot_label(y, NULL, yl, sizeof(yl));
	if (!o->width && np > 2)
		oo.width = (unsigned)(340 * np + 120);
	if ((rc = gp_begin(&g, oo.out, oo.data, oo.width, oo.height, err, errlen)))
		goto out;
	fprintf(g.dat, "# memsim plot heatmap: %s over %s (xi) x %s (yi); mean in %s\n", metric,
		x, y, *unit ? unit : "units");
	for (p = 0; p < np; p++) {
		if (p)
			fprintf(g.dat, "\n\n");
		for (j = 0; j < ny; j++) {
			for (i = 0; i < nx; i++) {
				size_t k = (p * ny + j) * nx + i;

				if (cnt[k])
					fprintf(g.dat, "%zu %zu %.10g\n", i, j, sum[k] / div);
				else
					fprintf(g.dat, "%zu %zu NaN\n", i, j);
			}
			fprintf(g.dat, "\n");
		}
	}
	fprintf(g.pre, "n = %zu\nnx = %zu\nny = %zu\nshowlabels = %d\n", np, nx, ny,
		nx * ny <= 144);
	fprintf(g.pre, "zmin = %.10g\nzmax = %.10g\nlogz = %d\n", zmin / div, zmax / div,
		auto_log(o->logy, zmin, zmax, 1000));
	gp_array(g.pre, "names", &pol, false);
	gp_colours(g.pre, "pc", in->models, (const char *const *)pol.v, pol.n);
	gp_array(g.pre, "xl", &xs, true);
	gp_array(g.pre, "yl", &ys, true);
	snprintf(what, sizeof(what), "%s over %s x %s", zl, x, y);
	snprintf(extra, sizeof(extra), "mean over repetitions");
	make_title(o, in, what, extra, title, sizeof(title));
	gp_str(g.pre, "plottitle", title);
	gp_str(g.pre, "xlabel", xl);
	gp_str(g.pre, "ylabel", yl);
	gp_str(g.pre, "zlabel", zl);
	rc = gp_run(&g, "heatmap.gp", oo.quiet, err, errlen);
	gp_cleanup(&g);
out:
	free(sum);
	free(cnt);
	strv_free(&xs);
	strv_free(&ys);
	strv_free(&pol);
	free(metric);
	free(x);
	free(y);
	return rc;
}

/* ---- cdf -------------------------------------------------------------------------------- */

static int plot_cdf(sqlite3 *db, const struct plot_opts *o, const struct info *in,
		    char *err, size_t errlen)
{
	struct binds b = { .series = o->series };
	struct strv lines = { 0 };
	struct dvec *vals = NULL;
	char *metric = NULL, xl[256], title[2048], what[512];
	double maxabs = 0, div, vmin = INFINITY, vmax = -INFINITY;
	const char *unit, *name;
	sqlite3_stmt *s;
	size_t i, j;
	struct gp g;
	int rc;

	if (o->series) {
		if ((rc = check_name(db, "series", "name", "--series", o->series, err, errlen)))
			return rc;
		name = o->series;
	} else {
		metric = o->metric ? xstrdup(o->metric) :
			 default_metric(db, (const char *const[]){ "_p99_ns", "_ns", NULL });
		if (!metric) {
			seterr(err, errlen, "--metric: no metric varies; name one (or --series)");
			return 2;
		}
		if ((rc = check_name(db, "metrics", "name", "--metric", metric, err, errlen))) {
			free(metric);
			return rc;
		}
		b.metric = metric;
		name = metric;
	}
	s = query_file(db, o->series ? "plot-cdf-series.sql" : "plot-cdf-metric.sql", &b, err,
		       errlen);
	if (!s) {
		free(metric);
		return 1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(s, 0);
		long li = strv_find(&lines, line);
		double v = sqlite3_column_double(s, 1);

		if (li < 0) {
			li = (long)strv_push(&lines, line);
			vals = xrealloc(vals, lines.n * sizeof(*vals));
			memset(&vals[li], 0, sizeof(vals[li]));
		}
		dvec_push(&vals[li], v);
		if (fabs(v) > maxabs)
			maxabs = fabs(v);
		if (v < vmin)
			vmin = v;
		if (v > vmax)
			vmax = v;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE || !lines.n) {
		seterr(err, errlen, rc != SQLITE_DONE ? "cdf query: %s" : "no values of %s in the "
		       "selection", rc != SQLITE_DONE ? sqlite3_errmsg(db) : name);
		rc = 1;
		goto out;
	}
	plot_unit(name, maxabs, &div, &unit);
	plot_label(name, unit, xl, sizeof(xl));
	if ((rc = gp_begin(&g, o->out, o->data, o->width, o->height, err, errlen)))
		goto out;
	fprintf(g.pre, "logx = %d\n", auto_log(o->logx, vmin, vmax, 1000));
	fprintf(g.dat, "# memsim plot cdf: %s; value (%s) fraction\n", name, *unit ? unit : "units");
	for (i = 0; i < lines.n; i++) {
		struct dvec *d = &vals[i];

		if (i)
			fprintf(g.dat, "\n\n");
		/* rows come sorted; start the staircase at 0 */
		fprintf(g.dat, "%.10g 0\n", d->v[0] / div);
		for (j = 0; j < d->n; j++)
			fprintf(g.dat, "%.10g %.10g\n", d->v[j] / div, (double)(j + 1) / (double)d->n);
	}
	fprintf(g.pre, "n = %zu\n", lines.n);
	gp_array(g.pre, "names", &lines, false);
	gp_colours(g.pre, "pc", in->models, (const char *const *)lines.v, lines.n);
	snprintf(what, sizeof(what), "distribution of %s %s", xl,
		 o->series ? "samples over the selected runs" : "across runs");
	make_title(o, in, what, NULL, title, sizeof(title));
	gp_str(g.pre, "plottitle", title);
	gp_str(g.pre, "xlabel", xl);
	gp_str(g.pre, "ylabel", o->series ? "fraction of samples <= x" : "fraction of runs <= x");
	rc = gp_run(&g, "cdf.gp", o->quiet, err, errlen);
	gp_cleanup(&g);
out:
	for (i = 0; i < lines.n; i++)
		free(vals[i].v);
	free(vals);
	strv_free(&lines);
	free(metric);
	return rc;
}

/* ---- series ----------------------------------------------------------------------------- */

/* Decimation of one run's series: the minimum and maximum of each pixel column. */
struct column {
	long col;                 /* -1: none yet */
	double tmin, vmin, tmax, vmax;   /* (t, v) of the minimum and of the maximum */
};

static void column_flush(FILE *f, struct column *c, double tdiv, double vdiv)
{
	if (c->col < 0)
		return;
	/* in time order, so a step plot draws the fall and the rise where they happened */
	if (c->tmin == c->tmax && c->vmin == c->vmax) {
		fprintf(f, "%.10g %.10g\n", c->tmin / tdiv, c->vmin / vdiv);
	} else if (c->tmin <= c->tmax) {
		fprintf(f, "%.10g %.10g\n", c->tmin / tdiv, c->vmin / vdiv);
		fprintf(f, "%.10g %.10g\n", c->tmax / tdiv, c->vmax / vdiv);
	} else {
		fprintf(f, "%.10g %.10g\n", c->tmax / tdiv, c->vmax / vdiv);
		fprintf(f, "%.10g %.10g\n", c->tmin / tdiv, c->vmin / vdiv);
	}
	c->col = -1;
}

static int plot_series(sqlite3 *db, const struct plot_opts *o, const struct info *in,
		       char *err, size_t errlen)
{
	struct binds b = { 0 };
	struct strv runs = { 0 }, labels = { 0 }, pols = { 0 };
	char *name = NULL, xl[256], yl[256], title[2048], what[512], lab[512], extra[256];
	double tdiv, vdiv, tmax = 0, vmax = 0, tlo = INFINITY, thi = -INFINITY;
	const char *tunit, *vunit;
	sqlite3_stmt *s;
	size_t skipped = 0, npts[MAX_SERIES_RUNS] = { 0 }, ncols, i, decimated = 0;
	struct column col = { .col = -1 };
	struct gp g;
	int rc, pass;
	bool first = true, decimate = false;

	memset(&g, 0, sizeof(g));	/* gp_cleanup at out: is safe before gp_begin */
	name = o->series ? xstrdup(o->series) :
	       plot_query_one(db, "SELECT v.name FROM temp.sel s JOIN series v ON v.run_id = s.run_id "
			 "GROUP BY v.name ORDER BY v.name LIMIT 1", NULL);
	if (!name) {
		seterr(err, errlen, "no selected run has a time series");
		return 1;
	}
	if ((rc = check_name(db, "series", "name", "--series", name, err, errlen)))
		goto out;
	if (o->has_from && o->has_to && o->from_ns >= o->to_ns) {
		seterr(err, errlen, "--from %llu ns is not before --to %llu ns",
		       (unsigned long long)o->from_ns, (unsigned long long)o->to_ns);
		rc = 2;
		goto out;
	}
	/* the columns of the picture: more than two points in one can only paint it solid */
	ncols = o->width ? o->width : 900;
	b.series = name;
	/* pass 0: which runs, their points in the window, the ranges; pass 1: the data */
	for (pass = 0; pass < 2; pass++) {
		s = query_file(db, "plot-series.sql", &b, err, errlen);
		if (!s) {
			rc = 1;
			goto out;
		}
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *rid = (const char *)sqlite3_column_text(s, 0);
			long ri = strv_find(&runs, rid);
			sqlite3_int64 ti = sqlite3_column_int64(s, 2);
			double t = (double)ti, v = sqlite3_column_double(s, 3);

			if ((o->has_from && (uint64_t)ti < o->from_ns) ||
			    (o->has_to && (uint64_t)ti > o->to_ns))
				continue;
			if (!pass) {
				if (ri < 0) {
					if (runs.n >= MAX_SERIES_RUNS) {
						skipped++;
						strv_push(&runs, rid);	/* marks it seen */
						continue;
					}
					ri = (long)strv_push(&runs, rid);
				}
				if (ri >= MAX_SERIES_RUNS)
					continue;
				npts[ri]++;
				tmax = fmax(tmax, t);
				tlo = fmin(tlo, t);
				thi = fmax(thi, t);
				vmax = fmax(vmax, fabs(v));
				continue;
			}
			if (ri < 0 || ri >= MAX_SERIES_RUNS)	/* beyond the first runs */
				continue;
			if (ri != (long)labels.n - 1) {	/* a new run begins */
				char *pol = plot_query_one(db, "SELECT policy FROM runs WHERE run_id = ?",
							   rid);

				column_flush(g.dat, &col, tdiv, vdiv);
				if (!first)
					fprintf(g.dat, "\n\n");
				first = false;
				run_label(db, rid, in, in->seeds > 1, lab, sizeof(lab));
				strv_push(&labels, lab);
				strv_push(&pols, pol ? pol : "?");
				free(pol);
				decimate = npts[ri] > 2 * ncols;
				decimated += decimate;
			}
			if (!decimate) {
				fprintf(g.dat, "%.10g %.10g\n", t / tdiv, v / vdiv);
				continue;
			}
			{
				long c = thi > tlo ? (long)((t - tlo) / (thi - tlo) * (double)(ncols - 1))
						   : 0;

				if (c != col.col) {
					column_flush(g.dat, &col, tdiv, vdiv);
					col = (struct column){ c, t, v, t, v };
				} else {
					if (v < col.vmin)
						col.vmin = v, col.tmin = t;
					if (v > col.vmax)
						col.vmax = v, col.tmax = t;
				}
			}
		}
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			seterr(err, errlen, "plot-series.sql: %s", sqlite3_errmsg(db));
			rc = 1;
			goto out;
		}
		if (!pass) {
			/* runs beyond the limit were pushed to be counted once; drop them */
			while (runs.n > MAX_SERIES_RUNS) {
				free(runs.v[--runs.n]);
			}
			if (!runs.n) {
				seterr(err, errlen, "series %s has no points in the selected runs between "
				       "--from and --to", name);
				rc = 1;
				goto out;
			}
			plot_unit("t_ns", tmax, &tdiv, &tunit);
			plot_unit(name, vmax, &vdiv, &vunit);
			if ((rc = gp_begin(&g, o->out, o->data, o->width, o->height, err, errlen)))
				goto out;
			fprintf(g.dat, "# memsim plot series: %s; t (%s) value (%s)\n", name, tunit,
				*vunit ? vunit : "units");
			fprintf(g.dat, "# runs with more than %zu points in the window keep the minimum "
				"and the maximum of each of %zu columns\n", 2 * ncols, ncols);
		}
	}
	column_flush(g.dat, &col, tdiv, vdiv);
	if (skipped && !o->quiet)
		fprintf(stderr, "memsim plot: warning: %zu more runs have series %s; plotting the "
			"first %d (narrow with --run or --where)\n", skipped, name, MAX_SERIES_RUNS);
	snprintf(xl, sizeof(xl), "simulated time (%s)", tunit);
	plot_label(name, vunit, yl, sizeof(yl));
	fprintf(g.pre, "n = %zu\n", labels.n);
	gp_array(g.pre, "names", &labels, false);
	gp_colours(g.pre, "pc", in->models, (const char *const *)pols.v, pols.n);
	/* further runs of one policy keep its colour and take dashes 2, 3, ... */
	fprintf(g.pre, "array dts[%zu]\n", labels.n ? labels.n : 1);
	for (i = 0; i < labels.n; i++) {
		size_t j, same = 0;

		for (j = 0; j < i; j++)
			same += !strcmp(pols.v[j], pols.v[i]);
		fprintf(g.pre, "dts[%zu] = %zu\n", i + 1, 1 + same % 5);
	}
	snprintf(what, sizeof(what), "%s over time", yl);
	{
		size_t off = (size_t)snprintf(extra, sizeof(extra), "%zu run%s", labels.n,
					      labels.n == 1 ? "" : "s");

		if ((o->has_from || o->has_to) && off < sizeof(extra))
			off += (size_t)snprintf(extra + off, sizeof(extra) - off, "; %.6g-%.6g %s",
						tlo / tdiv, thi / tdiv, tunit);
		if (decimated && off < sizeof(extra))
			snprintf(extra + off, sizeof(extra) - off, "; min and max per pixel column");
	}
	make_title(o, in, what, extra, title, sizeof(title));
	gp_str(g.pre, "plottitle", title);
	gp_str(g.pre, "xlabel", xl);
	gp_str(g.pre, "ylabel", yl);
	rc = gp_run(&g, "series.gp", o->quiet, err, errlen);
out:
	gp_cleanup(&g);
	strv_free(&runs);
	strv_free(&labels);
	strv_free(&pols);
	free(name);
	return rc;
}

/* ---- pareto ------------------------------------------------------------------------------ */

struct cfg {
	size_t pol;
	char *run;
	double x, y;
};

static int cmp_cfg(const void *a, const void *b)
{
	const struct cfg *p = *(const struct cfg *const *)a, *q = *(const struct cfg *const *)b;

	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	if (p->y != q->y)
		return p->y < q->y ? -1 : 1;
	return strcmp(p->run, q->run);
}

/*
 * A trade-off is read in ratios (10x less memory, 100x shorter stretches): an axis whose
 * values span a decade or more is logarithmic, or the cheap end is squashed into the axis.
 */
#define PARETO_LOG_SPAN 10

static int plot_pareto(sqlite3 *db, const struct plot_opts *o, const struct info *in,
		       char *err, size_t errlen)
{
	struct binds b = { 0 };
	struct strv pol = { 0 };
	struct cfg *c = NULL, **order = NULL;
	size_t n = 0, cap = 0, i, p, nfront = 0;
	char *mx = NULL, *my = NULL, xl[256], yl[256], title[2048], what[1024], lab[512];
	double xdiv, ydiv, xmax = 0, ymax = 0, xmin = INFINITY, ymin = INFINITY, best;
	const char *xu, *yu;
	sqlite3_stmt *s;
	struct gp g;
	int rc;

	mx = o->x ? xstrdup(o->x) :
	     default_metric(db, (const char *const[]){ "_bytes_peak", "_bytes", NULL });
	my = o->y ? xstrdup(o->y) :
	     default_metric(db, (const char *const[]){ "_p99_ns", "_max_ns", "_ns", NULL });
	if (!mx || !my) {
		seterr(err, errlen, "pareto: name the two metrics with --x (memory) and --y (latency)");
		rc = 2;
		goto out;
	}
	if ((rc = check_name(db, "metrics", "name", "--x", mx, err, errlen)) ||
	    (rc = check_name(db, "metrics", "name", "--y", my, err, errlen)))
		goto out;
	b.x = mx;
	b.y = my;
	s = query_file(db, "plot-pareto.sql", &b, err, errlen);
	if (!s) {
		rc = 1;
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *pv = (const char *)sqlite3_column_text(s, 0);
		long pi = strv_find(&pol, pv);

		if (pi < 0)
			pi = (long)strv_push(&pol, pv);
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			c = xrealloc(c, cap * sizeof(*c));
		}
		c[n].pol = (size_t)pi;
		c[n].run = xstrdup((const char *)sqlite3_column_text(s, 1));
		c[n].x = sqlite3_column_double(s, 2);
		c[n].y = sqlite3_column_double(s, 3);
		xmax = fmax(xmax, fabs(c[n].x));
		ymax = fmax(ymax, fabs(c[n].y));
		xmin = fmin(xmin, c[n].x);
		ymin = fmin(ymin, c[n].y);
		n++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE || !n) {
		seterr(err, errlen, rc != SQLITE_DONE ? "plot-pareto.sql: %s" :
		       "no selected run has both metrics", sqlite3_errmsg(db));
		rc = 1;
		goto out;
	}
	plot_unit(mx, xmax, &xdiv, &xu);
	plot_unit(my, ymax, &ydiv, &yu);
	plot_label(mx, xu, xl, sizeof(xl));
	plot_label(my, yu, yl, sizeof(yl));
	if ((rc = gp_begin(&g, o->out, o->data, o->width, o->height, err, errlen)))
		goto out;
	fprintf(g.pre, "logx = %d\nlogy = %d\n", auto_log(o->logx, xmin, xmax, PARETO_LOG_SPAN),
		auto_log(o->logy, ymin, ymax, PARETO_LOG_SPAN));
	fprintf(g.dat, "# memsim plot pareto: x = %s (%s), y = %s (%s); one block per policy, "
		"then the front\n", mx, xu, my, yu);
	for (p = 0; p < pol.n; p++) {
		if (p)
			fprintf(g.dat, "\n\n");
		for (i = 0; i < n; i++)
			if (c[i].pol == p)
				fprintf(g.dat, "%.10g %.10g\n", c[i].x / xdiv, c[i].y / ydiv);
	}
	/* the front: by x ascending, keep each point lower than every one before it */
	order = xrealloc(NULL, n * sizeof(*order));
	for (i = 0; i < n; i++)
		order[i] = &c[i];
	qsort(order, n, sizeof(*order), cmp_cfg);
	fprintf(g.dat, "\n\n");
	best = INFINITY;
	{
		/* label a front point only if it stands apart from the last labelled one (in
		 * fractions of the axes, as drawn): a cluster gets one label, not a smudge */
		bool lx = auto_log(o->logx, xmin, xmax, PARETO_LOG_SPAN);
		bool ly = auto_log(o->logy, ymin, ymax, PARETO_LOG_SPAN);
		double sx = lx ? log(xmax / xmin) : xmax - xmin, sy = ly ? log(ymax / ymin) : ymax - ymin;
		double px = NAN, py = NAN;

		for (i = 0; i < n; i++) {
			double fx, fy;

			if (order[i]->y >= best)
				continue;
			best = order[i]->y;
			fx = sx > 0 ? (lx ? log(order[i]->x / xmin) : order[i]->x - xmin) / sx : 0;
			fy = sy > 0 ? (ly ? log(order[i]->y / ymin) : order[i]->y - ymin) / sy : 0;
			lab[0] = 0;
			if (isnan(px) || fabs(fx - px) > 0.12 || fabs(fy - py) > 0.06) {
				run_label(db, order[i]->run, in, false, lab, sizeof(lab));
				px = fx;
				py = fy;
			}
			fprintf(g.dat, "%.10g %.10g ", order[i]->x / xdiv, order[i]->y / ydiv);
			gp_data_str(g.dat, lab);
			fputc('\n', g.dat);
			nfront++;
		}
	}
	fprintf(g.pre, "n = %zu\n", pol.n);
	gp_array(g.pre, "names", &pol, false);
	gp_colours(g.pre, "pc", in->models, (const char *const *)pol.v, pol.n);
	snprintf(what, sizeof(what), "%s against %s, %zu configurations, %zu on the front", yl,
		 xl, n, nfront);
	make_title(o, in, what, "means over repetitions", title, sizeof(title));
	gp_str(g.pre, "plottitle", title);
	gp_str(g.pre, "xlabel", xl);
	gp_str(g.pre, "ylabel", yl);
	rc = gp_run(&g, "pareto.gp", o->quiet, err, errlen);
	gp_cleanup(&g);
out:
	for (i = 0; i < n; i++)
		free(c[i].run);
	free(c);
	free(order);
	strv_free(&pol);
	free(mx);
	free(my);
	return rc;
}

/* ---- entry points --------------------------------------------------------------------- */

void plot_opts_init(struct plot_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->logx = o->logy = -1;
}

int plot_draw(struct store *st, const struct plot_opts *o, char *err, size_t errlen)
{
	static const char *const kinds[] = { "line", "heatmap", "cdf", "series", "pareto", NULL };
	sqlite3 *db = store_sqlite(st);
	const char *ext = o->out ? strrchr(o->out, '.') : NULL;
	char sid[17] = "";
	struct info in;
	long n;
	int rc, k;

	for (k = 0; kinds[k] && strcmp(kinds[k], o->kind); k++)
		;
	if (!kinds[k]) {
		seterr(err, errlen, "'%s' is not a kind of plot (line, heatmap, cdf, series, pareto)",
		       o->kind);
		return 2;
	}
	if (!o->out || !ext || (strcmp(ext, ".png") && strcmp(ext, ".svg"))) {
		seterr(err, errlen, "-o %s: give an output file ending in .png or .svg",
		       o->out ? o->out : "(missing)");
		return 2;
	}
	n = plot_select(st, o->sweep, o->where, o->nwhere, o->run, sid, err, errlen);
	if (n < 0)
		return n == -2 ? 2 : 1;
	if (!n) {
		seterr(err, errlen, "no run matches the selection%s%s", o->sweep ? " of sweep " : "",
		       o->sweep ? sid : "");
		return 1;
	}
	if (info_load(db, &in, err, errlen))
		return 1;
	switch (k) {
	case 0: rc = plot_line(db, o, &in, sid, err, errlen); break;
	case 1: rc = plot_heatmap(db, o, &in, sid, err, errlen); break;
	case 2: rc = plot_cdf(db, o, &in, err, errlen); break;
	case 3: rc = plot_series(db, o, &in, err, errlen); break;
	default: rc = plot_pareto(db, o, &in, err, errlen); break;
	}
	info_free(&in);
	return rc;	/* a failed plot left any older picture at o->out as it was */
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: memsim plot KIND [--db FILE] [--sweep ID|last] [--where NAME=VALUE]...\n"
		"                   [--metric M] [--x P] [--y P] [--by P] [--series S] [--run ID]\n"
		"                   [--title T] [--log x|y|xy|none] [--size WxH] [--data FILE]\n"
		"                   [--from TIME] [--to TIME]\n"
		"                   -o OUT.png|OUT.svg\n"
		"\n"
		"kinds:\n"
		"  line     metric --metric against parameter --x, one line per policy (and per value\n"
		"           of --by): mean over repetitions with a 95%% confidence band\n"
		"  heatmap  metric over parameters --x and --y (e.g. heavy x light), a panel per policy\n"
		"  cdf      distribution of --metric across runs, or of the samples of --series\n"
		"  series   time series --series of the selected runs (or --run ID)\n"
		"  pareto   metric --y (latency) against metric --x (memory) per configuration, with\n"
		"           the front of those no other beats on both\n"
		"\n"
		"  --db FILE          results database (default $MEMSIM_DB, else memsim.db)\n"
		"  --sweep ID         runs of one sweep (id, unique prefix, or 'last')\n"
		"  --run ID           one run (id, unique prefix, or 'last'); unknown or ambiguous\n"
		"                     ids exit 2\n"
		"  --where COND       NAME OP VALUE, OP one of = != < <= > >=, over parameters,\n"
		"                     metrics and the run columns model, policy, trace, seed,\n"
		"                     profile_name (repeatable; all must hold; one comparison\n"
		"                     each, no OR).  Numbers compare exactly as numbers (4Ki, 2.5,\n"
		"                     1e6; 10ms for a *_ns name), words and 'quoted text' as text\n"
		"                     with = and != only (docs/sweeps.md)\n"
		"  --log AXES         force logarithmic axes (default: when values span decades)\n"
		"  --data FILE        keep a copy of the data file given to gnuplot\n"
		"  --from, --to TIME  series: only the points in this window of simulated time (ns,\n"
		"                     or 4ms, 300us, 2s).  A run with more than 2 points per pixel\n"
		"                     column keeps the minimum and maximum of each column\n"
		"  -o OUT             the picture; replaced only by a complete one (a failed plot\n"
		"                     exits 1 and keeps an older OUT).  -o and --data follow a\n"
		"                     symlink and refuse a directory, device or FIFO\n"
		"Defaults: the metric is the first varying *_ns metric, x and y the sweep's first list\n"
		"axes.  gnuplot scripts and SQL: %s (docs/plots.md)\n", plot_analysis_dir());
}

int cmd_plot(int argc, char **argv)
{
	enum { O_DB = 256, O_SWEEP, O_WHERE, O_METRIC, O_X, O_Y, O_BY, O_SERIES, O_RUN, O_TITLE,
	       O_LOG, O_SIZE, O_DATA, O_QUIET, O_HELP, O_FROM, O_TO };
	static const struct option opts[] = {
		{ "db", required_argument, NULL, O_DB },
		{ "sweep", required_argument, NULL, O_SWEEP },
		{ "where", required_argument, NULL, O_WHERE },
		{ "metric", required_argument, NULL, O_METRIC },
		{ "x", required_argument, NULL, O_X },
		{ "y", required_argument, NULL, O_Y },
		{ "by", required_argument, NULL, O_BY },
		{ "series", required_argument, NULL, O_SERIES },
		{ "run", required_argument, NULL, O_RUN },
		{ "title", required_argument, NULL, O_TITLE },
		{ "log", required_argument, NULL, O_LOG },
		{ "size", required_argument, NULL, O_SIZE },
		{ "data", required_argument, NULL, O_DATA },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct plot_opts o;
	const char *db = getenv("MEMSIM_DB");
	struct store *st;
	char err[2048];
	int c, rc;

	plot_opts_init(&o);
	if (!db || !*db)
		db = "memsim.db";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case O_DB: db = optarg; break;
		case O_SWEEP: o.sweep = optarg; break;
		case O_METRIC: o.metric = optarg; break;
		case O_X: o.x = optarg; break;
		case O_Y: o.y = optarg; break;
		case O_BY: o.by = optarg; break;
		case O_SERIES: o.series = optarg; break;
		case O_RUN: o.run = optarg; break;
		case O_TITLE: o.title = optarg; break;
		case O_DATA: o.data = optarg; break;
		case O_QUIET: o.quiet = true; break;
		case 'o': o.out = optarg; break;
		case O_FROM:
		case O_TO:
			if (param_parse_value(optarg, PARAM_UNIT_NS, c == O_FROM ? &o.from_ns : &o.to_ns)) {
				fprintf(stderr, "memsim plot: --%s %s: not a time (ns, or a whole "
					"number with a unit: 4ms, 300us, 2s)\n",
					c == O_FROM ? "from" : "to", optarg);
				return EXIT_USAGE;
			}
			*(c == O_FROM ? &o.has_from : &o.has_to) = true;
			break;
		case O_WHERE:
			if (o.nwhere == PLOT_MAX_WHERE) {
				fprintf(stderr, "memsim plot: more than %d --where options\n",
					PLOT_MAX_WHERE);
				return EXIT_USAGE;
			}
			o.where[o.nwhere++] = optarg;
			break;
		case O_LOG:
			if (!strcmp(optarg, "none")) {
				o.logx = o.logy = 0;
			} else if (strspn(optarg, "xy") == strlen(optarg) && *optarg) {
				o.logx = strchr(optarg, 'x') ? 1 : 0;
				o.logy = strchr(optarg, 'y') ? 1 : 0;
			} else {
				fprintf(stderr, "memsim plot: --log %s: one of x, y, xy, none\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_SIZE:
			if (sscanf(optarg, "%ux%u", &o.width, &o.height) != 2 || o.width < 100 ||
			    o.height < 100 || o.width > 10000 || o.height > 10000) {
				fprintf(stderr, "memsim plot: --size %s: expected WxH in pixels, e.g. "
					"900x560\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "memsim plot: %s: unknown option or missing value (see memsim "
				"plot --help)\n", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "memsim plot: which plot? line, heatmap, cdf, series or pareto "
			"(see memsim plot --help)\n");
		return EXIT_USAGE;
	}
	o.kind = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "memsim plot: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!o.out) {
		fprintf(stderr, "memsim plot: -o OUT.png or -o OUT.svg is required\n");
		return EXIT_USAGE;
	}
	st = store_open_readonly(db, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "memsim plot: %s\n", err);
		return EXIT_USAGE;
	}
	rc = plot_draw(st, &o, err, sizeof(err));
	store_close(st);
	if (rc) {
		fprintf(stderr, "memsim plot: %s\n", err);
		return rc;
	}
	if (!o.quiet)
		fprintf(stderr, "memsim plot: wrote %s\n", o.out);
	return EXIT_OK;
}
