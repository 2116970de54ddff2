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

#include "cli.h"
#include "reftable-refdb.h"

static const struct cmd_help update_help = {
	"update [OPTIONS] REF NEWID [OLDID]\n"
	"update [OPTIONS] -d REF [OLDID]\n"
	"update [OPTIONS] --symref REF TARGET\n"
	"update [OPTIONS] --stdin",
	"Change refs in one transaction: every change is published in one\n"
	"new table, or none is (then the exit code is 3 and nothing changed).\n"
	"Ids are full hex object ids; an all-zero id means 'does not exist'.\n"
	"A symbolic ref is followed to the ref it names, as Git does, unless\n"
	"--no-deref is given.\n"
	"\n"
	"With --stdin, one command a line, as git update-ref --stdin reads:\n"
	"  update REF NEWID [OLDID]      set REF (zero NEWID deletes it)\n"
	"  create REF NEWID              REF must not exist\n"
	"  delete REF [OLDID]\n"
	"  verify REF [OLDID]            no OLDID: REF must not exist\n"
	"  symref-update REF TARGET [ref OLDTARGET | oid OLDID]\n"
	"  symref-create REF TARGET\n"
	"  symref-delete REF [OLDTARGET]\n"
	"  symref-verify REF [OLDTARGET]\n"
	"  option no-deref               the next command does not follow\n"
	"  start, prepare, commit        accepted; the end of input commits\n"
	"  abort                         drop the transaction, change nothing\n"
	"\n"
	"Reflog entries are written for HEAD, refs/heads/, refs/remotes/ and\n"
	"refs/notes/ (all refs with --create-reflog, none with --no-reflog),\n"
	"and for HEAD too when it points at a changed branch. Deleting a ref\n"
	"deletes its reflog, as Git does. Messages get a final newline, as\n"
	"Git stores them, and are cut to half the block size (2048 bytes),\n"
	"as Git cuts them; a warning says so.\n"
	"\n"
	"The committer is --name/--email/--date, else GIT_COMMITTER_NAME,\n"
	"GIT_COMMITTER_EMAIL and GIT_COMMITTER_DATE ('SECONDS ZONE', e.g.\n"
	"'1700000000 +0100'), else your account's name, USER@HOSTNAME and\n"
	"the current time in the local zone.",
};

enum op {
	OP_UPDATE,
	OP_CREATE,
	OP_DELETE,
	OP_VERIFY,
	OP_SYMREF_UPDATE,
	OP_SYMREF_CREATE,
	OP_SYMREF_DELETE,
	OP_SYMREF_VERIFY,
};

enum old_kind { OLD_NONE, OLD_OID, OLD_TARGET };

struct change {
	enum op op;
	char *ref;
	int no_deref;
	uint8_t new_oid[REFTABLE_HASH_SIZE_MAX];
	char *new_target;
	enum old_kind old;
	uint8_t old_oid[REFTABLE_HASH_SIZE_MAX];
	char *old_target;
	unsigned lineno;
	char *name; /* the ref actually changed, after following symrefs */
};

struct txn {
	const struct cli *cli;
	struct change *ch;
	size_t n, cap;
	size_t hash_size;
	const char *message;
	int log_mode; /* 0 Git's default set, 1 all, -1 none */
	int no_deref;
};

static void change_release(struct change *c)
{
	free(c->ref);
	free(c->new_target);
	free(c->old_target);
	free(c->name);
}

static const char *op_name(enum op op)
{
	static const char *names[] = {
		"update", "create", "delete", "verify", "symref-update",
		"symref-create", "symref-delete", "symref-verify",
	};
	return names[op];
}

/* ---- parsing ---- */

static int is_zero(const uint8_t *oid, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (oid[i])
			return 0;
	return 1;
}

struct words {
	char *w[6];
	int n;
};

/* Split on spaces; more than 6 words leaves n at 7 (too many). */
static void split(struct words *ws, char *line)
{
	ws->n = 0;
	for (char *p = strtok(line, " "); p; p = strtok(NULL, " ")) {
		if (ws->n == 6) {
			ws->n = 7;
			break;
		}
		ws->w[ws->n++] = p;
	}
}

/* Location prefix for messages: "<stdin>:3: " or "". */
static void where(struct sbuf *sb, unsigned lineno)
{
	sbuf_reset(sb);
	sbuf_add(sb, "", 0); /* never NULL */
	if (lineno)
		sbuf_addf(sb, "<stdin>:%u: ", lineno);
}

static int parse_oid(struct txn *t, const char *s, uint8_t *oid,
		     unsigned lineno)
{
	struct sbuf w = SBUF_INIT;
	int code = 0;
	if (hex_decode(oid, t->hash_size, s, strlen(s))) {
		where(&w, lineno);
		code = cli_usage_error(t->cli, "%s'%s' is not a full object id "
					       "(%zu hex digits)",
				       w.buf, s, 2 * t->hash_size);
	}
	sbuf_release(&w);
	return code;
}

static int check_name(struct txn *t, const char *name, unsigned lineno)
{
	struct sbuf w = SBUF_INIT;
	int code = 0;
	if (reftable_refname_check_writable(name, 0)) {
		where(&w, lineno);
		code = cli_usage_error(t->cli, "%sbad ref name '%s' (%s)",
				       w.buf, name, reftable_error_detail());
	}
	sbuf_release(&w);
	return code;
}

static struct change *new_change(struct txn *t, enum op op, const char *ref,
				 unsigned lineno)
{
	struct change *c;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 8;
		t->ch = xrealloc(t->ch, t->cap * sizeof(*t->ch));
	}
	c = &t->ch[t->n++];
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->ref = xstrdup(ref);
	c->lineno = lineno;
	c->no_deref = t->no_deref;
	return c;
}

/* How many words each command takes: min and max after the command. */
static int arity(enum op op, int *min, int *max)
{
	static const int a[][2] = {
		{ 2, 3 }, { 2, 2 }, { 1, 2 }, { 1, 2 },
		{ 2, 4 }, { 2, 2 }, { 1, 2 }, { 1, 2 },
	};
	*min = a[op][0];
	*max = a[op][1];
	return 0;
}

/* Parse one command's words (w[0] is the command). Exit code. */
static int parse_command(struct txn *t, enum op op, struct words *ws,
			 unsigned lineno, int no_deref)
{
	struct sbuf w = SBUF_INIT;
	struct change *c;
	int min, max, code = 0, nargs = ws->n - 1;

	arity(op, &min, &max);
	where(&w, lineno);
	if (nargs < min || nargs > max) {
		code = cli_usage_error(t->cli, "%s%s takes %d to %d arguments",
				       w.buf, op_name(op), min, max);
		goto out;
	}
	if ((code = check_name(t, ws->w[1], lineno)))
		goto out;
	c = new_change(t, op, ws->w[1], lineno);
	c->no_deref = no_deref;
	switch (op) {
	case OP_UPDATE:
	case OP_CREATE:
		if ((code = parse_oid(t, ws->w[2], c->new_oid, lineno)))
			goto out;
		if (op == OP_CREATE && is_zero(c->new_oid, t->hash_size)) {
			code = cli_usage_error(t->cli, "%screate needs a non-zero "
						       "id", w.buf);
			goto out;
		}
		if (nargs == 3) {
			c->old = OLD_OID;
			code = parse_oid(t, ws->w[3], c->old_oid, lineno);
		}
		break;
	case OP_DELETE:
	case OP_VERIFY:
		if (nargs == 2) {
			c->old = OLD_OID;
			code = parse_oid(t, ws->w[2], c->old_oid, lineno);
		} else if (op == OP_VERIFY) {
			c->old = OLD_OID; /* zero: must not exist */
		}
		break;
	case OP_SYMREF_UPDATE:
	case OP_SYMREF_CREATE:
		if ((code = check_name(t, ws->w[2], lineno)))
			goto out;
		c->new_target = xstrdup(ws->w[2]);
		if (nargs == 3 || (nargs == 4 && strcmp(ws->w[3], "ref") &&
				   strcmp(ws->w[3], "oid"))) {
			code = cli_usage_error(t->cli, "%ssymref-update: the old "
						       "value is 'ref TARGET' "
						       "or 'oid ID'",
					       w.buf);
		} else if (nargs == 4 && !strcmp(ws->w[3], "ref")) {
			c->old = OLD_TARGET;
			c->old_target = xstrdup(ws->w[4]);
		} else if (nargs == 4) {
			c->old = OLD_OID;
			code = parse_oid(t, ws->w[4], c->old_oid, lineno);
		}
		break;
	case OP_SYMREF_DELETE:
	case OP_SYMREF_VERIFY:
		if (nargs == 2) {
			c->old = OLD_TARGET;
			c->old_target = xstrdup(ws->w[2]);
		} else if (op == OP_SYMREF_VERIFY) {
			c->old = OLD_OID; /* must not exist */
		}
		break;
	}
out:
	sbuf_release(&w);
	return code;
}

static int parse_op(const char *word, enum op *op)
{
	for (int i = OP_UPDATE; i <= OP_SYMREF_VERIFY; i++)
		if (!strcmp(word, op_name((enum op)i))) {
			*op = (enum op)i;
			return 0;
		}
	return -1;
}

/*
 * The words of a line end at its first NUL, so a NUL would silently drop
 * what follows it (an old id: the compare-and-swap). A CR would end up in
 * the last word and be reported as a bad id or name.
 */
static int check_line(struct txn *t, const char *line, size_t len,
		      unsigned lineno)
{
	if (strlen(line) != len)
		return cli_usage_error(t->cli, "<stdin>:%u: NUL byte in line "
					       "(NUL-terminated input is not "
					       "supported)",
				       lineno);
	if (len && line[len - 1] == '\r')
		return cli_usage_error(t->cli, "<stdin>:%u: the input has CRLF "
					       "line endings; end lines with "
					       "LF only",
				       lineno);
	return 0;
}

/* Read the --stdin commands. Exit code; *aborted on "abort". */
static int read_stdin(struct txn *t, int *aborted)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int code = 0, no_deref_next = 0;
	struct words ws;

	while (!code && (len = getline(&line, &cap, stdin)) >= 0) {
		enum op op;
		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if ((code = check_line(t, line, (size_t)len, lineno)))
			break;
		split(&ws, line);
		if (!ws.n)
			continue;
		if (!strcmp(ws.w[0], "start") || !strcmp(ws.w[0], "prepare") ||
		    !strcmp(ws.w[0], "commit"))
			continue;
		if (!strcmp(ws.w[0], "abort")) {
			*aborted = 1;
			break;
		}
		if (!strcmp(ws.w[0], "option")) {
			if (ws.n == 2 && !strcmp(ws.w[1], "no-deref"))
				no_deref_next = 1;
			else
				code = cli_usage_error(
					t->cli, "<stdin>:%u: unknown option",
					lineno);
			continue;
		}
		if (parse_op(ws.w[0], &op)) {
			code = cli_usage_error(t->cli,
					       "<stdin>:%u: unknown command '%s'",
					       lineno, ws.w[0]);
			break;
		}
		code = parse_command(t, op, &ws, lineno,
				     t->no_deref || no_deref_next);
		no_deref_next = 0;
	}
	free(line);
	return code;
}

/* ---- identity ---- */

static int16_t local_tz(time_t now)
{
	struct tm tm;
	long off, a;
	if (!localtime_r(&now, &tm))
		return 0;
	off = tm.tm_gmtoff / 60;
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

/* The update a parsed change asks the database for. */
static void to_update(const struct txn *t, const struct change *c,
		      struct reftable_refdb_update *u)
{
	memset(u, 0, sizeof(*u));
	u->refname = c->ref;
	u->message = t->message;
	u->flags = (c->no_deref ? REFTABLE_REFDB_NO_DEREF : 0) |
		   (t->log_mode < 0 ? REFTABLE_REFDB_SKIP_LOG : 0);
	switch (c->op) {
	case OP_UPDATE:
		u->new_kind = is_zero(c->new_oid, t->hash_size)
				      ? REFTABLE_REFDB_NEW_DELETE
				      : REFTABLE_REFDB_NEW_OID;
		break;
	case OP_CREATE:
		u->new_kind = REFTABLE_REFDB_NEW_OID;
		break;
	case OP_DELETE:
	case OP_SYMREF_DELETE:
		u->new_kind = REFTABLE_REFDB_NEW_DELETE;
		break;
	case OP_VERIFY:
	case OP_SYMREF_VERIFY:
		u->new_kind = REFTABLE_REFDB_NEW_NONE;
		break;
	case OP_SYMREF_UPDATE:
	case OP_SYMREF_CREATE:
		u->new_kind = REFTABLE_REFDB_NEW_SYMREF;
		u->new_target = c->new_target;
		break;
	}
	u->new_oid = c->new_oid;
	/* The symref commands work on the symref itself, as in Git. */
	if (c->op >= OP_SYMREF_UPDATE)
		u->flags |= REFTABLE_REFDB_NO_DEREF;
	if (c->op == OP_CREATE || c->op == OP_SYMREF_CREATE) {
		u->old_kind = REFTABLE_REFDB_OLD_ABSENT;
	} else if (c->old == OLD_OID) {
		u->old_kind = REFTABLE_REFDB_OLD_OID;
		u->old_oid = c->old_oid; /* null: must not exist */
	} else if (c->old == OLD_TARGET) {
		u->old_kind = REFTABLE_REFDB_OLD_SYMREF;
		u->old_target = c->old_target;
	} else if (c->op == OP_SYMREF_VERIFY) {
		u->old_kind = REFTABLE_REFDB_OLD_ABSENT;
	}
}

/*
 * The library's detail names the ref first ("refs/x: expected ...");
 * point at the input line of that ref's command too.
 */
static void where_failed(const struct txn *t, struct sbuf *w)
{
	const char *d = reftable_error_detail();
	size_t n = d ? strcspn(d, ":") : 0;

	sbuf_reset(w);
	sbuf_add(w, "", 0);
	for (size_t i = 0; n && i < t->n; i++)
		if (strlen(t->ch[i].ref) == n && !strncmp(t->ch[i].ref, d, n)) {
			where(w, t->ch[i].lineno);
			sbuf_addf(w, "%s %s: ", op_name(t->ch[i].op),
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

/* Queue every change and commit: all or nothing. Exit code. */
static int run_txn(struct txn *t, struct reftable_refdb *db,
		   const struct reftable_refdb_ident *who)
{
	struct reftable_refdb_txn *tx = NULL;
	struct sbuf w = SBUF_INIT;
	int err, code = 0;

	err = reftable_refdb_txn_begin(&tx, db, who);
	if (err < 0)
		return cli_lib_error(t->cli, err, "cannot start the update");
	for (size_t i = 0; i < t->n; i++) {
		struct reftable_refdb_update u;
		to_update(t, &t->ch[i], &u);
		err = reftable_refdb_txn_add(tx, &u);
		if (err < 0) {
			where(&w, t->ch[i].lineno);
			code = cli_lib_error(t->cli, err, "%s%s %s", w.buf,
					     op_name(t->ch[i].op),
					     t->ch[i].ref);
			goto out;
		}
	}
	err = reftable_refdb_txn_commit(tx);
	if (err == REFTABLE_COMMITTED_ERROR) {
		/* Visible to everyone now: a retry would apply it twice. */
		code = cli_lib_error(t->cli, err, "the update is committed, "
				     "but do not retry it");
	} else if (err < 0) {
		where_failed(t, &w);
		code = cli_lib_error(t->cli, err, "%snothing was changed",
				     w.buf);
	}
out:
	reftable_refdb_txn_free(tx);
	sbuf_release(&w);
	return code;
}

static void txn_release(struct txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		change_release(&t->ch[i]);
	free(t->ch);
}

/* The command-line forms, as a one-command transaction. Exit code. */
static int parse_args(struct txn *t, struct strlist *args, int del,
		      int symref)
{
	struct words ws = { { 0 }, 0 };
	enum op op = del ? OP_DELETE : symref ? OP_SYMREF_UPDATE : OP_UPDATE;

	if (args->n < 1 || args->n > 3) {
		return cli_usage_error(t->cli, "wants REF NEWID [OLDID], -d REF "
					       "[OLDID], --symref REF TARGET or "
					       "--stdin");
	}
	ws.w[0] = (char *)op_name(op);
	for (size_t i = 0; i < args->n; i++)
		ws.w[++ws.n] = (char *)args->items[i];
	ws.n++;
	return parse_command(t, op, &ws, 0, t->no_deref);
}

int cmd_update(struct cli *cli, int argc, char **argv)
{
	struct txn t = { 0 };
	struct strlist args = { 0 };
	struct reftable_refdb_options dopts;
	struct reftable_refdb *db = NULL;
	struct reftable_refdb_ident who = { 0 };
	const char *message = "", *date = NULL, *name = NULL, *email = NULL;
	char *dir = NULL, *def_name = NULL, *def_email = NULL;
	int use_stdin = 0, del = 0, symref = 0, all_logs = 0, no_logs = 0;
	int no_compact = 0, aborted = 0, code = 0;
	enum reftable_hash hash;
	const struct opt opts[] = {
		{ "message", 'm', OPT_STRING, &message, "MSG",
		  "reflog message" },
		{ "stdin", 0, OPT_FLAG, &use_stdin, NULL,
		  "read commands from standard input" },
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
		{ 0 },
	};

	t.cli = cli;
	if (parse_options(cli, argc, argv, opts, &update_help, &args, &code))
		goto out;
	if (use_stdin + del + symref > 1 || (use_stdin && args.n)) {
		code = cli_usage_error(cli, "--stdin, -d and --symref exclude "
					    "each other; --stdin takes no "
					    "arguments");
		goto out;
	}
	if (all_logs && no_logs) {
		code = cli_usage_error(cli, "--create-reflog and --no-reflog "
					    "exclude each other");
		goto out;
	}
	t.log_mode = all_logs ? 1 : no_logs ? -1 : 0;
	t.message = message;
	date = date ? date : getenv("GIT_COMMITTER_DATE");
	if (date && *date) {
		if (parse_date(date, &who.time, &who.tz_offset)) {
			code = cli_usage_error(cli, "bad date '%s' (want "
						    "'SECONDS ZONE', e.g. "
						    "'1700000000 +0100')",
					       date);
			goto out;
		}
	} else {
		time_t now = time(NULL);
		who.time = (uint64_t)now;
		who.tz_offset = local_tz(now);
	}
	name = name ? name : getenv("GIT_COMMITTER_NAME");
	email = email ? email : getenv("GIT_COMMITTER_EMAIL");
	who.name = name ? name : (def_name = default_name());
	who.email = email ? email : (def_email = default_email());
	if (strpbrk(who.name, "<>\n") || strpbrk(who.email, "<>\n")) {
		code = cli_usage_error(cli, "the committer name and email may "
					    "not contain '<', '>' or newlines");
		goto out;
	}

	/* The hash decides how long ids are: find the stack first. */
	if ((code = find_stack(cli, &dir, &hash)))
		goto out;
	t.hash_size = reftable_hash_size(hash);
	code = use_stdin ? read_stdin(&t, &aborted)
			 : parse_args(&t, &args, del, symref);
	if (code || aborted)
		goto out;

	reftable_refdb_options_init(&dopts);
	dopts.stack.write.hash_id = hash;
	dopts.stack.disable_auto_compact = no_compact;
	dopts.log_policy = all_logs ? REFTABLE_REFDB_LOG_ALWAYS
				    : REFTABLE_REFDB_LOG_NORMAL;
	{
		int err = reftable_refdb_open(&db, dir, &dopts);
		if (err < 0) {
			db = NULL;
			code = cli_lib_error(cli, err, "cannot open %s", dir);
			goto out;
		}
	}
	warn_if_cut(&t, dopts.stack.write.block_size);
	code = run_txn(&t, db, &who);
out:
	if (db)
		reftable_refdb_close(db);
	txn_release(&t);
	free(dir);
	free(def_name);
	free(def_email);
	strlist_release(&args);
	return code;
}
