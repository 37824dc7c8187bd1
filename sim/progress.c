/* SPDX-License-Identifier: MIT */
/* sim/progress.c — the progress line of a long run (see progress.h). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "sim.h"

struct progress {
	const struct sim *s;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;      /* signalled by progress_stop() */
	bool stop;
	bool drawn;
	uint64_t t0;
	uint64_t first_after;     /* ns from t0 to the first line */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void draw(struct progress *p, bool final)
{
	uint64_t records = __atomic_load_n(&p->s->records, __ATOMIC_RELAXED);
	uint64_t events = __atomic_load_n(&p->s->events, __ATOMIC_RELAXED);
	uint64_t now = __atomic_load_n(&p->s->now, __ATOMIC_RELAXED);
	double el = (double)(mono_ns() - p->t0) * 1e-9;

	/* \033[K clears what a longer previous line left at the end */
	fprintf(stderr, "\rmemsim: %" PRIu64 " records, %" PRIu64 " events, sim time %.3f s, "
		"%.1f s wall, %.2f M/s\033[K%s", records, events, (double)now * 1e-9, el,
		el > 0 ? (double)(records + events) / el * 1e-6 : 0.0, final ? "\n" : "");
	fflush(stderr);
	p->drawn = true;
}

/* MEMSIM_PROGRESS_AFTER_MS overrides the first line's delay (tests use 0). */
static uint64_t first_after_ns(void)
{
	const char *v = getenv("MEMSIM_PROGRESS_AFTER_MS");
	char *end;
	unsigned long long ms;

	if (!v || !*v)
		return PROGRESS_AFTER_NS;
	errno = 0;
	ms = strtoull(v, &end, 10);
	if (errno || *end || ms > 86400000ULL)
		return PROGRESS_AFTER_NS;
	return ms * 1000000ULL;
}

static void *progress_main(void *arg)
{
	struct progress *p = arg;
	uint64_t next = p->t0 + p->first_after;
	struct timespec until;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		/* the condition variable waits on CLOCK_MONOTONIC (set in progress_start) */
		until.tv_sec = (time_t)(next / 1000000000ULL);
		until.tv_nsec = (long)(next % 1000000000ULL);
		if (pthread_cond_timedwait(&p->wake, &p->lock, &until) == ETIMEDOUT && !p->stop) {
			draw(p, false);
			next += PROGRESS_EVERY_NS;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

bool progress_wanted(void)
{
	return isatty(STDERR_FILENO) && !getenv("MEMSIM_NO_PROGRESS");
}

struct progress *progress_start(const struct sim *s)
{
	struct progress *p;
	pthread_condattr_t ca;

	if (!s->progress)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->s = s;
	p->t0 = mono_ns();
	p->first_after = first_after_ns();
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&p->thread, NULL, progress_main, p)) {
		pthread_cond_destroy(&p->wake);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return NULL;
	}
	return p;
}

void progress_stop(struct progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	/* a run that outlived the delay ends with its line, even if the thread was late */
	if (p->drawn || mono_ns() - p->t0 >= p->first_after)
		draw(p, true);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
