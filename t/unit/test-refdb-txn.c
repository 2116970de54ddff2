/* Transactions: create, update, delete, verify; CAS; all or nothing. */

#define RT_DB_FIXTURE
#include "test-refdb-helpers.h"

#include <fcntl.h>

/* --- transactions: create, update, delete, verify ------------------------ */

START_TEST(create_update_delete)
{
	struct reftable_ref_record ref = { 0 };
	uint64_t idx;

	idx = rt_next_index(db);
	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), rt_oid(0), "create"));
	rt_ok(reftable_refdb_read_ref(db, "refs/heads/main", &ref));
	ck_assert_int_eq(ref.value_type, REFTABLE_REF_VAL1);
	ck_assert_uint_eq(ref.update_index, idx);
	rt_assert_ref(db, "refs/heads/main", 1);

	rt_ok(rt_update(db, "refs/heads/main", rt_oid(2), rt_oid(1), "move"));
	rt_assert_ref(db, "refs/heads/main", 2);
	/* No expectation: any old value. */
	rt_ok(rt_update(db, "refs/heads/main", rt_oid(3), NULL, "force"));
	rt_assert_ref(db, "refs/heads/main", 3);

	rt_ok(rt_delete(db, "refs/heads/main", rt_oid(3)));
	rt_assert_absent(db, "refs/heads/main");
	ck_assert_int_eq(rt_table_count(dir), 4);
	reftable_ref_record_release(&ref);
}
END_TEST

START_TEST(compare_and_swap_failures)
{
	struct reftable_refdb_txn *txn = NULL;
	uint64_t idx;

	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), NULL, NULL));
	idx = rt_next_index(db);

	/* Wrong old value: the detail says which ref, expected and found. */
	rt_fails(rt_update(db, "refs/heads/main", rt_oid(2), rt_oid(9), NULL),
		 REFTABLE_CAS_ERROR);
	rt_detail_has("refs/heads/main");
	rt_detail_has(rt_hex(rt_oid(9), 20));
	rt_detail_has(rt_hex(rt_oid(1), 20));

	/* Must not exist, but exists. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/main", rt_oid(2), 0,
					NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_CAS_ERROR);
	rt_detail_has("expected not to exist");
	reftable_refdb_txn_free(txn);

	/* Expected a value, but the ref is missing. */
	rt_fails(rt_update(db, "refs/heads/nope", rt_oid(2), rt_oid(1), NULL),
		 REFTABLE_CAS_ERROR);
	rt_detail_has("refs/heads/nope");
	rt_detail_has("does not exist");

	/* Delete with a wrong value. */
	rt_fails(rt_delete(db, "refs/heads/main", rt_oid(7)),
		 REFTABLE_CAS_ERROR);
	rt_assert_ref(db, "refs/heads/main", 1);

	/* Verify: right value passes and writes nothing; wrong one fails. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_verify(txn, "refs/heads/main", rt_oid(1), 0));
	rt_ok(reftable_refdb_txn_commit(txn));
	ck_assert_uint_eq(reftable_refdb_txn_update_index(txn), 0);
	reftable_refdb_txn_free(txn);
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_verify(txn, "refs/heads/main", rt_oid(2), 0));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_CAS_ERROR);
	reftable_refdb_txn_free(txn);

	/* None of the failures wrote anything. */
	ck_assert_uint_eq(rt_next_index(db), idx);
	ck_assert_int_eq(rt_table_count(dir), 1);
}
END_TEST

START_TEST(must_not_exist)
{
	struct reftable_refdb_txn *txn = NULL;
	uint64_t idx = rt_next_index(db);

	/* Expected absent via the null id, and via create. */
	rt_ok(rt_update(db, "refs/heads/a", rt_oid(1), rt_oid(0), NULL));
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/b", rt_oid(2), 0, NULL));
	rt_ok(reftable_refdb_txn_commit(txn));
	ck_assert_uint_eq(reftable_refdb_txn_update_index(txn), idx + 1);
	reftable_refdb_txn_free(txn);

	/* Verify absent: passes for a missing ref, fails for an existing. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_verify(txn, "refs/heads/c", rt_oid(0), 0));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_verify(txn, "refs/heads/a", rt_oid(0), 0));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_CAS_ERROR);
	rt_detail_has("refs/heads/a");
	reftable_refdb_txn_free(txn);

	/* A deleted ref (a tombstone in the stack) does not exist. */
	rt_ok(rt_delete(db, "refs/heads/a", rt_oid(1)));
	rt_ok(rt_update(db, "refs/heads/a", rt_oid(3), rt_oid(0), NULL));
	rt_assert_ref(db, "refs/heads/a", 3);

	/* Deleting a missing ref without expectation writes nothing. */
	idx = rt_next_index(db);
	rt_ok(rt_delete(db, "refs/heads/never", NULL));
	ck_assert_uint_eq(rt_next_index(db), idx);
}
END_TEST

START_TEST(one_table_one_index)
{
	struct reftable_refdb_txn *txn = NULL;
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record *logs = NULL;
	size_t n = 0;
	uint64_t idx = rt_next_index(db);
	int tables = rt_table_count(dir);

	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	/* Added out of order: the table must still be sorted. */
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/z", rt_oid(1), NULL,
					0, "z"));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/a", rt_oid(2), NULL,
					0, "a"));
	rt_ok(reftable_refdb_txn_update(txn, "refs/tags/t", rt_oid(3), NULL,
					0, "t"));
	rt_ok(reftable_refdb_txn_symref(txn, "HEAD", "refs/heads/a", NULL, 0,
					"h"));
	rt_ok(reftable_refdb_txn_commit(txn));
	ck_assert_uint_eq(reftable_refdb_txn_update_index(txn), idx);
	reftable_refdb_txn_free(txn);

	ck_assert_int_eq(rt_table_count(dir), tables + 1);
	ck_assert_uint_eq(rt_next_index(db), idx + 1);
	rt_ok(reftable_refdb_read_ref(db, "refs/heads/z", &ref));
	ck_assert_uint_eq(ref.update_index, idx);
	rt_ok(reftable_refdb_read_ref(db, "refs/tags/t", &ref));
	ck_assert_uint_eq(ref.update_index, idx);
	rt_ok(reftable_refdb_read_reflog(db, "refs/heads/a", &logs, &n));
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(logs[0].update_index, idx);
	reftable_refdb_reflog_free(logs, n);
	reftable_ref_record_release(&ref);
}
END_TEST

/* A failing check anywhere in a transaction writes nothing at all. */
START_TEST(all_or_nothing)
{
	struct reftable_refdb_txn *txn = NULL;
	uint64_t idx;
	int tables;

	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), NULL, NULL));
	rt_ok(rt_update(db, "refs/heads/dir", rt_oid(1), NULL, NULL));
	idx = rt_next_index(db);
	tables = rt_table_count(dir);

	/* CAS failure on the last update. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/new1", rt_oid(2), 0, NULL));
	rt_ok(reftable_refdb_txn_delete(txn, "refs/heads/dir", rt_oid(1), 0, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/main", rt_oid(3),
					rt_oid(8), 0, NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_CAS_ERROR);
	rt_detail_has("refs/heads/main");
	reftable_refdb_txn_free(txn);

	/* Name conflict in the middle. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/new1", rt_oid(2), 0, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/main/sub", rt_oid(2), 0,
					NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/dir", rt_oid(4), NULL,
					0, NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_NAME_CONFLICT_ERROR);
	reftable_refdb_txn_free(txn);

	/* A refused update spoils the transaction. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/new1", rt_oid(2), 0, NULL));
	rt_fails(reftable_refdb_txn_create(txn, "refs/heads/bad..name",
					   rt_oid(2), 0, NULL),
		 REFTABLE_REFNAME_ERROR);
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_REFNAME_ERROR);
	reftable_refdb_txn_free(txn);

	ck_assert_uint_eq(rt_next_index(db), idx);
	ck_assert_int_eq(rt_table_count(dir), tables);
	rt_assert_absent(db, "refs/heads/new1");
	rt_assert_ref(db, "refs/heads/dir", 1);
	rt_assert_ref(db, "refs/heads/main", 1);
}
END_TEST

/* Another handle moves the stack after our caller read it: the commit
 * reloads under the lock and checks against what is really there. */
START_TEST(stack_moved_under_the_transaction)
{
	struct reftable_refdb *other = rt_open(dir);
	struct reftable_refdb_txn *txn = NULL;
	struct reftable_ref_record ref = { 0 };
	uint64_t idx;

	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), NULL, NULL));
	rt_assert_ref(db, "refs/heads/main", 1);

	/* We read 1 and prepare 1 -> 2; the other handle writes 3 first. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/main", rt_oid(2),
					rt_oid(1), 0, NULL));
	rt_ok(rt_update(other, "refs/heads/main", rt_oid(3), rt_oid(1), NULL));
	idx = rt_next_index(other);
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_CAS_ERROR);
	rt_detail_has(rt_hex(rt_oid(3), 20));
	reftable_refdb_txn_free(txn);
	ck_assert_uint_eq(rt_next_index(other), idx);
	rt_assert_ref(other, "refs/heads/main", 3);

	/* A change elsewhere does not stop the commit, and is kept. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/main", rt_oid(4),
					rt_oid(3), 0, NULL));
	rt_ok(rt_update(other, "refs/heads/side", rt_oid(5), rt_oid(0), NULL));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	rt_assert_ref(other, "refs/heads/main", 4);
	rt_assert_ref(db, "refs/heads/side", 5);

	/* A create racing with a create: the second sees the first. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_create(txn, "refs/heads/race", rt_oid(6), 0,
					NULL));
	rt_ok(rt_update(other, "refs/heads/race", rt_oid(7), rt_oid(0), NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_CAS_ERROR);
	reftable_refdb_txn_free(txn);
	rt_ok(reftable_refdb_read_ref(db, "refs/heads/race", &ref));
	ck_assert(!memcmp(ref.value, rt_oid(7), 20));

	reftable_ref_record_release(&ref);
	reftable_refdb_close(other);
}
END_TEST

/* tables.list.lock held (by "another process": the test): the commit
 * fails with the lock error, names the lock, and writes nothing. */
START_TEST(lock_held_by_another_writer)
{
	struct reftable_refdb_txn *txn = NULL;
	char lock[4096];
	uint64_t idx;
	int fd;

	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), NULL, NULL));
	idx = rt_next_index(db);
	snprintf(lock, sizeof(lock), "%s/tables.list.lock", dir);
	fd = open(lock, O_CREAT | O_EXCL | O_WRONLY, 0666);
	ck_assert_int_ge(fd, 0);

	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/main", rt_oid(2),
					rt_oid(1), 0, NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_LOCK_ERROR);
	rt_detail_has("tables.list.lock");
	/* Committed once (and failed): a second commit is misuse. */
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_API_ERROR);
	reftable_refdb_txn_free(txn);

	/* Reflog writers take the same lock. */
	rt_fails(reftable_refdb_reflog_delete(db, "refs/heads/main"),
		 REFTABLE_LOCK_ERROR);

	close(fd);
	unlink(lock);
	ck_assert_uint_eq(rt_next_index(db), idx);
	rt_assert_ref(db, "refs/heads/main", 1);
	rt_ok(rt_update(db, "refs/heads/main", rt_oid(2), rt_oid(1), NULL));
}
END_TEST

START_TEST(noop_update_writes_nothing)
{
	struct reftable_log_record *logs = NULL;
	size_t n = 0;
	uint64_t idx;

	rt_ok(rt_symref(db, "HEAD", "refs/heads/main"));
	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), NULL, "one"));
	rt_ok(rt_update(db, "refs/heads/side", rt_oid(1), NULL, "one"));
	idx = rt_next_index(db);
	/* A ref HEAD does not name: nothing at all. */
	rt_ok(rt_update(db, "refs/heads/side", rt_oid(1), rt_oid(1), "same"));
	ck_assert_uint_eq(rt_next_index(db), idx);
	/* HEAD's branch, directly or through HEAD: the branch is left as
	 * it is, but HEAD logs the no-op, as Git 2.55 does ("HEAD 4 update
	 * B B" after `update refs/heads/master B` with master at B). */
	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), rt_oid(1), "same"));
	rt_ok(rt_update(db, "HEAD", rt_oid(1), NULL, "same via HEAD"));
	ck_assert_uint_eq(rt_next_index(db), idx + 2);
	rt_ok(reftable_refdb_read_reflog(db, "refs/heads/main", &logs, &n));
	ck_assert_uint_eq(n, 1);
	reftable_refdb_reflog_free(logs, n);
	rt_ok(reftable_refdb_read_reflog(db, "HEAD", &logs, &n));
	ck_assert_uint_eq(n, 3);
	ck_assert(!memcmp(logs[0].old_id, rt_oid(1), 20));
	ck_assert(!memcmp(logs[0].new_id, rt_oid(1), 20));
	ck_assert_str_eq(logs[0].message, "same via HEAD\n");
	ck_assert_str_eq(logs[1].message, "same\n");
	reftable_refdb_reflog_free(logs, n);
}
END_TEST

START_TEST(peeled_tag)
{
	struct reftable_refdb_update u = { 0 };
	struct reftable_refdb_txn *txn = NULL;
	struct reftable_ref_record ref = { 0 };

	u.refname = "refs/tags/v1";
	u.new_kind = REFTABLE_REFDB_NEW_OID;
	u.new_oid = rt_oid(0x11);
	u.new_peeled = rt_oid(0x22);
	u.old_kind = REFTABLE_REFDB_OLD_ABSENT;
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_add(txn, &u));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	rt_ok(reftable_refdb_read_ref(db, "refs/tags/v1", &ref));
	ck_assert_int_eq(ref.value_type, REFTABLE_REF_VAL2);
	ck_assert(!memcmp(ref.value, rt_oid(0x11), 20));
	ck_assert(!memcmp(ref.peeled, rt_oid(0x22), 20));
	reftable_ref_record_release(&ref);
}
END_TEST

START_TEST(api_misuse)
{
	struct reftable_refdb_update u = { 0 };
	struct reftable_refdb_txn *txn = NULL;

	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	u.refname = "refs/heads/x";
	u.new_kind = REFTABLE_REFDB_NEW_OID;
	u.new_oid = rt_oid(1);
	u.flags = REFTABLE_REFDB_FORCE_LOG | REFTABLE_REFDB_SKIP_LOG;
	rt_fails(reftable_refdb_txn_add(txn, &u), REFTABLE_API_ERROR);
	u.flags = 1u << 12;
	rt_fails(reftable_refdb_txn_add(txn, &u), REFTABLE_API_ERROR);
	u.flags = 0;
	u.new_oid = NULL;
	rt_fails(reftable_refdb_txn_add(txn, &u), REFTABLE_API_ERROR);
	u.new_kind = REFTABLE_REFDB_NEW_SYMREF;
	rt_fails(reftable_refdb_txn_add(txn, &u), REFTABLE_API_ERROR);
	u.new_target = "refs/heads/bad..target";
	rt_fails(reftable_refdb_txn_add(txn, &u), REFTABLE_REFNAME_ERROR);
	u.new_kind = (enum reftable_refdb_new_kind)9;
	rt_fails(reftable_refdb_txn_add(txn, &u), REFTABLE_API_ERROR);
	u.new_kind = REFTABLE_REFDB_NEW_DELETE;
	u.old_kind = REFTABLE_REFDB_OLD_OID;
	rt_fails(reftable_refdb_txn_add(txn, &u), REFTABLE_API_ERROR);
	u.old_kind = REFTABLE_REFDB_OLD_SYMREF;
	rt_fails(reftable_refdb_txn_add(txn, &u), REFTABLE_API_ERROR);
	u.old_kind = (enum reftable_refdb_old_kind)9;
	rt_fails(reftable_refdb_txn_add(txn, &u), REFTABLE_API_ERROR);
	/* verify needs an expectation. */
	rt_fails(reftable_refdb_txn_verify(txn, "refs/heads/x", NULL, 0),
		 REFTABLE_API_ERROR);
	u.refname = NULL;
	rt_fails(reftable_refdb_txn_add(txn, &u), REFTABLE_API_ERROR);
	u.refname = "";
	rt_fails(reftable_refdb_txn_add(txn, &u), REFTABLE_API_ERROR);
	/* The first refusal spoiled it. */
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_API_ERROR);
	rt_fails(reftable_refdb_txn_update(txn, "refs/heads/y", rt_oid(1), NULL,
					   0, NULL),
		 REFTABLE_API_ERROR);
	reftable_refdb_txn_free(txn);
	reftable_refdb_txn_free(NULL);

	/* The same ref twice. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/x", rt_oid(1), NULL,
					0, NULL));
	rt_ok(reftable_refdb_txn_delete(txn, "refs/heads/x", NULL, 0, NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_API_ERROR);
	rt_detail_has("refs/heads/x");
	reftable_refdb_txn_free(txn);
	ck_assert_int_eq(rt_table_count(dir), 0);
}
END_TEST

START_TEST(bad_names_and_pseudorefs)
{
	struct reftable_refdb_options o;
	struct reftable_refdb *d = NULL;
	struct reftable_refdb_txn *txn = NULL;

	rt_fails(rt_update(db, "refs/heads/a b", rt_oid(1), NULL, NULL),
		 REFTABLE_REFNAME_ERROR);
	rt_detail_has("refs/heads/a b");
	/* As in Git 2.55: a one-level name is written with an id, but
	 * refused for a deletion ("refusing to update ref with bad name"). */
	rt_ok(rt_update(db, "foo", rt_oid(1), NULL, NULL));
	rt_assert_ref(db, "foo", 1);
	rt_fails(rt_delete(db, "foo", NULL), REFTABLE_REFNAME_ERROR);
	rt_fails(rt_update(db, "FETCH_HEAD", rt_oid(1), NULL, NULL),
		 REFTABLE_REFNAME_ERROR);
	rt_detail_has("pseudoref");
	rt_fails(rt_update(db, "MERGE_HEAD", rt_oid(1), NULL, NULL),
		 REFTABLE_REFNAME_ERROR);
	rt_ok(rt_update(db, "ORIG_HEAD", rt_oid(1), NULL, NULL));
	rt_ok(rt_update(db, "CHERRY_PICK_HEAD", rt_oid(1), NULL, NULL));
	rt_assert_ref(db, "ORIG_HEAD", 1);

	/* Skipping the check writes any name (to repair or delete). */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/odd name", rt_oid(2),
					NULL, REFTABLE_REFDB_SKIP_NAME_CHECK,
					NULL));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	rt_assert_ref(db, "refs/heads/odd name", 2);
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_delete(txn, "refs/heads/odd name", NULL,
					REFTABLE_REFDB_SKIP_NAME_CHECK, NULL));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	rt_assert_absent(db, "refs/heads/odd name");

	/* The option lets pseudorefs in. */
	rt_options(&o);
	o.allow_pseudorefs = 1;
	rt_ok(reftable_refdb_open(&d, dir, &o));
	rt_ok(rt_update(d, "FETCH_HEAD", rt_oid(3), NULL, NULL));
	rt_assert_ref(d, "FETCH_HEAD", 3);
	reftable_refdb_close(d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("refdb-txn");
	TCase *tc = tcase_create("txn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, create_update_delete);
	tcase_add_test(tc, compare_and_swap_failures);
	tcase_add_test(tc, must_not_exist);
	tcase_add_test(tc, one_table_one_index);
	tcase_add_test(tc, all_or_nothing);
	tcase_add_test(tc, stack_moved_under_the_transaction);
	tcase_add_test(tc, lock_held_by_another_writer);
	tcase_add_test(tc, noop_update_writes_nothing);
	tcase_add_test(tc, peeled_tag);
	tcase_add_test(tc, api_misuse);
	tcase_add_test(tc, bad_names_and_pseudorefs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(suite());
}
