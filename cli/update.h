#ifndef UPDATE_H
#define UPDATE_H

/*
 * The commands of `reftable update` (update-parse.c, update-args.c): the
 * --stdin language of `git update-ref --stdin`, with its transaction
 * verbs and its -z form, and the command-line forms, parsed into steps,
 * and each change as an update of the ref database. Apart from
 * cmd-update.c so that a fuzz target (t/fuzz) can parse without a stack
 * or a process.
 *
 * Parsing stops at the first malformed line, as Git dies there; the
 * steps before it are kept and its message is kept in the txn, so the
 * caller runs the steps (a transaction committed before the bad line
 * stays committed, as in Git) and reports the error where Git would.
 */

#include "cli.h"

enum op {
	OP_UPDATE,
	OP_CREATE,
	OP_DELETE,
	OP_VERIFY,
	OP_SYMREF_UPDATE,
	OP_SYMREF_CREATE,
	OP_SYMREF_DELETE,
	OP_SYMREF_VERIFY,
	/* The transaction verbs; their steps carry no ref. */
	OP_START,
	OP_PREPARE,
	OP_COMMIT,
	OP_ABORT,
};

/* A step is a ref change, or a verb. */
static inline int update_op_is_verb(enum op op)
{
	return op >= OP_START;
}

enum old_kind { OLD_NONE, OLD_OID, OLD_TARGET };

struct change {
	enum op op;
	char *ref; /* NULL for a verb */
	int no_deref;
	uint8_t new_oid[REFTABLE_HASH_SIZE_MAX];
	char *new_target;
	enum old_kind old;
	uint8_t old_oid[REFTABLE_HASH_SIZE_MAX];
	char *old_target;
	unsigned lineno;
	char *name; /* the ref actually changed, after following symrefs */
};

/* Where the input leaves the transaction at its end, as Git's states. */
enum update_state {
	STATE_OPEN,     /* no verb yet: the end of input commits */
	STATE_STARTED,  /* after start: the end of input aborts */
	STATE_PREPARED, /* after prepare: only commit or abort may follow */
	STATE_CLOSED,   /* after commit or abort: only start may follow */
};

struct txn {
	const struct cli *cli;
	struct change *ch;
	size_t n, cap;
	size_t hash_size;
	const char *message;
	int log_mode; /* 0 the policy, 1 all, -1 none */
	int no_deref; /* --no-deref: every command */
	int nul_input; /* -z: arguments end in NUL, no quoting */
	enum update_state state; /* after the last step */
	/* The first malformed line's message and exit code, reported after
	 * the steps before it ran; NULL if the input was well formed. */
	char *error;
	int error_code;
};

const char *update_op_name(enum op op);
/* 1 if the n bytes of oid are all zero. */
int update_is_zero(const uint8_t *oid, size_t n);
/* Location prefix for messages: "<stdin>:3: ", or "" for lineno 0. */
void update_where(struct sbuf *sb, unsigned lineno);

/* Read --stdin commands from in into t (whose cli, hash_size and
 * nul_input are set): the steps, the final state, and t->error. */
void update_read(struct txn *t, FILE *in);
/* The command-line forms, as a one-command transaction. Exit code. */
int update_parse_args(struct txn *t, struct strlist *args, int del,
		      int symref);
/* The update of the ref database a parsed change asks for; u points
 * into c and t. */
struct reftable_refdb_update;
void update_to_refdb(const struct txn *t, const struct change *c,
		     struct reftable_refdb_update *u);
void update_txn_release(struct txn *t);

/* ---- arguments of one command (update-args.c) ---- */

/*
 * One command's text as Git reads it: without -z the line with its "\n"
 * (none on an unterminated last line); with -z the command and as many
 * NUL-terminated arguments as it takes, each with its NUL. p walks it;
 * end is one past its last byte and always reads as NUL.
 */
struct cursor {
	const char *p, *end;
	int nul; /* -z */
	struct sbuf *err; /* the message of a refusal */
};

/* What a parse function found. */
enum {
	ARG_ERROR = -1, /* malformed: the message is in cur->err */
	ARG_NONE = 0,   /* no argument there */
	ARG_FOUND = 1,
};

/* The next argument after its separator (ARG_NONE at the end of the
 * command, or an empty one). *out is malloc'ed. */
int cursor_next_arg(struct cursor *cur, char **out);
/* The same, checked as a ref name (Git's format, one level allowed). */
int cursor_next_refname(struct cursor *cur, char **out);
/* The command's first argument, a ref name: no separator before it. */
int cursor_first_refname(struct cursor *cur, char **out);

/* Flags of cursor_next_oid. */
enum {
	OID_OLD = 1 << 0,         /* an old value (for messages) */
	OID_ALLOW_EMPTY = 1 << 1, /* with -z, empty means the zero id */
};
/*
 * The next object id (full hex). Without -z an empty argument is the
 * zero id; with -z an empty one is ARG_NONE unless OID_ALLOW_EMPTY. The
 * end of the input where an id must follow is an error, as in Git.
 */
int cursor_next_oid(struct cursor *cur, uint8_t *oid, size_t hash_size,
		    const char *cmd, const char *ref, unsigned flags);
/* 1 if the command's text is fully read (at its terminator). */
int cursor_at_end(const struct cursor *cur);

#endif
