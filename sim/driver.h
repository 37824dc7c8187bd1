/* SPDX-License-Identifier: MIT */
/*
 * sim/driver.h — a model driver binds a family of models/ policies to the machine model:
 * it turns trace records into model operations, turns counted work into simulated time with
 * the cost profile, occupies pCPUs, and reports metrics.
 *
 * Like mm/damon's operations sets, a driver is mostly data: its name, its policies, the
 * parameters it takes, and a handful of hooks.
 */
#ifndef MEMSIM_SIM_DRIVER_H
#define MEMSIM_SIM_DRIVER_H

#include "metric_defs.h"
#include "metrics.h"
#include "param.h"
#include "profile.h"
#include "sim.h"

struct model_driver {
	const char *name;                 /* --model NAME */
	const char *doc;
	const char *const *policies;      /* --policy names, NULL-terminated; first is default */
	const char *const *policy_docs;   /* one line each, same order */
	/* Adds every parameter the driver takes (model, policy and machine) to ps. */
	void (*add_params)(struct param_set *ps);
	/* Builds the driver's state for one run; NULL + message on failure. */
	void *(*create)(struct sim *s, const char *policy, const struct param_set *ps,
			const struct cost_profile *prof, char *err, size_t errlen);
	const struct sim_handlers *handlers;
	/* Called once after the run: puts every metric into mx. */
	void (*report)(void *ctx, struct sim *s, struct metrics *mx);
	void (*destroy)(void *ctx);
	/* What each metric report() can put into mx means (sim/metric_defs.h). */
	const struct metric_def *metrics;
};

/* Drivers, one file each (sim/drv_*.c). */
extern const struct model_driver rmap_driver;        /* drv_sharing.c */
extern const struct model_driver relinquish_driver;  /* drv_sharing.c */
extern const struct model_driver null_driver;        /* drv_null.c */
extern const struct model_driver scrub_driver;       /* drv_scrub.c */
extern const struct model_driver superpage_driver;   /* drv_superpage.c */
extern const struct model_driver shadow_driver;      /* drv_shadow.c */
extern const struct model_driver hinting_driver;     /* drv_hinting.c */

extern const struct model_driver *const model_drivers[];   /* NULL-terminated */
const struct model_driver *driver_find(const char *name);
/* Index of policy in d->policies, or -1. */
int driver_policy_index(const struct model_driver *d, const char *policy);

#endif
