// SPDX-License-Identifier: MIT
/*
 * hw-validate/kmod/ops_scrub.c — scrubbing a dying domain's memory (models/scrub.c, seed
 * 001) in the module.
 *
 * The host has exactly n pages, all owned by domain 1 (allocated clean: no work, as in the
 * simulator).  Operations (the timed part):
 *
 *   destroy  relinquish_memory() of domain 1 after it was marked dying: scrub_relinquish a
 *            page at a time until the domain is gone (sim/drv_scrub.c calls it for runs of
 *            pages between two events: the same work; a kick of the scrubbers only ends a
 *            run, the scrubbers are other pCPUs' work).  sync scrubs every page inside the
 *            free, the deferred policies queue it under the lock.
 *   scrub    one scrubber draining the dirty pages the destroy left (setup, untimed, runs
 *            the destroy): scrub_take, then scrub_finish, while the list is not empty, as a
 *            scrubber of drv_scrub.c does once it found pages (it looks without the lock, so
 *            it takes no empty lock at the end).  Policies that defer only.
 *   alloc    on-alloc: domain 2 asks for n pages in chunks of 2^order (page_alloc records of
 *            that order) while all of them are dirty: each chunk one lock, a scrub per page.
 *
 * Each page the model counts as scrubbed (WU_PAGE_SCRUB) is a real 4 KiB clear of a page of
 * a pool (msk_pool, msk.h): the unit is the clear, the model only does the bookkeeping.
 *
 * Policy: scrub_policies.  Parameters: scrub_param_table (batch, kick_pages), and
 *   pool_pages  pages of the clear pool, 0..65536 (default min(n, 4096): 16 MiB, beyond the
 *               L2 of any host; 0: count the clears without doing them)
 *   order       alloc only: chunk order 0..SCRUB_MAX_ORDER (default 9, traces/scen_scrub.c's
 *               new_order)
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/build_bug.h>

#include "msk.h"
#include "scrub.h"

#define SC_DOMAIN 1
#define SC_NEWDOM 2
/* pages per scrub_relinquish call: one, as relinquish_memory() frees them (the model counts
 * the same work for a run of k pages in one call as for k calls, but does it in closed form:
 * one page a call keeps the measured cost per page, which is what the units price) */
#define SC_RUN 1
#define SC_POOL_DEFAULT 4096
#define SC_POOL_MAX 65536

struct scrub_pstate {
	const struct scrub_policy *pol;
	struct scrub_params p;
	u64 pool_pages;
	u64 order;
};

struct scrub_state {
	struct scrub_model *m;
	struct msk_pool pool;
};

static struct scrub_pstate *PS(struct msk_ctx *c)
{
	BUILD_BUG_ON(sizeof(struct scrub_pstate) > sizeof(c->pstate));
	return (struct scrub_pstate *)c->pstate;
}

static const char *scrub_op_policy(unsigned int i)
{
	unsigned int j;

	for (j = 0; scrub_policies[j]; j++)
		if (j == i)
			return scrub_policies[j]->name;
	return NULL;
}

static const char *scrub_op_param(unsigned int i)
{
	static const char *const glue[] = { "pool_pages", "order" };

	if (i < SCRUB_NPARAMS)
		return scrub_param_table[i].name;
	i -= SCRUB_NPARAMS;
	return i < ARRAY_SIZE(glue) ? glue[i] : NULL;
}

static int scrub_op_prepare(struct msk_ctx *c)
{
	struct scrub_pstate *ps = PS(c);
	const char *op = c->req->op;
	u64 f[SCRUB_NPARAMS];
	int ret;

	BUILD_BUG_ON(sizeof(struct scrub_params) != SCRUB_NPARAMS * sizeof(u64));
	ps->pol = scrub_policy_find(c->req->policy);
	if (!ps->pol)
		return msk_reject(c, "unknown scrub policy (sync, deferred, deferred-percpu, idle, "
				  "on-alloc)");
	scrub_params_default(&ps->p);
	memcpy(f, &ps->p, sizeof(f));
	ret = msk_params_apply(c, scrub_param_table, SCRUB_NPARAMS, f);
	if (ret)
		return ret;
	memcpy(&ps->p, f, sizeof(f));
	if (scrub_params_validate(&ps->p))
		return msk_reject(c, "batch=%llu kick_pages=%llu: rejected by scrub_params_validate",
				  (unsigned long long)ps->p.batch, (unsigned long long)ps->p.kick_pages);
	ps->pool_pages = ENV_MIN(c->n, (u64)SC_POOL_DEFAULT);
	ret = msk_param_take(c, "pool_pages", 0, SC_POOL_MAX, &ps->pool_pages);
	if (ret)
		return ret;
	if (!strcmp(op, "scrub") && !ps->pol->defer)
		return msk_reject(c, "op scrub: %s leaves no dirty page to scrub (a policy that "
				  "defers: deferred, deferred-percpu, idle, on-alloc)", ps->pol->name);
	if (!strcmp(op, "alloc")) {
		if (!ps->pol->alloc_dirty)
			return msk_reject(c, "op alloc: only on-alloc allocates dirty pages");
		ps->order = 9;
		ret = msk_param_take(c, "order", 0, SCRUB_MAX_ORDER, &ps->order);
		if (ret)
			return ret;
		/* one chunk is one model call: bound its clears */
		if (ENV_MIN(c->n, 1ULL << ps->order) > c->max_nonpreempt)
			return -E2BIG;
	}
	/* the pool, plus the model's few runs and domains */
	c->est_bytes = msk_est(ps->pool_pages, MSK_PAGE, 1 << 20);
	return 0;
}

static void scrub_op_teardown(struct msk_ctx *c)
{
	struct scrub_state *s = c->priv;

	if (!s)
		return;
	if (s->m)
		scrub_model_destroy(s->m);
	msk_pool_free(&s->pool);
	env_free(s, sizeof(*s));
}

/* Relinquishes domain 1 to the end; clears what the model scrubbed.  ops += pages freed. */
static int scrub_relinquish_all(struct msk_ctx *c, struct scrub_state *s, bool timed)
{
	struct work *w = scrub_work(s->m);
	uint64_t freed;
	u64 i, before;
	bool kick;
	int ret;

	for (i = 0;; i++) {
		before = w->n[WU_PAGE_SCRUB];
		ret = scrub_relinquish(s->m, SC_DOMAIN, SC_RUN, &freed, &kick);
		msk_pool_clear(&s->pool, w->n[WU_PAGE_SCRUB] - before);
		if (timed)
			c->ops += freed;
		if (!ret)
			return 0;
		if (ret != -EAGAIN)
			return ret;
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
}

static int scrub_op_setup(struct msk_ctx *c)
{
	struct scrub_pstate *ps = PS(c);
	struct scrub_state *s = env_zalloc(sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	c->priv = s;
	ret = msk_pool_init(&s->pool, ps->pool_pages);
	if (ret)
		return ret;
	s->m = scrub_model_create(ps->pol, &ps->p);
	if (!s->m)
		return -ENOMEM;
	c->work = scrub_work(s->m);
	ret = scrub_host_grow(s->m, c->n);
	if (!ret)
		ret = scrub_domain_create(s->m, SC_DOMAIN);
	if (!ret)
		ret = scrub_alloc(s->m, SC_DOMAIN, c->n, NULL);
	if (!ret)
		ret = scrub_destroy_begin(s->m, SC_DOMAIN);
	if (ret || !strcmp(c->req->op, "destroy"))
		return ret;
	ret = scrub_relinquish_all(c, s, false);
	if (!ret && !strcmp(c->req->op, "alloc"))
		ret = scrub_domain_create(s->m, SC_NEWDOM);
	return ret;
}

static int scrub_op_destroy(struct msk_ctx *c)
{
	return scrub_relinquish_all(c, c->priv, true);
}

static int scrub_op_scrub(struct msk_ctx *c)
{
	struct scrub_state *s = c->priv;
	struct scrub_batch b;
	u64 i;
	int ret;

	/* a scrubber looks without the lock and stops when it sees the list empty */
	for (i = 0; scrub_backlog(s->m); i++) {
		ret = scrub_take(s->m, &b);
		if (ret)
			return ret;
		msk_pool_clear(&s->pool, b.len);
		c->ops += b.len;
		scrub_finish(s->m, &b);
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int scrub_op_alloc(struct msk_ctx *c)
{
	struct scrub_state *s = c->priv;
	u64 i, left = c->n, chunk = 1ULL << PS(c)->order;
	uint64_t dirty;
	int ret;

	for (i = 0; left; i++) {
		u64 k = ENV_MIN(left, chunk);

		ret = scrub_alloc(s->m, SC_NEWDOM, k, &dirty);
		if (ret)
			return ret;
		msk_pool_clear(&s->pool, dirty);
		c->ops += k;
		left -= k;
		ret = msk_poll(c, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int scrub_op_check(struct msk_ctx *c)
{
	struct scrub_state *s = c->priv;

	return scrub_check(s->m);
}

#define SCRUB_OP(name, fn, text) {                                             \
	.model = "scrub", .op = name, .doc = text,                             \
	.policy_name = scrub_op_policy, .param_name = scrub_op_param,          \
	.prepare = scrub_op_prepare, .setup = scrub_op_setup, .run = fn,       \
	.check = scrub_op_check, .teardown = scrub_op_teardown }

const struct msk_op msk_scrub_ops[] = {
	SCRUB_OP("destroy", scrub_op_destroy,
		 "relinquish a dying domain of n pages, freed as the policy says (seed 001)"),
	SCRUB_OP("scrub", scrub_op_scrub,
		 "one scrubber drains the n dirty pages a deferred destroy left"),
	SCRUB_OP("alloc", scrub_op_alloc,
		 "on-alloc: a new domain allocates n dirty pages in 2^order chunks, scrubbing them"),
	{ .model = NULL }
};
