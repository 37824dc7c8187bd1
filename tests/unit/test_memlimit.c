/* SPDX-License-Identifier: MIT */
/* tests/unit/test_memlimit.c — the run's allocation accounting (sim/env_user.c): modelled
 * failures kept apart from host ones, the --max-mem cap, the engine stopping on a host
 * failure; and --max-mem's parser and default (sim/memlimit.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "env.h"
#include "env_user.h"
#include "memlimit.h"
#include "sim.h"
#include "test.h"

TEST(max_mem_sizes_parse_with_units)
{
	uint64_t v = 1;

	CHECK(memlimit_parse("0", &v) == 0 && v == 0);
	CHECK(memlimit_parse("8Gi", &v) == 0 && v == 8ULL << 30);
	CHECK(memlimit_parse("8GiB", &v) == 0 && v == 8ULL << 30);
	CHECK(memlimit_parse("500M", &v) == 0 && v == 500000000ULL);
	CHECK(memlimit_parse("512B", &v) == 0 && v == 512);
	CHECK(memlimit_parse("2T", &v) == 0 && v == 2000000000000ULL);
	CHECK(memlimit_parse("3Ti", &v) == 0 && v == 3ULL << 40);
}

TEST(max_mem_rejects_what_is_not_a_size)
{
	uint64_t v = 7;

	CHECK(memlimit_parse("", &v) < 0);
	CHECK(memlimit_parse("lots", &v) < 0);
	CHECK(memlimit_parse("-1", &v) < 0);
	CHECK(memlimit_parse("1.5G", &v) < 0);
	CHECK(memlimit_parse("5us", &v) < 0);      /* a time is not a size */
	CHECK(memlimit_parse("8 Gi", &v) < 0);
	CHECK(memlimit_parse("99999999999999999999", &v) < 0);
	CHECK(memlimit_parse("20000000Ti", &v) < 0);   /* overflows 64 bits */
	CHECK_EQ_U64(v, 7);
}

TEST(meminfo_available_is_read_in_bytes)
{
	const char *mi = "MemTotal:       32000000 kB\nMemFree:         1000000 kB\n"
			 "MemAvailable:   24238228 kB\nBuffers:          100 kB\n";

	CHECK_EQ_U64(memlimit_meminfo_available(mi), 24238228ULL * 1024);
	CHECK_EQ_U64(memlimit_meminfo_available("MemTotal: 5 kB\n"), 0);
	CHECK_EQ_U64(memlimit_meminfo_available("MemAvailable: lots\n"), 0);
	CHECK_EQ_U64(memlimit_meminfo_available("MemAvailable: 12 MB\n"), 0);
	CHECK_EQ_U64(memlimit_meminfo_available(""), 0);
}

TEST(default_limit_follows_a_lower_address_space_limit)
{
	struct rlimit old, low;
	char how[160];
	uint64_t one, two;

	if (getenv("MEMSIM_SANITIZED")) {   /* ASan's shadow needs the address space */
		CHECK(1);
		return;
	}
	CHECK(getrlimit(RLIMIT_AS, &old) == 0);
	low = old;
	low.rlim_cur = 400ULL << 20;
	if (old.rlim_max != RLIM_INFINITY && old.rlim_max < low.rlim_cur)
		low.rlim_cur = old.rlim_max;
	CHECK(setrlimit(RLIMIT_AS, &low) == 0);
	one = memlimit_default(1, how, sizeof(how));
	two = memlimit_default(2, how, sizeof(how));
	CHECK(setrlimit(RLIMIT_AS, &old) == 0);
	/* 3/4 of the address-space limit, or of MemAvailable if that is lower still */
	CHECK(one > 0 && one <= (uint64_t)low.rlim_cur / 4 * 3);
	CHECK(two == one / 2 || two == one / 2 + 1 || two + 1 == one / 2);
	if (one == (uint64_t)low.rlim_cur / 4 * 3)
		CHECK(strstr(how, "3/4 of the address-space limit (ulimit -v) 400.0 MiB over 2 jobs"));
	else
		CHECK(strstr(how, "3/4 of MemAvailable") && strstr(how, "over 2 jobs"));
}

TEST(cap_refuses_an_allocation_and_fails_the_run)
{
	struct env_run_limits l = { .max_bytes = 1000 };
	uint64_t base = env_live_bytes();
	void *a, *b;

	l.max_bytes += base;   /* other tests' leftovers (none expected) count too */
	env_run_begin(&l);
	a = env_alloc(600);
	CHECK(a != NULL);
	CHECK(!env_run_failed());
	CHECK_EQ_U64(env_live_bytes(), base + 600);
	b = env_zalloc(600);
	CHECK(b == NULL);
	CHECK(env_run_failed());
	CHECK(strstr(env_run_failure(), "model memory limit reached: allocating 600 B for the model "
		     "would exceed --max-mem") != NULL);
	CHECK_EQ_U64(env_run_modelled_failures(), 0);   /* a host failure, not a modelled one */
	env_free(a, 600);
	CHECK_EQ_U64(env_live_bytes(), base);
	env_run_end();
	/* outside a run nothing is capped */
	a = env_alloc(5000);
	CHECK(a != NULL);
	env_free(a, 5000);
}

TEST(first_host_failure_is_the_one_described)
{
	struct env_run_limits l = { 0 };

	env_run_begin(&l);
	CHECK(!env_run_failed());
	CHECK_EQ_U64(strlen(env_run_failure()), 0);
	env_host_alloc_failed("the event queue", 40);
	env_host_alloc_failed("the fork series", 1 << 20);
	CHECK(env_run_failed());
	CHECK(strstr(env_run_failure(), "out of host memory: allocating 40 B for the event queue failed")
	      != NULL);
	env_run_begin(&l);   /* a new run starts clean */
	CHECK(!env_run_failed());
	env_run_end();
}

TEST(malloc_failure_is_a_host_failure)
{
	struct env_run_limits l = { 0 };
	void *p;

	if (getenv("MEMSIM_SANITIZED")) {   /* ASan aborts on an impossible size */
		CHECK(1);
		return;
	}
	env_run_begin(&l);
	p = env_alloc(SIZE_MAX / 2);
	CHECK(p == NULL);
	CHECK(env_run_failed());
	CHECK(strstr(env_run_failure(), "out of host memory") != NULL);
	CHECK_EQ_U64(env_run_modelled_failures(), 0);
	env_run_end();
}

TEST(driver_allocation_failure_fails_the_run)
{
	struct env_run_limits l = { 0 };
	void *p;

	if (getenv("MEMSIM_SANITIZED")) {   /* ASan aborts on an impossible size */
		CHECK(1);
		return;
	}
	env_run_begin(&l);
	p = host_calloc("a vCPU", SIZE_MAX / 64, 32);   /* > SIZE_MAX / 2 bytes */
	CHECK(p == NULL);
	CHECK(env_run_failed());
	CHECK(strstr(env_run_failure(), "for a vCPU failed") != NULL);
	env_run_begin(&l);
	p = host_reallocarray("the domain table", NULL, SIZE_MAX / 4, 8);   /* overflows */
	CHECK(p == NULL);
	CHECK(env_run_failed());
	CHECK(strstr(env_run_failure(), "the domain table") != NULL);
	env_run_begin(&l);
	p = host_calloc("a domain", 4, 8);
	CHECK(p != NULL && !env_run_failed());
	free(p);
	env_run_end();
}

/* Which of n allocations fail under these limits, as a bit string. */
static void failure_pattern(const struct env_run_limits *l, char *out, unsigned n)
{
	unsigned i;

	env_run_begin(l);
	for (i = 0; i < n; i++) {
		void *p = env_alloc(16);

		out[i] = p ? '.' : 'x';
		env_free(p, 16);
	}
	out[n] = 0;
	env_run_end();
}

TEST(modelled_failures_are_a_function_of_seed_and_ppm)
{
	struct env_run_limits l = { .fail_seed = 42, .fail_ppm = 100000 };
	char a[2001], b[2001], c[2001];
	unsigned i, nx = 0;

	failure_pattern(&l, a, 2000);
	failure_pattern(&l, b, 2000);
	CHECK(!strcmp(a, b));
	for (i = 0; i < 2000; i++)
		nx += a[i] == 'x';
	CHECK(nx > 140 && nx < 260);   /* 10 % of 2000, within 4 sigma */
	env_run_begin(&l);
	for (i = 0; i < 2000; i++)
		env_free(env_alloc(16), 16);
	CHECK_EQ_U64(env_run_modelled_failures(), nx);
	CHECK(!env_run_failed());       /* modelled failures do not fail the run */
	env_run_end();
	l.fail_seed = 43;
	failure_pattern(&l, c, 2000);
	CHECK(strcmp(a, c) != 0);
}

TEST(modelled_failure_extremes)
{
	struct env_run_limits none = { .fail_seed = 1, .fail_ppm = 0 };
	struct env_run_limits all = { .fail_seed = 1, .fail_ppm = 1000000 };
	char a[101];

	failure_pattern(&none, a, 100);
	CHECK(!strchr(a, 'x'));
	failure_pattern(&all, a, 100);
	CHECK(!strchr(a, '.'));
}

/* ---- the engine stops at the next record after a host failure ---- */

struct count_src {
	struct rec_source src;
	uint64_t left, t;
};

static int count_next(struct rec_source *s, struct trace_rec *r)
{
	struct count_src *c = (struct count_src *)s;

	if (!c->left)
		return 0;
	c->left--;
	memset(r, 0, sizeof(*r));
	r->type = TR_PAGE_WRITE;
	r->domain = 1;
	r->time_ns = c->t++;
	return 1;
}

static void count_close(struct rec_source *s) { (void)s; }

static int fail_at_third(struct sim *s, void *ctx, const struct trace_rec *r)
{
	(void)ctx;
	(void)r;
	if (s->records == 3)
		env_host_alloc_failed("the test driver", 64);
	return 0;   /* the driver degrades and carries on; the engine must not */
}

static int no_event(struct sim *s, void *ctx, const struct sim_event *ev)
{
	(void)s;
	(void)ctx;
	(void)ev;
	return 0;
}

TEST(engine_stops_at_the_record_after_a_host_failure)
{
	static const struct sim_handlers h = { fail_at_third, no_event };
	struct count_src c = { .src = { .next = count_next, .close = count_close }, .left = 10 };
	struct env_run_limits l = { 0 };
	struct sim s;

	CHECK(sim_init(&s, 1) == 0);
	env_run_begin(&l);
	CHECK(sim_run(&s, &c.src, &h, NULL) == -1);
	CHECK_EQ_U64(s.records, 3);
	CHECK(strstr(s.err, "out of host memory: allocating 64 B for the test driver failed") != NULL);
	env_run_end();
	sim_fini(&s);
}

int main(void) { return test_main(); }
