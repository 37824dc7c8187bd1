/* SPDX-License-Identifier: MIT */
/*
 * sim/store.c — the SQLite results store (schema and example queries in docs/schema.md).
 *
 * Invariants:
 *   - A run is written by one BEGIN IMMEDIATE ... COMMIT transaction together with all its
 *     params, metrics and series: a reader (or a process that reopens the file after a
 *     writer was killed) sees the run complete or not at all.  SQLite's write-ahead log gives
 *     that for free: frames of an uncommitted transaction are ignored on recovery.
 *   - Many processes may write one database: WAL mode (readers never block the writer),
 *     a 10 s busy timeout inside SQLite, and around it a retry loop that restarts the whole
 *     transaction when SQLite still answers SQLITE_BUSY.  BEGIN IMMEDIATE takes the write
 *     lock before anything is read, so a transaction never has to upgrade a stale snapshot.
 *   - Run ids are digests of a run's configuration: the same id with the same event digest
 *     is the same run (skipped), with a different event digest a conflict (refused).
 *   - synchronous=NORMAL: a crash of the process never loses a committed run; a power cut
 *     may lose the last few, which a resumed sweep simply recomputes.
 *
 * Statements used per run are prepared once per connection and reused.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include "store.h"
#include "util.h"

#define STORE_BUSY_TIMEOUT_MS 10000
/* Retries of a whole transaction after SQLite gave up waiting: 60 x 10 s is ten minutes. */
#define STORE_BUSY_RETRIES 60

#ifndef MEMSIM_VERSION
#define MEMSIM_VERSION "unknown"
#endif

struct store {
	sqlite3 *db;
	char *path;
	bool readonly;
	bool busy;               /* the last failed statement failed with SQLITE_BUSY/LOCKED */
	bool conflict;           /* the last store_put_run() failed on a conflict, not on I/O */
	sqlite3_stmt *find_run;
	sqlite3_stmt *has_run;
	sqlite3_stmt *ins_run;
	sqlite3_stmt *ins_param;
	sqlite3_stmt *ins_metric;
	sqlite3_stmt *ins_series;
	sqlite3_stmt *ins_sweep_stub;
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta (\n"
	"  key   TEXT PRIMARY KEY NOT NULL,\n"
	"  value TEXT NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE IF NOT EXISTS sweeps (\n"
	"  sweep_id       TEXT PRIMARY KEY NOT NULL,\n"
	"  created        TEXT NOT NULL,\n"
	"  spec           TEXT,\n"
	"  memsim_version TEXT NOT NULL\n"
	");\n"
	"CREATE TABLE IF NOT EXISTS runs (\n"
	"  run_id         TEXT PRIMARY KEY NOT NULL\n"
	"                 CHECK (length(run_id) = 16 AND run_id NOT GLOB '*[^0-9a-f]*'),\n"
	"  sweep_id       TEXT REFERENCES sweeps(sweep_id),\n"
	"  model          TEXT NOT NULL,\n"
	"  policy         TEXT NOT NULL,\n"
	"  trace          TEXT NOT NULL,\n"
	"  trace_digest   TEXT NOT NULL CHECK (length(trace_digest) = 16),\n"
	"  seed           INTEGER NOT NULL,\n"
	"  profile_name   TEXT,\n"
	"  profile_digest TEXT CHECK (profile_digest IS NULL OR length(profile_digest) = 16),\n"
	"  event_digest   TEXT NOT NULL CHECK (length(event_digest) = 16),\n"
	"  memsim_version TEXT NOT NULL,\n"
	"  config_json    TEXT,\n"
	"  wall_ns        INTEGER,\n"
	"  status         TEXT NOT NULL,\n"
	"  created        TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX IF NOT EXISTS runs_by_sweep ON runs(sweep_id);\n"
	"CREATE INDEX IF NOT EXISTS runs_by_model_policy ON runs(model, policy);\n"
	"CREATE INDEX IF NOT EXISTS runs_by_created ON runs(created);\n"
	"CREATE TABLE IF NOT EXISTS params (\n"
	"  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,\n"
	"  key    TEXT NOT NULL,\n"
	"  value  TEXT NOT NULL,\n"
	"  ord    INTEGER NOT NULL,\n"
	"  PRIMARY KEY (run_id, key)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX IF NOT EXISTS params_by_key ON params(key, value);\n"
	"CREATE TABLE IF NOT EXISTS metrics (\n"
	"  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,\n"
	"  name   TEXT NOT NULL,\n"
	"  value  REAL,\n"
	"  ord    INTEGER NOT NULL,\n"
	"  PRIMARY KEY (run_id, name)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics(name, value);\n"
	"CREATE TABLE IF NOT EXISTS series (\n"
	"  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,\n"
	"  name   TEXT NOT NULL,\n"
	"  idx    INTEGER NOT NULL,\n"
	"  t_ns   INTEGER NOT NULL,\n"
	"  value  REAL,\n"
	"  PRIMARY KEY (run_id, name, idx)\n"
	") WITHOUT ROWID;\n"
	"CREATE VIEW IF NOT EXISTS run_metrics AS\n"
	"  SELECT r.run_id, r.model, r.policy, r.sweep_id, r.seed, m.name, m.value\n"
	"  FROM runs r JOIN metrics m ON m.run_id = r.run_id;\n"
	"CREATE VIEW IF NOT EXISTS run_params AS\n"
	"  SELECT r.run_id, r.model, r.policy, r.sweep_id, r.seed, p.key, p.value\n"
	"  FROM runs r JOIN params p ON p.run_id = r.run_id;\n"
	"CREATE VIEW IF NOT EXISTS run_params_wide AS\n"
	"  SELECT r.run_id, r.model, r.policy, r.sweep_id, r.seed,\n"
	"         (SELECT json_group_object(key, value)\n"
	"          FROM (SELECT p.key, p.value FROM params p\n"
	"                WHERE p.run_id = r.run_id ORDER BY p.ord)) AS params\n"
	"  FROM runs r;\n"
	"INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1');\n";

/* Column lists shared by store_put_run and store_merge. */
#define RUN_COLS "run_id, sweep_id, model, policy, trace, trace_digest, seed, " \
		 "profile_name, profile_digest, event_digest, memsim_version, "  \
		 "config_json, wall_ns, status, created"

static bool is_busy(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

static void backoff(int attempt)
{
	struct timespec ts = { 0, 10000000L * (attempt < 10 ? attempt + 1 : 10) };

	nanosleep(&ts, NULL);
}

/* sqlite3_exec, retried while the database is busy. */
static int exec_retry(sqlite3 *db, const char *sql)
{
	int attempt, rc;

	for (attempt = 0;; attempt++) {
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		if (!is_busy(rc) || attempt >= STORE_BUSY_RETRIES)
			return rc;
		backoff(attempt);
	}
}

static void hex64(uint64_t v, char out[17])
{
	snprintf(out, 17, "%016" PRIx64, v);
}

static void now_iso(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* "file:" URI for path, so names with '?' or '#' and the mode=ro option both work. */
static char *path_uri(const char *path, bool readonly)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path);
	char *uri = malloc(3 * n + 16), *o;
	const char *p;

	if (!uri)
		return NULL;
	o = uri + sprintf(uri, "file:");
	for (p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("/-._~", c)) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	strcpy(o, readonly ? "?mode=ro" : "");
	return uri;
}

/* SQLite's message for the last error, with the system's reason for an I/O error
 * ("disk I/O error (File too large)", "database or disk is full (No space left...)"). */
static const char *db_err(struct store *st)
{
	static char buf[512];
	int rc = sqlite3_extended_errcode(st->db) & 0xff, e = sqlite3_system_errno(st->db);

	if (e && (rc == SQLITE_IOERR || rc == SQLITE_FULL || rc == SQLITE_CANTOPEN))
		snprintf(buf, sizeof(buf), "%s (%s)", sqlite3_errmsg(st->db), strerror(e));
	else
		snprintf(buf, sizeof(buf), "%s", sqlite3_errmsg(st->db));
	return buf;
}

static sqlite3_stmt *prep(struct store *st, sqlite3_stmt **slot, const char *sql,
			  char *err, size_t errlen)
{
	if (*slot)
		return *slot;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL)) {
		seterr(err, errlen, "%s: %s", st->path, db_err(st));
		*slot = NULL;
	}
	return *slot;
}

/* Steps a statement that returns no row, then resets it.  0 or -1 with a message. */
static int step_done(struct store *st, sqlite3_stmt *s, const char *what,
		     char *err, size_t errlen)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE) {
		st->busy = is_busy(rc);
		seterr(err, errlen, "%s: %s: %s", st->path, what, db_err(st));
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
}

/*
 * Runs fn inside BEGIN IMMEDIATE ... COMMIT.  fn returns >= 0 to commit (that value is
 * returned), < 0 to roll back; it sets st->busy when it failed only because of a lock, and
 * then the whole transaction is tried again.
 */
static int with_write_txn(struct store *st, int (*fn)(struct store *, void *, char *, size_t),
			  void *arg, char *err, size_t errlen)
{
	int attempt, rc, ret;

	if (st->readonly) {
		seterr(err, errlen, "%s: database is opened read-only", st->path);
		return -1;
	}
	for (attempt = 0;; attempt++) {
		rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			if (is_busy(rc) && attempt < STORE_BUSY_RETRIES) {
				backoff(attempt);
				continue;
			}
			seterr(err, errlen, "%s: cannot start a transaction: %s", st->path,
			       db_err(st));
			return -1;
		}
		st->busy = false;
		ret = fn(st, arg, err, errlen);
		if (ret >= 0) {
			rc = exec_retry(st->db, "COMMIT");
			if (rc == SQLITE_OK)
				return ret;
			st->busy = is_busy(rc);
			seterr(err, errlen, "%s: commit failed: %s", st->path,
			       db_err(st));
		}
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		if (!st->busy || attempt >= STORE_BUSY_RETRIES)
			return -1;
		backoff(attempt);
	}
}

/* ---- opening -------------------------------------------------------------------------- */

/* Schema version of the open database: 0 if it has no meta table, -1 on error. */
static int schema_version(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc, v = 0;

	rc = sqlite3_prepare_v2(st->db,
		"SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'),"
		"       (SELECT count(*) FROM sqlite_master)", -1, &s, NULL);
	if (rc) {
		seterr(err, errlen, "%s: %s", st->path, db_err(st));
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		seterr(err, errlen, "%s: %s", st->path, db_err(st));
		sqlite3_finalize(s);
		return -1;
	}
	if (!sqlite3_column_int(s, 0) && sqlite3_column_int(s, 1)) {
		seterr(err, errlen, "%s: not a memsim database (it has tables but no meta table)",
		       st->path);
		sqlite3_finalize(s);
		return -1;
	}
	v = sqlite3_column_int(s, 0) ? 1 : 0;
	sqlite3_finalize(s);
	if (!v)
		return 0;
	rc = sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'schema_version'",
				-1, &s, NULL);
	if (rc || sqlite3_step(s) != SQLITE_ROW) {
		seterr(err, errlen, "%s: not a memsim database (no schema_version in meta)",
		       st->path);
		sqlite3_finalize(s);
		return -1;
	}
	v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (v < 1 || v > STORE_SCHEMA_VERSION) {
		seterr(err, errlen, "%s: schema version %d is not one this memsim (%s) knows (1..%d)",
		       st->path, v, MEMSIM_VERSION, STORE_SCHEMA_VERSION);
		return -1;
	}
	return v;
}

static int create_schema(struct store *st, void *arg, char *err, size_t errlen)
{
	int v = schema_version(st, err, errlen);
	int rc;

	if (v < 0) {
		st->busy = false;
		return -1;
	}
	if (v == STORE_SCHEMA_VERSION)
		return 0;	/* another process created it meanwhile */
	/* v == 0: new database.  Later versions migrate from v here, step by step. */
	rc = sqlite3_exec(st->db, schema_sql, NULL, NULL, NULL);
	if (rc) {
		st->busy = is_busy(rc);
		seterr(err, errlen, "%s: cannot create the schema: %s", st->path,
		       db_err(st));
		return -1;
	}
	return 0;
}

static int set_wal(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int attempt, rc;

	for (attempt = 0;; attempt++) {
		rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const char *mode = (const char *)sqlite3_column_text(s, 0);

			if (mode && strcmp(mode, "wal") == 0) {
				sqlite3_finalize(s);
				return 0;
			}
			rc = SQLITE_BUSY;	/* could not switch yet: someone holds a lock */
		}
		if ((rc & 0xff) == SQLITE_NOTADB) {
			seterr(err, errlen, "%s: not a database (not an SQLite file)", st->path);
			sqlite3_finalize(s);
			return -1;
		}
		if (!is_busy(rc) || attempt >= STORE_BUSY_RETRIES) {
			seterr(err, errlen, "%s: cannot use WAL journal mode: %s", st->path,
			       rc == SQLITE_BUSY ? "database is locked" : db_err(st));
			sqlite3_finalize(s);
			return -1;
		}
		sqlite3_finalize(s);
		s = NULL;
		backoff(attempt);
	}
}

/*
 * A database this open created but could not set up (a full disk, an I/O error) is removed
 * with its side files, so a failed command leaves no empty database behind.  Only when
 * nothing was committed: no write-ahead log with content (another process may have
 * created the same file meanwhile and stored into it).
 */
static void remove_unused_new(const char *path)
{
	static const char *const side[] = { "-wal", "-shm", "-journal" };
	size_t n = strlen(path) + 16, i;
	char *p = malloc(n);
	struct stat sb;

	if (!p)
		return;
	snprintf(p, n, "%s-wal", path);
	if ((stat(p, &sb) == 0 && sb.st_size > 0) || stat(path, &sb) || sb.st_size > 4096) {
		free(p);
		return;
	}
	unlink(path);
	for (i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		snprintf(p, n, "%s%s", path, side[i]);
		unlink(p);
	}
	free(p);
}

static struct store *open_common(const char *path, bool readonly, char *err, size_t errlen)
{
	struct store *st;
	struct stat sb;
	bool created = false;
	char *uri;
	int flags, rc, v;

	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			seterr(err, errlen, "%s: is a directory, not a database", path);
			return NULL;
		}
		/* a device or FIFO is no database, and SQLite would put its journal beside it
		 * (/dev/null-journal) or block opening it */
		if (!S_ISREG(sb.st_mode)) {
			seterr(err, errlen, "%s: not a regular file (%s): a database must be a "
			       "regular file, or a path that does not exist yet", path,
			       file_kind(sb.st_mode));
			return NULL;
		}
	} else if (readonly || errno != ENOENT) {
		seterr(err, errlen, "%s: %s", path,
		       errno == ENOENT ? "no such database file" : strerror(errno));
		return NULL;
	} else {
		created = true;
	}

	st = calloc(1, sizeof(*st));
	uri = path_uri(path, readonly);
	if (!st || !uri || !(st->path = strdup(path))) {
		seterr(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	st->readonly = readonly;
	flags = SQLITE_OPEN_URI | (readonly ? SQLITE_OPEN_READONLY :
				   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	rc = sqlite3_open_v2(uri, &st->db, flags, NULL);
	free(uri);
	uri = NULL;
	if (rc) {
		seterr(err, errlen, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) :
		       "cannot open database");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);

	if (readonly) {
		v = schema_version(st, err, errlen);
		if (v == 0)
			seterr(err, errlen, "%s: not a memsim database (no meta table)", path);
		if (v <= 0)
			goto fail;
		return st;
	}
	if (set_wal(st, err, errlen) ||
	    sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
			 NULL, NULL, NULL)) {
		if (err && !*err)
			seterr(err, errlen, "%s: %s", path, db_err(st));
		goto fail;
	}
	v = schema_version(st, err, errlen);
	if (v < 0)
		goto fail;
	if (v != STORE_SCHEMA_VERSION && with_write_txn(st, create_schema, NULL, err, errlen) < 0)
		goto fail;
	return st;
fail:
	free(uri);
	store_close(st);
	if (created)
		remove_unused_new(path);
	return NULL;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
	if (err && errlen)
		*err = 0;
	return open_common(path, false, err, errlen);
}

struct store *store_open_readonly(const char *path, char *err, size_t errlen)
{
	if (err && errlen)
		*err = 0;
	return open_common(path, true, err, errlen);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->find_run);
	sqlite3_finalize(st->has_run);
	sqlite3_finalize(st->ins_run);
	sqlite3_finalize(st->ins_param);
	sqlite3_finalize(st->ins_metric);
	sqlite3_finalize(st->ins_series);
	sqlite3_finalize(st->ins_sweep_stub);
	sqlite3_close_v2(st->db);
	free(st->path);
	free(st);
}

const char *store_path(const struct store *st)
{
	return st->path;
}

struct sqlite3 *store_sqlite(struct store *st)
{
	return st->db;
}

/* ---- runs ----------------------------------------------------------------------------- */

static bool is_run_id(const char *id)
{
	size_t i;

	for (i = 0; i < 16; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return id[16] == 0;
}

static int validate_run(const struct store *st, const struct run_record *r,
			char *err, size_t errlen)
{
	const char *missing = NULL;
	size_t i;

	if (!is_run_id(r->run_id)) {
		seterr(err, errlen, "%s: run id \"%.20s\" is not 16 lower-case hex digits",
		       st->path, r->run_id);
		return -1;
	}
	if (!r->model)
		missing = "model";
	else if (!r->policy)
		missing = "policy";
	else if (!r->trace)
		missing = "trace";
	else if (!r->memsim_version)
		missing = "memsim_version";
	if (missing) {
		seterr(err, errlen, "%s: run %s: %s is missing", st->path, r->run_id, missing);
		return -1;
	}
	for (i = 0; i < r->nparams; i++) {
		if (!r->params[i].key || !r->params[i].value) {
			seterr(err, errlen, "%s: run %s: param %zu has no key or value", st->path,
			       r->run_id, i);
			return -1;
		}
	}
	return 0;
}

/*
 * The run is stored with the same event digest: are its stored metrics this run's too?
 * (A database edited by hand, or a metric that is not deterministic, would otherwise be
 * reported as "identical results".)  1 with a message if they differ, or on an SQL error.
 */
static int stored_metrics_differ(struct store *st, const struct run_record *r,
				 char *err, size_t errlen)
{
	const struct metrics *mx = r->metrics;
	sqlite3_stmt *s;
	size_t i = 0;
	char a[64], b[64];
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT name, value FROM metrics WHERE run_id = ? "
			       "ORDER BY ord", -1, &s, NULL)) {
		seterr(err, errlen, "%s: %s", st->path, db_err(st));
		return 1;
	}
	bind_text(s, 1, r->run_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		bool null = sqlite3_column_type(s, 1) == SQLITE_NULL;
		double v = sqlite3_column_double(s, 1);

		if (i >= mx->n || strcmp(name, mx->m[i].name) ||
		    (null ? !isnan(mx->m[i].value) : v != mx->m[i].value)) {
			if (null)
				snprintf(a, sizeof(a), "NULL");
			else
				metrics_format_value(v, a, sizeof(a));
			if (i < mx->n && !strcmp(name, mx->m[i].name))
				metrics_format_value(mx->m[i].value, b, sizeof(b));
			else
				snprintf(b, sizeof(b), "absent");
			seterr(err, errlen, "%s: run %s is already stored with this event digest "
			       "but its metric %s is %s there, %s in this run: same configuration, "
			       "different results", st->path, r->run_id, name, a, b);
			sqlite3_finalize(s);
			return 1;
		}
		i++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		seterr(err, errlen, "%s: %s", st->path, db_err(st));
		return 1;
	}
	if (i != mx->n) {
		seterr(err, errlen, "%s: run %s is already stored with this event digest but "
		       "without its metric %s: same configuration, different results", st->path,
		       r->run_id, mx->m[i].name);
		return 1;
	}
	return 0;
}

static int put_run_txn(struct store *st, void *arg, char *err, size_t errlen)
{
	const struct run_record *r = arg;
	const struct metrics *mx = r->metrics;
	char dig[17], created[40];
	sqlite3_stmt *s;
	size_t i, j;
	int rc;

	hex64(r->event_digest, dig);
	s = prep(st, &st->find_run, "SELECT event_digest FROM runs WHERE run_id = ?", err, errlen);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, r->run_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *have = (const char *)sqlite3_column_text(s, 0);
		bool same = have && strcmp(have, dig) == 0;

		if (!same)
			seterr(err, errlen, "%s: run %s is already stored with event digest %s, "
			       "this run has %s: same configuration, different results",
			       st->path, r->run_id, have ? have : "NULL", dig);
		sqlite3_reset(s);
		st->busy = false;
		if (same && mx && stored_metrics_differ(st, r, err, errlen))
			same = false;
		st->conflict = !same;
		return same ? 1 : -1;
	}
	if (rc != SQLITE_DONE) {
		st->busy = is_busy(rc);
		seterr(err, errlen, "%s: %s", st->path, db_err(st));
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);

	now_iso(created, sizeof(created));
	if (r->sweep_id) {
		s = prep(st, &st->ins_sweep_stub,
			 "INSERT OR IGNORE INTO sweeps(sweep_id, created, spec, memsim_version) "
			 "VALUES (?, ?, NULL, ?)", err, errlen);
		if (!s)
			return -1;
		bind_text(s, 1, r->sweep_id);
		bind_text(s, 2, created);
		bind_text(s, 3, r->memsim_version);
		if (step_done(st, s, "sweep", err, errlen))
			return -1;
	}

	s = prep(st, &st->ins_run, "INSERT INTO runs(" RUN_COLS ") VALUES "
		 "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)", err, errlen);
	if (!s)
		return -1;
	bind_text(s, 1, r->run_id);
	bind_text(s, 2, r->sweep_id);
	bind_text(s, 3, r->model);
	bind_text(s, 4, r->policy);
	bind_text(s, 5, r->trace);
	hex64(r->trace_digest, dig);
	bind_text(s, 6, dig);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)r->seed);	/* >= 2^63 reads back negative */
	bind_text(s, 8, r->profile_name);
	if (r->profile_name) {
		hex64(r->profile_digest, dig);
		bind_text(s, 9, dig);
	} else {
		sqlite3_bind_null(s, 9);
	}
	hex64(r->event_digest, dig);
	bind_text(s, 10, dig);
	bind_text(s, 11, r->memsim_version);
	bind_text(s, 12, r->config_json);
	sqlite3_bind_int64(s, 13, r->wall_ns);
	bind_text(s, 14, r->status ? r->status : "ok");
	bind_text(s, 15, created);
	if (step_done(st, s, "runs", err, errlen))
		return -1;

	s = prep(st, &st->ins_param, "INSERT INTO params(run_id, key, value, ord) "
		 "VALUES (?, ?, ?, ?)", err, errlen);
	if (!s)
		return -1;
	for (i = 0; i < r->nparams; i++) {
		bind_text(s, 1, r->run_id);
		bind_text(s, 2, r->params[i].key);
		bind_text(s, 3, r->params[i].value);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)i);
		if (step_done(st, s, "params", err, errlen))
			return -1;
	}
	if (!mx)
		return 0;

	s = prep(st, &st->ins_metric, "INSERT INTO metrics(run_id, name, value, ord) "
		 "VALUES (?, ?, ?, ?)", err, errlen);
	if (!s)
		return -1;
	for (i = 0; i < mx->n; i++) {
		bind_text(s, 1, r->run_id);
		bind_text(s, 2, mx->m[i].name);
		sqlite3_bind_double(s, 3, mx->m[i].value);	/* NaN becomes NULL */
		sqlite3_bind_int64(s, 4, (sqlite3_int64)i);
		if (step_done(st, s, "metrics", err, errlen))
			return -1;
	}

	s = prep(st, &st->ins_series, "INSERT INTO series(run_id, name, idx, t_ns, value) "
		 "VALUES (?, ?, ?, ?, ?)", err, errlen);
	if (!s)
		return -1;
	for (i = 0; i < mx->ns; i++) {
		const struct series *se = &mx->s[i];

		for (j = 0; j < se->n; j++) {
			bind_text(s, 1, r->run_id);
			bind_text(s, 2, se->name);
			sqlite3_bind_int64(s, 3, (sqlite3_int64)j);
			sqlite3_bind_int64(s, 4, (sqlite3_int64)se->pts[j].t_ns);
			sqlite3_bind_double(s, 5, se->pts[j].value);
			if (step_done(st, s, "series", err, errlen))
				return -1;
		}
	}
	return 0;
}

int store_put_run(struct store *st, const struct run_record *run, char *err, size_t errlen)
{
	st->conflict = false;
	if (validate_run(st, run, err, errlen)) {
		st->conflict = true;	/* the record, not the database, is at fault */
		return -1;
	}
	return with_write_txn(st, put_run_txn, (void *)run, err, errlen);
}

bool store_put_failed_on_conflict(const struct store *st)
{
	return st->conflict;
}

int store_has_run(struct store *st, const char *run_id)
{
	sqlite3_stmt *s = prep(st, &st->has_run, "SELECT 1 FROM runs WHERE run_id = ?", NULL, 0);
	int attempt, rc;

	if (!s)
		return -1;
	for (attempt = 0;; attempt++) {
		sqlite3_bind_text(s, 1, run_id, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (!is_busy(rc) || attempt >= STORE_BUSY_RETRIES)
			break;
		backoff(attempt);
	}
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- sweeps --------------------------------------------------------------------------- */

struct sweep_arg {
	const char *id, *spec;
};

/* Two sweep specs that differ only in "reps" (one sweep with more or fewer repetitions):
 * 1 if spec asks for more than have, 0 if not more, -1 if they differ otherwise. */
static int same_but_reps(struct store *st, const char *have, const char *spec)
{
	sqlite3_stmt *s;
	int ret = -1;

	if (sqlite3_prepare_v2(st->db, "SELECT json_remove(?1, '$.reps') = json_remove(?2, "
			       "'$.reps'), coalesce(json_extract(?2, '$.reps'), 0) > "
			       "coalesce(json_extract(?1, '$.reps'), 0)", -1, &s, NULL))
		return -1;
	bind_text(s, 1, have);
	bind_text(s, 2, spec);
	/* a spec that is not JSON (hand-made) fails json_remove: different */
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0))
		ret = sqlite3_column_int(s, 1);
	sqlite3_finalize(s);
	return ret;
}

static int put_sweep_txn(struct store *st, void *arg, char *err, size_t errlen)
{
	const struct sweep_arg *a = arg;
	char created[40];
	sqlite3_stmt *s;
	int rc, ret;

	rc = sqlite3_prepare_v2(st->db, "SELECT spec FROM sweeps WHERE sweep_id = ?", -1, &s,
				NULL);
	if (rc)
		goto sqlerr;
	bind_text(s, 1, a->id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *have = (const char *)sqlite3_column_text(s, 0);

		if (have && a->spec && strcmp(have, a->spec) != 0) {
			int more = same_but_reps(st, have, a->spec);

			sqlite3_finalize(s);
			if (more < 0) {
				seterr(err, errlen, "%s: sweep %s is already stored with a different "
				       "spec", st->path, a->id);
				return -1;
			}
			if (!more)
				return 1;
			/* the sweep extended with more repetitions: the spec says the most */
			rc = sqlite3_prepare_v2(st->db, "UPDATE sweeps SET spec = ? WHERE "
						"sweep_id = ?", -1, &s, NULL);
			if (rc)
				goto sqlerr;
			bind_text(s, 1, a->spec);
			bind_text(s, 2, a->id);
			rc = sqlite3_step(s);
			sqlite3_finalize(s);
			if (rc != SQLITE_DONE)
				goto sqlerr;
			return 1;
		}
		ret = have || !a->spec ? 1 : 0;
		sqlite3_finalize(s);
		if (ret)
			return 1;
		rc = sqlite3_prepare_v2(st->db, "UPDATE sweeps SET spec = ? WHERE sweep_id = ?",
					-1, &s, NULL);
		if (rc)
			goto sqlerr;
		bind_text(s, 1, a->spec);
		bind_text(s, 2, a->id);
	} else if (rc == SQLITE_DONE) {
		sqlite3_finalize(s);
		now_iso(created, sizeof(created));
		rc = sqlite3_prepare_v2(st->db, "INSERT INTO sweeps(sweep_id, created, spec, "
					"memsim_version) VALUES (?, ?, ?, ?)", -1, &s, NULL);
		if (rc)
			goto sqlerr;
		bind_text(s, 1, a->id);
		bind_text(s, 2, created);
		bind_text(s, 3, a->spec);
		bind_text(s, 4, MEMSIM_VERSION);
	} else {
		sqlite3_finalize(s);
		goto sqlerr;
	}
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		goto sqlerr;
	return 0;
sqlerr:
	st->busy = is_busy(rc);
	seterr(err, errlen, "%s: sweep %s: %s", st->path, a->id, db_err(st));
	return -1;
}

int store_put_sweep(struct store *st, const char *sweep_id, const char *spec,
		    char *err, size_t errlen)
{
	struct sweep_arg a = { sweep_id, spec };

	if (!sweep_id || !*sweep_id) {
		seterr(err, errlen, "%s: empty sweep id", st->path);
		return -1;
	}
	return with_write_txn(st, put_sweep_txn, &a, err, errlen);
}

struct sweep_file_arg {
	const char *id, *name, *text;
};

static int put_sweep_file_txn(struct store *st, void *arg, char *err, size_t errlen)
{
	const struct sweep_file_arg *a = arg;
	char created[40];
	sqlite3_stmt *s;
	int rc;

	/* a table of its own, made on first use: older memsims leave it alone, and a
	 * database without it is still schema version 1 */
	rc = sqlite3_exec(st->db, "CREATE TABLE IF NOT EXISTS sweep_files (sweep_id TEXT NOT "
			  "NULL, name TEXT NOT NULL, created TEXT NOT NULL, text TEXT NOT NULL, "
			  "PRIMARY KEY (sweep_id, name))", NULL, NULL, NULL);
	if (rc)
		goto sqlerr;
	rc = sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO sweep_files VALUES (?, ?, ?, ?)",
				-1, &s, NULL);
	if (rc)
		goto sqlerr;
	now_iso(created, sizeof(created));
	bind_text(s, 1, a->id);
	bind_text(s, 2, a->name);
	bind_text(s, 3, created);
	bind_text(s, 4, a->text);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		goto sqlerr;
	return 0;
sqlerr:
	st->busy = is_busy(rc);
	seterr(err, errlen, "%s: sweep %s: %s", st->path, a->id, db_err(st));
	return -1;
}

int store_put_sweep_file(struct store *st, const char *sweep_id, const char *name,
			 const char *text, char *err, size_t errlen)
{
	struct sweep_file_arg a = { sweep_id, name, text };

	return with_write_txn(st, put_sweep_file_txn, &a, err, errlen);
}

struct adopt_arg {
	const char *run_id, *sweep_id;
};

static int adopt_txn(struct store *st, void *arg, char *err, size_t errlen)
{
	const struct adopt_arg *a = arg;
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "UPDATE runs SET sweep_id = ?1 WHERE run_id = ?2 "
				"AND sweep_id IS NULL AND EXISTS (SELECT 1 FROM sweeps "
				"WHERE sweep_id = ?1)", -1, &s, NULL);
	if (rc)
		goto sqlerr;
	bind_text(s, 1, a->sweep_id);
	bind_text(s, 2, a->run_id);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		goto sqlerr;
	return sqlite3_changes(st->db) ? 1 : 0;
sqlerr:
	st->busy = is_busy(rc);
	seterr(err, errlen, "%s: run %s: %s", st->path, a->run_id, db_err(st));
	return -1;
}

int store_adopt_run(struct store *st, const char *run_id, const char *sweep_id,
		    char *err, size_t errlen)
{
	struct adopt_arg a = { run_id, sweep_id };

	return with_write_txn(st, adopt_txn, &a, err, errlen);
}

void store_free_ids(char **ids, size_t n)
{
	size_t i;

	for (i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}

int store_sweep_runs(struct store *st, const char *sweep_id, char ***ids, size_t *n)
{
	sqlite3_stmt *s;
	char **v = NULL, **nv;
	size_t cnt = 0, cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT run_id FROM runs WHERE sweep_id = ? "
			       "ORDER BY run_id", -1, &s, NULL))
		return -1;
	bind_text(s, 1, sweep_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? 2 * cap : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto fail;
			v = nv;
		}
		v[cnt] = strdup((const char *)sqlite3_column_text(s, 0));
		if (!v[cnt])
			goto fail;
		cnt++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_free_ids(v, cnt);
		return -1;
	}
	*ids = v;
	*n = cnt;
	return 0;
fail:
	sqlite3_finalize(s);
	store_free_ids(v, cnt);
	return -1;
}

/* ---- ids typed by users ------------------------------------------------------------------ */

#define RESOLVE_MIN_PREFIX 4
#define RESOLVE_MAX_LISTED 8

/* Copies id into out; 2 with a message if it does not fit. */
static int resolved(const char *id, const char *opt, const char *arg, char *out, size_t outlen,
		    char *err, size_t errlen)
{
	if (strlen(id) >= outlen) {
		seterr(err, errlen, "%s %s: id %.40s is longer than memsim's ids", opt, arg, id);
		return 2;
	}
	memcpy(out, id, strlen(id) + 1);
	return 0;
}

int store_resolve_id(struct store *st, const char *what, const char *opt, const char *arg,
		     char *out, size_t outlen, char *err, size_t errlen)
{
	bool sweep = strcmp(what, "sweep") == 0;
	const char *col = sweep ? "sweep_id" : "run_id", *table = sweep ? "sweeps" : "runs";
	char sql[320], low[64], hi[66], list[RESOLVE_MAX_LISTED * 20 + 16] = "";
	sqlite3_stmt *s;
	size_t n = strlen(arg), i, found = 0, off = 0;
	bool hex = n > 0 && n < sizeof(low);
	int rc;

	/* ids are lower-case hex: "ABCD" means "abcd" */
	for (i = 0; hex && i < n; i++) {
		char c = arg[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
		low[i] = c;
	}
	if (hex)
		low[n] = 0;
	else
		snprintf(low, sizeof(low), "%s", n < sizeof(low) ? arg : "");

	/* exact, then "last", then a prefix */
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE %s = ?1 OR %s = ?2", col, table, col,
		 col);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL))
		goto sqlerr;
	bind_text(s, 1, arg);
	bind_text(s, 2, low);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		rc = resolved((const char *)sqlite3_column_text(s, 0), opt, arg, out, outlen, err,
			      errlen);
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		goto sqlerr;

	if (strcmp(arg, "last") == 0) {
		snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY created DESC, rowid DESC "
			 "LIMIT 1", col, table);
		if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL))
			goto sqlerr;
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			rc = resolved((const char *)sqlite3_column_text(s, 0), opt, arg, out, outlen,
				      err, errlen);
			sqlite3_finalize(s);
			return rc;
		}
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			goto sqlerr;
		seterr(err, errlen, "%s last: %s has no %s yet", opt, st->path, what);
		return 2;
	}

	if (!*low) {
		seterr(err, errlen, "%s %.80s: no %s with that id in %s", opt, arg, what, st->path);
		return 2;
	}
	/* a prefix: the index range [low, low + "\xff"), every id that starts with low */
	snprintf(hi, sizeof(hi), "%s\xff", low);
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE %s >= ?1 AND %s < ?2 AND "
		 "substr(%s, 1, length(?1)) = ?1 ORDER BY %s LIMIT %d", col, table, col, col, col,
		 col, RESOLVE_MAX_LISTED + 1);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL))
		goto sqlerr;
	bind_text(s, 1, low);
	bind_text(s, 2, hi);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);

		if (!found++ && resolved(id, opt, arg, out, outlen, err, errlen)) {
			sqlite3_finalize(s);
			return 2;
		}
		if (found <= RESOLVE_MAX_LISTED && off < sizeof(list))
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%.18s",
						found > 1 ? ", " : "", id);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		goto sqlerr;
	if (!found) {
		seterr(err, errlen, "%s %.80s: no %s %s in %s (give an id, a unique prefix of one, "
		       "or 'last')", opt, arg, what, low, st->path);
		return 2;
	}
	if (n < RESOLVE_MIN_PREFIX) {
		seterr(err, errlen, "%s %s: give at least %d characters of a %s id", opt, arg,
		       RESOLVE_MIN_PREFIX, what);
		return 2;
	}
	if (found > 1) {
		seterr(err, errlen, "%s %s: ambiguous, %s ids starting with %s: %s%s", opt, arg,
		       what, low, list, found > RESOLVE_MAX_LISTED ? ", ..." : "");
		return 2;
	}
	return 0;
sqlerr:
	seterr(err, errlen, "%s: %s", st->path, db_err(st));
	return 1;
}

/* ---- merge ---------------------------------------------------------------------------- */

struct merge_arg {
	const char *in_path;
	size_t copied, skipped;
};

/* First column of the first row of sql as text (malloc'ed) or NULL; *rcp gets the code. */
static char *query_text(sqlite3 *db, const char *sql, int *rcp)
{
	sqlite3_stmt *s;
	char *out = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(s, 0);

			out = strdup(t ? t : "");
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(s);
	*rcp = rc;
	return out;
}

/*
 * A run id present in both databases must have the same results there, not only the same
 * event digest: a shard whose metrics were damaged or edited (or computed by a build that is
 * not deterministic) would otherwise be "already present" and hide the difference.  Each
 * query finds the first run that differs in one respect: columns of its configuration
 * (everything but where it was run: trace path, sweep, wall time, creation time), its
 * params, its metrics, its series.  Rows are (run, what, value in the input, value here);
 * "absent" stands for a missing row.  Values are compared exactly: memsim promises
 * bit-identical results for the same configuration.
 */
#define MERGE_BOTH "WITH both(run_id) AS (SELECT s.run_id FROM src.runs s " \
		   "JOIN main.runs m ON m.run_id = s.run_id) "
#define MERGE_CFG(col) "SELECT s.run_id, '" col "', s." col ", m." col " FROM src.runs s " \
			"JOIN main.runs m ON m.run_id = s.run_id WHERE s." col " IS NOT m." col
static const struct {
	const char *what, *sql;
} merge_diffs[] = {
	{ "event digest",
	  "SELECT s.run_id, 'event_digest', s.event_digest, m.event_digest FROM src.runs s "
	  "JOIN main.runs m ON m.run_id = s.run_id WHERE s.event_digest IS NOT m.event_digest "
	  "ORDER BY s.run_id LIMIT 1" },
	{ "configuration",
	  MERGE_CFG("model") " UNION ALL " MERGE_CFG("policy") " UNION ALL "
	  MERGE_CFG("trace_digest") " UNION ALL " MERGE_CFG("seed") " UNION ALL "
	  MERGE_CFG("profile_name") " UNION ALL " MERGE_CFG("profile_digest") " UNION ALL "
	  MERGE_CFG("memsim_version") " UNION ALL " MERGE_CFG("config_json") " UNION ALL "
	  MERGE_CFG("status") " ORDER BY 1 LIMIT 1" },
	{ "param",
	  MERGE_BOTH ", x AS (SELECT p.run_id, p.key FROM both JOIN src.params p USING (run_id) "
	  "  UNION SELECT p.run_id, p.key FROM both JOIN main.params p USING (run_id)) "
	  "SELECT x.run_id, 'param ' || x.key, "
	  "  CASE WHEN a.run_id IS NULL THEN 'absent' ELSE a.value END, "
	  "  CASE WHEN b.run_id IS NULL THEN 'absent' ELSE b.value END "
	  "FROM x LEFT JOIN src.params a ON a.run_id = x.run_id AND a.key = x.key "
	  "LEFT JOIN main.params b ON b.run_id = x.run_id AND b.key = x.key "
	  "WHERE a.run_id IS NULL OR b.run_id IS NULL OR a.value IS NOT b.value "
	  "ORDER BY x.run_id, coalesce(a.ord, b.ord) LIMIT 1" },
	{ "metric",
	  MERGE_BOTH ", x AS (SELECT v.run_id, v.name FROM both JOIN src.metrics v USING (run_id) "
	  "  UNION SELECT v.run_id, v.name FROM both JOIN main.metrics v USING (run_id)) "
	  "SELECT x.run_id, 'metric ' || x.name, "
	  "  CASE WHEN a.run_id IS NULL THEN 'absent' ELSE a.value END, "
	  "  CASE WHEN b.run_id IS NULL THEN 'absent' ELSE b.value END "
	  "FROM x LEFT JOIN src.metrics a ON a.run_id = x.run_id AND a.name = x.name "
	  "LEFT JOIN main.metrics b ON b.run_id = x.run_id AND b.name = x.name "
	  "WHERE a.run_id IS NULL OR b.run_id IS NULL OR a.value IS NOT b.value "
	  "ORDER BY x.run_id, coalesce(a.ord, b.ord) LIMIT 1" },
	{ "series",
	  MERGE_BOTH ", x AS (SELECT v.run_id, v.name, v.idx FROM both JOIN src.series v "
	  "  USING (run_id) UNION SELECT v.run_id, v.name, v.idx FROM both "
	  "  JOIN main.series v USING (run_id)) "
	  "SELECT x.run_id, 'series ' || x.name || ' point ' || x.idx, "
	  "  CASE WHEN a.run_id IS NULL THEN 'absent' ELSE a.t_ns || ' ns: ' || a.value END, "
	  "  CASE WHEN b.run_id IS NULL THEN 'absent' ELSE b.t_ns || ' ns: ' || b.value END "
	  "FROM x LEFT JOIN src.series a ON a.run_id = x.run_id AND a.name = x.name "
	  "  AND a.idx = x.idx "
	  "LEFT JOIN main.series b ON b.run_id = x.run_id AND b.name = x.name AND b.idx = x.idx "
	  "WHERE a.run_id IS NULL OR b.run_id IS NULL OR a.t_ns IS NOT b.t_ns "
	  "  OR a.value IS NOT b.value "
	  "ORDER BY x.run_id, x.name, x.idx LIMIT 1" },
};

/* Column i as text for a conflict message: REAL as memsim prints it, NULL as "NULL". */
static void diff_value(sqlite3_stmt *s, int i, char *buf, size_t len)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_NULL:
		snprintf(buf, len, "NULL");
		break;
	case SQLITE_FLOAT:
		metrics_format_value(sqlite3_column_double(s, i), buf, len);
		break;
	default:
		snprintf(buf, len, "%.100s", (const char *)sqlite3_column_text(s, i));
	}
}

/* 1 and a conflict message if a run of src differs from main's, 0 if none, -1 (SQL). */
static int merge_find_conflict(struct store *st, const char *in_path, int *rcp,
			       char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(merge_diffs) / sizeof(merge_diffs[0]); i++) {
		sqlite3_stmt *s;
		char a[128], b[128];
		int rc = sqlite3_prepare_v2(st->db, merge_diffs[i].sql, -1, &s, NULL);

		if (rc == SQLITE_OK)
			rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			diff_value(s, 2, a, sizeof(a));
			diff_value(s, 3, b, sizeof(b));
			seterr(err, errlen, "%s: conflict with %s: run %s: %s is %s in the input but "
			       "%s here (same configuration, different results); nothing merged",
			       in_path, st->path, (const char *)sqlite3_column_text(s, 0),
			       (const char *)sqlite3_column_text(s, 1), a, b);
			sqlite3_finalize(s);
			return 1;
		}
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			*rcp = rc;
			return -1;
		}
	}
	return 0;
}

/* the metric_defs table (docs/schema.md), created with a database's first run */
#define METRIC_DEFS_DDL "metric_defs (\n" \
	"  model TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,\n" \
	"  unit TEXT NOT NULL, doc TEXT NOT NULL, reported_when TEXT,\n" \
	"  ord INTEGER NOT NULL, PRIMARY KEY (model, kind, name))"
static int merge_metric_defs(struct store *st);

static int merge_txn(struct store *st, void *arg, char *err, size_t errlen)
{
	static const char *const copy_sql[] = {
		"DELETE FROM temp.merge_new",
		"INSERT INTO temp.merge_new SELECT run_id FROM src.runs "
		"  WHERE run_id NOT IN (SELECT run_id FROM main.runs)",
		/* sweeps first (runs refer to them); a placeholder row gets the spec it lacked */
		"INSERT INTO main.sweeps(sweep_id, created, spec, memsim_version) "
		"  SELECT sweep_id, created, spec, memsim_version FROM src.sweeps "
		"  WHERE sweep_id NOT IN (SELECT sweep_id FROM main.sweeps)",
		"UPDATE main.sweeps SET spec = (SELECT s.spec FROM src.sweeps s "
		"    WHERE s.sweep_id = sweeps.sweep_id) "
		"  WHERE spec IS NULL AND sweep_id IN "
		"    (SELECT sweep_id FROM src.sweeps WHERE spec IS NOT NULL)",
		"INSERT INTO main.sweeps(sweep_id, created, spec, memsim_version) "
		"  SELECT sweep_id, min(created), NULL, min(memsim_version) FROM src.runs "
		"  WHERE sweep_id IS NOT NULL AND sweep_id NOT IN (SELECT sweep_id FROM main.sweeps) "
		"  GROUP BY sweep_id",
		"INSERT INTO main.runs(" RUN_COLS ") SELECT " RUN_COLS " FROM src.runs "
		"  WHERE run_id IN (SELECT run_id FROM temp.merge_new) ORDER BY run_id",
		"INSERT INTO main.params(run_id, key, value, ord) "
		"  SELECT run_id, key, value, ord FROM src.params "
		"  WHERE run_id IN (SELECT run_id FROM temp.merge_new)",
		"INSERT INTO main.metrics(run_id, name, value, ord) "
		"  SELECT run_id, name, value, ord FROM src.metrics "
		"  WHERE run_id IN (SELECT run_id FROM temp.merge_new)",
		"INSERT INTO main.series(run_id, name, idx, t_ns, value) "
		"  SELECT run_id, name, idx, t_ns, value FROM src.series "
		"  WHERE run_id IN (SELECT run_id FROM temp.merge_new)",
	};
	struct merge_arg *a = arg;
	char *t;
	size_t i;
	int rc;

	rc = SQLITE_OK;
	switch (merge_find_conflict(st, a->in_path, &rc, err, errlen)) {
	case 1:
		st->busy = false;
		return -1;
	case -1:
		goto sqlerr;
	}
	t = query_text(st->db,
		"SELECT s.sweep_id FROM src.sweeps s JOIN main.sweeps m ON m.sweep_id = s.sweep_id "
		"WHERE s.spec <> m.spec ORDER BY s.sweep_id LIMIT 1", &rc);
	if (rc)
		goto sqlerr;
	if (t) {
		seterr(err, errlen, "%s: conflict with %s: sweep %s has a different spec; "
		       "nothing merged", a->in_path, st->path, t);
		free(t);
		return -1;
	}
	t = query_text(st->db, "SELECT count(*) FROM src.runs "
		       "WHERE run_id IN (SELECT run_id FROM main.runs)", &rc);
	if (rc)
		goto sqlerr;
	a->skipped = t ? strtoull(t, NULL, 10) : 0;
	free(t);

	for (i = 0; i < sizeof(copy_sql) / sizeof(copy_sql[0]); i++) {
		rc = sqlite3_exec(st->db, copy_sql[i], NULL, NULL, NULL);
		if (rc)
			goto sqlerr;
		if (strncmp(copy_sql[i], "INSERT INTO main.runs", 21) == 0)
			a->copied = (size_t)sqlite3_changes(st->db);
	}
	rc = merge_metric_defs(st);
	if (rc)
		goto sqlerr;
	return 0;
sqlerr:
	st->busy = is_busy(rc);
	seterr(err, errlen, "%s: merging into %s: %s", a->in_path, st->path,
	       db_err(st));
	return -1;
}

int store_merge(struct store *st, const char *in_path, size_t *copied, size_t *skipped,
		char *err, size_t errlen)
{
	struct merge_arg a = { in_path, 0, 0 };
	struct stat in_sb, out_sb;
	sqlite3_stmt *s;
	char *uri, *t;
	int rc, ret = -1;

	if (stat(in_path, &in_sb)) {
		seterr(err, errlen, "%s: %s", in_path,
		       errno == ENOENT ? "no such database file" : strerror(errno));
		return -1;
	}
	if (stat(st->path, &out_sb) == 0 && in_sb.st_dev == out_sb.st_dev &&
	    in_sb.st_ino == out_sb.st_ino) {
		seterr(err, errlen, "%s: is the output database itself", in_path);
		return -1;
	}
	uri = path_uri(in_path, true);
	if (!uri) {
		seterr(err, errlen, "%s: out of memory", in_path);
		return -1;
	}
	rc = sqlite3_prepare_v2(st->db, "ATTACH ? AS src", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, uri, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
	}
	free(uri);
	if (rc != SQLITE_DONE) {
		seterr(err, errlen, "%s: cannot open: %s", in_path, db_err(st));
		return -1;
	}

	t = query_text(st->db, "SELECT value FROM src.meta WHERE key = 'schema_version'", &rc);
	if (rc || !t) {
		seterr(err, errlen, "%s: not a memsim database%s%s", in_path, rc ? ": " : "",
		       rc ? db_err(st) : " (no schema_version)");
	} else if (atoi(t) != STORE_SCHEMA_VERSION) {
		seterr(err, errlen, "%s: schema version %s, this memsim merges version %d", in_path,
		       t, STORE_SCHEMA_VERSION);
	} else if (sqlite3_exec(st->db, "CREATE TEMP TABLE IF NOT EXISTS merge_new "
				"(run_id TEXT PRIMARY KEY)", NULL, NULL, NULL)) {
		seterr(err, errlen, "%s: %s", st->path, db_err(st));
	} else {
		ret = with_write_txn(st, merge_txn, &a, err, errlen);
	}
	free(t);
	exec_retry(st->db, "DETACH src");
	if (ret < 0)
		return -1;
	if (copied)
		*copied = a.copied;
	if (skipped)
		*skipped = a.skipped;
	return 0;
}

/* ---- metric definitions ------------------------------------------------------------------ */

static int merge_metric_defs(struct store *st)
{
	int rc, have = 0;
	char *t = query_text(st->db, "SELECT count(*) FROM src.sqlite_master "
			     "WHERE type = 'table' AND name = 'metric_defs'", &rc);

	if (t)
		have = atoi(t);
	free(t);
	if (rc || !have)
		return rc;	/* a source from before metric_defs: nothing to copy */
	rc = sqlite3_exec(st->db, "CREATE TABLE IF NOT EXISTS main." METRIC_DEFS_DDL, NULL, NULL,
			  NULL);
	if (!rc)	/* a model the target describes already keeps its definitions */
		rc = sqlite3_exec(st->db, "INSERT INTO main.metric_defs SELECT * FROM src.metric_defs "
				  "WHERE model NOT IN (SELECT model FROM main.metric_defs)", NULL, NULL,
				  NULL);
	if (!rc)
		rc = sqlite3_exec(st->db, "INSERT OR IGNORE INTO main.meta(key, value) SELECT key, "
				  "value FROM src.meta WHERE key LIKE 'metric_defs_digest:%'", NULL,
				  NULL, NULL);
	return rc;
}

struct defs_arg {
	const char *model;
	const struct metric_def *const *tables;
	size_t ntables;
	const char *key;      /* meta key holding the digest of what is stored for the model */
	const char *digest;
};

static int put_defs_txn(struct store *st, void *arg, char *err, size_t errlen)
{
	const struct defs_arg *a = arg;
	const struct metric_def *m;
	sqlite3_stmt *s = NULL;
	size_t t;
	int rc;

	/* created here, not in schema_sql: a database of an earlier memsim gets it on its
	 * first new run, and one that never gets a run stays as it was */
	rc = sqlite3_exec(st->db, "CREATE TABLE IF NOT EXISTS " METRIC_DEFS_DDL, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db, "DELETE FROM metric_defs WHERE model = ?", -1, &s,
					NULL);
	if (rc == SQLITE_OK) {
		bind_text(s, 1, a->model);
		rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(st->db);
		sqlite3_finalize(s);
		s = NULL;
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO metric_defs(model, name, "
					"kind, unit, doc, reported_when, ord) VALUES (?, ?, ?, ?, ?, ?, ?)",
					-1, &s, NULL);
	for (t = 0, rc = rc ? rc : SQLITE_DONE; t < a->ntables && rc == SQLITE_DONE; t++) {
		for (m = a->tables[t]; m && m->name && rc == SQLITE_DONE; m++) {
			bind_text(s, 1, a->model);
			bind_text(s, 2, m->name);
			bind_text(s, 3, m->series ? "series" : "scalar");
			bind_text(s, 4, m->unit);
			bind_text(s, 5, m->doc);
			bind_text(s, 6, m->when);
			sqlite3_bind_int64(s, 7, (sqlite3_int64)(m - a->tables[t]) + 1000 * (sqlite3_int64)t);
			rc = sqlite3_step(s);
			sqlite3_reset(s);
		}
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE) {
		rc = sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
					-1, &s, NULL);
		if (rc == SQLITE_OK) {
			bind_text(s, 1, a->key);
			bind_text(s, 2, a->digest);
			rc = sqlite3_step(s);
			sqlite3_finalize(s);
		}
	}
	if (rc != SQLITE_DONE) {
		st->busy = is_busy(rc) || is_busy(sqlite3_errcode(st->db));
		seterr(err, errlen, "%s: metric_defs: %s", st->path, db_err(st));
		return -1;
	}
	return 0;
}

/* FNV-1a over every field, so a changed definition is written again. */
static uint64_t defs_digest(const struct metric_def *const *tables, size_t ntables)
{
	uint64_t h = 14695981039346656037ULL;
	const struct metric_def *m;
	size_t t;

	for (t = 0; t < ntables; t++) {
		for (m = tables[t]; m && m->name; m++) {
			const char *f[5] = { m->name, m->unit, m->doc, m->when ? m->when : "",
					     m->series ? "s" : "v" };
			unsigned i;

			for (i = 0; i < 5; i++) {
				const char *c;

				for (c = f[i]; ; c++) {
					h = (h ^ (unsigned char)*c) * 1099511628211ULL;
					if (!*c)
						break;
				}
			}
		}
	}
	return h;
}

int store_put_metric_defs(struct store *st, const char *model,
			  const struct metric_def *const *tables, size_t ntables,
			  char *err, size_t errlen)
{
	struct defs_arg a = { model, tables, ntables, NULL, NULL };
	char key[128], dig[17];
	sqlite3_stmt *s = NULL;
	bool same = false;

	hex64(defs_digest(tables, ntables), dig);
	snprintf(key, sizeof(key), "metric_defs_digest:%s", model);
	a.key = key;
	a.digest = dig;
	/* most runs find their model's definitions stored already: a read, no write */
	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = ?", -1, &s, NULL) ==
	    SQLITE_OK) {
		bind_text(s, 1, key);
		if (sqlite3_step(s) == SQLITE_ROW) {
			const char *v = (const char *)sqlite3_column_text(s, 0);

			same = v && !strcmp(v, dig);
		}
	}
	sqlite3_finalize(s);
	if (same)
		return 0;
	return with_write_txn(st, put_defs_txn, &a, err, errlen) < 0 ? -1 : 0;
}
