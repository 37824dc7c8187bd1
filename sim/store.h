/* SPDX-License-Identifier: MIT */
/*
 * sim/store.h — the SQLite results store (schema in docs/schema.md).
 *
 * A run is written in one transaction: it is in the database complete, or not at all, even
 * if the process is killed half-way (SQLite's journal guarantees it).  Several processes may
 * write one database at once: WAL mode, a busy timeout and retries on SQLITE_BUSY.
 * Run ids are deterministic (a digest of the run's full configuration and provenance), so a
 * re-run, a resumed sweep or a shard merge recognises a run it already has.
 */
#ifndef MEMSIM_SIM_STORE_H
#define MEMSIM_SIM_STORE_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include "metrics.h"

struct store;

struct run_param {
	const char *key;
	const char *value;
};

struct run_record {
	char run_id[17];            /* 16 lower-case hex digits */
	const char *sweep_id;       /* NULL when not part of a sweep */
	const char *model;
	const char *policy;
	const char *trace;          /* file path, or "scenario:NAME" */
	uint64_t trace_digest;
	uint64_t seed;
	const char *profile_name;
	uint64_t profile_digest;
	uint64_t event_digest;
	const char *memsim_version;
	const char *config_json;    /* the complete configuration as one JSON object */
	int64_t wall_ns;            /* host wall-clock time of the run (not deterministic) */
	const char *status;         /* "ok" */
	const struct run_param *params;
	size_t nparams;
	const struct metrics *metrics;
};

/* Opens (creating and migrating the schema if needed).  NULL + message on failure. */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *st);

/*
 * Inserts one run with its params, metrics and series in one transaction.
 * Returns 0, 1 if a run with this id is already stored with the same event digest (nothing
 * written), or -1 with a message (including a conflict: same id, different results).
 */
int store_put_run(struct store *st, const struct run_record *run, char *err, size_t errlen);
/* 1 if the run id is present, 0 if not, -1 on error. */
int store_has_run(struct store *st, const char *run_id);

/* `memsim db` sub-commands: return a process exit status (0, 1 for errors, 2 for usage). */
int store_cmd_ls(struct store *st, FILE *out, const char *sweep_id);
int store_cmd_show(struct store *st, FILE *out, const char *run_id);
int store_cmd_export_csv(struct store *st, FILE *out, const char *what, const char *sweep_id);

#endif
