/* SPDX-License-Identifier: MIT */
/*
 * sim/memlimit.h — how much memory a run may use (--max-mem) and the check of a scenario's
 * estimate against it before the run starts.
 *
 * The limit bounds the bytes the models hold (env_alloc accounting, sim/env_user.h); the
 * engine's own queue and the driver's bookkeeping come on top and are small next to it.
 * Default: 3/4 of the smaller of MemAvailable (/proc/meminfo) and the address-space limit
 * (RLIMIT_AS, `ulimit -v`), divided among a sweep's parallel jobs; neither known: no limit.
 */
#ifndef MEMSIM_SIM_MEMLIMIT_H
#define MEMSIM_SIM_MEMLIMIT_H

#include <stddef.h>
#include <stdint.h>

/* An estimate above this (128 TiB, the user address space of a 4-level x86-64 or arm64
 * process) cannot run on any machine: the parameters are impossible, not the machine small. */
#define MEMLIMIT_ADDRESSABLE (1ULL << 47)

/* The default limit for `jobs` parallel runs; `how` says where it comes from.  0: none. */
uint64_t memlimit_default(unsigned jobs, char *how, size_t howlen);
/* MemAvailable of a /proc/meminfo text, in bytes; 0 if absent or malformed. */
uint64_t memlimit_meminfo_available(const char *text);
/* SIZE: an integer with an optional suffix k M G T (10^3..) or Ki Mi Gi Ti (2^10..), an
 * optional trailing B; 0 means no limit.  0 or -1. */
int memlimit_parse(const char *s, uint64_t *bytes);

#endif
