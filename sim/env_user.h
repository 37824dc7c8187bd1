/* SPDX-License-Identifier: MIT */
/*
 * sim/env_user.h — userspace side of models/env.h: allocation accounting, the run's memory
 * limit, modelled allocation failure, and fault injection for tests.
 *
 * Two kinds of allocation failure, kept apart because only one of them is part of a result:
 *
 *   modelled  the hypervisor the model stands for runs out of memory: the seeds' -ENOMEM
 *             paths.  Injected on purpose, deterministically: by a run's alloc_fail_ppm
 *             parameter (seeded from the run seed, so part of the configuration) or by the
 *             test hooks env_fail_after()/env_fail_every().  The model degrades and counts.
 *   host      the simulator itself cannot have the memory (malloc returned NULL, or the run's
 *             --max-mem cap was reached).  A result computed after that would depend on the
 *             machine, so the failure is recorded in the run: env_run_failed() turns true, the
 *             engine stops at the next record or event and the run fails (nothing stored).
 *
 * The state is per thread, so parallel test threads do not disturb each other.
 */
#ifndef MEMSIM_SIM_ENV_USER_H
#define MEMSIM_SIM_ENV_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- test fault injection (modelled failures outside a run) ---- */
/* env_fail_after(n): the next n allocations succeed, every one after fails, until
 * env_fail_reset().  env_fail_every(k): every k-th allocation fails (k = 0 disables). */
void env_fail_after(uint64_t n);
void env_fail_every(uint64_t k);
void env_fail_reset(void);
uint64_t env_alloc_failures(void);   /* allocations refused since the last reset */

/* ---- a run ---- */
struct env_run_limits {
	uint64_t fail_seed;     /* stream of the modelled failures (derived from the run seed) */
	uint32_t fail_ppm;      /* modelled failures per million allocations (0: none) */
	uint64_t max_bytes;     /* cap on the bytes models hold at once (0: no cap) */
};

/* Starts a run on this thread: counters to zero, limits in force until env_run_end(). */
void env_run_begin(const struct env_run_limits *l);
void env_run_end(void);
/* True once a host allocation failed or the cap was reached in this run (cheap: a load). */
bool env_run_failed(void);
/* One line saying what ran out ("" while the run is fine). */
const char *env_run_failure(void);
uint64_t env_run_modelled_failures(void);   /* failures injected by fail_ppm in this run */
uint64_t env_live_bytes(void);              /* bytes models hold now (as they account them) */
uint64_t env_run_peak_bytes(void);          /* most held at once in this run */
/* For simulator code outside models/ (drivers, the event queue): records that a host
 * allocation of `bytes` for `what` failed, so the run fails as above. */
void env_host_alloc_failed(const char *what, size_t bytes);
/* calloc() and reallocarray() for the simulator's own state: NULL also fails the run, so a
 * caller may return its error without deciding whether the result is still exact. */
void *host_calloc(const char *what, size_t n, size_t size);
void *host_reallocarray(const char *what, void *old, size_t n, size_t size);

/* "1.5 GiB", "512.0 KiB", "100 B" into buf. */
void env_format_bytes(uint64_t bytes, char *buf, size_t len);

#endif
