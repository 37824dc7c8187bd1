/* SPDX-License-Identifier: MIT */
/*
 * analysis/gnuplot.h — the one way memsim runs gnuplot (plot, report, validate --plot).
 *
 * memsim writes a prelude of variables and a data file into a private temporary directory
 * and runs `gnuplot PRELUDE analysis/SCRIPT` (argv, no shell).  Every string from outside
 * (database, profile, trace name, --title, paths) reaches gnuplot only as the value of a
 * variable, written by gp_str as a single-quoted gnuplot string: gnuplot substitutes
 * neither backquotes nor @macros inside single quotes; a quote is doubled; a newline is
 * spliced in as "\n" (the only double-quoted text memsim writes); other control characters
 * become spaces.  The only file names gnuplot sees are in the temporary directory and the
 * analysis/ directory, made absolute (or ./-relative) so none can begin with '<' or '|'
 * (gnuplot's pipes).  gnuplot draws into the temporary directory; the picture is then
 * installed at the output with outfile.h (a failed plot leaves the old picture as it was).
 */
#ifndef MEMSIM_SIM_GNUPLOT_H
#define MEMSIM_SIM_GNUPLOT_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "outfile.h"

struct gp {
	char dir[PATH_MAX - 64];     /* private temporary directory; "" if none */
	char prelude[PATH_MAX];
	char data[PATH_MAX];
	char img[PATH_MAX];          /* what gnuplot draws */
	char errf[PATH_MAX];
	const char *keep_data;       /* --data: a copy of the data file goes there */
	struct outfile out;          /* the picture's temporary file beside its target */
	FILE *pre, *dat;             /* the prelude and the data, open for the caller */
};

/*
 * Makes the temporary directory, opens prelude and data, checks out (.png or .svg, a file
 * memsim may replace) and keep_data (NULL for none), and writes the common variables
 * (adir, termtype, outfile, datafile, width, height, logx = logy = 0).
 * 0, 1 (a failure) or 2 (the output is refused), message in err; gp_cleanup in every case.
 */
int gp_begin(struct gp *g, const char *out, const char *keep_data, unsigned width,
	     unsigned height, char *err, size_t errlen);
/* var = val, as a string gnuplot cannot interpret (see above). */
void gp_str(FILE *f, const char *var, const char *val);
/* The same for an explicit tic label (gnuplot reads those as formats: % is doubled). */
void gp_tic(FILE *f, const char *var, const char *val);
/* val as a double-quoted string field of a data file: '"' becomes ', '\' becomes '/',
 * a newline is written as \n (gnuplot shows it as a line break), other controls as spaces. */
void gp_data_str(FILE *f, const char *val);
/* Runs gnuplot on the prelude and analysis/script and installs the picture.  0, or 1 with
 * gnuplot's complaint in err (the old output, if any, untouched).  quiet: no warnings. */
int gp_run(struct gp *g, const char *script, bool quiet, char *err, size_t errlen);
/* Removes the temporary directory and any unfinished output.  Safe after a failed gp_begin
 * and on a struct gp zeroed with memset. */
void gp_cleanup(struct gp *g);

#endif
