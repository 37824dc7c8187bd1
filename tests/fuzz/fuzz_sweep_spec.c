/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_sweep_spec.c — libFuzzer target for the sweep spec parser (sim/sweep.c, sim/sweep_expr.c).
 *
 * The input is read as a sweep file: one NAME=SPEC or "if COND" per line.  The first line is
 * also parsed and evaluated as a bare expression.  A spec that parses is finished against a
 * resolver knowing a few fixed parameters (a, b, c integers; k a choice) and its first points
 * are expanded.  Beyond "no crash, no sanitizer report", it traps when:
 *  - an error message is empty or spans more than one line;
 *  - a point does not carry one NAME=VALUE per non-policy axis, or carries a value that is
 *    not "NAME=" followed by text;
 *  - the point count is not reps x accepted combinations, or a point past the end succeeds.
 * Sweeps are kept small (at most 20000 values and combinations) so each input runs fast.
 */
#include <errno.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_VALUES 20000

static int resolve(void *ctx, const char *name, uint64_t *v)
{
	(void)ctx;
	if (!strcmp(name, "a") || !strcmp(name, "b") || !strcmp(name, "c")) {
		*v = (uint64_t)(name[0] - 'a' + 3);
		return 0;
	}
	return strcmp(name, "k") ? -ENOENT : -EINVAL;
}

static void check_message(const char *err)
{
	if (!err[0] || strchr(err, '\n'))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sweep sw;
	char *text, *line, *save = NULL, err[1024];
	size_t nvalues = 0, combos = 1, i, lines = 0;
	bool ok = true;

	if (size > 4096)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	for (i = 0; i < size; i++)
		if (!text[i])
			text[i] = ' ';

	sweep_init(&sw);
	sw.reps = 1 + (size % 3);
	for (line = strtok_r(text, "\n", &save); line && lines < 40;
	     line = strtok_r(NULL, "\n", &save), lines++) {
		int rc;

		if (lines == 0) {
			struct sweep_expr *e;
			uint64_t v;

			if (sweep_expr_parse(line, &e, err, sizeof(err)) == 0) {
				if (sweep_expr_eval(e, resolve, NULL, &v, err, sizeof(err)))
					check_message(err);
				sweep_expr_free(e);
			} else {
				check_message(err);
			}
		}
		if (!strncmp(line, "if ", 3))
			rc = sweep_add_cond(&sw, line + 3, "fuzz:1", err, sizeof(err));
		else
			rc = sweep_add(&sw, line, lines & 1 ? "fuzz:2" : NULL, err, sizeof(err));
		if (rc) {
			check_message(err);
			ok = false;
			break;
		}
		if (strncmp(line, "if ", 3))
			nvalues += sw.axes[sw.naxes - 1].nvalues;
		if (nvalues > FUZZ_MAX_VALUES) {
			ok = false;
			break;
		}
	}
	for (i = 0; ok && i < sw.naxes; i++) {
		if (sw.axes[i].nvalues && combos > FUZZ_MAX_VALUES / sw.axes[i].nvalues)
			ok = false;
		else if (sw.axes[i].nvalues)
			combos *= sw.axes[i].nvalues;
	}
	if (ok && sweep_finish(&sw, resolve, NULL, err, sizeof(err)) == 0) {
		struct sweep_point pt;
		size_t expect = 0;
		char buf[8192];
		FILE *f;

		for (i = 0; i < sw.naxes; i++)
			expect += strcmp(sw.axes[i].name, "policy") || sw.axes[i].expr;
		if (sw.npoints != sw.reps * (sw.nconds ? sw.ncombos : combos))
			__builtin_trap();
		for (i = 0; i < sw.npoints && i < 200; i++) {
			size_t k;

			if (sweep_point(&sw, i, &pt, err, sizeof(err)))
				__builtin_trap();	/* finish checked every point */
			if (pt.nsets != expect || pt.rep != i % sw.reps)
				__builtin_trap();
			for (k = 0; k < pt.nsets; k++) {
				const char *eq = strchr(pt.sets[k], '=');

				if (!eq || eq == pt.sets[k] || !eq[1])
					__builtin_trap();
			}
		}
		if (sweep_point(&sw, sw.npoints, &pt, err, sizeof(err)) == 0)
			__builtin_trap();
		f = fmemopen(buf, sizeof(buf), "w");
		if (f) {
			sweep_write_axes_json(&sw, f);
			fclose(f);
		}
	} else if (ok) {
		check_message(err);
	}
	sweep_free(&sw);
	free(text);
	return 0;
}
