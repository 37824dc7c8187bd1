/* SPDX-License-Identifier: MIT */
/*
 * sim/where.h — the --where conditions of `memsim plot` (docs/plots.md, docs/security.md 7).
 *
 * One condition, parsed strictly (anything else is an error naming the character):
 *
 *     COND   := NAME OP VALUE                 blanks allowed around each part
 *     NAME   := [A-Za-z_][A-Za-z0-9_]*        a parameter, a metric or a run column
 *     OP     := =  ==  !=  <  <=  >  >=
 *     VALUE  := NUMBER | WORD | 'TEXT' | "TEXT"
 *     NUMBER := [+-] digits [. digits] [e [+-] digits]   (or .digits), magnitude within a
 *               double's range (1e400 is an error); or digits with a multiplier
 *               k M G Ki Mi Gi Ti; or, for a NAME ending in _ns or _ms, digits with a time
 *               suffix ns us ms s, converted exactly to that unit
 *     WORD   := characters other than blanks, quotes and = ! < >
 *     TEXT   := any characters; the enclosing quote doubled stands for itself ('it''s')
 *
 * A NUMBER compares numerically and exactly with a stored number (an integer parameter's
 * text, a metric's double, both as exact decimals: no rounding, no text order).  A WORD or a
 * quoted TEXT compares as text, with = and != only.  Ordering a stored value that is not a
 * number (a choice) is an error, not an empty selection.
 */
#ifndef MEMSIM_SIM_WHERE_H
#define MEMSIM_SIM_WHERE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WHERE_NAME_MAX 64
#define WHERE_VALUE_MAX 256
#define WHERE_DIGITS 800      /* a double's exact decimal has at most 767 significant digits */

enum where_op { WHERE_EQ, WHERE_NE, WHERE_LT, WHERE_LE, WHERE_GT, WHERE_GE };

/* An exact decimal: sign x 0.dig x 10^exp, dig without leading or trailing zeros. */
struct where_dec {
	int sign;                 /* -1, 0 (the value is 0), 1 */
	int exp;
	size_t ndig;
	char dig[WHERE_DIGITS];
};

struct where_cond {
	char name[WHERE_NAME_MAX];
	enum where_op op;
	char value[WHERE_VALUE_MAX];   /* as written, without quotes */
	bool is_num;                   /* value is a NUMBER: num holds it */
	struct where_dec num;
};

/* Parses one condition: 0, or -1 with "at character N: what is wrong" in err. */
int where_parse(const char *text, struct where_cond *c, char *err, size_t errlen);
const char *where_op_text(enum where_op op);

/* Parses a plain decimal number (the NUMBER grammar without suffixes): 0, -1 not a number,
 * -2 out of a double's range. */
int where_dec_parse(const char *s, struct where_dec *d);
/* The exact value of a finite double. */
void where_dec_of_double(double v, struct where_dec *d);
int where_dec_cmp(const struct where_dec *a, const struct where_dec *b);   /* <0, 0, >0 */

/*
 * Does a stored value satisfy the condition?  1 yes, 0 no, -1 it cannot be compared (err:
 * why).  text_only: the stored value is an identifier or a name (compare as text even if it
 * looks like a number).
 */
int where_match_text(const struct where_cond *c, const char *stored, bool text_only,
		     char *err, size_t errlen);
int where_match_double(const struct where_cond *c, double v, char *err, size_t errlen);
int where_match_int(const struct where_cond *c, int64_t v, char *err, size_t errlen);

#endif
