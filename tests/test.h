/* SPDX-License-Identifier: MIT */
/*
 * tests/test.h — a minimal unit-test harness.
 *
 *   TEST(list_retrieve_walks_to_tail) { ... CHECK(x == 3); CHECK_EQ_U64(a, b); }
 *   int main(void) { return test_main(); }
 *
 * Tests register themselves (constructor attribute) and run in file order.  Each prints
 * "ok NAME" or "FAIL NAME: file:line: expr"; the program closes with "N passed, N failed"
 * and exits non-zero if any failed.  A test's name says the behaviour it checks.
 */
#ifndef MEMSIM_TESTS_TEST_H
#define MEMSIM_TESTS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

typedef void (*test_fn)(void);
struct test_case { const char *name; test_fn fn; };

#define TEST_MAX 512
static struct test_case test_cases[TEST_MAX];
static int test_count;
static int test_failed_now;
static int test_checks_now;

static inline void test_register(const char *name, test_fn fn)
{
	if (test_count < TEST_MAX)
		test_cases[test_count++] = (struct test_case){ name, fn };
}

#define TEST(name)                                                             \
	static void test_##name(void);                                         \
	__attribute__((constructor)) static void test_reg_##name(void)         \
	{ test_register(#name, test_##name); }                                  \
	static void test_##name(void)

#define CHECK(e)                                                               \
	do {                                                                   \
		test_checks_now++;                                             \
		if (!(e)) {                                                    \
			if (!test_failed_now)                                  \
				printf("FAIL %s: %s:%d: %s\n", test_current,   \
				       __FILE__, __LINE__, #e);                \
			test_failed_now = 1;                                   \
		}                                                              \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                     \
	do {                                                                   \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);               \
		test_checks_now++;                                             \
		if (a_ != b_) {                                                \
			if (!test_failed_now)                                  \
				printf("FAIL %s: %s:%d: %s == %s (%" PRIu64     \
				       " != %" PRIu64 ")\n", test_current,     \
				       __FILE__, __LINE__, #a, #b, a_, b_);     \
			test_failed_now = 1;                                   \
		}                                                              \
	} while (0)

static const char *test_current = "";

static inline int test_main(void)
{
	int passed = 0, failed = 0, i;
	const char *only = getenv("TEST_ONLY");

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < test_count; i++) {
		if (only && !strstr(test_cases[i].name, only))
			continue;
		test_current = test_cases[i].name;
		test_failed_now = 0;
		test_checks_now = 0;
		test_cases[i].fn();
		if (!test_failed_now && test_checks_now == 0) {
			printf("FAIL %s: asserted nothing\n", test_current);
			test_failed_now = 1;
		}
		if (test_failed_now) {
			failed++;
		} else {
			passed++;
			printf("ok %s\n", test_current);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#endif
