/* SPDX-License-Identifier: MIT */
/* sim/util.h — small helpers shared by the commands: error messages and JSON strings. */
#ifndef MEMSIM_SIM_UTIL_H
#define MEMSIM_SIM_UTIL_H

#include <stddef.h>
#include <stdio.h>

/* snprintf into a caller's error buffer; a NULL or empty buffer is ignored. */
void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Writes s as a JSON string literal (quotes, backslashes and control bytes escaped). */
void json_write_string(FILE *f, const char *s);

#endif
