/* SPDX-License-Identifier: MIT */
/* sim/main.c — `memsim` command dispatcher. */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "suggest.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *doc;
} commands[] = {
	{ "run", cmd_run, "replay a trace or scenario through a model policy" },
	{ "trace", cmd_trace, "trace files: info, validate, dump, gen, record" },
	{ "db", cmd_db, "results database: ls, show, export, merge" },
	{ "sweep", cmd_sweep, "run a grid of parameters, resumable, on worker processes" },
	{ "plot", cmd_plot, "plots from the results database (gnuplot): line, heatmap, cdf, ..." },
	{ "compare", cmd_compare, "metric by metric, two runs or two sweeps: baseline, new, delta, %" },
	{ "report", cmd_report, "one HTML page for a sweep: configuration, provenance, plots" },
	{ "calibrate", cmd_calibrate, "fit a cost profile to the models measured in the kernel module" },
	{ "metrics", cmd_metrics, "what each metric of a model's runs means: name, unit, meaning" },
	{ "validate", cmd_validate, "predicted against measured: a cost profile and the simulator" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: memsim COMMAND [options]   (memsim COMMAND --help for each)\n\n"
		"memsim %s: a deterministic discrete-event simulator of hypervisor memory-management\n"
		"policies.\n\ncommands:\n", MEMSIM_VERSION);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].doc);
	fprintf(out, "  %-10s %s\n", "version", "print the version");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("memsim %s (%s)\n", MEMSIM_VERSION, MEMSIM_GIT_REV);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	{
		const char *near = suggest_closest_in(argv[1], commands,
						      sizeof(commands) / sizeof(commands[0]),
						      sizeof(commands[0]));
		if (near)
			fprintf(stderr, "memsim: '%s' is not a command; did you mean '%s'? "
				"(see memsim --help)\n", argv[1], near);
		else
			fprintf(stderr, "memsim: '%s' is not a command (see memsim --help)\n", argv[1]);
	}
	return 2;
}
