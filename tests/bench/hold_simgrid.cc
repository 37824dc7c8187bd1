// SPDX-License-Identifier: MIT
// tests/bench/hold_simgrid.cc — hold model on SimGrid.  usage: hold_simgrid MODE N SECONDS [EVENTS]
//   timers: N kernel timers (simgrid::kernel::timer::Timer::set, the engine's own timer heap);
//           each callback, run by the engine in maestro, sets its successor.  The nearest thing
//           SimGrid has to a bare event queue, though not part of its s4u user API.
//   actors: the s4u way: N actors, each looping this_actor::sleep_for(increment).  One
//           execution context (and stack) per pending event, so only for small N.
// Times are SimGrid's double seconds: increment_ns * 1e-9.
#include "hold.h"
#include <simgrid/s4u.hpp>
#include <simgrid/kernel/Timer.hpp>
#include <unistd.h>

namespace sg4 = simgrid::s4u;
using simgrid::kernel::timer::Timer;

static struct hold_state st;
static unsigned int k;

static void finish()
{
	hold_report(&st, (uint64_t)llround(sg4::Engine::get_clock() * 1e9));
	_exit(0);       // skip the teardown of N pending timers or actors: untimed
}

static void timer_fired()
{
	if (hold_tick(&st))
		finish();
	Timer::set(sg4::Engine::get_clock() + (double)hold_incr[k++ % HOLD_TABLE] * 1e-9, &timer_fired);
}

static void actor_main()
{
	for (;;) {
		sg4::this_actor::sleep_for((double)hold_incr[k++ % HOLD_TABLE] * 1e-9);
		if (hold_tick(&st))
			finish();
	}
}

int main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "timers") && strcmp(argv[1], "actors"))) {
		fprintf(stderr, "usage: %s timers|actors N SECONDS [EVENTS]\n", argv[0]);
		return 2;
	}
	bool actors = !strcmp(argv[1], "actors");
	hold_setup(argc - 1, argv + 1, &st.cfg);

	char arg0[] = "hold_simgrid", log[] = "--log=root.thres:critical";
	char cfg[] = "--cfg=contexts/stack-size:64";
	char *sg_argv[] = { arg0, log, cfg, nullptr };
	int sg_argc = 3;
	sg4::Engine e(&sg_argc, sg_argv);
	sg4::Host *host = sg4::create_full_zone("world")->create_host("h", 1e9);
	host->get_englobing_zone()->seal();

	if (actors) {
		for (uint64_t i = 0; i < st.cfg.n; i++)
			sg4::Actor::create("hold", host, &actor_main);
	} else {
		for (uint64_t i = 0; i < st.cfg.n; i++)
			Timer::set((double)hold_incr[k++ % HOLD_TABLE] * 1e-9, &timer_fired);
	}
	e.run();
	fprintf(stderr, "hold_simgrid: the engine stopped before the run was over\n");
	return 1;
}
