/* SPDX-License-Identifier: MIT */
/*
 * models/relinquish.h — when a dying domain's shared p2m entries are released, how often the
 * release loop offers to yield the pCPU (seed 000, patch 1; later upstream weighting).
 *
 * The loop itself lives in models/sharing.c (sharing_relinquish_step); a policy only decides,
 * after each p2m entry, whether to call the host's preemption check now.
 *
 *   monolithic        never checks: the whole pass is one non-preemptible stretch (the old
 *                     p2m_teardown in an RCU callback)
 *   preemptible       checks after every `batch` shared entries released (seed: 512 = 2 MiB)
 *   preemptible-seed  the seed's literal test, `count == batch`: checks once, at the 512th
 *                     entry, and never again if nothing was pending then (count is not reset)
 *   weighted          shared entries weigh `weight_shared`, other entries `weight_private`;
 *                     checks when the accumulated weight reaches `weight_threshold`, then resets
 *                     (upstream's later form: 16, 1, 8192)
 */
#ifndef MEMSIM_MODELS_RELINQUISH_H
#define MEMSIM_MODELS_RELINQUISH_H

#include "model.h"

struct relinquish_params {
	uint64_t batch;             /* shared entries between checks (preemptible*) */
	uint64_t weight_shared;     /* weighted: progress per shared entry released */
	uint64_t weight_private;    /* weighted: progress per other entry examined */
	uint64_t weight_threshold;  /* weighted: progress between checks */
};

extern const struct model_param relinquish_param_table[];
#define RELINQUISH_NPARAMS 4

/* Where a preempted relinquish resumes, kept in the domain between slices.  The loop zeroes
 * count and progress at the start of every slice: the seed's count is a local variable of
 * the hypercall, so "never reset" means never within one slice. */
struct relinquish_cursor {
	uint64_t next_gfn;
	uint64_t count;     /* shared entries released (never reset by preemptible-seed) */
	uint64_t progress;  /* weighted progress since the last check */
	bool started;
};

struct relinquish_policy {
	const char *name;
	const char *doc;
	/* Called after each p2m entry examined; true if the loop must check for preemption. */
	bool (*should_check)(const struct relinquish_params *p, struct relinquish_cursor *c,
			     bool entry_was_shared);
	/*
	 * Optional (NULL: the loop calls should_check once per entry).  Closed form of calling
	 * should_check(p, c, false) for up to n >= 1 consecutive entries that are not shared
	 * (a hole of absent p2m leaves): applies the effect of those calls on *c up to and
	 * including the first that returns true, and returns how many calls that is (1..n);
	 * *check tells whether the last of them returned true.  Must match the per-entry calls
	 * exactly (tests/unit/test_relinquish.c compares them).
	 */
	uint64_t (*skip)(const struct relinquish_params *p, struct relinquish_cursor *c,
			 uint64_t n, bool *check);
};

extern const struct relinquish_policy *const relinquish_policies[];  /* NULL-terminated */
const struct relinquish_policy *relinquish_policy_find(const char *name);
void relinquish_params_default(struct relinquish_params *p);
int relinquish_params_validate(const struct relinquish_params *p);

#endif
