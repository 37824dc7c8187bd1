/* SPDX-License-Identifier: MIT */
/*
 * sim/cmd_metrics.c — `memsim metrics [MODEL]`: what each metric of a model's runs means.
 * The tables themselves are the drivers' (sim/drv_*.c) and sim/metric_defs.c.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "driver.h"
#include "metric_defs.h"
#include "util.h"

static const char metrics_usage[] =
	"usage: memsim metrics [MODEL] [--json | --markdown]\n"
	"\n"
	"Lists the metrics a run of MODEL reports (all models without MODEL): name, unit and\n"
	"meaning, the metrics of every run first.  A name ending in '*' stands for a family of\n"
	"names (work_* is work_refcount, work_list_hop, ...).  Time series (series table) are\n"
	"marked \"series\"; a metric reported only under a condition says when.\n"
	"\n"
	"  --json       one JSON array of {model, name, unit, kind, doc, when}\n"
	"  --markdown   the Markdown table of docs/models/MODEL.md (MODEL required)\n"
	"\n"
	"Examples:\n"
	"  memsim metrics scrub\n"
	"  memsim metrics --json | python3 -m json.tool\n"
	"\n"
	"Exit status: 0 ok, 2 bad usage or an unknown model.\n";

enum fmt { FMT_TEXT, FMT_JSON, FMT_MARKDOWN };

/* Calls fn for each entry of a model's runs: the common ones, then the family's. */
static void each_def(const struct model_driver *d,
		     void (*fn)(const struct model_driver *, const struct metric_def *, void *),
		     void *arg)
{
	const struct metric_def *m;

	for (m = metric_defs_common; m->name; m++)
		fn(d, m, arg);
	for (m = d->metrics; m && m->name; m++)
		fn(d, m, arg);
}

static void text_one(const struct model_driver *d, const struct metric_def *m, void *arg)
{
	FILE *out = arg;

	(void)d;
	fprintf(out, "  %-32s %-7s %s%s%s%s\n", m->name, m->unit, m->series ? "(series) " : "",
		m->doc, m->when ? "; only when " : "", m->when ? m->when : "");
}

static void json_one(const struct model_driver *d, const struct metric_def *m, void *arg)
{
	int *first = arg;

	printf("%s{\"model\":", *first ? "" : ",\n");
	*first = 0;
	json_write_string(stdout, d->name);
	printf(",\"name\":");
	json_write_string(stdout, m->name);
	printf(",\"unit\":");
	json_write_string(stdout, m->unit);
	printf(",\"kind\":\"%s\",\"doc\":", m->series ? "series" : "scalar");
	json_write_string(stdout, m->doc);
	printf(",\"when\":");
	if (m->when)
		json_write_string(stdout, m->when);
	else
		printf("null");
	printf("}");
}

/* A table cell: '|' would end it, a pair of '*' would turn into emphasis. */
static void md_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|' || *s == '*')
			fputc('\\', out);
		fputc(*s, out);
	}
}

static void md_one(const struct model_driver *d, const struct metric_def *m, void *arg)
{
	FILE *out = arg;

	(void)d;
	fprintf(out, "| `%s`%s | %s | ", m->name, m->series ? " (series)" : "", m->unit);
	md_cell(out, m->doc);
	if (m->when) {
		fprintf(out, "; only when ");
		md_cell(out, m->when);
	}
	fprintf(out, " |\n");
}

/* The generated section of docs/models/MODEL.md, markers included (tests/cli/metrics.sh). */
static void print_markdown(const struct model_driver *d)
{
	printf("<!-- metrics-table:begin (generated: memsim metrics --markdown %s) -->\n", d->name);
	printf("| metric | unit | meaning |\n| --- | --- | --- |\n");
	each_def(d, md_one, stdout);
	printf("<!-- metrics-table:end -->\n");
}

int cmd_metrics(int argc, char **argv)
{
	const struct model_driver *only = NULL;
	enum fmt fmt = FMT_TEXT;
	int i, first = 1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(metrics_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			fmt = FMT_JSON;
		} else if (!strcmp(argv[i], "--markdown")) {
			fmt = FMT_MARKDOWN;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "memsim metrics: %s: unknown option (see memsim metrics --help)\n",
				argv[i]);
			return 2;
		} else if (only) {
			fprintf(stderr, "memsim metrics: %s: one MODEL at most\n", argv[i]);
			return 2;
		} else if (!(only = driver_find(argv[i]))) {
			size_t k;

			fprintf(stderr, "memsim metrics: %s: unknown model; known:", argv[i]);
			for (k = 0; model_drivers[k]; k++)
				fprintf(stderr, " %s", model_drivers[k]->name);
			fputc('\n', stderr);
			return 2;
		}
	}
	if (fmt == FMT_MARKDOWN) {
		if (!only) {
			fprintf(stderr, "memsim metrics: --markdown needs a MODEL\n");
			return 2;
		}
		print_markdown(only);
		return 0;
	}
	if (fmt == FMT_JSON)
		printf("[");
	for (i = 0; model_drivers[i]; i++) {
		const struct model_driver *d = model_drivers[i];

		if (only && d != only)
			continue;
		if (fmt == FMT_JSON) {
			each_def(d, json_one, &first);
			continue;
		}
		printf("%s%s: %s\n", i && !only ? "\n" : "", d->name, d->doc);
		printf("  %-32s %-7s %s\n", "METRIC", "UNIT", "MEANING");
		each_def(d, text_one, stdout);
	}
	if (fmt == FMT_JSON)
		printf("]\n");
	return 0;
}
