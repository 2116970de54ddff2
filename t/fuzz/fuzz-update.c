/*
 * The --stdin language of `reftable update` from arbitrary bytes,
 * through the command's own parser (cli/update-parse.c, with and without
 * -z), then, when it holds changes and no verbs, run as one transaction
 * on an empty ref database. Properties:
 * - every ref a parsed step names, and every symref target it writes,
 *   is a well-formed name (one level allowed, as Git reads them);
 * - the steps parsed before any malformed line, formatted back into
 *   commands and parsed again, are the same steps, and parse cleanly;
 * - the transaction commits or fails with a documented code; after a
 *   commit, a ref written without following symrefs holds what its
 *   command said, as a fresh handle reads it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "update.h"

static struct cli quiet = { .cmd = "update", .quiet = 1 };

static int parse(const void *data, size_t size, size_t hash_size, int nul,
		 struct txn *t)
{
	FILE *f;

	memset(t, 0, sizeof(*t));
	t->cli = &quiet;
	t->hash_size = hash_size;
	t->message = "fuzz";
	t->nul_input = nul;
	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	FUZZ_CHECK(f);
	update_read(t, f);
	fclose(f);
	return t->error != NULL;
}

/* A ref name as a command argument: C-quoted if it starts with a quote
 * (the only well-formed names the plain form cannot carry). */
static void add_name(struct sbuf *out, const char *name)
{
	sbuf_addch(out, ' ');
	if (name[0] != '"') {
		sbuf_addstr(out, name);
		return;
	}
	sbuf_addch(out, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			sbuf_addch(out, '\\');
		sbuf_addch(out, *p);
	}
	sbuf_addch(out, '"');
}

static void add_oid(struct sbuf *out, const uint8_t *oid, size_t n)
{
	char hex[2 * REFTABLE_HASH_SIZE_MAX + 1];

	hex_encode(hex, oid, n);
	sbuf_addf(out, " %s", hex);
}

/* One step as the command that asks for it. */
static void format_change(struct sbuf *out, const struct txn *t,
			  const struct change *c)
{
	if (update_op_is_verb(c->op)) {
		sbuf_addf(out, "%s\n", update_op_name(c->op));
		return;
	}
	if (c->no_deref)
		sbuf_addstr(out, "option no-deref\n");
	sbuf_addstr(out, update_op_name(c->op));
	add_name(out, c->ref);
	if (c->op == OP_UPDATE || c->op == OP_CREATE)
		add_oid(out, c->new_oid, t->hash_size);
	if (c->new_target)
		add_name(out, c->new_target);
	if (c->old == OLD_TARGET && c->op == OP_SYMREF_UPDATE)
		sbuf_addstr(out, " ref");
	if (c->old == OLD_TARGET)
		add_name(out, c->old_target);
	if (c->old == OLD_OID && c->op == OP_SYMREF_UPDATE)
		sbuf_addstr(out, " oid");
	/* verify and symref-verify without an old value mean "absent". */
	if (c->old == OLD_OID && c->op != OP_SYMREF_VERIFY)
		add_oid(out, c->old_oid, t->hash_size);
	sbuf_addch(out, '\n');
}

static int str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int change_equal(const struct change *a, const struct change *b,
			size_t n)
{
	return a->op == b->op && str_same(a->ref, b->ref) &&
	       a->no_deref == b->no_deref && a->old == b->old &&
	       !memcmp(a->new_oid, b->new_oid, n) &&
	       !memcmp(a->old_oid, b->old_oid, n) &&
	       str_same(a->new_target, b->new_target) &&
	       str_same(a->old_target, b->old_target);
}

static void check_reparse(const struct txn *t)
{
	struct sbuf text = SBUF_INIT;
	struct txn again;

	for (size_t i = 0; i < t->n; i++)
		format_change(&text, t, &t->ch[i]);
	FUZZ_CHECK(!parse(text.buf, text.len, t->hash_size, 0, &again));
	FUZZ_CHECK(again.n == t->n);
	for (size_t i = 0; i < t->n; i++)
		FUZZ_CHECK(change_equal(&t->ch[i], &again.ch[i], t->hash_size));
	update_txn_release(&again);
	sbuf_release(&text);
}

/* What a committed change written without following symrefs left. */
static void check_landed(struct reftable_refdb *db, const struct txn *t,
			 const struct change *c)
{
	struct reftable_ref_record ref = { 0 };
	int err = reftable_refdb_read_ref(db, c->ref, &ref);

	FUZZ_CHECK(err >= 0);
	switch (c->op) {
	case OP_SYMREF_UPDATE:
	case OP_SYMREF_CREATE:
		FUZZ_CHECK(!err && ref.value_type == REFTABLE_REF_SYMREF &&
			   !strcmp(ref.target, c->new_target));
		break;
	case OP_DELETE:
	case OP_SYMREF_DELETE:
		FUZZ_CHECK(err == 1);
		break;
	case OP_UPDATE:
	case OP_CREATE:
		if (update_is_zero(c->new_oid, t->hash_size)) {
			FUZZ_CHECK(err == 1);
			break;
		}
		FUZZ_CHECK(!err && ref.value_type == REFTABLE_REF_VAL1 &&
			   !memcmp(ref.value, c->new_oid, t->hash_size));
		break;
	default:
		break;
	}
	reftable_ref_record_release(&ref);
}

/* Each ref once, so that what it holds afterwards is its command's. */
static int refs_distinct(const struct txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t->ch[i].ref, t->ch[j].ref))
				return 0;
	return 1;
}

static void run(const struct txn *t, enum reftable_hash hash)
{
	struct reftable_refdb_ident who = { "F", "f@x", 1700000000, 0 };
	struct reftable_refdb_options o;
	struct reftable_refdb *db = NULL;
	struct reftable_refdb_txn *tx = NULL;
	int err;

	fuzz_dir_clear();
	reftable_refdb_options_init(&o);
	o.stack.create = 1;
	o.stack.disable_fsync = 1;
	o.stack.write.hash_id = hash;
	FUZZ_CHECK(!reftable_refdb_open(&db, fuzz_dir(), &o));
	FUZZ_CHECK(!reftable_refdb_txn_begin(&tx, db, &who));
	err = 0;
	for (size_t i = 0; !err && i < t->n; i++) {
		struct reftable_refdb_update u;

		update_to_refdb(t, &t->ch[i], &u);
		err = reftable_refdb_txn_add(tx, &u);
	}
	if (!err)
		err = reftable_refdb_txn_commit(tx);
	FUZZ_CHECK(err >= 0 || fuzz_known_error(err));
	/* A ref changed twice is the caller's mistake, refused as such. */
	FUZZ_CHECK(err != REFTABLE_IO_ERROR &&
		   (err != REFTABLE_API_ERROR || !refs_distinct(t)));
	reftable_refdb_txn_free(tx);
	reftable_refdb_close(db);
	if (err || !refs_distinct(t))
		return;
	FUZZ_CHECK(!reftable_refdb_open(&db, fuzz_dir(), &o));
	for (size_t i = 0; i < t->n; i++)
		if (t->ch[i].no_deref)
			check_landed(db, t, &t->ch[i]);
	reftable_refdb_close(db);
}

/* Every name a parsed step holds is well formed. */
static void check_names(const struct txn *t)
{
	const unsigned one = REFTABLE_REFNAME_ALLOW_ONELEVEL;

	for (size_t i = 0; i < t->n; i++) {
		const struct change *c = &t->ch[i];

		FUZZ_CHECK((c->ref == NULL) == update_op_is_verb(c->op));
		if (c->ref)
			FUZZ_CHECK(!reftable_refname_check_format(c->ref, one));
		if (c->new_target)
			FUZZ_CHECK(!reftable_refname_check_format(c->new_target,
								  one));
	}
}

static int has_verbs(const struct txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (update_op_is_verb(t->ch[i].op))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum reftable_hash hash = REFTABLE_HASH_SHA1;
	struct txn t;
	int failed;

	/* -z: the same properties of the steps, no run. */
	parse(data, size, REFTABLE_HASH_SIZE_SHA1, 1, &t);
	check_names(&t);
	update_txn_release(&t);

	failed = parse(data, size, REFTABLE_HASH_SIZE_SHA1, 0, &t);
	if (failed && !t.n) {
		update_txn_release(&t);
		hash = REFTABLE_HASH_SHA256;
		failed = parse(data, size, REFTABLE_HASH_SIZE_SHA256, 0, &t);
	}
	check_names(&t);
	check_reparse(&t);
	if (!failed && !has_verbs(&t))
		run(&t, hash);
	update_txn_release(&t);
	return 0;
}
