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
	"Git stores them.\n"
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
	const char *who_name, *who_email;
	uint64_t time;
	int16_t tz;
	/* what the transaction writes */
	struct reftable_ref_record *refs;
	size_t nrefs, refs_cap;
	struct reftable_log_record *logs;
	size_t nlogs, logs_cap;
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
	const char *why = refname_problem(name);
	struct sbuf w = SBUF_INIT;
	int code = 0;
	if (why) {
		where(&w, lineno);
		code = cli_usage_error(t->cli, "%sbad ref name '%s': %s",
				       w.buf, name, why);
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

/* ---- building the records ---- */

static struct reftable_ref_record *add_ref(struct txn *t, const char *name)
{
	struct reftable_ref_record *r;
	if (t->nrefs == t->refs_cap) {
		t->refs_cap = t->refs_cap ? 2 * t->refs_cap : 8;
		t->refs = xrealloc(t->refs, t->refs_cap * sizeof(*t->refs));
	}
	r = &t->refs[t->nrefs++];
	memset(r, 0, sizeof(*r));
	r->refname = xstrdup(name);
	return r;
}

static struct reftable_log_record *add_log(struct txn *t, const char *name)
{
	struct reftable_log_record *l;
	if (t->nlogs == t->logs_cap) {
		t->logs_cap = t->logs_cap ? 2 * t->logs_cap : 8;
		t->logs = xrealloc(t->logs, t->logs_cap * sizeof(*t->logs));
	}
	l = &t->logs[t->nlogs++];
	memset(l, 0, sizeof(*l));
	l->refname = xstrdup(name);
	return l;
}

static int wants_log(const struct txn *t, const char *name)
{
	if (t->log_mode)
		return t->log_mode > 0;
	return !strcmp(name, "HEAD") || !strncmp(name, "refs/heads/", 11) ||
	       !strncmp(name, "refs/remotes/", 13) ||
	       !strncmp(name, "refs/notes/", 11);
}

static void log_update(struct txn *t, const char *name, uint64_t ui,
		       const uint8_t *old, const uint8_t *new_id)
{
	struct reftable_log_record *l;
	size_t len = strlen(t->message);

	/* one entry per ref and transaction */
	for (size_t i = 0; i < t->nlogs; i++)
		if (!strcmp(t->logs[i].refname, name) &&
		    t->logs[i].update_index == ui)
			return;
	l = add_log(t, name);
	l->update_index = ui;
	l->value_type = REFTABLE_LOG_UPDATE;
	memcpy(l->old_id, old, t->hash_size);
	memcpy(l->new_id, new_id, t->hash_size);
	l->name = xstrdup(t->who_name);
	l->email = xstrdup(t->who_email);
	l->time = t->time;
	l->tz_offset = t->tz;
	l->message = xmalloc(len + 2);
	memcpy(l->message, t->message, len);
	/* Git stores reflog messages with a final newline */
	if (!len || t->message[len - 1] != '\n')
		l->message[len++] = '\n';
	l->message[len] = '\0';
}

/* Deleting a ref deletes its reflog: a tombstone per entry. */
static int delete_reflog(struct txn *t, struct reftable_stack *st,
			 const char *name)
{
	struct reftable_iterator it = { 0 };
	struct reftable_log_record log = { 0 };
	int err = reftable_stack_init_log_iterator(st, &it);

	if (!err)
		err = reftable_iterator_seek_log(&it, name);
	while (!err && !(err = reftable_iterator_next_log(&it, &log))) {
		struct reftable_log_record *l;
		if (strcmp(log.refname, name))
			break;
		l = add_log(t, name);
		l->update_index = log.update_index;
		l->value_type = REFTABLE_LOG_DELETION;
	}
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&log);
	return err < 0 ? err : 0;
}

/* The id a name resolves to now, or zeros. */
static void current_oid(struct reftable_stack *st, const char *name,
			uint8_t *oid, size_t hs)
{
	struct reftable_ref_record r = { 0 };
	struct strlist chain = { 0 };
	memset(oid, 0, hs);
	if (!resolve_ref(st, name, &r, &chain))
		memcpy(oid, r.value, hs);
	reftable_ref_record_release(&r);
	strlist_release_owned(&chain);
}

/* A conflict message, exit code 3. */
static int conflict(struct txn *t, const struct change *c, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
static int conflict(struct txn *t, const struct change *c, const char *fmt,
		    ...)
{
	char msg[512];
	struct sbuf w = SBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where(&w, c->lineno);
	cli_error(t->cli, 0, "%s%s %s: %s", w.buf, op_name(c->op), c->ref,
		  msg);
	sbuf_release(&w);
	return EXIT_CONFLICT;
}

static void describe(struct sbuf *sb, const struct reftable_ref_record *r,
		     int exists, size_t hs)
{
	char hex[2 * REFTABLE_HASH_SIZE_MAX + 1];
	if (!exists) {
		sbuf_addstr(sb, "it does not exist");
	} else if (r->value_type == REFTABLE_REF_SYMREF) {
		sbuf_addf(sb, "it is a symbolic ref to %s", r->target);
	} else {
		hex_encode(hex, r->value, hs);
		sbuf_addf(sb, "it is %s", hex);
	}
}

/* Compare c's expected old value with the current record. Exit code. */
static int check_old(struct txn *t, const struct change *c,
		     const struct reftable_ref_record *cur, int exists)
{
	size_t hs = t->hash_size;
	struct sbuf now = SBUF_INIT;
	char hex[2 * REFTABLE_HASH_SIZE_MAX + 1];
	int code = 0, must_not_exist;

	describe(&now, cur, exists, hs);
	must_not_exist = c->op == OP_CREATE || c->op == OP_SYMREF_CREATE ||
			 (c->old == OLD_OID && is_zero(c->old_oid, hs));
	if (must_not_exist) {
		if (exists)
			code = conflict(t, c, "expected it not to exist, but %s",
					now.buf);
	} else if (c->old == OLD_OID) {
		hex_encode(hex, c->old_oid, hs);
		if (!exists || cur->value_type == REFTABLE_REF_SYMREF ||
		    memcmp(cur->value, c->old_oid, hs))
			code = conflict(t, c, "expected %s, but %s", hex,
					now.buf);
	} else if (c->old == OLD_TARGET) {
		if (!exists || cur->value_type != REFTABLE_REF_SYMREF ||
		    strcmp(cur->target, c->old_target))
			code = conflict(t, c,
					"expected a symbolic ref to %s, but %s",
					c->old_target, now.buf);
	}
	sbuf_release(&now);
	return code;
}

/* Which name c really changes: follow symrefs unless told not to. */
static int deref_name(struct reftable_stack *st, struct change *c)
{
	struct reftable_ref_record r = { 0 };
	struct strlist chain = { 0 };
	int symrefs = c->op >= OP_SYMREF_UPDATE;
	int err = 0;

	if (symrefs || c->no_deref) {
		c->name = xstrdup(c->ref);
		return 0;
	}
	err = resolve_ref(st, c->ref, &r, &chain);
	if (err >= 0) {
		/* The last name met: the non-symref, or the missing one. */
		c->name = xstrdup(err == 0 ? r.refname
					   : chain.items[chain.n - 1]);
		err = 0;
	}
	reftable_ref_record_release(&r);
	strlist_release_owned(&chain);
	return err;
}

/* Does the transaction delete name? */
static int deleted_here(const struct txn *t, const char *name)
{
	for (size_t k = 0; k < t->nrefs; k++)
		if (!strcmp(t->refs[k].refname, name) &&
		    t->refs[k].value_type == REFTABLE_REF_DELETION)
			return 1;
	return 0;
}

/* Is name (to exist after the transaction) in a D/F conflict? */
static int name_conflict(struct txn *t, struct reftable_stack *st,
			 const char *name, const char **other_out,
			 char **buf)
{
	struct reftable_ref_record r = { 0 };
	struct reftable_iterator it = { 0 };
	struct sbuf sb = SBUF_INIT;
	int found = 0, err;

	/* A ref named like one of name's directories. */
	for (const char *p = strchr(name, '/'); p && !found;
	     p = strchr(p + 1, '/')) {
		sbuf_reset(&sb);
		sbuf_add(&sb, name, (size_t)(p - name));
		if (!reftable_stack_read_ref(st, sb.buf, &r) && !deleted_here(t, sb.buf))
			found = 1;
		for (size_t k = 0; k < t->nrefs && !found; k++)
			if (!strcmp(t->refs[k].refname, sb.buf) &&
			    t->refs[k].value_type != REFTABLE_REF_DELETION)
				found = 1;
	}
	/* A ref inside the directory name would become. */
	if (!found) {
		sbuf_reset(&sb);
		sbuf_addf(&sb, "%s/", name);
		err = reftable_stack_init_ref_iterator(st, &it);
		if (!err)
			err = reftable_iterator_seek_ref(&it, sb.buf);
		while (!err && !found &&
		       !(err = reftable_iterator_next_ref(&it, &r)) &&
		       !strncmp(r.refname, sb.buf, sb.len)) {
			if (!deleted_here(t, r.refname)) {
				sbuf_reset(&sb);
				sbuf_addstr(&sb, r.refname);
				found = 1;
			}
		}
		reftable_iterator_destroy(&it);
		for (size_t k = 0; k < t->nrefs && !found; k++)
			if (!strncmp(t->refs[k].refname, name, strlen(name)) &&
			    t->refs[k].refname[strlen(name)] == '/' &&
			    t->refs[k].value_type != REFTABLE_REF_DELETION) {
				sbuf_reset(&sb);
				sbuf_addstr(&sb, t->refs[k].refname);
				found = 1;
			}
	}
	reftable_ref_record_release(&r);
	*buf = sbuf_detach(&sb);
	*other_out = *buf;
	return found;
}

/* Decide the records of one change. Exit code. */
static int plan_change(struct txn *t, struct reftable_stack *st,
		       struct change *c, uint64_t ui)
{
	struct reftable_ref_record cur = { 0 }, *r;
	size_t hs = t->hash_size;
	uint8_t old_oid[REFTABLE_HASH_SIZE_MAX], new_oid[REFTABLE_HASH_SIZE_MAX];
	int err, exists, code, deleting;

	err = deref_name(st, c);
	if (err == REFTABLE_SYMREF_ERROR)
		return conflict(t, c, "symbolic refs nest too deep");
	if (err < 0)
		return cli_lib_error(t->cli, err, "reading %s", c->ref);
	err = reftable_stack_read_ref(st, c->name, &cur);
	if (err < 0) {
		reftable_ref_record_release(&cur);
		return cli_lib_error(t->cli, err, "reading %s", c->name);
	}
	exists = err == 0;
	code = check_old(t, c, &cur, exists);
	if (code || c->op == OP_VERIFY || c->op == OP_SYMREF_VERIFY) {
		reftable_ref_record_release(&cur);
		return code;
	}
	for (size_t i = 0; i < t->nrefs; i++)
		if (!strcmp(t->refs[i].refname, c->name)) {
			reftable_ref_record_release(&cur);
			return cli_usage_error(t->cli, "%s is changed twice in "
						       "one transaction",
					       c->name);
		}
	current_oid(st, c->name, old_oid, hs);
	deleting = c->op == OP_DELETE || c->op == OP_SYMREF_DELETE ||
		   (c->op == OP_UPDATE && is_zero(c->new_oid, hs));
	if (deleting && !exists) {
		reftable_ref_record_release(&cur);
		return 0; /* nothing to delete */
	}
	r = add_ref(t, c->name);
	r->update_index = ui;
	if (deleting) {
		r->value_type = REFTABLE_REF_DELETION;
		err = delete_reflog(t, st, c->name);
		if (!err && strcmp(c->ref, c->name) && wants_log(t, c->ref)) {
			memset(new_oid, 0, hs);
			log_update(t, c->ref, ui, old_oid, new_oid);
		}
	} else if (c->op == OP_SYMREF_UPDATE || c->op == OP_SYMREF_CREATE) {
		r->value_type = REFTABLE_REF_SYMREF;
		r->target = xstrdup(c->new_target);
		current_oid(st, c->new_target, new_oid, hs);
		/* ... or what this transaction sets the target to */
		for (size_t i = 0; i + 1 < t->nrefs; i++)
			if (!strcmp(t->refs[i].refname, c->new_target) &&
			    t->refs[i].value_type == REFTABLE_REF_VAL1)
				memcpy(new_oid, t->refs[i].value, hs);
		if (wants_log(t, c->name))
			log_update(t, c->name, ui, old_oid, new_oid);
	} else {
		r->value_type = REFTABLE_REF_VAL1;
		memcpy(r->value, c->new_oid, hs);
		if (wants_log(t, c->name))
			log_update(t, c->name, ui, old_oid, c->new_oid);
		/* The symref the user named logs the change too. */
		if (strcmp(c->ref, c->name) && wants_log(t, c->ref))
			log_update(t, c->ref, ui, old_oid, c->new_oid);
	}
	reftable_ref_record_release(&cur);
	return err < 0 ? cli_lib_error(t->cli, err, "reading the reflog of %s",
				       c->name)
		       : 0;
}

/* HEAD's reflog follows the branch it points at, as in Git. */
static void log_head(struct txn *t, struct reftable_stack *st, uint64_t ui)
{
	struct reftable_ref_record head = { 0 };
	struct strlist chain = { 0 };
	int err = resolve_ref(st, "HEAD", &head, &chain);
	const char *target = NULL;

	if (err >= 0 && chain.n && strcmp(chain.items[0], "HEAD") == 0)
		target = err == 0 ? head.refname : chain.items[chain.n - 1];
	for (size_t i = 0; target && i < t->nrefs; i++) {
		struct reftable_ref_record *r = &t->refs[i];
		if (strcmp(r->refname, target) ||
		    r->value_type != REFTABLE_REF_VAL1 || !wants_log(t, "HEAD"))
			continue;
		for (size_t j = 0; j < t->nlogs; j++)
			if (!strcmp(t->logs[j].refname, target) &&
			    t->logs[j].update_index == ui) {
				uint8_t old[REFTABLE_HASH_SIZE_MAX];
				memcpy(old, t->logs[j].old_id, t->hash_size);
				log_update(t, "HEAD", ui, old, r->value);
				break;
			}
	}
	reftable_ref_record_release(&head);
	strlist_release_owned(&chain);
}

static int cmp_ref(const void *a, const void *b)
{
	return strcmp(((const struct reftable_ref_record *)a)->refname,
		      ((const struct reftable_ref_record *)b)->refname);
}

static int cmp_log(const void *a, const void *b)
{
	const struct reftable_log_record *x = a, *y = b;
	int c = strcmp(x->refname, y->refname);
	if (c)
		return c;
	/* newest first */
	return (x->update_index < y->update_index) -
	       (x->update_index > y->update_index);
}

static int write_txn(struct reftable_writer *w, void *arg)
{
	struct txn *t = arg;
	int err = 0;
	for (size_t i = 0; !err && i < t->nrefs; i++)
		err = reftable_writer_add_ref(w, &t->refs[i]);
	for (size_t i = 0; !err && i < t->nlogs; i++)
		err = reftable_writer_add_log(w, &t->logs[i]);
	return err;
}

/* Check everything under the lock, then write and publish. Exit code. */
static int run_txn(struct txn *t, struct reftable_stack *st)
{
	struct reftable_addition *add = NULL;
	uint64_t ui;
	int err, code = 0;

	err = reftable_stack_new_addition(&add, st, REFTABLE_ADDITION_RELOAD);
	if (err < 0)
		return cli_lib_error(t->cli, err, "cannot start the update");
	ui = reftable_addition_update_index(add);
	for (size_t i = 0; !code && i < t->n; i++)
		code = plan_change(t, st, &t->ch[i], ui);
	for (size_t i = 0; !code && i < t->nrefs; i++) {
		const char *other;
		char *buf;
		if (t->refs[i].value_type != REFTABLE_REF_DELETION &&
		    name_conflict(t, st, t->refs[i].refname, &other, &buf))
			code = cli_error(t->cli, EXIT_CONFLICT,
					 "cannot create %s: %s exists",
					 t->refs[i].refname, other);
		else
			buf = NULL;
		free(buf);
	}
	if (!code) {
		log_head(t, st, ui);
		qsort(t->refs, t->nrefs, sizeof(*t->refs), cmp_ref);
		qsort(t->logs, t->nlogs, sizeof(*t->logs), cmp_log);
		if (t->nrefs || t->nlogs)
			err = reftable_addition_add(add, write_txn, t);
		if (!err)
			err = reftable_addition_commit(add);
		if (err < 0)
			code = cli_lib_error(t->cli, err, "cannot commit the "
							  "update");
	}
	reftable_addition_destroy(add);
	return code;
}

static void txn_release(struct txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		change_release(&t->ch[i]);
	free(t->ch);
	for (size_t i = 0; i < t->nrefs; i++) {
		free(t->refs[i].refname);
		free(t->refs[i].target);
	}
	free(t->refs);
	for (size_t i = 0; i < t->nlogs; i++) {
		free(t->logs[i].refname);
		free(t->logs[i].name);
		free(t->logs[i].email);
		free(t->logs[i].message);
	}
	free(t->logs);
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
	struct reftable_stack_options sopts;
	struct reftable_stack *st = NULL;
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
		if (parse_date(date, &t.time, &t.tz)) {
			code = cli_usage_error(cli, "bad date '%s' (want "
						    "'SECONDS ZONE', e.g. "
						    "'1700000000 +0100')",
					       date);
			goto out;
		}
	} else {
		time_t now = time(NULL);
		t.time = (uint64_t)now;
		t.tz = local_tz(now);
	}
	name = name ? name : getenv("GIT_COMMITTER_NAME");
	email = email ? email : getenv("GIT_COMMITTER_EMAIL");
	t.who_name = name ? name : (def_name = default_name());
	t.who_email = email ? email : (def_email = default_email());
	if (strpbrk(t.who_name, "<>\n") || strpbrk(t.who_email, "<>\n")) {
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

	reftable_stack_options_init(&sopts);
	sopts.write.hash_id = hash;
	sopts.disable_auto_compact = no_compact;
	{
		int err = reftable_stack_new(&st, dir, &sopts);
		if (err < 0) {
			st = NULL;
			code = cli_lib_error(cli, err, "cannot open %s", dir);
			goto out;
		}
	}
	code = run_txn(&t, st);
out:
	if (st)
		reftable_stack_destroy(st);
	txn_release(&t);
	free(dir);
	free(def_name);
	free(def_email);
	strlist_release(&args);
	return code;
}
