/* SPDX-License-Identifier: MIT */
/*
 * sim/outfile.h — how every memsim writer replaces an output file (docs/security.md, 2).
 *
 * A writer writes a temporary file beside its target and renames it into place, so a target
 * that exists is always complete.  The target must be a regular file or a path that does
 * not exist: a device, FIFO, socket or directory is refused (memsim never turns /dev/full
 * into a regular file).  A symbolic link is followed, link by link, to the name it finally
 * points at, and that file is replaced (the temporary file is made in its directory, so the
 * rename stays on one file system); the link itself is left as it is.
 */
#ifndef MEMSIM_SIM_OUTFILE_H
#define MEMSIM_SIM_OUTFILE_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

/* Returned by out_resolve and outfile_open when the target is not a file memsim replaces
 * (the caller exits 2: bad input). */
#define OUT_REFUSED (-2)

/*
 * The path a writer replaces for PATH: PATH, or the name its symbolic links finally point at
 * (relative links from the directory of the link).  That must be a regular file or not
 * exist.  0; OUT_REFUSED with "PATH: is a character device, not a regular file ..." in err;
 * -1 if PATH cannot be examined.
 */
int out_resolve(const char *path, char *real, size_t reallen, char *err, size_t errlen);

struct outfile {
	char path[PATH_MAX];       /* as the user gave it (for messages) */
	char real[PATH_MAX];       /* what is replaced */
	char tmp[PATH_MAX + 48];   /* REAL.part-PID-N, renamed to REAL by outfile_commit */
	FILE *f;
};

/* Resolves path and creates its temporary file.  0, OUT_REFUSED or -1, message in err. */
int outfile_open(struct outfile *o, const char *path, char *err, size_t errlen);
/* Flushes, syncs and closes the temporary file, checks the target again and renames the
 * file into place.  0, or OUT_REFUSED / -1 with a message; the temporary file is removed. */
int outfile_commit(struct outfile *o, char *err, size_t errlen);
/* Closes and removes the temporary file; the target is untouched.  Safe to call twice. */
void outfile_abort(struct outfile *o);
/* Replaces path with a copy of the file src (outfile_open + copy + outfile_commit). */
int outfile_copy(const char *src, const char *path, char *err, size_t errlen);

#endif
