// SPDX-License-Identifier: MIT
/*
 * hw-validate/harness/garbage.c — `memsim-hw --garbage`: malformed requests against
 * /dev/memsim.  Each case states the errno the module must answer; then a seeded fuzz loop
 * sends random and mutated requests, accepting only success or a documented errno; the
 * module must still serve a valid request afterwards and the kernel must not have warned,
 * oopsed or detected a lockup meanwhile (taint bits W, D, L).
 *
 * The results buffer ends at a PROT_NONE guard page, so a module writing past the k batches
 * it was given would fail with EFAULT instead of silently corrupting the harness.
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/perf_event.h>

#include "hw.h"

#define TAINT_BAD ((1u << 7) | (1u << 9) | (1u << 14))   /* D (oops), W (warn), L (lockup) */

static int pass, fail;
static struct memsim_batch *results;   /* max_k batches, ending at a guard page */
static struct memsim_info info;
static uint64_t rng_state;

static void ok(const char *name)
{
	printf("ok %s\n", name);
	pass++;
}

static void bad(const char *name, const char *fmt, long a, long b)
{
	printf("FAIL %s: ", name);
	printf(fmt, a, b);
	printf("\n");
	fail++;
}

static uint64_t rng(void)
{
	/* xorshift64*: deterministic for a given --seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static int send(int fd, unsigned long cmd, void *arg)
{
	return hw_dev_ioctl(fd, cmd, arg) ? errno : 0;
}

/* A valid request: selftest none null, n = 1, k = 1. */
static void base(struct memsim_req *r)
{
	hw_req_init(r, "selftest", "none", "null", 1, 1);
	r->results = (uintptr_t)results;
}

static void expect(int fd, const char *name, struct memsim_req *r, int want)
{
	int got = send(fd, MEMSIM_IOC_RUN, r);

	if (got == want)
		ok(name);
	else
		bad(name, "errno %ld, wanted %ld", got, want);
}

static void expect_cmd(int fd, const char *name, unsigned long cmd, void *arg, int want)
{
	int got = send(fd, cmd, arg);

	if (got == want)
		ok(name);
	else
		bad(name, "errno %ld, wanted %ld", got, want);
}

static unsigned int read_taint(void)
{
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");
	unsigned int t = 0;

	if (f) {
		if (fscanf(f, "%u", &t) != 1)
			t = 0;
		fclose(f);
	}
	return t;
}

static bool catalog_has(const char *model_op)
{
	const char *p = info.catalog;
	size_t len = strlen(model_op);

	for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, model_op, len) && p[len] == ' ')
			return true;
	return false;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void header_cases(int fd)
{
	struct memsim_info in;
	struct memsim_req r;

	base(&r);
	expect(fd, "valid_request_succeeds", &r, 0);
	base(&r); r.size = 0;
	expect(fd, "size_zero_is_einval", &r, EINVAL);
	base(&r); r.size = sizeof(r) - 1;
	expect(fd, "size_short_is_einval", &r, EINVAL);
	base(&r); r.size = sizeof(r) + 8;
	expect(fd, "size_long_is_einval", &r, EINVAL);
	base(&r); r.version = 0;
	expect(fd, "version_zero_is_einval", &r, EINVAL);
	base(&r); r.version = MEMSIM_UAPI_VERSION + 1;
	expect(fd, "version_future_is_einval", &r, EINVAL);
	base(&r); r.reserved = 1;
	expect(fd, "reserved_nonzero_is_einval", &r, EINVAL);
	base(&r); r.flags = 0x80000000u;
	expect(fd, "unknown_flag_is_einval", &r, EINVAL);
	base(&r); r.leaked_bytes = 5;
	expect(fd, "output_fields_not_zero_is_einval", &r, EINVAL);
	base(&r); r.result_size = sizeof(struct memsim_batch) - 8;
	expect(fd, "result_size_wrong_is_einval", &r, EINVAL);
	base(&r); r.results = 0;
	expect(fd, "results_null_is_einval", &r, EINVAL);
	base(&r); r.results = 0x10;
	expect(fd, "results_unmapped_is_efault", &r, EFAULT);
	base(&r); r.results = 0xffff888000000000ULL;
	expect(fd, "results_kernel_address_is_efault", &r, EFAULT);
	base(&r); r.k = 2;
	/* the second batch would straddle the guard page */
	r.results = (uintptr_t)((char *)results + (size_t)info.max_k * sizeof(*results) -
				sizeof(*results) - 8);
	expect(fd, "results_past_guard_is_efault", &r, EFAULT);

	expect_cmd(fd, "request_null_is_efault", MEMSIM_IOC_RUN, NULL, EFAULT);
	expect_cmd(fd, "request_unmapped_is_efault", MEMSIM_IOC_RUN, (void *)0x1000, EFAULT);
	expect_cmd(fd, "unknown_ioctl_is_enotty", _IO(MEMSIM_IOC_MAGIC, 99), &r, ENOTTY);
	memset(&in, 0, sizeof(in));
	in.size = sizeof(in) - 4;
	in.version = MEMSIM_UAPI_VERSION;
	expect_cmd(fd, "info_size_wrong_is_einval", MEMSIM_IOC_INFO, &in, EINVAL);
	expect_cmd(fd, "info_null_is_efault", MEMSIM_IOC_INFO, NULL, EFAULT);
}

static void name_cases(int fd)
{
	struct memsim_req r;

	base(&r); strcpy(r.model, "nosuchmodel");
	expect(fd, "unknown_model_is_einval", &r, EINVAL);
	base(&r); strcpy(r.policy, "nosuchpolicy");
	expect(fd, "unknown_policy_is_einval", &r, EINVAL);
	base(&r); strcpy(r.op, "nosuchop");
	expect(fd, "unknown_op_is_einval", &r, EINVAL);
	base(&r); memset(r.model, 'a', MEMSIM_NAME_LEN);
	expect(fd, "unterminated_name_is_einval", &r, EINVAL);
	base(&r); memset(r.op, 0, MEMSIM_NAME_LEN);
	expect(fd, "empty_name_is_einval", &r, EINVAL);
	base(&r); strcpy(r.model, "SelfTest");
	expect(fd, "uppercase_name_is_einval", &r, EINVAL);
	base(&r); r.model[MEMSIM_NAME_LEN - 1] = 'x';
	expect(fd, "bytes_after_nul_is_einval", &r, EINVAL);
}

static void size_cases(int fd)
{
	struct memsim_req r;

	base(&r); r.n = 0;
	expect(fd, "n_zero_is_einval", &r, EINVAL);
	base(&r); r.n = info.max_n + 1;
	expect(fd, "n_over_max_is_einval", &r, EINVAL);
	base(&r); r.n = UINT64_MAX;
	expect(fd, "n_huge_is_einval", &r, EINVAL);
	base(&r); r.k = 0;
	expect(fd, "k_zero_is_einval", &r, EINVAL);
	base(&r); r.k = info.max_k + 1;
	expect(fd, "k_over_max_is_einval", &r, EINVAL);
	base(&r); r.k = UINT32_MAX;
	expect(fd, "k_huge_is_einval", &r, EINVAL);
	base(&r); r.n = info.max_n;
	expect(fd, "n_at_max_for_null_op_succeeds", &r, 0);

	if (catalog_has("sharing destroy")) {
		/* 5e9 list hops with no preemption point: refused, whatever the memory */
		hw_req_init(&r, "sharing", "list+monolithic", "destroy", 100000, 1);
		r.results = (uintptr_t)results;
		if (info.max_nonpreempt < 5000000000ULL)
			expect(fd, "overlong_nonpreemptible_destroy_is_e2big", &r, E2BIG);
	}
	if (catalog_has("rmap build")) {
		base(&r);
		hw_req_init(&r, "rmap", "list", "build", info.max_n, 1);
		r.results = (uintptr_t)results;
		/* ~96 bytes a tuple: 2 Mi tuples want ~200 MiB */
		if (info.max_bytes < info.max_n * 64)
			expect(fd, "over_memory_budget_is_e2big", &r, E2BIG);
		else
			printf("note over_memory_budget_is_e2big not run: budget %" PRIu64
			       " bytes is large (insmod memsim.ko max_mb=64 to run it)\n",
			       (uint64_t)info.max_bytes);
	}
}

static void param_cases(int fd)
{
	struct memsim_req r;

	base(&r); hw_req_param(&r, "nosuchparam", 1);
	expect(fd, "unknown_param_is_einval", &r, EINVAL);
	base(&r); r.nparams = MEMSIM_MAX_PARAMS + 1;
	expect(fd, "too_many_params_is_einval", &r, EINVAL);
	base(&r); strcpy(r.params[3].name, "heavy");
	expect(fd, "param_beyond_nparams_is_einval", &r, EINVAL);
	base(&r); r.nparams = 1;
	expect(fd, "param_with_empty_name_is_einval", &r, EINVAL);
	if (catalog_has("rmap build")) {
		hw_req_init(&r, "rmap", "hash", "build", 16, 1);
		r.results = (uintptr_t)results;
		hw_req_param(&r, "heavy", 8);
		hw_req_param(&r, "light", 2);
		expect(fd, "rmap_valid_params_succeed", &r, 0);
		hw_req_init(&r, "rmap", "hash", "build", 16, 1);
		r.results = (uintptr_t)results;
		hw_req_param(&r, "heavy", 0);
		expect(fd, "param_below_min_is_einval", &r, EINVAL);
		hw_req_init(&r, "rmap", "hash", "build", 16, 1);
		r.results = (uintptr_t)results;
		hw_req_param(&r, "heavy", 8);
		hw_req_param(&r, "light", 8);
		expect(fd, "inconsistent_params_are_einval", &r, EINVAL);
		hw_req_init(&r, "rmap", "hash", "build", 16, 1);
		r.results = (uintptr_t)results;
		hw_req_param(&r, "heavy", 8);
		hw_req_param(&r, "heavy", 9);
		expect(fd, "duplicate_param_is_einval", &r, EINVAL);
	}
}

static void event_cases(int fd)
{
	struct memsim_req r;

	base(&r); r.nevents = MEMSIM_MAX_EVENTS + 1;
	expect(fd, "too_many_events_is_einval", &r, EINVAL);
	base(&r); r.nevents = 1; r.events[0].type = PERF_TYPE_TRACEPOINT;
	expect(fd, "tracepoint_event_is_einval", &r, EINVAL);
	base(&r); r.nevents = 1; r.events[0].type = PERF_TYPE_BREAKPOINT;
	expect(fd, "breakpoint_event_is_einval", &r, EINVAL);
	base(&r); r.nevents = 1; r.events[0].reserved = 1;
	expect(fd, "event_reserved_nonzero_is_einval", &r, EINVAL);
	base(&r); r.events[2].config = 1;
	expect(fd, "event_beyond_nevents_is_einval", &r, EINVAL);
	/* an event no PMU has: the request runs, the event reports why it did not count */
	base(&r); r.nevents = 1; r.events[0].type = 0x7fffffff;
	if (send(fd, MEMSIM_IOC_RUN, &r) == 0 && r.event_status[0] < 0 && r.batches_done == 1)
		ok("nonexistent_pmu_event_reports_status");
	else
		bad("nonexistent_pmu_event_reports_status", "event_status %ld, batches %ld",
		    r.event_status[0], r.batches_done);
	base(&r); r.nevents = 1; r.events[0].type = PERF_TYPE_SOFTWARE;
	r.events[0].config = PERF_COUNT_SW_TASK_CLOCK;
	if (send(fd, MEMSIM_IOC_RUN, &r) == 0 && r.event_status[0] == 0)
		ok("software_event_counts");
	else
		bad("software_event_counts", "event_status %ld, batches %ld", r.event_status[0],
		    r.batches_done);
}

static void signal_case(int fd)
{
	struct itimerval it = { .it_value = { .tv_sec = 0, .tv_usec = 50000 } };
	struct sigaction sa;
	struct memsim_req r;
	int got;

	if (!catalog_has("rmap destroy")) {
		printf("note signal_interrupts_long_request not run: no rmap ops in this module\n");
		return;
	}
	/* ~4.5e8 list hops: seconds natively, far longer emulated; the signal comes at 50 ms */
	hw_req_init(&r, "rmap", "list", "destroy", 30000, 1);
	r.results = (uintptr_t)results;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;   /* no SA_RESTART: the ioctl must come back with EINTR */
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	got = send(fd, MEMSIM_IOC_RUN, &r);
	if (got == EINTR && r.batches_done == 0 && r.leaked_bytes == 0)
		ok("signal_interrupts_long_request");
	else
		bad("signal_interrupts_long_request", "errno %ld, leaked %ld", got,
		    (long)r.leaked_bytes);
	signal(SIGALRM, SIG_DFL);
}

/* Random requests, then valid ones with random bytes changed (never the results pointer). */
static void fuzz(int fd, unsigned int rounds)
{
	unsigned int i, unexpected = 0, succeeded = 0, refused = 0;
	struct memsim_req r;
	int got = 0;

	for (i = 0; i < rounds; i++) {
		if (i % 4 == 0) {
			unsigned char *p = (unsigned char *)&r;

			for (size_t j = 0; j < sizeof(r); j++)
				p[j] = rng();
			if (i % 8 == 4) {   /* past the header check, into the field checks */
				r.size = sizeof(r);
				r.version = MEMSIM_UAPI_VERSION;
			}
			r.results = (uintptr_t)results;
		} else {
			unsigned int m = 1 + rng() % 4;

			base(&r);
			if (i % 3 == 0) {
				hw_req_init(&r, "selftest", "none", "list-walk", 64, 1);
				r.results = (uintptr_t)results;
			}
			for (unsigned int j = 0; j < m; j++) {
				size_t off = rng() % sizeof(r);

				if (off >= offsetof(struct memsim_req, results) &&
				    off < offsetof(struct memsim_req, results) + sizeof(r.results))
					continue;
				((unsigned char *)&r)[off] = rng();
			}
		}
		got = send(fd, MEMSIM_IOC_RUN, &r);
		if (got == 0)
			succeeded++;
		else if (got == EINVAL || got == E2BIG || got == ENOMEM || got == EFAULT)
			refused++;
		else if (unexpected++ < 5)
			printf("note fuzz round %u: unexpected errno %d\n", i, got);
	}
	printf("note fuzz: %u rounds, %u accepted, %u refused, %u unexpected\n", rounds,
	       succeeded, refused, unexpected);
	if (unexpected)
		bad("fuzzed_requests_get_documented_answers", "%ld of %ld rounds", unexpected,
		    rounds);
	else
		ok("fuzzed_requests_get_documented_answers");
}

int hw_garbage(int fd, const char *dev, uint64_t seed, unsigned int rounds)
{
	unsigned int taint0 = read_taint(), taint1;
	size_t bytes, page = (size_t)sysconf(_SC_PAGESIZE);
	char *map;
	struct memsim_req r;
	int ret;

	rng_state = seed ? seed : 1;
	ret = hw_info(fd, &info);
	if (ret) {
		printf("FAIL info: %s\n", strerror(-ret));
		printf("garbage: 0 passed, 1 failed\n");
		return 1;
	}
	bytes = ((size_t)info.max_k * sizeof(struct memsim_batch) + page - 1) / page * page;
	map = mmap(NULL, bytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || mprotect(map + bytes, page, PROT_NONE)) {
		printf("FAIL setup: mmap: %s\n", strerror(errno));
		printf("garbage: 0 passed, 1 failed\n");
		return 1;
	}
	/* results end exactly at the guard page */
	results = (struct memsim_batch *)(map + bytes - (size_t)info.max_k * sizeof(*results));
	printf("note device %s: max_n=%" PRIu64 " max_k=%u max_bytes=%" PRIu64 " seed=%" PRIu64
	       " taint=%u\n", dev, (uint64_t)info.max_n, info.max_k, (uint64_t)info.max_bytes,
	       seed, taint0);

	header_cases(fd);
	name_cases(fd);
	size_cases(fd);
	param_cases(fd);
	event_cases(fd);
	signal_case(fd);
	fuzz(fd, rounds);

	/* the module still works and nothing was left behind */
	base(&r);
	r.k = 3;
	if (send(fd, MEMSIM_IOC_RUN, &r) == 0 && r.batches_done == 3 && r.leaked_bytes == 0)
		ok("module_still_serves_after_garbage");
	else
		bad("module_still_serves_after_garbage", "batches %ld leaked %ld", r.batches_done,
		    (long)r.leaked_bytes);
	taint1 = read_taint();
	if ((taint1 & ~taint0) & TAINT_BAD)
		bad("kernel_did_not_warn_oops_or_lock_up", "taint %ld -> %ld", taint0, taint1);
	else
		ok("kernel_did_not_warn_oops_or_lock_up");

	munmap(map, bytes + page);
	printf("garbage: %d passed, %d failed\n", pass, fail);
	return fail;
}
