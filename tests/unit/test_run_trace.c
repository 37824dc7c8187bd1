/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_run_trace.c — a run's id holds the digest of its trace file as
 * run_prepare() read it; run_execute() refuses results if the file was replaced or modified
 * before the replay finished (the results would be stored under the wrong id).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "run.h"
#include "trace.h"

static char dir[64], path[128], other[128];

static void cleanup(void)
{
	unlink(path);
	unlink(other);
	rmdir(dir);
}

static int write_trace(const char *p, unsigned n)
{
	struct trace_header h;
	struct trace_writer *w;
	struct trace_rec r = { .type = TR_DOMAIN_CREATE, .domain = 1, .arg = 1 };
	char err[512];
	unsigned i;

	memset(&h, 0, sizeof(h));
	h.page_size = 4096;
	snprintf(h.source, sizeof(h.source), "synthetic:test");
	w = trace_writer_open(p, &h, err, sizeof(err));
	if (!w || trace_writer_put(w, &r))
		return -1;
	for (i = 0; i < n; i++) {
		r.type = TR_PAGE_WRITE;
		r.frame = i;
		r.arg = 0;
		r.time_ns++;
		if (trace_writer_put(w, &r))
			return -1;
	}
	return trace_writer_close(w, err, sizeof(err));
}

static void setup(void)
{
	if (dir[0])
		return;
	snprintf(dir, sizeof(dir), "/tmp/test_run_trace.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/t.mst", dir);
	snprintf(other, sizeof(other), "%s/u.mst", dir);
	atexit(cleanup);
}

static int prepare(struct run *r, char *err, size_t errlen)
{
	struct run_opts o = { .model = "null", .trace = path, .seed = 1 };

	return run_prepare(r, &o, err, errlen);
}

TEST(unchanged_trace_replays)
{
	struct run r;
	char err[1024] = "";

	setup();
	CHECK(write_trace(path, 1000) == 0);
	CHECK(prepare(&r, err, sizeof(err)) == EXIT_OK);
	CHECK(run_execute(&r, err, sizeof(err)) == EXIT_OK);
	run_free(&r);
}

TEST(trace_replaced_after_its_digest_is_refused)
{
	struct run r;
	char err[1024] = "";

	setup();
	CHECK(write_trace(path, 1000) == 0);
	CHECK(prepare(&r, err, sizeof(err)) == EXIT_OK);
	/* another trace renamed over it: same name, other contents and inode */
	CHECK(write_trace(other, 2000) == 0 && rename(other, path) == 0);
	CHECK(run_execute(&r, err, sizeof(err)) == EXIT_FAIL);
	CHECK(strstr(err, "t.mst: the trace changed") != NULL);
	run_free(&r);
}

TEST(trace_modified_in_place_after_its_digest_is_refused)
{
	struct run r;
	char err[1024] = "";
	static char buf[1 << 16];
	size_t n;
	FILE *f, *g;

	setup();
	CHECK(write_trace(path, 1000) == 0);
	CHECK(prepare(&r, err, sizeof(err)) == EXIT_OK);
	/* a valid trace of other contents written into the same inode: the replay itself
	 * succeeds, only the check of the file's identity can tell */
	CHECK(write_trace(other, 2000) == 0);
	g = fopen(other, "rb");
	f = fopen(path, "wb");
	CHECK(f && g);
	if (f && g) {
		while ((n = fread(buf, 1, sizeof(buf), g)) > 0)
			CHECK(fwrite(buf, 1, n, f) == n);
	}
	if (g)
		fclose(g);
	CHECK(f && fclose(f) == 0);
	CHECK(run_execute(&r, err, sizeof(err)) == EXIT_FAIL);
	CHECK(strstr(err, "t.mst: the trace changed") != NULL);
	run_free(&r);
}

int main(void)
{
	return test_main();
}
