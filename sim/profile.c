/* SPDX-License-Identifier: MIT */
/*
 * sim/profile.c — cost profiles (format in profile.h and docs/cost-profiles.md).
 *
 * Built-in profiles:
 *   seed-2012  hand-fitted to seed 000's own figure: a destroy of 100k gfns shared onto one
 *              frame took "over 7 minutes" with the list rmap.  That destroy walks
 *              n(n+1)/2 = 5.00005e9 list nodes, so a hop must cost >= 84 ns; 85 ns gives
 *              425 s (7.08 min).  The other units are plausible 2012-era figures chosen by
 *              hand (a cache-missing pointer chase for bucket and tree nodes, ~100 ns for a
 *              xmalloc) and are documented as such; calibration replaces them.
 *   unit       every unit costs 1 ns: simulated time equals total work (for tests).
 *   seed-2013-scrub  fitted to seed 001's sync destroy of a 30 GB guest (16.0 s) and its perf
 *              split: each function's share of the 13.986 s of CPU, over 7 864 320 pages,
 *              prices the unit that stands for it (docs/cost-profiles.md).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "profile.h"
#include "util.h"

static const char seed_2012_text[] =
	"name seed-2012\n"
	"meta source hand-fitted to seed 000 (list destroy of 100k gfns on one frame > 7 min)\n"
	"meta derivation list_hop = 425 s / (n(n+1)/2 hops, n = 100000) = 85 ns; other units chosen by hand\n"
	"meta clock-based 0\n"
	"cost list_hop 85\n"
	"cost bucket_visit 85\n"
	"cost tree_node 85\n"
	"cost entry_move 20\n"
	"cost alloc 100\n"
	"cost free 60\n"
	"cost p2m_entry 10\n"
	"cost page_put 40\n"
	"cost preempt_check 5\n"
	"cost page_scrub 150\n"
	"cost lock 50\n"
	"cost refcount 20\n"
	"cost pte_test 30\n"
	"cost shadow_zap 500\n"
	"cost shadow_build 2000\n"
	"cost hypercall 1000\n"
	"cost hint_page 10\n"
	"cost page_drop 200\n"
	"cost swap_io 100000\n";

static const char unit_text[] =
	"name unit\n"
	"meta source every work unit costs 1 ns (simulated time = total work)\n"
	"meta clock-based 0\n"
	"cost list_hop 1\ncost bucket_visit 1\ncost tree_node 1\ncost entry_move 1\n"
	"cost alloc 1\ncost free 1\ncost p2m_entry 1\ncost page_put 1\ncost preempt_check 1\n"
	"cost page_scrub 1\ncost lock 1\ncost refcount 1\ncost pte_test 1\ncost shadow_zap 1\n"
	"cost shadow_build 1\ncost hypercall 1\ncost hint_page 1\ncost page_drop 1\ncost swap_io 1\n";

/* Per page: share of the perf samples x 13.986 s (user + sys) / 7864320 pages (30 GiB). */
static const char seed_2013_scrub_text[] =
	"name seed-2013-scrub\n"
	"meta source fitted to seed 001: xl destroy of a 30 GB PV guest, sync scrub, 16.014 s real, 13.976 s sys, perf profile\n"
	"meta derivation unit = perf share x 13.986 s CPU / 7864320 pages; the 5.71 % unlisted and the off-CPU time make toolstack_ns = 2826600us\n"
	"meta machine x4-4 (thread); pcpus not stated, 60 assumed\n"
	"meta clock-based 0\n"
	"cost refcount 436.778\n"       /* page_get_owner_and_reference 22.32 + get_page 2.24 */
	"cost list_hop 370.265\n"       /* relinquish_memory 20.82 (its page-list walk) */
	"cost page_put 198.204\n"       /* (put_page 20.63 + page-type 1.66) / 2 puts a page */
	"cost page_scrub 401.743\n"     /* scrub_one_page 17.10 + unmap 4.74 + map_domain_page 0.75 */
	"cost free 48.017\n"            /* free_heap_pages 1.49 + free_domheap_pages 0.42 + is_iomem 0.52 + mfn_valid 0.27 */
	"cost lock 23.653\n"            /* _spin_lock 1.06 + check_lock 0.27 (the heap lock, uncontended) */
	"cost preempt_check 0\n"        /* inside relinquish_memory's own time */
	"cost entry_move 10\n";         /* not in the seed: a list link of a page_info just touched, by hand */

static const struct {
	const char *name;
	const char *text;
} builtins[] = {
	{ "seed-2012", seed_2012_text },
	{ "unit", unit_text },
	{ "seed-2013-scrub", seed_2013_scrub_text },
};

static const char *const builtin_names[] = { "seed-2012", "unit", "seed-2013-scrub", NULL };

const char *const *profile_builtin_names(void) { return builtin_names; }

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
	unsigned i;

	for (i = 0; i < WU__COUNT; i++)
		if (!strcmp(work_unit_names[i], name))
			return (int)i;
	return -1;
}

enum { NS_OK = 0, NS_SYNTAX = -1, NS_PRECISION = -2, NS_TOO_BIG = -3 };

/*
 * Parses a non-negative decimal nanosecond figure into picoseconds, exactly (no FP): digits,
 * optionally a point and one to three more.  A fourth decimal is below the format's 1 ps
 * resolution and is refused rather than dropped; so is a cost above PROFILE_MAX_COST_PS.
 */
static int parse_ns_to_ps(const char *s, uint64_t *ps)
{
	uint64_t whole = 0, frac = 0;
	int fdigits = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return NS_SYNTAX;
	while (isdigit((unsigned char)*p)) {
		whole = whole * 10 + (uint64_t)(*p++ - '0');
		if (whole > PROFILE_MAX_COST_PS / 1000)
			return isdigit((unsigned char)*p) || *p == '.' || !*p ? NS_TOO_BIG : NS_SYNTAX;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return NS_SYNTAX;
		while (isdigit((unsigned char)*p)) {
			if (fdigits == 3)
				return NS_PRECISION;
			frac = frac * 10 + (uint64_t)(*p++ - '0');
			fdigits++;
		}
	}
	if (*p)
		return NS_SYNTAX;
	while (fdigits < 3) {
		frac *= 10;
		fdigits++;
	}
	*ps = whole * 1000 + frac;
	return *ps > PROFILE_MAX_COST_PS ? NS_TOO_BIG : NS_OK;
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

void profile_set_meta(struct cost_profile *p, const char *key, const char *value)
{
	unsigned i;

	for (i = 0; i < p->nmeta; i++)
		if (!strcmp(p->meta[i].key, key))
			break;
	if (i == p->nmeta) {
		if (p->nmeta == PROFILE_MAX_META)
			return;
		p->nmeta++;
	}
	snprintf(p->meta[i].key, sizeof(p->meta[i].key), "%s", key);
	snprintf(p->meta[i].value, sizeof(p->meta[i].value), "%s", value);
}

static void format_ps(uint64_t ps, char *buf, size_t len)
{
	if (ps % 1000 == 0)
		snprintf(buf, len, "%" PRIu64, ps / 1000);
	else
		snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, ps / 1000, ps % 1000);
}

static uint64_t profile_digest_of(const struct cost_profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	uint64_t d;

	if (!f)
		abort();
	profile_write(p, f);
	fclose(f);
	d = env_mix64(hash_bytes(buf, len, 0));
	free(buf);
	return d;
}

/* The most expensive tier of each unit, summed: what one unit of each kind can cost. */
static uint64_t worst_unit_sum(const struct cost_profile *p)
{
	uint64_t sum = 0;
	unsigned u, k;

	for (u = 0; u < WU__COUNT; u++) {
		uint64_t m = 0;

		for (k = 0; k < p->ntiers[u]; k++)
			m = p->tiers[u][k].ps > m ? p->tiers[u][k].ps : m;
		sum += m;   /* WU__COUNT terms of at most PROFILE_MAX_COST_PS: cannot wrap */
	}
	return sum;
}

int profile_parse(const char *text, const char *origin, struct cost_profile *p,
		  char *err, size_t errlen)
{
	const char *line = text;
	int lineno = 0, name_line = 0;

	memset(p, 0, sizeof(*p));
	snprintf(p->source, sizeof(p->source), "%s", origin);
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);
		char buf[512], *tok[5], *save = NULL, *t;
		int ntok = 0;

		lineno++;
		if (n >= sizeof(buf))
			return fail(err, errlen, "%s:%d: line too long", origin, lineno);
		memcpy(buf, line, n);
		buf[n] = 0;
		line = eol ? eol + 1 : line + n;
		if ((t = strchr(buf, '#')))
			*t = 0;
		if (!strncmp(buf, "meta", 4) && isspace((unsigned char)buf[4])) {
			char *k = buf + 4, *v;

			while (isspace((unsigned char)*k))
				k++;
			v = k;
			while (*v && !isspace((unsigned char)*v))
				v++;
			if (*v)
				*v++ = 0;
			while (isspace((unsigned char)*v))
				v++;
			if (!*k)
				return fail(err, errlen, "%s:%d: meta needs a key", origin, lineno);
			for (unsigned m = 0; m < p->nmeta; m++)
				if (!strcmp(p->meta[m].key, k))
					return fail(err, errlen, "%s:%d: meta %s given twice (each key once)",
						    origin, lineno, k);
			if (strlen(k) >= sizeof(p->meta[0].key) || strlen(v) >= sizeof(p->meta[0].value))
				return fail(err, errlen, "%s:%d: meta key longer than %zu or text longer "
					    "than %zu characters", origin, lineno,
					    sizeof(p->meta[0].key) - 1, sizeof(p->meta[0].value) - 1);
			if (p->nmeta == PROFILE_MAX_META)
				return fail(err, errlen, "%s:%d: more than %d meta lines", origin,
					    lineno, PROFILE_MAX_META);
			profile_set_meta(p, k, v);
			continue;
		}
		for (t = strtok_r(buf, " \t\r", &save); t && ntok < 5; t = strtok_r(NULL, " \t\r", &save))
			tok[ntok++] = t;
		if (t)
			return fail(err, errlen, "%s:%d: too many fields", origin, lineno);
		if (ntok == 0)
			continue;
		if (!strcmp(tok[0], "name")) {
			if (ntok != 2 || strlen(tok[1]) >= sizeof(p->name))
				return fail(err, errlen, "%s:%d: expected 'name NAME'", origin, lineno);
			if (name_line)
				return fail(err, errlen, "%s:%d: a second 'name' line (the first is line %d)",
					    origin, lineno, name_line);
			name_line = lineno;
			snprintf(p->name, sizeof(p->name), "%s", tok[1]);
		} else if (!strcmp(tok[0], "cost")) {
			int u;
			uint64_t ps, upto = UINT64_MAX;
			unsigned k;

			if (ntok != 3 && !(ntok == 5 && !strcmp(tok[3], "upto")))
				return fail(err, errlen, "%s:%d: expected 'cost UNIT NS [upto BYTES]'",
					    origin, lineno);
			if ((u = unit_index(tok[1])) < 0)
				return fail(err, errlen, "%s:%d: unknown work unit '%s'", origin,
					    lineno, tok[1]);
			switch (parse_ns_to_ps(tok[2], &ps)) {
			case NS_OK:
				break;
			case NS_PRECISION:
				return fail(err, errlen, "%s:%d: '%s' has more than 3 decimals: costs are "
					    "whole picoseconds (e.g. 85.001)", origin, lineno, tok[2]);
			case NS_TOO_BIG:
				return fail(err, errlen, "%s:%d: cost %s ns is above the largest a unit may "
					    "cost, %" PRIu64 " ns (1 s; docs/cost-profiles.md)", origin,
					    lineno, tok[2], PROFILE_MAX_COST_PS / 1000);
			default:
				return fail(err, errlen, "%s:%d: '%s' is not a cost in ns (e.g. 85 or 2.5)",
					    origin, lineno, tok[2]);
			}
			if (ntok == 5 && (parse_u64(tok[4], &upto) || upto == UINT64_MAX))
				return fail(err, errlen, "%s:%d: '%s' is not a size in bytes", origin,
					    lineno, tok[4]);
			k = p->ntiers[u];
			if (k && p->tiers[u][k - 1].upto_bytes == UINT64_MAX)
				return fail(err, errlen, "%s:%d: %s already has its last tier (a line without 'upto')",
					    origin, lineno, tok[1]);
			if (k && upto <= p->tiers[u][k - 1].upto_bytes)
				return fail(err, errlen, "%s:%d: tiers of %s must have increasing 'upto'",
					    origin, lineno, tok[1]);
			if (k == PROFILE_MAX_TIERS)
				return fail(err, errlen, "%s:%d: more than %d tiers for %s", origin,
					    lineno, PROFILE_MAX_TIERS, tok[1]);
			p->tiers[u][k].upto_bytes = upto;
			p->tiers[u][k].ps = ps;
			p->ntiers[u] = k + 1;
			if (worst_unit_sum(p) > PROFILE_MAX_COST_PS)
				return fail(err, errlen, "%s:%d: with this line one unit of each kind costs "
					    "more than %" PRIu64 " ns (1 s) in all (docs/cost-profiles.md)",
					    origin, lineno, PROFILE_MAX_COST_PS / 1000);
		} else {
			return fail(err, errlen, "%s:%d: unknown keyword '%s' (name, meta, cost)",
				    origin, lineno, tok[0]);
		}
	}
	if (!p->name[0])
		return fail(err, errlen, "%s: no 'name' line", origin);
	for (unsigned u = 0; u < WU__COUNT; u++) {
		unsigned k = p->ntiers[u];

		if (k && p->tiers[u][k - 1].upto_bytes != UINT64_MAX)
			return fail(err, errlen, "%s: %s has tiers but no last tier (a line without 'upto')",
				    origin, work_unit_names[u]);
	}
	p->digest = profile_digest_of(p);
	return 0;
}

int profile_load(const char *name_or_path, struct cost_profile *p, char *err, size_t errlen)
{
	char *text, why[512];
	size_t len;
	int rc, e;
	size_t i;

	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (!strcmp(builtins[i].name, name_or_path))
			return profile_parse(builtins[i].text, "builtin", p, err, errlen);
	/* a regular file of at most 1 MiB, read once: a FIFO or a device is refused at once */
	text = read_input_file(name_or_path, INPUT_FILE_MAX, &len, &e, why, sizeof(why));
	if (!text && e == ENOENT)
		return fail(err, errlen, "%s: %s (not a file, and not a built-in profile: seed-2012, unit, seed-2013-scrub)",
			    name_or_path, strerror(e));
	if (!text)
		return fail(err, errlen, "%s: not a readable profile", why);
	if (strlen(text) != len) {
		free(text);
		return fail(err, errlen, "%s: contains a NUL byte: not a profile", name_or_path);
	}
	rc = profile_parse(text, name_or_path, p, err, errlen);
	free(text);
	return rc;
}

int profile_price_ps(const struct cost_profile *p, const struct work *w, uint64_t *ps, int *unit)
{
	uint64_t total = 0, term;
	unsigned u, k;
	bool ovf = false;

	/* hot: the unit to blame is found again only on failure */
	for (u = 0; u < WU__COUNT; u++) {
		if (!w->n[u] || !p->ntiers[u])
			continue;
		for (k = 0; k + 1 < p->ntiers[u] && w->footprint_bytes > p->tiers[u][k].upto_bytes; k++)
			;
		if (__builtin_mul_overflow(w->n[u], p->tiers[u][k].ps, &term) ||
		    __builtin_add_overflow(total, term, &total)) {
			ovf = true;
			break;
		}
	}
	/* a total of 2^64 - 1 ps is taken as an overflow too: a saturated count (work_add)
	 * priced at 1 ps comes out exactly there */
	if (__builtin_expect(!ovf && total != UINT64_MAX, 1)) {
		*ps = total;
		return 0;
	}
	*ps = UINT64_MAX;
	*unit = 0;
	for (u = 0, total = 0; u < WU__COUNT; u++) {
		uint64_t c = profile_unit_ps(p, u, w->footprint_bytes);

		if (!w->n[u] || !c)
			continue;
		*unit = (int)u;
		if (__builtin_mul_overflow(w->n[u], c, &term) || term == UINT64_MAX ||
		    __builtin_add_overflow(total, term, &total) || total == UINT64_MAX)
			break;
	}
	return -1;
}

uint64_t profile_cost_ps(const struct cost_profile *p, const struct work *w)
{
	uint64_t ps;
	int unit;

	profile_price_ps(p, w, &ps, &unit);
	return ps;
}

/* The cost of one unit at the tier of footprint (as profile_price_ps picks it). */
uint64_t profile_unit_ps(const struct cost_profile *p, unsigned unit, uint64_t footprint)
{
	unsigned k;

	if (unit >= WU__COUNT || !p->ntiers[unit])
		return 0;
	for (k = 0; k + 1 < p->ntiers[unit] && footprint > p->tiers[unit][k].upto_bytes; k++)
		;
	return p->tiers[unit][k].ps;
}

void profile_write(const struct cost_profile *p, FILE *out)
{
	unsigned u, k, i;
	char buf[32];

	fprintf(out, "name %s\n", p->name);
	for (i = 0; i < p->nmeta; i++)
		fprintf(out, "meta %s %s\n", p->meta[i].key, p->meta[i].value);
	for (u = 0; u < WU__COUNT; u++) {
		for (k = 0; k < p->ntiers[u]; k++) {
			format_ps(p->tiers[u][k].ps, buf, sizeof(buf));
			if (p->tiers[u][k].upto_bytes == UINT64_MAX)
				fprintf(out, "cost %s %s\n", work_unit_names[u], buf);
			else
				fprintf(out, "cost %s %s upto %" PRIu64 "\n", work_unit_names[u], buf,
					p->tiers[u][k].upto_bytes);
		}
	}
}
