/* SPDX-License-Identifier: MIT */
/*
 * sim/cmd_calibrate.c — `memsim calibrate` and `memsim validate` (docs/validation.md).
 *
 * Both measure the models in the kernel module through the harness, memsim-hw:
 *
 *   --qemu    writes a guest plan (one memsim-hw command per request), boots the validation
 *             guest once with hw-validate's runner (`make -C HW run-qemu`: under TCG with
 *             -icount, so a batch's TSC count is the instructions it executed), and reads
 *             the files the guest sent back;
 *   --native  runs memsim-hw on this machine, one process per request (root, memsim.ko
 *             loaded);
 *   --from D  reads the outputs a previous run kept (--keep D): refit or revalidate
 *             without measuring again.
 *
 * Outputs are named r001.txt, r002.txt, ... in request order.
 *
 * calibrate fits ns per work unit (sim/calibrate.c) and writes a cost profile; validate
 * prices reference scenarios (one domain whose n gfns share one frame, destroyed) with a
 * profile two ways — the module's own work-unit counts x the profile, and a simulator run of
 * the same scenario — and compares both with the measurement.  It also checks, unit by unit,
 * that the simulator counted the same work as the module.
 *
 * With --db both store what they did (tables calibrations, calibration_units,
 * calibration_batches, validations, validation_rows: docs/schema.md); validate also stores
 * its simulator runs as ordinary runs.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "calibrate.h"
#include "cmds.h"
#include "gnuplot.h"
#include "hash.h"
#include "plot.h"
#include "profile.h"
#include "run.h"
#include "store.h"
#include "util.h"
#include "vfamily.h"

/* Paths and messages are composed into fixed buffers; a path near PATH_MAX may cut a
 * message short, which is acceptable for a message (file names are checked on use). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

/* 2 MiB superpages per GiB: the fork-storm scenario sizes its region in GiB */
#define SCEN_SP_PER_GB 512u

#define DEFAULT_EVENTS "cycles,instructions,task-clock"
#define DEFAULT_TIMEOUT_S 1800

enum hw_mode { HW_QEMU, HW_NATIVE, HW_FROM };

struct hw_opts {
	enum hw_mode mode;
	const char *hw_dir;       /* hw-validate/ */
	const char *hw_build;     /* its build directory (B=) */
	const char *harness;      /* --native: memsim-hw */
	const char *events;
	const char *from;         /* --from DIR */
	const char *keep;         /* --keep DIR */
	unsigned timeout_s;
	const char *measure;      /* NULL: tsc under QEMU, ns natively */
	bool quiet;
};

/* What the measurement rested on, for the profile's meta lines and the tables. */
struct hw_result {
	char dir[PATH_MAX];       /* where the r*.txt are */
	bool icount;              /* measured in the -icount guest */
	bool tmpdir;              /* dir is ours to remove */
	char run_info[256];
};

static const char *prog = "memsim";

/* ---- small helpers ---------------------------------------------------------------------- */

static char *read_file(const char *path, char *err, size_t errlen)
{
	size_t len;
	int e;
	/* read once, a regular file of at most 64 MiB: a FIFO or a device is refused at once */
	char *buf = read_input_file(path, 64u << 20, &len, &e, err, errlen);

	if (!buf)
		return NULL;
	if (strlen(buf) != len) {
		free(buf);
		snprintf(err, errlen, "%s: contains a NUL byte: not a text file", path);
		return NULL;
	}
	return buf;
}

static bool is_dir(const char *p)
{
	struct stat sb;

	return !stat(p, &sb) && S_ISDIR(sb.st_mode);
}

static bool is_exec(const char *p)
{
	return !access(p, X_OK) && !is_dir(p);
}

/* hw-validate/: --hw, $MEMSIM_HW, beside the executable (BUILD/memsim), or ./hw-validate. */
static const char *find_hw_dir(const char *given)
{
	static char dir[PATH_MAX];
	static const char *const rel[] = { "../hw-validate", "../../hw-validate",
					   "../share/memsim/hw-validate" };
	const char *e = getenv("MEMSIM_HW");
	char exe[PATH_MAX - 64], *slash, probe[PATH_MAX];
	ssize_t n;
	size_t i;

	if (given)
		return given;
	if (e && *e)
		return e;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
				snprintf(dir, sizeof(dir), "%s/%s", exe, rel[i]);
				snprintf(probe, sizeof(probe), "%s/qemu/run.sh", dir);
				if (!access(probe, R_OK)) {
					char canon[PATH_MAX];

					if (realpath(dir, canon) && strlen(canon) < sizeof(dir))
						strcpy(dir, canon);
					return dir;
				}
			}
		}
	}
	return "hw-validate";
}

/* Runs argv with stdout and stderr to log (appended); the exit status, or -1. */
static int run_logged(char *const *argv, const char *log)
{
	pid_t pid;
	int status, fd;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs argv with stdout to out and stderr to errf (both truncated); the exit status or -1. */
static int run_to(char *const *argv, const char *out, const char *errf)
{
	pid_t pid;
	int status, fd;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			dup2(fd, 1);
		fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		execv(argv[0], argv);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The last non-empty line of a file (for error messages), or "". */
static void last_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[512];

	buf[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0])
			snprintf(buf, len, "%s", line);
	}
	if (f)
		fclose(f);
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (is_dir(p))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/* ISO 8601 UTC date: $SOURCE_DATE_EPOCH (reproducible outputs) or now. */
static void iso_date(char *buf, size_t len)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t t = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void host_cpu(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			c++;
			while (*c == ' ' || *c == '\t')
				c++;
			c[strcspn(c, "\n")] = 0;
			snprintf(buf, len, "%s", c);
			break;
		}
	}
	if (f)
		fclose(f);
}

/* Replaces characters a profile meta value or a one-line field cannot hold. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if (*s == '#' || *s == '\n' || *s == '\r')
			*s = ' ';
}

static bool shell_safe(const char *s)
{
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("_:.,=+-/", *s)))
			return false;
	return true;
}

/* ---- measuring --------------------------------------------------------------------------- */

static void out_name(char *buf, size_t len, const char *dir, size_t i, const char *ext)
{
	snprintf(buf, len, "%s/r%03zu.%s", dir, i + 1, ext);
}

static int write_guest_plan(const char *path, const struct calib_req *reqs, size_t n,
			    const char *events)
{
	FILE *f = fopen(path, "w");
	size_t i;
	unsigned j;

	if (!f)
		return -1;
	fprintf(f, "# written by memsim: one memsim-hw request per line, outputs r001.txt...\n"
		"rc=0\n"
		"r() { o=$1; shift\n"
		"  memsim-hw \"$@\" > $o.txt 2> $o.err || { echo \"FAIL ($?): $*\"; rc=1; }\n"
		"  [ -s $o.err ] || rm -f $o.err\n"
		"}\n");
	for (i = 0; i < n; i++) {
		fprintf(f, "r r%03zu -e %s -n %" PRIu64 " -k %u", i + 1, events, reqs[i].n, reqs[i].k);
		for (j = 0; j < reqs[i].nparams; j++)
			fprintf(f, " -s %s=%" PRIu64, reqs[i].pname[j], reqs[i].pval[j]);
		fprintf(f, " %s %s %s\n", reqs[i].model, reqs[i].policy, reqs[i].op);
	}
	fprintf(f, "exit $rc\n");
	return fclose(f) ? -1 : 0;
}

/* Picks the working directory: --keep DIR (created), or a temporary one. */
static int work_dir(const struct hw_opts *o, struct hw_result *res, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");

	if (o->keep) {
		if (mkdir(o->keep, 0755) && errno != EEXIST) {
			snprintf(err, errlen, "--keep %s: %s", o->keep, strerror(errno));
			return -1;
		}
		if (!realpath(o->keep, res->dir)) {
			snprintf(err, errlen, "--keep %s: %s", o->keep, strerror(errno));
			return -1;
		}
		return 0;
	}
	snprintf(res->dir, sizeof(res->dir), "%s/memsim-hw-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(res->dir)) {
		snprintf(err, errlen, "%s: cannot make a temporary directory: %s", res->dir,
			 strerror(errno));
		return -1;
	}
	res->tmpdir = true;
	return 0;
}

static int measure_qemu(const struct hw_opts *o, const struct calib_req *reqs, size_t n,
			struct hw_result *res, char *err, size_t errlen)
{
	char plan[PATH_MAX], log[PATH_MAX + 16], planarg[PATH_MAX + 8], outarg[PATH_MAX + 8];
	char barg[PATH_MAX + 8], qargs[64], info[PATH_MAX + 16], line[512];
	const char *hw = find_hw_dir(o->hw_dir);
	char *argv[16];
	int argc = 0, rc;
	FILE *f;

	if (access(hw, R_OK) || !is_dir(hw)) {
		snprintf(err, errlen, "%s: no hw-validate directory here (give --hw DIR or set MEMSIM_HW)",
			 hw);
		return -1;
	}
	snprintf(plan, sizeof(plan), "%s/guest-plan.sh", res->dir);
	if (write_guest_plan(plan, reqs, n, o->events)) {
		snprintf(err, errlen, "%s: cannot write: %s", plan, strerror(errno));
		return -1;
	}
	snprintf(log, sizeof(log), "%s/qemu-run.log", res->dir);
	unlink(log);
	snprintf(planarg, sizeof(planarg), "PLAN=%s", plan);
	snprintf(outarg, sizeof(outarg), "OUT=%s", res->dir);
	snprintf(qargs, sizeof(qargs), "QEMU_ARGS=--timeout %u", o->timeout_s);
	argv[argc++] = "make";
	argv[argc++] = "--no-print-directory";
	argv[argc++] = "-C";
	argv[argc++] = (char *)hw;
	if (o->hw_build) {
		char canon[PATH_MAX];

		/* B= is taken relative to hw-validate/ by its Makefile */
		snprintf(barg, sizeof(barg), "B=%s", realpath(o->hw_build, canon) ? canon : o->hw_build);
		argv[argc++] = barg;
	}
	argv[argc++] = "run-qemu";
	argv[argc++] = planarg;
	argv[argc++] = outarg;
	argv[argc++] = qargs;
	argv[argc] = NULL;
	if (!o->quiet)
		fprintf(stderr, "%s: booting the validation guest for %zu requests (log: %s)\n",
			prog, n, log);
	rc = run_logged(argv, log);
	if (rc) {
		char why[512];

		last_line(log, why, sizeof(why));
		snprintf(err, errlen, "the QEMU run failed (exit %d): %s (log: %s)", rc,
			 why[0] ? why : "no message", log);
		return -1;
	}
	snprintf(info, sizeof(info), "%s/run.info", res->dir);
	f = fopen(info, "r");
	if (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		snprintf(res->run_info, sizeof(res->run_info), "%s", line);
		res->icount = strstr(line, "icount=1") != NULL;
	}
	if (f)
		fclose(f);
	return 0;
}

static int measure_native(const struct hw_opts *o, const struct calib_req *reqs, size_t n,
			  struct hw_result *res, char *err, size_t errlen)
{
	char harness[PATH_MAX];
	size_t i;

	if (o->harness)
		snprintf(harness, sizeof(harness), "%s", o->harness);
	else if (o->hw_build && o->hw_build[0] == '/')
		snprintf(harness, sizeof(harness), "%s/harness/memsim-hw", o->hw_build);
	else
		snprintf(harness, sizeof(harness), "%s/%s/harness/memsim-hw", find_hw_dir(o->hw_dir),
			 o->hw_build ? o->hw_build : "build");
	if (!is_exec(harness)) {
		snprintf(err, errlen, "%s: no memsim-hw harness (make -C hw-validate harness, or give "
			 "--harness PATH)", harness);
		return -1;
	}
	for (i = 0; i < n; i++) {
		char nb[32], kb[16], out[PATH_MAX + 16], errf[PATH_MAX + 16], why[512];
		char sets[CALIB_MAX_PARAMS][CALIB_NAME_LEN + 24];
		char *argv[16 + 2 * CALIB_MAX_PARAMS];
		int argc = 0, rc;
		unsigned j;

		snprintf(nb, sizeof(nb), "%" PRIu64, reqs[i].n);
		snprintf(kb, sizeof(kb), "%u", reqs[i].k);
		argv[argc++] = harness;
		argv[argc++] = "-e";
		argv[argc++] = (char *)o->events;
		argv[argc++] = "-n";
		argv[argc++] = nb;
		argv[argc++] = "-k";
		argv[argc++] = kb;
		for (j = 0; j < reqs[i].nparams; j++) {
			snprintf(sets[j], sizeof(sets[j]), "%s=%" PRIu64, reqs[i].pname[j], reqs[i].pval[j]);
			argv[argc++] = "-s";
			argv[argc++] = sets[j];
		}
		argv[argc++] = (char *)reqs[i].model;
		argv[argc++] = (char *)reqs[i].policy;
		argv[argc++] = (char *)reqs[i].op;
		argv[argc] = NULL;
		out_name(out, sizeof(out), res->dir, i, "txt");
		out_name(errf, sizeof(errf), res->dir, i, "err");
		if (!o->quiet)
			fprintf(stderr, "%s: [%zu/%zu] %s %s %s n=%" PRIu64 "\n", prog, i + 1, n,
				reqs[i].model, reqs[i].policy, reqs[i].op, reqs[i].n);
		rc = run_to(argv, out, errf);
		last_line(errf, why, sizeof(why));
		if (rc) {
			snprintf(err, errlen, "request %zu (%s %s %s n=%" PRIu64 "): memsim-hw exit %d: %s",
				 i + 1, reqs[i].model, reqs[i].policy, reqs[i].op, reqs[i].n, rc,
				 why[0] ? why : "no message");
			return -1;
		}
		unlink(errf);
	}
	return 0;
}

/* Whether a measurement left anything (a harness output or the runner's log) in dir. */
static bool dir_has_outputs(const char *dir)
{
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/r001.txt", dir);
	if (!access(p, F_OK))
		return true;
	snprintf(p, sizeof(p), "%s/qemu-run.log", dir);
	return !access(p, F_OK);
}

/*
 * Measures reqs (or reads --from) and parses request i's output into sets[i].  Returns 0,
 * EXIT_FAIL (the measurement failed) or EXIT_USAGE (--from: the files are not what the
 * plan says), with a message; the working directory is left for inspection on failure.
 */
static int measure(const struct hw_opts *o, const struct calib_req *reqs, size_t n,
		   struct calib_set *sets, struct hw_result *res, char *err, size_t errlen)
{
	size_t i;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (o->mode == HW_FROM) {
		char info[PATH_MAX + 16], line[256];
		FILE *f;

		if (!is_dir(o->from)) {
			snprintf(err, errlen, "--from %s: not a directory", o->from);
			return EXIT_USAGE;
		}
		snprintf(res->dir, sizeof(res->dir), "%s", o->from);
		snprintf(info, sizeof(info), "%s/run.info", o->from);
		f = fopen(info, "r");
		if (f && fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(res->run_info, sizeof(res->run_info), "%s", line);
			res->icount = strstr(line, "icount=1") != NULL;
		}
		if (f)
			fclose(f);
	} else {
		if (work_dir(o, res, err, errlen))
			return EXIT_FAIL;
		rc = o->mode == HW_QEMU ? measure_qemu(o, reqs, n, res, err, errlen) :
					  measure_native(o, reqs, n, res, err, errlen);
	}
	for (i = 0; i < n && !rc; i++) {
		char path[PATH_MAX + 16], errf[PATH_MAX + 16], why[512];
		char *text;
		size_t j;

		out_name(path, sizeof(path), res->dir, i, "txt");
		out_name(errf, sizeof(errf), res->dir, i, "err");
		calib_set_init(&sets[i]);
		text = read_file(path, err, errlen);
		if (!text) {
			if (o->mode == HW_FROM)
				snprintf(err + strlen(err), errlen - strlen(err),
					 " (--from wants the r001.txt... of a run kept with --keep, with the same plan)");
			rc = -1;
			break;
		}
		rc = calib_parse_harness(&sets[i], text, path, err, errlen);
		free(text);
		if (!rc && !sets[i].n) {
			last_line(errf, why, sizeof(why));
			snprintf(err, errlen, "%s: no batch from request %zu (%s %s %s n=%" PRIu64 ")%s%s",
				 path, i + 1, reqs[i].model, reqs[i].policy, reqs[i].op, reqs[i].n,
				 why[0] ? ": " : "", why);
			rc = -1;
		}
		for (j = 0; !rc && j < sets[i].n; j++) {
			const struct calib_batch *b = &sets[i].b[j];

			if (strcmp(b->model, reqs[i].model) || strcmp(b->policy, reqs[i].policy) ||
			    strcmp(b->op, reqs[i].op) || b->n != reqs[i].n) {
				snprintf(err, errlen, "%s: holds %s %s %s n=%" PRIu64 ", but request %zu is "
					 "%s %s %s n=%" PRIu64 " (a different plan?)", path, b->model,
					 b->policy, b->op, b->n, i + 1, reqs[i].model, reqs[i].policy,
					 reqs[i].op, reqs[i].n);
				rc = -1;
			}
		}
	}
	if (rc) {
		/* the caller's sets are zeroed: freeing those never filled is harmless */
		for (i = 0; i < n; i++)
			calib_set_free(&sets[i]);
		if (o->mode == HW_FROM)
			return EXIT_USAGE;
		if (res->tmpdir && !dir_has_outputs(res->dir)) {
			rm_tree(res->dir);   /* nothing to look at */
			res->tmpdir = false;
		} else {
			snprintf(err + strlen(err), errlen - strlen(err), " [outputs in %s]", res->dir);
		}
		return EXIT_FAIL;
	}
	return 0;
}

static void measure_done(struct hw_result *res)
{
	if (res->tmpdir)
		rm_tree(res->dir);
}

static const char *default_measure(const struct hw_opts *o, const struct hw_result *res)
{
	if (o->measure)
		return o->measure;
	return res->icount ? "tsc" : "ns";
}

/* instructions | cycles | clock-based, from how the numbers were taken. */
static const char *basis_of(const char *measure, const struct hw_result *res)
{
	if (!strcmp(measure, "ev.instructions"))
		return "instructions";
	if (!strcmp(measure, "ev.cycles"))
		return "cycles";
	if (res->icount && (!strcmp(measure, "tsc") || !strcmp(measure, "ns")))
		return "instructions";
	return "clock-based";
}

static const char *mode_name(const struct hw_opts *o, const struct hw_result *res)
{
	if (o->mode == HW_QEMU || (o->mode == HW_FROM && res->run_info[0]))
		return res->icount ? "qemu guest (TCG, -icount shift=0)" : "qemu guest";
	return o->mode == HW_NATIVE ? "native" : "kept outputs";
}

/* ---- option parsing shared by both commands ---------------------------------------------- */

enum {
	OPT_QEMU = 1000, OPT_NATIVE, OPT_FROM, OPT_KEEP, OPT_HW, OPT_HW_BUILD, OPT_HARNESS,
	OPT_TIMEOUT, OPT_MEASURE, OPT_EVENTS, OPT_DB, OPT_QUIET,
};

#define HW_LONGOPTS                                                   \
	{ "qemu", no_argument, NULL, OPT_QEMU },                       \
	{ "native", no_argument, NULL, OPT_NATIVE },                   \
	{ "from", required_argument, NULL, OPT_FROM },                 \
	{ "keep", required_argument, NULL, OPT_KEEP },                 \
	{ "hw", required_argument, NULL, OPT_HW },                     \
	{ "hw-build", required_argument, NULL, OPT_HW_BUILD },         \
	{ "harness", required_argument, NULL, OPT_HARNESS },           \
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },           \
	{ "measure", required_argument, NULL, OPT_MEASURE },           \
	{ "events", required_argument, NULL, OPT_EVENTS },             \
	{ "db", required_argument, NULL, OPT_DB },                     \
	{ "quiet", no_argument, NULL, OPT_QUIET }

/* Handles one of HW_LONGOPTS: 0, 1 if c is not one of them, or EXIT_USAGE. */
static int hw_opt(int c, struct hw_opts *o, const char **db, const char *cmd, int *modes)
{
	char *end;
	unsigned long v;

	switch (c) {
	case OPT_QEMU: o->mode = HW_QEMU; (*modes)++; return 0;
	case OPT_NATIVE: o->mode = HW_NATIVE; (*modes)++; return 0;
	case OPT_FROM: o->mode = HW_FROM; o->from = optarg; (*modes)++; return 0;
	case OPT_KEEP: o->keep = optarg; return 0;
	case OPT_HW: o->hw_dir = optarg; return 0;
	case OPT_HW_BUILD: o->hw_build = optarg; return 0;
	case OPT_HARNESS: o->harness = optarg; return 0;
	case OPT_MEASURE: o->measure = optarg; return 0;
	case OPT_EVENTS:
		if (!*optarg || !shell_safe(optarg)) {
			fprintf(stderr, "%s %s: --events %s: want libpfm4 event names separated by "
				"commas ([A-Za-z0-9_:.=+-])\n", prog, cmd, optarg);
			return EXIT_USAGE;
		}
		o->events = optarg;
		return 0;
	case OPT_DB: *db = optarg; return 0;
	case OPT_QUIET: o->quiet = true; return 0;
	case OPT_TIMEOUT:
		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno || *end || !v || v > 86400 || !isdigit((unsigned char)*optarg)) {
			fprintf(stderr, "%s %s: --timeout %s: want seconds, 1..86400\n", prog, cmd, optarg);
			return EXIT_USAGE;
		}
		o->timeout_s = (unsigned)v;
		return 0;
	}
	return 1;
}

/* A bad --db is reported before minutes of measuring, not after (and then lost). */
static int db_check_early(const char *db, const char *cmd)
{
	char err[1024];
	struct store *st;

	if (!db || !*db)
		return 0;
	st = store_open(db, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "%s %s: --db %s\n", prog, cmd, err);
		return EXIT_USAGE;
	}
	store_close(st);
	return 0;
}

static int hw_opts_check(struct hw_opts *o, int modes, const char *cmd)
{
	if (modes > 1) {
		fprintf(stderr, "%s %s: give one of --qemu, --native, --from DIR\n", prog, cmd);
		return EXIT_USAGE;
	}
	if (o->measure && strcmp(o->measure, "ns") && strcmp(o->measure, "tsc") &&
	    strncmp(o->measure, "ev.", 3)) {
		fprintf(stderr, "%s %s: --measure %s: want ns, tsc or ev.EVENT\n", prog, cmd, o->measure);
		return EXIT_USAGE;
	}
	if (o->mode == HW_FROM && o->keep) {
		fprintf(stderr, "%s %s: --keep makes no sense with --from (nothing is measured)\n",
			prog, cmd);
		return EXIT_USAGE;
	}
	return 0;
}

static const char *hw_usage =
	"  --qemu              measure in the QEMU validation guest (default): TCG with\n"
	"                      -icount, so times are instruction counts (deterministic)\n"
	"  --native            run memsim-hw here (root; memsim.ko loaded with insmod)\n"
	"  --from DIR          read the outputs a previous run kept with --keep DIR\n"
	"  --keep DIR          keep the guest plan and every harness output in DIR\n"
	"  --hw DIR            the hw-validate directory (default: beside memsim, $MEMSIM_HW)\n"
	"  --hw-build DIR      its build directory (make -C hw-validate B=DIR; default build)\n"
	"  --harness PATH      --native: the memsim-hw binary (default HW/build/harness/memsim-hw)\n"
	"  --events LIST       libpfm4 events for the harness (default " DEFAULT_EVENTS ")\n"
	"  --measure M         what a batch measured: ns, tsc or ev.EVENT (default: tsc in the\n"
	"                      -icount guest, i.e. instructions; ns natively)\n"
	"  --timeout SEC       give up on the guest after SEC seconds (default 1800)\n"
	"  --db FILE           store the results in this SQLite database (or $MEMSIM_DB)\n"
	"  --quiet             no progress messages on stderr\n";

/* ---- storing ---------------------------------------------------------------------------- */

static const char calib_schema[] =
	"CREATE TABLE IF NOT EXISTS calibrations (\n"
	"  calib_id TEXT PRIMARY KEY, created TEXT NOT NULL, profile_name TEXT NOT NULL,\n"
	"  profile_digest TEXT NOT NULL, profile_text TEXT NOT NULL, source TEXT NOT NULL,\n"
	"  basis TEXT NOT NULL, measure TEXT NOT NULL, plan TEXT NOT NULL,\n"
	"  batches INTEGER NOT NULL, dof INTEGER NOT NULL, r2 REAL, chisq REAL, chisq_dof REAL,\n"
	"  rel_rms REAL, rel_max REAL, intercept REAL, irq_cost REAL, memsim_version TEXT NOT NULL);\n"
	"CREATE TABLE IF NOT EXISTS calibration_units (\n"
	"  calib_id TEXT NOT NULL REFERENCES calibrations(calib_id) ON DELETE CASCADE,\n"
	"  unit TEXT NOT NULL, tier INTEGER NOT NULL, upto_bytes INTEGER, state TEXT NOT NULL,\n"
	"  cost_ns REAL, se_ns REAL, ci_lo_ns REAL, ci_hi_ns REAL,\n"
	"  PRIMARY KEY (calib_id, unit, tier));\n"
	"CREATE TABLE IF NOT EXISTS calibration_batches (\n"
	"  calib_id TEXT NOT NULL REFERENCES calibrations(calib_id) ON DELETE CASCADE,\n"
	"  idx INTEGER NOT NULL, model TEXT NOT NULL, policy TEXT NOT NULL, op TEXT NOT NULL,\n"
	"  params TEXT NOT NULL, n INTEGER NOT NULL, batch INTEGER NOT NULL,\n"
	"  measured REAL NOT NULL, fitted REAL NOT NULL, footprint_bytes INTEGER NOT NULL,\n"
	"  irqs INTEGER NOT NULL, work_json TEXT NOT NULL, PRIMARY KEY (calib_id, idx));\n"
	"CREATE TABLE IF NOT EXISTS validations (\n"
	"  validation_id TEXT PRIMARY KEY, created TEXT NOT NULL, profile_name TEXT NOT NULL,\n"
	"  profile_digest TEXT NOT NULL, source TEXT NOT NULL, basis TEXT NOT NULL,\n"
	"  measure TEXT NOT NULL, scenarios TEXT NOT NULL, max_abs_err_pct REAL,\n"
	"  memsim_version TEXT NOT NULL);\n"
	"CREATE TABLE IF NOT EXISTS validation_rows (\n"
	"  validation_id TEXT NOT NULL REFERENCES validations(validation_id) ON DELETE CASCADE,\n"
	"  idx INTEGER NOT NULL, model TEXT NOT NULL, policy TEXT NOT NULL, n INTEGER NOT NULL,\n"
	"  params TEXT NOT NULL, measured REAL NOT NULL, predicted_units REAL NOT NULL,\n"
	"  err_units_pct REAL, predicted_sim REAL NOT NULL, err_sim_pct REAL,\n"
	"  work_match INTEGER NOT NULL, work_diff TEXT, sim_run_id TEXT, irqs REAL,\n"
	"  PRIMARY KEY (validation_id, idx));\n";

/* Opens the store and makes sure the calibration tables exist. */
static struct store *open_db(const char *db, char *err, size_t errlen)
{
	struct store *st = store_open(db, err, errlen);
	char *msg = NULL;

	if (!st)
		return NULL;
	if (sqlite3_exec(store_sqlite(st), calib_schema, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot create the calibration tables: %s", db,
			 msg ? msg : "?");
		sqlite3_free(msg);
		store_close(st);
		return NULL;
	}
	return st;
}

static int db_begin(sqlite3 *db)
{
	int i;

	/* the connection waits on locks itself (busy_timeout); retry the rare leftover */
	for (i = 0; i < 20; i++) {
		int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

		if (rc == SQLITE_OK)
			return 0;
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			return -1;
		usleep(50000);
	}
	return -1;
}

static void bind_real(sqlite3_stmt *s, int i, double v)
{
	if (isnan(v) || isinf(v))
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_double(s, i, v);
}

static void work_json(const uint64_t *wu, char *buf, size_t len)
{
	size_t off = 0;
	unsigned u;
	bool first = true;

	off += (size_t)snprintf(buf + off, len - off, "{");
	for (u = 0; u < WU__COUNT && off < len; u++) {
		if (!wu[u])
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s\"%s\":%" PRIu64, first ? "" : ",",
					work_unit_names[u], wu[u]);
		first = false;
	}
	if (off < len)
		snprintf(buf + off, len - off, "}");
}

/* ---- memsim calibrate ------------------------------------------------------------------- */

struct calib_ctx {
	const char *plan_name;
	const char *out;
	const char *name;
	const char *measure;
	const char *basis;
	const char *source;
	char date[32];
	char profile_id[17];
	char *profile_text;
	struct calib_tiers tiers;
	struct calib_set all;
};

static int store_calibration(const char *db, const struct calib_ctx *c, char *err, size_t errlen)
{
	struct store *st = open_db(db, err, errlen);
	const struct calib_fit *f = &c->tiers.flat;
	struct cost_profile prof;
	sqlite3_stmt *s = NULL;
	sqlite3 *h;
	char digest[17], perr[256];
	size_t i;
	unsigned u, b;
	int rc = -1;

	if (!st)
		return -1;
	h = store_sqlite(st);
	if (profile_parse(c->profile_text, c->out, &prof, perr, sizeof(perr))) {
		snprintf(err, errlen, "the profile written does not read back: %s", perr);
		goto out;
	}
	snprintf(digest, sizeof(digest), "%016" PRIx64, prof.digest);
	if (db_begin(h))
		goto sqlerr;
	/* the same calibration stored twice is one row (the id digests profile and batches) */
	if (sqlite3_prepare_v2(h, "SELECT 1 FROM calibrations WHERE calib_id = ?", -1, &s, NULL))
		goto sqlerr;
	sqlite3_bind_text(s, 1, c->profile_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		sqlite3_finalize(s);
		s = NULL;
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
		rc = 1;
		goto out;
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(h, "INSERT INTO calibrations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &s, NULL))
		goto sqlerr;
	sqlite3_bind_text(s, 1, c->profile_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, c->date, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, prof.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, c->profile_text, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, c->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, c->basis, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, c->measure, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, c->plan_name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 10, (sqlite3_int64)f->nobs);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)f->dof);
	bind_real(s, 12, f->r2);
	bind_real(s, 13, f->chisq);
	bind_real(s, 14, f->chisq_dof);
	bind_real(s, 15, f->rel_rms);
	bind_real(s, 16, f->rel_max);
	bind_real(s, 17, f->has_intercept ? f->intercept.est : NAN);
	bind_real(s, 18, f->has_irq ? f->irq.est : NAN);
	sqlite3_bind_text(s, 19, MEMSIM_VERSION " (" MEMSIM_GIT_REV ")", -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto sqlerr;
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(h, "INSERT INTO calibration_units VALUES (?,?,?,?,?,?,?,?,?)", -1,
			       &s, NULL))
		goto sqlerr;
	for (u = 0; u < WU__COUNT; u++) {
		for (b = 0; b <= c->tiers.nb; b++) {
			const struct calib_fit *bf = c->tiers.nb && c->tiers.used[b] ? &c->tiers.band[b] : f;
			enum calib_unit_state stt = bf->state[u];

			if (f->state[u] == CALIB_ABSENT && stt == CALIB_ABSENT)
				continue;
			if (stt == CALIB_ABSENT)   /* band without it: the flat figure applies */
				bf = f, stt = f->state[u];
			sqlite3_reset(s);
			sqlite3_bind_text(s, 1, c->profile_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 2, work_unit_names[u], -1, SQLITE_STATIC);
			sqlite3_bind_int(s, 3, (int)b);
			if (b < c->tiers.nb)
				sqlite3_bind_int64(s, 4, (sqlite3_int64)c->tiers.bounds[b]);
			else
				sqlite3_bind_null(s, 4);
			sqlite3_bind_text(s, 5, stt == CALIB_FITTED ? "fitted" : "negative", -1,
					  SQLITE_STATIC);
			bind_real(s, 6, bf->unit[u].est);
			bind_real(s, 7, bf->unit[u].se);
			bind_real(s, 8, bf->unit[u].lo);
			bind_real(s, 9, bf->unit[u].hi);
			if (sqlite3_step(s) != SQLITE_DONE)
				goto sqlerr;
		}
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(h, "INSERT INTO calibration_batches VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &s, NULL))
		goto sqlerr;
	for (i = 0; i < c->all.n; i++) {
		const struct calib_batch *bt = &c->all.b[i];
		char wj[1024];

		work_json(bt->o.wu, wj, sizeof(wj));
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, c->profile_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
		sqlite3_bind_text(s, 3, bt->model, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, bt->policy, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, bt->op, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, bt->params, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 7, (sqlite3_int64)bt->n);
		sqlite3_bind_int64(s, 8, (sqlite3_int64)bt->i);
		sqlite3_bind_double(s, 9, bt->o.y);
		sqlite3_bind_double(s, 10, calib_predict(f, &bt->o));
		sqlite3_bind_int64(s, 11, (sqlite3_int64)bt->o.footprint);
		sqlite3_bind_int64(s, 12, (sqlite3_int64)bt->irqs);
		sqlite3_bind_text(s, 13, wj, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto sqlerr;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto sqlerr;
	rc = 0;
	goto out;
sqlerr:
	snprintf(err, errlen, "%s: %s", db, sqlite3_errmsg(h));
	sqlite3_finalize(s);
	if (!sqlite3_get_autocommit(h))
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
	rc = -1;
out:
	store_close(st);
	return rc;
}

static void print_coef(FILE *out, const char *name, const struct calib_coef *c, const char *unit)
{
	if (isnan(c->lo))
		fprintf(out, "  %-14s %12.4f %s   (no interval: no degree of freedom left)\n", name,
			c->est, unit);
	else
		fprintf(out, "  %-14s %12.4f %s   95%% CI [%.4f, %.4f]  se %.4g\n", name, c->est,
			unit, c->lo, c->hi, c->se);
}

static void print_fit(FILE *out, const struct calib_ctx *c)
{
	const struct calib_fit *f = &c->tiers.flat;
	const char *unit = !strcmp(c->basis, "instructions") ? "insn" :
			   !strcmp(c->basis, "cycles") ? "cyc " : "ns  ";
	size_t order[8] = { 0 }, i, j, nw = 0;
	double rw[8] = { 0 };
	unsigned u, b;

	fprintf(out, "cost per work unit (%s):\n", c->basis);
	for (u = 0; u < WU__COUNT; u++) {
		if (f->state[u] == CALIB_FITTED)
			print_coef(out, work_unit_names[u], &f->unit[u], unit);
		else if (f->state[u] == CALIB_NEGATIVE)
			fprintf(out, "  %-14s %12s        fitted negative: removed (cost 0), the others refitted\n",
				work_unit_names[u], "0");
	}
	if (f->has_intercept)
		print_coef(out, "(intercept)", &f->intercept, unit);
	if (f->has_irq)
		print_coef(out, "(interrupt)", &f->irq, unit);
	fprintf(out, "fit: %zu batches, %zu unknowns, R^2 %.6f, chi^2 %.4g (chi^2/dof %.3g, dof %zu), "
		"relative residuals rms %.2f %%, max %.2f %%\n", f->nobs, f->nparams, f->r2, f->chisq,
		f->chisq_dof, f->dof, 100 * f->rel_rms, 100 * f->rel_max);
	for (b = 0; c->tiers.nb && b <= c->tiers.nb; b++) {
		if (c->tiers.used[b])
			fprintf(out, "tier %u (%zu batches): own fit, R^2 %.6f, rel. rms %.2f %%\n", b,
				c->tiers.nobs[b], c->tiers.band[b].r2, 100 * c->tiers.band[b].rel_rms);
		else
			fprintf(out, "tier %u (%zu batches): flat costs (%s)\n", b, c->tiers.nobs[b],
				c->tiers.msg[b]);
	}
	/* the batches the fit explains worst */
	for (i = 0; i < c->all.n; i++) {
		double r = fabs(calib_predict(f, &c->all.b[i].o) / c->all.b[i].o.y - 1);

		for (j = nw; j > 0 && rw[j - 1] < r; j--)
			if (j < 8) {
				rw[j] = rw[j - 1];
				order[j] = order[j - 1];
			}
		if (j < 5) {
			rw[j] = r;
			order[j] = i;
			if (nw < 5)
				nw++;
		}
	}
	fprintf(out, "worst-fitted batches:\n");
	for (j = 0; j < nw; j++) {
		const struct calib_batch *bt = &c->all.b[order[j]];

		fprintf(out, "  %+7.2f %%  %s %s %s n=%" PRIu64 " %s (measured %.0f, fitted %.0f)\n",
			100 * (calib_predict(f, &bt->o) / bt->o.y - 1), bt->model, bt->policy, bt->op,
			bt->n, strcmp(bt->params, "-") ? bt->params : "", bt->o.y,
			calib_predict(f, &bt->o));
	}
}

static int parse_tiers(const char *s, uint64_t *bounds, unsigned *nb)
{
	char buf[256], *t, *save = NULL;

	*nb = 0;
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		uint64_t v, mult = 1;

		if (!isdigit((unsigned char)*t) || *nb == CALIB_MAX_TIERS - 1)
			return -1;
		errno = 0;
		v = strtoull(t, &end, 10);
		if (!strcmp(end, "K") || !strcmp(end, "KiB"))
			mult = 1024;
		else if (!strcmp(end, "M") || !strcmp(end, "MiB"))
			mult = 1024 * 1024;
		else if (*end)
			return -1;
		if (errno || !v || v > UINT64_MAX / mult / 2 || (*nb && v * mult <= bounds[*nb - 1]))
			return -1;
		bounds[(*nb)++] = v * mult;
	}
	return *nb ? 0 : -1;
}

static void calibrate_usage(FILE *out)
{
	fprintf(out,
		"usage: memsim calibrate [--qemu | --native | --from DIR] [--plan FILE|builtin|small]\n"
		"                        [--events LIST] [--measure M] [--tiers B1,B2,...] -o PROFILE\n"
		"                        [--name NAME] [--db FILE] [--keep DIR] [--print-plan]\n"
		"\n"
		"Runs the models in the kernel module (hw-validate/) over a plan of requests, fits the\n"
		"cost of each work unit to the measured batches by weighted least squares (GSL), and\n"
		"writes a cost profile with the fit's provenance and quality (docs/validation.md).\n"
		"\n"
		"  -o, --output FILE   the cost profile to write (required); replaced whole (a\n"
		"                      temporary file, renamed), a symlink is followed, a device,\n"
		"                      FIFO or directory refused\n"
		"  --name NAME         the profile's name (default: FILE's base name)\n"
		"  --plan P            builtin (default), small (the check's), or a plan file:\n"
		"                      lines `MODEL POLICY OP n=N1,N2,... [k=K] [NAME=VALUE]...`\n"
		"  --print-plan        print the plan and exit\n"
		"  --tiers B1,B2,...   also fit each footprint band (<= B1, <= B2, ..., larger; sizes\n"
		"                      in bytes, K or M suffix) and write tiered costs\n"
		"  --ols               ordinary least squares (default: relative weights 1/t^2)\n"
		"  --no-intercept      no fixed cost per batch in the model\n"
		"  --allow-negative    keep negative costs (default: remove the unit and refit)\n"
		"  --no-irq-term       no cost per interrupt taken in a batch (default: fitted, so\n"
		"                      a timer tick is not charged to the batch's work units)\n"
		"%s", hw_usage);
}

int cmd_calibrate(int argc, char **argv)
{
	enum { OPT_PLAN = 2000, OPT_NAME, OPT_PRINT_PLAN, OPT_TIERS, OPT_OLS, OPT_NOINT, OPT_NEG,
	       OPT_NOIRQ };
	static const struct option opts[] = {
		HW_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "plan", required_argument, NULL, OPT_PLAN },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "print-plan", no_argument, NULL, OPT_PRINT_PLAN },
		{ "tiers", required_argument, NULL, OPT_TIERS },
		{ "ols", no_argument, NULL, OPT_OLS },
		{ "no-intercept", no_argument, NULL, OPT_NOINT },
		{ "allow-negative", no_argument, NULL, OPT_NEG },
		{ "no-irq-term", no_argument, NULL, OPT_NOIRQ },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hw_opts hw = { .mode = HW_QEMU, .events = DEFAULT_EVENTS, .timeout_s = DEFAULT_TIMEOUT_S };
	struct calib_fit_opts fo;
	struct calib_ctx c;
	struct calib_req *reqs = NULL;
	struct calib_set *sets = NULL;
	struct hw_result res;
	const char *db = getenv("MEMSIM_DB"), *plan = "builtin", *tiers = NULL;
	const char *plan_text;
	char *plan_file = NULL, err[2048], name[64], cpu[160], hostcpu[128], fitline[192];
	char counters[192], srcline[192], kernel[96];
	struct outfile of;
	int ro;
	uint64_t bounds[CALIB_MAX_TIERS - 1];
	unsigned nb = 0;
	size_t nreq = 0, i, j;
	bool print_plan = false;
	int ch, modes = 0, rc = EXIT_FAIL;

	calib_fit_opts_default(&fo);
	memset(&c, 0, sizeof(c));
	calib_set_init(&c.all);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		int r = hw_opt(ch, &hw, &db, "calibrate", &modes);

		if (r == EXIT_USAGE)
			return EXIT_USAGE;
		if (r == 0)
			continue;
		switch (ch) {
		case 'o': c.out = optarg; break;
		case OPT_PLAN: plan = optarg; break;
		case OPT_NAME: c.name = optarg; break;
		case OPT_PRINT_PLAN: print_plan = true; break;
		case OPT_TIERS:
			if (parse_tiers(optarg, bounds, &nb)) {
				fprintf(stderr, "%s calibrate: --tiers %s: want increasing sizes in bytes "
					"(K, M suffixes), at most %d\n", prog, optarg, CALIB_MAX_TIERS - 1);
				return EXIT_USAGE;
			}
			tiers = optarg;
			break;
		case OPT_OLS: fo.weight = CALIB_WEIGHT_NONE; break;
		case OPT_NOINT: fo.intercept = false; break;
		case OPT_NEG: fo.nonneg = false; break;
		case OPT_NOIRQ: fo.irq_term = false; break;
		case 'h': calibrate_usage(stdout); return EXIT_OK;
		default:
			fprintf(stderr, "%s calibrate: %s: unknown option or missing value (see memsim "
				"calibrate --help)\n", prog, argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s calibrate: unexpected argument '%s'\n", prog, argv[optind]);
		return EXIT_USAGE;
	}
	if (hw_opts_check(&hw, modes, "calibrate") || db_check_early(db, "calibrate"))
		return EXIT_USAGE;
	c.plan_name = plan;
	plan_text = calib_builtin_plan(plan);
	if (!plan_text) {
		plan_file = read_file(plan, err, sizeof(err));
		if (!plan_file) {
			fprintf(stderr, "%s calibrate: --plan %s (not builtin or small either)\n", prog, err);
			return EXIT_USAGE;
		}
		plan_text = plan_file;
	}
	if (calib_plan_parse(plan_text, plan_file ? plan : plan, &reqs, &nreq, err, sizeof(err))) {
		fprintf(stderr, "%s calibrate: %s\n", prog, err);
		free(plan_file);
		return EXIT_USAGE;
	}
	if (print_plan) {
		fputs(plan_text, stdout);
		rc = EXIT_OK;
		goto out;
	}
	if (!c.out) {
		fprintf(stderr, "%s calibrate: -o PROFILE: where to write the profile is required\n", prog);
		rc = EXIT_USAGE;
		goto out;
	}
	if (c.name) {
		snprintf(name, sizeof(name), "%s", c.name);
	} else {
		const char *base = strrchr(c.out, '/');

		snprintf(name, sizeof(name), "%s", base ? base + 1 : c.out);
		if (strrchr(name, '.') && strrchr(name, '.') != name)
			*strrchr(name, '.') = 0;
	}
	for (i = 0; name[i]; i++)
		if (!(isalnum((unsigned char)name[i]) || strchr("_.+-", name[i])))
			break;
	if (!name[0] || name[i] || strlen(name) >= 63) {
		fprintf(stderr, "%s calibrate: profile name '%s': want [A-Za-z0-9_.+-], at most 62 "
			"characters (give --name)\n", prog, name);
		rc = EXIT_USAGE;
		goto out;
	}
	/* the output must be writable before minutes of measuring */
	if (outfile_open(&of, c.out, err, sizeof(err))) {
		fprintf(stderr, "%s calibrate: -o %s\n", prog, err);
		rc = EXIT_USAGE;
		goto out;
	}
	outfile_abort(&of);

	sets = calloc(nreq, sizeof(*sets));
	if (!sets) {
		fprintf(stderr, "%s calibrate: out of memory\n", prog);
		goto out;
	}
	rc = measure(&hw, reqs, nreq, sets, &res, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s calibrate: %s\n", prog, err);
		free(sets);
		sets = NULL;
		goto out;
	}
	rc = EXIT_FAIL;
	c.measure = default_measure(&hw, &res);
	c.basis = basis_of(c.measure, &res);
	c.source = mode_name(&hw, &res);
	/* gather every batch in plan order */
	for (i = 0; i < nreq; i++) {
		if (calib_set_measure(&sets[i], c.measure, err, sizeof(err))) {
			fprintf(stderr, "%s calibrate: %s\n", prog, err);
			goto out_sets;
		}
		for (j = 0; j < sets[i].n; j++) {
			if (c.all.n == c.all.cap) {
				size_t cap = c.all.cap ? 2 * c.all.cap : 64;
				struct calib_batch *nbp = realloc(c.all.b, cap * sizeof(*nbp));

				if (!nbp) {
					fprintf(stderr, "%s calibrate: out of memory\n", prog);
					goto out_sets;
				}
				c.all.b = nbp;
				c.all.cap = cap;
			}
			c.all.b[c.all.n++] = sets[i].b[j];
		}
		if (!c.all.kernel[0])
			memcpy(c.all.kernel, sets[i].kernel, sizeof(c.all.kernel));
		if (!c.all.cpu[0])
			memcpy(c.all.cpu, sets[i].cpu, sizeof(c.all.cpu));
		c.all.clock_based |= sets[i].clock_based;
		if (sets[i].counted[0] && !strstr(c.all.counted, sets[i].counted))
			snprintf(c.all.counted + strlen(c.all.counted),
				 sizeof(c.all.counted) - strlen(c.all.counted), "%s%s",
				 c.all.counted[0] ? "," : "", sets[i].counted);
		if (sets[i].unavailable[0] && !strstr(c.all.unavailable, sets[i].unavailable))
			snprintf(c.all.unavailable + strlen(c.all.unavailable),
				 sizeof(c.all.unavailable) - strlen(c.all.unavailable), "%s%s",
				 c.all.unavailable[0] ? "," : "", sets[i].unavailable);
	}
	{
		struct calib_obs *obs = malloc(c.all.n * sizeof(*obs));

		if (!obs) {
			fprintf(stderr, "%s calibrate: out of memory\n", prog);
			goto out_sets;
		}
		for (i = 0; i < c.all.n; i++)
			obs[i] = c.all.b[i].o;
		if (calib_fit_tiers(obs, c.all.n, &fo, bounds, nb, &c.tiers, err, sizeof(err))) {
			free(obs);
			fprintf(stderr, "%s calibrate: the fit failed: %s\n", prog, err);
			rc = EXIT_FAIL;
			goto out_sets;
		}
		free(obs);
	}

	/* provenance */
	iso_date(c.date, sizeof(c.date));
	host_cpu(hostcpu, sizeof(hostcpu));
	if (res.icount || strstr(c.source, "qemu"))
		snprintf(cpu, sizeof(cpu), "%s (guest: %s)", hostcpu, c.all.cpu[0] ? c.all.cpu : "?");
	else
		snprintf(cpu, sizeof(cpu), "%s", c.all.cpu[0] ? c.all.cpu : hostcpu);
	snprintf(kernel, sizeof(kernel), "%s", c.all.kernel[0] ? c.all.kernel : "unknown");
	snprintf(counters, sizeof(counters), "%s%s%s%s", c.all.counted[0] ? c.all.counted : "none",
		 c.all.unavailable[0] ? " (unavailable: " : "", c.all.unavailable,
		 c.all.unavailable[0] ? ")" : "");
	snprintf(srcline, sizeof(srcline), "memsim calibrate, %s, plan %s, %zu batches of %zu requests",
		 c.source, plan, c.all.n, nreq);
	snprintf(fitline, sizeof(fitline), "weighted least squares (%s%s), R2 %.6f, chi2 %.4g, "
		 "chi2/dof %.3g, dof %zu, rel. rms %.2f%%, max %.2f%%",
		 fo.weight == CALIB_WEIGHT_RELATIVE ? "1/t^2" : "ols",
		 fo.intercept ? ", intercept" : "", c.tiers.flat.r2, c.tiers.flat.chisq,
		 c.tiers.flat.chisq_dof, c.tiers.flat.dof, 100 * c.tiers.flat.rel_rms,
		 100 * c.tiers.flat.rel_max);
	{
		char measure_note[160], intercept[64], tiers_note[96];
		const char *keys[16], *vals[16];
		unsigned k = 0;
		char *text = NULL;
		size_t tlen = 0;
		FILE *mf;

		if (!strcmp(c.basis, "instructions") && res.icount)
			snprintf(measure_note, sizeof(measure_note), "%s: QEMU -icount, 1 tick = 1 "
				 "instruction; costs are instructions read as ns", c.measure);
		else
			snprintf(measure_note, sizeof(measure_note), "%s", c.measure);
		snprintf(intercept, sizeof(intercept), "%.3f per batch, %.1f per interrupt (not "
			 "part of the costs)", c.tiers.flat.has_intercept ? c.tiers.flat.intercept.est : 0.0,
			 c.tiers.flat.has_irq ? c.tiers.flat.irq.est : 0.0);
		snprintf(tiers_note, sizeof(tiers_note), "%s", tiers ? tiers : "none (flat)");
		sanitize(cpu);
		sanitize(kernel);
		sanitize(counters);
		keys[k] = "source"; vals[k++] = srcline;
		keys[k] = "cpu"; vals[k++] = cpu;
		keys[k] = "kernel"; vals[k++] = kernel;
		keys[k] = "counters"; vals[k++] = counters;
		keys[k] = "basis"; vals[k++] = c.basis;
		keys[k] = "clock-based"; vals[k++] = strcmp(c.basis, "clock-based") ? "0" : "1";
		keys[k] = "measure"; vals[k++] = measure_note;
		keys[k] = "date"; vals[k++] = c.date;
		keys[k] = "fit"; vals[k++] = fitline;
		keys[k] = "intercept"; vals[k++] = intercept;
		keys[k] = "tiers"; vals[k++] = tiers_note;
		keys[k] = "memsim"; vals[k++] = MEMSIM_VERSION " (" MEMSIM_GIT_REV ")";
		keys[k] = NULL;
		mf = open_memstream(&text, &tlen);
		if (!mf)
			abort();
		calib_write_profile(mf, name, keys, vals, &c.tiers);
		fclose(mf);
		c.profile_text = text;
	}
	/* the id: the profile and the batches behind it */
	{
		uint64_t h = hash_str(c.profile_text);

		for (i = 0; i < c.all.n; i++) {
			h = hash_fold(h, (uint64_t)c.all.b[i].o.y);
			for (j = 0; j < WU__COUNT; j++)
				h = hash_fold(h, c.all.b[i].o.wu[j]);
		}
		snprintf(c.profile_id, sizeof(c.profile_id), "%016" PRIx64, h);
	}
	{
		struct cost_profile back;

		if (profile_parse(c.profile_text, c.out, &back, err, sizeof(err))) {
			fprintf(stderr, "%s calibrate: internal error: the profile does not read back: %s\n",
				prog, err);
			goto out_sets;
		}
	}
	if ((ro = outfile_open(&of, c.out, err, sizeof(err))) == 0) {
		fputs(c.profile_text, of.f);	/* a write error shows in the commit */
		ro = outfile_commit(&of, err, sizeof(err));
	}
	if (ro) {
		fprintf(stderr, "%s calibrate: -o %s\n", prog, err);
		if (ro == OUT_REFUSED)
			rc = EXIT_USAGE;
		goto out_sets;
	}
	printf("memsim calibrate: %zu batches of %zu requests, %s, measure %s (basis %s)\n",
	       c.all.n, nreq, c.source, c.measure, c.basis);
	print_fit(stdout, &c);
	printf("profile %s written to %s\n", name, c.out);
	rc = EXIT_OK;
	if (db && *db) {
		int s = store_calibration(db, &c, err, sizeof(err));

		if (s < 0) {
			fprintf(stderr, "%s calibrate: %s\n", prog, err);
			rc = EXIT_FAIL;
		} else {
			printf("calibration %s %s %s\n", c.profile_id,
			       s ? "already stored in" : "stored in", db);
		}
	}
out_sets:
	for (i = 0; i < nreq; i++)
		calib_set_free(&sets[i]);
	free(sets);
	if (rc == EXIT_OK)
		measure_done(&res);
	else if (res.tmpdir)
		fprintf(stderr, "%s calibrate: harness outputs kept in %s\n", prog, res.dir);
out:
	free(c.all.b);
	free(c.profile_text);
	free(reqs);
	free(plan_file);
	return rc;
}

/* ---- memsim validate -------------------------------------------------------------------- */

struct vrow {
	char model[CALIB_NAME_LEN], policy[CALIB_NAME_LEN], params[160];
	uint64_t n;
	double measured, pred_units, pred_sim;
	double irqs;              /* interrupts in the measured batches (mean) */
	bool work_match;
	char work_diff[256];
	char run_id[17];
};

static double err_pct(double pred, double meas)
{
	return meas > 0 ? 100.0 * (pred - meas) / meas : NAN;
}

/* Splits "R+L" into its reverse map and relinquish policies. */
static int split_pair(const char *pair, char *r, char *l)
{
	const char *plus = strchr(pair, '+');

	if (!plus || plus == pair || !plus[1] || strchr(plus + 1, '+'))
		return -1;
	snprintf(r, CALIB_NAME_LEN, "%.*s", (int)(plus - pair), pair);
	snprintf(l, CALIB_NAME_LEN, "%s", plus + 1);
	return 0;
}

/*
 * One simulator run of a scenario: the one-frame scenario with n gfns, destroyed, the
 * reverse map and relinquish policies of the scenario line, priced with profile.  The
 * module's `pending` (whether the preemption check says other work waits) becomes dom0 load:
 * pending=1 is a dom0 tick due at every instant (period 1 ns) that needs no time (burst 0),
 * so a preemptible relinquish yields at every check exactly as in the module; pending=0 is
 * no dom0 load.  destroy_ns into *ns; the run is kept in r (caller frees).
 * A superpage scenario (n superpages, a multiple of SCEN_SP_PER_GB) is the fork storm over
 * n / 512 GiB with one fork; *ns is then the child's mapping time (fork_map_ns).
 */
static int sim_scenario(const struct calib_req *s, const char *profile, struct run *r,
			double *ns, char *err, size_t errlen)
{
	char rp[CALIB_NAME_LEN], lp[CALIB_NAME_LEN], sets[RUN_MAX_SETS][96];
	struct run_opts o = { .seed = 1 };
	uint64_t pending = calib_req_param(s, "pending", 1);
	bool sp = !strcmp(s->model, "superpage");
	const char *metric = sp ? "fork_map_ns" : "destroy_ns";
	const struct vfamily *vf = vfamily_find(s->model);
	unsigned k = 0, j;
	int rc;

	if (vf)   /* scrub, shadow, hinting: sim/vfamily.c */
		return vf->sim(s, profile, r, ns, err, errlen);
	if (sp) {
		/* the fork storm with one fork: its child's mapping is the module's `map` */
		o.model = "superpage";
		o.policy = s->policy;
		o.scenario = "fork-storm";
		snprintf(sets[k++], sizeof(sets[0]), "region_gb=%" PRIu64, s->n / SCEN_SP_PER_GB);
		snprintf(sets[k++], sizeof(sets[0]), "forks=1");
	} else {
		split_pair(s->policy, rp, lp);
		o.model = s->model;
		o.policy = !strcmp(s->model, "rmap") ? rp : lp;
		o.scenario = "one-frame";
		snprintf(sets[k++], sizeof(sets[0]), "n=%" PRIu64, s->n);
		snprintf(sets[k++], sizeof(sets[0]), "%s=%s",
			 !strcmp(s->model, "rmap") ? "relinquish" : "rmap",
			 !strcmp(s->model, "rmap") ? lp : rp);
		snprintf(sets[k++], sizeof(sets[0]), "dom0_period_ns=%d", pending ? 1 : 0);
		snprintf(sets[k++], sizeof(sets[0]), "dom0_burst_ns=0");
	}
	o.profile = profile;
	for (j = 0; j < s->nparams; j++)
		if (strcmp(s->pname[j], "pending"))
			snprintf(sets[k++], sizeof(sets[0]), "%s=%" PRIu64, s->pname[j], s->pval[j]);
	for (j = 0; j < k; j++)
		o.sets[o.nsets++] = sets[j];
	rc = run_prepare(r, &o, err, errlen);
	if (rc == EXIT_OK)
		rc = run_execute(r, err, errlen);
	if (rc == EXIT_OK && metrics_get(&r->mx, metric, ns)) {
		snprintf(err, errlen, "the simulator reported no %s", metric);
		rc = EXIT_FAIL;
	}
	if (rc == EXIT_OK) {
		double d;

		if (metrics_get(&r->mx, sp ? "forks" : "destroys", &d) || d != 1) {
			snprintf(err, errlen, sp ? "the simulated fork did not happen" :
				 "the simulated destroy did not finish");
			rc = EXIT_FAIL;
		}
	}
	return rc;
}

/*
 * The simulator's destroy work, unit by unit, against the module's: a run priced with a
 * profile holding only unit u at 1 ns counts u exactly (destroy_ns is then the number of u
 * units), and one with the built-in `unit` profile the total, which catches a unit the
 * module never counted.  0 and *match, or -1 with a message.
 */
static int compare_work(const struct calib_req *s, const uint64_t *mod, const char *tmpdir,
			bool *match, char *diff, size_t dlen, char *err, size_t errlen)
{
	uint64_t total = 0;
	size_t off = 0;
	unsigned u;
	double ns;
	struct run r;

	*match = true;
	diff[0] = 0;
	for (u = 0; u < WU__COUNT; u++) {
		char path[PATH_MAX];
		FILE *f;

		total += mod[u];
		if (!mod[u])
			continue;
		snprintf(path, sizeof(path), "%s/only-%s.prof", tmpdir, work_unit_names[u]);
		f = fopen(path, "w");
		if (!f) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		fprintf(f, "name only-%s\ncost %s 1\n", work_unit_names[u], work_unit_names[u]);
		fclose(f);
		if (sim_scenario(s, path, &r, &ns, err, errlen)) {
			run_free(&r);
			return -1;
		}
		run_free(&r);
		if ((uint64_t)ns != mod[u]) {
			*match = false;
			if (off < dlen)
				off += (size_t)snprintf(diff + off, dlen - off, "%s%s: sim %.0f, module %" PRIu64,
							off ? "; " : "", work_unit_names[u], ns, mod[u]);
		}
	}
	if (sim_scenario(s, "unit", &r, &ns, err, errlen)) {
		run_free(&r);
		return -1;
	}
	run_free(&r);
	if ((uint64_t)ns != total) {
		*match = false;
		if (off < dlen)
			snprintf(diff + off, dlen - off, "%sall units: sim %.0f, module %" PRIu64,
				 off ? "; " : "", ns, total);
	}
	return 0;
}

static int store_validation(const char *db, const char *id, const char *date,
			    const struct cost_profile *prof, const char *source, const char *basis,
			    const char *measure, const char *scen, double maxerr,
			    const struct vrow *rows, size_t n, char *err, size_t errlen)
{
	struct store *st = open_db(db, err, errlen);
	sqlite3_stmt *s = NULL;
	sqlite3 *h;
	char digest[17];
	size_t i;
	int rc = -1;

	if (!st)
		return -1;
	h = store_sqlite(st);
	snprintf(digest, sizeof(digest), "%016" PRIx64, prof->digest);
	if (db_begin(h))
		goto sqlerr;
	if (sqlite3_prepare_v2(h, "SELECT 1 FROM validations WHERE validation_id = ?", -1, &s, NULL))
		goto sqlerr;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		sqlite3_finalize(s);
		s = NULL;
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
		rc = 1;
		goto out;
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(h, "INSERT INTO validations VALUES (?,?,?,?,?,?,?,?,?,?)", -1, &s, NULL))
		goto sqlerr;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, date, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, prof->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, basis, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, measure, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, scen, -1, SQLITE_STATIC);
	bind_real(s, 9, maxerr);
	sqlite3_bind_text(s, 10, MEMSIM_VERSION " (" MEMSIM_GIT_REV ")", -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto sqlerr;
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(h, "INSERT INTO validation_rows VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &s, NULL))
		goto sqlerr;
	for (i = 0; i < n; i++) {
		const struct vrow *v = &rows[i];

		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
		sqlite3_bind_text(s, 3, v->model, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, v->policy, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, (sqlite3_int64)v->n);
		sqlite3_bind_text(s, 6, v->params, -1, SQLITE_STATIC);
		sqlite3_bind_double(s, 7, v->measured);
		sqlite3_bind_double(s, 8, v->pred_units);
		bind_real(s, 9, err_pct(v->pred_units, v->measured));
		sqlite3_bind_double(s, 10, v->pred_sim);
		bind_real(s, 11, err_pct(v->pred_sim, v->measured));
		sqlite3_bind_int(s, 12, v->work_match);
		if (v->work_diff[0])
			sqlite3_bind_text(s, 13, v->work_diff, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 13);
		if (v->run_id[0])
			sqlite3_bind_text(s, 14, v->run_id, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 14);
		sqlite3_bind_double(s, 15, v->irqs);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto sqlerr;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto sqlerr;
	rc = 0;
	goto out;
sqlerr:
	snprintf(err, errlen, "%s: %s", db, sqlite3_errmsg(h));
	sqlite3_finalize(s);
	if (!sqlite3_get_autocommit(h))
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
	rc = -1;
out:
	store_close(st);
	return rc;
}

/* Draws analysis/validate.gp: predicted against measured, and the errors.  0, 1 or 2. */
static int plot_validation(const char *out, const struct vrow *rows, size_t n,
			   const char *title, const char *ylabel, double tol, char *err,
			   size_t errlen)
{
	char label[256];
	struct gp g;
	size_t i;
	int rc;

	rc = gp_begin(&g, out, NULL, n > 7 ? (unsigned)(140 * n) : 980u, 620, err, errlen);
	if (rc)
		return rc;
	fprintf(g.dat, "# label measured predicted_units predicted_sim err_units_pct err_sim_pct\n");
	for (i = 0; i < n; i++) {
		snprintf(label, sizeof(label), "%s\n%s\nn=%" PRIu64, rows[i].model, rows[i].policy,
			 rows[i].n);
		gp_data_str(g.dat, label);
		fprintf(g.dat, " %.6g %.6g %.6g %.4f %.4f\n", rows[i].measured, rows[i].pred_units,
			rows[i].pred_sim, err_pct(rows[i].pred_units, rows[i].measured),
			err_pct(rows[i].pred_sim, rows[i].measured));
	}
	gp_str(g.pre, "plottitle", title);
	gp_str(g.pre, "xlabel", "");
	gp_str(g.pre, "ylabel", ylabel);
	fprintf(g.pre, "nrows = %zu\ntol = %g\n", n, tol);
	rc = gp_run(&g, "validate.gp", true, err, errlen);
	gp_cleanup(&g);
	return rc;
}

static void validate_usage(FILE *out)
{
	fprintf(out,
		"usage: memsim validate --profile P [--qemu | --native | --from DIR]\n"
		"                       [--scenarios builtin|small|FILE] [--plot OUT.png]\n"
		"                       [--max-error PCT] [--db FILE] [--keep DIR]\n"
		"\n"
		"Measures reference scenarios in the kernel module and predicts them with profile P\n"
		"two ways: the module's own work-unit counts x P, and a simulator run of the same\n"
		"scenario (one domain whose n gfns share one frame, destroyed: scenario one-frame).\n"
		"Prints predicted against measured with the error per model and policy, and checks\n"
		"that the simulator counted the same work as the module, unit by unit.\n"
		"\n"
		"  --profile P         the cost profile (a file from memsim calibrate, or a built-in)\n"
		"  --scenarios S       builtin (default), small, or a file of lines\n"
		"                      `MODEL RMAP+RELINQUISH n=N [k=K] [NAME=VALUE]...` (MODEL: rmap or\n"
		"                      relinquish, the simulator model the row belongs to; pending=0|1\n"
		"                      is the module's preemption answer, default 1), or\n"
		"                      `superpage POLICY n=N`: the module maps N superpages into a forked\n"
		"                      child, the simulator runs fork-storm over N/512 GiB, one fork;\n"
		"%s"
		"  --print-scenarios   print the scenario list and exit\n"
		"  --plot OUT.png      draw predicted against measured (analysis/validate.gp; .svg too);\n"
		"                      written as plot -o is (a failed plot keeps an older OUT.png)\n"
		"  --max-error PCT     exit 1 if an error exceeds PCT %% (default: report only)\n"
		"  --no-work-check     skip the unit-by-unit comparison of simulated and module work\n"
		"%s", vfamily_usage, hw_usage);
}

int cmd_validate(int argc, char **argv)
{
	enum { OPT_PROFILE = 2000, OPT_SCEN, OPT_PRINT, OPT_PLOT, OPT_MAXERR, OPT_NOWORK };
	static const struct option opts[] = {
		HW_LONGOPTS,
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "scenarios", required_argument, NULL, OPT_SCEN },
		{ "print-scenarios", no_argument, NULL, OPT_PRINT },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "max-error", required_argument, NULL, OPT_MAXERR },
		{ "no-work-check", no_argument, NULL, OPT_NOWORK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hw_opts hw = { .mode = HW_QEMU, .events = DEFAULT_EVENTS, .timeout_s = DEFAULT_TIMEOUT_S };
	const char *db = getenv("MEMSIM_DB"), *profile = NULL, *scen = "builtin", *plot = NULL;
	const char *scen_text, *meas, *basis, *pbasis = NULL;
	struct calib_req *sc = NULL, *mreq = NULL;
	struct calib_set *sets = NULL;
	struct cost_profile prof;
	struct hw_result res;
	struct vrow *rows = NULL;
	char *scen_file = NULL, err[2048], tmpdir[PATH_MAX - 64] = "", date[32];
	double maxerr = -1, worst = 0;
	bool print = false, work_check = true, all_match = true;
	size_t nsc = 0, i;
	unsigned j;
	int ch, modes = 0, rc = EXIT_FAIL;
	char *end;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		int r = hw_opt(ch, &hw, &db, "validate", &modes);

		if (r == EXIT_USAGE)
			return EXIT_USAGE;
		if (r == 0)
			continue;
		switch (ch) {
		case OPT_PROFILE: profile = optarg; break;
		case OPT_SCEN: scen = optarg; break;
		case OPT_PRINT: print = true; break;
		case OPT_PLOT: plot = optarg; break;
		case OPT_NOWORK: work_check = false; break;
		case OPT_MAXERR:
			errno = 0;
			maxerr = strtod(optarg, &end);
			if (errno || *end || !(maxerr > 0) || maxerr > 1e6) {
				fprintf(stderr, "%s validate: --max-error %s: want a positive percentage\n",
					prog, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': validate_usage(stdout); return EXIT_OK;
		default:
			fprintf(stderr, "%s validate: %s: unknown option or missing value (see memsim "
				"validate --help)\n", prog, argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s validate: unexpected argument '%s'\n", prog, argv[optind]);
		return EXIT_USAGE;
	}
	if (hw_opts_check(&hw, modes, "validate") || db_check_early(db, "validate"))
		return EXIT_USAGE;
	scen_text = calib_builtin_scenarios(scen);
	if (!scen_text) {
		scen_file = read_file(scen, err, sizeof(err));
		if (!scen_file) {
			fprintf(stderr, "%s validate: --scenarios %s (not builtin or small either)\n",
				prog, err);
			return EXIT_USAGE;
		}
		scen_text = scen_file;
	}
	if (calib_scen_parse(scen_text, scen, &sc, &nsc, err, sizeof(err))) {
		fprintf(stderr, "%s validate: %s\n", prog, err);
		free(scen_file);
		return EXIT_USAGE;
	}
	rc = EXIT_USAGE;
	for (i = 0; i < nsc; i++) {
		char rp[CALIB_NAME_LEN], lp[CALIB_NAME_LEN];
		const struct vfamily *vf = vfamily_find(sc[i].model);

		if (vf) {
			if (vf->check(&sc[i], err, sizeof(err))) {
				fprintf(stderr, "%s validate: %s:%u: %s\n", prog, scen, sc[i].line, err);
				goto out;
			}
			continue;
		}
		if (!strcmp(sc[i].model, "superpage")) {
			if (!sc[i].n || sc[i].n % SCEN_SP_PER_GB) {
				fprintf(stderr, "%s validate: %s:%u: n=%" PRIu64 ": superpage scenarios "
					"want a multiple of %u superpages (whole GiB)\n", prog, scen,
					sc[i].line, sc[i].n, SCEN_SP_PER_GB);
				goto out;
			}
			continue;
		}
		if (strcmp(sc[i].model, "rmap") && strcmp(sc[i].model, "relinquish")) {
			fprintf(stderr, "%s validate: %s:%u: model %s: want rmap, relinquish, "
				"superpage, scrub, shadow or hinting\n", prog, scen, sc[i].line,
				sc[i].model);
			goto out;
		}
		if (split_pair(sc[i].policy, rp, lp)) {
			fprintf(stderr, "%s validate: %s:%u: policy %s: want RMAP+RELINQUISH, e.g. "
				"hash+preemptible\n", prog, scen, sc[i].line, sc[i].policy);
			goto out;
		}
		if (calib_req_param(&sc[i], "pending", 1) > 1) {
			fprintf(stderr, "%s validate: %s:%u: pending=%" PRIu64 ": want 0 or 1\n", prog,
				scen, sc[i].line, calib_req_param(&sc[i], "pending", 1));
			goto out;
		}
	}
	if (print) {
		fputs(scen_text, stdout);
		rc = EXIT_OK;
		goto out;
	}
	if (!profile) {
		fprintf(stderr, "%s validate: --profile P: the cost profile to validate is required\n", prog);
		goto out;
	}
	if (plot && (!strrchr(plot, '.') || (strcmp(strrchr(plot, '.'), ".png") &&
					      strcmp(strrchr(plot, '.'), ".svg")))) {
		fprintf(stderr, "%s validate: --plot %s: want a .png or .svg file\n", prog, plot);
		goto out;
	}
	if (plot) {
		char real[PATH_MAX];

		/* refuse a device or directory before anything is measured */
		if (out_resolve(plot, real, sizeof(real), err, sizeof(err))) {
			fprintf(stderr, "%s validate: --plot %s\n", prog, err);
			goto out;
		}
	}
	if (profile_load(profile, &prof, err, sizeof(err))) {
		fprintf(stderr, "%s validate: --profile %s\n", prog, err);
		goto out;
	}
	for (j = 0; j < prof.nmeta; j++)
		if (!strcmp(prof.meta[j].key, "basis"))
			pbasis = prof.meta[j].value;
	/* the module side: `sharing R+L destroy` (`superpage P map`) with the line's parameters */
	mreq = calloc(nsc, sizeof(*mreq));
	sets = calloc(nsc, sizeof(*sets));
	rows = calloc(nsc, sizeof(*rows));
	if (!mreq || !sets || !rows) {
		fprintf(stderr, "%s validate: out of memory\n", prog);
		rc = EXIT_FAIL;
		goto out;
	}
	for (i = 0; i < nsc; i++) {
		bool sp = !strcmp(sc[i].model, "superpage");
		const struct vfamily *vf = vfamily_find(sc[i].model);

		mreq[i] = sc[i];
		snprintf(mreq[i].model, sizeof(mreq[i].model), "%s", vf ? vf->mod_model :
			 sp ? "superpage" : "sharing");
		snprintf(mreq[i].op, sizeof(mreq[i].op), "%s", vf ? vf->mod_op : sp ? "map" : "destroy");
	}
	rc = measure(&hw, mreq, nsc, sets, &res, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s validate: %s\n", prog, err);
		free(sets);
		sets = NULL;
		goto out;
	}
	rc = EXIT_FAIL;
	meas = default_measure(&hw, &res);
	basis = basis_of(meas, &res);
	snprintf(tmpdir, sizeof(tmpdir), "%s/memsim-prof-XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		fprintf(stderr, "%s validate: %s: %s\n", prog, tmpdir, strerror(errno));
		tmpdir[0] = 0;
		goto out_sets;
	}
	for (i = 0; i < nsc; i++) {
		struct vrow *v = &rows[i];
		struct calib_set *s = &sets[i];
		uint64_t wu[WU__COUNT];
		struct work w;
		struct run r;
		size_t off = 0;

		if (calib_set_measure(s, meas, err, sizeof(err))) {
			fprintf(stderr, "%s validate: %s\n", prog, err);
			goto out_sets;
		}
		snprintf(v->model, sizeof(v->model), "%s", sc[i].model);
		snprintf(v->policy, sizeof(v->policy), "%s", sc[i].policy);
		v->n = sc[i].n;
		for (j = 0; j < sc[i].nparams && off < sizeof(v->params); j++)
			off += (size_t)snprintf(v->params + off, sizeof(v->params) - off, "%s%s=%" PRIu64,
						j ? "," : "", sc[i].pname[j], sc[i].pval[j]);
		/* the mean over the batches; the work is the same in each (deterministic) */
		for (j = 0; j < s->n; j++) {
			v->measured += s->b[j].o.y / (double)s->n;
			v->irqs += (double)s->b[j].irqs / (double)s->n;
		}
		memcpy(wu, s->b[0].o.wu, sizeof(wu));
		memset(&w, 0, sizeof(w));
		memcpy(w.n, wu, sizeof(w.n));
		w.footprint_bytes = s->b[0].o.footprint;
		v->pred_units = (double)profile_cost_ps(&prof, &w) / 1000.0;
		if (sim_scenario(&sc[i], profile, &r, &v->pred_sim, err, sizeof(err))) {
			fprintf(stderr, "%s validate: %s:%u: the simulator run failed: %s\n", prog, scen,
				sc[i].line, err);
			run_free(&r);
			goto out_sets;
		}
		snprintf(v->run_id, sizeof(v->run_id), "%s", r.run_id);
		if (db && *db) {
			struct store *st = open_db(db, err, sizeof(err));

			if (!st || run_store(&r, st, NULL, err, sizeof(err)) < 0) {
				fprintf(stderr, "%s validate: %s\n", prog, err);
				if (st)
					store_close(st);
				run_free(&r);
				goto out_sets;
			}
			store_close(st);
		}
		run_free(&r);
		v->work_match = true;
		if (work_check && compare_work(&sc[i], wu, tmpdir, &v->work_match, v->work_diff,
					       sizeof(v->work_diff), err, sizeof(err))) {
			fprintf(stderr, "%s validate: %s:%u: %s\n", prog, scen, sc[i].line, err);
			goto out_sets;
		}
		all_match &= v->work_match;
		worst = fmax(worst, fabs(err_pct(v->pred_units, v->measured)));
		worst = fmax(worst, fabs(err_pct(v->pred_sim, v->measured)));
	}

	/* the table */
	printf("memsim validate: profile %s (basis %s), %s, measure %s (basis %s)\n", prof.name,
	       pbasis ? pbasis : "not stated", mode_name(&hw, &res), meas, basis);
	if (pbasis && strcmp(pbasis, basis))
		printf("warning: the profile's basis (%s) is not what was measured (%s): the errors "
		       "compare different quantities\n", pbasis, basis);
	printf("%-10s %-26s %7s %13s %5s %13s %7s %13s %7s  %s\n", "model", "policy", "n",
	       "measured", "irqs", "pred.units", "err%", "pred.sim", "err%", "work");
	for (i = 0; i < nsc; i++) {
		const struct vrow *v = &rows[i];
		char pol[64];

		snprintf(pol, sizeof(pol), "%s%s%s", v->policy, v->params[0] ? " " : "", v->params);
		printf("%-10s %-26s %7" PRIu64 " %13.0f %5.3g %13.0f %+7.2f %13.0f %+7.2f  %s\n", v->model,
		       pol, v->n, v->measured, v->irqs, v->pred_units, err_pct(v->pred_units, v->measured),
		       v->pred_sim, err_pct(v->pred_sim, v->measured),
		       !work_check ? "not checked" : v->work_match ? "same" : v->work_diff);
	}
	{
		/* per model: the largest error of either prediction */
		const char *models[] = { "rmap", "relinquish", "superpage", "scrub", "shadow",
					 "hinting" };
		unsigned m;

		for (m = 0; m < ENV_ARRAY_SIZE(models); m++) {
			double mx = -1, sum = 0;
			unsigned cnt = 0;

			for (i = 0; i < nsc; i++) {
				if (strcmp(rows[i].model, models[m]))
					continue;
				mx = fmax(mx, fabs(err_pct(rows[i].pred_units, rows[i].measured)));
				mx = fmax(mx, fabs(err_pct(rows[i].pred_sim, rows[i].measured)));
				sum += fabs(err_pct(rows[i].pred_sim, rows[i].measured));
				cnt++;
			}
			if (cnt)
				printf("model %-10s %u scenarios: largest |error| %.2f %%, mean |error| "
				       "(simulator) %.2f %%%s\n", models[m], cnt, mx, sum / cnt,
				       maxerr > 0 ? (mx <= maxerr ? "  (within --max-error)" :
						     "  (OVER --max-error)") : "");
		}
	}
	if (work_check)
		printf("work: the simulator counted %s\n", all_match ?
		       "the same work units as the module in every scenario" :
		       "different work from the module (see the work column)");
	rc = EXIT_OK;
	iso_date(date, sizeof(date));
	if (db && *db) {
		char id[17];
		uint64_t h = prof.digest;
		int s;

		h = hash_fold(h, hash_str(scen_text));
		for (i = 0; i < nsc; i++)
			h = hash_fold(hash_fold(h, (uint64_t)rows[i].measured), (uint64_t)rows[i].pred_sim);
		snprintf(id, sizeof(id), "%016" PRIx64, h);
		s = store_validation(db, id, date, &prof, mode_name(&hw, &res), basis, meas, scen,
				     worst, rows, nsc, err, sizeof(err));
		if (s < 0) {
			fprintf(stderr, "%s validate: %s\n", prog, err);
			rc = EXIT_FAIL;
		} else {
			printf("validation %s %s %s\n", id, s ? "already stored in" : "stored in", db);
		}
	}
	if (plot) {
		char title[256];
		int p;

		snprintf(title, sizeof(title), "memsim validate: profile %s, %s", prof.name,
			 mode_name(&hw, &res));
		p = plot_validation(plot, rows, nsc, title, !strcmp(basis, "instructions") ?
				    "instructions" : !strcmp(basis, "cycles") ? "cycles" : "time (ns)",
				    maxerr > 0 ? maxerr : 15, err, sizeof(err));
		if (p) {
			fprintf(stderr, "%s validate: %s\n", prog, err);
			rc = p == 2 ? EXIT_USAGE : EXIT_FAIL;
		} else {
			printf("plot written to %s\n", plot);
		}
	}
	if (rc == EXIT_OK && (!all_match || (maxerr > 0 && worst > maxerr)))
		rc = EXIT_FAIL;
out_sets:
	for (i = 0; i < nsc; i++)
		calib_set_free(&sets[i]);
	if (rc == EXIT_OK || rc == EXIT_FAIL)
		measure_done(&res);
out:
	if (tmpdir[0])
		rm_tree(tmpdir);
	free(sets);
	free(rows);
	free(mreq);
	free(sc);
	free(scen_file);
	return rc;
}
