/* SPDX-License-Identifier: MIT */
/*
 * sim/profile.h — cost profiles: nanoseconds per work unit, optionally per footprint tier.
 *
 * File format (docs/cost-profiles.md):
 *     # comment
 *     name   seed-2012
 *     meta   KEY free text...          (provenance: source, cpu, kernel, counters, date)
 *     cost   UNIT NS [upto BYTES]      (tiers in increasing BYTES; the last line without
 *                                       `upto` covers everything larger)
 * Costs are held as integer picoseconds so that converting work to time is exact integer
 * arithmetic: the same work gives the same nanoseconds on every machine.
 */
#ifndef MEMSIM_SIM_PROFILE_H
#define MEMSIM_SIM_PROFILE_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include "model.h"

/*
 * The most a profile may charge, in ps: for any one unit, and for one unit of each kind
 * together (the dearest tier of each, summed).  1 s: then any operation of up to 2^24 work
 * units (a 64 GiB domain's pages) is priced within 2^64 ps; larger ones are checked at run
 * time (sim/sim.h).  Profiles beyond it are refused when loaded (docs/cost-profiles.md).
 */
#define PROFILE_MAX_COST_PS 1000000000000ULL
#define PROFILE_MAX_OP_UNITS (1ULL << 24)

#define PROFILE_MAX_TIERS 8
#define PROFILE_MAX_META 16

struct cost_tier {
	uint64_t upto_bytes;   /* UINT64_MAX for the last tier */
	uint64_t ps;           /* picoseconds per unit */
};

struct cost_profile {
	char name[64];
	char source[256];      /* file path or "builtin" */
	struct {
		char key[32];
		char value[192];
	} meta[PROFILE_MAX_META];
	unsigned nmeta;
	struct cost_tier tiers[WU__COUNT][PROFILE_MAX_TIERS];
	unsigned ntiers[WU__COUNT];   /* 0: unit has no cost line, counts as 0 ns */
	uint64_t digest;              /* of the canonical text (name, meta, costs) */
};

/* Loads NAME: a built-in profile name, or a file path.  0, or -1 with "FILE:LINE: ..." */
int profile_load(const char *name_or_path, struct cost_profile *p, char *err, size_t errlen);
/* Parses profile text (`origin` names it in messages). */
int profile_parse(const char *text, const char *origin, struct cost_profile *p,
		  char *err, size_t errlen);
/*
 * Picoseconds for the work, each unit priced at the tier of w->footprint_bytes: 0, or -1 if
 * the total does not fit in 64 bits (*ps = UINT64_MAX, *unit = the unit whose term overflowed).
 */
int profile_price_ps(const struct cost_profile *p, const struct work *w, uint64_t *ps, int *unit);
/* The same, saturating at UINT64_MAX (for estimates; the simulator uses sim_work_ps()). */
uint64_t profile_cost_ps(const struct cost_profile *p, const struct work *w);
/* Picoseconds of one unit at the tier of a footprint of that many bytes. */
uint64_t profile_unit_ps(const struct cost_profile *p, unsigned unit, uint64_t footprint);
/* Writes the canonical text form (what the digest covers). */
void profile_write(const struct cost_profile *p, FILE *out);
/* Names of the built-in profiles, NULL-terminated. */
const char *const *profile_builtin_names(void);
/* Adds or replaces a meta line (used by calibration). */
void profile_set_meta(struct cost_profile *p, const char *key, const char *value);

#endif
