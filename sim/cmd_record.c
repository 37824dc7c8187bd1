/* SPDX-License-Identifier: MIT */
/*
 * sim/cmd_record.c — `memsim trace record`: record real guest memory traces in QEMU.
 *
 * Three stages, each restartable from the recording directory it leaves behind:
 *
 *   prepare   traces/record/record.sh extracts a PVH-bootable vmlinux and builds the
 *             initramfs (busybox, virtio console modules, the agent, the workloads).
 *   record    N QEMU guests boot concurrently; each agent streams the guest's tracepoints
 *             over virtio-serial (gN/trace.txt) and reports on a control port (gN/ctl.log).
 *             Meanwhile this process maps every guest's RAM file and, every interval, hashes
 *             each 4 KiB page into gN/digests.bin.
 *   convert   the tracepoint text and the digest samples become one v1 trace, time-ordered,
 *             with provenance; guest counters (/proc/vmstat) are checked against the events.
 *
 * Guest states seen on the control port, in order (anything else is a failure):
 *
 *   spawned --HELLO--> up --READY--> ready --(host: GO to all)--> go --START--> tracing
 *           --END--> ended --DONE--> done --exit--> gone
 *
 * The host writes GO into every guest's memsim.go port once all are ready, so the guests
 * trace the same stretch of host time and their RAM samples can be compared.
 *
 * A guest that exits or times out before DONE, an ERROR line, a missing trace marker or an
 * empty event stream fails the recording with one line naming the guest and the problem;
 * the directory is kept for diagnosis.  docs/recording.md maps each guest event to records.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "outfile.h"
#include "trace.h"

#define RECORDER_VERSION "1"
#define MAX_GUESTS 16
#define MAX_VCPUS 8
#define PAGE_BYTES 4096u
/* frame of a fault whose guest frame could not be attributed (docs/recording.md) */
#define FRAME_UNKNOWN UINT64_MAX
/* user-space addresses on x86-64 (4- and 5-level paging both fit below) */
#define USER_ADDR_LIMIT 0x0100000000000000ull
#define DIGEST_MAGIC 0x4744534du /* "MSDG" */

struct rec_opts {
	const char *workload;      /* bundled name, or "script" with script set */
	const char *script;
	unsigned guests, seconds, interval_ms, mem_mb, vcpus;
	uint64_t seed;
	int icount_shift;          /* -1: off */
	const char *kernel;
	unsigned boot_timeout, timeout;
	const char *share;         /* cross | all | none */
	bool share_zero;
	const char *keep;          /* keep the recording directory here */
	const char *convert;       /* only convert this recording directory */
	const char *out;
	bool quiet;
};

static bool quiet;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	fputs("memsim: trace record: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("memsim: trace record: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* snprintf for messages: truncation of long paths in a message is acceptable */
static void bprintf(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bprintf(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- page digests ------------------------------------------------------------------------- */
/*
 * 64-bit digest of one 4 KiB page: four multiply-rotate lanes over the 512 words, folded
 * and finalised with a 64-bit avalanche mix.  An all-zero page digests to 0 exactly and no
 * other page does (0 is remapped to 1), so "zero page" needs no separate flag.
 */
#define DG_P1 0x9E3779B185EBCA87ull
#define DG_P2 0xC2B2AE3D27D4EB4Full
#define DG_P3 0x165667B19E3779F9ull

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t dg_round(uint64_t acc, uint64_t w)
{
	acc += w * DG_P2;
	acc = rotl64(acc, 31);
	return acc * DG_P1;
}

static inline uint64_t dg_avalanche(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* Zero test first: most of a guest's RAM is zero, and an OR-scan is much cheaper than
 * the multiply chain; a non-zero page usually leaves at its first 512-byte block. */
static bool page_is_zero(const uint64_t *w)
{
	unsigned i, j;

	for (i = 0; i < PAGE_BYTES / 8; i += 64) {
		uint64_t nz = 0;

		for (j = 0; j < 64; j++)
			nz |= w[i + j];
		if (nz)
			return false;
	}
	return true;
}

static uint64_t page_digest(const void *page)
{
	const uint64_t *w = page;
	uint64_t a = DG_P1 + DG_P2, b = DG_P2, c = 0, d = 0 - DG_P1, h;
	unsigned i;

	if (page_is_zero(w))
		return 0;
	for (i = 0; i < PAGE_BYTES / 8; i += 4) {
		a = dg_round(a, w[i]);
		b = dg_round(b, w[i + 1]);
		c = dg_round(c, w[i + 2]);
		d = dg_round(d, w[i + 3]);
	}
	h = rotl64(a, 1) + rotl64(b, 7) + rotl64(c, 12) + rotl64(d, 18);
	h = dg_avalanche(h ^ (DG_P3 * PAGE_BYTES));
	return h ? h : 1;
}

/* ---- small helpers -------------------------------------------------------------------------- */
static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int rm_rf(const char *path)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (!pid) {
		execlp("rm", "rm", "-rf", "--", path, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -EIO;
}

/* Reads a whole (small) file, NUL-terminated; NULL on error. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			char *nb;

			cap = cap ? cap * 2 : 131072;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/* The last non-empty line of a file (for "see console.log: ..." messages). */
static void last_line(const char *path, char *out, size_t outlen)
{
	char *buf = slurp(path, NULL), *e, *s;

	snprintf(out, outlen, "(empty)");
	if (!buf)
		return;
	e = buf + strlen(buf);
	while (e > buf && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
		*--e = 0;
	s = strrchr(buf, '\n');
	s = s ? s + 1 : buf;
	if (*s)
		snprintf(out, outlen, "%.*s", (int)(outlen - 1), s);
	free(buf);
}

/*
 * Runs argv to completion; stderr is captured and its last line returned in msg.
 * Returns the exit status (or -errno).  stdout goes to out (may be NULL: discarded).
 */
static int run_tool(char *const argv[], char *out, size_t outlen, char *msg, size_t msglen)
{
	int po[2], pe[2], st;
	pid_t pid;
	char buf[4096];
	size_t no = 0, ne = 0;

	if (pipe(po) || pipe(pe))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	/* stdout is tiny for our tools; read it all, then stderr */
	for (;;) {
		ssize_t r = read(po[0], buf, sizeof(buf));

		if (r <= 0)
			break;
		if (out && no + (size_t)r < outlen) {
			memcpy(out + no, buf, (size_t)r);
			no += (size_t)r;
		}
	}
	for (;;) {
		ssize_t r = read(pe[0], buf + ne, sizeof(buf) - 1 - ne);

		if (r <= 0)
			break;
		ne += (size_t)r;
		if (ne >= sizeof(buf) - 1) {
			/* keep the tail */
			memmove(buf, buf + ne / 2, ne - ne / 2);
			ne -= ne / 2;
		}
	}
	close(po[0]);
	close(pe[0]);
	if (out && outlen) {
		out[no] = 0;
		while (no && (out[no - 1] == '\n' || out[no - 1] == ' '))
			out[--no] = 0;
	}
	buf[ne] = 0;
	while (ne && buf[ne - 1] == '\n')
		buf[--ne] = 0;
	if (msg && msglen) {
		char *l = strrchr(buf, '\n');

		bprintf(msg, msglen, "%s", l ? l + 1 : buf);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- locating things ------------------------------------------------------------------------- */
/* traces/record/ next to the binary (build/memsim -> ../traces/record), or overridden. */
static int find_record_dir(char *out, size_t len)
{
	const char *env = getenv("MEMSIM_RECORD_DIR");
	char exe[PATH_MAX], cand[PATH_MAX + 64];
	const char *rel[] = { "/../traces/record", "/../../traces/record", "/../share/memsim/record" };
	ssize_t n;
	size_t i;
	char *slash;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	env = getenv("MEMSIM_TOP");
	if (env && *env) {
		snprintf(cand, sizeof(cand), "%s/traces/record/record.sh", env);
		if (!access(cand, R_OK)) {
			snprintf(out, len, "%s/traces/record", env);
			return 0;
		}
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -ENOENT;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(cand, sizeof(cand), "%s%s/record.sh", exe, rel[i]);
		if (!access(cand, R_OK)) {
			snprintf(out, len, "%s%s", exe, rel[i]);
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * The kernel release of a bzImage, from its setup header (kernel_version at 0x20e points
 * to a string 0x200 bytes further), e.g. "6.1.0-56-amd64".
 */
static int bzimage_release(const char *path, char *out, size_t len)
{
	unsigned char hdr[0x210];
	char s[256];
	FILE *f = fopen(path, "rb");
	unsigned off;
	size_t i;

	if (!f)
		return -errno;
	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) || memcmp(hdr + 0x202, "HdrS", 4)) {
		fclose(f);
		return -EINVAL;
	}
	off = (unsigned)hdr[0x20e] | (unsigned)hdr[0x20f] << 8;
	if (!off || fseek(f, (long)off + 0x200, SEEK_SET) || !fgets(s, sizeof(s), f)) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	for (i = 0; s[i] && !isspace((unsigned char)s[i]); i++)
		;
	s[i] = 0;
	if (!i)
		return -EINVAL;
	snprintf(out, len, "%s", s);
	return 0;
}

/* Newest /boot/vmlinuz-* that has /lib/modules/<release>/modules.dep. */
static int find_kernel(char *out, size_t len)
{
	char list[8192], msg[256];
	char *argv[] = { "sh", "-c", "ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V -r", NULL };
	char *line, *save = NULL;

	if (run_tool(argv, list, sizeof(list), msg, sizeof(msg)) < 0)
		return -ENOENT;
	for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char rel[256], dep[PATH_MAX];

		if (bzimage_release(line, rel, sizeof(rel)))
			continue;
		snprintf(dep, sizeof(dep), "/lib/modules/%s/modules.dep", rel);
		if (!access(dep, R_OK) && !access(line, R_OK)) {
			snprintf(out, len, "%s", line);
			return 0;
		}
	}
	return -ENOENT;
}

static bool workload_name_ok(const char *w)
{
	static const char *const bundled[] = { "fork-tar", "dd-pagecache", "pipeline", "forkstorm" };
	size_t i;

	for (i = 0; i < sizeof(bundled) / sizeof(bundled[0]); i++)
		if (!strcmp(w, bundled[i]))
			return true;
	return false;
}

/* ---- recording metadata (dir/recording.txt: key=value lines) ------------------------------ */
struct meta {
	char workload[256], kernel_image[PATH_MAX], kernel_release[128], qemu[256], date[64];
	unsigned guests, seconds, interval_ms, mem_mb, vcpus;
	uint64_t seed;
	int icount_shift;
	char share[16];
	bool share_zero;
	char boot[16];
};

static int meta_write(const char *dir, const struct meta *m)
{
	char path[PATH_MAX];
	FILE *f;

	bprintf(path, sizeof(path), "%s/recording.txt", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "workload=%s\nkernel_image=%s\nkernel_release=%s\nqemu=%s\ndate=%s\n"
		"guests=%u\nseconds=%u\ninterval_ms=%u\nmem_mb=%u\nvcpus=%u\nseed=%" PRIu64 "\n"
		"icount_shift=%d\nshare=%s\nshare_zero=%d\nboot=%s\n",
		m->workload, m->kernel_image, m->kernel_release, m->qemu, m->date, m->guests,
		m->seconds, m->interval_ms, m->mem_mb, m->vcpus, m->seed, m->icount_shift, m->share,
		m->share_zero, m->boot);
	return fclose(f) ? -errno : 0;
}

static int meta_read(const char *dir, struct meta *m)
{
	char path[PATH_MAX], line[PATH_MAX + 64];
	FILE *f;

	memset(m, 0, sizeof(*m));
	m->icount_shift = -1;
	snprintf(path, sizeof(path), "%s/recording.txt", dir);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, '='), *nl = strchr(line, '\n');

		if (nl)
			*nl = 0;
		if (!v)
			continue;
		*v++ = 0;
#define S(k) else if (!strcmp(line, #k)) snprintf(m->k, sizeof(m->k), "%s", v)
#define U(k) else if (!strcmp(line, #k)) m->k = (unsigned)strtoul(v, NULL, 10)
		if (0) {
		}
		S(workload); S(kernel_image); S(kernel_release); S(qemu); S(date); S(share); S(boot);
		U(guests); U(seconds); U(interval_ms); U(mem_mb); U(vcpus);
		else if (!strcmp(line, "seed"))
			m->seed = strtoull(v, NULL, 10);
		else if (!strcmp(line, "icount_shift"))
			m->icount_shift = atoi(v);
		else if (!strcmp(line, "share_zero"))
			m->share_zero = atoi(v) != 0;
#undef S
#undef U
	}
	fclose(f);
	if (!m->guests || m->guests > MAX_GUESTS)
		return -EINVAL;
	return 0;
}

/* ==== stage 2: running the guests ========================================================== */
enum gstate { G_SPAWNED, G_UP, G_READY, G_GO, G_TRACING, G_ENDED, G_DONE, G_GONE };

struct guest {
	unsigned idx;              /* 1-based: the trace domain */
	char dir[PATH_MAX];
	char ram[PATH_MAX];
	pid_t pid;
	enum gstate state;
	bool barrier;              /* waits for GO (not under -icount) */
	int exit_status;
	FILE *ctl;                 /* ctl.log, read as QEMU appends */
	char cbuf[8192];
	size_t clen;
	uint64_t h_spawn, h_hello, h_start, h_end;
	const unsigned char *mem;  /* guest RAM, mapped read-only */
	size_t mem_len;
	FILE *dig;                 /* digests.bin */
	char error[512];
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static pid_t spawn_guest(const char *script, char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	/* QEMU must not outlive us: the death signal survives record.sh's exec of qemu */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0);
	{
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_RDONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
	}
	execv(script, argv);
	_exit(127);
}

/* Reads new complete lines of ctl.log and advances the guest's state. */
static void guest_poll_ctl(struct guest *g, uint64_t t)
{
	size_t r;

	if (!g->ctl) {
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/ctl.log", g->dir);
		g->ctl = fopen(path, "r");
		if (!g->ctl)
			return;
	}
	for (;;) {
		char *nl, *line;

		r = fread(g->cbuf + g->clen, 1, sizeof(g->cbuf) - 1 - g->clen, g->ctl);
		g->clen += r;
		g->cbuf[g->clen] = 0;
		line = g->cbuf;
		while ((nl = strchr(line, '\n'))) {
			*nl = 0;
			if (!strncmp(line, "HELLO ", 6) && g->state == G_SPAWNED) {
				g->state = G_UP;
				g->h_hello = t;
			} else if (!strncmp(line, "READY ", 6) && g->state == G_UP) {
				g->state = g->barrier ? G_READY : G_GO;
			} else if (!strncmp(line, "START ", 6) && g->state == G_GO) {
				g->state = G_TRACING;
				g->h_start = t;
			} else if (!strncmp(line, "END ", 4) && g->state == G_TRACING) {
				g->state = G_ENDED;
				g->h_end = t;
			} else if (!strcmp(line, "DONE") && g->state == G_ENDED) {
				g->state = G_DONE;
			} else if (!strncmp(line, "ERROR ", 6) && !g->error[0]) {
				snprintf(g->error, sizeof(g->error), "agent error: %.400s", line + 6);
			}
			line = nl + 1;
		}
		/* keep the partial line; a line longer than the buffer is skipped (VMSTAT) */
		if (line != g->cbuf) {
			g->clen -= (size_t)(line - g->cbuf);
			memmove(g->cbuf, line, g->clen);
		} else if (g->clen >= sizeof(g->cbuf) - 1) {
			g->clen = 0;
		}
		if (r == 0)
			break;
	}
	clearerr(g->ctl);
}

static int guest_map_ram(struct guest *g, size_t bytes)
{
	int fd = open(g->ram, O_RDONLY);
	struct stat st;
	void *p;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || (size_t)st.st_size < bytes) {
		close(fd);
		return -EIO;
	}
	p = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	g->mem = p;
	g->mem_len = bytes;
	/* QEMU and we hold the mapping: the name can go now, nothing leaks on a crash */
	unlink(g->ram);
	return 0;
}

/* One sample: the digest of every page of one guest, appended to digests.bin. */
static int guest_sample(struct guest *g, uint64_t host_rel_ns, uint64_t *buf)
{
	size_t np = g->mem_len / PAGE_BYTES, i;
	uint32_t hdr[2] = { DIGEST_MAGIC, g->idx };
	uint64_t h2[2] = { host_rel_ns, np };

	for (i = 0; i < np; i++)
		buf[i] = page_digest(g->mem + i * PAGE_BYTES);
	if (fwrite(hdr, sizeof(hdr), 1, g->dig) != 1 || fwrite(h2, sizeof(h2), 1, g->dig) != 1 ||
	    fwrite(buf, 8, np, g->dig) != np)
		return -EIO;
	return 0;
}

/* Releases the start barrier of one guest (QEMU holds the FIFO open read-write). */
static int guest_go(struct guest *g)
{
	char path[PATH_MAX + 8];
	int fd;

	snprintf(path, sizeof(path), "%s/go", g->dir);
	fd = open(path, O_WRONLY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (write(fd, "GO\n", 3) != 3) {
		int e = errno ? -errno : -EIO;

		close(fd);
		return e;
	}
	close(fd);
	g->state = G_GO;
	return 0;
}

static void guests_kill(struct guest *gs, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (gs[i].pid > 0 && gs[i].state != G_GONE)
			kill(-gs[i].pid, SIGKILL), kill(gs[i].pid, SIGKILL);
	for (i = 0; i < n; i++)
		if (gs[i].pid > 0 && gs[i].state != G_GONE) {
			waitpid(gs[i].pid, NULL, 0);
			gs[i].state = G_GONE;
		}
}

static const char *state_what(enum gstate s)
{
	switch (s) {
	case G_SPAWNED: return "before the agent said HELLO (boot failure)";
	case G_UP: return "while setting up the workload";
	case G_READY:
	case G_GO: return "before tracing started";
	case G_TRACING: return "while tracing (workload did not finish)";
	case G_ENDED: return "before the agent flushed its data (DONE)";
	default: return "";
	}
}

/* Describes why guest g failed, naming its console log. */
static void guest_failure(const struct guest *g, const char *why, char *out, size_t len)
{
	char cl[PATH_MAX + 16], last[200];

	snprintf(cl, sizeof(cl), "%s/console.log", g->dir);
	last_line(cl, last, sizeof(last));
	if (!strcmp(last, "(empty)")) {
		char ql[PATH_MAX + 16];

		snprintf(ql, sizeof(ql), "%s/qemu.log", g->dir);
		last_line(ql, last, sizeof(last));
		bprintf(out, len, "guest %u: %s (qemu.log: %s)", g->idx, why, last);
		return;
	}
	bprintf(out, len, "guest %u: %s (%s: %s)", g->idx, why, cl, last);
}

static int run_guests(const struct rec_opts *o, const char *dir, const char *rdir,
		      const char *kernel, const char *initrd, struct meta *m)
{
	struct guest gs[MAX_GUESTS];
	char script[PATH_MAX + 16], shm[64], msg[1024];
	size_t ram_bytes = (size_t)o->mem_mb << 20;
	uint64_t t0 = now_ns(), next_sample = 0, *dbuf = NULL, deadline_all;
	unsigned i, nsamples = 0;
	uint64_t sample_ns = 0;
	int rc = 0;
	bool sampling = false;
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;

	snprintf(script, sizeof(script), "%s/record.sh", rdir);
	snprintf(shm, sizeof(shm), "%s", access("/dev/shm", W_OK) ? "" : "/dev/shm");
	memset(gs, 0, sizeof(gs));
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	deadline_all = t0 + (uint64_t)o->timeout * 1000000000ull;

	for (i = 0; i < o->guests; i++) {
		struct guest *g = &gs[i];
		char append[1024], mem[16], vc[16], shift[16], log[PATH_MAX + 16];

		g->idx = i + 1;
		g->barrier = o->icount_shift < 0;
		snprintf(g->dir, sizeof(g->dir), "%s/g%u", dir, g->idx);
		if (mkdir_p(g->dir)) {
			fail("cannot create %s: %s", g->dir, strerror(errno));
			rc = -EIO;
			goto out;
		}
		snprintf(log, sizeof(log), "%s/go", g->dir);
		unlink(log);
		if (mkfifo(log, 0600)) {
			fail("cannot create the FIFO %s: %s", log, strerror(errno));
			rc = -EIO;
			goto out;
		}
		snprintf(log, sizeof(log), "%s/digests.bin", g->dir);
		g->dig = fopen(log, "wb");
		if (!g->dig) {
			fail("cannot create %s: %s", log, strerror(errno));
			rc = -EIO;
			goto out;
		}
		if (shm[0])
			snprintf(g->ram, sizeof(g->ram), "%s/memsim-rec-%d-g%u.ram", shm, (int)getpid(),
				 g->idx);
		else
			bprintf(g->ram, sizeof(g->ram), "%s/ram", g->dir);
		unlink(g->ram);
		snprintf(append, sizeof(append),
			 "console=ttyS0 nokaslr norandmaps panic=-1 quiet loglevel=4 "
			 "memsim.workload=%s memsim.seconds=%u memsim.seed=%" PRIu64 " memsim.guest=%u "
			 "memsim.barrier=%d%s%s", o->script ? "script" : o->workload, o->seconds, o->seed,
			 g->idx, o->icount_shift < 0,
			 getenv("MEMSIM_RECORD_FAULT") ? " memsim.fault=" : "",
			 getenv("MEMSIM_RECORD_FAULT") ? getenv("MEMSIM_RECORD_FAULT") : "");
		snprintf(mem, sizeof(mem), "%u", o->mem_mb);
		snprintf(vc, sizeof(vc), "%u", o->vcpus);
		snprintf(shift, sizeof(shift), "%d", o->icount_shift);
		snprintf(log, sizeof(log), "%s/qemu.log", g->dir);
		{
			char *argv[] = { script, "boot", (char *)kernel, (char *)initrd, g->ram, mem, vc,
					 g->dir, append, o->icount_shift >= 0 ? shift : NULL, NULL };

			g->pid = spawn_guest(script, argv, log);
		}
		if (g->pid < 0) {
			fail("cannot start guest %u: %s", g->idx, strerror(errno));
			rc = -EIO;
			goto out;
		}
		g->h_spawn = now_ns();
	}
	note("%u guest%s booting (%s, %u MiB, %u vCPU%s%s)", o->guests, o->guests > 1 ? "s" : "",
	     m->boot, o->mem_mb, o->vcpus, o->vcpus > 1 ? "s" : "",
	     o->icount_shift >= 0 ? ", -icount" : "");

	dbuf = malloc(ram_bytes / PAGE_BYTES * sizeof(*dbuf));
	if (!dbuf) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		uint64_t t = now_ns();
		unsigned ntracing = 0, ngone = 0, nended = 0, nready = 0;

		if (interrupted) {
			fail("interrupted by signal %d", (int)interrupted);
			rc = -EINTR;
			goto out;
		}
		for (i = 0; i < o->guests; i++) {
			struct guest *g = &gs[i];
			int st;

			guest_poll_ctl(g, t);
			if (g->error[0]) {
				guest_failure(g, g->error, msg, sizeof(msg));
				fail("%s", msg);
				rc = -EIO;
				goto out;
			}
			if (g->state == G_UP && !g->mem) {
				int e = guest_map_ram(g, ram_bytes);

				if (e) {
					fail("guest %u: cannot map its RAM file %s: %s", g->idx, g->ram,
					     strerror(-e));
					rc = e;
					goto out;
				}
				note("guest %u: agent up after %.1f s", g->idx,
				     (double)(g->h_hello - g->h_spawn) / 1e9);
			}
			if (g->state != G_GONE && waitpid(g->pid, &st, WNOHANG) == g->pid) {
				guest_poll_ctl(g, t);
				g->exit_status = st;
				if (g->state != G_DONE) {
					char why[256];

					snprintf(why, sizeof(why), "QEMU exited (%s %d) %s",
						 WIFEXITED(st) ? "status" : "signal",
						 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
						 state_what(g->state));
					g->state = G_GONE;
					guest_failure(g, why, msg, sizeof(msg));
					fail("%s", msg);
					rc = -EIO;
					goto out;
				}
				g->state = G_GONE;
			}
			if (g->state < G_READY &&
			    t - g->h_spawn > (uint64_t)o->boot_timeout * 1000000000ull) {
				char why[128];

				if (g->state == G_SPAWNED)
					snprintf(why, sizeof(why), "no agent HELLO within %u s (boot failure)",
						 o->boot_timeout);
				else
					snprintf(why, sizeof(why), "workload setup not done within %u s",
						 o->boot_timeout);
				guest_failure(g, why, msg, sizeof(msg));
				fail("%s", msg);
				rc = -ETIMEDOUT;
				goto out;
			}
			nready += g->state == G_READY;
			ntracing += g->state == G_TRACING;
			nended += g->state >= G_ENDED;
			ngone += g->state == G_GONE;
		}
		if (t > deadline_all) {
			for (i = 0; i < o->guests; i++)
				if (gs[i].state != G_GONE)
					break;
			guest_failure(&gs[i], "recording timed out", msg, sizeof(msg));
			fail("%s after %u s %s (raise --timeout?)", msg, o->timeout,
			     state_what(gs[i].state));
			rc = -ETIMEDOUT;
			goto out;
		}
		/* the start barrier */
		if (nready == o->guests && gs[0].barrier) {
			for (i = 0; i < o->guests; i++) {
				int e = guest_go(&gs[i]);

				if (e) {
					fail("guest %u: cannot write GO into %s/go: %s", gs[i].idx, gs[i].dir,
					     strerror(-e));
					rc = e;
					goto out;
				}
			}
			note("all guests ready after %.1f s: tracing starts", (double)(t - t0) / 1e9);
		}
		/* sampling runs while every guest traces; a last sample when the first one ends */
		if (o->interval_ms && !sampling && ntracing == o->guests) {
			sampling = true;
			next_sample = t;
		}
		if (sampling && (t >= next_sample || nended)) {
			uint64_t ts0 = now_ns();

			for (i = 0; i < o->guests; i++) {
				if (guest_sample(&gs[i], now_ns() - t0, dbuf)) {
					fail("guest %u: cannot write %s/digests.bin", gs[i].idx, gs[i].dir);
					rc = -EIO;
					goto out;
				}
			}
			nsamples++;
			sample_ns += now_ns() - ts0;
			next_sample += (uint64_t)o->interval_ms * 1000000ull;
			if (next_sample < now_ns())
				next_sample = now_ns() + (uint64_t)o->interval_ms * 1000000ull / 2;
			if (nended)
				sampling = false;
		}
		if (ngone == o->guests)
			break;
		usleep(5000);
	}
	note("all guests done in %.1f s, %u digest sample%s (%.0f ms each)",
	     (double)(now_ns() - t0) / 1e9, nsamples, nsamples == 1 ? "" : "s",
	     nsamples ? (double)sample_ns / nsamples / 1e6 : 0.0);
	for (i = 0; i < o->guests; i++) {
		char path[PATH_MAX + 16];
		FILE *f;

		snprintf(path, sizeof(path), "%s/host.txt", gs[i].dir);
		f = fopen(path, "w");
		if (!f) {
			rc = -errno;
			goto out;
		}
		fprintf(f, "spawn_ns=%" PRIu64 "\nhello_ns=%" PRIu64 "\nstart_ns=%" PRIu64
			"\nend_ns=%" PRIu64 "\nsamples=%u\nsample_ns_avg=%" PRIu64 "\n",
			gs[i].h_spawn - t0, gs[i].h_hello - t0, gs[i].h_start - t0, gs[i].h_end - t0,
			nsamples, nsamples ? sample_ns / nsamples : 0);
		fclose(f);
	}
out:
	guests_kill(gs, o->guests);
	for (i = 0; i < o->guests; i++) {
		if (gs[i].ctl)
			fclose(gs[i].ctl);
		if (gs[i].dig)
			fclose(gs[i].dig);
		if (gs[i].mem)
			munmap((void *)gs[i].mem, gs[i].mem_len);
		if (gs[i].ram[0])
			unlink(gs[i].ram);
	}
	free(dbuf);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}

/* ==== stage 3: conversion ==================================================================== */
struct xrec {
	struct trace_rec r;
	uint32_t prio;             /* 0 domain create, 1 everything else, 2 domain destroy */
	uint64_t seq;              /* insertion order: ties keep it */
};

struct xvec {
	struct xrec *v;
	size_t n, cap;
};

static ssize_t xpush(struct xvec *x, uint64_t t, unsigned dom, unsigned vcpu, unsigned type,
		     uint64_t frame, uint64_t arg, unsigned prio)
{
	struct xrec *e;

	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 65536;
		struct xrec *nv = realloc(x->v, nc * sizeof(*nv));

		if (!nv)
			return -1;
		x->v = nv;
		x->cap = nc;
	}
	e = &x->v[x->n];
	memset(e, 0, sizeof(*e));
	e->r.time_ns = t;
	e->r.domain = dom;
	e->r.vcpu = vcpu;
	e->r.type = (uint16_t)type;
	e->r.frame = frame;
	e->r.arg = arg;
	e->prio = prio;
	e->seq = x->n;
	return (ssize_t)x->n++;
}

static int xrec_cmp(const void *a, const void *b)
{
	const struct xrec *x = a, *y = b;

	if (x->r.time_ns != y->r.time_ns)
		return x->r.time_ns < y->r.time_ns ? -1 : 1;
	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Guest counters from /proc/vmstat that the trace is checked against. */
enum { VM_PGALLOC, VM_PGFREE, VM_PGFAULT, VM_PTPAGES, VM__N };

struct gconv {
	unsigned idx;
	char dir[PATH_MAX];
	/* from ctl.log */
	bool hello, start, end, done;
	char kernel[TRACE_STR_MAX], error[512];
	unsigned paging;
	uint64_t vm[2][VM__N];
	bool vm_seen[2];
	uint64_t overrun, dropped, rounds;
	/* from host.txt */
	uint64_t h_start, h_end;
	/* from trace.txt */
	bool m_start, m_end;
	uint64_t ts_start, ts_end;  /* guest clock of the markers, ns */
	uint64_t lines, events, lost, unparsed, outside;
	uint64_t n[TR__MAX_TYPE + 1];
	uint64_t alloc_pages, free_pages, faults, faults_resolved, kernel_addr_faults;
	uint64_t cr3_unknown, probes_seen, pmd_pages;
	int64_t pt_acct;           /* sum of the NR_PAGETABLE deltas traced */
	bool pt_acct_on;
	unsigned max_cpu;
};

static void parse_vmstat(char *kv, uint64_t *vm)
{
	char *tok, *save = NULL;

	memset(vm, 0, sizeof(uint64_t) * VM__N);
	for (tok = strtok_r(kv, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		uint64_t v;

		if (!eq)
			continue;
		v = strtoull(eq + 1, NULL, 10);
		if (!strncmp(tok, "pgalloc_", 8))
			vm[VM_PGALLOC] += v;
		else if (!strncmp(tok, "pgfree=", 7))
			vm[VM_PGFREE] = v;
		else if (!strncmp(tok, "pgfault=", 8))
			vm[VM_PGFAULT] = v;
		else if (!strncmp(tok, "nr_page_table_pages=", 20))
			vm[VM_PTPAGES] = v;
	}
}

static uint64_t kv_u64(const char *s, const char *key)
{
	size_t kl = strlen(key);
	const char *p = s;

	while ((p = strstr(p, key))) {
		if ((p == s || p[-1] == ' ') && p[kl] == '=')
			return strtoull(p + kl + 1, NULL, 10);
		p += kl;
	}
	return 0;
}

static int read_ctl(struct gconv *c)
{
	char path[PATH_MAX + 16];
	char *buf, *line, *save = NULL;

	snprintf(path, sizeof(path), "%s/ctl.log", c->dir);
	buf = slurp(path, NULL);
	if (!buf)
		return -errno;
	c->paging = 4;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "HELLO ", 6))
			c->hello = true;
		else if (!strncmp(line, "KERNEL ", 7))
			snprintf(c->kernel, sizeof(c->kernel), "%.*s", TRACE_STR_MAX - 1, line + 7);
		else if (!strncmp(line, "PAGING ", 7))
			c->paging = (unsigned)atoi(line + 7);
		else if (!strncmp(line, "PTACCT ", 7))
			c->pt_acct_on = true;
		else if (!strncmp(line, "VMSTAT-BEFORE ", 14)) {
			parse_vmstat(line + 14, c->vm[0]);
			c->vm_seen[0] = true;
		} else if (!strncmp(line, "VMSTAT-AFTER ", 13)) {
			parse_vmstat(line + 13, c->vm[1]);
			c->vm_seen[1] = true;
		} else if (!strncmp(line, "START ", 6))
			c->start = true;
		else if (!strncmp(line, "END ", 4)) {
			c->end = true;
			c->rounds = kv_u64(line, "rounds");
		} else if (!strncmp(line, "STATS ", 6)) {
			c->overrun += kv_u64(line, "overrun");
			c->dropped += kv_u64(line, "droppedevents");
		} else if (!strcmp(line, "DONE"))
			c->done = true;
		else if (!strncmp(line, "ERROR ", 6) && !c->error[0])
			snprintf(c->error, sizeof(c->error), "%.400s", line + 6);
	}
	free(buf);
	if (c->paging != 4 && c->paging != 5)
		c->paging = 4;
	return 0;
}

static int read_host(struct gconv *c)
{
	char path[PATH_MAX + 16], *buf;

	snprintf(path, sizeof(path), "%s/host.txt", c->dir);
	buf = slurp(path, NULL);
	if (!buf)
		return -errno;
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	c->h_start = kv_u64(buf, "start_ns");
	c->h_end = kv_u64(buf, "end_ns");
	free(buf);
	return 0;
}

/* One line of ftrace text: "comm-PID [CPU] FLAGS SEC.USEC: EVENT: FIELDS". */
struct tline {
	int pid;
	unsigned cpu;
	uint64_t ts;               /* ns */
	const char *event;         /* NUL-terminated, no ':' */
	const char *rest;
};

static int parse_tline(char *s, struct tline *t)
{
	char *b = s, *p, *e, *dot;
	uint64_t sec, usec;

	/* the first "[digits]" is the CPU: comm may contain '-' and spaces, not "[123]" */
	for (;;) {
		b = strchr(b, '[');
		if (!b)
			return -1;
		p = b + 1;
		if (isdigit((unsigned char)*p)) {
			while (isdigit((unsigned char)*p))
				p++;
			if (*p == ']')
				break;
		}
		b++;
	}
	t->cpu = (unsigned)strtoul(b + 1, NULL, 10);
	/* pid: digits before the spaces before '[', after the last '-' */
	e = b;
	while (e > s && e[-1] == ' ')
		e--;
	p = e;
	while (p > s && isdigit((unsigned char)p[-1]))
		p--;
	if (p == e || p == s || p[-1] != '-')
		return -1;
	t->pid = atoi(p);
	/* flags token, then the timestamp */
	p = strchr(b, ']') + 1;
	while (*p == ' ')
		p++;
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	sec = strtoull(p, &dot, 10);
	if (*dot != '.')
		return -1;
	usec = strtoull(dot + 1, &e, 10);
	if (*e != ':' || e - dot - 1 != 6)
		return -1;
	t->ts = sec * 1000000000ull + usec * 1000ull;
	p = e + 1;
	while (*p == ' ')
		p++;
	e = strchr(p, ':');
	if (!e)
		return -1;
	*e = 0;
	t->event = p;
	t->rest = e[1] ? e + 2 : e + 1;
	return 0;
}

/* Value of " key=" in s (or at its start), in the given base; false if absent. */
static bool field(const char *s, const char *key, int base, uint64_t *v)
{
	size_t kl = strlen(key);
	const char *p = s;
	char *end;

	while ((p = strstr(p, key))) {
		if ((p == s || p[-1] == ' ') && p[kl] == '=') {
			*v = strtoull(p + kl + 1, &end, base);
			return end != p + kl + 1;
		}
		p += kl;
	}
	return false;
}

/* Per-pid address-space tracking: root page-table frame + 1 (0 = unknown). */
struct pidmap {
	uint64_t *mm, *pending;
	size_t n;
};

static int pidmap_grow(struct pidmap *m, int pid)
{
	size_t nn;
	uint64_t *a, *b;

	if (pid < 0 || pid > (1 << 22))
		return -EINVAL;
	if ((size_t)pid < m->n)
		return 0;
	nn = m->n ? m->n : 1024;
	while (nn <= (size_t)pid)
		nn *= 2;
	a = realloc(m->mm, nn * sizeof(*a));
	if (!a)
		return -ENOMEM;
	m->mm = a;
	b = realloc(m->pending, nn * sizeof(*b));
	if (!b)
		return -ENOMEM;
	m->pending = b;
	memset(m->mm + m->n, 0, (nn - m->n) * sizeof(*a));
	memset(m->pending + m->n, 0, (nn - m->n) * sizeof(*b));
	m->n = nn;
	return 0;
}

struct cpustate {
	uint64_t loaded;           /* root frame + 1 last loaded into cr3, 0 = none seen */
	ssize_t fault;             /* index of a fault record waiting for its frame, -1 */
	int fault_pid;
	/* NR_PAGETABLE accounting seen for frame pt_new - 1: a PTE page if pte_alloc_one
	 * returns it next, else a PMD page (flushed as such by the next event) */
	uint64_t pt_new, pt_new_t;
	uint64_t pte_freed;        /* frame + 1 of a ___pte_free_tlb just seen */
};

/* A page-table page whose accounting was not followed by pte_alloc_one: level 2. */
static ssize_t flush_pt_new(struct cpustate *cs, struct xvec *x, unsigned dom, unsigned cpu,
			    struct gconv *c)
{
	ssize_t k = 0;

	if (cs->pt_new) {
		k = xpush(x, cs->pt_new_t, dom, cpu, TR_PT_ALLOC, cs->pt_new - 1, 2, 1);
		c->pmd_pages++;
		cs->pt_new = 0;
	}
	return k;
}

/*
 * Converts gN/trace.txt: tracepoint lines between the memsim_start and memsim_end markers
 * become records (docs/recording.md, "Guest events").  Time 0 = the start marker.
 */
static int convert_events(struct gconv *c, struct xvec *x, char *msg, size_t msglen)
{
	char path[PATH_MAX + 16], line[4096];
	struct cpustate cpu[MAX_VCPUS];
	struct pidmap pm = { 0 };
	unsigned dom = c->idx, i;
	int rc = 0;
	FILE *f;

	for (i = 0; i < MAX_VCPUS; i++)
		cpu[i] = (struct cpustate){ .loaded = 0, .fault = -1, .fault_pid = -1 };
	snprintf(path, sizeof(path), "%s/trace.txt", c->dir);
	f = fopen(path, "r");
	if (!f) {
		bprintf(msg, msglen, "guest %u: data channel lost: %s: %s", dom, path,
			 strerror(errno));
		return -EIO;
	}
	while (fgets(line, sizeof(line), f)) {
		struct tline t;
		uint64_t v, v2, tt, frame;
		struct cpustate *cs;
		const char *ev;
		ssize_t k;

		c->lines++;
		if (!strncmp(line, "CPU:", 4) && strstr(line, "[LOST ")) {
			c->lost += strtoull(strstr(line, "[LOST ") + 6, NULL, 10);
			continue;
		}
		if (parse_tline(line, &t)) {
			c->unparsed++;
			continue;
		}
		ev = t.event;
		if (!strcmp(ev, "tracing_mark_write")) {
			if (!strncmp(t.rest, "memsim_start", 12) && !c->m_start) {
				c->m_start = true;
				c->ts_start = t.ts;
			} else if (!strncmp(t.rest, "memsim_end", 10) && c->m_start) {
				c->m_end = true;
				c->ts_end = t.ts;
				break;
			}
			continue;
		}
		if (!c->m_start || t.ts < c->ts_start) {
			c->outside++;
			continue;
		}
		if (t.cpu >= MAX_VCPUS) {
			c->unparsed++;
			continue;
		}
		if (t.cpu > c->max_cpu)
			c->max_cpu = t.cpu;
		if (pidmap_grow(&pm, t.pid)) {
			c->unparsed++;
			continue;
		}
		cs = &cpu[t.cpu];
		tt = t.ts - c->ts_start;
		c->events++;
		k = 0;
		if (cs->pt_new && strcmp(ev, "pte_alloc") && flush_pt_new(cs, x, dom, t.cpu, c) < 0) {
			rc = -ENOMEM;
			break;
		}
		if (strcmp(ev, "pt_acct"))
			cs->pte_freed = strcmp(ev, "pte_free") ? 0 : cs->pte_freed;

		if (!strcmp(ev, "mm_page_alloc")) {
			char *g = strstr(t.rest, "gfp_flags=");

			if (!field(t.rest, "pfn", 16, &v) || !field(t.rest, "order", 10, &v2) ||
			    v2 > TRACE_MAX_ORDER) {
				c->unparsed++;
				continue;
			}
			if (v == UINT64_MAX) /* failed allocation */
				continue;
			k = xpush(x, tt, dom, t.cpu, TR_PAGE_ALLOC, v, v2, 1);
			c->alloc_pages += 1ull << v2;
			/* the user page a pending fault was waiting for */
			if (cs->fault >= 0 && cs->fault_pid == t.pid && g &&
			    (strstr(g, "HIGHUSER") || strstr(g, "TRANSHUGE"))) {
				x->v[cs->fault].r.frame = v;
				cs->fault = -1;
				c->faults_resolved++;
			}
		} else if (!strcmp(ev, "mm_page_free")) {
			if (!field(t.rest, "pfn", 16, &v) || !field(t.rest, "order", 10, &v2) ||
			    v2 > TRACE_MAX_ORDER) {
				c->unparsed++;
				continue;
			}
			k = xpush(x, tt, dom, t.cpu, TR_PAGE_FREE, v, v2, 1);
			c->free_pages += 1ull << v2;
		} else if (!strcmp(ev, "page_fault_user") || !strcmp(ev, "page_fault_kernel")) {
			if (!field(t.rest, "address", 16, &v) || !field(t.rest, "error_code", 16, &v2)) {
				c->unparsed++;
				continue;
			}
			cs->fault = -1;
			if (v >= USER_ADDR_LIMIT) { /* kernel address: not a fault on guest user memory */
				c->kernel_addr_faults++;
				continue;
			}
			k = xpush(x, tt, dom, t.cpu, TR_PAGE_FAULT, FRAME_UNKNOWN, (v2 >> 1) & 1, 1);
			c->faults++;
			cs->fault = k;
			cs->fault_pid = t.pid;
		} else if (!strcmp(ev, "sched_switch")) {
			uint64_t mm;

			if (!field(t.rest, "next_pid", 10, &v)) {
				c->unparsed++;
				continue;
			}
			cs->fault = -1;
			k = xpush(x, tt, dom, t.cpu, TR_CTX_SWITCH, 0, v, 1);
			if (k >= 0 && v < pm.n && (int)v > 0) {
				mm = pm.mm[v];
				if (mm && mm != cs->loaded) {
					k = xpush(x, tt, dom, t.cpu, TR_CR3_LOAD, mm - 1, 0, 1);
					cs->loaded = mm;
				} else if (!mm) {
					c->cr3_unknown++;
				}
			}
		} else if (!strcmp(ev, "sched_process_fork")) {
			int child;

			cs->fault = -1;
			if (!field(t.rest, "child_pid", 10, &v) || pidmap_grow(&pm, (int)v)) {
				c->unparsed++;
				continue;
			}
			child = (int)v;
			if (pm.pending[t.pid]) {
				/* a new address space: pgd_alloc ran in this fork */
				pm.mm[child] = pm.pending[t.pid];
				pm.pending[t.pid] = 0;
				frame = pm.mm[t.pid] ? pm.mm[t.pid] - 1 : FRAME_UNKNOWN;
				k = xpush(x, tt, dom, t.cpu, TR_FORK, frame, pm.mm[child] - 1, 1);
			} else {
				/* a thread or vfork: same address space as the parent */
				pm.mm[child] = pm.mm[t.pid];
			}
		} else if (!strcmp(ev, "sched_process_exec")) {
			cs->fault = -1;
			if (pm.pending[t.pid]) {
				pm.mm[t.pid] = pm.pending[t.pid];
				pm.pending[t.pid] = 0;
			}
		} else if (!strcmp(ev, "sched_process_exit")) {
			cs->fault = -1;
			pm.pending[t.pid] = 0;
		} else if (!strcmp(ev, "pgd_alloc")) {
			c->probes_seen++;
			if (!field(t.rest, "ret", 16, &v) || !field(t.rest, "pob", 16, &v2) || v < v2) {
				c->unparsed++;
				continue;
			}
			if (!v) /* allocation failed */
				continue;
			frame = (v - v2) >> 12;
			pm.pending[t.pid] = frame + 1;
			k = xpush(x, tt, dom, t.cpu, TR_PT_ALLOC, frame, c->paging, 1);
		} else if (!strcmp(ev, "pgd_free")) {
			c->probes_seen++;
			if (!field(t.rest, "pgd", 16, &v) || !field(t.rest, "pob", 16, &v2) || v < v2) {
				c->unparsed++;
				continue;
			}
			k = xpush(x, tt, dom, t.cpu, TR_PT_FREE, (v - v2) >> 12, c->paging, 1);
		} else if (!strcmp(ev, "pte_alloc") || !strcmp(ev, "pte_free")) {
			bool alloc = ev[4] == 'a';

			c->probes_seen++;
			if (!field(t.rest, alloc ? "ret" : "page", 16, &v) ||
			    !field(t.rest, "vmb", 16, &v2) || v < v2) {
				if (!(alloc && field(t.rest, "ret", 16, &v) && !v))
					c->unparsed++;
				continue;
			}
			/* struct page is 64 bytes: pfn = (page - vmemmap_base) / 64 */
			frame = (v - v2) / 64;
			if (alloc && cs->pt_new && cs->pt_new != frame + 1 &&
			    flush_pt_new(cs, x, dom, t.cpu, c) < 0) {
				rc = -ENOMEM;
				break;
			}
			cs->pt_new = 0;
			cs->pte_freed = alloc ? 0 : frame + 1;
			k = xpush(x, tt, dom, t.cpu, alloc ? TR_PT_ALLOC : TR_PT_FREE, frame, 1, 1);
		} else if (!strcmp(ev, "pt_acct")) {
			const char *vs = strstr(t.rest, " val=");
			long val = vs ? strtol(vs + 5, NULL, 10) : 0;

			c->probes_seen++;
			if (!field(t.rest, "page", 16, &v) || !field(t.rest, "vmb", 16, &v2) || v < v2 ||
			    !val) {
				c->unparsed++;
				continue;
			}
			frame = (v - v2) / 64;
			c->pt_acct += val;
			if (val > 0) {
				cs->pt_new = frame + 1;
				cs->pt_new_t = tt;
			} else if (cs->pte_freed == frame + 1) {
				cs->pte_freed = 0; /* the PTE page ___pte_free_tlb already gave */
			} else {
				k = xpush(x, tt, dom, t.cpu, TR_PT_FREE, frame, 2, 1);
			}
		} else {
			c->events--;
			continue;
		}
		if (k < 0) {
			rc = -ENOMEM;
			break;
		}
	}
	for (i = 0; i < MAX_VCPUS && !rc; i++)
		if (flush_pt_new(&cpu[i], x, dom, i, c) < 0)
			rc = -ENOMEM;
	fclose(f);
	free(pm.mm);
	free(pm.pending);
	if (rc) {
		bprintf(msg, msglen, "out of memory converting %s", path);
		return rc;
	}
	if (!c->m_start) {
		bprintf(msg, msglen, "guest %u: data channel lost: no memsim_start marker in %s "
			 "(%" PRIu64 " lines)", dom, path, c->lines);
		return -EIO;
	}
	if (!c->m_end) {
		bprintf(msg, msglen, "guest %u: data channel lost: no memsim_end marker in %s "
			 "(%" PRIu64 " lines, stream cut short)", dom, path, c->lines);
		return -EIO;
	}
	if (!c->events) {
		bprintf(msg, msglen, "guest %u: empty event stream: no tracepoint events between "
			 "the markers in %s", dom, path);
		return -EIO;
	}
	return 0;
}

/* ---- digest samples -> digest, share and copy-on-write records ------------------------- */
/* Open-addressing map digest -> value; key 0 (the zero page) lives in its own slot. */
struct dmap {
	uint64_t *key;
	uint64_t *val;
	uint8_t *used;
	size_t cap;                /* power of two, kept at least twice count */
	size_t count;
	bool zero_used;
	uint64_t zero_val;
};

static int dmap_init(struct dmap *m, size_t want)
{
	size_t cap = 1024;

	while (cap < want * 2)
		cap *= 2;
	m->key = malloc(cap * sizeof(*m->key));
	m->val = malloc(cap * sizeof(*m->val));
	m->used = calloc(cap, 1);
	m->cap = cap;
	m->count = 0;
	m->zero_used = false;
	return m->key && m->val && m->used ? 0 : -ENOMEM;
}

static void dmap_clear(struct dmap *m)
{
	memset(m->used, 0, m->cap);
	m->count = 0;
	m->zero_used = false;
}

/* Value of d, or NULL if absent. */
static uint64_t *dmap_find(struct dmap *m, uint64_t d)
{
	size_t i;

	if (!d)
		return m->zero_used ? &m->zero_val : NULL;
	for (i = (size_t)dg_avalanche(d) & (m->cap - 1); m->used[i]; i = (i + 1) & (m->cap - 1))
		if (m->key[i] == d)
			return &m->val[i];
	return NULL;
}

static uint64_t *dmap_slot(struct dmap *m, uint64_t d);

/* Doubles the table (rehash); the maps only grow. */
static int dmap_grow(struct dmap *m)
{
	struct dmap n;
	size_t i;

	if (dmap_init(&n, m->cap))
		return -ENOMEM;
	n.zero_used = m->zero_used;
	n.zero_val = m->zero_val;
	for (i = 0; i < m->cap; i++)
		if (m->used[i])
			*dmap_slot(&n, m->key[i]) = m->val[i];
	free(m->key);
	free(m->val);
	free(m->used);
	*m = n;
	return 0;
}

static void dmap_free(struct dmap *m)
{
	free(m->key);
	free(m->val);
	free(m->used);
}

/* Slot of key d, inserted with value 0 if absent (NULL: out of memory growing). */
static uint64_t *dmap_slot(struct dmap *m, uint64_t d)
{
	size_t i;

	if (!d) {
		if (!m->zero_used) {
			m->zero_used = true;
			m->zero_val = 0;
		}
		return &m->zero_val;
	}
	if (m->count * 2 >= m->cap && dmap_grow(m))
		return NULL;
	for (i = (size_t)dg_avalanche(d) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i]) {
			m->used[i] = 1;
			m->count++;
			m->key[i] = d;
			m->val[i] = 0;
			return &m->val[i];
		}
		if (m->key[i] == d)
			return &m->val[i];
	}
}

struct share_stats {
	uint64_t samples, digests, shares, cow_breaks, frames;
	/* at the last sample */
	uint64_t pages, zero_pages, nonzero_shared, shared_pages;
};

struct dsrc {
	FILE *f;
	uint64_t np;
	uint64_t *d, *cur;         /* this sample, previous content */
	uint32_t *sf;              /* shared frame id, 0 = private */
	uint64_t t_map_num, t_map_den, h_start, t_end;
};

static int read_sample(struct dsrc *s, unsigned idx, uint64_t *host_ns, char *msg, size_t ml)
{
	uint32_t hdr[2];
	uint64_t h2[2];
	size_t r = fread(hdr, sizeof(hdr), 1, s->f);

	if (r != 1)
		return 0;
	if (hdr[0] != DIGEST_MAGIC || hdr[1] != idx || fread(h2, sizeof(h2), 1, s->f) != 1 ||
	    (s->np && h2[1] != s->np) || !h2[1] || h2[1] > (1ull << 30)) {
		bprintf(msg, ml, "guest %u: digests.bin: bad sample header", idx);
		return -EINVAL;
	}
	if (!s->np) {
		s->np = h2[1];
		s->d = malloc(s->np * 8);
		s->cur = calloc(s->np, 8);
		s->sf = calloc(s->np, 4);
		if (!s->d || !s->cur || !s->sf)
			return -ENOMEM;
	}
	if (fread(s->d, 8, s->np, s->f) != s->np) {
		bprintf(msg, ml, "guest %u: digests.bin: truncated sample", idx);
		return -EINVAL;
	}
	*host_ns = h2[0];
	return 1;
}

static int convert_digests(struct gconv *gc, unsigned ng, const struct meta *m, struct xvec *x,
			   struct share_stats *st, char *msg, size_t ml)
{
	struct dsrc ds[MAX_GUESTS];
	struct dmap cls = { 0 }, frames = { 0 };
	uint32_t *fref = NULL;
	size_t fcap = 0, total = 0;
	uint32_t next_frame = 1;
	bool cross = !strcmp(m->share, "cross"), none = !strcmp(m->share, "none");
	unsigned g;
	int rc = 0;

	memset(ds, 0, sizeof(ds));
	memset(st, 0, sizeof(*st));
	for (g = 0; g < ng; g++) {
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/digests.bin", gc[g].dir);
		ds[g].f = fopen(path, "rb");
		if (!ds[g].f) {
			if (!m->interval_ms)
				goto out; /* sampling was off */
			bprintf(msg, ml, "guest %u: %s: %s", g + 1, path, strerror(errno));
			rc = -EIO;
			goto out;
		}
		/* host clock -> this guest's trace clock, pinned at the START and END lines */
		ds[g].h_start = gc[g].h_start;
		ds[g].t_end = gc[g].ts_end - gc[g].ts_start;
		ds[g].t_map_num = ds[g].t_end;
		ds[g].t_map_den = gc[g].h_end > gc[g].h_start ? gc[g].h_end - gc[g].h_start : 1;
	}
	for (;;) {
		uint64_t hns[MAX_GUESTS], tg[MAX_GUESTS];
		unsigned got = 0;
		size_t i;

		for (g = 0; g < ng; g++) {
			int r = read_sample(&ds[g], g + 1, &hns[g], msg, ml);

			if (r < 0) {
				rc = r;
				goto out;
			}
			got += (unsigned)r;
		}
		if (!got)
			break;
		if (got != ng) {
			bprintf(msg, ml, "digest samples differ in number between guests");
			rc = -EINVAL;
			goto out;
		}
		if (!st->samples) {
			for (g = 0; g < ng; g++)
				total += ds[g].np;
			if (dmap_init(&cls, total) || dmap_init(&frames, total)) {
				rc = -ENOMEM;
				goto out;
			}
		}
		for (g = 0; g < ng; g++) {
			uint64_t h = hns[g] > ds[g].h_start ? hns[g] - ds[g].h_start : 0;
			unsigned __int128 t = (unsigned __int128)h * ds[g].t_map_num / ds[g].t_map_den;

			tg[g] = t > ds[g].t_end ? ds[g].t_end : (uint64_t)t;
		}
		/* content changes: copy-on-write breaks of shared pages, new digests */
		for (g = 0; g < ng; g++) {
			struct dsrc *s = &ds[g];

			for (i = 0; i < s->np; i++) {
				if (st->samples && s->d[i] == s->cur[i])
					continue;
				if (s->sf[i]) {
					if (xpush(x, tg[g], g + 1, 0, TR_PAGE_WRITE, i, 0, 1) < 0)
						goto nomem;
					fref[s->sf[i]]--;
					s->sf[i] = 0;
					st->cow_breaks++;
				}
				if (xpush(x, tg[g], g + 1, 0, TR_PAGE_DIGEST, i, s->d[i], 1) < 0)
					goto nomem;
				s->cur[i] = s->d[i];
				st->digests++;
			}
		}
		st->samples++;
		if (none)
			continue;
		/* classes of identical private pages: guests they span (bit mask) and size */
		dmap_clear(&cls);
		for (g = 0; g < ng; g++)
			for (i = 0; i < ds[g].np; i++) {
				uint64_t *v;

				if (ds[g].sf[i] || (!ds[g].cur[i] && !m->share_zero))
					continue;
				v = dmap_slot(&cls, ds[g].cur[i]);
				if (!v)
					goto nomem;
				*v = (*v | (1ull << (32 + g))) + 1;
			}
		/* share: join the live frame of that content, or found one if the class qualifies */
		for (g = 0; g < ng; g++)
			for (i = 0; i < ds[g].np; i++) {
				uint64_t d = ds[g].cur[i], *fid, cv;
				unsigned guests;

				if (ds[g].sf[i] || (!d && !m->share_zero))
					continue;
				fid = dmap_find(&frames, d);
				if (!fid || !*fid || !fref[*fid]) {
					cv = *dmap_find(&cls, d);
					guests = (unsigned)__builtin_popcountll(cv >> 32);
					if ((cross && guests < 2) || (cv & 0xffffffffu) < 2)
						continue;
					if (next_frame >= fcap) {
						size_t nc = fcap ? fcap * 2 : 4096;
						uint32_t *nf = realloc(fref, nc * sizeof(*nf));

						if (!nf)
							goto nomem;
						memset(nf + fcap, 0, (nc - fcap) * sizeof(*nf));
						fref = nf;
						fcap = nc;
					}
					fid = dmap_slot(&frames, d);
					if (!fid)
						goto nomem;
					*fid = next_frame++;
					st->frames++;
				}
				ds[g].sf[i] = (uint32_t)*fid;
				fref[*fid]++;
				if (xpush(x, tg[g], g + 1, 0, TR_SHARE, i, *fid, 1) < 0)
					goto nomem;
				st->shares++;
			}
	}
	for (g = 0; g < ng; g++) {
		size_t i;

		for (i = 0; i < ds[g].np; i++) {
			st->pages++;
			st->zero_pages += !ds[g].cur[i];
			st->shared_pages += ds[g].sf[i] != 0;
			st->nonzero_shared += ds[g].sf[i] && ds[g].cur[i];
		}
	}
	goto out;
nomem:
	bprintf(msg, ml, "out of memory converting the digest samples");
	rc = -ENOMEM;
out:
	for (g = 0; g < ng; g++) {
		if (ds[g].f)
			fclose(ds[g].f);
		free(ds[g].d);
		free(ds[g].cur);
		free(ds[g].sf);
	}
	dmap_free(&cls);
	dmap_free(&frames);
	free(fref);
	return rc;
}

static void qemu_version(char *out, size_t len)
{
	char *argv[] = { getenv("MEMSIM_QEMU") ? getenv("MEMSIM_QEMU") : "qemu-system-x86_64",
			 "--version", NULL };
	char buf[512], msg[128], *nl;

	snprintf(out, len, "unknown");
	if (run_tool(argv, buf, sizeof(buf), msg, sizeof(msg)) != 0)
		return;
	nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
	bprintf(out, len, "%s", buf);
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

/* Appends " key=value" to the params string if it fits. */
static void param_add(char *p, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void param_add(char *p, size_t len, const char *fmt, ...)
{
	size_t n = strlen(p);
	va_list ap;

	if (n + 2 >= len)
		return;
	if (n)
		p[n++] = ' ';
	va_start(ap, fmt);
	if (vsnprintf(p + n, len - n, fmt, ap) >= (int)(len - n))
		p[n ? n - 1 : 0] = 0; /* did not fit: drop it whole */
	va_end(ap);
}

static int convert_recording(const char *dir, const char *out)
{
	struct gconv gc[MAX_GUESTS];
	struct meta m;
	struct xvec x = { 0 };
	struct share_stats ss;
	struct trace_header hdr;
	struct trace_writer *w = NULL;
	char msg[1024], counters[PATH_MAX + 16];
	uint64_t tot[8] = { 0 }, n_type[TR__MAX_TYPE + 1] = { 0 };
	unsigned g;
	size_t i;
	int rc;
	struct outfile side = { .f = NULL };
	FILE *cf;

	rc = meta_read(dir, &m);
	if (rc) {
		fail("%s/recording.txt: %s", dir, rc == -EINVAL ? "not a recording" : strerror(-rc));
		return rc;
	}
	memset(gc, 0, sizeof(gc));
	for (g = 0; g < m.guests; g++) {
		struct gconv *c = &gc[g];

		c->idx = g + 1;
		snprintf(c->dir, sizeof(c->dir), "%s/g%u", dir, c->idx);
		if (read_ctl(c) || !c->hello) {
			fail("guest %u: no agent HELLO in %s/ctl.log (boot failure)", c->idx, c->dir);
			rc = -EIO;
			goto out;
		}
		if (c->error[0]) {
			fail("guest %u: agent error: %s", c->idx, c->error);
			rc = -EIO;
			goto out;
		}
		if (!c->start || !c->end || !c->done || !c->vm_seen[0] || !c->vm_seen[1]) {
			fail("guest %u: control channel incomplete in %s/ctl.log (no %s)", c->idx, c->dir,
			     !c->start ? "START" : !c->end ? "END" : !c->done ? "DONE" : "VMSTAT");
			rc = -EIO;
			goto out;
		}
		if (read_host(c)) {
			fail("guest %u: %s/host.txt missing", c->idx, c->dir);
			rc = -EIO;
			goto out;
		}
		if (xpush(&x, 0, c->idx, 0, TR_DOMAIN_CREATE, 0, m.vcpus, 0) < 0) {
			rc = -ENOMEM;
			goto out;
		}
		rc = convert_events(c, &x, msg, sizeof(msg));
		if (rc) {
			fail("%s", msg);
			goto out;
		}
	}
	rc = convert_digests(gc, m.guests, &m, &x, &ss, msg, sizeof(msg));
	if (rc) {
		fail("%s", msg);
		goto out;
	}
	for (g = 0; g < m.guests; g++)
		if (xpush(&x, gc[g].ts_end - gc[g].ts_start, gc[g].idx, 0, TR_DOMAIN_DESTROY, 0, 0, 2) < 0) {
			rc = -ENOMEM;
			goto out;
		}
	qsort(x.v, x.n, sizeof(*x.v), xrec_cmp);

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = TRACE_VERSION;
	hdr.page_size = PAGE_BYTES;
	snprintf(hdr.source, sizeof(hdr.source), "qemu-record");
	snprintf(hdr.kernel, sizeof(hdr.kernel), "%s", gc[0].kernel[0] ? gc[0].kernel : m.kernel_release);
	snprintf(hdr.workload, sizeof(hdr.workload), "%s", m.workload);
	snprintf(hdr.recorder, sizeof(hdr.recorder), "memsim-record %s (memsim %s %s)",
		 RECORDER_VERSION, MEMSIM_VERSION, MEMSIM_GIT_REV);
	snprintf(hdr.qemu, sizeof(hdr.qemu), "%s", m.qemu);
	snprintf(hdr.date, sizeof(hdr.date), "%s", m.date);
	for (g = 0; g < m.guests; g++) {
		tot[0] += gc[g].vm[1][VM_PGALLOC] - gc[g].vm[0][VM_PGALLOC];
		tot[1] += gc[g].alloc_pages;
		tot[2] += gc[g].vm[1][VM_PGFREE] - gc[g].vm[0][VM_PGFREE];
		tot[3] += gc[g].free_pages;
		tot[4] += gc[g].vm[1][VM_PGFAULT] - gc[g].vm[0][VM_PGFAULT];
		tot[5] += gc[g].faults;
		tot[6] += gc[g].lost + gc[g].overrun + gc[g].dropped;
		tot[7] += gc[g].events;
	}
	param_add(hdr.params, sizeof(hdr.params),
		  "guests=%u seconds=%u interval_ms=%u seed=%" PRIu64 " icount=%s mem_mb=%u vcpus=%u "
		  "share=%s share_zero=%d boot=%s", m.guests, m.seconds, m.interval_ms, m.seed,
		  m.icount_shift >= 0 ? "on" : "off", m.mem_mb, m.vcpus, m.share, m.share_zero, m.boot);
	if (m.icount_shift >= 0)
		param_add(hdr.params, sizeof(hdr.params), "icount_shift=%d", m.icount_shift);
	param_add(hdr.params, sizeof(hdr.params),
		  "samples=%" PRIu64 " vm_pgalloc=%" PRIu64 " tr_alloc_pages=%" PRIu64
		  " vm_pgfree=%" PRIu64 " tr_free_pages=%" PRIu64 " vm_pgfault=%" PRIu64
		  " tr_faults=%" PRIu64 " lost_events=%" PRIu64, ss.samples, tot[0], tot[1], tot[2],
		  tot[3], tot[4], tot[5], tot[6]);

	w = trace_writer_open(out, &hdr, msg, sizeof(msg));
	if (!w) {
		fail("%s", msg);
		rc = -EIO;
		goto out;
	}
	for (i = 0; i < x.n; i++) {
		if (trace_writer_put(w, &x.v[i].r)) {
			fail("%s", trace_writer_error(w));
			trace_writer_abort(w);
			rc = -EIO;
			goto out;
		}
		n_type[x.v[i].r.type]++;
	}
	if (trace_writer_close(w, msg, sizeof(msg))) {
		fail("%s", msg);
		rc = -EIO;
		goto out;
	}

	/* the sidecar: per-guest counters against the trace, for tests and for the curious */
	/* with -o - (standard output) there is no file to put it beside: /dev/null */
	if (strcmp(out, "-"))
		snprintf(counters, sizeof(counters), "%s.counters", out);
	else
		snprintf(counters, sizeof(counters), "/dev/null");
	if (strcmp(out, "-")) {
		if (outfile_open(&side, counters, msg, sizeof(msg))) {
			fail("%s", msg);
			rc = -EIO;
			goto out;
		}
		cf = side.f;
	} else if (!(cf = fopen(counters, "w"))) {
		fail("cannot write %s: %s", counters, strerror(errno));
		rc = -EIO;
		goto out;
	}
	fprintf(cf, "# memsim trace record: guest counters (/proc/vmstat deltas over the traced\n"
		"# window) against what the trace holds; see docs/recording.md\n");
	for (g = 0; g < m.guests; g++) {
		struct gconv *c = &gc[g];
		double secs = (double)(c->ts_end - c->ts_start) / 1e9;

		fprintf(cf, "guest=%u vm_pgalloc=%" PRIu64 " tr_alloc_pages=%" PRIu64
			" vm_pgfree=%" PRIu64 " tr_free_pages=%" PRIu64 " vm_pgfault=%" PRIu64
			" tr_faults=%" PRIu64 " tr_faults_resolved=%" PRIu64 " events=%" PRIu64
			" traced_ns=%" PRIu64 " rounds=%" PRIu64 " lost=%" PRIu64 " overrun=%" PRIu64
			" dropped=%" PRIu64 " unparsed=%" PRIu64 " cr3_unknown=%" PRIu64,
			c->idx, c->vm[1][VM_PGALLOC] - c->vm[0][VM_PGALLOC], c->alloc_pages,
			c->vm[1][VM_PGFREE] - c->vm[0][VM_PGFREE], c->free_pages,
			c->vm[1][VM_PGFAULT] - c->vm[0][VM_PGFAULT], c->faults, c->faults_resolved,
			c->events, c->ts_end - c->ts_start, c->rounds, c->lost, c->overrun, c->dropped,
			c->unparsed, c->cr3_unknown);
		if (c->pt_acct_on)
			fprintf(cf, " vm_pt_pages_delta=%" PRId64 " tr_pt_pages_delta=%" PRId64
				" pmd_pages=%" PRIu64, (int64_t)(c->vm[1][VM_PTPAGES] - c->vm[0][VM_PTPAGES]),
				c->pt_acct, c->pmd_pages);
		fprintf(cf, "\n");
		note("guest %u: %" PRIu64 " events in %.2f s guest time (%.0f/s), %" PRIu64
		     " rounds; allocs %" PRIu64 " pages vs vmstat %" PRIu64 " (%.1f%%), frees %.1f%%,"
		     " faults %" PRIu64 " vs %" PRIu64 " (%.1f%%, %.0f%% with a frame)", c->idx,
		     c->events, secs, secs > 0 ? (double)c->events / secs : 0.0, c->rounds,
		     c->alloc_pages, c->vm[1][VM_PGALLOC] - c->vm[0][VM_PGALLOC],
		     pct(c->alloc_pages, c->vm[1][VM_PGALLOC] - c->vm[0][VM_PGALLOC]),
		     pct(c->free_pages, c->vm[1][VM_PGFREE] - c->vm[0][VM_PGFREE]), c->faults,
		     c->vm[1][VM_PGFAULT] - c->vm[0][VM_PGFAULT],
		     pct(c->faults, c->vm[1][VM_PGFAULT] - c->vm[0][VM_PGFAULT]),
		     pct(c->faults_resolved, c->faults));
		if (c->lost || c->overrun || c->dropped)
			fprintf(stderr, "memsim: trace record: warning: guest %u lost events "
				"(%" PRIu64 " lost, %" PRIu64 " overrun, %" PRIu64 " dropped): the trace "
				"undercounts; use a longer --interval-ms or fewer guests\n", c->idx,
				c->lost, c->overrun, c->dropped);
		if (c->unparsed)
			fprintf(stderr, "memsim: trace record: warning: guest %u: %" PRIu64
				" trace lines not understood\n", c->idx, c->unparsed);
	}
	fprintf(cf, "samples=%" PRIu64 " pages=%" PRIu64 " zero_pages=%" PRIu64
		" shared_pages=%" PRIu64 " nonzero_shared_pages=%" PRIu64 " frames=%" PRIu64
		" shares=%" PRIu64 " cow_breaks=%" PRIu64 " digests=%" PRIu64 "\n", ss.samples,
		ss.pages, ss.zero_pages, ss.shared_pages, ss.nonzero_shared, ss.frames, ss.shares,
		ss.cow_breaks, ss.digests);
	fprintf(cf, "records=%zu", x.n);
	for (i = 1; i <= TR__MAX_TYPE; i++)
		if (n_type[i])
			fprintf(cf, " %s=%" PRIu64, trace_type_name((unsigned)i), n_type[i]);
	fprintf(cf, "\n");
	if (cf == side.f) {
		if (outfile_commit(&side, msg, sizeof(msg))) {
			fail("%s", msg);
			rc = -EIO;
			goto out;
		}
	} else {
		fclose(cf);
	}
	if (ss.samples)
		note("%" PRIu64 " digest samples: %" PRIu64 " pages at the end, %" PRIu64 " zero, %"
		     PRIu64 " shared (%" PRIu64 " non-zero = %.1f%% of non-zero pages), %" PRIu64
		     " shared frames, %" PRIu64 " copy-on-write breaks", ss.samples, ss.pages,
		     ss.zero_pages, ss.shared_pages, ss.nonzero_shared,
		     pct(ss.nonzero_shared, ss.pages - ss.zero_pages), ss.frames, ss.cow_breaks);
	{
		struct stat sb;

		note("wrote %s: %zu records, %.1f MB", out, x.n,
		     stat(out, &sb) ? 0.0 : (double)sb.st_size / 1e6);
	}
	rc = 0;
out:
	free(x.v);
	return rc;
}

/* ==== the command ========================================================================== */
static void usage(FILE *out)
{
	fprintf(out,
		"usage: memsim trace record [--workload NAME|script:FILE] [--guests N] [--seconds S]\n"
		"                           [--interval-ms M] [--seed N] [--icount[=SHIFT]] -o OUT.mst\n"
		"       memsim trace record --convert DIR -o OUT.mst\n"
		"\n"
		"Boots N QEMU guests (Debian's kernel, a busybox initramfs) running a workload, records\n"
		"their kernel memory tracepoints and periodic digests of every page of their RAM, and\n"
		"converts both into one trace (format v1).  See docs/recording.md.\n"
		"\n"
		"  --workload W       fork-tar (default), dd-pagecache, pipeline, forkstorm, or\n"
		"                     script:FILE (a shell file defining step() and optionally setup())\n"
		"  --guests N         guests booted concurrently, 1..%d (default 1)\n"
		"  --seconds S        traced guest seconds per guest, 1..3600 (default 10)\n"
		"  --interval-ms M    RAM digest sampling period, 0 = none, else >= 50 (default 1000)\n"
		"  --seed N           seed of the workloads' generated data (default 1)\n"
		"  --icount[=SHIFT]   deterministic guest time: QEMU -icount shift=SHIFT (default 0)\n"
		"  --mem-mb M         guest RAM, 64..3072 MiB (default 256; below the PCI hole, so a\n"
		"                     gfn is the page's offset in the RAM file)\n"
		"  --vcpus N          vCPUs per guest, 1..%d (default 1)\n"
		"  --kernel FILE      guest kernel bzImage (default: newest /boot/vmlinuz-* with modules)\n"
		"  --share MODE       cross (default): pages identical across guests are shared;\n"
		"                     all: also within one guest; none: digests only\n"
		"  --no-share-zero    do not share zero pages\n"
		"  --boot-timeout S   seconds a guest may take to boot (default 120)\n"
		"  --timeout S        seconds the whole recording may take\n"
		"                     (default 180 + 40 x seconds + boot timeout)\n"
		"  --keep DIR         keep the raw recording (tracepoint text, digests) in DIR\n"
		"  --convert DIR      only convert a kept recording (no QEMU)\n"
		"  -o, --output FILE  the trace to write; FILE.counters gets the guest counters\n"
		"  -q, --quiet        no progress lines\n", MAX_GUESTS, MAX_VCPUS);
}

/* Parses an unsigned option value in [lo, hi]; prints the error. */
static int opt_uint(const char *opt, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-') {
		fprintf(stderr, "memsim: trace record: %s %s: not an unsigned integer\n", opt, v);
		return -EINVAL;
	}
	if (x < lo || x > hi) {
		fprintf(stderr, "memsim: trace record: %s %s: out of range [%" PRIu64 ", %" PRIu64 "]\n",
			opt, v, lo, hi);
		return -EINVAL;
	}
	*out = x;
	return 0;
}

static int parse_opts(int argc, char **argv, struct rec_opts *o)
{
	enum { O_WL = 256, O_GUESTS, O_SECONDS, O_INTERVAL, O_SEED, O_ICOUNT, O_MEM, O_VCPUS,
	       O_KERNEL, O_SHARE, O_NOZERO, O_BOOT, O_TIMEOUT, O_KEEP, O_CONVERT };
	static const struct option lo[] = {
		{ "workload", required_argument, NULL, O_WL },
		{ "guests", required_argument, NULL, O_GUESTS },
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "interval-ms", required_argument, NULL, O_INTERVAL },
		{ "seed", required_argument, NULL, O_SEED },
		{ "icount", optional_argument, NULL, O_ICOUNT },
		{ "mem-mb", required_argument, NULL, O_MEM },
		{ "vcpus", required_argument, NULL, O_VCPUS },
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "share", required_argument, NULL, O_SHARE },
		{ "no-share-zero", no_argument, NULL, O_NOZERO },
		{ "boot-timeout", required_argument, NULL, O_BOOT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "keep", required_argument, NULL, O_KEEP },
		{ "convert", required_argument, NULL, O_CONVERT },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	bool timeout_set = false;
	int c;

	*o = (struct rec_opts){ .workload = "fork-tar", .guests = 1, .seconds = 10,
				.interval_ms = 1000, .mem_mb = 256, .vcpus = 1, .seed = 1,
				.icount_shift = -1, .boot_timeout = 120, .share = "cross",
				.share_zero = true };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:qh", lo, NULL)) != -1) {
		switch (c) {
		case O_WL:
			if (!strncmp(optarg, "script:", 7)) {
				o->script = optarg + 7;
				o->workload = optarg;
				if (access(o->script, R_OK)) {
					fprintf(stderr, "memsim: trace record: --workload %s: %s\n", optarg,
						strerror(errno));
					return -EINVAL;
				}
			} else if (workload_name_ok(optarg)) {
				o->workload = optarg;
			} else {
				fprintf(stderr, "memsim: trace record: --workload %s: unknown (fork-tar, "
					"dd-pagecache, pipeline, forkstorm or script:FILE)\n", optarg);
				return -EINVAL;
			}
			break;
		case O_GUESTS:
			if (opt_uint("--guests", optarg, 1, MAX_GUESTS, &v))
				return -EINVAL;
			o->guests = (unsigned)v;
			break;
		case O_SECONDS:
			if (opt_uint("--seconds", optarg, 1, 3600, &v))
				return -EINVAL;
			o->seconds = (unsigned)v;
			break;
		case O_INTERVAL:
			if (opt_uint("--interval-ms", optarg, 0, 3600000, &v))
				return -EINVAL;
			if (v && v < 50) {
				fprintf(stderr, "memsim: trace record: --interval-ms %s: 0 or at least 50\n",
					optarg);
				return -EINVAL;
			}
			o->interval_ms = (unsigned)v;
			break;
		case O_SEED:
			if (opt_uint("--seed", optarg, 0, UINT32_MAX, &v))
				return -EINVAL;
			o->seed = v;
			break;
		case O_ICOUNT:
			v = 0;
			if (optarg && opt_uint("--icount", optarg, 0, 10, &v))
				return -EINVAL;
			o->icount_shift = (int)v;
			break;
		case O_MEM:
			if (opt_uint("--mem-mb", optarg, 64, 3072, &v))
				return -EINVAL;
			o->mem_mb = (unsigned)v;
			break;
		case O_VCPUS:
			if (opt_uint("--vcpus", optarg, 1, MAX_VCPUS, &v))
				return -EINVAL;
			o->vcpus = (unsigned)v;
			break;
		case O_KERNEL:
			o->kernel = optarg;
			break;
		case O_SHARE:
			if (strcmp(optarg, "cross") && strcmp(optarg, "all") && strcmp(optarg, "none")) {
				fprintf(stderr, "memsim: trace record: --share %s: cross, all or none\n",
					optarg);
				return -EINVAL;
			}
			o->share = optarg;
			break;
		case O_NOZERO:
			o->share_zero = false;
			break;
		case O_BOOT:
			if (opt_uint("--boot-timeout", optarg, 1, 3600, &v))
				return -EINVAL;
			o->boot_timeout = (unsigned)v;
			break;
		case O_TIMEOUT:
			if (opt_uint("--timeout", optarg, 1, 86400, &v))
				return -EINVAL;
			o->timeout = (unsigned)v;
			timeout_set = true;
			break;
		case O_KEEP:
			o->keep = optarg;
			break;
		case O_CONVERT:
			o->convert = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			if (optopt && optopt < 256)
				fprintf(stderr, "memsim: trace record: -%c: %s\n", optopt,
					strchr("o", optopt) ? "needs a value" : "unknown option");
			else
				fprintf(stderr, "memsim: trace record: %s: unknown option or missing value\n",
					argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "memsim: trace record: %s: unexpected argument\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->out) {
		fprintf(stderr, "memsim: trace record: -o OUT.mst is required\n");
		return -EINVAL;
	}
	if (strcmp(o->out, "-")) {
		char real[PATH_MAX], err[PATH_MAX + 128];

		char side[PATH_MAX + 16];

		/* a device, FIFO or directory is refused before minutes of recording (the
		 * trace and its FILE.counters sidecar alike) */
		snprintf(side, sizeof(side), "%s.counters", o->out);
		if (out_resolve(o->out, real, sizeof(real), err, sizeof(err)) ||
		    out_resolve(side, real, sizeof(real), err, sizeof(err))) {
			fprintf(stderr, "memsim: trace record: -o %s\n", err);
			return -EINVAL;
		}
	}
	if (!timeout_set)
		o->timeout = 180 + 40 * o->seconds + o->boot_timeout;
	return 0;
}

static int record(const struct rec_opts *o, const char *dir)
{
	char rdir[PATH_MAX], kimg[PATH_MAX], rel[128], path[PATH_MAX + 32], initrd[PATH_MAX + 32];
	char boot[32], msg[512], script[PATH_MAX + 16];
	struct meta m;
	time_t now = time(NULL);
	struct tm tm;
	uint64_t t;
	int rc;

	if (find_record_dir(rdir, sizeof(rdir))) {
		fail("cannot find traces/record/record.sh (set MEMSIM_RECORD_DIR)");
		return -ENOENT;
	}
	if (o->kernel) {
		if (access(o->kernel, R_OK)) {
			fail("--kernel %s: %s", o->kernel, strerror(errno));
			return -ENOENT;
		}
		snprintf(kimg, sizeof(kimg), "%s", o->kernel);
	} else if (find_kernel(kimg, sizeof(kimg))) {
		fail("no guest kernel: no /boot/vmlinuz-* with matching /lib/modules "
		     "(install linux-image-amd64, `make deps`, or pass --kernel FILE)");
		return -ENOENT;
	}
	if (bzimage_release(kimg, rel, sizeof(rel))) {
		fail("--kernel %s: not a bootable x86 kernel image (no bzImage header)", kimg);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", rel);
	if (access(path, R_OK)) {
		fail("kernel %s (%s): no modules in /lib/modules/%s (install linux-image-%s)", kimg, rel,
		     rel, rel);
		return -ENOENT;
	}

	memset(&m, 0, sizeof(m));
	snprintf(m.workload, sizeof(m.workload), "%s", o->workload);
	snprintf(m.kernel_image, sizeof(m.kernel_image), "%s", kimg);
	snprintf(m.kernel_release, sizeof(m.kernel_release), "%s", rel);
	qemu_version(m.qemu, sizeof(m.qemu));
	if (!strcmp(m.qemu, "unknown")) {
		fail("%s not found or not working (install qemu-system-x86)",
		     getenv("MEMSIM_QEMU") ? getenv("MEMSIM_QEMU") : "qemu-system-x86_64");
		return -ENOENT;
	}
	gmtime_r(&now, &tm);
	strftime(m.date, sizeof(m.date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	m.guests = o->guests;
	m.seconds = o->seconds;
	m.interval_ms = o->interval_ms;
	m.mem_mb = o->mem_mb;
	m.vcpus = o->vcpus;
	m.seed = o->seed;
	m.icount_shift = o->icount_shift;
	snprintf(m.share, sizeof(m.share), "%s", o->share);
	m.share_zero = o->share_zero;

	/* stage 1: kernel and initramfs */
	t = now_ns();
	snprintf(script, sizeof(script), "%s/record.sh", rdir);
	snprintf(path, sizeof(path), "%s/vmlinux", dir);
	{
		char *argv[] = { "bash", script, "kernel", kimg, path, NULL };

		rc = run_tool(argv, boot, sizeof(boot), msg, sizeof(msg));
		if (rc) {
			fail("preparing the kernel failed: %s", msg);
			return -EIO;
		}
	}
	bprintf(m.boot, sizeof(m.boot), "%s", boot);
	snprintf(initrd, sizeof(initrd), "%s/initrd.gz", dir);
	{
		char *argv[] = { "bash", script, "initramfs", rel, initrd, (char *)o->script, NULL };

		rc = run_tool(argv, NULL, 0, msg, sizeof(msg));
		if (rc) {
			fail("building the initramfs failed: %s", msg);
			return -EIO;
		}
	}
	note("kernel %s (%s boot), initramfs ready in %.1f s", rel, boot,
	     (double)(now_ns() - t) / 1e9);
	rc = meta_write(dir, &m);
	if (rc) {
		fail("cannot write %s/recording.txt: %s", dir, strerror(-rc));
		return rc;
	}
	/* stage 2 */
	rc = run_guests(o, dir, rdir, path, initrd, &m);
	if (rc)
		return rc;
	/* the big intermediate files are not needed to convert again */
	unlink(path);
	unlink(initrd);
	return 0;
}

int cmd_trace_record(int argc, char **argv)
{
	struct rec_opts o;
	char dir[PATH_MAX];
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	quiet = o.quiet;
	if (o.convert)
		return convert_recording(o.convert, o.out) ? 1 : 0;

	if (o.keep) {
		if (mkdir_p(o.keep)) {
			fail("--keep %s: %s", o.keep, strerror(errno));
			return 2;
		}
		snprintf(dir, sizeof(dir), "%s", o.keep);
	} else {
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/memsim-record.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			fail("cannot create a work directory in %s: %s", tmp && *tmp ? tmp : "/tmp",
			     strerror(errno));
			return 1;
		}
	}
	rc = record(&o, dir);
	if (!rc)
		rc = convert_recording(dir, o.out);
	if (rc) {
		if (!o.keep && rc != -ENOENT && rc != -EINVAL)
			fprintf(stderr, "memsim: trace record: the raw recording is kept in %s\n", dir);
		else if (!o.keep)
			rm_rf(dir);
		return rc == -EINVAL ? 2 : 1;
	}
	if (!o.keep)
		rm_rf(dir);
	return 0;
}
