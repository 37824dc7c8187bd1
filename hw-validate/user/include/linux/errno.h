/* SPDX-License-Identifier: MIT */
/* hw-validate/user/include/linux/errno.h — the kernel's error numbers: the uapi <asm/errno.h>
 * (EUCLEAN, ETIME included), which libc's <errno.h> also reaches through this very name. */
#ifndef MEMSIM_USER_LINUX_ERRNO_H
#define MEMSIM_USER_LINUX_ERRNO_H
#include <asm/errno.h>
#endif
