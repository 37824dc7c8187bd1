/* SPDX-License-Identifier: MIT */
/*
 * sim/wide.h — runs as one typed row each: identity, parameters and metrics as columns.
 *
 * The database keeps parameters and metrics as name/value rows (docs/schema.md); this builds
 * the wide table a data frame wants, with a type per column: a parameter whose every value
 * is an integer is an integer column, one whose every value is a number is a real column,
 * else text; metrics are real.  Used by `memsim db export --wide` and `memsim compare`.
 */
#ifndef MEMSIM_SIM_WIDE_H
#define MEMSIM_SIM_WIDE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct store;

enum wide_type { WIDE_INT, WIDE_REAL, WIDE_TEXT };

struct wide_col {
	char *name;             /* column name: the key, or param_KEY / metric_NAME on a clash */
	char *key;              /* parameter key or metric name as stored */
	int is_metric;
	enum wide_type type;
};

struct wide_run {
	char *run_id, *sweep_id, *model, *policy, *trace;
	uint64_t seed;
};

struct wide {
	size_t nruns, ncols;
	struct wide_run *run;   /* in run_id order */
	struct wide_col *col;   /* parameters in first-use order, then metrics in report order */
	char **cell;            /* nruns x ncols, row-major; NULL = absent or NaN */
};

/* Loads the runs of sweep_id (NULL: every run) or the one run run_id (NULL: no filter).
 * 0, or -1 with a one-line message (SQL error, out of memory). */
int wide_load(struct store *st, const char *sweep_id, const char *run_id, struct wide *w,
	      char *err, size_t errlen);
void wide_free(struct wide *w);
const char *wide_cell(const struct wide *w, size_t run, size_t col);
/* Writes the table as CSV (header row; numbers bare) or as a JSON array of objects (numbers
 * as numbers, absent as null). */
void wide_write_csv(const struct wide *w, FILE *out);
void wide_write_json(const struct wide *w, FILE *out);
/* Writes text as a JSON value: a number if it is one (integers in decimal, reals in
 * memsim's shortest exact form), else a string. */
void json_write_scalar(FILE *out, const char *text);
/* 1 if text is a decimal integer (optional sign), 2 if another finite decimal number. */
int wide_numeric(const char *text);

#endif
