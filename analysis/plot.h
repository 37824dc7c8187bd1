/* SPDX-License-Identifier: MIT */
/*
 * analysis/plot.h — plots drawn from the results database (analysis/cmd_plot.c, docs/plots.md).
 *
 * A plot is: a selection of runs (temp table `sel`: --sweep, --where, --run), an SQL query
 * from analysis/ (plot-KIND.sql) over it, a little arithmetic in C (means and 95 % confidence intervals
 * with GSL, grids, fronts), a data file, and a gnuplot script from analysis/ (KIND.gp).
 * `memsim report` draws its pictures through the same plot_draw().
 */
#ifndef MEMSIM_SIM_PLOT_H
#define MEMSIM_SIM_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define PLOT_MAX_WHERE 32

struct plot_opts {
	const char *kind;          /* line, heatmap, cdf, series, pareto */
	const char *sweep;         /* sweep id, unique prefix, or "last"; NULL: every run */
	const char *where[PLOT_MAX_WHERE];   /* NAME=VALUE, NAME<VALUE, ... */
	unsigned nwhere;
	const char *run;           /* one run id (or unique prefix) */
	const char *metric;        /* line, heatmap, cdf: the metric (default: a varying _ns one) */
	const char *x, *y;         /* parameters (line, heatmap); metrics (pareto) */
	const char *by;            /* line: one line per policy and value of this parameter */
	const char *series;        /* series, cdf: a time-series name */
	const char *title;         /* replaces the generated title */
	const char *out;           /* OUT.png or OUT.svg */
	const char *data;          /* also keep the data file here */
	int logx, logy;            /* -1 automatic, 0 linear, 1 logarithmic */
	unsigned width, height;    /* pixels (default 900 x 560) */
	bool has_from, has_to;     /* series: a window of simulated time */
	uint64_t from_ns, to_ns;
	bool quiet;                /* no warnings on stderr */
};

void plot_opts_init(struct plot_opts *o);

/*
 * Draws one plot from st.  Returns 0, 1 (a failure: gnuplot, no data; message in err) or
 * 2 (bad usage: unknown kind, metric, parameter, output type; message in err).
 */
int plot_draw(struct store *st, const struct plot_opts *o, char *err, size_t errlen);

/* The directory of analysis/ files: $MEMSIM_ANALYSIS, else found beside the executable. */
const char *plot_analysis_dir(void);

struct sqlite3;
/* Text of the first column of the first row of sql (one optional text parameter), malloc'd;
 * NULL if there is no row, the value is NULL, or the query fails. */
char *plot_query_one(struct sqlite3 *db, const char *sql, const char *arg);

/*
 * Fills temp.sel with the runs of a sweep (id, prefix or "last"; NULL for all) that match
 * the --where conditions.  Returns the number of runs, or -2 (usage) / -1 with a message.
 * resolved gets the full sweep id (if sweep was given).
 */
long plot_select(struct store *st, const char *sweep, const char *const *where,
		 unsigned nwhere, const char *run, char resolved[17], char *err, size_t errlen);

/*
 * Scale and unit for a quantity by its name: *_ns in ns/us/ms/s, *_bytes in B/KiB/MiB/GiB,
 * chosen by the largest magnitude; "" for counts.  label gets "name words (unit)".
 */
void plot_unit(const char *name, double maxabs, double *div, const char **unit);
void plot_label(const char *name, const char *unit, char *buf, size_t len);

/* "#rrggbb": the colour of a policy, the same in every plot (its place in model's list). */
const char *plot_policy_colour(const char *model, const char *policy);

/* Reads analysis/NAME into a malloc'ed string, or NULL with a message. */
char *plot_sql(const char *name, char *err, size_t errlen);

/* Mean and 95 % confidence interval (Student t over n-1 degrees of freedom) of v[0..n). */
void plot_stats(const double *v, size_t n, double *mean, double *lo, double *hi);

#endif
