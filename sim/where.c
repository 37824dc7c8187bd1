/* SPDX-License-Identifier: MIT */
/* sim/where.c — --where conditions: strict parsing, exact numeric comparison (see where.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"
#include "where.h"

/* Messages are one line: control characters of the input are shown as '?'. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int fail(char *err, size_t errlen, const char *text, const char *at, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (*at)
		snprintf(err, errlen, "at character %zu ('%.16s'): %s", (size_t)(at - text) + 1, at,
			 what);
	else
		snprintf(err, errlen, "at the end: %s", what);
	one_line(err);
	return -1;
}

const char *where_op_text(enum where_op op)
{
	static const char *const t[] = { "=", "!=", "<", "<=", ">", ">=" };

	return t[op];
}

/* ---- exact decimals ---------------------------------------------------------------------- */

int where_dec_parse(const char *s, struct where_dec *d)
{
	char tmp[2048];
	size_t n = 0, i, lead;
	long exp10 = 0, e = 0;
	int intdig = 0, sign = 1;
	bool any = false;
	const char *p = s;
	char *end;
	double check;

	memset(d, 0, sizeof(*d));
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (; isdigit((unsigned char)*p); p++, intdig++, any = true)
		if (n < sizeof(tmp))
			tmp[n++] = *p;
		else
			return -1;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, any = true)
			if (n < sizeof(tmp))
				tmp[n++] = *p;
			else
				return -1;
	}
	if (!any)
		return -1;
	if (*p == 'e' || *p == 'E') {
		int esign = 1;

		p++;
		if (*p == '+' || *p == '-')
			esign = *p++ == '-' ? -1 : 1;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++)
			if (e < 1000000)
				e = e * 10 + (*p - '0');
		e *= esign;
	}
	if (*p)
		return -1;
	/* the range of a double: what a stored metric can be (1e400 is refused, not infinity) */
	errno = 0;
	check = strtod(s, &end);
	if (errno == ERANGE || isinf(check))
		return -2;
	for (lead = 0; lead < n && tmp[lead] == '0'; lead++)
		;
	exp10 = intdig - (long)lead + e;
	while (n > lead && tmp[n - 1] == '0')
		n--;
	if (n == lead) {
		d->sign = 0;   /* zero, of any sign and exponent */
		return 0;
	}
	if (n - lead > WHERE_DIGITS)
		return -2;
	d->sign = sign;
	d->exp = (int)exp10;
	d->ndig = n - lead;
	for (i = 0; i < d->ndig; i++)
		d->dig[i] = tmp[lead + i];
	return 0;
}

void where_dec_of_double(double v, struct where_dec *d)
{
	char buf[1600];

	/* glibc prints a double's exact binary value in decimal: 1074 places reach the least
	 * subnormal; the integer part has at most 309 digits */
	snprintf(buf, sizeof(buf), "%.1074f", v);
	if (where_dec_parse(buf, d))
		memset(d, 0, sizeof(*d));   /* not reached for a finite double */
}

int where_dec_cmp(const struct where_dec *a, const struct where_dec *b)
{
	size_t i, n;
	int mag;

	if (a->sign != b->sign)
		return a->sign < b->sign ? -1 : 1;
	if (!a->sign)
		return 0;
	if (a->exp != b->exp) {
		mag = a->exp < b->exp ? -1 : 1;
	} else {
		n = a->ndig < b->ndig ? a->ndig : b->ndig;
		for (i = 0, mag = 0; i < n && !mag; i++)
			mag = a->dig[i] < b->dig[i] ? -1 : a->dig[i] > b->dig[i];
		if (!mag && a->ndig != b->ndig)
			mag = a->ndig < b->ndig ? -1 : 1;
	}
	return a->sign * mag;
}

/* ---- parsing ------------------------------------------------------------------------------ */

static bool is_op_char(int c) { return c == '=' || c == '!' || c == '<' || c == '>'; }

static void dec_of_u64(uint64_t v, struct where_dec *d)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	where_dec_parse(buf, d);
}

/* The NUMBER forms of VALUE (where.h): 0 and *d, 1 not a number (a word), -1 with a message. */
static int value_number(const struct where_cond *c, const char *text, const char *at,
			struct where_dec *d, char *err, size_t errlen)
{
	enum param_unit unit = param_unit_of(c->name);
	uint64_t v;
	int rc;

	rc = where_dec_parse(c->value, d);
	if (rc == 0)
		return 0;
	if (rc == -2)
		return fail(err, errlen, text, at, "%s is out of range (beyond a double's "
			    "+-1.8e308, or too small or long to compare)", c->value);
	if (!isdigit((unsigned char)c->value[0]))
		return 1;
	rc = param_parse_value(c->value, unit, &v);
	if (rc == 0) {
		dec_of_u64(v, d);
		return 0;
	}
	if (rc == PARAM_ESYNTAX)
		return 1;   /* 0123abcd...: a digest, a word */
	return fail(err, errlen, text, at, "%s %s", c->value, param_value_error(rc, unit));
}

int where_parse(const char *text, struct where_cond *c, char *err, size_t errlen)
{
	const char *p = text, *s, *vstart;
	size_t n;
	int rc;

	memset(c, 0, sizeof(*c));
	while (isspace((unsigned char)*p))
		p++;
	s = p;
	if (!isalpha((unsigned char)*p) && *p != '_')
		return fail(err, errlen, text, p, "expected a parameter, metric or column name");
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	n = (size_t)(p - s);
	if (n >= sizeof(c->name))
		return fail(err, errlen, text, s, "a name longer than %zu characters",
			    sizeof(c->name) - 1);
	memcpy(c->name, s, n);
	while (isspace((unsigned char)*p))
		p++;
	s = p;
	if (p[0] == '=' && p[1] == '=')
		c->op = WHERE_EQ, p += 2;
	else if (p[0] == '!' && p[1] == '=')
		c->op = WHERE_NE, p += 2;
	else if (p[0] == '<' && p[1] == '=')
		c->op = WHERE_LE, p += 2;
	else if (p[0] == '>' && p[1] == '=')
		c->op = WHERE_GE, p += 2;
	else if (p[0] == '=')
		c->op = WHERE_EQ, p++;
	else if (p[0] == '<')
		c->op = WHERE_LT, p++;
	else if (p[0] == '>')
		c->op = WHERE_GT, p++;
	else
		return fail(err, errlen, text, p, "expected an operator (= != < <= > >=) after %s",
			    c->name);
	while (isspace((unsigned char)*p))
		p++;
	vstart = p;
	if (*p == '\'' || *p == '"') {
		/* as in SQL, the quote doubled inside the text stands for itself: 'it''s' */
		const char q = *p++;

		n = 0;
		for (;;) {
			if (!*p)
				return fail(err, errlen, text, vstart, "a quote that is not closed");
			if (*p == q && p[1] != q)
				break;
			if (*p == q)
				p++;
			if (n + 1 >= sizeof(c->value))
				return fail(err, errlen, text, vstart,
					    "a value longer than %zu characters",
					    sizeof(c->value) - 1);
			c->value[n++] = *p++;
		}
		p++;
		c->is_num = false;   /* quoted: text, even "16" */
	} else {
		s = p;
		while (*p && !isspace((unsigned char)*p) && *p != '\'' && *p != '"' &&
		       !is_op_char((unsigned char)*p))
			p++;
		n = (size_t)(p - s);
		if (!n)
			return fail(err, errlen, text, p, "expected a value after %s%s", c->name,
				    where_op_text(c->op));
		if (n >= sizeof(c->value))
			return fail(err, errlen, text, s, "a value longer than %zu characters",
				    sizeof(c->value) - 1);
		memcpy(c->value, s, n);
		rc = value_number(c, text, vstart, &c->num, err, errlen);
		if (rc < 0)
			return -1;
		c->is_num = rc == 0;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p)
		return fail(err, errlen, text, p, "unexpected text after the value (one condition "
			    "per --where: repeat --where for each, all must hold)");
	if (c->op >= WHERE_LT && !c->is_num)
		return fail(err, errlen, text, vstart, "%s compares numbers, and '%s' is not one",
			    where_op_text(c->op), c->value);
	return 0;
}

/* ---- matching ----------------------------------------------------------------------------- */

static int outcome(enum where_op op, int cmp)
{
	switch (op) {
	case WHERE_EQ: return cmp == 0;
	case WHERE_NE: return cmp != 0;
	case WHERE_LT: return cmp < 0;
	case WHERE_LE: return cmp <= 0;
	case WHERE_GT: return cmp > 0;
	default: return cmp >= 0;
	}
}

int where_match_text(const struct where_cond *c, const char *stored, bool text_only,
		     char *err, size_t errlen)
{
	struct where_dec d;

	if (c->is_num && !text_only && where_dec_parse(stored, &d) == 0)
		return outcome(c->op, where_dec_cmp(&d, &c->num));
	if (c->op >= WHERE_LT) {
		snprintf(err, errlen, "%s is '%.64s', not a number: %s compares numbers", c->name,
			 stored, where_op_text(c->op));
		one_line(err);
		return -1;
	}
	return outcome(c->op, strcmp(stored, c->value) != 0);
}

int where_match_double(const struct where_cond *c, double v, char *err, size_t errlen)
{
	struct where_dec d;

	if (!isfinite(v)) {
		snprintf(err, errlen, "%s is %s, which compares with nothing", c->name,
			 isnan(v) ? "NaN" : "infinite");
		return -1;
	}
	if (!c->is_num)
		return outcome(c->op, 1);   /* a number is never equal to a word */
	where_dec_of_double(v, &d);
	return outcome(c->op, where_dec_cmp(&d, &c->num));
}

int where_match_int(const struct where_cond *c, int64_t v, char *err, size_t errlen)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return where_match_text(c, buf, false, err, errlen);
}
