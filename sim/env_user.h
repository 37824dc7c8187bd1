/* SPDX-License-Identifier: MIT */
/*
 * sim/env_user.h — userspace side of models/env.h: allocation fault injection for tests.
 *
 * env_fail_after(n): the next n allocations succeed, every one after fails, until
 * env_fail_reset().  env_fail_every(k): every k-th allocation fails (k = 0 disables).
 * The state is per thread, so parallel test threads do not disturb each other.
 */
#ifndef MEMSIM_SIM_ENV_USER_H
#define MEMSIM_SIM_ENV_USER_H

#include <stdint.h>

void env_fail_after(uint64_t n);
void env_fail_every(uint64_t k);
void env_fail_reset(void);
uint64_t env_alloc_failures(void);   /* allocations refused since the last reset */

#endif
