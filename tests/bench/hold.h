/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/hold.h — what every hold-model driver shares (C and C++).
 *
 * The classic hold model: N events pending; repeatedly take the earliest and schedule a
 * new one at its time plus an exponentially distributed increment.  Every driver:
 *   - takes `N SECONDS [EVENTS]` on the command line;
 *   - draws the same increments: HOLD_TABLE values from gsl_ran_exponential with mean
 *     HOLD_MEAN_NS, generator mt19937 seeded HOLD_SEED, rounded to whole nanoseconds,
 *     used in turn (cyclically), so the generator's cost stays out of the loop;
 *   - schedules the N initial events at increments from time 0, runs N events of warm-up
 *     (or fewer if they take over HOLD_WARMUP_MAX_S of CPU time: slow peers at large N),
 *     then runs until SECONDS of process CPU time have passed (checked every HOLD_BLOCK
 *     events) or, when EVENTS is given, exactly EVENTS timed events;
 *   - prints one line: events=E cpu_s=C wall_s=W rss_kb=R last_ns=T warmup=U
 *     where T is the time of the last event taken (drivers that order ties alike agree)
 *     and U the number of warm-up events.
 * CPU time, not wall-clock time, because the machine is shared: being descheduled does not
 * count against a driver (cache pollution by neighbours still does).
 */
#ifndef MEMSIM_BENCH_HOLD_H
#define MEMSIM_BENCH_HOLD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>
#include <sys/resource.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>

#define HOLD_MEAN_NS 1000000.0  /* 1 ms */
#define HOLD_SEED 20240601ul
#define HOLD_TABLE (1u << 16)
#define HOLD_BLOCK (1u << 14)
#define HOLD_WARMUP_MAX_S 2.0

struct hold_cfg {
	uint64_t n;             /* pending events */
	double seconds;         /* minimum CPU time of the timed part */
	uint64_t events;        /* exact number of timed events, 0 = run by time */
};

static uint64_t hold_incr[HOLD_TABLE];

static inline void hold_setup(int argc, char **argv, struct hold_cfg *cfg)
{
	gsl_rng *r;
	unsigned int i;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s N SECONDS [EVENTS]\n", argv[0]);
		exit(2);
	}
	cfg->n = strtoull(argv[1], NULL, 10);
	cfg->seconds = strtod(argv[2], NULL);
	cfg->events = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
	if (cfg->n == 0) {
		fprintf(stderr, "%s: N must be a positive integer\n", argv[0]);
		exit(2);
	}
	r = gsl_rng_alloc(gsl_rng_mt19937);
	if (!r) {
		fprintf(stderr, "%s: out of memory\n", argv[0]);
		exit(1);
	}
	gsl_rng_set(r, HOLD_SEED);
	for (i = 0; i < HOLD_TABLE; i++)
		hold_incr[i] = (uint64_t)llround(gsl_ran_exponential(r, HOLD_MEAN_NS));
	gsl_rng_free(r);
}

static inline double hold_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Progress of the timed part, for drivers whose loop lives inside a library (callbacks):
 * hold_tick() after each event; it returns 1 when the run is over.
 */
struct hold_state {
	struct hold_cfg cfg;
	uint64_t done;          /* events taken, warm-up included */
	uint64_t timed;         /* events taken in the timed part */
	uint64_t warmup;        /* events taken before it */
	double warm0, cpu0, wall0, cpu1, wall1;
	int started;
};

static inline void hold_begin(struct hold_state *st)
{
	st->started = 1;
	st->warmup = st->done;
	st->cpu0 = hold_clock(CLOCK_PROCESS_CPUTIME_ID);
	st->wall0 = hold_clock(CLOCK_MONOTONIC);
}

static inline int hold_tick(struct hold_state *st)
{
	st->done++;
	if (!st->started) {
		if (st->done == 1)
			st->warm0 = hold_clock(CLOCK_PROCESS_CPUTIME_ID);
		if (st->done >= st->cfg.n || (st->done % HOLD_BLOCK == 0 &&
		    hold_clock(CLOCK_PROCESS_CPUTIME_ID) - st->warm0 >= HOLD_WARMUP_MAX_S))
			hold_begin(st);
		return 0;
	}
	st->timed++;
	if (st->cfg.events)
		return st->timed >= st->cfg.events;
	if (st->timed % HOLD_BLOCK)
		return 0;
	return hold_clock(CLOCK_PROCESS_CPUTIME_ID) - st->cpu0 >= st->cfg.seconds;
}

static inline void hold_report(struct hold_state *st, uint64_t last_ns)
{
	struct rusage ru;

	st->cpu1 = hold_clock(CLOCK_PROCESS_CPUTIME_ID);
	st->wall1 = hold_clock(CLOCK_MONOTONIC);
	getrusage(RUSAGE_SELF, &ru);
	printf("events=%llu cpu_s=%.6f wall_s=%.6f rss_kb=%ld last_ns=%llu warmup=%llu\n",
	       (unsigned long long)st->timed, st->cpu1 - st->cpu0, st->wall1 - st->wall0,
	       ru.ru_maxrss, (unsigned long long)last_ns, (unsigned long long)st->warmup);
	fflush(stdout);
}

#endif
