/* SPDX-License-Identifier: MIT */
/*
 * sim/vfamily.h — `memsim validate` scenarios of the scrub, shadow and hinting families
 * (sim/cmd_calibrate.c runs rmap, relinquish and superpage itself).
 *
 * Each family names the module request its scenario line becomes and how the simulator
 * runs the same work:
 *
 *   scrub POLICY n=PAGES     module `scrub POLICY destroy`; simulator: scenario destroy of a
 *                            domain of PAGES pages (mem_mb = PAGES / 256) on one pCPU with no
 *                            dom0 ticks, so the destroy's time is its own work (the
 *                            scrubbers run after it); predicted: destroy_ns
 *   shadow POLICY n=LEAVES   module `shadow POLICY walk`; simulator: a trace of the same
 *                            address space (pt_alloc root, L2s and leaves, cr3_load) and one
 *                            pt_access (accessed bit set) per leaf; predicted: shadow_ns
 *   hinting POLICY n=PAGES   module `hinting POLICY cycle`; simulator: a trace allocating
 *                            the pages, then freeing and allocating them again; predicted:
 *                            total_ns
 *
 * The trace scenarios are run twice, with and without the records of the module's timed
 * region, and the prediction (and each work unit) is the difference: exactly the work of
 * the timed region, which is what the module measured.
 */
#ifndef MEMSIM_SIM_VFAMILY_H
#define MEMSIM_SIM_VFAMILY_H

#include <stddef.h>

#include "calibrate.h"
#include "run.h"

struct vfamily {
	const char *model;                 /* the scenario line's MODEL */
	const char *mod_model, *mod_op;    /* the module request it becomes */
	const char *metric;                /* the simulator's prediction */
	/* refuses a line the family cannot measure: 0, or -1 with "what is wrong" in err */
	int (*check)(const struct calib_req *s, char *err, size_t errlen);
	/* the simulator's prediction with profile, in *ns; the run (the full trace for the
	 * trace scenarios) is left in *r for the caller to store and free */
	int (*sim)(const struct calib_req *s, const char *profile, struct run *r, double *ns,
		   char *err, size_t errlen);
};

/* The family of a scenario line's MODEL, or NULL (rmap, relinquish, superpage, unknown). */
const struct vfamily *vfamily_find(const char *model);

/* Lines for `memsim validate --help`, one per family. */
extern const char vfamily_usage[];

#endif /* MEMSIM_SIM_VFAMILY_H */
