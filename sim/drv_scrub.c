/* SPDX-License-Identifier: MIT */
/*
 * sim/drv_scrub.c — drives models/scrub.c (seed 001): the destroy of a domain, the scrubbers
 * that clear its memory, and the allocations of a domain built meanwhile.
 *
 * Machine model
 *   - pCPUs 0..pcpus-1.  The destroy is the toolstack's hypercall on pCPU 0: relinquish_memory
 *     frees pages one by one, checking for preemption after each; dom0's tick every
 *     `dom0_period_ns` makes the check true, the slice ends, dom0's bursts (`dom0_burst_ns`
 *     each, 0 by default) run, the continuation resumes.  The destroy call returns
 *     `toolstack_ns` after the last page (the toolstack's own fixed time, off-CPU).
 *   - deferred (the patch): one tasklet that never returns, on the highest pCPU from time 0.
 *     It polls the list (no event while it is empty), sees the page that makes the list
 *     non-empty at once, and takes one page per lock hold; batch, kick_pages, self_scrub and
 *     the wake-up latency do not apply.  On one pCPU it holds pCPU 0 and the destroy never runs.
 *   - Scrubbers (deferred-percpu, idle, on-alloc): one per pCPU, each an event chain.  The
 *     free path wakes the idle ones when the backlog reaches `kick_pages` (and once more when
 *     the destroy ends); a woken scrubber runs `wake_ns` + U[0, wake_jitter_ns] later (IPI, softirq).  It
 *     looks at the list without the lock; if it sees pages it takes the lock, detaches a batch,
 *     releases it, scrubs and frees the batch, and goes on while the list is not empty.
 *     deferred-percpu: tasklets run on every pCPU, taking their time from what runs there (guest
 *     vCPUs: `guest_steal_ns`); on pCPU 0 only with `self_scrub`, where a wake-up preempts the
 *     destroy at its next check and the destroy resumes when the tasklet is done.
 *     idle, on-alloc: only pCPUs with nothing else to run: not the `guest_pcpus` highest ones,
 *     not pCPU 0 while it destroys.
 *   - The lock guarding the dirty pages is a FIFO resource.  Each acquisition waits until the
 *     previous holder releases it; hold times are the priced work done under it.  A lock-free
 *     look at the list still sees the pages of a take whose hold has not ended, so scrubbers
 *     woken together all queue on the lock and the late ones find nothing (`empty_grabs`): the
 *     thundering herd that makes contention grow with the pCPU count.
 *   - Allocations (page_alloc records) are served in order; a request's latency is zero if its
 *     pages are there, else it waits until enough pages are allocatable (clean; dirty too for
 *     on-alloc, which then scrubs them, taking time).  Only what the scrub policy adds is
 *     time: building a domain from clean memory is not what is modelled.
 *   - Host memory: `host_mb`, or (0) as much as the domains take before the first destroy
 *     plus `spare_mb` of clean memory.
 *
 * Time in the destroy is exact integer picoseconds from the cost profile.  Between two other
 * events, relinquish_memory's pages all cost the same, so a run of pages is one model call in
 * closed form; the destroy stops at every other pending event (a scrubber may take the lock
 * there) and at dom0's ticks.  A page_alloc record cannot be foreseen, so an allocation looks
 * back: pages the destroy's last run freed after the allocation's instant are not yet there.
 * (An allocation's own lock hold in on-alloc does not delay a destroy that has run ahead of
 * it: an approximation of at most one run of pages, only for on-alloc.)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "hist.h"
#include "scrub.h"

enum { EV_DESTROY = 1, EV_SCRUB = 2, EV_ALLOC = 3 };
enum { DESTROY_CONTINUE = 0, DESTROY_SLICE = 1 };   /* EV_DESTROY arg */
enum { SCRUB_WAKE = 0, SCRUB_DONE = 1 };            /* EV_SCRUB arg */
/* CPU_POLLING: the patch's tasklet spinning on an empty list; it owns its pCPU for good */
enum { CPU_IDLE, CPU_WAKING, CPU_RUNNING, CPU_POLLING };

#define DQ_MAX 256
#define MAX_PCPUS 4096
#define SERIES_BACKLOG "scrub_backlog_pages"
#define SERIES_DYING "dying_pages"

static const char *const scrub_choices[] = { "sync", "deferred", "deferred-percpu", "idle",
						  "on-alloc", NULL };

static const struct param_def machine_params[] = {
	{ "pcpus", PARAM_INT, 60, 1, MAX_PCPUS, NULL,
	  "online pCPUs (60: the seed's 4-socket host assumed 4 x 15 cores, see docs/models/scrub.md)" },
	{ "guest_pcpus", PARAM_INT, 0, 0, MAX_PCPUS - 1, NULL,
	  "highest pCPUs kept busy by guest vCPUs (never idle; deferred tasklets steal from them)" },
	{ "self_scrub", PARAM_INT, 0, 0, 1, NULL,
	  "deferred-percpu: 1 = pCPU 0's tasklet also runs during the destroy, preempting it (0: skipped)" },
	{ "wake_ns", PARAM_INT, 2000, 0, 1000000000ULL, NULL,
	  "ns from a wake-up to the scrubber running on another pCPU (IPI, softirq)" },
	{ "wake_jitter_ns", PARAM_INT, 1000, 0, 1000000000ULL, NULL,
	  "uniform extra delay 0..this ns per woken scrubber" },
	{ "dom0_period_ns", PARAM_INT, 1000000, 0, 1000000000000ULL, NULL,
	  "ns between dom0 ticks on pCPU 0, each a preemption point of the destroy (0: none)" },
	{ "dom0_burst_ns", PARAM_INT, 0, 0, 1000000000ULL, NULL,
	  "ns of pCPU 0 each dom0 tick needs (0: the seed's timing already holds dom0's work)" },
	{ "softlockup_ns", PARAM_INT, 20000000000ULL, 1, UINT64_MAX, NULL,
	  "a non-preemptible stretch longer than this is a soft lockup (Linux default 20 s)" },
	{ "toolstack_ns", PARAM_INT, 0, 0, 1000000000000ULL, NULL,
	  "fixed ns of a destroy call outside the page loop (seed 001 fit: 2826600us)" },
	{ "host_mb", PARAM_INT, 0, 0, 1ULL << 32, NULL,
	  "host memory in MiB (0: what domains take before the first destroy, plus spare_mb)" },
	{ "spare_mb", PARAM_INT, 1024, 0, 1ULL << 32, NULL,
	  "host_mb=0: clean free MiB beyond the domains' memory at the first destroy" },
};

struct areq {
	uint64_t pages;
	uint64_t t_ns;
	uint32_t dom;
	bool waited;
	bool counted;      /* asked after the first destroy began: part of the alloc_* metrics */
};

struct scpu {
	uint8_t state;
	bool guest;
	struct scrub_batch b;
};

struct scrub_drv {
	struct sim *s;
	const struct cost_profile *prof;
	const struct scrub_policy *pol;
	struct scrub_model *m;
	gsl_rng *rng;

	uint64_t ncpu, guest_pcpus, self_scrub, wake_ns, wake_jitter_ns;
	uint64_t dom0_period_ns, dom0_burst_ns, softlockup_ns, toolstack_ns;
	uint64_t host_pages, spare_pages;

	/* prices of one relinquished page (ps): before the lock, under it, all */
	uint64_t page_pre_ps, page_lock_ps, page_ps;
	uint64_t alloc_hold_ps;    /* on-alloc: the allocation's hold of the lock */

	struct scpu *cpu;

	/* deferred (one_tasklet): the pCPU the tasklet ended on, and its time spent polling */
	uint64_t tasklet_cpu, spin_since_ps, spin_ps;
	/* pCPUs scrubbing now (a scrubber with a batch, waiting for the lock included) */
	uint64_t scrubbing, scrubbers_peak;

	/* the lock guarding the dirty pages */
	uint64_t lock_free_ps;     /* last release by anyone */
	uint64_t lock_free_nd_ps;  /* last release by a holder other than the destroy */
	uint64_t hidden_until_ps, hidden_pages;

	/* destroys */
	struct { uint32_t dom; uint64_t t_ns; } dq[DQ_MAX];
	unsigned dq_head, dq_len;
	bool destroying, destroy_waits_cpu0, frozen, any_destroy;
	uint32_t ddom;
	uint64_t destroy_t_ns, first_destroy_ns, slice_start_ns, d_ps, cpu0_free_ns;
	/* the destroy's last run of pages: page j (1..n) freed at first_end + (j-1) c */
	struct { uint64_t first_end_ps, c_ps, n; bool allocatable; } last;

	/* allocations */
	struct areq *aq;
	size_t aq_head, aq_len, aq_cap;
	uint64_t alloc_busy_ns;    /* on-alloc: the allocator scrubs until then */
	uint64_t alloc_event_ns;   /* an EV_ALLOC is pending at this time (UINT64_MAX: none) */
	bool alloc_waiting;
	bool newdom_valid;
	uint32_t newdom;
	uint64_t newdom_create_ns, newdom_done_ns;

	/* results */
	struct work total;
	struct metrics series;
	struct hist alloc_lat;
	uint64_t destroys, destroy_total_ns, destroy_max_ns, relinquish_total_ns;
	uint64_t stretches, longest_stretch_ns, stretches_over;
	uint64_t dom0_delayed;
	unsigned __int128 dom0_wait_total_ns;   /* a sum of waits: n^2 p / 2 can pass 2^64 ns */
	uint64_t clean_at_ns;
	bool clean_now;
	uint64_t lock_acq, lock_contended, lock_wait_ps, lock_wait_max_ps, lock_wait_destroy_ps;
	uint64_t wakeups, empty_wakeups, empty_grabs, batch_max_ps;
	uint64_t guest_steal_ps, cpu0_scrub_ps, scrub_cpu_ps;
	uint64_t alloc_requests, alloc_pages, alloc_waits, alloc_wait_total_ns, alloc_refused;
	uint64_t ignored_records, model_errors, implicit_domains, destroy_queue_full;
};

static uint64_t ns_ceil(uint64_t ps) { return sim_ps_to_ns_ceil(ps); }
static uint64_t ps_of(const struct scrub_drv *d, uint64_t ns)
{
	return sim_mul(d->s, ns, 1000, "a time in ps (2^64 ps is 213 days)");
}
/* Checked sums of times (sim.h): `what` names the quantity in the overflow message. */
static uint64_t add(const struct scrub_drv *d, uint64_t a, uint64_t b, const char *what)
{
	return sim_add(d->s, a, b, what);
}

static uint64_t price(const struct scrub_drv *d, const struct work *w)
{
	return sim_work_ps(d->s, d->prof, w);
}

/* Takes the work the model counted since the last call; returns its price in ps. */
static uint64_t take_work(struct scrub_drv *d)
{
	struct work *w = scrub_work(d->m);
	uint64_t ps = price(d, w);

	work_accumulate(&d->total, w);
	work_reset(w);
	return ps;
}

static void sample(struct scrub_drv *d, uint64_t t_ns)
{
	metrics_series_add(&d->series, SERIES_BACKLOG, t_ns,
			   (double)(scrub_backlog(d->m) + scrub_inflight(d->m)));
	metrics_series_add(&d->series, SERIES_DYING, t_ns, (double)scrub_dying_pages(d->m));
}

/* All memory of every destroyed domain clean and free: remember when. */
static void check_clean(struct scrub_drv *d, uint64_t t_ns)
{
	bool clean = d->any_destroy && !d->destroying && !d->dq_len &&
		     !scrub_dying_pages(d->m) && !scrub_backlog(d->m) && !scrub_inflight(d->m);

	if (clean && !d->clean_now)
		d->clean_at_ns = t_ns;
	d->clean_now = clean;
}

static void lock_account(struct scrub_drv *d, uint64_t wait_ps, bool destroyer)
{
	d->lock_acq++;
	if (!wait_ps)
		return;
	d->lock_contended++;
	d->lock_wait_ps = add(d, d->lock_wait_ps, wait_ps, "the total lock wait");
	if (wait_ps > d->lock_wait_max_ps)
		d->lock_wait_max_ps = wait_ps;
	if (destroyer)
		d->lock_wait_destroy_ps = add(d, d->lock_wait_destroy_ps, wait_ps,
					      "the destroy's total lock wait");
}

/*
 * When a holder other than the destroy may have the lock, asking at x: after the last other
 * holder, and out of the destroy's holds (the last page of each of its runs ends with one).
 */
static uint64_t lock_grant_nd(const struct scrub_drv *d, uint64_t x)
{
	uint64_t a = x > d->lock_free_nd_ps ? x : d->lock_free_nd_ps;
	uint64_t h = d->page_lock_ps, first_start, j, ws;

	if (d->pol->defer && d->last.n && h && d->last.first_end_ps >= h) {
		first_start = d->last.first_end_ps - h;
		if (a >= first_start) {
			j = d->last.c_ps ? (a - first_start) / d->last.c_ps : 0;
			if (j < d->last.n) {
				ws = add(d, first_start, sim_mul(d->s, j, d->last.c_ps, "a page's start"),
					 "a page's start");
				if (a < add(d, ws, h, "a page's lock release"))
					a = ws + h;
			}
		}
	}
	return a;
}

/* ---- pCPUs and scrubbers ----------------------------------------------------------------- */

static bool may_scrub(const struct scrub_drv *d, uint64_t c)
{
	if (!d->pol->defer)
		return false;
	if (d->pol->one_tasklet)
		return c == d->tasklet_cpu;
	if (d->pol->all_cpus)
		return c != 0 || !d->destroying || d->self_scrub;
	return !d->cpu[c].guest && (c != 0 || !d->destroying);
}

/* Wakes every idle scrubber allowed to run; *local: pCPU 0's woke during the destroy. */
static int kick(struct scrub_drv *d, uint64_t t_ps, bool *local)
{
	uint64_t t = ns_ceil(t_ps), c, w;

	*local = false;
	if (d->pol->one_tasklet) {
		/* nobody is woken: a polling tasklet sees the page as soon as it is linked */
		if (d->cpu[d->tasklet_cpu].state != CPU_POLLING)
			return 0;
		d->spin_ps += t_ps - d->spin_since_ps;
		d->cpu[d->tasklet_cpu].state = CPU_WAKING;
		return sim_schedule(d->s, t, EV_SCRUB, (uint32_t)d->tasklet_cpu, SCRUB_WAKE);
	}
	for (c = 0; c < d->ncpu; c++) {
		if (d->cpu[c].state != CPU_IDLE || !may_scrub(d, c))
			continue;
		if (c == 0 && d->destroying) {
			w = t;   /* its softirq makes the destroy's next check true */
			*local = true;
		} else {
			w = add(d, t, d->wake_ns, "a scrubber's wake-up time");
			if (d->wake_jitter_ns)
				w = add(d, w, gsl_rng_uniform_int(d->rng, (unsigned long)d->wake_jitter_ns + 1),
					"a scrubber's wake-up time");
		}
		d->cpu[c].state = CPU_WAKING;
		d->wakeups++;
		if (sim_schedule(d->s, w, EV_SCRUB, (uint32_t)c, SCRUB_WAKE))
			return -1;
	}
	return 0;
}

static int go_idle(struct scrub_drv *d, uint64_t c, uint64_t t_ps)
{
	if (d->pol->one_tasklet) {
		/* the tasklet never returns: it spins on the list, its pCPU runs nothing else */
		d->cpu[c].state = CPU_POLLING;
		d->spin_since_ps = t_ps;
		return 0;
	}
	d->cpu[c].state = CPU_IDLE;
	if (c == 0 && d->destroy_waits_cpu0) {
		d->destroy_waits_cpu0 = false;
		return sim_schedule(d->s, ns_ceil(t_ps), EV_DESTROY, d->ddom, DESTROY_SLICE);
	}
	return 0;
}

static void cpu_time(struct scrub_drv *d, uint64_t c, uint64_t ps)
{
	d->scrub_cpu_ps = add(d, d->scrub_cpu_ps, ps, "the total scrub CPU time");
	if (d->cpu[c].guest)
		d->guest_steal_ps = add(d, d->guest_steal_ps, ps, "the total time stolen from guests");
	if (c == 0 && d->destroying)
		d->cpu0_scrub_ps = add(d, d->cpu0_scrub_ps, ps, "pCPU 0's total scrub time");
}

/* The most pCPUs scrubbing at once: scrubbers with a batch, plus pCPU 0 scrubbing inside the
 * free (sync) and an allocating vCPU scrubbing its dirty pages (on-alloc) at t_ns. */
static void note_scrubbers(struct scrub_drv *d, uint64_t t_ns)
{
	uint64_t n = d->scrubbing + (d->alloc_busy_ns > t_ns) +
		     (!d->pol->defer && d->destroying);

	if (n > d->scrubbers_peak)
		d->scrubbers_peak = n;
}

/* A scrubber on pCPU c at t: look, lock, take a batch, schedule its end. */
static int scrub_run(struct scrub_drv *d, uint64_t c, uint64_t t_ps, bool woken)
{
	struct scpu *cp = &d->cpu[c];
	uint64_t visible, a, hold, end;
	struct work fw;
	int rc;

	if (!may_scrub(d, c))
		return go_idle(d, c, t_ps);
	visible = scrub_backlog(d->m) + (t_ps < d->hidden_until_ps ? d->hidden_pages : 0);
	if (!visible) {
		d->empty_wakeups += woken;
		return go_idle(d, c, t_ps);
	}
	a = lock_grant_nd(d, t_ps);
	lock_account(d, a - t_ps, false);
	rc = scrub_take(d->m, &cp->b);
	hold = take_work(d);
	d->lock_free_nd_ps = add(d, a, hold, "the end of a scrubber's lock hold");
	if (d->lock_free_nd_ps > d->lock_free_ps)
		d->lock_free_ps = d->lock_free_nd_ps;
	if (rc == -ENOENT) {
		d->empty_grabs++;
		cpu_time(d, c, d->lock_free_nd_ps - t_ps);
		return go_idle(d, c, d->lock_free_nd_ps);
	}
	if (rc) {
		snprintf(d->s->err, sizeof(d->s->err), "scrub model: batch refused: %s", strerror(-rc));
		return -1;
	}
	d->hidden_until_ps = d->lock_free_nd_ps;
	d->hidden_pages = cp->b.len;
	scrub_finish_work(d->m, cp->b.len, &fw);
	end = add(d, d->lock_free_nd_ps, price(d, &fw), "the end of a scrub batch");
	cpu_time(d, c, end - t_ps);
	if (end - t_ps > d->batch_max_ps)
		d->batch_max_ps = end - t_ps;
	cp->state = CPU_RUNNING;
	d->scrubbing++;
	note_scrubbers(d, ns_ceil(t_ps));
	return sim_schedule(d->s, ns_ceil(end), EV_SCRUB, (uint32_t)c, SCRUB_DONE);
}

/* ---- allocations ------------------------------------------------------------------------- */

/* Pages of the destroy's last run freed at or before t_ps. */
static uint64_t last_freed_by(const struct scrub_drv *d, uint64_t t_ps)
{
	if (!d->last.n || t_ps < d->last.first_end_ps)
		return 0;
	if (!d->last.c_ps)
		return d->last.n;
	return ENV_MIN(d->last.n, (t_ps - d->last.first_end_ps) / d->last.c_ps + 1);
}

static uint64_t allocatable_at(const struct scrub_drv *d, uint64_t t_ns)
{
	uint64_t a = scrub_allocatable(d->m), future;

	if (!d->last.allocatable)
		return a;
	future = d->last.n - last_freed_by(d, ps_of(d, t_ns));
	return a > future ? a - future : 0;
}

static int alloc_event_at(struct scrub_drv *d, uint64_t t_ns)
{
	if (t_ns < d->s->now)
		t_ns = d->s->now;
	if (d->alloc_event_ns != UINT64_MAX && d->alloc_event_ns <= t_ns)
		return 0;
	d->alloc_event_ns = t_ns;
	return sim_schedule(d->s, t_ns, EV_ALLOC, 0, 0);
}

/* The waiting request can be met during the destroy's last run: wake the allocator then. */
static int alloc_from_last(struct scrub_drv *d)
{
	uint64_t need, have = scrub_allocatable(d->m), j;

	if (!d->alloc_waiting || !d->last.allocatable || !d->last.n || !d->aq_len)
		return 0;
	need = d->aq[d->aq_head].pages;
	if (have < need)
		return 0;
	/* at most have - need of the run may still be pending: page j = n - (have - need) */
	j = have - need >= d->last.n ? 0 : d->last.n - (have - need);
	if (!j)
		return alloc_event_at(d, d->s->now);
	return alloc_event_at(d, ns_ceil(add(d, d->last.first_end_ps,
					     sim_mul(d->s, j - 1, d->last.c_ps, "a page's free time"),
					     "a page's free time")));
}

static void grow_host(struct scrub_drv *d, uint64_t pages)
{
	if (!scrub_host_grow(d->m, pages))
		d->host_pages += pages;
}

/* Serves queued requests at t while they can be met. */
static int alloc_serve(struct scrub_drv *d, uint64_t t)
{
	while (d->aq_len) {
		struct areq *r = &d->aq[d->aq_head];
		uint64_t dirty = 0, cost, a, done, have;
		int rc;

		if (d->alloc_busy_ns > t)
			return alloc_event_at(d, d->alloc_busy_ns);
		if (scrub_alloc(d->m, r->dom, 0, NULL)) {
			/* no such domain, or dying: refused at once, nothing to wait for */
			d->alloc_refused++;
			d->aq_head = (d->aq_head + 1) % d->aq_cap;
			d->aq_len--;
			continue;
		}
		have = scrub_allocatable(d->m);
		if (!d->frozen && have < r->pages)
			grow_host(d, r->pages - have);
		if (allocatable_at(d, t) < r->pages) {
			if (!r->waited) {
				r->waited = true;
				d->alloc_waits += r->counted;
			}
			d->alloc_waiting = true;
			return alloc_from_last(d);
		}
		d->alloc_waiting = false;
		rc = scrub_alloc(d->m, r->dom, r->pages, &dirty);
		cost = take_work(d);
		if (rc == -ENOENT || rc == -EBUSY) {
			d->alloc_refused++;
		} else if (rc) {
			snprintf(d->s->err, sizeof(d->s->err), "scrub model: allocation of %" PRIu64
				 " pages for domain %u failed: %s", r->pages, r->dom, strerror(-rc));
			return -1;
		} else {
			done = t;
			if (dirty) {
				/* on-alloc: the lock, then the scrubs, on the allocating vCPU */
				a = lock_grant_nd(d, ps_of(d, t));
				lock_account(d, a - ps_of(d, t), false);
				d->lock_free_nd_ps = add(d, a, d->alloc_hold_ps, "an allocation's lock release");
				if (d->lock_free_nd_ps > d->lock_free_ps)
					d->lock_free_ps = d->lock_free_nd_ps;
				done = ns_ceil(add(d, a, cost, "the end of an allocation's scrubs"));
				d->alloc_busy_ns = done;
				note_scrubbers(d, t);
			}
			if (r->counted) {
				d->alloc_requests++;
				d->alloc_pages += r->pages;
				d->alloc_wait_total_ns = add(d, d->alloc_wait_total_ns, done - r->t_ns,
							     "the total allocation wait");
				hist_add(&d->alloc_lat, done - r->t_ns);
			}
			if (d->newdom_valid && r->dom == d->newdom)
				d->newdom_done_ns = done;
		}
		d->aq_head = (d->aq_head + 1) % d->aq_cap;
		d->aq_len--;
		check_clean(d, t);
	}
	d->alloc_waiting = false;
	return 0;
}

static int alloc_enqueue(struct scrub_drv *d, uint32_t dom, uint64_t pages, uint64_t t)
{
	if (d->aq_len == d->aq_cap) {
		size_t cap = d->aq_cap ? 2 * d->aq_cap : 64, i;
		struct areq *q = malloc(cap * sizeof(*q));

		if (!q) {
			snprintf(d->s->err, sizeof(d->s->err), "out of memory queueing allocations");
			return -1;
		}
		for (i = 0; i < d->aq_len; i++)
			q[i] = d->aq[(d->aq_head + i) % d->aq_cap];
		free(d->aq);
		d->aq = q;
		d->aq_cap = cap;
		d->aq_head = 0;
	}
	d->aq[(d->aq_head + d->aq_len) % d->aq_cap] =
		(struct areq){ pages, t, dom, false, d->any_destroy };
	d->aq_len++;
	return 0;
}

/* ---- destroy ------------------------------------------------------------------------------ */

/* First dom0 tick at or after t. */
static uint64_t next_tick(const struct scrub_drv *d, uint64_t t)
{
	uint64_t p = d->dom0_period_ns;

	return sim_mul(d->s, t / p + (t % p != 0), p, "the next dom0 tick");
}

/* A non-preemptible stretch [t0, t1) on pCPU 0; returns the dom0 ticks that waited in it. */
static uint64_t account_stretch(struct scrub_drv *d, uint64_t t0, uint64_t t1)
{
	uint64_t len = t1 - t0, p = d->dom0_period_ns, k0, k1, n, w0;

	d->stretches++;
	if (len > d->longest_stretch_ns)
		d->longest_stretch_ns = len;
	if (len > d->softlockup_ns)
		d->stretches_over++;
	if (!p || t1 == t0)
		return 0;
	k0 = t0 / p + (t0 % p != 0);
	if (k0 > (t1 - 1) / p)
		return 0;
	k1 = (t1 - 1) / p;
	n = k1 - k0 + 1;
	w0 = t1 - k0 * p;
	/* sum over ticks k of (t1 - k p), exact in 128 bits (n^2 p / 2 can pass 2^64) */
	d->dom0_delayed += n;
	d->dom0_wait_total_ns += (unsigned __int128)n * w0 -
				 (unsigned __int128)p * ((unsigned __int128)n * (n - 1) / 2);
	return n;
}

static int start_next_destroy(struct scrub_drv *d)
{
	uint64_t t;

	if (d->destroying || !d->dq_len)
		return 0;
	d->destroying = true;
	d->ddom = d->dq[d->dq_head].dom;
	d->destroy_t_ns = d->dq[d->dq_head].t_ns;
	d->dq_head = (d->dq_head + 1) % DQ_MAX;
	d->dq_len--;
	t = d->s->now > d->cpu0_free_ns ? d->s->now : d->cpu0_free_ns;
	return sim_schedule(d->s, t, EV_DESTROY, d->ddom, DESTROY_SLICE);
}

/* Ends the current slice at d_ps: dom0's waiting bursts run, then the continuation. */
static int end_slice(struct scrub_drv *d, bool done)
{
	uint64_t t1 = ns_ceil(d->d_ps), pending = account_stretch(d, d->slice_start_ns, t1);

	d->cpu0_free_ns = add(d, t1, sim_mul(d->s, pending, d->dom0_burst_ns, "dom0's delayed bursts"),
			      "the end of dom0's delayed bursts");
	if (done)
		return 0;
	return sim_schedule(d->s, d->cpu0_free_ns, EV_DESTROY, d->ddom, DESTROY_SLICE);
}

static int destroy_done(struct scrub_drv *d)
{
	uint64_t end = ns_ceil(d->d_ps), rel = end - d->destroy_t_ns;
	uint64_t total = add(d, rel, d->toolstack_ns, "a destroy's time with the toolstack's");
	bool local;

	if (end_slice(d, true))
		return -1;
	d->destroys++;
	d->relinquish_total_ns = add(d, d->relinquish_total_ns, rel, "the total relinquish time");
	d->destroy_total_ns = add(d, d->destroy_total_ns, total, "the total time of the destroys");
	if (total > d->destroy_max_ns)
		d->destroy_max_ns = total;
	d->destroying = false;
	sim_digest_add(d->s, end);
	/* whatever is left below kick_pages, and pCPU 0 may scrub now */
	if (scrub_backlog(d->m) && kick(d, d->d_ps, &local))
		return -1;
	check_clean(d, end);
	return start_next_destroy(d);
}

/*
 * The destroy on pCPU 0 from its clock d_ps: runs of pages, each up to the next pending event
 * (when the free takes the lock), the first page ending at or after dom0's tick, or a kick.
 */
static int destroy_run(struct scrub_drv *d)
{
	const bool lockp = d->pol->defer;
	const uint64_t pre = d->page_pre_ps, c = d->page_ps;

	for (;;) {
		uint64_t e_ns, e = UINT64_MAX, tick = UINT64_MAX, k, wait = 0, start, freed, ps;
		bool kicked = false, local = false;
		int rc;

		if (eventq_peek_time(d->s->q, &e_ns))
			e = ps_of(d, e_ns);
		if (d->dom0_period_ns)
			tick = ps_of(d, next_tick(d, d->slice_start_ns));
		k = scrub_domain_pages(d->m, d->ddom);
		if (lockp) {
			uint64_t req = add(d, d->d_ps, pre, "the destroy's next lock request");

			if (req >= e) {
				/* another pCPU acts first: continue after it */
				uint64_t at = ns_ceil(d->d_ps) > e_ns ? ns_ceil(d->d_ps) : e_ns;

				return sim_schedule(d->s, at, EV_DESTROY, d->ddom, DESTROY_CONTINUE);
			}
			if (d->lock_free_ps > req) {
				wait = d->lock_free_ps - req;
				k = ENV_MIN(k, 1);
			} else if (e != UINT64_MAX) {
				k = ENV_MIN(k, (e - req) / c + ((e - req) % c != 0));
			}
		}
		if (tick != UINT64_MAX)
			k = ENV_MIN(k, tick > d->d_ps ? ENV_MAX((tick - d->d_ps) / c +
							       ((tick - d->d_ps) % c != 0), 1) : 1);
		if (!k)
			k = 1;   /* a domain with no page left still needs one call to go */
		start = d->d_ps;
		rc = scrub_relinquish(d->m, d->ddom, k, &freed, &kicked);
		ps = take_work(d);
		if (rc && rc != -EAGAIN) {
			snprintf(d->s->err, sizeof(d->s->err), "scrub model: relinquish of domain %u failed: %s",
				 d->ddom, strerror(-rc));
			return -1;
		}
		if (lockp && freed) {
			lock_account(d, wait, true);
			d->lock_acq += freed - 1;
		}
		d->d_ps = add(d, add(d, start, wait, "the destroy's clock"), ps, "the destroy's clock");
		if (lockp)
			d->lock_free_ps = d->d_ps;
		d->last.n = freed;
		d->last.c_ps = freed ? ps / freed : 0;
		d->last.first_end_ps = d->d_ps - (freed ? (freed - 1) * d->last.c_ps : ps);
		d->last.allocatable = !d->pol->defer || d->pol->alloc_dirty;
		if (freed)
			note_scrubbers(d, ns_ceil(start));
		sample(d, ns_ceil(d->d_ps));
		if (rc == 0)
			return destroy_done(d);
		if (alloc_from_last(d))
			return -1;
		if (kicked && kick(d, d->d_ps, &local))
			return -1;
		if (local || (tick != UINT64_MAX && d->d_ps >= tick))
			return end_slice(d, false);
	}
}

static int destroy_slice(struct scrub_drv *d)
{
	if (d->cpu[0].state != CPU_IDLE) {
		/* pCPU 0's tasklet (self_scrub) runs first: it resumes the destroy when idle */
		d->destroy_waits_cpu0 = true;
		return 0;
	}
	d->slice_start_ns = d->s->now;
	d->d_ps = ps_of(d, d->s->now);
	return destroy_run(d);
}

/* ---- records and events ----------------------------------------------------------------- */

static int ensure_domain(struct scrub_drv *d, uint32_t dom)
{
	int rc = scrub_domain_create(d->m, dom);

	if (rc == 0)
		d->implicit_domains++;
	return rc == -EEXIST ? 0 : rc;
}

static int on_record(struct sim *s, void *ctx, const struct trace_rec *r)
{
	struct scrub_drv *d = ctx;
	int rc = 0;

	switch (r->type) {
	case TR_DOMAIN_CREATE:
		rc = scrub_domain_create(d->m, r->domain);
		if (rc == -EEXIST) {
			rc = 0;              /* a repeated create; or the id is still dying */
		} else if (!rc && d->any_destroy) {
			d->newdom_valid = true;
			d->newdom = r->domain;
			d->newdom_create_ns = s->now;
			d->newdom_done_ns = s->now;
		}
		break;
	case TR_PAGE_ALLOC:
		if (r->arg > SCRUB_MAX_ORDER) {
			/* bad input, refused before it costs anything (a valid trace may say 40) */
			snprintf(s->err, sizeof(s->err), "record %" PRIu64 " (page_alloc at %" PRIu64
				 " ns, domain %u): order %" PRIu64 " is above the scrub model's "
				 "largest, %u (4 GiB, Xen's MAX_ORDER)", s->records - 1, r->time_ns,
				 r->domain, r->arg, SCRUB_MAX_ORDER);
			return -2;
		}
		if ((rc = ensure_domain(d, r->domain)))
			break;
		if (alloc_enqueue(d, r->domain, 1ULL << r->arg, s->now))
			return -1;
		if (d->aq_len == 1 || !d->alloc_waiting)
			return alloc_serve(d, s->now);
		break;
	case TR_DOMAIN_DESTROY:
		if (!d->frozen) {
			grow_host(d, d->spare_pages);
			d->frozen = true;
		}
		if (d->dq_len == DQ_MAX) {
			d->destroy_queue_full++;
			break;
		}
		rc = scrub_destroy_begin(d->m, r->domain);
		if (rc == -ENOENT || rc == -EBUSY) {
			d->model_errors++;
			rc = 0;
			break;
		}
		if (!d->any_destroy) {
			d->any_destroy = true;
			d->first_destroy_ns = s->now;
		}
		d->clean_now = false;
		d->dq[(d->dq_head + d->dq_len) % DQ_MAX].dom = r->domain;
		d->dq[(d->dq_head + d->dq_len) % DQ_MAX].t_ns = s->now;
		d->dq_len++;
		if (start_next_destroy(d))
			return -1;
		break;
	default:
		d->ignored_records++;
		break;
	}
	if (rc == -ENOMEM) {
		d->model_errors++;
		rc = 0;
	}
	if (rc) {
		snprintf(s->err, sizeof(s->err), "record at %" PRIu64 " ns (%s, domain %u): model error %s",
			 r->time_ns, trace_type_name(r->type) ? trace_type_name(r->type) : "?",
			 r->domain, strerror(-rc));
		return -1;
	}
	return 0;
}

static int on_event(struct sim *s, void *ctx, const struct sim_event *ev)
{
	struct scrub_drv *d = ctx;
	uint64_t c = ev->target;

	switch (ev->kind) {
	case EV_DESTROY:
		if (!d->destroying || ev->target != d->ddom)
			return 0;
		return ev->arg == DESTROY_SLICE ? destroy_slice(d) : destroy_run(d);
	case EV_SCRUB:
		if (c >= d->ncpu)
			break;
		if (ev->arg == SCRUB_DONE) {
			scrub_finish(d->m, &d->cpu[c].b);
			d->scrubbing--;
			take_work(d);   /* priced when the batch was taken */
			sample(d, s->now);
			if (d->alloc_waiting && alloc_serve(d, s->now))
				return -1;
			check_clean(d, s->now);
			return scrub_run(d, c, ps_of(d, s->now), false);
		}
		return scrub_run(d, c, ps_of(d, s->now), true);
	case EV_ALLOC:
		if (s->now == d->alloc_event_ns)
			d->alloc_event_ns = UINT64_MAX;
		return alloc_serve(d, s->now);
	default:
		break;
	}
	snprintf(s->err, sizeof(s->err), "scrub driver: unknown event kind %u target %u", ev->kind,
		 ev->target);
	return -1;
}

static const struct sim_handlers scrub_handlers = { on_record, on_event };

/* ---- life cycle ----------------------------------------------------------------------------- */

static void scrub_add_params(struct param_set *ps)
{
	param_set_add_model(ps, "scrub", scrub_param_table, SCRUB_NPARAMS);
	param_set_add(ps, "machine", machine_params, ENV_ARRAY_SIZE(machine_params));
}

static void destroy_drv(void *ctx)
{
	struct scrub_drv *d = ctx;

	if (!d)
		return;
	scrub_model_destroy(d->m);
	metrics_free(&d->series);
	free(d->cpu);
	free(d->aq);
	free(d);
}

static void *scrub_create(struct sim *s, const char *policy, const struct param_set *ps,
			  const struct cost_profile *prof, char *err, size_t errlen)
{
	const struct scrub_policy *pol = scrub_policy_find(policy);
	struct scrub_params sp = { param_get(ps, "batch"), param_get(ps, "kick_pages") };
	struct work pre, locked, w;
	struct scrub_drv *d;
	uint64_t c;

	if (!pol) {
		snprintf(err, errlen, "unknown policy '%s'", policy);
		return NULL;
	}
	if (scrub_params_validate(&sp)) {
		snprintf(err, errlen, "inconsistent scrub parameters (batch and kick_pages must be >= 1)");
		return NULL;
	}
	if (param_get(ps, "guest_pcpus") >= param_get(ps, "pcpus")) {
		snprintf(err, errlen, "--set guest_pcpus=%" PRIu64 ": must be below pcpus=%" PRIu64
			 " (pCPU 0 runs dom0)", param_get(ps, "guest_pcpus"), param_get(ps, "pcpus"));
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->s = s;
	d->prof = prof;
	d->pol = pol;
	d->ncpu = param_get(ps, "pcpus");
	d->guest_pcpus = param_get(ps, "guest_pcpus");
	d->self_scrub = param_get(ps, "self_scrub");
	d->wake_ns = param_get(ps, "wake_ns");
	d->wake_jitter_ns = param_get(ps, "wake_jitter_ns");
	d->dom0_period_ns = param_get(ps, "dom0_period_ns");
	d->dom0_burst_ns = param_get(ps, "dom0_burst_ns");
	d->softlockup_ns = param_get(ps, "softlockup_ns");
	d->toolstack_ns = param_get(ps, "toolstack_ns");
	d->spare_pages = param_get(ps, "spare_mb") * 256;
	d->alloc_event_ns = UINT64_MAX;
	metrics_init(&d->series);
	metrics_series_set_interval(&d->series, SERIES_BACKLOG, 100000);
	metrics_series_set_interval(&d->series, SERIES_DYING, 100000);
	hist_init(&d->alloc_lat);
	d->m = scrub_model_create(pol, &sp);
	d->cpu = calloc(d->ncpu, sizeof(*d->cpu));
	if (!d->m || !d->cpu) {
		destroy_drv(d);
		snprintf(err, errlen, "out of memory creating the scrub model");
		return NULL;
	}
	for (c = d->ncpu - d->guest_pcpus; c < d->ncpu; c++)
		d->cpu[c].guest = true;
	if (pol->one_tasklet) {
		/*
		 * init_domheap_pages() schedules the tasklet on each online pCPU in turn; each
		 * call moves a tasklet that is not yet running, so it runs where the last one
		 * put it, the highest pCPU (pCPU 0 on a one-pCPU host), from boot on, for good.
		 */
		d->tasklet_cpu = d->ncpu - 1;
		d->cpu[d->tasklet_cpu].state = CPU_POLLING;
	}
	if (param_get(ps, "host_mb")) {
		grow_host(d, param_get(ps, "host_mb") * 256);
		d->frozen = true;
	}
	d->rng = sim_rng(s, "scrub.wake");
	scrub_page_work(d->m, &pre, &locked);
	d->page_pre_ps = price(d, &pre);
	d->page_lock_ps = price(d, &locked);
	d->page_ps = add(d, d->page_pre_ps, d->page_lock_ps, "the price of a page");
	if (!d->page_ps)
		d->page_ps = 1;   /* a profile pricing nothing: keep time moving */
	work_reset(&w);
	work_add(&w, WU_LOCK, 1);
	d->alloc_hold_ps = price(d, &w);
	return d;
}

static void series_copy(struct metrics *mx, const struct metrics *from, const char *name)
{
	const struct series *sr = metrics_series_find(from, name);
	size_t i;

	if (!sr)
		return;
	metrics_series_set_interval(mx, name, sr->min_interval_ns);
	for (i = 0; i < sr->n; i++)
		metrics_series_add(mx, name, sr->pts[i].t_ns, sr->pts[i].value);
}

static void scrub_report(void *ctx, struct sim *s, struct metrics *mx)
{
	struct scrub_drv *d = ctx;
	const struct scrub_stats *st = scrub_stats(d->m);
	uint64_t steal_ps = d->guest_steal_ps;
	char name[64];
	unsigned u;

	metrics_set(mx, "destroy_ns", (double)d->destroy_total_ns);
	metrics_set(mx, "destroy_max_ns", (double)d->destroy_max_ns);
	metrics_set(mx, "relinquish_ns", (double)d->relinquish_total_ns);
	metrics_set(mx, "destroys", (double)d->destroys);
	metrics_set(mx, "destroys_unfinished", (double)(d->dq_len + d->destroying));
	if (d->clean_now)
		metrics_set(mx, "clean_ns", (double)(d->clean_at_ns - d->first_destroy_ns));
	metrics_set(mx, "dirty_pages_end", (double)(scrub_backlog(d->m) + scrub_inflight(d->m) +
						     scrub_dying_pages(d->m)));
	metrics_set(mx, "pages_freed", (double)st->pages_freed);
	metrics_set(mx, "pages_scrubbed", (double)(st->scrubbed_free + st->scrubbed_batch +
						    st->scrubbed_alloc));
	metrics_set(mx, "scrubbed_by_free", (double)st->scrubbed_free);
	metrics_set(mx, "scrubbed_by_scrubbers", (double)st->scrubbed_batch);
	metrics_set(mx, "scrubbed_by_alloc", (double)st->scrubbed_alloc);
	metrics_set(mx, "backlog_peak_pages", (double)st->dirty_peak);
	metrics_set(mx, "lock_acquisitions", (double)d->lock_acq);
	metrics_set(mx, "lock_contended", (double)d->lock_contended);
	metrics_set(mx, "lock_wait_ns", (double)(d->lock_wait_ps / 1000));
	metrics_set(mx, "lock_wait_max_ns", (double)(d->lock_wait_max_ps / 1000));
	metrics_set(mx, "lock_wait_destroy_ns", (double)(d->lock_wait_destroy_ps / 1000));
	metrics_set(mx, "kicks", (double)st->kicks);
	metrics_set(mx, "scrubber_wakeups", (double)d->wakeups);
	metrics_set(mx, "empty_wakeups", (double)d->empty_wakeups);
	metrics_set(mx, "empty_grabs", (double)d->empty_grabs);
	metrics_set(mx, "batches", (double)st->batches);
	metrics_set(mx, "batch_max_ns", (double)(d->batch_max_ps / 1000));
	metrics_set(mx, "scrub_cpu_ns", (double)(d->scrub_cpu_ps / 1000));
	if (d->pol->one_tasklet) {
		uint64_t spin = d->spin_ps, now = ps_of(d, s->now);

		if (d->cpu[d->tasklet_cpu].state == CPU_POLLING && now > d->spin_since_ps)
			spin += now - d->spin_since_ps;
		metrics_set(mx, "tasklet_pcpu", (double)d->tasklet_cpu);
		metrics_set(mx, "tasklet_spin_ns", (double)(spin / 1000));
		if (d->cpu[d->tasklet_cpu].guest)
			steal_ps += spin;   /* a guests' pCPU, spun on for good */
	}
	metrics_set(mx, "scrubbers_peak", (double)d->scrubbers_peak);
	metrics_set(mx, "guest_steal_ns", (double)(steal_ps / 1000));
	metrics_set(mx, "cpu0_scrub_ns", (double)(d->cpu0_scrub_ps / 1000));
	metrics_set(mx, "alloc_requests", (double)d->alloc_requests);
	metrics_set(mx, "alloc_pages", (double)d->alloc_pages);
	metrics_set(mx, "alloc_waits", (double)d->alloc_waits);
	metrics_set(mx, "alloc_wait_ns", (double)d->alloc_wait_total_ns);
	metrics_set(mx, "alloc_wait_p99_ns", (double)hist_quantile(&d->alloc_lat, 990));
	metrics_set(mx, "alloc_wait_max_ns", (double)d->alloc_lat.max);
	metrics_set(mx, "alloc_unserved", (double)d->aq_len);
	metrics_set(mx, "alloc_refused", (double)d->alloc_refused);
	if (d->newdom_valid)
		metrics_set(mx, "create_ns", (double)(d->newdom_done_ns - d->newdom_create_ns));
	metrics_set(mx, "longest_stretch_ns", (double)d->longest_stretch_ns);
	metrics_set(mx, "stretches", (double)d->stretches);
	metrics_set(mx, "softlockups", (double)d->stretches_over);
	metrics_set(mx, "dom0_delayed_bursts", (double)d->dom0_delayed);
	metrics_set(mx, "dom0_wait_ns", (double)d->dom0_wait_total_ns);
	metrics_set(mx, "host_pages", (double)st->host_pages);
	metrics_set(mx, "model_bytes_peak", (double)st->bytes_peak);
	metrics_set(mx, "model_runs_peak", (double)st->runs_peak);
	metrics_set(mx, "sync_fallbacks", (double)st->sync_fallbacks);
	metrics_set(mx, "model_errors", (double)d->model_errors);
	metrics_set(mx, "domain_lookups", (double)st->domain_lookups);
	metrics_set(mx, "domain_probes", (double)st->domain_probes);
	metrics_set(mx, "ignored_records", (double)d->ignored_records);
	metrics_set(mx, "implicit_domains", (double)d->implicit_domains);
	metrics_set(mx, "destroy_queue_full", (double)d->destroy_queue_full);
	for (u = 0; u < WU__COUNT; u++) {
		if (!d->total.n[u])
			continue;
		snprintf(name, sizeof(name), "work_%s", work_unit_names[u]);
		metrics_set(mx, name, (double)d->total.n[u]);
	}
	series_copy(mx, &d->series, SERIES_BACKLOG);
	series_copy(mx, &d->series, SERIES_DYING);
}

static const char *const scrub_policy_docs[] = {
	"each freed page scrubbed inside the free, before it returns (before the seed's patch)",
	"scrub list under one lock; one tasklet that never returns polls it, a page per lock hold (the patch)",
	"scrub list under one lock, drained in batches by a tasklet per online pCPU, woken together",
	"scrub list drained only by pCPUs with nothing else to run",
	"dirty pages stay allocatable; an allocation scrubs what it takes, idle pCPUs the rest",
	NULL,
};

/* What scrub_report() puts into the metrics.  Allocation metrics count requests asked after
 * the first destroy began; a "scrubber" is a pCPU scrubbing a batch (a tasklet, an idle pCPU). */
static const struct metric_def scrub_metric_defs[] = {
	{ "destroy_ns", "ns", "sum over completed destroys of each destroy call's latency, from "
	  "its record to its return (waiting behind an earlier destroy and toolstack_ns included)",
	  NULL, false },
	{ "destroy_max_ns", "ns", "longest single destroy call", NULL, false },
	{ "relinquish_ns", "ns", "destroy_ns without toolstack_ns: the relinquish hypercall's "
	  "page loop, summed over destroys", NULL, false },
	{ "destroys", "count", "domain destroys completed", NULL, false },
	{ "destroys_unfinished", "count", "destroys queued or running when the trace ended",
	  NULL, false },
	{ "clean_ns", "ns", "from the first destroy until every page of the destroyed domains was "
	  "scrubbed and free", "every destroyed page became clean before the run ended", false },
	{ "dirty_pages_end", "pages", "pages still dirty, being scrubbed or owned by dying domains "
	  "at the end", NULL, false },
	{ "pages_freed", "pages", "pages relinquished by dying domains", NULL, false },
	{ "pages_scrubbed", "pages", "pages scrubbed, by anyone (the three scrubbed_by_*)", NULL,
	  false },
	{ "scrubbed_by_free", "pages", "pages scrubbed inside the free path (sync, or a deferral's "
	  "fallback)", NULL, false },
	{ "scrubbed_by_scrubbers", "pages", "pages scrubbed by scrubbers (tasklets or idle pCPUs)",
	  NULL, false },
	{ "scrubbed_by_alloc", "pages", "pages scrubbed by the allocation that took them "
	  "(on-alloc)", NULL, false },
	{ "backlog_peak_pages", "pages", "largest scrub backlog (dirty pages queued) at one "
	  "instant", NULL, false },
	{ "lock_acquisitions", "count", "acquisitions of the lock guarding the dirty pages, by all "
	  "holders", NULL, false },
	{ "lock_contended", "count", "acquisitions that had to wait for another holder", NULL,
	  false },
	{ "lock_wait_ns", "ns", "sum over all acquisitions of the time spent waiting for the lock "
	  "(all pCPUs: can exceed the run's length)", NULL, false },
	{ "lock_wait_max_ns", "ns", "longest single wait for the lock", NULL, false },
	{ "lock_wait_destroy_ns", "ns", "part of lock_wait_ns the destroy itself waited", NULL,
	  false },
	{ "kicks", "count", "times the free path asked for scrubbers (backlog reached kick_pages)",
	  NULL, false },
	{ "scrubber_wakeups", "count", "scrubbers woken on other pCPUs", NULL, false },
	{ "empty_wakeups", "count", "scrubbers woken that found nothing to scrub", NULL, false },
	{ "empty_grabs", "count", "lock acquisitions by a scrubber that found the list empty "
	  "(the thundering herd)", NULL, false },
	{ "batches", "count", "batches scrubbers detached from the dirty list", NULL, false },
	{ "batch_max_ns", "ns", "longest time one scrubber spent on one batch", NULL, false },
	{ "scrub_cpu_ns", "ns", "pCPU time of all scrubbers, summed over pCPUs (lock waits "
	  "included)", NULL, false },
	{ "tasklet_pcpu", "index", "pCPU the single tasklet ran on at the end", "policy deferred",
	  false },
	{ "tasklet_spin_ns", "ns", "time the single tasklet polled an empty list, from boot to "
	  "the end of the run", "policy deferred", false },
	{ "scrubbers_peak", "pCPUs", "most pCPUs scrubbing at one instant", NULL, false },
	{ "guest_steal_ns", "ns", "scrubbing time taken from pCPUs that run guests (guest_pcpus), "
	  "summed over pCPUs", NULL, false },
	{ "cpu0_scrub_ns", "ns", "scrubbing time on pCPU 0 while a destroy was running", NULL,
	  false },
	{ "alloc_requests", "count", "allocation requests served", NULL, false },
	{ "alloc_pages", "pages", "pages those requests allocated", NULL, false },
	{ "alloc_waits", "count", "allocation requests that found too few clean pages and waited",
	  NULL, false },
	{ "alloc_wait_ns", "ns", "sum over served requests of each one's delay, request to served",
	  NULL, false },
	{ "alloc_wait_p99_ns", "ns", "99th-percentile delay of one allocation request", NULL,
	  false },
	{ "alloc_wait_max_ns", "ns", "longest delay of one allocation request", NULL, false },
	{ "alloc_unserved", "count", "allocation requests still waiting at the end", NULL, false },
	{ "alloc_refused", "count", "allocation requests refused (unknown or dying domain)", NULL,
	  false },
	{ "create_ns", "ns", "the domain created after the destroy: from its creation to its last "
	  "page allocated", "the trace creates a domain after a destroy (destroy-create)", false },
	{ "longest_stretch_ns", "ns", "longest non-preemptible stretch of destroy work on pCPU 0",
	  NULL, false },
	{ "stretches", "count", "non-preemptible stretches of destroy work over all destroys",
	  NULL, false },
	{ "softlockups", "count", "stretches longer than softlockup_ns", NULL, false },
	{ "dom0_delayed_bursts", "count", "dom0 ticks (every dom0_period_ns on pCPU 0) that fell "
	  "inside a destroy stretch and waited for its end", NULL, false },
	{ "dom0_wait_ns", "ns", "sum over all delayed dom0 ticks of each one's wait (tick to end "
	  "of the stretch); a sum over many ticks, so it can exceed the run's sim_time_ns", NULL,
	  false },
	{ "host_pages", "pages", "host memory the model was given (host_mb, or sized "
	  "automatically plus spare_mb)", NULL, false },
	{ "model_bytes_peak", "bytes", "most bytes the scrub model held at once", NULL, false },
	{ "model_runs_peak", "runs", "most page runs the model held at once, all queues together",
	  NULL, false },
	{ "sync_fallbacks", "pages", "deferred pages scrubbed in the free path instead, for lack "
	  "of memory to queue them", NULL, false },
	METRIC_DEF_MODEL_ERRORS,
	{ "domain_lookups", "count", "domains looked up by id", NULL, false },
	{ "domain_probes", "count", "domains examined by those lookups (hash chain length)", NULL,
	  false },
	METRIC_DEF_IGNORED_RECORDS,
	METRIC_DEF_IMPLICIT_DOMAINS,
	{ "destroy_queue_full", "count", "destroy records dropped because the destroy queue was "
	  "full", NULL, false },
	METRIC_DEF_WORK,
	{ SERIES_BACKLOG, "pages", "dirty plus in-flight pages over time", NULL, true },
	{ SERIES_DYING, "pages", "pages owned by dying domains over time", NULL, true },
	METRIC_DEF_END,
};

const struct model_driver scrub_driver = {
	.name = "scrub",
	.doc = "scrubbing a dying domain's memory (seed 001): sync, deferred tasklets, idle, on-alloc",
	.policies = scrub_choices,
	.policy_docs = scrub_policy_docs,
	.add_params = scrub_add_params,
	.create = scrub_create,
	.handlers = &scrub_handlers,
	.report = scrub_report,
	.destroy = destroy_drv,
	.metrics = scrub_metric_defs,
};
