/* SPDX-License-Identifier: MIT */
/*
 * sim/progress.h — a progress line on stderr for long runs.
 *
 * A run that is still going after PROGRESS_AFTER_NS of wall time, with stderr a terminal,
 * gets one line, redrawn twice a second: records and events so far, simulated time, wall
 * time and rate.  It is drawn by a thread of its own, so that one long model operation (a
 * monolithic destroy of a long list) still shows the wall clock moving; the engine only
 * publishes its counters with relaxed atomic stores.  Nothing is printed for short runs,
 * when stderr is not a terminal, or with MEMSIM_NO_PROGRESS set (sweep workers set it:
 * the sweep draws its own line).  MEMSIM_PROGRESS_AFTER_MS sets the delay of the first line
 * (the tests use 0).
 */
#ifndef MEMSIM_SIM_PROGRESS_H
#define MEMSIM_SIM_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#define PROGRESS_AFTER_NS  2000000000ULL   /* the first line after 2 s */
#define PROGRESS_EVERY_NS   500000000ULL   /* then twice a second */

struct sim;
struct progress;

/* Whether this process should show progress at all (stderr a terminal, not disabled). */
bool progress_wanted(void);
/* Starts the display thread for s; NULL if progress is off or the thread cannot start
 * (progress is a courtesy: a run never fails for want of it). */
struct progress *progress_start(const struct sim *s);
/* Stops and joins the thread; ends the line with a newline if one was drawn. */
void progress_stop(struct progress *p);

#endif
