/* SPDX-License-Identifier: MIT */
/*
 * analysis/plot_kinds.c — one function a kind of `memsim plot`: line, heatmap, cdf, series,
 * pareto.  Each runs analysis/plot-KIND.sql over the selection, does its arithmetic (means and
 * 95 % intervals with GSL, grids, CDFs, fronts) and hands gnuplot a prelude plus KIND.gp.
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

/* ---- line ------------------------------------------------------------------------------ */

struct cell {
	size_t line;              /* index in lines */
	char *xtext;
	double x;
	struct dvec v;
	double mean, lo, hi;
};

/* The points of a line plot: one cell per (line, x) with the values of its runs. */
struct line_data {
	struct strv lines, xcats, pols, byvs;
	size_t *lc_of, *dt_of;    /* per line: its policy's colour, its --by value's dash */
	struct cell *cells;
	size_t nc, cap, maxn;
	bool numeric;             /* every x is a number (else categories, in order seen) */
	double maxabs, xmin, xmax, ymin, ymax;
};

static void line_data_free(struct line_data *d)
{
	for (size_t i = 0; i < d->nc; i++) {
		free(d->cells[i].xtext);
		free(d->cells[i].v.v);
	}
	free(d->cells);
	strv_free(&d->lines);
	strv_free(&d->xcats);
	strv_free(&d->pols);
	strv_free(&d->byvs);
	free(d->lc_of);
	free(d->dt_of);
}

/* Runs plot-line.sql: rows (line, x, value, policy, by) ordered by line and x. */
static int line_load(sqlite3 *db, const struct binds *b, struct line_data *d, char *err,
		     size_t errlen)
{
	sqlite3_stmt *s = plot_query_file(db, "plot-line.sql", b, err, errlen);
	int rc;

	if (!s)
		return 1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(s, 0);
		const char *xt = (const char *)sqlite3_column_text(s, 1);
		long li = strv_find(&d->lines, line);
		struct cell *c = d->nc ? &d->cells[d->nc - 1] : NULL;
		double xv;

		if (li < 0) {
			const char *pv = (const char *)sqlite3_column_text(s, 3);
			const char *bv = sqlite3_column_type(s, 4) == SQLITE_NULL ? "" :
					 (const char *)sqlite3_column_text(s, 4);
			long pi = strv_find(&d->pols, pv), bi = strv_find(&d->byvs, bv);

			li = (long)strv_push(&d->lines, line);
			d->lc_of = xrealloc(d->lc_of, d->lines.n * sizeof(*d->lc_of));
			d->dt_of = xrealloc(d->dt_of, d->lines.n * sizeof(*d->dt_of));
			d->lc_of[li] = 1 + (size_t)(pi < 0 ? (long)strv_push(&d->pols, pv) : pi);
			d->dt_of[li] = 1 + (size_t)(bi < 0 ? (long)strv_push(&d->byvs, bv) : bi);
		}
		if (!c || c->line != (size_t)li || strcmp(c->xtext, xt)) {
			if (d->nc == d->cap) {
				d->cap = d->cap ? 2 * d->cap : 64;
				d->cells = xrealloc(d->cells, d->cap * sizeof(*d->cells));
			}
			c = &d->cells[d->nc++];
			memset(c, 0, sizeof(*c));
			c->line = (size_t)li;
			c->xtext = xstrdup(xt);
			if (plot_is_number(xt, &xv))
				c->x = xv;
			else
				d->numeric = false;
		}
		dvec_push(&c->v, sqlite3_column_double(s, 2));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		seterr(err, errlen, "plot-line.sql: %s", sqlite3_errmsg(db));
		return 1;
	}
	return 0;
}

/* Mean and interval of every cell, category x positions, and the ranges of both axes. */
static void line_stats(struct line_data *d)
{
	d->xmin = d->ymin = INFINITY;
	d->xmax = -INFINITY;
	d->ymax = 0;
	for (size_t i = 0; i < d->nc; i++) {
		struct cell *c = &d->cells[i];

		plot_stats(c->v.v, c->v.n, &c->mean, &c->lo, &c->hi);
		d->maxabs = fmax(d->maxabs, fmax(fabs(c->lo), fabs(c->hi)));
		if (c->v.n > d->maxn)
			d->maxn = c->v.n;
		if (!d->numeric) {
			long k = strv_find(&d->xcats, c->xtext);

			c->x = (double)(k < 0 ? (long)strv_push(&d->xcats, c->xtext) : k);
		}
		d->xmin = fmin(d->xmin, c->x);
		d->xmax = fmax(d->xmax, c->x);
		d->ymin = fmin(d->ymin, c->mean);
		d->ymax = fmax(d->ymax, c->mean);
	}
}

/* The data blocks (one per line) and the prelude's line names, colours and dashes. */
static void line_write(struct gp *g, const struct plot_opts *o, const struct plot_info *in,
		       const struct line_data *d, const char *metric, const char *x,
		       const char *unit, double div)
{
	int ly = plot_auto_log(o->logy, d->ymin, d->ymax, 1000);
	const char **lp;
	size_t i;

	fprintf(g->pre, "logx = %d\nlogy = %d\n",
		d->numeric ? plot_auto_log(o->logx, d->xmin, d->xmax, 16) : 0, ly);
	fprintf(g->dat, "# memsim plot line: %s against %s; x mean ci95_low ci95_high n "
		"(y in %s)\n", metric, x, *unit ? unit : "units");
	for (i = 0; i < d->nc; i++) {
		const struct cell *c = &d->cells[i];
		double lo = c->lo / div;

		if (i && c->line != d->cells[i - 1].line)
			fprintf(g->dat, "\n\n");
		if (ly && lo <= 0)	/* a log axis cannot show a band through zero */
			lo = c->mean / div / 10;
		fprintf(g->dat, "%.10g %.10g %.10g %.10g %zu\n", c->x, c->mean / div, lo,
			c->hi / div, c->v.n);
	}
	fprintf(g->pre, "n = %zu\n", d->lines.n);
	plot_gp_array(g->pre, "names", &d->lines, false);
	fprintf(g->pre, "array lc_of[%zu]\narray dt_of[%zu]\n", d->lines.n, d->lines.n);
	for (i = 0; i < d->lines.n; i++)
		fprintf(g->pre, "lc_of[%zu] = %zu\ndt_of[%zu] = %zu\n", i + 1, d->lc_of[i], i + 1,
			d->dt_of[i]);
	lp = xrealloc(NULL, (d->lines.n ? d->lines.n : 1) * sizeof(*lp));
	for (i = 0; i < d->lines.n; i++)
		lp[i] = d->pols.v[d->lc_of[i] - 1];
	plot_gp_colours(g->pre, "pc", in->models, lp, d->lines.n);
	free(lp);
	fprintf(g->pre, "nx = %zu\n", d->numeric ? 0 : d->xcats.n);
	if (!d->numeric)
		plot_gp_array(g->pre, "xl", &d->xcats, true);
}

int plot_line(sqlite3 *db, const struct plot_opts *o, const struct plot_info *in,
	      const char *sweep_id, char *err, size_t errlen)
{
	struct binds b = { .metric = o->metric, .x = o->x, .by = o->by };
	struct line_data d = { .numeric = true };
	double div, xd;
	char *metric = NULL, *x = NULL, ylabel[256], xlabel[256], title[2048], what[512];
	char extra[256];
	const char *unit, *xu;
	struct gp g;
	sqlite3_stmt *s = NULL;
	int rc;

	metric = o->metric ? xstrdup(o->metric) :
		 plot_default_metric(db, (const char *const[]){ "_ns", NULL });
	x = o->x ? xstrdup(o->x) : plot_default_axis(db, sweep_id, in, 0);
	if (!metric || !x) {
		seterr(err, errlen, "%s", !metric ? "--metric: no metric varies in the selection; "
		       "name one with --metric" : "--x: no parameter varies in the selection; name "
		       "one with --x");
		rc = 2;
		goto out;
	}
	if ((rc = plot_check_name(db, "metrics", "name", "--metric", metric, err, errlen)) ||
	    (rc = plot_check_name(db, "params", "key", "--x", x, err, errlen)) ||
	    (o->by && (rc = plot_check_name(db, "params", "key", "--by", o->by, err, errlen))))
		goto out;
	b.metric = metric;
	b.x = x;

	/* averaging over a parameter that is neither x nor by mixes configurations */
	if (!o->quiet) {
		s = plot_query_file(db, "plot-mixed.sql", &b, err, errlen);
		if (s && sqlite3_step(s) == SQLITE_ROW)
			fprintf(stderr, "memsim plot: warning: %s takes several values at one %s: the "
				"means mix them (narrow with --where %s=VALUE or split with --by %s)\n",
				sqlite3_column_text(s, 0), x, sqlite3_column_text(s, 0),
				sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	if ((rc = line_load(db, &b, &d, err, errlen)))
		goto out;
	if (!d.nc) {
		seterr(err, errlen, "no selected run has both parameter %s and metric %s", x, metric);
		rc = 1;
		goto out;
	}
	line_stats(&d);
	plot_unit(metric, d.maxabs, &div, &unit);
	plot_label(metric, unit, ylabel, sizeof(ylabel));
	plot_unit(x, fabs(d.xmax), &xd, &xu);
	plot_label(x, xu, xlabel, sizeof(xlabel));
	if (d.numeric) {
		for (size_t i = 0; i < d.nc; i++)
			d.cells[i].x /= xd;
		d.xmin /= xd;
		d.xmax /= xd;
	}
	if ((rc = gp_begin(&g, o->out, o->data, o->width, o->height, err, errlen)))
		goto out;
	line_write(&g, o, in, &d, metric, x, unit, div);
	snprintf(what, sizeof(what), "%s vs %s", ylabel, x);
	if (d.maxn > 1)
		snprintf(extra, sizeof(extra), "mean and 95%% CI of up to %zu runs", d.maxn);
	else
		snprintf(extra, sizeof(extra), "one run per point");
	plot_make_title(o, in, what, extra, title, sizeof(title));
	gp_str(g.pre, "plottitle", title);
	gp_str(g.pre, "xlabel", xlabel);
	gp_str(g.pre, "ylabel", ylabel);
	rc = gp_run(&g, "line.gp", o->quiet, err, errlen);
	gp_cleanup(&g);
out:
	line_data_free(&d);
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

	if (all_numeric && plot_is_number(x, &dx) && plot_is_number(y, &dy))
		return dx < dy ? -1 : dx > dy;
	return strcmp(x, y);
}

static void sort_axis(struct strv *v)
{
	size_t i;
	double d;

	all_numeric = true;
	for (i = 0; i < v->n; i++)
		all_numeric &= plot_is_number(v->v[i], &d);
	qsort(v->v, v->n, sizeof(*v->v), cmp_axis);
}

int plot_heatmap(sqlite3 *db, const struct plot_opts *o, const struct plot_info *in,
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
		 plot_default_metric(db, (const char *const[]){ "_ns", NULL });
	x = o->x ? xstrdup(o->x) : plot_default_axis(db, sweep_id, in, 0);
	y = o->y ? xstrdup(o->y) : plot_default_axis(db, sweep_id, in, 1);
	if (!metric || !x || !y) {
		seterr(err, errlen, "%s", !metric ? "--metric: no metric varies; name one" :
		       "--x/--y: fewer than two parameters vary; name them with --x and --y");
		rc = 2;
		goto out;
	}
	if ((rc = plot_check_name(db, "metrics", "name", "--metric", metric, err, errlen)) ||
	    (rc = plot_check_name(db, "params", "key", "--x", x, err, errlen)) ||
	    (rc = plot_check_name(db, "params", "key", "--y", y, err, errlen)))
		goto out;
	b.metric = metric;
	b.x = x;
	b.y = y;
	/* two passes: the axes, then the cell sums */
	for (pass = 0; pass < 2; pass++) {
		s = plot_query_file(db, "plot-heatmap.sql", &b, err, errlen);
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
		plot_auto_log(o->logy, zmin, zmax, 1000));
	plot_gp_array(g.pre, "names", &pol, false);
	plot_gp_colours(g.pre, "pc", in->models, (const char *const *)pol.v, pol.n);
	plot_gp_array(g.pre, "xl", &xs, true);
	plot_gp_array(g.pre, "yl", &ys, true);
	snprintf(what, sizeof(what), "%s over %s x %s", zl, x, y);
	snprintf(extra, sizeof(extra), "mean over repetitions");
	plot_make_title(o, in, what, extra, title, sizeof(title));
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

int plot_cdf(sqlite3 *db, const struct plot_opts *o, const struct plot_info *in,
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
		if ((rc = plot_check_name(db, "series", "name", "--series", o->series, err, errlen)))
			return rc;
		name = o->series;
	} else {
		metric = o->metric ? xstrdup(o->metric) :
			 plot_default_metric(db, (const char *const[]){ "_p99_ns", "_ns", NULL });
		if (!metric) {
			seterr(err, errlen, "--metric: no metric varies; name one (or --series)");
			return 2;
		}
		if ((rc = plot_check_name(db, "metrics", "name", "--metric", metric, err, errlen))) {
			free(metric);
			return rc;
		}
		b.metric = metric;
		name = metric;
	}
	s = plot_query_file(db, o->series ? "plot-cdf-series.sql" : "plot-cdf-metric.sql", &b, err,
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
	fprintf(g.pre, "logx = %d\n", plot_auto_log(o->logx, vmin, vmax, 1000));
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
	plot_gp_array(g.pre, "names", &lines, false);
	plot_gp_colours(g.pre, "pc", in->models, (const char *const *)lines.v, lines.n);
	snprintf(what, sizeof(what), "distribution of %s %s", xl,
		 o->series ? "samples over the selected runs" : "across runs");
	plot_make_title(o, in, what, NULL, title, sizeof(title));
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

/* The prelude of a series plot: labels, one colour per policy (further runs of a policy
 * dashed), and the title; tlo and thi are the window in tunit. */
static void series_prelude(struct gp *g, const struct plot_opts *o, const struct plot_info *in,
			   const char *name, const struct strv *labels, const struct strv *pols,
			   const char *tunit, const char *vunit, double tlo, double thi,
			   bool decimated)
{
	char xl[256], yl[256], title[2048], what[512], extra[256];
	size_t i;

	snprintf(xl, sizeof(xl), "simulated time (%s)", tunit);
	plot_label(name, vunit, yl, sizeof(yl));
	fprintf(g->pre, "n = %zu\n", labels->n);
	plot_gp_array(g->pre, "names", labels, false);
	plot_gp_colours(g->pre, "pc", in->models, (const char *const *)pols->v, pols->n);
	/* further runs of one policy keep its colour and take dashes 2, 3, ... */
	fprintf(g->pre, "array dts[%zu]\n", labels->n ? labels->n : 1);
	for (i = 0; i < labels->n; i++) {
		size_t j, same = 0;

		for (j = 0; j < i; j++)
			same += !strcmp(pols->v[j], pols->v[i]);
		fprintf(g->pre, "dts[%zu] = %zu\n", i + 1, 1 + same % 5);
	}
	snprintf(what, sizeof(what), "%s over time", yl);
	{
		size_t off = (size_t)snprintf(extra, sizeof(extra), "%zu run%s", labels->n,
					      labels->n == 1 ? "" : "s");

		if ((o->has_from || o->has_to) && off < sizeof(extra))
			off += (size_t)snprintf(extra + off, sizeof(extra) - off, "; %.6g-%.6g %s",
						tlo, thi, tunit);
		if (decimated && off < sizeof(extra))
			snprintf(extra + off, sizeof(extra) - off, "; min and max per pixel column");
	}
	plot_make_title(o, in, what, extra, title, sizeof(title));
	gp_str(g->pre, "plottitle", title);
	gp_str(g->pre, "xlabel", xl);
	gp_str(g->pre, "ylabel", yl);
}

int plot_series(sqlite3 *db, const struct plot_opts *o, const struct plot_info *in,
		char *err, size_t errlen)
{
	struct binds b = { 0 };
	struct strv runs = { 0 }, labels = { 0 }, pols = { 0 };
	char *name = NULL, lab[512];
	double tdiv, vdiv, tmax = 0, vmax = 0, tlo = INFINITY, thi = -INFINITY;
	const char *tunit, *vunit;
	sqlite3_stmt *s;
	size_t skipped = 0, npts[MAX_SERIES_RUNS] = { 0 }, ncols, decimated = 0;
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
	if ((rc = plot_check_name(db, "series", "name", "--series", name, err, errlen)))
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
		s = plot_query_file(db, "plot-series.sql", &b, err, errlen);
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
				plot_run_label(db, rid, in, in->seeds > 1, lab, sizeof(lab));
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
	series_prelude(&g, o, in, name, &labels, &pols, tunit, vunit, tlo / tdiv, thi / tdiv,
		       decimated > 0);
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

int plot_pareto(sqlite3 *db, const struct plot_opts *o, const struct plot_info *in,
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
	     plot_default_metric(db, (const char *const[]){ "_bytes_peak", "_bytes", NULL });
	my = o->y ? xstrdup(o->y) :
	     plot_default_metric(db, (const char *const[]){ "_p99_ns", "_max_ns", "_ns", NULL });
	if (!mx || !my) {
		seterr(err, errlen, "pareto: name the two metrics with --x (memory) and --y (latency)");
		rc = 2;
		goto out;
	}
	if ((rc = plot_check_name(db, "metrics", "name", "--x", mx, err, errlen)) ||
	    (rc = plot_check_name(db, "metrics", "name", "--y", my, err, errlen)))
		goto out;
	b.x = mx;
	b.y = my;
	s = plot_query_file(db, "plot-pareto.sql", &b, err, errlen);
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
	fprintf(g.pre, "logx = %d\nlogy = %d\n", plot_auto_log(o->logx, xmin, xmax, PARETO_LOG_SPAN),
		plot_auto_log(o->logy, ymin, ymax, PARETO_LOG_SPAN));
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
		bool lx = plot_auto_log(o->logx, xmin, xmax, PARETO_LOG_SPAN);
		bool ly = plot_auto_log(o->logy, ymin, ymax, PARETO_LOG_SPAN);
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
				plot_run_label(db, order[i]->run, in, false, lab, sizeof(lab));
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
	plot_gp_array(g.pre, "names", &pol, false);
	plot_gp_colours(g.pre, "pc", in->models, (const char *const *)pol.v, pol.n);
	snprintf(what, sizeof(what), "%s against %s, %zu configurations, %zu on the front", yl,
		 xl, n, nfront);
	plot_make_title(o, in, what, "means over repetitions", title, sizeof(title));
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
