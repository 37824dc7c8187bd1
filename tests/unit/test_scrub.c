/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_scrub.c — the scrub-queue model (models/scrub.c) on its own, against a
 * per-page model; then through the simulator (sim/drv_scrub.c): seed 001's figures under the
 * seed-2013-scrub profile, determinism, lock contention, policies' trade-offs.
 *
 * Time checks are on simulated time (deterministic), never wall-clock time.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env_user.h"
#include "run.h"
#include "scrub.h"
#include "test.h"

static uint64_t rng_state = 2013;

static uint64_t rnd(void)
{
	rng_state += 0x9e3779b97f4a7c15ULL;
	return env_mix64(rng_state);
}

static uint64_t rnd_in(uint64_t lo, uint64_t hi) { return lo + rnd() % (hi - lo + 1); }

static const struct scrub_policy *pol(const char *name)
{
	const struct scrub_policy *p = scrub_policy_find(name);

	if (!p) {
		printf("no scrub policy %s\n", name);
		exit(1);
	}
	return p;
}

static struct scrub_model *model(const char *policy, uint64_t batch, uint64_t kick)
{
	struct scrub_params p = { batch, kick };
	struct scrub_model *m = scrub_model_create(pol(policy), &p);

	if (!m) {
		printf("scrub_model_create(%s) failed\n", policy);
		exit(1);
	}
	return m;
}

/* ---- runs as page lists ------------------------------------------------------------------- */

#define MAXP 8192

struct pagelist {
	uint64_t v[MAXP];
	size_t n;
	bool overflow;
};

static void collect(void *arg, uint64_t start, uint64_t len)
{
	struct pagelist *l = arg;
	uint64_t i;

	for (i = 0; i < len; i++) {
		if (l->n == MAXP) {
			l->overflow = true;
			return;
		}
		l->v[l->n++] = start + i;
	}
}

static void count_runs(void *arg, uint64_t start, uint64_t len)
{
	(void)start;
	(void)len;
	(*(uint64_t *)arg)++;
}

/* ---- the per-page reference model ------------------------------------------------------------ */

enum { PG_CLEAN, PG_DIRTY, PG_INFLIGHT, PG_OWNED };

struct fifo {
	uint64_t v[MAXP];
	size_t head, n;
};

static void fifo_push(struct fifo *f, uint64_t x) { f->v[(f->head + f->n++) % MAXP] = x; }
static uint64_t fifo_peek(const struct fifo *f, size_t i) { return f->v[(f->head + i) % MAXP]; }
static uint64_t fifo_pop(struct fifo *f)
{
	uint64_t x = f->v[f->head];

	f->head = (f->head + 1) % MAXP;
	f->n--;
	return x;
}

#define REF_DOMS 8

struct ref {
	const struct scrub_policy *pol;
	struct scrub_params p;
	uint64_t host;
	uint8_t st[MAXP];
	struct fifo dirty;
	struct {
		bool live, dying;
		uint32_t id;
		struct fifo pages;
	} dom[REF_DOMS];
	struct work work;
};

static int ref_find(const struct ref *r, uint32_t id)
{
	int i;

	for (i = 0; i < REF_DOMS; i++)
		if (r->dom[i].live && r->dom[i].id == id)
			return i;
	return -1;
}

static void ref_grow(struct ref *r, uint64_t pages)
{
	while (pages--)
		r->st[r->host++] = PG_CLEAN;
}

static int ref_create(struct ref *r, uint32_t id)
{
	int i;

	if (ref_find(r, id) >= 0)
		return -EEXIST;
	for (i = 0; i < REF_DOMS; i++)
		if (!r->dom[i].live) {
			memset(&r->dom[i], 0, sizeof(r->dom[i]));
			r->dom[i].live = true;
			r->dom[i].id = id;
			return 0;
		}
	return -ENOSPC;
}

static uint64_t ref_count(const struct ref *r, int state)
{
	uint64_t i, n = 0;

	for (i = 0; i < r->host; i++)
		n += r->st[i] == state;
	return n;
}

static int ref_alloc(struct ref *r, uint32_t id, uint64_t pages, uint64_t *dirty)
{
	int d = ref_find(r, id);
	uint64_t clean = ref_count(r, PG_CLEAN), i;

	*dirty = 0;
	if (d < 0)
		return -ENOENT;
	if (r->dom[d].dying)
		return -EBUSY;
	if (!pages)
		return 0;
	if (clean + (r->pol->alloc_dirty ? r->dirty.n : 0) < pages)
		return -EAGAIN;
	for (i = 0; i < r->host && pages; i++)
		if (r->st[i] == PG_CLEAN) {
			r->st[i] = PG_OWNED;
			fifo_push(&r->dom[d].pages, i);
			pages--;
		}
	while (pages) {
		uint64_t x = fifo_pop(&r->dirty);

		r->st[x] = PG_OWNED;
		fifo_push(&r->dom[d].pages, x);
		(*dirty)++;
		pages--;
	}
	if (*dirty) {
		work_add(&r->work, WU_LOCK, 1);
		work_add(&r->work, WU_PAGE_SCRUB, *dirty);
	}
	return 0;
}

static int ref_relinquish(struct ref *r, uint32_t id, uint64_t max, uint64_t *freed, bool *kick)
{
	int d = ref_find(r, id);

	*freed = 0;
	*kick = false;
	if (d < 0)
		return -ENOENT;
	if (!r->dom[d].dying)
		return -EINVAL;
	while (*freed < max && r->dom[d].pages.n) {
		uint64_t x = fifo_pop(&r->dom[d].pages);

		work_add(&r->work, WU_REFCOUNT, 1);
		work_add(&r->work, WU_LIST_HOP, 1);
		work_add(&r->work, WU_PAGE_PUT, 2);
		work_add(&r->work, WU_PREEMPT_CHECK, 1);
		(*freed)++;
		if (!r->pol->defer) {
			r->st[x] = PG_CLEAN;
			work_add(&r->work, WU_PAGE_SCRUB, 1);
			work_add(&r->work, WU_FREE, 1);
			work_add(&r->work, WU_LOCK, 1);
			continue;
		}
		r->st[x] = PG_DIRTY;
		fifo_push(&r->dirty, x);
		work_add(&r->work, WU_LOCK, 1);
		work_add(&r->work, r->pol->alloc_dirty ? WU_FREE : WU_ENTRY_MOVE, 1);
		if (r->dirty.n == (r->pol->one_tasklet ? 1 : r->p.kick_pages)) {
			*kick = true;
			break;
		}
	}
	if (!r->dom[d].pages.n) {
		r->dom[d].live = false;
		return 0;
	}
	return -EAGAIN;
}

static int ref_take(struct ref *r, struct scrub_batch *b)
{
	b->start = b->len = 0;
	work_add(&r->work, WU_LOCK, 1);
	if (!r->dirty.n)
		return -ENOENT;
	b->start = fifo_pop(&r->dirty);
	b->len = 1;
	while (r->dirty.n && b->len < (r->pol->one_tasklet ? 1 : r->p.batch) && fifo_peek(&r->dirty, 0) == b->start + b->len) {
		fifo_pop(&r->dirty);
		b->len++;
	}
	for (uint64_t i = 0; i < b->len; i++)
		r->st[b->start + i] = PG_INFLIGHT;
	work_add(&r->work, WU_ENTRY_MOVE, b->len);
	return 0;
}

static void ref_finish(struct ref *r, struct scrub_batch *b)
{
	for (uint64_t i = 0; i < b->len; i++)
		r->st[b->start + i] = PG_CLEAN;
	work_add(&r->work, WU_PAGE_SCRUB, b->len);
	work_add(&r->work, WU_FREE, b->len);
	work_add(&r->work, WU_LOCK, 1);
}

/* Does the extent model hold exactly the reference's pages, in the same orders? */
static bool same_state(const struct scrub_model *m, const struct ref *r)
{
	static struct pagelist l;
	size_t i;
	int d;

	if (scrub_check(m))
		return false;
	memset(&l, 0, sizeof(l));
	scrub_queue_runs(m, 0, collect, &l);
	for (i = 0, d = 0; i < r->host; i++)
		if (r->st[i] == PG_CLEAN && (d >= (int)l.n || l.v[d++] != i))
			return false;
	if ((size_t)d != l.n || l.overflow)
		return false;
	memset(&l, 0, sizeof(l));
	scrub_queue_runs(m, 1, collect, &l);
	if (l.n != r->dirty.n)
		return false;
	for (i = 0; i < l.n; i++)
		if (l.v[i] != fifo_peek(&r->dirty, i))
			return false;
	for (d = 0; d < REF_DOMS; d++) {
		if (!r->dom[d].live)
			continue;
		memset(&l, 0, sizeof(l));
		if (scrub_domain_runs(m, r->dom[d].id, collect, &l) || l.n != r->dom[d].pages.n)
			return false;
		for (i = 0; i < l.n; i++)
			if (l.v[i] != fifo_peek(&r->dom[d].pages, i))
				return false;
	}
	return memcmp(scrub_work((struct scrub_model *)m)->n, r->work.n, sizeof(r->work.n)) == 0 &&
	       scrub_inflight(m) == ref_count(r, PG_INFLIGHT);
}

/* ---- policies and parameters ---------------------------------------------------------------- */

TEST(defaults_are_a_2_mib_batch_and_kick)
{
	struct scrub_params p;

	scrub_params_default(&p);
	CHECK_EQ_U64(p.batch, 512);
	CHECK_EQ_U64(p.kick_pages, 512);
	CHECK(scrub_params_validate(&p) == 0);
	p.batch = 0;
	CHECK(scrub_params_validate(&p) == -EINVAL);
	scrub_params_default(&p);
	p.kick_pages = 0;
	CHECK(scrub_params_validate(&p) == -EINVAL);
	CHECK(scrub_params_validate(NULL) == -EINVAL);
	CHECK(scrub_model_create(pol("sync"), &p) == NULL);
	CHECK(strstr(scrub_param_table[0].doc, "2 MiB") != NULL);
}

TEST(every_policy_is_registered_by_name_with_its_flags)
{
	unsigned i, n = 0;

	for (i = 0; scrub_policies[i]; i++) {
		n++;
		CHECK(scrub_policies[i]->doc && scrub_policies[i]->doc[0]);
	}
	CHECK_EQ_U64(n, 5);
	CHECK(!pol("sync")->defer);
	CHECK(pol("deferred")->defer && pol("deferred")->one_tasklet && !pol("deferred")->all_cpus &&
	      !pol("deferred")->alloc_dirty);
	CHECK(pol("deferred-percpu")->defer && pol("deferred-percpu")->all_cpus &&
	      !pol("deferred-percpu")->one_tasklet && !pol("deferred-percpu")->alloc_dirty);
	CHECK(pol("idle")->defer && !pol("idle")->all_cpus && !pol("idle")->alloc_dirty);
	CHECK(pol("on-alloc")->defer && pol("on-alloc")->alloc_dirty);
	CHECK(scrub_policy_find("defered") == NULL);
	CHECK(scrub_policy_find(NULL) == NULL);
}

/* ---- the model --------------------------------------------------------------------------- */

TEST(sync_free_returns_every_page_clean_with_the_seed_units)
{
	struct scrub_model *m = model("sync", 512, 512);
	const uint64_t n = 1000;
	uint64_t freed, dirty;
	struct work *w = scrub_work(m);
	bool kick;

	CHECK(scrub_host_grow(m, n) == 0);
	CHECK(scrub_domain_create(m, 1) == 0);
	CHECK(scrub_alloc(m, 1, n, &dirty) == 0 && dirty == 0);
	CHECK_EQ_U64(scrub_clean_pages(m), 0);
	CHECK_EQ_U64(w->n[WU_PAGE_SCRUB], 0);   /* building a domain counts nothing */
	CHECK(scrub_destroy_begin(m, 1) == 0);
	CHECK(scrub_alloc(m, 1, 1, NULL) == -EBUSY);
	CHECK(scrub_relinquish(m, 1, 300, &freed, &kick) == -EAGAIN);
	CHECK_EQ_U64(freed, 300);
	CHECK(!kick);
	CHECK_EQ_U64(scrub_dying_pages(m), n - 300);
	CHECK(scrub_relinquish(m, 1, UINT64_MAX, &freed, &kick) == 0);
	CHECK_EQ_U64(freed, n - 300);
	CHECK_EQ_U64(scrub_clean_pages(m), n);
	CHECK_EQ_U64(scrub_clean_runs(m), 1);
	CHECK_EQ_U64(scrub_backlog(m), 0);
	CHECK_EQ_U64(w->n[WU_REFCOUNT], n);
	CHECK_EQ_U64(w->n[WU_LIST_HOP], n);
	CHECK_EQ_U64(w->n[WU_PAGE_PUT], 2 * n);
	CHECK_EQ_U64(w->n[WU_PREEMPT_CHECK], n);
	CHECK_EQ_U64(w->n[WU_PAGE_SCRUB], n);
	CHECK_EQ_U64(w->n[WU_FREE], n);
	CHECK_EQ_U64(w->n[WU_LOCK], n);
	CHECK_EQ_U64(w->n[WU_ENTRY_MOVE], 0);
	CHECK_EQ_U64(scrub_stats(m)->scrubbed_free, n);
	CHECK(scrub_domain_pages(m, 1) == 0);
	CHECK(scrub_domain_create(m, 1) == 0);   /* the id is free again */
	CHECK(scrub_check(m) == 0);
	scrub_model_destroy(m);
}

TEST(deferred_free_queues_dirty_pages_and_kicks_when_the_backlog_reaches_kick_pages)
{
	struct scrub_model *m = model("deferred-percpu", 4, 8);
	uint64_t freed;
	struct scrub_batch b;
	bool kick;

	scrub_host_grow(m, 64);
	scrub_domain_create(m, 1);
	CHECK(scrub_alloc(m, 1, 40, NULL) == 0);
	CHECK(scrub_relinquish(m, 1, 1, &freed, &kick) == -EINVAL);   /* not dying */
	scrub_destroy_begin(m, 1);
	CHECK(scrub_destroy_begin(m, 1) == -EBUSY);
	CHECK(scrub_relinquish(m, 1, 100, &freed, &kick) == -EAGAIN);
	CHECK(kick);
	CHECK_EQ_U64(freed, 8);
	CHECK_EQ_U64(scrub_backlog(m), 8);
	CHECK_EQ_U64(scrub_clean_pages(m), 24);   /* nothing clean came back */
	/* above the threshold: no kick until the backlog falls below it and rises again */
	CHECK(scrub_relinquish(m, 1, 5, &freed, &kick) == -EAGAIN && !kick && freed == 5);
	CHECK(scrub_take(m, &b) == 0 && b.len == 4 && b.start == 0);
	CHECK(scrub_take(m, &b) == 0 && b.len == 4 && b.start == 4);
	CHECK_EQ_U64(scrub_backlog(m), 5);
	CHECK_EQ_U64(scrub_inflight(m), 8);
	CHECK(scrub_relinquish(m, 1, 100, &freed, &kick) == -EAGAIN && kick && freed == 3);
	CHECK_EQ_U64(scrub_stats(m)->kicks, 2);
	CHECK(scrub_check(m) == 0);
	scrub_model_destroy(m);
}

/* The patch's tasklet polls: the free path stops for it on the page that makes the list
 * non-empty, wakes nobody (no kick counted), and a take detaches one page whatever batch is. */
TEST(the_single_tasklet_takes_one_page_per_hold_and_sees_the_first_page)
{
	struct scrub_model *m = model("deferred", 512, 512);
	struct scrub_batch b;
	uint64_t freed;
	bool kick;

	scrub_host_grow(m, 64);
	scrub_domain_create(m, 1);
	CHECK(scrub_alloc(m, 1, 40, NULL) == 0);
	scrub_destroy_begin(m, 1);
	CHECK(scrub_relinquish(m, 1, 100, &freed, &kick) == -EAGAIN && kick && freed == 1);
	CHECK(scrub_relinquish(m, 1, 5, &freed, &kick) == -EAGAIN && !kick && freed == 5);
	CHECK(scrub_take(m, &b) == 0 && b.len == 1 && b.start == 0);
	CHECK(scrub_take(m, &b) == 0 && b.len == 1 && b.start == 1);
	CHECK_EQ_U64(scrub_backlog(m), 4);
	CHECK_EQ_U64(scrub_stats(m)->kicks, 0);
	CHECK_EQ_U64(scrub_stats(m)->batches, 2);
	CHECK(scrub_check(m) == 0);
	scrub_model_destroy(m);
}

TEST(a_batch_is_one_contiguous_run_and_finished_batches_merge_back)
{
	struct scrub_model *m = model("idle", 100, 1000);
	struct scrub_batch b[3];
	uint64_t freed;
	bool kick;

	scrub_host_grow(m, 30);
	scrub_domain_create(m, 1);
	scrub_domain_create(m, 2);
	scrub_alloc(m, 1, 10, NULL);   /* 0..9 */
	scrub_alloc(m, 2, 10, NULL);   /* 10..19 */
	scrub_alloc(m, 1, 10, NULL);   /* 20..29: domain 1 owns two runs */
	scrub_destroy_begin(m, 1);
	CHECK(scrub_relinquish(m, 1, 100, &freed, &kick) == 0 && freed == 20);
	CHECK(scrub_take(m, &b[0]) == 0 && b[0].start == 0 && b[0].len == 10);
	CHECK(scrub_take(m, &b[1]) == 0 && b[1].start == 20 && b[1].len == 10);
	CHECK(scrub_take(m, &b[2]) == -ENOENT && b[2].len == 0);
	CHECK_EQ_U64(scrub_stats(m)->empty_takes, 1);
	scrub_destroy_begin(m, 2);
	scrub_relinquish(m, 2, 100, &freed, &kick);
	CHECK(scrub_take(m, &b[2]) == 0 && b[2].start == 10);
	/* finished out of order, the three runs coalesce into one clean run */
	scrub_finish(m, &b[1]);
	scrub_finish(m, &b[0]);
	CHECK_EQ_U64(scrub_clean_runs(m), 2);
	scrub_finish(m, &b[2]);
	CHECK_EQ_U64(scrub_clean_runs(m), 1);
	CHECK_EQ_U64(scrub_clean_pages(m), 30);
	CHECK_EQ_U64(scrub_stats(m)->scrubbed_batch, 30);
	CHECK(scrub_check(m) == 0);
	scrub_model_destroy(m);
}

TEST(allocation_takes_the_lowest_clean_pages_and_is_all_or_nothing)
{
	struct scrub_model *m = model("idle", 8, 8);
	static struct pagelist l;
	uint64_t freed, dirty;
	bool kick;

	scrub_host_grow(m, 16);
	scrub_domain_create(m, 1);
	scrub_domain_create(m, 2);
	CHECK(scrub_alloc(m, 1, 8, NULL) == 0);
	scrub_destroy_begin(m, 1);
	scrub_relinquish(m, 1, 8, &freed, &kick);
	CHECK_EQ_U64(scrub_allocatable(m), 8);    /* idle: dirty pages are not allocatable */
	CHECK(scrub_alloc(m, 2, 9, &dirty) == -EAGAIN);
	CHECK_EQ_U64(scrub_clean_pages(m), 8);
	CHECK(scrub_alloc(m, 2, 3, &dirty) == 0 && dirty == 0);
	memset(&l, 0, sizeof(l));
	scrub_domain_runs(m, 2, collect, &l);
	CHECK(l.n == 3 && l.v[0] == 8 && l.v[2] == 10);
	CHECK(scrub_alloc(m, 9, 1, NULL) == -ENOENT);
	CHECK(scrub_domain_create(m, 2) == -EEXIST);
	CHECK(scrub_check(m) == 0);
	scrub_model_destroy(m);
}

TEST(on_alloc_hands_out_dirty_pages_scrubbing_each)
{
	struct scrub_model *m = model("on-alloc", 8, 100);
	uint64_t freed, dirty;
	struct work *w = scrub_work(m);
	bool kick;

	scrub_host_grow(m, 20);
	scrub_domain_create(m, 1);
	scrub_domain_create(m, 2);
	scrub_alloc(m, 1, 16, NULL);
	scrub_destroy_begin(m, 1);
	scrub_relinquish(m, 1, 100, &freed, &kick);
	CHECK_EQ_U64(scrub_allocatable(m), 20);
	work_reset(w);
	CHECK(scrub_alloc(m, 2, 10, &dirty) == 0);
	CHECK_EQ_U64(dirty, 6);                    /* 4 clean first, then 6 dirty */
	CHECK_EQ_U64(w->n[WU_PAGE_SCRUB], 6);
	CHECK_EQ_U64(w->n[WU_LOCK], 1);
	CHECK_EQ_U64(scrub_stats(m)->scrubbed_alloc, 6);
	CHECK_EQ_U64(scrub_backlog(m), 10);
	CHECK(scrub_check(m) == 0);
	scrub_model_destroy(m);
}

TEST(page_work_splits_the_free_at_the_lock)
{
	struct work pre, locked;
	struct scrub_model *m;

	m = model("sync", 1, 1);
	scrub_page_work(m, &pre, &locked);
	CHECK(pre.n[WU_PAGE_SCRUB] == 1 && pre.n[WU_LOCK] == 1 && pre.n[WU_PAGE_PUT] == 2);
	CHECK_EQ_U64(locked.n[WU_LOCK], 0);
	scrub_model_destroy(m);
	m = model("deferred", 1, 1);
	scrub_page_work(m, &pre, &locked);
	CHECK(pre.n[WU_PAGE_SCRUB] == 0 && pre.n[WU_LOCK] == 0 && pre.n[WU_REFCOUNT] == 1);
	CHECK(locked.n[WU_LOCK] == 1 && locked.n[WU_ENTRY_MOVE] == 1);
	scrub_model_destroy(m);
	m = model("on-alloc", 1, 1);
	scrub_page_work(m, &pre, &locked);
	CHECK(locked.n[WU_LOCK] == 1 && locked.n[WU_FREE] == 1 && locked.n[WU_ENTRY_MOVE] == 0);
	scrub_model_destroy(m);
}

/* Random operations on both models; every result and the whole state must agree. */
static bool random_ops_agree(const char *policy, uint64_t batch, uint64_t kick, unsigned ops)
{
	static struct ref r;
	struct scrub_model *m = model(policy, batch, kick);
	struct scrub_batch mb[6], rb[6];
	unsigned nb = 0, i;
	bool ok = true;

	memset(&r, 0, sizeof(r));
	r.pol = pol(policy);
	r.p.batch = batch;
	r.p.kick_pages = kick;
	ok &= scrub_host_grow(m, 2000) == 0;
	ref_grow(&r, 2000);
	for (i = 0; i < ops && ok; i++) {
		uint64_t op = rnd() % 100, id = rnd_in(1, 5), a, b2, fa, fb;
		bool ka, kb;
		int ra, rr;

		if (op < 8) {
			ra = scrub_domain_create(m, (uint32_t)id);
			rr = ref_create(&r, (uint32_t)id);   /* ids 1..5: never out of slots */
			ok &= ra == rr;
		} else if (op < 35) {
			uint64_t n = rnd_in(0, 120);

			ra = scrub_alloc(m, (uint32_t)id, n, &a);
			rr = ref_alloc(&r, (uint32_t)id, n, &b2);
			ok &= ra == rr && a == b2;
		} else if (op < 42) {
			ra = scrub_destroy_begin(m, (uint32_t)id);
			rr = ref_find(&r, (uint32_t)id) < 0 ? -ENOENT :
			     r.dom[ref_find(&r, (uint32_t)id)].dying ? -EBUSY : 0;
			if (!rr)
				r.dom[ref_find(&r, (uint32_t)id)].dying = true;
			ok &= ra == rr;
		} else if (op < 70) {
			uint64_t n = rnd_in(1, 90);

			ra = scrub_relinquish(m, (uint32_t)id, n, &fa, &ka);
			rr = ref_relinquish(&r, (uint32_t)id, n, &fb, &kb);
			ok &= ra == rr && fa == fb && ka == kb;
		} else if (op < 85) {
			if (nb == ENV_ARRAY_SIZE(mb))
				continue;
			ra = scrub_take(m, &mb[nb]);
			rr = ref_take(&r, &rb[nb]);
			ok &= ra == rr && mb[nb].start == rb[nb].start && mb[nb].len == rb[nb].len;
			if (!ra)
				nb++;
		} else if (op < 98) {
			unsigned k;

			if (!nb)
				continue;
			k = (unsigned)(rnd() % nb);   /* batches finish in any order */
			scrub_finish(m, &mb[k]);
			ref_finish(&r, &rb[k]);
			mb[k] = mb[nb - 1];
			rb[k] = rb[nb - 1];
			nb--;
		} else {
			ok &= scrub_host_grow(m, 7) == 0;
			ref_grow(&r, 7);
		}
		ok &= same_state(m, &r);
	}
	if (!ok)
		printf("# %s batch=%llu kick=%llu: models disagree after op %u\n", policy,
		       (unsigned long long)batch, (unsigned long long)kick, i);
	scrub_model_destroy(m);
	return ok;
}

TEST(extent_model_equals_the_per_page_model_on_random_operations)
{
	const char *p[] = { "sync", "deferred", "deferred-percpu", "idle", "on-alloc" };
	const uint64_t shapes[][2] = { { 1, 1 }, { 4, 8 }, { 16, 3 }, { 512, 512 } };
	unsigned i, j;

	for (i = 0; i < ENV_ARRAY_SIZE(p); i++)
		for (j = 0; j < ENV_ARRAY_SIZE(shapes); j++)
			CHECK(random_ops_agree(p[i], shapes[j][0], shapes[j][1], 1500));
}

TEST(memory_follows_runs_not_pages_for_a_1_tib_guest)
{
	/* (deferred's tasklet takes one page per call: 268 M calls, too slow for a unit test;
	 * its sets are the same as deferred-percpu's) */
	const char *p[] = { "sync", "deferred-percpu" };
	unsigned i;

	for (i = 0; i < ENV_ARRAY_SIZE(p); i++) {
		struct scrub_model *m = model(p[i], 512, 512);
		const uint64_t gib = 262144, n = 1024 * gib;
		struct scrub_batch b;
		uint64_t freed, k, runs = 0;
		bool kick;
		int rc;

		scrub_domain_create(m, 1);
		scrub_host_grow(m, n + gib);
		for (k = 0; k < 1024; k++)
			CHECK(scrub_alloc(m, 1, gib, NULL) == 0);
		scrub_domain_runs(m, 1, count_runs, &runs);
		CHECK_EQ_U64(runs, 1);
		scrub_destroy_begin(m, 1);
		do {
			rc = scrub_relinquish(m, 1, UINT64_MAX, &freed, &kick);
			while (scrub_take(m, &b) == 0)
				scrub_finish(m, &b);
		} while (rc == -EAGAIN);
		CHECK(rc == 0);
		CHECK_EQ_U64(scrub_clean_pages(m), n + gib);
		CHECK_EQ_U64(scrub_clean_runs(m), 1);
		CHECK(scrub_stats(m)->bytes_peak < 4096);
		CHECK(scrub_stats(m)->runs_peak <= 4);
		CHECK_EQ_U64(scrub_work(m)->n[WU_PAGE_SCRUB], n);
		CHECK(scrub_check(m) == 0);
		scrub_model_destroy(m);
	}
}

/* ---- lack of memory ------------------------------------------------------------------------ */

TEST(create_and_grow_fail_cleanly_without_memory)
{
	struct scrub_params p = { 8, 8 };
	struct scrub_model *m;

	env_fail_after(0);
	CHECK(scrub_model_create(pol("sync"), &p) == NULL);
	env_fail_reset();
	m = model("deferred", 8, 8);
	env_fail_after(0);
	CHECK(scrub_host_grow(m, 10) == -ENOMEM);
	CHECK(scrub_domain_create(m, 1) == -ENOMEM);
	env_fail_reset();
	CHECK_EQ_U64(scrub_stats(m)->host_pages, 0);
	CHECK(scrub_check(m) == 0);
	scrub_model_destroy(m);
}

TEST(deferred_free_without_room_on_the_list_scrubs_the_page_at_once)
{
	struct scrub_model *m = model("deferred-percpu", 8, 1000);
	uint64_t freed, clean;
	void *dummy;
	bool kick;
	int rc, i;

	scrub_host_grow(m, 64);
	scrub_domain_create(m, 1);
	scrub_domain_create(m, 2);
	/* domain 1 gets every other 4-page run, so its pages reach the list as separate runs */
	for (i = 0; i < 8; i++) {
		scrub_alloc(m, 1, 4, NULL);
		scrub_alloc(m, 2, 4, NULL);
	}
	scrub_destroy_begin(m, 1);
	CHECK(scrub_relinquish(m, 1, 16, &freed, &kick) == -EAGAIN && freed == 16);
	clean = scrub_clean_pages(m);
	/* the list's ring is full (4 runs): the next run needs a larger ring, which fails; the
	 * clean set's node for the fallback is the allocation after it, which succeeds */
	env_fail_every(2);
	dummy = env_alloc(8);
	env_free(dummy, 8);
	rc = scrub_relinquish(m, 1, 1, &freed, &kick);
	env_fail_reset();
	CHECK(rc == -EAGAIN && freed == 1);
	CHECK_EQ_U64(scrub_stats(m)->sync_fallbacks, 1);
	CHECK_EQ_U64(scrub_clean_pages(m), clean + 1);
	CHECK_EQ_U64(scrub_backlog(m), 16);
	CHECK_EQ_U64(scrub_work(m)->n[WU_PAGE_SCRUB], 1);
	CHECK(scrub_check(m) == 0);
	/* nothing at all: the free stops, losing no page */
	env_fail_every(1);
	rc = scrub_relinquish(m, 1, 10, &freed, &kick);
	env_fail_reset();
	CHECK(rc == -ENOMEM && freed == 0);
	CHECK(scrub_check(m) == 0);
	/* with memory back, the destroy completes and every page is accounted for */
	while ((rc = scrub_relinquish(m, 1, 100, &freed, &kick)) == -EAGAIN)
		;
	CHECK(rc == 0);
	CHECK_EQ_U64(scrub_clean_pages(m) + scrub_backlog(m), 32);
	CHECK(scrub_check(m) == 0);
	scrub_model_destroy(m);
}

TEST(every_operation_under_failing_allocations_keeps_the_invariants)
{
	const char *p[] = { "sync", "deferred", "deferred-percpu", "idle", "on-alloc" };
	unsigned i, k, failures = 0;

	for (i = 0; i < ENV_ARRAY_SIZE(p); i++) {
		struct scrub_model *m = model(p[i], 8, 16);
		struct scrub_batch b[4];
		unsigned nb = 0;
		uint64_t freed, dying_before, total;
		bool kick;

		scrub_host_grow(m, 4000);
		env_fail_every(3);
		for (k = 0; k < 3000; k++) {
			uint32_t id = (uint32_t)rnd_in(1, 4);
			uint64_t op = rnd() % 10;

			if (op < 2)
				scrub_domain_create(m, id);
			else if (op < 5)
				scrub_alloc(m, id, rnd_in(1, 40), NULL);
			else if (op < 6)
				scrub_destroy_begin(m, id);
			else if (op < 8)
				scrub_relinquish(m, id, rnd_in(1, 30), &freed, &kick);
			else if (op < 9 && nb < 4) {
				if (!scrub_take(m, &b[nb]))
					nb++;
			} else if (nb) {
				scrub_finish(m, &b[--nb]);
			}
			if (scrub_check(m)) {
				failures++;
				break;
			}
		}
		failures += env_alloc_failures() == 0;   /* the injection did bite */
		env_fail_reset();
		while (nb)
			scrub_finish(m, &b[--nb]);
		dying_before = scrub_dying_pages(m);
		total = scrub_stats(m)->host_pages;
		CHECK(scrub_check(m) == 0);
		CHECK(dying_before <= total);
		scrub_model_destroy(m);
	}
	CHECK_EQ_U64(failures, 0);
}

/* ---- through the simulator ----------------------------------------------------------------- */

struct res {
	double destroy_ns, relinquish_ns, clean_ns, lock_wait_ns, lock_contended, empty_grabs;
	double guest_steal_ns, cpu0_scrub_ns, alloc_waits, alloc_unserved, create_ns;
	double scrubbed_by_alloc, pages_scrubbed, model_bytes_peak, backlog_peak, has_clean;
	double series_points, scrubbers_peak, tasklet_pcpu, tasklet_spin_ns, scrub_cpu_ns;
	double unfinished, sim_time_ns, batches;
	uint64_t digest;
};

static double metric(const struct run *r, const char *name)
{
	double v = 0;

	metrics_get(&r->mx, name, &v);
	return v;
}

/* sets: "k=v" strings, NULL-terminated */
static int sim(const char *scenario, const char *policy, const char *profile, uint64_t seed,
	       const char *const *sets, struct res *out)
{
	struct run_opts o = { .model = "scrub", .policy = policy, .scenario = scenario,
			      .profile = profile, .seed = seed };
	const struct series *sr;
	char err[1024];
	struct run r;
	int rc;

	while (sets && *sets && o.nsets < RUN_MAX_SETS)
		o.sets[o.nsets++] = *sets++;
	rc = run_prepare(&r, &o, err, sizeof(err));
	if (rc == 0)
		rc = run_execute(&r, err, sizeof(err));
	if (rc) {
		printf("# run failed: %s\n", err);
		run_free(&r);
		return rc;
	}
	memset(out, 0, sizeof(*out));
	out->destroy_ns = metric(&r, "destroy_ns");
	out->relinquish_ns = metric(&r, "relinquish_ns");
	out->has_clean = metrics_get(&r.mx, "clean_ns", &out->clean_ns) == 0;
	out->lock_wait_ns = metric(&r, "lock_wait_ns");
	out->lock_contended = metric(&r, "lock_contended");
	out->empty_grabs = metric(&r, "empty_grabs");
	out->guest_steal_ns = metric(&r, "guest_steal_ns");
	out->cpu0_scrub_ns = metric(&r, "cpu0_scrub_ns");
	out->alloc_waits = metric(&r, "alloc_waits");
	out->alloc_unserved = metric(&r, "alloc_unserved");
	out->create_ns = metric(&r, "create_ns");
	out->scrubbed_by_alloc = metric(&r, "scrubbed_by_alloc");
	out->pages_scrubbed = metric(&r, "pages_scrubbed");
	out->model_bytes_peak = metric(&r, "model_bytes_peak");
	out->backlog_peak = metric(&r, "backlog_peak_pages");
	out->scrubbers_peak = metric(&r, "scrubbers_peak");
	out->tasklet_pcpu = metrics_get(&r.mx, "tasklet_pcpu", &out->tasklet_pcpu) ? -1 :
			    out->tasklet_pcpu;
	out->tasklet_spin_ns = metric(&r, "tasklet_spin_ns");
	out->scrub_cpu_ns = metric(&r, "scrub_cpu_ns");
	out->unfinished = metric(&r, "destroys_unfinished");
	out->sim_time_ns = metric(&r, "sim_time_ns");
	out->batches = metric(&r, "batches");
	sr = metrics_series_find(&r.mx, "scrub_backlog_pages");
	out->series_points = sr ? (double)sr->n : 0;
	out->digest = r.event_digest;
	run_free(&r);
	return 0;
}

#define SEED_PAGES (30.0 * 262144)
#define SEED_SYNC_NS 16.014e9
#define SEED_DEFERRED_NS 3.581e9

static const char *const seed_sets[] = { "mem_gb=30", "toolstack_ns=2826600us", NULL };

TEST(seed001_profile_fitted_to_the_sync_figure_gives_it_back)
{
	struct res r;

	CHECK(sim("destroy", "sync", "seed-2013-scrub", 1, seed_sets, &r) == 0);
	CHECK(r.destroy_ns > SEED_SYNC_NS * 0.999 && r.destroy_ns < SEED_SYNC_NS * 1.001);
	CHECK_EQ_U64(r.pages_scrubbed, SEED_PAGES);
	CHECK(r.has_clean && r.clean_ns == r.relinquish_ns);   /* clean as it is freed */
}

/*
 * With the seed-2013-scrub profile, moving the scrub out of the destroy can only save what
 * the sync destroy spent on scrub_one_page, free_heap_pages and the heap lock: 26.62 % of the
 * CPU samples, 3.72 s.  So no deferral can bring 16.0 s below 12.3 s: the seed's 3.58 s (a
 * 4.47x cut) is out of reach of any per-page cost fitted to the sync run, whatever the pCPU
 * count.  The model predicts 12.6 s (lock hold and herd waits included): a 1.27x cut.
 */
TEST(seed001_deferred_saves_the_scrub_share_and_no_more)
{
	static const char *const sets_p[][4] = {
		{ "mem_gb=30", "toolstack_ns=2826600us", "pcpus=2", NULL },
		{ "mem_gb=30", "toolstack_ns=2826600us", "pcpus=60", NULL },
		{ "mem_gb=30", "toolstack_ns=2826600us", "pcpus=120", NULL },
	};
	const double saved_max = SEED_PAGES * (401.743 + 48.017 + 23.653 - 23.653 - 10) * 1e-9;
	struct res s, d;
	unsigned i;

	CHECK(sim("destroy", "sync", "seed-2013-scrub", 1, seed_sets, &s) == 0);
	for (i = 0; i < ENV_ARRAY_SIZE(sets_p) + 1; i++) {
		/* the herd at 2, 60, 120 pCPUs; the patch's single tasklet (60 pCPUs) last: it
		 * takes a page per lock hold, an event per page, so it runs once */
		if (i < ENV_ARRAY_SIZE(sets_p))
			CHECK(sim("destroy", "deferred-percpu", "seed-2013-scrub", 1, sets_p[i], &d) == 0);
		else
			CHECK(sim("destroy", "deferred", "seed-2013-scrub", 1, sets_p[1], &d) == 0);
		/* saves at most the scrub share, loses a little to the lock */
		CHECK(d.destroy_ns >= s.destroy_ns - saved_max * 1e9);
		CHECK(d.destroy_ns < (s.destroy_ns - saved_max * 1e9) * 1.02);
		CHECK(s.destroy_ns / d.destroy_ns > 1.2 && s.destroy_ns / d.destroy_ns < 1.31);
		/* the seed's deferred figure is not within +-20 % of this prediction */
		CHECK(d.destroy_ns > SEED_DEFERRED_NS * 1.2);
		CHECK(d.has_clean && d.clean_ns >= d.relinquish_ns);
		CHECK_EQ_U64(d.pages_scrubbed, SEED_PAGES);
	}
}

/* Today's herd of 60 per-pCPU tasklets, kept as deferred-percpu, gives today's figures. */
TEST(seed001_deferred_percpu_reproduces_the_herd_figures)
{
	struct res d;

	CHECK(sim("destroy", "deferred-percpu", "seed-2013-scrub", 1, seed_sets, &d) == 0);
	CHECK_EQ_U64(d.destroy_ns, 12621898542ULL);
	CHECK_EQ_U64(d.clean_ns, 9795348870ULL);
	CHECK_EQ_U64(d.lock_wait_ns, 3104560417ULL);
	CHECK_EQ_U64(d.empty_grabs, 555091);
	CHECK(d.scrubbers_peak > 1);
}

/*
 * The patch's tasklet runs on one pCPU, the last its schedules left it on, at any pCPU
 * count; it never returns, polls the list and takes a page per lock hold, so it never takes
 * the lock for nothing.  The herd runs many at once.
 */
TEST(the_patch_scrubs_on_one_pcpu_at_any_pcpu_count)
{
	static const char *const sets[][4] = {
		{ "mem_mb=128", "pcpus=2", NULL }, { "mem_mb=128", "pcpus=4", NULL },
		{ "mem_mb=128", "pcpus=16", NULL }, { "mem_mb=128", "pcpus=60", NULL },
		{ "mem_mb=128", "pcpus=240", NULL },
	};
	const double npcpus[] = { 2, 4, 16, 60, 240 };
	struct res d, h;
	unsigned i;

	for (i = 0; i < ENV_ARRAY_SIZE(sets); i++) {
		CHECK(sim("destroy", "deferred", "seed-2013-scrub", 1, sets[i], &d) == 0);
		CHECK_EQ_U64(d.scrubbers_peak, 1);
		CHECK_EQ_U64(d.tasklet_pcpu, npcpus[i] - 1);
		CHECK_EQ_U64(d.empty_grabs, 0);
		CHECK_EQ_U64(d.pages_scrubbed, 128 * 256);
		CHECK_EQ_U64(d.batches, 128 * 256);          /* one page per lock hold */
		/* it owns its pCPU from boot to the end: working or spinning */
		CHECK(d.scrub_cpu_ns + d.tasklet_spin_ns <= d.sim_time_ns);
		CHECK(d.scrub_cpu_ns + d.tasklet_spin_ns >= d.sim_time_ns - 2 * d.batches);
		CHECK(d.tasklet_spin_ns > 0);
		CHECK(sim("destroy", "deferred-percpu", "seed-2013-scrub", 1, sets[i], &h) == 0);
		if (npcpus[i] >= 4)
			CHECK(h.scrubbers_peak > 1);
		CHECK(h.tasklet_pcpu == -1);
	}
}

/* On one pCPU the never-returning tasklet holds pCPU 0, which the destroy needs. */
TEST(the_patch_on_one_pcpu_never_lets_the_destroy_run)
{
	static const char *const one[] = { "mem_mb=16", "pcpus=1", NULL };
	struct res d;

	CHECK(sim("destroy", "deferred", "seed-2013-scrub", 1, one, &d) == 0);
	CHECK_EQ_U64(d.unfinished, 1);
	CHECK_EQ_U64(d.pages_scrubbed, 0);
	CHECK_EQ_U64(d.scrubbers_peak, 0);
	CHECK_EQ_U64(d.tasklet_pcpu, 0);
	CHECK_EQ_U64(d.tasklet_spin_ns, d.sim_time_ns);
}

/* With guests on the highest pCPUs, the tasklet's pCPU is theirs for the whole run. */
TEST(the_patch_tasklet_takes_a_guest_pcpu_for_good)
{
	static const char *const sets[] = { "mem_mb=64", "pcpus=8", "guest_pcpus=3", NULL };
	struct res d;

	CHECK(sim("destroy", "deferred", "seed-2013-scrub", 1, sets, &d) == 0);
	CHECK_EQ_U64(d.tasklet_pcpu, 7);
	CHECK(d.guest_steal_ns >= d.sim_time_ns - 2 * d.batches && d.guest_steal_ns <= d.sim_time_ns);
}

/* sync scrubs on pCPU 0 only; on-alloc's allocating vCPU counts while it scrubs. */
TEST(scrubbers_peak_counts_every_policy)
{
	static const char *const sets[] = { "mem_mb=256", "spare_mb=16", "pcpus=8", NULL };
	struct res s, o;

	CHECK(sim("destroy-create", "sync", "seed-2013-scrub", 1, sets, &s) == 0);
	CHECK(sim("destroy-create", "on-alloc", "seed-2013-scrub", 1, sets, &o) == 0);
	CHECK_EQ_U64(s.scrubbers_peak, 1);
	CHECK(o.scrubbed_by_alloc > 0 && o.scrubbers_peak >= 2);
}

TEST(a_1_tib_destroy_is_held_in_a_few_runs)
{
	static const char *const sets[] = { "mem_gb=1024", "toolstack_ns=2826600us", NULL };
	struct res r;

	CHECK(sim("destroy", "sync", "seed-2013-scrub", 1, sets, &r) == 0);
	/* 268 M pages, linear in the 30 GiB figure's page loop */
	CHECK(r.relinquish_ns > 0.9999 * (SEED_SYNC_NS - 2.8266e9) * 1024 / 30);
	CHECK(r.relinquish_ns < 1.0001 * (SEED_SYNC_NS - 2.8266e9) * 1024 / 30);
	CHECK(r.model_bytes_peak < 4096);
}

TEST(same_seed_same_digest_and_metrics)
{
	static const char *const sets[] = { "mem_mb=512", "pcpus=16", "kick_pages=64",
					    "batch=64", NULL };
	struct res a, b;

	CHECK(sim("destroy-create", "deferred", "seed-2013-scrub", 7, sets, &a) == 0);
	CHECK(sim("destroy-create", "deferred", "seed-2013-scrub", 7, sets, &b) == 0);
	CHECK(a.digest == b.digest);
	CHECK(a.destroy_ns == b.destroy_ns && a.lock_wait_ns == b.lock_wait_ns);
	CHECK(a.create_ns == b.create_ns && a.empty_grabs == b.empty_grabs);
	CHECK(a.series_points > 10);
}

TEST(lock_contention_grows_with_the_pcpu_count)
{
	static const char *const sets[][5] = {
		{ "mem_mb=256", "pcpus=2", "batch=64", "kick_pages=64", NULL },
		{ "mem_mb=256", "pcpus=8", "batch=64", "kick_pages=64", NULL },
		{ "mem_mb=256", "pcpus=32", "batch=64", "kick_pages=64", NULL },
		{ "mem_mb=256", "pcpus=128", "batch=64", "kick_pages=64", NULL },
	};
	struct res r[4];
	unsigned i;

	for (i = 0; i < 4; i++)
		CHECK(sim("destroy", "deferred-percpu", "seed-2013-scrub", 1, sets[i], &r[i]) == 0);
	for (i = 1; i < 4; i++) {
		CHECK(r[i].lock_wait_ns > r[i - 1].lock_wait_ns);
		CHECK(r[i].lock_contended > r[i - 1].lock_contended);
		CHECK(r[i].empty_grabs >= r[i - 1].empty_grabs);
	}
	CHECK(r[3].lock_wait_ns > 10 * r[0].lock_wait_ns);
}

TEST(idle_scrubbing_never_takes_guest_pcpus_and_deferred_tasklets_do)
{
	static const char *const sets[] = { "mem_mb=256", "pcpus=8", "guest_pcpus=7", NULL };
	struct res idle, def;

	CHECK(sim("destroy", "idle", "seed-2013-scrub", 1, sets, &idle) == 0);
	CHECK(sim("destroy", "deferred-percpu", "seed-2013-scrub", 1, sets, &def) == 0);
	CHECK(idle.guest_steal_ns == 0);
	CHECK(def.guest_steal_ns > 0);
	/* with every other pCPU busy, idle scrubbing waits for pCPU 0 to finish the destroy */
	CHECK(idle.clean_ns > idle.relinquish_ns * 1.2);
	CHECK(def.clean_ns < idle.clean_ns);
	CHECK(idle.backlog_peak == 256 * 256);
}

TEST(a_tasklet_on_the_destroying_pcpu_puts_the_scrub_back_into_the_destroy)
{
	static const char *const own[] = { "mem_mb=256", "pcpus=4", "self_scrub=1", NULL };
	static const char *const other[] = { "mem_mb=256", "pcpus=4", NULL };
	static const char *const one[] = { "mem_mb=256", NULL };
	struct res a, b, s;

	CHECK(sim("destroy", "deferred-percpu", "seed-2013-scrub", 1, own, &a) == 0);
	CHECK(sim("destroy", "deferred-percpu", "seed-2013-scrub", 1, other, &b) == 0);
	CHECK(sim("destroy", "sync", "seed-2013-scrub", 1, one, &s) == 0);
	CHECK(a.cpu0_scrub_ns > 0 && b.cpu0_scrub_ns == 0);
	CHECK(a.destroy_ns > s.destroy_ns);      /* the scrub and the list's overhead */
	CHECK(b.destroy_ns < s.destroy_ns);
}

TEST(a_domain_built_while_scrubbing_waits_for_clean_pages_except_with_on_alloc)
{
	static const char *const sets[] = { "mem_mb=512", "spare_mb=16", "pcpus=8", NULL };
	struct res s, d, o;

	CHECK(sim("destroy-create", "sync", "seed-2013-scrub", 1, sets, &s) == 0);
	CHECK(sim("destroy-create", "deferred", "seed-2013-scrub", 1, sets, &d) == 0);
	CHECK(sim("destroy-create", "on-alloc", "seed-2013-scrub", 1, sets, &o) == 0);
	CHECK(s.alloc_waits > 0 && d.alloc_waits > 0);
	CHECK(s.alloc_unserved == 0 && d.alloc_unserved == 0 && o.alloc_unserved == 0);
	/* sync: the new domain is built at the destroy's pace and done with it */
	CHECK(s.create_ns <= s.relinquish_ns && s.create_ns > 0.9 * s.relinquish_ns);
	/* deferred: a little behind the scrubbers, sooner than sync */
	CHECK(d.create_ns < s.create_ns);
	/* on-alloc: the builder scrubs dirty pages itself */
	CHECK(o.scrubbed_by_alloc > 0);
	CHECK(s.has_clean && d.has_clean && o.has_clean);
}

TEST(bad_machine_parameters_are_usage_errors)
{
	static const char *const sets[] = { "mem_mb=16", "pcpus=4", "guest_pcpus=4", NULL };
	struct run_opts o = { .model = "scrub", .policy = "idle", .scenario = "destroy",
			      .profile = "unit", .seed = 1 };
	char err[1024] = "";
	struct run r;
	unsigned i;
	int rc;

	for (i = 0; sets[i]; i++)
		o.sets[o.nsets++] = sets[i];
	rc = run_prepare(&r, &o, err, sizeof(err));
	CHECK(rc == 0);
	if (rc == 0) {
		rc = run_execute(&r, err, sizeof(err));
		CHECK(rc == EXIT_USAGE);
		CHECK(strstr(err, "guest_pcpus") != NULL);
	}
	run_free(&r);
}

/* ---- hostile input: huge orders, many domains (issue 9, item 11) -------------------------- */

/* Domains are found by id in a hash: a lookup examines about one domain however many exist
 * (a list examined half of them, quadratic over 2^20 domain_create records). */
TEST(domains_are_found_by_hash_in_constant_probes)
{
	struct scrub_model *m = model("deferred-percpu", 8, 8);
	const uint32_t n = 100000;
	uint64_t lookups, probes;
	uint32_t i;

	for (i = 0; i < n; i++)
		CHECK(scrub_domain_create(m, (i * 7919u) % (1u << 20)) == 0);
	CHECK(scrub_domain_create(m, 7919u) == -EEXIST);
	lookups = scrub_stats(m)->domain_lookups;
	probes = scrub_stats(m)->domain_probes;
	for (i = 0; i < n; i++)
		CHECK_EQ_U64(scrub_domain_pages(m, (i * 7919u) % (1u << 20)), 0);
	lookups = scrub_stats(m)->domain_lookups - lookups;
	probes = scrub_stats(m)->domain_probes - probes;
	CHECK_EQ_U64(lookups, n);
	CHECK(probes >= n && probes < 2 * (uint64_t)n);   /* a list: n * n / 2 */
	CHECK(scrub_stats(m)->bytes_peak < 128 * (uint64_t)n);
	CHECK(scrub_check(m) == 0);
	scrub_model_destroy(m);
}

/* A table that cannot grow keeps working with longer chains; without any table, -ENOMEM. */
TEST(the_domain_hash_degrades_without_memory)
{
	struct scrub_model *m = model("sync", 8, 8);
	uint32_t i;

	env_fail_after(0);
	CHECK(scrub_domain_create(m, 1) == -ENOMEM);
	env_fail_reset();
	for (i = 0; i < 16; i++)
		CHECK(scrub_domain_create(m, i) == 0);
	env_fail_after(1);              /* the domain itself, not the larger table */
	CHECK(scrub_domain_create(m, 100) == 0);
	env_fail_reset();
	CHECK_EQ_U64(scrub_stats(m)->dhash_grow_failures, 1);
	CHECK(scrub_domain_create(m, 101) == 0);   /* grows now */
	for (i = 0; i < 16; i++)
		CHECK(scrub_domain_create(m, i) == -EEXIST);
	CHECK(scrub_check(m) == 0);
	scrub_model_destroy(m);
}

static char scratch[64];

static void scratch_cleanup(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/t.mst", scratch);
	unlink(p);
	rmdir(scratch);
}

/* Writes recs to a trace in a temporary directory; returns its path or NULL. */
static const char *write_trace(const struct trace_rec *recs, size_t n)
{
	static char path[128];
	struct trace_header h;
	struct trace_writer *w;
	char err[512];
	size_t i;

	if (!scratch[0]) {
		snprintf(scratch, sizeof(scratch), "/tmp/test_scrub.XXXXXX");
		if (!mkdtemp(scratch))
			return NULL;
		atexit(scratch_cleanup);
	}
	snprintf(path, sizeof(path), "%s/t.mst", scratch);
	memset(&h, 0, sizeof(h));
	h.version = 1;
	h.page_size = 4096;
	snprintf(h.source, sizeof(h.source), "test_scrub");
	w = trace_writer_open(path, &h, err, sizeof(err));
	if (!w) {
		printf("# %s\n", err);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (trace_writer_put(w, &recs[i])) {
			printf("# %s\n", trace_writer_error(w));
			trace_writer_abort(w);
			return NULL;
		}
	return trace_writer_close(w, err, sizeof(err)) ? NULL : path;
}

static int run_trace(const char *path, const char *policy, struct run *r, char *err, size_t len)
{
	struct run_opts o = { .model = "scrub", .policy = policy, .trace = path,
			      .profile = "seed-2013-scrub", .seed = 1 };
	int rc = run_prepare(r, &o, err, len);

	return rc ? rc : run_execute(r, err, len);
}

/* An order-40 allocation (2^40 pages, valid in a trace) is refused at its record, before it
 * costs anything: bad input, exit 2, naming the record and the order.  Order 20 runs. */
TEST(an_order_above_max_order_is_refused_at_its_record)
{
	struct trace_rec recs[3] = {
		{ .time_ns = 0, .type = TR_DOMAIN_CREATE, .domain = 1 },
		{ .time_ns = 10, .type = TR_PAGE_ALLOC, .domain = 1, .frame = 0, .arg = 40 },
		{ .time_ns = 20, .type = TR_DOMAIN_DESTROY, .domain = 1 },
	};
	const char *path = write_trace(recs, 3);
	char err[1024] = "";
	struct run r;

	CHECK(path != NULL);
	if (!path)
		return;
	CHECK_EQ_U64(run_trace(path, "deferred", &r, err, sizeof(err)), EXIT_USAGE);
	CHECK(strstr(err, "record 1 (page_alloc") != NULL);
	CHECK(strstr(err, "order 40") != NULL && strstr(err, "largest, 20") != NULL);
	run_free(&r);
	recs[1].arg = SCRUB_MAX_ORDER;
	path = write_trace(recs, 3);
	CHECK(path && run_trace(path, "sync", &r, err, sizeof(err)) == 0);
	CHECK_EQ_U64(metric(&r, "pages_scrubbed"), 1ULL << SCRUB_MAX_ORDER);
	run_free(&r);
}

/* 65 536 domains, each created, given a page and destroyed: each record finds its domain
 * in about one probe. */
TEST(many_domains_cost_a_probe_per_lookup)
{
	const uint32_t n = 65536;
	struct trace_rec *recs = calloc(3 * (size_t)n, sizeof(*recs));
	const char *path;
	char err[1024] = "";
	struct run r;
	double lookups, probes;
	uint32_t i;

	CHECK(recs != NULL);
	if (!recs)
		return;
	for (i = 0; i < n; i++) {
		recs[i] = (struct trace_rec){ .time_ns = 0, .type = TR_DOMAIN_CREATE, .domain = i + 1 };
		recs[n + i] = (struct trace_rec){ .time_ns = 1, .type = TR_PAGE_ALLOC,
						  .domain = i + 1, .frame = 0, .arg = 0 };
		recs[2 * n + i] = (struct trace_rec){ .time_ns = 2, .type = TR_DOMAIN_DESTROY,
						      .domain = i + 1 };
	}
	path = write_trace(recs, 3 * (size_t)n);
	free(recs);
	CHECK(path != NULL);
	if (!path)
		return;
	CHECK(run_trace(path, "sync", &r, err, sizeof(err)) == 0);
	lookups = metric(&r, "domain_lookups");
	probes = metric(&r, "domain_probes");
	CHECK(lookups >= 3.0 * n);
	CHECK(probes < 2 * lookups);
	/* one destroy runs, 256 wait, the rest find the queue full */
	CHECK_EQ_U64(metric(&r, "destroys") + metric(&r, "destroy_queue_full"), n);
	run_free(&r);
}

int main(void)
{
	return test_main();
}
