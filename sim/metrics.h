/* SPDX-License-Identifier: MIT */
/*
 * sim/metrics.h — the named results of one run: scalar metrics, time series, parameters.
 *
 * Names are snake_case; a time is in nanoseconds and its name ends in `_ns`, a size in bytes
 * ends in `_bytes`.  Order of insertion is kept (and is deterministic), so two runs that
 * agree produce byte-identical JSON and database rows.
 */
#ifndef MEMSIM_SIM_METRICS_H
#define MEMSIM_SIM_METRICS_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

struct metric {
	char *name;
	double value;        /* integers up to 2^53 are exact */
};

struct series_point {
	uint64_t t_ns;
	double value;
};

/*
 * A series keeps at most this many points.  Each point stands for a bucket of samples: its
 * time is the first sample's, its value the bucket's maximum (so saw-tooth peaks survive).
 * A sample joins the last bucket when it is less than min_interval_ns after it; a full
 * series is halved by merging adjacent pairs and min_interval_ns grows (metrics.c).
 */
#define METRICS_SERIES_MAX_POINTS 4096

struct series {
	char *name;
	struct series_point *pts;
	size_t n, cap;
	uint64_t min_interval_ns;   /* points closer than this are merged (keeps memory bounded) */
};

struct metrics {
	struct metric *m;
	size_t n, cap;
	struct series *s;
	size_t ns, scap;
};

void metrics_init(struct metrics *mx);
void metrics_free(struct metrics *mx);
/* Sets (or replaces) a scalar.  Aborts on out-of-memory: a run cannot continue without it. */
void metrics_set(struct metrics *mx, const char *name, double value);
int metrics_get(const struct metrics *mx, const char *name, double *value); /* 0 or -1 */
/* Appends a point to the named series (created on first use). */
void metrics_series_add(struct metrics *mx, const char *name, uint64_t t_ns, double value);
/* The named series, or NULL. */
const struct series *metrics_series_find(const struct metrics *mx, const char *name);
/* Sets the bucket width of a series (created if new): samples closer than ns are merged. */
void metrics_series_set_interval(struct metrics *mx, const char *name, uint64_t ns);
/* Writes {"name":value,...} on one line, no newline (embeddable), integers exact. */
void metrics_write_json(const struct metrics *mx, FILE *out);
/*
 * Formats a double the way every output of memsim does: an integral value below 2^53 as an
 * integer, others in the shortest "%.{15,16,17}g" form that reads back to the same double,
 * non-finite values as "nan", "inf", "-inf" (JSON output writes null for those).
 */
void metrics_format_value(double v, char *buf, size_t len);

#endif
