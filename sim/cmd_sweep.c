/* SPDX-License-Identifier: MIT */
/*
 * sim/cmd_sweep.c — `memsim sweep`: many runs over a grid of parameters (docs/sweeps.md).
 *
 * How a sweep runs
 *   1. The axes (sim/sweep.c) are resolved against the base run (model, trace or scenario,
 *      profile, --set values): every axis must name a parameter of the run, every point's
 *      values must be valid, before anything runs.
 *   2. The sweep id is a digest of the sweep's canonical specification (memsim version,
 *      model, trace base name and digest, profile, base seed, fixed parameters, axes; not
 *      reps), so the same sweep typed again, resumed, extended with more repetitions, or
 *      run as shards on other machines (the trace at another path) has the same id.
 *   3. Every point of this shard is prepared: its run id (a digest of the run's whole
 *      configuration) is looked up in the database; points already stored are skipped.
 *   4. The rest is handed to --jobs worker processes.  A worker takes the next point from a
 *      counter in shared memory, runs it, stores it in its own transaction (the store copes
 *      with several writers: WAL, busy timeout, retries) and reports to the parent through a
 *      pipe.  The parent only supervises: progress, error lines, a worker that died.
 *
 * Why resume is exact: a run is in the database complete or not at all, and its id is a
 * function of its configuration.  A sweep killed at any instant (the parent, a worker, or
 * the machine) leaves some runs stored; the re-run finds them by id and runs only the
 * others.  Two processes racing on one point both compute the same result; the second
 * store sees the id with the same event digest and writes nothing.
 *
 * Workers die with the parent (PR_SET_PDEATHSIG), so a killed sweep leaves no orphans
 * writing behind the next one.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cmds.h"
#include "hash.h"
#include "memlimit.h"
#include "run.h"
#include "store.h"
#include "sweep.h"
#include "util.h"

#define MAX_JOBS 256
#define MSG_TEXT 480

static void usage(FILE *out)
{
	fprintf(out,
		"usage: memsim sweep (--trace FILE | --scenario NAME) [--model M] [--policy P[,P...]]\n"
		"                    [--set NAME=VALUE]... [--seed N] [--profile P] [--reps N]\n"
		"                    [--file SPECFILE]... [--if COND]... [--jobs N] [--shard I/N]\n"
		"                    [--max-mem SIZE] [--db FILE] [--dry-run] [--quiet] [NAME=SPEC]...\n"
		"\n"
		"Runs every point of a grid of parameters and stores each run in the database.\n"
		"Points already stored (same configuration, trace, seed, profile, memsim version) are\n"
		"not run again, so an interrupted sweep is finished by running it again.\n"
		"\n"
		"  NAME=SPEC          a swept parameter:\n"
		"                       heavy=64,128,256      a list\n"
		"                       heavy=64..4096*2      a range by factor\n"
		"                       batch=128..2048+128   a range by step\n"
		"                       light=heavy/4         derived, per point (+ - * / %% ( ) min max)\n"
		"  --policy P,Q,...   sweep the model's policies (same as policy=P,Q,...)\n"
		"  --reps N           N repetitions of each point with distinct seeds (rep 0: --seed)\n"
		"                     run again with more to extend the sweep (same id, stored\n"
		"                     repetitions reused; docs/sweeps.md, Extending a sweep)\n"
		"  --if COND          leave out points where COND is false, e.g. 'light < heavy'\n"
		"                     (< <= > >= == != && || over parameters and integers)\n"
		"  --file SPECFILE    NAME=SPEC and 'if COND' lines from a file ('#' comments); a\n"
		"                     regular file of at most 1 MiB.  An experiment file may also\n"
		"                     say model = M, trace = FILE | scenario = NAME, profile = P,\n"
		"                     reps = N, seed = N and 'set NAME=VALUE' lines; the command\n"
		"                     line overrides them (--set NAME wins over set NAME).  The\n"
		"                     first file is stored verbatim with the sweep\n"
		"  --jobs N           worker processes (default 1; 0: one per CPU)\n"
		"  --shard I/N        run only points I-1, I-1+N, I-1+2N, ... (for GNU parallel, Slurm)\n"
		"  --max-mem SIZE     most memory each point's model may hold (0: no limit; default\n"
		"                     3/4 of MemAvailable or of ulimit -v if lower, over --jobs).  A\n"
		"                     point estimated above it refuses the sweep before any point runs\n"
		"  --db FILE          results database (default $MEMSIM_DB, else memsim.db): a\n"
		"                     regular file or a new one, opened and checked before any run\n"
		"  --dry-run          print the points, their run ids and whether they are stored\n"
		"  --quiet            no progress display (the summary line is always printed)\n"
		"  --json             also print the summary as one JSON object on stdout\n"
		"  run options        --trace --scenario --model --set --seed --profile as memsim run\n"
		"example: memsim sweep --file hyst.exp --reps 5     (the file's sweep, 5 repetitions)\n"
		"\n"
		"Exit status: 0 all points stored, 1 a point failed or could not be stored (the sweep\n"
		"stops at the first point the database cannot store: run it again once there is\n"
		"room), 2 bad usage or a bad --db, 130 interrupted.\n");
}

/* What a worker sends back per point.  PT_STORE_FAILED: the database could not store it
 * (I/O error, full disk): the sweep stops there instead of computing points it cannot keep. */
enum { PT_RAN = 0, PT_RACED = 1, PT_FAILED = 2, PT_STORE_FAILED = 3 };

struct msg {
	uint32_t k;               /* index into todo[] */
	int32_t status;
	char text[MSG_TEXT];      /* the error line of a failed point */
};

/* Shared between the parent and the workers (MAP_SHARED). */
struct shared {
	size_t next;              /* next todo[] index to take */
	long cur[MAX_JOBS];       /* todo[] index a worker is running, or -1 */
};

struct sweep_ctx {
	struct run_opts base;     /* options shared by every point */
	struct run base_run;      /* prepared base: parameter table for names and defaults */
	struct sweep sw;
	struct sweep_experiment exp;	/* --file settings: model, trace, reps, set lines ... */
	unsigned shard_i, shard_n;
	const char *db;
	char sweep_id[17];
	char *spec;               /* canonical specification (JSON) */
	size_t *todo;             /* point indices still to run */
	size_t ntodo;
	struct shared *sh;
	int kill_after;           /* test hook: see tests/cli/sweep.sh */

	/* the command line, as parsed (cmd_sweep's parse_opts) */
	const char *files[64], *conds[SWEEP_MAX_CONDS], *policies;
	unsigned nfiles, nconds, jobs;
	bool dry, quiet, json, reps_set, seed_set;
	char max_mem_how[160];
	/* this shard's points (plan_shard) */
	size_t nshard, stored, adopted;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) { interrupted = sig; }
static void on_child(int sig) { (void)sig; }

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- the base run, the resolver, the canonical spec -------------------------------------- */

static int base_resolve(void *vctx, const char *name, uint64_t *v)
{
	const struct param_set *ps = &((struct sweep_ctx *)vctx)->base_run.params;
	int i = param_find(ps, name);

	if (i < 0)
		return -ENOENT;
	if (ps->defs[i].kind != PARAM_INT)
		return -EINVAL;
	*v = ps->values[i];
	return 0;
}

/*
 * The sweep's identity: everything that decides its set of run ids, normalised (suffixes
 * expanded, ranges listed, spaces dropped), and nothing about how it is run (jobs, shard,
 * database).  The id digests the spec without "reps": a sweep run again with more
 * repetitions is the same sweep, extended (its first reps are the same runs).
 */
static int make_spec(struct sweep_ctx *c)
{
	const struct run *b = &c->base_run;
	const struct param_set *ps = &b->params;
	size_t len = 0, i, reps_at, reps_end;
	bool first = true;
	char v[64], *id_spec;
	FILE *f = open_memstream(&c->spec, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "{\"memsim_version\":");
	json_write_string(f, MEMSIM_VERSION);
	fprintf(f, ",\"model\":");
	json_write_string(f, b->drv->name);
	/* the trace as run ids name it (base name and digest): how its path was spelled, or
	 * where the file is on this machine, is no part of the sweep */
	fprintf(f, ",\"trace\":");
	json_write_string(f, run_trace_id_name(b));
	if (!b->scen)	/* a generated trace's digest depends on the point; a file's does not */
		fprintf(f, ",\"trace_digest\":\"%016" PRIx64 "\"", b->trace_digest);
	fprintf(f, ",\"profile\":");
	json_write_string(f, b->profile.name);
	fprintf(f, ",\"profile_digest\":\"%016" PRIx64 "\",\"seed\":%" PRIu64,
		b->profile.digest, c->sw.base_seed);
	/* the repetitions are stored but are no part of the id: more reps extend the sweep */
	fflush(f);
	reps_at = len;
	fprintf(f, ",\"reps\":%u", c->sw.reps);
	fflush(f);
	reps_end = len;
	if (sweep_axis_find(&c->sw, "policy") < 0) {
		fprintf(f, ",\"policy\":");
		json_write_string(f, b->policy);
	}
	fprintf(f, ",\"fixed\":{");
	for (i = 0; i < ps->n; i++) {
		if (!ps->explicit_set[i])
			continue;
		param_value_text(ps, i, v, sizeof(v));
		fprintf(f, "%s", first ? "" : ",");
		json_write_string(f, ps->defs[i].name);
		fputc(':', f);
		if (ps->defs[i].kind == PARAM_INT)
			fputs(v, f);
		else
			json_write_string(f, v);
		first = false;
	}
	fprintf(f, "},\"axes\":");
	sweep_write_axes_json(&c->sw, f);
	fputc('}', f);
	if (fclose(f))
		return -ENOMEM;
	id_spec = malloc(len + 1);
	if (!id_spec)
		return -ENOMEM;
	memcpy(id_spec, c->spec, reps_at);
	memcpy(id_spec + reps_at, c->spec + reps_end, len - reps_end + 1);
	snprintf(c->sweep_id, sizeof(c->sweep_id), "%016" PRIx64, hash_str(id_spec));
	free(id_spec);
	return 0;
}

/* "policy=hash heavy=64 light=16 rep=1" */
static void point_label(const struct sweep_point *pt, char *buf, size_t len)
{
	size_t k, off = 0;

	buf[0] = 0;
	if (pt->policy)
		off += (size_t)snprintf(buf + off, len - off, "policy=%s", pt->policy);
	for (k = 0; k < pt->nsets && off < len; k++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? " " : "", pt->sets[k]);
	if (off < len)
		snprintf(buf + off, len - off, "%srep=%u", off ? " " : "", pt->rep);
}

/* Prepares point idx into r.  EXIT_OK, or EXIT_USAGE with "point #i (label): why" in err. */
static int prepare_point(const struct sweep_ctx *c, size_t idx, struct sweep_point *pt,
			 struct run *r, char *err, size_t errlen)
{
	struct run_opts o = c->base;
	char msg[1024], label[512];
	size_t k;
	int rc;

	if (sweep_point(&c->sw, idx, pt, msg, sizeof(msg))) {
		snprintf(err, errlen, "point #%zu: %s", idx, msg);
		memset(r, 0, sizeof(*r));
		return EXIT_USAGE;
	}
	if (pt->policy)
		o.policy = pt->policy;
	o.seed = pt->seed;
	for (k = 0; k < pt->nsets; k++)
		o.sets[o.nsets++] = pt->sets[k];
	rc = run_prepare(r, &o, msg, sizeof(msg));
	if (rc != EXIT_OK) {
		point_label(pt, label, sizeof(label));
		snprintf(err, errlen, "point #%zu (%.300s): %.600s", idx, label, msg);
	}
	return rc;
}

/* ---- workers -------------------------------------------------------------------------- */

static void send_msg(int fd, uint32_t k, int status, const char *text)
{
	struct msg m;
	ssize_t w;

	memset(&m, 0, sizeof(m));
	m.k = k;
	m.status = status;
	snprintf(m.text, sizeof(m.text), "%s", text ? text : "");
	do
		w = write(fd, &m, sizeof(m));	/* <= PIPE_BUF: atomic among writers */
	while (w < 0 && errno == EINTR);
}

/* Runs and stores one point.  PT_RAN, PT_RACED (someone stored it meanwhile), PT_FAILED
 * (the point: bad values, a conflict), PT_STORE_FAILED (the database). */
static int run_point(const struct sweep_ctx *c, struct store *st, size_t idx, char *err,
		     size_t errlen)
{
	struct sweep_point pt;
	struct run r;
	char msg[1024], label[512];
	int rc;

	rc = prepare_point(c, idx, &pt, &r, err, errlen);
	if (rc != EXIT_OK) {
		run_free(&r);
		return PT_FAILED;
	}
	rc = run_execute(&r, msg, sizeof(msg));
	if (rc == EXIT_OK) {
		rc = run_store(&r, st, c->sweep_id, msg, sizeof(msg));
		if (rc >= 0) {
			run_free(&r);
			return rc == 1 ? PT_RACED : PT_RAN;
		}
		rc = store_put_failed_on_conflict(st) ? PT_FAILED : PT_STORE_FAILED;
	} else {
		rc = PT_FAILED;
	}
	point_label(&pt, label, sizeof(label));
	snprintf(err, errlen, "point #%zu (%.300s), run %s: %s%.600s", idx, label, r.run_id,
		 rc == PT_STORE_FAILED ? "cannot store: " : "", msg);
	run_free(&r);
	return rc;
}

static void __attribute__((noreturn)) worker(struct sweep_ctx *c, int wid, int fd, pid_t parent)
{
	struct sigaction sa;
	struct store *st;
	char err[1024];
	int stored = 0;

	setenv("MEMSIM_NO_PROGRESS", "1", 1);   /* the parent draws the sweep's line */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	/* die with the parent; it may have died before the prctl */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);

	st = store_open(c->db, err, sizeof(err));
	if (!st) {
		send_msg(fd, UINT32_MAX, PT_STORE_FAILED, err);
		_exit(1);
	}
	for (;;) {
		size_t k = __atomic_fetch_add(&c->sh->next, 1, __ATOMIC_SEQ_CST);
		int status;

		if (k >= c->ntodo)
			break;
		__atomic_store_n(&c->sh->cur[wid], (long)k, __ATOMIC_SEQ_CST);
		err[0] = 0;
		status = run_point(c, st, c->todo[k], err, sizeof(err));
		send_msg(fd, (uint32_t)k, status, err);
		__atomic_store_n(&c->sh->cur[wid], -1L, __ATOMIC_SEQ_CST);
		if (status == PT_STORE_FAILED) {
			store_close(st);
			_exit(1);	/* the parent stops the others */
		}
		/* test hook: the whole sweep dies by SIGKILL right after this many stores */
		if (status == PT_RAN && c->kill_after && ++stored == c->kill_after) {
			kill(parent, SIGKILL);
			raise(SIGKILL);
		}
	}
	store_close(st);
	_exit(0);
}

/* ---- the supervisor ------------------------------------------------------------------- */

struct tally {
	size_t ran, raced, failed, lost;
	bool store_failed;        /* a point could not be stored: stop */
	double t0;
	double last_draw;
	bool progress;            /* stderr is a terminal */
	bool drawn;
};

static void fmt_dur(double s, char *buf, size_t len)
{
	long t = (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else if (t >= 60)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, len, "%lds", t);
}

static void clear_progress(struct tally *t)
{
	if (t->drawn)
		fputs("\r\033[K", stderr);
	t->drawn = false;
}

static void draw_progress(struct tally *t, size_t total, bool force)
{
	double now = now_s(), el = now - t->t0, rate;
	size_t done = t->ran + t->raced + t->failed;
	char eta[32] = "?";

	if (!t->progress || (!force && now - t->last_draw < 0.2))
		return;
	t->last_draw = now;
	rate = el > 0 ? done / el : 0;
	if (rate > 0)
		fmt_dur((double)(total - done) / rate, eta, sizeof(eta));
	fprintf(stderr, "\r\033[Ksweep: %zu/%zu points (%.0f%%)  %.2f points/s  ETA %s%s",
		done, total, total ? 100.0 * done / total : 100.0, rate, eta,
		t->failed ? "  (failures)" : "");
	t->drawn = true;
}

static void take_msgs(int fd, struct tally *t, struct sweep_ctx *c)
{
	struct msg m;
	ssize_t n;

	while ((n = read(fd, &m, sizeof(m))) == (ssize_t)sizeof(m)) {
		if (m.status == PT_RAN)
			t->ran++;
		else if (m.status == PT_RACED)
			t->raced++;
		if (m.status == PT_FAILED || m.status == PT_STORE_FAILED) {
			if (m.k != UINT32_MAX)
				t->failed++;
			clear_progress(t);
			fprintf(stderr, "memsim sweep: %s\n", m.text);
		}
		if (m.status == PT_STORE_FAILED && !t->store_failed) {
			/* no worker takes another point; run_all() stops the running ones */
			t->store_failed = true;
			__atomic_store_n(&c->sh->next, c->ntodo, __ATOMIC_SEQ_CST);
		}
		draw_progress(t, c->ntodo, false);
	}
}

static int spawn(struct sweep_ctx *c, int wid, int fd, pid_t *pids)
{
	pid_t parent = getpid(), p;

	c->sh->cur[wid] = -1;
	fflush(NULL);
	p = fork();
	if (p < 0)
		return -errno;
	if (p == 0)
		worker(c, wid, fd, parent);
	pids[wid] = p;
	return 0;
}

/* Runs todo[] on `jobs` workers.  Returns the tally; sets *signo if interrupted. */
static int run_all(struct sweep_ctx *c, unsigned jobs, bool quiet, struct tally *t)
{
	pid_t pids[MAX_JOBS];
	struct sigaction sa, old_int, old_term, old_hup, old_chld;
	int pfd[2], alive = 0, rc = 0;
	bool killed = false;
	unsigned w;

	memset(t, 0, sizeof(*t));
	t->t0 = now_s();
	t->progress = !quiet && isatty(STDERR_FILENO);
	if (!c->ntodo)
		return 0;
	c->sh = mmap(NULL, sizeof(*c->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	if (c->sh == MAP_FAILED) {
		c->sh = NULL;
		fprintf(stderr, "memsim sweep: shared memory: %s\n", strerror(errno));
		return -1;
	}
	if (pipe(pfd)) {
		fprintf(stderr, "memsim sweep: pipe: %s\n", strerror(errno));
		return -1;
	}
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	fcntl(pfd[0], F_SETFD, FD_CLOEXEC);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	sa.sa_handler = on_child;	/* no SA_RESTART: a dying worker wakes poll() */
	sigaction(SIGCHLD, &sa, &old_chld);

	if (jobs > c->ntodo)
		jobs = (unsigned)c->ntodo;
	for (w = 0; w < jobs; w++) {
		if (spawn(c, (int)w, pfd[1], pids)) {
			fprintf(stderr, "memsim sweep: fork: %s\n", strerror(errno));
			if (!w) {
				rc = -1;
				goto out;
			}
			jobs = w;
			break;
		}
		alive++;
	}
	while (alive > 0) {
		struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
		int status;
		pid_t p;

		poll(&pf, 1, 250);
		take_msgs(pfd[0], t, c);
		if ((interrupted || t->store_failed) && !killed) {
			for (w = 0; w < jobs; w++)
				if (pids[w] > 0)
					kill(pids[w], SIGKILL);
			killed = true;
		}
		while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
			for (w = 0; w < jobs && pids[w] != p; w++)
				;
			if (w == jobs)
				continue;
			pids[w] = 0;
			alive--;
			take_msgs(pfd[0], t, c);
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				continue;
			if (c->sh->cur[w] >= 0 && !killed) {
				long k = c->sh->cur[w];
				struct sweep_point pt;
				char label[512], e[16];

				sweep_point(&c->sw, c->todo[k], &pt, e, sizeof(e));
				point_label(&pt, label, sizeof(label));
				clear_progress(t);
				if (WIFSIGNALED(status))
					fprintf(stderr, "memsim sweep: point #%zu (%s): the worker died "
						"(%s)\n", c->todo[k], label, strsignal(WTERMSIG(status)));
				else
					fprintf(stderr, "memsim sweep: point #%zu (%s): the worker exited "
						"with status %d\n", c->todo[k], label,
						WEXITSTATUS(status));
				t->failed++;
			}
			/* replace it while there is work left */
			if (!interrupted && __atomic_load_n(&c->sh->next, __ATOMIC_SEQ_CST) < c->ntodo &&
			    !(WIFEXITED(status) && WEXITSTATUS(status) == 1 && c->sh->cur[w] < 0) &&
			    spawn(c, (int)w, pfd[1], pids) == 0)
				alive++;
		}
		draw_progress(t, c->ntodo, false);
	}
	take_msgs(pfd[0], t, c);
	{
		size_t got = t->ran + t->raced + t->failed;

		if (!interrupted && got < c->ntodo)
			t->lost = c->ntodo - got;
	}
out:
	clear_progress(t);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGCHLD, &old_chld, NULL);
	close(pfd[0]);
	close(pfd[1]);
	munmap(c->sh, sizeof(*c->sh));
	c->sh = NULL;
	return rc;
}

/* ---- the command ---------------------------------------------------------------------- */

enum {
	OPT_TRACE = 256, OPT_SCEN, OPT_MODEL, OPT_POLICY, OPT_SET, OPT_SEED, OPT_PROFILE, OPT_DB,
	OPT_REPS, OPT_FILE, OPT_IF, OPT_JOBS, OPT_SHARD, OPT_DRY, OPT_QUIET, OPT_HELP,
	OPT_MAXMEM, OPT_JSON,
};

static int check_axes(struct sweep_ctx *c, char *err, size_t errlen)
{
	const struct param_set *ps = &c->base_run.params;
	size_t i;

	for (i = 0; i < c->sw.naxes; i++) {
		const struct sweep_axis *ax = &c->sw.axes[i];
		const char *w = ax->where;
		int p;

		if (!strcmp(ax->name, "policy")) {
			size_t j;

			for (j = 0; j < ax->nvalues; j++) {
				if (driver_policy_index(c->base_run.drv, ax->values[j].text) < 0) {
					size_t off = (size_t)snprintf(err, errlen,
						"%s%spolicy=%s: '%s' is not a policy of model %s; known:",
						w, *w ? ": " : "", ax->spec, ax->values[j].text,
						c->base_run.drv->name);
					const char *const *pl = c->base_run.drv->policies;

					for (; *pl && off < errlen; pl++)
						off += (size_t)snprintf(err + off, errlen - off, " %s", *pl);
					return -1;
				}
			}
			if (ax->expr) {
				snprintf(err, errlen, "%s%spolicy=%s: a policy is a name, not an expression",
					 w, *w ? ": " : "", ax->spec);
				return -1;
			}
			continue;
		}
		p = param_find(ps, ax->name);
		if (p < 0) {
			snprintf(err, errlen, "%s%s%s=%s: unknown parameter '%s' (memsim run --params "
				 "--model %s lists them)", w, *w ? ": " : "", ax->name, ax->spec,
				 ax->name, c->base_run.drv->name);
			return -1;
		}
		if (ps->explicit_set[p]) {
			snprintf(err, errlen, "%s%s%s=%s: %s is also fixed by --set", w, *w ? ": " : "",
				 ax->name, ax->spec, ax->name);
			return -1;
		}
	}
	return 0;
}

/* Checks every point's values against the parameter table and its memory estimate against
 * --max-mem, shard or not, so every shard of a sweep accepts or refuses it alike, before the
 * database is touched (cheap: no trace is read).  EXIT_OK, or the exit status + message. */
static int check_points(const struct sweep_ctx *c, char *err, size_t errlen)
{
	struct param_set *ps = malloc(sizeof(*ps));
	size_t i, k;
	int rc = 0;

	if (!ps) {
		snprintf(err, errlen, "out of memory");
		return EXIT_FAIL;
	}
	for (i = 0; i < c->sw.npoints && !rc; i += c->sw.reps) {
		struct sweep_point pt;
		char msg[1024], label[512];

		if (sweep_point(&c->sw, i, &pt, msg, sizeof(msg))) {
			snprintf(err, errlen, "%s", msg);
			rc = EXIT_USAGE;
			break;
		}
		*ps = c->base_run.params;
		for (k = 0; k < pt.nsets; k++) {
			if (param_set_assign(ps, pt.sets[k], msg, sizeof(msg))) {
				point_label(&pt, label, sizeof(label));
				/* param_set_assign speaks of --set; here the value comes from an axis */
				snprintf(err, errlen, "point #%zu (%s): %s", i, label,
					 !strncmp(msg, "--set ", 6) ? msg + 6 : msg);
				rc = EXIT_USAGE;
				break;
			}
		}
		if (!rc && (rc = run_check_memory(&c->base_run, ps, c->base.max_mem,
						  c->base.max_mem_how, msg, sizeof(msg)))) {
			point_label(&pt, label, sizeof(label));
			snprintf(err, errlen, "point #%zu (%.300s): %.600s", i, label, msg);
		}
	}
	free(ps);
	return rc;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/*
 * An experiment file's settings, under the command line: an option given on the command
 * line wins over the file's line (the file is the default, the command line the exception:
 * `--reps 5` extends a file's sweep, `--scenario` replaces its trace).  A fixed `set` line is
 * applied before every --set, so --set NAME=V wins for that NAME.  EXIT_OK or EXIT_USAGE.
 */
static int apply_experiment(struct sweep_ctx *c, bool reps_set, bool seed_set)
{
	struct sweep_experiment *x = &c->exp;
	uint64_t v;
	unsigned i;

	if (x->model && !c->base.model)
		c->base.model = x->model;
	if (x->profile && !c->base.profile)
		c->base.profile = x->profile;
	if ((x->trace || x->scenario) && !c->base.trace && !c->base.scenario) {
		if (x->trace && x->scenario) {
			fprintf(stderr, "memsim sweep: the experiment file names both a trace and a "
				"scenario: keep one\n");
			return EXIT_USAGE;
		}
		c->base.trace = x->trace;
		c->base.scenario = x->scenario;
	}
	if (x->reps && !reps_set) {
		if (param_parse_u64(x->reps, &v) || v < 1 || v > SWEEP_MAX_REPS) {
			fprintf(stderr, "memsim sweep: reps = %s: not an integer in [1, %d]\n", x->reps,
				SWEEP_MAX_REPS);
			return EXIT_USAGE;
		}
		c->sw.reps = (unsigned)v;
	}
	if (x->seed && !seed_set) {
		if (param_parse_u64(x->seed, &c->base.seed)) {
			fprintf(stderr, "memsim sweep: seed = %s: not a non-negative integer\n",
				x->seed);
			return EXIT_USAGE;
		}
		c->sw.base_seed = c->base.seed;
	}
	if (x->nsets) {
		if (c->base.nsets + x->nsets > RUN_MAX_SETS) {
			fprintf(stderr, "memsim sweep: more than %d fixed settings (set lines and "
				"--set)\n", RUN_MAX_SETS);
			return EXIT_USAGE;
		}
		/* the command line wins: a file's set line for a name --set also gives is dropped
		 * (a parameter may be set only once) */
		unsigned keep = 0, ncli = c->base.nsets, j;

		memmove(c->base.sets + x->nsets, c->base.sets, ncli * sizeof(*c->base.sets));
		for (i = 0; i < x->nsets; i++) {
			size_t len = strcspn(x->sets[i], "=");
			bool on_cli = false;

			for (j = 0; j < ncli && !on_cli; j++) {
				const char *cli = c->base.sets[x->nsets + j];

				on_cli = strcspn(cli, "=") == len && !strncmp(cli, x->sets[i], len);
			}
			if (!on_cli)
				c->base.sets[keep++] = x->sets[i];
		}
		memmove(c->base.sets + keep, c->base.sets + x->nsets, ncli * sizeof(*c->base.sets));
		c->base.nsets = keep + ncli;
	}
	return EXIT_OK;
}

/* The options into c (the axes stay in argv from optind).  0, 1 for --help (printed), or
 * EXIT_USAGE with a message. */
static int parse_opts(struct sweep_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "scenario", required_argument, NULL, OPT_SCEN },
		{ "model", required_argument, NULL, OPT_MODEL },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "set", required_argument, NULL, OPT_SET },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "db", required_argument, NULL, OPT_DB },
		{ "reps", required_argument, NULL, OPT_REPS },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "if", required_argument, NULL, OPT_IF },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "max-mem", required_argument, NULL, OPT_MAXMEM },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool max_mem_set = false;
	uint64_t v;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_TRACE: c->base.trace = optarg; break;
		case OPT_SCEN: c->base.scenario = optarg; break;
		case OPT_MODEL: c->base.model = optarg; break;
		case OPT_POLICY: c->policies = optarg; break;
		case OPT_PROFILE: c->base.profile = optarg; break;
		case OPT_DB: c->db = optarg; break;
		case OPT_DRY: c->dry = true; break;
		case OPT_QUIET: c->quiet = true; break;
		case OPT_JSON: c->json = true; break;
		case OPT_MAXMEM:
			if (memlimit_parse(optarg, &c->base.max_mem)) {
				fprintf(stderr, "memsim sweep: --max-mem %s: not a size (e.g. 8Gi, 500M, "
					"0 for no limit)\n", optarg);
				return EXIT_USAGE;
			}
			max_mem_set = true;
			break;
		case OPT_SET:
			if (c->base.nsets == RUN_MAX_SETS) {
				fprintf(stderr, "memsim sweep: more than %d --set options\n", RUN_MAX_SETS);
				return EXIT_USAGE;
			}
			c->base.sets[c->base.nsets++] = optarg;
			break;
		case OPT_SEED:
			if (param_parse_u64(optarg, &c->base.seed)) {
				fprintf(stderr, "memsim sweep: --seed %s: not a non-negative integer\n",
					optarg);
				return EXIT_USAGE;
			}
			c->seed_set = true;
			break;
		case OPT_REPS:
			if (param_parse_u64(optarg, &v) || v < 1 || v > SWEEP_MAX_REPS) {
				fprintf(stderr, "memsim sweep: --reps %s: not an integer in [1, %d]\n",
					optarg, SWEEP_MAX_REPS);
				return EXIT_USAGE;
			}
			c->sw.reps = (unsigned)v;
			c->reps_set = true;
			break;
		case OPT_JOBS:
			if (param_parse_u64(optarg, &v) || v > MAX_JOBS) {
				fprintf(stderr, "memsim sweep: --jobs %s: not an integer in [0, %d]\n",
					optarg, MAX_JOBS);
				return EXIT_USAGE;
			}
			c->jobs = (unsigned)v;
			if (!c->jobs) {
				long n = sysconf(_SC_NPROCESSORS_ONLN);

				c->jobs = n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : (unsigned)n;
			}
			break;
		case OPT_SHARD:
			if (sweep_parse_shard(optarg, &c->shard_i, &c->shard_n)) {
				fprintf(stderr, "memsim sweep: --shard %s: expected I/N with 1 <= I <= N\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_FILE:
			if (c->nfiles == sizeof(c->files) / sizeof(c->files[0])) {
				fprintf(stderr, "memsim sweep: too many --file options\n");
				return EXIT_USAGE;
			}
			c->files[c->nfiles++] = optarg;
			break;
		case OPT_IF:
			if (c->nconds == SWEEP_MAX_CONDS) {
				fprintf(stderr, "memsim sweep: more than %d --if options\n",
					SWEEP_MAX_CONDS);
				return EXIT_USAGE;
			}
			c->conds[c->nconds++] = optarg;
			break;
		case OPT_HELP:
		case 'h':
			usage(stdout);
			return 1;
		default:
			fprintf(stderr, "memsim sweep: %s: unknown option or missing value "
				"(see memsim sweep --help)\n", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	c->sw.base_seed = c->base.seed;
	c->base.max_mem_how = "--max-mem";
	if (!max_mem_set) {
		c->base.max_mem = memlimit_default(c->jobs, c->max_mem_how,
						   sizeof(c->max_mem_how));
		c->base.max_mem_how = c->max_mem_how;
	}
	return 0;
}

/* The axes (experiment files first, then the command line's NAME=SPEC, then --policy in
 * front, then --if), the base run, the points and the canonical spec.  EXIT_OK, or an exit
 * code with a message. */
static int build_sweep(struct sweep_ctx *c, int argc, char **argv)
{
	char err[2048];
	unsigned i;
	int rc;

	for (i = 0; i < c->nfiles; i++) {
		if (sweep_add_experiment(&c->sw, c->files[i], &c->exp, err, sizeof(err))) {
			fprintf(stderr, "memsim sweep: %s\n", err);
			return EXIT_USAGE;
		}
	}
	if (c->nfiles && apply_experiment(c, c->reps_set, c->seed_set))
		return EXIT_USAGE;
	for (; optind < argc; optind++) {
		if (!strchr(argv[optind], '=')) {
			fprintf(stderr, "memsim sweep: '%s': expected NAME=SPEC or an option "
				"(see memsim sweep --help)\n", argv[optind]);
			return EXIT_USAGE;
		}
		if (sweep_add(&c->sw, argv[optind], NULL, err, sizeof(err))) {
			fprintf(stderr, "memsim sweep: %s\n", err);
			return EXIT_USAGE;
		}
	}
	if (c->policies && sweep_add_policies(&c->sw, c->policies, err, sizeof(err))) {
		fprintf(stderr, "memsim sweep: %s\n", err);
		return EXIT_USAGE;
	}
	for (i = 0; i < c->nconds; i++) {
		if (sweep_add_cond(&c->sw, c->conds[i], NULL, err, sizeof(err))) {
			fprintf(stderr, "memsim sweep: %s\n", err);
			return EXIT_USAGE;
		}
	}

	/* the base run: everything but the axes (the first policy stands for all) */
	{
		struct run_opts o = c->base;
		int pi = sweep_axis_find(&c->sw, "policy");

		if (pi >= 0 && c->sw.axes[pi].nvalues)
			o.policy = c->sw.axes[pi].values[0].text;
		o.max_mem = 0;   /* never run: its defaults may exceed what the points need */
		rc = run_prepare(&c->base_run, &o, err, sizeof(err));
		if (rc != EXIT_OK) {
			fprintf(stderr, "memsim sweep: %s\n", err);
			return rc;
		}
	}
	rc = EXIT_USAGE;
	if (check_axes(c, err, sizeof(err)) ||
	    sweep_finish(&c->sw, base_resolve, c, err, sizeof(err)) ||
	    (rc = check_points(c, err, sizeof(err))) != EXIT_OK) {
		fprintf(stderr, "memsim sweep: %s\n", err);
		return rc == EXIT_OK ? EXIT_USAGE : rc;
	}
	if (make_spec(c)) {
		fprintf(stderr, "memsim sweep: out of memory\n");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* The database: read-only (and optional) for a dry run; otherwise the sweep and its
 * experiment file are stored before any point runs.  EXIT_OK with *st (NULL for a dry run
 * without a database), or an exit code with a message. */
static int open_db(struct sweep_ctx *c, struct store **st)
{
	char err[2048];

	*st = NULL;
	if (c->dry) {
		struct stat sb;

		if (stat(c->db, &sb) == 0 && !(*st = store_open_readonly(c->db, err, sizeof(err)))) {
			fprintf(stderr, "memsim sweep: %s\n", err);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	*st = store_open(c->db, err, sizeof(err));
	if (!*st) {	/* a bad --db: before anything runs */
		fprintf(stderr, "memsim sweep: --db %s\n", err);
		return EXIT_USAGE;
	}
	if (store_put_sweep(*st, c->sweep_id, c->spec, err, sizeof(err)) < 0 ||
	    (c->exp.text && store_put_sweep_file(*st, c->sweep_id, base_name(c->files[0]),
						 c->exp.text, err, sizeof(err)))) {
		fprintf(stderr, "memsim sweep: %s\n", err);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* This shard's points: each prepared (its run id); those stored are skipped, and a stored
 * plain run that is one of them joins the sweep.  A dry run lists them.  Fills c->todo. */
static int plan_shard(struct sweep_ctx *c, struct store *st)
{
	char err[2048];
	size_t k;

	c->todo = malloc((c->sw.npoints / c->shard_n + 1) * sizeof(*c->todo));
	if (!c->todo) {
		fprintf(stderr, "memsim sweep: out of memory\n");
		return EXIT_FAIL;
	}
	for (k = c->shard_i - 1; k < c->sw.npoints; k += c->shard_n) {
		struct sweep_point pt;
		struct run r;
		int have = 0, rc = EXIT_OK;

		if (prepare_point(c, k, &pt, &r, err, sizeof(err)) != EXIT_OK) {
			fprintf(stderr, "memsim sweep: %s\n", err);
			run_free(&r);
			return EXIT_USAGE;
		}
		c->nshard++;
		if (st && (have = store_has_run(st, r.run_id)) < 0) {
			fprintf(stderr, "memsim sweep: %s: cannot look up run %s\n", c->db, r.run_id);
			rc = EXIT_FAIL;
		} else if (have) {
			c->stored++;
			if (!c->dry) {
				int a = store_adopt_run(st, r.run_id, c->sweep_id, err, sizeof(err));

				if (a < 0) {
					fprintf(stderr, "memsim sweep: %s\n", err);
					rc = EXIT_FAIL;
				}
				c->adopted += a > 0 ? (size_t)a : 0;
			}
		} else {
			c->todo[c->ntodo++] = k;
		}
		if (c->dry && rc == EXIT_OK) {
			char label[512];

			point_label(&pt, label, sizeof(label));
			printf("point %-6zu run %s  seed %-16" PRIu64 " %-7s %s\n", k, r.run_id, pt.seed,
			       have ? "stored" : "todo", label);
		}
		run_free(&r);
		if (rc != EXIT_OK)
			return rc;
	}
	if (c->dry) {
		printf("sweep %s: %zu points", c->sweep_id, c->sw.npoints);
		if (c->shard_n > 1)
			printf(", shard %u/%u: %zu", c->shard_i, c->shard_n, c->nshard);
		printf(", %zu already stored, %zu to run\n", c->stored, c->ntodo);
	}
	return EXIT_OK;
}

/* The closing summary (and --json's), and the exit code it implies. */
static int summarize(const struct sweep_ctx *c, const struct tally *t, double el)
{
	char shard[64] = "";

	if (c->shard_n > 1)
		snprintf(shard, sizeof(shard), " shard %u/%u:", c->shard_i, c->shard_n);
	fprintf(stderr, "memsim sweep: sweep %s:%s %zu points: %zu run, %zu already stored, "
		"%zu failed%s in %.1f s (%.2f runs/s, %u job%s) -> %s\n",
		c->sweep_id, shard, c->nshard, t->ran + t->raced, c->stored, t->failed + t->lost,
		interrupted ? ", interrupted" : "", el, el > 0 ? (t->ran + t->raced) / el : 0.0,
		c->jobs, c->jobs == 1 ? "" : "s", c->db);
	if (c->json) {	/* the summary as data, on stdout */
		printf("{\"sweep_id\":\"%s\",\"shard\":%u,\"shards\":%u,\"points\":%zu,"
		       "\"run\":%zu,\"already_stored\":%zu,\"failed\":%zu,"
		       "\"interrupted\":%s,\"seconds\":%.3f,\"jobs\":%u,\"db\":",
		       c->sweep_id, c->shard_i, c->shard_n, c->nshard, t->ran + t->raced, c->stored,
		       t->failed + t->lost, interrupted ? "true" : "false", el, c->jobs);
		json_write_string(stdout, c->db);
		printf("}\n");
		fflush(stdout);
	}
	if (c->adopted)
		fprintf(stderr, "memsim sweep: %zu of the stored points were runs outside any "
			"sweep; they are now part of sweep %s\n", c->adopted, c->sweep_id);
	if (interrupted) {
		fprintf(stderr, "memsim sweep: interrupted; run the same command again to finish "
			"the remaining %zu points\n", c->ntodo - t->ran - t->raced - t->failed);
		return 128 + interrupted;
	}
	if (t->store_failed) {
		fprintf(stderr, "memsim sweep: stopped at the first point that could not be "
			"stored in %s; %zu points not run: make room (or fix the database) and "
			"run the same command again to finish them\n", c->db, t->lost);
		return EXIT_FAIL;
	}
	if (t->lost) {
		fprintf(stderr, "memsim sweep: %zu points were not run (a worker failed); run "
			"the same command again to finish them\n", t->lost);
		return EXIT_FAIL;
	}
	return t->failed ? EXIT_FAIL : EXIT_OK;
}

int cmd_sweep(int argc, char **argv)
{
	static struct sweep_ctx ctx;   /* large (sweep axes); one per process */
	struct sweep_ctx *c = &ctx;
	const char *env_db = getenv("MEMSIM_DB");
	struct store *st = NULL;
	struct tally t;
	double t0;
	int rc;

	memset(c, 0, sizeof(*c));
	sweep_init(&c->sw);
	c->base.seed = 1;
	c->shard_i = c->shard_n = 1;
	c->jobs = 1;
	c->db = env_db && *env_db ? env_db : "memsim.db";
	if (getenv("MEMSIM_SWEEP_KILL_AFTER"))
		c->kill_after = atoi(getenv("MEMSIM_SWEEP_KILL_AFTER"));

	rc = parse_opts(c, argc, argv);
	if (rc == 1) {
		rc = EXIT_OK;	/* --help */
		goto out;
	}
	if (rc || (rc = build_sweep(c, argc, argv)) || (rc = open_db(c, &st)) ||
	    (rc = plan_shard(c, st)) || c->dry)
		goto out;
	store_close(st);	/* a connection must not cross fork(); workers open their own */
	st = NULL;

	t0 = now_s();
	if (run_all(c, c->jobs, c->quiet, &t))
		rc = EXIT_FAIL;
	else
		rc = summarize(c, &t, now_s() - t0);
out:
	store_close(st);
	free(c->todo);
	free(c->spec);
	run_free(&c->base_run);
	sweep_free(&c->sw);
	sweep_experiment_free(&c->exp);
	interrupted = 0;
	return rc;
}
