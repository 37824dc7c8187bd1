/* SPDX-License-Identifier: MIT */
/* tests/unit/test_suggest.c — "did you mean": edit distance and the choice of candidate. */
#include "test.h"
#include "suggest.h"

static const char *const commands[] = { "run", "trace", "db", "sweep", "plot", "report",
					 "calibrate", "validate", "version", NULL };

TEST(distance_counts_each_kind_of_edit_once)
{
	CHECK(suggest_distance("run", "run", 2) == 0);
	CHECK(suggest_distance("rn", "run", 2) == 1);      /* insert */
	CHECK(suggest_distance("runn", "run", 2) == 1);    /* delete */
	CHECK(suggest_distance("rin", "run", 2) == 1);     /* substitute */
	CHECK(suggest_distance("rnu", "run", 2) == 1);     /* swap of neighbours */
	CHECK(suggest_distance("", "abc", 5) == 3);
}

TEST(distance_is_capped)
{
	CHECK(suggest_distance("abcdef", "uvwxyz", 2) == 3);
	CHECK(suggest_distance("a", "abcdefgh", 2) == 3);  /* lengths alone rule it out */
}

TEST(distance_refuses_overlong_names)
{
	char longname[100];

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	CHECK(suggest_distance(longname, longname, 2) == 3);
}

TEST(typos_suggest_the_command)
{
	CHECK(!strcmp(suggest_closest("rnu", commands), "run"));
	CHECK(!strcmp(suggest_closest("swep", commands), "sweep"));
	CHECK(!strcmp(suggest_closest("repotr", commands), "report"));
	CHECK(!strcmp(suggest_closest("valdiate", commands), "validate"));
}

TEST(unique_prefix_suggests_the_command)
{
	CHECK(!strcmp(suggest_closest("cal", commands), "calibrate"));
	CHECK(suggest_closest("v", commands) == NULL);     /* validate and version */
}

TEST(unrelated_words_suggest_nothing)
{
	CHECK(suggest_closest("xyzzy", commands) == NULL);
	CHECK(suggest_closest("", commands) == NULL);
	CHECK(suggest_closest("zz", commands) == NULL);    /* 2 edits from db: too far for 2 letters */
}

struct cmd { const char *name; int weight; };

TEST(tables_of_structs_are_searched_by_their_first_member)
{
	static const struct cmd table[] = { { "info", 1 }, { "validate", 2 }, { "dump", 3 } };

	CHECK(!strcmp(suggest_closest_in("inof", table, 3, sizeof(table[0])), "info"));
	CHECK(!strcmp(suggest_closest_in("dmup", table, 3, sizeof(table[0])), "dump"));
	CHECK(suggest_closest_in("gen", table, 3, sizeof(table[0])) == NULL);
}

int main(void) { return test_main(); }
