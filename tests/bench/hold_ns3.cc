// SPDX-License-Identifier: MIT
// tests/bench/hold_ns3.cc — hold model on ns-3's event scheduler: every event schedules its
// successor with Simulator::Schedule.  usage: hold_ns3 SCHEDULER N SECONDS [EVENTS], where
// SCHEDULER is an ns-3 TypeId name (ns3::MapScheduler is ns-3's default).
#include "hold.h"
#include "ns3/core-module.h"

using namespace ns3;

static struct hold_state st;
static unsigned int k;

static void
Hold()
{
	if (hold_tick(&st)) {
		hold_report(&st, Simulator::Now().GetNanoSeconds());
		Simulator::Stop();
		return;
	}
	Simulator::Schedule(NanoSeconds(hold_incr[k++ % HOLD_TABLE]), &Hold);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s SCHEDULER N SECONDS [EVENTS]\n", argv[0]);
		return 2;
	}
	ObjectFactory factory;
	factory.SetTypeId(argv[1]);
	hold_setup(argc - 1, argv + 1, &st.cfg);
	Simulator::SetScheduler(factory);
	for (uint64_t i = 0; i < st.cfg.n; i++)
		Simulator::Schedule(NanoSeconds(hold_incr[k++ % HOLD_TABLE]), &Hold);
	Simulator::Run();
	// skip Simulator::Destroy(): it would only free the pending events, untimed
	return 0;
}
