/* SPDX-License-Identifier: MIT */
/* sim/env_user.c — models/env.h host services for userspace: libc allocation, accounted,
 * with modelled failures (deterministic) kept apart from host failures (see env_user.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include "env.h"
#include "env_user.h"

static __thread uint64_t fail_after = UINT64_MAX;  /* allocations left before failing */
static __thread uint64_t fail_every;
static __thread uint64_t alloc_seq;
static __thread uint64_t failures;

/* bytes held, as the models account them (the size they pass to env_free) */
static __thread uint64_t live_bytes;

static __thread struct {
	bool active;
	struct env_run_limits lim;
	uint64_t seq;             /* allocations asked for in this run */
	uint64_t peak;
	uint64_t modelled;
	bool failed;
	char why[320];
} run;

void env_fail_after(uint64_t n) { fail_after = n; }
void env_fail_every(uint64_t k) { fail_every = k; alloc_seq = 0; }
void env_fail_reset(void) { fail_after = UINT64_MAX; fail_every = 0; failures = 0; }
uint64_t env_alloc_failures(void) { return failures; }

void env_format_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)b;
	unsigned u = 0;

	if (b < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", b);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, unit[u]);
}

void env_run_begin(const struct env_run_limits *l)
{
	run.active = true;
	run.lim = *l;
	run.seq = 0;
	run.modelled = 0;
	run.failed = false;
	run.why[0] = 0;
	run.peak = live_bytes;
}

void env_run_end(void) { run.active = false; }
bool env_run_failed(void) { return run.failed; }
const char *env_run_failure(void) { return run.why; }
uint64_t env_run_modelled_failures(void) { return run.modelled; }
uint64_t env_live_bytes(void) { return live_bytes; }
uint64_t env_run_peak_bytes(void) { return run.peak; }

/* Only the first failure is described: it is the cause, later ones are consequences. */
static void host_failed(const char *what, size_t bytes, bool over_cap)
{
	char sz[32], held[32], cap[32];
	struct rlimit rl;

	if (!run.active || run.failed)
		return;
	run.failed = true;
	env_format_bytes(bytes, sz, sizeof(sz));
	env_format_bytes(live_bytes, held, sizeof(held));
	if (over_cap) {
		env_format_bytes(run.lim.max_bytes, cap, sizeof(cap));
		snprintf(run.why, sizeof(run.why), "model memory limit reached: allocating %s for %s "
			 "would exceed --max-mem %s (%s held)", sz, what, cap, held);
		return;
	}
	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		env_format_bytes((uint64_t)rl.rlim_cur, cap, sizeof(cap));
		snprintf(run.why, sizeof(run.why), "out of host memory: allocating %s for %s failed "
			 "(%s held by the model, address-space limit %s)", sz, what, held, cap);
	} else {
		snprintf(run.why, sizeof(run.why), "out of host memory: allocating %s for %s failed "
			 "(%s held by the model)", sz, what, held);
	}
}

void env_host_alloc_failed(const char *what, size_t bytes) { host_failed(what, bytes, false); }

void *host_calloc(const char *what, size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		env_host_alloc_failed(what, n * size);
	return p;
}

void *host_reallocarray(const char *what, void *old, size_t n, size_t size)
{
	void *p = reallocarray(old, n, size);

	if (!p)
		env_host_alloc_failed(what, n * size);
	return p;
}

/* A modelled failure: the test hooks, then the run's seeded fail_ppm. */
static int modelled_failure(void)
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
	if (run.active && run.lim.fail_ppm) {
		/* a pure function of (stream, allocation number): the same run fails the same
		 * allocations on any machine */
		uint64_t x = env_mix64(run.lim.fail_seed + ++run.seq * 0x9e3779b97f4a7c15ULL);

		if (x % 1000000 < run.lim.fail_ppm) {
			failures++;
			run.modelled++;
			return 1;
		}
	}
	return 0;
}

static void *host_alloc(size_t size, bool zero)
{
	void *p;

	if (modelled_failure())
		return NULL;
	if (run.active && run.lim.max_bytes && (size > run.lim.max_bytes ||
						live_bytes > run.lim.max_bytes - size)) {
		host_failed("the model", size, true);
		return NULL;
	}
	p = zero ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
	if (!p) {
		host_failed("the model", size, false);
		return NULL;
	}
	live_bytes += size;
	if (live_bytes > run.peak)
		run.peak = live_bytes;
	return p;
}

void *env_alloc(size_t size) { return host_alloc(size, false); }
void *env_zalloc(size_t size) { return host_alloc(size, true); }

void env_free(void *p, size_t size)
{
	if (!p)
		return;
	free(p);
	/* a model that under-reports a free must not wrap the count */
	live_bytes = size > live_bytes ? 0 : live_bytes - size;
}

void env_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "memsim: model invariant broken: %s (%s:%d)\n", expr, file, line);
	abort();
}
