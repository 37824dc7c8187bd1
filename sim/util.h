/* SPDX-License-Identifier: MIT */
/* sim/util.h — small helpers shared by the commands: error messages, JSON strings, allocation
 * that cannot fail, and growing lists of strings and doubles. */
#ifndef MEMSIM_SIM_UTIL_H
#define MEMSIM_SIM_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

/* snprintf into a caller's error buffer; a NULL or empty buffer is ignored. */
void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* What a file of this mode is, for messages: "a directory", "a FIFO", "a character device"... */
const char *file_kind(mode_t mode);
/*
 * Opens path read-only if it is a regular file: O_NONBLOCK while opening, so that a FIFO
 * does not wait for a writer, and the type checked on the open descriptor (no race with a
 * rename).  Returns the descriptor (blocking again), *sb filled in; or -errno with
 * "PATH: cannot open: REASON" or "PATH: not a regular file (a FIFO)" in err.
 */
int open_regular(const char *path, struct stat *sb, char *err, size_t errlen);
/*
 * Reads a whole input file (a sweep spec, a cost profile) of at most max bytes into a
 * malloc'ed, NUL-terminated buffer; *len gets its length.  Only regular files: a FIFO, a
 * device or a directory is refused without blocking or reading, and so is a file larger
 * than max (checked before reading, and again while reading, in case it grows).
 * NULL with *errnum = an errno value and "PATH: what is wrong" in err.
 */
#define INPUT_FILE_MAX (1u << 20)
char *read_input_file(const char *path, size_t max, size_t *len, int *errnum,
		      char *err, size_t errlen);
/* Writes s as a JSON string literal (quotes, backslashes and control bytes escaped). */
void json_write_string(FILE *f, const char *s);

/* Allocation for the commands (not the models): out of memory is reported and exits 1, as a
 * command cannot do anything better with it.  xrealloc(p, 0) returns a 1-byte block. */
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);        /* NULL is copied as "" */

/* A growing list of owned strings, and one of doubles; zero-initialised means empty. */
struct strv {
	char **v;
	size_t n, cap;
};
size_t strv_push(struct strv *s, const char *x);      /* the new element's index */
long strv_find(const struct strv *s, const char *x);  /* index, or -1 */
void strv_free(struct strv *s);

struct dvec {
	double *v;
	size_t n, cap;
};
void dvec_push(struct dvec *d, double x);

#endif
