/* SPDX-License-Identifier: MIT */
/*
 * sim/sweep.h — sweep specifications and their points.
 *
 * A sweep is a list of axes, each written NAME=SPEC on the command line or one per line of a
 * sweep file (same parser for both):
 *
 *   heavy=64,128,256          a list (items may be integers with suffixes, or choice names)
 *   heavy=64..4096*2          a range by factor: 64, 128, ..., 4096
 *   batch=128..2048+128       a range by step: 128, 256, ..., 2048
 *   heavy=16,64..1024*4,5000  items and ranges mixed
 *   light=heavy/4             derived: an integer expression over other parameters
 *                             (+ - * / % and parentheses, min(a,b), max(a,b)), evaluated
 *                             per point, so a (heavy, light) pair moves as one
 *   policy=list,hash,tree     the model's policy is an axis like any other
 *   if light < heavy          a condition (--if on the command line): points where it is
 *                             false are left out; < <= > >= == != && || give 1 or 0
 *
 * The points are the cross product of the list axes (first axis slowest), each with every
 * derived parameter evaluated, less the combinations a condition rejects, times --reps
 * repetitions (innermost).  Without conditions point i is computed from i alone (mixed-radix
 * digits); with them, from a table of the accepted combinations built by sweep_finish().
 *
 * A derived parameter may refer to swept parameters, to other derived ones (no cycles) and,
 * through the resolver given to sweep_finish(), to fixed parameters (--set or defaults).  A
 * single bare word that names a parameter (`light=heavy`) is a reference, any other word is
 * a choice value (`relinquish=monolithic`).
 */
#ifndef MEMSIM_SIM_SWEEP_H
#define MEMSIM_SIM_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "param.h"

#define SWEEP_MAX_AXES 32
#define SWEEP_NAME_MAX 64

/* A name (axis, parameter) starts with a letter or _ and goes on with letters, digits, _. */
static inline bool sweep_is_name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline bool sweep_is_name_char(int c)
{
	return sweep_is_name_start(c) || (c >= '0' && c <= '9');
}
#define SWEEP_VALUE_MAX 96
/* Bounds that turn a typo (`n=1..100000000`) into an error instead of a week of runs. */
#define SWEEP_MAX_VALUES 1000000
#define SWEEP_MAX_POINTS 10000000
#define SWEEP_MAX_REPS 100000
#define SWEEP_MAX_CONDS 16

struct sweep_expr;

struct sweep_value {
	char text[SWEEP_VALUE_MAX];   /* normalised: integers in decimal, words as written */
	uint64_t num;
	bool is_num;
};

struct sweep_axis {
	char name[SWEEP_NAME_MAX];
	char *spec;                   /* SPEC as written (for messages and the sweep's identity) */
	char *where;                  /* "FILE:LINE: " or "" (prefix of error messages) */
	struct sweep_value *values;   /* list axis: nvalues > 0 */
	size_t nvalues;
	struct sweep_expr *expr;      /* derived axis (values == NULL) */
};

struct sweep_cond {
	char *text;                   /* as written */
	char *where;                  /* "FILE:LINE" or "--if" */
	struct sweep_expr *expr;
};

/* Value of a parameter that is not swept: 0, or -ENOENT if there is no such parameter and
 * -EINVAL if it has no integer value (a choice). */
typedef int (*sweep_resolve_fn)(void *ctx, const char *name, uint64_t *value);

struct sweep {
	struct sweep_axis axes[SWEEP_MAX_AXES];
	size_t naxes;
	struct sweep_cond conds[SWEEP_MAX_CONDS];
	size_t nconds;
	unsigned reps;                /* >= 1 */
	uint64_t base_seed;
	/* set by sweep_finish() */
	size_t *combos;               /* with conditions: the accepted combinations, in order */
	size_t ncombos;
	size_t order[SWEEP_MAX_AXES]; /* derived axes in evaluation order */
	size_t nderived;
	size_t npoints;               /* product of list sizes x reps */
	sweep_resolve_fn resolve;
	void *resolve_ctx;
};

struct sweep_point {
	size_t index;
	unsigned rep;
	uint64_t seed;
	const char *policy;           /* value of the "policy" axis, or NULL */
	size_t nsets;                 /* "NAME=VALUE" for every other axis, in axis order */
	char sets[SWEEP_MAX_AXES][SWEEP_NAME_MAX + SWEEP_VALUE_MAX + 2];
};

void sweep_init(struct sweep *sw);
void sweep_free(struct sweep *sw);

/*
 * Adds one NAME=SPEC axis.  where is "FILE:LINE" for a sweep file, NULL for the command line;
 * errors are one line, "FILE:LINE: NAME=SPEC: what is wrong" (err gets it).  0 or -EINVAL.
 */
int sweep_add(struct sweep *sw, const char *arg, const char *where, char *err, size_t errlen);
/* Adds a condition (`light < heavy`); where as for sweep_add ("--if" if NULL). */
int sweep_add_cond(struct sweep *sw, const char *text, const char *where, char *err,
		   size_t errlen);
/* Adds the axes of a sweep file: one NAME=SPEC or "if COND" per line, '#' starts a comment. */
int sweep_add_file(struct sweep *sw, const char *path, char *err, size_t errlen);

/*
 * An experiment file: a sweep file whose lines may also name the run (docs/sweeps.md,
 * "Experiment files"):  model = M, trace = FILE, scenario = NAME, profile = P, reps = N,
 * seed = N, and "set NAME=VALUE" (a fixed setting, as --set).  Values are kept as typed
 * (with where they came from); the command line decides what wins.  text is the whole
 * file, stored verbatim with the sweep.
 */
#define SWEEP_EXP_MAX_SETS 64
struct sweep_experiment {
	char *model, *trace, *scenario, *profile, *reps, *seed;
	char *sets[SWEEP_EXP_MAX_SETS];
	unsigned nsets;
	char *text;
	size_t len;
};
int sweep_add_experiment(struct sweep *sw, const char *path, struct sweep_experiment *x,
			 char *err, size_t errlen);
void sweep_experiment_free(struct sweep_experiment *x);
/* Adds "policy=LIST" (from --policy LIST) as the first axis. */
int sweep_add_policies(struct sweep *sw, const char *list, char *err, size_t errlen);
/* Index of the axis named name, or -1. */
int sweep_axis_find(const struct sweep *sw, const char *name);

/*
 * Resolves derived parameters (unknown names, cycles, choice values used as numbers are
 * errors), counts the points, and checks every derived value of every point can be computed.
 * 0 or -EINVAL / -E2BIG with a message.
 */
int sweep_finish(struct sweep *sw, sweep_resolve_fn fn, void *ctx, char *err, size_t errlen);

/* Point i (0 <= i < npoints).  0, or -EINVAL with a message (a derived value out of range). */
int sweep_point(const struct sweep *sw, size_t index, struct sweep_point *pt,
		char *err, size_t errlen);

/*
 * Seed of repetition rep: the base seed itself for rep 0 (a one-rep sweep point is the same
 * run as `memsim run --seed S`), else a 52-bit mix of base seed and rep (exact in a double).
 */
uint64_t sweep_rep_seed(uint64_t base, unsigned rep);

/* "I/N" with 1 <= I <= N: 0 or -EINVAL. */
int sweep_parse_shard(const char *s, unsigned *i, unsigned *n);
/* Shard I of N takes the points whose index is I-1 modulo N (round robin: the costs of
 * neighbouring points differ most, so the shards stay balanced). */
static inline bool sweep_in_shard(size_t index, unsigned i, unsigned n)
{
	return n <= 1 || index % n == i - 1;
}

/* The axes as JSON: [{"name":..,"values":[..]} | {"name":..,"expr":".."} | {"if":".."}, ...]. */
void sweep_write_axes_json(const struct sweep *sw, FILE *out);

/* Expression parser and evaluator (exposed for tests). */
int sweep_expr_parse(const char *text, struct sweep_expr **out, char *err, size_t errlen);
/* The same for a derived axis of parameter unit `unit` (what a time suffix converts to). */
int sweep_expr_parse_unit(const char *text, enum param_unit unit, struct sweep_expr **out,
			  char *err, size_t errlen);
void sweep_expr_free(struct sweep_expr *e);
/* Evaluates with names looked up by fn: 0, or -EINVAL (message: below zero, overflow,
 * division by zero, unknown name). */
int sweep_expr_eval(const struct sweep_expr *e, sweep_resolve_fn fn, void *ctx, uint64_t *v,
		    char *err, size_t errlen);
/* Calls fn for every name the expression refers to; stops at the first non-zero return. */
int sweep_expr_names(const struct sweep_expr *e, int (*fn)(void *ctx, const char *name),
		     void *ctx);

#endif
