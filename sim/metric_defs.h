/* SPDX-License-Identifier: MIT */
/*
 * sim/metric_defs.h — what each metric a run reports means: name, unit, one line of meaning.
 *
 * Each model family keeps its table next to the code that reports the values (its driver's
 * report(), sim/drv_*.c), as plain const data, so that it can move into a family descriptor
 * unchanged.  The metrics every run gets (sim_time_ns, records, ...) are in metric_defs.c.
 * `memsim metrics` prints the tables, docs/models/MODEL.md carry them as generated sections,
 * every stored run writes its model's table to the database (metric_defs, docs/schema.md),
 * and tests/cli/metrics.sh checks that no driver reports a metric its table lacks and that
 * no entry is never reported.
 */
#ifndef MEMSIM_SIM_METRIC_DEFS_H
#define MEMSIM_SIM_METRIC_DEFS_H

#include <stdbool.h>
#include <stdio.h>

struct model_driver;

struct metric_def {
	const char *name;   /* exact, or a family of names: a prefix ending in '*' (work_*) */
	const char *unit;   /* ns, pages, bytes, count, ratio, ... */
	const char *doc;    /* what is counted, over what */
	const char *when;   /* NULL: in every run of the family; else when it is reported */
	bool series;        /* a time series (series table), not a scalar */
};

/* Entries several families share, spelled once. */
#define METRIC_DEF_WORK \
	{ "work_*", "units", "work of one kind counted by the model over the run (e.g. " \
	  "work_refcount, work_list_hop), which the cost profile prices into time " \
	  "(docs/cost-profiles.md); only kinds with a non-zero count are reported", NULL, false }
#define METRIC_DEF_MODEL_ERRORS \
	{ "model_errors", "count", "requests the model refused with an error (-errno), e.g. an " \
	  "operation on a page or domain it does not know; 0 in a consistent trace", NULL, false }
#define METRIC_DEF_IGNORED_RECORDS \
	{ "ignored_records", "count", "trace records of types this model does not use, skipped", \
	  NULL, false }
#define METRIC_DEF_IMPLICIT_DOMAINS \
	{ "implicit_domains", "count", "domains used by a record before any record created them " \
	  "(created on first use)", NULL, false }
#define METRIC_DEF_END { NULL, NULL, NULL, NULL, false }

/* The metrics of every run, whatever the model (NULL-name terminated). */
extern const struct metric_def metric_defs_common[];

/* Does name match the entry (exactly, or the prefix of a '*' entry)? */
bool metric_def_matches(const struct metric_def *d, const char *name);
/* The definition of a metric of model d's runs (its family's table, then the common one),
 * or NULL if none. */
const struct metric_def *metric_def_find(const struct model_driver *d, const char *name,
					 bool series);

#endif
