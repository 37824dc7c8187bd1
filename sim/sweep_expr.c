/* SPDX-License-Identifier: MIT */
/*
 * sim/sweep_expr.c — the expressions of derived sweep axes and of --if conditions: a
 * recursive-descent parser into a flat node array, and its evaluation with 64-bit unsigned
 * arithmetic that refuses overflow, division by zero and unknown names (syntax in sweep.h).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"
#include "sweep.h"
#include "util.h"

#define EXPR_MAX_DEPTH 64
#define EXPR_MAX_NODES 1024

enum ex_op {
	EX_NUM, EX_NAME, EX_ADD, EX_SUB, EX_MUL, EX_DIV, EX_MOD, EX_MIN, EX_MAX,
	EX_LT, EX_LE, EX_GT, EX_GE, EX_EQ, EX_NE, EX_AND, EX_OR,   /* 1 or 0 */
};

struct ex_node {
	enum ex_op op;
	uint64_t num;
	char name[SWEEP_NAME_MAX];
	int a, b;                     /* operand node indices */
};

struct sweep_expr {
	struct ex_node *n;
	int len, cap;
	int root;
};

struct ex_parser {
	const char *text, *p;
	struct sweep_expr *e;
	int depth;
	enum param_unit unit;         /* of the derived axis: what a time suffix converts to */
	char *err;
	size_t errlen;
};

static int ex_fail(struct ex_parser *ps, const char *what)
{
	if (*ps->p)
		seterr(ps->err, ps->errlen, "at offset %zu ('%.12s'): %s",
		       (size_t)(ps->p - ps->text), ps->p, what);
	else
		seterr(ps->err, ps->errlen, "at the end: %s", what);
	return -1;
}

static int ex_node(struct ex_parser *ps, enum ex_op op, int a, int b)
{
	struct sweep_expr *e = ps->e;

	if (e->len == e->cap) {
		int cap = e->cap ? 2 * e->cap : 16;
		struct ex_node *n;

		if (cap > EXPR_MAX_NODES)
			return ex_fail(ps, "expression too long");
		n = realloc(e->n, (size_t)cap * sizeof(*n));
		if (!n)
			return ex_fail(ps, "out of memory");
		e->n = n;
		e->cap = cap;
	}
	memset(&e->n[e->len], 0, sizeof(e->n[0]));
	e->n[e->len].op = op;
	e->n[e->len].a = a;
	e->n[e->len].b = b;
	return e->len++;
}

static void ex_skip(struct ex_parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

static int ex_or(struct ex_parser *ps);

static int ex_factor(struct ex_parser *ps)
{
	int i, a, b;

	ex_skip(ps);
	if (isdigit((unsigned char)*ps->p)) {
		const char *s = ps->p;
		char buf[64];
		uint64_t v;

		while (isalnum((unsigned char)*ps->p))
			ps->p++;
		int rc = PARAM_ESYNTAX;

		if ((size_t)(ps->p - s) < sizeof(buf)) {
			memcpy(buf, s, (size_t)(ps->p - s));
			buf[ps->p - s] = 0;
			rc = param_parse_value(buf, ps->unit, &v);
		}
		if (rc) {
			ps->p = s;
			return ex_fail(ps, rc == PARAM_EUNIT && ps->unit == PARAM_UNIT_NONE ?
				       "a time suffix (ns us ms s) is accepted only in the spec of a "
				       "time parameter (a name ending in _ns or _ms), not in a condition "
				       "or for a plain number" : param_value_error(rc, ps->unit));
		}
		if ((i = ex_node(ps, EX_NUM, -1, -1)) < 0)
			return -1;
		ps->e->n[i].num = v;
		return i;
	}
	if (sweep_is_name_start((unsigned char)*ps->p)) {
		const char *s = ps->p;
		size_t len;

		while (sweep_is_name_char((unsigned char)*ps->p))
			ps->p++;
		len = (size_t)(ps->p - s);
		if (len >= SWEEP_NAME_MAX) {
			ps->p = s;
			return ex_fail(ps, "name too long");
		}
		ex_skip(ps);
		if (*ps->p == '(') {
			enum ex_op op;

			if (len == 3 && !strncmp(s, "min", 3)) {
				op = EX_MIN;
			} else if (len == 3 && !strncmp(s, "max", 3)) {
				op = EX_MAX;
			} else {
				ps->p = s;
				return ex_fail(ps, "unknown function (min and max are known)");
			}
			ps->p++;
			if ((a = ex_or(ps)) < 0)
				return -1;
			ex_skip(ps);
			if (*ps->p != ',')
				return ex_fail(ps, "expected ',' between the two arguments");
			ps->p++;
			if ((b = ex_or(ps)) < 0)
				return -1;
			ex_skip(ps);
			if (*ps->p != ')')
				return ex_fail(ps, "expected ')'");
			ps->p++;
			return ex_node(ps, op, a, b);
		}
		if ((i = ex_node(ps, EX_NAME, -1, -1)) < 0)
			return -1;
		memcpy(ps->e->n[i].name, s, len);
		ps->e->n[i].name[len] = 0;
		return i;
	}
	if (*ps->p == '(') {
		ps->p++;
		if ((a = ex_or(ps)) < 0)
			return -1;
		ex_skip(ps);
		if (*ps->p != ')')
			return ex_fail(ps, "expected ')'");
		ps->p++;
		return a;
	}
	return ex_fail(ps, "expected an integer, a parameter name or '('");
}

static int ex_product(struct ex_parser *ps)
{
	int a, b;

	if ((a = ex_factor(ps)) < 0)
		return -1;
	for (;;) {
		enum ex_op op;

		ex_skip(ps);
		if (*ps->p == '*')
			op = EX_MUL;
		else if (*ps->p == '/')
			op = EX_DIV;
		else if (*ps->p == '%')
			op = EX_MOD;
		else
			return a;
		ps->p++;
		if ((b = ex_factor(ps)) < 0)
			return -1;
		if ((a = ex_node(ps, op, a, b)) < 0)
			return -1;
	}
}

static int ex_sum(struct ex_parser *ps)
{
	int a, b;

	if (++ps->depth > EXPR_MAX_DEPTH)
		return ex_fail(ps, "expression nested too deeply");
	if ((a = ex_product(ps)) < 0)
		return -1;
	for (;;) {
		enum ex_op op;

		ex_skip(ps);
		if (*ps->p == '+')
			op = EX_ADD;
		else if (*ps->p == '-')
			op = EX_SUB;
		else
			break;
		ps->p++;
		if ((b = ex_product(ps)) < 0)
			return -1;
		if ((a = ex_node(ps, op, a, b)) < 0)
			return -1;
	}
	ps->depth--;
	return a;
}

/* a + b [relop c]: one comparison, no chains (a < b < c is almost always a mistake) */
static int ex_cmp(struct ex_parser *ps)
{
	static const struct {
		const char *tok;
		enum ex_op op;
	} rel[] = {
		{ "<=", EX_LE }, { ">=", EX_GE }, { "==", EX_EQ }, { "!=", EX_NE },
		{ "<", EX_LT }, { ">", EX_GT },
	};
	size_t i;
	int a, b;

	if ((a = ex_sum(ps)) < 0)
		return -1;
	ex_skip(ps);
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		size_t n = strlen(rel[i].tok);

		if (strncmp(ps->p, rel[i].tok, n))
			continue;
		ps->p += n;
		if ((b = ex_sum(ps)) < 0)
			return -1;
		return ex_node(ps, rel[i].op, a, b);
	}
	return a;
}

static int ex_and(struct ex_parser *ps)
{
	int a, b;

	if ((a = ex_cmp(ps)) < 0)
		return -1;
	for (;;) {
		ex_skip(ps);
		if (strncmp(ps->p, "&&", 2))
			return a;
		ps->p += 2;
		if ((b = ex_cmp(ps)) < 0 || (a = ex_node(ps, EX_AND, a, b)) < 0)
			return -1;
	}
}

static int ex_or(struct ex_parser *ps)
{
	int a, b;

	if ((a = ex_and(ps)) < 0)
		return -1;
	for (;;) {
		ex_skip(ps);
		if (strncmp(ps->p, "||", 2))
			return a;
		ps->p += 2;
		if ((b = ex_and(ps)) < 0 || (a = ex_node(ps, EX_OR, a, b)) < 0)
			return -1;
	}
}

int sweep_expr_parse_unit(const char *text, enum param_unit unit, struct sweep_expr **out,
		      char *err, size_t errlen)
{
	struct ex_parser ps = { .text = text, .p = text, .err = err, .errlen = errlen, .unit = unit };
	int root;

	*out = NULL;
	ps.e = calloc(1, sizeof(*ps.e));
	if (!ps.e) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	root = ex_or(&ps);
	if (root >= 0) {
		ex_skip(&ps);
		if (*ps.p)
			root = ex_fail(&ps, "expected an operator (+ - * / % < <= > >= == != && ||) "
				       "or the end");
	}
	if (root < 0) {
		sweep_expr_free(ps.e);
		return -EINVAL;
	}
	ps.e->root = root;
	*out = ps.e;
	return 0;
}

int sweep_expr_parse(const char *text, struct sweep_expr **out, char *err, size_t errlen)
{
	return sweep_expr_parse_unit(text, PARAM_UNIT_NONE, out, err, errlen);
}

void sweep_expr_free(struct sweep_expr *e)
{
	if (!e)
		return;
	free(e->n);
	free(e);
}

static int ex_eval(const struct sweep_expr *e, int i, sweep_resolve_fn fn, void *ctx,
		   uint64_t *v, char *err, size_t errlen)
{
	const struct ex_node *n = &e->n[i];
	uint64_t a, b;
	int rc;

	switch (n->op) {
	case EX_NUM:
		*v = n->num;
		return 0;
	case EX_NAME:
		rc = fn(ctx, n->name, v);
		if (rc == -ENOENT)
			seterr(err, errlen, "unknown parameter '%s'", n->name);
		else if (rc)
			seterr(err, errlen, "'%s' takes names, not integers", n->name);
		return rc ? -EINVAL : 0;
	default:
		break;
	}
	if (ex_eval(e, n->a, fn, ctx, &a, err, errlen) || ex_eval(e, n->b, fn, ctx, &b, err, errlen))
		return -EINVAL;
	switch (n->op) {
	case EX_ADD:
		if (a > UINT64_MAX - b)
			goto overflow;
		*v = a + b;
		return 0;
	case EX_SUB:
		if (b > a) {
			seterr(err, errlen, "%" PRIu64 " - %" PRIu64 " is below zero", a, b);
			return -EINVAL;
		}
		*v = a - b;
		return 0;
	case EX_MUL:
		if (a && b > UINT64_MAX / a)
			goto overflow;
		*v = a * b;
		return 0;
	case EX_DIV:
	case EX_MOD:
		if (!b) {
			seterr(err, errlen, "division by zero");
			return -EINVAL;
		}
		*v = n->op == EX_DIV ? a / b : a % b;
		return 0;
	case EX_MIN:
		*v = a < b ? a : b;
		return 0;
	case EX_MAX:
		*v = a > b ? a : b;
		return 0;
	case EX_LT: *v = a < b; return 0;
	case EX_LE: *v = a <= b; return 0;
	case EX_GT: *v = a > b; return 0;
	case EX_GE: *v = a >= b; return 0;
	case EX_EQ: *v = a == b; return 0;
	case EX_NE: *v = a != b; return 0;
	case EX_AND: *v = a && b; return 0;
	case EX_OR: *v = a || b; return 0;
	default:
		abort();
	}
overflow:
	seterr(err, errlen, "overflows 64 bits");
	return -EINVAL;
}

int sweep_expr_eval(const struct sweep_expr *e, sweep_resolve_fn fn, void *ctx, uint64_t *v,
		    char *err, size_t errlen)
{
	return ex_eval(e, e->root, fn, ctx, v, err, errlen);
}

int sweep_expr_names(const struct sweep_expr *e, int (*fn)(void *ctx, const char *name),
		     void *ctx)
{
	int i, rc;

	for (i = 0; i < e->len; i++)
		if (e->n[i].op == EX_NAME && (rc = fn(ctx, e->n[i].name)))
			return rc;
	return 0;
}
