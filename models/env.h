/* SPDX-License-Identifier: MIT */
/*
 * models/env.h — the only header policy code in models/ may include.
 *
 * The same models/ sources files are compiled three ways:
 *
 *   userspace (sim, tests)   : types from <stdint.h>, allocation through sim/env_user.c
 *                              (libc malloc with fault injection for tests)
 *   kernel (hw-validate/kmod): __KERNEL__ defined; types from <linux/types.h>, allocation
 *                              through hw-validate/kmod/env_kernel.c (kvmalloc)
 *   freestanding check       : MEMSIM_FREESTANDING defined, -ffreestanding -nostdinc: no
 *                              header at all, types from the compiler's builtin macros.  This
 *                              proves the models need nothing but what this file declares.
 *
 * Rules for models/: no libc, no floating point, no clock reads, no global mutable state
 * outside a model instance.  Everything a model needs from its host is declared here.
 */
#ifndef MEMSIM_MODELS_ENV_H
#define MEMSIM_MODELS_ENV_H

#if defined(__KERNEL__)
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/stddef.h>
#elif defined(MEMSIM_FREESTANDING)
typedef __UINT8_TYPE__ uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __INT32_TYPE__ int32_t;
typedef __INT64_TYPE__ int64_t;
typedef __SIZE_TYPE__ size_t;
typedef __UINTPTR_TYPE__ uintptr_t;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)
#define offsetof(t, m) __builtin_offsetof(t, m)
#define ENOMEM 12
#define EINVAL 22
#define EBUSY 16
#define ENOENT 2
#define EEXIST 17
#define EAGAIN 11
#define ERANGE 34
#else
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <errno.h>
#endif

/* ---- host services (implemented by sim/env_user.c or hw-validate/kmod/env_kernel.c) ---- */

/* Allocation may fail (NULL): callers degrade and count the failure, never crash.  `size` in
 * env_free is the size allocated (the simulator accounts the run's memory with it).  In the
 * simulator a NULL is either a modelled failure (alloc_fail_ppm, test hooks) or a host one,
 * which also fails the run (sim/env_user.h): degrading stays correct in both cases. */
void *env_alloc(size_t size);
void *env_zalloc(size_t size);
void env_free(void *p, size_t size);
/* Called by ENV_ASSERT on a broken invariant: aborts in userspace, WARNs in the kernel. */
void env_assert_fail(const char *expr, const char *file, int line);

#define ENV_ASSERT(e) ((e) ? (void)0 : env_assert_fail(#e, __FILE__, __LINE__))

#define env_memset(d, c, n) __builtin_memset((d), (c), (n))
#define env_memcpy(d, s, n) __builtin_memcpy((d), (s), (n))

#define ENV_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define env_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define ENV_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ENV_MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- intrusive doubly linked list (same shape as the kernel's list_head) ---- */
struct env_list {
	struct env_list *next, *prev;
};

static inline void env_list_init(struct env_list *h) { h->next = h->prev = h; }
static inline bool env_list_empty(const struct env_list *h) { return h->next == h; }

static inline void env_list_add_head(struct env_list *n, struct env_list *h)
{
	n->next = h->next;
	n->prev = h;
	h->next->prev = n;
	h->next = n;
}

static inline void env_list_add_tail(struct env_list *n, struct env_list *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void env_list_del(struct env_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

/* String equality (no libc in models/): policy and parameter names. */
static inline bool env_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* 64-bit mixing (splitmix64 finaliser): integer-only, used for hashing keys. */
static inline uint64_t env_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

#endif /* MEMSIM_MODELS_ENV_H */
