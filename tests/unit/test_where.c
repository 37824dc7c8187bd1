/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_where.c — --where conditions (sim/where.c, docs/security.md 7): the strict
 * grammar with the position of what it refuses, and exact numeric comparison (integers of
 * 64 bits, decimals, a double's exact value) instead of text order.
 */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "where.h"

static char err[512];

static int parse(const char *text, struct where_cond *c)
{
	err[0] = 0;
	return where_parse(text, c, err, sizeof(err));
}

static int match(const char *cond, const char *stored)
{
	struct where_cond c;

	if (parse(cond, &c))
		return -2;
	return where_match_text(&c, stored, false, err, sizeof(err));
}

TEST(or_and_trailing_text_are_refused_with_the_position)
{
	struct where_cond c;

	CHECK(parse("heavy>=16 OR 1", &c) == -1);
	CHECK(strstr(err, "at character 11 ('OR 1')") != NULL);
	CHECK(parse("heavy>=16OR1", &c) == -1);   /* a word cannot be ordered */
	CHECK(strstr(err, "at character 8") && strstr(err, "compares numbers"));
	CHECK(parse("heavy = 16 ", &c) == 0 && c.op == WHERE_EQ && c.is_num);
}

TEST(numbers_out_of_a_double_range_are_an_error)
{
	struct where_cond c;

	CHECK(parse("heavy>=1e400", &c) == -1);
	CHECK(strstr(err, "at character 8") && strstr(err, "out of range"));
	CHECK(parse("heavy>=-1e400", &c) == -1);
	CHECK(parse("x>1e-400", &c) == -1);
	CHECK(parse("x>1e308", &c) == 0);
	CHECK(parse("x>0e999999", &c) == 0 && c.num.sign == 0);
}

TEST(malformed_conditions_are_refused_where_they_go_wrong)
{
	struct where_cond c;

	CHECK(parse("", &c) == -1 && strstr(err, "at the end"));
	CHECK(parse("=5", &c) == -1 && strstr(err, "at character 1"));
	CHECK(parse("9x=5", &c) == -1 && strstr(err, "at character 1"));
	CHECK(parse("heavy", &c) == -1 && strstr(err, "expected an operator"));
	CHECK(parse("heavy=", &c) == -1 && strstr(err, "expected a value"));
	CHECK(parse("heavy=>3", &c) == -1 && strstr(err, "at character 7"));
	CHECK(parse("heavy==3", &c) == 0 && c.op == WHERE_EQ);
	CHECK(parse("heavy<>3", &c) == -1);
	CHECK(parse("policy='hash", &c) == -1 && strstr(err, "not closed"));
	CHECK(parse("policy<hash", &c) == -1 && strstr(err, "compares numbers"));
	CHECK(parse("heavy>=5us", &c) == -1 && strstr(err, "time suffix"));
	CHECK(parse("period_ms>=1500us", &c) == -1 && strstr(err, "whole number"));
}

TEST(integers_compare_as_numbers_not_text)
{
	/* as text, "256" >= "16 OR 1" and "64" > "128" */
	CHECK(match("heavy>=16", "128") == 1);
	CHECK(match("heavy>=16", "8") == 0);
	CHECK(match("heavy>64", "128") == 1);
	CHECK(match("heavy<128", "64") == 1);
	CHECK(match("heavy=0256", "256") == 1);
	CHECK(match("heavy>=4Ki", "4096") == 1 && match("heavy>4Ki", "4096") == 0);
	CHECK(match("destroy_ns<=1ms", "1000000") == 1);
	CHECK(match("period_ms=2s", "2000") == 1);
}

TEST(full_64_bit_integers_compare_exactly)
{
	/* 2^64 - 1 and 2^64 - 2 are one double apart from nothing: text or REAL would tie them */
	CHECK(match("series_to_ns=18446744073709551615", "18446744073709551615") == 1);
	CHECK(match("series_to_ns=18446744073709551614", "18446744073709551615") == 0);
	CHECK(match("series_to_ns>18446744073709551614", "18446744073709551615") == 1);
	CHECK(match("x<18446744073709551616", "18446744073709551615") == 1);
	CHECK(match("x>9007199254740992", "9007199254740993") == 1);   /* 2^53 + 1 */
}

TEST(decimals_compare_exactly)
{
	CHECK(match("heavy>15.5", "16") == 1);
	CHECK(match("heavy<16.000000000000000000001", "16") == 1);
	CHECK(match("heavy=16.000", "16") == 1);
	CHECK(match("heavy=1.6e1", "16") == 1);
	CHECK(match("x>-1", "0") == 1);
	CHECK(match("x=-0", "0") == 1);
	CHECK(match("x<=0.1", "0.1") == 1 && match("x<0.1", "0.1") == 0);
}

TEST(doubles_compare_by_their_exact_value)
{
	struct where_cond c;

	CHECK(parse("ratio<0.1", &c) == 0);
	/* the double nearest 0.1 is 0.1000000000000000055511151231257827...: above 0.1 */
	CHECK(where_match_double(&c, 0.1, err, sizeof(err)) == 0);
	CHECK(parse("ratio<=0.1000000000000000055511151231257828", &c) == 0);
	CHECK(where_match_double(&c, 0.1, err, sizeof(err)) == 1);
	CHECK(parse("destroy_ns=425000000000", &c) == 0);
	CHECK(where_match_double(&c, 425000000000.0, err, sizeof(err)) == 1);
	CHECK(parse("x<1e308", &c) == 0);
	CHECK(where_match_double(&c, DBL_MAX, err, sizeof(err)) == 0);
	CHECK(where_match_double(&c, -DBL_MAX, err, sizeof(err)) == 1);
	CHECK(where_match_double(&c, 5e-324, err, sizeof(err)) == 1);   /* the least subnormal */
	CHECK(parse("x=abc", &c) == 0);
	CHECK(where_match_double(&c, 1.0, err, sizeof(err)) == 0);
}

TEST(words_and_quoted_text_compare_as_text)
{
	struct where_cond c;

	CHECK(match("policy=hash", "hash") == 1);
	CHECK(match("policy!=hash", "tree") == 1);
	CHECK(match("trace=scenario:one-frame", "scenario:one-frame") == 1);
	CHECK(match("trace='a b.mst'", "a b.mst") == 1);
	CHECK(match("heavy='16'", "016") == 0);   /* quoted: text, even if it looks a number */
	CHECK(parse("run_id=0123456789012345", &c) == 0);
	CHECK(where_match_text(&c, "123456789012345", true, err, sizeof(err)) == 0);
	CHECK(where_match_text(&c, "0123456789012345", true, err, sizeof(err)) == 1);
}

TEST(a_doubled_quote_inside_quoted_text_stands_for_itself)
{
	struct where_cond c;

	CHECK(match("trace='it''s.mst'", "it's.mst") == 1);
	CHECK(match("trace=\"say \"\"hi\"\".mst\"", "say \"hi\".mst") == 1);
	CHECK(match("trace='q''uote`touch x`.mst'", "q'uote`touch x`.mst") == 1);
	CHECK(match("trace='a''''b'", "a''b") == 1);
	CHECK(match("trace='it''s.mst'", "its.mst") == 0);
	CHECK(parse("trace='unclosed''", &c) < 0);   /* the doubled quote is not a close */
	CHECK(strstr(err, "not closed") != NULL);
}

TEST(ordering_a_value_that_is_not_a_number_is_an_error)
{
	CHECK(match("relinquish<3", "preemptible") == -1);
	CHECK(strstr(err, "relinquish is 'preemptible', not a number") != NULL);
	CHECK(match("relinquish=3", "preemptible") == 0);   /* = is simply false */
}

int main(void) { return test_main(); }
