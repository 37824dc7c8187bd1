/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_trace_scan.c — trace_file_scan(): the digest a run id is made of, computed
 * while checking the header and the chunk framing, so that input that is no trace is
 * refused after a few bytes instead of a full read, and inputs that cannot be read twice
 * (FIFOs, devices) are refused without blocking.  Every test runs under alarm(): a
 * regression that blocks or reads without end fails instead of hanging.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "../test.h"
#include "trace.h"

static char dir[64];

static void cleanup(void)
{
	static const char *const names[] = { "t.mst", "empty.mst", "fifo", "sparse", "tail.mst",
					     "crc.mst", "cut.mst", "magic.mst", "dir", "zero" };
	char p[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		if (unlink(p))
			rmdir(p);
	}
	rmdir(dir);
}

static const char *tp(const char *name)
{
	static char p[4][128];
	static int k;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/test_trace_scan.XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
	}
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* A trace of n records over several chunks (page_write records, varying fields). */
static int write_trace(const char *path, size_t n)
{
	struct trace_header h;
	struct trace_writer *w;
	struct trace_rec r = { 0 };
	char err[512];
	size_t i;

	memset(&h, 0, sizeof(h));
	h.page_size = 4096;
	snprintf(h.source, sizeof(h.source), "synthetic:test");
	w = trace_writer_open(path, &h, err, sizeof(err));
	if (!w)
		return -1;
	r.type = TR_DOMAIN_CREATE;
	r.domain = 1;
	r.arg = 1;
	if (n && trace_writer_put(w, &r))
		goto fail;
	for (i = 1; i < n; i++) {
		r.type = TR_PAGE_WRITE;
		r.time_ns += i % 7;
		r.frame = (i * 2654435761u) % 100000;
		r.arg = 0;
		if (trace_writer_put(w, &r))
			goto fail;
	}
	return trace_writer_close(w, err, sizeof(err));
fail:
	trace_writer_abort(w);
	return -1;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static int put_at(const char *path, long off, const void *p, size_t n)
{
	FILE *f = fopen(path, "r+b");
	int rc;

	if (!f)
		return -1;
	rc = fseek(f, off, SEEK_SET) || fwrite(p, 1, n, f) != n ? -1 : 0;
	return fclose(f) || rc ? -1 : 0;
}

static int copy(const char *from, const char *to)
{
	size_t n;
	uint8_t *b = slurp(from, &n);
	FILE *f = fopen(to, "wb");
	int rc = b && f && fwrite(b, 1, n, f) == n ? 0 : -1;

	if (f && fclose(f))
		rc = -1;
	free(b);
	return rc;
}

TEST(scan_digest_is_the_file_digest_for_every_size)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 1000, 8191, 8192, 8193, 100003 };
	char err[512];
	size_t i, len;

	alarm(60);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t scan = 1, whole = 2;
		uint8_t *b;

		CHECK(write_trace(tp("t.mst"), sizes[i]) == 0);
		CHECK(trace_file_scan(tp("t.mst"), &scan, err, sizeof(err)) == 0);
		CHECK(trace_file_digest(tp("t.mst"), &whole, err, sizeof(err)) == 0);
		CHECK_EQ_U64(scan, whole);
		b = slurp(tp("t.mst"), &len);
		CHECK(b != NULL);
		if (b)
			CHECK_EQ_U64(scan, trace_digest_mem(b, len));
		free(b);
	}
	alarm(0);
}

TEST(scan_refuses_a_fifo_without_blocking)
{
	uint64_t d = 1;
	char err[512] = "";

	alarm(20);
	CHECK(mkfifo(tp("fifo"), 0600) == 0);
	CHECK(trace_file_scan(tp("fifo"), &d, err, sizeof(err)) < 0);
	CHECK(strstr(err, "fifo: not a regular file (a FIFO)") != NULL);
	CHECK(d == 0);
	err[0] = 0;
	CHECK(trace_file_digest(tp("fifo"), &d, err, sizeof(err)) < 0);
	CHECK(strstr(err, "not a regular file (a FIFO)") != NULL);
	alarm(0);
}

TEST(scan_refuses_a_character_device_and_a_directory)
{
	uint64_t d = 1;
	char err[512] = "";

	alarm(20);
	/* a device node of our own when we may make one (c 1 5 is zero), else the system's:
	 * opening and fstat-ing /dev/zero reads nothing */
	if (mknod(tp("zero"), S_IFCHR | 0600, makedev(1, 5)) == 0) {
		CHECK(trace_file_scan(tp("zero"), &d, err, sizeof(err)) < 0);
		unlink(tp("zero"));
	} else {
		CHECK(trace_file_scan("/dev/zero", &d, err, sizeof(err)) < 0);
	}
	CHECK(strstr(err, "not a regular file (a character device)") != NULL);
	CHECK(mkdir(tp("dir"), 0700) == 0);
	CHECK(trace_file_scan(tp("dir"), &d, err, sizeof(err)) < 0);
	CHECK(strstr(err, "not a regular file (a directory)") != NULL);
	alarm(0);
}

TEST(scan_of_a_4GiB_sparse_file_stops_at_its_header)
{
	uint64_t d = 1;
	char err[512] = "";
	int fd;

	alarm(20);
	fd = open(tp("sparse"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && ftruncate(fd, 4LL << 30) == 0);
	close(fd);
	CHECK(trace_file_scan(tp("sparse"), &d, err, sizeof(err)) < 0);
	CHECK(strstr(err, "sparse: offset 0: not a memsim trace") != NULL);
	alarm(0);
}

TEST(scan_of_a_trace_followed_by_4GiB_of_zeros_stops_after_the_end_marker)
{
	uint64_t d = 1;
	char err[512] = "";
	struct stat sb;

	alarm(20);
	CHECK(write_trace(tp("tail.mst"), 1000) == 0);
	CHECK(stat(tp("tail.mst"), &sb) == 0);
	CHECK(truncate(tp("tail.mst"), sb.st_size + (4LL << 30)) == 0);
	CHECK(trace_file_scan(tp("tail.mst"), &d, err, sizeof(err)) < 0);
	CHECK(strstr(err, "trailing garbage after the end marker") != NULL);
	alarm(0);
}

TEST(scan_checks_chunk_framing_but_leaves_crcs_to_the_replay)
{
	uint64_t d = 1, whole;
	char err[512] = "";
	struct rec_source *src;
	struct trace_rec r;
	struct stat sb;
	uint8_t junk[4] = { 0xde, 0xad, 0xbe, 0xef };
	size_t len, off;
	uint8_t *b;
	int ret;

	alarm(20);
	CHECK(write_trace(tp("t.mst"), 20000) == 0);
	b = slurp(tp("t.mst"), &len);
	CHECK(b != NULL);
	if (!b)
		return;
	/* the first chunk starts right after the header: header_len is at offset 12 */
	off = (size_t)b[12] | (size_t)b[13] << 8;
	CHECK(memcmp(b + off, "CHNK", 4) == 0);

	/* a damaged chunk magic is found by the scan, at its offset */
	CHECK(copy(tp("t.mst"), tp("magic.mst")) == 0);
	CHECK(put_at(tp("magic.mst"), (long)off, "XXXX", 4) == 0);
	CHECK(trace_file_scan(tp("magic.mst"), &d, err, sizeof(err)) < 0);
	CHECK(strstr(err, "bad chunk magic") != NULL);

	/* a file cut inside a chunk is found by the scan */
	CHECK(copy(tp("t.mst"), tp("cut.mst")) == 0);
	CHECK(truncate(tp("cut.mst"), (off_t)(off + 100)) == 0);
	CHECK(trace_file_scan(tp("cut.mst"), &d, err, sizeof(err)) < 0);
	CHECK(strstr(err, "truncated") != NULL);

	/* a damaged payload passes the scan (its digest is the file's) and fails the replay */
	CHECK(copy(tp("t.mst"), tp("crc.mst")) == 0);
	CHECK(put_at(tp("crc.mst"), (long)(off + 24 + 200), junk, 4) == 0);
	CHECK(trace_file_scan(tp("crc.mst"), &d, err, sizeof(err)) == 0);
	CHECK(trace_file_digest(tp("crc.mst"), &whole, err, sizeof(err)) == 0);
	CHECK_EQ_U64(d, whole);
	src = trace_open(tp("crc.mst"), err, sizeof(err));
	CHECK(src != NULL);
	if (src) {
		while ((ret = rec_source_next(src, &r)) == 1)
			;
		CHECK(ret < 0 && strstr(src->err, "CRC mismatch"));
		rec_source_close(src);
	}
	CHECK(stat(tp("crc.mst"), &sb) == 0 && (size_t)sb.st_size == len);
	free(b);
	alarm(0);
}

int main(void)
{
	return test_main();
}
