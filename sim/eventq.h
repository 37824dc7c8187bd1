/* SPDX-License-Identifier: MIT */
/*
 * sim/eventq.h — the pending-event set of the discrete-event engine.
 *
 * Events are ordered by (time, seq): time in integer nanoseconds, seq a number the engine
 * gives each event when it is scheduled, so events at the same instant run in the order they
 * were scheduled.  Keys are monotone: no event is pushed earlier than the last one popped,
 * which lets the queue be a radix heap (amortised O(1) per operation in the key's bit width)
 * instead of a comparison heap (O(log N), one cache miss per level).
 */
#ifndef MEMSIM_SIM_EVENTQ_H
#define MEMSIM_SIM_EVENTQ_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

struct sim_event {
	uint64_t time;     /* ns */
	uint64_t seq;      /* tie-break, unique per event, assigned by the caller */
	uint64_t arg;
	uint32_t kind;     /* handler id */
	uint32_t target;   /* pCPU, domain, ... as the handler defines */
};

struct eventq;

struct eventq *eventq_create(void);
void eventq_destroy(struct eventq *q);
/* 0, or -1 on out-of-memory.  ev->time must be >= the time of the last event popped. */
int eventq_push(struct eventq *q, const struct sim_event *ev);
/* Removes the earliest (time, seq) event into *out; false if empty. */
bool eventq_pop(struct eventq *q, struct sim_event *out);
/* Time of the earliest event without removing it; false if empty. */
bool eventq_peek_time(struct eventq *q, uint64_t *time);
size_t eventq_len(const struct eventq *q);

#endif
