// SPDX-License-Identifier: MIT
/*
 * hw-validate/kmod/ops_superpage.c — superpage reference counting (models/superpage.c) in
 * the module: the fork storm of seed 002, one fork.
 *
 * Domain 1 holds a region of n 2 MiB superpages from gfn 0x40000 (1 GiB, where the
 * fork-storm scenario puts it), populated, marked (the guest's mmuext op: ignored by
 * per-page) and mapped once by the parent.  Operation (the timed part):
 *
 *   map   the fork: every superpage mapped into the child, one L2 entry each, in ascending
 *         order, one mmu_update hypercall per request as sim/drv_superpage.c counts it with
 *         hypercall_batch = 1 (the module has no hypercall to enter: WU_HYPERCALL is
 *         counted so the work matches the simulator's, and calibration prices it)
 *
 *   mark  the guest's marks of the populated region, one mmuext_op hypercall each (none
 *         under per-page, which has no such op: the guest does not issue it); with `map` it
 *         tells the hypercall's cost from the L2 entry's lock, which every map counts once
 *
 * Policy: per-page or marked.  Parameters: superpage_param_table (the region must lie below
 * max_gb).
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/build_bug.h>

#include "msk.h"
#include "superpage.h"

#define SPK_DOMAIN 1
#define SPK_GFN_BASE 0x40000ULL        /* traces/scen_superpage.c's region base */

struct superpage_pstate {
	const struct superpage_policy *pol;
	struct superpage_params p;
};

static struct superpage_pstate *PS(struct msk_ctx *c)
{
	BUILD_BUG_ON(sizeof(struct superpage_pstate) > sizeof(c->pstate));
	return (struct superpage_pstate *)c->pstate;
}

static const char *superpage_op_policy(unsigned int i)
{
	unsigned int np = 0;

	while (superpage_policies[np])
		np++;
	return i < np ? superpage_policies[i]->name : NULL;
}

static const char *superpage_op_param(unsigned int i)
{
	return i < SUPERPAGE_NPARAMS ? superpage_param_table[i].name : NULL;
}

static int superpage_op_prepare(struct msk_ctx *c)
{
	struct superpage_pstate *ps = PS(c);
	u64 f[SUPERPAGE_NPARAMS];
	u64 limit;
	int ret;

	BUILD_BUG_ON(sizeof(struct superpage_params) != SUPERPAGE_NPARAMS * sizeof(u64));
	ps->pol = superpage_policy_find(c->req->policy);
	if (!ps->pol)
		return -EINVAL;
	superpage_params_default(&ps->p);
	memcpy(f, &ps->p, sizeof(f));
	ret = msk_params_apply(c, superpage_param_table, SUPERPAGE_NPARAMS, f);
	if (ret)
		return ret;
	memcpy(&ps->p, f, sizeof(f));
	if (superpage_params_validate(&ps->p))
		return -EINVAL;
	/* the region [1 GiB, 1 GiB + n * 2 MiB) must lie below max_gb */
	limit = (ps->p.max_gb << (30 - 12 - SP_ORDER)) - (SPK_GFN_BASE >> SP_ORDER);
	if (c->n > limit)
		return -EINVAL;
	/* per superpage: a 4 KiB + 16 B block of page state and its directory slot; the
	 * directory spans the base too; plus the model's tables */
	c->est_bytes = msk_est(c->n + (SPK_GFN_BASE >> SP_ORDER), 4096 + 64, 1 << 20);
	return 0;
}

static void superpage_op_teardown(struct msk_ctx *c)
{
	struct superpage_model *m = c->priv;

	if (m)
		superpage_model_destroy(m);
}

static int superpage_op_setup(struct msk_ctx *c)
{
	struct superpage_pstate *ps = PS(c);
	struct superpage_model *m = superpage_model_create(ps->pol, &ps->p);
	u64 i, gfn;
	int ret;

	if (!m)
		return -ENOMEM;
	c->priv = m;
	c->work = &m->work;
	ret = superpage_domain_create(m, SPK_DOMAIN);
	if (ret)
		return ret;
	/* populate, mark, then the parent's mapping: the scenario's phases in its order */
	for (i = 0, gfn = SPK_GFN_BASE; i < c->n; i++, gfn += SP_PAGES) {
		ret = superpage_populate(m, SPK_DOMAIN, gfn, SP_ORDER);
		if (ret < 0)
			return ret;
	}
	if (!strcmp(c->req->op, "mark"))
		return 0;
	for (i = 0, gfn = SPK_GFN_BASE; i < c->n; i++, gfn += SP_PAGES) {
		ret = superpage_mark(m, SPK_DOMAIN, gfn);
		if (ret < 0)
			return ret;
	}
	for (i = 0, gfn = SPK_GFN_BASE; i < c->n; i++, gfn += SP_PAGES) {
		ret = superpage_map(m, SPK_DOMAIN, gfn);
		if (ret < 0)
			return ret;
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int superpage_op_map(struct msk_ctx *c)
{
	struct superpage_model *m = c->priv;
	u64 i, gfn;
	int ret;

	for (i = 0, gfn = SPK_GFN_BASE; i < c->n; i++, gfn += SP_PAGES) {
		work_add(&m->work, WU_HYPERCALL, 1);
		ret = superpage_map(m, SPK_DOMAIN, gfn);
		if (ret < 0)
			return ret;
		c->ops++;
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int superpage_op_mark(struct msk_ctx *c)
{
	struct superpage_model *m = c->priv;
	u64 i, gfn;
	int ret;

	for (i = 0, gfn = SPK_GFN_BASE; i < c->n; i++, gfn += SP_PAGES) {
		if (m->pol->mark)
			work_add(&m->work, WU_HYPERCALL, 1);
		ret = superpage_mark(m, SPK_DOMAIN, gfn);
		if (ret < 0)
			return ret;
		c->ops++;
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int superpage_op_check(struct msk_ctx *c)
{
	return superpage_check(c->priv);
}

#define SUPERPAGE_OP(name, fn, text) {                                         \
	.model = "superpage", .op = name, .doc = text,                         \
	.policy_name = superpage_op_policy, .param_name = superpage_op_param,  \
	.prepare = superpage_op_prepare, .setup = superpage_op_setup, .run = fn, \
	.check = superpage_op_check, .teardown = superpage_op_teardown }

const struct msk_op msk_superpage_ops[] = {
	SUPERPAGE_OP("map", superpage_op_map,
		     "map a marked region of n superpages into a forked child (seed 002)"),
	SUPERPAGE_OP("mark", superpage_op_mark, "mark a populated region of n superpages"),
	{ .model = NULL }
};
