/* SPDX-License-Identifier: MIT */
/*
 * hw-validate/user/include/linux/kernel.h — the little of the kernel's <linux/kernel.h> that
 * the module's own sources (kmod/msk_core.c, kmod/ops_*.c) use, for building them unchanged
 * as the userspace program memsim-user.  The types come from the uapi <linux/types.h>, so
 * u64 is the same type as the __u64 fields of memsim_uapi.h, as in the kernel.
 */
#ifndef MEMSIM_USER_LINUX_KERNEL_H
#define MEMSIM_USER_LINUX_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;

#define U32_MAX ((u32)~0U)
#define U64_MAX ((u64)~0ULL)
#define S64_MAX ((s64)(U64_MAX >> 1))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A broken expectation of the module is a bug: say it once, on stderr, as WARN does. */
#define WARN_ON_ONCE(cond) ({                                                   \
	static bool __warned;                                                   \
	bool __c = !!(cond);                                                    \
	if (__c && !__warned) {                                                 \
		__warned = true;                                                \
		fprintf(stderr, "memsim-user: WARN_ON_ONCE(%s) at %s:%d\n",     \
			#cond, __FILE__, __LINE__);                              \
	}                                                                       \
	__c; })

#define pr_warn(...) fprintf(stderr, __VA_ARGS__)

/* Like the kernel's: the number of characters written, never more than size - 1. */
static inline int scnprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int scnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!size)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		return 0;
	return (size_t)n >= size ? (int)(size - 1) : n;
}

#endif
