// SPDX-License-Identifier: MIT
/*
 * hw-validate/user/msk_env.c — models/env.h for memsim-user: what kmod/env_kernel.c is to the
 * module, with malloc instead of kvmalloc.  Every byte the models hold is accounted (env_free
 * is told the size), a request cannot hold more than its budget (env_alloc refuses beyond it,
 * as in the module), and leaks are reported per request.  One thread: plain counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kernel.h>

#include "env.h"
#include "msk.h"

static u64 env_live, env_peak, env_asserts, env_limit;

static void *env_account(void *p, size_t size)
{
	if (!p)
		return NULL;
	env_live += size;
	if (env_live > env_peak)
		env_peak = env_live;
	return p;
}

static bool env_within_budget(size_t size)
{
	return size && size <= env_limit && env_live <= env_limit - size;
}

void *env_alloc(size_t size)
{
	if (!env_within_budget(size))
		return NULL;
	return env_account(malloc(size), size);
}

void *env_zalloc(size_t size)
{
	if (!env_within_budget(size))
		return NULL;
	return env_account(calloc(1, size), size);
}

void env_free(void *p, size_t size)
{
	if (!p)
		return;
	free(p);
	env_live -= size;
}

void env_assert_fail(const char *expr, const char *file, int line)
{
	/* counted and reported like the module's WARN: the request says asserts=N */
	env_asserts++;
	fprintf(stderr, "memsim-user: model assertion failed: %s at %s:%d\n", expr, file, line);
}

void msk_env_begin(u64 limit_bytes)
{
	env_limit = limit_bytes;
	env_peak = env_live;
}

void msk_env_end(void)
{
	env_limit = 0;
}

u64 msk_env_live(void)
{
	return env_live;
}

u64 msk_env_peak(void)
{
	return env_peak;
}

u64 msk_env_asserts(void)
{
	return env_asserts;
}
