/* SPDX-License-Identifier: MIT */
/*
 * sim/sweep.c — sweep specifications: parsing NAME=SPEC, experiment files, and the
 * computation of point i from i alone (see sweep.h for the syntax; the expressions of
 * derived axes and conditions are in sweep_expr.c).
 *
 * Invariants once sweep_finish() has returned 0:
 *   - every list axis has nvalues >= 1 distinct values, every derived axis an expression
 *     whose names are list axes with integer values, earlier derived axes (order[]), or
 *     parameters the resolver knows;
 *   - npoints = reps x product of the list sizes, <= SWEEP_MAX_POINTS;
 *   - sweep_point() succeeds for every index (the derived values were all computed once).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "param.h"
#include "sweep.h"
#include "util.h"

/* ---- lists and ranges ------------------------------------------------------------------- */

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* Choice names: a letter or '_' first, then letters, digits, '_', '-', '.'. */
static bool is_word(const char *s)
{
	if (!sweep_is_name_start((unsigned char)*s))
		return false;
	for (s++; *s; s++)
		if (!sweep_is_name_char((unsigned char)*s) && *s != '-' && *s != '.')
			return false;
	return true;
}

static int push_value(struct sweep_axis *ax, size_t *cap, const char *text, uint64_t num,
		      bool is_num, char *err, size_t errlen)
{
	struct sweep_value *v;

	if (ax->nvalues == SWEEP_MAX_VALUES) {
		seterr(err, errlen, "more than %d values", SWEEP_MAX_VALUES);
		return -E2BIG;
	}
	if (ax->nvalues == *cap) {
		size_t c = *cap ? 2 * *cap : 8;

		v = realloc(ax->values, c * sizeof(*v));
		if (!v) {
			seterr(err, errlen, "out of memory");
			return -ENOMEM;
		}
		ax->values = v;
		*cap = c;
	}
	v = &ax->values[ax->nvalues++];
	memset(v, 0, sizeof(*v));
	v->is_num = is_num;
	v->num = num;
	if (is_num)
		snprintf(v->text, sizeof(v->text), "%" PRIu64, num);
	else
		snprintf(v->text, sizeof(v->text), "%s", text);
	return 0;
}

/* "LO..HI", "LO..HI*F" or "LO..HI+S" */
static int parse_range(struct sweep_axis *ax, size_t *cap, char *item, char *dots,
		       char *err, size_t errlen)
{
	enum param_unit unit = param_unit_of(ax->name);
	char *hi_s = dots + 2, *op = strpbrk(hi_s, "*+");
	uint64_t lo, hi, by = 1, v;
	char opc = op ? *op : '+';
	int rc;

	*dots = 0;
	if (op)
		*op = 0;
	if ((rc = param_parse_value(trim(item), unit, &lo))) {
		seterr(err, errlen, "range start '%s' %s", trim(item), param_value_error(rc, unit));
		return -EINVAL;
	}
	if (!*trim(hi_s)) {
		seterr(err, errlen, "range %s..: missing its end", trim(item));
		return -EINVAL;
	}
	if ((rc = param_parse_value(trim(hi_s), unit, &hi))) {
		seterr(err, errlen, "range end '%s' %s", trim(hi_s), param_value_error(rc, unit));
		return -EINVAL;
	}
	/* a factor is a plain number; a step is in the parameter's unit */
	if (op && (rc = param_parse_value(trim(op + 1), opc == '*' ? PARAM_UNIT_NONE : unit, &by))) {
		seterr(err, errlen, "range %s '%s' %s", opc == '*' ? "factor" : "step",
		       trim(op + 1), param_value_error(rc, opc == '*' ? PARAM_UNIT_NONE : unit));
		return -EINVAL;
	}
	if (lo > hi) {
		seterr(err, errlen, "range %" PRIu64 "..%" PRIu64 " is empty (start above end)",
		       lo, hi);
		return -EINVAL;
	}
	if (opc == '*' && (by < 2 || lo == 0)) {
		seterr(err, errlen, by < 2 ? "range factor must be at least 2" :
		       "a range by factor cannot start at 0");
		return -EINVAL;
	}
	if (opc == '+' && by == 0) {
		seterr(err, errlen, "range step must be at least 1");
		return -EINVAL;
	}
	for (v = lo;;) {
		if ((rc = push_value(ax, cap, NULL, v, true, err, errlen)))
			return rc;
		if (opc == '*') {
			if (v > hi / by)
				break;
			v *= by;
		} else {
			if (v > hi - by)
				break;
			v += by;
		}
		if (v > hi)
			break;
	}
	return 0;
}

static int cmp_value(const void *pa, const void *pb)
{
	const struct sweep_value *a = *(const struct sweep_value *const *)pa;
	const struct sweep_value *b = *(const struct sweep_value *const *)pb;

	if (a->is_num != b->is_num)
		return a->is_num ? -1 : 1;
	if (a->is_num)
		return a->num < b->num ? -1 : a->num > b->num;
	return strcmp(a->text, b->text);
}

static int check_duplicates(const struct sweep_axis *ax, char *err, size_t errlen)
{
	const struct sweep_value **s;
	size_t i;
	int rc = 0;

	if (ax->nvalues < 2)
		return 0;
	s = malloc(ax->nvalues * sizeof(*s));
	if (!s) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < ax->nvalues; i++)
		s[i] = &ax->values[i];
	qsort(s, ax->nvalues, sizeof(*s), cmp_value);
	for (i = 1; i < ax->nvalues; i++) {
		if (!cmp_value(&s[i - 1], &s[i])) {
			seterr(err, errlen, "value %s appears twice", s[i]->text);
			rc = -EINVAL;
			break;
		}
	}
	free(s);
	return rc;
}

/* Parses spec as a list; 0, 1 if it is not a list at all (try an expression), or -errno. */
static int parse_list(struct sweep_axis *ax, const char *spec, char *err, size_t errlen)
{
	char *copy = strdup(spec), *item, *save = NULL;
	bool listy = strchr(spec, ',') || strstr(spec, "..");
	size_t cap = 0;
	int rc = 0;

	if (!copy) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!*trim(copy)) {
		seterr(err, errlen, "no value");
		free(copy);
		return -EINVAL;
	}
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *t = trim(item), *dots = strstr(t, "..");
		uint64_t v;

		if (dots) {
			rc = parse_range(ax, &cap, t, dots, err, errlen);
		} else if (isdigit((unsigned char)*t)) {
			enum param_unit unit = param_unit_of(ax->name);
			int prc = param_parse_value(t, unit, &v);

			if (prc) {
				if (!listy && prc == PARAM_ESYNTAX) {
					rc = 1;
					break;
				}
				seterr(err, errlen, "'%s' %s", t, param_value_error(prc, unit));
				rc = -EINVAL;
			} else {
				rc = push_value(ax, &cap, NULL, v, true, err, errlen);
			}
		} else if (is_word(t) && strlen(t) < SWEEP_VALUE_MAX) {
			rc = push_value(ax, &cap, t, 0, false, err, errlen);
		} else if (!listy) {
			rc = 1;
		} else {
			seterr(err, errlen, "'%s' is not an integer, a range or a name%s", t,
			       *t ? " (a derived parameter takes one expression, not a list)" :
			       "");
			rc = -EINVAL;
		}
		if (rc)
			break;
	}
	/* strtok_r skips empty items: ",64" or "64,,128" is a typo worth reporting */
	if (!rc && (strstr(spec, ",,") || *trim(strcpy(copy, spec)) == ',' ||
		    copy[strlen(copy) - 1] == ',')) {
		seterr(err, errlen, "empty item in the list");
		rc = -EINVAL;
	}
	if (!rc)
		rc = check_duplicates(ax, err, errlen);
	if (rc) {
		free(ax->values);
		ax->values = NULL;
		ax->nvalues = 0;
	}
	free(copy);
	return rc;
}

/* ---- axes ------------------------------------------------------------------------------- */

void sweep_init(struct sweep *sw)
{
	memset(sw, 0, sizeof(*sw));
	sw->reps = 1;
	sw->base_seed = 1;
}

static void axis_free(struct sweep_axis *ax)
{
	free(ax->spec);
	free(ax->where);
	free(ax->values);
	sweep_expr_free(ax->expr);
	memset(ax, 0, sizeof(*ax));
}

void sweep_free(struct sweep *sw)
{
	size_t i;

	for (i = 0; i < sw->naxes; i++)
		axis_free(&sw->axes[i]);
	sw->naxes = 0;
	for (i = 0; i < sw->nconds; i++) {
		free(sw->conds[i].text);
		free(sw->conds[i].where);
		sweep_expr_free(sw->conds[i].expr);
	}
	sw->nconds = 0;
	free(sw->combos);
	sw->combos = NULL;
	sw->ncombos = 0;
}

int sweep_axis_find(const struct sweep *sw, const char *name)
{
	size_t i;

	for (i = 0; i < sw->naxes; i++)
		if (!strcmp(sw->axes[i].name, name))
			return (int)i;
	return -1;
}

static int add_axis(struct sweep *sw, const char *arg, const char *where, bool first,
		    char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	char pre[600], name[SWEEP_NAME_MAX], msg[512];
	struct sweep_axis ax;
	const char *p;
	size_t len;
	int rc;

	snprintf(pre, sizeof(pre), "%s%s%.200s", where ? where : "", where ? ": " : "", arg);
	memset(&ax, 0, sizeof(ax));
	msg[0] = 0;
	if (!eq) {
		seterr(err, errlen, "%s: expected NAME=SPEC", pre);
		return -EINVAL;
	}
	p = arg;
	while (isspace((unsigned char)*p))
		p++;
	len = (size_t)(eq - p);
	while (len && isspace((unsigned char)p[len - 1]))
		len--;
	if (!len || len >= SWEEP_NAME_MAX || !sweep_is_name_start((unsigned char)p[0])) {
		seterr(err, errlen, "%s: '%.*s' is not a parameter name", pre, (int)len, p);
		return -EINVAL;
	}
	memcpy(name, p, len);
	name[len] = 0;
	for (p = name; *p; p++) {
		if (!sweep_is_name_char((unsigned char)*p)) {
			seterr(err, errlen, "%s: '%s' is not a parameter name", pre, name);
			return -EINVAL;
		}
	}
	if (sweep_axis_find(sw, name) >= 0) {
		seterr(err, errlen, "%s: %s is swept twice", pre, name);
		return -EINVAL;
	}
	if (sw->naxes == SWEEP_MAX_AXES) {
		seterr(err, errlen, "%s: more than %d swept parameters", pre, SWEEP_MAX_AXES);
		return -E2BIG;
	}
	snprintf(ax.name, sizeof(ax.name), "%s", name);
	ax.spec = strdup(eq + 1);
	ax.where = strdup(where ? where : "");
	if (!ax.spec || !ax.where) {
		axis_free(&ax);
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = parse_list(&ax, eq + 1, msg, sizeof(msg));
	if (rc == 1) {
		rc = sweep_expr_parse_unit(eq + 1, param_unit_of(ax.name), &ax.expr, msg, sizeof(msg));
		if (rc)
			snprintf(pre + strlen(pre), sizeof(pre) - strlen(pre), ": expression");
	}
	if (rc) {
		seterr(err, errlen, "%s: %s", pre, msg);
		axis_free(&ax);
		return rc;
	}
	if (first) {
		memmove(&sw->axes[1], &sw->axes[0], sw->naxes * sizeof(sw->axes[0]));
		sw->axes[0] = ax;
	} else {
		sw->axes[sw->naxes] = ax;
	}
	sw->naxes++;
	return 0;
}

int sweep_add(struct sweep *sw, const char *arg, const char *where, char *err, size_t errlen)
{
	return add_axis(sw, arg, where, false, err, errlen);
}

int sweep_add_policies(struct sweep *sw, const char *list, char *err, size_t errlen)
{
	char buf[1024];
	int i;

	if ((i = sweep_axis_find(sw, "policy")) >= 0) {
		seterr(err, errlen, "--policy %s: the policy is also swept by %spolicy=%s", list,
		       sw->axes[i].where, sw->axes[i].spec);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "policy=%s", list);
	return add_axis(sw, buf, "--policy", true, err, errlen);
}

int sweep_add_cond(struct sweep *sw, const char *text, const char *where, char *err,
		   size_t errlen)
{
	struct sweep_cond *c;
	char msg[512];

	if (!where)
		where = "--if";
	if (sw->nconds == SWEEP_MAX_CONDS) {
		seterr(err, errlen, "%s %s: more than %d conditions", where, text, SWEEP_MAX_CONDS);
		return -E2BIG;
	}
	c = &sw->conds[sw->nconds];
	memset(c, 0, sizeof(*c));
	if (sweep_expr_parse(text, &c->expr, msg, sizeof(msg))) {
		seterr(err, errlen, "%s %s: %s", where, text, msg);
		return -EINVAL;
	}
	c->text = strdup(text);
	c->where = strdup(where);
	if (!c->text || !c->where) {
		free(c->text);
		free(c->where);
		sweep_expr_free(c->expr);
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	sw->nconds++;
	return 0;
}

void sweep_experiment_free(struct sweep_experiment *x)
{
	unsigned i;

	free(x->model);
	free(x->trace);
	free(x->scenario);
	free(x->profile);
	free(x->reps);
	free(x->seed);
	for (i = 0; i < x->nsets; i++)
		free(x->sets[i]);
	free(x->text);
	memset(x, 0, sizeof(*x));
}

/* "model = rmap" and the like: 1 if t is a setting line (stored in x), 0 if not, or -errno. */
static int experiment_line(struct sweep_experiment *x, char *t, const char *where,
			   char *err, size_t errlen)
{
	static const char *const keys[] = { "model", "trace", "scenario", "profile", "reps",
					    "seed" };
	char **slot[] = { &x->model, &x->trace, &x->scenario, &x->profile, &x->reps, &x->seed };
	size_t i, n;

	if (!strncmp(t, "set", 3) && isspace((unsigned char)t[3])) {
		char *v = trim(t + 3), *eq = strchr(v, '=');

		if (!eq || eq == v) {
			seterr(err, errlen, "%s: set %s: expected set NAME=VALUE", where, v);
			return -EINVAL;
		}
		if (x->nsets == SWEEP_EXP_MAX_SETS) {
			seterr(err, errlen, "%s: more than %d set lines", where, SWEEP_EXP_MAX_SETS);
			return -EINVAL;
		}
		/* "set heavy = 64" -> "heavy=64", as --set takes it */
		*eq = 0;
		n = strlen(trim(v)) + strlen(trim(eq + 1)) + 2;
		if (!(x->sets[x->nsets] = malloc(n)))
			return -ENOMEM;
		snprintf(x->sets[x->nsets++], n, "%s=%s", trim(v), trim(eq + 1));
		return 1;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t k = strlen(keys[i]);
		char *v;

		if (strncmp(t, keys[i], k) || (t[k] != '=' && !isspace((unsigned char)t[k])))
			continue;
		v = trim(t + k);
		if (*v != '=')
			continue;
		v = trim(v + 1);
		if (!*v) {
			seterr(err, errlen, "%s: %s =: no value", where, keys[i]);
			return -EINVAL;
		}
		if (*slot[i]) {
			seterr(err, errlen, "%s: %s is set twice in the file", where, keys[i]);
			return -EINVAL;
		}
		if (!(*slot[i] = strdup(v)))
			return -ENOMEM;
		return 1;
	}
	return 0;
}

static int add_file(struct sweep *sw, const char *path, struct sweep_experiment *x,
		    char *err, size_t errlen);

int sweep_add_file(struct sweep *sw, const char *path, char *err, size_t errlen)
{
	return add_file(sw, path, NULL, err, errlen);
}

int sweep_add_experiment(struct sweep *sw, const char *path, struct sweep_experiment *x,
			 char *err, size_t errlen)
{
	return add_file(sw, path, x, err, errlen);
}

static int add_file(struct sweep *sw, const char *path, struct sweep_experiment *x,
		    char *err, size_t errlen)
{
	char *line = NULL, where[512], *text;
	size_t cap = 0, lineno = 0, len;
	ssize_t n;
	int rc = 0, e;
	FILE *f;

	/* read once, a regular file of at most 1 MiB: a FIFO or a device is refused at once */
	text = read_input_file(path, INPUT_FILE_MAX, &len, &e, err, errlen);
	if (!text)
		return -e;
	f = len ? fmemopen(text, len, "r") : NULL;
	if (!f) {
		free(text);
		if (!len)
			return 0;	/* an empty file: no axes */
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -ENOMEM;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *hash, *t;

		lineno++;
		if (strlen(line) != (size_t)n) {
			seterr(err, errlen, "%s:%zu: a NUL byte in the line", path, lineno);
			rc = -EINVAL;
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		t = trim(line);
		if (!*t)
			continue;
		snprintf(where, sizeof(where), "%s:%zu", path, lineno);
		if (x && (rc = experiment_line(x, t, where, err, errlen)) != 0) {
			if (rc < 0)
				break;
			rc = 0;
		} else if (!strncmp(t, "if", 2) && isspace((unsigned char)t[2])) {
			strcat(where, ": if");
			rc = sweep_add_cond(sw, trim(t + 2), where, err, errlen);
		} else {
			rc = sweep_add(sw, t, where, err, errlen);
		}
		if (rc)
			break;
	}
	if (!rc && ferror(f)) {
		seterr(err, errlen, "%s: read error", path);
		rc = -EIO;
	}
	free(line);
	fclose(f);
	if (x && !rc && !x->text) {	/* the first file is the experiment's, kept verbatim */
		x->text = text;
		x->len = len;
		text = NULL;
	}
	free(text);
	return rc;
}

/* ---- finishing: references, order, count ------------------------------------------------ */

struct finish_ctx {
	struct sweep *sw;
	size_t self;
	const char *bad;              /* first name that failed */
	int why;                      /* -ENOENT, -EINVAL (a choice) */
};

static int known_name(struct sweep *sw, const char *name)
{
	uint64_t v;
	int i = sweep_axis_find(sw, name);

	if (i >= 0)
		return 0;
	return sw->resolve ? sw->resolve(sw->resolve_ctx, name, &v) : -ENOENT;
}

static int check_known(void *vctx, const char *name)
{
	struct finish_ctx *c = vctx;
	int rc = known_name(c->sw, name);

	if (rc == -ENOENT || (rc && !c->bad)) {
		c->bad = name;
		c->why = rc;
	}
	return rc == -ENOENT ? rc : 0;
}

/* A one-word list that is really an expression over known parameters becomes derived. */
static void maybe_reference(struct sweep *sw, struct sweep_axis *ax)
{
	struct finish_ctx c = { .sw = sw };
	struct sweep_expr *e;
	char msg[16];

	if (ax->nvalues != 1 || ax->values[0].is_num)
		return;
	if (sweep_expr_parse(ax->values[0].text, &e, msg, sizeof(msg)))
		return;
	if (sweep_expr_names(e, check_known, &c) || c.bad) {
		sweep_expr_free(e);
		return;
	}
	free(ax->values);
	ax->values = NULL;
	ax->nvalues = 0;
	ax->expr = e;
}

/* Depth-first topological sort of the derived axes; state 0 new, 1 on the path, 2 done. */
struct topo {
	struct sweep *sw;
	int state[SWEEP_MAX_AXES];
	size_t path[SWEEP_MAX_AXES], npath;
	char *err;
	size_t errlen;
};

static int topo_visit(struct topo *t, size_t i);

static int topo_edge(void *vctx, const char *name)
{
	struct topo *t = vctx;
	int j = sweep_axis_find(t->sw, name);

	if (j < 0 || !t->sw->axes[j].expr)
		return 0;
	return topo_visit(t, (size_t)j);
}

static int topo_visit(struct topo *t, size_t i)
{
	struct sweep *sw = t->sw;
	int rc;

	if (t->state[i] == 2)
		return 0;
	if (t->state[i] == 1) {
		size_t k, off, start = 0;

		while (t->path[start] != i)
			start++;
		off = (size_t)snprintf(t->err, t->errlen, "%s%s%s=%s: derived parameters form a cycle: ",
				       sw->axes[i].where, *sw->axes[i].where ? ": " : "",
				       sw->axes[i].name, sw->axes[i].spec);
		for (k = start; k < t->npath && off < t->errlen; k++)
			off += (size_t)snprintf(t->err + off, t->errlen - off, "%s -> ",
						sw->axes[t->path[k]].name);
		if (off < t->errlen)
			snprintf(t->err + off, t->errlen - off, "%s", sw->axes[i].name);
		return -EINVAL;
	}
	t->state[i] = 1;
	t->path[t->npath++] = i;
	rc = sweep_expr_names(sw->axes[i].expr, topo_edge, t);
	t->npath--;
	if (rc)
		return rc;
	t->state[i] = 2;
	sw->order[sw->nderived++] = i;
	return 0;
}

/* Values of the axes at one point, for the resolver of derived expressions. */
struct point_ctx {
	const struct sweep *sw;
	const struct sweep_value *val[SWEEP_MAX_AXES];   /* list axes */
	uint64_t num[SWEEP_MAX_AXES];                    /* derived axes */
	bool have[SWEEP_MAX_AXES];
};

static int point_resolve(void *vctx, const char *name, uint64_t *v)
{
	struct point_ctx *c = vctx;
	int i = sweep_axis_find(c->sw, name);

	if (i < 0)
		return c->sw->resolve ? c->sw->resolve(c->sw->resolve_ctx, name, v) : -ENOENT;
	if (!c->have[i])
		abort();	/* sweep_finish ordered the derived axes */
	if (c->val[i]) {
		if (!c->val[i]->is_num)
			return -EINVAL;
		*v = c->val[i]->num;
	} else {
		*v = c->num[i];
	}
	return 0;
}

/* "heavy=64 policy=list": the list values of a point, for messages. */
static void point_name(const struct point_ctx *c, char *buf, size_t len)
{
	size_t j, off = 0;

	buf[0] = 0;
	for (j = 0; j < c->sw->naxes && off < len; j++)
		if (c->val[j])
			off += (size_t)snprintf(buf + off, len - off, "%s%s=%s", off ? " " : "",
						c->sw->axes[j].name, c->val[j]->text);
}

/* The values of combination `index` (of the list axes' cross product). */
static int point_values(const struct sweep *sw, size_t index, struct point_ctx *c,
			char *err, size_t errlen)
{
	size_t k, i;

	memset(c, 0, sizeof(*c));
	c->sw = sw;
	for (k = sw->naxes; k-- > 0;) {
		const struct sweep_axis *ax = &sw->axes[k];

		if (ax->expr)
			continue;
		c->val[k] = &ax->values[index % ax->nvalues];
		index /= ax->nvalues;
		c->have[k] = true;
	}
	for (k = 0; k < sw->nderived; k++) {
		const struct sweep_axis *ax;
		char msg[256], at[512];

		i = sw->order[k];
		ax = &sw->axes[i];
		if (sweep_expr_eval(ax->expr, point_resolve, c, &c->num[i], msg, sizeof(msg))) {
			point_name(c, at, sizeof(at));
			seterr(err, errlen, "%s%s%s=%s: %s%s%s", ax->where, *ax->where ? ": " : "",
			       ax->name, ax->spec, msg, *at ? " at " : "", at);
			return -EINVAL;
		}
		c->have[i] = true;
	}
	return 0;
}

/* sweep_expr_names() callback: 1 when the name is the one in ctx. */
static int is_name(void *ctx, const char *name)
{
	return !strcmp(name, (const char *)ctx);
}

int sweep_finish(struct sweep *sw, sweep_resolve_fn fn, void *ctx, char *err, size_t errlen)
{
	struct topo t = { .sw = sw, .err = err, .errlen = errlen };
	struct point_ctx pc;
	size_t i, n = 1, combos;
	int rc;

	sw->resolve = fn;
	sw->resolve_ctx = ctx;
	sw->nderived = 0;
	if (sw->reps < 1 || sw->reps > SWEEP_MAX_REPS) {
		seterr(err, errlen, "--reps %u: must be in [1, %d]", sw->reps, SWEEP_MAX_REPS);
		return -EINVAL;
	}
	for (i = 0; i < sw->naxes; i++)
		if (strcmp(sw->axes[i].name, "policy"))
			maybe_reference(sw, &sw->axes[i]);
	for (i = 0; i < sw->naxes; i++) {
		struct sweep_axis *ax = &sw->axes[i];
		struct finish_ctx c = { .sw = sw, .self = i };

		if (!ax->expr)
			continue;
		sweep_expr_names(ax->expr, check_known, &c);
		if (c.bad) {
			if (c.why == -ENOENT)
				seterr(err, errlen, "%s%s%s=%s: unknown parameter '%s'", ax->where,
				       *ax->where ? ": " : "", ax->name, ax->spec, c.bad);
			else
				seterr(err, errlen, "%s%s%s=%s: '%s' takes names, not integers",
				       ax->where, *ax->where ? ": " : "", ax->name, ax->spec, c.bad);
			return -EINVAL;
		}
	}
	/* a list axis used in an expression must hold integers only */
	for (i = 0; i < sw->naxes; i++) {
		struct sweep_axis *ax = &sw->axes[i];
		size_t j;

		if (!ax->expr)
			continue;
		for (j = 0; j < sw->naxes; j++) {
			struct sweep_axis *ref = &sw->axes[j];
			size_t k;
			int used;

			if (ref->expr)
				continue;
			used = sweep_expr_names(ax->expr, is_name, (void *)ref->name);
			for (k = 0; used && k < ref->nvalues; k++) {
				if (!ref->values[k].is_num) {
					seterr(err, errlen, "%s%s%s=%s: '%s' takes names (%s), not "
					       "integers", ax->where, *ax->where ? ": " : "", ax->name,
					       ax->spec, ref->name, ref->values[k].text);
					return -EINVAL;
				}
			}
		}
	}
	for (i = 0; i < sw->nconds; i++) {
		struct sweep_cond *cd = &sw->conds[i];
		struct finish_ctx c = { .sw = sw };

		sweep_expr_names(cd->expr, check_known, &c);
		if (c.bad) {
			seterr(err, errlen, "%s %s: %s '%s'", cd->where, cd->text,
			       c.why == -ENOENT ? "unknown parameter" : "takes names, not integers:",
			       c.bad);
			return -EINVAL;
		}
	}
	for (i = 0; i < sw->naxes; i++)
		if (sw->axes[i].expr && (rc = topo_visit(&t, i)))
			return rc;
	for (i = 0; i < sw->naxes; i++) {
		if (sw->axes[i].expr)
			continue;
		if (n > SWEEP_MAX_POINTS / sw->axes[i].nvalues) {
			seterr(err, errlen, "the sweep has more than %d points", SWEEP_MAX_POINTS);
			return -E2BIG;
		}
		n *= sw->axes[i].nvalues;
	}
	combos = n;
	free(sw->combos);
	sw->combos = NULL;
	sw->ncombos = combos;
	if (sw->nconds) {
		sw->combos = malloc(combos * sizeof(*sw->combos));
		if (!sw->combos) {
			seterr(err, errlen, "out of memory");
			return -ENOMEM;
		}
		sw->ncombos = 0;
	}
	/* every derived value and condition of every combination, once, so no run fails
	 * half-way and every shard agrees on the point list */
	for (i = 0; (sw->nderived || sw->nconds) && i < combos; i++) {
		bool keep = true;
		size_t j;

		if ((rc = point_values(sw, i, &pc, err, errlen)))
			return rc;
		for (j = 0; j < sw->nconds && keep; j++) {
			uint64_t v;
			char msg[256], at[512];

			if (sweep_expr_eval(sw->conds[j].expr, point_resolve, &pc, &v, msg,
					    sizeof(msg))) {
				point_name(&pc, at, sizeof(at));
				seterr(err, errlen, "%s %s: %s%s%s", sw->conds[j].where,
				       sw->conds[j].text, msg, *at ? " at " : "", at);
				return -EINVAL;
			}
			keep = v != 0;
		}
		if (sw->nconds && keep)
			sw->combos[sw->ncombos++] = i;
	}
	if (!sw->ncombos) {
		seterr(err, errlen, "no point satisfies the conditions (%s%s)", sw->conds[0].text,
		       sw->nconds > 1 ? ", ..." : "");
		return -EINVAL;
	}
	if (sw->ncombos > SWEEP_MAX_POINTS / sw->reps) {
		seterr(err, errlen, "the sweep has %zu x %u = more than %d points", sw->ncombos,
		       sw->reps, SWEEP_MAX_POINTS);
		return -E2BIG;
	}
	sw->npoints = sw->ncombos * sw->reps;
	return 0;
}

int sweep_point(const struct sweep *sw, size_t index, struct sweep_point *pt,
		char *err, size_t errlen)
{
	struct point_ctx c;
	size_t k;
	int rc;

	if (index >= sw->npoints) {
		seterr(err, errlen, "point %zu: the sweep has %zu points", index, sw->npoints);
		return -EINVAL;
	}
	pt->rep = (unsigned)(index % sw->reps);
	rc = point_values(sw, sw->combos ? sw->combos[index / sw->reps] : index / sw->reps, &c,
			  err, errlen);
	if (rc)
		return rc;
	pt->index = index;
	pt->seed = sweep_rep_seed(sw->base_seed, pt->rep);
	pt->policy = NULL;
	pt->nsets = 0;
	for (k = 0; k < sw->naxes; k++) {
		const struct sweep_axis *ax = &sw->axes[k];
		char *s = pt->sets[pt->nsets];
		size_t len = sizeof(pt->sets[0]);

		if (c.val[k] && !strcmp(ax->name, "policy")) {
			pt->policy = c.val[k]->text;
			continue;
		}
		if (c.val[k])
			snprintf(s, len, "%s=%s", ax->name, c.val[k]->text);
		else
			snprintf(s, len, "%s=%" PRIu64, ax->name, c.num[k]);
		pt->nsets++;
	}
	return 0;
}

uint64_t sweep_rep_seed(uint64_t base, unsigned rep)
{
	if (!rep)
		return base;
	return hash_fold(hash_fold(hash_str("memsim-rep"), base), rep) >> 12;
}

int sweep_parse_shard(const char *s, unsigned *i, unsigned *n)
{
	char *end;
	unsigned long a, b;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	a = strtoul(s, &end, 10);
	if (errno || *end != '/' || !isdigit((unsigned char)end[1]))
		return -EINVAL;
	b = strtoul(end + 1, &end, 10);
	if (errno || *end || a < 1 || b < 1 || a > b || b > 1000000)
		return -EINVAL;
	*i = (unsigned)a;
	*n = (unsigned)b;
	return 0;
}

void sweep_write_axes_json(const struct sweep *sw, FILE *out)
{
	size_t i, j;

	fputc('[', out);
	for (i = 0; i < sw->naxes; i++) {
		const struct sweep_axis *ax = &sw->axes[i];

		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_write_string(out, ax->name);
		if (ax->expr) {
			char buf[1024];
			const char *p;
			size_t o = 0;

			/* spaces do not change an expression */
			for (p = ax->spec; *p && o + 1 < sizeof(buf); p++)
				if (!isspace((unsigned char)*p))
					buf[o++] = *p;
			buf[o] = 0;
			fprintf(out, ",\"expr\":");
			json_write_string(out, buf);
		} else {
			fprintf(out, ",\"values\":[");
			for (j = 0; j < ax->nvalues; j++) {
				if (j)
					fputc(',', out);
				if (ax->values[j].is_num)
					fprintf(out, "%" PRIu64, ax->values[j].num);
				else
					json_write_string(out, ax->values[j].text);
			}
			fputc(']', out);
		}
		fputc('}', out);
	}
	for (i = 0; i < sw->nconds; i++) {
		char buf[1024];
		const char *p;
		size_t o = 0;

		for (p = sw->conds[i].text; *p && o + 1 < sizeof(buf); p++)
			if (!isspace((unsigned char)*p))
				buf[o++] = *p;
		buf[o] = 0;
		fprintf(out, "%s{\"if\":", sw->naxes || i ? "," : "");
		json_write_string(out, buf);
		fputc('}', out);
	}
	fputc(']', out);
}
