/* SPDX-License-Identifier: MIT */
/* sim/sim.c — the discrete-event engine (see sim.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "sim.h"

int sim_init(struct sim *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->seed = seed;
	s->digest = hash_fold(0x6d656d73696dULL, seed);
	s->q = eventq_create();
	if (!s->q)
		return -1;
	s->progress = isatty(2) && !getenv("MEMSIM_NO_PROGRESS");
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

	return eventq_push(s->q, &ev);
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

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void show_progress(struct sim *s, double t0, bool final)
{
	double el = wall_s() - t0;

	fprintf(stderr, "\rmemsim: %" PRIu64 " records, %" PRIu64 " events, sim time %.3f s, "
		"%.1f s wall, %.2f M/s%s", s->records, s->events, (double)s->now * 1e-9, el,
		el > 0 ? (double)(s->records + s->events) / el * 1e-6 : 0.0, final ? "\n" : "");
}

int sim_run(struct sim *s, struct rec_source *src, const struct sim_handlers *h, void *ctx)
{
	struct trace_rec rec;
	struct sim_event ev;
	int have_rec = 0;
	uint64_t tev, tick = 0;
	double t0 = s->progress ? wall_s() : 0, last = t0;

	if (src) {
		have_rec = rec_source_next(src, &rec);
		if (have_rec < 0)
			goto src_error;
	}
	while (!s->stop) {
		bool have_ev = eventq_peek_time(s->q, &tev);

		if (have_rec && (!have_ev || rec.time_ns <= tev)) {
			if (rec.time_ns > s->now)
				s->now = rec.time_ns;
			digest_record(s, &rec);
			s->records++;
			if (h->record(s, ctx, &rec) || s->overflow)
				return -1;
			have_rec = rec_source_next(src, &rec);
			if (have_rec < 0)
				goto src_error;
		} else if (have_ev) {
			eventq_pop(s->q, &ev);
			s->now = ev.time;
			digest_event(s, &ev);
			s->events++;
			if (h->event(s, ctx, &ev) || s->overflow)
				return -1;
		} else {
			break;
		}
		if (s->progress && !(++tick & 0xfffff)) {
			double now = wall_s();

			if (now - last > 0.5) {
				show_progress(s, t0, false);
				last = now;
			}
		}
	}
	if (s->progress && last != t0)
		show_progress(s, t0, true);
	return 0;

src_error:
	snprintf(s->err, sizeof(s->err), "%s", src->err);
	return -2;
}
