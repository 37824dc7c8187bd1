/* SPDX-License-Identifier: MIT */
/* sim/util.c — see util.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/stat.h>
#include "util.h"

void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void json_write_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

const char *file_kind(mode_t m)
{
	return S_ISREG(m) ? "a regular file" : S_ISDIR(m) ? "a directory" :
	       S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" :
	       S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" :
	       S_ISLNK(m) ? "a symbolic link" : "a special file";
}

int open_regular(const char *path, struct stat *sb, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), e;

	if (fd < 0) {
		e = errno;
		seterr(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, sb)) {
		e = errno;
		seterr(err, errlen, "%s: cannot open: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	if (!S_ISREG(sb->st_mode)) {
		seterr(err, errlen, "%s: not a regular file (%s)", path, file_kind(sb->st_mode));
		close(fd);
		return S_ISDIR(sb->st_mode) ? -EISDIR : -EINVAL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

char *read_input_file(const char *path, size_t max, size_t *len, int *errnum,
		      char *err, size_t errlen)
{
	struct stat sb;
	size_t n = 0;
	ssize_t got;
	char *buf;
	int fd = open_regular(path, &sb, err, errlen);

	if (fd < 0) {
		*errnum = -fd;
		return NULL;
	}
	if ((uintmax_t)sb.st_size > max) {
		*errnum = EFBIG;
		seterr(err, errlen, "%s: %jd bytes, more than the %zu an input file may have", path,
		       (intmax_t)sb.st_size, max);
		close(fd);
		return NULL;
	}
	buf = malloc(max + 2);
	if (!buf) {
		*errnum = ENOMEM;
		seterr(err, errlen, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	/* one byte more than allowed tells a file that grew since fstat */
	while (n <= max && (got = read(fd, buf + n, max + 1 - n)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			*errnum = errno;
			seterr(err, errlen, "%s: read error: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		n += (size_t)got;
	}
	close(fd);
	if (n > max) {
		*errnum = EFBIG;
		seterr(err, errlen, "%s: more than the %zu bytes an input file may have", path, max);
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "memsim: out of memory\n");
		exit(1);	/* EXIT_FAIL */
	}
	return q;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		fprintf(stderr, "memsim: out of memory\n");
		exit(1);	/* EXIT_FAIL */
	}
	return d;
}

size_t strv_push(struct strv *s, const char *x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n] = xstrdup(x);
	return s->n++;
}

long strv_find(const struct strv *s, const char *x)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x))
			return (long)i;
	return -1;
}

void strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void dvec_push(struct dvec *d, double x)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	d->v[d->n++] = x;
}
