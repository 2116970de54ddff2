/*
 * Opening a single table or a whole stack directory for reading, straight
 * from tables.list and without the stack API, so that `dump` can look at
 * a stack that the stack code itself might refuse (that is what it is for).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int path_is_dir(const char *path)
{
	struct stat st;
	if (stat(path, &st))
		return -1;
	return S_ISDIR(st.st_mode) ? 1 : 0;
}

/* The whole file at path, NUL-terminated; *len without the NUL. */
static char *read_whole_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	struct sbuf text = SBUF_INIT;

	if (!f)
		return NULL;
	if (sbuf_read_stream(&text, f) < 0) {
		int e = errno ? errno : EIO;

		fclose(f);
		sbuf_release(&text);
		errno = e;
		return NULL;
	}
	fclose(f);
	*len = text.len;
	return sbuf_detach(&text);
}

/* The library's own parser: the tool reads the names the stack reads, and
 * refuses what it refuses. */
int read_tables_list(const struct cli *cli, const char *dir,
		     struct strlist *names)
{
	char *path = path_join(dir, "tables.list");
	char **parsed = NULL, *data;
	size_t len = 0, n = 0;
	int err;

	data = read_whole_file(path, &len);
	if (!data) {
		int e = errno;

		cli_error(cli, 0, "%s: %s", path, strerror(e));
		free(path);
		return e == ENOENT ? REFTABLE_NOT_EXIST_ERROR
				   : REFTABLE_IO_ERROR;
	}
	err = reftable_tables_list_parse(data, len, path, &parsed, &n);
	if (err < 0)
		cli_error(cli, 0, "%s", reftable_error_detail());
	for (size_t i = 0; !err && i < n; i++)
		strlist_add(names, xstrdup(parsed[i]));
	reftable_tables_list_free(parsed, n);
	free(data);
	free(path);
	return err;
}

static int open_table(const struct cli *cli, const char *path,
		      struct reftable_table **out)
{
	int err = reftable_table_open(out, path);
	if (err < 0)
		return cli_lib_error(cli, err, "cannot open table %s", path);
	return 0;
}

static int open_dir(const struct cli *cli, const char *dir, struct opened *o)
{
	struct strlist names = { 0 };
	enum reftable_hash hash = REFTABLE_HASH_SHA1;
	int err, code = 0;

	err = read_tables_list(cli, dir, &names);
	if (err < 0) {
		strlist_release_owned(&names);
		return cli_exit_code(err);
	}
	o->is_dir = 1;
	o->tables = xmalloc((names.n ? names.n : 1) * sizeof(*o->tables));
	for (size_t i = 0; i < names.n && !code; i++) {
		char *path = path_join(dir, names.items[i]);
		code = open_table(cli, path, &o->tables[o->n]);
		if (!code)
			o->n++;
		free(path);
	}
	strlist_release_owned(&names);
	if (code)
		return code;
	if (o->n)
		hash = reftable_table_hash(o->tables[0]);
	err = reftable_merged_new(&o->merged, o->tables, o->n, hash);
	if (err < 0)
		return cli_lib_error(cli, err, "cannot merge the tables of %s",
				     dir);
	reftable_merged_suppress_deletions(o->merged, 1);
	return 0;
}

int open_path(const struct cli *cli, const char *path, struct opened *o)
{
	int kind = path_is_dir(path), code;

	memset(o, 0, sizeof(*o));
	if (kind < 0) {
		int e = errno;
		return cli_error(cli, EXIT_DATA, "%s: %s", path, strerror(e));
	}
	if (kind)
		return open_dir(cli, path, o);
	o->tables = xmalloc(sizeof(*o->tables));
	code = open_table(cli, path, &o->tables[0]);
	if (!code)
		o->n = 1;
	return code;
}

void opened_release(struct opened *o)
{
	if (o->merged)
		reftable_merged_free(o->merged);
	for (size_t i = 0; i < o->n; i++)
		reftable_table_decref(o->tables[i]);
	free(o->tables);
	memset(o, 0, sizeof(*o));
}
