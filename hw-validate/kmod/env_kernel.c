// SPDX-License-Identifier: MIT
/*
 * hw-validate/kmod/env_kernel.c — the kernel side of models/env.h: allocation through
 * kvmalloc, assertions as WARN.
 *
 * Every byte the models hold is accounted (env_free is told the size), which gives the
 * module two guarantees the brief asks for: a request can never hold more than its budget
 * (env_alloc refuses beyond it, and the models degrade or return -ENOMEM as they would on a
 * real shortage), and a leak is seen, per request and at unload.
 *
 * Requests are serialized by the module's mutex, but the counters are atomics anyway so a
 * stray free from another context could never corrupt them.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/limits.h>

#include "env.h"
#include "msk.h"

static atomic64_t env_live = ATOMIC64_INIT(0);
static atomic64_t env_peak = ATOMIC64_INIT(0);
static atomic64_t env_asserts = ATOMIC64_INIT(0);
static u64 env_limit;	/* 0 outside a request: models are only ever run inside one */

static void *env_account(void *p, size_t size)
{
	s64 live;

	if (!p)
		return NULL;
	live = atomic64_add_return(size, &env_live);
	/* the peak only matters approximately: a racy max is fine */
	if (live > atomic64_read(&env_peak))
		atomic64_set(&env_peak, live);
	return p;
}

static bool env_within_budget(size_t size)
{
	u64 live = atomic64_read(&env_live);

	return size && size <= env_limit && live <= env_limit - size;
}

void *env_alloc(size_t size)
{
	if (!env_within_budget(size))
		return NULL;
	return env_account(kvmalloc(size, GFP_KERNEL | __GFP_NOWARN), size);
}

void *env_zalloc(size_t size)
{
	if (!env_within_budget(size))
		return NULL;
	return env_account(kvzalloc(size, GFP_KERNEL | __GFP_NOWARN), size);
}

void env_free(void *p, size_t size)
{
	if (!p)
		return;
	kvfree(p);
	atomic64_sub(size, &env_live);
}

void env_assert_fail(const char *expr, const char *file, int line)
{
	atomic64_inc(&env_asserts);
	WARN(1, "memsim: model assertion failed: %s at %s:%d\n", expr, file, line);
}

void msk_env_begin(u64 limit_bytes)
{
	env_limit = limit_bytes;
	atomic64_set(&env_peak, atomic64_read(&env_live));
}

void msk_env_end(void)
{
	env_limit = 0;
}

u64 msk_env_live(void)
{
	return atomic64_read(&env_live);
}

u64 msk_env_peak(void)
{
	return atomic64_read(&env_peak);
}

u64 msk_env_asserts(void)
{
	return atomic64_read(&env_asserts);
}
