/* The stack directory: making it, its tables and their sizes, removing it. */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

char *make_bench_dir(void)
{
	const char *base = getenv("BENCH_DIR");
	char *tmpl;

	if (!base || !*base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	tmpl = malloc(strlen(base) + 32);
	if (!tmpl)
		exit(2);
	sprintf(tmpl, "%s/reftable-bench-XXXXXX", base);
	if (!mkdtemp(tmpl))
		die_errno("mkdtemp", tmpl);
	return tmpl;
}

char *path_in(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);

	if (!p)
		exit(2);
	sprintf(p, "%s/%s", dir, name);
	return p;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Calls fn(path, arg) for each *.ref file of dir. */
/* The library's closer thread may remove a replaced table at any time:
 * a file listed but gone by the time it is opened is no table. */
int vanished(void)
{
	return errno == ENOENT;
}

void for_each_table_file(const char *dir,
				void (*fn)(const char *path, void *arg),
				void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		die_errno("opendir", dir);
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (!has_suffix(e->d_name, ".ref"))
			continue;
		p = path_in(dir, e->d_name);
		fn(p, arg);
		free(p);
	}
	closedir(d);
}

static void add_file_size(const char *path, void *arg)
{
	struct file_totals *t = arg;
	struct stat sb;

	if (stat(path, &sb) < 0) {
		if (vanished())
			return;
		die_errno("stat", path);
	}
	t->files++;
	t->bytes += (uint64_t)sb.st_size;
}

struct file_totals table_files(const char *dir)
{
	struct file_totals t = { 0, 0 };

	for_each_table_file(dir, add_file_size, &t);
	return t;
}

/*
 * The files of st's tables, once the closer thread has removed the
 * replaced ones it was handed (untimed; it waits at most a second): a
 * removal still queued is no table of the stack.
 */
struct file_totals stack_files(struct reftable_stack *st,
				      const char *dir)
{
	size_t listed = reftable_merged_table_count(reftable_stack_merged(st));
	const struct timespec pause = { 0, 1000 * 1000 };
	struct file_totals t = table_files(dir);
	int waited;

	for (waited = 0; t.files > listed && waited < 1000; waited++) {
		nanosleep(&pause, NULL);
		t = table_files(dir);
	}
	return t;
}

void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = path_in(dir, e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}
