/*
 * The input of `reftable write`: lines of the records text format read
 * into memory, then fed to a writer. Apart from the command so that the
 * fuzz targets (t/fuzz) can run it on bytes without a process.
 *
 * The whole input is parsed before the writer starts, because the
 * update-index limits must be set before the first record and may have
 * to be computed from the records when no `table` line gives them.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void records_release(struct records_input *in)
{
	for (size_t i = 0; i < in->n; i++)
		text_line_release(&in->lines[i]);
	free(in->lines);
	free(in->linenos);
	memset(in, 0, sizeof(*in));
}

static void add_line(struct records_input *in, struct text_line *l,
		     unsigned lineno)
{
	if (in->n == in->cap) {
		in->cap = in->cap ? 2 * in->cap : 256;
		in->lines = xrealloc(in->lines, in->cap * sizeof(*in->lines));
		in->linenos =
			xrealloc(in->linenos, in->cap * sizeof(*in->linenos));
	}
	in->lines[in->n] = *l;
	in->linenos[in->n++] = lineno;
}

/* The table line sets the limits; it must come first. Exit code. */
static int take_table_line(const struct cli *cli, const char *fname,
			   unsigned lineno, struct text_line *l,
			   struct records_input *in)
{
	int code = 0;

	if (in->have_limits || in->n) {
		code = cli_usage_error(cli, "%s:%u: a table line must come "
					    "first, and only once",
				       fname, lineno);
	} else {
		in->have_limits = 1;
		in->min_ui = l->min_ui;
		in->max_ui = l->max_ui;
	}
	text_line_release(l);
	return code;
}

/* One line without its newline; empty lines are skipped. Exit code. */
static int read_line(const struct cli *cli, const char *fname,
		     unsigned lineno, char *buf, size_t len, size_t hash_size,
		     struct records_input *in, struct sbuf *why)
{
	struct text_line l;

	if (len && buf[len - 1] == '\r') /* a raw CR is always escaped */
		buf[--len] = '\0';
	if (!len)
		return 0;
	if (strlen(buf) != len)
		return cli_usage_error(cli, "%s:%u: NUL byte in line", fname,
				       lineno);
	sbuf_reset(why);
	if (parse_line(&l, buf, hash_size, why)) {
		text_line_release(&l);
		return cli_usage_error(cli, "%s:%u: %s", fname, lineno,
				       why->buf);
	}
	if (l.kind == LINE_TABLE)
		return take_table_line(cli, fname, lineno, &l, in);
	add_line(in, &l, lineno);
	return 0;
}

/* Without a table line, the range the records span (0 0 when empty). */
static void default_limits(struct records_input *in)
{
	for (size_t i = 0; i < in->n; i++) {
		const struct text_line *l = &in->lines[i];
		uint64_t ui = l->kind == LINE_REF ? l->ref.update_index
						  : l->log.update_index;
		if (!i || ui < in->min_ui)
			in->min_ui = ui;
		if (!i || ui > in->max_ui)
			in->max_ui = ui;
	}
}

int records_read(const struct cli *cli, FILE *f, const char *fname,
		 size_t hash_size, struct records_input *in)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int code = 0;
	struct sbuf why = SBUF_INIT;

	while (!code && (len = getline(&buf, &cap, f)) >= 0) {
		lineno++;
		if (len && buf[len - 1] == '\n')
			buf[--len] = '\0';
		code = read_line(cli, fname, lineno, buf, (size_t)len,
				 hash_size, in, &why);
	}
	if (!code && ferror(f))
		code = cli_error(cli, EXIT_DATA, "%s: read error: %s", fname,
				 strerror(errno));
	if (!code && !in->have_limits)
		default_limits(in);
	free(buf);
	sbuf_release(&why);
	return code;
}

int records_write(const struct cli *cli, const char *fname,
		  const struct records_input *in, reftable_write_fn write,
		  void *arg, const struct reftable_write_options *wopts)
{
	struct reftable_writer *w = NULL;
	int err;
	size_t i;

	err = reftable_writer_new(&w, write, arg, wopts);
	if (err < 0)
		return cli_lib_error(cli, err, "cannot start a table");
	err = reftable_writer_set_limits(w, in->min_ui, in->max_ui);
	if (err < 0) {
		int code = cli_lib_error(cli, err,
					 "update index range %llu..%llu",
					 (unsigned long long)in->min_ui,
					 (unsigned long long)in->max_ui);
		reftable_writer_free(w);
		return code;
	}
	for (i = 0; i < in->n; i++) {
		const struct text_line *l = &in->lines[i];
		err = l->kind == LINE_REF ? reftable_writer_add_ref(w, &l->ref)
					  : reftable_writer_add_log(w, &l->log);
		if (err < 0)
			break;
	}
	if (err < 0) {
		int code = cli_lib_error(cli, err, "%s:%u", fname,
					 in->linenos[i]);
		reftable_writer_free(w);
		return code;
	}
	err = reftable_writer_close(w);
	reftable_writer_free(w);
	if (err < 0)
		return cli_lib_error(cli, err, "finishing the table");
	return 0;
}
