/* SPDX-License-Identifier: MIT */
/* sim/hash.h — 64-bit digests used for provenance (config, profile, event stream).
 * Byte-order and machine independent: the same input gives the same digest everywhere. */
#ifndef MEMSIM_SIM_HASH_H
#define MEMSIM_SIM_HASH_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "env.h"

/* FNV-1a over bytes, finished with a mixer so nearby inputs spread. */
static inline uint64_t hash_bytes(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;
	size_t i;

	if (!h)
		h = 0xcbf29ce484222325ULL;
	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static inline uint64_t hash_str(const char *s) { return env_mix64(hash_bytes(s, strlen(s), 0)); }

/* Folds one 64-bit word into a running digest (order-sensitive). */
static inline uint64_t hash_fold(uint64_t h, uint64_t v)
{
	return env_mix64(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}

#endif
