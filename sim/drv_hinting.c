/* SPDX-License-Identifier: MIT */
/*
 * sim/drv_hinting.c — drives models/hinting.c (seed 004): guest page hinting against a host
 * whose memory is smaller than its guests'.
 *
 * Machine model
 *   - Records → guest operations: page_alloc (2^order pages allocated on the record's vCPU:
 *     the policy makes them stable, then the guest writes them), page_free (the policy hints,
 *     lists or queues them; a page-cache page leaves the cache), page_fault with a frame (the
 *     guest reads the page), page_write with arg 0 (the guest writes it: a page-cache page
 *     becomes dirty), page_write with arg != 0 (the page is filled from a file and joins the
 *     page cache, clean: the convention docs/models/hinting.md "Trace records" states, until
 *     the recorder has page-cache records of its own), domain_create / domain_destroy (a
 *     destroy releases the guest's host memory and swap).  A record of an unknown domain creates it (implicit_domains).  Faults without a
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
 *       discard_fault_ns  discard faults: each priced as one hypercall (the exit and the fault
 *                   delivered to the guest) plus one swap_io (the guest's re-read of the page
 *                   from its disk); the model counts them, the profile prices them
 *     With hint_mech=essa a hint has no hypercall and no hint_page: each page changed is one
 *     ESSA instruction at essa_ns, added to hint_ns.
 *   - coverage = sum over reclaims of free resident pages the host knew as unused / sum of
 *     free resident pages (models/hinting.h); 0 when reclaim never ran (see `reclaims`).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "hinting.h"

static const char *const hinting_choices[] = {
	"none", "per-page", "batched", "lazy-unused", "volatile", "volatile-lazy", NULL
};

static const char *const hinting_policy_docs[] = {
	"no hints: the host swaps free pages like any other",
	"one hint hypercall on every free (unused) and every allocation (stable) (the seed)",
	"per-CPU free lists stay stable; spills and refills are hinted in vectors of hint_batch",
	"freed pages wait in a pending set of lazy_pages, committed in one call when full",
	"clean page-cache pages made volatile one call per page, stable again before each use",
	"page-cache pages to be made volatile wait in an array of lazy_pages (the seed's ~1K), "
	"made volatile in one call when full; a freed page leaves it",
	NULL,
};

static const char *const hint_mech_choices[] = { "hypercall", "essa", NULL };

/*
 * hint_mech: hypercall by default — memsim's hosts are Xen and KVM on x86, where a hint is an
 * exit (the profile's hypercall, plus hint_page per page carried), and the existing figures
 * are priced so.  essa is s390's: one instruction per page changed, no exit, essa_ns each.
 * essa_ns is chosen by hand (no measurement): a millicoded instruction that updates the
 * host's page state under a lock, a few hundred cycles.
 */
static const struct param_def machine_params[] = {
	{ "hint_mech", PARAM_CHOICE, HINT_MECH_HYPERCALL, 0, 0, hint_mech_choices,
	  "how a hint reaches the host: hypercall (an exit per call) or essa (s390: an instruction per page, no exit)" },
	{ "essa_ns", PARAM_INT, 100, 0, 1000000000ULL, NULL,
	  "cost of one ESSA instruction (ns; hint_mech=essa)" },
};

/* C_GUEST is 0: a unit missing from the table below counts as guest bookkeeping.
 * C_DISCARD: discard faults, priced per fault below (not a unit of their own). */
enum cost_class { C_GUEST, C_HINT, C_SWAP, C_RECLAIM, C_FAULT, C_DISCARD, C__N };

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
	uint64_t essa_ns;                 /* price of one ESSA instruction */
	uint64_t discard_fault_ps;        /* price of one discard fault (from the profile) */
	uint64_t last_essa, last_discard_faults;
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
	/* ESSA instructions and discard faults the model counted in this operation */
	{
		const struct hinting_stats *st = &d->m->stats;
		uint64_t essa = (st->essa_ops - d->last_essa) * d->essa_ns;
		uint64_t df = ((st->discard_faults - d->last_discard_faults) * d->discard_fault_ps +
			       500) / 1000;

		d->last_essa = st->essa_ops;
		d->last_discard_faults = st->discard_faults;
		d->ns[C_HINT] += essa;
		d->ns[C_DISCARD] += df;
		total += essa + df;
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
	if (d->m->cache_pages) {
		/* page-cache pages the host may discard, and those it must keep (stable) */
		metrics_series_add(&d->series, "volatile_pages", t, (double)d->m->volatile_pages);
		metrics_series_add(&d->series, "stable_cache_pages", t,
				   (double)(d->m->cache_pages - d->m->volatile_pages));
	}
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
		rc = ensure_domain(d, r->domain);
		if (!rc)
			rc = hinting_touch(d->m, r->domain, r->frame);
		break;
	case TR_PAGE_WRITE:
		/* arg 0: the guest writes the page; arg != 0: the page is filled from a file and
		 * joins the page cache (docs/models/hinting.md, "Trace records") */
		rc = ensure_domain(d, r->domain);
		if (!rc)
			rc = r->arg ? hinting_cache_fill(d->m, r->domain, r->frame)
				    : hinting_write(d->m, r->domain, r->frame);
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
	param_set_add(ps, "machine", machine_params, ENV_ARRAY_SIZE(machine_params));
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
	p.mech = param_get(ps, "hint_mech") ? HINT_MECH_ESSA : HINT_MECH_HYPERCALL;
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
	d->essa_ns = param_get(ps, "essa_ns");
	{
		/* a discard fault: the exit and the fault delivered to the guest (priced like a
		 * hypercall round trip) and the guest's re-read of the 4 KiB page from its disk
		 * (priced like a swap read: the same kind of device read); the fresh frame is
		 * the model's page_scrub */
		struct work df;

		work_reset(&df);
		df.n[WU_HYPERCALL] = 1;
		df.n[WU_SWAP_IO] = 1;
		d->discard_fault_ps = profile_cost_ps(prof, &df);
	}
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
	/* page cache and volatile pages (0 unless the trace fills the page cache) */
	put(mx, "hint_calls_volatile", st->calls_volatile);
	put(mx, "essa_ops", st->essa_ops);
	put(mx, "cache_fills", st->cache_fills);
	put(mx, "cache_removes", st->cache_removes);
	put(mx, "cache_uses", st->cache_uses);
	put(mx, "cache_writes", st->cache_writes);
	put(mx, "pages_made_volatile", st->pages_made_volatile);
	put(mx, "pages_made_stable", st->pages_made_stable);
	put(mx, "pages_discarded", st->pages_discarded);
	put(mx, "discard_faults", st->discard_faults);
	put(mx, "discard_fault_ns", d->ns[C_DISCARD]);
	put(mx, "volatile_freed", st->volatile_freed);
	put(mx, "vlazy_commits", st->vlazy_commits);
	put(mx, "vlazy_skipped", st->vlazy_skipped);
	put(mx, "vlazy_removed_on_free", st->vlazy_removed_on_free);
	put(mx, "vlazy_saved_stable", st->vlazy_saved_stable);
	put(mx, "stable_pages_lost", st->stable_pages_lost);
	put(mx, "cache_pages_peak", st->cache_pages_peak);
	put(mx, "volatile_pages_peak", st->volatile_pages_peak);
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

/* What hinting_report() puts into the metrics (docs/models/hinting.md, Coverage). */
static const struct metric_def hinting_metric_defs[] = {
	{ "hint_calls", "count", "hypercalls carrying hints, all kinds", NULL, false },
	{ "hint_calls_unused", "count", "hint calls telling the host pages are unused (free)",
	  NULL, false },
	{ "hint_calls_stable", "count", "hint calls telling the host pages are stable again "
	  "(allocated)", NULL, false },
	{ "pages_hinted", "pages", "pages carried by hint calls, unused and stable", NULL, false },
	{ "pages_hinted_unused", "pages", "pages hinted unused", NULL, false },
	{ "pages_hinted_stable", "pages", "pages hinted stable", NULL, false },
	{ "hint_entries", "count", "(gfn, order) entries carried by all hint calls", NULL, false },
	{ "pages_dropped", "pages", "unused pages host reclaim discarded without I/O",
	  NULL, false },
	{ "pages_swapped", "pages", "pages host reclaim wrote to swap", NULL, false },
	{ "swap_outs_free", "pages", "of those, pages the guest had freed (wasted writes)",
	  NULL, false },
	{ "swap_ins", "pages", "pages read back from swap", NULL, false },
	{ "swap_ins_on_alloc", "pages", "of those, read by an allocation that overwrites them "
	  "(wasted reads)", NULL, false },
	{ "swap_ios", "pages", "swap writes plus reads (pages_swapped + swap_ins)", NULL, false },
	{ "swap_discards", "count", "swap slots freed by an unused hint (no I/O)", NULL, false },
	{ "faults_on_dropped", "count", "touches of a dropped page, served with a zeroed page",
	  NULL, false },
	{ "first_touches", "count", "first touches of never-backed pages, served with a zeroed "
	  "frame", NULL, false },
	{ "hint_ns", "ns", "priced time of hinting: hypercall entries and pages carried, summed "
	  "over the run", NULL, false },
	{ "guest_ns", "ns", "priced time of the guest's bookkeeping: list hops, set probes and "
	  "moves", NULL, false },
	{ "swap_ns", "ns", "priced time of swap I/O", NULL, false },
	{ "reclaim_ns", "ns", "priced time of host reclaim: scans and drops", NULL, false },
	{ "fault_ns", "ns", "priced time of zeroing pages on faults", NULL, false },
	{ "total_ns", "ns", "sum of hint_ns, guest_ns, swap_ns, reclaim_ns, fault_ns and "
	  "discard_fault_ns", NULL, false },
	{ "coverage", "ratio", "share of the guests' free pages the host knew as unused, summed "
	  "over all reclaims (0..1; 0 when reclaim never ran)", NULL, false },
	{ "reclaims", "count", "host reclaim episodes (memory above host_mem_pages)", NULL, false },
	{ "reclaim_scanned", "pages", "pages host reclaim looked at", NULL, false },
	{ "reclaim_short", "count", "reclaims that could not reach their target", NULL, false },
	{ "pcp_hits", "count", "allocations served from a per-CPU free list", NULL, false },
	{ "pcp_spills", "count", "per-CPU list spill vectors (hinted unused in one call)",
	  NULL, false },
	{ "pcp_partial", "count", "per-CPU list blocks only partly reused (the rest free, not "
	  "hinted)", NULL, false },
	{ "refills", "count", "per-CPU list refill vectors", NULL, false },
	{ "lazy_commits", "count", "pending sets of freed pages committed in one hint call",
	  NULL, false },
	{ "lazy_cancelled", "pages", "pages freed and reallocated while pending (never hinted)",
	  NULL, false },
	{ "allocs", "count", "allocation requests performed", NULL, false },
	{ "frees", "count", "free requests performed", NULL, false },
	{ "touches", "count", "touches of pages in use", NULL, false },
	{ "adopted_pages", "pages", "pages in use before the trace began, first seen freed",
	  NULL, false },
	{ "touches_free", "count", "touches of pages the guest had freed (no effect)",
	  NULL, false },
	{ "touches_untracked", "count", "touches of pages never seen (no effect)", NULL, false },
	{ "resident_peak_pages", "pages", "most host pages in memory at once, all guests",
	  NULL, false },
	{ "swap_peak_pages", "pages", "most pages in swap at once", NULL, false },
	{ "rejected", "count", "requests the model refused (any -errno)", NULL, false },
	METRIC_DEF_MODEL_ERRORS,
	{ "double_allocs", "count", "allocations of a page the guest already held (re-allocated)",
	  NULL, false },
	{ "double_frees", "count", "frees of a page already free (allocated first)", NULL, false },
	{ "alloc_failed", "count", "model allocations that failed", NULL, false },
	{ "degraded", "count", "guests or requests fallen back to per-page hints because a list "
	  "or the set could not be allocated", NULL, false },
	{ "invariant_violations", "flag", "1 if hinting_check() failed at the end (must be 0)",
	  NULL, false },
	{ "hint_calls_volatile", "count", "make-volatile hint calls (0 unless the trace fills "
	  "the page cache)", NULL, false },
	{ "essa_ops", "count", "ESSA instructions, one per page (hint_mech=essa; 0 otherwise)",
	  NULL, false },
	{ "cache_fills", "pages", "pages read into the page cache (clean)", NULL, false },
	{ "cache_removes", "pages", "pages taken out of the page cache, frees included",
	  NULL, false },
	{ "cache_uses", "count", "uses (reads) of page-cache pages", NULL, false },
	{ "cache_writes", "count", "writes to page-cache pages (dirty: stable for good)",
	  NULL, false },
	{ "pages_made_volatile", "pages", "pages the host was told are volatile", NULL, false },
	{ "pages_made_stable", "pages", "volatile pages made stable again before a use, write or "
	  "removal", NULL, false },
	{ "pages_discarded", "pages", "volatile pages the host discarded (no I/O)", NULL, false },
	{ "discard_faults", "count", "uses of a discarded page: the guest reads it again",
	  NULL, false },
	{ "discard_fault_ns", "ns", "priced time of discard faults (hypercall plus a swap-sized "
	  "read each)", NULL, false },
	{ "volatile_freed", "pages", "volatile pages freed (discardable free pages)", NULL, false },
	{ "vlazy_commits", "count", "volatile-lazy: pending arrays made volatile in one call",
	  NULL, false },
	{ "vlazy_skipped", "pages", "pending pages the commit's check left stable", NULL, false },
	{ "vlazy_removed_on_free", "pages", "pending pages freed, taken out of the array",
	  NULL, false },
	{ "vlazy_saved_stable", "count", "uses of pending pages, which needed no make-stable call",
	  NULL, false },
	{ "stable_pages_lost", "pages", "stable pages the host dropped (a correctness failure: "
	  "must be 0)", NULL, false },
	{ "cache_pages_peak", "pages", "most pages in the page cache at once", NULL, false },
	{ "volatile_pages_peak", "pages", "most volatile pages at once", NULL, false },
	{ "state_bytes_peak", "bytes", "most bytes the model held at once", NULL, false },
	{ "trace_span_ns", "ns", "time from the first record to the last", NULL, false },
	{ "unattributed_faults", "count", "fault records without a frame (not attributed to a "
	  "page)", NULL, false },
	METRIC_DEF_IGNORED_RECORDS,
	METRIC_DEF_IMPLICIT_DOMAINS,
	METRIC_DEF_WORK,
	{ "coverage", "ratio", "coverage of that reclaim alone, one point per reclaim",
	  NULL, true },
	{ "swap_used_pages", "pages", "pages in swap, one point per reclaim", NULL, true },
	{ "hint_calls", "count", "hint calls so far, one point per reclaim", NULL, true },
	{ "volatile_pages", "pages", "page-cache pages the host may discard, one point per "
	  "reclaim", "the trace fills the page cache", true },
	{ "stable_cache_pages", "pages", "page-cache pages the host must keep, one point per "
	  "reclaim", "the trace fills the page cache", true },
	METRIC_DEF_END,
};

const struct model_driver hinting_driver = {
	.name = "hinting",
	.doc = "guest page hinting: unused/stable/volatile hints, host reclaim drops, discards or swaps (seed 004)",
	.policies = hinting_choices,
	.policy_docs = hinting_policy_docs,
	.add_params = hinting_add_params,
	.create = hinting_create,
	.handlers = &hinting_handlers,
	.report = hinting_report,
	.destroy = hinting_destroy,
	.metrics = hinting_metric_defs,
};
