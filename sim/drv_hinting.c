/* SPDX-License-Identifier: MIT */
/*
 * sim/drv_hinting.c — drives models/hinting.c (seed 004): guest page hinting against a host
 * whose memory is smaller than its guests'.
 *
 * Machine model
 *   - Records → guest operations: page_alloc (2^order pages allocated on the record's vCPU:
 *     the policy makes them stable, then the guest writes them), page_free (the policy hints,
 *     lists or queues them), page_fault with a frame and page_write (the guest touches the
 *     page), domain_create / domain_destroy (a destroy releases the guest's host memory and
 *     swap).  A record of an unknown domain creates it (implicit_domains).  Faults without a
 *     frame (2^64-1: the recorder could not attribute them) and every other type are ignored
 *     and counted.
 *   - Host reclaim is inline: when a touch (or a page first seen freed or touched, which was
 *     resident all along) takes host memory above host_mem_pages, the model reclaims in the
 *     same operation, as direct reclaim in the faulting context would.  No event is queued,
 *     so this driver schedules nothing; its time figures are sums of work cost, not
 *     latencies on a contended pCPU.
 *   - Time is the cost profile's price of the counted work, split by who pays it:
 *       hint_ns     hypercall entries and pages carried (WU_HYPERCALL, WU_HINT_PAGE)
 *       guest_ns    the guest's own bookkeeping (list hops, lazy-set probes and moves)
 *       swap_ns     swap writes and reads (WU_SWAP_IO)
 *       reclaim_ns  the host's clock scan and drops (WU_P2M_ENTRY, WU_PAGE_DROP)
 *       fault_ns    zero pages supplied (WU_PAGE_SCRUB)
 *   - coverage = sum over reclaims of free resident pages the host knew as unused / sum of
 *     free resident pages (models/hinting.h); 0 when reclaim never ran (see `reclaims`).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "hinting.h"

static const char *const hinting_choices[] = { "none", "per-page", "batched", "lazy", NULL };

static const char *const hinting_policy_docs[] = {
	"no hints: the host swaps free pages like any other",
	"one hint hypercall on every free (unused) and every allocation (stable) (the seed)",
	"per-CPU free lists stay stable; spills and refills are hinted in vectors of hint_batch",
	"freed pages wait in a pending set of lazy_pages, committed in one call when full",
	NULL,
};

/* C_GUEST is 0: a unit missing from the table below counts as guest bookkeeping */
enum cost_class { C_GUEST, C_HINT, C_SWAP, C_RECLAIM, C_FAULT, C__N };

static const enum cost_class unit_class[WU__COUNT] = {
	[WU_HYPERCALL] = C_HINT, [WU_HINT_PAGE] = C_HINT,
	[WU_LIST_HOP] = C_GUEST, [WU_BUCKET_VISIT] = C_GUEST, [WU_ENTRY_MOVE] = C_GUEST,
	[WU_SWAP_IO] = C_SWAP,
	[WU_P2M_ENTRY] = C_RECLAIM, [WU_PAGE_DROP] = C_RECLAIM,
	[WU_PAGE_SCRUB] = C_FAULT,
};

struct hinting_drv {
	struct hinting_model *m;
	const struct cost_profile *prof;
	struct work total;
	uint64_t ns[C__N];
	uint64_t last_reclaims;
	uint64_t ignored_records, unattributed_faults, implicit_domains, model_errors;
	uint64_t first_ns, last_ns;
	bool seen;
	struct metrics series;      /* points gathered during the run, copied at report */
};

/* Prices the work of one operation by class; returns the total ns. */
static uint64_t take_work(struct hinting_drv *d, struct sim *s)
{
	struct work *w = &d->m->work;
	uint64_t total = 0;
	unsigned c, u;

	w->footprint_bytes = d->m->mem.live_bytes;
	for (c = 0; c < C__N; c++) {
		struct work part;
		bool any = false;
		uint64_t ns;

		work_reset(&part);
		part.footprint_bytes = w->footprint_bytes;
		for (u = 0; u < WU__COUNT; u++) {
			if (!w->n[u] || unit_class[u] != c)
				continue;
			part.n[u] = w->n[u];
			any = true;
		}
		if (!any)
			continue;
		ns = sim_work_ns(s, d->prof, &part);
		d->ns[c] = sim_add(s, d->ns[c], ns, "the total time of one cost class");
		total = sim_add(s, total, ns, "the time of one operation");
	}
	work_accumulate(&d->total, w);
	work_reset(w);
	return total;
}

static int ensure_domain(struct hinting_drv *d, uint32_t domain)
{
	int rc;

	if (hinting_domain_exists(d->m, domain))
		return 0;
	rc = hinting_domain_create(d->m, domain, 1);
	if (!rc)
		d->implicit_domains++;
	return rc;
}

static void sample(struct hinting_drv *d, uint64_t t)
{
	const struct hinting_stats *st = &d->m->stats;

	if (st->reclaims == d->last_reclaims)
		return;
	d->last_reclaims = st->reclaims;
	metrics_series_add(&d->series, "coverage", t,
			   st->last_cov_free ? (double)st->last_cov_unused / (double)st->last_cov_free : 0);
	metrics_series_add(&d->series, "swap_used_pages", t, (double)d->m->swapped);
	metrics_series_add(&d->series, "hint_calls", t, (double)st->hint_calls);
}

static int on_record(struct sim *s, void *ctx, const struct trace_rec *r)
{
	struct hinting_drv *d = ctx;
	uint64_t ns;
	int rc = 0;

	if (!d->seen) {
		d->seen = true;
		d->first_ns = r->time_ns;
	}
	d->last_ns = r->time_ns;
	work_reset(&d->m->work);
	switch (r->type) {
	case TR_DOMAIN_CREATE:
		rc = hinting_domain_create(d->m, r->domain, (uint32_t)r->arg);
		break;
	case TR_DOMAIN_DESTROY:
		rc = hinting_domain_destroy(d->m, r->domain);
		break;
	case TR_PAGE_ALLOC:
		rc = ensure_domain(d, r->domain);
		if (!rc)
			rc = hinting_alloc(d->m, r->domain, r->vcpu, r->frame, (unsigned)r->arg);
		break;
	case TR_PAGE_FREE:
		rc = ensure_domain(d, r->domain);
		if (!rc)
			rc = hinting_free(d->m, r->domain, r->vcpu, r->frame, (unsigned)r->arg);
		break;
	case TR_PAGE_FAULT:
		if (r->frame == UINT64_MAX) {
			d->unattributed_faults++;
			return 0;
		}
		/* fall through */
	case TR_PAGE_WRITE:
		rc = ensure_domain(d, r->domain);
		if (!rc)
			rc = hinting_touch(d->m, r->domain, r->frame);
		break;
	default:
		d->ignored_records++;
		return 0;
	}
	/* refused requests are counted by the model (rejected); nothing is fatal */
	d->model_errors += rc < 0;
	ns = take_work(d, s);
	sample(d, r->time_ns);
	sim_digest_add(s, ns ^ ((uint64_t)(uint8_t)rc << 56));
	return 0;
}

static int on_event(struct sim *s, void *ctx, const struct sim_event *ev)
{
	(void)ctx;
	snprintf(s->err, sizeof(s->err), "hinting driver: unknown event kind %u", ev->kind);
	return -1;
}

static const struct sim_handlers hinting_handlers = { on_record, on_event };

/* ---- life cycle ------------------------------------------------------------------------- */

static void hinting_add_params(struct param_set *ps)
{
	param_set_add_model(ps, "model", hinting_param_table, HINTING_NPARAMS);
}

static void *hinting_create(struct sim *s, const char *policy, const struct param_set *ps,
			    const struct cost_profile *prof, char *err, size_t errlen)
{
	const struct hinting_policy *pol = hinting_policy_find(policy);
	struct hinting_params p;
	struct hinting_drv *d;

	(void)s;
	if (!pol) {
		snprintf(err, errlen, "unknown policy '%s'", policy);
		return NULL;
	}
	p.host_mem_pages = param_get(ps, "host_mem_pages");
	p.reclaim_batch = param_get(ps, "reclaim_batch");
	p.hint_batch = param_get(ps, "hint_batch");
	p.pcp_high = param_get(ps, "pcp_high");
	p.pcp_max_order = param_get(ps, "pcp_max_order");
	p.lazy_pages = param_get(ps, "lazy_pages");
	p.max_gb = param_get(ps, "max_gb");
	if (p.hint_batch > p.pcp_high + 1) {
		snprintf(err, errlen, "--set hint_batch=%" PRIu64 ": above pcp_high + 1 (%" PRIu64
			 "): a spill could not bring the list back under pcp_high",
			 p.hint_batch, p.pcp_high + 1);
		return NULL;
	}
	if (p.reclaim_batch >= p.host_mem_pages) {
		snprintf(err, errlen, "--set reclaim_batch=%" PRIu64 ": not below host_mem_pages (%"
			 PRIu64 ")", p.reclaim_batch, p.host_mem_pages);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->m = hinting_model_create(pol, &p))) {
		free(d);
		snprintf(err, errlen, "out of memory creating the hinting model");
		return NULL;
	}
	d->prof = prof;
	metrics_init(&d->series);
	return d;
}

static void put(struct metrics *mx, const char *name, uint64_t v)
{
	metrics_set(mx, name, (double)v);
}

static void hinting_report(void *ctx, struct sim *s, struct metrics *mx)
{
	struct hinting_drv *d = ctx;
	const struct hinting_stats *st = &d->m->stats;
	uint64_t total = 0;
	char name[64];
	unsigned u;
	size_t i, k;

	put(mx, "hint_calls", st->hint_calls);
	put(mx, "hint_calls_unused", st->calls_unused);
	put(mx, "hint_calls_stable", st->calls_stable);
	put(mx, "pages_hinted", st->pages_hinted_unused + st->pages_hinted_stable);
	put(mx, "pages_hinted_unused", st->pages_hinted_unused);
	put(mx, "pages_hinted_stable", st->pages_hinted_stable);
	put(mx, "hint_entries", st->hint_entries);
	put(mx, "pages_dropped", st->pages_dropped);
	put(mx, "pages_swapped", st->pages_swapped);
	put(mx, "swap_outs_free", st->swap_outs_free);
	put(mx, "swap_ins", st->swap_ins);
	put(mx, "swap_ins_on_alloc", st->swap_ins_on_alloc);
	put(mx, "swap_ios", st->pages_swapped + st->swap_ins);
	put(mx, "swap_discards", st->swap_discards);
	put(mx, "faults_on_dropped", st->faults_on_dropped);
	put(mx, "first_touches", st->first_touches);
	put(mx, "hint_ns", d->ns[C_HINT]);
	put(mx, "guest_ns", d->ns[C_GUEST]);
	put(mx, "swap_ns", d->ns[C_SWAP]);
	put(mx, "reclaim_ns", d->ns[C_RECLAIM]);
	put(mx, "fault_ns", d->ns[C_FAULT]);
	for (u = 0; u < C__N; u++)
		total = sim_add(s, total, d->ns[u], "the total time of the cost classes");
	put(mx, "total_ns", total);
	metrics_set(mx, "coverage", st->cov_free ? (double)st->cov_unused / (double)st->cov_free : 0);
	put(mx, "reclaims", st->reclaims);
	put(mx, "reclaim_scanned", st->reclaim_scanned);
	put(mx, "reclaim_short", st->reclaim_short);
	put(mx, "pcp_hits", st->pcp_hits);
	put(mx, "pcp_spills", st->pcp_spills);
	put(mx, "pcp_partial", st->pcp_partial);
	put(mx, "refills", st->refills);
	put(mx, "lazy_commits", st->lazy_commits);
	put(mx, "lazy_cancelled", st->lazy_cancelled);
	put(mx, "allocs", st->allocs);
	put(mx, "frees", st->frees);
	put(mx, "touches", st->touches);
	put(mx, "adopted_pages", st->adopted_pages);
	put(mx, "touches_free", st->touches_free);
	put(mx, "touches_untracked", st->touches_untracked);
	put(mx, "resident_peak_pages", st->resident_peak);
	put(mx, "swap_peak_pages", st->swap_peak);
	put(mx, "rejected", st->rejected);
	put(mx, "model_errors", d->model_errors);   /* every -errno, domain create/destroy too */
	put(mx, "double_allocs", st->double_allocs);
	put(mx, "double_frees", st->double_frees);
	put(mx, "alloc_failed", st->alloc_failed);
	put(mx, "degraded", st->degraded);
	put(mx, "invariant_violations", hinting_check(d->m) ? 1 : 0);
	put(mx, "state_bytes_peak", d->m->mem.peak_bytes);
	put(mx, "trace_span_ns", d->last_ns - d->first_ns);
	put(mx, "unattributed_faults", d->unattributed_faults);
	put(mx, "ignored_records", d->ignored_records);
	put(mx, "implicit_domains", d->implicit_domains);
	for (u = 0; u < WU__COUNT; u++) {
		if (!d->total.n[u])
			continue;
		snprintf(name, sizeof(name), "work_%s", work_unit_names[u]);
		put(mx, name, d->total.n[u]);
	}
	for (i = 0; i < d->series.ns; i++)
		for (k = 0; k < d->series.s[i].n; k++)
			metrics_series_add(mx, d->series.s[i].name, d->series.s[i].pts[k].t_ns,
					   d->series.s[i].pts[k].value);
}

static void hinting_destroy(void *ctx)
{
	struct hinting_drv *d = ctx;

	if (!d)
		return;
	hinting_model_destroy(d->m);
	metrics_free(&d->series);
	free(d);
}

const struct model_driver hinting_driver = {
	.name = "hinting",
	.doc = "guest page hinting: unused/stable hints, host reclaim drops or swaps (seed 004)",
	.policies = hinting_choices,
	.policy_docs = hinting_policy_docs,
	.add_params = hinting_add_params,
	.create = hinting_create,
	.handlers = &hinting_handlers,
	.report = hinting_report,
	.destroy = hinting_destroy,
};
