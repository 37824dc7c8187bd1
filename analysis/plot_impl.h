/* SPDX-License-Identifier: MIT */
/*
 * analysis/plot_impl.h — what the parts of `memsim plot` share, private to analysis/:
 *   plot_common.c  analysis files, the selection, titles, units and labels
 *   plot_kinds.c   one function a kind: line, heatmap, cdf, series, pareto
 *   cmd_plot.c     plot_draw() and the command line
 */
#ifndef MEMSIM_ANALYSIS_PLOT_IMPL_H
#define MEMSIM_ANALYSIS_PLOT_IMPL_H

#include <stdbool.h>
#include <stdio.h>
#include <sqlite3.h>

#include "plot.h"
#include "util.h"

#define MAX_SERIES_RUNS 12

/* Values for the named parameters of the analysis queries. */
struct binds {
	const char *metric, *x, *y, *by, *series, *sweep;
};

struct plot_info {
	char *models, *traces, *profiles;
	long runs, seeds;
	struct strv policies;
	struct strv varying;      /* parameters with several values */
};

sqlite3_stmt *plot_query_file(sqlite3 *db, const char *name, const struct binds *b,
			      char *err, size_t errlen);
void plot_gp_colours(FILE *f, const char *var, const char *model, const char *const *pol,
		     size_t n);
void plot_gp_array(FILE *f, const char *var, const struct strv *v, bool tics);
void plot_info_free(struct plot_info *in);
int plot_info_load(sqlite3 *db, struct plot_info *in, char *err, size_t errlen);
void plot_run_label(sqlite3 *db, const char *run_id, const struct plot_info *in, bool seed,
		    char *buf, size_t len);
void plot_make_title(const struct plot_opts *o, const struct plot_info *in, const char *what,
		     const char *extra, char *buf, size_t len);
int plot_check_name(sqlite3 *db, const char *table, const char *col, const char *opt,
		    const char *name, char *err, size_t errlen);
char *plot_default_metric(sqlite3 *db, const char *const *want);
char *plot_default_axis(sqlite3 *db, const char *sweep_id, const struct plot_info *in, size_t k);
int plot_auto_log(int opt, double lo, double hi, double span);
bool plot_is_number(const char *s, double *v);

int plot_line(sqlite3 *db, const struct plot_opts *o, const struct plot_info *in,
	      const char *sid, char *err, size_t errlen);
int plot_heatmap(sqlite3 *db, const struct plot_opts *o, const struct plot_info *in,
		 const char *sid, char *err, size_t errlen);
int plot_cdf(sqlite3 *db, const struct plot_opts *o, const struct plot_info *in,
	     char *err, size_t errlen);
int plot_series(sqlite3 *db, const struct plot_opts *o, const struct plot_info *in,
		char *err, size_t errlen);
int plot_pareto(sqlite3 *db, const struct plot_opts *o, const struct plot_info *in,
		char *err, size_t errlen);

#endif
