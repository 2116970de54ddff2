/*
 * Parsing the commands of `reftable update`: see update.h. The --stdin
 * language is Git's: a command is matched by its name followed by a space
 * (commands with arguments) or by the line's end (the verbs); anything
 * else, a blank line or leading whitespace is refused. The verbs move
 * through Git's transaction states, refusing what Git refuses.
 */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "update.h"

static void change_release(struct change *c)
{
	free(c->ref);
	free(c->new_target);
	free(c->old_target);
	free(c->name);
}

const char *update_op_name(enum op op)
{
	static const char *names[] = {
		"update",        "create",        "delete",
		"verify",        "symref-update", "symref-create",
		"symref-delete", "symref-verify", "start",
		"prepare",       "commit",        "abort",
	};
	return names[op];
}

int update_is_zero(const uint8_t *oid, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (oid[i])
			return 0;
	return 1;
}

/* Location prefix for messages: "<stdin>:3: " or "". */
void update_where(struct sbuf *sb, unsigned lineno)
{
	sbuf_reset(sb);
	sbuf_add(sb, "", 0); /* never NULL */
	if (lineno)
		sbuf_addf(sb, "<stdin>:%u: ", lineno);
}

static struct change *new_step(struct txn *t, enum op op, unsigned lineno)
{
	struct change *c;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 8;
		t->ch = xrealloc(t->ch, t->cap * sizeof(*t->ch));
	}
	c = &t->ch[t->n++];
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->lineno = lineno;
	return c;
}

/* ---- one command's arguments ---- */

/* What parsing one command needs besides its text. */
struct parse_ctx {
	struct txn *t;
	struct cursor *cur;
	unsigned lineno;
	int no_deref;
	const char *cmd;
};

/* A refusal: its message goes to cur->err. Always ARG_ERROR. */
static int fail(struct parse_ctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct parse_ctx *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	sbuf_reset(x->cur->err);
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n >= 0) {
		char *msg = xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
		va_end(ap);
		sbuf_add(x->cur->err, msg, (size_t)n);
		free(msg);
	}
	return ARG_ERROR;
}

/* The ref every command names first: a change is queued for it. */
static int first_ref(struct parse_ctx *x, enum op op, struct change **out)
{
	char *ref = NULL;
	int ret = cursor_first_refname(x->cur, &ref);

	if (ret == ARG_NONE)
		return fail(x, "%s: missing <ref>", x->cmd);
	if (ret != ARG_FOUND)
		return ret;
	*out = new_step(x->t, op, x->lineno);
	(*out)->ref = ref;
	(*out)->no_deref = x->no_deref;
	return ARG_FOUND;
}

static int expect_end(struct parse_ctx *x, const struct change *c)
{
	if (cursor_at_end(x->cur))
		return ARG_FOUND;
	return fail(x, "%s %s: extra input", x->cmd, c->ref);
}

static int parse_update(struct parse_ctx *x, enum op op)
{
	size_t hs = x->t->hash_size;
	struct change *c;
	int ret = first_ref(x, op, &c);

	if (ret != ARG_FOUND)
		return ret;
	ret = cursor_next_oid(x->cur, c->new_oid, hs, x->cmd, c->ref,
			      op == OP_UPDATE ? OID_ALLOW_EMPTY : 0);
	if (ret == ARG_NONE)
		return fail(x, "%s %s: missing <new-oid>", x->cmd, c->ref);
	if (ret != ARG_FOUND)
		return ret;
	if (op == OP_CREATE && update_is_zero(c->new_oid, hs))
		return fail(x, "%s %s: the new id may not be zero", x->cmd,
			    c->ref);
	if (op == OP_UPDATE) {
		ret = cursor_next_oid(x->cur, c->old_oid, hs, x->cmd, c->ref,
				      OID_OLD);
		if (ret == ARG_ERROR)
			return ret;
		if (ret == ARG_FOUND)
			c->old = OLD_OID;
	}
	return expect_end(x, c);
}

/* delete and verify: an optional old id. */
static int parse_delete_verify(struct parse_ctx *x, enum op op)
{
	struct change *c;
	int ret = first_ref(x, op, &c);

	if (ret != ARG_FOUND)
		return ret;
	ret = cursor_next_oid(x->cur, c->old_oid, x->t->hash_size, x->cmd,
			      c->ref, OID_OLD);
	if (ret == ARG_ERROR)
		return ret;
	if (ret == ARG_FOUND && op == OP_DELETE &&
	    update_is_zero(c->old_oid, x->t->hash_size))
		return fail(x, "%s %s: the old id may not be zero (omit it to "
			       "delete whatever the ref holds)",
			    x->cmd, c->ref);
	/* verify without an old id: the ref must not exist (zero id). */
	if (ret == ARG_FOUND || op == OP_VERIFY)
		c->old = OLD_OID;
	return expect_end(x, c);
}

/* symref-update's optional old value: "ref TARGET" or "oid ID". */
static int parse_symref_old(struct parse_ctx *x, struct change *c)
{
	char *kind = NULL, *val = NULL;
	int ret = cursor_next_arg(x->cur, &kind);

	if (ret != ARG_FOUND)
		return ret;
	ret = cursor_next_arg(x->cur, &val);
	if (ret == ARG_NONE)
		ret = fail(x, "%s %s: the old value is missing after its kind",
			   x->cmd, c->ref);
	else if (ret == ARG_FOUND && !strcmp(kind, "oid")) {
		ret = hex_decode(c->old_oid, x->t->hash_size, val, strlen(val))
			      ? fail(x, "%s: invalid old id '%s'", c->ref, val)
			      : ARG_FOUND;
		c->old = OLD_OID;
	} else if (ret == ARG_FOUND && !strcmp(kind, "ref")) {
		ret = reftable_refname_check_format(
			      val, REFTABLE_REFNAME_ALLOW_ONELEVEL)
			      ? fail(x, "%s: invalid old target '%s'", c->ref,
				     val)
			      : ARG_FOUND;
		c->old = OLD_TARGET;
		c->old_target = val;
		val = NULL;
	} else if (ret == ARG_FOUND) {
		ret = fail(x, "%s: the old value is 'ref TARGET' or 'oid ID', "
			      "not '%s'",
			   c->ref, kind);
	}
	free(kind);
	free(val);
	return ret;
}

static int parse_symref_update(struct parse_ctx *x, enum op op)
{
	struct change *c;
	int ret = first_ref(x, op, &c);

	if (ret != ARG_FOUND)
		return ret;
	ret = cursor_next_refname(x->cur, &c->new_target);
	if (ret == ARG_NONE)
		return fail(x, "%s %s: missing <new-target>", x->cmd, c->ref);
	if (ret != ARG_FOUND)
		return ret;
	if (op == OP_SYMREF_UPDATE && parse_symref_old(x, c) == ARG_ERROR)
		return ARG_ERROR;
	return expect_end(x, c);
}

/* symref-delete and symref-verify: only with no-deref, as in Git; an
 * optional old target (symref-verify without one: must not exist). */
static int parse_symref_delete_verify(struct parse_ctx *x, enum op op)
{
	struct change *c;
	int ret;

	if (!x->no_deref)
		return fail(x, "%s: works only with 'option no-deref' or "
			       "--no-deref",
			    x->cmd);
	ret = first_ref(x, op, &c);
	if (ret != ARG_FOUND)
		return ret;
	ret = cursor_next_refname(x->cur, &c->old_target);
	if (ret == ARG_ERROR)
		return ret;
	if (ret == ARG_FOUND)
		c->old = OLD_TARGET;
	else if (op == OP_SYMREF_VERIFY)
		c->old = OLD_OID; /* the zero id: must not exist */
	return expect_end(x, c);
}

/* ---- commands and transaction states ---- */

struct command {
	const char *name;
	int (*parse)(struct parse_ctx *x, enum op op);
	enum op op;
	int args; /* how many arguments; 0: a verb, matched with the line's end */
	enum update_state state;
};

/* option is parsed by the reading loop: it changes the next command. */
#define OPTION_CMD 12

static const struct command commands[] = {
	{ "update", parse_update, OP_UPDATE, 3, STATE_OPEN },
	{ "create", parse_update, OP_CREATE, 2, STATE_OPEN },
	{ "delete", parse_delete_verify, OP_DELETE, 2, STATE_OPEN },
	{ "verify", parse_delete_verify, OP_VERIFY, 2, STATE_OPEN },
	{ "symref-update", parse_symref_update, OP_SYMREF_UPDATE, 4,
	  STATE_OPEN },
	{ "symref-create", parse_symref_update, OP_SYMREF_CREATE, 2,
	  STATE_OPEN },
	{ "symref-delete", parse_symref_delete_verify, OP_SYMREF_DELETE, 2,
	  STATE_OPEN },
	{ "symref-verify", parse_symref_delete_verify, OP_SYMREF_VERIFY, 2,
	  STATE_OPEN },
	{ "option", NULL, OPTION_CMD, 1, STATE_OPEN },
	{ "start", NULL, OP_START, 0, STATE_STARTED },
	{ "prepare", NULL, OP_PREPARE, 0, STATE_PREPARED },
	{ "abort", NULL, OP_ABORT, 0, STATE_CLOSED },
	{ "commit", NULL, OP_COMMIT, 0, STATE_CLOSED },
};

static const struct command *find_command(const char *buf, char term)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		size_t len = strlen(commands[i].name);
		char after = commands[i].args ? ' ' : term;

		if (!strncmp(buf, commands[i].name, len) && buf[len] == after)
			return &commands[i];
	}
	return NULL;
}

/*
 * Git's transaction states: a second start, anything but commit or abort
 * after prepare, and anything but start after commit or abort are
 * refused. NULL, or the refusal.
 */
static const char *next_state(enum update_state *state,
			      const struct command *cmd)
{
	switch (*state) {
	case STATE_OPEN:
	case STATE_STARTED:
		if (*state == STATE_STARTED && cmd->state == STATE_STARTED)
			return "a transaction is already started";
		if (cmd->state >= *state)
			*state = cmd->state;
		return NULL;
	case STATE_PREPARED:
		if (cmd->state != STATE_CLOSED)
			return "a prepared transaction can only be committed "
			       "or aborted";
		*state = cmd->state;
		return NULL;
	case STATE_CLOSED:
		if (cmd->state != STATE_STARTED)
			return "the transaction is closed; only 'start' may "
			       "follow";
		*state = STATE_STARTED;
		return NULL;
	}
	return NULL;
}

/* One NUL- or LF-terminated record appended to buf. 1 at the end of
 * input (nothing read). */
static int read_record(FILE *in, char term, struct sbuf *buf)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = getdelim(&line, &cap, term, in);

	if (len >= 0)
		sbuf_add(buf, line, (size_t)len);
	free(line);
	return len < 0;
}

/* Refusals of a whole line, before its command is looked at. */
static const char *check_line(const struct sbuf *line, int nul,
			      struct sbuf *why)
{
	char term = nul ? '\0' : '\n';

	sbuf_reset(why);
	/* Without -z, C strings end at a NUL: Git refuses such a line
	 * anyway (its arguments end early); say why. */
	if (!nul && strlen(line->buf) != line->len)
		sbuf_addstr(why, "NUL byte in line (use -z for NUL-terminated "
				 "input)");
	else if (!nul && line->len >= 2 &&
		 line->buf[line->len - 2] == '\r' &&
		 line->buf[line->len - 1] == '\n')
		sbuf_addstr(why, "the input has CRLF line endings; end lines "
				 "with LF only");
	else if (line->buf[0] == term)
		sbuf_addstr(why, "empty command in input");
	else if (strchr(" \t\r\n", line->buf[0]))
		sbuf_addstr(why, "whitespace before command");
	return why->len ? why->buf : NULL;
}

/* One command (its first record read into line): a step, or an error
 * in t->error. */
static int parse_one(struct txn *t, FILE *in, struct sbuf *line,
		     unsigned lineno, int *no_deref_next)
{
	char term = t->nul_input ? '\0' : '\n';
	struct sbuf why = SBUF_INIT;
	const struct command *cmd;
	const char *refusal;
	struct cursor cur;
	struct parse_ctx x;
	size_t steps_before = t->n;
	int ret = ARG_ERROR;

	refusal = check_line(line, t->nul_input, &why);
	cmd = refusal ? NULL : find_command(line->buf, term);
	if (!refusal && !cmd) {
		sbuf_addf(&why, "unknown command: '%.*s'",
			  (int)strcspn(line->buf, "\n"), line->buf);
		refusal = why.buf;
	}
	/* With -z a command's arguments are the records that follow. */
	for (int j = 1; cmd && t->nul_input && j < cmd->args; j++)
		if (read_record(in, term, line))
			break;
	if (!refusal)
		refusal = next_state(&t->state, cmd);
	if (refusal)
		goto out;

	cur = (struct cursor){ line->buf + strlen(cmd->name) + !!cmd->args,
			       line->buf + line->len, t->nul_input, &why };
	x = (struct parse_ctx){ t, &cur, lineno,
				t->no_deref || *no_deref_next, cmd->name };
	if (cmd->op == OPTION_CMD) {
		int known = !strncmp(cur.p, "no-deref", 8) && cur.p[8] == term;
		if (!known)
			sbuf_addf(&why, "unknown option: '%.*s'",
				  (int)strcspn(cur.p, "\n"), cur.p);
		ret = known ? ARG_FOUND : ARG_ERROR;
		*no_deref_next = known;
	} else if (cmd->parse) {
		ret = cmd->parse(&x, cmd->op);
		*no_deref_next = 0;
	} else {
		new_step(t, cmd->op, lineno);
		ret = ARG_FOUND;
	}
	if (ret == ARG_ERROR) {
		/* A half-parsed change must not run. */
		while (t->n > steps_before)
			change_release(&t->ch[--t->n]);
		refusal = why.buf;
	}
out:
	if (refusal) {
		struct sbuf msg = SBUF_INIT;
		update_where(&msg, lineno);
		sbuf_addstr(&msg, refusal);
		t->error = sbuf_detach(&msg);
		t->error_code = EXIT_USAGE;
	}
	sbuf_release(&why);
	return refusal ? -1 : 0;
}

void update_read(struct txn *t, FILE *in)
{
	char term = t->nul_input ? '\0' : '\n';
	struct sbuf line = SBUF_INIT;
	unsigned lineno = 0;
	int no_deref_next = 0;

	t->state = STATE_OPEN;
	for (;;) {
		sbuf_reset(&line);
		if (read_record(in, term, &line))
			break;
		if (parse_one(t, in, &line, ++lineno, &no_deref_next))
			break;
	}
	sbuf_release(&line);
}

/* The update a parsed change asks the database for. */
void update_to_refdb(const struct txn *t, const struct change *c,
		     struct reftable_refdb_update *u)
{
	memset(u, 0, sizeof(*u));
	u->refname = c->ref;
	u->message = t->message;
	u->flags = (c->no_deref ? REFTABLE_REFDB_NO_DEREF : 0) |
		   (t->log_mode < 0 ? REFTABLE_REFDB_SKIP_LOG : 0);
	/* --create-reflog, as Git passes it: to the commands that set a
	 * value, not to delete and verify. */
	if (t->log_mode > 0 && c->op != OP_DELETE && c->op != OP_VERIFY &&
	    c->op != OP_SYMREF_DELETE && c->op != OP_SYMREF_VERIFY)
		u->flags |= REFTABLE_REFDB_FORCE_LOG;
	switch (c->op) {
	case OP_UPDATE:
	case OP_CREATE:
		/* A zero new id deletes: the library reads it so. */
		u->new_kind = REFTABLE_REFDB_NEW_OID;
		u->new_oid = c->new_oid;
		break;
	case OP_DELETE:
	case OP_SYMREF_DELETE:
		u->new_kind = REFTABLE_REFDB_NEW_DELETE;
		break;
	case OP_SYMREF_UPDATE:
	case OP_SYMREF_CREATE:
		u->new_kind = REFTABLE_REFDB_NEW_SYMREF;
		u->new_target = c->new_target;
		break;
	default:
		u->new_kind = REFTABLE_REFDB_NEW_NONE;
		break;
	}
	if (c->op == OP_CREATE || c->op == OP_SYMREF_CREATE) {
		u->old_kind = REFTABLE_REFDB_OLD_ABSENT;
	} else if (c->old == OLD_OID) {
		u->old_kind = REFTABLE_REFDB_OLD_OID;
		u->old_oid = c->old_oid; /* zero: must not exist */
	} else if (c->old == OLD_TARGET) {
		u->old_kind = REFTABLE_REFDB_OLD_SYMREF;
		u->old_target = c->old_target;
	}
}

void update_txn_release(struct txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		change_release(&t->ch[i]);
	free(t->ch);
	free(t->error);
}

/* ---- the command-line forms ---- */

static int arg_oid(struct txn *t, const char *s, uint8_t *oid, int old)
{
	if (old && !*s) {
		memset(oid, 0, t->hash_size); /* "": must not exist */
		return 0;
	}
	if (!hex_decode(oid, t->hash_size, s, strlen(s)))
		return 0;
	return cli_usage_error(t->cli, "'%s' is not a full %s id (%zu hex "
				       "digits)",
			       s, old ? "old" : "new", 2 * t->hash_size);
}

/* REF NEWID [OLDID], -d REF [OLDID] (a zero OLDID: no check, as Git
 * reads it), --symref REF TARGET (REF itself, like git symbolic-ref). */
int update_parse_args(struct txn *t, struct strlist *args, int del,
		      int symref)
{
	const char *const *a = args->items;
	struct change *c;
	size_t want_min = del ? 1 : 2, want_max = symref ? 2 : want_min + 1;
	int code = 0;

	if (args->n < want_min || args->n > want_max)
		return cli_usage_error(t->cli, "wants REF NEWID [OLDID], -d REF "
					       "[OLDID], --symref REF TARGET or "
					       "--stdin");
	if (reftable_refname_check_format(a[0],
					  REFTABLE_REFNAME_ALLOW_ONELEVEL))
		return cli_usage_error(t->cli, "bad ref name '%s' (%s)", a[0],
				       reftable_error_detail());
	c = new_step(t, del ? OP_DELETE : symref ? OP_SYMREF_UPDATE : OP_UPDATE,
		     0);
	c->ref = xstrdup(a[0]);
	c->no_deref = t->no_deref || symref;
	if (symref) {
		if (reftable_refname_check_format(
			    a[1], REFTABLE_REFNAME_ALLOW_ONELEVEL))
			return cli_usage_error(t->cli, "bad target '%s' (%s)",
					       a[1], reftable_error_detail());
		c->new_target = xstrdup(a[1]);
		return 0;
	}
	if (!del)
		code = arg_oid(t, a[1], c->new_oid, 0);
	if (!code && args->n == want_max) {
		code = arg_oid(t, a[want_max - 1], c->old_oid, 1);
		if (!del || !update_is_zero(c->old_oid, t->hash_size))
			c->old = OLD_OID;
	}
	return code;
}
