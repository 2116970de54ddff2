/* Parsing the commands of `reftable update`: see update.h. */

#include <ctype.h>
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
		"update", "create", "delete", "verify", "symref-update",
		"symref-create", "symref-delete", "symref-verify",
	};
	return names[op];
}

/* ---- parsing ---- */

int update_is_zero(const uint8_t *oid, size_t n)
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
void update_where(struct sbuf *sb, unsigned lineno)
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
		update_where(&w, lineno);
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
		update_where(&w, lineno);
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
	update_where(&w, lineno);
	if (nargs < min || nargs > max) {
		code = cli_usage_error(t->cli, "%s%s takes %d to %d arguments",
				       w.buf, update_op_name(op), min, max);
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
		if (op == OP_CREATE && update_is_zero(c->new_oid, t->hash_size)) {
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
		if (!strcmp(word, update_op_name((enum op)i))) {
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
	/* Git refuses it too; we would take the line as if it were not
	 * indented (and did). */
	if (len && isspace((unsigned char)line[0]))
		return cli_usage_error(t->cli, "<stdin>:%u: whitespace before "
					       "command: %s",
				       lineno, line);
	return 0;
}

/* Read the --stdin commands. Exit code; *aborted on "abort". */
int update_read(struct txn *t, FILE *in, int *aborted)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int code = 0, no_deref_next = 0;
	struct words ws;

	while (!code && (len = getline(&line, &cap, in)) >= 0) {
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

/* The update a parsed change asks the database for. */
void update_to_refdb(const struct txn *t, const struct change *c,
		      struct reftable_refdb_update *u)
{
	memset(u, 0, sizeof(*u));
	u->refname = c->ref;
	u->message = t->message;
	u->flags = (c->no_deref ? REFTABLE_REFDB_NO_DEREF : 0) |
		   (t->log_mode < 0 ? REFTABLE_REFDB_SKIP_LOG : 0);
	switch (c->op) {
	case OP_UPDATE:
		u->new_kind = update_is_zero(c->new_oid, t->hash_size)
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

void update_txn_release(struct txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		change_release(&t->ch[i]);
	free(t->ch);
}

/* The command-line forms, as a one-command transaction. Exit code. */
int update_parse_args(struct txn *t, struct strlist *args, int del,
		      int symref)
{
	struct words ws = { { 0 }, 0 };
	enum op op = del ? OP_DELETE : symref ? OP_SYMREF_UPDATE : OP_UPDATE;

	if (args->n < 1 || args->n > 3) {
		return cli_usage_error(t->cli, "wants REF NEWID [OLDID], -d REF "
					       "[OLDID], --symref REF TARGET or "
					       "--stdin");
	}
	ws.w[0] = (char *)update_op_name(op);
	for (size_t i = 0; i < args->n; i++)
		ws.w[++ws.n] = (char *)args->items[i];
	ws.n++;
	return parse_command(t, op, &ws, 0, t->no_deref);
}
