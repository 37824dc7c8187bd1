/* SPDX-License-Identifier: MIT */
/*
 * analysis/cmd_plot.c — `memsim plot KIND`: pictures from the results database (docs/plots.md).
 *
 *   selection    temp.sel: the run ids of --sweep (id, prefix or "last") matching every --where
 *   query        analysis/plot-KIND.sql over temp.sel, with :metric :x :y :by :series bound
 *   arithmetic   here: means and 95 % confidence intervals (GSL), grids, CDFs, Pareto fronts,
 *                units (ns -> ms, bytes -> MiB) chosen from the metric's name
 *   drawing      a prelude of gnuplot variables + analysis/KIND.gp, run by gnuplot
 *
 * The database is opened read-only; the selection lives in SQLite's temp schema.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <sqlite3.h>

#include "cmds.h"
#include "driver.h"
#include "gnuplot.h"
#include "param.h"
#include "plot.h"
#include "run.h"
#include "store.h"
#include "util.h"
#include "where.h"

#include "plot_impl.h"

/* ---- entry points --------------------------------------------------------------------- */

void plot_opts_init(struct plot_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->logx = o->logy = -1;
}

int plot_draw(struct store *st, const struct plot_opts *o, char *err, size_t errlen)
{
	static const char *const kinds[] = { "line", "heatmap", "cdf", "series", "pareto", NULL };
	sqlite3 *db = store_sqlite(st);
	const char *ext = o->out ? strrchr(o->out, '.') : NULL;
	char sid[17] = "";
	struct plot_info in;
	long n;
	int rc, k;

	for (k = 0; kinds[k] && strcmp(kinds[k], o->kind); k++)
		;
	if (!kinds[k]) {
		seterr(err, errlen, "'%s' is not a kind of plot (line, heatmap, cdf, series, pareto)",
		       o->kind);
		return 2;
	}
	if (!o->out || !ext || (strcmp(ext, ".png") && strcmp(ext, ".svg"))) {
		seterr(err, errlen, "-o %s: give an output file ending in .png or .svg",
		       o->out ? o->out : "(missing)");
		return 2;
	}
	n = plot_select(st, o->sweep, o->where, o->nwhere, o->run, sid, err, errlen);
	if (n < 0)
		return n == -2 ? 2 : 1;
	if (!n) {
		seterr(err, errlen, "no run matches the selection%s%s", o->sweep ? " of sweep " : "",
		       o->sweep ? sid : "");
		return 1;
	}
	if (plot_info_load(db, &in, err, errlen))
		return 1;
	switch (k) {
	case 0: rc = plot_line(db, o, &in, sid, err, errlen); break;
	case 1: rc = plot_heatmap(db, o, &in, sid, err, errlen); break;
	case 2: rc = plot_cdf(db, o, &in, err, errlen); break;
	case 3: rc = plot_series(db, o, &in, err, errlen); break;
	default: rc = plot_pareto(db, o, &in, err, errlen); break;
	}
	plot_info_free(&in);
	return rc;	/* a failed plot left any older picture at o->out as it was */
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: memsim plot KIND [--db FILE] [--sweep ID|last] [--where NAME=VALUE]...\n"
		"                   [--metric M] [--x P] [--y P] [--by P] [--series S] [--run ID]\n"
		"                   [--title T] [--log x|y|xy|none] [--size WxH] [--data FILE]\n"
		"                   [--from TIME] [--to TIME]\n"
		"                   -o OUT.png|OUT.svg\n"
		"\n"
		"kinds:\n"
		"  line     metric --metric against parameter --x, one line per policy (and per value\n"
		"           of --by): mean over repetitions with a 95%% confidence band\n"
		"  heatmap  metric over parameters --x and --y (e.g. heavy x light), a panel per policy\n"
		"  cdf      distribution of --metric across runs, or of the samples of --series\n"
		"  series   time series --series of the selected runs (or --run ID)\n"
		"  pareto   metric --y (latency) against metric --x (memory) per configuration, with\n"
		"           the front of those no other beats on both\n"
		"\n"
		"  --db FILE          results database (default $MEMSIM_DB, else memsim.db)\n"
		"  --sweep ID         runs of one sweep (id, unique prefix, or 'last')\n"
		"  --run ID           one run (id, unique prefix, or 'last'); unknown or ambiguous\n"
		"                     ids exit 2\n"
		"  --where COND       NAME OP VALUE, OP one of = != < <= > >=, over parameters,\n"
		"                     metrics and the run columns model, policy, trace, seed,\n"
		"                     profile_name (repeatable; all must hold; one comparison\n"
		"                     each, no OR).  Numbers compare exactly as numbers (4Ki, 2.5,\n"
		"                     1e6; 10ms for a *_ns name), words and 'quoted text' as text\n"
		"                     with = and != only (docs/sweeps.md)\n"
		"  --log AXES         force logarithmic axes (default: when values span decades)\n"
		"  --data FILE        keep a copy of the data file given to gnuplot\n"
		"  --from, --to TIME  series: only the points in this window of simulated time (ns,\n"
		"                     or 4ms, 300us, 2s).  A run with more than 2 points per pixel\n"
		"                     column keeps the minimum and maximum of each column\n"
		"  -o OUT             the picture; replaced only by a complete one (a failed plot\n"
		"                     exits 1 and keeps an older OUT).  -o and --data follow a\n"
		"                     symlink and refuse a directory, device or FIFO\n"
		"Defaults: the metric is the first varying *_ns metric, x and y the sweep's first list\n"
		"axes.  gnuplot scripts and SQL: %s (docs/plots.md)\n", plot_analysis_dir());
}

int cmd_plot(int argc, char **argv)
{
	enum { O_DB = 256, O_SWEEP, O_WHERE, O_METRIC, O_X, O_Y, O_BY, O_SERIES, O_RUN, O_TITLE,
	       O_LOG, O_SIZE, O_DATA, O_QUIET, O_HELP, O_FROM, O_TO };
	static const struct option opts[] = {
		{ "db", required_argument, NULL, O_DB },
		{ "sweep", required_argument, NULL, O_SWEEP },
		{ "where", required_argument, NULL, O_WHERE },
		{ "metric", required_argument, NULL, O_METRIC },
		{ "x", required_argument, NULL, O_X },
		{ "y", required_argument, NULL, O_Y },
		{ "by", required_argument, NULL, O_BY },
		{ "series", required_argument, NULL, O_SERIES },
		{ "run", required_argument, NULL, O_RUN },
		{ "title", required_argument, NULL, O_TITLE },
		{ "log", required_argument, NULL, O_LOG },
		{ "size", required_argument, NULL, O_SIZE },
		{ "data", required_argument, NULL, O_DATA },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct plot_opts o;
	const char *db = getenv("MEMSIM_DB");
	struct store *st;
	char err[2048];
	int c, rc;

	plot_opts_init(&o);
	if (!db || !*db)
		db = "memsim.db";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case O_DB: db = optarg; break;
		case O_SWEEP: o.sweep = optarg; break;
		case O_METRIC: o.metric = optarg; break;
		case O_X: o.x = optarg; break;
		case O_Y: o.y = optarg; break;
		case O_BY: o.by = optarg; break;
		case O_SERIES: o.series = optarg; break;
		case O_RUN: o.run = optarg; break;
		case O_TITLE: o.title = optarg; break;
		case O_DATA: o.data = optarg; break;
		case O_QUIET: o.quiet = true; break;
		case 'o': o.out = optarg; break;
		case O_FROM:
		case O_TO:
			if (param_parse_value(optarg, PARAM_UNIT_NS, c == O_FROM ? &o.from_ns : &o.to_ns)) {
				fprintf(stderr, "memsim plot: --%s %s: not a time (ns, or a whole "
					"number with a unit: 4ms, 300us, 2s)\n",
					c == O_FROM ? "from" : "to", optarg);
				return EXIT_USAGE;
			}
			*(c == O_FROM ? &o.has_from : &o.has_to) = true;
			break;
		case O_WHERE:
			if (o.nwhere == PLOT_MAX_WHERE) {
				fprintf(stderr, "memsim plot: more than %d --where options\n",
					PLOT_MAX_WHERE);
				return EXIT_USAGE;
			}
			o.where[o.nwhere++] = optarg;
			break;
		case O_LOG:
			if (!strcmp(optarg, "none")) {
				o.logx = o.logy = 0;
			} else if (strspn(optarg, "xy") == strlen(optarg) && *optarg) {
				o.logx = strchr(optarg, 'x') ? 1 : 0;
				o.logy = strchr(optarg, 'y') ? 1 : 0;
			} else {
				fprintf(stderr, "memsim plot: --log %s: one of x, y, xy, none\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_SIZE:
			if (sscanf(optarg, "%ux%u", &o.width, &o.height) != 2 || o.width < 100 ||
			    o.height < 100 || o.width > 10000 || o.height > 10000) {
				fprintf(stderr, "memsim plot: --size %s: expected WxH in pixels, e.g. "
					"900x560\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "memsim plot: %s: unknown option or missing value (see memsim "
				"plot --help)\n", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "memsim plot: which plot? line, heatmap, cdf, series or pareto "
			"(see memsim plot --help)\n");
		return EXIT_USAGE;
	}
	o.kind = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "memsim plot: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!o.out) {
		fprintf(stderr, "memsim plot: -o OUT.png or -o OUT.svg is required\n");
		return EXIT_USAGE;
	}
	st = store_open_readonly(db, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "memsim plot: %s\n", err);
		return EXIT_USAGE;
	}
	rc = plot_draw(st, &o, err, sizeof(err));
	store_close(st);
	if (rc) {
		fprintf(stderr, "memsim plot: %s\n", err);
		return rc;
	}
	if (!o.quiet)
		fprintf(stderr, "memsim plot: wrote %s\n", o.out);
	return EXIT_OK;
}
