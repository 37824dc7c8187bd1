/* SPDX-License-Identifier: MIT */
/*
 * models/relinquish.c — preemption policies of the relinquish-on-destroy loop (seed 000,
 * patch 1).  A policy is pure decision logic over a cursor: the loop that releases p2m
 * entries is in models/sharing.c; docs/models/relinquish.md explains both.
 *
 * Cursor fields, as every policy uses them (the loop zeroes count and progress at the start
 * of each slice, because the seed's `count` is a local variable of the hypercall):
 *   count     shared entries released in this slice
 *   progress  preemptible: shared entries since the last check;
 *             weighted: accumulated weight since the last check
 */
#include "relinquish.h"

/*
 * Parameters, in struct relinquish_params field order (relinquish_param_off must match).
 * The seed checks "every 2MiB. Arbitrary": 512 entries of 4 KiB pages.  Upstream later
 * weighted a shared entry 16 and any other entry 1 against a budget of 0x2000, so a check
 * comes after 512 shared entries or 8192 others (32 MiB of address space).
 */
const struct model_param relinquish_param_table[RELINQUISH_NPARAMS] = {
	{ "batch", 512, 1, 1ULL << 32,
	  "preemptible, preemptible-seed: shared entries between preemption checks (seed: 2 MiB of 4 KiB pages)" },
	{ "weight_shared", 16, 1, 1ULL << 32,
	  "weighted: progress per shared entry released (units of progress)" },
	{ "weight_private", 1, 0, 1ULL << 32,
	  "weighted: progress per other p2m entry examined, holes included (units of progress)" },
	{ "weight_threshold", 8192, 1, 1ULL << 40,
	  "weighted: progress between preemption checks (units of progress; 8192 = 512 shared or 8192 other entries)" },
};

static const size_t relinquish_param_off[RELINQUISH_NPARAMS] = {
	offsetof(struct relinquish_params, batch),
	offsetof(struct relinquish_params, weight_shared),
	offsetof(struct relinquish_params, weight_private),
	offsetof(struct relinquish_params, weight_threshold),
};

void relinquish_params_default(struct relinquish_params *p)
{
	unsigned i;

	for (i = 0; i < RELINQUISH_NPARAMS; i++)
		*(uint64_t *)((char *)p + relinquish_param_off[i]) = relinquish_param_table[i].def;
}

int relinquish_params_validate(const struct relinquish_params *p)
{
	unsigned i;

	if (!p)
		return -EINVAL;
	for (i = 0; i < RELINQUISH_NPARAMS; i++) {
		uint64_t v = *(const uint64_t *)((const char *)p + relinquish_param_off[i]);

		if (v < relinquish_param_table[i].min || v > relinquish_param_table[i].max)
			return -EINVAL;
	}
	return 0;
}

/* ---- monolithic: the old p2m_teardown in an RCU callback -------------------------------- */

static bool mono_should_check(const struct relinquish_params *p, struct relinquish_cursor *c,
			      bool shared)
{
	c->count += shared;
	return false;
}

static uint64_t mono_skip(const struct relinquish_params *p, struct relinquish_cursor *c,
			  uint64_t n, bool *check)
{
	*check = false;
	return n;
}

/* ---- preemptible: a check after every `batch` shared entries, counter reset each time ---- */

static bool pre_should_check(const struct relinquish_params *p, struct relinquish_cursor *c,
			     bool shared)
{
	if (!shared)
		return false;
	c->count++;
	if (++c->progress < p->batch)
		return false;
	c->progress = 0;
	return true;
}

/* Entries that are not shared never bring a check: a hole passes whole. */
static uint64_t pre_skip(const struct relinquish_params *p, struct relinquish_cursor *c,
			 uint64_t n, bool *check)
{
	*check = false;
	return n;
}

/*
 * ---- preemptible-seed: the seed's literal `(count == 512) && hypercall_preempt_check()` ----
 * The test runs after every gfn examined, shared or not, and count is never reset within a
 * call.  So the check fires at the 512th shared entry and again at every following entry
 * that is not shared; the next shared entry makes count 513 and it never fires again in
 * this call.  If nothing was pending at the first check, the rest of the pass is one
 * stretch.
 */
static bool seed_should_check(const struct relinquish_params *p, struct relinquish_cursor *c,
			      bool shared)
{
	c->count += shared;
	return c->count == p->batch;
}

static uint64_t seed_skip(const struct relinquish_params *p, struct relinquish_cursor *c,
			  uint64_t n, bool *check)
{
	if (c->count == p->batch) {
		*check = true;
		return 1;
	}
	*check = false;
	return n;
}

/* ---- weighted: upstream's later form, shared 16, other 1, check at 8192 ------------------ */

static bool weighted_should_check(const struct relinquish_params *p,
				  struct relinquish_cursor *c, bool shared)
{
	c->count += shared;
	c->progress += shared ? p->weight_shared : p->weight_private;
	if (c->progress < p->weight_threshold)
		return false;
	c->progress = 0;
	return true;
}

/* The k-th entry of the hole brings the check when progress + k * weight_private reaches
 * the threshold: k = ceil((threshold - progress) / weight_private). */
static uint64_t weighted_skip(const struct relinquish_params *p, struct relinquish_cursor *c,
			      uint64_t n, bool *check)
{
	uint64_t need, k;

	*check = false;
	if (!p->weight_private)
		return n;
	need = c->progress < p->weight_threshold ? p->weight_threshold - c->progress : 0;
	k = need ? (need + p->weight_private - 1) / p->weight_private : 1;
	if (k <= n) {
		c->progress = 0;
		*check = true;
		return k;
	}
	/* n < k, so n * weight_private < need <= threshold: no overflow. */
	c->progress += n * p->weight_private;
	return n;
}

static const struct relinquish_policy relinquish_monolithic = {
	.name = "monolithic",
	.doc = "no preemption check: the whole release is one non-preemptible stretch (p2m_teardown in an RCU callback)",
	.should_check = mono_should_check,
	.skip = mono_skip,
};

static const struct relinquish_policy relinquish_preemptible = {
	.name = "preemptible",
	.doc = "a preemption check after every `batch` shared entries released, resuming where it stopped",
	.should_check = pre_should_check,
	.skip = pre_skip,
};

static const struct relinquish_policy relinquish_preemptible_seed = {
	.name = "preemptible-seed",
	.doc = "the seed's literal `count == batch` test: checks at the batch-th shared entry and never after it if nothing was pending",
	.should_check = seed_should_check,
	.skip = seed_skip,
};

static const struct relinquish_policy relinquish_weighted = {
	.name = "weighted",
	.doc = "shared entries weigh weight_shared, others weight_private; a check each time the sum reaches weight_threshold",
	.should_check = weighted_should_check,
	.skip = weighted_skip,
};

const struct relinquish_policy *const relinquish_policies[] = {
	&relinquish_monolithic,
	&relinquish_preemptible,
	&relinquish_preemptible_seed,
	&relinquish_weighted,
	NULL,
};

const struct relinquish_policy *relinquish_policy_find(const char *name)
{
	unsigned i;

	if (!name)
		return NULL;
	for (i = 0; relinquish_policies[i]; i++)
		if (env_streq(relinquish_policies[i]->name, name))
			return relinquish_policies[i];
	return NULL;
}
