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

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include "metric_defs.h"
#include "metrics.h"

struct store;
struct sqlite3;

#define STORE_SCHEMA_VERSION 1

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

/*
 * Error messages written to err are one line without the "memsim: " prefix, naming the file.
 */
/* Opens (creating and migrating the schema if needed).  NULL + message on failure.  A path
 * that exists must be a regular file (a device, FIFO or directory is refused); a new file
 * that could not be set up (full disk) is removed again. */
struct store *store_open(const char *path, char *err, size_t errlen);
/* Opens an existing memsim database read-only; never creates a file.  NULL + message. */
struct store *store_open_readonly(const char *path, char *err, size_t errlen);
void store_close(struct store *st);
const char *store_path(const struct store *st);
/* The connection itself, for read-only queries (memsim db, memsim plot). */
struct sqlite3 *store_sqlite(struct store *st);

/*
 * Inserts one run with its params, metrics and series in one transaction.
 * Returns 0, 1 if a run with this id is already stored with the same event digest (nothing
 * written), or -1 with a message (including a conflict: same id, different results).
 */
int store_put_run(struct store *st, const struct run_record *run, char *err, size_t errlen);
/* After store_put_run() returned -1: true if the run was refused (a conflict, an invalid
 * record), false if the database failed (I/O, a full disk, a lock never released). */
bool store_put_failed_on_conflict(const struct store *st);
/*
 * Stores what model's metrics mean (table metric_defs, one row per entry of the NULL-name
 * terminated tables; docs/schema.md), replacing what an earlier memsim stored for the model.
 * Nothing is written when the stored definitions are these already.  0, or -1 + message.
 */
int store_put_metric_defs(struct store *st, const char *model,
			  const struct metric_def *const *tables, size_t ntables,
			  char *err, size_t errlen);
/* 1 if the run id is present, 0 if not, -1 on error. */
int store_has_run(struct store *st, const char *run_id);

/*
 * Records a sweep (spec: its specification, e.g. the command line or a JSON object).
 * Returns 0 if inserted (or an earlier placeholder row, made by store_put_run for an unknown
 * sweep id, got its spec), 1 if already present with the same spec, -1 with a message if
 * present with a different spec.
 */
int store_put_sweep(struct store *st, const char *sweep_id, const char *spec,
		    char *err, size_t errlen);
/*
 * Stores an experiment file's text verbatim with its sweep (table sweep_files, created on
 * first use; name is the file's base name).  The same sweep and name again replaces the text
 * (a comment edited).  0, or -1 with a message.
 */
int store_put_sweep_file(struct store *st, const char *sweep_id, const char *name,
			 const char *text, char *err, size_t errlen);
/*
 * Makes a stored run that belongs to no sweep part of sweep_id (a sweep meeting a point that
 * a plain `memsim run` already stored).  Returns 1 if adopted, 0 if the run is absent or
 * already in a sweep (then it stays where it is), -1 with a message.
 */
int store_adopt_run(struct store *st, const char *run_id, const char *sweep_id,
		    char *err, size_t errlen);
/* The run ids of a sweep in run_id order; *ids is malloc'ed (free with store_free_ids). */
int store_sweep_runs(struct store *st, const char *sweep_id, char ***ids, size_t *n);
void store_free_ids(char **ids, size_t n);
/*
 * Copies every run (and its params, metrics, series, sweep row) of the database at in_path
 * into st, in one transaction: all of in_path's new runs, or none.  Runs already in st with
 * the same event digest are skipped (merging twice changes nothing); a run id present in both
 * with different event digests is a conflict: nothing is copied, -1 with a message naming
 * the run.  Returns 0 and the counts, or -1.
 */
int store_merge(struct store *st, const char *in_path, size_t *copied, size_t *skipped,
		char *err, size_t errlen);

/* Room for any id store_resolve_id() gives back (memsim's are 16 hex digits). */
#define STORE_ID_MAX 65
/*
 * The one resolver of the run and sweep ids users type (db ls/show/export, plot, report):
 *   - an exact id;
 *   - "last": the most recently created run or sweep (ties: the one stored last);
 *   - a unique prefix of at least 4 characters (hex digits in either case).
 * what is "run" or "sweep"; opt names the argument in messages ("--sweep", "RUN_ID").
 * Returns 0 with the full id in out, 2 with a one-line message (no such id, an ambiguous
 * prefix with its candidates listed, a prefix too short, an id longer than out), or 1 with a
 * message on an SQL error.  Values are bound, never pasted into SQL.
 */
int store_resolve_id(struct store *st, const char *what, const char *opt, const char *arg,
		     char *out, size_t outlen, char *err, size_t errlen);

/*
 * `memsim db` sub-commands (sim/cmd_db.c): return a process exit status (0, 1 for errors,
 * 2 for usage or an unknown or ambiguous id).  Ids go through store_resolve_id().
 */
int store_cmd_ls(struct store *st, FILE *out, const char *sweep_id);
int store_cmd_show(struct store *st, FILE *out, const char *run_id);
int store_cmd_export_csv(struct store *st, FILE *out, const char *what, const char *sweep_id);

#endif
