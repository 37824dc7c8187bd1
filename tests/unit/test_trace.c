/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_trace.c — the v1 trace format: writer/reader round trips, chunking, the
 * temp-file-and-rename protocol, constant reader memory, and rejection of every kind of
 * malformed input with the byte offset of the defect.
 *
 * Malformed files are built here with an independent encoder written from
 * docs/trace-format.md (bld_*), so these tests also check the document against the code.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "test.h"
#include "trace.h"
#include "scenarios.h"

/* ---- scratch directory ---------------------------------------------------------------- */
static char scratch[64];

static void scratch_cleanup(void)
{
	DIR *d = opendir(scratch);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		snprintf(p, sizeof(p), "%s/%s", scratch, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(scratch);
}

static const char *tpath(const char *name)
{
	static char p[8][512];
	static int k;

	if (!scratch[0]) {
		snprintf(scratch, sizeof(scratch), "/tmp/test_trace.XXXXXX");
		if (!mkdtemp(scratch))
			abort();
		atexit(scratch_cleanup);
	}
	k = (k + 1) % 8;
	snprintf(p[k], sizeof(p[k]), "%s/%s", scratch, name);
	return p[k];
}

static int scratch_entries(void)
{
	DIR *d = opendir(scratch);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int file_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
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
	if (fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* ---- deterministic test randomness --------------------------------------------------- */
static uint64_t rng_state = 0x1234567887654321ULL;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* A random valid record at or after time t, with deliberately awkward values. */
static struct trace_rec random_rec(uint64_t t, const struct trace_rec *prev)
{
	static const uint64_t frames[] = { 0, 1, 1ULL << 63, UINT64_MAX, (1ULL << 63) - 1,
					   0x123456789abcULL };
	struct trace_rec r = { 0 };

	switch (rnd_below(5)) {
	case 0: r.time_ns = t; break;                              /* equal times */
	case 1: r.time_ns = t + rnd_below(100); break;
	case 2: r.time_ns = t + rnd_below(1ULL << 40); break;      /* large deltas */
	default: r.time_ns = t + rnd_below(1000000); break;
	}
	r.type = (uint16_t)(1 + rnd_below(TR__MAX_TYPE));
	r.domain = (uint32_t)(rnd_below(4) ? rnd_below(8) : rnd_below(TRACE_MAX_DOMAINS));
	r.vcpu = (uint32_t)(rnd_below(4) ? rnd_below(4) : rnd_below(TRACE_MAX_VCPUS));
	switch (rnd_below(5)) {
	case 0: r.frame = prev->frame; break;
	case 1: r.frame = prev->frame + 1; break;
	case 2: r.frame = frames[rnd_below(6)]; break;
	case 3: r.frame = prev->frame - rnd_below(1000); break;
	default: r.frame = rnd(); break;
	}
	switch (r.type) {
	case TR_PAGE_ALLOC: case TR_PAGE_FREE: case TR_HINT_UNUSED: case TR_HINT_STABLE:
		r.arg = rnd_below(TRACE_MAX_ORDER + 1);
		break;
	case TR_PT_ALLOC: case TR_PT_FREE:
		r.arg = 1 + rnd_below(TRACE_MAX_PT_LEVEL);
		break;
	case TR_PT_ACCESS: case TR_PAGE_FAULT:
		r.arg = rnd_below(2);
		break;
	case TR_DOMAIN_CREATE:
		r.arg = rnd_below(TRACE_MAX_VCPUS + 1);
		break;
	default:
		r.arg = rnd_below(3) ? prev->arg : rnd();
		break;
	}
	if (r.type == TR_DOMAIN_CREATE && r.arg > TRACE_MAX_VCPUS)
		r.arg = 1;
	return r;
}

static void fill_header(struct trace_header *h)
{
	memset(h, 0, sizeof(*h));
	h->page_size = 4096;
	snprintf(h->source, sizeof(h->source), "synthetic:test");
	snprintf(h->kernel, sizeof(h->kernel), "6.1.0-test");
	snprintf(h->workload, sizeof(h->workload), "unit");
	snprintf(h->recorder, sizeof(h->recorder), "test_trace");
	snprintf(h->date, sizeof(h->date), "2024-01-01T00:00:00Z");
	snprintf(h->params, sizeof(h->params), "a=1 b=2");
}

static int write_trace(const char *path, const struct trace_rec *recs, size_t n)
{
	struct trace_header h;
	struct trace_writer *w;
	char err[512];
	size_t i;

	fill_header(&h);
	w = trace_writer_open(path, &h, err, sizeof(err));
	if (!w)
		return -1;
	for (i = 0; i < n; i++)
		if (trace_writer_put(w, &recs[i])) {
			trace_writer_abort(w);
			return -1;
		}
	return trace_writer_close(w, err, sizeof(err));
}

static int rec_eq(const struct trace_rec *a, const struct trace_rec *b)
{
	return a->time_ns == b->time_ns && a->frame == b->frame && a->arg == b->arg &&
	       a->domain == b->domain && a->vcpu == b->vcpu && a->type == b->type;
}

/* Reads all of src; returns the last next() status (0 = clean end) and the record count. */
static int drain(struct rec_source *src, uint64_t *count)
{
	struct trace_rec r;
	int ret;

	*count = 0;
	while ((ret = rec_source_next(src, &r)) == 1)
		(*count)++;
	return ret;
}

/* Opens a memory image and reads it to the end: 0 if accepted, -1 with the message. */
static int read_mem(const void *buf, size_t len, char *err, size_t errlen, uint64_t *count)
{
	struct rec_source *s = trace_open_mem(buf, len, "t.trace", err, errlen);
	uint64_t n = 0;
	int ret;

	if (!s)
		return -1;
	ret = drain(s, &n);
	if (ret < 0)
		snprintf(err, errlen, "%s", s->err);
	rec_source_close(s);
	if (count)
		*count = n;
	return ret;
}

/* The message names the file and a byte offset inside (or at the end of) the input. */
static int err_has_offset(const char *err, size_t len, uint64_t *off)
{
	unsigned long long o;

	if (sscanf(err, "t.trace: offset %llu: ", &o) != 1)
		return 0;
	if (off)
		*off = o;
	return o <= len;
}

/* ---- independent encoder (docs/trace-format.md) ---------------------------------------- */
struct bld {
	uint8_t d[1 << 17];
	size_t n;
};

static void b_u8(struct bld *b, unsigned v) { b->d[b->n++] = (uint8_t)v; }
static void b_le16(struct bld *b, unsigned v) { b_u8(b, v & 0xff); b_u8(b, (v >> 8) & 0xff); }
static void b_le32(struct bld *b, uint32_t v) { b_le16(b, v & 0xffff); b_le16(b, v >> 16); }
static void b_le64(struct bld *b, uint64_t v) { b_le32(b, (uint32_t)v); b_le32(b, (uint32_t)(v >> 32)); }
static void b_mem(struct bld *b, const void *p, size_t n) { memcpy(b->d + b->n, p, n); b->n += n; }

static uint32_t crc_of(const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(0, p, (uInt)n);
}

static void fix_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Header with the given fields and these 7 strings (NULL: "x"). */
struct hdr_opts {
	uint32_t version, page_size, flags;
	uint64_t count;
	const char *str[7];
	int raw_len[7];          /* if non-zero: length field as given, bytes = str without NUL */
};

static size_t bld_header(struct bld *b, const struct hdr_opts *o)
{
	size_t start = b->n, hl_at;
	int i;

	b_mem(b, "MEMSIMTR", 8);
	b_le32(b, o->version ? o->version : 1);
	hl_at = b->n;
	b_le32(b, 0);
	b_le32(b, o->page_size ? o->page_size : 4096);
	b_le32(b, o->flags);
	b_le64(b, o->count);
	for (i = 0; i < 7; i++) {
		const char *s = o->str[i] ? o->str[i] : "x";

		if (o->raw_len[i]) {
			b_le16(b, (unsigned)o->raw_len[i]);
			b_mem(b, s, strlen(s));
		} else {
			b_le16(b, (unsigned)strlen(s) + 1);
			b_mem(b, s, strlen(s) + 1);
		}
	}
	fix_le32(b->d + hl_at, (uint32_t)(b->n + 4 - start));
	b_le32(b, crc_of(b->d + start, b->n - start));
	return b->n - start;
}

static size_t bld_chunk(struct bld *b, uint32_t nrec, uint64_t first_t, const void *payload,
			size_t plen)
{
	size_t start = b->n;

	b_mem(b, "CHNK", 4);
	b_le32(b, nrec);
	b_le32(b, (uint32_t)plen);
	b_le64(b, first_t);
	b_le32(b, (uint32_t)crc32(crc32(0, b->d + start, 20), payload, (uInt)plen));
	b_mem(b, payload, plen);
	return start;
}

static size_t bld_end(struct bld *b, uint32_t chunks, uint64_t count)
{
	size_t start = b->n;

	b_mem(b, "TEND", 4);
	b_le32(b, chunks);
	b_le64(b, count);
	b_le32(b, crc_of(b->d + start, 16));
	return start;
}

/* flag bits of a record (docs/trace-format.md, "Records") */
#define F_TYPE 0x01
#define F_DOM 0x02
#define F_VCPU 0x04
#define F_NEXT 0x08
#define F_DELTA 0x10
#define F_ARG 0x20

/* A file of one chunk holding `payload`; returns the payload's offset. */
static size_t bld_one_chunk_file(struct bld *b, uint32_t nrec, uint64_t first_t,
				 const uint8_t *payload, size_t plen, uint64_t hdr_count)
{
	struct hdr_opts o = { .count = hdr_count };
	size_t at;

	b->n = 0;
	bld_header(b, &o);
	at = bld_chunk(b, nrec, first_t, payload, plen) + 24;
	bld_end(b, 1, nrec);
	return at;
}

/* Reads b and checks it fails at offset `off` with a message containing `what`. */
static int rejected_at(const struct bld *b, uint64_t off, const char *what)
{
	char err[512], want[64];
	int ok;

	err[0] = 0;
	ok = read_mem(b->d, b->n, err, sizeof(err), NULL) < 0;
	snprintf(want, sizeof(want), "t.trace: offset %llu: ", (unsigned long long)off);
	ok = ok && !strncmp(err, want, strlen(want)) && strstr(err, what);
	if (!ok)
		printf("    got: %s\n    wanted: %s...%s\n", err, want, what);
	return ok;
}

/* A small hand-built trace of three chunks, 4 records each, using every flag. */
static void bld_small_multichunk(struct bld *b)
{
	struct hdr_opts o = { .count = 12, .str = { "synthetic:x", "k", "w", "r", "q", "d", "p=1" } };
	uint8_t pl[256];
	size_t n;
	int c;

	b->n = 0;
	bld_header(b, &o);
	for (c = 0; c < 3; c++) {
		n = 0;
		/* dt=0, type page_alloc, domain 1, vcpu 2, frame delta +50 (zigzag 100), arg 3 */
		pl[n++] = 0; pl[n++] = F_TYPE | F_DOM | F_VCPU | F_DELTA | F_ARG;
		pl[n++] = TR_PAGE_ALLOC; pl[n++] = 1; pl[n++] = 2; pl[n++] = 100; pl[n++] = 3;
		/* dt=5, same everything, frame+1 */
		pl[n++] = 5; pl[n++] = F_NEXT;
		/* dt=300 (2 bytes), type pt_access, frame same, arg 1 */
		pl[n++] = 0xac; pl[n++] = 0x02; pl[n++] = F_TYPE | F_ARG; pl[n++] = TR_PT_ACCESS; pl[n++] = 1;
		/* dt=0, type page_write, frame delta -1 (zigzag 1) */
		pl[n++] = 0; pl[n++] = F_TYPE | F_DELTA; pl[n++] = TR_PAGE_WRITE; pl[n++] = 1;
		bld_chunk(b, 4, 1000 + 10000 * (uint64_t)c, pl, n);
	}
	bld_end(b, 3, 12);
}

/* ---- names and validity ------------------------------------------------------------------ */
TEST(type_names_round_trip_for_every_type)
{
	unsigned t;

	for (t = 1; t <= TR__MAX_TYPE; t++) {
		CHECK(trace_type_name(t) != NULL);
		CHECK(trace_type_from_name(trace_type_name(t)) == (int)t);
	}
	CHECK(trace_type_name(0) == NULL);
	CHECK(trace_type_name(TR__MAX_TYPE + 1) == NULL);
	CHECK(trace_type_from_name("no_such_type") == -1);
	CHECK(!strcmp(trace_type_name(TR_PAGE_ALLOC), "page_alloc"));
}

TEST(record_validity_checks_type_ranges_and_per_type_argument)
{
	struct trace_rec r = { .type = TR_PAGE_ALLOC, .arg = TRACE_MAX_ORDER };

	CHECK(trace_rec_invalid(&r) == NULL);
	r.arg = TRACE_MAX_ORDER + 1;
	CHECK(trace_rec_invalid(&r) != NULL);
	r.arg = 0;
	r.type = 0;
	CHECK(trace_rec_invalid(&r) != NULL);
	r.type = TR__MAX_TYPE + 1;
	CHECK(trace_rec_invalid(&r) != NULL);
	r.type = TR_PT_ALLOC;
	CHECK(trace_rec_invalid(&r) != NULL);          /* level 0 */
	r.arg = TRACE_MAX_PT_LEVEL;
	CHECK(trace_rec_invalid(&r) == NULL);
	r.vcpu = TRACE_MAX_VCPUS;
	CHECK(trace_rec_invalid(&r) != NULL);
	r.vcpu = TRACE_MAX_VCPUS - 1;
	r.domain = TRACE_MAX_DOMAINS;
	CHECK(trace_rec_invalid(&r) != NULL);
	r.domain = TRACE_MAX_DOMAINS - 1;
	CHECK(trace_rec_invalid(&r) == NULL);
}

/* ---- round trips ------------------------------------------------------------------------- */
TEST(random_records_of_all_types_round_trip_exactly)
{
	enum { N = 60000 };
	struct trace_rec *recs = calloc(N, sizeof(*recs)), prev = { 0 }, r;
	const char *p = tpath("random.trace");
	struct rec_source *s;
	char err[512];
	unsigned seen[TR__MAX_TYPE + 1] = { 0 };
	size_t i, mismatches = 0, t;
	int ret;

	for (i = 0; i < N; i++) {
		recs[i] = random_rec(prev.time_ns, &prev);
		prev = recs[i];
		seen[recs[i].type]++;
	}
	recs[N - 1].frame = 1ULL << 63;
	CHECK(write_trace(p, recs, N) == 0);
	s = trace_open(p, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		goto out;
	CHECK_EQ_U64(s->hdr.record_count, N);
	for (i = 0; (ret = rec_source_next(s, &r)) == 1; i++)
		if (i >= N || !rec_eq(&r, &recs[i]))
			mismatches++;
	CHECK(ret == 0);
	CHECK_EQ_U64(i, N);
	CHECK_EQ_U64(mismatches, 0);
	for (t = 1; t <= TR__MAX_TYPE; t++)
		CHECK(seen[t] > 0);
	rec_source_close(s);
out:
	free(recs);
}

TEST(frame_numbers_wrap_modulo_2_64_in_deltas)
{
	struct trace_rec recs[] = {
		{ .time_ns = 1, .type = TR_PAGE_WRITE, .frame = UINT64_MAX },
		{ .time_ns = 2, .type = TR_PAGE_WRITE, .frame = 0 },          /* "next" wraps */
		{ .time_ns = 3, .type = TR_PAGE_WRITE, .frame = UINT64_MAX }, /* delta -1 */
		{ .time_ns = 4, .type = TR_PAGE_WRITE, .frame = 1ULL << 63 },
		{ .time_ns = UINT64_MAX, .type = TR_PAGE_WRITE, .frame = 0 },
	};
	const char *p = tpath("wrap.trace");
	struct rec_source *s;
	struct trace_rec r;
	char err[512];
	size_t i = 0;

	CHECK(write_trace(p, recs, 5) == 0);
	s = trace_open(p, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	while (rec_source_next(s, &r) == 1) {
		CHECK(i < 5 && rec_eq(&r, &recs[i]));
		i++;
	}
	CHECK_EQ_U64(i, 5);
	rec_source_close(s);
}

TEST(empty_trace_reads_zero_records_and_ends_cleanly)
{
	const char *p = tpath("empty.trace");
	struct rec_source *s;
	struct trace_rec r;
	char err[512];

	CHECK(write_trace(p, NULL, 0) == 0);
	s = trace_open(p, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U64(s->hdr.record_count, 0);
	CHECK(rec_source_next(s, &r) == 0);
	CHECK(rec_source_next(s, &r) == 0);     /* the end is sticky */
	rec_source_close(s);
}

TEST(one_record_trace_round_trips)
{
	struct trace_rec in = { .time_ns = 123456789, .type = TR_SHARE, .domain = 7, .vcpu = 3,
				.frame = 0xabcdef, .arg = 0xfeedfacecafebeefULL }, out;
	const char *p = tpath("one.trace");
	struct rec_source *s;
	char err[512];

	CHECK(write_trace(p, &in, 1) == 0);
	s = trace_open(p, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_U64(s->hdr.record_count, 1);
	CHECK(rec_source_next(s, &out) == 1);
	CHECK(rec_eq(&in, &out));
	CHECK(rec_source_next(s, &out) == 0);
	rec_source_close(s);
}

/* Walks a file's chunk headers: number of chunks, largest record count and payload. */
static int chunk_stats(const uint8_t *b, size_t len, unsigned *chunks, uint32_t *max_rec,
		       uint32_t *max_payload)
{
	size_t pos = b[12] | b[13] << 8 | b[14] << 16 | (size_t)b[15] << 24;

	*chunks = 0;
	*max_rec = *max_payload = 0;
	while (pos + 24 <= len && !memcmp(b + pos, "CHNK", 4)) {
		uint32_t nrec = b[pos + 4] | b[pos + 5] << 8 | b[pos + 6] << 16 | (uint32_t)b[pos + 7] << 24;
		uint32_t pl = b[pos + 8] | b[pos + 9] << 8 | b[pos + 10] << 16 | (uint32_t)b[pos + 11] << 24;

		(*chunks)++;
		if (nrec > *max_rec)
			*max_rec = nrec;
		if (pl > *max_payload)
			*max_payload = pl;
		pos += 24 + pl;
	}
	return pos + 20 == len && !memcmp(b + pos, "TEND", 4);
}

TEST(chunks_split_at_8192_records)
{
	static const size_t sizes[] = { 8191, 8192, 8193, 16384, 16385 };
	size_t k;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k], i, len;
		struct trace_rec *recs = calloc(n, sizeof(*recs));
		const char *p = tpath("c8192.trace");
		unsigned chunks;
		uint32_t mr, mp;
		uint64_t count;
		char err[512];
		uint8_t *b;

		for (i = 0; i < n; i++)
			recs[i] = (struct trace_rec){ .time_ns = i, .type = TR_PAGE_WRITE, .frame = i };
		CHECK(write_trace(p, recs, n) == 0);
		b = slurp(p, &len);
		CHECK(b && chunk_stats(b, len, &chunks, &mr, &mp));
		CHECK_EQ_U64(chunks, (n + 8191) / 8192);
		CHECK_EQ_U64(mr, n < 8192 ? n : 8192);
		CHECK(read_mem(b, len, err, sizeof(err), &count) == 0);
		CHECK_EQ_U64(count, n);
		free(b);
		free(recs);
	}
}

TEST(chunks_split_before_64KiB_of_payload)
{
	enum { N = 20000 };
	struct trace_rec *recs = calloc(N, sizeof(*recs));
	const char *p = tpath("cbytes.trace");
	struct rec_source *s;
	struct trace_rec r;
	unsigned chunks;
	uint32_t mr, mp;
	char err[512];
	size_t i, len, bad = 0;
	uint8_t *b;

	/* every field changes by a large amount: ~30 bytes per record */
	for (i = 0; i < N; i++)
		recs[i] = (struct trace_rec){
			.time_ns = (uint64_t)i << 40, .type = (uint16_t)(i % 2 ? TR_SHARE : TR_PAGE_DIGEST),
			.domain = (uint32_t)(i * 7919 % TRACE_MAX_DOMAINS), .vcpu = (uint32_t)(i % TRACE_MAX_VCPUS),
			.frame = (uint64_t)i * 0x9e3779b97f4a7c15ULL, .arg = ~(uint64_t)i,
		};
	CHECK(write_trace(p, recs, N) == 0);
	b = slurp(p, &len);
	CHECK(b && chunk_stats(b, len, &chunks, &mr, &mp));
	CHECK(mp <= 65536);
	CHECK(mr < 8192);                  /* the byte limit, not the record limit, split them */
	CHECK(chunks >= 2);
	s = trace_open(p, err, sizeof(err));
	CHECK(s != NULL);
	for (i = 0; s && rec_source_next(s, &r) == 1; i++)
		bad += i >= N || !rec_eq(&r, &recs[i]);
	CHECK_EQ_U64(i, N);
	CHECK_EQ_U64(bad, 0);
	rec_source_close(s);
	free(b);
	free(recs);
}

TEST(header_provenance_round_trips_at_maximum_lengths)
{
	struct trace_header h, *g;
	struct trace_writer *w;
	struct rec_source *s;
	const char *p = tpath("hdr.trace");
	char err[512];

	fill_header(&h);
	h.page_size = 65536;
	memset(h.source, 's', TRACE_STR_MAX - 1);
	h.source[TRACE_STR_MAX - 1] = 0;
	memset(h.params, 'p', sizeof(h.params) - 1);
	h.params[sizeof(h.params) - 1] = 0;
	h.qemu[0] = 0;                       /* empty strings are fine */
	w = trace_writer_open(p, &h, err, sizeof(err));
	CHECK(w != NULL);
	if (!w)
		return;
	CHECK(trace_writer_close(w, err, sizeof(err)) == 0);
	s = trace_open(p, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	g = &s->hdr;
	CHECK(g->version == 1);
	CHECK(g->page_size == 65536);
	CHECK(!strcmp(g->source, h.source));
	CHECK(!strcmp(g->kernel, h.kernel));
	CHECK(!strcmp(g->workload, h.workload));
	CHECK(!strcmp(g->recorder, h.recorder));
	CHECK(!strcmp(g->qemu, ""));
	CHECK(!strcmp(g->date, h.date));
	CHECK(!strcmp(g->params, h.params));
	rec_source_close(s);
}

/* ---- writer ----------------------------------------------------------------------------- */
TEST(writer_rejects_unterminated_header_string)
{
	struct trace_header h;
	char err[512] = "";

	fill_header(&h);
	memset(h.kernel, 'k', sizeof(h.kernel));
	CHECK(trace_writer_open(tpath("bad.trace"), &h, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "kernel") != NULL);
	CHECK(!file_exists(tpath("bad.trace")));
}

TEST(writer_rejects_page_size_not_power_of_two)
{
	struct trace_header h;
	char err[512] = "";

	fill_header(&h);
	h.page_size = 4095;
	CHECK(trace_writer_open(tpath("bad.trace"), &h, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "page size") != NULL);
	h.page_size = 0;
	CHECK(trace_writer_open(tpath("bad.trace"), &h, err, sizeof(err)) == NULL);
}

TEST(writer_rejects_time_going_backwards_and_leaves_no_file)
{
	struct trace_header h;
	struct trace_writer *w;
	struct trace_rec a = { .time_ns = 10, .type = TR_PAGE_WRITE }, b = a;
	const char *p = tpath("back.trace");
	char err[512] = "";
	int before = scratch_entries();

	fill_header(&h);
	w = trace_writer_open(p, &h, err, sizeof(err));
	CHECK(w != NULL);
	if (!w)
		return;
	b.time_ns = 9;
	CHECK(trace_writer_put(w, &a) == 0);
	CHECK(trace_writer_put(w, &b) == -1);
	CHECK(strstr(trace_writer_error(w), "backwards") != NULL);
	CHECK(trace_writer_put(w, &a) == -1);          /* a failed writer stays failed */
	CHECK(trace_writer_close(w, err, sizeof(err)) == -1);
	CHECK(strstr(err, "record 1") != NULL);
	CHECK(!file_exists(p));
	CHECK(scratch_entries() == before);
}

TEST(writer_rejects_out_of_range_records)
{
	static const struct trace_rec bad[] = {
		{ .type = 0 }, { .type = TR__MAX_TYPE + 1 },
		{ .type = TR_PAGE_WRITE, .domain = TRACE_MAX_DOMAINS },
		{ .type = TR_PAGE_WRITE, .vcpu = TRACE_MAX_VCPUS },
		{ .type = TR_PT_ALLOC, .arg = 0 }, { .type = TR_PAGE_ALLOC, .arg = TRACE_MAX_ORDER + 1 },
		{ .type = TR_PT_ACCESS, .arg = 2 },
	};
	struct trace_header h;
	size_t i;
	char err[512];

	fill_header(&h);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct trace_writer *w = trace_writer_open(tpath("range.trace"), &h, err, sizeof(err));

		CHECK(w != NULL);
		if (!w)
			return;
		CHECK(trace_writer_put(w, &bad[i]) == -1);
		trace_writer_abort(w);
	}
	CHECK(!file_exists(tpath("range.trace")));
}

TEST(writer_fills_record_count_on_close)
{
	struct trace_rec recs[3] = {
		{ .time_ns = 1, .type = TR_PAGE_WRITE }, { .time_ns = 2, .type = TR_PAGE_WRITE },
		{ .time_ns = 3, .type = TR_PAGE_WRITE },
	};
	size_t len;
	uint8_t *b;

	CHECK(write_trace(tpath("count.trace"), recs, 3) == 0);
	b = slurp(tpath("count.trace"), &len);
	CHECK(b != NULL);
	if (!b)
		return;
	CHECK(b[24] == 3 && b[25] == 0 && b[31] == 0);
	free(b);
}

TEST(unfinished_writer_leaves_nothing_at_the_final_path)
{
	struct trace_header h;
	struct trace_writer *w;
	struct trace_rec r = { .time_ns = 1, .type = TR_PAGE_WRITE };
	const char *p = tpath("pending.trace");
	char err[512];
	int before = scratch_entries();

	fill_header(&h);
	w = trace_writer_open(p, &h, err, sizeof(err));
	CHECK(w != NULL);
	if (!w)
		return;
	CHECK(trace_writer_put(w, &r) == 0);
	CHECK(!file_exists(p));                       /* only the .part file exists */
	CHECK(scratch_entries() == before + 1);
	CHECK(trace_writer_close(w, err, sizeof(err)) == 0);
	CHECK(file_exists(p));
	CHECK(scratch_entries() == before + 1);       /* the .part file became the trace */
	unlink(p);
}

TEST(writer_abort_deletes_the_partial_file)
{
	struct trace_header h;
	struct trace_writer *w;
	struct trace_rec r = { .time_ns = 1, .type = TR_PAGE_WRITE };
	char err[512];
	int before = scratch_entries(), i;

	fill_header(&h);
	w = trace_writer_open(tpath("aborted.trace"), &h, err, sizeof(err));
	CHECK(w != NULL);
	if (!w)
		return;
	for (i = 0; i < 20000; i++)                   /* some chunks reach the disk */
		CHECK(trace_writer_put(w, &r) == 0);
	trace_writer_abort(w);
	CHECK(scratch_entries() == before);
	CHECK(!file_exists(tpath("aborted.trace")));
}

TEST(writer_to_unwritable_directory_fails_with_message)
{
	struct trace_header h;
	char err[512] = "";

	fill_header(&h);
	CHECK(trace_writer_open("/nonexistent-dir/x.trace", &h, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "/nonexistent-dir/x.trace") != NULL);
}

/* ---- reader memory and offsets ------------------------------------------------------ */
TEST(reader_memory_stays_constant_over_a_million_records)
{
	enum { N = 1000000 };
	struct trace_header h;
	struct trace_writer *w;
	struct rec_source *s;
	struct trace_rec r = { .type = TR_PAGE_ALLOC };
	const char *p = tpath("million.trace");
	char err[512];
	uint64_t i, n = 0, allocs_open, allocs_early = 0, off = 0;
	int ret, offsets_monotone = 1;

	fill_header(&h);
	w = trace_writer_open(p, &h, err, sizeof(err));
	CHECK(w != NULL);
	if (!w)
		return;
	for (i = 0; i < N; i++) {
		r.time_ns = i * 3;
		r.frame = i * 17 % 100003;
		r.type = (uint16_t)(i % 3 ? TR_PAGE_WRITE : TR_PAGE_ALLOC);
		trace_writer_put(w, &r);
	}
	CHECK(trace_writer_close(w, err, sizeof(err)) == 0);

	s = trace_open(p, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	allocs_open = trace_alloc_count();
	while ((ret = rec_source_next(s, &r)) == 1) {
		if (++n == 1000)
			allocs_early = trace_alloc_count();
		if (trace_reader_offset(s) < off)
			offsets_monotone = 0;
		off = trace_reader_offset(s);
	}
	CHECK(ret == 0);
	CHECK_EQ_U64(n, N);
	CHECK_EQ_U64(allocs_early, allocs_open);
	CHECK_EQ_U64(trace_alloc_count(), allocs_open);
	CHECK(offsets_monotone);
	CHECK(off > 0);
	rec_source_close(s);
	unlink(p);
}

TEST(opening_a_missing_file_names_it)
{
	char err[512] = "";

	CHECK(trace_open(tpath("does-not-exist.trace"), err, sizeof(err)) == NULL);
	CHECK(strstr(err, "does-not-exist.trace") != NULL);
	CHECK(strstr(err, "No such file") != NULL);
}

TEST(hand_built_multichunk_trace_matches_the_documented_layout)
{
	static struct bld b;
	struct rec_source *s;
	struct trace_rec r[12];
	char err[512];
	int i = 0;

	bld_small_multichunk(&b);
	s = trace_open_mem(b.d, b.n, "t.trace", err, sizeof(err));
	CHECK(s != NULL);
	if (!s) {
		printf("    %s\n", err);
		return;
	}
	CHECK(!strcmp(s->hdr.source, "synthetic:x") && !strcmp(s->hdr.params, "p=1"));
	while (i < 12 && rec_source_next(s, &r[i]) == 1)
		i++;
	CHECK(i == 12);
	CHECK(rec_source_next(s, &r[0]) == 0);
	rec_source_close(s);
	/* chunk 2, records 0..3 */
	CHECK(r[4].time_ns == 11000 && r[4].type == TR_PAGE_ALLOC && r[4].domain == 1 &&
	      r[4].vcpu == 2 && r[4].frame == 50 && r[4].arg == 3);
	CHECK(r[5].time_ns == 11005 && r[5].type == TR_PAGE_ALLOC && r[5].frame == 51 &&
	      r[5].arg == 3 && r[5].domain == 1);
	CHECK(r[6].time_ns == 11305 && r[6].type == TR_PT_ACCESS && r[6].frame == 51 && r[6].arg == 1);
	CHECK(r[7].time_ns == 11305 && r[7].type == TR_PAGE_WRITE && r[7].frame == 50 && r[7].arg == 1);
}

/* ---- every prefix, every bit ---------------------------------------------------------- */
static void check_all_truncations(const uint8_t *d, size_t n, int *never_accepted, int *all_named)
{
	char err[512];
	size_t cut;

	for (cut = 0; cut < n; cut++) {
		uint64_t off;

		err[0] = 0;
		if (read_mem(d, cut, err, sizeof(err), NULL) >= 0)
			*never_accepted = 0;
		else if (!err_has_offset(err, cut, &off))
			*all_named = 0;
	}
}

TEST(truncation_at_every_byte_offset_is_rejected)
{
	static struct bld b;
	struct trace_rec recs[40], prev = { 0 };
	uint8_t *w;
	size_t i, len;
	int never_accepted = 1, all_named = 1;
	char err[512];

	bld_small_multichunk(&b);
	CHECK(read_mem(b.d, b.n, err, sizeof(err), NULL) == 0);
	check_all_truncations(b.d, b.n, &never_accepted, &all_named);

	for (i = 0; i < 40; i++)
		prev = recs[i] = random_rec(prev.time_ns, &prev);
	CHECK(write_trace(tpath("small.trace"), recs, 40) == 0);
	w = slurp(tpath("small.trace"), &len);
	CHECK(w != NULL);
	if (w) {
		CHECK(read_mem(w, len, err, sizeof(err), NULL) == 0);
		check_all_truncations(w, len, &never_accepted, &all_named);
		free(w);
	}
	CHECK(never_accepted);
	CHECK(all_named);
}

static void check_all_bit_flips(uint8_t *d, size_t n, int *never_accepted, int *all_named)
{
	char err[512];
	size_t i;
	int bit;

	for (i = 0; i < n; i++)
		for (bit = 0; bit < 8; bit++) {
			d[i] ^= (uint8_t)(1u << bit);
			err[0] = 0;
			if (read_mem(d, n, err, sizeof(err), NULL) >= 0) {
				if (*never_accepted)
					printf("    flip of byte %zu bit %d accepted\n", i, bit);
				*never_accepted = 0;
			} else if (!err_has_offset(err, n, NULL)) {
				*all_named = 0;
			}
			d[i] ^= (uint8_t)(1u << bit);
		}
}

TEST(every_single_bit_flip_is_rejected)
{
	static struct bld b;
	struct trace_rec recs[30], prev = { 0 };
	uint8_t *w;
	size_t i, len;
	int never_accepted = 1, all_named = 1;

	bld_small_multichunk(&b);
	check_all_bit_flips(b.d, b.n, &never_accepted, &all_named);
	for (i = 0; i < 30; i++)
		prev = recs[i] = random_rec(prev.time_ns, &prev);
	CHECK(write_trace(tpath("flip.trace"), recs, 30) == 0);
	w = slurp(tpath("flip.trace"), &len);
	CHECK(w != NULL);
	if (w) {
		check_all_bit_flips(w, len, &never_accepted, &all_named);
		free(w);
	}
	CHECK(never_accepted);
	CHECK(all_named);
}

/* ---- header defects ---------------------------------------------------------------------- */
TEST(wrong_magic_is_rejected_at_its_first_bad_byte)
{
	static struct bld b;

	bld_small_multichunk(&b);
	b.d[3] = 'X';
	CHECK(rejected_at(&b, 3, "not a memsim trace"));
	b.n = 0;
	b_mem(&b, "hello, world\n", 13);
	CHECK(rejected_at(&b, 0, "not a memsim trace"));
	b.n = 0;
	CHECK(rejected_at(&b, 0, "empty file"));
}

TEST(unsupported_version_is_named_with_the_supported_one)
{
	static struct bld b;
	struct hdr_opts o = { .version = 2 };

	b.n = 0;
	bld_header(&b, &o);
	bld_end(&b, 0, 0);
	CHECK(rejected_at(&b, 8, "unsupported trace version 2 (this memsim reads version 1)"));
}

TEST(absurd_header_length_is_rejected_before_reading_it)
{
	static struct bld b;
	struct hdr_opts o = { 0 };

	b.n = 0;
	bld_header(&b, &o);
	fix_le32(b.d + 12, 0xffffffffu);
	CHECK(rejected_at(&b, 12, "header length 4294967295 out of range"));
	fix_le32(b.d + 12, 10);
	CHECK(rejected_at(&b, 12, "header length 10 out of range"));
}

TEST(header_corruption_is_caught_by_the_header_crc)
{
	static struct bld b;
	struct hdr_opts o = { 0 };
	size_t hl;

	b.n = 0;
	hl = bld_header(&b, &o);
	bld_end(&b, 0, 0);
	b.d[40] ^= 0x20;
	CHECK(rejected_at(&b, hl - 4, "header CRC mismatch"));
}

TEST(header_page_size_must_be_a_power_of_two)
{
	static struct bld b;
	struct hdr_opts o = { .page_size = 3000 };

	b.n = 0;
	bld_header(&b, &o);
	bld_end(&b, 0, 0);
	CHECK(rejected_at(&b, 16, "page size 3000 is not a power of two"));
	o.page_size = 256;
	b.n = 0;
	bld_header(&b, &o);
	bld_end(&b, 0, 0);
	CHECK(rejected_at(&b, 16, "page size 256"));
}

TEST(unknown_header_flags_are_rejected)
{
	static struct bld b;
	struct hdr_opts o = { .flags = 1 };

	b.n = 0;
	bld_header(&b, &o);
	bld_end(&b, 0, 0);
	CHECK(rejected_at(&b, 20, "unknown header flags"));
}

TEST(header_strings_must_be_nul_terminated_and_in_range)
{
	static struct bld b;
	static char big[300];
	struct hdr_opts o = { 0 };
	size_t kernel_at = 32 + 2 + 2;   /* after source "x\0" */

	/* kernel: length 3, bytes "abc" without NUL (the next field's bytes follow) */
	o.str[1] = "abc";
	o.raw_len[1] = 3;
	b.n = 0;
	bld_header(&b, &o);
	bld_end(&b, 0, 0);
	CHECK(rejected_at(&b, kernel_at + 2 + 2, "header string 'kernel' is not NUL-terminated"));

	/* NUL inside: "a\0c\0" (length 4), header CRC recomputed */
	memset(&o, 0, sizeof(o));
	o.str[1] = "abc";
	b.n = 0;
	bld_header(&b, &o);
	b.d[kernel_at + 2 + 1] = 0;
	fix_le32(b.d + b.n - 4, crc_of(b.d, b.n - 4));
	bld_end(&b, 0, 0);
	CHECK(rejected_at(&b, kernel_at + 2 + 1, "header string 'kernel' has a NUL byte before its end"));

	memset(&o, 0, sizeof(o));
	o.str[1] = "";
	o.raw_len[1] = 0;
	memset(big, 'b', 257);
	o.str[2] = big;                  /* workload: 258 bytes with NUL */
	b.n = 0;
	bld_header(&b, &o);
	bld_end(&b, 0, 0);
	CHECK(rejected_at(&b, kernel_at + 3, "header string 'workload' length 258 out of range"));
}

TEST(zero_length_header_string_is_rejected)
{
	static struct bld b;
	struct hdr_opts o = { 0 };

	/* a zero length field: rejected as a length, before its bytes are looked at */
	b.n = 0;
	bld_header(&b, &o);
	/* rebuild with source length 0 by hand */
	b.n = 0;
	b_mem(&b, "MEMSIMTR", 8);
	b_le32(&b, 1);
	b_le32(&b, 0);
	b_le32(&b, 4096);
	b_le32(&b, 0);
	b_le64(&b, 0);
	b_le16(&b, 0);
	for (int i = 0; i < 7; i++) {
		b_le16(&b, 2);
		b_mem(&b, "x", 2);
	}
	fix_le32(b.d + 12, (uint32_t)b.n + 4);
	b_le32(&b, crc_of(b.d, b.n));
	bld_end(&b, 0, 0);
	CHECK(rejected_at(&b, 32, "header string 'source' length 0 out of range"));
}

/* ---- chunk defects ----------------------------------------------------------------------- */
static const uint8_t rec_ok[] = { 0, F_TYPE, TR_PAGE_WRITE };

TEST(chunk_record_counts_outside_1_to_8192_are_rejected)
{
	static struct bld b;
	struct hdr_opts o = { 0 };
	size_t at;

	b.n = 0;
	bld_header(&b, &o);
	at = bld_chunk(&b, 0, 0, rec_ok, 3);
	bld_end(&b, 1, 0);
	CHECK(rejected_at(&b, at + 4, "chunk record count 0 out of range"));
	b.n = 0;
	bld_header(&b, &o);
	at = bld_chunk(&b, 8193, 0, rec_ok, 3);
	bld_end(&b, 1, 8193);
	CHECK(rejected_at(&b, at + 4, "chunk record count 8193 out of range"));
}

TEST(chunk_payload_length_over_64KiB_is_rejected)
{
	static struct bld b;
	struct hdr_opts o = { 0 };
	size_t at;

	b.n = 0;
	bld_header(&b, &o);
	at = bld_chunk(&b, 1, 0, rec_ok, 3);
	bld_end(&b, 1, 1);
	fix_le32(b.d + at + 8, 65537);
	CHECK(rejected_at(&b, at + 8, "chunk payload length 65537 out of range"));
	fix_le32(b.d + at + 8, 0xffffffffu);
	CHECK(rejected_at(&b, at + 8, "out of range"));
	fix_le32(b.d + at + 8, 0);
	CHECK(rejected_at(&b, at + 8, "chunk payload length 0"));
}

TEST(chunk_corruption_is_caught_by_its_crc)
{
	static struct bld b;
	struct hdr_opts o = { 0 };
	size_t at;

	b.n = 0;
	bld_header(&b, &o);
	at = bld_chunk(&b, 1, 5, rec_ok, 3);
	bld_end(&b, 1, 1);
	b.d[at + 24 + 2] = TR_PAGE_FREE;        /* payload */
	CHECK(rejected_at(&b, at + 20, "chunk CRC mismatch"));
	b.d[at + 24 + 2] = TR_PAGE_WRITE;
	b.d[at + 12] ^= 1;                      /* first_time: the CRC covers the header too */
	CHECK(rejected_at(&b, at + 20, "chunk CRC mismatch"));
}

TEST(bad_chunk_magic_is_rejected)
{
	static struct bld b;

	bld_small_multichunk(&b);
	{
		size_t hl = b.d[12] | b.d[13] << 8;

		b.d[hl] = 'X';
		CHECK(rejected_at(&b, hl, "bad chunk magic"));
	}
}

static void check_payload_rejected(const uint8_t *pl, size_t n, uint32_t nrec, size_t defect,
				   const char *what, int *ok)
{
	static struct bld b;
	size_t at = bld_one_chunk_file(&b, nrec, 100, pl, n, 0);

	if (!rejected_at(&b, at + defect, what))
		*ok = 0;
}

TEST(overlong_and_overflowing_varints_are_rejected)
{
	uint8_t pl[32];
	int ok = 1;

	/* time delta of 11 continuation bytes */
	memcpy(pl, rec_ok, 3);
	memset(pl + 3, 0x80, 11);
	pl[14] = 0x00;
	pl[15] = F_TYPE;
	pl[16] = TR_PAGE_WRITE;
	check_payload_rejected(pl, 17, 2, 3, "time delta: varint longer than 10 bytes", &ok);
	/* 10-byte varint whose last byte carries bits above 2^64 */
	memset(pl + 3, 0xff, 9);
	pl[12] = 0x02;
	pl[13] = F_TYPE;
	pl[14] = TR_PAGE_WRITE;
	check_payload_rejected(pl, 15, 2, 3, "over 64 bits", &ok);
	/* non-minimal: 0x81 0x00 encodes 1 in two bytes */
	pl[3] = 0x81;
	pl[4] = 0x00;
	pl[5] = F_TYPE;
	pl[6] = TR_PAGE_WRITE;
	check_payload_rejected(pl, 7, 2, 3, "minimally encoded", &ok);
	/* a frame delta varint of 11 bytes */
	pl[3] = 0;
	pl[4] = F_DELTA;
	memset(pl + 5, 0xff, 10);
	pl[15] = 0x01;
	check_payload_rejected(pl, 16, 2, 5, "frame delta: varint", &ok);
	CHECK(ok);
}

TEST(maximal_64_bit_varints_are_accepted)
{
	static struct bld b;
	uint8_t pl[32];
	size_t n = 0;
	char err[512];
	struct rec_source *s;
	struct trace_rec r;

	pl[n++] = 0;
	pl[n++] = F_TYPE | F_DELTA | F_ARG;
	pl[n++] = TR_PAGE_DIGEST;
	memset(pl + n, 0xff, 9);                /* zigzag 2^64-1 = delta -2^63 */
	n += 9;
	pl[n++] = 0x01;
	memset(pl + n, 0xff, 9);                /* arg 2^64-1 */
	n += 9;
	pl[n++] = 0x01;
	bld_one_chunk_file(&b, 1, 0, pl, n, 1);
	s = trace_open_mem(b.d, b.n, "t.trace", err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(rec_source_next(s, &r) == 1);
	CHECK_EQ_U64(r.frame, 1ULL << 63);
	CHECK_EQ_U64(r.arg, UINT64_MAX);
	CHECK(rec_source_next(s, &r) == 0);
	rec_source_close(s);
}

TEST(record_type_out_of_range_is_rejected_at_the_type_byte)
{
	uint8_t pl[] = { 0, F_TYPE, 0 };
	int ok = 1;

	check_payload_rejected(pl, 3, 1, 2, "record type 0 out of range", &ok);
	pl[2] = TR__MAX_TYPE + 1;
	check_payload_rejected(pl, 3, 1, 2, "record type 22 out of range", &ok);
	CHECK(ok);
}

TEST(first_record_of_a_chunk_must_carry_its_type)
{
	uint8_t pl[] = { 0, 0 };
	int ok = 1;

	check_payload_rejected(pl, 2, 1, 1, "no type byte", &ok);
	CHECK(ok);
}

TEST(first_record_of_a_chunk_must_have_zero_delta)
{
	uint8_t pl[] = { 5, F_TYPE, TR_PAGE_WRITE };
	int ok = 1;

	check_payload_rejected(pl, 3, 1, 0, "non-zero time delta", &ok);
	CHECK(ok);
}

TEST(time_overflowing_64_bits_is_rejected)
{
	static struct bld b;
	uint8_t pl[32];
	size_t n = 0, at;

	memcpy(pl, rec_ok, 3);
	n = 3;
	pl[n++] = 0x02;              /* dt = 2 */
	pl[n++] = 0;
	at = bld_one_chunk_file(&b, 2, UINT64_MAX - 1, pl, n, 0);
	CHECK(rejected_at(&b, at + 3, "time overflows 64 bits"));
}

TEST(time_going_backwards_between_chunks_is_rejected)
{
	static struct bld b;
	struct hdr_opts o = { 0 };
	size_t at;

	b.n = 0;
	bld_header(&b, &o);
	bld_chunk(&b, 1, 1000, rec_ok, 3);
	at = bld_chunk(&b, 1, 999, rec_ok, 3);
	bld_end(&b, 2, 2);
	CHECK(rejected_at(&b, at + 12, "time goes backwards"));
}

TEST(vcpu_and_domain_limits_are_enforced)
{
	uint8_t pl[8] = { 0, F_TYPE | F_VCPU, TR_PAGE_WRITE, 0x80, 0x20 };   /* vcpu 4096 */
	int ok = 1;

	check_payload_rejected(pl, 5, 1, 3, "vcpu 4096 out of range", &ok);
	pl[3] = 0xff;                /* vcpu 4095 is fine: then the record is valid */
	pl[4] = 0x1f;
	{
		static struct bld b;
		char err[512];

		bld_one_chunk_file(&b, 1, 0, pl, 5, 0);
		CHECK(read_mem(b.d, b.n, err, sizeof(err), NULL) == 0);
	}
	/* domain 2^20 = 0x80 0x80 0x40 */
	pl[1] = F_TYPE | F_DOM;
	pl[3] = 0x80;
	pl[4] = 0x80;
	pl[5] = 0x40;
	check_payload_rejected(pl, 6, 1, 3, "domain 1048576 out of range", &ok);
	CHECK(ok);
}

TEST(reserved_flag_bits_and_frame_mode_3_are_rejected)
{
	uint8_t pl[] = { 0, F_TYPE | 0x40, TR_PAGE_WRITE };
	int ok = 1;

	check_payload_rejected(pl, 3, 1, 1, "reserved bits", &ok);
	pl[1] = F_TYPE | F_NEXT | F_DELTA;
	check_payload_rejected(pl, 3, 1, 1, "invalid frame mode 3", &ok);
	CHECK(ok);
}

TEST(argument_out_of_range_for_its_type_is_rejected)
{
	uint8_t pl[] = { 0, F_TYPE | F_ARG, TR_PT_ALLOC, 6 };     /* level 6 */
	int ok = 1;

	check_payload_rejected(pl, 4, 1, 3, "pt_alloc argument 6 out of range [1, 5]", &ok);
	pl[1] = F_TYPE;              /* level 0 by inheritance from the chunk start */
	check_payload_rejected(pl, 3, 1, 0, "pt_alloc argument 0", &ok);
	CHECK(ok);
}

TEST(record_running_past_the_payload_is_rejected)
{
	uint8_t pl[] = { 0, F_TYPE | F_ARG, TR_SHARE, 0x80 };   /* arg varint cut */
	uint8_t pl2[] = { 0, F_TYPE, TR_PAGE_WRITE, 0 };       /* second record has no flags */
	int ok = 1;

	check_payload_rejected(pl, 4, 1, 0, "runs past the end of the payload", &ok);
	check_payload_rejected(pl2, 4, 2, 3, "runs past the end of the payload", &ok);
	CHECK(ok);
}

TEST(bytes_left_after_the_last_record_of_a_chunk_are_rejected)
{
	uint8_t pl[] = { 0, F_TYPE, TR_PAGE_WRITE, 0, 0 };
	int ok = 1;

	check_payload_rejected(pl, 5, 1, 3, "2 bytes left over", &ok);
	CHECK(ok);
}

/* ---- end marker and counts ------------------------------------------------------------- */
TEST(missing_end_marker_is_rejected_as_truncation)
{
	static struct bld b;
	struct hdr_opts o = { 0 };

	b.n = 0;
	bld_header(&b, &o);
	bld_chunk(&b, 1, 0, rec_ok, 3);
	CHECK(rejected_at(&b, b.n, "without its end marker"));
}

TEST(trailing_garbage_after_the_end_marker_is_rejected)
{
	static struct bld b;

	bld_small_multichunk(&b);
	b_u8(&b, 0);
	CHECK(rejected_at(&b, b.n - 1, "trailing garbage"));
}

TEST(end_marker_counts_must_match_the_file)
{
	static struct bld b;
	struct hdr_opts o = { 0 };
	size_t at;

	b.n = 0;
	bld_header(&b, &o);
	bld_chunk(&b, 1, 0, rec_ok, 3);
	at = bld_end(&b, 1, 2);
	CHECK(rejected_at(&b, at + 8, "end marker counts 2 records, the file has 1"));
	b.n = at;
	bld_end(&b, 2, 1);
	CHECK(rejected_at(&b, at + 4, "end marker counts 2 chunks, the file has 1"));
	b.n = at;
	bld_end(&b, 1, 1);
	b.d[at + 16] ^= 1;
	CHECK(rejected_at(&b, at + 16, "end marker CRC mismatch"));
}

TEST(header_record_count_must_match_unless_zero)
{
	static struct bld b;
	struct hdr_opts o = { .count = 5 };
	char err[512];
	uint64_t n = 99;

	b.n = 0;
	bld_header(&b, &o);
	bld_chunk(&b, 1, 0, rec_ok, 3);
	bld_end(&b, 1, 1);
	CHECK(rejected_at(&b, 24, "header counts 5 records, the file has 1"));
	o.count = 0;                /* unknown: a writer that could not seek back */
	b.n = 0;
	bld_header(&b, &o);
	bld_chunk(&b, 1, 0, rec_ok, 3);
	bld_end(&b, 1, 1);
	CHECK(read_mem(b.d, b.n, err, sizeof(err), &n) == 0);
	CHECK_EQ_U64(n, 1);
}

TEST(errors_are_sticky)
{
	static struct bld b;
	uint8_t pl[] = { 0, F_TYPE, TR_PAGE_WRITE, 0, F_TYPE, 99 };
	struct rec_source *s;
	struct trace_rec r;
	char err[512], first[512];

	bld_one_chunk_file(&b, 2, 0, pl, sizeof(pl), 0);
	s = trace_open_mem(b.d, b.n, "t.trace", err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(rec_source_next(s, &r) == 1);
	CHECK(rec_source_next(s, &r) == -1);
	snprintf(first, sizeof(first), "%s", s->err);
	CHECK(rec_source_next(s, &r) == -1);
	CHECK(!strcmp(first, s->err));
	rec_source_close(s);
}

/* ---- digest ---------------------------------------------------------------------------- */
TEST(digest_is_fixed_across_machines_and_sensitive_to_every_bit)
{
	uint8_t buf[100];
	uint64_t d, fd;
	char err[512];
	FILE *f;
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	d = trace_digest_mem(buf, sizeof(buf));
	/* a fixed value: the algorithm is part of the provenance format */
	CHECK_EQ_U64(d, 0xe1f36d9d0a1c649dULL);   /* also from the Python in docs/trace-format.md */
	CHECK(trace_digest_mem(buf, 99) != d);
	CHECK(trace_digest_mem("", 0) != trace_digest_mem("\0", 1));
	for (i = 0; i < 8 * sizeof(buf); i++) {
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (trace_digest_mem(buf, sizeof(buf)) == d)
			break;
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	CHECK_EQ_U64(i, 8 * sizeof(buf));
	f = fopen(tpath("digest.bin"), "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	fwrite(buf, 1, sizeof(buf), f);
	fclose(f);
	CHECK(trace_file_digest(tpath("digest.bin"), &fd, err, sizeof(err)) == 0);
	CHECK_EQ_U64(fd, d);
	CHECK(trace_file_digest(tpath("no-such-file"), &fd, err, sizeof(err)) < 0);
	CHECK(fd == 0);
}

TEST(file_digest_handles_files_larger_than_its_buffer)
{
	enum { N = 200003 };
	uint8_t *b = malloc(N);
	uint64_t fd;
	char err[512];
	FILE *f;
	size_t i;

	for (i = 0; i < N; i++)
		b[i] = (uint8_t)(i * 31 + (i >> 8));
	f = fopen(tpath("big.bin"), "wb");
	CHECK(f != NULL);
	if (f) {
		fwrite(b, 1, N, f);
		fclose(f);
		CHECK(trace_file_digest(tpath("big.bin"), &fd, err, sizeof(err)) == 0);
		CHECK_EQ_U64(fd, trace_digest_mem(b, N));
	}
	free(b);
}

/* ---- scenarios ------------------------------------------------------------------------- */
TEST(registry_lists_and_finds_the_smoke_scenario)
{
	const struct scenario *const *l = scenario_list();
	int found = 0;

	for (; *l; l++)
		found += !strcmp((*l)->name, "smoke");
	CHECK(found == 1);
	CHECK(scenario_find("smoke") == &scenario_smoke);
	CHECK(scenario_find("no-such-scenario") == NULL);
	CHECK(scenario_param_index(&scenario_smoke, "n") >= 0);
	CHECK(scenario_param_index(&scenario_smoke, "nope") == -1);
}

static struct rec_source *open_smoke(uint64_t n, uint64_t seed)
{
	uint64_t v[SCENARIO_MAX_PARAMS];
	char err[512];

	scenario_defaults(&scenario_smoke, v);
	v[scenario_param_index(&scenario_smoke, "n")] = n;
	return scenario_open(&scenario_smoke, v, seed, err, sizeof(err));
}

TEST(smoke_scenario_is_deterministic_per_seed)
{
	struct rec_source *a = open_smoke(5000, 42), *b = open_smoke(5000, 42), *c = open_smoke(5000, 43);
	struct trace_rec ra, rb, rc;
	size_t same = 1, differs = 0, n = 0;

	CHECK(a && b && c);
	if (!a || !b || !c)
		return;
	while (rec_source_next(a, &ra) == 1) {
		n++;
		same &= rec_source_next(b, &rb) == 1 && rec_eq(&ra, &rb);
		differs |= rec_source_next(c, &rc) != 1 || !rec_eq(&ra, &rc);
	}
	CHECK(same);
	CHECK(rec_source_next(b, &rb) == 0);
	CHECK(differs);
	CHECK(n == 5000 + 2 * 3);
	rec_source_close(a);
	rec_source_close(b);
	rec_source_close(c);
}

TEST(smoke_scenario_emits_valid_consistent_records)
{
	struct rec_source *s = open_smoke(20000, 7);
	struct trace_rec r;
	static uint8_t alloc[65][0x1000 + 256];
	uint64_t t = 0;
	int valid = 1, ordered = 1, consistent = 1, creates = 0, destroys = 0, pages = 0;

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(!strcmp(s->hdr.source, "synthetic:smoke"));
	CHECK(strstr(s->hdr.params, "n=20000") && strstr(s->hdr.params, "seed=7"));
	CHECK(s->hdr.page_size == 4096);
	while (rec_source_next(s, &r) == 1) {
		valid &= trace_rec_invalid(&r) == NULL;
		ordered &= r.time_ns >= t;
		t = r.time_ns;
		switch (r.type) {
		case TR_DOMAIN_CREATE: creates++; break;
		case TR_DOMAIN_DESTROY: destroys++; break;
		case TR_PAGE_ALLOC:
			consistent &= !alloc[r.domain][r.frame];
			alloc[r.domain][r.frame] = 1;
			pages++;
			break;
		case TR_PAGE_FREE:
			consistent &= alloc[r.domain][r.frame];
			alloc[r.domain][r.frame] = 0;
			pages++;
			break;
		case TR_PAGE_WRITE:
			consistent &= alloc[r.domain][r.frame];
			pages++;
			break;
		default:
			valid = 0;
		}
	}
	CHECK(valid);
	CHECK(ordered);
	CHECK(consistent);
	CHECK(creates == 3 && destroys == 3 && pages == 20000);
	rec_source_close(s);
}

TEST(scenario_open_rejects_parameters_out_of_range)
{
	uint64_t v[SCENARIO_MAX_PARAMS];
	char err[512] = "";

	scenario_defaults(&scenario_smoke, v);
	v[scenario_param_index(&scenario_smoke, "domains")] = 0;
	CHECK(scenario_open(&scenario_smoke, v, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "domains=0 out of range") != NULL);
}

TEST(generated_scenario_round_trips_through_a_file)
{
	struct rec_source *s = open_smoke(3000, 9), *g, *f;
	struct trace_writer *w;
	struct trace_rec r, q;
	const char *p = tpath("smoke.trace");
	char err[512];
	int same = 1;
	size_t n = 0;

	CHECK(s != NULL);
	if (!s)
		return;
	w = trace_writer_open(p, &s->hdr, err, sizeof(err));
	CHECK(w != NULL);
	if (!w)
		return;
	while (rec_source_next(s, &r) == 1)
		CHECK(trace_writer_put(w, &r) == 0 || (printf("%s\n", trace_writer_error(w)), 0));
	rec_source_close(s);
	CHECK(trace_writer_close(w, err, sizeof(err)) == 0);
	f = trace_open(p, err, sizeof(err));
	g = open_smoke(3000, 9);
	CHECK(f && g);
	if (!f || !g)
		return;
	CHECK(!strcmp(f->hdr.params, g->hdr.params));
	while (rec_source_next(g, &r) == 1) {
		same &= rec_source_next(f, &q) == 1 && rec_eq(&r, &q);
		n++;
	}
	CHECK(rec_source_next(f, &q) == 0);
	CHECK(same);
	CHECK_EQ_U64(n, 3006);
	rec_source_close(f);
	rec_source_close(g);
}

int main(void)
{
	return test_main();
}
