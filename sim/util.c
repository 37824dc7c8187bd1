/* SPDX-License-Identifier: MIT */
/* sim/util.c — see util.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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

char *read_input_file(const char *path, size_t max, size_t *len, int *errnum,
		      char *err, size_t errlen)
{
	struct stat sb;
	size_t n = 0;
	ssize_t got;
	char *buf;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		*errnum = errno;
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		*errnum = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		seterr(err, errlen, "%s: not a regular file (%s)", path,
		       S_ISDIR(sb.st_mode) ? "a directory" : S_ISCHR(sb.st_mode) ?
		       "a character device" : S_ISBLK(sb.st_mode) ? "a block device" :
		       S_ISFIFO(sb.st_mode) ? "a FIFO" : S_ISSOCK(sb.st_mode) ? "a socket" :
		       "not a file");
		close(fd);
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
