#ifndef CLI_H
#define CLI_H

/*
 * Shared pieces of the reftable command-line tool: exit codes, error
 * reporting, option parsing, a growable string, and the records text
 * format used by `dump --records` and `write`.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "reftable.h"

/* Exit codes, documented in the man page. */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,    /* bad option, malformed input, bad ref name */
	EXIT_DATA = 2,     /* missing or corrupt file, I/O error, problems */
	EXIT_CONFLICT = 3, /* lock held, compare-and-swap failed */
};

/* State shared by every command. */
struct cli {
	const char *cmd;      /* the command's name, for messages */
	const char *chdir_to; /* -C PATH, or NULL */
	int quiet;            /* print no messages (the fuzz targets) */
	/* --lock-timeout=MS of a command that writes, or NULL: the
	 * repository's reftable.lockTimeout, else 100 ms. */
	const char *lock_timeout;
};

/* The --lock-timeout option, for the option table of a command that
 * takes the stack's lock. */
#define OPT_LOCK_TIMEOUT(cli)                                              \
	{ "lock-timeout", 0, OPT_STRING, &(cli)->lock_timeout, "MS",        \
	  "wait at most MS milliseconds for a lock (-1: forever)" }

/* ---- messages (util.c) ---- */

/* "reftable CMD: error: ..." on stderr. Returns EXIT_USAGE. */
int cli_usage_error(const struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Same text with any exit code the caller picks; returns code. */
int cli_error(const struct cli *cli, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Report a library failure: what, the code's description and the
 * library's detail. Returns the exit code that the code maps to.
 */
int cli_lib_error(const struct cli *cli, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "reftable CMD: warning: ..." on stderr; the command goes on. */
void cli_warning(const struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Exit code for a library error code. */
int cli_exit_code(int err);

/* Flush stdout; EXIT_DATA (with a message) if writing it failed. */
int cli_finish_output(const struct cli *cli, int code);

/* ---- a growable NUL-terminated string (util.c) ---- */
struct sbuf {
	char *buf;
	size_t len, cap;
};
#define SBUF_INIT { NULL, 0, 0 }
void sbuf_add(struct sbuf *sb, const void *data, size_t len);
void sbuf_addch(struct sbuf *sb, char c);
void sbuf_addstr(struct sbuf *sb, const char *s);
void sbuf_addf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sbuf_reset(struct sbuf *sb);
void sbuf_release(struct sbuf *sb);
/* Hand the string to the caller (free with free()); never NULL. */
char *sbuf_detach(struct sbuf *sb);
/* Append the rest of f; -1 on a read error (errno says which). */
int sbuf_read_stream(struct sbuf *sb, FILE *f);

/* Allocation that exits on failure: the tool has nothing to salvage. */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* dir + "/" + name, freshly allocated. */
char *path_join(const char *dir, const char *name);

/* A reftable_write_fn writing to the file descriptor *(int *)arg. */
ssize_t fd_write_all(void *arg, const void *buf, size_t len);

/* Parse a whole string as a decimal unsigned number. 0 ok, -1 bad. */
int parse_u64(const char *s, uint64_t *out);
int parse_i64(const char *s, int64_t *out);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void hex_encode(char *out, const uint8_t *bytes, size_t n);
/* Exactly 2n hex digits (either case) into bytes. 0 ok, -1 bad. */
int hex_decode(uint8_t *bytes, size_t n, const char *hex, size_t hexlen);

/* Does text match the glob pattern as Git's wildmatch with WM_PATHNAME
 * does (* and ? stop at '/', ** as a component crosses them)? icase folds
 * ASCII case. (wildmatch.c) */
int wildmatch_path(const char *pattern, const char *text, int icase);

/* ---- options (opts.c) ---- */
enum opt_type {
	OPT_FLAG,   /* int, set to 1 (or to 0 by --no-NAME for OPT_BOOL) */
	OPT_BOOL,   /* int, --NAME sets 1, --no-NAME sets 0 */
	OPT_STRING, /* const char * */
	OPT_U64,    /* uint64_t */
	OPT_COUNT,  /* int, incremented per use */
	OPT_LIST,   /* struct strlist, appended per use */
};

struct opt {
	const char *long_name; /* without "--" */
	char short_name;       /* 0 if none */
	enum opt_type type;
	void *value;
	const char *arg_name;  /* for help, e.g. "N" */
	const char *help;
};

struct strlist {
	const char **items;
	size_t n, cap;
};
void strlist_add(struct strlist *l, const char *s);
/* Free the array; the _owned variant frees the strings too. */
void strlist_release(struct strlist *l);
void strlist_release_owned(struct strlist *l);

/* What `COMMAND --help` prints. */
struct cmd_help {
	const char *usage;       /* lines after "usage: ", '\n'-separated */
	const char *description; /* a paragraph or two */
};

/*
 * Parse argv[1..argc) (argv[0] is the command name) against opts.
 * Positional arguments go to args in order; "--" ends options. -h and
 * --help print the help and return -1 with *code EXIT_OK; a bad option
 * prints a message and returns -1 with *code EXIT_USAGE.
 */
int parse_options(const struct cli *cli, int argc, char **argv,
		  const struct opt *opts, const struct cmd_help *help,
		  struct strlist *args, int *code);
void print_help(FILE *out, const struct cli *cli, const struct opt *opts,
		const struct cmd_help *help);

/* ---- the records text format (text.c) ---- */

/*
 * Escape a message, name or email: backslash as \\, newline \n, tab \t,
 * other bytes below 0x20 and 0x7f as \xHH. The bytes in also are
 * written as \xHH too: " " for ref names, whose fields are split on
 * spaces; "<>" for names and emails, which '<' and '>' delimit.
 */
void text_escape(struct sbuf *out, const char *s, const char *also);
/*
 * The reverse; ok on the escapes above. Returns 0, or -1 with *why set
 * (a bad escape, or \x00 which no C string can hold).
 */
int text_unescape(struct sbuf *out, const char *s, size_t len,
		  const char **why);

/* One record a line, as in t/fixtures/git/README.md. */
void format_ref(struct sbuf *out, const struct reftable_ref_record *ref,
		size_t hash_size);
void format_log(struct sbuf *out, const struct reftable_log_record *log,
		size_t hash_size);

/* A parsed line of the records format; strings are owned (malloc). */
enum text_line_kind { LINE_TABLE, LINE_REF, LINE_LOG };
struct text_line {
	enum text_line_kind kind;
	char *table_name;
	uint64_t min_ui, max_ui; /* LINE_TABLE */
	struct reftable_ref_record ref;
	struct reftable_log_record log;
};

/*
 * Parse one line (without its newline). hash_size gives the expected
 * object id length. 0 ok; -1 with *why a static or sbuf-held message.
 */
int parse_line(struct text_line *out, const char *line, size_t hash_size,
	       struct sbuf *why);
/* Free the strings of a parsed line. */
void text_line_release(struct text_line *l);

/* ---- the input of `write` (records-input.c) ---- */

/* Parsed records, in input order, and the update-index range. */
struct records_input {
	struct text_line *lines; /* LINE_REF and LINE_LOG only */
	unsigned *linenos;
	size_t n, cap;
	int have_limits; /* a table line gave min_ui and max_ui */
	uint64_t min_ui, max_ui;
};

/*
 * Parse every line of f (fname for messages). Without a table line the
 * limits are the range of the records. Exit code, with a message.
 */
int records_read(const struct cli *cli, FILE *f, const char *fname,
		 size_t hash_size, struct records_input *in);
/* Write the records as one table through write(arg, ...). Exit code. */
int records_write(const struct cli *cli, const char *fname,
		  const struct records_input *in, reftable_write_fn write,
		  void *arg, const struct reftable_write_options *wopts);
void records_release(struct records_input *in);

/* ---- JSON output (json.c) ---- */

/* A JSON string literal of len bytes (invalid UTF-8 becomes U+FFFD). */
void json_string(struct sbuf *out, const char *s, size_t len);
void json_str(struct sbuf *out, const char *s); /* NULL gives null */

/* ---- table and stack helpers (tables.c) ---- */

/* A table or a stack directory opened for reading, without locking. */
struct opened {
	struct reftable_table **tables;
	size_t n;
	struct reftable_merged *merged; /* only for a directory */
	int is_dir;
};

/* 1 if path is a directory, 0 if not, -1 if it does not exist. */
int path_is_dir(const char *path);
/*
 * Read dir/tables.list into names (each malloc'ed). Library-style result:
 * 0 or a negative reftable error (with a message already printed).
 */
int read_tables_list(const struct cli *cli, const char *dir,
		     struct strlist *names);
/* Open a .ref file or every table a directory's tables.list names, and
 * (for a directory) their merged view with deletions suppressed. Exit
 * code; on failure a message was printed. */
int open_path(const struct cli *cli, const char *path, struct opened *o);
void opened_release(struct opened *o);

/* "sha1" or "sha256". Exit code (EXIT_USAGE with a message if neither). */
int parse_hash_name(const struct cli *cli, const char *name,
		    enum reftable_hash *out);

/* ---- finding the stack (repo.c) ---- */

/*
 * The reftable directory that -C PATH (or, without -C, the current
 * directory or one above it) names: a directory holding tables.list, a
 * Git directory holding reftable/, or a work tree whose .git holds it.
 * *dir is malloc'ed. If hash is not NULL it gets the stack's hash: from
 * the repository's extensions.objectFormat, else from the first table,
 * else SHA-1. Exit code, with a message on failure.
 */
int find_stack(const struct cli *cli, char **dir, enum reftable_hash *hash);

/* A stack found as find_stack finds it, with its Git repository. */
struct git_config;
struct repo {
	char *stack_dir;          /* the reftable directory */
	char *gitdir;             /* the Git directory holding it, or NULL */
	int via_worktree;         /* reached through a work tree's .git */
	enum reftable_hash hash;  /* as find_stack says */
	struct git_config *config; /* Git's configuration; NULL outside Git */
};

/* find_stack, keeping the Git directory; with_config also reads Git's
 * configuration (a syntax error in it is an error, as in Git). Exit code;
 * repo_release() either way. */
int repo_find(const struct cli *cli, struct repo *r, int with_config);
void repo_release(struct repo *r);

/*
 * What Git's configuration and --lock-timeout say about writing the stack
 * (repo-settings.c): reftable.blockSize, restartInterval, indexObjects,
 * geometricFactor and lockTimeout, and core.sharedRepository (the mode of
 * new tables and tables.list; the process umask is narrowed so that the
 * mode is exactly Git's). Exit code with Git's message for a bad value.
 */
int repo_stack_options(const struct cli *cli, const struct repo *r,
		       struct reftable_stack_options *opts);
/* The reflog policy of core.logAllRefUpdates and core.bare, as Git's
 * (unset: none in a bare repository). Exit code. */
int repo_log_policy(const struct cli *cli, const struct repo *r,
		    enum reftable_refdb_log_policy *out);

/* The hash of the first table named in dir/tables.list; 0 if none. */
enum reftable_hash stack_hash_from_tables(const char *dir);

/* ---- working with a stack (refs.c) ---- */

/* find_stack, then open it with the right hash. Exit code. */
int open_stack(const struct cli *cli, struct reftable_stack **st,
	       char **dir, const struct reftable_stack_options *base);

/* find_stack, then open its ref database. Exit code. */
struct reftable_refdb;
int open_refdb(const struct cli *cli, struct reftable_refdb **db,
	       char **dir);
/* Open a found repository's ref database for reading. Exit code. */
int open_refdb_read(const struct cli *cli, struct reftable_refdb **db,
		    const struct repo *r);
/* Open the ref database of a found repository with opts, completed by
 * the repository's repo_stack_options (the log policy is the caller's). */
int open_refdb_with(const struct cli *cli, struct reftable_refdb **db,
		    struct repo *r, struct reftable_refdb_options *opts);

/* The name the user meant: name itself, or Git's refs/, refs/tags/,
 * refs/heads/, refs/remotes/ and refs/remotes/NAME/HEAD. malloc'ed, or
 * NULL if none exists (as a ref or a reflog). */
char *dwim_ref(struct reftable_refdb *db, const char *name);

/*
 * The reflog `log NAME` shows, by Git's rules: the first of the names
 * dwim_ref tries that resolves (a symref whose target is missing does
 * not) and has a reflog, or whose resolved ref has one. Returns how many
 * candidates have one (more than 1: NAME is ambiguous) with *log set; 0
 * if NAME resolves but has no reflog (Git shows nothing); -1 if nothing
 * resolves, with *dangling naming the missing ref at the end of a symref
 * chain if that is why. Not Git's: a reflog whose ref was deleted is
 * shown (*log, 1). Strings malloc'ed.
 */
int dwim_log(struct reftable_refdb *db, const char *name, char **log,
	     char **dangling);

/* Format a Git-style date: mode "default", "iso", "raw" or "unix". */
void format_date(struct sbuf *out, uint64_t time, int16_t tz,
		 const char *mode);

/* ---- commands ---- */
int cmd_dump(struct cli *cli, int argc, char **argv);
int cmd_write(struct cli *cli, int argc, char **argv);
int cmd_verify(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_log(struct cli *cli, int argc, char **argv);
int cmd_update(struct cli *cli, int argc, char **argv);
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_compact(struct cli *cli, int argc, char **argv);
int cmd_clean(struct cli *cli, int argc, char **argv);
int cmd_unlock(struct cli *cli, int argc, char **argv);
int cmd_relist(struct cli *cli, int argc, char **argv);

#endif
