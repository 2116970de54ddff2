/* reftable init, compact, clean and unlock: keeping a stack in shape. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---- shared ---- */

struct dir_tables {
	struct strlist names; /* tables.list, in order */
	uint64_t bytes;       /* their total size */
};

static void scan_tables(const char *dir, struct dir_tables *dt)
{
	memset(dt, 0, sizeof(*dt));
	read_tables_list(NULL, dir, &dt->names);
	for (size_t i = 0; i < dt->names.n; i++) {
		char *p = path_join(dir, dt->names.items[i]);
		struct stat st;
		if (!stat(p, &st))
			dt->bytes += (uint64_t)st.st_size;
		free(p);
	}
}

/* ---- init ---- */

static const struct cmd_help init_help = {
	"init [--hash=sha1|sha256] [DIR]",
	"Create an empty stack in DIR (or the -C PATH directory): the\n"
	"directory if missing, and an empty tables.list. An empty stack\n"
	"cannot say which hash it uses, so with --hash=sha256 init also\n"
	"writes one empty table (update index 1) whose header records it.\n"
	"Fails if DIR already holds a tables.list.",
};

static int write_nothing(struct reftable_writer *w, void *arg)
{
	return 0;
}

/* The empty table whose header says the stack is SHA-256, published as
 * any addition is. */
static int write_marker(const struct cli *cli, struct reftable_stack *st,
			const char *dir)
{
	int err = reftable_stack_add(st, write_nothing, NULL,
				     REFTABLE_ADDITION_KEEP_EMPTY);

	return err < 0 ? cli_lib_error(cli, err, "writing the hash marker "
				       "table in %s", dir) : 0;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	const char *hash_name_opt = "sha1", *dir;
	struct strlist args = { 0 };
	struct reftable_stack_options opts;
	struct reftable_stack *st = NULL;
	enum reftable_hash hash;
	char *list = NULL;
	int code = 0, err;
	const struct opt opts_def[] = {
		{ "hash", 0, OPT_STRING, &hash_name_opt, "sha1|sha256",
		  "object id hash (default sha1)" },
		{ 0 },
	};

	if (parse_options(cli, argc, argv, opts_def, &init_help, &args,
			  &code))
		goto out;
	if (args.n > 1 || (!args.n && !cli->chdir_to)) {
		code = cli_usage_error(cli, "wants one DIR (or -C DIR)");
		goto out;
	}
	if ((code = parse_hash_name(cli, hash_name_opt, &hash)))
		goto out;
	dir = args.n ? args.items[0] : cli->chdir_to;
	list = path_join(dir, "tables.list");
	if (!access(list, F_OK)) {
		code = cli_usage_error(cli, "%s already exists", list);
		goto out;
	}
	reftable_stack_options_init(&opts);
	opts.create = 1;
	opts.write.hash_id = hash;
	err = reftable_stack_new(&st, dir, &opts);
	if (err < 0) {
		code = cli_lib_error(cli, err, "cannot create a stack in %s",
				     dir);
		goto out;
	}
	if (hash == REFTABLE_HASH_SHA256)
		code = write_marker(cli, st, dir);
	if (!code)
		printf("initialized an empty %s stack in %s\n",
		       hash == REFTABLE_HASH_SHA256 ? "sha256" : "sha1", dir);
	code = cli_finish_output(cli, code);
out:
	if (st)
		reftable_stack_destroy(st);
	free(list);
	strlist_release(&args);
	return code;
}

/* ---- compact ---- */

static const struct cmd_help compact_help = {
	"compact [--auto] [--expire-logs=WHEN] [--expire-logs-before=INDEX]",
	"Merge the stack's tables into one (or, with --auto, only as many as\n"
	"the geometric rule that every update applies asks for). Readers are\n"
	"never disturbed: the new table is written aside and published by\n"
	"replacing tables.list. The merged view stays the same, except that\n"
	"deletions are dropped when nothing older is left to hide, and that\n"
	"reflog entries can be expired:\n"
	"  --expire-logs=WHEN          drop entries older than WHEN: seconds\n"
	"                              since 1970 (or @SECONDS), or an age\n"
	"                              such as 90d, 12h, 2w or 90.days\n"
	"  --expire-logs-before=INDEX  drop entries of update index < INDEX\n"
	"Exit code 3 if another process holds the locks.",
};

/* WHEN as seconds since 1970. 0 ok, -1 bad. */
static int parse_when(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long n;
	uint64_t unit = 0;
	time_t now = time(NULL);

	if (*s == '@')
		return parse_u64(s + 1, out);
	if (!parse_u64(s, out))
		return 0;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end == '.')
		end++;
	if (!strcmp(end, "s") || !strcmp(end, "seconds"))
		unit = 1;
	else if (!strcmp(end, "m") || !strcmp(end, "minutes"))
		unit = 60;
	else if (!strcmp(end, "h") || !strcmp(end, "hours"))
		unit = 3600;
	else if (!strcmp(end, "d") || !strcmp(end, "days"))
		unit = 86400;
	else if (!strcmp(end, "w") || !strcmp(end, "weeks"))
		unit = 7 * 86400;
	else
		return -1;
	*out = n * unit > (uint64_t)now ? 0 : (uint64_t)now - n * unit;
	/* "0" would mean "no limit" to the library: expire from 1 s on */
	if (!*out)
		*out = 1;
	return 0;
}

static int progress_start(const char *what)
{
	if (!isatty(STDERR_FILENO))
		return 0;
	fprintf(stderr, "%s...", what);
	fflush(stderr);
	return 1;
}

static void progress_end(int shown)
{
	if (shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

int cmd_compact(struct cli *cli, int argc, char **argv)
{
	struct strlist args = { 0 };
	struct reftable_stack *st = NULL;
	struct reftable_log_expiry expiry = { 0, 0 };
	struct dir_tables before, after;
	const char *expire = NULL;
	uint64_t before_index = 0;
	char *dir = NULL;
	int autoc = 0, code = 0, err, shown;
	const struct opt opts[] = {
		{ "auto", 0, OPT_FLAG, &autoc, NULL,
		  "compact only what the geometric rule asks for" },
		{ "expire-logs", 0, OPT_STRING, &expire, "WHEN",
		  "drop reflog entries older than WHEN" },
		{ "expire-logs-before", 0, OPT_U64, &before_index, "INDEX",
		  "drop reflog entries below update index INDEX" },
		OPT_LOCK_TIMEOUT(cli),
		{ 0 },
	};

	memset(&before, 0, sizeof(before));
	memset(&after, 0, sizeof(after));
	if (parse_options(cli, argc, argv, opts, &compact_help, &args, &code))
		goto out;
	if (args.n) {
		code = cli_usage_error(cli, "takes no arguments (use -C PATH)");
		goto out;
	}
	if (autoc && (expire || before_index)) {
		code = cli_usage_error(cli, "--auto does not expire reflogs");
		goto out;
	}
	if (expire && parse_when(expire, &expiry.time)) {
		code = cli_usage_error(cli, "bad --expire-logs '%s' (want "
					    "SECONDS, @SECONDS or an age like "
					    "90d)",
				       expire);
		goto out;
	}
	expiry.min_update_index = before_index;
	if ((code = open_stack(cli, &st, &dir, NULL)))
		goto out;
	scan_tables(dir, &before);
	shown = progress_start("compacting");
	err = autoc ? reftable_stack_auto_compact(st)
		    : reftable_stack_compact_all(st, &expiry);
	progress_end(shown);
	if (err < 0) {
		code = cli_lib_error(cli, err, "compacting %s", dir);
		goto out;
	}
	scan_tables(dir, &after);
	printf("%zu table%s (%llu bytes) -> %zu table%s (%llu bytes)\n",
	       before.names.n, before.names.n == 1 ? "" : "s",
	       (unsigned long long)before.bytes, after.names.n,
	       after.names.n == 1 ? "" : "s", (unsigned long long)after.bytes);
	code = cli_finish_output(cli, 0);
out:
	strlist_release_owned(&before.names);
	strlist_release_owned(&after.names);
	if (st)
		reftable_stack_destroy(st);
	free(dir);
	strlist_release(&args);
	return code;
}

/* ---- clean ---- */

static const struct cmd_help clean_help = {
	"clean [-n | --dry-run]",
	"Remove the .ref files in the stack's directory that tables.list does\n"
	"not name: tables left behind by a writer or compaction that died.\n"
	"Tables that an addition is writing right now (newer than the stack)\n"
	"are kept. Holds tables.list.lock while it works; exit code 3 if\n"
	"another process holds it. Prints each file removed (or, with -n,\n"
	"that would be) and each unlisted table kept, with the reason.",
};

/* One line per file clean judged: what it did, or would do, and why. */
static void print_clean(void *arg, const struct reftable_clean_report *r)
{
	const int *dry = arg;

	if (r->removed)
		printf("%s %s\n", *dry ? "would remove" : "removed", r->name);
	else
		printf("kept %s: %s\n", r->name, r->why);
}

int cmd_clean(struct cli *cli, int argc, char **argv)
{
	struct strlist args = { 0 };
	struct reftable_clean_options co = { 0 };
	struct reftable_stack *st = NULL;
	char *dir = NULL;
	int dry = 0, code = 0, err;
	const struct opt opts[] = {
		{ "dry-run", 'n', OPT_FLAG, &dry, NULL,
		  "only say what would be removed" },
		OPT_LOCK_TIMEOUT(cli),
		{ 0 },
	};

	if (parse_options(cli, argc, argv, opts, &clean_help, &args, &code))
		goto out;
	if (args.n) {
		code = cli_usage_error(cli, "takes no arguments (use -C PATH)");
		goto out;
	}
	if ((code = open_stack(cli, &st, &dir, NULL)))
		goto out;
	/* The dry run is the library's own judgement, under the lock. */
	co.flags = dry ? REFTABLE_CLEAN_DRY_RUN : 0;
	co.report = print_clean;
	co.report_arg = &dry;
	err = reftable_stack_clean_with(st, &co);
	if (err < 0) {
		code = cli_lib_error(cli, err, "cleaning %s", dir);
		goto out;
	}
	code = cli_finish_output(cli, 0);
out:
	if (st)
		reftable_stack_destroy(st);
	free(dir);
	strlist_release(&args);
	return code;
}

/* ---- unlock ---- */

static const struct cmd_help unlock_help = {
	"unlock [-n | --dry-run] [--force] [--min-age=SECONDS]",
	"Remove stale locks: tables.list.lock and NAME.ref.lock files left by\n"
	"a process that died while it changed or compacted the stack. Such a\n"
	"lock blocks every writer until it is removed.\n"
	"\n"
	"A lock is removed only when its owner is proven gone. The library\n"
	"writes into each lock the owner's process id, when that process\n"
	"started, the machine's boot id and host name; the lock is stale when\n"
	"that process no longer runs on this machine, or the machine has\n"
	"booted since. A lock held from another machine, or one without that\n"
	"evidence (Git leaves its locks empty until it commits), is kept and\n"
	"the reason printed, unless it was created before this machine last\n"
	"booted on a local filesystem. Age alone proves nothing, so a slow\n"
	"writer never loses its lock. Once no lock is left, the temporary\n"
	"files of dead writers are removed too.\n"
	"\n"
	"--force removes every lock, proven or not. Use it only when you know\n"
	"that no program, Git included, is using the stack: a live owner whose\n"
	"lock is removed fails, or may see its change replaced by another's.\n"
	"\n"
	"Exit code 0 if no lock is left, 3 if a lock was kept.",
};

struct unlock_state {
	int dry, kept, found;
};

static void unlock_report(void *arg, const struct reftable_lock_report *r)
{
	struct unlock_state *u = arg;

	u->found++;
	if (r->removed)
		printf("removed %s: %s\n", r->name, r->why);
	else if (r->stale && u->dry)
		printf("would remove %s: %s\n", r->name, r->why);
	else {
		printf("kept %s: %s\n", r->name, r->why);
		u->kept++;
	}
}

int cmd_unlock(struct cli *cli, int argc, char **argv)
{
	struct strlist args = { 0 };
	struct reftable_stack *st = NULL;
	struct reftable_break_options bo = { 0 };
	struct unlock_state u = { 0 };
	uint64_t min_age = 0;
	char *dir = NULL;
	int force = 0, code = 0, n;
	const struct opt opts[] = {
		{ "min-age", 0, OPT_U64, &min_age, "SECONDS",
		  "also keep locks changed less than SECONDS ago" },
		{ "dry-run", 'n', OPT_FLAG, &u.dry, NULL,
		  "only say what would be removed" },
		{ "force", 0, OPT_FLAG, &force, NULL,
		  "remove every lock, proven stale or not" },
		{ 0 },
	};

	if (parse_options(cli, argc, argv, opts, &unlock_help, &args, &code))
		goto out;
	if (args.n) {
		code = cli_usage_error(cli, "takes no arguments (use -C PATH)");
		goto out;
	}
	if ((code = open_stack(cli, &st, &dir, NULL)))
		goto out;
	bo.flags = (u.dry ? REFTABLE_BREAK_DRY_RUN : 0) |
		   (force ? REFTABLE_BREAK_FORCE : 0);
	bo.min_age_seconds = min_age;
	bo.report = unlock_report;
	bo.report_arg = &u;
	n = reftable_stack_break_stale_locks(st, &bo);
	if (n < 0) {
		code = cli_lib_error(cli, n, "removing locks in %s", dir);
		goto out;
	}
	if (!u.found)
		printf("no locks in %s\n", dir);
	code = cli_finish_output(cli, u.kept ? EXIT_CONFLICT : 0);
out:
	if (st)
		reftable_stack_destroy(st);
	free(dir);
	strlist_release(&args);
	return code;
}
