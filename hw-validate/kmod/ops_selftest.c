// SPDX-License-Identifier: MIT
/*
 * hw-validate/kmod/ops_selftest.c — operations that need nothing but models/model.h and
 * env.h: they check the measuring chain itself and give calibration its fixed points.
 *
 *   selftest none null       an empty timed region: the cost of measuring (clock reads,
 *                            counter enable/disable), subtracted as the fit's intercept
 *   selftest none list-walk  walks an env_list of n nodes, one WU_LIST_HOP per node: the
 *                            purest per-hop cost (nodes allocated one by one, as rmaps do)
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/string.h>

#include "msk.h"

struct selftest_node {
	struct env_list link;
	u64 key;
};

struct selftest_state {
	struct work work;
	struct env_list head;
	u64 nodes;
	u64 sum;	/* keeps the walk from being optimised away */
};

static const char *selftest_policy(unsigned int i)
{
	return i == 0 ? "none" : NULL;
}

static int selftest_prepare(struct msk_ctx *c)
{
	if (strcmp(c->req->policy, "none"))
		return -EINVAL;
	c->est_bytes = msk_est(c->n, sizeof(struct selftest_node), sizeof(struct selftest_state));
	return 0;
}

static int null_prepare(struct msk_ctx *c)
{
	if (strcmp(c->req->policy, "none"))
		return -EINVAL;
	c->est_bytes = sizeof(struct selftest_state);
	return 0;
}

static void selftest_teardown(struct msk_ctx *c)
{
	struct selftest_state *s = c->priv;

	if (!s)
		return;
	while (!env_list_empty(&s->head)) {
		struct env_list *l = s->head.next;

		env_list_del(l);
		env_free(env_container_of(l, struct selftest_node, link),
			 sizeof(struct selftest_node));
	}
	env_free(s, sizeof(*s));
}

static int selftest_setup(struct msk_ctx *c)
{
	struct selftest_state *s = env_zalloc(sizeof(*s));
	u64 i;
	int ret;

	if (!s)
		return -ENOMEM;
	env_list_init(&s->head);
	c->priv = s;
	c->work = &s->work;
	if (strcmp(c->req->op, "list-walk"))
		return 0;
	for (i = 0; i < c->n; i++) {
		struct selftest_node *nd = env_alloc(sizeof(*nd));

		if (!nd)
			return -ENOMEM;
		nd->key = i;
		env_list_add_head(&nd->link, &s->head);
		s->nodes++;
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int null_run(struct msk_ctx *c)
{
	c->ops = 1;
	return 0;
}

static int list_walk_run(struct msk_ctx *c)
{
	struct selftest_state *s = c->priv;
	struct env_list *l;
	u64 hops = 0, sum = 0;

	for (l = s->head.next; l != &s->head; l = l->next) {
		sum += env_container_of(l, struct selftest_node, link)->key;
		hops++;
	}
	s->sum = sum;
	work_add(&s->work, WU_LIST_HOP, hops);
	s->work.footprint_bytes = s->nodes * sizeof(struct selftest_node);
	c->ops = 1;
	return 0;
}

static int list_walk_check(struct msk_ctx *c)
{
	struct selftest_state *s = c->priv;

	/* keys 0..n-1 sum to n(n-1)/2: the walk saw every node exactly once */
	return s->sum == c->n * (c->n - 1) / 2 ? 0 : -EUCLEAN;
}

const struct msk_op msk_selftest_ops[] = {
	{
		.model = "selftest", .op = "null",
		.doc = "empty timed region: the cost of measuring",
		.policy_name = selftest_policy,
		.prepare = null_prepare, .setup = selftest_setup, .run = null_run,
		.teardown = selftest_teardown,
	},
	{
		.model = "selftest", .op = "list-walk",
		.doc = "walk a list of n nodes (n list_hop)",
		.policy_name = selftest_policy,
		.prepare = selftest_prepare, .setup = selftest_setup, .run = list_walk_run,
		.check = list_walk_check, .teardown = selftest_teardown,
	},
	{ .model = NULL }
};
