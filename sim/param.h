/* SPDX-License-Identifier: MIT */
/*
 * sim/param.h — named parameters settable with --set name=value.
 *
 * A run's parameter set is the union of its model driver's table (model, policy and machine
 * parameters) and, for a generated trace, its scenario's table.  Integers accept the
 * suffixes k, M, G (10^3, 10^6, 10^9) and Ki, Mi, Gi (2^10, 2^20, 2^30); times are plain
 * nanoseconds (the name ends in _ns) or take the suffixes us, ms, s.  A choice parameter takes
 * one of a fixed list of names.
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
/* Integer parsing with suffixes; 0 or -1. */
int param_parse_u64(const char *s, uint64_t *v);
void param_print_help(const struct param_set *ps, FILE *out);
/* {"name": value, ...} in table order (choices as strings).  Deterministic. */
void param_write_json(const struct param_set *ps, FILE *out);
/* Value as text ("256", "preemptible"). */
void param_value_text(const struct param_set *ps, size_t i, char *buf, size_t len);

#endif
