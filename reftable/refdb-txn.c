/*
 * Transactions of the ref database: updates are collected here, then
 * checked (refdb-txn-check.c) and written as one table (refdb-txn-write.c,
 * reflog entries by refdb-txn-log.c) while tables.list.lock is held. The
 * checks follow Git's reftable backend: symrefs are followed by splitting
 * an update in two, the ref HEAD points to also logs to HEAD, and names
 * that would be a directory of each other are refused.
 */

#include <string.h>

#include "basics.h"
#include "refdb-internal.h"
#include "reftable-error.h"
#include "reftable-refdb.h"
#include "reftable-stack.h"

#define PUBLIC_FLAGS                                                     \
	(REFTABLE_REFDB_NO_DEREF | REFTABLE_REFDB_FORCE_LOG |            \
	 REFTABLE_REFDB_SKIP_LOG | REFTABLE_REFDB_SKIP_NAME_CHECK)

static void ident_release(struct txn_ident *who)
{
	reftable_free(who->name);
	reftable_free(who->email);
	memset(who, 0, sizeof(*who));
}

int refdb_txn_ident_copy(struct txn_ident *dst,
			 const struct reftable_refdb_ident *src)
{
	memset(dst, 0, sizeof(*dst));
	if (!src)
		return 0;
	dst->set = 1;
	dst->time = src->time;
	dst->tz_offset = src->tz_offset;
	if (refdb_dup_or_empty(&dst->name, src->name) < 0 ||
	    refdb_dup_or_empty(&dst->email, src->email) < 0) {
		ident_release(dst);
		return REFTABLE_NOMEM_ERROR;
	}
	return 0;
}

static void update_release(struct txn_update *u)
{
	reftable_free(u->refname);
	reftable_free(u->via);
	reftable_free(u->new_target);
	reftable_free(u->old_target);
	reftable_free(u->message);
	ident_release(&u->who);
	memset(u, 0, sizeof(*u));
}

int reftable_refdb_txn_begin(struct reftable_refdb_txn **out,
			     struct reftable_refdb *db,
			     const struct reftable_refdb_ident *committer)
{
	struct reftable_refdb_txn *txn = reftable_calloc(1, sizeof(*txn));

	*out = NULL;
	if (!txn)
		return REFTABLE_NOMEM_ERROR;
	txn->db = db;
	if (refdb_txn_ident_copy(&txn->who, committer) < 0) {
		reftable_free(txn);
		return REFTABLE_NOMEM_ERROR;
	}
	*out = txn;
	return 0;
}

void reftable_refdb_txn_free(struct reftable_refdb_txn *txn)
{
	size_t i;

	if (!txn)
		return;
	for (i = 0; i < txn->n; i++)
		update_release(&txn->u[i]);
	reftable_free(txn->u);
	reftable_free(txn->names);
	ident_release(&txn->who);
	/* A prepared transaction dropped: its lock goes, nothing written. */
	reftable_addition_destroy(txn->add);
	reftable_free(txn);
}

uint64_t reftable_refdb_txn_update_index(const struct reftable_refdb_txn *txn)
{
	return txn->written_index;
}

int refdb_dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = reftable_strdup(src);
	return *dst ? 0 : REFTABLE_NOMEM_ERROR;
}

/* Check an update as the caller gave it; 0 or an error with detail. */
static int validate_update(const struct reftable_refdb_txn *txn,
			   const struct reftable_refdb_update *u)
{
	const struct reftable_refdb *db = txn->db;
	const char *name = u->refname;
	int err;

	if (!name || !*name)
		return reftable_fail(REFTABLE_API_ERROR,
				     "update without a ref name");
	if (u->flags & ~(unsigned)PUBLIC_FLAGS)
		return reftable_fail(REFTABLE_API_ERROR,
				     "%s: unknown update flags 0x%x", name,
				     u->flags & ~(unsigned)PUBLIC_FLAGS);
	if ((u->flags & REFTABLE_REFDB_FORCE_LOG) &&
	    (u->flags & REFTABLE_REFDB_SKIP_LOG))
		return reftable_fail(REFTABLE_API_ERROR,
				     "%s: FORCE_LOG and SKIP_LOG together",
				     name);
	/* Git's two rules: a name set to an object id must be well formed;
	 * one deleted, verified or made a symref must be "safe". */
	if (!(u->flags & REFTABLE_REFDB_SKIP_NAME_CHECK)) {
		int sets_oid = u->new_kind == REFTABLE_REFDB_NEW_OID &&
			       u->new_oid && !refdb_is_null(db, u->new_oid);
		err = sets_oid ? reftable_refname_check_writable(
					 name, db->allow_pseudorefs) :
				 reftable_refname_check_safe(
					 name, db->allow_pseudorefs);
		if (err)
			return err;
	}
	switch (u->new_kind) {
	case REFTABLE_REFDB_NEW_NONE:
		if (u->old_kind == REFTABLE_REFDB_OLD_ANY)
			return reftable_fail(REFTABLE_API_ERROR,
					     "%s: verify without an expected "
					     "value", name);
		break;
	case REFTABLE_REFDB_NEW_OID:
		if (!u->new_oid)
			return reftable_fail(REFTABLE_API_ERROR,
					     "%s: new object id missing", name);
		break;
	case REFTABLE_REFDB_NEW_SYMREF:
		if (!u->new_target)
			return reftable_fail(REFTABLE_API_ERROR,
					     "%s: symref target missing", name);
		err = reftable_refname_check_format(
			u->new_target, REFTABLE_REFNAME_ALLOW_ONELEVEL);
		if (err)
			return err;
		break;
	case REFTABLE_REFDB_NEW_DELETE:
		break;
	default:
		return reftable_fail(REFTABLE_API_ERROR,
				     "%s: unknown kind of new value %d", name,
				     (int)u->new_kind);
	}
	switch (u->old_kind) {
	case REFTABLE_REFDB_OLD_ANY:
	case REFTABLE_REFDB_OLD_ABSENT:
		break;
	case REFTABLE_REFDB_OLD_OID:
		if (!u->old_oid)
			return reftable_fail(REFTABLE_API_ERROR,
					     "%s: expected object id missing",
					     name);
		break;
	case REFTABLE_REFDB_OLD_SYMREF:
		if (!u->old_target)
			return reftable_fail(REFTABLE_API_ERROR,
					     "%s: expected symref target missing",
					     name);
		break;
	default:
		return reftable_fail(REFTABLE_API_ERROR,
				     "%s: unknown kind of old value %d", name,
				     (int)u->old_kind);
	}
	return 0;
}

/* Append a zeroed update; returns its index or a negative error. */
int refdb_txn_push_update(struct reftable_refdb_txn *txn, size_t *idx)
{
	if (REFTABLE_GROW(txn->u, txn->cap, txn->n + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	memset(&txn->u[txn->n], 0, sizeof(txn->u[0]));
	*idx = txn->n++;
	return 0;
}

/* Fill t from the caller's u, normalizing null ids into kinds. */
static int fill_update(struct reftable_refdb_txn *txn, struct txn_update *t,
		       const struct reftable_refdb_update *u)
{
	size_t hs = refdb_hash_size(txn->db);
	int err;

	t->flags = u->flags;
	t->new_kind = u->new_kind;
	t->old_kind = u->old_kind;
	if (u->new_kind == REFTABLE_REFDB_NEW_OID) {
		memcpy(t->new_oid, u->new_oid, hs);
		/* A null new value is a deletion, as in Git. */
		if (refdb_is_null(txn->db, t->new_oid))
			t->new_kind = REFTABLE_REFDB_NEW_DELETE;
		if (u->new_peeled) {
			memcpy(t->new_peeled, u->new_peeled, hs);
			t->has_peeled = 1;
		}
	}
	if (u->old_kind == REFTABLE_REFDB_OLD_OID) {
		memcpy(t->old_oid, u->old_oid, hs);
		if (refdb_is_null(txn->db, t->old_oid))
			t->old_kind = REFTABLE_REFDB_OLD_ABSENT;
	}
	err = refdb_dup_opt(&t->refname, u->refname);
	if (!err && u->new_kind == REFTABLE_REFDB_NEW_SYMREF)
		err = refdb_dup_opt(&t->new_target, u->new_target);
	if (!err && u->old_kind == REFTABLE_REFDB_OLD_SYMREF)
		err = refdb_dup_opt(&t->old_target, u->old_target);
	if (!err)
		err = refdb_dup_opt(&t->message, u->message);
	if (!err)
		err = refdb_txn_ident_copy(&t->who, u->committer);
	return err;
}

int reftable_refdb_txn_add(struct reftable_refdb_txn *txn,
			   const struct reftable_refdb_update *u)
{
	size_t idx;
	int err;

	if (txn->done || txn->add)
		return reftable_fail(REFTABLE_API_ERROR,
				     "transaction already %s",
				     txn->add ? "prepared" : "closed");
	err = validate_update(txn, u);
	if (!err)
		err = refdb_txn_push_update(txn, &idx);
	if (!err) {
		err = fill_update(txn, &txn->u[idx], u);
		if (err) {
			update_release(&txn->u[idx]);
			txn->n--;
		}
	}
	if (err && !txn->spoiled)
		txn->spoiled = err;
	return err;
}

int reftable_refdb_txn_update(struct reftable_refdb_txn *txn,
			      const char *refname, const uint8_t *new_oid,
			      const uint8_t *old_oid, unsigned flags,
			      const char *message)
{
	struct reftable_refdb_update u = {
		.refname = refname,
		.new_kind = REFTABLE_REFDB_NEW_OID,
		.new_oid = new_oid,
		.old_kind = old_oid ? REFTABLE_REFDB_OLD_OID :
				      REFTABLE_REFDB_OLD_ANY,
		.old_oid = old_oid,
		.message = message,
		.flags = flags,
	};
	return reftable_refdb_txn_add(txn, &u);
}

int reftable_refdb_txn_create(struct reftable_refdb_txn *txn,
			      const char *refname, const uint8_t *new_oid,
			      unsigned flags, const char *message)
{
	struct reftable_refdb_update u = {
		.refname = refname,
		.new_kind = REFTABLE_REFDB_NEW_OID,
		.new_oid = new_oid,
		.old_kind = REFTABLE_REFDB_OLD_ABSENT,
		.message = message,
		.flags = flags,
	};
	return reftable_refdb_txn_add(txn, &u);
}

int reftable_refdb_txn_delete(struct reftable_refdb_txn *txn,
			      const char *refname, const uint8_t *old_oid,
			      unsigned flags, const char *message)
{
	struct reftable_refdb_update u = {
		.refname = refname,
		.new_kind = REFTABLE_REFDB_NEW_DELETE,
		.old_kind = old_oid ? REFTABLE_REFDB_OLD_OID :
				      REFTABLE_REFDB_OLD_ANY,
		.old_oid = old_oid,
		.message = message,
		.flags = flags,
	};
	return reftable_refdb_txn_add(txn, &u);
}

int reftable_refdb_txn_verify(struct reftable_refdb_txn *txn,
			      const char *refname, const uint8_t *old_oid,
			      unsigned flags)
{
	struct reftable_refdb_update u = {
		.refname = refname,
		.new_kind = REFTABLE_REFDB_NEW_NONE,
		.old_kind = old_oid ? REFTABLE_REFDB_OLD_OID :
				      REFTABLE_REFDB_OLD_ANY,
		.old_oid = old_oid,
		.flags = flags,
	};
	return reftable_refdb_txn_add(txn, &u);
}

int reftable_refdb_txn_symref(struct reftable_refdb_txn *txn,
			      const char *refname, const char *target,
			      const char *old_target, unsigned flags,
			      const char *message)
{
	struct reftable_refdb_update u = {
		.refname = refname,
		.new_kind = REFTABLE_REFDB_NEW_SYMREF,
		.new_target = target,
		.old_kind = old_target ? REFTABLE_REFDB_OLD_SYMREF :
					 REFTABLE_REFDB_OLD_ANY,
		.old_target = old_target,
		.message = message,
		.flags = flags | REFTABLE_REFDB_NO_DEREF,
	};
	return reftable_refdb_txn_add(txn, &u);
}
