/*
 * reftable update: one all-or-nothing transaction, in the language of
 * `git update-ref --stdin`, or a single update from the command line.
 *
 * The checks run under tables.list.lock, against the stack as reloaded
 * under that lock, so a compare-and-swap cannot race with another
 * writer: the addition either publishes every change or none.
 */

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "update.h"
#include "reftable-refdb.h"

static const struct cmd_help update_help = {
	"update [OPTIONS] REF NEWID [OLDID]\n"
	"update [OPTIONS] -d REF [OLDID]\n"
	"update [OPTIONS] --symref REF TARGET\n"
	"update [OPTIONS] --stdin [-z]",
	"Change refs in one transaction: every change is published in one\n"
	"new table, or none is (then the exit code is 3 and nothing changed).\n"
	"Ids are full hex object ids; an all-zero id means 'does not exist'.\n"
	"A symbolic ref is followed to the ref it names, as Git does, unless\n"
	"--no-deref is given.\n"
	"\n"
	"With --stdin, one command a line, as git update-ref --stdin reads\n"
	"(arguments separated by one space; an empty id is the zero id;\n"
	"an argument in double quotes is C-quoted; with -z each argument\n"
	"ends in NUL instead):\n"
	"  update REF NEWID [OLDID]      set REF (zero NEWID deletes it)\n"
	"  create REF NEWID              REF must not exist\n"
	"  delete REF [OLDID]\n"
	"  verify REF [OLDID]            no OLDID: REF must not exist\n"
	"  symref-update REF TARGET [ref OLDTARGET | oid OLDID]\n"
	"  symref-create REF TARGET\n"
	"  symref-delete REF [OLDTARGET] (with option no-deref only)\n"
	"  symref-verify REF [OLDTARGET] (with option no-deref only)\n"
	"  option no-deref               the next command does not follow\n"
	"  start                         begin a transaction\n"
	"  prepare                       lock and check it\n"
	"  commit, abort                 end it; only start may follow\n"
	"Each verb answers 'VERB: ok' on standard output. Without verbs the\n"
	"end of input commits; after start or prepare it aborts. A malformed\n"
	"line stops everything there: transactions committed before it stay.\n"
	"\n"
	"Reflog entries follow the repository's core.logAllRefUpdates (in\n"
	"a bare repository: only refs that have a reflog), as Git's do;\n"
	"--create-reflog logs every ref set, --no-reflog none. Any change of\n"
	"the branch HEAD names is logged to HEAD too. Deleting a ref\n"
	"deletes its reflog, as Git does. Messages get a final newline, as\n"
	"Git stores them, and are cut to half the block size (2048 bytes),\n"
	"as Git cuts them; a warning says so.\n"
	"\n"
	"The committer is --name/--email/--date, else GIT_COMMITTER_NAME,\n"
	"GIT_COMMITTER_EMAIL and GIT_COMMITTER_DATE ('SECONDS ZONE', e.g.\n"
	"'1700000000 +0100'), else your account's name, USER@HOSTNAME and\n"
	"the current time in the local zone.",
};

/* ---- identity ---- */

static int16_t local_tz(time_t now)
{
	struct tm tm;
	long off, a;
	if (!localtime_r(&now, &tm))
		return 0;
#ifdef _WIN32
	off = win32_gmtoff(now) / 60;
#else
	off = tm.tm_gmtoff / 60;
#endif
	a = off < 0 ? -off : off;
	/* Git's form: hours and minutes as a decimal, -05:30 is -530 */
	return (int16_t)((off < 0 ? -1 : 1) * (a / 60 * 100 + a % 60));
}

static int parse_date(const char *s, uint64_t *time, int16_t *tz)
{
	char buf[64];
	char *sp;
	int64_t z;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s[0] == '@' ? s + 1 : s);
	sp = strchr(buf, ' ');
	if (!sp)
		return -1;
	*sp = '\0';
	if (parse_u64(buf, time) || parse_i64(sp + 1, &z) || z < -2400 ||
	    z > 2400)
		return -1;
	*tz = (int16_t)z;
	return 0;
}

static char *default_name(void)
{
	struct passwd *pw = getpwuid(getuid());
	if (pw && pw->pw_gecos && *pw->pw_gecos) {
		size_t n = strcspn(pw->pw_gecos, ",");
		if (n)
			return xstrndup(pw->pw_gecos, n);
	}
	return xstrdup(pw && pw->pw_name ? pw->pw_name : "unknown");
}

static char *default_email(void)
{
	struct passwd *pw = getpwuid(getuid());
	char host[256] = "localhost";
	struct sbuf sb = SBUF_INIT;
	if (gethostname(host, sizeof(host) - 1))
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	sbuf_addf(&sb, "%s@%s", pw && pw->pw_name ? pw->pw_name : "unknown",
		  host);
	return sbuf_detach(&sb);
}

/* ---- running the transaction through the ref database ---- */

/*
 * The library's detail names the ref first ("refs/x: expected ...");
 * point at the input line of that ref's command too.
 */
static void where_failed(const struct txn *t, size_t upto, struct sbuf *w)
{
	const char *d = reftable_error_detail();
	size_t n = d ? strcspn(d, ":") : 0;

	sbuf_reset(w);
	sbuf_add(w, "", 0);
	/* The latest command naming that ref, up to the failing step. */
	for (size_t i = upto + 1; n && i-- > 0;)
		if (t->ch[i].ref && strlen(t->ch[i].ref) == n &&
		    !strncmp(t->ch[i].ref, d, n)) {
			update_where(w, t->ch[i].lineno);
			sbuf_addf(w, "%s %s: ", update_op_name(t->ch[i].op),
				  t->ch[i].ref);
			return;
		}
}

/* Length of msg as the library stores it: Git's whitespace runs become
 * one space, none is left at either end. */
static size_t normalized_len(const char *msg)
{
	size_t n = 0;
	int in_space = 1;

	for (; *msg; msg++) {
		if (*msg == ' ' || *msg == '\t' || *msg == '\n' ||
		    *msg == '\r') {
			in_space = 1;
			continue;
		}
		n += in_space && n ? 2 : 1;
		in_space = 0;
	}
	return n;
}

/* The library cuts a message to half a block, as Git does, and says
 * nothing: say it here. */
static void warn_if_cut(const struct txn *t, uint32_t block_size)
{
	size_t max = (block_size ? block_size : 4096) / 2;
	size_t n = normalized_len(t->message);

	if (t->log_mode >= 0 && n > max)
		cli_warning(t->cli, "the reflog message is %zu bytes; only the "
				    "first %zu are kept (half the block size)",
			    n, max);
}

/* The running state of the steps: the open library transaction. */
struct runner {
	struct txn *t;
	struct reftable_refdb *db;
	const struct reftable_refdb_ident *who;
	struct reftable_refdb_txn *tx; /* NULL between transactions */
	int print_ok; /* --stdin: "start: ok" and the like on stdout */
	size_t at; /* the step running */
};

static int ensure_txn(struct runner *r)
{
	int err;

	if (r->tx)
		return 0;
	err = reftable_refdb_txn_begin(&r->tx, r->db, r->who);
	if (err < 0) {
		r->tx = NULL;
		return cli_lib_error(r->t->cli, err, "cannot start the update");
	}
	return 0;
}

static void report_ok(const struct runner *r, enum op op)
{
	if (r->print_ok) {
		printf("%s: ok\n", update_op_name(op));
		fflush(stdout);
	}
}

/* Queue one change; a refusal (a bad name, a pseudoref) ends the run as
 * Git dies on it. */
static int add_change(struct runner *r, const struct change *c)
{
	struct reftable_refdb_update u;
	struct sbuf w = SBUF_INIT;
	int err, code;

	if ((code = ensure_txn(r)))
		return code;
	update_to_refdb(r->t, c, &u);
	err = reftable_refdb_txn_add(r->tx, &u);
	if (err < 0) {
		update_where(&w, c->lineno);
		code = cli_lib_error(r->t->cli, err, "%s%s %s", w.buf,
				     update_op_name(c->op), c->ref);
	}
	sbuf_release(&w);
	return code;
}

/* prepare (lock and check) or commit the open transaction. */
static int close_txn(struct runner *r, enum op op)
{
	struct sbuf w = SBUF_INIT;
	int err, code;

	if ((code = ensure_txn(r)))
		return code;
	err = op == OP_PREPARE ? reftable_refdb_txn_prepare(r->tx)
			       : reftable_refdb_txn_commit(r->tx);
	if (err == REFTABLE_COMMITTED_ERROR) {
		/* Visible to everyone now: a retry would apply it twice. */
		code = cli_lib_error(r->t->cli, err, "the update is committed, "
				     "but do not retry it");
	} else if (err < 0) {
		where_failed(r->t, r->at < r->t->n ? r->at : r->t->n - 1, &w);
		code = cli_lib_error(r->t->cli, err, "%snothing was changed",
				     w.buf);
	}
	sbuf_release(&w);
	if (!code && op == OP_COMMIT) {
		reftable_refdb_txn_free(r->tx);
		r->tx = NULL;
	}
	return code;
}

static int run_step(struct runner *r, const struct change *c)
{
	int code = 0;

	switch (c->op) {
	case OP_START:
		break;
	case OP_PREPARE:
	case OP_COMMIT:
		code = close_txn(r, c->op);
		break;
	case OP_ABORT:
		reftable_refdb_txn_free(r->tx);
		r->tx = NULL;
		break;
	default:
		return add_change(r, c);
	}
	if (!code)
		report_ok(r, c->op);
	return code;
}

/*
 * Run the steps in order, as Git runs the commands: each transaction is
 * committed at its commit (or, with no verb at all, at the end of the
 * input); one started or prepared but not committed when the input ends
 * is aborted; a malformed line stops everything where it stands.
 */
static int run_steps(struct txn *t, struct reftable_refdb *db,
		     const struct reftable_refdb_ident *who, int print_ok)
{
	struct runner r = { t, db, who, NULL, print_ok, 0 };
	int code = 0;

	for (r.at = 0; !code && r.at < t->n; r.at++)
		code = run_step(&r, &t->ch[r.at]);
	if (!code && t->error)
		code = cli_error(t->cli, t->error_code, "%s", t->error);
	else if (!code && t->state == STATE_OPEN)
		code = close_txn(&r, OP_COMMIT);
	reftable_refdb_txn_free(r.tx); /* aborts what is left open */
	return code;
}

/* The committer from the options, else Git's environment, else the
 * account. Exit code. */
static int set_committer(const struct cli *cli, struct reftable_refdb_ident *who,
			 const char *name, const char *email, const char *date,
			 char **def_name, char **def_email)
{
	date = date ? date : getenv("GIT_COMMITTER_DATE");
	if (date && *date) {
		if (parse_date(date, &who->time, &who->tz_offset))
			return cli_usage_error(cli, "bad date '%s' (want "
						    "'SECONDS ZONE', e.g. "
						    "'1700000000 +0100')",
					       date);
	} else {
		time_t now = time(NULL);
		who->time = (uint64_t)now;
		who->tz_offset = local_tz(now);
	}
	name = name ? name : getenv("GIT_COMMITTER_NAME");
	email = email ? email : getenv("GIT_COMMITTER_EMAIL");
	who->name = name ? name : (*def_name = default_name());
	who->email = email ? email : (*def_email = default_email());
	if (strpbrk(who->name, "<>\n") || strpbrk(who->email, "<>\n"))
		return cli_usage_error(cli, "the committer name and email may "
					    "not contain '<', '>' or newlines");
	return 0;
}

/* Open the repository's ref database with its configuration's stack
 * options and reflog policy (core.logAllRefUpdates, core.bare). */
static int open_db(const struct cli *cli, struct repo *repo, int no_compact,
		   struct reftable_refdb **db, uint32_t *block_size)
{
	struct reftable_refdb_options dopts;
	int code;

	reftable_refdb_options_init(&dopts);
	dopts.stack.disable_auto_compact = no_compact;
	if ((code = repo_log_policy(cli, repo, &dopts.log_policy)))
		return code;
	if ((code = open_refdb_with(cli, db, repo, &dopts)))
		return code;
	*block_size = dopts.stack.write.block_size;
	return 0;
}

/* The option combinations Git refuses. Exit code. */
static int check_modes(const struct cli *cli, const struct strlist *args,
		       int use_stdin, int del, int symref, int nul,
		       int all_logs, int no_logs, const char *message)
{
	if (use_stdin + del + symref > 1 || (use_stdin && args->n))
		return cli_usage_error(cli, "--stdin, -d and --symref exclude "
					    "each other; --stdin takes no "
					    "arguments");
	if (nul && !use_stdin)
		return cli_usage_error(cli, "-z goes with --stdin");
	if (all_logs && no_logs)
		return cli_usage_error(cli, "--create-reflog and --no-reflog "
					    "exclude each other");
	/* Git refuses an empty message rather than log an empty one. */
	if (message && !*message)
		return cli_usage_error(cli, "refusing to update with an empty "
					    "message (-m \"\")");
	return 0;
}

int cmd_update(struct cli *cli, int argc, char **argv)
{
	struct txn t = { 0 };
	struct strlist args = { 0 };
	struct reftable_refdb *db = NULL;
	struct reftable_refdb_ident who = { 0 };
	const char *message = NULL, *date = NULL, *name = NULL, *email = NULL;
	char *def_name = NULL, *def_email = NULL;
	struct repo repo = { 0 };
	int use_stdin = 0, del = 0, symref = 0, all_logs = 0, no_logs = 0;
	int no_compact = 0, code = 0;
	uint32_t block_size = 0;
	const struct opt opts[] = {
		{ "message", 'm', OPT_STRING, &message, "MSG",
		  "reflog message" },
		{ "stdin", 0, OPT_FLAG, &use_stdin, NULL,
		  "read commands from standard input" },
		{ "null", 'z', OPT_FLAG, &t.nul_input, NULL,
		  "with --stdin: NUL-terminated arguments" },
		{ "delete", 'd', OPT_FLAG, &del, NULL, "delete REF" },
		{ "symref", 0, OPT_FLAG, &symref, NULL,
		  "make REF a symbolic ref to TARGET" },
		{ "no-deref", 0, OPT_FLAG, &t.no_deref, NULL,
		  "change a symbolic ref itself, not what it points at" },
		{ "create-reflog", 0, OPT_FLAG, &all_logs, NULL,
		  "write reflog entries for every ref" },
		{ "no-reflog", 0, OPT_FLAG, &no_logs, NULL,
		  "write no reflog entries" },
		{ "no-compact", 0, OPT_FLAG, &no_compact, NULL,
		  "do not compact the stack afterwards" },
		{ "name", 0, OPT_STRING, &name, "NAME", "committer name" },
		{ "email", 0, OPT_STRING, &email, "EMAIL", "committer email" },
		{ "date", 0, OPT_STRING, &date, "'SECONDS ZONE'",
		  "committer date, e.g. '1700000000 -0530'" },
		OPT_LOCK_TIMEOUT(cli),
		{ 0 },
	};

	t.cli = cli;
	if (parse_options(cli, argc, argv, opts, &update_help, &args, &code))
		goto out;
	if ((code = check_modes(cli, &args, use_stdin, del, symref,
				t.nul_input, all_logs, no_logs, message)))
		goto out;
	t.log_mode = all_logs ? 1 : no_logs ? -1 : 0;
	t.message = message ? message : "";
	if ((code = set_committer(cli, &who, name, email, date, &def_name,
				  &def_email)))
		goto out;

	/* The hash decides how long ids are: find the stack first. */
	if ((code = repo_find(cli, &repo, 1)))
		goto out;
	t.hash_size = reftable_hash_size(repo.hash);
	if (use_stdin)
		update_read(&t, stdin);
	else if ((code = update_parse_args(&t, &args, del, symref)))
		goto out;
	if ((code = open_db(cli, &repo, no_compact, &db, &block_size)))
		goto out;
	warn_if_cut(&t, block_size);
	code = run_steps(&t, db, &who, use_stdin);
out:
	if (db)
		reftable_refdb_close(db);
	update_txn_release(&t);
	repo_release(&repo);
	free(def_name);
	free(def_email);
	strlist_release(&args);
	return code;
}
