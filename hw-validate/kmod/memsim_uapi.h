/* SPDX-License-Identifier: MIT */
/*
 * hw-validate/kmod/memsim_uapi.h — the control interface of the memsim kernel module,
 * shared by the module and the userspace harness.  docs/validation.md describes it in prose.
 *
 * Device: /dev/memsim, a misc device, mode 0600; open() also wants CAP_SYS_ADMIN (the
 * module opens kernel perf counters for the caller, bypassing perf_event_paranoid).
 *
 * One request runs one operation of one model `k` times (batches) on real model instances
 * of size `n`.  Per batch the module:
 *   1. sets up the instance            (untimed: e.g. builds an rmap of n entries)
 *   2. resets the model's work counts, enables the requested perf counters, reads
 *      ktime_get_ns() and get_cycles(), runs the operation, reads them again, disables
 *   3. tears the instance down         (untimed; every byte is given back)
 * and writes one struct memsim_batch.  Requests are serialized (one at a time).
 *
 * Versioning: every struct starts with {size, version}; the module accepts only the exact
 * size and version it was built with and answers -EINVAL otherwise.  Reserved fields must be
 * zero.  Names are NUL-terminated inside their MEMSIM_NAME_LEN bytes, [a-z0-9_.+-] only.
 *
 * Errors of MEMSIM_IOC_RUN:
 *   -EINVAL  malformed request: size/version/reserved fields, unknown model/policy/op or
 *            parameter, a value out of its range, n or k out of [1, limit], result_size
 *   -E2BIG   the request's estimated memory exceeds the module's budget (info.max_bytes), or
 *            it would run longer than info.max_nonpreempt work units without a point where
 *            it can yield the CPU or see a signal (a monolithic list destroy of a large n)
 *   -EFAULT  unreadable request or unwritable results array
 *   -ENOMEM  the model could not get memory during setup (the budget is also enforced on
 *            every allocation)
 *   -EINTR   a signal arrived; batches_done says how many results are valid
 *   -ETIME   the request ran longer than the module's time limit (info.max_seconds)
 * Unknown ioctl numbers: -ENOTTY.
 */
#ifndef MEMSIM_UAPI_H
#define MEMSIM_UAPI_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define MEMSIM_UAPI_VERSION 1
#define MEMSIM_DEVICE "/dev/memsim"

#define MEMSIM_NAME_LEN 32      /* model, policy, op and parameter names, NUL included */
#define MEMSIM_MAX_PARAMS 8     /* name=value pairs per request */
#define MEMSIM_MAX_EVENTS 8     /* perf counters per request */
#define MEMSIM_MAX_UNITS 32     /* work-unit slots (the module fills info.nunits of them) */
#define MEMSIM_CATALOG_LEN 8192 /* info.catalog text */

struct memsim_param {
	char name[MEMSIM_NAME_LEN];
	__u64 value;
};

/*
 * A perf counter, as libpfm4 encodes it (struct perf_event_attr's type/config/config1/
 * config2).  The module creates it as a kernel counter bound to the calling task, counting
 * kernel mode, enabled only around the timed region of each batch.
 */
struct memsim_event {
	__u32 type;
	__u32 reserved;          /* must be 0 */
	__u64 config;
	__u64 config1;
	__u64 config2;
};

/* Flags of memsim_req.flags. */
#define MEMSIM_F_CHECK 0x1u  /* run the model's own invariant check after each batch's
			      * operation (outside the timed region); a failure is -EUCLEAN */
#define MEMSIM_F_ALL (MEMSIM_F_CHECK)

struct memsim_req {
	/* in */
	__u32 size;              /* sizeof(struct memsim_req) */
	__u32 version;           /* MEMSIM_UAPI_VERSION */
	char model[MEMSIM_NAME_LEN];
	char policy[MEMSIM_NAME_LEN];
	char op[MEMSIM_NAME_LEN];
	__u64 n;                 /* size of the instance (entries, gfns, ...): 1..info.max_n */
	__u32 k;                 /* batches: 1..info.max_k */
	__u32 nparams;
	struct memsim_param params[MEMSIM_MAX_PARAMS];
	__u32 nevents;
	__u32 flags;             /* MEMSIM_F_* */
	struct memsim_event events[MEMSIM_MAX_EVENTS];
	__u64 results;           /* user pointer to k struct memsim_batch */
	__u32 result_size;       /* sizeof(struct memsim_batch) */
	__u32 reserved;          /* must be 0 */
	/* out (written back whether or not the request succeeded, once it was accepted) */
	__s32 event_status[MEMSIM_MAX_EVENTS];  /* 0, or -errno from creating the counter */
	__u32 nunits;            /* work units reported per batch */
	__u32 batches_done;      /* results[0 .. batches_done-1] are valid */
	__u64 est_bytes;         /* the op's memory estimate checked against the budget */
	__u64 peak_bytes;        /* most model bytes live at once during the request */
	__u64 leaked_bytes;      /* model bytes not given back by teardown (should be 0) */
	__u64 assert_failures;   /* ENV_ASSERT failures during the request (should be 0) */
};

struct memsim_batch {
	__u32 size;              /* sizeof(struct memsim_batch) */
	__s32 status;            /* 0 or -errno of the timed operation */
	__u64 ns;                /* ktime_get_ns() delta over the timed region */
	__u64 cycles;            /* get_cycles() (TSC) delta over the timed region */
	__u64 ops;               /* model operations performed in the timed region */
	__u64 footprint_bytes;   /* work.footprint_bytes: size of the structure walked */
	__u64 live_bytes;        /* model bytes live when the timed region ended */
	__u32 cpu;               /* CPU the timed region started on */
	__u32 irqs;              /* interrupts that CPU took during the timed region (their
				  * handlers' cost is in ns/cycles/counters); ~0u if the task
				  * moved to another CPU meanwhile */
	__u64 ev[MEMSIM_MAX_EVENTS];          /* counter deltas (0 for unavailable ones) */
	__u64 ev_enabled[MEMSIM_MAX_EVENTS];  /* ns the counter was enabled */
	__u64 ev_running[MEMSIM_MAX_EVENTS];  /* ns it was on the PMU (< enabled: multiplexed) */
	__u64 units[MEMSIM_MAX_UNITS];        /* struct work n[], by info.unit_names */
};

struct memsim_info {
	__u32 size;              /* in: sizeof(struct memsim_info) */
	__u32 version;           /* in: MEMSIM_UAPI_VERSION */
	__u32 nunits;
	__u32 max_k;
	__u64 max_n;
	__u64 max_bytes;         /* memory budget of one request (model bytes) */
	__u32 max_seconds;       /* time limit of one request */
	__u32 reserved;
	__u64 max_nonpreempt;    /* most work units an op may do without yielding */
	char unit_names[MEMSIM_MAX_UNITS][MEMSIM_NAME_LEN];
	/* One line per model/op: "MODEL OP policies=P1,P2,... params=A,B,...  # doc\n" */
	char catalog[MEMSIM_CATALOG_LEN];
};

#define MEMSIM_IOC_MAGIC 0xE5
#define MEMSIM_IOC_INFO _IOWR(MEMSIM_IOC_MAGIC, 1, struct memsim_info)
#define MEMSIM_IOC_RUN _IOWR(MEMSIM_IOC_MAGIC, 2, struct memsim_req)

#endif /* MEMSIM_UAPI_H */
