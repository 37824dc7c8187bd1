// SPDX-License-Identifier: MIT
/*
 * hw-validate/kmod/msk_core.c — the request loop of the memsim module, without its
 * character-device plumbing.  It is compiled twice: into memsim.ko (with memsim_kmod.c,
 * which adds /dev/memsim, copy_from/to_user and the kernel's clocks and perf counters) and
 * into the userspace program memsim-user (hw-validate/user/, against the shim headers of
 * hw-validate/user/include and with user/msk_user.c's clocks and counters), the way
 * tools/testing/radix-tree builds kernel code as a program.  Same source, same loop: a batch
 * measured natively goes through exactly the prepare/setup/run/check/teardown sequence the
 * module runs.
 *
 * The platform (memsim_kmod.c or msk_user.c) supplies the msk_plat_* services of msk.h.
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/build_bug.h>

#include "msk.h"

static const struct msk_op *const msk_tables[] = {
	msk_selftest_ops,
	msk_rmap_ops,
	msk_sharing_ops,
	msk_superpage_ops,
	msk_scrub_ops,
	msk_shadow_ops,
	msk_hinting_ops,
};

/* ---- helpers offered to op files ---- */

int msk_params_apply(struct msk_ctx *c, const struct model_param *table, unsigned int ntable,
		     u64 *fields)
{
	unsigned int i, j;

	for (i = 0; i < c->req->nparams; i++) {
		const struct memsim_param *p = &c->req->params[i];

		for (j = 0; j < ntable; j++) {
			if (!table[j].name || strcmp(p->name, table[j].name))
				continue;
			if (p->value < table[j].min || p->value > table[j].max)
				return msk_reject(c, "%s=%llu: out of range %llu..%llu", p->name,
						  (unsigned long long)p->value,
						  (unsigned long long)table[j].min,
						  (unsigned long long)table[j].max);
			fields[j] = p->value;
			c->param_used[i] = true;
		}
	}
	return 0;
}

int msk_param_take(struct msk_ctx *c, const char *name, u64 min, u64 max, u64 *out)
{
	unsigned int i;

	for (i = 0; i < c->req->nparams; i++) {
		const struct memsim_param *p = &c->req->params[i];

		if (strcmp(p->name, name))
			continue;
		if (p->value < min || p->value > max)
			return msk_reject(c, "%s=%llu: out of range %llu..%llu", name,
					  (unsigned long long)p->value, (unsigned long long)min,
					  (unsigned long long)max);
		*out = p->value;
		c->param_used[i] = true;
	}
	return 0;
}

int msk_pool_init(struct msk_pool *p, u64 pages)
{
	memset(p, 0, sizeof(*p));
	if (!pages)
		return 0;
	p->mem = env_alloc(pages * MSK_PAGE);
	if (!p->mem)
		return -ENOMEM;
	/* touched once, untimed: the timed clears find the pages mapped */
	memset(p->mem, 0xa5, pages * MSK_PAGE);
	p->pages = pages;
	return 0;
}

void msk_pool_clear(struct msk_pool *p, u64 k)
{
	if (!p->pages)
		return;
	p->cleared += k;
	while (k--) {
		memset(p->mem + p->next * MSK_PAGE, 0, MSK_PAGE);
		if (++p->next == p->pages)
			p->next = 0;
	}
	/* keep the stores: nothing reads the pool, but the clear is the point */
	__asm__ __volatile__("" : : "r"(p->mem) : "memory");
}

void msk_pool_free(struct msk_pool *p)
{
	if (p->mem)
		env_free(p->mem, p->pages * MSK_PAGE);
	memset(p, 0, sizeof(*p));
}

int msk_poll_slow(struct msk_ctx *c, u64 i)
{
	int ret = msk_plat_yield();

	if (ret)
		return ret;
	if (msk_plat_ns() > c->deadline_ns)
		return -ETIME;
	return 0;
}

/* ---- request validation ---- */

/* A name is 1..MEMSIM_NAME_LEN-1 characters of [a-z0-9_.+-] then NUL padding. */
static bool msk_name_ok(const char *s)
{
	size_t len = strnlen(s, MEMSIM_NAME_LEN);
	size_t i;

	if (len == 0 || len == MEMSIM_NAME_LEN)
		return false;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		      ch == '-' || ch == '.' || ch == '+'))
			return false;
	}
	for (; i < MEMSIM_NAME_LEN; i++)
		if (s[i])
			return false;
	return true;
}

int msk_validate(const struct memsim_req *r, const struct msk_limits *lim)
{
	unsigned int i, j;

	if (r->size != sizeof(*r) || r->version != MEMSIM_UAPI_VERSION)
		return -EINVAL;
	if (!msk_name_ok(r->model) || !msk_name_ok(r->policy) || !msk_name_ok(r->op))
		return -EINVAL;
	if (r->n < 1 || r->n > lim->max_n || r->k < 1 || r->k > lim->max_k)
		return -EINVAL;
	if (r->nparams > MEMSIM_MAX_PARAMS || r->nevents > MEMSIM_MAX_EVENTS)
		return -EINVAL;
	if (r->flags & ~MEMSIM_F_ALL)
		return -EINVAL;
	if (r->result_size != sizeof(struct memsim_batch) || r->reserved || !r->results)
		return -EINVAL;
	for (i = 0; i < r->nparams; i++) {
		if (!msk_name_ok(r->params[i].name))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (!strcmp(r->params[i].name, r->params[j].name))
				return -EINVAL;
	}
	for (i = r->nparams; i < MEMSIM_MAX_PARAMS; i++)
		if (memchr_inv(&r->params[i], 0, sizeof(r->params[i])))
			return -EINVAL;
	for (i = 0; i < MEMSIM_MAX_EVENTS; i++) {
		const struct memsim_event *e = &r->events[i];

		if (e->reserved || (i >= r->nevents && memchr_inv(e, 0, sizeof(*e))))
			return -EINVAL;
		/* counting events only: no tracepoints, no breakpoints at random addresses */
		if (i < r->nevents &&
		    (e->type == MSK_PERF_TYPE_TRACEPOINT || e->type == MSK_PERF_TYPE_BREAKPOINT))
			return -EINVAL;
	}
	/* outputs must come in zeroed: garbage there is garbage */
	if (memchr_inv(r->event_status, 0, sizeof(*r) - offsetof(struct memsim_req, event_status)))
		return -EINVAL;
	return 0;
}

static const struct msk_op *msk_find_op(const char *model, const char *op)
{
	const struct msk_op *o;
	unsigned int t;

	for (t = 0; t < ARRAY_SIZE(msk_tables); t++)
		for (o = msk_tables[t]; o->model; o++)
			if (!strcmp(o->model, model) && !strcmp(o->op, op))
				return o;
	return NULL;
}

/* ---- one batch ---- */

static int msk_batch(const struct msk_op *op, struct msk_ctx *c, void *pc,
		     struct memsim_batch *b)
{
	u64 v0[MEMSIM_MAX_EVENTS], e0[MEMSIM_MAX_EVENTS], r0[MEMSIM_MAX_EVENTS];
	u64 v1[MEMSIM_MAX_EVENTS], e1[MEMSIM_MAX_EVENTS], r1[MEMSIM_MAX_EVENTS];
	u64 t0, t1, cy0, cy1, live0, irq0, irq1;
	unsigned int i, cpu0, cpu1, nev = c->req->nevents;
	int ret;

	memset(b, 0, sizeof(*b));
	b->size = sizeof(*b);
	c->ops = 0;
	c->work = NULL;
	c->priv = NULL;
	live0 = msk_env_live();

	ret = op->setup(c);
	if (!ret && WARN_ON_ONCE(!c->work))
		ret = -EINVAL;
	if (ret) {
		b->status = ret;
		goto out;
	}
	work_reset(c->work);
	msk_plat_counters_read(pc, v0, e0, r0);

	/* the timed region: nothing but the operation between the two clock reads */
	cpu0 = msk_plat_cpu();
	irq0 = msk_plat_irqs(cpu0);
	msk_plat_counters_enable(pc);
	t0 = msk_plat_ns();
	cy0 = msk_plat_cycles();
	ret = op->run(c);
	cy1 = msk_plat_cycles();
	t1 = msk_plat_ns();
	msk_plat_counters_disable(pc);
	cpu1 = msk_plat_cpu();
	irq1 = msk_plat_irqs(cpu0);

	msk_plat_counters_read(pc, v1, e1, r1);
	b->status = ret;
	b->ns = t1 - t0;
	b->cycles = cy1 - cy0;
	b->ops = c->ops;
	b->live_bytes = msk_env_live() - live0;
	b->footprint_bytes = c->work->footprint_bytes;
	b->cpu = cpu0;
	b->irqs = cpu1 == cpu0 ? (u32)ENV_MIN(irq1 - irq0, (u64)U32_MAX - 1) : U32_MAX;
	BUILD_BUG_ON(WU__COUNT > MEMSIM_MAX_UNITS);
	for (i = 0; i < WU__COUNT; i++)
		b->units[i] = c->work->n[i];
	for (i = 0; i < nev; i++) {
		b->ev[i] = v1[i] - v0[i];
		b->ev_enabled[i] = e1[i] - e0[i];
		b->ev_running[i] = r1[i] - r0[i];
	}
	if (!ret && (c->req->flags & MEMSIM_F_CHECK) && op->check && op->check(c))
		ret = -EUCLEAN;
out:
	op->teardown(c);
	c->priv = NULL;
	return ret;
}

/* ---- a request ---- */

int msk_accept(struct memsim_req *r, const struct msk_limits *lim, struct msk_ctx *c,
	       const struct msk_op **opp)
{
	const struct msk_op *op = msk_find_op(r->model, r->op);
	unsigned int i;
	int ret;

	if (!op) {
		msk_warn("memsim: %s %s: no such model and op (the catalog lists them)\n", r->model,
			 r->op);
		return -EINVAL;
	}
	memset(c, 0, sizeof(*c));
	c->req = r;
	c->n = r->n;
	c->max_nonpreempt = lim->max_nonpreempt;
	/* poll every 64 ops up to n = 2^14, then more often: at most ~2^20 entries walked
	 * between two polls */
	c->poll_mask = 63;
	while (c->poll_mask && (c->poll_mask + 1) * r->n > (1u << 20))
		c->poll_mask >>= 1;
	ret = op->prepare(c);
	if (ret)
		return ret;
	for (i = 0; i < r->nparams; i++)
		if (!c->param_used[i])   /* a parameter no part of this op knows */
			return msk_reject(c, "parameter %s: not one this op takes (see --info)",
					  r->params[i].name);
	r->est_bytes = c->est_bytes;
	if (c->est_bytes > lim->budget_bytes)
		return -E2BIG;
	*opp = op;
	return 0;
}

int msk_execute(const struct msk_op *op, struct msk_ctx *c, struct memsim_req *r,
		const struct msk_limits *lim, void *pc, struct memsim_batch *b,
		int (*emit)(void *arg, unsigned int i, const struct memsim_batch *b), void *arg)
{
	u64 asserts0, live0;
	unsigned int i;
	int ret = 0;

	r->nunits = WU__COUNT;
	asserts0 = msk_env_asserts();
	live0 = msk_env_live();
	msk_env_begin(lim->budget_bytes);
	c->deadline_ns = msk_plat_ns() + lim->max_seconds * 1000000000ULL;

	for (i = 0; i < r->k; i++) {
		ret = msk_batch(op, c, pc, b);
		if (emit(arg, i, b)) {
			ret = ret ? ret : -EFAULT;
			break;
		}
		if (ret)
			break;
		r->batches_done = i + 1;
	}

	r->peak_bytes = msk_env_peak() - live0;
	msk_env_end();
	r->leaked_bytes = msk_env_live() - live0;
	r->assert_failures = msk_env_asserts() - asserts0;
	return ret;
}

/* ---- MEMSIM_IOC_INFO ---- */

static void msk_catalog(char *buf, size_t len)
{
	const struct msk_op *o;
	size_t pos = 0;
	unsigned int t, i;
	const char *s;

#define CAT(...) (pos += scnprintf(buf + pos, len - pos, __VA_ARGS__))
	for (t = 0; t < ARRAY_SIZE(msk_tables); t++) {
		for (o = msk_tables[t]; o->model; o++) {
			CAT("%s %s policies=", o->model, o->op);
			for (i = 0; (s = o->policy_name(i)); i++)
				CAT("%s%s", i ? "," : "", s);
			CAT(" params=");
			for (i = 0; o->param_name && (s = o->param_name(i)); i++)
				CAT("%s%s", i ? "," : "", s);
			CAT("  # %s\n", o->doc);
		}
	}
#undef CAT
}

void msk_info_fill(struct memsim_info *in, const struct msk_limits *lim)
{
	unsigned int i;

	memset(in, 0, sizeof(*in));
	in->size = sizeof(*in);
	in->version = MEMSIM_UAPI_VERSION;
	in->nunits = WU__COUNT;
	in->max_n = lim->max_n;
	in->max_k = lim->max_k;
	in->max_bytes = lim->budget_bytes;
	in->max_seconds = lim->max_seconds;
	in->max_nonpreempt = lim->max_nonpreempt;
	for (i = 0; i < WU__COUNT; i++)
		strscpy(in->unit_names[i], work_unit_names[i], MEMSIM_NAME_LEN);
	msk_catalog(in->catalog, sizeof(in->catalog));
}
