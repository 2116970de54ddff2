/*
 * reftable write: build one table from records in the text format
 * (read and written by records-input.c), safely in place of OUT.ref.
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
			    const char *fname, struct records_input *in,
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
	code = records_write(cli, fname, in, fd_write_all, &fd, wopts);
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
	struct records_input in = { 0 };
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
	code = records_read(cli, f, fname, reftable_hash_size(wopts.hash_id),
			    &in);
	if (f != stdin)
		fclose(f);
	if (!code)
		code = write_table_file(cli, out, fname, &in, &wopts);
out:
	records_release(&in);
	strlist_release(&args);
	return code;
}
