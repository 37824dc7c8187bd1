/* SPDX-License-Identifier: MIT */
/*
 * traces/scenarios.h — the registry of synthetic trace scenarios (traces/scenarios.c).
 *
 * To add a scenario: define `const struct scenario scenario_NAME` in its own C file under
 * traces/, declare it below, and add `&scenario_NAME` to the table in traces/scenarios.c.
 * A generator takes its integer parameters (indexed like its params[] table) and a seed,
 * draws randomness only from GSL generators seeded from that seed, and yields records with
 * non-decreasing time in constant memory (or memory proportional to its live state).
 */
#ifndef MEMSIM_TRACES_SCENARIOS_H
#define MEMSIM_TRACES_SCENARIOS_H

#include "trace.h"

/* ---- registered scenarios (one line each) ---- */
extern const struct scenario scenario_smoke;
extern const struct scenario scenario_one_frame;    /* scen_sharing.c */
extern const struct scenario scenario_population;   /* scen_sharing.c */
extern const struct scenario scenario_fork_storm;   /* scen_superpage.c */
extern const struct scenario scenario_scrub_destroy;         /* scen_scrub.c */
extern const struct scenario scenario_scrub_destroy_create;  /* scen_scrub.c */
extern const struct scenario scenario_working_set;  /* scen_shadow.c */
extern const struct scenario scenario_long_lived;   /* scen_shadow.c */
extern const struct scenario scenario_churn;        /* scen_hinting.c */
extern const struct scenario scenario_page_cache;   /* scen_hinting.c */

#define SCENARIO_MAX_PARAMS 32

size_t scenario_nparams(const struct scenario *sc);
/* Fills values[] with the defaults of sc's parameters. */
void scenario_defaults(const struct scenario *sc, uint64_t *values);
/* Index of parameter `name` in sc->params, or -1. */
int scenario_param_index(const struct scenario *sc, const char *name);
/* "name=value ... seed=N" into buf (truncated to len). */
void scenario_format_params(const struct scenario *sc, const uint64_t *values, uint64_t seed,
			    char *buf, size_t len);
/*
 * Checks values[] against the parameter ranges, opens the generator, and fills the
 * provenance the generator left empty: source "synthetic:NAME", recorder "memsim VERSION",
 * params as scenario_format_params(), page size 4096.  NULL + message on failure.
 */
struct rec_source *scenario_open(const struct scenario *sc, const uint64_t *values,
				 uint64_t seed, char *err, size_t errlen);

#endif /* MEMSIM_TRACES_SCENARIOS_H */
