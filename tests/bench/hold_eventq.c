/* SPDX-License-Identifier: MIT */
/* tests/bench/hold_eventq.c — hold model on memsim's pending-event set (sim/eventq.c). */
#include "hold.h"
#include "eventq.h"

int main(int argc, char **argv)
{
	struct hold_state st = { 0 };
	struct eventq *q;
	struct sim_event ev = { 0 };
	uint64_t seq = 0, i;
	unsigned int k = 0;

	hold_setup(argc, argv, &st.cfg);
	q = eventq_create();
	if (!q)
		return 1;
	for (i = 0; i < st.cfg.n; i++) {
		ev.time = hold_incr[k++ % HOLD_TABLE];
		ev.seq = seq++;
		ev.kind = (uint32_t)(i & 7);
		ev.target = (uint32_t)i;
		if (eventq_push(q, &ev)) {
			fprintf(stderr, "hold_eventq: out of memory at %llu events\n",
				(unsigned long long)i);
			return 1;
		}
	}
	do {
		if (!eventq_pop(q, &ev))
			return 1;
		ev.time += hold_incr[k++ % HOLD_TABLE];
		ev.seq = seq++;
		if (eventq_push(q, &ev))
			return 1;
	} while (!hold_tick(&st));
	hold_report(&st, ev.time - hold_incr[(k - 1) % HOLD_TABLE]);
	eventq_destroy(q);
	return 0;
}
