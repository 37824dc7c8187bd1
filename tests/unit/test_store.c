/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_store.c — the SQLite results store: round trip, idempotence, conflicts,
 * concurrent writers, atomicity under SIGKILL, merge, read-only opening, db sub-commands.
 */
#include <math.h>
#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include "test.h"
#include "store.h"

#define NSERIES 10         /* series per run in the kill test: ~27k progress calls a run */

static char tmpdir[64];

static void cleanup(void)
{
	char cmd[128];

	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
}

/* A fresh path in the test's temporary directory (malloc'ed). */
static char *tpath(const char *name)
{
	char *p;

	if (!tmpdir[0]) {
		strcpy(tmpdir, "/tmp/memsim-test-store-XXXXXX");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(cleanup);
	}
	if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
		exit(1);
	return p;
}

static const struct run_param test_params[] = {
	{ "heavy", "256" }, { "light", "64" }, { "note", "a, \"quoted\" value" },
};

/* Fills *r and *mx as run `id` with 3 params, 4 metrics and nseries series of npts points. */
static void make_run(struct run_record *r, struct metrics *mx, const char *id,
		     uint64_t event_digest, int nseries, int npts)
{
	char name[32];
	int i, j;

	memset(r, 0, sizeof(*r));
	snprintf(r->run_id, sizeof(r->run_id), "%s", id);
	r->model = "rmap";
	r->policy = "hash";
	r->trace = "scenario:one-frame";
	r->trace_digest = 0x0123456789abcdefull;
	r->seed = 42;
	r->profile_name = "flat";
	r->profile_digest = 0xfedcba9876543210ull;
	r->event_digest = event_digest;
	r->memsim_version = "0.1.0-test";
	r->config_json = "{\"model\":\"rmap\",\"heavy\":256}";
	r->wall_ns = 123456;
	r->status = "ok";
	r->params = test_params;
	r->nparams = 3;
	metrics_init(mx);
	metrics_set(mx, "zaps", 17);
	metrics_set(mx, "destroy_ns", 1.5e9);
	metrics_set(mx, "ratio", 0.1);
	metrics_set(mx, "undefined", NAN);
	for (i = 0; i < nseries; i++) {
		snprintf(name, sizeof(name), "s%02d", i);
		for (j = 0; j < npts; j++)
			metrics_series_add(mx, name, (uint64_t)j * 1000, (double)(j % 64));
	}
	r->metrics = mx;
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -999;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		printf("  query failed: %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return v;
}

static char *q_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	char *v = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = strdup(sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "");
	else
		printf("  query failed: %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return v;
}

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		printf("  cannot open %s\n", path);
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	return db;
}

/* Number of stored runs that lack any of their params, metrics or series points. */
static int64_t incomplete_runs(sqlite3 *db, int nseries, int npts)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM runs r WHERE "
		 " (SELECT count(*) FROM params p WHERE p.run_id = r.run_id) != 3 OR "
		 " (SELECT count(*) FROM metrics m WHERE m.run_id = r.run_id) != 4 OR "
		 " (SELECT count(*) FROM series s WHERE s.run_id = r.run_id) != %d",
		 nseries * npts);
	return q_int(db, sql);
}

static int64_t orphan_rows(sqlite3 *db)
{
	return q_int(db, "SELECT (SELECT count(*) FROM params WHERE run_id NOT IN "
		     "(SELECT run_id FROM runs)) + (SELECT count(*) FROM metrics WHERE run_id "
		     "NOT IN (SELECT run_id FROM runs)) + (SELECT count(*) FROM series WHERE "
		     "run_id NOT IN (SELECT run_id FROM runs))");
}

static int integrity_ok(sqlite3 *db)
{
	char *v = q_text(db, "PRAGMA integrity_check");
	int ok = v && strcmp(v, "ok") == 0;

	free(v);
	return ok;
}

TEST(run_round_trips_params_metrics_and_series)
{
	char *path = tpath("roundtrip.db"), err[256], *t;
	struct run_record r;
	struct metrics mx;
	struct store *st;
	sqlite3 *db;

	make_run(&r, &mx, "00112233445566ff", 0xabcdef0011223344ull, 2, 100);
	r.seed = 0xfffffffffffffff0ull;	/* above INT64_MAX: stored as its bit pattern */
	r.sweep_id = "sweep-a";
	st = store_open(path, err, sizeof(err));
	CHECK(st != NULL);
	if (!st)
		return;
	CHECK(store_put_run(st, &r, err, sizeof(err)) == 0);
	CHECK(store_has_run(st, "00112233445566ff") == 1);
	CHECK(store_has_run(st, "00112233445566fe") == 0);
	store_close(st);

	db = raw_open(path);
	CHECK(q_int(db, "SELECT count(*) FROM runs") == 1);
	t = q_text(db, "SELECT model || '/' || policy || '/' || trace || '/' || trace_digest || "
		   "'/' || profile_name || '/' || profile_digest || '/' || event_digest || '/' || "
		   "memsim_version || '/' || status || '/' || sweep_id FROM runs");
	CHECK(t && strcmp(t, "rmap/hash/scenario:one-frame/0123456789abcdef/flat/"
			  "fedcba9876543210/abcdef0011223344/0.1.0-test/ok/sweep-a") == 0);
	free(t);
	CHECK((uint64_t)q_int(db, "SELECT seed FROM runs") == 0xfffffffffffffff0ull);
	CHECK(q_int(db, "SELECT wall_ns FROM runs") == 123456);
	t = q_text(db, "SELECT json_extract(config_json, '$.heavy') FROM runs");
	CHECK(t && strcmp(t, "256") == 0);
	free(t);
	t = q_text(db, "SELECT group_concat(key || '=' || value, ';') FROM "
		   "(SELECT key, value FROM params ORDER BY ord)");
	CHECK(t && strcmp(t, "heavy=256;light=64;note=a, \"quoted\" value") == 0);
	free(t);
	CHECK(q_int(db, "SELECT value FROM metrics WHERE name = 'zaps'") == 17);
	CHECK(q_int(db, "SELECT value = 1.5e9 FROM metrics WHERE name = 'destroy_ns'") == 1);
	CHECK(q_int(db, "SELECT value = 0.1 FROM metrics WHERE name = 'ratio'") == 1);
	CHECK(q_int(db, "SELECT value IS NULL FROM metrics WHERE name = 'undefined'") == 1);
	t = q_text(db, "SELECT group_concat(name, ',') FROM (SELECT name FROM metrics ORDER BY ord)");
	CHECK(t && strcmp(t, "zaps,destroy_ns,ratio,undefined") == 0);
	free(t);
	CHECK(q_int(db, "SELECT count(*) FROM series WHERE name = 's01'") == 100);
	CHECK(q_int(db, "SELECT t_ns FROM series WHERE name = 's00' AND idx = 99") == 99000);
	CHECK(q_int(db, "SELECT value FROM series WHERE name = 's00' AND idx = 70") == 6);
	/* views */
	CHECK(q_int(db, "SELECT count(*) FROM run_metrics WHERE model = 'rmap' AND "
		    "sweep_id = 'sweep-a'") == 4);
	CHECK(q_int(db, "SELECT json_extract(params, '$.light') FROM run_params_wide") == 64);
	CHECK(q_int(db, "SELECT count(*) FROM run_params WHERE key = 'heavy'") == 1);
	/* the sweep got a placeholder row */
	CHECK(q_int(db, "SELECT count(*) FROM sweeps WHERE sweep_id = 'sweep-a' AND "
		    "spec IS NULL") == 1);
	t = q_text(db, "PRAGMA journal_mode");
	CHECK(t && strcmp(t, "wal") == 0);
	free(t);
	sqlite3_close(db);
	metrics_free(&mx);
	free(path);
}

TEST(same_run_id_and_event_digest_is_skipped_without_writing)
{
	char *path = tpath("skip.db"), err[256];
	struct run_record r;
	struct metrics mx, mx2;
	struct store *st;
	sqlite3 *db;

	make_run(&r, &mx, "1111111111111111", 7, 1, 10);
	st = store_open(path, err, sizeof(err));
	CHECK(st && store_put_run(st, &r, err, sizeof(err)) == 0);
	CHECK(st && store_put_run(st, &r, err, sizeof(err)) == 1);	/* identical: skipped */
	/* a copy with the same digest that claims other metrics is a conflict, not written */
	metrics_init(&mx2);
	metrics_set(&mx2, "zaps", 99);
	metrics_set(&mx2, "extra", 1);
	r.metrics = &mx2;
	CHECK(st && store_put_run(st, &r, err, sizeof(err)) == -1);
	CHECK(strstr(err, "run 1111111111111111") && strstr(err, "metric zaps is 17 there, 99"));
	store_close(st);
	db = raw_open(path);
	CHECK(q_int(db, "SELECT count(*) FROM runs") == 1);
	CHECK(q_int(db, "SELECT value FROM metrics WHERE name = 'zaps'") == 17);
	CHECK(q_int(db, "SELECT count(*) FROM metrics WHERE name = 'extra'") == 0);
	sqlite3_close(db);
	metrics_free(&mx);
	metrics_free(&mx2);
	free(path);
}

TEST(same_run_id_with_other_event_digest_is_a_named_conflict)
{
	char *path = tpath("conflict.db"), err[256] = "";
	struct run_record r;
	struct metrics mx;
	struct store *st;
	sqlite3 *db;

	make_run(&r, &mx, "2222222222222222", 7, 1, 10);
	st = store_open(path, err, sizeof(err));
	CHECK(st && store_put_run(st, &r, err, sizeof(err)) == 0);
	r.event_digest = 8;
	CHECK(st && store_put_run(st, &r, err, sizeof(err)) == -1);
	CHECK(strstr(err, "2222222222222222") && strstr(err, "0000000000000007") &&
	      strstr(err, "0000000000000008") && strstr(err, path));
	store_close(st);
	db = raw_open(path);
	CHECK(q_int(db, "SELECT event_digest = '0000000000000007' FROM runs") == 1);
	sqlite3_close(db);
	metrics_free(&mx);
	free(path);
}

TEST(malformed_run_id_is_refused)
{
	char *path = tpath("badid.db"), err[256] = "";
	struct run_record r;
	struct metrics mx;
	struct store *st;

	make_run(&r, &mx, "ABCDEF0123456789", 1, 0, 0);
	st = store_open(path, err, sizeof(err));
	CHECK(st && store_put_run(st, &r, err, sizeof(err)) == -1);
	CHECK(strstr(err, "ABCDEF0123456789") && strstr(err, "hex"));
	snprintf(r.run_id, sizeof(r.run_id), "abc");
	CHECK(st && store_put_run(st, &r, err, sizeof(err)) == -1);
	r.model = NULL;
	snprintf(r.run_id, sizeof(r.run_id), "abcdef0123456789");
	CHECK(st && store_put_run(st, &r, err, sizeof(err)) == -1 && strstr(err, "model"));
	store_close(st);
	metrics_free(&mx);
	free(path);
}

TEST(concurrent_writers_lose_no_run)
{
	char *path = tpath("concurrent.db");
	int gate[2], w, status, ok_children = 0;
	pid_t pids[4];
	sqlite3 *db;

	CHECK(pipe(gate) == 0);
	for (w = 0; w < 4; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			char err[256], id[17], c;
			struct run_record r;
			struct metrics mx;
			struct store *st;
			int i;

			close(gate[1]);
			if (read(gate[0], &c, 1) < 0)	/* all start at once: EOF */
				_exit(3);
			st = store_open(path, err, sizeof(err));
			if (!st) {
				fprintf(stderr, "child %d: %s\n", w, err);
				_exit(1);
			}
			for (i = 0; i < 50; i++) {
				snprintf(id, sizeof(id), "%08x%08x", w, i);
				make_run(&r, &mx, id, (uint64_t)i, 1, 100);
				if (store_put_run(st, &r, err, sizeof(err)) != 0) {
					fprintf(stderr, "child %d: %s\n", w, err);
					_exit(2);
				}
				metrics_free(&mx);
			}
			store_close(st);
			_exit(0);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (w = 0; w < 4; w++)
		if (pids[w] > 0 && waitpid(pids[w], &status, 0) == pids[w] &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok_children++;
	CHECK(ok_children == 4);
	db = raw_open(path);
	CHECK(q_int(db, "SELECT count(*) FROM runs") == 200);
	CHECK(q_int(db, "SELECT count(DISTINCT substr(run_id, 1, 8)) FROM runs") == 4);
	CHECK(incomplete_runs(db, 1, 100) == 0);
	CHECK(integrity_ok(db));
	sqlite3_close(db);
	free(path);
}

static long progress_calls, progress_limit;

static int kill_on_progress(void *arg)
{
	if (++progress_calls >= progress_limit)
		raise(SIGKILL);
	return 0;
}

/*
 * Child: writes runs <iter><i> (8 hex digits each; NSERIES series of 4096 points) forever, reporting
 * each completed put on fd `done`; with limit > 0 it kills itself from inside SQLite after
 * `limit` progress callbacks, i.e. at a chosen point in the middle of a transaction.
 */
static void kill_child(const char *path, int iter, long limit, int done)
{
	char err[256];
	struct run_record r;
	struct metrics mx;
	struct store *st = store_open(path, err, sizeof(err));
	int i;

	if (!st)
		_exit(1);
	if (limit > 0) {
		progress_limit = limit;
		sqlite3_progress_handler(store_sqlite(st), 50, kill_on_progress, NULL);
	}
	make_run(&r, &mx, "0000000000000000", 1, NSERIES, METRICS_SERIES_MAX_POINTS);
	for (i = 0;; i++) {
		snprintf(r.run_id, sizeof(r.run_id), "%08x%08x", iter, i);
		if (store_put_run(st, &r, err, sizeof(err)) != 0)
			_exit(2);
		if (write(done, "x", 1) != 1)
			_exit(3);
	}
}

TEST(run_killed_mid_write_is_absent_or_complete)
{
	char *path = tpath("kill.db");
	int iter, ok_all = 1, exact_all = 1, ok_integrity = 1, killed_all = 1;
	uint64_t x = 88172645463325252ull;
	int64_t total = 0;
	sqlite3 *db;

	for (iter = 0; iter < 14; iter++) {
		int pfd[2], status;
		long limit = 0, completed = 0;
		char buf[64];
		ssize_t n;
		pid_t pid;
		int64_t present;
		char sql[128];

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* even iterations: a deterministic kill point inside SQLite (spread over the
		 * first three runs); odd ones: SIGKILL from outside after 1..250 ms */
		if (iter % 2 == 0)
			limit = 1 + (long)(x % 81000);
		if (pipe(pfd))
			break;
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			kill_child(path, iter, limit, pfd[1]);
		}
		close(pfd[1]);
		if (!limit) {
			usleep(1000 + (useconds_t)(x % 250000));
			kill(pid, SIGKILL);
		}
		waitpid(pid, &status, 0);
		killed_all &= WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
		while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
			completed += n;
		close(pfd[0]);

		db = raw_open(path);
		ok_integrity &= integrity_ok(db);
		ok_all &= incomplete_runs(db, NSERIES, METRICS_SERIES_MAX_POINTS) == 0;
		ok_all &= orphan_rows(db) == 0;
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM runs WHERE run_id LIKE '%08x%%'",
			 iter);
		present = q_int(db, sql);
		/* every put that returned is there; at most the one being written also is */
		exact_all &= present >= completed && present <= completed + 1;
		total += present;
		sqlite3_close(db);
	}
	printf("  %" PRId64 " complete runs survived 14 kills\n", total);
	CHECK(killed_all);
	CHECK(ok_integrity);
	CHECK(ok_all);
	CHECK(exact_all);
	free(path);
}

/* Writes runs ids[] (event digest = digests[]) into a new database at path. */
static void db_with_runs(const char *path, const char *const *ids, const uint64_t *digests,
			 int n, const char *sweep)
{
	char err[256];
	struct run_record r;
	struct metrics mx;
	struct store *st = store_open(path, err, sizeof(err));
	int i;

	for (i = 0; st && i < n; i++) {
		make_run(&r, &mx, ids[i], digests[i], 2, 50);
		r.sweep_id = sweep;
		if (store_put_run(st, &r, err, sizeof(err)) != 0)
			printf("  %s\n", err);
		metrics_free(&mx);
	}
	if (st && sweep && store_put_sweep(st, sweep, "{\"grid\":\"heavy=64..256\"}", err,
					   sizeof(err)) < 0)
		printf("  %s\n", err);
	store_close(st);
}

TEST(merge_copies_new_runs_once_and_is_idempotent)
{
	static const char *const a_ids[] = { "aaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaa2" };
	static const char *const b_ids[] = { "aaaaaaaaaaaaaaa2", "bbbbbbbbbbbbbbb3" };
	static const uint64_t dig[] = { 1, 2 };
	static const uint64_t b_dig[] = { 2, 3 };
	char *out = tpath("merge-out.db"), *a = tpath("merge-a.db"), *b = tpath("merge-b.db");
	char err[256] = "";
	size_t copied = 99, skipped = 99;
	struct store *st;
	sqlite3 *db;

	db_with_runs(a, a_ids, dig, 2, "sw1");
	db_with_runs(b, b_ids, b_dig, 2, NULL);
	st = store_open(out, err, sizeof(err));
	CHECK(st != NULL);
	if (!st)
		return;
	CHECK(store_merge(st, a, &copied, &skipped, err, sizeof(err)) == 0);
	CHECK(copied == 2 && skipped == 0);
	CHECK(store_merge(st, a, &copied, &skipped, err, sizeof(err)) == 0);
	CHECK(copied == 0 && skipped == 2);
	CHECK(store_merge(st, b, &copied, &skipped, err, sizeof(err)) == 0);
	CHECK(copied == 1 && skipped == 1);
	store_close(st);

	db = raw_open(out);
	CHECK(q_int(db, "SELECT count(*) FROM runs") == 3);
	CHECK(incomplete_runs(db, 2, 50) == 0);
	CHECK(q_int(db, "SELECT count(*) FROM sweeps WHERE sweep_id = 'sw1' AND "
		    "spec LIKE '%heavy%'") == 1);
	CHECK(q_int(db, "SELECT count(*) FROM runs WHERE sweep_id = 'sw1'") == 2);
	CHECK(integrity_ok(db));
	sqlite3_close(db);
	free(out);
	free(a);
	free(b);
}

TEST(merge_with_a_conflicting_run_copies_nothing)
{
	static const char *const ids[] = { "ccccccccccccccc1" };
	static const char *const c_ids[] = { "ccccccccccccccc0", "ccccccccccccccc1" };
	static const uint64_t dig[] = { 5 };
	static const uint64_t c_dig[] = { 4, 6 };
	char *out = tpath("mconf-out.db"), *c = tpath("mconf-c.db"), err[256] = "";
	struct store *st;
	sqlite3 *db;

	db_with_runs(out, ids, dig, 1, NULL);
	db_with_runs(c, c_ids, c_dig, 2, NULL);
	st = store_open(out, err, sizeof(err));
	CHECK(st && store_merge(st, c, NULL, NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "ccccccccccccccc1") && strstr(err, "conflict"));
	CHECK(st && store_merge(st, out, NULL, NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "output database itself"));
	store_close(st);
	db = raw_open(out);
	CHECK(q_int(db, "SELECT count(*) FROM runs") == 1);	/* ...c0 was not copied */
	sqlite3_close(db);
	free(out);
	free(c);
}

TEST(merge_of_a_missing_or_foreign_file_fails_cleanly)
{
	char *out = tpath("mfor-out.db"), *junk = tpath("junk.db"), err[256] = "";
	struct store *st;
	FILE *f = fopen(junk, "w");

	if (f) {
		fputs("this is not sqlite\n", f);
		fclose(f);
	}
	st = store_open(out, err, sizeof(err));
	CHECK(st && store_merge(st, "/nonexistent/x.db", NULL, NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "no such database file"));
	CHECK(st && store_merge(st, junk, NULL, NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, junk) != NULL);
	store_close(st);
	CHECK(store_open(junk, err, sizeof(err)) == NULL);
	CHECK(strstr(err, junk) && strstr(err, "not a database"));
	free(out);
	free(junk);
}

TEST(readonly_open_refuses_a_missing_file_and_creates_none)
{
	char *path = tpath("absent.db"), *empty = tpath("other.db"), err[256] = "";
	struct stat sb;
	sqlite3 *db;

	CHECK(store_open_readonly(path, err, sizeof(err)) == NULL);
	CHECK(strstr(err, path) && strstr(err, "no such database file"));
	CHECK(stat(path, &sb) == -1);
	/* an SQLite file that is not memsim's */
	db = NULL;
	sqlite3_open(empty, &db);
	sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK(store_open_readonly(empty, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not a memsim database"));
	CHECK(store_open(empty, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not a memsim database"));
	free(path);
	free(empty);
}

TEST(readonly_store_refuses_writes)
{
	char *path = tpath("ro.db"), err[256] = "";
	struct run_record r;
	struct metrics mx;
	struct store *st = store_open(path, err, sizeof(err));

	store_close(st);
	make_run(&r, &mx, "3333333333333333", 1, 0, 0);
	st = store_open_readonly(path, err, sizeof(err));
	CHECK(st != NULL);
	CHECK(st && store_put_run(st, &r, err, sizeof(err)) == -1 && strstr(err, "read-only"));
	CHECK(st && store_has_run(st, "3333333333333333") == 0);
	store_close(st);
	metrics_free(&mx);
	free(path);
}

TEST(newer_schema_version_is_refused)
{
	char *path = tpath("future.db"), err[256] = "";
	struct store *st = store_open(path, err, sizeof(err));
	sqlite3 *db;

	store_close(st);
	db = raw_open(path);
	sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", NULL, NULL,
		     NULL);
	sqlite3_close(db);
	CHECK(store_open(path, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "schema version 99"));
	CHECK(store_open_readonly(path, err, sizeof(err)) == NULL);
	free(path);
}

TEST(sweeps_record_spec_and_list_their_runs)
{
	static const char *const ids[] = { "dddddddddddddd02", "dddddddddddddd01" };
	static const uint64_t dig[] = { 1, 2 };
	char *path = tpath("sweep.db"), err[256] = "", **v = NULL;
	struct store *st;
	size_t n = 0;

	db_with_runs(path, ids, dig, 2, "swX");	/* placeholder row, then its spec */
	st = store_open(path, err, sizeof(err));
	CHECK(st && store_put_sweep(st, "swX", "{\"grid\":\"heavy=64..256\"}", err,
				    sizeof(err)) == 1);
	CHECK(st && store_put_sweep(st, "swX", "other", err, sizeof(err)) == -1);
	CHECK(strstr(err, "swX") && strstr(err, "different spec"));
	CHECK(st && store_put_sweep(st, "swY", "spec-y", err, sizeof(err)) == 0);
	CHECK(st && store_sweep_runs(st, "swX", &v, &n) == 0 && n == 2);
	CHECK(n == 2 && strcmp(v[0], "dddddddddddddd01") == 0 &&
	      strcmp(v[1], "dddddddddddddd02") == 0);
	store_free_ids(v, n);
	CHECK(st && store_sweep_runs(st, "swY", &v, &n) == 0 && n == 0);
	store_free_ids(v, n);
	store_close(st);
	free(path);
}

/* Runs a store_cmd_* into a string. */
static char *capture(int (*fn)(struct store *, FILE *, const char *, const char *),
		     struct store *st, const char *a, const char *b, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*rc = fn(st, f, a, b);
	fclose(f);
	return buf;
}

static int ls2(struct store *st, FILE *f, const char *a, const char *b)
{
	return store_cmd_ls(st, f, a);
}

static int show2(struct store *st, FILE *f, const char *a, const char *b)
{
	return store_cmd_show(st, f, a);
}

TEST(db_commands_list_show_and_export_csv)
{
	static const char *const ids[] = { "eeeeeeeeeeeeee01", "ffffffffffffff02" };
	static const uint64_t dig[] = { 1, 2 };
	char *path = tpath("cmds.db"), err[256] = "", *out;
	struct store *st;
	int rc;

	db_with_runs(path, ids, dig, 2, "swZ");
	st = store_open_readonly(path, err, sizeof(err));
	CHECK(st != NULL);
	if (!st)
		return;
	out = capture(ls2, st, NULL, NULL, &rc);
	CHECK(rc == 0 && strncmp(out, "run_id ", 7) == 0);
	CHECK(strstr(out, "eeeeeeeeeeeeee01  rmap") && strstr(out, "ffffffffffffff02"));
	free(out);
	out = capture(ls2, st, "no-such-sweep", NULL, &rc);	/* an unknown sweep is an error */
	CHECK(rc == 2 && !strstr(out, "eeeeeeeeeeeeee01"));
	free(out);

	out = capture(show2, st, "eeee", NULL, &rc);	/* a unique prefix */
	CHECK(rc == 0 && strstr(out, "run_id          eeeeeeeeeeeeee01"));
	CHECK(strstr(out, "metrics (4)") && strstr(out, "destroy_ns  1500000000"));
	CHECK(strstr(out, "ratio       0.1") && strstr(out, "s01  50 points, t_ns 0..49000"));
	CHECK(strstr(out, "note   a, \"quoted\" value"));
	free(out);
	out = capture(show2, st, "0123456789abcdef", NULL, &rc);
	CHECK(rc == 2);
	free(out);
	out = capture(show2, st, "xyz", NULL, &rc);
	CHECK(rc == 2);
	free(out);

	out = capture(store_cmd_export_csv, st, "params", NULL, &rc);
	CHECK(rc == 0 && strncmp(out, "run_id,sweep_id,model,policy,trace,seed,key,value\n",
				 50) == 0);
	CHECK(strstr(out, "eeeeeeeeeeeeee01,swZ,rmap,hash,scenario:one-frame,42,note,"
		      "\"a, \"\"quoted\"\" value\"\n"));
	free(out);
	out = capture(store_cmd_export_csv, st, "metrics", "swZ", &rc);
	CHECK(rc == 0 && strstr(out, ",zaps,17\n") && strstr(out, ",undefined,\n"));
	free(out);
	out = capture(store_cmd_export_csv, st, "series", NULL, &rc);
	CHECK(rc == 0 && strstr(out, "ffffffffffffff02,swZ,rmap,hash,scenario:one-frame,42,"
				"s01,49,49000,49\n"));
	free(out);
	out = capture(store_cmd_export_csv, st, "bogus", NULL, &rc);
	CHECK(rc == 2);
	free(out);
	store_close(st);
	free(path);
}

int main(void)
{
	return test_main();
}
