/* SPDX-License-Identifier: MIT */
/* hw-validate/user/include/linux/string.h — libc's <string.h> plus the kernel's memchr_inv and
 * strscpy, which the module's sources use. */
#ifndef MEMSIM_USER_LINUX_STRING_H
#define MEMSIM_USER_LINUX_STRING_H

#include <string.h>
#include <sys/types.h>

/* The first byte of s[0..n) that is not c, or NULL. */
static inline void *memchr_inv(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (unsigned char)c)
			return (void *)(p + i);
	return NULL;
}

/* Copies at most size - 1 bytes and NUL-terminates: the length, or -E2BIG if cut. */
static inline ssize_t strscpy(char *dst, const char *src, size_t size)
{
	size_t len;

	if (!size)
		return -7;
	len = strnlen(src, size);
	if (len == size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = 0;
		return -7;   /* -E2BIG */
	}
	memcpy(dst, src, len + 1);
	return (ssize_t)len;
}

#endif
