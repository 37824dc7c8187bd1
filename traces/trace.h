/* SPDX-License-Identifier: MIT */
/*
 * traces/trace.h — trace records, the v1 file format reader/writer, and record sources.
 *
 * The on-disk format is specified in docs/trace-format.md.  Everything that produces
 * records (a file reader, a synthetic generator, the recorder's converter) is a
 * `struct rec_source`, so the simulator replays a file and a generated scenario the same way
 * and in constant memory.
 */
#ifndef MEMSIM_TRACES_TRACE_H
#define MEMSIM_TRACES_TRACE_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#define TRACE_VERSION 1

/*
 * Record types.  Values are part of the file format: append only.
 * `frame` and `arg` are interpreted per type as documented on each line.
 */
enum trace_type {
	TR_DOMAIN_CREATE = 1,  /* domain created; arg = number of vCPUs */
	TR_DOMAIN_DESTROY = 2, /* domain destroyed (relinquish all its memory) */
	TR_PAGE_ALLOC = 3,     /* frame = gfn; arg = order */
	TR_PAGE_FREE = 4,      /* frame = gfn; arg = order */
	TR_PAGE_WRITE = 5,     /* frame = gfn written (a CoW break if the gfn is shared) */
	TR_PAGE_DIGEST = 6,    /* frame = gfn; arg = 64-bit content digest (sharing candidate) */
	TR_SHARE = 7,          /* frame = gfn of `domain` now backed by shared frame `arg` */
	TR_UNSHARE = 8,        /* frame = gfn of `domain` unshared (explicit CoW break) */
	TR_PT_ALLOC = 9,       /* frame = gfn of a new page-table page; arg = level (1 = leaf) */
	TR_PT_FREE = 10,       /* frame = gfn of a freed page-table page; arg = level */
	TR_CR3_LOAD = 11,      /* frame = gfn of the root page table loaded on `vcpu` */
	TR_PT_ACCESS = 12,     /* frame = gfn of a page-table page walked; arg = accessed bit */
	TR_SP_MAP = 13,        /* frame = first gfn of a 2 MiB superpage mapped */
	TR_SP_UNMAP = 14,      /* frame = first gfn of a 2 MiB superpage unmapped */
	TR_SP_MARK = 15,       /* frame = first gfn of a superpage the guest marks */
	TR_SP_UNMARK = 16,     /* frame = first gfn of a superpage the guest unmarks */
	TR_FORK = 17,          /* process fork in `domain`; arg = child address-space id */
	TR_PAGE_FAULT = 18,    /* frame = gfn faulted on; arg = 1 if write */
	TR_HINT_UNUSED = 19,   /* frame = gfn the guest declares unused; arg = order */
	TR_HINT_STABLE = 20,   /* frame = gfn the guest declares stable again; arg = order */
	TR_CTX_SWITCH = 21,    /* context switch on `vcpu`; arg = next task id */
	TR__MAX_TYPE = 21
};

const char *trace_type_name(unsigned type);      /* "page_alloc", ... or NULL */
int trace_type_from_name(const char *name);      /* -1 if unknown */

/*
 * Range limits a valid record respects (checked by the writer and the reader; see
 * docs/trace-format.md, "Record validity").
 */
#define TRACE_MAX_DOMAINS (1u << 20)   /* domain < TRACE_MAX_DOMAINS */
#define TRACE_MAX_VCPUS 4096u          /* vcpu < TRACE_MAX_VCPUS */
#define TRACE_MAX_ORDER 40u            /* page orders (alloc/free/hint) */
#define TRACE_MAX_PT_LEVEL 5u          /* page-table levels 1..5 */

struct trace_rec {
	uint64_t time_ns;  /* non-decreasing within a trace */
	uint64_t frame;
	uint64_t arg;
	uint32_t domain;
	uint32_t vcpu;
	uint16_t type;     /* enum trace_type */
};

/* Provenance header.  Strings are NUL-terminated, at most TRACE_STR_MAX-1 bytes. */
#define TRACE_STR_MAX 256
struct trace_header {
	uint32_t version;
	uint32_t page_size;          /* bytes, power of two, 4096 usually */
	uint64_t record_count;       /* filled in by the writer when it closes */
	char source[TRACE_STR_MAX];  /* "synthetic:one-frame", "qemu-record", ... */
	char kernel[TRACE_STR_MAX];
	char workload[TRACE_STR_MAX];
	char recorder[TRACE_STR_MAX]; /* recorder or generator name and version */
	char qemu[TRACE_STR_MAX];
	char date[TRACE_STR_MAX];     /* ISO 8601 UTC */
	char params[TRACE_STR_MAX * 4]; /* free-form "key=value ..." (generator params, seed) */
};

/* ---- record sources ----------------------------------------------------------------- */
/*
 * next(): 1 and *out filled, 0 at the end, -1 on error (message in err[]).
 * Sources must deliver records with non-decreasing time_ns.
 */
struct rec_source {
	int (*next)(struct rec_source *src, struct trace_rec *out);
	void (*close)(struct rec_source *src);
	struct trace_header hdr;     /* provenance of what is produced */
	char err[512];               /* "FILE: offset N: what is wrong" on error */
};

/* NULL if *r is a valid record (type, ranges, per-type argument), else what is wrong. */
const char *trace_rec_invalid(const struct trace_rec *r);

static inline int rec_source_next(struct rec_source *s, struct trace_rec *r) { return s->next(s, r); }
static inline void rec_source_close(struct rec_source *s) { if (s) s->close(s); }

/* ---- v1 file reader ----------------------------------------------------------------- */
/*
 * Opens and validates the header.  On failure returns NULL and writes
 * "FILE: offset N: what is wrong" into err.  Streaming: memory does not grow with the file.
 */
struct rec_source *trace_open(const char *path, char *err, size_t errlen);
/* Byte offset in the file of the next unread record's chunk (for messages). */
uint64_t trace_reader_offset(const struct rec_source *src);
/* Same reader over a memory buffer (used by the fuzzer; `name` appears in messages). */
struct rec_source *trace_open_mem(const void *buf, size_t len, const char *name,
				  char *err, size_t errlen);

/* 64-bit digest of a whole file's bytes (provenance: trace_digest).  Regular files only
 * (a FIFO or a device is refused without blocking).  Returns 0, or -errno with a message in
 * err (and *digest = 0). */
int trace_file_digest(const char *path, uint64_t *digest, char *err, size_t errlen);
/*
 * The same digest, computed while checking what can be checked without decoding: the whole
 * header first (so a file that is no trace costs a few bytes, not a full read), then each
 * chunk's magic, record count and payload length, and the end marker, with nothing after it.
 * Chunk CRCs and records are left to the replay.  Regular files only.  0, or -errno and
 * "FILE: offset N: what is wrong" in err.
 */
int trace_file_scan(const char *path, uint64_t *digest, char *err, size_t errlen);
/* The same digest over a memory buffer. */
uint64_t trace_digest_mem(const void *buf, size_t len);
/* Allocations made by the trace reader/writer since start (tests check constant memory). */
uint64_t trace_alloc_count(void);

/* ---- v1 file writer ----------------------------------------------------------------- */
struct trace_writer;
struct trace_writer *trace_writer_open(const char *path, const struct trace_header *hdr,
				       char *err, size_t errlen);
/* Records must come with non-decreasing time; returns 0 or -1 (message from
 * trace_writer_error(); the writer is then failed and close/abort remove the file). */
int trace_writer_put(struct trace_writer *w, const struct trace_rec *r);
const char *trace_writer_error(const struct trace_writer *w);
/* Flushes the last chunk, writes the record count into the header, closes. 0 or -1. */
int trace_writer_close(struct trace_writer *w, char *err, size_t errlen);
void trace_writer_abort(struct trace_writer *w);  /* closes and deletes the partial file */

/* ---- synthetic scenarios ------------------------------------------------------------ */
/*
 * A scenario generator takes named integer parameters and a seed and yields a record
 * source.  Registered in traces/scenarios.c; models add their scenarios there.
 */
struct scenario_param {
	const char *name;
	uint64_t def, min, max;
	const char *doc;
};

struct scenario {
	const char *name;
	const char *doc;
	const struct scenario_param *params;   /* terminated by a NULL name */
	/* values[] is indexed like params[]; returns NULL and fills err on failure */
	struct rec_source *(*open)(const uint64_t *values, uint64_t seed, char *err, size_t errlen);
	/* Optional, O(1): the bytes `model` is expected to hold at its peak replaying the
	 * scenario with these values (saturating at UINT64_MAX; 0: no estimate for that model),
	 * and in `what` what was counted ("1e+16 tuples x 32 B").  Checked against --max-mem
	 * before the run starts (sim/memlimit.h). */
	uint64_t (*mem_estimate)(const uint64_t *values, const char *model, char *what,
				 size_t whatlen);
};

const struct scenario *scenario_find(const char *name);
const struct scenario *const *scenario_list(void);  /* NULL-terminated */

#endif /* MEMSIM_TRACES_TRACE_H */
