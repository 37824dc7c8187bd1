// SPDX-License-Identifier: MIT
/*
 * hw-validate/kmod/ops_shadow.c — a bounded pool of shadow page tables and its reclaim
 * (models/shadow.c, seed 003) in the module.
 *
 * One address space on vCPU 0: a root (level 4) loaded in setup, one L3 under it, L2 j
 * under the L3 for every 512 leaves, and n leaf tables (level 1), leaf i under L2 i / 512.
 * A walk to leaf i is what sim/drv_shadow.c makes of a pt_access record of that leaf with
 * the accessed bit set (root, the address space's L3, the leaf's L2, the leaf): one
 * shadow_walk, the work the model counts, nothing else.  Operations (the timed part):
 *
 *   walk    n walks, leaf 0 .. n-1, into a pool holding only the root: every walk is a
 *           shadow fault; past `limit` pages each one reclaims (the policy picks victims)
 *   rewalk  the same n walks again after setup did them once (untimed): with n + a few
 *           pages under `limit` nothing is built (the hardware walks, no work); above it
 *           the policy's victims decide what must be rebuilt
 *
 * Each shadow page built or zapped (WU_SHADOW_BUILD, WU_SHADOW_ZAP: a page allocated and
 * cleared, a page's 512 entries cleared) is a real 4 KiB clear of a page of a pool of
 * min(limit, 4096) pages (pool_pages=0: counted, not done; msk.h's msk_pool).
 *
 * Policy: shadow_policies (fifo, fifo-skip-roots, clock, accessed).  Parameters:
 * shadow_param_table (limit, min_free, refill, ...) and pool_pages (0..65536).
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/build_bug.h>

#include "msk.h"
#include "shadow.h"

#define SH_VCPU 0
#define SH_ROOT_GFN 0x1000ULL
#define SH_L3_GFN 0x1001ULL
#define SH_L2_BASE 0x2000ULL
#define SH_LEAF_BASE 0x100000ULL
#define SH_POOL_MAX 65536

struct shadow_pstate {
	const struct shadow_policy *pol;
	struct shadow_params p;
	u64 pool_pages;
};

struct shadow_state {
	struct shadow_model *m;
	struct msk_pool pool;
};

static struct shadow_pstate *PS(struct msk_ctx *c)
{
	BUILD_BUG_ON(sizeof(struct shadow_pstate) > sizeof(c->pstate));
	return (struct shadow_pstate *)c->pstate;
}

static const char *shadow_op_policy(unsigned int i)
{
	unsigned int j;

	for (j = 0; shadow_policies[j]; j++)
		if (j == i)
			return shadow_policies[j]->name;
	return NULL;
}

static const char *shadow_op_param(unsigned int i)
{
	if (i < SHADOW_NPARAMS)
		return shadow_param_table[i].name;
	return i == SHADOW_NPARAMS ? "pool_pages" : NULL;
}

static int shadow_op_prepare(struct msk_ctx *c)
{
	struct shadow_pstate *ps = PS(c);
	u64 f[SHADOW_NPARAMS];
	int ret;

	BUILD_BUG_ON(sizeof(struct shadow_params) != SHADOW_NPARAMS * sizeof(u64));
	ps->pol = shadow_policy_find(c->req->policy);
	if (!ps->pol)
		return msk_reject(c, "unknown shadow policy (fifo, fifo-skip-roots, clock, accessed)");
	shadow_params_default(&ps->p);
	memcpy(f, &ps->p, sizeof(f));
	ret = msk_params_apply(c, shadow_param_table, SHADOW_NPARAMS, f);
	if (ret)
		return ret;
	memcpy(&ps->p, f, sizeof(f));
	if (shadow_params_validate(&ps->p))
		return msk_reject(c, "limit=%llu min_free=%llu refill=%llu: want %u <= limit and "
				  "1 <= min_free <= refill <= limit", (unsigned long long)ps->p.limit,
				  (unsigned long long)ps->p.min_free,
				  (unsigned long long)ps->p.refill, SHADOW_MAX_LEVELS);
	if (shadow_policy_usable(ps->pol, &ps->p))
		return msk_reject(c, "tdp=1: the accessed policy needs accessed bits, which EPT "
				  "tables lack");
	ps->pool_pages = ENV_MIN(ps->p.limit, 4096ULL);
	ret = msk_param_take(c, "pool_pages", 0, SH_POOL_MAX, &ps->pool_pages);
	if (ret)
		return ret;
	/* per leaf: a shadow page, its links and its ghost once zapped (a few hundred bytes
	 * while in the pool); the hash; the clear pool */
	c->est_bytes = msk_est(c->n, 512, msk_est(ps->pool_pages, MSK_PAGE, 1 << 20));
	return 0;
}

static void shadow_op_teardown(struct msk_ctx *c)
{
	struct shadow_state *s = c->priv;

	if (!s)
		return;
	if (s->m)
		shadow_model_destroy(s->m);
	msk_pool_free(&s->pool);
	env_free(s, sizeof(*s));
}

/* Walks to leaf 0 .. n-1; clears the pages the model built and zapped. */
static int shadow_walks(struct msk_ctx *c, struct shadow_state *s, bool timed)
{
	struct work *w = &s->m->work;
	struct shadow_key path[4] = {
		{ SH_ROOT_GFN, 4 }, { SH_L3_GFN, 3 }, { 0, 2 }, { 0, SHADOW_LEAF },
	};
	u64 i, before;
	int ret;

	for (i = 0; i < c->n; i++) {
		path[2].gfn = SH_L2_BASE + i / 512;
		path[3].gfn = SH_LEAF_BASE + i;
		before = w->n[WU_SHADOW_BUILD] + w->n[WU_SHADOW_ZAP];
		ret = shadow_walk(s->m, SH_VCPU, path, 4, true);
		if (ret < 0)
			return ret;
		msk_pool_clear(&s->pool, w->n[WU_SHADOW_BUILD] + w->n[WU_SHADOW_ZAP] - before);
		if (timed)
			c->ops++;
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int shadow_op_setup(struct msk_ctx *c)
{
	struct shadow_pstate *ps = PS(c);
	struct shadow_state *s = env_zalloc(sizeof(*s));
	struct shadow_key root = { SH_ROOT_GFN, 4 };
	int ret;

	if (!s)
		return -ENOMEM;
	c->priv = s;
	ret = msk_pool_init(&s->pool, ps->pool_pages);
	if (ret)
		return ret;
	s->m = shadow_model_create(ps->pol, &ps->p);
	if (!s->m)
		return -ENOMEM;
	c->work = &s->m->work;
	ret = shadow_load_root(s->m, SH_VCPU, root);
	if (ret < 0)
		return ret;
	if (!strcmp(c->req->op, "rewalk"))
		return shadow_walks(c, s, false);
	return 0;
}

static int shadow_op_walk(struct msk_ctx *c)
{
	return shadow_walks(c, c->priv, true);
}

static int shadow_op_check(struct msk_ctx *c)
{
	struct shadow_state *s = c->priv;

	return shadow_check(s->m);
}

#define SHADOW_OP(name, text) {                                                \
	.model = "shadow", .op = name, .doc = text,                            \
	.policy_name = shadow_op_policy, .param_name = shadow_op_param,        \
	.prepare = shadow_op_prepare, .setup = shadow_op_setup,                \
	.run = shadow_op_walk, .check = shadow_op_check,                       \
	.teardown = shadow_op_teardown }

const struct msk_op msk_shadow_ops[] = {
	SHADOW_OP("walk", "n walks to n new leaf tables of one address space (seed 003)"),
	SHADOW_OP("rewalk", "the same n walks again, the pool as the first pass left it"),
	{ .model = NULL }
};
