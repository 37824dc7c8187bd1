// SPDX-License-Identifier: MIT
/*
 * hw-validate/kmod/memsim_kmod.c — the memsim kernel module: /dev/memsim runs operations of
 * the models/ policy code (compiled unchanged into this module) and measures them.
 *
 * Request life (MEMSIM_IOC_RUN), one at a time under msk_lock:
 *
 *   copy in -> validate every field -> find op -> op->prepare (policy, params, estimate)
 *     -> budget check -> create perf counters -> k x { setup | TIMED run | check | teardown }
 *     -> release counters -> copy results and the request's outputs back
 *
 * Nothing is allocated before the request is fully validated, and every exit path after
 * that goes through the same release code, so garbage costs nothing and leaves nothing.
 * The interface is described in memsim_uapi.h and docs/validation.md.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/ktime.h>
#include <linux/timex.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/capability.h>
#include <linux/string.h>
#include <linux/mm.h>
#include <linux/err.h>
#include <linux/kernel_stat.h>
#include <linux/hardirq.h>

#include "msk.h"

static unsigned long max_n = 2UL << 20;
module_param(max_n, ulong, 0444);
MODULE_PARM_DESC(max_n, "largest instance size n of a request (default 2Mi)");

static unsigned int max_k = 10000;
module_param(max_k, uint, 0444);
MODULE_PARM_DESC(max_k, "most batches in one request (default 10000)");

static unsigned long max_mb;
module_param(max_mb, ulong, 0444);
MODULE_PARM_DESC(max_mb, "memory budget of one request in MiB (default: a quarter of RAM)");

static unsigned int max_seconds = 600;
module_param(max_seconds, uint, 0444);
MODULE_PARM_DESC(max_seconds, "time limit of one request in seconds (default 600)");

static unsigned long max_nonpreempt = 1000000000UL;
module_param(max_nonpreempt, ulong, 0444);
MODULE_PARM_DESC(max_nonpreempt,
		 "most work units (list hops...) an op may run without yielding (default 1e9)");

static DEFINE_MUTEX(msk_lock);

static const struct msk_op *const msk_tables[] = {
	msk_selftest_ops,
	msk_rmap_ops,
	msk_sharing_ops,
	msk_superpage_ops,
};

static u64 msk_budget_bytes(void)
{
	if (max_mb)
		return (u64)max_mb << 20;
	return ((u64)totalram_pages() << PAGE_SHIFT) / 4;
}

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
				return -EINVAL;
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
			return -EINVAL;
		*out = p->value;
		c->param_used[i] = true;
	}
	return 0;
}

int msk_poll_slow(struct msk_ctx *c, u64 i)
{
	cond_resched();
	if (signal_pending(current))
		return -EINTR;
	if (ktime_get_ns() > c->deadline_ns)
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

static int msk_validate(const struct memsim_req *r)
{
	unsigned int i, j;

	if (r->size != sizeof(*r) || r->version != MEMSIM_UAPI_VERSION)
		return -EINVAL;
	if (!msk_name_ok(r->model) || !msk_name_ok(r->policy) || !msk_name_ok(r->op))
		return -EINVAL;
	if (r->n < 1 || r->n > max_n || r->k < 1 || r->k > max_k)
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
		    (e->type == PERF_TYPE_TRACEPOINT || e->type == PERF_TYPE_BREAKPOINT))
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

/* ---- perf counters ---- */

struct msk_counters {
	unsigned int n;
	struct perf_event *ev[MEMSIM_MAX_EVENTS];   /* NULL when unavailable */
	u64 val[MEMSIM_MAX_EVENTS], ena[MEMSIM_MAX_EVENTS], run[MEMSIM_MAX_EVENTS];
};

static void msk_counters_open(struct msk_counters *pc, struct memsim_req *r)
{
	unsigned int i;

	pc->n = r->nevents;
	for (i = 0; i < r->nevents; i++) {
		struct perf_event_attr attr = {
			.type = r->events[i].type,
			.size = sizeof(attr),
			.config = r->events[i].config,
			.config1 = r->events[i].config1,
			.config2 = r->events[i].config2,
			.disabled = 1,
			.exclude_hv = 1,
			.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
				       PERF_FORMAT_TOTAL_TIME_RUNNING,
		};
		struct perf_event *e;

		e = perf_event_create_kernel_counter(&attr, -1, current, NULL, NULL);
		if (IS_ERR(e)) {
			r->event_status[i] = PTR_ERR(e);
			pc->ev[i] = NULL;
		} else {
			pc->ev[i] = e;
		}
	}
}

static void msk_counters_close(struct msk_counters *pc)
{
	unsigned int i;

	for (i = 0; i < pc->n; i++)
		if (pc->ev[i])
			perf_event_release_kernel(pc->ev[i]);
}

static void msk_counters_read(struct msk_counters *pc, u64 *val, u64 *ena, u64 *run)
{
	unsigned int i;

	for (i = 0; i < pc->n; i++) {
		val[i] = ena[i] = run[i] = 0;
		if (pc->ev[i])
			val[i] = perf_event_read_value(pc->ev[i], &ena[i], &run[i]);
	}
}

static inline void msk_counters_enable(struct msk_counters *pc)
{
	unsigned int i;

	for (i = 0; i < pc->n; i++)
		if (pc->ev[i])
			perf_event_enable(pc->ev[i]);
}

static inline void msk_counters_disable(struct msk_counters *pc)
{
	unsigned int i;

	for (i = 0; i < pc->n; i++)
		if (pc->ev[i])
			perf_event_disable(pc->ev[i]);
}

/* ---- one batch ---- */

/* Interrupts taken by a CPU so far: device irqs plus, on x86, the local APIC's own
 * (timer, IPIs, NMIs), which do not go through the generic irq layer. */
static u64 msk_irqs(unsigned int cpu)
{
	u64 n = kstat_cpu_irqs_sum(cpu);
#ifdef CONFIG_X86
	const irq_cpustat_t *s = &per_cpu(irq_stat, cpu);

	n += s->__nmi_count + s->apic_perf_irqs + s->apic_irq_work_irqs + s->irq_tlb_count;
#ifdef CONFIG_X86_LOCAL_APIC
	n += s->apic_timer_irqs;
#endif
#ifdef CONFIG_SMP
	n += s->irq_resched_count + s->irq_call_count;
#endif
#endif
	return n;
}

static int msk_batch(const struct msk_op *op, struct msk_ctx *c, struct msk_counters *pc,
		     struct memsim_batch *b)
{
	u64 v0[MEMSIM_MAX_EVENTS], e0[MEMSIM_MAX_EVENTS], r0[MEMSIM_MAX_EVENTS];
	u64 v1[MEMSIM_MAX_EVENTS], e1[MEMSIM_MAX_EVENTS], r1[MEMSIM_MAX_EVENTS];
	u64 t0, t1, cy0, cy1, live0, irq0, irq1;
	unsigned int i, cpu0, cpu1;
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
	msk_counters_read(pc, v0, e0, r0);

	/* the timed region: nothing but the operation between the two clock reads */
	cpu0 = raw_smp_processor_id();
	irq0 = msk_irqs(cpu0);
	msk_counters_enable(pc);
	t0 = ktime_get_ns();
	cy0 = get_cycles();
	ret = op->run(c);
	cy1 = get_cycles();
	t1 = ktime_get_ns();
	msk_counters_disable(pc);
	cpu1 = raw_smp_processor_id();
	irq1 = msk_irqs(cpu0);

	msk_counters_read(pc, v1, e1, r1);
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
	for (i = 0; i < pc->n; i++) {
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

/* ---- MEMSIM_IOC_RUN ---- */

static long msk_run(struct memsim_req __user *ureq)
{
	struct memsim_batch *b = NULL;
	struct msk_counters *pc = NULL;
	struct memsim_req *r;
	struct msk_ctx *c = NULL;
	const struct msk_op *op;
	u64 asserts0, live0;
	u32 hdr[2];
	unsigned int i;
	long ret;

	if (copy_from_user(hdr, ureq, sizeof(hdr)))
		return -EFAULT;
	if (hdr[0] != sizeof(*r) || hdr[1] != MEMSIM_UAPI_VERSION)
		return -EINVAL;
	r = memdup_user(ureq, sizeof(*r));
	if (IS_ERR(r))
		return PTR_ERR(r);
	ret = msk_validate(r);
	if (ret)
		goto out_free;
	if (!access_ok(u64_to_user_ptr(r->results), (size_t)r->k * sizeof(*b))) {
		ret = -EFAULT;
		goto out_free;
	}
	op = msk_find_op(r->model, r->op);
	if (!op) {
		ret = -EINVAL;
		goto out_free;
	}

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	pc = kzalloc(sizeof(*pc), GFP_KERNEL);
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!c || !pc || !b) {
		ret = -ENOMEM;
		goto out_free;
	}
	c->req = r;
	c->n = r->n;
	c->max_nonpreempt = max_nonpreempt;
	/* poll every 64 ops up to n = 2^14, then more often: at most ~2^20 entries walked
	 * between two polls */
	c->poll_mask = 63;
	while (c->poll_mask && (c->poll_mask + 1) * r->n > (1u << 20))
		c->poll_mask >>= 1;
	ret = op->prepare(c);
	if (ret)
		goto out_free;
	for (i = 0; i < r->nparams; i++)
		if (!c->param_used[i]) {
			ret = -EINVAL;   /* a parameter no part of this op knows */
			goto out_free;
		}
	r->est_bytes = c->est_bytes;
	if (c->est_bytes > msk_budget_bytes()) {
		ret = -E2BIG;
		goto out_free;
	}

	/* accepted: from here on the outputs are written back */
	r->nunits = WU__COUNT;
	asserts0 = msk_env_asserts();
	live0 = msk_env_live();
	msk_env_begin(msk_budget_bytes());
	c->deadline_ns = ktime_get_ns() + (u64)max_seconds * NSEC_PER_SEC;
	msk_counters_open(pc, r);

	for (i = 0; i < r->k; i++) {
		ret = msk_batch(op, c, pc, b);
		if (copy_to_user(u64_to_user_ptr(r->results) + (size_t)i * sizeof(*b),
				 b, sizeof(*b))) {
			ret = ret ? ret : -EFAULT;
			break;
		}
		if (ret)
			break;
		r->batches_done = i + 1;
	}

	msk_counters_close(pc);
	r->peak_bytes = msk_env_peak() - live0;
	msk_env_end();
	r->leaked_bytes = msk_env_live() - live0;
	r->assert_failures = msk_env_asserts() - asserts0;
	if (r->leaked_bytes)
		pr_warn("memsim: %s/%s/%s leaked %llu bytes\n", r->model, r->policy, r->op,
			r->leaked_bytes);
	if (copy_to_user(ureq, r, sizeof(*r)) && !ret)
		ret = -EFAULT;
out_free:
	kfree(b);
	kfree(pc);
	kfree(c);
	kfree(r);
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

static long msk_info(struct memsim_info __user *uinfo)
{
	struct memsim_info *in;
	u32 hdr[2];
	unsigned int i;
	long ret = 0;

	if (copy_from_user(hdr, uinfo, sizeof(hdr)))
		return -EFAULT;
	if (hdr[0] != sizeof(*in) || hdr[1] != MEMSIM_UAPI_VERSION)
		return -EINVAL;
	in = kzalloc(sizeof(*in), GFP_KERNEL);
	if (!in)
		return -ENOMEM;
	in->size = sizeof(*in);
	in->version = MEMSIM_UAPI_VERSION;
	in->nunits = WU__COUNT;
	in->max_n = max_n;
	in->max_k = max_k;
	in->max_bytes = msk_budget_bytes();
	in->max_seconds = max_seconds;
	in->max_nonpreempt = max_nonpreempt;
	for (i = 0; i < WU__COUNT; i++)
		strscpy(in->unit_names[i], work_unit_names[i], MEMSIM_NAME_LEN);
	msk_catalog(in->catalog, sizeof(in->catalog));
	if (copy_to_user(uinfo, in, sizeof(*in)))
		ret = -EFAULT;
	kfree(in);
	return ret;
}

static long msk_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	long ret;

	if (cmd != MEMSIM_IOC_RUN && cmd != MEMSIM_IOC_INFO)
		return -ENOTTY;
	if (mutex_lock_interruptible(&msk_lock))
		return -EINTR;
	if (cmd == MEMSIM_IOC_RUN)
		ret = msk_run((struct memsim_req __user *)arg);
	else
		ret = msk_info((struct memsim_info __user *)arg);
	mutex_unlock(&msk_lock);
	return ret;
}

static int msk_open(struct inode *inode, struct file *f)
{
	/* kernel counters bypass perf_event_paranoid: root only, whatever the file mode */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}

static const struct file_operations msk_fops = {
	.owner = THIS_MODULE,
	.open = msk_open,
	.unlocked_ioctl = msk_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice msk_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "memsim",
	.fops = &msk_fops,
	.mode = 0600,
};

static int __init msk_init(void)
{
	int ret;

	if (!max_n || !max_k || !max_seconds)
		return -EINVAL;
	ret = misc_register(&msk_dev);
	if (ret)
		return ret;
	pr_info("memsim: /dev/memsim ready (uapi v%d, %d work units, budget %llu MiB)\n",
		MEMSIM_UAPI_VERSION, WU__COUNT, msk_budget_bytes() >> 20);
	return 0;
}

static void __exit msk_exit(void)
{
	misc_deregister(&msk_dev);
	/* every request frees its instances before returning: anything left is a leak */
	if (msk_env_live())
		pr_warn("memsim: unloaded with %llu model bytes still allocated\n", msk_env_live());
	else
		pr_info("memsim: unloaded, 0 model bytes outstanding\n");
}

module_init(msk_init);
module_exit(msk_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("memsim hardware validation: runs models/ policy code and measures it");
