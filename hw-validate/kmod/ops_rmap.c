// SPDX-License-Identifier: MIT
/*
 * hw-validate/kmod/ops_rmap.c — the shared-frame reverse map (models/rmap*.c) in the module.
 *
 * One frame's rmap holds the tuples <domain 1, gfn 0..n-1>, added in ascending gfn order as
 * a domain that shares its pages one after the other would add them.  Operations (the
 * timed part):
 *
 *   build    n adds into an empty rmap (conversions list->hash happen on the way)
 *   destroy  n removals in ascending gfn order: the seed's domain destroy, where
 *            relinquish walks the p2m upwards and unshares every gfn; with the list
 *            policy the oldest entry is at the tail, so this is the n^2/2-hop case
 *   lookup   n retrievals (contains) in ascending gfn order, nothing changes
 *   iterate  one full iteration (audit, frame merge)
 *
 * Policy: any name of rmap_policies[]; parameters: rmap_param_table (heavy, light, ...).
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/build_bug.h>

#include "msk.h"
#include "rmap.h"

#define RMAP_DOMAIN 1

struct rmap_pstate {
	const struct rmap_policy *pol;
	struct rmap_params p;
};

struct rmap_state {
	struct rmap_model m;
	struct rmap *r;
	u64 visited;
};

static struct rmap_pstate *PS(struct msk_ctx *c)
{
	BUILD_BUG_ON(sizeof(struct rmap_pstate) > sizeof(c->pstate));
	return (struct rmap_pstate *)c->pstate;
}

static const char *rmap_op_policy(unsigned int i)
{
	unsigned int j;

	for (j = 0; rmap_policies[j]; j++)
		if (j == i)
			return rmap_policies[j]->name;
	return NULL;
}

static const char *rmap_op_param(unsigned int i)
{
	return i < RMAP_NPARAMS ? rmap_param_table[i].name : NULL;
}

static int rmap_op_prepare(struct msk_ctx *c)
{
	struct rmap_pstate *ps = PS(c);
	u64 fields[RMAP_NPARAMS];
	int ret;

	/* parameters are applied by index: the table is in struct field order */
	BUILD_BUG_ON(sizeof(struct rmap_params) != RMAP_NPARAMS * sizeof(u64));
	ps->pol = rmap_policy_find(c->req->policy);
	if (!ps->pol)
		return -EINVAL;
	rmap_params_default(&ps->p);
	memcpy(fields, &ps->p, sizeof(fields));
	ret = msk_params_apply(c, rmap_param_table, RMAP_NPARAMS, fields);
	if (ret)
		return ret;
	memcpy(&ps->p, fields, sizeof(fields));
	if (rmap_params_validate(&ps->p))
		return -EINVAL;
	/* entries (32 bytes, counted as 64 for slack) plus bucket arrays of 16-byte heads,
	 * twice over for hash-grow's old and new arrays during a resize */
	c->est_bytes = msk_est(c->n, 64, msk_est(ENV_MAX(ps->p.buckets, c->n), 32, 4096));
	return 0;
}

static void rmap_op_teardown(struct msk_ctx *c)
{
	struct rmap_state *s = c->priv;

	if (!s)
		return;
	if (s->r)
		s->m.policy->destroy(&s->m, s->r);
	env_free(s, sizeof(*s));
}

static int rmap_fill(struct msk_ctx *c, struct rmap_state *s)
{
	u64 i;
	int ret;

	for (i = 0; i < c->n; i++) {
		struct rmap_key k = { .gfn = i, .domain = RMAP_DOMAIN };

		ret = s->m.policy->add(&s->m, s->r, k);
		if (ret)
			return ret;
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int rmap_op_setup(struct msk_ctx *c)
{
	struct rmap_pstate *ps = PS(c);
	struct rmap_state *s = env_zalloc(sizeof(*s));

	if (!s)
		return -ENOMEM;
	c->priv = s;
	rmap_model_init(&s->m, ps->pol, &ps->p);
	c->work = &s->m.work;
	s->r = s->m.policy->create(&s->m);
	if (!s->r)
		return -ENOMEM;
	if (!strcmp(c->req->op, "build"))
		return 0;
	return rmap_fill(c, s);
}

static int rmap_op_build(struct msk_ctx *c)
{
	struct rmap_state *s = c->priv;
	int ret = rmap_fill(c, s);

	c->ops = s->m.policy->count(s->r);
	return ret;
}

static int rmap_op_destroy(struct msk_ctx *c)
{
	struct rmap_state *s = c->priv;
	u64 i;
	int ret;

	for (i = 0; i < c->n; i++) {
		struct rmap_key k = { .gfn = i, .domain = RMAP_DOMAIN };

		ret = s->m.policy->remove(&s->m, s->r, k, 0);
		if (ret)
			return ret;
		c->ops++;
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int rmap_op_lookup(struct msk_ctx *c)
{
	struct rmap_state *s = c->priv;
	u64 i;
	int ret;

	for (i = 0; i < c->n; i++) {
		struct rmap_key k = { .gfn = i, .domain = RMAP_DOMAIN };

		if (s->m.policy->contains(&s->m, s->r, k) != 1)
			return -ENOENT;
		c->ops++;
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int rmap_visit(void *arg, struct rmap_key key)
{
	((struct rmap_state *)arg)->visited++;
	return 0;
}

static int rmap_op_iterate(struct msk_ctx *c)
{
	struct rmap_state *s = c->priv;
	int ret;

	s->visited = 0;
	ret = s->m.policy->iterate(&s->m, s->r, rmap_visit, s);
	c->ops = 1;
	if (ret)
		return ret;
	return s->visited == c->n ? 0 : -EUCLEAN;
}

static int rmap_op_check(struct msk_ctx *c)
{
	struct rmap_state *s = c->priv;

	return rmap_check(&s->m, s->r);
}

#define RMAP_OP(name, fn, text) {                                              \
	.model = "rmap", .op = name, .doc = text,                              \
	.policy_name = rmap_op_policy, .param_name = rmap_op_param,            \
	.prepare = rmap_op_prepare, .setup = rmap_op_setup, .run = fn,         \
	.check = rmap_op_check, .teardown = rmap_op_teardown }

const struct msk_op msk_rmap_ops[] = {
	RMAP_OP("build", rmap_op_build, "n adds, ascending gfn, into an empty rmap"),
	RMAP_OP("destroy", rmap_op_destroy,
		"n removals in ascending gfn order from a full rmap (the seed's destroy)"),
	RMAP_OP("lookup", rmap_op_lookup, "n retrievals, ascending gfn, of a full rmap"),
	RMAP_OP("iterate", rmap_op_iterate, "one iteration over a full rmap of n tuples"),
	{ .model = NULL }
};
