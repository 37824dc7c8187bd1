/* SPDX-License-Identifier: MIT */
/*
 * sim/suggest.h — "did you mean" for mistyped command, sub-command and option names.
 */
#ifndef MEMSIM_SIM_SUGGEST_H
#define MEMSIM_SIM_SUGGEST_H

#include <stddef.h>

/*
 * The candidate closest to word by edit distance (insert, delete, substitute, swap of two
 * neighbours), or NULL when none is close enough to be a plausible typo: at most 1 edit for
 * words of up to 4 characters, 2 for longer ones.  A word that is a prefix of exactly one
 * candidate also suggests it.  Ties go to the earlier candidate, so the answer is stable.
 * cands is NULL-terminated.
 */
const char *suggest_closest(const char *word, const char *const *cands);

/*
 * The same over a table of structs whose first member is the name (const char *): count
 * entries of size stride, as command tables are laid out.
 */
const char *suggest_closest_in(const char *word, const void *table, size_t count, size_t stride);

/* Damerau-Levenshtein (optimal string alignment) distance, capped at cap + 1. */
unsigned suggest_distance(const char *a, const char *b, unsigned cap);

#endif
