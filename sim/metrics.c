/* SPDX-License-Identifier: MIT */
/*
 * sim/metrics.c — scalar metrics and bounded time series of one run.
 *
 * Scalars are an array in order of first insertion; metrics_set() on a known name replaces
 * the value in place.  Lookup is linear: a run reports tens of scalars, not thousands.
 *
 * Series keep memory bounded whatever the run length, with a deterministic policy that
 * depends only on the sequence of (t_ns, value) samples:
 *
 *   - A stored point is a bucket: t_ns is the time of its first sample, value the maximum of
 *     its samples.  Keeping the maximum means an occupancy saw-tooth keeps its peaks however
 *     coarse the buckets become (a counter that only grows keeps its last value).
 *   - A sample joins the last bucket when t_ns < last.t_ns + min_interval_ns.  A sample that
 *     goes back in time also joins the last bucket, so stored times strictly increase.
 *   - When a sample needs a new bucket and the series already holds METRICS_SERIES_MAX_POINTS
 *     points, the series is halved first: buckets (0,1), (2,3), ... merge pairwise (first
 *     time, larger value) and min_interval_ns becomes
 *         max(2 * min_interval_ns, span / (MAX / 2), 1)      span = last.t_ns - first.t_ns
 *     so later samples are bucketed as coarsely as the halved history (uniform resolution,
 *     instead of an old part merged many more times than the recent part).
 *
 * Halving costs O(MAX) and happens at most once per MAX/2 new buckets: O(1) amortised.
 */
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <math.h>
#include "metrics.h"

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fputs("memsim: out of memory in metrics\n", stderr);
		abort();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

void metrics_init(struct metrics *mx)
{
	memset(mx, 0, sizeof(*mx));
}

void metrics_free(struct metrics *mx)
{
	size_t i;

	for (i = 0; i < mx->n; i++)
		free(mx->m[i].name);
	for (i = 0; i < mx->ns; i++) {
		free(mx->s[i].name);
		free(mx->s[i].pts);
	}
	free(mx->m);
	free(mx->s);
	memset(mx, 0, sizeof(*mx));
}

static struct metric *find_metric(const struct metrics *mx, const char *name)
{
	size_t i;

	for (i = 0; i < mx->n; i++)
		if (strcmp(mx->m[i].name, name) == 0)
			return &mx->m[i];
	return NULL;
}

void metrics_set(struct metrics *mx, const char *name, double value)
{
	struct metric *m = find_metric(mx, name);

	if (m) {
		m->value = value;
		return;
	}
	if (mx->n == mx->cap) {
		mx->cap = mx->cap ? 2 * mx->cap : 16;
		mx->m = xrealloc(mx->m, mx->cap * sizeof(*mx->m));
	}
	mx->m[mx->n].name = xstrdup(name);
	mx->m[mx->n].value = value;
	mx->n++;
}

int metrics_get(const struct metrics *mx, const char *name, double *value)
{
	const struct metric *m = find_metric(mx, name);

	if (!m)
		return -1;
	if (value)
		*value = m->value;
	return 0;
}

const struct series *metrics_series_find(const struct metrics *mx, const char *name)
{
	size_t i;

	for (i = 0; i < mx->ns; i++)
		if (strcmp(mx->s[i].name, name) == 0)
			return &mx->s[i];
	return NULL;
}

static struct series *get_series(struct metrics *mx, const char *name)
{
	struct series *s = (struct series *)metrics_series_find(mx, name);

	if (s)
		return s;
	if (mx->ns == mx->scap) {
		mx->scap = mx->scap ? 2 * mx->scap : 8;
		mx->s = xrealloc(mx->s, mx->scap * sizeof(*mx->s));
	}
	s = &mx->s[mx->ns++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	return s;
}

void metrics_series_set_interval(struct metrics *mx, const char *name, uint64_t ns)
{
	get_series(mx, name)->min_interval_ns = ns;
}

/* The larger of a and b; a NaN loses to any number so one NaN sample hides nothing. */
static double bucket_max(double a, double b)
{
	if (isnan(a) || b > a)
		return b;
	return a;
}

/* Merges buckets pairwise and widens the bucket interval (policy in the file comment). */
static void series_halve(struct series *s)
{
	uint64_t span = s->pts[s->n - 1].t_ns - s->pts[0].t_ns;
	uint64_t iv = s->min_interval_ns;
	size_t i, j;

	for (i = 0, j = 0; i < s->n; i += 2, j++) {
		struct series_point p = s->pts[i];

		if (i + 1 < s->n)
			p.value = bucket_max(p.value, s->pts[i + 1].value);
		s->pts[j] = p;
	}
	s->n = j;

	iv = iv > UINT64_MAX / 2 ? UINT64_MAX : 2 * iv;
	if (span / (METRICS_SERIES_MAX_POINTS / 2) > iv)
		iv = span / (METRICS_SERIES_MAX_POINTS / 2);
	s->min_interval_ns = iv ? iv : 1;
}

/* True when a sample at t belongs to the last bucket of s. */
static int joins_last(const struct series *s, uint64_t t_ns)
{
	const struct series_point *last = &s->pts[s->n - 1];

	if (t_ns < last->t_ns)
		return 1;
	return t_ns - last->t_ns < s->min_interval_ns;
}

void metrics_series_add(struct metrics *mx, const char *name, uint64_t t_ns, double value)
{
	struct series *s = get_series(mx, name);

	if (s->n && joins_last(s, t_ns)) {
		s->pts[s->n - 1].value = bucket_max(s->pts[s->n - 1].value, value);
		return;
	}
	if (s->n >= METRICS_SERIES_MAX_POINTS) {
		series_halve(s);
		if (joins_last(s, t_ns)) {
			s->pts[s->n - 1].value = bucket_max(s->pts[s->n - 1].value, value);
			return;
		}
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		if (s->cap > METRICS_SERIES_MAX_POINTS)
			s->cap = METRICS_SERIES_MAX_POINTS;
		s->pts = xrealloc(s->pts, s->cap * sizeof(*s->pts));
	}
	s->pts[s->n].t_ns = t_ns;
	s->pts[s->n].value = value;
	s->n++;
}

void metrics_format_value(double v, char *buf, size_t len)
{
	int prec;

	if (isnan(v)) {
		snprintf(buf, len, "nan");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, v < 0 ? "-inf" : "inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {	/* 2^53 */
		snprintf(buf, len, "%" PRId64, (int64_t)v);
		return;
	}
	/* the shortest of 15, 16, 17 significant digits that reads back exactly */
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

static void write_json_string(const char *s, FILE *out)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void metrics_write_json(const struct metrics *mx, FILE *out)
{
	char buf[40];
	size_t i;

	fputc('{', out);
	for (i = 0; i < mx->n; i++) {
		if (i)
			fputc(',', out);
		write_json_string(mx->m[i].name, out);
		fputc(':', out);
		if (isfinite(mx->m[i].value)) {
			metrics_format_value(mx->m[i].value, buf, sizeof(buf));
			fputs(buf, out);
		} else {
			fputs("null", out);	/* JSON has no NaN or infinity */
		}
	}
	fputc('}', out);
}
