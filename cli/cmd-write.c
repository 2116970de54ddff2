/*
 * reftable write: build one table from records in the text format.
 *
 * The whole input is parsed before the writer starts, because the
 * update-index limits must be set before the first record and may have
 * to be computed from the records when no `table` line gives them.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const struct cmd_help write_help = {
	"write [OPTIONS] -o OUT.ref [FILE]",
	"Read records in the text format that `dump --records` prints (from\n"
	"FILE, or standard input) and write them as one table to OUT.ref.\n"
	"Records are written in the order given: refs in name order, then\n"
	"logs by name and newest update index first; the writer refuses\n"
	"anything else. A first line 'table NAME MIN MAX' sets the table's\n"
	"update-index range (NAME is ignored); without it the range of the\n"
	"records is used. The table is written to a temporary file next to\n"
	"OUT.ref and renamed into place, so OUT.ref is never half-written.\n"
	"OUT.ref must be a regular file or not exist yet.",
};

struct parsed_input {
	struct text_line *lines;
	unsigned *linenos;
	size_t n, cap;
	int have_limits;
	uint64_t min_ui, max_ui;
};

static void input_release(struct parsed_input *in)
{
	for (size_t i = 0; i < in->n; i++)
		text_line_release(&in->lines[i]);
	free(in->lines);
	free(in->linenos);
}

static void add_line(struct parsed_input *in, struct text_line *l,
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

/* Parse every line of f. Exit code. */
static int read_input(const struct cli *cli, FILE *f, const char *fname,
		      size_t hash_size, struct parsed_input *in)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int code = 0;
	struct sbuf why = SBUF_INIT;

	while (!code && (len = getline(&buf, &cap, f)) >= 0) {
		struct text_line l;
		lineno++;
		if (len && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if (len && buf[len - 1] == '\r') /* a raw CR is always escaped */
			buf[--len] = '\0';
		if (!len)
			continue;
		if (strlen(buf) != (size_t)len) {
			code = cli_usage_error(cli, "%s:%u: NUL byte in line",
					       fname, lineno);
			break;
		}
		sbuf_reset(&why);
		if (parse_line(&l, buf, hash_size, &why)) {
			code = cli_usage_error(cli, "%s:%u: %s", fname, lineno,
					       why.buf);
			text_line_release(&l);
			break;
		}
		if (l.kind == LINE_TABLE) {
			if (in->have_limits || in->n) {
				code = cli_usage_error(
					cli, "%s:%u: a table line must come "
					     "first, and only once",
					fname, lineno);
			} else {
				in->have_limits = 1;
				in->min_ui = l.min_ui;
				in->max_ui = l.max_ui;
			}
			text_line_release(&l);
			continue;
		}
		add_line(in, &l, lineno);
	}
	if (!code && ferror(f))
		code = cli_error(cli, EXIT_DATA, "%s: read error: %s", fname,
				 strerror(errno));
	free(buf);
	sbuf_release(&why);
	return code;
}

/* Without a table line, the range the records span (0 0 when empty). */
static void default_limits(struct parsed_input *in)
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

/* Feed the records to a writer on fd. Exit code. */
static int write_records(const struct cli *cli, const char *fname,
			 struct parsed_input *in, int fd,
			 const struct reftable_write_options *wopts)
{
	struct reftable_writer *w = NULL;
	int err;
	size_t i;

	err = reftable_writer_new(&w, fd_write_all, &fd, wopts);
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

/* New files get 0666 less the umask, like any file a user creates. */
static void set_default_mode(int fd)
{
	mode_t mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask)) {
		/* not fatal: the table is still correct, only its mode */
	}
}

static const char *file_kind(mode_t mode)
{
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a fifo";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/*
 * The rename replaces whatever out names: a device node, a fifo or the
 * link itself rather than the file it points to. Only a regular file (or
 * nothing) may be replaced. Exit code.
 */
static int check_output(const struct cli *cli, const char *out)
{
	struct stat st;

	if (lstat(out, &st))
		return errno == ENOENT ? 0
				       : cli_error(cli, EXIT_DATA, "%s: %s", out,
						   strerror(errno));
	if (S_ISREG(st.st_mode))
		return 0;
	return cli_usage_error(cli, "%s is %s; refusing to replace anything "
				    "but a regular file",
			       out, file_kind(st.st_mode));
}

/* Write the table next to out and rename it over out. Exit code. */
static int write_table_file(const struct cli *cli, const char *out,
			    const char *fname, struct parsed_input *in,
			    const struct reftable_write_options *wopts)
{
	struct sbuf tmp = SBUF_INIT;
	int fd, code;

	sbuf_addf(&tmp, "%s.tmp-XXXXXX", out);
	fd = mkstemp(tmp.buf);
	if (fd < 0) {
		code = cli_error(cli, EXIT_DATA, "cannot create %s: %s",
				 tmp.buf, strerror(errno));
		sbuf_release(&tmp);
		return code;
	}
	set_default_mode(fd);
	code = write_records(cli, fname, in, fd, wopts);
	if (!code && fsync(fd))
		code = cli_error(cli, EXIT_DATA, "fsync %s: %s", tmp.buf,
				 strerror(errno));
	if (close(fd) && !code)
		code = cli_error(cli, EXIT_DATA, "close %s: %s", tmp.buf,
				 strerror(errno));
	if (!code)
		code = check_output(cli, out); /* again: it may have changed */
	if (!code && rename(tmp.buf, out))
		code = cli_error(cli, EXIT_DATA, "cannot rename %s to %s: %s",
				 tmp.buf, out, strerror(errno));
	if (code)
		unlink(tmp.buf);
	sbuf_release(&tmp);
	return code;
}

int parse_hash_name(const struct cli *cli, const char *name,
		    enum reftable_hash *out)
{
	if (!strcmp(name, "sha1"))
		*out = REFTABLE_HASH_SHA1;
	else if (!strcmp(name, "sha256"))
		*out = REFTABLE_HASH_SHA256;
	else
		return cli_usage_error(cli, "unknown hash '%s' (sha1 or sha256)",
				       name);
	return 0;
}

/* Check the numeric layout options and fill wopts. Exit code. */
static int layout_options(const struct cli *cli, uint64_t block_size,
			  uint64_t restart, const char *hash, int no_obj,
			  int unpadded, struct reftable_write_options *wopts)
{
	memset(wopts, 0, sizeof(*wopts));
	if (block_size && (block_size < REFTABLE_MIN_BLOCK_SIZE ||
			   block_size > REFTABLE_MAX_BLOCK_SIZE))
		return cli_usage_error(cli, "--block-size must be %u to %u",
				       REFTABLE_MIN_BLOCK_SIZE,
				       REFTABLE_MAX_BLOCK_SIZE);
	if (restart > 65535)
		return cli_usage_error(cli,
				       "--restart-interval must be 1 to 65535");
	wopts->block_size = (uint32_t)block_size;
	wopts->restart_interval = (uint16_t)restart;
	wopts->skip_index_objects = no_obj;
	wopts->unpadded = unpadded;
	wopts->hash_id = REFTABLE_HASH_SHA1;
	return hash ? parse_hash_name(cli, hash, &wopts->hash_id) : 0;
}

int cmd_write(struct cli *cli, int argc, char **argv)
{
	uint64_t block_size = 0, restart = 0;
	const char *hash = NULL, *out = NULL, *fname = "<stdin>";
	int no_obj = 0, unpadded = 0, code = 0;
	struct strlist args = { 0 };
	struct parsed_input in = { 0 };
	struct reftable_write_options wopts;
	FILE *f = stdin;
	const struct opt opts[] = {
		{ "output", 'o', OPT_STRING, &out, "OUT.ref",
		  "the table to write (required)" },
		{ "block-size", 0, OPT_U64, &block_size, "N",
		  "block size in bytes (default 4096)" },
		{ "restart-interval", 0, OPT_U64, &restart, "N",
		  "records between restart points (default 16)" },
		{ "hash", 0, OPT_STRING, &hash, "sha1|sha256",
		  "object id hash (default sha1)" },
		{ "no-index-objects", 0, OPT_FLAG, &no_obj, NULL,
		  "write no object index" },
		{ "unpadded", 0, OPT_FLAG, &unpadded, NULL,
		  "do not pad blocks to the block size" },
		{ 0 },
	};

	if (parse_options(cli, argc, argv, opts, &write_help, &args, &code))
		goto out;
	if (!out) {
		code = cli_usage_error(cli, "-o OUT.ref is required");
		goto out;
	}
	if (args.n > 1) {
		code = cli_usage_error(cli, "at most one input FILE");
		goto out;
	}
	code = layout_options(cli, block_size, restart, hash, no_obj, unpadded,
			      &wopts);
	if (!code)
		code = check_output(cli, out);
	if (code)
		goto out;
	if (args.n == 1 && strcmp(args.items[0], "-")) {
		fname = args.items[0];
		f = fopen(fname, "r");
		if (!f) {
			code = cli_error(cli, EXIT_DATA, "%s: %s", fname,
					 strerror(errno));
			goto out;
		}
	}
	code = read_input(cli, f, fname,
			  reftable_hash_size(wopts.hash_id), &in);
	if (f != stdin)
		fclose(f);
	if (code)
		goto out;
	if (!in.have_limits)
		default_limits(&in);
	code = write_table_file(cli, out, fname, &in, &wopts);
out:
	input_release(&in);
	strlist_release(&args);
	return code;
}
