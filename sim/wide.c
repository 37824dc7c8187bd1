/* SPDX-License-Identifier: MIT */
/* sim/wide.c — see wide.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "metrics.h"
#include "store.h"
#include "util.h"
#include "wide.h"

static const char *const identity[] = { "run_id", "sweep_id", "model", "policy", "trace",
					 "seed" };
#define NIDENT (sizeof(identity) / sizeof(identity[0]))

int wide_numeric(const char *t)
{
	const char *p = t;
	char *end;
	double d;

	if (*p == '-' || *p == '+')
		p++;
	if (!*p)
		return 0;
	if (strspn(p, "0123456789") == strlen(p))
		return strlen(p) <= 18 ? 1 : 2;	/* longer ones as reals, not overflowing */
	if (strspn(p, "0123456789.eE+-") != strlen(p))	/* no hex, inf, nan */
		return 0;
	errno = 0;
	d = strtod(t, &end);
	return *end || errno || !isfinite(d) ? 0 : 2;
}

void json_write_scalar(FILE *out, const char *t)
{
	char buf[40];

	switch (wide_numeric(t)) {
	case 1:
		fprintf(out, "%lld", strtoll(t, NULL, 10));
		break;
	case 2:
		metrics_format_value(strtod(t, NULL), buf, sizeof(buf));
		fputs(buf, out);
		break;
	default:
		json_write_string(out, t);
	}
}

static char *dup0(const unsigned char *s)
{
	return s ? strdup((const char *)s) : NULL;
}

void wide_free(struct wide *w)
{
	size_t i;

	for (i = 0; i < w->nruns; i++) {
		free(w->run[i].run_id);
		free(w->run[i].sweep_id);
		free(w->run[i].model);
		free(w->run[i].policy);
		free(w->run[i].trace);
	}
	for (i = 0; i < w->ncols; i++) {
		free(w->col[i].name);
		free(w->col[i].key);
	}
	for (i = 0; w->cell && i < w->nruns * w->ncols; i++)
		free(w->cell[i]);
	free(w->run);
	free(w->col);
	free(w->cell);
	memset(w, 0, sizeof(*w));
}

const char *wide_cell(const struct wide *w, size_t run, size_t col)
{
	return w->cell[run * w->ncols + col];
}

static long find_run(const struct wide *w, const char *id)
{
	size_t lo = 0, hi = w->nruns;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(w->run[mid].run_id, id);

		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static long find_col(const struct wide *w, int is_metric, const char *key)
{
	size_t i;

	for (i = 0; i < w->ncols; i++)
		if (w->col[i].is_metric == is_metric && !strcmp(w->col[i].key, key))
			return (long)i;
	return -1;
}

/* A column name must not repeat an identity column or a column of the other kind. */
static int clashes(const struct wide *w, size_t c)
{
	size_t i;

	for (i = 0; i < NIDENT; i++)
		if (!strcmp(identity[i], w->col[c].key))
			return 1;
	for (i = 0; i < w->ncols; i++)
		if (i != c && !strcmp(w->col[i].key, w->col[c].key))
			return 1;
	return 0;
}

#define FILTER "(?1 IS NULL OR r.sweep_id = ?1) AND (?2 IS NULL OR r.run_id = ?2)"

static int prep(struct store *st, const char *sql, sqlite3_stmt **s, const char *sweep_id,
		const char *run_id, char *err, size_t errlen)
{
	if (sqlite3_prepare_v2(store_sqlite(st), sql, -1, s, NULL)) {
		seterr(err, errlen, "%s: %s", store_path(st), sqlite3_errmsg(store_sqlite(st)));
		return -1;
	}
	sqlite3_bind_text(*s, 1, sweep_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(*s, 2, run_id, -1, SQLITE_TRANSIENT);
	return 0;
}

int wide_load(struct store *st, const char *sweep_id, const char *run_id, struct wide *w,
	      char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	size_t cap = 0, i, j;
	int rc;

	memset(w, 0, sizeof(*w));
	if (prep(st, "SELECT run_id, sweep_id, model, policy, trace, seed FROM runs r WHERE "
		 FILTER " ORDER BY run_id", &s, sweep_id, run_id, err, errlen))
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct wide_run *r;

		if (w->nruns == cap) {
			struct wide_run *n = realloc(w->run, (cap = cap ? 2 * cap : 64) * sizeof(*n));

			if (!n)
				goto oom;
			w->run = n;
		}
		r = &w->run[w->nruns++];
		memset(r, 0, sizeof(*r));
		r->run_id = dup0(sqlite3_column_text(s, 0));
		r->sweep_id = dup0(sqlite3_column_text(s, 1));
		r->model = dup0(sqlite3_column_text(s, 2));
		r->policy = dup0(sqlite3_column_text(s, 3));
		r->trace = dup0(sqlite3_column_text(s, 4));
		r->seed = (uint64_t)sqlite3_column_int64(s, 5);
		if (!r->run_id || !r->model || !r->policy || !r->trace)
			goto oom;
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(s);

	cap = 0;
	if (prep(st, "SELECT 0, p.key, min(p.ord) FROM params p JOIN runs r ON r.run_id = p.run_id "
		 "WHERE " FILTER " GROUP BY p.key UNION ALL "
		 "SELECT 1, m.name, min(m.ord) FROM metrics m JOIN runs r ON r.run_id = m.run_id "
		 "WHERE " FILTER " GROUP BY m.name ORDER BY 1, 3, 2", &s, sweep_id, run_id,
		 err, errlen))
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct wide_col *c;

		if (w->ncols == cap) {
			struct wide_col *n = realloc(w->col, (cap = cap ? 2 * cap : 64) * sizeof(*n));

			if (!n)
				goto oom;
			w->col = n;
		}
		c = &w->col[w->ncols++];
		memset(c, 0, sizeof(*c));
		c->is_metric = sqlite3_column_int(s, 0);
		c->type = c->is_metric ? WIDE_REAL : WIDE_INT;
		if (!(c->key = dup0(sqlite3_column_text(s, 1))))
			goto oom;
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(s);
	for (i = 0; i < w->ncols; i++) {
		const char *pre = w->col[i].is_metric ? "metric_" : "param_";
		size_t n = strlen(w->col[i].key) + 8;

		if (!(w->col[i].name = malloc(n)))
			goto oom_nos;
		snprintf(w->col[i].name, n, "%s%s", clashes(w, i) ? pre : "", w->col[i].key);
	}

	if (w->nruns && w->ncols &&
	    !(w->cell = calloc(w->nruns * w->ncols, sizeof(*w->cell))))
		goto oom_nos;
	if (prep(st, "SELECT p.run_id, 0, p.key, p.value FROM params p JOIN runs r "
		 "ON r.run_id = p.run_id WHERE " FILTER " UNION ALL "
		 "SELECT m.run_id, 1, m.name, m.value FROM metrics m JOIN runs r "
		 "ON r.run_id = m.run_id WHERE " FILTER, &s, sweep_id, run_id, err, errlen))
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		long ri = find_run(w, (const char *)sqlite3_column_text(s, 0));
		long ci = find_col(w, sqlite3_column_int(s, 1), (const char *)sqlite3_column_text(s, 2));
		char buf[40], **cell;

		if (ri < 0 || ci < 0 || sqlite3_column_type(s, 3) == SQLITE_NULL)
			continue;
		cell = &w->cell[(size_t)ri * w->ncols + (size_t)ci];
		if (w->col[ci].is_metric) {
			double v = sqlite3_column_double(s, 3);

			if (!isfinite(v))
				continue;
			metrics_format_value(v, buf, sizeof(buf));
			*cell = strdup(buf);
		} else {
			*cell = dup0(sqlite3_column_text(s, 3));
		}
		if (!*cell)
			goto oom;
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(s);

	/* a parameter column is as narrow a type as all its values allow */
	for (j = 0; j < w->ncols; j++) {
		if (w->col[j].is_metric)
			continue;
		for (i = 0; i < w->nruns; i++) {
			const char *v = wide_cell(w, i, j);
			int k = v ? wide_numeric(v) : 1;

			if (k == 0)
				w->col[j].type = WIDE_TEXT;
			else if (k == 2 && w->col[j].type == WIDE_INT)
				w->col[j].type = WIDE_REAL;
		}
	}
	return 0;

sqlfail:
	seterr(err, errlen, "%s: %s", store_path(st), sqlite3_errmsg(store_sqlite(st)));
	goto fail;
oom:
	sqlite3_finalize(s);
oom_nos:
	s = NULL;
	seterr(err, errlen, "out of memory");
fail:
	sqlite3_finalize(s);
	wide_free(w);
	return -1;
}

static void csv_text(FILE *out, const char *v)
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

/* A typed cell: numbers in one canonical form whatever was typed ("016" -> 16). */
static void number(FILE *out, const char *v)
{
	char buf[40];

	if (wide_numeric(v) == 1) {
		fprintf(out, "%lld", strtoll(v, NULL, 10));
	} else {
		metrics_format_value(strtod(v, NULL), buf, sizeof(buf));
		fputs(buf, out);
	}
}

void wide_write_csv(const struct wide *w, FILE *out)
{
	size_t i, j;

	for (i = 0; i < NIDENT; i++)
		fprintf(out, "%s%s", i ? "," : "", identity[i]);
	for (j = 0; j < w->ncols; j++) {
		fputc(',', out);
		csv_text(out, w->col[j].name);
	}
	fputc('\n', out);
	for (i = 0; i < w->nruns; i++) {
		const struct wide_run *r = &w->run[i];

		fprintf(out, "%s,%s,", r->run_id, r->sweep_id ? r->sweep_id : "");
		csv_text(out, r->model);
		fputc(',', out);
		csv_text(out, r->policy);
		fputc(',', out);
		csv_text(out, r->trace);
		fprintf(out, ",%" PRIu64, r->seed);
		for (j = 0; j < w->ncols; j++) {
			const char *v = wide_cell(w, i, j);

			fputc(',', out);
			if (!v)
				continue;
			if (w->col[j].type == WIDE_TEXT)
				csv_text(out, v);
			else
				number(out, v);
		}
		fputc('\n', out);
	}
}

void wide_write_json(const struct wide *w, FILE *out)
{
	size_t i, j;

	fputc('[', out);
	for (i = 0; i < w->nruns; i++) {
		const struct wide_run *r = &w->run[i];

		fputs(i ? ",\n{" : "\n{", out);
		fputs("\"run_id\":", out);
		json_write_string(out, r->run_id);
		fputs(",\"sweep_id\":", out);
		if (r->sweep_id)
			json_write_string(out, r->sweep_id);
		else
			fputs("null", out);
		fputs(",\"model\":", out);
		json_write_string(out, r->model);
		fputs(",\"policy\":", out);
		json_write_string(out, r->policy);
		fputs(",\"trace\":", out);
		json_write_string(out, r->trace);
		fprintf(out, ",\"seed\":%" PRIu64, r->seed);
		for (j = 0; j < w->ncols; j++) {
			const char *v = wide_cell(w, i, j);

			fputc(',', out);
			json_write_string(out, w->col[j].name);
			fputc(':', out);
			if (!v)
				fputs("null", out);
			else if (w->col[j].type == WIDE_TEXT)
				json_write_string(out, v);
			else
				number(out, v);
		}
		fputc('}', out);
	}
	fputs(w->nruns ? "\n]\n" : "]\n", out);
}
