/* Git's directory/file conflicts: refs/a and refs/a/b cannot both exist. */

#define RT_DB_FIXTURE
#include "test-refdb-helpers.h"

/* --- directory/file conflicts ------------------------------------------- */

START_TEST(df_conflicts_with_existing_refs)
{
	uint64_t idx;

	rt_ok(rt_update(db, "refs/heads/a", rt_oid(1), NULL, NULL));
	rt_ok(rt_update(db, "refs/heads/b/c", rt_oid(1), NULL, NULL));
	idx = rt_next_index(db);

	rt_fails(rt_update(db, "refs/heads/a/b", rt_oid(2), NULL, NULL),
		 REFTABLE_NAME_CONFLICT_ERROR);
	rt_detail_has("'refs/heads/a' exists; cannot create 'refs/heads/a/b'");
	rt_fails(rt_update(db, "refs/heads/a/b/c/d", rt_oid(2), NULL, NULL),
		 REFTABLE_NAME_CONFLICT_ERROR);
	rt_fails(rt_update(db, "refs/heads/b", rt_oid(2), NULL, NULL),
		 REFTABLE_NAME_CONFLICT_ERROR);
	rt_detail_has("'refs/heads/b/c' exists; cannot create 'refs/heads/b'");
	/* A symref is a ref too. */
	rt_fails(rt_symref(db, "refs/heads/a/s", "refs/heads/a"),
		 REFTABLE_NAME_CONFLICT_ERROR);
	/* Git checks deletions and verifications of missing refs as well. */
	rt_fails(rt_delete(db, "refs/heads/a/x", NULL),
		 REFTABLE_NAME_CONFLICT_ERROR);
	ck_assert_uint_eq(rt_next_index(db), idx);

	/* Neighbours that are not directories of each other. */
	rt_ok(rt_update(db, "refs/heads/ab", rt_oid(3), NULL, NULL));
	rt_ok(rt_update(db, "refs/heads/a-b", rt_oid(3), NULL, NULL));
	rt_ok(rt_update(db, "refs/heads/a.b", rt_oid(3), NULL, NULL));
	rt_ok(rt_update(db, "refs/heads/b0", rt_oid(3), NULL, NULL));
	rt_ok(rt_update(db, "refs/heads/b.c", rt_oid(3), NULL, NULL));

	/* Updating an existing ref never conflicts. */
	rt_ok(rt_update(db, "refs/heads/a", rt_oid(4), rt_oid(1), NULL));

	/* Once a ref is deleted (a tombstone remains), its name is free. */
	rt_ok(rt_delete(db, "refs/heads/a", rt_oid(4)));
	rt_ok(rt_update(db, "refs/heads/a/b", rt_oid(5), rt_oid(0), NULL));
	rt_assert_ref(db, "refs/heads/a/b", 5);
}
END_TEST

START_TEST(df_conflicts_within_a_transaction)
{
	struct reftable_refdb_txn *txn = NULL;

	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/x", rt_oid(1), 0, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/x/y", rt_oid(1), 0, NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_NAME_CONFLICT_ERROR);
	rt_detail_has("cannot process 'refs/heads/x' and 'refs/heads/x/y' at "
		      "the same time");
	reftable_refdb_txn_free(txn);

	/* As in Git, a deletion in the same transaction does not free the
	 * name: "cannot process refs/heads/d and refs/heads/d/e at the same
	 * time". Delete first, create in a later transaction. */
	rt_ok(rt_update(db, "refs/heads/d", rt_oid(1), NULL, NULL));
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_delete(txn, "refs/heads/d", rt_oid(1), 0, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/d/e", rt_oid(2), 0, NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_NAME_CONFLICT_ERROR);
	rt_detail_has("refs/heads/d/e");
	reftable_refdb_txn_free(txn);
	rt_assert_ref(db, "refs/heads/d", 1);

	/* The other way round: the existing ref lies below the new name. */
	rt_ok(rt_update(db, "refs/heads/p/q", rt_oid(1), NULL, NULL));
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_delete(txn, "refs/heads/p/q", NULL, 0, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/p", rt_oid(2), 0, NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_NAME_CONFLICT_ERROR);
	reftable_refdb_txn_free(txn);

	rt_ok(rt_delete(db, "refs/heads/d", rt_oid(1)));
	rt_ok(rt_update(db, "refs/heads/d/e", rt_oid(2), rt_oid(0), NULL));

	/* Siblings in one transaction are fine. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/s/1", rt_oid(1), 0, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/s/2", rt_oid(1), 0, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/s-3", rt_oid(1), 0, NULL));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("refdb-df-conflicts");
	TCase *tc = tcase_create("df-conflicts");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, df_conflicts_with_existing_refs);
	tcase_add_test(tc, df_conflicts_within_a_transaction);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(suite());
}
