/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_trace_reader.c — libFuzzer target for the v1 trace reader.
 *
 * Each input is read twice through trace_open_mem(): as given, and with every CRC it
 * appears to contain recomputed (header, chunks, end marker), so that mutations get past
 * the checksums and reach the header-string, chunk and record decoders.  Beyond "no crash,
 * no sanitizer report", it traps when the reader:
 *  - hands out a record that trace_rec_invalid() refuses or whose time goes backwards;
 *  - reports an error not shaped "NAME: offset N: ..." with N inside the input, or its
 *    "internal error" fallback (the fast and slow decoders disagree);
 *  - accepts an input whose header fields break the documented rules;
 *  - accepts an input without consuming all of it.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void check_message(const char *err, size_t size)
{
	unsigned long long off;

	if (sscanf(err, "fuzz: offset %llu: ", &off) != 1 || off > size)
		__builtin_trap();
	if (strstr(err, "internal error"))
		__builtin_trap();
}

static int str_ok(const char *s, size_t cap)
{
	return memchr(s, 0, cap) != NULL;
}

static void read_all(const uint8_t *d, size_t n)
{
	char err[512];
	struct rec_source *s = trace_open_mem(d, n, "fuzz", err, sizeof(err));
	struct trace_rec r;
	uint64_t t = 0, count = 0;
	int ret;

	if (!s) {
		check_message(err, n);
		return;
	}
	if (s->hdr.version != TRACE_VERSION || !s->hdr.page_size ||
	    (s->hdr.page_size & (s->hdr.page_size - 1)) ||
	    !str_ok(s->hdr.source, sizeof(s->hdr.source)) ||
	    !str_ok(s->hdr.params, sizeof(s->hdr.params)))
		__builtin_trap();
	while ((ret = rec_source_next(s, &r)) == 1) {
		if (r.time_ns < t || trace_rec_invalid(&r))
			__builtin_trap();
		t = r.time_ns;
		count++;
	}
	if (ret < 0) {
		check_message(s->err, n);
		if (rec_source_next(s, &r) != -1)       /* errors are sticky */
			__builtin_trap();
	} else {
		if (s->hdr.record_count && s->hdr.record_count != count)
			__builtin_trap();
		if (trace_reader_offset(s) != n)        /* accepted: every byte was read */
			__builtin_trap();
		if (rec_source_next(s, &r) != 0)
			__builtin_trap();
	}
	rec_source_close(s);
}

/* Recomputes the CRCs where the layout says they are, as far as the layout holds. */
static void fix_crcs(uint8_t *d, size_t n)
{
	size_t pos, hlen;

	if (n < 16)
		return;
	hlen = le32(d + 12);
	if (hlen < 8 || hlen > n)
		return;
	put32(d + hlen - 4, (uint32_t)crc32(0, d, (uInt)(hlen - 4)));
	pos = hlen;
	while (pos + 24 <= n && !memcmp(d + pos, "CHNK", 4)) {
		size_t plen = le32(d + pos + 8);
		uint32_t c;

		if (plen > n - pos - 24)
			return;
		c = (uint32_t)crc32(0, d + pos, 20);
		c = (uint32_t)crc32(c, d + pos + 24, (uInt)plen);
		put32(d + pos + 20, c);
		pos += 24 + plen;
	}
	if (pos + 20 <= n && !memcmp(d + pos, "TEND", 4))
		put32(d + pos + 16, (uint32_t)crc32(0, d + pos, 16));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	read_all(data, size);
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fix_crcs(copy, size);
	read_all(copy, size);
	free(copy);
	return 0;
}
