/* SPDX-License-Identifier: MIT */
/*
 * sim/drv_null.c — the `null` model: consumes every record and does nothing else.
 *
 * It measures what the engine and the trace reader cost on their own (the replay benchmark's
 * "no-op model"), and `memsim run --model null` is the quickest way to check that a trace
 * replays end to end.  It reports the number of records of each type.
 */
#include <stdio.h>
#include <stdlib.h>

#include "driver.h"

struct null_drv {
	uint64_t by_type[TR__MAX_TYPE + 1];
};

static int null_record(struct sim *s, void *ctx, const struct trace_rec *r)
{
	struct null_drv *d = ctx;

	(void)s;
	d->by_type[r->type <= TR__MAX_TYPE ? r->type : 0]++;
	return 0;
}

static int null_event(struct sim *s, void *ctx, const struct sim_event *ev)
{
	(void)ctx;
	(void)ev;
	snprintf(s->err, sizeof(s->err), "null model: it schedules no events");
	return -1;
}

static const struct sim_handlers null_handlers = { null_record, null_event };

static void null_add_params(struct param_set *ps) { (void)ps; }

static void *null_create(struct sim *s, const char *policy, const struct param_set *ps,
			 const struct cost_profile *prof, char *err, size_t errlen)
{
	struct null_drv *d = calloc(1, sizeof(*d));

	(void)s, (void)policy, (void)ps, (void)prof;
	if (!d)
		snprintf(err, errlen, "out of memory");
	return d;
}

static void null_report(void *ctx, struct sim *s, struct metrics *mx)
{
	struct null_drv *d = ctx;
	char name[64];
	unsigned t;

	(void)s;
	for (t = 1; t <= TR__MAX_TYPE; t++) {
		if (!d->by_type[t])
			continue;
		snprintf(name, sizeof(name), "records_%s", trace_type_name(t));
		metrics_set(mx, name, (double)d->by_type[t]);
	}
}

static void null_destroy(void *ctx) { free(ctx); }

static const char *const null_policies[] = { "noop", NULL };
static const char *const null_policy_docs[] = { "count records, nothing else", NULL };

static const struct metric_def null_metric_defs[] = {
	{ "records_*", "count", "trace records of one type (e.g. records_share), only types that "
	  "occur", NULL, false },
	METRIC_DEF_END,
};

const struct model_driver null_driver = {
	.name = "null",
	.doc = "consumes records and does nothing (replay throughput, trace checks)",
	.policies = null_policies,
	.policy_docs = null_policy_docs,
	.add_params = null_add_params,
	.create = null_create,
	.handlers = &null_handlers,
	.report = null_report,
	.destroy = null_destroy,
	.metrics = null_metric_defs,
};
