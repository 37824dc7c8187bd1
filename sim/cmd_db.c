/* SPDX-License-Identifier: MIT */
/*
 * sim/cmd_db.c — `memsim db`: look into and combine results databases.
 *
 *   memsim db ls     [--db FILE] [--sweep ID]
 *   memsim db show   RUN_ID [--db FILE]
 *   memsim db export --csv [--db FILE] [--what runs|metrics|params|series] [--sweep ID]
 *   memsim db merge  OUT IN...
 *   memsim db init   [--db FILE]
 *
 * Read commands (ls, show, export) open the database read-only and never create a file.
 * The database defaults to $MEMSIM_DB, else ./memsim.db.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include "store.h"
#include "cmds.h"
#include "outfile.h"
#include "util.h"
#include "wide.h"

static const char db_usage[] =
	"usage: memsim db COMMAND [OPTIONS]\n"
	"  ls     [--db FILE] [--sweep ID] [--json]  list runs, oldest first\n"
	"  show   RUN_ID [--db FILE] [--json]   one run: provenance, config, params, metrics,\n"
	"                                       series\n"
	"  export --csv|--json [--db FILE] [--what runs|metrics|params|series] [--sweep ID]\n"
	"                                       one table on stdout\n"
	"  export --wide --csv|--json [--db FILE] [--sweep ID]\n"
	"                                       one typed row per run, parameters and metrics\n"
	"                                       as columns (for pandas, R, a spreadsheet)\n"
	"  merge  OUT IN...                     copy the runs of each IN database into OUT\n"
	"  init   [--db FILE]                   create an empty database\n"
	"The database is --db FILE, else $MEMSIM_DB, else ./memsim.db.  Schema: docs/schema.md.\n"
	"A run or sweep ID is a full id, a unique prefix of at least 4 characters, or 'last'\n"
	"(the most recently created).\n"
	"Exit status: 0 ok, 1 failure or conflict, 2 bad usage, missing database, unknown or\n"
	"ambiguous id.\n";

static const char *default_db(void)
{
	const char *e = getenv("MEMSIM_DB");

	return e && *e ? e : "memsim.db";
}

/* ---- output helpers ------------------------------------------------------------------ */

/* Column i of the current row as text: NULL empty, REAL in memsim's number format. */
static const char *col_str(sqlite3_stmt *s, int i, char *buf, size_t len)
{
	const char *name = sqlite3_column_name(s, i);

	switch (sqlite3_column_type(s, i)) {
	case SQLITE_NULL:
		return "";
	case SQLITE_INTEGER:
		if (name && strcmp(name, "seed") == 0)	/* stored as the signed bit pattern */
			snprintf(buf, len, "%" PRIu64, (uint64_t)sqlite3_column_int64(s, i));
		else
			snprintf(buf, len, "%" PRId64, (int64_t)sqlite3_column_int64(s, i));
		return buf;
	case SQLITE_FLOAT:
		metrics_format_value(sqlite3_column_double(s, i), buf, len);
		return buf;
	default:
		return (const char *)sqlite3_column_text(s, i);
	}
}

/* RFC 4180 field: quoted when it holds a comma, quote, CR, LF or edge blank. */
static void csv_field(FILE *out, const char *v)
{
	size_t n = strlen(v);

	if (!strpbrk(v, ",\"\r\n") && !(n && (v[0] == ' ' || v[n - 1] == ' '))) {
		fputs(v, out);
		return;
	}
	fputc('"', out);
	for (; *v; v++) {
		if (*v == '"')
			fputc('"', out);
		fputc(*v, out);
	}
	fputc('"', out);
}

/* Column i of the current row as a JSON value: numbers as numbers, NULL (NaN) as null; a
 * parameter's value (stored as text) as a number when it is one. */
static void json_col(FILE *out, sqlite3_stmt *s, int i)
{
	const char *name = sqlite3_column_name(s, i);
	char buf[64];

	switch (sqlite3_column_type(s, i)) {
	case SQLITE_NULL:
		fputs("null", out);
		return;
	case SQLITE_INTEGER:
	case SQLITE_FLOAT:
		if (sqlite3_column_type(s, i) == SQLITE_FLOAT &&
		    !isfinite(sqlite3_column_double(s, i))) {
			fputs("null", out);
			return;
		}
		fputs(col_str(s, i, buf, sizeof(buf)), out);
		return;
	default:
		if (name && !strcmp(name, "value"))
			json_write_scalar(out, (const char *)sqlite3_column_text(s, i));
		else
			json_write_string(out, (const char *)sqlite3_column_text(s, i));
	}
}

/* The current row as one JSON object, keys the column names. */
static void json_row(FILE *out, sqlite3_stmt *s)
{
	int i, n = sqlite3_column_count(s);

	fputc('{', out);
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', out);
		json_write_string(out, sqlite3_column_name(s, i));
		fputc(':', out);
		json_col(out, s, i);
	}
	fputc('}', out);
}

static int sql_fail(struct store *st, const char *what)
{
	fprintf(stderr, "memsim: %s: %s: %s\n", store_path(st), what,
		sqlite3_errmsg(store_sqlite(st)));
	return 1;
}

/* Resolves what the user typed (id, unique prefix, "last") with the shared resolver.
 * 0 with the full id in out, or an exit status with the message printed. */
static int resolve_arg(struct store *st, const char *cmd, const char *what, const char *opt,
		       const char *arg, char out[STORE_ID_MAX])
{
	char err[1024];
	int rc = store_resolve_id(st, what, opt, arg, out, STORE_ID_MAX, err, sizeof(err));

	if (rc)
		fprintf(stderr, "memsim: db %s: %s\n", cmd, err);
	return rc;
}

/* ---- ls ------------------------------------------------------------------------------- */

struct table {
	char **cell;             /* row-major, ncols cells per row */
	size_t ncols, n, cap;
};

static int table_push(struct table *t, const char *v)
{
	char *c = strdup(v ? v : "");

	if (c && t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64 * t->ncols;
		char **nc = realloc(t->cell, cap * sizeof(*nc));

		if (!nc) {
			free(c);
			return -1;
		}
		t->cell = nc;
		t->cap = cap;
	}
	if (!c)
		return -1;
	t->cell[t->n++] = c;
	return 0;
}

/* Every row of a prepared statement as a JSON array of objects, one per line. */
static int json_rows(struct store *st, FILE *out, sqlite3_stmt *s, const char *what)
{
	int rc, n = 0;

	fputc('[', out);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		fputs(n++ ? ",\n" : "\n", out);
		json_row(out, s);
	}
	fputs(n ? "\n]\n" : "]\n", out);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : sql_fail(st, what);
}

static const char ls_sql[] =
	"SELECT r.run_id, r.sweep_id, r.model, r.policy, r.trace, r.seed, "
	"  (SELECT count(*) FROM metrics m WHERE m.run_id = r.run_id) AS metrics, "
	"  r.status, r.created "
	"FROM runs r WHERE ?1 IS NULL OR r.sweep_id = ?1 ORDER BY r.created, r.run_id";

/* db ls --json: the rows of db ls (with sweep_id) as a JSON array. */
static int db_ls_json(struct store *st, FILE *out, const char *sweep_id)
{
	sqlite3_stmt *s;
	char sid[STORE_ID_MAX];
	int rc;

	if (sweep_id && (rc = resolve_arg(st, "ls", "sweep", "--sweep", sweep_id, sid)))
		return rc;
	if (sqlite3_prepare_v2(store_sqlite(st), ls_sql, -1, &s, NULL))
		return sql_fail(st, "ls");
	sqlite3_bind_text(s, 1, sweep_id ? sid : NULL, -1, SQLITE_TRANSIENT);
	return json_rows(st, out, s, "ls");
}

int store_cmd_ls(struct store *st, FILE *out, const char *sweep_id)
{
	static const char *const head[] = {
		"run_id", "model", "policy", "trace", "seed", "metrics", "status", "created"
	};
	struct table t = { NULL, 8, 0, 0 };
	size_t width[8], i, j, k;
	sqlite3_stmt *s;
	char buf[64], sid[STORE_ID_MAX];
	int rc, ret = 0;

	if (sweep_id && (rc = resolve_arg(st, "ls", "sweep", "--sweep", sweep_id, sid)))
		return rc;

	rc = sqlite3_prepare_v2(store_sqlite(st),
		"SELECT r.run_id, r.model, r.policy, r.trace, r.seed, "
		"  (SELECT count(*) FROM metrics m WHERE m.run_id = r.run_id) AS metrics, "
		"  r.status, r.created "
		"FROM runs r WHERE ?1 IS NULL OR r.sweep_id = ?1 ORDER BY r.created, r.run_id",
		-1, &s, NULL);
	if (rc)
		return sql_fail(st, "ls");
	sqlite3_bind_text(s, 1, sweep_id ? sid : NULL, -1, SQLITE_TRANSIENT);
	for (j = 0; j < t.ncols; j++)
		width[j] = strlen(head[j]);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (j = 0; j < t.ncols; j++) {
			if (table_push(&t, col_str(s, (int)j, buf, sizeof(buf)))) {
				fputs("memsim: db ls: out of memory\n", stderr);
				ret = 1;
				goto done;
			}
			if (strlen(t.cell[t.n - 1]) > width[j])
				width[j] = strlen(t.cell[t.n - 1]);
		}
	}
	if (rc != SQLITE_DONE) {
		ret = sql_fail(st, "ls");
		goto done;
	}
	for (i = 0; i <= t.n / t.ncols; i++) {
		for (j = 0; j < t.ncols; j++) {
			const char *v = i ? t.cell[(i - 1) * t.ncols + j] : head[j];

			if (j + 1 == t.ncols) {
				fprintf(out, "%s\n", v);
			} else if (j == 4 || j == 5) {	/* numbers right-aligned */
				for (k = strlen(v); k < width[j]; k++)
					fputc(' ', out);
				fprintf(out, "%s  ", v);
			} else {
				fprintf(out, "%-*s  ", (int)width[j], v);
			}
		}
	}
done:
	sqlite3_finalize(s);
	for (i = 0; i < t.n; i++)
		free(t.cell[i]);
	free(t.cell);
	return ret;
}

/* ---- show ----------------------------------------------------------------------------- */

/* Prints "  name  value" rows of a two-column query, names padded to the widest. */
static int show_pairs(struct store *st, FILE *out, const char *title, const char *sql,
		      const char *id)
{
	sqlite3_stmt *s;
	size_t w = 0, n = 0;
	char buf[64];
	int rc, pass;

	if (sqlite3_prepare_v2(store_sqlite(st), sql, -1, &s, NULL))
		return sql_fail(st, "show");
	for (pass = 0; pass < 2; pass++) {
		sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
		if (pass)
			fprintf(out, "%s (%zu)\n", title, n);
		n = 0;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *k = (const char *)sqlite3_column_text(s, 0);
			const char *v = col_str(s, 1, buf, sizeof(buf));

			n++;
			if (!pass && strlen(k) > w)
				w = strlen(k);
			if (pass)
				fprintf(out, "  %-*s  %s\n", (int)w, k, v);
		}
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			sqlite3_finalize(s);
			return sql_fail(st, "show");
		}
	}
	sqlite3_finalize(s);
	return 0;
}

int store_cmd_show(struct store *st, FILE *out, const char *run_id)
{
	char id[STORE_ID_MAX], buf[64];
	sqlite3_stmt *s;
	int rc, i;

	rc = resolve_arg(st, "show", "run", "RUN_ID", run_id, id);
	if (rc)
		return rc;
	rc = sqlite3_prepare_v2(store_sqlite(st),
		"SELECT run_id, sweep_id, model, policy, trace, trace_digest, seed, profile_name, "
		"profile_digest, event_digest, memsim_version, status, created, wall_ns, config_json "
		"FROM runs WHERE run_id = ?", -1, &s, NULL);
	if (rc)
		return sql_fail(st, "show");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return sql_fail(st, "show");
	}
	for (i = 0; i < sqlite3_column_count(s) - 1; i++) {
		const char *v = col_str(s, i, buf, sizeof(buf));

		fprintf(out, "%-15s %s\n", sqlite3_column_name(s, i), *v ? v : "-");
	}
	fprintf(out, "config\n  %s\n", sqlite3_column_type(s, i) == SQLITE_NULL ? "-" :
		(const char *)sqlite3_column_text(s, i));
	sqlite3_finalize(s);

	if (show_pairs(st, out, "params",
		       "SELECT key, value FROM params WHERE run_id = ? ORDER BY ord", id) ||
	    show_pairs(st, out, "metrics",
		       "SELECT name, value FROM metrics WHERE run_id = ? ORDER BY ord", id) ||
	    show_pairs(st, out, "series",
		       "SELECT name, count(*) || ' points, t_ns ' || min(t_ns) || '..' || "
		       "max(t_ns) FROM series WHERE run_id = ? GROUP BY name ORDER BY name", id))
		return 1;
	return 0;
}

/* "name":{"k":v,...} from a query of (key, value) or (key, obj...) rows. */
static int json_pairs(struct store *st, FILE *out, const char *name, const char *sql,
		      const char *id)
{
	sqlite3_stmt *s;
	int rc, n = 0;

	if (sqlite3_prepare_v2(store_sqlite(st), sql, -1, &s, NULL))
		return sql_fail(st, "show");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	fprintf(out, ",\"%s\":{", name);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n++)
			fputc(',', out);
		json_write_string(out, (const char *)sqlite3_column_text(s, 0));
		fputc(':', out);
		if (sqlite3_column_count(s) == 2) {
			json_col(out, s, 1);
		} else {
			int i;

			fputc('{', out);
			for (i = 1; i < sqlite3_column_count(s); i++) {
				fprintf(out, "%s\"%s\":", i > 1 ? "," : "", sqlite3_column_name(s, i));
				json_col(out, s, i);
			}
			fputc('}', out);
		}
	}
	fputc('}', out);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : sql_fail(st, "show");
}

/* db show --json: one object, the run's columns, "config" (the stored JSON object itself),
 * "params", "metrics" (objects by name) and "series" (points and time span by name). */
static int db_show_json(struct store *st, FILE *out, const char *run_id)
{
	char id[STORE_ID_MAX];
	sqlite3_stmt *s;
	int rc, i, n;

	rc = resolve_arg(st, "show", "run", "RUN_ID", run_id, id);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(store_sqlite(st),
		"SELECT run_id, sweep_id, model, policy, trace, trace_digest, seed, profile_name, "
		"profile_digest, event_digest, memsim_version, status, created, wall_ns, config_json "
		"FROM runs WHERE run_id = ?", -1, &s, NULL))
		return sql_fail(st, "show");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return sql_fail(st, "show");
	}
	n = sqlite3_column_count(s) - 1;
	fputc('{', out);
	for (i = 0; i < n; i++) {
		fprintf(out, "%s\"%s\":", i ? "," : "", sqlite3_column_name(s, i));
		json_col(out, s, i);
	}
	/* config_json was written by memsim as one JSON object: embedded, not quoted */
	fprintf(out, ",\"config\":%s", sqlite3_column_type(s, n) == SQLITE_NULL ? "null" :
		(const char *)sqlite3_column_text(s, n));
	sqlite3_finalize(s);
	if (json_pairs(st, out, "params",
		       "SELECT key, value FROM params WHERE run_id = ? ORDER BY ord", id) ||
	    json_pairs(st, out, "metrics",
		       "SELECT name, value AS metric FROM metrics WHERE run_id = ? ORDER BY ord", id) ||
	    json_pairs(st, out, "series",
		       "SELECT name, count(*) AS points, min(t_ns) AS t_min_ns, max(t_ns) AS t_max_ns "
		       "FROM series WHERE run_id = ? GROUP BY name ORDER BY name", id))
		return 1;
	fputs("}\n", out);
	return 0;
}

/* ---- export --------------------------------------------------------------------------- */

/* db export --wide: one typed row per run (sim/wide.h). */
static int db_export_wide(struct store *st, FILE *out, bool json, const char *sweep_id)
{
	char sid[STORE_ID_MAX], err[512];
	struct wide w;
	int rc;

	if (sweep_id && (rc = resolve_arg(st, "export", "sweep", "--sweep", sweep_id, sid)))
		return rc;
	if (wide_load(st, sweep_id ? sid : NULL, NULL, &w, err, sizeof(err))) {
		fprintf(stderr, "memsim: db export: %s\n", err);
		return 1;
	}
	if (json)
		wide_write_json(&w, out);
	else
		wide_write_csv(&w, out);
	wide_free(&w);
	return 0;
}

static int export_table(struct store *st, FILE *out, const char *what, const char *sweep_id,
			bool json);

int store_cmd_export_csv(struct store *st, FILE *out, const char *what, const char *sweep_id)
{
	return export_table(st, out, what, sweep_id, false);
}

static int export_table(struct store *st, FILE *out, const char *what, const char *sweep_id,
			bool json)
{
	static const struct {
		const char *what, *sql;
	} q[] = {
		{ "runs", "SELECT run_id, sweep_id, model, policy, trace, trace_digest, seed, "
			  "profile_name, profile_digest, event_digest, memsim_version, wall_ns, "
			  "status, created, config_json FROM runs "
			  "WHERE ?1 IS NULL OR sweep_id = ?1 ORDER BY run_id" },
		{ "metrics", "SELECT m.run_id, r.sweep_id, r.model, r.policy, r.trace, r.seed, "
			     "m.name, m.value FROM metrics m JOIN runs r ON r.run_id = m.run_id "
			     "WHERE ?1 IS NULL OR r.sweep_id = ?1 ORDER BY m.run_id, m.ord" },
		{ "params", "SELECT p.run_id, r.sweep_id, r.model, r.policy, r.trace, r.seed, "
			    "p.key, p.value FROM params p JOIN runs r ON r.run_id = p.run_id "
			    "WHERE ?1 IS NULL OR r.sweep_id = ?1 ORDER BY p.run_id, p.ord" },
		{ "series", "SELECT s.run_id, r.sweep_id, r.model, r.policy, r.trace, r.seed, "
			    "s.name, s.idx, s.t_ns, s.value FROM series s "
			    "JOIN runs r ON r.run_id = s.run_id "
			    "WHERE ?1 IS NULL OR r.sweep_id = ?1 ORDER BY s.run_id, s.name, s.idx" },
	};
	sqlite3_stmt *s;
	char buf[64], sid[STORE_ID_MAX];
	size_t k;
	int rc, i, n;

	for (k = 0; k < sizeof(q) / sizeof(q[0]); k++)
		if (strcmp(q[k].what, what) == 0)
			break;
	if (k == sizeof(q) / sizeof(q[0])) {
		fprintf(stderr, "memsim: db export: --what %s: not one of runs, metrics, params, "
			"series\n", what);
		return 2;
	}
	if (sweep_id && (rc = resolve_arg(st, "export", "sweep", "--sweep", sweep_id, sid)))
		return rc;
	if (sqlite3_prepare_v2(store_sqlite(st), q[k].sql, -1, &s, NULL))
		return sql_fail(st, "export");
	sqlite3_bind_text(s, 1, sweep_id ? sid : NULL, -1, SQLITE_TRANSIENT);
	if (json)
		return json_rows(st, out, s, "export");
	n = sqlite3_column_count(s);
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', out);
		csv_field(out, sqlite3_column_name(s, i));
	}
	fputc('\n', out);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < n; i++) {
			if (i)
				fputc(',', out);
			csv_field(out, col_str(s, i, buf, sizeof(buf)));
		}
		fputc('\n', out);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return sql_fail(st, "export");
	return 0;
}

/* ---- argument parsing ----------------------------------------------------------------- */

enum { OPT_DB = 1, OPT_SWEEP, OPT_CSV, OPT_WHAT, OPT_JSON, OPT_WIDE, OPT_HELP };

struct db_opts {
	const char *db, *sweep, *what;
	bool csv, json, wide, help;
	int npos;
	char **pos;
};

static const char *const sub_usage[][2] = {
	{ "ls", "usage: memsim db ls [--db FILE] [--sweep ID] [--json]\n"
		"List the runs (run_id, model, policy, trace, seed, number of metrics, status,\n"
		"creation time), oldest first; --sweep keeps one sweep's runs.  ID is a sweep id,\n"
		"a unique prefix of at least 4 characters, or 'last'; an unknown or ambiguous ID\n"
		"exits 2 (an ambiguous one lists the candidates).  --json prints a JSON array of\n"
		"objects (with sweep_id; numbers as numbers).\n"
		"example: memsim db ls --sweep last --json\n" },
	{ "show", "usage: memsim db show RUN_ID [--db FILE] [--json]\n"
		  "Print one run: provenance, configuration, params, metrics, series sizes.\n"
		  "RUN_ID is 16 hex digits, a unique prefix of at least 4, or 'last' (the run\n"
		  "stored last); an unknown or ambiguous RUN_ID exits 2.  --json prints one object:\n"
		  "the run's columns, config, params, metrics and series (points, t_min_ns,\n"
		  "t_max_ns) by name.\n"
		  "example: memsim db show last --json\n" },
	{ "export", "usage: memsim db export --csv|--json [--db FILE] "
		    "[--what runs|metrics|params|series] [--sweep ID]\n"
		    "       memsim db export --wide --csv|--json [--db FILE] [--sweep ID]\n"
		    "Write one table as CSV (RFC 4180 quoting, header row, LF line ends) or as a JSON\n"
		    "array of objects (numbers as numbers, NaN as null) to stdout; --what defaults to\n"
		    "runs; --sweep ID as in db ls (id, unique prefix, 'last').\n"
		    "--wide: one row per run, columns run_id, sweep_id, model, policy, trace, seed,\n"
		    "then each parameter (an integer column if every value is an integer, a real one\n"
		    "if every value is a number, else text), then each metric (real).  A name that\n"
		    "clashes gets a param_ or metric_ prefix.  An absent value is empty (CSV) or null.\n"
		    "example: memsim db export --wide --csv --sweep last > sweep.csv\n" },
	{ "merge", "usage: memsim db merge OUT IN...\n"
		   "Copy the runs of each IN database into OUT (created if missing; a regular file,\n"
		   "or a symlink to one: a device, FIFO or directory is refused), one\n"
		   "transaction per IN.  Runs OUT already has are skipped; a run id with different\n"
		   "results in IN and OUT is a conflict: that IN is not merged (exit 1).\n" },
	{ "init", "usage: memsim db init [--db FILE]\n"
		  "Create the database with memsim's schema (docs/schema.md) if it does not exist.\n" },
};

static const char *usage_of(const char *sub)
{
	size_t i;

	for (i = 0; i < sizeof(sub_usage) / sizeof(sub_usage[0]); i++)
		if (strcmp(sub_usage[i][0], sub) == 0)
			return sub_usage[i][1];
	return db_usage;
}

/* Parses a sub-command's argv (argv[0] is its name).  0, or an exit status. */
static int parse_opts(int argc, char **argv, const char *allowed, struct db_opts *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "sweep", required_argument, NULL, OPT_SWEEP },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "what", required_argument, NULL, OPT_WHAT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "wide", no_argument, NULL, OPT_WIDE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->what = "runs";
	optind = 0;		/* full reset: main() may have parsed its own options */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		const char *name = c == 'h' ? "h" : c > 0 && c <= OPT_HELP ?
				   longopts[c - 1].name : NULL;

		if (c == 'h')
			c = OPT_HELP;
		if (c == '?' || c == ':') {
			fprintf(stderr, "memsim: db %s: %s %s (see memsim db %s --help)\n", argv[0],
				argv[optind - 1], c == ':' ? "needs a value" : "is not an option",
				argv[0]);
			return 2;
		}
		if (c != OPT_HELP && !strstr(allowed, name)) {
			fprintf(stderr, "memsim: db %s: --%s is not an option of this command "
				"(see memsim db %s --help)\n", argv[0], name, argv[0]);
			return 2;
		}
		switch (c) {
		case OPT_DB:
			o->db = optarg;
			break;
		case OPT_SWEEP:
			o->sweep = optarg;
			break;
		case OPT_CSV:
			o->csv = true;
			break;
		case OPT_WHAT:
			o->what = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_WIDE:
			o->wide = true;
			break;
		case OPT_HELP:
			o->help = true;
			break;
		}
	}
	if (o->help) {
		fputs(usage_of(argv[0]), stdout);
		return -1;	/* done, exit 0 */
	}
	if (!o->db)
		o->db = default_db();
	o->npos = argc - optind;
	o->pos = argv + optind;
	return 0;
}

static int want_pos(const char *sub, const struct db_opts *o, int min, int max)
{
	if (o->npos >= min && (max < 0 || o->npos <= max))
		return 0;
	fprintf(stderr, "memsim: db %s: %s\n%s", sub,
		o->npos < min ? "missing argument" : "too many arguments", usage_of(sub));
	return 2;
}

static struct store *open_ro(const char *path)
{
	char err[512];
	struct store *st = store_open_readonly(path, err, sizeof(err));

	if (!st)
		fprintf(stderr, "memsim: %s\n", err);
	return st;
}

static int do_merge(const struct db_opts *o)
{
	struct store *st;
	struct stat sb;
	char err[512];
	size_t copied, skipped;
	int i, ret = 0;

	for (i = 1; i < o->npos; i++) {	/* bad input before anything is written */
		if (stat(o->pos[i], &sb) || !S_ISREG(sb.st_mode)) {
			fprintf(stderr, "memsim: %s: no such database file\n", o->pos[i]);
			return 2;
		}
	}
	{
		char real[PATH_MAX];

		/* OUT is a database file, or new: never a device, FIFO or directory (outfile.h) */
		if (out_resolve(o->pos[0], real, sizeof(real), err, sizeof(err))) {
			fprintf(stderr, "memsim: db merge: %s\n", err);
			return 2;
		}
	}
	st = store_open(o->pos[0], err, sizeof(err));
	if (!st) {
		fprintf(stderr, "memsim: %s\n", err);
		return 1;
	}
	for (i = 1; i < o->npos; i++) {
		if (store_merge(st, o->pos[i], &copied, &skipped, err, sizeof(err))) {
			fprintf(stderr, "memsim: %s\n", err);
			ret = 1;
			continue;
		}
		printf("%s: %zu runs copied, %zu already present\n", o->pos[i], copied, skipped);
	}
	store_close(st);
	return ret;
}

int cmd_db(int argc, char **argv)
{
	struct db_opts o;
	struct store *st;
	const char *sub;
	char err[512];
	int rc;

	if (argc < 2) {
		fputs(db_usage, stderr);
		return 2;
	}
	sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		fputs(db_usage, stdout);
		return 0;
	}
	argc--;
	argv++;
	if (!strcmp(sub, "ls")) {
		rc = parse_opts(argc, argv, "db sweep json", &o);
		if (rc)
			return rc < 0 ? 0 : rc;
		if ((rc = want_pos(sub, &o, 0, 0)))
			return rc;
		if (!(st = open_ro(o.db)))
			return 2;
		rc = o.json ? db_ls_json(st, stdout, o.sweep) : store_cmd_ls(st, stdout, o.sweep);
	} else if (!strcmp(sub, "show")) {
		rc = parse_opts(argc, argv, "db json", &o);
		if (rc)
			return rc < 0 ? 0 : rc;
		if ((rc = want_pos(sub, &o, 1, 1)))
			return rc;
		if (!(st = open_ro(o.db)))
			return 2;
		rc = o.json ? db_show_json(st, stdout, o.pos[0]) :
			      store_cmd_show(st, stdout, o.pos[0]);
	} else if (!strcmp(sub, "export")) {
		rc = parse_opts(argc, argv, "db sweep csv what json wide", &o);
		if (rc)
			return rc < 0 ? 0 : rc;
		if ((rc = want_pos(sub, &o, 0, 0)))
			return rc;
		if (o.csv == o.json) {
			fprintf(stderr, "memsim: db export: say --csv or --json (one of them)\n");
			return 2;
		}
		if (o.wide && strcmp(o.what, "runs")) {
			fprintf(stderr, "memsim: db export: --wide is one row per run: it takes no "
				"--what\n");
			return 2;
		}
		if (!(st = open_ro(o.db)))
			return 2;
		rc = o.wide ? db_export_wide(st, stdout, o.json, o.sweep) :
			      export_table(st, stdout, o.what, o.sweep, o.json);
	} else if (!strcmp(sub, "merge")) {
		rc = parse_opts(argc, argv, "", &o);
		if (rc)
			return rc < 0 ? 0 : rc;
		if ((rc = want_pos(sub, &o, 2, -1)))
			return rc;
		return do_merge(&o);
	} else if (!strcmp(sub, "init")) {
		rc = parse_opts(argc, argv, "db", &o);
		if (rc)
			return rc < 0 ? 0 : rc;
		if ((rc = want_pos(sub, &o, 0, 0)))
			return rc;
		st = store_open(o.db, err, sizeof(err));
		if (!st) {
			fprintf(stderr, "memsim: %s\n", err);
			return 1;
		}
		rc = 0;
	} else {
		fprintf(stderr, "memsim: db: unknown command \"%s\" (ls, show, export, merge, init)\n",
			sub);
		return 2;
	}
	if (fflush(stdout) && !rc) {
		fprintf(stderr, "memsim: db %s: cannot write the output\n", sub);
		rc = 1;
	}
	store_close(st);
	return rc;
}
