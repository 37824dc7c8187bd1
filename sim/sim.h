/* SPDX-License-Identifier: MIT */
/*
 * sim/sim.h — the discrete-event engine.
 *
 * The clock is integer nanoseconds.  Two streams feed the engine in time order: the trace's
 * records (pulled one at a time from a rec_source, so memory does not grow with the trace)
 * and the pending events (sim/eventq.h).  At equal times records go first, then events in
 * (time, seq) order.  Every record and event processed is folded into a 64-bit digest: two
 * runs agree iff their digests agree.
 *
 * Randomness comes only from GSL generators made by sim_rng(), one per named component,
 * seeded from (run seed, component name): adding a component never shifts another's stream.
 */
#ifndef MEMSIM_SIM_SIM_H
#define MEMSIM_SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <gsl/gsl_rng.h>

#include "eventq.h"
#include "profile.h"
#include "trace.h"

struct sim;

/* What a model driver does with the two streams; `ctx` is the driver's state. */
struct sim_handlers {
	int (*record)(struct sim *s, void *ctx, const struct trace_rec *r);   /* 0, -1, -2 bad input */
	int (*event)(struct sim *s, void *ctx, const struct sim_event *ev);   /* 0 or -1 */
};

#define SIM_MAX_RNG 16

struct sim {
	uint64_t now;             /* ns */
	uint64_t next_seq;
	struct eventq *q;
	uint64_t digest;
	uint64_t records;         /* records processed */
	uint64_t events;          /* events processed */
	uint64_t seed;
	bool stop;                /* a handler may set it to end the run early */
	bool progress;            /* print a progress line on stderr (a terminal) */
	struct {
		char name[32];
		gsl_rng *rng;
	} rngs[SIM_MAX_RNG];
	unsigned nrngs;
	bool overflow;            /* a time sum or product did not fit: err says which */
	char err[512];            /* why sim_run failed */
};

int sim_init(struct sim *s, uint64_t seed);
void sim_fini(struct sim *s);
/* Schedules an event at `time` (>= now).  0 or -1 (out of memory). */
int sim_schedule(struct sim *s, uint64_t time, uint32_t kind, uint32_t target, uint64_t arg);
/* The random stream of a component (created on first use). */
gsl_rng *sim_rng(struct sim *s, const char *component);
/* Folds a driver-chosen value into the digest (e.g. an outcome that matters). */
void sim_digest_add(struct sim *s, uint64_t v);
/*
 * Runs until both streams are empty or a handler sets stop.  0; -2 if the record source
 * failed (a corrupt trace: bad input) or a record handler refused a record as bad input
 * (it returned -2), -1 if a handler failed or a host allocation failed (env_run_failed(),
 * checked after every record and event); s->err says why.
 */
int sim_run(struct sim *s, struct rec_source *src, const struct sim_handlers *h, void *ctx);

/*
 * Time never wraps (docs/security.md, 3).  Every sum and product of simulated time, in ns or
 * ps, goes through these helpers.  A result that does not fit in 64 bits comes back as
 * UINT64_MAX, the first overflow is recorded in s->overflow and s->err ("time overflow: WHAT
 * ..."), and sim_run() fails the run as soon as the handler that computed it returns: the run
 * exits 1 and nothing is stored.  UINT64_MAX itself stays a valid operand ("never").
 */
uint64_t sim_overflow(struct sim *s, const char *what, uint64_t a, char op, uint64_t b);

static inline uint64_t sim_add(struct sim *s, uint64_t a, uint64_t b, const char *what)
{
	uint64_t r;

	if (__builtin_expect(__builtin_add_overflow(a, b, &r), 0))
		return sim_overflow(s, what, a, '+', b);
	return r;
}

static inline uint64_t sim_mul(struct sim *s, uint64_t a, uint64_t b, const char *what)
{
	uint64_t r;

	if (__builtin_expect(__builtin_mul_overflow(a, b, &r), 0))
		return sim_overflow(s, what, a, 'x', b);
	return r;
}

/* Picoseconds to nanoseconds, rounded to nearest / up: cannot overflow. */
static inline uint64_t sim_ps_to_ns(uint64_t ps) { return ps / 1000 + (ps % 1000 >= 500); }
static inline uint64_t sim_ps_to_ns_ceil(uint64_t ps) { return ps / 1000 + (ps % 1000 != 0); }

/* The price of w under p in ps (or in ns, rounded to nearest); overflow as above, the message
 * naming the work unit whose count times cost did not fit. */
uint64_t sim_work_overflow(struct sim *s, const struct cost_profile *p, const struct work *w,
			   int unit);
static inline uint64_t sim_work_ps(struct sim *s, const struct cost_profile *p,
				   const struct work *w)
{
	uint64_t ps;
	int u;

	if (__builtin_expect(!profile_price_ps(p, w, &ps, &u), 1))
		return ps;
	return sim_work_overflow(s, p, w, u);
}
static inline uint64_t sim_work_ns(struct sim *s, const struct cost_profile *p,
				   const struct work *w)
{
	return sim_ps_to_ns(sim_work_ps(s, p, w));
}

#endif
