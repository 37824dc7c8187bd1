/* SPDX-License-Identifier: MIT */
/*
 * sim/drv_superpage.c — drives models/superpage.c (seed 002): superpage reference counting
 * under a fork storm.
 *
 * Machine model
 *   - Each record is one guest request the hypervisor serves on the requesting vCPU; its
 *     latency is the cost of the work the model counted for it (cost profile).  Nothing
 *     queues: the seed's figure is the cost of the mapping path itself.
 *   - Records → requests: domain_create, page_alloc (populate 2^order pages), page_free,
 *     sp_mark / sp_unmark (mmuext ops), sp_map / sp_unmap (mmu_update of an L2 entry;
 *     arg = the address space the entry belongs to), pt_alloc / pt_free (pin / unpin a page
 *     as a page table), fork (arg = the child's address space), domain_destroy.
 *   - Hypercalls: the guest batches requests.  Consecutive requests of one kind (mmu_update:
 *     map/unmap; mmuext_op: mark/unmark/pin/unpin) from one domain and address space share a
 *     hypercall, up to `hypercall_batch` requests; any other record ends the batch.  The hypercall's fixed
 *     cost (WU_HYPERCALL) is charged to the first request of its batch.
 *   - A fork's mapping time is the time of the sp_map requests whose arg is the child's
 *     address space, from its fork record to the next fork (the seed's "mapped in the child
 *     on every fork").
 *   - The vCPU's clock: a request starts at its record's time or when the vCPU finished the
 *     one before, whichever is later, and takes its cost.  The fork_map_ns series is stamped
 *     with this clock (a fork's start), so its time axis includes the mapping work itself:
 *     a fork that costs 700 ms of mapping pushes the next one at least 700 ms later.
 *   - Every refused request (-errno from the model) is counted, never fatal: a guest may ask
 *     for anything.  invariant_violations must stay 0 with unmark_busy_check = 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "env_user.h"
#include "superpage.h"

static const char *const superpage_choices[] = { "per-page", "marked", NULL };

static const char *const superpage_policy_docs[] = {
	"every map takes a reference and a type count on each of the 512 pages",
	"the guest marks a superpage once; later maps touch only the leading page",
	NULL,
};

/*
 * One request per hypercall is the default: the seed says nothing about the guest's
 * batching, and one mmu_update per huge PMD is what a trace of separate sp_map records
 * describes.  docs/models/superpage.md shows how the seed's ratio depends on it.
 */
static const struct param_def machine_params[] = {
	{ "hypercall_batch", PARAM_INT, 1, 1, 1 << 20, NULL,
	  "requests per hypercall: consecutive map/unmap (mmu_update) or mark/unmark/pin "
	  "(mmuext_op) requests of one domain (1: a hypercall each)" },
};

enum req_kind { K_NONE, K_MMU_UPDATE, K_MMUEXT };

enum op { OP_MAP, OP_UNMAP, OP_MARK, OP_UNMARK, OP_PT, OP_OTHER, OP__N };

struct fork_point {
	uint64_t t_ns, map_ns;
};

struct superpage_drv {
	struct sim *s;
	const struct cost_profile *prof;
	struct superpage_model *m;
	uint64_t batch;

	/* hypercall batching */
	enum req_kind cur_kind;
	uint32_t cur_domain;
	uint64_t cur_asid;
	uint64_t in_batch;

	/* the fork being mapped */
	bool in_fork;
	uint64_t child, fork_t, fork_ns;
	uint64_t clock_ns;        /* when the vCPU is free again (simulated time) */
	struct fork_point *forks;
	size_t nforks, cap_forks;
	bool forks_truncated;

	/* results */
	struct work total;
	uint64_t op_ns[OP__N], op_n[OP__N], op_rejected[OP__N];
	uint64_t destroy_ns, destroys;
	uint64_t ignored_records, implicit_domains;
};

static uint64_t work_ns(const struct superpage_drv *d, const struct work *w)
{
	return sim_work_ns(d->s, d->prof, w);
}

/* Takes the work the model counted for the current record; returns its cost in ns. */
static uint64_t take_work(struct superpage_drv *d)
{
	uint64_t ns = work_ns(d, &d->m->work);

	work_accumulate(&d->total, &d->m->work);
	work_reset(&d->m->work);
	return ns;
}

/* Charges a hypercall entry unless this request rides in the current batch. */
static void hypercall(struct superpage_drv *d, enum req_kind k, const struct trace_rec *r)
{
	uint64_t asid = k == K_MMU_UPDATE ? r->arg : 0;

	if (k != d->cur_kind || r->domain != d->cur_domain || asid != d->cur_asid ||
	    d->in_batch >= d->batch) {
		work_add(&d->m->work, WU_HYPERCALL, 1);
		d->cur_kind = k;
		d->cur_domain = r->domain;
		d->cur_asid = asid;
		d->in_batch = 0;
	}
	d->in_batch++;
}

static void end_fork(struct superpage_drv *d)
{
	if (!d->in_fork)
		return;
	d->in_fork = false;
	if (d->nforks == d->cap_forks) {
		size_t n = d->cap_forks ? d->cap_forks * 2 : 64;
		struct fork_point *nf = realloc(d->forks, n * sizeof(*nf));

		if (!nf) {
			/* a result must not depend on the host: the run fails (sim/env_user.h) */
			env_host_alloc_failed("the fork series", n * sizeof(*nf));
			d->forks_truncated = true;
			return;
		}
		d->forks = nf;
		d->cap_forks = n;
	}
	d->forks[d->nforks++] = (struct fork_point){ d->fork_t, d->fork_ns };
}

static int on_record(struct sim *s, void *ctx, const struct trace_rec *r)
{
	struct superpage_drv *d = ctx;
	struct superpage_model *m = d->m;
	enum op op = OP_OTHER;
	uint64_t ns;
	int rc = 0;

	/* the request starts when it is issued, or once the vCPU is done with the last one */
	if (r->time_ns > d->clock_ns)
		d->clock_ns = r->time_ns;
	work_reset(&m->work);
	switch (r->type) {
	case TR_SP_MAP:
	case TR_SP_UNMAP:
		op = r->type == TR_SP_MAP ? OP_MAP : OP_UNMAP;
		hypercall(d, K_MMU_UPDATE, r);
		rc = op == OP_MAP ? superpage_map(m, r->domain, r->frame)
				  : superpage_unmap(m, r->domain, r->frame);
		break;
	case TR_SP_MARK:
	case TR_SP_UNMARK:
		op = r->type == TR_SP_MARK ? OP_MARK : OP_UNMARK;
		if (!m->pol->mark) {
			/* no such hypercall under this policy: the guest does not issue it */
			rc = superpage_mark(m, r->domain, r->frame);
			break;
		}
		hypercall(d, K_MMUEXT, r);
		rc = op == OP_MARK ? superpage_mark(m, r->domain, r->frame)
				   : superpage_unmark(m, r->domain, r->frame);
		break;
	case TR_PT_ALLOC:
	case TR_PT_FREE:
		op = OP_PT;
		hypercall(d, K_MMUEXT, r);
		rc = r->type == TR_PT_ALLOC ? superpage_pt_alloc(m, r->domain, r->frame)
					    : superpage_pt_free(m, r->domain, r->frame);
		break;
	case TR_DOMAIN_CREATE:
		d->cur_kind = K_NONE;
		rc = superpage_domain_create(m, r->domain);
		break;
	case TR_PAGE_ALLOC:
		d->cur_kind = K_NONE;
		if (!superpage_domain_exists(m, r->domain)) {
			rc = superpage_domain_create(m, r->domain);
			if (rc)
				break;
			d->implicit_domains++;
		}
		rc = superpage_populate(m, r->domain, r->frame, (unsigned)r->arg);
		break;
	case TR_PAGE_FREE:
		d->cur_kind = K_NONE;
		rc = superpage_release(m, r->domain, r->frame, (unsigned)r->arg);
		break;
	case TR_FORK:
		d->cur_kind = K_NONE;
		end_fork(d);
		d->in_fork = true;
		d->child = r->arg;
		d->fork_t = d->clock_ns;
		d->fork_ns = 0;
		break;
	case TR_DOMAIN_DESTROY:
		d->cur_kind = K_NONE;
		work_add(&m->work, WU_HYPERCALL, 1);   /* the toolstack's destroy domctl */
		rc = superpage_domain_destroy(m, r->domain);
		ns = take_work(d);
		d->clock_ns += ns;
		if (!rc) {
			d->destroys++;
			d->destroy_ns = sim_add(s, d->destroy_ns, ns, "the total time of the destroys");
		}
		d->op_rejected[OP_OTHER] += rc < 0;
		sim_digest_add(s, ns ^ ((uint64_t)(rc < 0) << 63));
		return 0;
	default:
		d->ignored_records++;
		return 0;
	}
	ns = take_work(d);
	d->clock_ns += ns;
	d->op_n[op]++;
	d->op_ns[op] = sim_add(s, d->op_ns[op], ns, "the total time of one kind of operation");
	if (rc < 0)
		d->op_rejected[op]++;
	if (op == OP_MAP && d->in_fork && r->arg == d->child)
		d->fork_ns = sim_add(s, d->fork_ns, ns, "the time of a fork's mappings");
	sim_digest_add(s, ns ^ ((uint64_t)(uint8_t)rc << 56));
	return 0;
}

static int on_event(struct sim *s, void *ctx, const struct sim_event *ev)
{
	(void)ctx;
	snprintf(s->err, sizeof(s->err), "superpage driver: unknown event kind %u", ev->kind);
	return -1;
}

static const struct sim_handlers superpage_handlers = { on_record, on_event };

/* ---- life cycle ------------------------------------------------------------------------- */

static void superpage_add_params(struct param_set *ps)
{
	param_set_add_model(ps, "model", superpage_param_table, SUPERPAGE_NPARAMS);
	param_set_add(ps, "machine", machine_params, ENV_ARRAY_SIZE(machine_params));
}

static void *superpage_create(struct sim *s, const char *policy, const struct param_set *ps,
			      const struct cost_profile *prof, char *err, size_t errlen)
{
	const struct superpage_policy *pol = superpage_policy_find(policy);
	struct superpage_params p;
	struct superpage_drv *d;

	if (!pol) {
		snprintf(err, errlen, "unknown policy '%s'", policy);
		return NULL;
	}
	p.unmark_busy_check = param_get(ps, "unmark_busy_check");
	p.max_gb = param_get(ps, "max_gb");
	p.lowmem_pct = param_get(ps, "lowmem_pct");
	p.mark_max_tc = param_get(ps, "mark_max_tc");
	if (superpage_params_validate(&p)) {
		snprintf(err, errlen, "inconsistent superpage parameters");
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->m = superpage_model_create(pol, &p))) {
		free(d);
		snprintf(err, errlen, "out of memory creating the superpage model");
		return NULL;
	}
	d->s = s;
	d->prof = prof;
	d->batch = param_get(ps, "hypercall_batch");
	return d;
}

static void superpage_report(void *ctx, struct sim *s, struct metrics *mx)
{
	struct superpage_drv *d = ctx;
	const struct superpage_stats *st = &d->m->stats;
	uint64_t fork_total = 0, fork_max = 0, rejected = 0;
	char name[64];
	unsigned u;
	size_t i;

	end_fork(d);
	for (i = 0; i < d->nforks; i++) {
		fork_total = sim_add(s, fork_total, d->forks[i].map_ns, "the total time of the forks");
		if (d->forks[i].map_ns > fork_max)
			fork_max = d->forks[i].map_ns;
		metrics_series_add(mx, "fork_map_ns", d->forks[i].t_ns, (double)d->forks[i].map_ns);
	}
	for (u = 0; u < OP__N; u++)
		rejected += d->op_rejected[u];

	metrics_set(mx, "map_ns", (double)d->op_ns[OP_MAP]);
	metrics_set(mx, "maps", (double)d->op_n[OP_MAP]);
	metrics_set(mx, "map_mean_ns", d->op_n[OP_MAP] ? (double)(d->op_ns[OP_MAP] / d->op_n[OP_MAP]) : 0);
	metrics_set(mx, "maps_marked_path", (double)st->maps_marked);
	metrics_set(mx, "forks", (double)d->nforks);
	metrics_set(mx, "fork_map_ns", d->nforks ? (double)(fork_total / d->nforks) : 0);
	metrics_set(mx, "fork_map_max_ns", (double)fork_max);
	metrics_set(mx, "fork_map_total_ns", (double)fork_total);
	metrics_set(mx, "unmap_ns", (double)d->op_ns[OP_UNMAP]);
	metrics_set(mx, "unmaps", (double)d->op_n[OP_UNMAP]);
	metrics_set(mx, "mark_ns", (double)d->op_ns[OP_MARK]);
	metrics_set(mx, "marks", (double)st->marks);
	metrics_set(mx, "unmark_ns", (double)d->op_ns[OP_UNMARK]);
	metrics_set(mx, "unmarks", (double)st->unmarks);
	metrics_set(mx, "marks_ignored", (double)st->marks_ignored);
	metrics_set(mx, "pt_allocs", (double)st->pt_allocs);
	metrics_set(mx, "pt_rejected_marked", (double)st->pt_rejected_marked);
	metrics_set(mx, "destroys", (double)d->destroys);
	metrics_set(mx, "destroy_ns", (double)d->destroy_ns);
	metrics_set(mx, "refcount_ops", (double)(d->total.n[WU_REFCOUNT] + d->total.n[WU_PAGE_PUT]));
	metrics_set(mx, "hypercalls", (double)d->total.n[WU_HYPERCALL]);
	metrics_set(mx, "rejected", (double)rejected);
	metrics_set(mx, "rejected_map", (double)d->op_rejected[OP_MAP]);
	metrics_set(mx, "rejected_unmap", (double)d->op_rejected[OP_UNMAP]);
	metrics_set(mx, "rejected_mark", (double)d->op_rejected[OP_MARK]);
	metrics_set(mx, "rejected_unmark", (double)d->op_rejected[OP_UNMARK]);
	metrics_set(mx, "rejected_pt", (double)d->op_rejected[OP_PT]);
	metrics_set(mx, "rejected_other", (double)d->op_rejected[OP_OTHER]);
	metrics_set(mx, "invariant_violations", (double)superpage_violations(d->m));
	metrics_set(mx, "underflows", (double)st->underflows);
	metrics_set(mx, "path_mismatch", (double)st->path_mismatch);
	metrics_set(mx, "leaks", (double)st->leaks);
	metrics_set(mx, "alloc_failed", (double)st->alloc_failed);
	metrics_set(mx, "state_bytes_peak", (double)d->m->mem.peak_bytes);
	metrics_set(mx, "pages_live_end", (double)st->pages_live);
	metrics_set(mx, "ignored_records", (double)d->ignored_records);
	metrics_set(mx, "implicit_domains", (double)d->implicit_domains);
	if (d->m->p.lowmem_pct || d->m->p.mark_max_tc) {
		/* seed 002's open problem (reported only when asked for: today's runs unchanged) */
		metrics_set(mx, "lowmem_superpages", (double)st->lowmem_superpages);
		metrics_set(mx, "marks_busy", (double)st->marks_busy);
		metrics_set(mx, "marks_busy_lowmem", (double)st->marks_busy_lowmem);
		metrics_set(mx, "unmarks_busy", (double)st->unmarks_busy);
		metrics_set(mx, "unmarks_busy_unmapped", (double)st->unmarks_busy_unmapped);
		metrics_set(mx, "lowmem_pt_remaps", (double)st->lowmem_pt_remaps);
	}
	for (u = 0; u < WU__COUNT; u++) {
		if (!d->total.n[u])
			continue;
		snprintf(name, sizeof(name), "work_%s", work_unit_names[u]);
		metrics_set(mx, name, (double)d->total.n[u]);
	}
}

static void superpage_destroy(void *ctx)
{
	struct superpage_drv *d = ctx;

	if (!d)
		return;
	superpage_model_destroy(d->m);
	free(d->forks);
	free(d);
}

/* What superpage_report() puts into the metrics.  Times are the priced work of the requests
 * (the cost profile), summed over the run. */
static const struct metric_def superpage_metric_defs[] = {
	{ "map_ns", "ns", "sum over all map requests (mmu_update of a huge PMD) of their priced "
	  "work", NULL, false },
	{ "maps", "count", "map requests", NULL, false },
	{ "map_mean_ns", "ns", "mean priced work of one map request (map_ns / maps)", NULL, false },
	{ "maps_marked_path", "count", "successful maps that went through a mark (touched only the "
	  "leading page)", NULL, false },
	{ "forks", "count", "forks: a child's mapping of the whole region", NULL, false },
	{ "fork_map_ns", "ns", "mean time to map the region into one child (fork_map_total_ns / "
	  "forks)", NULL, false },
	{ "fork_map_max_ns", "ns", "longest time to map the region into one child", NULL, false },
	{ "fork_map_total_ns", "ns", "sum over forks of the time to map the region into the child",
	  NULL, false },
	{ "unmap_ns", "ns", "sum over unmap requests of their priced work", NULL, false },
	{ "unmaps", "count", "unmap requests", NULL, false },
	{ "mark_ns", "ns", "sum over mark requests of their priced work", NULL, false },
	{ "marks", "count", "successful marks of a superpage", NULL, false },
	{ "unmark_ns", "ns", "sum over unmark requests of their priced work", NULL, false },
	{ "unmarks", "count", "successful unmarks", NULL, false },
	{ "marks_ignored", "count", "mark and unmark requests the policy has no operation for "
	  "(per-page)", NULL, false },
	{ "pt_allocs", "count", "successful page-table allocations (pins) in the region", NULL,
	  false },
	{ "pt_rejected_marked", "count", "page-table attempts refused because the page belongs to "
	  "a marked superpage", NULL, false },
	{ "destroys", "count", "domain destroys", NULL, false },
	{ "destroy_ns", "ns", "sum over destroys of their priced work", NULL, false },
	{ "refcount_ops", "count", "page reference and type-count operations (work_refcount + "
	  "work_page_put)", NULL, false },
	{ "hypercalls", "count", "hypercalls issued (requests batched by hypercall_batch)", NULL,
	  false },
	{ "rejected", "count", "requests refused with an error, all kinds (the rejected_* sum)",
	  NULL, false },
	{ "rejected_map", "count", "map requests refused", NULL, false },
	{ "rejected_unmap", "count", "unmap requests refused", NULL, false },
	{ "rejected_mark", "count", "mark requests refused", NULL, false },
	{ "rejected_unmark", "count", "unmark requests refused", NULL, false },
	{ "rejected_pt", "count", "page-table allocation and free requests refused", NULL, false },
	{ "rejected_other", "count", "other requests refused (page alloc and free, fork, domain "
	  "records)", NULL, false },
	{ "invariant_violations", "count", "superpage_check() failures: underflows + path_mismatch "
	  "+ leaks (must be 0 with unmark_busy_check = 1)", NULL, false },
	{ "underflows", "count", "count decrements refused because the count was already 0", NULL,
	  false },
	{ "path_mismatch", "count", "L2 entries released through another path than the one that "
	  "validated them (unmark_busy_check = 0)", NULL, false },
	{ "leaks", "pages", "pages with a count left after their domain was destroyed", NULL,
	  false },
	{ "alloc_failed", "count", "requests refused for lack of memory", NULL, false },
	{ "state_bytes_peak", "bytes", "most bytes the model held at once", NULL, false },
	{ "pages_live_end", "pages", "pages still allocated to domains at the end", NULL, false },
	METRIC_DEF_IGNORED_RECORDS,
	METRIC_DEF_IMPLICIT_DOMAINS,
	{ "lowmem_superpages", "count", "superpages populated as guest lowmem (a standing writable "
	  "type count per page)", "lowmem_pct or mark_max_tc set", false },
	{ "marks_busy", "count", "marks refused -EBUSY", "lowmem_pct or mark_max_tc set", false },
	{ "marks_busy_lowmem", "count", "of those, on lowmem superpages no L2 entry mapped per "
	  "page: refused for the standing count alone", "lowmem_pct or mark_max_tc set", false },
	{ "unmarks_busy", "count", "unmarks refused -EBUSY", "lowmem_pct or mark_max_tc set", false },
	{ "unmarks_busy_unmapped", "count", "of those, while no marked-path mapping remained (the "
	  "busy check misread a standing count)", "lowmem_pct or mark_max_tc set", false },
	{ "lowmem_pt_remaps", "count", "page-table pins of lowmem pages whose writable direct "
	  "mapping was dropped first", "lowmem_pct or mark_max_tc set", false },
	METRIC_DEF_WORK,
	{ "fork_map_ns", "ns", "time to map the region into each child, one point per fork at the "
	  "fork's time", NULL, true },
	METRIC_DEF_END,
};

const struct model_driver superpage_driver = {
	.name = "superpage",
	.doc = "superpage reference counting under a fork storm (seed 002)",
	.policies = superpage_choices,
	.policy_docs = superpage_policy_docs,
	.add_params = superpage_add_params,
	.create = superpage_create,
	.handlers = &superpage_handlers,
	.report = superpage_report,
	.destroy = superpage_destroy,
	.metrics = superpage_metric_defs,
};
