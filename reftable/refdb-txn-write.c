/* Committing a transaction: its checked updates written as one table. */

#include <stdlib.h>
#include <string.h>

#include "basics.h"
#include "refdb-internal.h"
#include "reftable-error.h"
#include "reftable-stack.h"
#include "reftable-writer.h"

static int cmp_update_name(const void *a, const void *b)
{
	const struct txn_update *const *x = a, *const *y = b;
	return strcmp((*x)->refname, (*y)->refname);
}

/* The ref record of a queued update. */
static int write_ref(struct reftable_refdb_txn *txn, struct reftable_writer *w,
		     const struct txn_update *u)
{
	struct reftable_ref_record rec = { 0 };
	size_t hs = refdb_hash_size(txn->db);

	rec.refname = u->refname;
	rec.update_index = txn->update_index;
	switch (u->new_kind) {
	case REFTABLE_REFDB_NEW_SYMREF:
		rec.value_type = REFTABLE_REF_SYMREF;
		rec.target = u->new_target;
		break;
	case REFTABLE_REFDB_NEW_DELETE:
		rec.value_type = REFTABLE_REF_DELETION;
		break;
	default:
		rec.value_type = u->has_peeled ? REFTABLE_REF_VAL2 :
						 REFTABLE_REF_VAL1;
		memcpy(rec.value, u->new_oid, hs);
		if (u->has_peeled)
			memcpy(rec.peeled, u->new_peeled, hs);
	}
	return reftable_writer_add_ref(w, &rec);
}

static int write_txn_table(struct reftable_writer *w, void *arg)
{
	struct reftable_refdb_txn *txn = arg;
	const struct txn_update **sorted = NULL;
	struct reftable_log_record *logs = NULL;
	size_t i, n = 0, logs_n = 0, logs_cap = 0;
	int err = 0;

	sorted = reftable_calloc(txn->n ? txn->n : 1, sizeof(*sorted));
	if (!sorted)
		return REFTABLE_NOMEM_ERROR;
	for (i = 0; i < txn->n; i++)
		if (txn->u[i].queued)
			sorted[n++] = &txn->u[i];
	qsort(sorted, n, sizeof(*sorted), cmp_update_name);

	/* Logs are computed before any record is written: they read the
	 * view as it was before this transaction. */
	for (i = 0; !err && i < n; i++)
		err = refdb_txn_update_logs(txn, sorted[i], &logs, &logs_n,
					    &logs_cap);
	for (i = 0; !err && i < n; i++)
		/* A verify is queued when it names a symref (its entry in
		 * Git's list), but writes nothing. */
		if (!(sorted[i]->flags & UPD_LOG_ONLY) &&
		    sorted[i]->new_kind != REFTABLE_REFDB_NEW_NONE) {
			err = write_ref(txn, w, sorted[i]);
			txn->records++;
		}
	if (!err)
		err = refdb_write_logs(w, logs, logs_n);
	txn->records += logs_n;
	reftable_refdb_reflog_free(logs, logs_n);
	reftable_free(sorted);
	return err;
}

/* Lock, reload under the lock, check; on failure the lock is released
 * and the transaction is closed. */
int reftable_refdb_txn_prepare(struct reftable_refdb_txn *txn)
{
	int err;

	if (txn->done || txn->add)
		return reftable_fail(REFTABLE_API_ERROR,
				     "transaction already %s",
				     txn->done ? "closed" : "prepared");
	if (txn->spoiled) {
		txn->done = 1;
		return reftable_fail(txn->spoiled,
				     "transaction refused: an update could "
				     "not be added (%s)",
				     reftable_error_str(txn->spoiled));
	}
	/* Lock first, then check: a writer that moved the stack since our
	 * caller read it is reloaded here and checked against. */
	err = reftable_stack_new_addition(&txn->add, txn->db->st,
					  REFTABLE_ADDITION_RELOAD);
	if (!err) {
		txn->update_index = reftable_addition_update_index(txn->add);
		err = refdb_txn_check(txn);
	}
	if (err) {
		reftable_addition_destroy(txn->add);
		txn->add = NULL;
		txn->done = 1;
	}
	return err;
}

int reftable_refdb_txn_commit(struct reftable_refdb_txn *txn)
{
	int err = 0;

	if (txn->done)
		return reftable_fail(REFTABLE_API_ERROR,
				     "transaction already closed");
	if (!txn->add)
		err = reftable_refdb_txn_prepare(txn);
	if (err)
		return err;
	txn->done = 1;
	err = reftable_addition_add(txn->add, write_txn_table, txn);
	if (!err)
		err = reftable_addition_commit(txn->add);
	if (!err && txn->records)
		txn->written_index = txn->update_index;
	reftable_addition_destroy(txn->add);
	txn->add = NULL;
	return err;
}
