// SPDX-License-Identifier: MIT
/*
 * hw-validate/kmod/ops_hinting.c — guest page hinting (models/hinting.c and
 * hinting_volatile.c, seed 004) in the module.
 *
 * Domain 1, one vCPU (0), gfns 0 .. n-1 in blocks of 2^order pages, block b at gfn
 * b * 2^order.  Every guest request is one model call, exactly as sim/drv_hinting.c makes
 * one of a record (page_alloc -> hinting_alloc, page_free -> hinting_free, page_write with
 * arg != 0 -> hinting_cache_fill), and the work is what the model counts for it.
 * Operations (the timed part):
 *
 *   fill     the first allocation of every block: a zero page supplied per page, and the
 *            policy's stable hints
 *   free     every block freed (setup: filled): the policy's unused hints, per-CPU lists,
 *            lazy set
 *   realloc  every block allocated again (setup: filled and freed): per-CPU hits, refill
 *            vectors, the lazy set's cancellations
 *   reclaim  n new pages (gfns n .. 2n-1) allocated while the n freed ones hold host memory
 *            (host_mem_pages defaults to n here): each touch past the limit reclaims, the
 *            clock dropping unused pages, swapping stable ones
 *   cycle    free, then realloc, in one timed region (setup: filled): both directions of
 *            hinting, the scenario `memsim validate` compares with the simulator
 *   cache    every page (setup: filled) read into the page cache, clean: the volatile
 *            policies make it volatile
 *
 * Each zero page the model supplies (WU_PAGE_SCRUB) is a real 4 KiB clear of a page of a
 * pool (msk.h's msk_pool).  Swap I/O (WU_SWAP_IO) is only counted: the module has no swap
 * device, so its measured cost is the model's bookkeeping, not a disk's.
 *
 * Policy: hinting_policies.  Parameters: hinting_param_table, and
 *   order       block order 0..10 (default 0); n must be a multiple of 2^order
 *   pool_pages  pages of the clear pool, 0..65536 (default min(n, 4096))
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/build_bug.h>

#include "msk.h"
#include "hinting.h"

#define HT_DOMAIN 1
#define HT_VCPU 0
#define HT_MAX_ORDER 10
#define HT_POOL_MAX 65536

struct hinting_pstate {
	const struct hinting_policy *pol;
	struct hinting_params p;
	u64 order;
	u64 pool_pages;
};

struct hinting_state {
	struct hinting_model *m;
	struct msk_pool pool;
};

enum ht_req { HT_ALLOC, HT_FREE, HT_CACHE };

static struct hinting_pstate *PS(struct msk_ctx *c)
{
	BUILD_BUG_ON(sizeof(struct hinting_pstate) > sizeof(c->pstate));
	return (struct hinting_pstate *)c->pstate;
}

static const char *hinting_op_policy(unsigned int i)
{
	unsigned int j;

	for (j = 0; hinting_policies[j]; j++)
		if (j == i)
			return hinting_policies[j]->name;
	return NULL;
}

static const char *hinting_op_param(unsigned int i)
{
	static const char *const glue[] = { "order", "pool_pages" };

	if (i < HINTING_NPARAMS)
		return hinting_param_table[i].name;
	i -= HINTING_NPARAMS;
	return i < ARRAY_SIZE(glue) ? glue[i] : NULL;
}

static int hinting_op_prepare(struct msk_ctx *c)
{
	struct hinting_pstate *ps = PS(c);
	bool reclaim = !strcmp(c->req->op, "reclaim");
	u64 f[HINTING_NPARAMS];
	int ret;

	/* the table binds the first HINTING_NPARAMS fields, in order; mech is set apart */
	BUILD_BUG_ON(offsetof(struct hinting_params, mech) != HINTING_NPARAMS * sizeof(u64));
	ps->pol = hinting_policy_find(c->req->policy);
	if (!ps->pol)
		return msk_reject(c, "unknown hinting policy (none, per-page, batched, lazy-unused, "
				  "volatile, volatile-lazy)");
	hinting_params_default(&ps->p);
	if (reclaim)
		ps->p.host_mem_pages = ENV_MAX(c->n, hinting_param_table[0].min);
	memcpy(f, &ps->p, sizeof(f));
	ret = msk_params_apply(c, hinting_param_table, HINTING_NPARAMS, f);
	if (ret)
		return ret;
	memcpy(&ps->p, f, sizeof(f));
	ps->p.mech = HINT_MECH_HYPERCALL;
	if (hinting_params_validate(&ps->p))
		return msk_reject(c, "parameters rejected by hinting_params_validate");
	ps->order = 0;
	ret = msk_param_take(c, "order", 0, HT_MAX_ORDER, &ps->order);
	if (ret)
		return ret;
	if (c->n & ((1ULL << ps->order) - 1))
		return msk_reject(c, "n=%llu: want a multiple of 2^order = %llu pages",
				  (unsigned long long)c->n, 1ULL << ps->order);
	/* the gfns used must lie below max_gb */
	if ((reclaim ? 2 * c->n : c->n) > (ps->p.max_gb << (30 - 12)))
		return msk_reject(c, "n=%llu: the pages do not fit in max_gb=%llu",
				  (unsigned long long)c->n, (unsigned long long)ps->p.max_gb);
	ps->pool_pages = ENV_MIN(c->n, 4096ULL);
	ret = msk_param_take(c, "pool_pages", 0, HT_POOL_MAX, &ps->pool_pages);
	if (ret)
		return ret;
	/* page state: 4 bytes a page in 4096-page chunks, twice the pages for reclaim; per-CPU
	 * list nodes and lazy-set slots (a few per block); the clear pool */
	c->est_bytes = msk_est(reclaim ? 2 * c->n : c->n, 64,
			       msk_est(ps->pool_pages, MSK_PAGE, 1 << 20));
	return 0;
}

static void hinting_op_teardown(struct msk_ctx *c)
{
	struct hinting_state *s = c->priv;

	if (!s)
		return;
	if (s->m)
		hinting_model_destroy(s->m);
	msk_pool_free(&s->pool);
	env_free(s, sizeof(*s));
}

/* One request per block of [first, first + n), in order; zero pages supplied are cleared.
 * ops += blocks when timed. */
static int hinting_each(struct msk_ctx *c, struct hinting_state *s, enum ht_req what,
			u64 first, bool timed)
{
	struct work *w = &s->m->work;
	unsigned int order = (unsigned int)PS(c)->order;
	u64 i, gfn, before, step = what == HT_CACHE ? 1 : 1ULL << order;
	int ret;

	for (i = 0, gfn = first; gfn < first + c->n; i++, gfn += step) {
		before = w->n[WU_PAGE_SCRUB];
		if (what == HT_ALLOC)
			ret = hinting_alloc(s->m, HT_DOMAIN, HT_VCPU, gfn, order);
		else if (what == HT_FREE)
			ret = hinting_free(s->m, HT_DOMAIN, HT_VCPU, gfn, order);
		else
			ret = hinting_cache_fill(s->m, HT_DOMAIN, gfn);
		if (ret < 0)
			return ret;
		msk_pool_clear(&s->pool, w->n[WU_PAGE_SCRUB] - before);
		if (timed)
			c->ops++;
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
	/* what sim/drv_hinting.c prices the work at: the model's memory (the tiers) */
	w->footprint_bytes = s->m->mem.live_bytes;
	return 0;
}

static int hinting_op_setup(struct msk_ctx *c)
{
	struct hinting_pstate *ps = PS(c);
	struct hinting_state *s = env_zalloc(sizeof(*s));
	const char *op = c->req->op;
	int ret;

	if (!s)
		return -ENOMEM;
	c->priv = s;
	ret = msk_pool_init(&s->pool, ps->pool_pages);
	if (ret)
		return ret;
	s->m = hinting_model_create(ps->pol, &ps->p);
	if (!s->m)
		return -ENOMEM;
	c->work = &s->m->work;
	ret = hinting_domain_create(s->m, HT_DOMAIN, 1);
	if (ret || !strcmp(op, "fill"))
		return ret;
	ret = hinting_each(c, s, HT_ALLOC, 0, false);
	if (ret || !strcmp(op, "free") || !strcmp(op, "cache") || !strcmp(op, "cycle"))
		return ret;
	return hinting_each(c, s, HT_FREE, 0, false);
}

static int hinting_op_fill(struct msk_ctx *c)
{
	return hinting_each(c, c->priv, HT_ALLOC, 0, true);
}

static int hinting_op_free(struct msk_ctx *c)
{
	return hinting_each(c, c->priv, HT_FREE, 0, true);
}

static int hinting_op_cycle(struct msk_ctx *c)
{
	int ret = hinting_each(c, c->priv, HT_FREE, 0, true);

	return ret ? ret : hinting_each(c, c->priv, HT_ALLOC, 0, true);
}

static int hinting_op_reclaim(struct msk_ctx *c)
{
	return hinting_each(c, c->priv, HT_ALLOC, c->n, true);
}

static int hinting_op_cache(struct msk_ctx *c)
{
	return hinting_each(c, c->priv, HT_CACHE, 0, true);
}

static int hinting_op_check(struct msk_ctx *c)
{
	struct hinting_state *s = c->priv;

	return hinting_check(s->m);
}

#define HINTING_OP(name, fn, text) {                                           \
	.model = "hinting", .op = name, .doc = text,                           \
	.policy_name = hinting_op_policy, .param_name = hinting_op_param,      \
	.prepare = hinting_op_prepare, .setup = hinting_op_setup, .run = fn,   \
	.check = hinting_op_check, .teardown = hinting_op_teardown }

const struct msk_op msk_hinting_ops[] = {
	HINTING_OP("fill", hinting_op_fill,
		   "first allocation of n pages of a guest: zero pages and stable hints (seed 004)"),
	HINTING_OP("free", hinting_op_free, "n allocated pages freed: the policy's unused hints"),
	HINTING_OP("realloc", hinting_op_fill, "n freed pages allocated again"),
	HINTING_OP("cycle", hinting_op_cycle,
		   "n allocated pages freed, then allocated again (memsim validate's scenario)"),
	HINTING_OP("reclaim", hinting_op_reclaim,
		   "n new pages allocated while n freed ones fill host memory: inline reclaim"),
	HINTING_OP("cache", hinting_op_cache, "n pages read into the page cache, clean"),
	{ .model = NULL }
};
