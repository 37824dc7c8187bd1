/* SPDX-License-Identifier: MIT */
/*
 * sim/drv_sharing.c — drives models/sharing.c (seed 000): shared-frame reverse maps and the
 * relinquish of a dying domain's shared entries.
 *
 * Two drivers share this file: `rmap` (the policy picks the reverse map; the relinquish
 * policy is a parameter) and `relinquish` (the other way round).
 *
 * Machine model
 *   - Trace records become model operations: domain_create, page_alloc, share, page_write /
 *     unshare (copy-on-write break), domain_destroy.  A CoW break runs on the writing vCPU; its
 *     latency is the cost of its work.
 *   - A destroy is a hypercall issued by dom0's toolstack on pCPU 0.  It runs in slices: each
 *     call of sharing_relinquish_step() is one non-preemptible stretch whose length is the
 *     cost of the work it counted.  When the relinquish policy offers to yield, the model asks
 *     preempt_pending(): is dom0 work due on pCPU 0 by the simulated instant reached so far
 *     (slice start + cost of the work counted up to this check)?
 *   - dom0 has a vCPU on pCPU 0 that needs `dom0_burst_ns` every `dom0_period_ns` (its timer
 *     tick and I/O completions).  A tick that falls inside a stretch waits until the stretch
 *     ends; after a preempted slice the waiting bursts run, then the continuation resumes.
 *     Ticks are computed in closed form (they are periodic), not queued one by one, so a
 *     7-minute freeze does not cost 420k events.
 *   - A stretch longer than `softlockup_ns` (Linux's default soft-lockup threshold is 20 s)
 *     is what dom0 reports as a soft lockup; the run counts them (`softlockups`).
 *   - The dom0 vCPU that issued the destroy is a separate matter (`dom0_softlockups`).  With
 *     `privcmd_preempt` = 0 (Linux of 2012) the privcmd ioctl is not preemptible: the vCPU
 *     re-enters the hypercall at every continuation, runs event handlers (the bursts above)
 *     in between but never schedules a task, so it goes without a schedule from the first
 *     slice's start to the last slice's end.  With 1 (later Linux: preemptible privcmd
 *     hypercalls) the pending event at a continuation lets it schedule, so each slice is its
 *     own hold.  A hold longer than `softlockup_ns` is one soft-lockup report of that vCPU
 *     (the 2012 watchdog warns once per episode).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "hist.h"
#include "relinquish.h"
#include "rmap.h"
#include "sharing.h"

enum { EV_DESTROY_SLICE = 1 };

static const char *const relinquish_choices[] = {
	"monolithic", "preemptible", "preemptible-seed", "weighted", NULL
};
static const char *const rmap_choices[] = { "list", "hash", "tree", "hash-grow", "ksm-chain", NULL };

static const struct param_def machine_params[] = {
	{ "dom0_period_ns", PARAM_INT, 1000000, 0, 1000000000000ULL, NULL,
	  "ns between dom0 bursts on pCPU 0 (0: no dom0 load; 1 ms = a 1 kHz tick)" },
	{ "dom0_burst_ns", PARAM_INT, 20000, 0, 1000000000ULL, NULL,
	  "ns of pCPU 0 each dom0 burst needs" },
	{ "softlockup_ns", PARAM_INT, 20000000000ULL, 1, UINT64_MAX, NULL,
	  "a non-preemptible stretch longer than this is a soft lockup (Linux default 20 s)" },
	{ "privcmd_preempt", PARAM_INT, 0, 0, 1, NULL,
	  "1: dom0's privcmd hypercall is preemptible (later Linux), so the issuing vCPU schedules "
	  "at each continuation; 0: it is held for the whole destroy (Linux of 2012)" },
};

struct sharing_drv {
	struct sim *s;
	const struct cost_profile *prof;
	struct sharing_model *sm;
	struct rmap_model *rm;

	uint64_t dom0_period_ns, dom0_burst_ns, softlockup_ns;
	bool privcmd_preempt;

	/* destroy hypercalls waiting for / running on pCPU 0 */
	uint32_t *destroy_q;        /* FIFO [dq_head, dq_head + dq_len) of a growable array */
	size_t dq_head, dq_len, dq_cap;
	bool destroy_running;
	uint64_t destroy_started_ns;
	uint64_t pcpu0_free_at;     /* pCPU 0 is busy (stretch or dom0 bursts) until then */
	uint64_t slice_start_ns;    /* for preempt_pending() */
	bool vcpu_held;             /* the issuing dom0 vCPU is inside the hypercall ... */
	uint64_t vcpu_held_since;   /* ... without a schedule since then */

	/* results */
	struct work total;
	struct hist unshare_lat;
	uint64_t destroys, destroy_total_ns, destroy_max_ns, destroy_last_ns;
	uint64_t stretches, longest_stretch_ns, stretches_over;
	uint64_t dom0_delayed, dom0_wait_max_ns;
	unsigned __int128 dom0_wait_total_ns;  /* a sum of waits: n^2 p / 2 can pass 2^64 ns */
	uint64_t vcpu_softlockups, vcpu_held_max_ns;
	uint64_t rmap_bytes_peak, rmap_entries_peak, dup_pages_peak;
	uint64_t ignored_records, model_errors, implicit_domains;
	uint64_t cow_noop;
	uint64_t merge_total_ns, merge_max_ns;
};

/* ---- parameters ------------------------------------------------------------------------ */

static void add_common_params(struct param_set *ps)
{
	param_set_add_model(ps, "rmap", rmap_param_table, RMAP_NPARAMS);
	param_set_add_model(ps, "relinq", relinquish_param_table, RELINQUISH_NPARAMS);
	param_set_add(ps, "machine", machine_params, ENV_ARRAY_SIZE(machine_params));
}

static void rmap_add_params(struct param_set *ps)
{
	static const struct param_def choice = {
		"relinquish", PARAM_CHOICE, 1, 0, 0, relinquish_choices,
		"relinquish policy used by domain destroy",
	};

	add_common_params(ps);
	param_set_add(ps, "model", &choice, 1);
}

static void relinquish_add_params(struct param_set *ps)
{
	static const struct param_def choice = {
		"rmap", PARAM_CHOICE, 0, 0, 0, rmap_choices,
		"reverse-map policy of the shared frames",
	};

	add_common_params(ps);
	param_set_add(ps, "model", &choice, 1);
}

static void fill_rmap_params(const struct param_set *ps, struct rmap_params *rp)
{
	uint64_t *f = &rp->heavy;   /* struct rmap_params is rmap_param_table, in order */
	unsigned i;

	for (i = 0; i < RMAP_NPARAMS; i++)
		f[i] = param_get(ps, rmap_param_table[i].name);
}

static void fill_relinquish_params(const struct param_set *ps, struct relinquish_params *lp)
{
	uint64_t *f = &lp->batch;
	unsigned i;

	for (i = 0; i < RELINQUISH_NPARAMS; i++)
		f[i] = param_get(ps, relinquish_param_table[i].name);
}

/* ---- time ------------------------------------------------------------------------------- */

static uint64_t work_ns(const struct sharing_drv *d, const struct work *w)
{
	return sim_work_ns(d->s, d->prof, w);
}

/* Takes the work the model counted since the last call; returns its cost in ns. */
static uint64_t take_work(struct sharing_drv *d)
{
	uint64_t ns = work_ns(d, &d->rm->work);

	work_accumulate(&d->total, &d->rm->work);
	work_reset(&d->rm->work);
	if (d->rm->live_bytes > d->rmap_bytes_peak)
		d->rmap_bytes_peak = d->rm->live_bytes;
	if (d->rm->live_entries > d->rmap_entries_peak)
		d->rmap_entries_peak = d->rm->live_entries;
	if (d->rm->live_dup_pages > d->dup_pages_peak)
		d->dup_pages_peak = d->rm->live_dup_pages;
	return ns;
}

/* First dom0 tick at or after t (ticks at k * period). */
static uint64_t next_tick(const struct sharing_drv *d, uint64_t t)
{
	uint64_t p = d->dom0_period_ns;

	return sim_mul(d->s, t / p + (t % p != 0), p, "the next dom0 tick");
}

/* hypercall_preempt_check(): is dom0 work due by the instant this slice has reached? */
static bool preempt_pending(void *arg)
{
	struct sharing_drv *d = arg;
	uint64_t reached;

	if (!d->dom0_period_ns)
		return false;
	reached = sim_add(d->s, d->slice_start_ns, work_ns(d, &d->rm->work),
			  "the time a destroy slice has reached");
	return next_tick(d, d->slice_start_ns) <= reached;
}

/*
 * Accounts a non-preemptible stretch [t0, t1) on pCPU 0: the dom0 ticks inside it waited
 * until t1.  Returns how many bursts are now pending.
 */
static uint64_t account_stretch(struct sharing_drv *d, uint64_t t0, uint64_t t1)
{
	uint64_t len = t1 - t0, p = d->dom0_period_ns, k0, k1, n, w0;

	d->stretches++;
	if (len > d->longest_stretch_ns)
		d->longest_stretch_ns = len;
	if (len > d->softlockup_ns)
		d->stretches_over++;
	if (!p || t1 == t0)
		return 0;
	k0 = t0 / p + (t0 % p != 0);    /* first tick >= t0 */
	if (k0 > (t1 - 1) / p)          /* no tick before t1 */
		return 0;
	k1 = (t1 - 1) / p;              /* last tick < t1 */
	n = k1 - k0 + 1;
	w0 = t1 - k0 * p;               /* the first tick's wait, the longest (k0 p < t1) */
	/* sum over ticks k of (t1 - k p) = n w0 - p n (n - 1) / 2, exact in 128 bits */
	d->dom0_delayed += n;
	d->dom0_wait_total_ns += (unsigned __int128)n * w0 -
				 (unsigned __int128)p * ((unsigned __int128)n * (n - 1) / 2);
	if (w0 > d->dom0_wait_max_ns)
		d->dom0_wait_max_ns = w0;
	return n;
}

/* ---- destroy ---------------------------------------------------------------------------- */

/* The issuing dom0 vCPU schedules at t1 (the call returned, or a preemptible continuation):
 * its hold ends, and a hold past the watchdog threshold was one soft-lockup report. */
static void release_vcpu(struct sharing_drv *d, uint64_t t1)
{
	uint64_t held = t1 - d->vcpu_held_since;

	d->vcpu_held = false;
	if (held > d->vcpu_held_max_ns)
		d->vcpu_held_max_ns = held;
	if (held > d->softlockup_ns)
		d->vcpu_softlockups++;
}

static int start_next_destroy(struct sharing_drv *d)
{
	uint64_t t;

	if (d->destroy_running || !d->dq_len)
		return 0;
	d->destroy_running = true;
	t = d->s->now > d->pcpu0_free_at ? d->s->now : d->pcpu0_free_at;
	d->destroy_started_ns = t;
	return sim_schedule(d->s, t, EV_DESTROY_SLICE, d->destroy_q[d->dq_head], 0);
}

static int destroy_slice(struct sharing_drv *d, uint32_t domain)
{
	uint64_t t0 = d->s->now, t1, pending;
	int rc;

	work_reset(&d->rm->work);
	d->slice_start_ns = t0;
	if (!d->vcpu_held) {
		d->vcpu_held = true;
		d->vcpu_held_since = t0;
	}
	rc = sharing_relinquish_step(d->sm, domain, preempt_pending, d);
	t1 = sim_add(d->s, t0, take_work(d), "the end of a destroy slice");
	pending = account_stretch(d, t0, t1);
	if (rc != -EAGAIN || d->privcmd_preempt)
		release_vcpu(d, t1);
	/* dom0's delayed bursts run now, before the continuation */
	d->pcpu0_free_at = sim_add(d->s, t1, sim_mul(d->s, pending, d->dom0_burst_ns,
						      "dom0's delayed bursts"),
				   "the end of dom0's delayed bursts");
	sim_digest_add(d->s, ((uint64_t)(rc == -EAGAIN) << 63) ^ t1);
	if (rc == -EAGAIN)
		return sim_schedule(d->s, d->pcpu0_free_at, EV_DESTROY_SLICE, domain, 0);
	if (rc && rc != -ENOENT) {
		snprintf(d->s->err, sizeof(d->s->err), "relinquish of domain %u failed: %s",
			 domain, strerror(-rc));
		return -1;
	}
	/* destroy done */
	d->destroys++;
	d->destroy_last_ns = t1 - d->destroy_started_ns;
	d->destroy_total_ns = sim_add(d->s, d->destroy_total_ns, d->destroy_last_ns,
				      "the total time of the destroys");
	if (d->destroy_last_ns > d->destroy_max_ns)
		d->destroy_max_ns = d->destroy_last_ns;
	d->destroy_running = false;
	d->dq_head++;
	d->dq_len--;
	return start_next_destroy(d);
}

/* Appends to the destroy FIFO, compacting or growing the array as needed. */
static int queue_destroy(struct sharing_drv *d, uint32_t domain)
{
	if (d->dq_head + d->dq_len == d->dq_cap) {
		if (d->dq_head) {
			memmove(d->destroy_q, d->destroy_q + d->dq_head, d->dq_len * sizeof(*d->destroy_q));
			d->dq_head = 0;
		} else {
			size_t cap = d->dq_cap ? 2 * d->dq_cap : 16;
			uint32_t *q = realloc(d->destroy_q, cap * sizeof(*q));

			if (!q)
				return -1;
			d->destroy_q = q;
			d->dq_cap = cap;
		}
	}
	d->destroy_q[d->dq_head + d->dq_len++] = domain;
	return 0;
}

/* ---- records ---------------------------------------------------------------------------- */

static int ensure_domain(struct sharing_drv *d, uint32_t domain)
{
	int rc = sharing_domain_create(d->sm, domain);

	if (rc == 0)
		d->implicit_domains++;
	return rc == -EEXIST ? 0 : rc;
}

/*
 * A share whose client gfn is already backed by another shared frame that has other tuples
 * is the seed's share_pages() merging two shared frames: the whole client frame moves.
 * (A client frame with this one tuple left: the plain share, which moves it, is the same.)
 */
static bool is_merge(const struct sharing_drv *d, const struct trace_rec *r)
{
	uint64_t cur;

	return r->frame < P2M_GFN_LIMIT &&
	       sharing_lookup(d->sm, r->domain, r->frame, &cur) == P2M_SHARED &&
	       cur != r->arg && sharing_frame_degree(d->sm, cur) > 1;
}

static int on_record(struct sim *s, void *ctx, const struct trace_rec *r)
{
	struct sharing_drv *d = ctx;
	int rc = 0;
	uint64_t i, n;

	switch (r->type) {
	case TR_DOMAIN_CREATE:
		rc = sharing_domain_create(d->sm, r->domain);
		if (rc == -EEXIST)
			rc = 0;
		break;
	case TR_PAGE_ALLOC:
		n = r->arg < 20 ? 1ULL << r->arg : 1ULL << 20;
		for (i = 0; i < n && !rc; i++) {
			rc = sharing_page_alloc(d->sm, r->domain, r->frame + i);
			if (rc == -ENOENT && !(rc = ensure_domain(d, r->domain)))
				rc = sharing_page_alloc(d->sm, r->domain, r->frame + i);
		}
		take_work(d);
		break;
	case TR_SHARE:
		if (is_merge(d, r)) {
			uint64_t ns;

			work_reset(&d->rm->work);
			rc = sharing_merge(d->sm, r->domain, r->frame, r->arg);
			ns = take_work(d);
			d->merge_total_ns += ns;
			d->merge_max_ns = ns > d->merge_max_ns ? ns : d->merge_max_ns;
			break;
		}
		rc = sharing_share(d->sm, r->domain, r->frame, r->arg);
		if (rc == -ENOENT && !(rc = ensure_domain(d, r->domain)))
			rc = sharing_share(d->sm, r->domain, r->frame, r->arg);
		take_work(d);
		break;
	case TR_PAGE_WRITE:
	case TR_UNSHARE:
		work_reset(&d->rm->work);
		rc = sharing_unshare(d->sm, r->domain, r->frame);
		if (rc == 1) {
			hist_add(&d->unshare_lat, take_work(d));
			rc = 0;
		} else {
			take_work(d);
			if (rc == 0 || rc == -ENOENT)
				d->cow_noop++;
			if (rc == -ENOENT)
				rc = 0;
		}
		break;
	case TR_DOMAIN_DESTROY:
		if (queue_destroy(d, r->domain)) {
			snprintf(s->err, sizeof(s->err), "out of memory queueing a destroy");
			return -1;
		}
		if (start_next_destroy(d))
			return -1;
		break;
	default:
		d->ignored_records++;
		break;
	}
	if (rc == -ENOMEM || rc == -EBUSY || rc == -ERANGE) {
		/* The hypervisor refuses the operation (no memory, a dying domain, a gfn or frame
		 * beyond what a p2m can map); a real trace can contain such requests, so the run
		 * goes on and counts them. */
		d->model_errors++;
		rc = 0;
	}
	if (rc) {
		snprintf(s->err, sizeof(s->err), "record at %" PRIu64 " ns (%s, domain %u, frame %" PRIu64
			 "): model error %s", r->time_ns, trace_type_name(r->type) ? trace_type_name(r->type) : "?",
			 r->domain, r->frame, strerror(-rc));
		return -1;
	}
	return 0;
}

static int on_event(struct sim *s, void *ctx, const struct sim_event *ev)
{
	struct sharing_drv *d = ctx;

	(void)s;
	if (ev->kind == EV_DESTROY_SLICE)
		return destroy_slice(d, ev->target);
	snprintf(s->err, sizeof(s->err), "sharing driver: unknown event kind %u", ev->kind);
	return -1;
}

static const struct sim_handlers sharing_handlers = { on_record, on_event };

/* ---- life cycle ------------------------------------------------------------------------- */

static void *create_common(struct sim *s, const char *rmap_name, const char *relinq_name,
			   const struct param_set *ps, const struct cost_profile *prof,
			   char *err, size_t errlen)
{
	const struct rmap_policy *rpol = rmap_policy_find(rmap_name);
	const struct relinquish_policy *lpol = relinquish_policy_find(relinq_name);
	struct rmap_params rp;
	struct relinquish_params lp;
	struct sharing_drv *d;

	if (!rpol || !lpol) {
		snprintf(err, errlen, "unknown policy '%s'", !rpol ? rmap_name : relinq_name);
		return NULL;
	}
	fill_rmap_params(ps, &rp);
	fill_relinquish_params(ps, &lp);
	if (rmap_params_validate(&rp)) {
		snprintf(err, errlen, "inconsistent rmap parameters: need 0 < light < heavy, "
			 "buckets >= 1, hash_fn 0 or 1 (got heavy=%" PRIu64 " light=%" PRIu64
			 " buckets=%" PRIu64 ")", rp.heavy, rp.light, rp.buckets);
		return NULL;
	}
	if (relinquish_params_validate(&lp)) {
		snprintf(err, errlen, "inconsistent relinquish parameters (batch and weights must be >= 1)");
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->s = s;
	d->prof = prof;
	d->sm = sharing_model_create(rpol, &rp, lpol, &lp);
	if (!d->sm) {
		free(d);
		snprintf(err, errlen, "out of memory creating the sharing model");
		return NULL;
	}
	d->rm = sharing_rmap(d->sm);
	d->dom0_period_ns = param_get(ps, "dom0_period_ns");
	d->dom0_burst_ns = param_get(ps, "dom0_burst_ns");
	d->softlockup_ns = param_get(ps, "softlockup_ns");
	d->privcmd_preempt = param_get(ps, "privcmd_preempt") != 0;
	hist_init(&d->unshare_lat);
	return d;
}

static void *rmap_create(struct sim *s, const char *policy, const struct param_set *ps,
			 const struct cost_profile *prof, char *err, size_t errlen)
{
	return create_common(s, policy, relinquish_choices[param_get(ps, "relinquish")], ps, prof,
			     err, errlen);
}

static void *relinquish_create(struct sim *s, const char *policy, const struct param_set *ps,
			       const struct cost_profile *prof, char *err, size_t errlen)
{
	return create_common(s, rmap_choices[param_get(ps, "rmap")], policy, ps, prof, err, errlen);
}

static void report(void *ctx, struct sim *s, struct metrics *mx)
{
	struct sharing_drv *d = ctx;
	const struct rmap_stats *rs = &d->rm->stats;
	const struct sharing_stats *ss = sharing_stats(d->sm);
	char name[64];
	unsigned u;

	(void)s;
	metrics_set(mx, "destroy_ns", (double)d->destroy_total_ns);
	metrics_set(mx, "destroy_max_ns", (double)d->destroy_max_ns);
	metrics_set(mx, "destroys", (double)d->destroys);
	metrics_set(mx, "destroys_unfinished", (double)d->dq_len);
	metrics_set(mx, "longest_stretch_ns", (double)d->longest_stretch_ns);
	metrics_set(mx, "stretches", (double)d->stretches);
	metrics_set(mx, "softlockups", (double)d->stretches_over);
	metrics_set(mx, "dom0_delayed_bursts", (double)d->dom0_delayed);
	metrics_set(mx, "dom0_wait_ns", (double)d->dom0_wait_total_ns);
	metrics_set(mx, "dom0_wait_max_ns", (double)d->dom0_wait_max_ns);
	metrics_set(mx, "dom0_softlockups", (double)d->vcpu_softlockups);
	metrics_set(mx, "dom0_vcpu_held_max_ns", (double)d->vcpu_held_max_ns);
	metrics_set(mx, "unshares", (double)d->unshare_lat.count);
	metrics_set(mx, "unshare_p50_ns", (double)hist_quantile(&d->unshare_lat, 500));
	metrics_set(mx, "unshare_p99_ns", (double)hist_quantile(&d->unshare_lat, 990));
	metrics_set(mx, "unshare_max_ns", (double)d->unshare_lat.max);
	metrics_set(mx, "shares", (double)ss->shares);
	metrics_set(mx, "merges", (double)ss->merges);
	metrics_set(mx, "merged_tuples", (double)ss->merged_tuples);
	metrics_set(mx, "merge_ns", (double)d->merge_total_ns);
	metrics_set(mx, "merge_max_ns", (double)d->merge_max_ns);
	metrics_set(mx, "frames_peak", (double)ss->frames_peak);
	metrics_set(mx, "rmap_bytes_peak", (double)d->rmap_bytes_peak);
	metrics_set(mx, "rmap_entries_peak", (double)d->rmap_entries_peak);
	metrics_set(mx, "rmap_bytes_end", (double)d->rm->live_bytes);
	metrics_set(mx, "rmap_dup_pages_peak", (double)d->dup_pages_peak);
	metrics_set(mx, "conversions_to_hash", (double)rs->to_hash);
	metrics_set(mx, "conversions_to_list", (double)rs->to_list);
	metrics_set(mx, "conversions_failed", (double)rs->conv_failed);
	metrics_set(mx, "conversions_deferred", (double)rs->conv_deferred);
	metrics_set(mx, "resize_steps", (double)rs->resize_steps);
	metrics_set(mx, "alloc_failed", (double)rs->alloc_failed);
	metrics_set(mx, "preemptions", (double)ss->preemptions);
	metrics_set(mx, "model_errors", (double)d->model_errors);
	metrics_set(mx, "ignored_records", (double)d->ignored_records);
	metrics_set(mx, "implicit_domains", (double)d->implicit_domains);
	metrics_set(mx, "cow_noop", (double)d->cow_noop);
	for (u = 0; u < WU__COUNT; u++) {
		if (!d->total.n[u])
			continue;
		snprintf(name, sizeof(name), "work_%s", work_unit_names[u]);
		metrics_set(mx, name, (double)d->total.n[u]);
	}
}

static void destroy(void *ctx)
{
	struct sharing_drv *d = ctx;

	if (!d)
		return;
	sharing_model_destroy(d->sm);
	free(d->destroy_q);
	free(d);
}

static const char *const rmap_policy_docs[] = {
	"doubly linked list, new entries at the head, O(n) retrieve",
	"list, converted to `buckets` hash chains at `heavy`, back at `light`",
	"balanced tree keyed by (domain, gfn), no list phase",
	"hash whose bucket array doubles in bounded incremental steps",
	"at most max_page_sharing tuples per copy of the page, then a new copy (Linux KSM)",
	NULL,
};

static const char *const relinquish_policy_docs[] = {
	"all shared entries released in one non-preemptible pass",
	"preemption check every `batch` shared entries",
	"the seed's literal `count == batch` check (checks once)",
	"shared entries weigh 16, others 1, check at 8192",
	NULL,
};

/*
 * What report() puts into the metrics (rmap and relinquish share this driver and this table).
 * A "stretch" is one non-preemptible run of a destroy on pCPU 0: a slice of relinquish_memory
 * between preemption checks (the whole destroy for monolithic).
 */
static const struct metric_def sharing_metric_defs[] = {
	{ "destroy_ns", "ns", "sum over completed domain destroys of each one's latency, from its "
	  "start on pCPU 0 (after any earlier destroy) to the hypercall's return, preemptions and "
	  "dom0 bursts in between included", NULL, false },
	{ "destroy_max_ns", "ns", "longest single destroy latency", NULL, false },
	{ "destroys", "count", "domain destroys completed", NULL, false },
	{ "destroys_unfinished", "count", "destroys still queued when the trace ended", NULL, false },
	{ "longest_stretch_ns", "ns", "longest non-preemptible stretch of destroy work on pCPU 0",
	  NULL, false },
	{ "stretches", "count", "non-preemptible stretches of destroy work (slices between "
	  "preemption checks) over all destroys", NULL, false },
	{ "softlockups", "count", "stretches longer than softlockup_ns (the hypervisor's CPU "
	  "stuck without a preemption point)", NULL, false },
	{ "dom0_delayed_bursts", "count", "dom0 bursts (one per dom0_period_ns tick on pCPU 0) "
	  "that fell inside a destroy stretch and had to wait for its end", NULL, false },
	{ "dom0_wait_ns", "ns", "sum over all delayed dom0 bursts of each one's wait (tick to end "
	  "of the stretch); a sum over many bursts, so it can exceed the run's sim_time_ns", NULL,
	  false },
	{ "dom0_wait_max_ns", "ns", "longest wait of a single dom0 burst", NULL, false },
	{ "dom0_softlockups", "count", "times the issuing dom0 vCPU was held inside the destroy "
	  "hypercall without scheduling for longer than softlockup_ns (Linux's soft-lockup report; "
	  "privcmd_preempt=1 lets it schedule at each continuation)", NULL, false },
	{ "dom0_vcpu_held_max_ns", "ns", "longest time the issuing dom0 vCPU went without "
	  "scheduling inside a destroy hypercall", NULL, false },
	{ "unshares", "count", "copy-on-write breaks and explicit unshares that split a shared "
	  "frame", NULL, false },
	{ "unshare_p50_ns", "ns", "median latency of one unshare (its priced rmap work)", NULL,
	  false },
	{ "unshare_p99_ns", "ns", "99th-percentile latency of one unshare", NULL, false },
	{ "unshare_max_ns", "ns", "longest single unshare", NULL, false },
	{ "shares", "count", "successful share operations (a gfn mapped to a shared frame)", NULL,
	  false },
	{ "merges", "count", "shares of a gfn already backed by another multiply-shared frame "
	  "that moved at least one tuple (share_pages merging two shared frames)", NULL, false },
	{ "merged_tuples", "count", "(domain, gfn) tuples moved from a client frame to the source "
	  "frame by merges", NULL, false },
	{ "merge_ns", "ns", "sum over merges of each one's priced work", NULL, false },
	{ "merge_max_ns", "ns", "longest single merge", NULL, false },
	{ "frames_peak", "frames", "most shared frames alive at once", NULL, false },
	{ "rmap_bytes_peak", "bytes", "most bytes the reverse maps held at once (all frames)",
	  NULL, false },
	{ "rmap_entries_peak", "entries", "most reverse-map entries alive at once", NULL, false },
	{ "rmap_bytes_end", "bytes", "bytes the reverse maps hold at the end of the run", NULL,
	  false },
	{ "rmap_dup_pages_peak", "pages", "ksm-chain: most duplicate 4 KiB pages alive at once "
	  "beyond each frame's own (0 for the other policies)", NULL, false },
	{ "conversions_to_hash", "count", "reverse maps converted from a list to a hash table "
	  "(hash, hash-grow)", NULL, false },
	{ "conversions_to_list", "count", "reverse maps converted back from a hash table to a list",
	  NULL, false },
	{ "conversions_failed", "count", "conversions abandoned for lack of memory (the frame "
	  "stayed a list)", NULL, false },
	{ "conversions_deferred", "count", "conversions and hash-grow resize starts skipped "
	  "because an iterator was active on the frame", NULL, false },
	{ "resize_steps", "count", "hash-grow incremental migration steps", NULL, false },
	{ "alloc_failed", "count", "reverse-map entry allocations that failed (-ENOMEM to the "
	  "caller)", NULL, false },
	{ "preemptions", "count", "relinquish slices that ended in -EAGAIN (a hypercall "
	  "continuation)", NULL, false },
	METRIC_DEF_MODEL_ERRORS,
	METRIC_DEF_IGNORED_RECORDS,
	METRIC_DEF_IMPLICIT_DOMAINS,
	{ "cow_noop", "count", "writes or unshares of a gfn that was not shared (nothing to "
	  "break)", NULL, false },
	METRIC_DEF_WORK,
	METRIC_DEF_END,
};

const struct model_driver rmap_driver = {
	.name = "rmap",
	.doc = "shared-frame reverse maps (seed 000): share, CoW unshare, destroy",
	.policies = rmap_choices,
	.policy_docs = rmap_policy_docs,
	.add_params = rmap_add_params,
	.create = rmap_create,
	.handlers = &sharing_handlers,
	.report = report,
	.destroy = destroy,
	.metrics = sharing_metric_defs,
};

const struct model_driver relinquish_driver = {
	.name = "relinquish",
	.doc = "relinquish of a dying domain's shared entries (seed 000, patch 1)",
	.policies = relinquish_choices,
	.policy_docs = relinquish_policy_docs,
	.add_params = relinquish_add_params,
	.create = relinquish_create,
	.handlers = &sharing_handlers,
	.report = report,
	.destroy = destroy,
	.metrics = sharing_metric_defs,
};
