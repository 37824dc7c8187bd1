/* SPDX-License-Identifier: MIT */
/*
 * sim/param.h — named parameters settable with --set name=value.
 *
 * A run's parameter set is the union of its model driver's table (model, policy and machine
 * parameters) and, for a generated trace, its scenario's table.  Integers accept the
 * multipliers k, M, G (10^3, 10^6, 10^9) and Ki, Mi, Gi, Ti (2^10 ... 2^40).  A parameter's
 * unit is declared by its name: *_ns is a time in nanoseconds, *_ms in milliseconds; only
 * those take the time suffixes ns, us, ms, s, converted exactly to the parameter's unit
 * (`--set n=5us` is an error, `period_ms=2s` is 2000, `period_ms=5us` an error).  A choice
 * parameter takes one of a fixed list of names.  Each parameter may be set once.
 */
#ifndef MEMSIM_SIM_PARAM_H
#define MEMSIM_SIM_PARAM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "model.h"

enum param_kind { PARAM_INT, PARAM_CHOICE };

struct param_def {
	const char *name;
	enum param_kind kind;
	uint64_t def, min, max;        /* for CHOICE: index of the default; min/max unused */
	const char *const *choices;    /* CHOICE: NULL-terminated names */
	const char *doc;
};

#define PARAM_SET_MAX 64
struct param_set {
	struct param_def defs[PARAM_SET_MAX];
	const char *group[PARAM_SET_MAX];   /* "model", "machine", "scenario", ... */
	uint64_t values[PARAM_SET_MAX];
	bool explicit_set[PARAM_SET_MAX];
	size_t n;
};

void param_set_init(struct param_set *ps);
void param_set_add(struct param_set *ps, const char *group, const struct param_def *defs, size_t n);
/* Adds a models/ table of integer parameters (terminated by count). */
void param_set_add_model(struct param_set *ps, const char *group, const struct model_param *mp,
			 size_t n);
/* "key=value": 0, or -1 with "--set KEY=VALUE: what is wrong" in err. */
int param_set_assign(struct param_set *ps, const char *kv, char *err, size_t errlen);
int param_find(const struct param_set *ps, const char *name);   /* index or -1 */
uint64_t param_get(const struct param_set *ps, const char *name); /* aborts if unknown */
enum param_unit { PARAM_UNIT_NONE, PARAM_UNIT_NS, PARAM_UNIT_MS };
/* The unit a parameter's name declares (see above). */
enum param_unit param_unit_of(const char *name);
enum { PARAM_ESYNTAX = -1, PARAM_EUNIT = -2, PARAM_EWHOLE = -3, PARAM_ERANGE = -4 };
/* A value for a parameter of that unit: 0, or one of PARAM_E* (param_value_error says it). */
int param_parse_value(const char *s, enum param_unit unit, uint64_t *v);
const char *param_value_error(int rc, enum param_unit unit);
/* A plain count (multipliers, no time suffix); 0 or -1. */
int param_parse_u64(const char *s, uint64_t *v);
void param_print_help(const struct param_set *ps, FILE *out);
/* {"name": value, ...} in table order (choices as strings).  Deterministic. */
void param_write_json(const struct param_set *ps, FILE *out);
/* Value as text ("256", "preemptible"). */
void param_value_text(const struct param_set *ps, size_t i, char *buf, size_t len);

#endif
