/* SPDX-License-Identifier: MIT */
/* hw-validate/user/include/linux/build_bug.h — BUILD_BUG_ON as a statement, like the kernel's. */
#ifndef MEMSIM_USER_LINUX_BUILD_BUG_H
#define MEMSIM_USER_LINUX_BUILD_BUG_H
#define BUILD_BUG_ON(cond) ((void)sizeof(char[1 - 2 * !!(cond)]))
#endif
