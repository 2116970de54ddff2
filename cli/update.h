#ifndef UPDATE_H
#define UPDATE_H

/*
 * The commands of `reftable update` (update-parse.c): the --stdin
 * language of `git update-ref --stdin` and the command-line forms,
 * parsed into changes, and each change as an update of the ref
 * database. Apart from cmd-update.c so that a fuzz target (t/fuzz) can
 * parse without a stack or a process.
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


const char *update_op_name(enum op op);
/* 1 if the n bytes of oid are all zero. */
int update_is_zero(const uint8_t *oid, size_t n);
/* Location prefix for messages: "<stdin>:3: ", or "" for lineno 0. */
void update_where(struct sbuf *sb, unsigned lineno);

/* Read commands from in, one a line, into t (whose cli and hash_size
 * are set). Exit code, with a message; *aborted on "abort". */
int update_read(struct txn *t, FILE *in, int *aborted);
/* The command-line forms, as a one-command transaction. Exit code. */
int update_parse_args(struct txn *t, struct strlist *args, int del,
		      int symref);
/* The update of the ref database a parsed change asks for; u points
 * into c and t. */
struct reftable_refdb_update;
void update_to_refdb(const struct txn *t, const struct change *c,
		     struct reftable_refdb_update *u);
void update_txn_release(struct txn *t);

#endif
