// SPDX-License-Identifier: MIT
// tests/bench/hold_systemc.cc — hold model on the SystemC kernel's timed-notification queue:
// N sc_events, each with a spawned method sensitive to it that re-notifies it after the
// next increment (sc_event::notify(sc_time)).  usage: hold_systemc N SECONDS [EVENTS]
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "hold.h"
#include <systemc>
#include <unistd.h>

using namespace sc_core;

static struct hold_state st;
static unsigned int k;
static sc_event *events;
static bool stopping;

struct holder {
	uint64_t i;
	void operator()()
	{
		if (stopping)
			return;
		if (hold_tick(&st)) {
			stopping = true;
			hold_report(&st, sc_time_stamp().value() / 1000);   // ps -> ns
			sc_stop();
			return;
		}
		events[i].notify(sc_time((double)hold_incr[k++ % HOLD_TABLE], SC_NS));
	}
};

struct starter {
	void operator()()
	{
		for (uint64_t i = 0; i < st.cfg.n; i++)
			events[i].notify(sc_time((double)hold_incr[k++ % HOLD_TABLE], SC_NS));
	}
};

int sc_main(int argc, char **argv)
{
	hold_setup(argc, argv, &st.cfg);
	sc_report_handler::set_actions(SC_INFO, SC_DO_NOTHING);
	sc_report_handler::set_actions(SC_WARNING, SC_DO_NOTHING);
	events = new sc_event[st.cfg.n];
	for (uint64_t i = 0; i < st.cfg.n; i++) {
		sc_spawn_options o;

		o.spawn_method();
		o.dont_initialize();
		o.set_sensitivity(&events[i]);
		sc_spawn(holder{ i }, sc_gen_unique_name("hold"), &o);
	}
	{
		sc_spawn_options o;

		o.spawn_method();
		sc_spawn(starter{}, "start", &o);
	}
	sc_start();
	fflush(stdout);
	_exit(0);       // skip tearing down N processes: untimed, and slow
}
