/* The reflog entries a transaction writes for its updates. */

#include <string.h>

#include "basics.h"
#include "refdb-internal.h"
#include "reftable-error.h"

static int should_log(struct reftable_refdb *db, const char *name)
{
	if (db->log_policy == REFTABLE_REFDB_LOG_ALWAYS)
		return 1;
	if (db->log_policy == REFTABLE_REFDB_LOG_NORMAL &&
	    (!strcmp(name, "HEAD") || !strncmp(name, "refs/heads/", 11) ||
	     !strncmp(name, "refs/remotes/", 13) ||
	     !strncmp(name, "refs/notes/", 11)))
		return 1;
	return refdb_log_exists(db, name);
}

static int push_log(struct reftable_log_record **logs, size_t *n, size_t *cap,
		    struct reftable_log_record **out)
{
	if (REFTABLE_GROW(*logs, *cap, *n + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	*out = &(*logs)[(*n)++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

/* Who made update u: its own committer, the transaction's, or NULL for
 * the database default. */
static const struct reftable_refdb_ident *
update_ident(const struct reftable_refdb_txn *txn, const struct txn_update *u,
	     struct reftable_refdb_ident *id)
{
	const struct txn_ident *who = u->who.set ? &u->who :
				      txn->who.set ? &txn->who : NULL;

	if (!who)
		return NULL;
	id->name = who->name;
	id->email = who->email;
	id->time = who->time;
	id->tz_offset = who->tz_offset;
	return id;
}

/* The reflog records of one queued update, appended to logs. */
int refdb_txn_update_logs(struct reftable_refdb_txn *txn,
			  const struct txn_update *u,
			  struct reftable_log_record **logs, size_t *n,
			  size_t *cap)
{
	struct reftable_refdb *db = txn->db;
	struct reftable_log_record *log, *old = NULL;
	struct reftable_ref_record res = { 0 };
	size_t hs = refdb_hash_size(db), old_n = 0, i;
	struct reftable_refdb_ident id;
	struct buf msg = BUF_INIT;
	int err = 0;

	if (u->new_kind == REFTABLE_REFDB_NEW_DELETE && !u->is_symref) {
		/* Deleting a ref deletes its reflog, entry by entry. */
		err = refdb_collect_logs(db, u->refname, &old, &old_n);
		for (i = 0; !err && i < old_n; i++)
			err = refdb_push_log_deletion(logs, n, cap, u->refname,
						      old[i].update_index);
		reftable_refdb_reflog_free(old, old_n);
		return err;
	}
	if (u->new_kind == REFTABLE_REFDB_NEW_NONE ||
	    (u->flags & REFTABLE_REFDB_SKIP_LOG))
		return 0;
	if (!(u->flags & REFTABLE_REFDB_FORCE_LOG)) {
		err = should_log(db, u->refname);
		if (err <= 0)
			return err;
	}
	if (u->new_kind == REFTABLE_REFDB_NEW_SYMREF) {
		/* Git logs a symref update with the id of its target, and
		 * skips the entry when the target does not resolve. */
		err = refdb_resolve_loaded(db, u->new_target, &res);
		if (err) {
			reftable_ref_record_release(&res);
			return err == 1 || err == REFTABLE_SYMREF_ERROR ? 0 : err;
		}
	}
	err = push_log(logs, n, cap, &log);
	if (!err)
		err = refdb_normalize_message(db, &msg, u->message);
	if (!err)
		err = refdb_fill_ident(db, log, update_ident(txn, u, &id));
	if (!err &&
	    (refdb_own_str(&log->refname, &log->refname_cap, u->refname) < 0 ||
	     refdb_own_str(&log->message, &log->message_cap,
			   (const char *)msg.data) < 0))
		err = REFTABLE_NOMEM_ERROR;
	if (!err) {
		log->update_index = txn->update_index;
		log->value_type = REFTABLE_LOG_UPDATE;
		memcpy(log->old_id, u->current, hs);
		if (u->new_kind == REFTABLE_REFDB_NEW_OID)
			memcpy(log->new_id, u->new_oid, hs);
		else if (u->new_kind == REFTABLE_REFDB_NEW_SYMREF)
			memcpy(log->new_id, reftable_ref_record_val1(&res), hs);
	}
	buf_release(&msg);
	reftable_ref_record_release(&res);
	return err;
}

