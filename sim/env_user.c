/* SPDX-License-Identifier: MIT */
/* sim/env_user.c — models/env.h host services for userspace: libc allocation with
 * deterministic fault injection (see env_user.h). */
#include <stdio.h>
#include <stdlib.h>
#include "env.h"
#include "env_user.h"

static __thread uint64_t fail_after = UINT64_MAX;  /* allocations left before failing */
static __thread uint64_t fail_every;
static __thread uint64_t alloc_seq;
static __thread uint64_t failures;

void env_fail_after(uint64_t n) { fail_after = n; }
void env_fail_every(uint64_t k) { fail_every = k; alloc_seq = 0; }
void env_fail_reset(void) { fail_after = UINT64_MAX; fail_every = 0; failures = 0; }
uint64_t env_alloc_failures(void) { return failures; }

static int inject_failure(void)
{
	if (fail_every && ++alloc_seq % fail_every == 0) {
		failures++;
		return 1;
	}
	if (fail_after != UINT64_MAX) {
		if (fail_after == 0) {
			failures++;
			return 1;
		}
		fail_after--;
	}
	return 0;
}

void *env_alloc(size_t size)
{
	return inject_failure() ? NULL : malloc(size ? size : 1);
}

void *env_zalloc(size_t size)
{
	return inject_failure() ? NULL : calloc(1, size ? size : 1);
}

void env_free(void *p, size_t size)
{
	(void)size;
	free(p);
}

void env_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "memsim: model invariant broken: %s (%s:%d)\n", expr, file, line);
	abort();
}
