/* SPDX-License-Identifier: MIT */
/* sim/sim.c — the discrete-event engine (see sim.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "env_user.h"
#include "hash.h"
#include "progress.h"
#include "sim.h"

int sim_init(struct sim *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->seed = seed;
	s->digest = hash_fold(0x6d656d73696dULL, seed);
	s->q = eventq_create();
	if (!s->q)
		return -1;
	s->progress = progress_wanted();
	return 0;
}

void sim_fini(struct sim *s)
{
	unsigned i;

	for (i = 0; i < s->nrngs; i++)
		gsl_rng_free(s->rngs[i].rng);
	if (s->q)
		eventq_destroy(s->q);
	s->q = NULL;
	s->nrngs = 0;
}

int sim_schedule(struct sim *s, uint64_t time, uint32_t kind, uint32_t target, uint64_t arg)
{
	struct sim_event ev = {
		.time = time < s->now ? s->now : time,
		.seq = s->next_seq++,
		.arg = arg,
		.kind = kind,
		.target = target,
	};

	int rc = eventq_push(s->q, &ev);

	if (rc == -1)   /* the queue could not grow */
		env_host_alloc_failed("the event queue", sizeof(ev));
	return rc;
}

gsl_rng *sim_rng(struct sim *s, const char *component)
{
	unsigned i;
	gsl_rng *r;

	for (i = 0; i < s->nrngs; i++)
		if (!strcmp(s->rngs[i].name, component))
			return s->rngs[i].rng;
	if (s->nrngs == SIM_MAX_RNG)
		abort();
	r = gsl_rng_alloc(gsl_rng_mt19937);
	if (!r)
		abort();
	/* Seed from (run seed, component): independent of creation order. */
	gsl_rng_set(r, (unsigned long)(hash_fold(s->seed, hash_str(component)) & 0xffffffffUL));
	snprintf(s->rngs[s->nrngs].name, sizeof(s->rngs[0].name), "%s", component);
	s->rngs[s->nrngs++].rng = r;
	return r;
}

void sim_digest_add(struct sim *s, uint64_t v) { s->digest = hash_fold(s->digest, v); }

/* Cold path of sim_add/sim_mul: the first overflow of a run is the one reported. */
uint64_t sim_overflow(struct sim *s, const char *what, uint64_t a, char op, uint64_t b)
{
	if (!s->overflow) {
		s->overflow = true;
		snprintf(s->err, sizeof(s->err), "time overflow: %s (%" PRIu64 " %c %" PRIu64
			 ") does not fit in 64 bits; the run is refused rather than reported "
			 "with a wrapped time", what, a, op, b);
	}
	return UINT64_MAX;
}

/* Cold path of sim_work_ps: names the unit whose price did not fit. */
uint64_t sim_work_overflow(struct sim *s, const struct cost_profile *p, const struct work *w,
			   int u)
{
	if (!s->overflow) {
		uint64_t c = profile_unit_ps(p, (unsigned)u, w->footprint_bytes), t;
		bool alone = __builtin_mul_overflow(w->n[u], c, &t);

		s->overflow = true;
		snprintf(s->err, sizeof(s->err), "time overflow: the work of one operation exceeds "
			 "2^64 ps (213 days) with profile %s: %s %" PRIu64 " units x %" PRIu64
			 ".%03" PRIu64 " ns%s; the run is refused rather than reported with a "
			 "wrapped time", p->name, work_unit_names[u], w->n[u], c / 1000, c % 1000,
			 alone ? "" : ", added to the other units' time");
	}
	return UINT64_MAX;
}

static void digest_record(struct sim *s, const struct trace_rec *r)
{
	uint64_t h = s->digest;

	h = hash_fold(h, r->time_ns);
	h = hash_fold(h, ((uint64_t)r->type << 48) ^ ((uint64_t)r->vcpu << 32) ^ r->domain);
	h = hash_fold(h, r->frame);
	s->digest = hash_fold(h, r->arg);
}

static void digest_event(struct sim *s, const struct sim_event *ev)
{
	uint64_t h = s->digest;

	h = hash_fold(h, ev->time);
	h = hash_fold(h, ((uint64_t)ev->kind << 32) ^ ev->target);
	s->digest = hash_fold(h, ev->arg);
}

/* The counters progress.c reads from its own thread: published with relaxed stores. */
static inline void publish(uint64_t *field, uint64_t v)
{
	__atomic_store_n(field, v, __ATOMIC_RELAXED);
}

int sim_run(struct sim *s, struct rec_source *src, const struct sim_handlers *h, void *ctx)
{
	struct trace_rec rec;
	struct sim_event ev;
	int have_rec = 0;
	uint64_t tev;
	struct progress *prog = progress_start(s);
	int rc = 0;

	if (src) {
		have_rec = rec_source_next(src, &rec);
		if (have_rec < 0)
			goto src_error;
	}
	while (!s->stop) {
		bool have_ev = eventq_peek_time(s->q, &tev);

		if (have_rec && (!have_ev || rec.time_ns <= tev)) {
			if (rec.time_ns > s->now)
				publish(&s->now, rec.time_ns);
			digest_record(s, &rec);
			publish(&s->records, s->records + 1);
			if ((rc = h->record(s, ctx, &rec)) || env_run_failed() || s->overflow) {
				rc = rc == -2 ? -2 : -1;   /* -2: the record is bad input */
				goto handler_error;
			}
			have_rec = rec_source_next(src, &rec);
			if (have_rec < 0)
				goto src_error;
		} else if (have_ev) {
			eventq_pop(s->q, &ev);
			publish(&s->now, ev.time);
			digest_event(s, &ev);
			publish(&s->events, s->events + 1);
			if (h->event(s, ctx, &ev) || env_run_failed() || s->overflow) {
				rc = -1;
				goto handler_error;
			}
		} else {
			break;
		}
	}
out:
	progress_stop(prog);
	return rc;

src_error:
	snprintf(s->err, sizeof(s->err), "%s", src->err);
	rc = -2;
	goto out;

handler_error:
	/* a host allocation failure is the cause, whatever the handler made of it */
	if (env_run_failed()) {
		snprintf(s->err, sizeof(s->err), "%s", env_run_failure());
		rc = -1;
	}
	goto out;
}
