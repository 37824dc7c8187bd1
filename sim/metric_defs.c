/* SPDX-License-Identifier: MIT */
/* sim/metric_defs.c — the metrics of every run, and looking a metric's definition up. */
#include <string.h>

#include "driver.h"
#include "metric_defs.h"

/* Set by sim/run.c after the driver's report(), whatever the model. */
const struct metric_def metric_defs_common[] = {
	{ "sim_time_ns", "ns", "simulated time at the end of the run: the last record's or "
	  "event's time (the run's length; sums over many operations, like *_wait_ns, can "
	  "exceed it)", NULL, false },
	{ "records", "count", "trace records replayed", NULL, false },
	{ "events", "count", "simulator events processed (records plus the events the model "
	  "scheduled: timers, completions, preemption points)", NULL, false },
	{ "alloc_fail_injected", "count", "model allocations made to fail by alloc_fail_ppm "
	  "(modelled -ENOMEM, drawn from the run seed)", "alloc_fail_ppm > 0", false },
	METRIC_DEF_END,
};

bool metric_def_matches(const struct metric_def *d, const char *name)
{
	size_t n = strlen(d->name);

	if (n && d->name[n - 1] == '*')
		return strncmp(d->name, name, n - 1) == 0 && name[n - 1];
	return strcmp(d->name, name) == 0;
}

static const struct metric_def *find_in(const struct metric_def *t, const char *name,
					bool series)
{
	for (; t && t->name; t++)
		if (t->series == series && metric_def_matches(t, name))
			return t;
	return NULL;
}

const struct metric_def *metric_def_find(const struct model_driver *d, const char *name,
					 bool series)
{
	const struct metric_def *m = d ? find_in(d->metrics, name, series) : NULL;

	return m ? m : find_in(metric_defs_common, name, series);
}
