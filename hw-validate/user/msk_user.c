// SPDX-License-Identifier: MIT
/*
 * hw-validate/user/msk_user.c — the platform of memsim-user: the module's request loop
 * (kmod/msk_core.c) and op files (kmod/ops_*.c) run in this process instead of behind
 * /dev/memsim.  The harness (harness/memsim-hw.c, compiled with -DMEMSIM_USER) calls
 * hw_dev_open/hw_dev_ioctl exactly as it would open and ioctl the device; here they validate
 * and run the request in place, with
 *
 *   clock     clock_gettime(CLOCK_MONOTONIC_RAW) (ns) and rdtsc (cycles) around the run
 *   counters  perf_event_open on this thread, enabled only around the timed region: the
 *             software events (task-clock, page-faults, ...) always work, hardware ones only
 *             where a PMU exists (the harness reports the others as unavailable)
 *   irqs      context switches of this thread during the timed region (getrusage): what can
 *             disturb a userspace batch (interrupts are not visible from here)
 *   pinning   the process is bound to one CPU (sched_setaffinity) when the runner opens:
 *             --cpu N, or by default the highest-numbered CPU it may use (CPU 0 takes most
 *             device interrupts)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>

#include <linux/kernel.h>

#include "msk.h"
#include "hw.h"

#define USER_FD 1000            /* what hw_dev_open hands out: there is no device */

int hw_dev_cpu = -1;            /* --cpu; -1: pick one */
static int pinned_cpu = -1;
static int pin_errno;

struct user_counters {
	unsigned int n;
	int fd[MEMSIM_MAX_EVENTS];  /* -1 when unavailable */
};

static void limits(struct msk_limits *lim)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

	/* the module's defaults (memsim_kmod.c's module parameters) */
	lim->max_n = 2ULL << 20;
	lim->max_k = 10000;
	lim->budget_bytes = pages > 0 && psz > 0 ? (u64)pages * (u64)psz / 4 : 1ULL << 30;
	lim->max_seconds = 600;
	lim->max_nonpreempt = 1000000000ULL;
}

/* ---- platform services of msk_core.c ---- */

u64 msk_plat_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

u64 msk_plat_cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return msk_plat_ns();
#endif
}

unsigned int msk_plat_cpu(void)
{
	int c = sched_getcpu();

	return c < 0 ? 0 : (unsigned int)c;
}

u64 msk_plat_irqs(unsigned int cpu)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return 0;
	return (u64)ru.ru_nvcsw + (u64)ru.ru_nivcsw;
}

/* A userspace thread is preempted by the kernel whenever needed, and a signal ends the
 * process: nothing to do at a poll but the time limit (msk_poll_slow). */
int msk_plat_yield(void)
{
	return 0;
}

void msk_plat_counters_read(void *p, u64 *val, u64 *ena, u64 *run)
{
	struct user_counters *pc = p;
	unsigned int i;

	for (i = 0; i < pc->n; i++) {
		u64 v[3] = { 0, 0, 0 };

		if (pc->fd[i] >= 0 && read(pc->fd[i], v, sizeof(v)) != (ssize_t)sizeof(v))
			v[0] = v[1] = v[2] = 0;
		val[i] = v[0];
		ena[i] = v[1];
		run[i] = v[2];
	}
}

void msk_plat_counters_enable(void *p)
{
	struct user_counters *pc = p;
	unsigned int i;

	for (i = 0; i < pc->n; i++)
		if (pc->fd[i] >= 0)
			ioctl(pc->fd[i], PERF_EVENT_IOC_ENABLE, 0);
}

void msk_plat_counters_disable(void *p)
{
	struct user_counters *pc = p;
	unsigned int i;

	for (i = 0; i < pc->n; i++)
		if (pc->fd[i] >= 0)
			ioctl(pc->fd[i], PERF_EVENT_IOC_DISABLE, 0);
}

static void counters_open(struct user_counters *pc, struct memsim_req *r)
{
	unsigned int i;

	pc->n = r->nevents;
	for (i = 0; i < r->nevents; i++) {
		struct perf_event_attr a;
		int fd = -1;

		/* kernel mode too where perf_event_paranoid allows it, else user mode only: all of
		 * the measured code runs in user mode here */
		for (int excl = 0; excl < 2 && fd < 0; excl++) {
			memset(&a, 0, sizeof(a));
			a.size = sizeof(a);
			a.type = r->events[i].type;
			a.config = r->events[i].config;
			a.config1 = r->events[i].config1;
			a.config2 = r->events[i].config2;
			a.disabled = 1;
			a.exclude_hv = 1;
			a.exclude_kernel = excl;
			a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
			fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
			if (fd < 0 && errno != EACCES && errno != EPERM)
				break;
		}
		pc->fd[i] = fd;
		if (fd < 0)
			r->event_status[i] = -errno;
	}
}

static void counters_close(struct user_counters *pc)
{
	unsigned int i;

	for (i = 0; i < pc->n; i++)
		if (pc->fd[i] >= 0)
			close(pc->fd[i]);
}

/* ---- the harness's device calls, served in process ---- */

static int emit_batch(void *arg, unsigned int i, const struct memsim_batch *b)
{
	struct memsim_batch *results = arg;

	results[i] = *b;
	return 0;
}

static int user_run(struct memsim_req *ureq)
{
	struct memsim_req r = *ureq;      /* the module works on a validated copy too */
	struct user_counters pc;
	struct memsim_batch b;
	struct msk_limits lim;
	struct msk_ctx c;
	const struct msk_op *op;
	int ret;

	limits(&lim);
	ret = msk_validate(&r, &lim);
	if (!ret)
		ret = msk_accept(&r, &lim, &c, &op);
	if (ret)
		return ret;
	memset(&pc, 0, sizeof(pc));
	counters_open(&pc, &r);
	ret = msk_execute(op, &c, &r, &lim, &pc, &b, emit_batch,
			  (struct memsim_batch *)(uintptr_t)r.results);
	counters_close(&pc);
	if (r.leaked_bytes)
		fprintf(stderr, "memsim-user: %s/%s/%s leaked %llu bytes\n", r.model, r.policy,
			r.op, (unsigned long long)r.leaked_bytes);
	*ureq = r;
	return ret;
}

int hw_dev_open(const char *dev)
{
	cpu_set_t allowed, one;
	int cpu = hw_dev_cpu;

	(void)dev;
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		CPU_ZERO(&allowed);
	if (cpu < 0)
		for (int i = CPU_SETSIZE - 1; i >= 0; i--)
			if (CPU_ISSET(i, &allowed)) {
				cpu = i;
				break;
			}
	if (cpu >= 0 && cpu < CPU_SETSIZE) {
		if (!CPU_ISSET(cpu, &allowed) && hw_dev_cpu >= 0)
			return -EINVAL;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			pin_errno = errno;
		else
			pinned_cpu = cpu;
	}
	return USER_FD;
}

void hw_dev_describe(void)
{
	if (pinned_cpu >= 0)
		printf("runner kind=user clock=CLOCK_MONOTONIC_RAW cycles=rdtsc pinned=%d\n",
		       pinned_cpu);
	else
		printf("runner kind=user clock=CLOCK_MONOTONIC_RAW cycles=rdtsc pinned=no errno=%d\n",
		       pin_errno);
}

int hw_dev_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	if (fd != USER_FD) {
		errno = EBADF;
		return -1;
	}
	if (!arg) {
		errno = EFAULT;
		return -1;
	}
	if (cmd == MEMSIM_IOC_INFO) {
		struct memsim_info *in = arg;
		struct msk_limits lim;

		if (in->size != sizeof(*in) || in->version != MEMSIM_UAPI_VERSION) {
			errno = EINVAL;
			return -1;
		}
		limits(&lim);
		msk_info_fill(in, &lim);
		return 0;
	}
	if (cmd != MEMSIM_IOC_RUN) {
		errno = ENOTTY;
		return -1;
	}
	ret = user_run(arg);
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}
