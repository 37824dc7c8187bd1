/* SPDX-License-Identifier: MIT */
/* hw-validate/harness/hw.h — shared by memsim-hw.c (measuring) and garbage.c (abuse test). */
#ifndef MEMSIM_HW_H
#define MEMSIM_HW_H

#include <stdint.h>
#include "memsim_uapi.h"

/* Fills a request header: size, version and NUL-padded names. 0, or -EINVAL if a name
 * does not fit. */
int hw_req_init(struct memsim_req *r, const char *model, const char *policy, const char *op,
		uint64_t n, uint32_t k);
/* Adds name=value; 0 or -EINVAL (too many, name too long). */
int hw_req_param(struct memsim_req *r, const char *name, uint64_t value);
/* MEMSIM_IOC_INFO; 0 or -errno. */
int hw_info(int fd, struct memsim_info *info);

/*
 * The device: dev_kmod.c opens /dev/memsim and ioctls it; memsim-user's user/msk_user.c
 * serves the same calls in process (same request loop, kmod/msk_core.c).
 * hw_dev_open: an fd or -errno.  hw_dev_ioctl: 0, or -1 with errno, as ioctl(2).
 * hw_dev_describe: prints the runner's own record (nothing for the module).
 */
int hw_dev_open(const char *dev);
int hw_dev_ioctl(int fd, unsigned long cmd, void *arg);
void hw_dev_describe(void);
extern int hw_dev_cpu;   /* memsim-user --cpu: the CPU to pin to, -1 to pick */

/* The garbage-request test: prints "ok NAME"/"FAIL NAME: why" and the summary line
 * "garbage: N passed, N failed"; returns the failure count. */
int hw_garbage(int fd, const char *dev, uint64_t seed, unsigned int rounds);

#endif
