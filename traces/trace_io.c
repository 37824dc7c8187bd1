/* SPDX-License-Identifier: MIT */
/*
 * traces/trace_io.c — the v1 trace file format: record type names, record validity, the
 * streaming reader (file or memory), the writer, and the file digest.
 *
 * The byte layout is specified in docs/trace-format.md; the constants below are that
 * document's tables.  In short:
 *
 *   file   = header chunk* end
 *   header = "MEMSIMTR" version:u32 header_len:u32 page_size:u32 flags:u32
 *            record_count:u64 7 x (len:u16 bytes[len], last byte NUL) header_crc:u32
 *   chunk  = "CHNK" nrec:u32 payload_len:u32 first_time:u64 crc:u32 payload
 *   end    = "TEND" chunk_count:u32 record_count:u64 crc:u32
 *
 * Reader invariants:
 *  - memory is one fixed chunk buffer allocated at open; nothing grows with the file;
 *  - a record is handed out only after its chunk's CRC matched and every field of the
 *    record passed its range check, so a consumer never sees a malformed record;
 *  - the end marker is required: a file cut at a chunk boundary is an error, not a
 *    shorter trace;
 *  - once an error is reported, next() keeps returning -1 with the same message.
 *
 * Speed: next() decodes straight from the in-memory chunk.  The buffer has PAD zero bytes
 * after the payload so the decoder reads a whole record without per-byte bounds checks and
 * tests `p > end` once per record; any failure jumps to rec_diagnose(), which walks the
 * record again slowly to name the field and its byte offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

#include "trace.h"
#include "outfile.h"
#include "util.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- format constants (docs/trace-format.md) ------------------------------------------ */
static const char FILE_MAGIC[8] = { 'M', 'E', 'M', 'S', 'I', 'M', 'T', 'R' };
static const char CHUNK_MAGIC[4] = { 'C', 'H', 'N', 'K' };
static const char END_MAGIC[4] = { 'T', 'E', 'N', 'D' };

#define HDR_FIXED 32u                    /* magic..record_count */
#define HDR_NSTR 7u
#define HDR_MIN (HDR_FIXED + HDR_NSTR * 3u + 4u)
#define HDR_MAX (HDR_FIXED + 6u * (2u + TRACE_STR_MAX) + 2u + 4u * TRACE_STR_MAX + 4u)
#define PAGE_SIZE_MIN 512u
#define PAGE_SIZE_MAX (1u << 30)

#define CHUNK_HDR 24u
#define CHUNK_MAX_RECS 8192u
#define CHUNK_MAX_PAYLOAD 65536u
#define END_LEN 20u

/* Worst-case encoded record: dt 10 + flags 1 + type 1 + domain 3 + vcpu 2 + frame 10 + arg 10. */
#define REC_MAX_BYTES 37u
/* A decoder reads at most 10 bytes per varint field whatever the limits: 52 bytes. */
#define PAD 64u

/* Record flag byte. */
#define RF_TYPE 0x01u
#define RF_DOMAIN 0x02u
#define RF_VCPU 0x04u
#define RF_FRAME_SHIFT 3
#define RF_FRAME_MASK 0x18u
#define FRAME_SAME 0u
#define FRAME_NEXT 1u
#define FRAME_DELTA 2u
#define RF_ARG 0x20u
#define RF_RESERVED 0xc0u

/* ---- type names and record validity ---------------------------------------------------- */
static const char *const type_names[TR__MAX_TYPE + 1] = {
	[TR_DOMAIN_CREATE] = "domain_create", [TR_DOMAIN_DESTROY] = "domain_destroy",
	[TR_PAGE_ALLOC] = "page_alloc",       [TR_PAGE_FREE] = "page_free",
	[TR_PAGE_WRITE] = "page_write",       [TR_PAGE_DIGEST] = "page_digest",
	[TR_SHARE] = "share",                 [TR_UNSHARE] = "unshare",
	[TR_PT_ALLOC] = "pt_alloc",           [TR_PT_FREE] = "pt_free",
	[TR_CR3_LOAD] = "cr3_load",           [TR_PT_ACCESS] = "pt_access",
	[TR_SP_MAP] = "sp_map",               [TR_SP_UNMAP] = "sp_unmap",
	[TR_SP_MARK] = "sp_mark",             [TR_SP_UNMARK] = "sp_unmark",
	[TR_FORK] = "fork",                   [TR_PAGE_FAULT] = "page_fault",
	[TR_HINT_UNUSED] = "hint_unused",     [TR_HINT_STABLE] = "hint_stable",
	[TR_CTX_SWITCH] = "ctx_switch",
};

const char *trace_type_name(unsigned type)
{
	return type >= 1 && type <= TR__MAX_TYPE ? type_names[type] : NULL;
}

int trace_type_from_name(const char *name)
{
	unsigned t;

	for (t = 1; t <= TR__MAX_TYPE; t++)
		if (!strcmp(type_names[t], name))
			return (int)t;
	return -1;
}

/* Allowed argument range per type; types whose argument carries no bounded meaning take any. */
struct arg_range {
	uint64_t min, max;
};

#define ANY_ARG { 0, UINT64_MAX }
static const struct arg_range arg_ranges[TR__MAX_TYPE + 1] = {
	[0] = ANY_ARG,
	[TR_DOMAIN_CREATE] = { 0, TRACE_MAX_VCPUS },
	[TR_DOMAIN_DESTROY] = ANY_ARG,
	[TR_PAGE_ALLOC] = { 0, TRACE_MAX_ORDER },
	[TR_PAGE_FREE] = { 0, TRACE_MAX_ORDER },
	[TR_PAGE_WRITE] = ANY_ARG,
	[TR_PAGE_DIGEST] = ANY_ARG,
	[TR_SHARE] = ANY_ARG,
	[TR_UNSHARE] = ANY_ARG,
	[TR_PT_ALLOC] = { 1, TRACE_MAX_PT_LEVEL },
	[TR_PT_FREE] = { 1, TRACE_MAX_PT_LEVEL },
	[TR_CR3_LOAD] = ANY_ARG,
	[TR_PT_ACCESS] = { 0, 1 },
	[TR_SP_MAP] = ANY_ARG,
	[TR_SP_UNMAP] = ANY_ARG,
	[TR_SP_MARK] = ANY_ARG,
	[TR_SP_UNMARK] = ANY_ARG,
	[TR_FORK] = ANY_ARG,
	[TR_PAGE_FAULT] = { 0, 1 },
	[TR_HINT_UNUSED] = { 0, TRACE_MAX_ORDER },
	[TR_HINT_STABLE] = { 0, TRACE_MAX_ORDER },
	[TR_CTX_SWITCH] = ANY_ARG,
};

const char *trace_rec_invalid(const struct trace_rec *r)
{
	if (r->type < 1 || r->type > TR__MAX_TYPE)
		return "record type out of range";
	if (r->domain >= TRACE_MAX_DOMAINS)
		return "domain out of range";
	if (r->vcpu >= TRACE_MAX_VCPUS)
		return "vcpu out of range";
	if (r->arg < arg_ranges[r->type].min || r->arg > arg_ranges[r->type].max)
		return "argument out of range for the record type";
	return NULL;
}

/* ---- little helpers ------------------------------------------------------------------------ */
static uint64_t alloc_count;

uint64_t trace_alloc_count(void)
{
	return __atomic_load_n(&alloc_count, __ATOMIC_RELAXED);
}

static void *trace_zalloc(size_t n)
{
	__atomic_add_fetch(&alloc_count, 1, __ATOMIC_RELAXED);
	return calloc(1, n);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t crc_bytes(uint32_t crc, const void *p, size_t n)
{
	return (uint32_t)crc32(crc, p, (uInt)n);
}

/*
 * Reads an unsigned LEB128 varint.  NULL if it is longer than 10 bytes, exceeds 64 bits, or
 * is not minimally encoded (a final 0x00 byte after a continuation): every value has exactly
 * one encoding, so equal traces are equal files.
 */
static const uint8_t *varint_get_slow(const uint8_t *p, uint64_t *v)
{
	uint64_t x = 0;
	unsigned i;

	for (i = 0; i < 10; i++) {
		uint64_t b = p[i];

		if (i == 9 && b > 1)
			return NULL;
		x |= (b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (b == 0 && i > 0)
				return NULL;
			*v = x;
			return p + i + 1;
		}
	}
	return NULL;
}

/*
 * The hot-path varint: one 8-byte load, the terminator found with a bit scan, the 7-bit
 * groups packed in three shift/mask steps: no branch on the length, which on real traces
 * varies from record to record.  The load is assembled little-endian whatever the host
 * (memcpy, no aligned-pointer cast); it may read past the payload into the zero PAD.
 * 9- and 10-byte varints and defects go to varint_get_slow().
 */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline __attribute__((always_inline)) const uint8_t *varint_get(const uint8_t *p,
									 uint64_t *v)
{
	uint64_t w, stop, x;
	unsigned bits;

	if (likely(p[0] < 0x80)) {
		*v = p[0];
		return p + 1;
	}
	w = load_le64(p);
	stop = ~w & 0x8080808080808080ULL;
	if (unlikely(!stop))
		return varint_get_slow(p, v);
	bits = (unsigned)__builtin_ctzll(stop) + 1;        /* 8 * length */
	x = w & (~0ULL >> (64 - bits));
	/* non-minimal: a last byte of 0 after at least one continuation byte */
	if (unlikely(bits > 8 && !(x >> (bits - 8))))
		return NULL;
	x = (x & 0x007f007f007f007fULL) | ((x & 0x7f007f007f007f00ULL) >> 1);
	x = (x & 0x00003fff00003fffULL) | ((x & 0x3fff00003fff0000ULL) >> 2);
	x = (x & 0x000000000fffffffULL) | ((x & 0x0fffffff00000000ULL) >> 4);
	*v = x;
	return p + (bits >> 3);
}

static inline uint8_t *varint_put(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint64_t zigzag(uint64_t d)
{
	return (d << 1) ^ (uint64_t)((int64_t)d >> 63);
}

static inline uint64_t unzigzag(uint64_t v)
{
	return (v >> 1) ^ (0 - (v & 1));
}

static const char *const hdr_str_names[HDR_NSTR] = {
	"source", "kernel", "workload", "recorder", "qemu", "date", "params",
};

static char *hdr_str_field(struct trace_header *h, unsigned i, size_t *cap)
{
	char *const f[HDR_NSTR] = { h->source, h->kernel, h->workload, h->recorder,
				    h->qemu, h->date, h->params };

	*cap = i == HDR_NSTR - 1 ? sizeof(h->params) : TRACE_STR_MAX;
	return f[i];
}

/* ---- reader ---------------------------------------------------------------------------- */
enum rd_state { RD_OK, RD_EOF, RD_ERROR };

struct reader {
	struct rec_source src;       /* first: the rec_source handed out */
	/* input: a FILE or a memory buffer */
	FILE *f;
	int own_f;
	const uint8_t *mem;
	size_t mem_len, mem_pos;
	uint64_t off;                /* file offset of the next unread byte */
	char name[256];
	enum rd_state state;
	/* current chunk: records [p, end) of buf, `left` of them still to decode */
	uint8_t *buf;                /* CHUNK_MAX_PAYLOAD + PAD bytes */
	const uint8_t *p, *end;
	uint32_t left, nrec;
	uint64_t chunk_off;          /* offset of the current chunk's header */
	uint64_t payload_off;        /* offset of buf[0] */
	/* previous record (delta base) */
	uint64_t t, frame, arg;
	uint32_t dom, vcpu;
	unsigned type;
	/* totals */
	uint64_t count;
	uint32_t chunks;
	/* digest of every byte read, when the reader scans for trace_file_scan() */
	int digesting;
	uint64_t dg_h, dg_total;
	uint8_t dg_tail[8];
	unsigned dg_ntail;
};

static void dg_update(struct reader *r, const uint8_t *p, size_t n);

static int rd_fail(struct reader *r, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int rd_fail(struct reader *r, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->src.err, sizeof(r->src.err), "%s: offset %" PRIu64 ": ", r->name, off);
	if (n < 0 || (size_t)n >= sizeof(r->src.err))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(r->src.err + n, sizeof(r->src.err) - (size_t)n, fmt, ap);
	va_end(ap);
	r->state = RD_ERROR;
	return -1;
}

/* Reads up to n bytes; fewer only at the end of the input or on an I/O error (-1). */
static long rd_read(struct reader *r, void *dst, size_t n)
{
	size_t got;

	if (r->mem) {
		got = r->mem_len - r->mem_pos < n ? r->mem_len - r->mem_pos : n;
		memcpy(dst, r->mem + r->mem_pos, got);
		r->mem_pos += got;
	} else {
		got = fread(dst, 1, n, r->f);
		if (got < n && ferror(r->f)) {
			int e = errno ? errno : EIO;

			r->off += got;
			return rd_fail(r, r->off, "read error: %s", strerror(e));
		}
	}
	r->off += got;
	if (r->digesting)
		dg_update(r, dst, got);
	return (long)got;
}

/* Reads exactly n bytes, or fails with "file ends inside WHAT". */
static int rd_exact(struct reader *r, void *dst, size_t n, const char *what)
{
	long got = rd_read(r, dst, n);

	if (got < 0)
		return -1;
	if ((size_t)got < n)
		return rd_fail(r, r->off, "file ends inside %s (%ld of %zu bytes present): truncated",
			       what, got, n);
	return 0;
}

static int rd_header(struct reader *r)
{
	uint8_t h[HDR_MAX];
	struct trace_header *hd = &r->src.hdr;
	uint32_t version, hlen, crc, stored, flags;
	long got;
	unsigned i, pos;

	got = rd_read(r, h, 16);
	if (got < 0)
		return -1;
	if (got == 0)
		return rd_fail(r, 0, "empty file, not a memsim trace");
	for (i = 0; i < 8 && i < (unsigned)got; i++)
		if (h[i] != (uint8_t)FILE_MAGIC[i])
			return rd_fail(r, i, "not a memsim trace (bad magic; expected \"MEMSIMTR\")");
	if (got < 12)
		return rd_fail(r, (uint64_t)got, "file ends inside the header: truncated");
	version = get_le32(h + 8);
	if (version != TRACE_VERSION)
		return rd_fail(r, 8, "unsupported trace version %" PRIu32
			       " (this memsim reads version %d)", version, TRACE_VERSION);
	if (got < 16)
		return rd_fail(r, (uint64_t)got, "file ends inside the header: truncated");
	hlen = get_le32(h + 12);
	if (hlen < HDR_MIN || hlen > HDR_MAX)
		return rd_fail(r, 12, "header length %" PRIu32 " out of range [%u, %u]",
			       hlen, HDR_MIN, HDR_MAX);
	if (rd_exact(r, h + 16, hlen - 16, "the header"))
		return -1;
	stored = get_le32(h + hlen - 4);
	crc = crc_bytes(0, h, hlen - 4);
	if (crc != stored)
		return rd_fail(r, hlen - 4, "header CRC mismatch (stored 0x%08" PRIx32
			       ", computed 0x%08" PRIx32 "): header corrupted", stored, crc);

	hd->version = version;
	hd->page_size = get_le32(h + 16);
	if (hd->page_size < PAGE_SIZE_MIN || hd->page_size > PAGE_SIZE_MAX ||
	    (hd->page_size & (hd->page_size - 1)))
		return rd_fail(r, 16, "page size %" PRIu32 " is not a power of two in [%u, %u]",
			       hd->page_size, PAGE_SIZE_MIN, PAGE_SIZE_MAX);
	flags = get_le32(h + 20);
	if (flags)
		return rd_fail(r, 20, "unknown header flags 0x%08" PRIx32 " (must be 0)", flags);
	hd->record_count = get_le64(h + 24);

	pos = HDR_FIXED;
	for (i = 0; i < HDR_NSTR; i++) {
		size_t cap;
		char *dst = hdr_str_field(hd, i, &cap);
		unsigned len;
		const uint8_t *nul;

		if (pos + 2 > hlen - 4)
			return rd_fail(r, pos, "header string '%s' starts past the header end",
				       hdr_str_names[i]);
		len = h[pos] | (unsigned)h[pos + 1] << 8;
		if (len < 1 || len > cap)
			return rd_fail(r, pos, "header string '%s' length %u out of range [1, %zu]",
				       hdr_str_names[i], len, cap);
		if (pos + 2 + len > hlen - 4)
			return rd_fail(r, pos, "header string '%s' (%u bytes) runs past the header end",
				       hdr_str_names[i], len);
		nul = memchr(h + pos + 2, 0, len);
		if (!nul)
			return rd_fail(r, pos + 2 + len - 1, "header string '%s' is not NUL-terminated",
				       hdr_str_names[i]);
		if (nul != h + pos + 2 + len - 1)
			return rd_fail(r, (uint64_t)(nul - h), "header string '%s' has a NUL byte "
				       "before its end", hdr_str_names[i]);
		memcpy(dst, h + pos + 2, len);
		pos += 2 + len;
	}
	if (pos != hlen - 4)
		return rd_fail(r, pos, "%u unexpected bytes after the header strings", hlen - 4 - pos);
	return 0;
}

static int rd_end_marker(struct reader *r)
{
	uint8_t e[END_LEN];
	uint64_t off = r->chunk_off, n;
	uint32_t crc, stored, chunks;
	uint8_t extra;
	long got;

	memcpy(e, END_MAGIC, 4);
	if (rd_exact(r, e + 4, END_LEN - 4, "the end marker"))
		return -1;
	stored = get_le32(e + 16);
	crc = crc_bytes(0, e, 16);
	if (crc != stored)
		return rd_fail(r, off + 16, "end marker CRC mismatch (stored 0x%08" PRIx32
			       ", computed 0x%08" PRIx32 ")", stored, crc);
	chunks = get_le32(e + 4);
	if (chunks != r->chunks)
		return rd_fail(r, off + 4, "end marker counts %" PRIu32 " chunks, the file has %"
			       PRIu32, chunks, r->chunks);
	n = get_le64(e + 8);
	if (n != r->count)
		return rd_fail(r, off + 8, "end marker counts %" PRIu64 " records, the file has %"
			       PRIu64, n, r->count);
	if (r->src.hdr.record_count && r->src.hdr.record_count != r->count)
		return rd_fail(r, 24, "header counts %" PRIu64 " records, the file has %" PRIu64,
			       r->src.hdr.record_count, r->count);
	got = rd_read(r, &extra, 1);
	if (got < 0)
		return -1;
	if (got)
		return rd_fail(r, r->off - 1, "trailing garbage after the end marker");
	r->state = RD_EOF;
	return 0;
}

/*
 * The part of a chunk the replay and the digest scan read alike: its header into h, checked
 * for magic and payload length (*plen).  1, 0 at the end marker (checked, and nothing may
 * follow it), -1 with a message.
 */
static int rd_chunk_header(struct reader *r, uint8_t h[CHUNK_HDR], uint32_t *plen_out)
{
	uint32_t plen;
	long got;

	r->chunk_off = r->off;
	got = rd_read(r, h, 4);
	if (got < 0)
		return -1;
	if (got == 0)
		return rd_fail(r, r->off, "trace ends without its end marker (truncated, or the "
			       "writer was killed)");
	if (got < 4)
		return rd_fail(r, r->off, "file ends inside a chunk header: truncated");
	if (!memcmp(h, END_MAGIC, 4))
		return rd_end_marker(r);
	if (memcmp(h, CHUNK_MAGIC, 4))
		return rd_fail(r, r->chunk_off, "bad chunk magic %02x %02x %02x %02x (expected "
			       "\"CHNK\" or \"TEND\")", h[0], h[1], h[2], h[3]);
	if (rd_exact(r, h + 4, CHUNK_HDR - 4, "a chunk header"))
		return -1;
	plen = get_le32(h + 8);
	if (plen < 1 || plen > CHUNK_MAX_PAYLOAD)
		return rd_fail(r, r->chunk_off + 8, "chunk payload length %" PRIu32
			       " out of range [1, %u]", plen, CHUNK_MAX_PAYLOAD);
	*plen_out = plen;
	return 1;
}

/* Reads the next chunk (1), or the end marker (0), or fails (-1). */
static int rd_chunk(struct reader *r)
{
	uint8_t h[CHUNK_HDR];
	uint32_t nrec, plen, crc, stored;
	uint64_t first_t;
	int rc;

	if (r->p != r->end)
		return rd_fail(r, r->payload_off + (uint64_t)(r->p - r->buf),
			       "%zu bytes left over after the chunk's last record",
			       (size_t)(r->end - r->p));
	rc = rd_chunk_header(r, h, &plen);
	if (rc <= 0)
		return rc;
	r->payload_off = r->off;
	if (rd_exact(r, r->buf, plen, "a chunk payload"))
		return -1;
	memset(r->buf + plen, 0, PAD);
	stored = get_le32(h + 20);
	crc = crc_bytes(crc_bytes(0, h, 20), r->buf, plen);
	if (crc != stored)
		return rd_fail(r, r->chunk_off + 20, "chunk CRC mismatch (stored 0x%08" PRIx32
			       ", computed 0x%08" PRIx32 "): chunk corrupted", stored, crc);
	nrec = get_le32(h + 4);
	if (nrec < 1 || nrec > CHUNK_MAX_RECS)
		return rd_fail(r, r->chunk_off + 4, "chunk record count %" PRIu32
			       " out of range [1, %u]", nrec, CHUNK_MAX_RECS);
	first_t = get_le64(h + 12);
	if (first_t < r->t)
		return rd_fail(r, r->chunk_off + 12, "time goes backwards: chunk starts at %" PRIu64
			       " ns, after a record at %" PRIu64 " ns", first_t, r->t);
	if (r->buf[0] != 0)
		return rd_fail(r, r->payload_off, "first record of a chunk has a non-zero time delta "
			       "(its time is the chunk's first_time)");
	r->p = r->buf;
	r->end = r->buf + plen;
	r->left = r->nrec = nrec;
	r->t = first_t;
	r->type = 0;
	r->dom = r->vcpu = 0;
	r->frame = r->arg = 0;
	r->chunks++;
	return 1;
}

/* Is the varint at q cut by the end of the payload? */
static int varint_crosses_end(const struct reader *r, const uint8_t *q)
{
	unsigned i;

	for (i = 0; i < 10 && q + i < r->end; i++)
		if (!(q[i] & 0x80))
			return 0;
	return q + i >= r->end;
}

/*
 * The fast decoder found record `q` malformed: walk it again field by field to say what is
 * wrong and where.  Mirrors reader_next() step by step.
 */
static __attribute__((noinline, cold)) int rec_diagnose(struct reader *r, const uint8_t *q)
{
	const uint8_t *rec = q, *f;
	uint64_t dt, v, arg = r->arg;
	unsigned fl, type = r->type, idx = r->nrec - r->left;
#define OFF(ptr) (r->payload_off + (uint64_t)((ptr) - r->buf))
#define OVERRUN() rd_fail(r, OFF(rec), "record %u of the chunk runs past the end of the payload", idx)
#define VARINT(what)                                                                     \
	do {                                                                             \
		f = q;                                                                   \
		if (f >= r->end || varint_crosses_end(r, f))                             \
			return OVERRUN();                                                \
		q = varint_get_slow(f, &v);                                              \
		if (!q)                                                                  \
			return rd_fail(r, OFF(f), "%s: varint longer than 10 bytes, over 64 " \
				       "bits, or not minimally encoded", what);          \
	} while (0)

	VARINT("time delta");
	dt = v;
	if (r->t + dt < dt)
		return rd_fail(r, OFF(f), "time overflows 64 bits (%" PRIu64 " + %" PRIu64 ")",
			       r->t, dt);
	if (q >= r->end)
		return OVERRUN();
	f = q;
	fl = *q++;
	if (fl & RF_RESERVED)
		return rd_fail(r, OFF(f), "record flags 0x%02x use reserved bits", fl);
	if (((fl & RF_FRAME_MASK) >> RF_FRAME_SHIFT) == 3)
		return rd_fail(r, OFF(f), "record flags 0x%02x: invalid frame mode 3", fl);
	if (fl & RF_TYPE) {
		if (q >= r->end)
			return OVERRUN();
		f = q;
		type = *q++;
		if (type < 1 || type > TR__MAX_TYPE)
			return rd_fail(r, OFF(f), "record type %u out of range [1, %d]", type,
				       TR__MAX_TYPE);
	} else if (!type) {
		return rd_fail(r, OFF(f), "first record of a chunk has no type byte");
	}
	if (fl & RF_DOMAIN) {
		VARINT("domain");
		if (v >= TRACE_MAX_DOMAINS)
			return rd_fail(r, OFF(f), "domain %" PRIu64 " out of range (must be < %u)", v,
				       TRACE_MAX_DOMAINS);
	}
	if (fl & RF_VCPU) {
		VARINT("vcpu");
		if (v >= TRACE_MAX_VCPUS)
			return rd_fail(r, OFF(f), "vcpu %" PRIu64 " out of range (must be < %u)", v,
				       TRACE_MAX_VCPUS);
	}
	if (((fl & RF_FRAME_MASK) >> RF_FRAME_SHIFT) == FRAME_DELTA)
		VARINT("frame delta");
	if (fl & RF_ARG) {
		VARINT("argument");
		arg = v;
	} else {
		f = rec;
	}
	if (arg < arg_ranges[type].min || arg > arg_ranges[type].max)
		return rd_fail(r, OFF(f), "%s argument %" PRIu64 " out of range [%" PRIu64 ", %"
			       PRIu64 "]", type_names[type], arg, arg_ranges[type].min,
			       arg_ranges[type].max);
	if (q > r->end)
		return OVERRUN();
	return rd_fail(r, OFF(rec), "malformed record (internal error: decoder disagreement)");
#undef VARINT
#undef OVERRUN
#undef OFF
}

static int reader_next_slow(struct reader *r, struct trace_rec *out);

/*
 * The hot path, specialised per flag byte: reader_next() switches once on the flags and
 * each case runs this body with `fl` a compile-time constant, so which fields are present
 * costs one indirect jump instead of a chain of data-dependent branches.
 */
static inline __attribute__((always_inline)) int
rec_decode(struct reader *r, struct trace_rec *out, const uint8_t *rec, const uint8_t *p,
	   uint64_t t, const unsigned fl)
{
	uint64_t v, frame, arg;
	uint32_t dom, vcpu;
	unsigned type;

	type = r->type;
	if (fl & RF_TYPE) {
		type = *p++;
		if (unlikely(type - 1u >= TR__MAX_TYPE))
			goto bad;
	} else if (unlikely(!type)) {
		goto bad;
	}
	dom = r->dom;
	if (fl & RF_DOMAIN) {
		p = varint_get(p, &v);
		if (unlikely(!p || v >= TRACE_MAX_DOMAINS))
			goto bad;
		dom = (uint32_t)v;
	}
	vcpu = r->vcpu;
	if (fl & RF_VCPU) {
		p = varint_get(p, &v);
		if (unlikely(!p || v >= TRACE_MAX_VCPUS))
			goto bad;
		vcpu = (uint32_t)v;
	}
	frame = r->frame;
	switch ((fl & RF_FRAME_MASK) >> RF_FRAME_SHIFT) {
	case FRAME_SAME:
		break;
	case FRAME_NEXT:
		frame++;
		break;
	case FRAME_DELTA:
		p = varint_get(p, &v);
		if (unlikely(!p))
			goto bad;
		frame += unzigzag(v);
		break;
	default:
		goto bad;
	}
	arg = r->arg;
	if (fl & RF_ARG) {
		p = varint_get(p, &arg);
		if (unlikely(!p))
			goto bad;
	}
	if (unlikely(arg < arg_ranges[type].min || arg > arg_ranges[type].max))
		goto bad;
	if (unlikely(p > r->end))
		goto bad;

	r->p = p;
	r->t = t;
	r->type = type;
	r->dom = dom;
	r->vcpu = vcpu;
	r->frame = frame;
	r->arg = arg;
	r->left--;
	r->count++;
	out->time_ns = t;
	out->frame = frame;
	out->arg = arg;
	out->domain = dom;
	out->vcpu = vcpu;
	out->type = (uint16_t)type;
	return 1;
bad:
	return rec_diagnose(r, rec);
}

static int reader_next(struct rec_source *s, struct trace_rec *out)
{
	struct reader *r = (struct reader *)s;
	const uint8_t *p = r->p, *rec = p;
	uint64_t dt, t;

	if (unlikely(!r->left))
		return reader_next_slow(r, out);
	p = varint_get(p, &dt);
	if (unlikely(!p))
		return rec_diagnose(r, rec);
	t = r->t + dt;
	if (unlikely(t < dt))
		return rec_diagnose(r, rec);
	switch (*p) {
#define F1(f) case f: return rec_decode(r, out, rec, p + 1, t, f);
#define F8(f) F1(f) F1(f + 1) F1(f + 2) F1(f + 3) F1(f + 4) F1(f + 5) F1(f + 6) F1(f + 7)
	F8(0x00) F8(0x08) F8(0x10) F8(0x20) F8(0x28) F8(0x30)
#undef F8
#undef F1
	default:   /* reserved bits, or frame mode 3 (0x18..0x1f, 0x38..0x3f) */
		return rec_diagnose(r, rec);
	}
}

static int reader_next_slow(struct reader *r, struct trace_rec *out)
{
	int ret;

	if (r->state == RD_ERROR)
		return -1;
	if (r->state == RD_EOF)
		return 0;
	ret = rd_chunk(r);
	if (ret <= 0)
		return ret;
	return reader_next(&r->src, out);
}

static void reader_close(struct rec_source *s)
{
	struct reader *r = (struct reader *)s;

	if (r->own_f && r->f)
		fclose(r->f);
	free(r->buf);
	free(r);
}

uint64_t trace_reader_offset(const struct rec_source *src)
{
	const struct reader *r = (const struct reader *)src;

	if (!src || src->next != reader_next)
		return 0;
	return r->left ? r->chunk_off : r->off;
}

static struct reader *reader_new(const char *name, char *err, size_t errlen)
{
	struct reader *r = trace_zalloc(sizeof(*r));

	if (r)
		r->buf = trace_zalloc(CHUNK_MAX_PAYLOAD + PAD);
	if (!r || !r->buf) {
		if (r)
			free(r);
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->src.next = reader_next;
	r->src.close = reader_close;
	r->p = r->end = r->buf;
	return r;
}

static struct rec_source *reader_start(struct reader *r, char *err, size_t errlen)
{
	if (rd_header(r)) {
		snprintf(err, errlen, "%s", r->src.err);
		reader_close(&r->src);
		return NULL;
	}
	return &r->src;
}

struct rec_source *trace_open(const char *path, char *err, size_t errlen)
{
	int is_stdin = !strcmp(path, "-");
	struct reader *r = reader_new(is_stdin ? "<stdin>" : path, err, errlen);

	if (!r)
		return NULL;
	if (is_stdin) {
		r->f = stdin;
	} else {
		r->f = fopen(path, "rb");
		if (!r->f) {
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
			reader_close(&r->src);
			return NULL;
		}
		r->own_f = 1;
	}
	return reader_start(r, err, errlen);
}

struct rec_source *trace_open_mem(const void *buf, size_t len, const char *name,
				  char *err, size_t errlen)
{
	struct reader *r = reader_new(name ? name : "<memory>", err, errlen);

	if (!r)
		return NULL;
	r->mem = buf;
	r->mem_len = len;
	return reader_start(r, err, errlen);
}

/* ---- digest -------------------------------------------------------------------------------- */
/*
 * memsim-digest64: a byte-order independent, non-cryptographic 64-bit hash of a file's
 * bytes (docs/trace-format.md, "Digest").  Each little-endian 64-bit word is folded in
 * with a multiply and a rotate; the tail and the length are folded in last and the result
 * goes through the splitmix64 finaliser.
 */
#define DG_SEED 0x6d656d73696d7431ULL
#define DG_K1 0x9e3779b97f4a7c15ULL
#define DG_K2 0xc2b2ae3d27d4eb4fULL

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t dg_word(uint64_t h, uint64_t w)
{
	return rotl64(h ^ (w * DG_K1), 29) * DG_K2;
}

static uint64_t dg_words(uint64_t h, const uint8_t *p, size_t nwords)
{
	size_t i;

	for (i = 0; i < nwords; i++)
		h = dg_word(h, get_le64(p + 8 * i));
	return h;
}

static uint64_t dg_finish(uint64_t h, const uint8_t *tail, size_t ntail, uint64_t total)
{
	uint64_t w = 0;
	size_t i;

	for (i = 0; i < ntail; i++)
		w |= (uint64_t)tail[i] << (8 * i);
	h = dg_word(h, w);
	h = dg_word(h, total);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

uint64_t trace_digest_mem(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t h = dg_words(DG_SEED, p, len / 8);

	return dg_finish(h, p + len / 8 * 8, len % 8, len);
}

/* The streaming form of the digest: bytes arrive in pieces of any size (rd_read). */
static void dg_update(struct reader *r, const uint8_t *p, size_t n)
{
	size_t k;

	r->dg_total += n;
	if (r->dg_ntail) {
		k = 8 - r->dg_ntail < n ? 8 - r->dg_ntail : n;
		memcpy(r->dg_tail + r->dg_ntail, p, k);
		r->dg_ntail += (unsigned)k;
		p += k;
		n -= k;
		if (r->dg_ntail < 8)
			return;
		r->dg_h = dg_word(r->dg_h, get_le64(r->dg_tail));
		r->dg_ntail = 0;
	}
	r->dg_h = dg_words(r->dg_h, p, n / 8);
	memcpy(r->dg_tail, p + n / 8 * 8, n % 8);
	r->dg_ntail = (unsigned)(n % 8);
}

/* Opens a trace file, which must be a regular file (open_regular()).  A trace is read twice, once for its digest (part of the run id, needed before the run)
 * and once to replay it: a FIFO or a device cannot be, and /dev/zero would never end. */
static FILE *open_trace_file(const char *path, char *err, size_t errlen, int *errp)
{
	struct stat sb;
	FILE *f;
	int fd = open_regular(path, &sb, err, errlen);

	if (fd < 0) {
		*errp = fd;
		if ((fd == -EINVAL || fd == -EISDIR) && errlen > 0) {   /* not a regular file */
			size_t used = strlen(err);

			snprintf(err + used, errlen - used, ": a trace is read twice, for its "
				 "digest and to replay it; copy it into a file first");
		}
		return NULL;
	}
	f = fdopen(fd, "rb");
	if (!f) {
		*errp = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

/* Reads the next chunk's header and payload without decoding it: 1, 0 at the end marker
 * (checked, and nothing may follow it), -1 with a message. */
static int scan_chunk(struct reader *r)
{
	uint8_t h[CHUNK_HDR];
	uint32_t nrec, plen;
	int rc;

	rc = rd_chunk_header(r, h, &plen);
	if (rc <= 0)
		return rc;
	nrec = get_le32(h + 4);
	if (nrec < 1 || nrec > CHUNK_MAX_RECS)
		return rd_fail(r, r->chunk_off + 4, "chunk record count %" PRIu32
			       " out of range [1, %u]", nrec, CHUNK_MAX_RECS);
	if (rd_exact(r, r->buf, plen, "a chunk payload"))
		return -1;
	r->chunks++;
	r->count += nrec;
	return 1;
}

int trace_file_scan(const char *path, uint64_t *digest, char *err, size_t errlen)
{
	struct reader *r;
	FILE *f;
	int ret = 0, rc;

	*digest = 0;
	f = open_trace_file(path, err, errlen, &ret);
	if (!f)
		return ret;
	r = reader_new(path, err, errlen);
	if (!r) {
		fclose(f);
		return -ENOMEM;
	}
	r->f = f;
	r->own_f = 1;
	r->digesting = 1;
	r->dg_h = DG_SEED;
	rc = rd_header(r);
	while (rc == 0 && (rc = scan_chunk(r)) == 1)
		rc = 0;
	if (rc < 0) {
		snprintf(err, errlen, "%s", r->src.err);
		ret = -EINVAL;
	} else {
		*digest = dg_finish(r->dg_h, r->dg_tail, r->dg_ntail, r->dg_total);
	}
	reader_close(&r->src);
	return ret;
}

int trace_file_digest(const char *path, uint64_t *digest, char *err, size_t errlen)
{
	enum { BUF = 1 << 16 };
	uint8_t *buf;
	uint64_t h = DG_SEED, total = 0;
	FILE *f;
	int ret = 0;

	*digest = 0;
	f = open_trace_file(path, err, errlen, &ret);
	if (!f)
		return ret;
	buf = trace_zalloc(BUF);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	for (;;) {
		/* fread fills the buffer except at the end, so only the last block has a tail */
		size_t got = fread(buf, 1, BUF, f);

		total += got;
		if (got < BUF) {
			if (ferror(f)) {
				ret = -(errno ? errno : EIO);
				snprintf(err, errlen, "%s: read error: %s", path, strerror(-ret));
				break;
			}
			h = dg_finish(dg_words(h, buf, got / 8), buf + got / 8 * 8, got % 8, total);
			*digest = h;
			break;
		}
		h = dg_words(h, buf, BUF / 8);
	}
	free(buf);
	fclose(f);
	return ret;
}

/* ---- writer ---------------------------------------------------------------------------- */
/*
 * States: OPEN (accepting records) -> closed (file renamed into place) or aborted (partial
 * file deleted).  A failed put moves to FAILED: further puts fail, close deletes the file
 * and returns the first error.  The file is written under "PATH.part-PID-N" and renamed to
 * PATH only after the end marker and the final header are on disk, so a PATH that exists is
 * always complete.
 */
struct trace_writer {
	FILE *f;
	int to_stdout;
	int failed;
	char *path, *tmp;
	char *dest;                  /* what is replaced: path, or where its links lead */
	uint8_t hdr[HDR_MAX];
	uint32_t hlen;
	uint8_t *buf;                /* chunk payload being built */
	uint32_t plen, nrec;
	uint64_t first_t;
	uint64_t t, frame, arg;      /* previous record in this chunk */
	uint32_t dom, vcpu;
	unsigned type;
	uint64_t last_t, count;
	uint32_t chunks;
	char err[512];
};

static int wr_fail(struct trace_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int wr_fail(struct trace_writer *w, const char *fmt, ...)
{
	va_list ap;

	if (w->failed)
		return -1;   /* keep the first error */
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	w->failed = 1;
	return -1;
}

static int wr_bytes(struct trace_writer *w, const void *p, size_t n)
{
	if (fwrite(p, 1, n, w->f) != n)
		return wr_fail(w, "%s: write error: %s", w->path, strerror(errno ? errno : EIO));
	return 0;
}

static int wr_flush_chunk(struct trace_writer *w)
{
	uint8_t h[CHUNK_HDR];

	if (!w->nrec)
		return 0;
	memcpy(h, CHUNK_MAGIC, 4);
	put_le32(h + 4, w->nrec);
	put_le32(h + 8, w->plen);
	put_le64(h + 12, w->first_t);
	put_le32(h + 20, crc_bytes(crc_bytes(0, h, 20), w->buf, w->plen));
	if (wr_bytes(w, h, CHUNK_HDR) || wr_bytes(w, w->buf, w->plen))
		return -1;
	w->chunks++;
	w->nrec = 0;
	w->plen = 0;
	return 0;
}

static void wr_header_crc(struct trace_writer *w)
{
	put_le32(w->hdr + w->hlen - 4, crc_bytes(0, w->hdr, w->hlen - 4));
}

static void wr_free(struct trace_writer *w)
{
	free(w->buf);
	free(w->path);
	free(w->tmp);
	free(w->dest);
	free(w);
}

struct trace_writer *trace_writer_open(const char *path, const struct trace_header *hdr,
				       char *err, size_t errlen)
{
	static unsigned tmp_seq;
	struct trace_writer *w;
	struct trace_header h = *hdr;
	unsigned i, pos;
	int fd = -1;

	if (h.page_size < PAGE_SIZE_MIN || h.page_size > PAGE_SIZE_MAX ||
	    (h.page_size & (h.page_size - 1))) {
		snprintf(err, errlen, "%s: page size %" PRIu32 " is not a power of two in [%u, %u]",
			 path, h.page_size, PAGE_SIZE_MIN, PAGE_SIZE_MAX);
		return NULL;
	}
	w = trace_zalloc(sizeof(*w));
	if (!w || !(w->buf = trace_zalloc(CHUNK_MAX_PAYLOAD + PAD)) || !(w->path = strdup(path))) {
		snprintf(err, errlen, "%s: out of memory", path);
		if (w)
			wr_free(w);
		return NULL;
	}
	memcpy(w->hdr, FILE_MAGIC, 8);
	put_le32(w->hdr + 8, TRACE_VERSION);
	put_le32(w->hdr + 16, h.page_size);
	put_le32(w->hdr + 20, 0);
	put_le64(w->hdr + 24, 0);   /* record count: written by close */
	pos = HDR_FIXED;
	for (i = 0; i < HDR_NSTR; i++) {
		size_t cap, len;
		char *s = hdr_str_field(&h, i, &cap);

		len = strnlen(s, cap);
		if (len == cap) {
			snprintf(err, errlen, "%s: header string '%s' is longer than %zu bytes",
				 path, hdr_str_names[i], cap - 1);
			wr_free(w);
			return NULL;
		}
		put_le16(w->hdr + pos, (uint16_t)(len + 1));
		memcpy(w->hdr + pos + 2, s, len + 1);
		pos += 2 + (unsigned)len + 1;
	}
	w->hlen = pos + 4;
	put_le32(w->hdr + 12, w->hlen);
	wr_header_crc(w);

	if (!strcmp(path, "-")) {
		w->to_stdout = 1;
		w->f = stdout;
	} else {
		char real[PATH_MAX];
		size_t n;

		/* devices, FIFOs, directories are refused; symlinks lead to the file replaced */
		if (out_resolve(path, real, sizeof(real), err, errlen)) {
			wr_free(w);
			return NULL;
		}
		n = strlen(real) + 48;
		w->dest = strdup(real);
		w->tmp = malloc(n);
		if (!w->tmp || !w->dest) {
			snprintf(err, errlen, "%s: out of memory", path);
			wr_free(w);
			return NULL;
		}
		do {
			snprintf(w->tmp, n, "%s.part-%ld-%u", real, (long)getpid(),
				 __atomic_fetch_add(&tmp_seq, 1, __ATOMIC_RELAXED));
			fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		} while (fd < 0 && errno == EEXIST);
		if (fd < 0 || !(w->f = fdopen(fd, "wb"))) {
			snprintf(err, errlen, "%s: cannot create: %s", w->tmp, strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(w->tmp);
			}
			wr_free(w);
			return NULL;
		}
	}
	if (wr_bytes(w, w->hdr, w->hlen)) {
		snprintf(err, errlen, "%s", w->err);
		trace_writer_abort(w);
		return NULL;
	}
	return w;
}

const char *trace_writer_error(const struct trace_writer *w)
{
	return w->failed ? w->err : NULL;
}

int trace_writer_put(struct trace_writer *w, const struct trace_rec *r)
{
	const char *why;
	uint8_t *p, *flags;
	unsigned fl = 0;

	if (unlikely(w->failed))
		return -1;
	if (unlikely((why = trace_rec_invalid(r)) != NULL))
		return wr_fail(w, "%s: record %" PRIu64 ": %s (type %u, domain %" PRIu32 ", vcpu %"
			       PRIu32 ", arg %" PRIu64 ")", w->path, w->count, why, r->type,
			       r->domain, r->vcpu, r->arg);
	if (unlikely(r->time_ns < w->last_t))
		return wr_fail(w, "%s: record %" PRIu64 ": time goes backwards (%" PRIu64
			       " ns after %" PRIu64 " ns)", w->path, w->count, r->time_ns, w->last_t);
	if (!w->nrec) {
		/* a chunk decodes on its own: the delta base starts from scratch */
		w->first_t = w->t = r->time_ns;
		w->type = 0;
		w->dom = w->vcpu = 0;
		w->frame = w->arg = 0;
	}
	p = varint_put(w->buf + w->plen, r->time_ns - w->t);
	flags = p++;
	if (r->type != w->type) {
		fl |= RF_TYPE;
		*p++ = (uint8_t)r->type;
	}
	if (r->domain != w->dom) {
		fl |= RF_DOMAIN;
		p = varint_put(p, r->domain);
	}
	if (r->vcpu != w->vcpu) {
		fl |= RF_VCPU;
		p = varint_put(p, r->vcpu);
	}
	if (r->frame == w->frame + 1) {
		fl |= FRAME_NEXT << RF_FRAME_SHIFT;
	} else if (r->frame != w->frame) {
		fl |= FRAME_DELTA << RF_FRAME_SHIFT;
		p = varint_put(p, zigzag(r->frame - w->frame));
	}
	if (r->arg != w->arg) {
		fl |= RF_ARG;
		p = varint_put(p, r->arg);
	}
	*flags = (uint8_t)fl;
	w->plen = (uint32_t)(p - w->buf);
	w->t = w->last_t = r->time_ns;
	w->type = r->type;
	w->dom = r->domain;
	w->vcpu = r->vcpu;
	w->frame = r->frame;
	w->arg = r->arg;
	w->nrec++;
	w->count++;
	if (w->nrec == CHUNK_MAX_RECS || w->plen > CHUNK_MAX_PAYLOAD - REC_MAX_BYTES)
		return wr_flush_chunk(w);
	return 0;
}

static void wr_discard(struct trace_writer *w)
{
	if (w->to_stdout) {
		fflush(stdout);
	} else if (w->f) {
		fclose(w->f);
		unlink(w->tmp);
	}
	w->f = NULL;
}

void trace_writer_abort(struct trace_writer *w)
{
	if (!w)
		return;
	wr_discard(w);
	wr_free(w);
}

int trace_writer_close(struct trace_writer *w, char *err, size_t errlen)
{
	uint8_t e[END_LEN];
	int ret = -1;

	if (w->failed)
		goto out;
	if (wr_flush_chunk(w))
		goto out;
	memcpy(e, END_MAGIC, 4);
	put_le32(e + 4, w->chunks);
	put_le64(e + 8, w->count);
	put_le32(e + 16, crc_bytes(0, e, 16));
	if (wr_bytes(w, e, END_LEN))
		goto out;
	if (w->to_stdout) {
		/* a stream cannot be rewound: the header keeps record_count 0 ("unknown") */
		if (fflush(stdout)) {
			wr_fail(w, "%s: write error: %s", w->path, strerror(errno));
			goto out;
		}
		ret = 0;
		goto out;
	}
	put_le64(w->hdr + 24, w->count);
	wr_header_crc(w);
	if (fseeko(w->f, 0, SEEK_SET) || wr_bytes(w, w->hdr, w->hlen))
		goto io;
	if (fflush(w->f) || fsync(fileno(w->f)))
		goto io;
	if (fclose(w->f)) {
		w->f = NULL;
		unlink(w->tmp);
		wr_fail(w, "%s: write error: %s", w->tmp, strerror(errno));
		goto out;
	}
	w->f = NULL;
	{
		char real[PATH_MAX], why[512];
		int r;

		/* the rule holds at the rename too: the target may have changed meanwhile */
		r = out_resolve(w->path, real, sizeof(real), why, sizeof(why));
		if (r || strcmp(real, w->dest)) {
			if (r)
				wr_fail(w, "%s", why);
			else
				wr_fail(w, "%s: changed while it was written (now %s)", w->path, real);
			unlink(w->tmp);
			goto out;
		}
	}
	if (rename(w->tmp, w->dest)) {
		wr_fail(w, "%s: cannot rename %s into place: %s", w->path, w->tmp, strerror(errno));
		unlink(w->tmp);
		goto out;
	}
	ret = 0;
	goto out;
io:
	wr_fail(w, "%s: write error: %s", w->tmp, strerror(errno ? errno : EIO));
out:
	if (ret)
		snprintf(err, errlen, "%s", w->err);
	if (w->f)
		wr_discard(w);
	wr_free(w);
	return ret;
}
