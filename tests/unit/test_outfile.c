/* SPDX-License-Identifier: MIT */
/* tests/unit/test_outfile.c — the strings memsim hands gnuplot (gnuplot.h) and the rule by
 * which writers replace a file (outfile.h).  Files live in a mkdtemp directory. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gnuplot.h"
#include "outfile.h"
#include "test.h"

/* What gp_str (or gp_tic, gp_data_str) writes for val, in buf. */
static const char *written(int how, const char *val, char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");

	if (how == 0)
		gp_str(f, "v", val);
	else if (how == 1)
		gp_tic(f, "v", val);
	else
		gp_data_str(f, val);
	fclose(f);
	return buf;
}

TEST(gnuplot_strings_are_single_quoted_with_quotes_doubled)
{
	char b[256];

	CHECK(!strcmp(written(0, "a`touch x`$(y)@m\"\\", b, sizeof(b)),
		      "v = 'a`touch x`$(y)@m\"\\'\n"));
	CHECK(!strcmp(written(0, "it's", b, sizeof(b)), "v = 'it''s'\n"));
	CHECK(!strcmp(written(0, "", b, sizeof(b)), "v = ''\n"));
}

TEST(gnuplot_strings_splice_newlines_and_drop_other_controls)
{
	char b[256];

	CHECK(!strcmp(written(0, "a\nsystem \"x\"", b, sizeof(b)),
		      "v = 'a'.\"\\n\".'system \"x\"'\n"));
	CHECK(!strcmp(written(0, "a\rb\tc\x7f", b, sizeof(b)), "v = 'a b c '\n"));
}

TEST(tic_labels_double_the_percent_sign)
{
	char b[256];

	CHECK(!strcmp(written(1, "50%'", b, sizeof(b)), "v = '50%%'''\n"));
	CHECK(!strcmp(written(0, "50%", b, sizeof(b)), "v = '50%'\n"));
}

TEST(data_file_strings_cannot_end_their_field)
{
	char b[256];

	CHECK(!strcmp(written(2, "a\"b\\c\nd\te", b, sizeof(b)), "\"a'b/c\\nd e\""));
}

static char dir[64];

static const char *at(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

TEST(writers_accept_missing_and_regular_files_and_refuse_the_rest)
{
	char p[128], real[PATH_MAX], err[512];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/memsim-outfile-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	CHECK(out_resolve(at("new", p, sizeof(p)), real, sizeof(real), err, sizeof(err)) == 0);
	CHECK(!strcmp(real, p));
	f = fopen(at("reg", p, sizeof(p)), "w");
	CHECK(f && fclose(f) == 0);
	CHECK(out_resolve(p, real, sizeof(real), err, sizeof(err)) == 0);
	CHECK(mkfifo(at("fifo", p, sizeof(p)), 0600) == 0);
	CHECK(out_resolve(p, real, sizeof(real), err, sizeof(err)) == OUT_REFUSED);
	CHECK(strstr(err, "fifo: is a FIFO, not a regular file") != NULL);
	CHECK(out_resolve(dir, real, sizeof(real), err, sizeof(err)) == OUT_REFUSED);
	CHECK(strstr(err, "is a directory") != NULL);
	CHECK(out_resolve("", real, sizeof(real), err, sizeof(err)) == OUT_REFUSED);
}

TEST(symlinks_lead_to_the_file_replaced_relative_to_their_directory)
{
	char p[128], q[128], real[PATH_MAX], err[512];

	CHECK(symlink("reg", at("to-reg", p, sizeof(p))) == 0);
	CHECK(out_resolve(p, real, sizeof(real), err, sizeof(err)) == 0);
	CHECK(!strcmp(real, at("reg", q, sizeof(q))));
	CHECK(symlink("to-reg", at("to-to-reg", p, sizeof(p))) == 0);
	CHECK(out_resolve(p, real, sizeof(real), err, sizeof(err)) == 0);
	CHECK(!strcmp(real, at("reg", q, sizeof(q))));
	CHECK(symlink("nothing", at("dangling", p, sizeof(p))) == 0);
	CHECK(out_resolve(p, real, sizeof(real), err, sizeof(err)) == 0);
	CHECK(!strcmp(real, at("nothing", q, sizeof(q))));
	CHECK(symlink("fifo", at("to-fifo", p, sizeof(p))) == 0);
	CHECK(out_resolve(p, real, sizeof(real), err, sizeof(err)) == OUT_REFUSED);
	CHECK(strstr(err, "to-fifo: links to ") && strstr(err, "fifo, a FIFO"));
	CHECK(symlink("loop-b", at("loop-a", p, sizeof(p))) == 0);
	CHECK(symlink("loop-a", at("loop-b", q, sizeof(q))) == 0);
	CHECK(out_resolve(p, real, sizeof(real), err, sizeof(err)) == OUT_REFUSED);
	CHECK(strstr(err, "more than 40 symbolic links") != NULL);
}

TEST(a_commit_replaces_the_named_file_and_an_abort_leaves_it)
{
	char p[128], q[128], buf[16] = "", err[512];
	struct outfile o;
	FILE *f;

	CHECK(outfile_open(&o, at("to-reg", p, sizeof(p)), err, sizeof(err)) == 0);
	fputs("new", o.f);
	CHECK(outfile_commit(&o, err, sizeof(err)) == 0);
	f = fopen(at("reg", q, sizeof(q)), "r");
	CHECK(f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "new"));
	if (f)
		fclose(f);
	CHECK(outfile_open(&o, p, err, sizeof(err)) == 0);
	fputs("lost", o.f);
	outfile_abort(&o);
	outfile_abort(&o);
	f = fopen(q, "r");
	CHECK(f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "new"));
	if (f)
		fclose(f);
	{
		struct stat sb;

		CHECK(lstat(p, &sb) == 0 && S_ISLNK(sb.st_mode));
	}
	CHECK(outfile_open(&o, at("fifo", p, sizeof(p)), err, sizeof(err)) == OUT_REFUSED);
	CHECK(o.f == NULL);
}

TEST(cleanup_removes_the_temporary_directory)
{
	static const char *names[] = { "new", "reg", "fifo", "to-reg", "to-to-reg", "dangling",
				       "to-fifo", "loop-a", "loop-b", NULL };
	char p[128];
	int i;

	for (i = 0; names[i]; i++)
		unlink(at(names[i], p, sizeof(p)));
	CHECK(rmdir(dir) == 0);
}

int main(void)
{
	return test_main();
}
