/* SPDX-License-Identifier: MIT */
/* sim/outfile.c — see outfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "util.h"

#define OUT_MAX_LINKS 40	/* as the kernel's own limit on a path */

int out_resolve(const char *path, char *real, size_t reallen, char *err, size_t errlen)
{
	char cur[PATH_MAX], link[PATH_MAX], next[PATH_MAX];
	struct stat sb;
	unsigned hops;
	ssize_t n;

	if (!*path) {
		seterr(err, errlen, "an empty output path");
		return OUT_REFUSED;
	}
	if ((size_t)snprintf(cur, sizeof(cur), "%s", path) >= sizeof(cur)) {
		seterr(err, errlen, "%.64s...: path too long", path);
		return OUT_REFUSED;
	}
	for (hops = 0;; hops++) {
		if (lstat(cur, &sb)) {
			if (errno != ENOENT) {
				seterr(err, errlen, "%s: cannot examine: %s", path, strerror(errno));
				return -1;
			}
			break;	/* missing: it will be created */
		}
		if (S_ISREG(sb.st_mode))
			break;
		if (!S_ISLNK(sb.st_mode)) {
			if (hops)
				seterr(err, errlen, "%s: links to %s, %s, not a regular file "
				       "(memsim writes only regular files)", path, cur,
				       file_kind(sb.st_mode));
			else
				seterr(err, errlen, "%s: is %s, not a regular file (memsim writes "
				       "only regular files)", path, file_kind(sb.st_mode));
			return OUT_REFUSED;
		}
		if (hops == OUT_MAX_LINKS) {
			seterr(err, errlen, "%s: more than %d symbolic links", path, OUT_MAX_LINKS);
			return OUT_REFUSED;
		}
		n = readlink(cur, link, sizeof(link) - 1);
		if (n < 0) {
			seterr(err, errlen, "%s: cannot read link %s: %s", path, cur, strerror(errno));
			return -1;
		}
		link[n] = 0;
		if (link[0] == '/' || !strchr(cur, '/')) {
			snprintf(next, sizeof(next), "%s", link);
		} else {
			/* relative to the directory holding the link */
			int dl = (int)(strrchr(cur, '/') - cur);

			if ((size_t)snprintf(next, sizeof(next), "%.*s/%s", dl, cur, link) >=
			    sizeof(next)) {
				seterr(err, errlen, "%s: link target too long", path);
				return OUT_REFUSED;
			}
		}
		memcpy(cur, next, sizeof(cur));
	}
	if ((size_t)snprintf(real, reallen, "%s", cur) >= reallen) {
		seterr(err, errlen, "%s: path too long", path);
		return OUT_REFUSED;
	}
	return 0;
}

int outfile_open(struct outfile *o, const char *path, char *err, size_t errlen)
{
	static unsigned seq;
	int rc, fd;

	memset(o, 0, sizeof(*o));
	snprintf(o->path, sizeof(o->path), "%s", path);
	rc = out_resolve(path, o->real, sizeof(o->real), err, errlen);
	if (rc)
		return rc;
	do {
		snprintf(o->tmp, sizeof(o->tmp), "%s.part-%ld-%u", o->real, (long)getpid(),
			 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
		fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	} while (fd < 0 && errno == EEXIST);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		seterr(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		o->tmp[0] = 0;
		return -1;
	}
	return 0;
}

void outfile_abort(struct outfile *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = 0;
}

int outfile_commit(struct outfile *o, char *err, size_t errlen)
{
	char again[PATH_MAX];
	int bad, rc;

	bad = ferror(o->f) | fflush(o->f) | fsync(fileno(o->f));
	bad |= fclose(o->f);
	o->f = NULL;
	if (bad) {
		seterr(err, errlen, "%s: write error: %s", o->path, strerror(errno ? errno : EIO));
		outfile_abort(o);
		return -1;
	}
	/* what was there may have changed while we wrote: the rule holds at the rename */
	rc = out_resolve(o->path, again, sizeof(again), err, errlen);
	if (!rc && strcmp(again, o->real)) {
		seterr(err, errlen, "%s: changed while it was written (now %s)", o->path, again);
		rc = OUT_REFUSED;
	}
	if (!rc && rename(o->tmp, o->real)) {
		seterr(err, errlen, "%s: cannot rename %s into place: %s", o->path, o->tmp,
		       strerror(errno));
		rc = -1;
	}
	if (rc) {
		outfile_abort(o);
		return rc;
	}
	o->tmp[0] = 0;
	return 0;
}

int outfile_copy(const char *src, const char *path, char *err, size_t errlen)
{
	struct outfile o;
	char buf[65536];
	size_t n;
	FILE *in;
	int rc;

	rc = outfile_open(&o, path, err, errlen);
	if (rc)
		return rc;
	in = fopen(src, "rb");
	if (!in) {
		seterr(err, errlen, "%s: cannot read: %s", src, strerror(errno));
		outfile_abort(&o);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, o.f) != n)
			break;
	if (ferror(in) || n) {
		seterr(err, errlen, "%s: cannot copy %s: %s", path, src, strerror(errno ? errno : EIO));
		fclose(in);
		outfile_abort(&o);
		return -1;
	}
	fclose(in);
	return outfile_commit(&o, err, errlen);
}
