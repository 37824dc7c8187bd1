/* SPDX-License-Identifier: MIT */
/*
 * analysis/cmd_report.c — `memsim report`: one HTML page for a sweep (docs/plots.md).
 *
 *   memsim report --db FILE --sweep ID|last -o DIR [--metric M]... [--best-by M] [--top N]
 *
 * DIR/index.html holds the sweep's configuration (axes, fixed parameters, the stored
 * specification), its provenance (memsim versions, traces and digests, cost profiles, seeds,
 * dates, host time), the plots (drawn by plot_draw as PNG files in DIR) and a table of the best
 * configurations of one metric (mean and 95 % confidence interval over repetitions).
 * The page is self-contained apart from its images: no scripts, no external style sheets.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>

#include "cmds.h"
#include "outfile.h"
#include "plot.h"
#include "run.h"
#include "store.h"

#define REPORT_MAX_METRICS 16

static void html(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* Every row of a query (one optional text parameter) as an HTML table. */
static void html_table(FILE *f, sqlite3 *db, const char *sql, const char *arg)
{
	sqlite3_stmt *s;
	int i, n, rows = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL)) {
		fprintf(f, "<p class=\"err\">");
		html(f, sqlite3_errmsg(db));
		fprintf(f, "</p>\n");
		return;
	}
	if (arg)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_TRANSIENT);
	n = sqlite3_column_count(s);
	fprintf(f, "<table>\n<tr>");
	for (i = 0; i < n; i++) {
		fprintf(f, "<th>");
		html(f, sqlite3_column_name(s, i));
		fprintf(f, "</th>");
	}
	fprintf(f, "</tr>\n");
	while (sqlite3_step(s) == SQLITE_ROW) {
		fprintf(f, "<tr>");
		for (i = 0; i < n; i++) {
			fprintf(f, "<td>");
			html(f, (const char *)sqlite3_column_text(s, i));
			fprintf(f, "</td>");
		}
		fprintf(f, "</tr>\n");
		rows++;
	}
	sqlite3_finalize(s);
	if (!rows)
		fprintf(f, "<tr><td colspan=\"%d\">(none)</td></tr>\n", n);
	fprintf(f, "</table>\n");
}

/* Column 0 of every row. */
static size_t list(sqlite3 *db, const char *sql, const char *arg, char **out, size_t max)
{
	sqlite3_stmt *s;
	size_t n = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL))
		return 0;
	if (arg)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_TRANSIENT);
	while (n < max && sqlite3_step(s) == SQLITE_ROW)
		if ((out[n] = strdup((const char *)sqlite3_column_text(s, 0))))
			n++;
	sqlite3_finalize(s);
	return n;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* name as part of a file name: a metric name comes from the database, and must not make
 * a path ("../x") or odd characters */
static const char *safe_name(const char *name, char *buf, size_t len)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < len; i++)
		buf[i] = isalnum((unsigned char)name[i]) || strchr("_+-", name[i]) ? name[i] : '_';
	buf[i] = 0;
	return buf;
}

/* Draws one plot into DIR/FILE and writes its figure (or why there is none). */
static void figure(FILE *f, struct store *st, struct plot_opts *o, const char *dir,
		   const char *file, const char *caption)
{
	char path[PATH_MAX], err[1024];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	o->out = path;
	o->quiet = true;
	rc = plot_draw(st, o, err, sizeof(err));
	fprintf(f, "<figure>\n");
	if (rc == 0) {
		fprintf(f, "<a href=\"");
		html(f, file);
		fprintf(f, "\"><img src=\"");
		html(f, file);
		fprintf(f, "\" alt=\"");
		html(f, caption);
		fprintf(f, "\"></a>\n");
	} else {
		fprintf(f, "<p class=\"err\">no plot: ");
		html(f, err);
		fprintf(f, "</p>\n");
	}
	fprintf(f, "<figcaption>");
	html(f, caption);
	fprintf(f, "</figcaption>\n</figure>\n");
}

struct best {
	char *config, *run, *policy;
	double mean, lo, hi;
	size_t n;
};

static int cmp_best(const void *a, const void *b)
{
	const struct best *p = a, *q = b;

	if (p->mean != q->mean)
		return p->mean < q->mean ? -1 : 1;
	return strcmp(p->config, q->config);
}

/* The table of the best configurations by metric (lowest mean first, or highest). */
static void best_table(FILE *f, sqlite3 *db, const char *metric, bool maximize, size_t top,
		       char **varying, size_t nvar)
{
	struct best *b = NULL;
	size_t nb = 0, cap = 0, i, k;
	double *v = NULL, maxabs = 0, div;
	size_t nv = 0, vcap = 0;
	char err[512], label[256];
	const char *unit;
	char *sql = plot_sql("best.sql", err, sizeof(err));
	sqlite3_stmt *s, *ps;
	int rc;

	if (!sql || sqlite3_prepare_v2(db, sql, -1, &s, NULL)) {
		fprintf(f, "<p class=\"err\">");
		html(f, sql ? sqlite3_errmsg(db) : err);
		fprintf(f, "</p>\n");
		free(sql);
		return;
	}
	free(sql);
	sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":metric"), metric, -1,
			  SQLITE_TRANSIENT);
	/* rows come grouped by configuration: close a group when the key changes */
	for (;;) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW && nb &&
		    !strcmp(b[nb - 1].config, (const char *)sqlite3_column_text(s, 0))) {
			if (nv == vcap) {
				vcap = vcap ? 2 * vcap : 16;
				v = realloc(v, vcap * sizeof(*v));
			}
			v[nv++] = sqlite3_column_double(s, 3);
			continue;
		}
		if (nb) {
			plot_stats(v, nv, &b[nb - 1].mean, &b[nb - 1].lo, &b[nb - 1].hi);
			b[nb - 1].n = nv;
			maxabs = fmax(maxabs, fabs(b[nb - 1].mean));
		}
		if (rc != SQLITE_ROW)
			break;
		if (nb == cap) {
			cap = cap ? 2 * cap : 64;
			b = realloc(b, cap * sizeof(*b));
		}
		b[nb].config = strdup((const char *)sqlite3_column_text(s, 0));
		b[nb].run = strdup((const char *)sqlite3_column_text(s, 1));
		b[nb].policy = strdup((const char *)sqlite3_column_text(s, 2));
		nb++;
		nv = 0;
		if (!vcap) {
			vcap = 16;
			v = malloc(vcap * sizeof(*v));
		}
		v[nv++] = sqlite3_column_double(s, 3);
	}
	sqlite3_finalize(s);
	if (!nb) {
		fprintf(f, "<p>No run has metric ");
		html(f, metric);
		fprintf(f, ".</p>\n");
		free(v);
		return;
	}
	qsort(b, nb, sizeof(*b), cmp_best);
	plot_unit(metric, maxabs, &div, &unit);
	plot_label(metric, unit, label, sizeof(label));
	fprintf(f, "<p>%zu configurations; the %zu with the %s mean ", nb, top < nb ? top : nb,
		maximize ? "highest" : "lowest");
	html(f, label);
	fprintf(f, " (95%% confidence interval over the repetitions, Student t; for a metric "
		"whose every value is >= 0 the lower bound is clamped at 0):</p>\n");
	fprintf(f, "<table>\n<tr><th>#</th><th>policy</th>");
	for (k = 0; k < nvar; k++) {
		fprintf(f, "<th>");
		html(f, varying[k]);
		fprintf(f, "</th>");
	}
	fprintf(f, "<th>");
	html(f, label);
	fprintf(f, "</th><th>95%% CI</th><th>runs</th><th>example run</th></tr>\n");
	if (sqlite3_prepare_v2(db, "SELECT value FROM params WHERE run_id = ? AND key = ?", -1,
			       &ps, NULL))
		ps = NULL;
	for (i = 0; i < nb && i < top; i++) {
		const struct best *e = &b[maximize ? nb - 1 - i : i];

		fprintf(f, "<tr><td>%zu</td><td>", i + 1);
		html(f, e->policy);
		fprintf(f, "</td>");
		for (k = 0; k < nvar; k++) {
			fprintf(f, "<td>");
			if (ps) {
				sqlite3_bind_text(ps, 1, e->run, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(ps, 2, varying[k], -1, SQLITE_TRANSIENT);
				if (sqlite3_step(ps) == SQLITE_ROW)
					html(f, (const char *)sqlite3_column_text(ps, 0));
				sqlite3_reset(ps);
			}
			fprintf(f, "</td>");
		}
		fprintf(f, "<td>%.4g</td><td>", e->mean / div);
		if (e->n > 1)
			fprintf(f, "%.4g &ndash; %.4g", e->lo / div, e->hi / div);
		else
			fprintf(f, "(one run)");
		fprintf(f, "</td><td>%zu</td><td><code>", e->n);
		html(f, e->run);
		fprintf(f, "</code></td></tr>\n");
	}
	fprintf(f, "</table>\n");
	sqlite3_finalize(ps);
	for (i = 0; i < nb; i++) {
		free(b[i].config);
		free(b[i].run);
		free(b[i].policy);
	}
	free(b);
	free(v);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: memsim report [--db FILE] --sweep ID|last -o DIR [--metric M]...\n"
		"                     [--best-by M] [--maximize] [--top N]\n"
		"\n"
		"Writes DIR/index.html for one sweep: its configuration and provenance, a plot of each\n"
		"metric against the sweep's first parameter (one line per policy, 95%% confidence\n"
		"bands), a heatmap over its first two parameters, a CDF, a memory-vs-latency Pareto\n"
		"front, time series if the runs have any, and a table of the best configurations.\n"
		"\n"
		"  --sweep ID     the sweep: its id, a unique prefix (>= 4 characters) or 'last'\n"
		"  --metric M     a metric to plot (repeatable; default: up to 6 that vary)\n"
		"  --best-by M    rank configurations by this metric (default: the first plotted)\n"
		"  --maximize     higher is better for --best-by (default: lower is better)\n"
		"  --top N        rows of the best-configurations table (default 10)\n"
		"DIR is created if missing; index.html and the pictures are replaced only by complete\n"
		"ones (a symlink is followed; a device or FIFO is refused).\n");
}

/* What one report draws: the sweep's list axes, its varying parameters, its policies and the
 * metrics plotted (given with --metric, or chosen from those that vary). */
struct report_plan {
	char *metrics[REPORT_MAX_METRICS], *axes[8], *varying[32], *pol[32];
	size_t nm, nax, nvar, npol;
};

static void plan_free(struct report_plan *pl)
{
	size_t i;

	for (i = 0; i < pl->nm; i++)
		free(pl->metrics[i]);
	for (i = 0; i < pl->nax; i++)
		free(pl->axes[i]);
	for (i = 0; i < pl->nvar; i++)
		free(pl->varying[i]);
	for (i = 0; i < pl->npol; i++)
		free(pl->pol[i]);
}

/* Without --metric: up to 6 metrics that vary, times first (the user waits for them, at most
 * 4 of them), then memory, then the rest. */
static void plan_default_metrics(sqlite3 *sq, struct report_plan *pl)
{
	char *cand[64];
	size_t nc = list(sq, "SELECT m.name FROM temp.sel s JOIN metrics m "
			 "ON m.run_id = s.run_id GROUP BY m.name "
			 "HAVING count(DISTINCT m.value) > 1 ORDER BY min(m.ord)", NULL, cand, 64);
	size_t pass, k;

	for (pass = 0; pass < 3; pass++)
		for (k = 0; k < nc && pl->nm < 6; k++) {
			bool ns, bytes;

			if (!cand[k])
				continue;
			ns = ends_with(cand[k], "_ns");
			bytes = strstr(cand[k], "_bytes") != NULL;
			if ((pass == 0 && (!ns || pl->nm >= 4)) ||
			    (pass == 1 && !bytes) || (pass == 2 && (ns || bytes)))
				continue;
			pl->metrics[pl->nm++] = cand[k];
			cand[k] = NULL;
		}
	for (k = 0; k < nc; k++)
		free(cand[k]);
}

static void plan_load(sqlite3 *sq, const char *sid, struct report_plan *pl)
{
	char err[256], *sql = plot_sql("sweep-axes.sql", err, sizeof(err));
	sqlite3_stmt *s;

	if (sql && !sqlite3_prepare_v2(sq, sql, -1, &s, NULL)) {
		sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":sweep"), sid, -1,
				  SQLITE_TRANSIENT);
		while (pl->nax < 8 && sqlite3_step(s) == SQLITE_ROW)
			pl->axes[pl->nax++] = strdup((const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	free(sql);
	pl->nvar = list(sq, "SELECT p.key FROM temp.sel s JOIN params p ON p.run_id = s.run_id "
			"GROUP BY p.key HAVING count(DISTINCT p.value) > 1 ORDER BY min(p.ord)",
			NULL, pl->varying, 32);
	pl->npol = list(sq, "SELECT DISTINCT r.policy FROM temp.sel s JOIN runs r "
			"ON r.run_id = s.run_id ORDER BY 1", NULL, pl->pol, 32);
	if (!pl->nm)
		plan_default_metrics(sq, pl);
}

static void write_head(FILE *f, sqlite3 *sq, const char *sid, long runs,
		       const struct report_plan *pl)
{
	char *t = plot_query_one(sq, "SELECT group_concat(DISTINCT r.model) FROM temp.sel s "
				 "JOIN runs r ON r.run_id = s.run_id", NULL);
	size_t i;

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<title>memsim sweep %s</title>\n<style>\n"
		"body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
		"color:#222}\n"
		"table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
		"th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:.9em}\n"
		"th{background:#f2f2f2}\nfigure{margin:1em 0}\nimg{max-width:100%%}\n"
		"figcaption{color:#555;font-size:.9em}\npre{background:#f7f7f7;padding:.6em;"
		"overflow-x:auto;font-size:.85em}\n.err{color:#a00}\n</style></head><body>\n",
		sid);
	fprintf(f, "<h1>Sweep <code>%s</code>: ", sid);
	html(f, t ? t : "?");
	fprintf(f, "</h1>\n");
	free(t);
	fprintf(f, "<p>%ld runs in the database.  Policies:", runs);
	for (i = 0; i < pl->npol; i++) {
		fprintf(f, "%s ", i ? "," : "");
		html(f, pl->pol[i]);
	}
	fprintf(f, ".</p>\n");
}

static void write_configuration(FILE *f, sqlite3 *sq, const char *sid)
{
	char *t;

	fprintf(f, "<h2>Configuration</h2>\n<h3>Swept</h3>\n");
	html_table(f, sq, "SELECT coalesce(json_extract(a.value, '$.name'), 'condition') AS "
		   "parameter, coalesce(json_extract(a.value, '$.values'), "
		   "'= ' || json_extract(a.value, '$.expr'), 'if ' || json_extract(a.value, '$.if')) "
		   "AS \"values\" FROM sweeps w, json_each(w.spec, '$.axes') a "
		   "WHERE w.sweep_id = ? ORDER BY a.key", sid);
	fprintf(f, "<h3>Fixed</h3>\n");
	html_table(f, sq, "SELECT 'model' AS setting, json_extract(spec, '$.model') AS value "
		   "FROM sweeps WHERE sweep_id = ?1 UNION ALL "
		   "SELECT 'trace', json_extract(spec, '$.trace') FROM sweeps WHERE sweep_id = ?1 "
		   "UNION ALL SELECT 'profile', json_extract(spec, '$.profile') FROM sweeps "
		   "WHERE sweep_id = ?1 UNION ALL SELECT 'base seed', json_extract(spec, '$.seed') "
		   "FROM sweeps WHERE sweep_id = ?1 UNION ALL SELECT 'repetitions', "
		   "json_extract(spec, '$.reps') FROM sweeps WHERE sweep_id = ?1 UNION ALL "
		   /* what is stored: an interrupted sweep or a missing shard leaves points short */
		   "SELECT 'runs per point', CASE WHEN min(p.n) = max(p.n) THEN min(p.n) ELSE "
		   "min(p.n) || '..' || max(p.n) END || CASE WHEN min(p.n) < max(w.r) THEN "
		   "' (partial: ' || sum(p.n < w.r) || ' of ' || count(*) || ' points have fewer "
		   "than ' || max(w.r) || ' repetitions)' ELSE '' END FROM (SELECT count(*) AS n "
		   "FROM run_params_wide WHERE sweep_id = ?1 GROUP BY policy, params) p, "
		   "(SELECT json_extract(spec, '$.reps') AS r FROM sweeps WHERE sweep_id = ?1) w "
		   "UNION ALL "
		   "SELECT f.key, f.value FROM sweeps, json_each(spec, '$.fixed') f "
		   "WHERE sweep_id = ?1", sid);
	fprintf(f, "<h3>Specification (as stored)</h3>\n<pre>");
	t = plot_query_one(sq, "SELECT spec FROM sweeps WHERE sweep_id = ?", sid);
	html(f, t ? t : "(none)");
	free(t);
	fprintf(f, "</pre>\n<p>Re-create it with <code>memsim sweep</code> and the same options: "
		"runs already stored are skipped.</p>\n");
	/* the experiment file, when the sweep came from one (a table older databases lack) */
	t = plot_query_one(sq, "SELECT name || char(10) || text FROM sweep_files WHERE "
			   "sweep_id = ? ORDER BY name LIMIT 1", sid);
	if (t) {
		char *nl = strchr(t, '\n');

		*nl = 0;
		fprintf(f, "<h3>Experiment file <code>");
		html(f, t);
		fprintf(f, "</code> (as stored)</h3>\n<pre>");
		html(f, nl + 1);
		fprintf(f, "</pre>\n");
		free(t);
	}
}

static void write_provenance(FILE *f, sqlite3 *sq)
{
	fprintf(f, "<h2>Provenance</h2>\n");
	html_table(f, sq, "SELECT count(*) AS runs, count(DISTINCT r.seed) AS seeds, "
		   "group_concat(DISTINCT r.memsim_version) AS \"memsim version\", "
		   "min(r.created) AS first, max(r.created) AS last, "
		   "printf('%.1f s', sum(r.wall_ns) / 1e9) AS \"host time\", "
		   "group_concat(DISTINCT r.status) AS status "
		   "FROM temp.sel s JOIN runs r ON r.run_id = s.run_id", NULL);
	html_table(f, sq, "SELECT r.trace, count(DISTINCT r.trace_digest) AS \"trace digests\", "
		   "r.profile_name AS profile, r.profile_digest AS \"profile digest\", "
		   "count(*) AS runs FROM temp.sel s JOIN runs r ON r.run_id = s.run_id "
		   "GROUP BY r.trace, r.profile_name, r.profile_digest", NULL);
}

/* A line plot of metric m against the first axis (one line per policy, and per value of a
 * second axis if that stays within 12 lines), and a heatmap over the first two axes. */
static void write_metric_plots(FILE *f, struct store *st, const char *sid, const char *dir,
			       const struct report_plan *pl, const char *m)
{
	sqlite3 *sq = store_sqlite(st);
	char file[256], cap[512], nvals[32] = "0", safe[200];
	size_t np = pl->npol ? pl->npol : 1;
	struct plot_opts po;

	plot_opts_init(&po);
	po.kind = "line";
	po.sweep = sid;
	po.metric = m;
	if (pl->nax)
		po.x = pl->axes[0];
	if (pl->nax > 1) {
		char *cnt = plot_query_one(sq, "SELECT count(DISTINCT p.value) FROM temp.sel s "
					   "JOIN params p ON p.run_id = s.run_id WHERE p.key = ?",
					   pl->axes[1]);

		snprintf(nvals, sizeof(nvals), "%s", cnt ? cnt : "0");
		free(cnt);
		if (np * strtoul(nvals, NULL, 10) <= 12)
			po.by = pl->axes[1];
	}
	snprintf(file, sizeof(file), "line-%s.png", safe_name(m, safe, sizeof(safe)));
	snprintf(cap, sizeof(cap), "%s against %s%s%s", m, po.x ? po.x : "the first "
		 "varying parameter", po.by ? ", one line per policy and " : "",
		 po.by ? po.by : "");
	figure(f, st, &po, dir, file, cap);
	if (pl->nax > 1) {
		plot_opts_init(&po);
		po.kind = "heatmap";
		po.sweep = sid;
		po.metric = m;
		po.x = pl->axes[0];
		po.y = pl->axes[1];
		snprintf(file, sizeof(file), "heatmap-%s.png", safe);
		snprintf(cap, sizeof(cap), "%s over %s x %s", m, pl->axes[0], pl->axes[1]);
		figure(f, st, &po, dir, file, cap);
	}
}

/* The sweep-wide plots: the distribution of the first metric, the Pareto front of the first
 * memory metric against the first varying latency, and the first time series. */
static void write_sweep_plots(FILE *f, struct store *st, const char *sid, const char *dir,
			      const struct report_plan *pl)
{
	sqlite3 *sq = store_sqlite(st);
	struct plot_opts po;
	char *mem, *lat, *ser;

	if (pl->nm) {
		plot_opts_init(&po);
		po.kind = "cdf";
		po.sweep = sid;
		po.metric = pl->metrics[0];
		figure(f, st, &po, dir, "cdf.png", "distribution across runs, per policy");
	}
	mem = plot_query_one(sq, "SELECT m.name FROM temp.sel s JOIN metrics m "
			     "ON m.run_id = s.run_id "
			     "WHERE m.name LIKE '%bytes_peak' OR m.name LIKE '%_bytes' "
			     "GROUP BY m.name ORDER BY min(m.ord) LIMIT 1", NULL);
	lat = plot_query_one(sq, "SELECT m.name FROM temp.sel s JOIN metrics m "
			     "ON m.run_id = s.run_id "
			     "WHERE m.name LIKE '%\\_ns' ESCAPE '\\' GROUP BY m.name "
			     "HAVING count(DISTINCT m.value) > 1 "
			     "ORDER BY (m.name LIKE '%p99%') DESC, min(m.ord) LIMIT 1", NULL);
	if (mem && lat) {
		char cap[512];

		plot_opts_init(&po);
		po.kind = "pareto";
		po.sweep = sid;
		po.x = mem;
		po.y = lat;
		snprintf(cap, sizeof(cap), "%s against %s: the configurations no other beats on "
			 "both", lat, mem);
		figure(f, st, &po, dir, "pareto.png", cap);
	}
	free(mem);
	free(lat);
	ser = plot_query_one(sq, "SELECT v.name FROM temp.sel s JOIN series v "
			     "ON v.run_id = s.run_id GROUP BY v.name ORDER BY v.name LIMIT 1", NULL);
	if (ser) {
		plot_opts_init(&po);
		po.kind = "series";
		po.sweep = sid;
		po.series = ser;
		figure(f, st, &po, dir, "series.png", ser);
		free(ser);
	}
}

/* The options of one report. */
struct report_opts {
	const char *db, *sweep, *dir, *best_by;
	char *metrics[REPORT_MAX_METRICS];
	size_t nm, top;
	bool maximize;
};

/* Writes DIR/index.html and its pictures for the sweep; the metrics given in o are taken
 * over (freed here).  EXIT_OK, EXIT_FAIL or EXIT_USAGE with a message on stderr. */
static int report_write(struct report_opts *o)
{
	struct report_plan pl = { .nm = o->nm };
	char err[1024], sid[17], path[PATH_MAX];
	struct outfile page;
	struct store *st;
	sqlite3 *sq;
	FILE *f;
	long n;
	int rc;

	memcpy(pl.metrics, o->metrics, sizeof(pl.metrics));
	snprintf(path, sizeof(path), "%s/index.html", o->dir);
	st = store_open_readonly(o->db, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "memsim report: %s\n", err);
		plan_free(&pl);
		return EXIT_USAGE;
	}
	sq = store_sqlite(st);
	n = plot_select(st, o->sweep, NULL, 0, NULL, sid, err, sizeof(err));
	if (n <= 0) {
		fprintf(stderr, "memsim report: %s\n", n < 0 ? err : "the sweep has no runs yet");
		rc = n == -2 ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	plan_load(sq, sid, &pl);
	rc = outfile_open(&page, path, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "memsim report: %s\n", err);
		rc = rc == OUT_REFUSED ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	f = page.f;
	write_head(f, sq, sid, n, &pl);
	write_configuration(f, sq, sid);
	write_provenance(f, sq);
	fprintf(f, "<h2>Plots</h2>\n");
	for (size_t i = 0; i < pl.nm; i++)
		write_metric_plots(f, st, sid, o->dir, &pl, pl.metrics[i]);
	write_sweep_plots(f, st, sid, o->dir, &pl);
	fprintf(f, "<h2>Best configurations</h2>\n");
	/* the plots replaced temp.sel with the same selection; select again to be sure */
	plot_select(st, sid, NULL, 0, NULL, NULL, err, sizeof(err));
	if (o->best_by || pl.nm)
		best_table(f, sq, o->best_by ? o->best_by : pl.metrics[0], o->maximize, o->top,
			   pl.varying, pl.nvar);
	else
		fprintf(f, "<p>No metric varies across the sweep.</p>\n");
	fprintf(f, "<hr><p><small>memsim %s report of %s</small></p>\n</body></html>\n",
		MEMSIM_VERSION, o->db);
	rc = outfile_commit(&page, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "memsim report: %s\n", err);
		rc = rc == OUT_REFUSED ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	fprintf(stderr, "memsim report: wrote %s\n", path);
	rc = EXIT_OK;
out:
	store_close(st);
	plan_free(&pl);
	return rc;
}

/* -o DIR: created if missing, "out/" and "out" the same; index.html in it is replaced like
 * every output (outfile.h), so it is refused if it is a device.  0, or an exit code. */
static int prepare_dir(struct report_opts *o)
{
	static char d[PATH_MAX - 64];
	char path[PATH_MAX], real[PATH_MAX], err[1024];
	struct stat sb;
	size_t l;

	snprintf(d, sizeof(d), "%s", o->dir);
	for (l = strlen(d); l > 1 && d[l - 1] == '/'; l--)
		d[l - 1] = 0;
	o->dir = d;
	if (mkdir(d, 0777) && errno != EEXIST) {
		fprintf(stderr, "memsim report: %s: cannot create: %s\n", d, strerror(errno));
		return EXIT_FAIL;
	}
	if (stat(d, &sb) || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "memsim report: -o %s: not a directory\n", d);
		return EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "%s/index.html", d);
	if (out_resolve(path, real, sizeof(real), err, sizeof(err))) {
		fprintf(stderr, "memsim report: %s\n", err);
		return EXIT_USAGE;
	}
	return 0;
}

/* 0 with o filled, 1 for --help (printed), or EXIT_USAGE with a message. */
static int parse_opts(int argc, char **argv, struct report_opts *o)
{
	enum { O_DB = 256, O_SWEEP, O_METRIC, O_BEST, O_MAX, O_TOP, O_HELP };
	static const struct option opts[] = {
		{ "db", required_argument, NULL, O_DB },
		{ "sweep", required_argument, NULL, O_SWEEP },
		{ "metric", required_argument, NULL, O_METRIC },
		{ "best-by", required_argument, NULL, O_BEST },
		{ "maximize", no_argument, NULL, O_MAX },
		{ "top", required_argument, NULL, O_TOP },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	char *t;
	int c;

	o->db = getenv("MEMSIM_DB");
	if (!o->db || !*o->db)
		o->db = "memsim.db";
	o->top = 10;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case O_DB: o->db = optarg; break;
		case O_SWEEP: o->sweep = optarg; break;
		case O_BEST: o->best_by = optarg; break;
		case O_MAX: o->maximize = true; break;
		case 'o': o->dir = optarg; break;
		case O_METRIC:
			if (o->nm == REPORT_MAX_METRICS) {
				fprintf(stderr, "memsim report: more than %d --metric options\n",
					REPORT_MAX_METRICS);
				return EXIT_USAGE;
			}
			o->metrics[o->nm++] = strdup(optarg);
			break;
		case O_TOP:
			o->top = strtoul(optarg, &t, 10);
			if (*t || !*optarg || o->top < 1 || o->top > 100000) {
				fprintf(stderr, "memsim report: --top %s: expected an integer >= 1\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			return 1;
		default:
			fprintf(stderr, "memsim report: %s: unknown option or missing value (see "
				"memsim report --help)\n", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc || !o->sweep || !o->dir) {
		fprintf(stderr, "memsim report: %s (see memsim report --help)\n",
			optind < argc ? "unexpected argument" : !o->sweep ? "--sweep ID is required" :
			"-o DIR is required");
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_report(int argc, char **argv)
{
	struct report_opts o = { 0 };
	int rc = parse_opts(argc, argv, &o);

	if (rc == 1)
		rc = EXIT_OK;		/* --help */
	else if (!rc && !(rc = prepare_dir(&o)))
		return report_write(&o);	/* takes over o.metrics */
	for (size_t i = 0; i < o.nm; i++)
		free(o.metrics[i]);
	return rc;
}
