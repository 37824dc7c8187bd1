/* SPDX-License-Identifier: MIT */
/*
 * sim/cmd_trace.c — `memsim trace`: look into, check and generate v1 trace files.
 *
 *   memsim trace info FILE                  header, counts per type, time span, domains
 *   memsim trace validate FILE...           read everything; "FILE: ok, N records"
 *   memsim trace dump FILE [--limit N] [--type T]...
 *   memsim trace gen SCENARIO [--set K=V]... [--seed N] -o FILE
 *   memsim trace gen --list
 *   memsim trace record ...                 (sim/cmd_record.c)
 *
 * FILE may be "-" for standard input (gen: -o - writes standard output).  Exit status: 0
 * ok, 1 failure (I/O), 2 bad usage or invalid input (including a malformed trace).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmds.h"
#include "outfile.h"
#include "param.h"
#include "scenarios.h"
#include "suggest.h"
#include "trace.h"
#include "util.h"

static const char trace_usage[] =
	"usage: memsim trace COMMAND [OPTIONS]   (memsim trace COMMAND --help for each)\n"
	"  info FILE                    header, record counts per type, time span, domains\n"
	"  validate FILE...             read and check every byte; \"FILE: ok, N records\"\n"
	"  dump FILE [--limit N] [--type T]\n"
	"                               one line per record\n"
	"  gen SCENARIO [--set K=V]... [--seed N] -o FILE\n"
	"                               write a synthetic scenario as a trace file\n"
	"  gen --list                   the scenarios, their parameters and defaults\n"
	"  record ...                   record guest memory traces in QEMU (record --help)\n"
	"FILE may be - (standard input).  The format: docs/trace-format.md.\n"
	"Exit status: 0 ok, 1 failure, 2 bad usage or invalid input.\n";

static const struct option help_only[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Parses a plain or suffixed non-negative integer option; 0, or -1 with a message. */
static int opt_u64(const char *opt, const char *s, uint64_t *v)
{
	if (param_parse_u64(s, v)) {
		fprintf(stderr, "memsim: %s %s: not a non-negative integer\n", opt, s);
		return -1;
	}
	return 0;
}

/* Handles --help / unknown options for commands that take only FILE arguments. */
static int files_only(int argc, char **argv, const char *usage, int min, int max)
{
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", help_only, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		fputs(usage, stderr);
		return 2;
	}
	if (argc - optind < min || argc - optind > max) {
		fputs(usage, stderr);
		return 2;
	}
	return -1;   /* go on */
}

static void print_str(const char *label, const char *s)
{
	printf("%-12s %s\n", label, *s ? s : "-");
}

/* "1.234567 s", "12.5 ms", ...: a readable form of a span of nanoseconds. */
static void fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns >= 1000000000ULL)
		snprintf(buf, len, "%.6g s", (double)ns / 1e9);
	else if (ns >= 1000000ULL)
		snprintf(buf, len, "%.6g ms", (double)ns / 1e6);
	else if (ns >= 1000ULL)
		snprintf(buf, len, "%.6g us", (double)ns / 1e3);
	else
		snprintf(buf, len, "%" PRIu64 " ns", ns);
}

/* ---- info -------------------------------------------------------------------------------- */
static const char info_usage[] =
	"usage: memsim trace info FILE [--json]\n"
	"Reads the whole trace and prints its header (provenance), digest, record count, time\n"
	"span, domains and vCPUs seen, and the number of records of each type.  --json prints\n"
	"one JSON object instead (numbers as numbers; domains listed up to 16).\n"
	"example: memsim trace info boot.mst --json\n";

#define INFO_LIST_DOMAINS 16

static int trace_info(int argc, char **argv)
{
	const char *path;
	char err[512], span[64];
	struct rec_source *src;
	struct trace_rec r;
	uint64_t per_type[TR__MAX_TYPE + 1] = { 0 }, n = 0, t0 = 0, t1 = 0, digest = 0;
	uint64_t ndom = 0;
	uint32_t max_vcpu = 0, dom_list[INFO_LIST_DOMAINS];
	uint8_t *seen;
	struct stat st;
	bool json = false;
	int ret, i;

	{	/* --json anywhere; the rest is FILE and --help */
		int k, m = 0;

		for (k = 0; k < argc; k++)
			if (k && !strcmp(argv[k], "--json"))
				json = true;
			else
				argv[m++] = argv[k];
		argc = m;
	}
	if ((ret = files_only(argc, argv, info_usage, 1, 1)) >= 0)
		return ret;
	path = argv[optind];
	src = trace_open(path, err, sizeof(err));
	if (!src) {
		fprintf(stderr, "memsim: %s\n", err);
		return 2;
	}
	seen = calloc(TRACE_MAX_DOMAINS / 8, 1);
	if (!seen) {
		fprintf(stderr, "memsim: out of memory\n");
		rec_source_close(src);
		return 1;
	}
	while ((ret = rec_source_next(src, &r)) == 1) {
		if (!n)
			t0 = r.time_ns;
		t1 = r.time_ns;
		n++;
		per_type[r.type]++;
		if (!(seen[r.domain / 8] & (1u << (r.domain % 8)))) {
			seen[r.domain / 8] |= (uint8_t)(1u << (r.domain % 8));
			if (ndom < INFO_LIST_DOMAINS)
				dom_list[ndom] = r.domain;
			ndom++;
		}
		if (r.vcpu > max_vcpu)
			max_vcpu = r.vcpu;
	}
	free(seen);
	if (ret < 0) {
		fprintf(stderr, "memsim: %s\n", src->err);
		rec_source_close(src);
		return 2;
	}

	if (json) {
		const char *const hk[] = { "source", "kernel", "workload", "recorder", "qemu", "date",
					   "params" };
		const char *const hv[] = { src->hdr.source, src->hdr.kernel, src->hdr.workload,
					   src->hdr.recorder, src->hdr.qemu, src->hdr.date,
					   src->hdr.params };
		unsigned k;

		fputs("{\"file\":", stdout);
		json_write_string(stdout, path);
		if (strcmp(path, "-") && !stat(path, &st))
			printf(",\"size_bytes\":%lld", (long long)st.st_size);
		if (strcmp(path, "-") && !trace_file_digest(path, &digest, err, sizeof(err)))
			printf(",\"digest\":\"%016" PRIx64 "\"", digest);
		printf(",\"version\":%" PRIu32 ",\"page_size\":%" PRIu32, src->hdr.version,
		       src->hdr.page_size);
		for (k = 0; k < sizeof(hk) / sizeof(hk[0]); k++) {
			printf(",\"%s\":", hk[k]);
			json_write_string(stdout, hv[k]);
		}
		printf(",\"records\":%" PRIu64 ",\"header_record_count\":%" PRIu64, n,
		       (uint64_t)src->hdr.record_count);
		if (n)
			printf(",\"t_first_ns\":%" PRIu64 ",\"t_last_ns\":%" PRIu64, t0, t1);
		printf(",\"domains\":%" PRIu64 ",\"domain_list\":[", ndom);
		for (i = 0; i < (int)ndom && i < INFO_LIST_DOMAINS; i++)
			printf("%s%" PRIu32, i ? "," : "", dom_list[i]);
		printf("],\"max_vcpu\":%" PRIu32 ",\"records_by_type\":{", max_vcpu);
		for (i = 1, k = 0; i <= TR__MAX_TYPE; i++)
			if (per_type[i])
				printf("%s\"%s\":%" PRIu64, k++ ? "," : "",
				       trace_type_name((unsigned)i), per_type[i]);
		printf("}}\n");
		rec_source_close(src);
		return 0;
	}
	printf("%-12s %s\n", "file", path);
	if (strcmp(path, "-") && !stat(path, &st))
		printf("%-12s %lld bytes\n", "size", (long long)st.st_size);
	if (strcmp(path, "-") && !trace_file_digest(path, &digest, err, sizeof(err)))
		printf("%-12s %016" PRIx64 "\n", "digest", digest);
	printf("%-12s %" PRIu32 "\n", "version", src->hdr.version);
	printf("%-12s %" PRIu32 "\n", "page size", src->hdr.page_size);
	print_str("source", src->hdr.source);
	print_str("kernel", src->hdr.kernel);
	print_str("workload", src->hdr.workload);
	print_str("recorder", src->hdr.recorder);
	print_str("qemu", src->hdr.qemu);
	print_str("date", src->hdr.date);
	print_str("params", src->hdr.params);
	if (src->hdr.record_count)
		printf("%-12s %" PRIu64 "\n", "records", n);
	else
		printf("%-12s %" PRIu64 " (the header's count is 0: unknown, the writer streamed "
		       "to a pipe or did not finish; counted by reading)\n", "records", n);
	if (n) {
		fmt_ns(t1 - t0, span, sizeof(span));
		printf("%-12s %" PRIu64 " .. %" PRIu64 " ns (%s)\n", "time span", t0, t1, span);
		printf("%-12s %" PRIu64 ":", "domains", ndom);
		for (i = 0; i < (int)ndom && i < INFO_LIST_DOMAINS; i++)
			printf(" %" PRIu32, dom_list[i]);
		printf("%s\n", ndom > INFO_LIST_DOMAINS ? " ..." : "");
		printf("%-12s highest vcpu %" PRIu32 "\n", "vcpus", max_vcpu);
		printf("records by type:\n");
		for (i = 1; i <= TR__MAX_TYPE; i++)
			if (per_type[i])
				printf("  %-16s %" PRIu64 "\n", trace_type_name((unsigned)i), per_type[i]);
	}
	rec_source_close(src);
	return 0;
}

/* ---- validate ---------------------------------------------------------------------------- */
static const char validate_usage[] =
	"usage: memsim trace validate FILE...\n"
	"Reads each trace to its end, checking every header field, chunk CRC and record.\n"
	"Prints \"FILE: ok, N records\" or the defect as \"FILE: offset N: what is wrong\".\n"
	"Exit status: 0 if all are valid, 2 if any is not.\n";

static int trace_validate(int argc, char **argv)
{
	int ret, status = 0;

	if ((ret = files_only(argc, argv, validate_usage, 1, INT32_MAX)) >= 0)
		return ret;
	for (; optind < argc; optind++) {
		const char *path = argv[optind];
		char err[512];
		struct rec_source *src = trace_open(path, err, sizeof(err));
		struct trace_rec r;
		uint64_t n = 0;

		if (!src) {
			fprintf(stderr, "memsim: %s\n", err);
			status = 2;
			continue;
		}
		while ((ret = rec_source_next(src, &r)) == 1)
			n++;
		if (ret < 0) {
			fprintf(stderr, "memsim: %s\n", src->err);
			status = 2;
		} else {
			printf("%s: ok, %" PRIu64 " records\n", strcmp(path, "-") ? path : "<stdin>", n);
		}
		rec_source_close(src);
	}
	return status;
}

/* ---- dump -------------------------------------------------------------------------------- */
static const char dump_usage[] =
	"usage: memsim trace dump FILE [--limit N] [--type T]...\n"
	"One line per record: TIME_NS TYPE dom=D vcpu=V frame=0xF arg=A.\n"
	"  --limit N   stop after N records printed\n"
	"  --type T    only records of type T (a name such as page_alloc, or a number);\n"
	"              repeatable\n";

static int trace_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	bool want[TR__MAX_TYPE + 1] = { false }, filter = false;
	uint64_t limit = UINT64_MAX, shown = 0, v;
	struct rec_source *src;
	struct trace_rec r;
	char err[512];
	int c, ret, t;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hn:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(dump_usage, stdout);
			return 0;
		case 'n':
			if (opt_u64("--limit", optarg, &limit))
				return 2;
			break;
		case 't':
			t = trace_type_from_name(optarg);
			if (t < 0 && !param_parse_u64(optarg, &v) && v <= TR__MAX_TYPE &&
			    trace_type_name((unsigned)v))
				t = (int)v;
			if (t < 0) {
				fprintf(stderr, "memsim: --type %s: not a record type (", optarg);
				for (t = 1; t <= TR__MAX_TYPE; t++)
					fprintf(stderr, "%s%s", t > 1 ? " " : "", trace_type_name((unsigned)t));
				fprintf(stderr, ")\n");
				return 2;
			}
			want[t] = true;
			filter = true;
			break;
		default:
			fputs(dump_usage, stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		fputs(dump_usage, stderr);
		return 2;
	}
	src = trace_open(argv[optind], err, sizeof(err));
	if (!src) {
		fprintf(stderr, "memsim: %s\n", err);
		return 2;
	}
	ret = 0;
	while (shown < limit && (ret = rec_source_next(src, &r)) == 1) {
		const char *argfmt;

		if (filter && !want[r.type])
			continue;
		/* digests and shared frame numbers read better in hex */
		argfmt = r.type == TR_PAGE_DIGEST || r.type == TR_SHARE ? "0x%" PRIx64 : "%" PRIu64;
		printf("%" PRIu64 " %s dom=%" PRIu32 " vcpu=%" PRIu32 " frame=0x%" PRIx64 " arg=",
		       r.time_ns, trace_type_name(r.type), r.domain, r.vcpu, r.frame);
		printf(argfmt, r.arg);
		putchar('\n');
		shown++;
	}
	if (fflush(stdout)) {
		fprintf(stderr, "memsim: standard output: %s\n", strerror(errno));
		rec_source_close(src);
		return 1;
	}
	if (ret < 0) {
		fprintf(stderr, "memsim: %s\n", src->err);
		rec_source_close(src);
		return 2;
	}
	rec_source_close(src);
	return 0;
}

/* ---- gen --------------------------------------------------------------------------------- */
static const char gen_usage[] =
	"usage: memsim trace gen SCENARIO [--set NAME=VALUE]... [--seed N] -o FILE\n"
	"       memsim trace gen --list\n"
	"Runs a synthetic scenario and writes its records as a v1 trace.  The file appears\n"
	"under its name only when complete (written as FILE.part-PID-N, then renamed).\n"
	"  --set NAME=VALUE  a scenario parameter (each once; suffixes k M G Ki Mi Gi Ti,\n"
	"                    and ns us ms s for a time: NAME ending in _ns or _ms)\n"
	"  --seed N          seed of the scenario's random stream (default 1)\n"
	"  -o, --output FILE the trace to write (- for standard output); a symlink is\n"
	"                    followed (the file it names is replaced); a directory, device\n"
	"                    or FIFO is refused\n"
	"  --list            list the scenarios with their parameters\n"
	"The same scenario, parameters and seed give a byte-identical file.\n";

static void gen_list(void)
{
	const struct scenario *const *s;

	for (s = scenario_list(); *s; s++) {
		size_t i, n = scenario_nparams(*s);

		printf("%s\n    %s\n", (*s)->name, (*s)->doc);
		for (i = 0; i < n; i++) {
			const struct scenario_param *p = &(*s)->params[i];

			printf("    %-14s default %-12" PRIu64 " [%" PRIu64 "..%" PRIu64 "]  %s\n",
			       p->name, p->def, p->min, p->max, p->doc);
		}
	}
}

static void known_scenarios(FILE *out)
{
	const struct scenario *const *s;

	for (s = scenario_list(); *s; s++)
		fprintf(out, " %s", (*s)->name);
}

static int trace_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "set", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "output", required_argument, NULL, 'o' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char **sets = calloc((size_t)argc + 1, sizeof(*sets));
	const char *out = NULL;
	const struct scenario *sc;
	struct param_set *ps = NULL;
	struct param_def defs[SCENARIO_MAX_PARAMS];
	uint64_t seed = 1, values[SCENARIO_MAX_PARAMS], n = 0;
	struct rec_source *src = NULL;
	struct trace_writer *w = NULL;
	struct trace_rec r;
	size_t i, np, nsets = 0;
	char err[512];
	int c, ret, status = 2;

	if (!sets) {
		fprintf(stderr, "memsim: out of memory\n");
		return 1;
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(gen_usage, stdout);
			status = 0;
			goto out;
		case 'l':
			gen_list();
			status = 0;
			goto out;
		case 's':
			sets[nsets++] = optarg;
			break;
		case 'S':
			if (opt_u64("--seed", optarg, &seed))
				goto out;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			fputs(gen_usage, stderr);
			goto out;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "memsim: trace gen: %s\n", argc - optind ? "one SCENARIO expected"
			: "which scenario? (memsim trace gen --list)");
		goto out;
	}
	sc = scenario_find(argv[optind]);
	if (!sc) {
		fprintf(stderr, "memsim: trace gen: unknown scenario '%s' (known:", argv[optind]);
		known_scenarios(stderr);
		fprintf(stderr, ")\n");
		goto out;
	}
	if (!out) {
		fprintf(stderr, "memsim: trace gen: -o FILE is required\n");
		goto out;
	}
	if (strcmp(out, "-")) {
		char real[PATH_MAX];

		/* a device, FIFO or directory is refused before anything is generated */
		if (out_resolve(out, real, sizeof(real), err, sizeof(err))) {
			fprintf(stderr, "memsim: trace gen: -o %s\n", err);
			goto out;
		}
	}
	np = scenario_nparams(sc);
	ps = malloc(sizeof(*ps));
	if (!ps || np > SCENARIO_MAX_PARAMS || np > PARAM_SET_MAX) {
		fprintf(stderr, "memsim: trace gen: %s\n", ps ? "scenario has too many parameters"
			: "out of memory");
		status = 1;
		goto out;
	}
	param_set_init(ps);
	for (i = 0; i < np; i++)
		defs[i] = (struct param_def){
			.name = sc->params[i].name, .kind = PARAM_INT, .def = sc->params[i].def,
			.min = sc->params[i].min, .max = sc->params[i].max, .doc = sc->params[i].doc,
		};
	param_set_add(ps, "scenario", defs, np);
	for (i = 0; i < nsets; i++) {
		if (param_set_assign(ps, sets[i], err, sizeof(err))) {
			fprintf(stderr, "memsim: %s\n", err);
			goto out;
		}
	}
	for (i = 0; i < np; i++)
		values[i] = ps->values[i];

	src = scenario_open(sc, values, seed, err, sizeof(err));
	if (!src) {
		fprintf(stderr, "memsim: %s\n", err);
		goto out;
	}
	w = trace_writer_open(out, &src->hdr, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "memsim: %s\n", err);
		status = 1;
		goto out;
	}
	while ((ret = rec_source_next(src, &r)) == 1) {
		if (trace_writer_put(w, &r)) {
			fprintf(stderr, "memsim: scenario %s: %s\n", sc->name, trace_writer_error(w));
			status = 1;
			goto out;
		}
		n++;
	}
	if (ret < 0) {
		fprintf(stderr, "memsim: scenario %s: %s\n", sc->name, src->err);
		status = 1;
		goto out;
	}
	ret = trace_writer_close(w, err, sizeof(err));
	w = NULL;
	if (ret) {
		fprintf(stderr, "memsim: %s\n", err);
		status = 1;
		goto out;
	}
	fprintf(strcmp(out, "-") ? stdout : stderr, "%s: %" PRIu64 " records (%s %s)\n",
		strcmp(out, "-") ? out : "<stdout>", n, sc->name, src->hdr.params);
	status = 0;
out:
	if (w)
		trace_writer_abort(w);
	rec_source_close(src);
	free(ps);
	free(sets);
	return status;
}

/* ---- dispatch ---------------------------------------------------------------------------- */
int cmd_trace(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} subs[] = {
		{ "info", trace_info },
		{ "validate", trace_validate },
		{ "dump", trace_dump },
		{ "gen", trace_gen },
		{ "record", cmd_trace_record },   /* sim/cmd_record.c */
	};
	const char *near;
	size_t i;

	if (argc < 2) {
		fputs(trace_usage, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(trace_usage, stdout);
		return 0;
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	near = suggest_closest_in(argv[1], subs, sizeof(subs) / sizeof(subs[0]), sizeof(subs[0]));
	fprintf(stderr, "memsim: trace: '%s' is not a sub-command%s%s%s (see memsim trace --help)\n",
		argv[1], near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	return 2;
}
