// SPDX-License-Identifier: MIT
/*
 * hw-validate/harness/dev_kmod.c — memsim-hw's device calls: /dev/memsim of memsim.ko.
 * (memsim-user links hw-validate/user/msk_user.c instead, which runs the same request loop
 * in process.)
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hw.h"

int hw_dev_open(const char *dev)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int hw_dev_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg);
}

void hw_dev_describe(void)
{
}
