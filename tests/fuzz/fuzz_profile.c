/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_profile.c — libFuzzer target for the cost-profile parser (sim/profile.c).
 *
 * The input is profile text, given to profile_parse(), the entry point profile_load() calls
 * with a file's contents.  Beyond "no crash, no sanitizer report", it traps when:
 *  - an error message is empty, spans more than one line, or does not name the origin;
 *  - an accepted profile breaks a rule of docs/cost-profiles.md: no name, a cost above
 *    PROFILE_MAX_COST_PS or costs of one unit of each kind above it in all, tiers not in
 *    increasing `upto`, a unit with tiers but no last one (upto = UINT64_MAX);
 *  - the documented guarantee fails: PROFILE_MAX_OP_UNITS units, of one unit or of all of
 *    them, at any footprint, do not price within 2^64 ps;
 *  - the canonical text (profile_write) does not parse back to the same profile (digest).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *err)
{
	if (!err[0] || strchr(err, '\n') || strncmp(err, "fuzz", 4))
		__builtin_trap();
}

static void check_prices(const struct cost_profile *p)
{
	static const uint64_t footprints[] = { 0, 4096, 1ULL << 40, UINT64_MAX };
	struct work w;
	uint64_t ps;
	unsigned u, f;
	int unit;

	for (f = 0; f < sizeof(footprints) / sizeof(footprints[0]); f++) {
		for (u = 0; u < WU__COUNT; u++) {
			work_reset(&w);
			w.footprint_bytes = footprints[f];
			w.n[u] = PROFILE_MAX_OP_UNITS;
			if (profile_price_ps(p, &w, &ps, &unit))
				__builtin_trap();
		}
		work_reset(&w);
		w.footprint_bytes = footprints[f];
		for (u = 0; u < WU__COUNT; u++)
			w.n[u] = PROFILE_MAX_OP_UNITS / WU__COUNT;
		if (profile_price_ps(p, &w, &ps, &unit))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cost_profile p, q;
	char err[1024], *text, *canon = NULL;
	size_t len = 0, i;
	uint64_t worst = 0;
	unsigned u, k;
	FILE *f;

	if (size > 16384)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;   /* a NUL inside ends the text, as a C string */
	if (profile_parse(text, "fuzz", &p, err, sizeof(err))) {
		check_message(err);
		free(text);
		return 0;
	}
	if (!p.name[0])
		__builtin_trap();
	for (u = 0; u < WU__COUNT; u++) {
		uint64_t m = 0;

		if (p.ntiers[u] > PROFILE_MAX_TIERS)
			__builtin_trap();
		for (k = 0; k < p.ntiers[u]; k++) {
			if (p.tiers[u][k].ps > PROFILE_MAX_COST_PS)
				__builtin_trap();
			if (k && p.tiers[u][k].upto_bytes <= p.tiers[u][k - 1].upto_bytes)
				__builtin_trap();
			m = p.tiers[u][k].ps > m ? p.tiers[u][k].ps : m;
		}
		if (p.ntiers[u] && p.tiers[u][p.ntiers[u] - 1].upto_bytes != UINT64_MAX)
			__builtin_trap();
		worst += m;
	}
	if (worst > PROFILE_MAX_COST_PS)
		__builtin_trap();
	check_prices(&p);
	f = open_memstream(&canon, &len);
	if (f) {
		profile_write(&p, f);
		fclose(f);
		if (profile_parse(canon, "fuzz-canon", &q, err, sizeof(err)) || q.digest != p.digest)
			__builtin_trap();
		for (i = 0; i < WU__COUNT; i++)
			if (q.ntiers[i] != p.ntiers[i])
				__builtin_trap();
		free(canon);
	}
	free(text);
	return 0;
}
