/* SPDX-License-Identifier: MIT */
/*
 * sim/calibrate.h — calibration: harness output in, nanoseconds per work unit out.
 *
 * The kernel module (hw-validate/) runs the models/ code and reports, per batch, the
 * measured time of the timed region and the work units the models counted.  Calibration
 * fits
 *
 *     t_batch  =  c0  +  sum over units u of  cost_u * count_u  +  c_irq * irqs
 *
 * c0 (the intercept) is the fixed cost of measuring a batch; c_irq the cost of an interrupt
 * taken inside the timed region (a timer tick in the QEMU guest executes ~10^5 instructions,
 * which would otherwise be charged to whatever units the batch counted).  Neither goes into
 * the profile: the simulator prices work, not the measurement's disturbances.
 *
 * by weighted least squares (GSL's gsl_multifit_wlinear).  Weights are 1/t^2 by default
 * (relative residuals): the batches span five decades, and the question validation asks is
 * a relative one (predicted vs measured within 15 %).  Standard errors are the covariance
 * scaled by the reduced chi^2 (the weights fix only the shape of the errors, not their
 * size), and 95 % intervals use Student's t on n - p degrees of freedom.
 *
 * What the fit refuses, with a message naming the units: fewer batches than unknowns, and a
 * degenerate design (two units, or a unit and the intercept, that keep the same proportion
 * in every batch: no data can tell their costs apart).  A unit no batch counted is left out
 * ("absent").  A unit whose cost comes out negative is removed and the rest refitted (an
 * active-set approximation of non-negative least squares): a negative cost has no meaning,
 * and it only appears when a unit is confounded with others.
 *
 * This file also reads the harness's output (docs/validation.md, "Harness output") and the
 * calibration plan and validation scenario files (docs/validation.md, "Calibration").
 */
#ifndef MEMSIM_SIM_CALIBRATE_H
#define MEMSIM_SIM_CALIBRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"

#define CALIB_NAME_LEN 48
#define CALIB_MAX_PARAMS 8
#define CALIB_MAX_EVENTS 8
#define CALIB_MAX_TIERS 8

/* ---- observations ----------------------------------------------------------------------- */

struct calib_obs {
	double y;                      /* measured: ns, or instructions/cycles (see basis) */
	uint64_t wu[WU__COUNT];        /* work units the models counted in the timed region */
	uint64_t footprint;            /* bytes of the structure walked (for tiers) */
	uint64_t irqs;                 /* interrupts taken during the timed region */
};

/* One `batch` line of memsim-hw. */
struct calib_batch {
	char model[CALIB_NAME_LEN], policy[CALIB_NAME_LEN], op[CALIB_NAME_LEN];
	char params[128];              /* "heavy=32,light=8" or "-" */
	uint64_t n, i;
	uint64_t ns, tsc, ops, irqs;
	unsigned nev;
	char ev_name[CALIB_MAX_EVENTS][CALIB_NAME_LEN];
	uint64_t ev[CALIB_MAX_EVENTS];
	struct calib_obs o;            /* o.y is set by calib_set_measure() */
};

/* Everything read from harness output files. */
struct calib_set {
	struct calib_batch *b;
	size_t n, cap;
	char kernel[64];               /* of the machine the module ran on (harness `host`) */
	char cpu[128];
	char pmu[64];
	char counted[256];             /* events that counted, comma-separated ("" if none) */
	char unavailable[256];         /* events that did not */
	bool clock_based;              /* some request said basis=clock-based */
	unsigned requests;
};

void calib_set_init(struct calib_set *s);
void calib_set_free(struct calib_set *s);
/*
 * Appends the records of one memsim-hw output (text, named origin in messages).  A request
 * that did not succeed (status other than 0) is an error naming it.  0, or -1 with
 * "ORIGIN:LINE: what" in err.
 */
int calib_parse_harness(struct calib_set *s, const char *text, const char *origin,
			char *err, size_t errlen);
/*
 * Sets every batch's o.y from `measure`: "ns" (ktime), "tsc" (the batch's TSC cycles; under
 * QEMU -icount one tick per instruction) or "ev.NAME" (a perf counter).  0, or -1 with a
 * message naming the first batch that lacks it.
 */
int calib_set_measure(struct calib_set *s, const char *measure, char *err, size_t errlen);

/* ---- the fit ---------------------------------------------------------------------------- */

enum calib_weight {
	CALIB_WEIGHT_RELATIVE,   /* 1/y^2: minimise relative residuals (default) */
	CALIB_WEIGHT_NONE,       /* ordinary least squares */
};

struct calib_fit_opts {
	bool intercept;          /* fit c0 (the fixed cost of a measured batch) */
	bool nonneg;             /* drop units with a negative cost and refit */
	bool irq_term;           /* fit a cost per interrupt taken in the timed region */
	enum calib_weight weight;
};

enum calib_unit_state {
	CALIB_ABSENT = 0,        /* no batch counted it: not fitted, no cost line */
	CALIB_FITTED,
	CALIB_NEGATIVE,          /* fitted negative, removed (cost 0), the others refitted */
};

struct calib_coef {
	double est, se, lo, hi;  /* estimate, standard error, 95 % interval (NaN without dof) */
};

struct calib_fit {
	size_t nobs, nparams, dof;
	enum calib_unit_state state[WU__COUNT];
	struct calib_coef unit[WU__COUNT];
	bool has_intercept;
	struct calib_coef intercept;
	bool has_irq;            /* the fit has an interrupt term (some batch took one) */
	struct calib_coef irq;   /* cost of one interrupt: a nuisance, not part of the profile */
	double chisq;            /* weighted sum of squared residuals */
	double chisq_dof;        /* chisq / dof (NaN with dof 0) */
	double r2;               /* weighted coefficient of determination */
	double rel_rms, rel_max; /* relative residuals (fitted - y) / y: rms and largest |.| */
	unsigned negative;       /* units removed for a negative cost */
};

/* Default options: intercept, interrupt term, non-negative, relative weights. */
void calib_fit_opts_default(struct calib_fit_opts *o);
/*
 * Fits obs[0..n).  0, or -1 with a one-line message (degenerate design, too few batches, a
 * non-positive measurement under relative weights, nothing to fit).
 */
int calib_fit(const struct calib_obs *obs, size_t n, const struct calib_fit_opts *o,
	      struct calib_fit *fit, char *err, size_t errlen);
/* The fitted value for one observation (intercept and interrupts included). */
double calib_predict(const struct calib_fit *fit, const struct calib_obs *ob);

/*
 * Footprint tiers: bounds[0] < bounds[1] < ... split the batches into nb + 1 bands
 * (footprint <= bounds[0], ..., > bounds[nb-1]); each band is fitted on its own.  A band
 * whose fit fails (too few batches, degenerate) falls back to the flat fit, and so does a
 * unit the band did not count; used[t] says whether band t has its own fit, and msg[t]
 * why not.  0, or -1 if the flat fit itself fails.
 */
struct calib_tiers {
	unsigned nb;
	uint64_t bounds[CALIB_MAX_TIERS - 1];
	struct calib_fit flat;
	struct calib_fit band[CALIB_MAX_TIERS];
	bool used[CALIB_MAX_TIERS];
	size_t nobs[CALIB_MAX_TIERS];
	char msg[CALIB_MAX_TIERS][256];
};
int calib_fit_tiers(const struct calib_obs *obs, size_t n, const struct calib_fit_opts *o,
		    const uint64_t *bounds, unsigned nb, struct calib_tiers *t,
		    char *err, size_t errlen);
/* Cost of unit u in band b: the band's fit, else the flat one (0 when removed/absent). */
double calib_tier_cost(const struct calib_tiers *t, unsigned b, unsigned u);

/*
 * Writes a cost profile (docs/cost-profiles.md): `name`, the meta lines given (keys and
 * values, NULL-terminated arrays; values must not hold '#' or a newline), then one cost line
 * per fitted unit (per tier with bounds) with its 95 % interval as a comment.  Costs are
 * rounded to picoseconds.
 */
void calib_write_profile(FILE *out, const char *name, const char *const *meta_keys,
			 const char *const *meta_values, const struct calib_tiers *t);

/* ---- plan and scenario files ----------------------------------------------------------- */

/*
 * One line of a plan:  WORD WORD [WORD] key=value...   (docs/validation.md).  Plans expand
 * `n=A,B,C` into one request per size.
 */
struct calib_req {
	char model[CALIB_NAME_LEN], policy[CALIB_NAME_LEN], op[CALIB_NAME_LEN];
	uint64_t n;
	uint32_t k;
	unsigned nparams;
	char pname[CALIB_MAX_PARAMS][CALIB_NAME_LEN];
	uint64_t pval[CALIB_MAX_PARAMS];
	unsigned line;           /* in the plan file */
};

/*
 * Parses a calibration plan: each line `MODEL POLICY OP n=N[,N...] [k=K] [NAME=VALUE]...`.
 * *reqs is malloc'ed.  0, or -1 with "ORIGIN:LINE: what".
 */
int calib_plan_parse(const char *text, const char *origin, struct calib_req **reqs,
		     size_t *n, char *err, size_t errlen);
/*
 * Parses a validation scenario list: each line `MODEL POLICY n=N [k=K] [NAME=VALUE]...` (op
 * left empty, k = 1 by default).  Same conventions.
 */
int calib_scen_parse(const char *text, const char *origin, struct calib_req **reqs,
		     size_t *n, char *err, size_t errlen);
/* Value of parameter name in r, or def. */
uint64_t calib_req_param(const struct calib_req *r, const char *name, uint64_t def);
/* Removes a parameter from r (no-op if absent). */
void calib_req_drop_param(struct calib_req *r, const char *name);

/* Built-in plans and scenario lists ("builtin", "small"); NULL if unknown. */
const char *calib_builtin_plan(const char *name);
const char *calib_builtin_scenarios(const char *name);

#endif
