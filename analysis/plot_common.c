/* SPDX-License-Identifier: MIT */
/*
 * analysis/plot_common.c — what every kind of `memsim plot` uses: the analysis files and their
 * queries, the selection of runs (temp.sel), units and labels, titles, and the defaults of
 * --metric and the axes.  See plot_impl.h for the split of the plot code.
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

#include "plot_impl.h"

#define TITLE_WIDTH 86      /* characters per title line at the default size */

bool plot_is_number(const char *s, double *v)
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
sqlite3_stmt *plot_query_file(sqlite3 *db, const char *name, const struct binds *b,
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
	sqlite3_stmt *s = plot_query_file(db, name, b, err, errlen);
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
void plot_gp_colours(FILE *f, const char *var, const char *model, const char *const *pol,
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

/* ---- gnuplot (analysis/gnuplot.c) ------------------------------------------------------------ */

/* array var[1..n] of strings; tics: they label tics (gnuplot reads those as formats) */
void plot_gp_array(FILE *f, const char *var, const struct strv *v, bool tics)
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


void plot_info_free(struct plot_info *in)
{
	free(in->models);
	free(in->traces);
	free(in->profiles);
	strv_free(&in->policies);
	strv_free(&in->varying);
}

int plot_info_load(sqlite3 *db, struct plot_info *in, char *err, size_t errlen)
{
	struct binds b = { 0 };
	sqlite3_stmt *s;
	int rc;

	memset(in, 0, sizeof(*in));
	s = plot_query_file(db, "info.sql", &b, err, errlen);
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
void plot_run_label(sqlite3 *db, const char *run_id, const struct plot_info *in, bool seed,
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
static void title_context(const struct plot_info *in, const char *extra, char *buf, size_t len)
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

void plot_make_title(const struct plot_opts *o, const struct plot_info *in, const char *what,
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
int plot_check_name(sqlite3 *db, const char *table, const char *col, const char *opt,
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
char *plot_default_metric(sqlite3 *db, const char *const *want)
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
char *plot_default_axis(sqlite3 *db, const char *sweep_id, const struct plot_info *in, size_t k)
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

int plot_auto_log(int opt, double lo, double hi, double span)
{
	if (opt >= 0)
		return opt;
	return lo > 0 && hi / lo >= span;
}
