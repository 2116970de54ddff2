/* Symrefs: resolving (depth, cycles), compare-and-swap, updating through. */

#define RT_DB_FIXTURE
#include "test-refdb-helpers.h"

/* --- symrefs -------------------------------------------------------------- */

START_TEST(symref_read_and_resolve)
{
	struct reftable_ref_record ref = { 0 };

	rt_ok(rt_symref(db, "HEAD", "refs/heads/main"));
	rt_ok(reftable_refdb_read_ref(db, "HEAD", &ref));
	ck_assert_int_eq(ref.value_type, REFTABLE_REF_SYMREF);
	ck_assert_str_eq(ref.target, "refs/heads/main");

	/* Unborn branch: resolve names the missing ref. */
	ck_assert_int_eq(reftable_refdb_resolve(db, "HEAD", &ref), 1);
	ck_assert_str_eq(ref.refname, "refs/heads/main");
	ck_assert_int_eq(ref.value_type, REFTABLE_REF_DELETION);

	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), NULL, NULL));
	rt_ok(reftable_refdb_resolve(db, "HEAD", &ref));
	ck_assert_str_eq(ref.refname, "refs/heads/main");
	ck_assert_int_eq(ref.value_type, REFTABLE_REF_VAL1);
	ck_assert(!memcmp(ref.value, rt_oid(1), 20));

	/* Resolving a regular ref gives the ref itself. */
	rt_ok(reftable_refdb_resolve(db, "refs/heads/main", &ref));
	ck_assert_str_eq(ref.refname, "refs/heads/main");
	reftable_ref_record_release(&ref);
}
END_TEST

/* Git reads at most 5 refs: 4 symrefs and the final ref. */
START_TEST(symref_depth_limit)
{
	struct reftable_ref_record ref = { 0 };

	rt_ok(rt_update(db, "refs/heads/end", rt_oid(1), NULL, NULL));
	rt_ok(rt_symref(db, "refs/s/1", "refs/heads/end"));
	rt_ok(rt_symref(db, "refs/s/2", "refs/s/1"));
	rt_ok(rt_symref(db, "refs/s/3", "refs/s/2"));
	rt_ok(rt_symref(db, "refs/s/4", "refs/s/3"));
	rt_ok(rt_symref(db, "refs/s/5", "refs/s/4"));

	rt_ok(reftable_refdb_resolve(db, "refs/s/4", &ref));
	ck_assert_str_eq(ref.refname, "refs/heads/end");
	rt_fails(reftable_refdb_resolve(db, "refs/s/5", &ref),
		 REFTABLE_SYMREF_ERROR);
	rt_detail_has("refs/s/5");
	rt_detail_has("levels");
	/* Updates follow the same limit. */
	rt_ok(rt_update(db, "refs/s/4", rt_oid(2), rt_oid(1), NULL));
	rt_assert_ref(db, "refs/heads/end", 2);
	rt_fails(rt_update(db, "refs/s/5", rt_oid(3), NULL, NULL),
		 REFTABLE_SYMREF_ERROR);
	rt_assert_ref(db, "refs/heads/end", 2);
	reftable_ref_record_release(&ref);
}
END_TEST

START_TEST(symref_cycles)
{
	struct reftable_ref_record ref = { 0 };

	rt_ok(rt_symref(db, "refs/c/a", "refs/c/b"));
	rt_ok(rt_symref(db, "refs/c/b", "refs/c/a"));
	rt_fails(reftable_refdb_resolve(db, "refs/c/a", &ref),
		 REFTABLE_SYMREF_ERROR);
	rt_detail_has("cycle");
	rt_ok(rt_symref(db, "refs/c/self", "refs/c/self"));
	rt_fails(reftable_refdb_resolve(db, "refs/c/self", &ref),
		 REFTABLE_SYMREF_ERROR);
	rt_detail_has("cycle");
	/* An update cannot follow the cycle... */
	rt_fails(rt_update(db, "refs/c/a", rt_oid(1), rt_oid(2), NULL),
		 REFTABLE_SYMREF_ERROR);
	rt_detail_has("cycle");
	rt_fails(rt_update(db, "refs/c/self", rt_oid(1), NULL, NULL),
		 REFTABLE_SYMREF_ERROR);
	/* ...but can repair it by writing the symref itself. */
	{
		struct reftable_refdb_txn *txn = NULL;
		rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
		rt_ok(reftable_refdb_txn_update(txn, "refs/c/self", rt_oid(1),
						NULL, REFTABLE_REFDB_NO_DEREF,
						NULL));
		rt_ok(reftable_refdb_txn_commit(txn));
		reftable_refdb_txn_free(txn);
		rt_assert_ref(db, "refs/c/self", 1);
	}
	/* Without following, the old value cannot be checked. */
	{
		struct reftable_refdb_txn *txn = NULL;
		rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
		rt_ok(reftable_refdb_txn_update(txn, "refs/c/a", rt_oid(1),
						rt_oid(2),
						REFTABLE_REFDB_NO_DEREF, NULL));
		rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_CAS_ERROR);
		rt_detail_has("does not resolve");
		reftable_refdb_txn_free(txn);
	}
	reftable_ref_record_release(&ref);
}
END_TEST

START_TEST(symref_compare_and_swap)
{
	struct reftable_refdb_txn *txn = NULL;
	struct reftable_ref_record ref = { 0 };

	rt_ok(rt_symref(db, "HEAD", "refs/heads/main"));
	rt_ok(rt_update(db, "refs/heads/other", rt_oid(1), NULL, NULL));

	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_symref(txn, "HEAD", "refs/heads/other",
					"refs/heads/wrong", 0, NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_CAS_ERROR);
	rt_detail_has("points to refs/heads/main");
	reftable_refdb_txn_free(txn);

	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_symref(txn, "refs/heads/other", "refs/heads/x",
					"refs/heads/main", 0, NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_CAS_ERROR);
	rt_detail_has("regular ref");
	reftable_refdb_txn_free(txn);

	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_symref(txn, "refs/remotes/o/HEAD",
					"refs/remotes/o/main", "refs/x", 0,
					NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_CAS_ERROR);
	rt_detail_has("does not exist");
	reftable_refdb_txn_free(txn);

	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_symref(txn, "HEAD", "refs/heads/other",
					"refs/heads/main", 0, "checkout"));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	rt_ok(reftable_refdb_read_ref(db, "HEAD", &ref));
	ck_assert_str_eq(ref.target, "refs/heads/other");
	reftable_ref_record_release(&ref);
}
END_TEST

/* Updating a symref without NO_DEREF writes the ref it points to. */
START_TEST(updates_follow_symrefs)
{
	struct reftable_ref_record ref = { 0 };
	struct reftable_refdb_txn *txn = NULL;

	rt_ok(rt_symref(db, "HEAD", "refs/heads/main"));
	/* Unborn: the first commit creates the branch through HEAD. */
	rt_ok(rt_update(db, "HEAD", rt_oid(1), rt_oid(0), "commit (initial)"));
	rt_assert_ref(db, "refs/heads/main", 1);
	rt_ok(reftable_refdb_read_ref(db, "HEAD", &ref));
	ck_assert_int_eq(ref.value_type, REFTABLE_REF_SYMREF);

	rt_ok(rt_update(db, "HEAD", rt_oid(2), rt_oid(1), "commit"));
	rt_assert_ref(db, "refs/heads/main", 2);
	/* The expectation is checked on the target. */
	rt_fails(rt_update(db, "HEAD", rt_oid(3), rt_oid(1), NULL),
		 REFTABLE_CAS_ERROR);
	rt_detail_has("refs/heads/main (via HEAD)");

	/* Through two levels. */
	rt_ok(rt_symref(db, "refs/remotes/o/HEAD", "refs/remotes/o/main"));
	rt_ok(rt_symref(db, "refs/alias", "refs/remotes/o/HEAD"));
	rt_ok(rt_update(db, "refs/alias", rt_oid(4), NULL, NULL));
	rt_assert_ref(db, "refs/remotes/o/main", 4);

	/* The same ref directly and through a symref: refused. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/main", rt_oid(5), NULL,
					0, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/remotes/o/HEAD", rt_oid(5),
					NULL, 0, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/remotes/o/main", rt_oid(5),
					NULL, 0, NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_NAME_CONFLICT_ERROR);
	rt_detail_has("via symref 'refs/remotes/o/HEAD'");
	reftable_refdb_txn_free(txn);

	/* NO_DEREF detaches HEAD. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "HEAD", rt_oid(6), rt_oid(2),
					REFTABLE_REFDB_NO_DEREF, "detach"));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	rt_assert_ref(db, "HEAD", 6);
	rt_assert_ref(db, "refs/heads/main", 2);
	reftable_ref_record_release(&ref);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("refdb-symref");
	TCase *tc = tcase_create("symref");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, symref_read_and_resolve);
	tcase_add_test(tc, symref_depth_limit);
	tcase_add_test(tc, symref_cycles);
	tcase_add_test(tc, symref_compare_and_swap);
	tcase_add_test(tc, updates_follow_symrefs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(suite());
}
