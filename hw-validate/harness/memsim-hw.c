// SPDX-License-Identifier: MIT
/*
 * hw-validate/harness/memsim-hw.c — drives /dev/memsim and measures it with perf counters
 * chosen through libpfm4.
 *
 *   memsim-hw [-n N] [-k K] [-s name=value]... [-e EVENTS] [--check] MODEL POLICY OP
 *   memsim-hw --info
 *   memsim-hw --garbage [--seed S] [--rounds R]
 *
 * Events are libpfm4 names (cycles, instructions, PERF_COUNT_HW_CACHE_LL:READ:MISS,
 * amd64_fam19h_zen3::RETIRED_INSTRUCTIONS, ...) or perf-tool names libpfm4 lacks
 * (LLC-misses, ...; see aliases[]).  Each is encoded with pfm_get_os_event_encoding
 * (PFM_OS_PERF_EVENT_EXT), then probed with perf_event_open on this task, kernel mode
 * included: an event the kernel refuses is reported with its errno and the reason, and left
 * out.  The encodings of the others go to the module, which counts them as kernel counters
 * around exactly the timed region of each batch; the probe fds themselves count the whole
 * ioctl (setup and teardown included) and are reported on the `request` line.  Without a
 * hardware counter the results rest on clocks only and say so: basis=clock-based.
 *
 * Output (stdout), one record per line, `key=value` fields, documented in
 * docs/validation.md ("Harness output"); nothing in it depends on the date or the run, so
 * two runs in a deterministic guest (-icount) are byte-identical.
 * Exit status: 0 done, 1 the module refused or failed the request, 2 bad usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <perfmon/pfmlib_perf_event.h>

#include "hw.h"

#ifndef PROG
#define PROG "memsim-hw"
#endif

struct hw_event {
	const char *name;          /* as the user wrote it */
	char *pfm;                 /* libpfm4's fully qualified name */
	struct perf_event_attr attr;
	int fd;                    /* probe/ioctl-window counter, -1 if unavailable */
	int err;                   /* errno of the probe, 0 if available */
	int slot;                  /* index in the request's events[], -1 if not sent */
};

/* perf-tool spellings libpfm4 does not know, mapped to libpfm4's generic perf events. */
static const struct { const char *perf, *pfm; } aliases[] = {
	{ "LLC-misses", "PERF_COUNT_HW_CACHE_LL:READ:MISS" },
	{ "LLC-load-misses", "PERF_COUNT_HW_CACHE_LL:READ:MISS" },
	{ "LLC-loads", "PERF_COUNT_HW_CACHE_LL:READ:ACCESS" },
	{ "L1-dcache-load-misses", "PERF_COUNT_HW_CACHE_L1D:READ:MISS" },
	{ "L1-dcache-loads", "PERF_COUNT_HW_CACHE_L1D:READ:ACCESS" },
	{ "dTLB-load-misses", "PERF_COUNT_HW_CACHE_DTLB:READ:MISS" },
	{ "branch-misses", "PERF_COUNT_HW_BRANCH_MISSES" },
	{ "page-faults", "PERF_COUNT_SW_PAGE_FAULTS" },
	{ "context-switches", "PERF_COUNT_SW_CONTEXT_SWITCHES" },
	{ "cpu-migrations", "PERF_COUNT_SW_CPU_MIGRATIONS" },
};

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

/* ---- request helpers (also used by garbage.c) ---- */

static int set_name(char *dst, const char *src)
{
	size_t len = strlen(src);

	if (len == 0 || len >= MEMSIM_NAME_LEN)
		return -EINVAL;
	memset(dst, 0, MEMSIM_NAME_LEN);
	memcpy(dst, src, len);
	return 0;
}

int hw_req_init(struct memsim_req *r, const char *model, const char *policy, const char *op,
		uint64_t n, uint32_t k)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->version = MEMSIM_UAPI_VERSION;
	r->n = n;
	r->k = k;
	r->result_size = sizeof(struct memsim_batch);
	if (set_name(r->model, model) || set_name(r->policy, policy) || set_name(r->op, op))
		return -EINVAL;
	return 0;
}

int hw_req_param(struct memsim_req *r, const char *name, uint64_t value)
{
	if (r->nparams >= MEMSIM_MAX_PARAMS || set_name(r->params[r->nparams].name, name))
		return -EINVAL;
	r->params[r->nparams++].value = value;
	return 0;
}

int hw_info(int fd, struct memsim_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->version = MEMSIM_UAPI_VERSION;
	return hw_dev_ioctl(fd, MEMSIM_IOC_INFO, info) ? -errno : 0;
}

static int open_dev(const char *dev)
{
	int fd = hw_dev_open(dev);

	if (fd < 0) {
		int e = -fd;

		fprintf(stderr, PROG ": %s: %s%s\n", dev, strerror(e),
			e == ENOENT ? " (is memsim.ko loaded? insmod hw-validate/build/kmod/memsim.ko)" :
			e == EACCES || e == EPERM ? " (the device is root-only)" : "");
		exit(1);
	}
	return fd;
}

/* ---- host description ---- */

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon += 2;
		colon[strcspn(colon, "\n")] = 0;
		/* quotes would break the key="value" field */
		for (char *p = colon; *p; p++)
			if (*p == '"')
				*p = '\'';
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

/* Hardware PMUs libpfm4 detected (its generic perf/perf_raw tables left out). */
static void pmu_names(char *buf, size_t len)
{
	pfm_pmu_info_t pi;
	size_t pos = 0;
	int p;

	buf[0] = 0;
	pfm_for_all_pmus(p) {
		memset(&pi, 0, sizeof(pi));
		pi.size = sizeof(pi);
		if (pfm_get_pmu_info(p, &pi) != PFM_SUCCESS || !pi.is_present)
			continue;
		if (!strcmp(pi.name, "perf") || !strcmp(pi.name, "perf_raw"))
			continue;
		pos += snprintf(buf + pos, pos < len ? len - pos : 0, "%s%s", pos ? "," : "",
				pi.name);
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

static void print_host(void)
{
	struct utsname u;
	char cpu[256], pmus[512];

	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	pmu_names(pmus, sizeof(pmus));
	printf("host kernel=%s machine=%s cpu=\"%s\" pmu=%s\n", u.release, u.machine, cpu, pmus);
#ifdef MEMSIM_USER
	if (!strcmp(pmus, "none"))
		printf("# no hardware PMU on this machine (libpfm4 found none): hardware events are "
		       "unavailable, the times are clock-based (CLOCK_MONOTONIC_RAW, rdtsc), "
		       "software events (task-clock, page-faults) are counted\n");
#endif
}

/* ---- events ---- */

static const char *why(int err)
{
	switch (err) {
	case ENOENT:
		return "the kernel has no such event here (no hardware PMU: virtual machine or emulation?)";
	case EOPNOTSUPP:
		return "the PMU cannot count it this way (kernel-mode counting or exclusion unsupported)";
	case EACCES:
	case EPERM:
		return "permission denied (perf_event_paranoid; run as root)";
	case ENODEV:
		return "no such PMU on this machine";
	case EINVAL:
		return "the kernel rejected the encoding (event or modifier not valid on this CPU)";
	case EBUSY:
		return "the counter is in exclusive use by someone else";
	default:
		return strerror(err);
	}
}

static long perf_open(struct perf_event_attr *a)
{
	return syscall(SYS_perf_event_open, a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static int encode(struct hw_event *ev)
{
	pfm_perf_encode_arg_t arg;
	const char *name = ev->name;
	unsigned int i;
	int ret;

	for (int pass = 0; pass < 2; pass++) {
		memset(&arg, 0, sizeof(arg));
		memset(&ev->attr, 0, sizeof(ev->attr));
		arg.attr = &ev->attr;
		arg.size = sizeof(arg);
		arg.fstr = &ev->pfm;
		/* PLM0 | PLM3: kernel and user; the work is all in the kernel */
		ret = pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT,
						&arg);
		if (ret == PFM_SUCCESS)
			return 0;
		for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
			if (!strcmp(aliases[i].perf, ev->name))
				break;
		if (i == sizeof(aliases) / sizeof(aliases[0]) || pass)
			break;
		name = aliases[i].pfm;
	}
	fprintf(stderr, PROG ": --events %s: libpfm4 does not know this event (%s); "
		"`showevtinfo` (libpfm4 examples) lists the names\n", ev->name, pfm_strerror(ret));
	return -EINVAL;
}

static void probe(struct hw_event *ev)
{
	ev->attr.size = sizeof(ev->attr);
	ev->attr.disabled = 1;
	ev->attr.exclude_kernel = 0;
	ev->attr.exclude_hv = 1;
	ev->attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	ev->fd = perf_open(&ev->attr);
#ifdef MEMSIM_USER
	/* memsim-user measures user-mode code: user mode only is enough where
	 * perf_event_paranoid forbids kernel counting */
	if (ev->fd < 0 && (errno == EACCES || errno == EPERM)) {
		ev->attr.exclude_kernel = 1;
		ev->fd = perf_open(&ev->attr);
	}
#endif
	ev->err = ev->fd < 0 ? errno : 0;
}

static int parse_events(const char *list, struct hw_event *evs, int max)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			die_usage("--events: at most 8 events (got more in \"%s\")", list);
		evs[n].name = strdup(tok);
		evs[n].fd = -1;
		evs[n].slot = -1;
		if (encode(&evs[n]))
			exit(2);
		n++;
	}
	free(copy);
	return n;
}

static uint64_t read_counter(int fd)
{
	uint64_t v[3] = { 0, 0, 0 };

	if (fd < 0 || read(fd, v, sizeof(v)) != sizeof(v))
		return 0;
	/* scaled when multiplexed, as perf stat does */
	if (v[2] && v[2] < v[1])
		return (uint64_t)((double)v[0] * v[1] / v[2]);
	return v[0];
}

/* ---- one request ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static const char *u32str(uint32_t v)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%u", v);
	return buf;
}

static void print_params(const struct memsim_req *r)
{
	printf(" params=");
	if (!r->nparams)
		printf("-");
	for (uint32_t i = 0; i < r->nparams; i++)
		printf("%s%s=%" PRIu64, i ? "," : "", r->params[i].name,
		       (uint64_t)r->params[i].value);
}

#ifdef MEMSIM_USER
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Two-sided 95 % quantile of Student's t with df degrees of freedom. */
static double t95(unsigned df)
{
	static const double t[] = { 0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
				    2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110,
				    2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
				    2.052, 2.048, 2.045, 2.042 };

	return df < sizeof(t) / sizeof(t[0]) ? t[df] : df < 60 ? 2.00 : df < 120 ? 1.98 : 1.96;
}

/*
 * The repeats of one request: min, median, max of the batches' ns, their mean with a 95 %
 * interval (Student's t), and the same per operation.  A record calib_parse_harness skips.
 */
static void print_spread(const struct memsim_req *r, const struct memsim_batch *b, uint32_t nb)
{
	uint64_t *v, ops = nb ? b[0].ops : 0;
	double mean = 0, var = 0, ci = 0, med;

	if (!nb || !(v = calloc(nb, sizeof(*v))))
		return;
	for (uint32_t i = 0; i < nb; i++) {
		v[i] = b[i].ns;
		mean += (double)b[i].ns / nb;
	}
	for (uint32_t i = 0; i < nb; i++)
		var += ((double)v[i] - mean) * ((double)v[i] - mean);
	if (nb > 1)
		ci = t95(nb - 1) * __builtin_sqrt(var / (nb - 1) / nb);
	qsort(v, nb, sizeof(*v), cmp_u64);
	med = nb % 2 ? (double)v[nb / 2] : ((double)v[nb / 2 - 1] + v[nb / 2]) / 2;
	printf("spread model=%s policy=%s op=%s n=%" PRIu64 " k=%u batches=%u ns.min=%" PRIu64
	       " ns.median=%.0f ns.max=%" PRIu64 " ns.mean=%.0f ns.ci95=%.0f spread_pct=%.1f",
	       r->model, r->policy, r->op, (uint64_t)r->n, r->k, nb, v[0], med, v[nb - 1], mean,
	       ci, med > 0 ? 100.0 * (double)(v[nb - 1] - v[0]) / med : 0.0);
	if (ops)
		printf(" ns_per_op.median=%.2f ns_per_op.ci95=%.2f", med / (double)ops,
		       ci / (double)ops);
	printf("\n");
	free(v);
}
#endif

static int run_request(int fd, struct memsim_req *r, struct hw_event *evs, int nev)
{
	struct memsim_info info;
	struct memsim_batch *b;
	uint64_t t0, t1;
	bool hw_counted = false;
	uint32_t nb;
	int ret, i;

	ret = hw_info(fd, &info);
	if (ret) {
		fprintf(stderr, PROG ": MEMSIM_IOC_INFO: %s (module and harness built from different trees?)\n",
			strerror(-ret));
		return 1;
	}
	for (i = 0; i < nev; i++) {
		probe(&evs[i]);
		if (evs[i].err)
			continue;
		evs[i].slot = r->nevents;
		r->events[r->nevents].type = evs[i].attr.type;
		r->events[r->nevents].config = evs[i].attr.config;
		r->events[r->nevents].config1 = evs[i].attr.config1;
		r->events[r->nevents].config2 = evs[i].attr.config2;
		r->nevents++;
	}
	b = calloc(r->k, sizeof(*b));
	if (!b) {
		fprintf(stderr, PROG ": -k %u: out of memory for the results\n", r->k);
		return 1;
	}
	r->results = (uintptr_t)b;

	for (i = 0; i < nev; i++)
		if (evs[i].fd >= 0) {
			ioctl(evs[i].fd, PERF_EVENT_IOC_RESET, 0);
			ioctl(evs[i].fd, PERF_EVENT_IOC_ENABLE, 0);
		}
	t0 = now_ns();
	ret = hw_dev_ioctl(fd, MEMSIM_IOC_RUN, r) ? errno : 0;
	t1 = now_ns();
	for (i = 0; i < nev; i++)
		if (evs[i].fd >= 0)
			ioctl(evs[i].fd, PERF_EVENT_IOC_DISABLE, 0);

	/* events: what was asked, what counts, and why not */
	for (i = 0; i < nev; i++) {
		struct hw_event *e = &evs[i];
		int kerr = e->slot >= 0 ? -r->event_status[e->slot] : 0;
		int err = e->err ? e->err : kerr;

		printf("event name=%s pfm=%s type=%u config=0x%llx", e->name, e->pfm,
		       e->attr.type, (unsigned long long)e->attr.config);
		if (err)
			printf(" status=unavailable errno=%s reason=\"%s%s\"\n",
			       strerrorname_np(err) ? strerrorname_np(err) : "?", why(err),
			       e->err ? "" : " (in-kernel counter)");
		else
			printf(" status=ok\n");
		if (!err && ret == 0 && e->attr.type != PERF_TYPE_SOFTWARE)
			hw_counted = true;
	}

	printf("request model=%s policy=%s op=%s n=%" PRIu64 " k=%u", r->model, r->policy, r->op,
	       (uint64_t)r->n, r->k);
	print_params(r);
	printf(" status=%s basis=%s batches=%u est_bytes=%" PRIu64 " peak_bytes=%" PRIu64
	       " leaked_bytes=%" PRIu64 " asserts=%" PRIu64 " ioctl_ns=%" PRIu64,
	       ret ? strerrorname_np(ret) : "0", hw_counted ? "counters" : "clock-based",
	       r->batches_done, (uint64_t)r->est_bytes, (uint64_t)r->peak_bytes,
	       (uint64_t)r->leaked_bytes, (uint64_t)r->assert_failures, t1 - t0);
	for (i = 0; i < nev; i++)
		if (evs[i].fd >= 0)
			printf(" ioctl.%s=%" PRIu64, evs[i].name, read_counter(evs[i].fd));
	printf("\n");

	/* a failed batch is copied out too, after the good ones */
	nb = r->batches_done;
	if (ret && nb < r->k && b[nb].size)
		nb++;
	for (uint32_t j = 0; j < nb; j++) {
		const struct memsim_batch *x = &b[j];

		printf("batch model=%s policy=%s op=%s n=%" PRIu64 " k=%u i=%u status=%d ns=%" PRIu64
		       " cycles=%" PRIu64 " ops=%" PRIu64 " footprint=%" PRIu64 " live=%" PRIu64
		       " cpu=%u irqs=%s",
		       r->model, r->policy, r->op, (uint64_t)r->n, r->k, j, x->status,
		       (uint64_t)x->ns, (uint64_t)x->cycles, (uint64_t)x->ops,
		       (uint64_t)x->footprint_bytes, (uint64_t)x->live_bytes, x->cpu,
		       x->irqs == UINT32_MAX ? "migrated" : u32str(x->irqs));
		for (i = 0; i < nev; i++) {
			int s = evs[i].slot;

			if (s < 0 || r->event_status[s])
				continue;
			printf(" ev.%s=%" PRIu64, evs[i].name, (uint64_t)x->ev[s]);
			if (x->ev_running[s] < x->ev_enabled[s])
				printf(" ev.%s.running=%" PRIu64 "/%" PRIu64, evs[i].name,
				       (uint64_t)x->ev_running[s], (uint64_t)x->ev_enabled[s]);
		}
		for (uint32_t u = 0; u < r->nunits && u < info.nunits && u < MEMSIM_MAX_UNITS; u++)
			printf(" wu.%s=%" PRIu64, info.unit_names[u], (uint64_t)x->units[u]);
		printf("\n");
	}
#ifdef MEMSIM_USER
	print_spread(r, b, r->batches_done);
#endif
	fflush(stdout);
	if (ret)
		fprintf(stderr, PROG ": %s %s %s -n %" PRIu64 " -k %u: %s%s\n", r->model, r->policy,
			r->op, (uint64_t)r->n, r->k, strerror(ret),
			ret == EINVAL ? " (see `memsim-hw --info` for models, ops, policies, parameters and limits)" :
			ret == E2BIG ? " (over the module's memory budget or non-preemptible work bound: smaller -n, a preemptible policy, or insmod with max_mb=/max_nonpreempt=)" : "");
	free(b);
	return ret ? 1 : 0;
}

/* ---- --info ---- */

static int print_info(int fd)
{
	struct memsim_info in;
	int ret = hw_info(fd, &in);

	if (ret) {
		fprintf(stderr, PROG ": MEMSIM_IOC_INFO: %s\n", strerror(-ret));
		return 1;
	}
	printf("module uapi=%u max_n=%" PRIu64 " max_k=%u max_bytes=%" PRIu64
	       " max_seconds=%u max_nonpreempt=%" PRIu64 " units=%u\n", in.version,
	       (uint64_t)in.max_n, in.max_k, (uint64_t)in.max_bytes, in.max_seconds,
	       (uint64_t)in.max_nonpreempt, in.nunits);
	printf("units");
	for (uint32_t u = 0; u < in.nunits && u < MEMSIM_MAX_UNITS; u++)
		printf(" %s", in.unit_names[u]);
	printf("\n");
	in.catalog[sizeof(in.catalog) - 1] = 0;
	for (char *line = strtok(in.catalog, "\n"); line; line = strtok(NULL, "\n"))
		printf("op %s\n", line);
	return 0;
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: " PROG " [options] MODEL POLICY OP\n"
		"       " PROG " --info | --garbage [--seed S] [--rounds R]\n"
		"  -n N            instance size (default 1000)\n"
		"  -k K            batches (default 1)\n"
		"  -s NAME=VALUE   model parameter (repeatable, at most 8)\n"
		"  -e EVENTS       libpfm4 event names, comma-separated\n"
		"                  (default cycles,instructions,LLC-misses,task-clock)\n"
		"  --check         run the model's invariant check after each batch\n"
		"  --dev PATH      control device (default " MEMSIM_DEVICE ")\n"
#ifdef MEMSIM_USER
		"  --cpu N         pin to CPU N (default: the highest-numbered CPU allowed)\n"
		"memsim-user runs the module's code (kmod/msk_core.c, kmod/ops_*.c, models/*.c) in\n"
		"this process: no module, no root; --dev is ignored, --garbage is the module's only\n"
#endif
		);
	exit(2);
}

static uint64_t parse_u64(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, PROG ": %s %s: not a non-negative integer\n", opt, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "info", no_argument, NULL, 'I' },
		{ "garbage", no_argument, NULL, 'G' },
		{ "seed", required_argument, NULL, 'S' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "check", no_argument, NULL, 'C' },
		{ "dev", required_argument, NULL, 'D' },
		{ "events", required_argument, NULL, 'e' },
		{ "set", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
#ifdef MEMSIM_USER
		{ "cpu", required_argument, NULL, 'P' },
#endif
		{ NULL, 0, NULL, 0 }
	};
	const char *dev = MEMSIM_DEVICE;
#ifdef MEMSIM_USER
	const char *events = "cycles,instructions,LLC-misses,task-clock,page-faults";
#else
	const char *events = "cycles,instructions,LLC-misses,task-clock";
#endif
	struct { char name[MEMSIM_NAME_LEN]; uint64_t v; } params[MEMSIM_MAX_PARAMS];
	struct hw_event evs[MEMSIM_MAX_EVENTS];
	uint64_t n = 1000, k = 1, seed = 1, rounds = 2000;
	unsigned int nparams = 0;
	int mode = 0, flags = 0, c, fd, nev, ret;
	struct memsim_req req;

	while ((c = getopt_long(argc, argv, "n:k:s:e:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': n = parse_u64("-n", optarg); break;
		case 'k': k = parse_u64("-k", optarg); break;
		case 'e': events = optarg; break;
		case 'I': mode = 'I'; break;
		case 'G': mode = 'G'; break;
		case 'S': seed = parse_u64("--seed", optarg); break;
		case 'R': rounds = parse_u64("--rounds", optarg); break;
		case 'C': flags |= MEMSIM_F_CHECK; break;
		case 'D': dev = optarg; break;
#ifdef MEMSIM_USER
		case 'P': {
			uint64_t cpu = parse_u64("--cpu", optarg);

			if (cpu >= 1024)
				die_usage("--cpu %s: want a CPU number below 1024", optarg);
			hw_dev_cpu = (int)cpu;
			break;
		}
#endif
		case 's': {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg || (size_t)(eq - optarg) >= MEMSIM_NAME_LEN)
				die_usage("-s %s: want NAME=VALUE with a name under 32 characters",
					  optarg);
			if (nparams == MEMSIM_MAX_PARAMS)
				die_usage("-s %s: at most 8 parameters", optarg);
			memset(params[nparams].name, 0, MEMSIM_NAME_LEN);
			memcpy(params[nparams].name, optarg, eq - optarg);
			params[nparams].v = parse_u64("-s", eq + 1);
			nparams++;
			break;
		}
		default:
			usage();
		}
	}
	if (mode == 'I' || mode == 'G') {
		if (optind != argc)
			usage();
#ifdef MEMSIM_USER
		if (mode == 'G')
			die_usage("--garbage%s: tests the kernel module's ioctl boundary (bad user "
				  "pointers...); use memsim-hw with memsim.ko", "");
#endif
		fd = open_dev(dev);
		if (mode == 'I')
			return print_info(fd);
		if (rounds > 1000000)
			die_usage("--rounds %s: at most 1000000", argv[optind - 1]);
		return hw_garbage(fd, dev, seed, (unsigned int)rounds) ? 1 : 0;
	}
	if (argc - optind != 3)
		usage();
	if (k == 0 || k > UINT32_MAX)
		die_usage("-k: want 1..%s (and within the module's max_k)", "4294967295");
	if (hw_req_init(&req, argv[optind], argv[optind + 1], argv[optind + 2], n, (uint32_t)k))
		die_usage("%s: model, policy and op names are 1..31 characters", argv[optind]);
	req.flags = flags;
	for (unsigned int i = 0; i < nparams; i++)
		hw_req_param(&req, params[i].name, params[i].v);

	ret = pfm_initialize();
	if (ret != PFM_SUCCESS) {
		fprintf(stderr, PROG ": libpfm4: %s\n", pfm_strerror(ret));
		return 1;
	}
	nev = *events ? parse_events(events, evs, MEMSIM_MAX_EVENTS) : 0;
	fd = open_dev(dev);
	printf("# memsim-hw 1 uapi=%d\n", MEMSIM_UAPI_VERSION);
	print_host();
	hw_dev_describe();
	return run_request(fd, &req, evs, nev);
}
