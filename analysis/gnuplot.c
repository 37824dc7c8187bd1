/* SPDX-License-Identifier: MIT */
/* analysis/gnuplot.c — see gnuplot.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gnuplot.h"
#include "plot.h"
#include "util.h"

static void gp_value(FILE *f, const char *val, bool tic)
{
	fputc('\'', f);
	for (; *val; val++) {
		unsigned char c = (unsigned char)*val;

		if (c == '\'')
			fputs("''", f);
		else if (c == '\n')
			fputs("'.\"\\n\".'", f);	/* a fixed double-quoted newline, nothing else */
		else if (c < 0x20 || c == 0x7f)
			fputc(' ', f);
		else if (c == '%' && tic)
			fputs("%%", f);
		else
			fputc(c, f);
	}
	fputc('\'', f);
}

void gp_str(FILE *f, const char *var, const char *val)
{
	fprintf(f, "%s = ", var);
	gp_value(f, val, false);
	fputc('\n', f);
}

void gp_tic(FILE *f, const char *var, const char *val)
{
	fprintf(f, "%s = ", var);
	gp_value(f, val, true);
	fputc('\n', f);
}

void gp_data_str(FILE *f, const char *val)
{
	fputc('"', f);
	for (; *val; val++) {
		unsigned char c = (unsigned char)*val;

		if (c == '"')
			fputc('\'', f);
		else if (c == '\\')
			fputc('/', f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c == 0x7f)
			fputc(' ', f);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* A path for gnuplot: absolute, or made ./-relative so that it cannot start with '<' or '|'
 * (gnuplot opens those as pipes through a shell); one with control characters is refused. */
static int gp_path(char *buf, size_t len, const char *path)
{
	const char *p;

	for (p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	if ((size_t)snprintf(buf, len, "%s%s", path[0] == '/' ? "" : "./", path) >= len)
		return -1;
	return 0;
}

void gp_cleanup(struct gp *g)
{
	DIR *d;
	struct dirent *e;
	char p[PATH_MAX + 256];

	if (g->pre)
		fclose(g->pre);
	if (g->dat)
		fclose(g->dat);
	g->pre = g->dat = NULL;
	outfile_abort(&g->out);
	if (!g->dir[0])
		return;
	/* only memsim and gnuplot write here; remove whatever they left */
	d = opendir(g->dir);
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", g->dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(g->dir);
	g->dir[0] = 0;
}

int gp_begin(struct gp *g, const char *out, const char *keep_data, unsigned width,
	     unsigned height, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	const char *ext = out ? strrchr(out, '.') : NULL;
	char dir[PATH_MAX - 64], adir[PATH_MAX], real[PATH_MAX];
	int rc;

	memset(g, 0, sizeof(*g));
	if (!ext || (strcmp(ext, ".png") && strcmp(ext, ".svg"))) {
		seterr(err, errlen, "-o %s: give an output file ending in .png or .svg",
		       out ? out : "(missing)");
		return 2;
	}
	if (gp_path(adir, sizeof(adir), plot_analysis_dir())) {
		seterr(err, errlen, "%s: the analysis directory's name has control characters",
		       plot_analysis_dir());
		return 1;
	}
	if (keep_data) {
		rc = out_resolve(keep_data, real, sizeof(real), err, errlen);
		if (rc)
			return rc == OUT_REFUSED ? 2 : 1;
		g->keep_data = keep_data;
	}
	/* the output must be writable before gnuplot is asked (its message is obscure) */
	rc = outfile_open(&g->out, out, err, errlen);
	if (rc)
		return rc == OUT_REFUSED ? 2 : 1;
	snprintf(dir, sizeof(dir), "%s/memsim-plot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		seterr(err, errlen, "%s: cannot make a temporary directory: %s", dir, strerror(errno));
		gp_cleanup(g);
		return 1;
	}
	if (gp_path(g->dir, sizeof(g->dir), dir)) {
		seterr(err, errlen, "%s: the temporary directory's name has control characters",
		       dir);
		rmdir(dir);
		gp_cleanup(g);
		return 1;
	}
	snprintf(g->prelude, sizeof(g->prelude), "%s/prelude.gp", g->dir);
	snprintf(g->errf, sizeof(g->errf), "%s/gnuplot.err", g->dir);
	snprintf(g->data, sizeof(g->data), "%s/data.dat", g->dir);
	snprintf(g->img, sizeof(g->img), "%s/picture%s", g->dir, ext);
	g->pre = fopen(g->prelude, "w");
	g->dat = fopen(g->data, "w");
	if (!g->pre || !g->dat) {
		seterr(err, errlen, "%s: cannot write: %s", !g->pre ? g->prelude : g->data,
		       strerror(errno));
		gp_cleanup(g);
		return 1;
	}
	fprintf(g->pre, "# written by memsim\n");
	gp_str(g->pre, "adir", adir);
	gp_str(g->pre, "termtype", !strcmp(ext, ".svg") ? "svg" : "pngcairo");
	gp_str(g->pre, "outfile", g->img);
	gp_str(g->pre, "datafile", g->data);
	fprintf(g->pre, "width = %u\nheight = %u\nlogx = 0\nlogy = 0\n", width ? width : 900,
		height ? height : 560);
	return 0;
}

/* The last line of gnuplot's stderr that says something, or "". */
static void gp_complaint(const char *path, char *buf, size_t len)
{
	FILE *ef = fopen(path, "r");
	char line[512];

	buf[0] = 0;
	while (ef && fgets(line, sizeof(line), ef))
		if (strspn(line, " ^\t\n") != strlen(line))
			snprintf(buf, len, "%s", line);
	if (ef)
		fclose(ef);
	buf[strcspn(buf, "\n")] = 0;
}

int gp_run(struct gp *g, const char *script, bool quiet, char *err, size_t errlen)
{
	const char *bin = getenv("MEMSIM_GNUPLOT");
	char path[PATH_MAX], adir[PATH_MAX - 64], last[512];
	struct stat sb;
	int status, fd, rc;
	pid_t pid;
	FILE *in;

	if (gp_path(adir, sizeof(adir), plot_analysis_dir()))
		adir[0] = 0;
	snprintf(path, sizeof(path), "%s/%s", adir, script);
	if (access(path, R_OK)) {
		seterr(err, errlen, "%s: cannot read: %s (set MEMSIM_ANALYSIS)", path, strerror(errno));
		return 1;
	}
	rc = fclose(g->pre) | fclose(g->dat);
	g->pre = g->dat = NULL;
	if (rc) {
		seterr(err, errlen, "%s: write error", g->dir);
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		seterr(err, errlen, "fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		fd = open(g->errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0)
			dup2(fd, 2);
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		execlp(bin && *bin ? bin : "gnuplot", "gnuplot", g->prelude, path, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			seterr(err, errlen, "waitpid: %s", strerror(errno));
			return 1;
		}
	if (g->keep_data && (rc = outfile_copy(g->data, g->keep_data, err, errlen)))
		return rc == OUT_REFUSED ? 2 : 1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		seterr(err, errlen, "cannot run %s (install gnuplot-nox: make deps)",
		       bin && *bin ? bin : "gnuplot");
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) || stat(g->img, &sb) || !sb.st_size) {
		gp_complaint(g->errf, last, sizeof(last));
		seterr(err, errlen, "gnuplot failed on %s: %s", path, *last ? last : "no output");
		return 1;
	}
	if (!quiet) {
		FILE *ef = fopen(g->errf, "r");

		while (ef && fgets(last, sizeof(last), ef))
			if (strstr(last, "warning"))
				fprintf(stderr, "memsim plot: gnuplot: %s", last);
		if (ef)
			fclose(ef);
	}
	/* the picture is complete: put it in place of the old one in one rename */
	in = fopen(g->img, "rb");
	if (!in) {
		seterr(err, errlen, "%s: cannot read: %s", g->img, strerror(errno));
		return 1;
	}
	{
		char buf[65536];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), in)) > 0 && fwrite(buf, 1, n, g->out.f) == n)
			;
		rc = ferror(in) || ferror(g->out.f);
		fclose(in);
	}
	if (rc) {
		seterr(err, errlen, "%s: write error", g->out.path);
		return 1;
	}
	rc = outfile_commit(&g->out, err, errlen);
	return rc == OUT_REFUSED ? 2 : rc ? 1 : 0;
}
