/* SPDX-License-Identifier: MIT */
/* sim/memlimit.c — the default --max-mem and its parser (see memlimit.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "env_user.h"
#include "memlimit.h"

uint64_t memlimit_meminfo_available(const char *text)
{
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, "MemAvailable:", 13)) {
			char *end;
			unsigned long long kb;

			p += 13;
			while (*p == ' ' || *p == '\t')
				p++;
			if (!isdigit((unsigned char)*p))
				return 0;
			errno = 0;
			kb = strtoull(p, &end, 10);
			if (errno || strncmp(end, " kB", 3) || kb > UINT64_MAX / 1024)
				return 0;
			return (uint64_t)kb * 1024;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

static uint64_t mem_available(void)
{
	char buf[8192];
	ssize_t n;
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);   /* MemAvailable is on the third line */
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return memlimit_meminfo_available(buf);
}

uint64_t memlimit_default(unsigned jobs, char *how, size_t howlen)
{
	uint64_t avail = mem_available(), base = avail, lim;
	const char *from = "MemAvailable";
	struct rlimit rl;
	char b[32];

	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (!base || (uint64_t)rl.rlim_cur < base)) {
		base = (uint64_t)rl.rlim_cur;
		from = "the address-space limit (ulimit -v)";
	}
	if (!base) {
		snprintf(how, howlen, "no limit: neither MemAvailable nor an address-space limit known");
		return 0;
	}
	if (!jobs)
		jobs = 1;
	lim = base / 4 * 3 / jobs;
	env_format_bytes(base, b, sizeof(b));
	if (jobs > 1)
		snprintf(how, howlen, "the default, 3/4 of %s %s over %u jobs", from, b, jobs);
	else
		snprintf(how, howlen, "the default, 3/4 of %s %s", from, b);
	return lim;
}

int memlimit_parse(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *suffix;
		uint64_t mul;
	} sfx[] = {
		{ "", 1 }, { "k", 1000ULL }, { "K", 1000ULL }, { "M", 1000000ULL },
		{ "G", 1000000000ULL }, { "T", 1000000000000ULL }, { "Ki", 1ULL << 10 },
		{ "Mi", 1ULL << 20 }, { "Gi", 1ULL << 30 }, { "Ti", 1ULL << 40 },
	};
	char unit[8];
	char *end;
	uint64_t x;
	size_t i, n;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno)
		return -1;
	n = strlen(end);
	if (n >= sizeof(unit))
		return -1;
	memcpy(unit, end, n + 1);
	if (n && unit[n - 1] == 'B')   /* 8GiB, 8GB, 512B */
		unit[n - 1] = 0;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (!strcmp(unit, sfx[i].suffix)) {
			if (x && sfx[i].mul > UINT64_MAX / x)
				return -1;
			*bytes = x * sfx[i].mul;
			return 0;
		}
	}
	return -1;
}
