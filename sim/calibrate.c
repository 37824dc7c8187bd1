/* SPDX-License-Identifier: MIT */
/*
 * sim/calibrate.c — the calibration fit, the harness-output reader, plan and scenario files
 * (see calibrate.h for the model and the rules of the fit).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_vector.h>

#include "calibrate.h"

/* Columns whose normalised singular value falls below this are not separable by the data. */
#define DEGENERATE_RCOND 1e-9
/* A unit takes part in a degeneracy when its share of the null direction is above this. */
#define NULL_DIR_SHARE 0.05

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int unit_index(const char *name)
{
	unsigned u;

	for (u = 0; u < WU__COUNT; u++)
		if (!strcmp(work_unit_names[u], name))
			return (int)u;
	return -1;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return (errno || *end) ? -1 : 0;
}

/* ---- harness output ---------------------------------------------------------------------- */

void calib_set_init(struct calib_set *s)
{
	memset(s, 0, sizeof(*s));
}

void calib_set_free(struct calib_set *s)
{
	free(s->b);
	memset(s, 0, sizeof(*s));
}

/*
 * Splits a record line into key=value fields in place; a value may be "double-quoted" (the
 * harness quotes cpu= and reason=).  Returns the number of fields, or -1 on a malformed one.
 */
#define MAX_FIELDS 96
static int split_fields(char *line, char **keys, char **vals)
{
	char *p = line;
	int n = 0;

	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			return n;
		if (n == MAX_FIELDS)
			return -1;
		keys[n] = p;
		while (*p && *p != '=' && *p != ' ')
			p++;
		if (*p != '=')
			return -1;
		*p++ = 0;
		if (*p == '"') {
			vals[n] = ++p;
			while (*p && *p != '"')
				p++;
			if (!*p)
				return -1;
			*p++ = 0;
			if (*p && *p != ' ')
				return -1;
		} else {
			vals[n] = p;
			while (*p && *p != ' ')
				p++;
			if (*p)
				*p++ = 0;
		}
		n++;
	}
}

static void list_add(char *list, size_t len, const char *item)
{
	size_t l = strlen(list);

	/* the same event appears in every request of a run: keep it once */
	if (l) {
		char pat[CALIB_NAME_LEN + 2];
		const char *p = list;
		size_t il = strlen(item);

		snprintf(pat, sizeof(pat), "%s", item);
		while ((p = strstr(p, pat))) {
			if ((p == list || p[-1] == ',') && (p[il] == ',' || !p[il]))
				return;
			p += il;
		}
	}
	snprintf(list + l, len - l, "%s%s", l ? "," : "", item);
}

static int copy_name(char *dst, const char *src)
{
	size_t l = strlen(src);

	if (!l || l >= CALIB_NAME_LEN)
		return -1;
	memcpy(dst, src, l + 1);
	return 0;
}

static int parse_batch(struct calib_set *s, char **keys, char **vals, int nf,
		       const char *origin, int lineno, char *err, size_t errlen)
{
	struct calib_batch *b;
	bool seen_wu[WU__COUNT] = { false }, have_ns = false, have_tsc = false;
	int i, u;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct calib_batch *nb = realloc(s->b, cap * sizeof(*nb));

		if (!nb)
			return fail(err, errlen, "%s:%d: out of memory", origin, lineno);
		s->b = nb;
		s->cap = cap;
	}
	b = &s->b[s->n];
	memset(b, 0, sizeof(*b));
	snprintf(b->params, sizeof(b->params), "-");
	for (i = 0; i < nf; i++) {
		const char *k = keys[i], *v = vals[i];
		uint64_t x = 0;
		int bad = 0;

		if (!strcmp(k, "model"))
			bad = copy_name(b->model, v);
		else if (!strcmp(k, "policy"))
			bad = copy_name(b->policy, v);
		else if (!strcmp(k, "op"))
			bad = copy_name(b->op, v);
		else if (!strcmp(k, "status")) {
			if (strcmp(v, "0"))
				return fail(err, errlen, "%s:%d: a batch failed (status=%s): the "
					    "measurement is incomplete", origin, lineno, v);
		} else if (!strcmp(k, "irqs")) {
			/* "migrated": the batch moved between CPUs; count it as disturbed */
			b->irqs = strcmp(v, "migrated") ? (parse_u64(v, &x), x) : 1;
		} else if (!strncmp(k, "wu.", 3)) {
			if ((u = unit_index(k + 3)) < 0)
				return fail(err, errlen, "%s:%d: unknown work unit '%s' (memsim and "
					    "memsim.ko from different trees?)", origin, lineno, k + 3);
			bad = parse_u64(v, &b->o.wu[u]);
			seen_wu[u] = true;
		} else if (!strncmp(k, "ev.", 3)) {
			if (strstr(k + 3, ".running"))
				continue;   /* multiplexing note: the value is already scaled */
			if (b->nev == CALIB_MAX_EVENTS || copy_name(b->ev_name[b->nev], k + 3) ||
			    parse_u64(v, &b->ev[b->nev]))
				bad = 1;
			else
				b->nev++;
		} else {
			uint64_t *dst = !strcmp(k, "n") ? &b->n : !strcmp(k, "i") ? &b->i :
					!strcmp(k, "ns") ? &b->ns : !strcmp(k, "cycles") ? &b->tsc :
					!strcmp(k, "ops") ? &b->ops :
					!strcmp(k, "footprint") ? &b->o.footprint : NULL;

			if (dst)
				bad = parse_u64(v, dst);
			have_ns |= !strcmp(k, "ns");
			have_tsc |= !strcmp(k, "cycles");
		}
		if (bad)
			return fail(err, errlen, "%s:%d: bad value in %s=%s", origin, lineno, k, v);
	}
	if (!b->model[0] || !b->policy[0] || !b->op[0] || !have_ns || !have_tsc)
		return fail(err, errlen, "%s:%d: batch line lacks model, policy, op, ns or cycles",
			    origin, lineno);
	b->o.irqs = b->irqs;
	for (u = 0; u < WU__COUNT; u++)
		if (!seen_wu[u])
			return fail(err, errlen, "%s:%d: batch line lacks wu.%s (memsim and memsim.ko "
				    "from different trees?)", origin, lineno, work_unit_names[u]);
	s->n++;
	return 0;
}

/* The params= of the request a batch belongs to (batches do not repeat them). */
static void note_request(struct calib_set *s, char **keys, char **vals, int nf, char *params,
			 size_t plen)
{
	int i;

	for (i = 0; i < nf; i++) {
		if (!strcmp(keys[i], "params"))
			snprintf(params, plen, "%s", vals[i]);
		if (!strcmp(keys[i], "basis") && !strcmp(vals[i], "clock-based"))
			s->clock_based = true;
	}
}

int calib_parse_harness(struct calib_set *s, const char *text, const char *origin,
			char *err, size_t errlen)
{
	const char *line = text;
	char params[128] = "-";
	int lineno = 0;

	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);
		char buf[4096], *keys[MAX_FIELDS], *vals[MAX_FIELDS], *rest;
		int nf, i;

		lineno++;
		if (n >= sizeof(buf))
			return fail(err, errlen, "%s:%d: line too long", origin, lineno);
		memcpy(buf, line, n);
		buf[n] = 0;
		line = eol ? eol + 1 : line + n;
		rest = strchr(buf, ' ');
		if (!rest)
			continue;
		*rest++ = 0;
		/* only the measurement records; --info lines and comments are skipped */
		if (strcmp(buf, "host") && strcmp(buf, "event") && strcmp(buf, "request") &&
		    strcmp(buf, "batch"))
			continue;
		nf = split_fields(rest, keys, vals);
		if (nf < 0)
			return fail(err, errlen, "%s:%d: malformed '%s' record", origin, lineno, buf);
		if (!strcmp(buf, "host")) {
			for (i = 0; i < nf; i++) {
				if (!strcmp(keys[i], "kernel"))
					snprintf(s->kernel, sizeof(s->kernel), "%s", vals[i]);
				else if (!strcmp(keys[i], "cpu"))
					snprintf(s->cpu, sizeof(s->cpu), "%s", vals[i]);
				else if (!strcmp(keys[i], "pmu"))
					snprintf(s->pmu, sizeof(s->pmu), "%s", vals[i]);
			}
		} else if (!strcmp(buf, "event")) {
			const char *name = NULL, *st = NULL;

			for (i = 0; i < nf; i++) {
				if (!strcmp(keys[i], "name"))
					name = vals[i];
				if (!strcmp(keys[i], "status"))
					st = vals[i];
			}
			if (!name || !st)
				return fail(err, errlen, "%s:%d: event record without name or status",
					    origin, lineno);
			list_add(!strcmp(st, "ok") ? s->counted : s->unavailable,
				 sizeof(s->counted), name);
		} else if (!strcmp(buf, "request")) {
			for (i = 0; i < nf; i++)
				if (!strcmp(keys[i], "status") && strcmp(vals[i], "0"))
					return fail(err, errlen, "%s:%d: the request failed (status=%s): "
						    "see the harness's error output", origin, lineno,
						    vals[i]);
			note_request(s, keys, vals, nf, params, sizeof(params));
			s->requests++;
		} else {
			if (parse_batch(s, keys, vals, nf, origin, lineno, err, errlen))
				return -1;
			snprintf(s->b[s->n - 1].params, sizeof(s->b[0].params), "%s", params);
		}
	}
	return 0;
}

int calib_set_measure(struct calib_set *s, const char *measure, char *err, size_t errlen)
{
	size_t i;
	unsigned e;

	for (i = 0; i < s->n; i++) {
		struct calib_batch *b = &s->b[i];

		if (!strcmp(measure, "ns")) {
			b->o.y = (double)b->ns;
		} else if (!strcmp(measure, "tsc")) {
			b->o.y = (double)b->tsc;
		} else if (!strncmp(measure, "ev.", 3)) {
			for (e = 0; e < b->nev; e++)
				if (!strcmp(b->ev_name[e], measure + 3))
					break;
			if (e == b->nev)
				return fail(err, errlen, "--measure %s: batch %zu (%s %s %s n=%" PRIu64
					    ") has no such counter (counted: %s)", measure, i,
					    b->model, b->policy, b->op, b->n,
					    s->counted[0] ? s->counted : "none");
			b->o.y = (double)b->ev[e];
		} else {
			return fail(err, errlen, "--measure %s: want ns, tsc or ev.EVENT", measure);
		}
	}
	return 0;
}

/* ---- the fit ---------------------------------------------------------------------------- */

void calib_fit_opts_default(struct calib_fit_opts *o)
{
	o->intercept = true;
	o->nonneg = true;
	o->irq_term = true;
	o->weight = CALIB_WEIGHT_RELATIVE;
}

/* Design columns: a work unit, or one of these. */
#define COL_INTERCEPT (-1)
#define COL_IRQ (-2)

static const char *col_name(int u)
{
	return u == COL_INTERCEPT ? "the intercept" : u == COL_IRQ ? "the interrupt count" :
	       work_unit_names[u];
}

static double col_value(const struct calib_obs *ob, int col)
{
	return col == COL_INTERCEPT ? 1.0 : col == COL_IRQ ? (double)ob->irqs : (double)ob->wu[col];
}

/*
 * Whether the weighted design can tell its columns apart: the SVD of the design with unit
 * columns; a singular value below DEGENERATE_RCOND times the largest means some combination
 * of columns is (nearly) zero in every batch.  The columns with a large share of that
 * combination are named.
 */
static int check_design(const gsl_matrix *X, const gsl_vector *w, const int *cols,
			char *err, size_t errlen)
{
	size_t n = X->size1, p = X->size2, i, j;
	gsl_matrix *A = gsl_matrix_alloc(n, p), *V = gsl_matrix_alloc(p, p);
	gsl_vector *S = gsl_vector_alloc(p), *work = gsl_vector_alloc(p);
	int rc = 0;

	if (!A || !V || !S || !work) {
		rc = fail(err, errlen, "out of memory");
		goto out;
	}
	for (j = 0; j < p; j++) {
		double norm = 0;

		for (i = 0; i < n; i++) {
			double a = sqrt(gsl_vector_get(w, i)) * gsl_matrix_get(X, i, j);

			gsl_matrix_set(A, i, j, a);
			norm += a * a;
		}
		norm = sqrt(norm);
		for (i = 0; i < n; i++)
			gsl_matrix_set(A, i, j, gsl_matrix_get(A, i, j) / norm);
	}
	gsl_linalg_SV_decomp(A, V, S, work);
	/* singular values come sorted, largest first */
	if (gsl_vector_get(S, p - 1) < DEGENERATE_RCOND * gsl_vector_get(S, 0)) {
		char names[512] = "";
		size_t off = 0;
		unsigned named = 0;

		for (j = 0; j < p; j++) {
			double v = gsl_matrix_get(V, j, p - 1);

			if (v * v < NULL_DIR_SHARE)
				continue;
			off += (size_t)snprintf(names + off, off < sizeof(names) ? sizeof(names) - off : 0,
						"%s%s", named ? " and " : "", col_name(cols[j]));
			named++;
		}
		if (named < 2)
			rc = fail(err, errlen, "degenerate design: %s cannot be separated from the "
				  "other units in these batches: add batches that vary it on its own",
				  names);
		else
			rc = fail(err, errlen, "degenerate design: %s keep the same proportion in every "
				  "batch, so their costs cannot be told apart: add batches (other ops "
				  "or sizes) that vary them independently", names);
	}
out:
	gsl_matrix_free(A);
	gsl_matrix_free(V);
	gsl_vector_free(S);
	gsl_vector_free(work);
	return rc;
}

double calib_predict(const struct calib_fit *fit, const struct calib_obs *ob)
{
	double y = fit->has_intercept ? fit->intercept.est : 0;
	unsigned u;

	if (fit->has_irq)
		y += fit->irq.est * (double)ob->irqs;
	for (u = 0; u < WU__COUNT; u++)
		if (fit->state[u] == CALIB_FITTED)
			y += fit->unit[u].est * (double)ob->wu[u];
	return y;
}

static void set_coef(struct calib_coef *c, double est, double var, double tq)
{
	c->est = est;
	c->se = isnan(var) ? NAN : sqrt(var > 0 ? var : 0);
	c->lo = isnan(c->se) ? NAN : est - tq * c->se;
	c->hi = isnan(c->se) ? NAN : est + tq * c->se;
}

/* One weighted least-squares solve over the columns cols[0..p); fills fit. */
static int solve(const struct calib_obs *obs, size_t n, const struct calib_fit_opts *o,
		 const int *cols, size_t p, struct calib_fit *fit, int *most_negative,
		 char *err, size_t errlen)
{
	gsl_matrix *X = gsl_matrix_alloc(n, p), *cov = gsl_matrix_alloc(p, p);
	gsl_vector *y = gsl_vector_alloc(n), *w = gsl_vector_alloc(n), *c = gsl_vector_alloc(p);
	gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, p);
	double chisq, tq, scale, sw = 0, swy = 0, tss = 0, worst = 0;
	size_t i, j;
	int rc = 0;

	*most_negative = -2;
	if (!X || !cov || !y || !w || !c || !ws) {
		rc = fail(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < p; j++)
			gsl_matrix_set(X, i, j, col_value(&obs[i], cols[j]));
		gsl_vector_set(y, i, obs[i].y);
		gsl_vector_set(w, i, o->weight == CALIB_WEIGHT_RELATIVE ? 1.0 / (obs[i].y * obs[i].y) : 1.0);
	}
	if (check_design(X, w, cols, err, errlen)) {
		rc = -1;
		goto out;
	}
	if (gsl_multifit_wlinear(X, w, y, c, cov, &chisq, ws)) {
		rc = fail(err, errlen, "the least-squares solve failed");
		goto out;
	}
	fit->nobs = n;
	fit->nparams = p;
	fit->dof = n - p;
	fit->chisq = chisq;
	fit->chisq_dof = fit->dof ? chisq / (double)fit->dof : NAN;
	/* the weights give the shape of the errors; their size comes from the residuals */
	scale = fit->dof ? chisq / (double)fit->dof : NAN;
	tq = fit->dof ? gsl_cdf_tdist_Pinv(0.975, (double)fit->dof) : NAN;
	for (j = 0; j < p; j++) {
		struct calib_coef *cc = cols[j] == COL_INTERCEPT ? &fit->intercept :
					cols[j] == COL_IRQ ? &fit->irq : &fit->unit[cols[j]];
		double est = gsl_vector_get(c, j);

		set_coef(cc, est, gsl_matrix_get(cov, j, j) * scale, tq);
		if (cols[j] >= 0 && est < 0) {
			/* the most negative in standard deviations of the (unscaled) estimate */
			double t = est / sqrt(gsl_matrix_get(cov, j, j));

			if (t < worst) {
				worst = t;
				*most_negative = cols[j];
			}
		}
	}
	fit->has_intercept = fit->has_irq = false;
	for (j = 0; j < p; j++) {
		fit->has_intercept |= cols[j] == COL_INTERCEPT;
		fit->has_irq |= cols[j] == COL_IRQ;
	}
	/* weighted R^2 about the weighted mean, and relative residuals */
	for (i = 0; i < n; i++) {
		sw += gsl_vector_get(w, i);
		swy += gsl_vector_get(w, i) * obs[i].y;
	}
	fit->rel_rms = fit->rel_max = 0;
	for (i = 0; i < n; i++) {
		double d = obs[i].y - swy / sw, yh = 0, r;

		tss += gsl_vector_get(w, i) * d * d;
		for (j = 0; j < p; j++)
			yh += gsl_vector_get(c, j) * gsl_matrix_get(X, i, j);
		r = obs[i].y ? (yh - obs[i].y) / obs[i].y : 0;
		fit->rel_rms += r * r;
		if (fabs(r) > fit->rel_max)
			fit->rel_max = fabs(r);
	}
	fit->rel_rms = sqrt(fit->rel_rms / (double)n);
	fit->r2 = tss > 0 ? 1 - chisq / tss : (chisq == 0 ? 1 : NAN);
out:
	gsl_matrix_free(X);
	gsl_matrix_free(cov);
	gsl_vector_free(y);
	gsl_vector_free(w);
	gsl_vector_free(c);
	if (ws)
		gsl_multifit_linear_free(ws);
	return rc;
}

int calib_fit(const struct calib_obs *obs, size_t n, const struct calib_fit_opts *o,
	      struct calib_fit *fit, char *err, size_t errlen)
{
	int cols[WU__COUNT + 2];
	size_t p, i, nfixed;
	unsigned u;
	bool irqs = false;

	memset(fit, 0, sizeof(*fit));
	for (u = 0; u < WU__COUNT; u++) {
		for (i = 0; i < n && !obs[i].wu[u]; i++)
			;
		fit->state[u] = i < n ? CALIB_FITTED : CALIB_ABSENT;
	}
	for (i = 0; i < n; i++) {
		irqs |= obs[i].irqs != 0;
		if (!(obs[i].y >= 0) || isinf(obs[i].y))
			return fail(err, errlen, "batch %zu: measured %g: not a time", i, obs[i].y);
		if (o->weight == CALIB_WEIGHT_RELATIVE && obs[i].y == 0)
			return fail(err, errlen, "batch %zu: measured 0: relative weights need a "
				    "positive measurement (use ordinary least squares)", i);
	}
	for (;;) {
		int neg;

		p = 0;
		if (o->intercept)
			cols[p++] = COL_INTERCEPT;
		if (o->irq_term && irqs)
			cols[p++] = COL_IRQ;
		nfixed = p;
		for (u = 0; u < WU__COUNT; u++)
			if (fit->state[u] == CALIB_FITTED)
				cols[p++] = (int)u;
		if (p == nfixed)
			return fail(err, errlen, "nothing to fit: no batch counted any work unit");
		if (n < p)
			return fail(err, errlen, "%zu batches for %zu unknowns (%zu work units%s%s): the "
				    "plan needs at least as many batches as unknowns", n, p, p - nfixed,
				    o->intercept ? ", the intercept" : "",
				    nfixed > (o->intercept ? 1u : 0u) ? ", the interrupt cost" : "");
		if (solve(obs, n, o, cols, p, fit, &neg, err, errlen))
			return -1;
		if (!o->nonneg || neg < 0)
			break;
		fit->state[neg] = CALIB_NEGATIVE;
		fit->negative++;
		memset(&fit->unit[neg], 0, sizeof(fit->unit[neg]));
	}
	/* removed units keep a zero estimate and no interval */
	for (u = 0; u < WU__COUNT; u++)
		if (fit->state[u] != CALIB_FITTED)
			fit->unit[u] = (struct calib_coef){ 0, NAN, NAN, NAN };
	if (!fit->has_intercept)
		fit->intercept = (struct calib_coef){ 0, NAN, NAN, NAN };
	if (!fit->has_irq)
		fit->irq = (struct calib_coef){ 0, NAN, NAN, NAN };
	return 0;
}

/* ---- tiers ------------------------------------------------------------------------------ */

int calib_fit_tiers(const struct calib_obs *obs, size_t n, const struct calib_fit_opts *o,
		    const uint64_t *bounds, unsigned nb, struct calib_tiers *t,
		    char *err, size_t errlen)
{
	struct calib_obs *sub;
	unsigned b;
	size_t i;

	memset(t, 0, sizeof(*t));
	if (nb >= CALIB_MAX_TIERS)
		return fail(err, errlen, "at most %d tier bounds", CALIB_MAX_TIERS - 1);
	for (b = 0; b < nb; b++) {
		if (b && bounds[b] <= bounds[b - 1])
			return fail(err, errlen, "tier bounds must increase (%" PRIu64 " after %" PRIu64 ")",
				    bounds[b], bounds[b - 1]);
		t->bounds[b] = bounds[b];
	}
	t->nb = nb;
	if (calib_fit(obs, n, o, &t->flat, err, errlen))
		return -1;
	if (!nb)
		return 0;
	sub = malloc((n ? n : 1) * sizeof(*sub));
	if (!sub)
		return fail(err, errlen, "out of memory");
	for (b = 0; b <= nb; b++) {
		uint64_t lo = b ? bounds[b - 1] : 0, hi = b < nb ? bounds[b] : UINT64_MAX;
		size_t m = 0;

		for (i = 0; i < n; i++)
			if ((b == 0 || obs[i].footprint > lo) && obs[i].footprint <= hi)
				sub[m++] = obs[i];
		t->nobs[b] = m;
		if (!m) {
			snprintf(t->msg[b], sizeof(t->msg[b]), "no batch in this band");
			continue;
		}
		if (calib_fit(sub, m, o, &t->band[b], t->msg[b], sizeof(t->msg[b])))
			continue;
		t->used[b] = true;
	}
	free(sub);
	return 0;
}

double calib_tier_cost(const struct calib_tiers *t, unsigned b, unsigned u)
{
	if (b <= t->nb && t->nb && t->used[b] && t->band[b].state[u] != CALIB_ABSENT)
		return t->band[b].state[u] == CALIB_FITTED ? t->band[b].unit[u].est : 0;
	return t->flat.state[u] == CALIB_FITTED ? t->flat.unit[u].est : 0;
}

/* ---- profile ------------------------------------------------------------------------------ */

static void fmt_cost(char *buf, size_t len, double ns)
{
	/* picosecond resolution, the profile format's; never negative */
	snprintf(buf, len, "%.3f", ns > 0 ? ns : 0);
}

static void fmt_ci(char *buf, size_t len, const struct calib_coef *c)
{
	if (isnan(c->lo))
		snprintf(buf, len, "no interval (as many batches as unknowns)");
	else
		snprintf(buf, len, "95%% CI [%.4g, %.4g]", c->lo, c->hi);
}

void calib_write_profile(FILE *out, const char *name, const char *const *meta_keys,
			 const char *const *meta_values, const struct calib_tiers *t)
{
	const struct calib_fit *f = &t->flat;
	char cost[32], ci[96];
	unsigned u, b, i;
	bool any_absent = false;

	fprintf(out, "# cost profile written by memsim calibrate (docs/validation.md)\n");
	fprintf(out, "name %s\n", name);
	for (i = 0; meta_keys && meta_keys[i]; i++)
		fprintf(out, "meta %s %s\n", meta_keys[i], meta_values[i]);
	for (u = 0; u < WU__COUNT; u++) {
		if (f->state[u] == CALIB_ABSENT) {
			any_absent = true;
			continue;
		}
		if (f->state[u] == CALIB_NEGATIVE && !t->nb) {
			fprintf(out, "cost %s 0    # fitted negative: removed, the others refitted\n",
				work_unit_names[u]);
			continue;
		}
		if (!t->nb) {
			fmt_cost(cost, sizeof(cost), f->unit[u].est);
			fmt_ci(ci, sizeof(ci), &f->unit[u]);
			fprintf(out, "cost %s %s    # %s\n", work_unit_names[u], cost, ci);
			continue;
		}
		for (b = 0; b <= t->nb; b++) {
			enum calib_unit_state bs = t->used[b] ? t->band[b].state[u] : CALIB_ABSENT;

			fmt_cost(cost, sizeof(cost), calib_tier_cost(t, b, u));
			if (bs == CALIB_FITTED)
				fmt_ci(ci, sizeof(ci), &t->band[b].unit[u]);
			else if (bs == CALIB_NEGATIVE)
				snprintf(ci, sizeof(ci), "fitted negative in this band: removed");
			else if (f->state[u] == CALIB_NEGATIVE)
				snprintf(ci, sizeof(ci), "flat fit, where it came out negative: removed");
			else
				snprintf(ci, sizeof(ci), "flat fit (this band did not fit it on its own)");
			if (b < t->nb)
				fprintf(out, "cost %s %s upto %" PRIu64 "    # %s\n", work_unit_names[u],
					cost, t->bounds[b], ci);
			else
				fprintf(out, "cost %s %s    # %s\n", work_unit_names[u], cost, ci);
		}
	}
	if (any_absent) {
		fprintf(out, "# not calibrated (no batch counted them, cost 0):");
		for (u = 0; u < WU__COUNT; u++)
			if (f->state[u] == CALIB_ABSENT)
				fprintf(out, " %s", work_unit_names[u]);
		fprintf(out, "\n");
	}
}

/* ---- plans and scenario lists ------------------------------------------------------------ */

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) >= CALIB_NAME_LEN)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || strchr("_.+-", *s)))
			return false;
	return true;
}

static int push_req(struct calib_req **reqs, size_t *n, size_t *cap, const struct calib_req *r)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 32;
		struct calib_req *nr = realloc(*reqs, c * sizeof(*nr));

		if (!nr)
			return -1;
		*reqs = nr;
		*cap = c;
	}
	(*reqs)[(*n)++] = *r;
	return 0;
}

/* nwords: 3 for a plan line (MODEL POLICY OP), 2 for a scenario line (MODEL POLICY). */
static int parse_lines(const char *text, const char *origin, unsigned nwords,
		       struct calib_req **reqs, size_t *nreq, char *err, size_t errlen)
{
	const char *line = text;
	size_t cap = 0;
	unsigned lineno = 0;

	*reqs = NULL;
	*nreq = 0;
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char buf[1024], *tok[32], *save = NULL, *t, *sizes = NULL;
		struct calib_req r;
		unsigned ntok = 0, i;

		lineno++;
		if (len >= sizeof(buf)) {
			fail(err, errlen, "%s:%u: line too long", origin, lineno);
			goto bad;
		}
		memcpy(buf, line, len);
		buf[len] = 0;
		line = eol ? eol + 1 : line + len;
		if ((t = strchr(buf, '#')))
			*t = 0;
		for (t = strtok_r(buf, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
			if (ntok == 32) {
				fail(err, errlen, "%s:%u: too many fields", origin, lineno);
				goto bad;
			}
			tok[ntok++] = t;
		}
		if (!ntok)
			continue;
		memset(&r, 0, sizeof(r));
		r.k = nwords == 3 ? 2 : 1;
		r.line = lineno;
		for (i = 0; i < nwords; i++) {
			if (i >= ntok || strchr(tok[i], '=')) {
				fail(err, errlen, "%s:%u: expected %s, then n=... and NAME=VALUE settings",
				     origin, lineno, nwords == 3 ? "MODEL POLICY OP" : "MODEL POLICY");
				goto bad;
			}
			if (!valid_name(tok[i])) {
				fail(err, errlen, "%s:%u: '%s' is not a name ([a-z0-9_.+-])", origin,
				     lineno, tok[i]);
				goto bad;
			}
		}
		copy_name(r.model, tok[0]);
		copy_name(r.policy, tok[1]);
		if (nwords == 3)
			copy_name(r.op, tok[2]);
		for (i = nwords; i < ntok; i++) {
			char *eq = strchr(tok[i], '=');
			uint64_t v;

			if (!eq || eq == tok[i]) {
				fail(err, errlen, "%s:%u: '%s': expected NAME=VALUE", origin, lineno, tok[i]);
				goto bad;
			}
			*eq = 0;
			if (!strcmp(tok[i], "n")) {
				sizes = eq + 1;
				continue;
			}
			if (parse_u64(eq + 1, &v)) {
				fail(err, errlen, "%s:%u: %s=%s: not a non-negative integer", origin,
				     lineno, tok[i], eq + 1);
				goto bad;
			}
			if (!strcmp(tok[i], "k")) {
				if (v < 1 || v > 10000) {
					fail(err, errlen, "%s:%u: k=%" PRIu64 ": want 1..10000 batches",
					     origin, lineno, v);
					goto bad;
				}
				r.k = (uint32_t)v;
				continue;
			}
			if (!valid_name(tok[i]) || strchr(tok[i], '+')) {
				fail(err, errlen, "%s:%u: '%s' is not a parameter name", origin, lineno,
				     tok[i]);
				goto bad;
			}
			if (calib_req_param(&r, tok[i], UINT64_MAX - 1) != UINT64_MAX - 1) {
				fail(err, errlen, "%s:%u: %s given twice", origin, lineno, tok[i]);
				goto bad;
			}
			if (r.nparams == CALIB_MAX_PARAMS) {
				fail(err, errlen, "%s:%u: more than %d parameters", origin, lineno,
				     CALIB_MAX_PARAMS);
				goto bad;
			}
			copy_name(r.pname[r.nparams], tok[i]);
			r.pval[r.nparams++] = v;
		}
		if (!sizes) {
			fail(err, errlen, "%s:%u: no n= (the size of the instance)", origin, lineno);
			goto bad;
		}
		for (t = strtok_r(sizes, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (parse_u64(t, &r.n) || r.n < 1) {
				fail(err, errlen, "%s:%u: n=%s: want positive integers%s", origin, lineno,
				     t, nwords == 3 ? " separated by commas" : "");
				goto bad;
			}
			if (push_req(reqs, nreq, &cap, &r)) {
				fail(err, errlen, "out of memory");
				goto bad;
			}
			if (nwords == 2 && strtok_r(NULL, ",", &save)) {
				fail(err, errlen, "%s:%u: one size per scenario line", origin, lineno);
				goto bad;
			}
		}
		if (!*nreq || (*reqs)[*nreq - 1].line != lineno) {
			fail(err, errlen, "%s:%u: n=: no size given", origin, lineno);
			goto bad;
		}
	}
	if (!*nreq) {
		fail(err, errlen, "%s: no request in it", origin);
		goto bad;
	}
	return 0;
bad:
	free(*reqs);
	*reqs = NULL;
	*nreq = 0;
	return -1;
}

int calib_plan_parse(const char *text, const char *origin, struct calib_req **reqs,
		     size_t *n, char *err, size_t errlen)
{
	return parse_lines(text, origin, 3, reqs, n, err, errlen);
}

int calib_scen_parse(const char *text, const char *origin, struct calib_req **reqs,
		     size_t *n, char *err, size_t errlen)
{
	return parse_lines(text, origin, 2, reqs, n, err, errlen);
}

uint64_t calib_req_param(const struct calib_req *r, const char *name, uint64_t def)
{
	unsigned i;

	for (i = 0; i < r->nparams; i++)
		if (!strcmp(r->pname[i], name))
			return r->pval[i];
	return def;
}

void calib_req_drop_param(struct calib_req *r, const char *name)
{
	unsigned i;

	for (i = 0; i < r->nparams; i++)
		if (!strcmp(r->pname[i], name)) {
			memmove(&r->pname[i], &r->pname[i + 1], (r->nparams - i - 1) * sizeof(r->pname[0]));
			memmove(&r->pval[i], &r->pval[i + 1], (r->nparams - i - 1) * sizeof(r->pval[0]));
			r->nparams--;
			return;
		}
}

/* ---- built-in plans ------------------------------------------------------------------- */

/*
 * The built-in plan: every reverse map built, destroyed and searched at sizes from a few KiB
 * of structure (cache-resident on any machine) to a few MiB (the list stops at 3000: its
 * destroy and lookup walk n^2/2 nodes); the sharing machine's destroy with every reverse
 * map, a preemptible relinquish at two batch sizes (preempt_check and its continuation), and
 * share and unshare, which separate page_put, refcount and p2m_entry (in a destroy
 * p2m_entry and page_put are always equal); a fork's superpage mappings under both superpage
 * policies (per-page's refcounts against marked's fixed per-map work) and marks (a hypercall
 * without the map's lock, so the two can be told apart).  Scrub: the sync destroy (a real
 * 4 KiB clear per page), the deferred free paths with and without the entry move, one
 * scrubber a page per lock hold and 64 (the lock apart from the pages), and on-alloc's
 * allocation (clears alone, one lock per 512 pages).  Shadow: walks into a pool of 64 under
 * each reclaim policy (builds and zaps are real clears) and a second pass.  Hinting: first
 * touches, free+realloc cycles under the hinting policies, reclaim dropping and swapping, and
 * page-cache fills made volatile.
 * ~7e9 instructions: under a minute under TCG.
 */
static const char plan_builtin[] =
	"# memsim calibrate --plan builtin: MODEL POLICY OP n=SIZES [k=BATCHES] [PARAM=VALUE]...\n"
	"selftest none null n=1 k=3\n"
	"rmap list build n=100,300,1000,3000\n"
	"rmap list destroy n=100,300,1000,3000\n"
	"rmap list lookup n=100,300,1000,3000\n"
	"rmap hash build n=100,300,1000,10000,100000\n"
	"rmap hash destroy n=100,300,1000,10000,100000\n"
	"rmap hash lookup n=100,300,1000,10000,100000\n"
	"rmap tree build n=100,300,1000,10000,100000\n"
	"rmap tree destroy n=100,300,1000,10000,100000\n"
	"rmap tree lookup n=100,300,1000,10000,100000\n"
	"rmap hash-grow build n=100,300,1000,10000,100000\n"
	"rmap hash-grow destroy n=100,300,1000,10000,100000\n"
	"rmap hash-grow lookup n=100,300,1000,10000,100000\n"
	"sharing list+monolithic destroy n=100,300,1000,3000 k=1\n"
	"sharing hash+monolithic destroy n=100,1000,10000,100000 k=1\n"
	"sharing tree+monolithic destroy n=100,1000,10000,100000 k=1\n"
	"sharing hash-grow+monolithic destroy n=100,1000,10000,100000 k=1\n"
	"sharing hash+preemptible destroy n=1000,10000 batch=1 k=1\n"
	"sharing hash+preemptible destroy n=1000,10000 batch=64 k=1\n"
	"sharing hash+monolithic share n=100,1000,10000 k=1\n"
	"sharing hash+monolithic unshare n=100,1000,10000 k=1\n"
	"superpage per-page map n=16,64,256 k=1\n"
	"superpage marked map n=64,256,1024 k=1\n"
	"superpage marked mark n=16,64,256 k=1\n"
	"scrub sync destroy n=256,1024,4096 k=2\n"
	"scrub deferred-percpu destroy n=256,4096 k=2\n"
	"scrub on-alloc destroy n=256,4096 k=2\n"
	"scrub deferred scrub n=256,1024,4096 k=2\n"
	"scrub deferred-percpu scrub n=1024,4096 batch=64 k=2\n"
	"scrub on-alloc alloc n=1024,4096 k=2\n"
	"shadow fifo walk n=256,1024,4096 k=2\n"
	"shadow fifo-skip-roots walk n=256,1024 k=2\n"
	"shadow clock walk n=256,1024,4096 k=2\n"
	"shadow accessed walk n=256,1024 k=2\n"
	"shadow accessed rewalk n=256,1024 k=2\n"
	"hinting per-page fill n=1024,4096 k=2\n"
	"hinting batched cycle n=1024,4096 k=2\n"
	"hinting lazy-unused cycle n=1024,4096 k=2\n"
	"hinting none reclaim n=1024,4096 k=2\n"
	"hinting per-page reclaim n=1024,4096 k=2\n"
	"hinting volatile cache n=1024,4096 k=2\n";

/* The check's plan (hw-validate/check.sh): the same shape, small sizes, seconds under TCG. */
static const char plan_small[] =
	"# memsim calibrate --plan small\n"
	"selftest none null n=1 k=2\n"
	"rmap list build n=100,400 k=1\n"
	"rmap list destroy n=100,400 k=1\n"
	"rmap hash build n=100,400,1500 k=1\n"
	"rmap hash destroy n=100,400,1500 k=1\n"
	"rmap tree build n=100,400,1500 k=1\n"
	"rmap tree destroy n=100,400,1500 k=1\n"
	"rmap tree lookup n=100,1500 k=1\n"
	"rmap hash-grow build n=100,400,1500 k=1\n"
	"rmap hash-grow destroy n=100,400,1500 k=1\n"
	"sharing list+monolithic destroy n=100,400 k=1\n"
	"sharing hash+monolithic destroy n=100,1500 k=1\n"
	"sharing tree+monolithic destroy n=100,1500 k=1\n"
	"sharing hash+preemptible destroy n=1500 batch=8 k=1\n"
	"sharing hash+monolithic share n=100,1500 k=1\n"
	"sharing hash+monolithic unshare n=100,1500 k=1\n"
	"superpage per-page map n=16,128 k=1\n"
	"superpage marked map n=64,256 k=1\n"
	"superpage marked mark n=16,64 k=1\n"
	"scrub sync destroy n=256,1024 k=1\n"
	"scrub on-alloc destroy n=256,1024 k=1\n"
	"scrub deferred scrub n=256,1024 k=1\n"
	"scrub deferred-percpu scrub n=1024 batch=64 k=1\n"
	"scrub on-alloc alloc n=256,1024 k=1\n"
	"shadow fifo walk n=128,512 k=1\n"
	"shadow clock walk n=128,512 k=1\n"
	"hinting per-page fill n=256,1024 k=1\n"
	"hinting batched cycle n=256,1024 k=1\n"
	"hinting none reclaim n=256,1024 k=1\n"
	"hinting per-page reclaim n=256,1024 k=1\n";

/*
 * Reference scenarios: sizes the plans do not measure.  `rmap` rows vary the reverse map
 * under a monolithic relinquish; `relinquish` rows vary the relinquish policy over a hash;
 * `superpage` rows are a fork of a region of n superpages (n / 512 GiB); `scrub` rows the
 * destroy of a domain of n pages, `shadow` rows n walks to new leaves into a pool of 64,
 * `hinting` rows n pages freed and allocated again (sim/vfamily.c).
 */
static const char scen_builtin[] =
	"# memsim validate --scenarios builtin: MODEL RMAP+RELINQUISH n=N [PARAM=VALUE]...\n"
	"rmap list+monolithic n=2000\n"
	"rmap hash+monolithic n=30000\n"
	"rmap tree+monolithic n=30000\n"
	"rmap hash-grow+monolithic n=30000\n"
	"relinquish hash+monolithic n=30000\n"
	"relinquish hash+preemptible n=30000\n"
	"relinquish hash+preemptible-seed n=30000\n"
	"relinquish hash+weighted n=30000\n"
	"relinquish list+preemptible n=2000 batch=64\n"
	"superpage per-page n=1024\n"
	"superpage marked n=1024\n"
	"scrub sync n=8192\n"
	"scrub deferred-percpu n=8192\n"
	"scrub on-alloc n=8192\n"
	"shadow fifo n=2048\n"
	"shadow clock n=2048\n"
	"shadow accessed n=2048\n"
	"hinting per-page n=8192\n"
	"hinting batched n=8192\n"
	"hinting lazy-unused n=8192\n";

static const char scen_small[] =
	"# memsim validate --scenarios small: one scenario per model\n"
	"rmap tree+monolithic n=700\n"
	"relinquish hash+preemptible n=700 batch=32\n"
	"superpage per-page n=512\n"
	"scrub sync n=2048\n"
	"shadow clock n=512\n"
	"hinting batched n=2048\n";

const char *calib_builtin_plan(const char *name)
{
	return !strcmp(name, "builtin") ? plan_builtin : !strcmp(name, "small") ? plan_small : NULL;
}

const char *calib_builtin_scenarios(const char *name)
{
	return !strcmp(name, "builtin") ? scen_builtin : !strcmp(name, "small") ? scen_small : NULL;
}
