/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_where.c — libFuzzer target for the --where parser and its comparisons
 * (sim/where.c).
 *
 * The input is one condition (at most 1 KiB).  Beyond "no crash, no sanitizer report", it
 * traps when:
 *  - a refusal's message is empty, spans more than one line, or says neither "at character"
 *    nor "at the end";
 *  - an accepted condition has an empty or non-identifier name, or orders (< <= > >=)
 *    something that is not a number;
 *  - `NAME=VALUE` does not match its own VALUE as stored text, or a number does not compare
 *    equal to itself;
 *  - comparing with stored texts and doubles returns anything but 0 or 1, or -1 without a
 *    one-line message.
 */
#include <ctype.h>
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "where.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_result(int m, const char *err)
{
	if (m == -1 && (!err[0] || strchr(err, '\n')))
		__builtin_trap();
	if (m < -1 || m > 1)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const stored[] = {
		"0", "256", "-1", "18446744073709551615", "0.1", "1e308", "hash", "", "4Ki",
	};
	static const double doubles[] = { 0.0, -0.0, 0.1, 425e9, DBL_MAX, -DBL_MAX, 5e-324 };
	static struct where_cond c;
	char text[1025], err[512];
	size_t i;
	int m;

	if (size > 1024)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	err[0] = 0;
	if (where_parse(text, &c, err, sizeof(err))) {
		if (!err[0] || strchr(err, '\n') ||
		    (strncmp(err, "at character ", 13) && strncmp(err, "at the end", 10)))
			__builtin_trap();
		return 0;
	}
	if (!c.name[0] || !(isalpha((unsigned char)c.name[0]) || c.name[0] == '_'))
		__builtin_trap();
	for (i = 0; c.name[i]; i++)
		if (!isalnum((unsigned char)c.name[i]) && c.name[i] != '_')
			__builtin_trap();
	if (c.op >= WHERE_LT && !c.is_num)
		__builtin_trap();
	if (c.is_num && where_dec_cmp(&c.num, &c.num))
		__builtin_trap();
	if (c.op == WHERE_EQ && where_match_text(&c, c.value, false, err, sizeof(err)) != 1)
		__builtin_trap();
	for (i = 0; i < sizeof(stored) / sizeof(stored[0]); i++) {
		err[0] = 0;
		check_result(where_match_text(&c, stored[i], false, err, sizeof(err)), err);
		err[0] = 0;
		m = where_match_text(&c, stored[i], true, err, sizeof(err));
		check_result(m, err);
	}
	for (i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++) {
		err[0] = 0;
		m = where_match_double(&c, doubles[i], err, sizeof(err));
		if (m < 0)
			__builtin_trap();   /* finite doubles always compare */
		check_result(m, err);
	}
	return 0;
}
