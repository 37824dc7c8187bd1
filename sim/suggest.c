/* SPDX-License-Identifier: MIT */
/* sim/suggest.c — "did you mean": the nearest known name to a mistyped one. */
#include <string.h>

#include "suggest.h"

#define SUGGEST_MAXLEN 64   /* names longer than this are never typos of ours */

unsigned suggest_distance(const char *a, const char *b, unsigned cap)
{
	/* Three rolling rows of the optimal-string-alignment table. */
	unsigned rows[3][SUGGEST_MAXLEN + 1];
	unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *t;
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la > SUGGEST_MAXLEN || lb > SUGGEST_MAXLEN)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		unsigned rowmin;

		cur[0] = (unsigned)i;
		rowmin = cur[0];
		for (j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned v = prev[j - 1] + cost;

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			if (v < rowmin)
				rowmin = v;
		}
		if (rowmin > cap)       /* every path already costs more than we accept */
			return cap + 1;
		t = prev2; prev2 = prev; prev = cur; cur = t;
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}

static const char *table_name(const void *table, size_t i, size_t stride)
{
	const char *const *name = (const char *const *)((const char *)table + i * stride);

	return *name;
}

const char *suggest_closest_in(const char *word, const void *table, size_t count, size_t stride)
{
	const char *best = NULL, *prefix_of = NULL;
	size_t wl = strlen(word);
	unsigned cap = wl <= 4 ? 1 : 2, best_d = cap + 1;
	int nprefix = 0;
	size_t i;

	if (!wl)
		return NULL;
	for (i = 0; i < count; i++) {
		const char *c = table_name(table, i, stride);
		unsigned d = suggest_distance(word, c, cap);

		if (d < best_d) {
			best_d = d;
			best = c;
		}
		if (!strncmp(c, word, wl)) {
			nprefix++;
			prefix_of = c;
		}
	}
	if (best)
		return best;
	return nprefix == 1 ? prefix_of : NULL;
}

const char *suggest_closest(const char *word, const char *const *cands)
{
	size_t n = 0;

	while (cands[n])
		n++;
	return suggest_closest_in(word, cands, n, sizeof(*cands));
}
