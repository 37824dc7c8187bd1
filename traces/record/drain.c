/* SPDX-License-Identifier: MIT */
/*
 * traces/record/drain.c — the in-guest trace reader (built static by record.sh).
 *
 *   memsim-drain TRACE_PIPE OUT PERIOD_MS
 *
 * `cat trace_pipe` wakes up whenever an event is committed, so the reader itself shows up
 * in the trace as thousands of context switches and cr3 loads.  This reader empties
 * trace_pipe without blocking (O_NONBLOCK, until EAGAIN), then sleeps PERIOD_MS: a few
 * wake-ups per second.  SIGUSR1 asks for a last full drain and exit (status 0); a failed
 * read or write exits 1 with a message on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_usr1(int sig)
{
	(void)sig;
	stop = 1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads until the pipe is empty; 0, or -1 on an error. */
static int drain(int in, int out)
{
	static char buf[1 << 16];

	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));

		if (r > 0) {
			if (write_all(out, buf, (size_t)r))
				return -1;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return 0;
		return r == 0 ? 0 : -1;
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct timespec ts;
	long ms;
	int in, out;

	if (argc != 4) {
		fprintf(stderr, "usage: memsim-drain TRACE_PIPE OUT PERIOD_MS\n");
		return 2;
	}
	ms = strtol(argv[3], NULL, 10);
	if (ms < 1)
		ms = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	in = open(argv[1], O_RDONLY | O_NONBLOCK);
	if (in < 0) {
		fprintf(stderr, "memsim-drain: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	out = open(argv[2], O_WRONLY);
	if (out < 0) {
		fprintf(stderr, "memsim-drain: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	while (!stop) {
		if (drain(in, out)) {
			fprintf(stderr, "memsim-drain: %s\n", strerror(errno));
			return 1;
		}
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
		nanosleep(&ts, NULL); /* a signal cuts it short: fine */
	}
	if (drain(in, out)) {
		fprintf(stderr, "memsim-drain: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
