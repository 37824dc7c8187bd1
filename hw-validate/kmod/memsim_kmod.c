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
 *
 * This file is the device plumbing and the kernel's clocks and counters only: validation,
 * the op tables and the prepare/setup/run/check/teardown loop are in msk_core.c, which
 * memsim-user (hw-validate/user/) compiles unchanged to measure the same code natively.
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

static u64 msk_budget_bytes(void)
{
	if (max_mb)
		return (u64)max_mb << 20;
	return ((u64)totalram_pages() << PAGE_SHIFT) / 4;
}

static void msk_limits_get(struct msk_limits *lim)
{
	lim->max_n = max_n;
	lim->max_k = max_k;
	lim->budget_bytes = msk_budget_bytes();
	lim->max_seconds = max_seconds;
	lim->max_nonpreempt = max_nonpreempt;
}

/* ---- platform services of msk_core.c ---- */

u64 msk_plat_ns(void)
{
	return ktime_get_ns();
}

u64 msk_plat_cycles(void)
{
	return get_cycles();
}

unsigned int msk_plat_cpu(void)
{
	return raw_smp_processor_id();
}

int msk_plat_yield(void)
{
	cond_resched();
	return signal_pending(current) ? -EINTR : 0;
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

void msk_plat_counters_read(void *p, u64 *val, u64 *ena, u64 *run)
{
	struct msk_counters *pc = p;
	unsigned int i;

	for (i = 0; i < pc->n; i++) {
		val[i] = ena[i] = run[i] = 0;
		if (pc->ev[i])
			val[i] = perf_event_read_value(pc->ev[i], &ena[i], &run[i]);
	}
}

void msk_plat_counters_enable(void *p)
{
	struct msk_counters *pc = p;
	unsigned int i;

	for (i = 0; i < pc->n; i++)
		if (pc->ev[i])
			perf_event_enable(pc->ev[i]);
}

void msk_plat_counters_disable(void *p)
{
	struct msk_counters *pc = p;
	unsigned int i;

	for (i = 0; i < pc->n; i++)
		if (pc->ev[i])
			perf_event_disable(pc->ev[i]);
}

/* ---- interrupts ---- */

/* Interrupts taken by a CPU so far: device irqs plus, on x86, the local APIC's own
 * (timer, IPIs, NMIs), which do not go through the generic irq layer. */
u64 msk_plat_irqs(unsigned int cpu)
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

/* ---- MEMSIM_IOC_RUN ---- */

struct msk_emit {
	struct memsim_batch __user *results;
};

static int msk_emit_batch(void *arg, unsigned int i, const struct memsim_batch *b)
{
	struct msk_emit *e = arg;

	return copy_to_user(e->results + i, b, sizeof(*b)) ? -EFAULT : 0;
}

static long msk_run(struct memsim_req __user *ureq)
{
	struct memsim_batch *b = NULL;
	struct msk_counters *pc = NULL;
	struct memsim_req *r;
	struct msk_ctx *c = NULL;
	const struct msk_op *op;
	struct msk_limits lim;
	struct msk_emit em;
	u32 hdr[2];
	long ret;

	if (copy_from_user(hdr, ureq, sizeof(hdr)))
		return -EFAULT;
	if (hdr[0] != sizeof(*r) || hdr[1] != MEMSIM_UAPI_VERSION)
		return -EINVAL;
	r = memdup_user(ureq, sizeof(*r));
	if (IS_ERR(r))
		return PTR_ERR(r);
	msk_limits_get(&lim);
	ret = msk_validate(r, &lim);
	if (ret)
		goto out_free;
	if (!access_ok(u64_to_user_ptr(r->results), (size_t)r->k * sizeof(*b))) {
		ret = -EFAULT;
		goto out_free;
	}

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	pc = kzalloc(sizeof(*pc), GFP_KERNEL);
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!c || !pc || !b) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = msk_accept(r, &lim, c, &op);
	if (ret)
		goto out_free;

	/* accepted: from here on the outputs are written back */
	msk_counters_open(pc, r);
	em.results = u64_to_user_ptr(r->results);
	ret = msk_execute(op, c, r, &lim, pc, b, msk_emit_batch, &em);
	msk_counters_close(pc);
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

static long msk_info(struct memsim_info __user *uinfo)
{
	struct memsim_info *in;
	struct msk_limits lim;
	u32 hdr[2];
	long ret = 0;

	if (copy_from_user(hdr, uinfo, sizeof(hdr)))
		return -EFAULT;
	if (hdr[0] != sizeof(*in) || hdr[1] != MEMSIM_UAPI_VERSION)
		return -EINVAL;
	in = kzalloc(sizeof(*in), GFP_KERNEL);
	if (!in)
		return -ENOMEM;
	msk_limits_get(&lim);
	msk_info_fill(in, &lim);
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
