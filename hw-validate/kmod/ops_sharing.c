// SPDX-License-Identifier: MIT
/*
 * hw-validate/kmod/ops_sharing.c — the memory-sharing machine (models/sharing.c, p2m.c,
 * relinquish.c, over the rmap policies) in the module.
 *
 * Domain 1 has gfns 0..n-1, all shared onto one frame: the seed's "domain with 100k gfns
 * pointing to one shared frame".  Operations (the timed part):
 *
 *   destroy  relinquish the whole domain: sharing_relinquish_step until it returns 0,
 *            resuming after every -EAGAIN as the hypercall continuation would
 *   share    n shares (gfn ascending) onto the frame, the domain's p2m starting empty
 *   unshare  n copy-on-write breaks, gfn ascending
 *
 * Policy: "RMAP+RELINQUISH", e.g. list+monolithic, hash+preemptible (RELINQUISH defaults to
 * monolithic when left out).  Parameters: rmap_param_table, relinquish_param_table, and
 * `pending` (0/1, default 1): the answer of the preemption check, i.e. whether other work
 * waits for the pCPU (with 1 a preemptible relinquish really stops at every check).
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/build_bug.h>

#include "msk.h"
#include "sharing.h"

#define SH_DOMAIN 1
#define SH_FRAME 1

struct sharing_pstate {
	const struct rmap_policy *rpol;
	const struct relinquish_policy *lpol;
	struct rmap_params rp;
	struct relinquish_params lp;
	u64 pending;
};

struct sharing_state {
	struct sharing_model *sm;
	u64 slices;
};

static struct sharing_pstate *PS(struct msk_ctx *c)
{
	BUILD_BUG_ON(sizeof(struct sharing_pstate) > sizeof(c->pstate));
	return (struct sharing_pstate *)c->pstate;
}

/* Every rmap policy with every relinquish policy, "r+l". */
static const char *sharing_op_policy(unsigned int i)
{
	static char name[MEMSIM_NAME_LEN];
	unsigned int nr = 0, nl = 0;

	while (rmap_policies[nr])
		nr++;
	while (relinquish_policies[nl])
		nl++;
	if (!nl || i >= nr * nl)
		return NULL;
	/* the catalog is built under the module's mutex: one static buffer is enough */
	snprintf(name, sizeof(name), "%s+%s", rmap_policies[i / nl]->name,
		 relinquish_policies[i % nl]->name);
	return name;
}

static const char *sharing_op_param(unsigned int i)
{
	if (i < RMAP_NPARAMS)
		return rmap_param_table[i].name;
	i -= RMAP_NPARAMS;
	if (i < RELINQUISH_NPARAMS)
		return relinquish_param_table[i].name;
	return i == RELINQUISH_NPARAMS ? "pending" : NULL;
}

static int sharing_op_prepare(struct msk_ctx *c)
{
	struct sharing_pstate *ps = PS(c);
	u64 rf[RMAP_NPARAMS], lf[RELINQUISH_NPARAMS];
	char rname[MEMSIM_NAME_LEN];
	const char *plus = strchr(c->req->policy, '+');
	size_t rlen = plus ? (size_t)(plus - c->req->policy) : strlen(c->req->policy);
	int ret;

	BUILD_BUG_ON(sizeof(struct rmap_params) != RMAP_NPARAMS * sizeof(u64));
	BUILD_BUG_ON(sizeof(struct relinquish_params) != RELINQUISH_NPARAMS * sizeof(u64));
	memcpy(rname, c->req->policy, rlen);
	rname[rlen] = 0;
	ps->rpol = rmap_policy_find(rname);
	ps->lpol = relinquish_policy_find(plus ? plus + 1 : "monolithic");
	if (!ps->rpol || !ps->lpol)
		return -EINVAL;

	rmap_params_default(&ps->rp);
	relinquish_params_default(&ps->lp);
	memcpy(rf, &ps->rp, sizeof(rf));
	memcpy(lf, &ps->lp, sizeof(lf));
	ret = msk_params_apply(c, rmap_param_table, RMAP_NPARAMS, rf);
	if (!ret)
		ret = msk_params_apply(c, relinquish_param_table, RELINQUISH_NPARAMS, lf);
	if (ret)
		return ret;
	memcpy(&ps->rp, rf, sizeof(rf));
	memcpy(&ps->lp, lf, sizeof(lf));
	if (rmap_params_validate(&ps->rp) || relinquish_params_validate(&ps->lp))
		return -EINVAL;
	ps->pending = 1;
	ret = msk_param_take(c, "pending", 0, 1, &ps->pending);
	if (ret)
		return ret;
	/* a relinquish that never yields runs to the end with no poll: bound it (a list
	 * rmap unshares in ascending order from the tail: n^2/2 hops) */
	if (!ps->pending || !strcmp(ps->lpol->name, "monolithic")) {
		u64 units = strcmp(ps->rpol->name, "list") ? msk_est(c->n, 64, 0) :
			    msk_est(c->n, c->n / 2, c->n);

		if (!strcmp(c->req->op, "destroy") && units > c->max_nonpreempt)
			return -E2BIG;
	}
	/* per gfn: a p2m entry (~8 bytes dense), an rmap entry (counted as 64), hash buckets;
	 * plus the machine's tables */
	c->est_bytes = msk_est(c->n, 96, msk_est(ENV_MAX(ps->rp.buckets, c->n), 32, 1 << 20));
	return 0;
}

static void sharing_op_teardown(struct msk_ctx *c)
{
	struct sharing_state *s = c->priv;

	if (!s)
		return;
	if (s->sm)
		sharing_model_destroy(s->sm);
	env_free(s, sizeof(*s));
}

static int sharing_fill(struct msk_ctx *c, struct sharing_state *s)
{
	u64 i;
	int ret;

	for (i = 0; i < c->n; i++) {
		ret = sharing_share(s->sm, SH_DOMAIN, i, SH_FRAME);
		if (ret)
			return ret;
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int sharing_op_setup(struct msk_ctx *c)
{
	struct sharing_pstate *ps = PS(c);
	struct sharing_state *s = env_zalloc(sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	c->priv = s;
	s->sm = sharing_model_create(ps->rpol, &ps->rp, ps->lpol, &ps->lp);
	if (!s->sm)
		return -ENOMEM;
	c->work = &sharing_rmap(s->sm)->work;
	ret = sharing_domain_create(s->sm, SH_DOMAIN);
	if (ret)
		return ret;
	if (!strcmp(c->req->op, "share"))
		return 0;
	return sharing_fill(c, s);
}

static bool sharing_preempt(void *arg)
{
	struct msk_ctx *c = arg;

	return PS(c)->pending;
}

static int sharing_op_destroy(struct msk_ctx *c)
{
	struct sharing_state *s = c->priv;
	int ret;

	for (;;) {
		ret = sharing_relinquish_step(s->sm, SH_DOMAIN, sharing_preempt, c);
		s->slices++;
		if (ret != -EAGAIN)
			break;
		/* the continuation: where Xen would let the waiting work run */
		ret = msk_poll_slow(c, s->slices);
		if (ret)
			return ret;
	}
	c->ops = c->n;
	return ret;
}

static int sharing_op_share(struct msk_ctx *c)
{
	struct sharing_state *s = c->priv;
	int ret = sharing_fill(c, s);

	c->ops = sharing_domain_shared(s->sm, SH_DOMAIN);
	return ret;
}

static int sharing_op_unshare(struct msk_ctx *c)
{
	struct sharing_state *s = c->priv;
	u64 i;
	int ret;

	for (i = 0; i < c->n; i++) {
		ret = sharing_unshare(s->sm, SH_DOMAIN, i);
		if (ret < 0)
			return ret;
		if (ret != 1)
			return -EUCLEAN;   /* every gfn was shared */
		c->ops++;
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int sharing_op_check(struct msk_ctx *c)
{
	struct sharing_state *s = c->priv;

	return sharing_check(s->sm);
}

#define SHARING_OP(name, fn, text) {                                           \
	.model = "sharing", .op = name, .doc = text,                           \
	.policy_name = sharing_op_policy, .param_name = sharing_op_param,      \
	.prepare = sharing_op_prepare, .setup = sharing_op_setup, .run = fn,   \
	.check = sharing_op_check, .teardown = sharing_op_teardown }

const struct msk_op msk_sharing_ops[] = {
	SHARING_OP("destroy", sharing_op_destroy,
		   "relinquish a domain whose n gfns all share one frame (seed 000)"),
	SHARING_OP("share", sharing_op_share, "share n gfns of a domain onto one frame"),
	SHARING_OP("unshare", sharing_op_unshare, "n copy-on-write breaks of gfns sharing one frame"),
	{ .model = NULL }
};
