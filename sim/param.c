/* SPDX-License-Identifier: MIT */
/* sim/param.c — named parameters (see param.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"

void param_set_init(struct param_set *ps) { memset(ps, 0, sizeof(*ps)); }

void param_set_add(struct param_set *ps, const char *group, const struct param_def *defs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ps->n == PARAM_SET_MAX || param_find(ps, defs[i].name) >= 0)
			abort();   /* a programming error: tables are static */
		ps->defs[ps->n] = defs[i];
		ps->group[ps->n] = group;
		ps->values[ps->n] = defs[i].def;
		ps->n++;
	}
}

void param_set_add_model(struct param_set *ps, const char *group, const struct model_param *mp,
			 size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct param_def d = {
			.name = mp[i].name, .kind = PARAM_INT, .def = mp[i].def,
			.min = mp[i].min, .max = mp[i].max, .doc = mp[i].doc,
		};
		param_set_add(ps, group, &d, 1);
	}
}

int param_find(const struct param_set *ps, const char *name)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (!strcmp(ps->defs[i].name, name))
			return (int)i;
	return -1;
}

uint64_t param_get(const struct param_set *ps, const char *name)
{
	int i = param_find(ps, name);

	if (i < 0) {
		fprintf(stderr, "memsim: internal error: no parameter '%s'\n", name);
		abort();
	}
	return ps->values[i];
}

enum param_unit param_unit_of(const char *name)
{
	size_t n = strlen(name);

	if (n > 3 && !strcmp(name + n - 3, "_ns"))
		return PARAM_UNIT_NS;
	if (n > 3 && !strcmp(name + n - 3, "_ms"))
		return PARAM_UNIT_MS;
	return PARAM_UNIT_NONE;
}

int param_parse_value(const char *s, enum param_unit unit, uint64_t *v)
{
	static const struct {
		const char *suffix;
		uint64_t mul;
		bool time;     /* ns in a time suffix; else a plain multiplier */
	} sfx[] = {
		{ "", 1, false }, { "k", 1000ULL, false }, { "K", 1000ULL, false },
		{ "M", 1000000ULL, false }, { "G", 1000000000ULL, false },
		{ "Ki", 1ULL << 10, false }, { "Mi", 1ULL << 20, false }, { "Gi", 1ULL << 30, false },
		{ "Ti", 1ULL << 40, false }, { "ns", 1, true }, { "us", 1000ULL, true },
		{ "ms", 1000000ULL, true }, { "s", 1000000000ULL, true },
	};
	char *end;
	uint64_t x;
	size_t i;

	if (!isdigit((unsigned char)*s))
		return PARAM_ESYNTAX;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno)
		return PARAM_ERANGE;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcmp(end, sfx[i].suffix))
			continue;
		if (sfx[i].time && unit == PARAM_UNIT_NONE)
			return PARAM_EUNIT;
		if (__builtin_mul_overflow(x, sfx[i].mul, v))
			return PARAM_ERANGE;
		if (sfx[i].time && unit == PARAM_UNIT_MS) {
			if (*v % 1000000)
				return PARAM_EWHOLE;
			*v /= 1000000;
		}
		return 0;
	}
	return PARAM_ESYNTAX;
}

int param_parse_u64(const char *s, uint64_t *v)
{
	return param_parse_value(s, PARAM_UNIT_NONE, v) ? -1 : 0;
}

const char *param_value_error(int rc, enum param_unit unit)
{
	switch (rc) {
	case PARAM_EUNIT:
		return "has a time suffix (ns us ms s), accepted only by a time parameter (a name "
		       "ending in _ns or _ms); this one is a plain number";
	case PARAM_EWHOLE:
		return "is not a whole number of milliseconds (the parameter's unit)";
	case PARAM_ERANGE:
		return "is too large for 64 bits";
	default:
		return unit == PARAM_UNIT_NONE ?
		       "is not an integer (non-negative; suffixes k M G Ki Mi Gi Ti)" :
		       "is not an integer (non-negative; suffixes k M G Ki Mi Gi Ti, ns us ms s)";
	}
}

int param_set_assign(struct param_set *ps, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	char name[128];
	int i;
	const struct param_def *d;
	uint64_t v;

	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(name)) {
		snprintf(err, errlen, "--set %s: expected NAME=VALUE", kv);
		return -1;
	}
	memcpy(name, kv, (size_t)(eq - kv));
	name[eq - kv] = 0;
	if ((i = param_find(ps, name)) < 0) {
		size_t j, off;

		off = (size_t)snprintf(err, errlen, "--set %s: unknown parameter '%s'; known:", kv, name);
		for (j = 0; j < ps->n && off < errlen; j++)
			off += (size_t)snprintf(err + off, errlen - off, " %s", ps->defs[j].name);
		return -1;
	}
	d = &ps->defs[i];
	if (ps->explicit_set[i]) {
		/* the last would silently win: ask for one value */
		snprintf(err, errlen, "--set %s: %s is given twice (--set each parameter once)",
			 kv, name);
		return -1;
	}
	if (d->kind == PARAM_CHOICE) {
		for (v = 0; d->choices[v]; v++)
			if (!strcmp(d->choices[v], eq + 1))
				break;
		if (!d->choices[v]) {
			size_t off = (size_t)snprintf(err, errlen, "--set %s: '%s' is not one of:", kv, eq + 1);

			for (v = 0; d->choices[v] && off < errlen; v++)
				off += (size_t)snprintf(err + off, errlen - off, " %s", d->choices[v]);
			return -1;
		}
	} else {
		enum param_unit unit = param_unit_of(name);
		int rc = param_parse_value(eq + 1, unit, &v);

		if (rc) {
			snprintf(err, errlen, "--set %s: '%s' %s", kv, eq + 1,
				 param_value_error(rc, unit));
			return -1;
		}
		if (v < d->min || v > d->max) {
			snprintf(err, errlen, "--set %s: %s must be in [%" PRIu64 ", %" PRIu64 "]",
				 kv, name, d->min, d->max);
			return -1;
		}
	}
	ps->values[i] = v;
	ps->explicit_set[i] = true;
	return 0;
}

void param_value_text(const struct param_set *ps, size_t i, char *buf, size_t len)
{
	if (ps->defs[i].kind == PARAM_CHOICE)
		snprintf(buf, len, "%s", ps->defs[i].choices[ps->values[i]]);
	else
		snprintf(buf, len, "%" PRIu64, ps->values[i]);
}

void param_print_help(const struct param_set *ps, FILE *out)
{
	size_t i;
	char buf[64];

	for (i = 0; i < ps->n; i++) {
		const struct param_def *d = &ps->defs[i];

		param_value_text(ps, i, buf, sizeof(buf));
		fprintf(out, "  %-8s %-20s default %-12s %s", ps->group[i], d->name, buf, d->doc);
		if (d->kind == PARAM_CHOICE) {
			unsigned c;

			fprintf(out, " (");
			for (c = 0; d->choices[c]; c++)
				fprintf(out, "%s%s", c ? "|" : "", d->choices[c]);
			fprintf(out, ")");
		} else {
			fprintf(out, " [%" PRIu64 "..%" PRIu64 "]", d->min, d->max);
		}
		fputc('\n', out);
	}
}

void param_write_json(const struct param_set *ps, FILE *out)
{
	size_t i;

	fputc('{', out);
	for (i = 0; i < ps->n; i++) {
		if (ps->defs[i].kind == PARAM_CHOICE)
			fprintf(out, "%s\"%s\":\"%s\"", i ? "," : "", ps->defs[i].name,
				ps->defs[i].choices[ps->values[i]]);
		else
			fprintf(out, "%s\"%s\":%" PRIu64, i ? "," : "", ps->defs[i].name, ps->values[i]);
	}
	fputc('}', out);
}
