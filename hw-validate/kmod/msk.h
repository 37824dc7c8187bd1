/* SPDX-License-Identifier: MIT */
/*
 * hw-validate/kmod/msk.h — inside the memsim kernel module: how an operation of a model is
 * plugged into the request loop (memsim_kmod.c), and the host services of env_kernel.c.
 *
 * An op file (ops_*.c) drives the models/ code exactly as the simulator does: it only calls
 * the models' public interfaces (the headers in models/).  For each batch the request loop calls
 *
 *   prepare   once per request: look the policy up, apply parameters, estimate memory;
 *             allocates nothing (so a rejected request costs nothing)
 *   setup     untimed: build the instance the operation works on
 *   run       timed: the operation itself; sets c->ops and c->work
 *   check     optional, untimed, with MEMSIM_F_CHECK: the model's invariant check
 *   teardown  untimed: free everything setup and run allocated (also after a failure)
 *
 * State of one request lives in struct msk_ctx; an op keeps its instance behind c->priv and
 * its parsed parameters in c->pstate (no allocation needed before setup).
 */
#ifndef MEMSIM_KMOD_MSK_H
#define MEMSIM_KMOD_MSK_H

#include "memsim_uapi.h"
#include "model.h"

struct msk_ctx {
	const struct memsim_req *req;   /* validated copy */
	u64 n;
	bool param_used[MEMSIM_MAX_PARAMS];
	u64 est_bytes;                  /* prepare: memory the op will need at most */
	u64 ops;                        /* run: operations performed */
	struct work *work;              /* setup: the accumulator the op counts into */
	void *priv;                     /* setup..teardown: the op's instance */
	u64 poll_mask;                  /* msk_poll polls when (i & poll_mask) == 0 */
	u64 max_nonpreempt;             /* prepare: work units allowed without a poll */
	u64 deadline_ns;                /* ktime after which the request stops (-ETIME) */
	u64 pstate[32];                 /* prepare: parsed policy and parameters */
};

struct msk_op {
	const char *model;
	const char *op;
	const char *doc;                /* one line */
	/* i-th policy name, NULL past the end (for the catalog) */
	const char *(*policy_name)(unsigned int i);
	/* i-th parameter name, NULL past the end (for the catalog) */
	const char *(*param_name)(unsigned int i);
	int (*prepare)(struct msk_ctx *c);
	int (*setup)(struct msk_ctx *c);
	int (*run)(struct msk_ctx *c);
	int (*check)(struct msk_ctx *c);
	void (*teardown)(struct msk_ctx *c);
};

/* Op tables, each ended by an entry with model == NULL. */
extern const struct msk_op msk_selftest_ops[];
extern const struct msk_op msk_rmap_ops[];
extern const struct msk_op msk_sharing_ops[];
extern const struct msk_op msk_superpage_ops[];
extern const struct msk_op msk_scrub_ops[];
extern const struct msk_op msk_shadow_ops[];
extern const struct msk_op msk_hinting_ops[];

/* ---- helpers for op files (msk_core.c) ---- */

/*
 * Sets fields[j] from the request's parameter named table[j].name, if any, after checking
 * table[j].min <= value <= table[j].max; marks the parameter used.  0 or -EINVAL.
 */
int msk_params_apply(struct msk_ctx *c, const struct model_param *table, unsigned int ntable,
		     u64 *fields);
/* One glue-level parameter: *out keeps its default when the request does not name it. */
int msk_param_take(struct msk_ctx *c, const char *name, u64 min, u64 max, u64 *out);

/*
 * Called by run loops after each operation i: every few operations (every 64 for small n,
 * down to every one for n of 2^20 and more, so a big list never runs long between two
 * polls) it yields the CPU if asked to and stops the request on a signal (-EINTR) or past
 * the time limit (-ETIME).  Deterministic, so it does not perturb instruction counts.
 */
int msk_poll_slow(struct msk_ctx *c, u64 i);
static inline int msk_poll(struct msk_ctx *c, u64 i)
{
	return (i & c->poll_mask) ? 0 : msk_poll_slow(c, i);
}

/*
 * A request the op refuses: says why, naming the parameter or the name at fault (the
 * kernel log, rate-limited, in the module; stderr in memsim-user), and returns -EINVAL.
 * The ioctl can only answer an errno: this line is where the name goes.
 */
#ifdef pr_warn_ratelimited
#define msk_warn pr_warn_ratelimited
#else
#define msk_warn pr_warn
#endif
#define msk_reject(c, fmt, ...) (msk_warn("memsim: %s %s %s: " fmt "\n", (c)->req->model,     \
					  (c)->req->policy, (c)->req->op, ##__VA_ARGS__), -EINVAL)

/*
 * Real 4 KiB pages behind WU_PAGE_SCRUB: the models count a page cleared, the module clears
 * one, so calibration prices the clear itself and not the bookkeeping around it.  The pool
 * holds `pages` pages (allocated in setup, untimed) and msk_pool_clear zeroes the next k of
 * them, cycling: a pool larger than the caches clears cold pages, as a dying guest's are.
 */
struct msk_pool {
	u8 *mem;
	u64 pages, next, cleared;
};
#define MSK_PAGE 4096u
int msk_pool_init(struct msk_pool *p, u64 pages);   /* 0 or -ENOMEM */
void msk_pool_clear(struct msk_pool *p, u64 k);
void msk_pool_free(struct msk_pool *p);

/* Saturating a*b + c for memory estimates. */
static inline u64 msk_est(u64 a, u64 b, u64 c)
{
	u64 ab;

	if (__builtin_mul_overflow(a, b, &ab) || __builtin_add_overflow(ab, c, &ab))
		return U64_MAX;
	return ab;
}

/* ---- msk_core.c: the request loop shared by memsim.ko and memsim-user ---- */

/* perf_event_attr types the module refuses (the stable uapi values) */
#define MSK_PERF_TYPE_TRACEPOINT 2
#define MSK_PERF_TYPE_BREAKPOINT 5

struct msk_limits {
	u64 max_n;
	u32 max_k;
	u64 budget_bytes;               /* memory budget of one request (model bytes) */
	u64 max_seconds;                /* time limit of one request */
	u64 max_nonpreempt;
};

/* Checks every field of a copied-in request: 0 or -EINVAL. */
int msk_validate(const struct memsim_req *r, const struct msk_limits *lim);
/* Finds the op, runs its prepare, checks parameters and budget; fills *c.  0 or -errno
 * (nothing allocated either way). */
int msk_accept(struct memsim_req *r, const struct msk_limits *lim, struct msk_ctx *c,
	       const struct msk_op **opp);
/* Runs the k batches of an accepted request with the platform's counters pc; emit(arg, i, b)
 * hands batch i out (non-zero: stop, -EFAULT).  Writes the request's outputs. */
int msk_execute(const struct msk_op *op, struct msk_ctx *c, struct memsim_req *r,
		const struct msk_limits *lim, void *pc, struct memsim_batch *b,
		int (*emit)(void *arg, unsigned int i, const struct memsim_batch *b), void *arg);
/* MEMSIM_IOC_INFO's answer. */
void msk_info_fill(struct memsim_info *in, const struct msk_limits *lim);

/*
 * ---- platform services: memsim_kmod.c in the module, user/msk_user.c in memsim-user ----
 * pc is the platform's counter set of the request (opened from req->events).
 */
u64 msk_plat_ns(void);                  /* a monotonic clock, ns */
u64 msk_plat_cycles(void);              /* the TSC */
unsigned int msk_plat_cpu(void);        /* the CPU this runs on */
u64 msk_plat_irqs(unsigned int cpu);    /* disturbances of that CPU so far (interrupts) */
int msk_plat_yield(void);               /* yield if asked to; -EINTR on a signal */
void msk_plat_counters_read(void *pc, u64 *val, u64 *ena, u64 *run);
void msk_plat_counters_enable(void *pc);
void msk_plat_counters_disable(void *pc);

/* ---- env_kernel.c: allocation accounting behind env_alloc/env_free ---- */
void msk_env_begin(u64 limit_bytes);  /* a request starts: set its budget, reset the peak */
u64 msk_env_live(void);               /* model bytes live now */
u64 msk_env_peak(void);               /* most bytes live since msk_env_begin */
u64 msk_env_asserts(void);            /* ENV_ASSERT failures since load */
void msk_env_end(void);               /* request done: no budget until the next one */

#endif /* MEMSIM_KMOD_MSK_H */
