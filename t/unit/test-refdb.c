/*
 * The ref database: reads, symref resolution, iterators, transactions
 * (compare-and-swap, all or nothing, D/F conflicts), HEAD's reflog.
 */

#include "test-refdb-helpers.h"

#include <fcntl.h>

static char *dir;
static struct reftable_refdb *db;

static void setup(void)
{
	dir = tl_tmpdir();
	db = rt_open(dir);
}

static void teardown(void)
{
	reftable_refdb_close(db);
	db = NULL;
	tl_rmtree(dir);
	dir = NULL;
}

/* --- opening and reading ------------------------------------------------ */

START_TEST(open_empty)
{
	struct reftable_ref_record ref = { 0 };
	struct reftable_iterator it = { 0 };

	ck_assert_uint_eq(reftable_refdb_hash_size(db), 20);
	ck_assert_ptr_nonnull(reftable_refdb_stack(db));
	ck_assert_int_eq(reftable_refdb_read_ref(db, "HEAD", &ref), 1);
	ck_assert_int_eq(reftable_refdb_resolve(db, "HEAD", &ref), 1);
	ck_assert_str_eq(ref.refname, "HEAD");
	ck_assert_int_eq(ref.value_type, REFTABLE_REF_DELETION);
	rt_ok(reftable_refdb_init_ref_iterator(db, &it, NULL));
	ck_assert_int_eq(reftable_iterator_next_ref(&it, &ref), 1);
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);
	ck_assert_int_eq(rt_table_count(dir), 0);
}
END_TEST

START_TEST(open_errors)
{
	struct reftable_refdb_options o;
	struct reftable_refdb *other = NULL;
	char path[4096];

	rt_options(&o);
	o.stack.create = 0;
	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_lt(reftable_refdb_open(&other, path, &o), 0);
	ck_assert_ptr_null(other);

	rt_options(&o);
	o.log_policy = (enum reftable_refdb_log_policy)7;
	rt_fails(reftable_refdb_open(&other, dir, &o), REFTABLE_RANGE_ERROR);
	ck_assert_ptr_null(other);

	/* NULL options: the defaults. */
	rt_ok(reftable_refdb_open(&other, dir, NULL));
	reftable_refdb_close(other);
	reftable_refdb_close(NULL);
}
END_TEST

START_TEST(sha256_database)
{
	struct reftable_refdb_options o;
	struct reftable_refdb *d = NULL;
	struct reftable_ref_record ref = { 0 };
	char *dir2 = tl_tmpdir();

	rt_options(&o);
	o.stack.write.hash_id = REFTABLE_HASH_SHA256;
	rt_ok(reftable_refdb_open(&d, dir2, &o));
	ck_assert_uint_eq(reftable_refdb_hash_size(d), 32);
	rt_ok(rt_update(d, "refs/heads/main", rt_oid(0xab), rt_oid(0), "init"));
	rt_ok(reftable_refdb_read_ref(d, "refs/heads/main", &ref));
	ck_assert(!memcmp(ref.value, rt_oid(0xab), 32));
	/* The last byte counts: an id differing only there is not equal. */
	{
		uint8_t almost[32];
		memset(almost, 0xab, 32);
		almost[31] = 0xac;
		rt_fails(rt_update(d, "refs/heads/main", rt_oid(1), almost, NULL),
			 REFTABLE_CAS_ERROR);
	}
	reftable_ref_record_release(&ref);
	reftable_refdb_close(d);
	tl_rmtree(dir2);
}
END_TEST

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
	idx = rt_next_index(db);
	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), rt_oid(1), "same"));
	rt_ok(rt_update(db, "HEAD", rt_oid(1), NULL, "same via HEAD"));
	ck_assert_uint_eq(rt_next_index(db), idx);
	rt_ok(reftable_refdb_read_reflog(db, "refs/heads/main", &logs, &n));
	ck_assert_uint_eq(n, 1);
	reftable_refdb_reflog_free(logs, n);
	rt_ok(reftable_refdb_read_reflog(db, "HEAD", &logs, &n));
	ck_assert_uint_eq(n, 1);
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
	rt_fails(rt_update(db, "foo", rt_oid(1), NULL, NULL),
		 REFTABLE_REFNAME_ERROR);
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

/* --- reflogs written by transactions ------------------------------------ */

START_TEST(reflog_entries_as_git_writes_them)
{
	struct reftable_log_record *logs = NULL;
	struct reftable_refdb_ident who = { "A U Thor", "author@example.com",
					    1234567890, 200 };
	struct reftable_refdb_txn *txn = NULL;
	size_t n = 0;
	uint64_t idx = rt_next_index(db);

	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), rt_oid(0),
			"  first\n\n  line   two \t\n\n"));
	rt_ok(reftable_refdb_txn_begin(&txn, db, &who));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/main", rt_oid(2),
					rt_oid(1), 0, ""));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	rt_ok(rt_update(db, "refs/heads/main", rt_oid(3), rt_oid(2), NULL));

	rt_ok(reftable_refdb_read_reflog(db, "refs/heads/main", &logs, &n));
	ck_assert_uint_eq(n, 3);
	/* Newest first. */
	ck_assert_uint_eq(logs[0].update_index, idx + 2);
	ck_assert_uint_eq(logs[2].update_index, idx);
	/* The database's committer, with Git's time zone encoding. */
	ck_assert_str_eq(logs[2].name, "C O Mitter");
	ck_assert_str_eq(logs[2].email, "committer@example.com");
	ck_assert_uint_eq(logs[2].time, 1700000000);
	ck_assert_int_eq(logs[2].tz_offset, -530);
	ck_assert_str_eq(logs[2].message, "first line two\n");
	ck_assert(!memcmp(logs[2].old_id, rt_oid(0), 20));
	ck_assert(!memcmp(logs[2].new_id, rt_oid(1), 20));
	/* The transaction's committer. */
	ck_assert_str_eq(logs[1].name, "A U Thor");
	ck_assert_uint_eq(logs[1].time, 1234567890);
	ck_assert_int_eq(logs[1].tz_offset, 200);
	ck_assert_str_eq(logs[1].message, "\n");
	ck_assert(!memcmp(logs[1].old_id, rt_oid(1), 20));
	ck_assert(!memcmp(logs[1].new_id, rt_oid(2), 20));
	ck_assert_str_eq(logs[0].message, "\n");
	reftable_refdb_reflog_free(logs, n);
}
END_TEST

START_TEST(per_update_committer_and_long_messages)
{
	struct reftable_refdb_ident who = { "Per Update", "pu@example.com", 42,
					    -800 };
	struct reftable_refdb_update u = { 0 };
	struct reftable_refdb_txn *txn = NULL;
	struct reftable_log_record *logs = NULL;
	char msg[5000];
	size_t n = 0;

	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	u.refname = "refs/heads/long";
	u.new_kind = REFTABLE_REFDB_NEW_OID;
	u.new_oid = rt_oid(1);
	u.message = msg;
	u.committer = &who;
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_add(txn, &u));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	rt_ok(reftable_refdb_read_reflog(db, "refs/heads/long", &logs, &n));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(logs[0].name, "Per Update");
	ck_assert_uint_eq(logs[0].time, 42);
	ck_assert_int_eq(logs[0].tz_offset, -800);
	/* Cut to half the 4096-byte block, then the newline. */
	ck_assert_uint_eq(strlen(logs[0].message), 2048 + 1);
	ck_assert_int_eq(logs[0].message[2048], '\n');
	reftable_refdb_reflog_free(logs, n);
}
END_TEST

static size_t reflog_len(struct reftable_refdb *d, const char *name)
{
	struct reftable_log_record *logs = NULL;
	size_t n = 0;

	rt_ok(reftable_refdb_read_reflog(d, name, &logs, &n));
	reftable_refdb_reflog_free(logs, n);
	return n;
}

START_TEST(log_policy)
{
	struct reftable_refdb_options o;
	struct reftable_refdb *d = NULL;
	struct reftable_refdb_txn *txn = NULL;

	/* Git's default: heads, remotes, notes and HEAD, not tags. */
	rt_ok(rt_update(db, "refs/heads/h", rt_oid(1), NULL, NULL));
	rt_ok(rt_update(db, "refs/remotes/o/r", rt_oid(1), NULL, NULL));
	rt_ok(rt_update(db, "refs/notes/n", rt_oid(1), NULL, NULL));
	rt_ok(rt_update(db, "refs/tags/t", rt_oid(1), NULL, NULL));
	rt_ok(rt_update(db, "ORIG_HEAD", rt_oid(1), NULL, NULL));
	ck_assert_uint_eq(reflog_len(db, "refs/heads/h"), 1);
	ck_assert_uint_eq(reflog_len(db, "refs/remotes/o/r"), 1);
	ck_assert_uint_eq(reflog_len(db, "refs/notes/n"), 1);
	ck_assert_uint_eq(reflog_len(db, "refs/tags/t"), 0);
	ck_assert_uint_eq(reflog_len(db, "ORIG_HEAD"), 0);

	/* Forced, skipped. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/tags/t", rt_oid(2), NULL,
					REFTABLE_REFDB_FORCE_LOG, "tag"));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/h", rt_oid(2), NULL,
					REFTABLE_REFDB_SKIP_LOG, NULL));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	ck_assert_uint_eq(reflog_len(db, "refs/tags/t"), 1);
	ck_assert_uint_eq(reflog_len(db, "refs/heads/h"), 1);
	/* A tag whose reflog exists now gets entries by default. */
	rt_ok(rt_update(db, "refs/tags/t", rt_oid(3), NULL, NULL));
	ck_assert_uint_eq(reflog_len(db, "refs/tags/t"), 2);

	/* ALWAYS logs everything. */
	rt_options(&o);
	o.log_policy = REFTABLE_REFDB_LOG_ALWAYS;
	rt_ok(reftable_refdb_open(&d, dir, &o));
	rt_ok(rt_update(d, "refs/tags/u", rt_oid(1), NULL, NULL));
	ck_assert_uint_eq(reflog_len(d, "refs/tags/u"), 1);
	reftable_refdb_close(d);

	/* EXISTING only logs refs that have a reflog. */
	rt_options(&o);
	o.log_policy = REFTABLE_REFDB_LOG_EXISTING;
	rt_ok(reftable_refdb_open(&d, dir, &o));
	rt_ok(rt_update(d, "refs/heads/quiet", rt_oid(1), NULL, NULL));
	ck_assert_uint_eq(reflog_len(d, "refs/heads/quiet"), 0);
	rt_ok(rt_update(d, "refs/heads/h", rt_oid(4), NULL, NULL));
	ck_assert_uint_eq(reflog_len(d, "refs/heads/h"), 2);
	rt_ok(reftable_refdb_reflog_create(d, "refs/heads/quiet"));
	rt_ok(rt_update(d, "refs/heads/quiet", rt_oid(2), NULL, NULL));
	ck_assert_uint_eq(reflog_len(d, "refs/heads/quiet"), 1);
	reftable_refdb_close(d);
}
END_TEST

/* Git logs to HEAD too when the branch HEAD points to moves. */
START_TEST(head_reflog)
{
	struct reftable_log_record *logs = NULL;
	struct reftable_refdb_txn *txn = NULL;
	size_t n = 0;
	uint64_t idx;

	rt_ok(rt_symref(db, "HEAD", "refs/heads/main"));
	idx = rt_next_index(db);
	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), rt_oid(0),
			"commit (initial): c1"));
	rt_ok(rt_update(db, "refs/heads/side", rt_oid(9), NULL, "other"));
	rt_ok(rt_update(db, "HEAD", rt_oid(2), rt_oid(1), "commit: c2"));

	/* The table of the first update, exactly. */
	rt_ok(reftable_refdb_read_reflog(db, "HEAD", &logs, &n));
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(logs[1].update_index, idx);
	ck_assert(!memcmp(logs[1].old_id, rt_oid(0), 20));
	ck_assert(!memcmp(logs[1].new_id, rt_oid(1), 20));
	ck_assert_str_eq(logs[1].message, "commit (initial): c1\n");
	/* Through HEAD: one HEAD entry, not two. */
	ck_assert_uint_eq(logs[0].update_index, idx + 2);
	ck_assert(!memcmp(logs[0].old_id, rt_oid(1), 20));
	ck_assert(!memcmp(logs[0].new_id, rt_oid(2), 20));
	ck_assert_str_eq(logs[0].message, "commit: c2\n");
	reftable_refdb_reflog_free(logs, n);
	ck_assert_str_eq(rt_newest_table_logs(db),
			 "HEAD 4 01 02 [commit: c2]|\n"
			 "refs/heads/main 4 01 02 [commit: c2]|\n");
	ck_assert_uint_eq(reflog_len(db, "refs/heads/main"), 2);

	/* Updating HEAD and its branch in one transaction: refused. */
	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "HEAD", rt_oid(3), NULL,
					REFTABLE_REFDB_NO_DEREF, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/main", rt_oid(3),
					NULL, 0, NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_NAME_CONFLICT_ERROR);
	rt_detail_has("multiple updates for 'HEAD'");
	reftable_refdb_txn_free(txn);

	/* Deleting the current branch logs the deletion to HEAD. */
	rt_ok(rt_delete(db, "refs/heads/main", rt_oid(2)));
	ck_assert_str_eq(rt_newest_table_logs(db),
			 "HEAD 5 02 00 []|\n"
			 "refs/heads/main 4 delete\n"
			 "refs/heads/main 2 delete\n");
	ck_assert_int_eq(reftable_refdb_reflog_exists(db, "refs/heads/main"), 0);
	ck_assert_uint_eq(reflog_len(db, "HEAD"), 3);
}
END_TEST

/* Deleting a ref deletes its reflog: one deletion record an entry. */
START_TEST(delete_removes_reflog)
{
	rt_ok(rt_update(db, "refs/heads/doomed", rt_oid(1), NULL, "a"));
	rt_ok(rt_update(db, "refs/heads/doomed", rt_oid(2), NULL, "b"));
	ck_assert_int_eq(reftable_refdb_reflog_exists(db, "refs/heads/doomed"), 1);
	rt_ok(rt_delete(db, "refs/heads/doomed", rt_oid(2)));
	ck_assert_str_eq(rt_newest_table_logs(db),
			 "refs/heads/doomed 2 delete\n"
			 "refs/heads/doomed 1 delete\n");
	ck_assert_int_eq(reftable_refdb_reflog_exists(db, "refs/heads/doomed"), 0);
	rt_assert_absent(db, "refs/heads/doomed");
}
END_TEST

START_TEST(symref_update_logs)
{
	struct reftable_log_record *logs = NULL;
	size_t n = 0;

	/* Dangling target: no entry (as Git). */
	rt_ok(rt_symref(db, "HEAD", "refs/heads/main"));
	ck_assert_uint_eq(reflog_len(db, "HEAD"), 0);
	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), NULL, "c1"));
	rt_ok(rt_update(db, "refs/heads/topic", rt_oid(2), NULL, "branch"));
	/* git checkout topic: HEAD's entry goes from main's id to topic's. */
	{
		struct reftable_refdb_txn *txn = NULL;
		rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
		rt_ok(reftable_refdb_txn_symref(txn, "HEAD", "refs/heads/topic",
						NULL, 0,
						"checkout: moving from main to topic"));
		rt_ok(reftable_refdb_txn_commit(txn));
		reftable_refdb_txn_free(txn);
	}
	rt_ok(reftable_refdb_read_reflog(db, "HEAD", &logs, &n));
	ck_assert_uint_eq(n, 2);
	ck_assert(!memcmp(logs[0].old_id, rt_oid(1), 20));
	ck_assert(!memcmp(logs[0].new_id, rt_oid(2), 20));
	ck_assert_str_eq(logs[0].message,
			 "checkout: moving from main to topic\n");
	reftable_refdb_reflog_free(logs, n);
}
END_TEST

/* --- iterators and callbacks -------------------------------------------- */

static char *list_refs(struct reftable_iterator *it)
{
	static char out[4096];
	struct reftable_ref_record ref = { 0 };
	size_t len = 0;
	int err;

	out[0] = '\0';
	while ((err = reftable_iterator_next_ref(it, &ref)) == 0) {
		int w = snprintf(out + len, sizeof(out) - len, "%s ",
				 ref.refname);
		ck_assert(w > 0 && (size_t)w < sizeof(out) - len);
		len += (size_t)w;
	}
	ck_assert_int_eq(err, 1);
	reftable_ref_record_release(&ref);
	return out;
}

START_TEST(iterate_by_prefix)
{
	struct reftable_iterator it = { 0 };
	struct reftable_refdb_txn *txn = NULL;

	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	rt_ok(reftable_refdb_txn_symref(txn, "HEAD", "refs/heads/b", NULL, 0,
					NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/b", rt_oid(1), NULL,
					0, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/a", rt_oid(2), NULL,
					0, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/c/d", rt_oid(1), NULL,
					0, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/headsx", rt_oid(1), NULL,
					0, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "refs/tags/v1", rt_oid(3), NULL,
					0, NULL));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	rt_ok(rt_delete(db, "refs/heads/a", NULL));

	rt_ok(reftable_refdb_init_ref_iterator(db, &it, ""));
	ck_assert_str_eq(list_refs(&it), "HEAD refs/heads/b refs/heads/c/d "
					 "refs/headsx refs/tags/v1 ");
	reftable_iterator_destroy(&it);

	rt_ok(reftable_refdb_init_ref_iterator(db, &it, "refs/heads/"));
	ck_assert_str_eq(list_refs(&it), "refs/heads/b refs/heads/c/d ");
	/* Seeking again stays inside the prefix. */
	rt_ok(reftable_iterator_seek_ref(&it, "refs/heads/c"));
	ck_assert_str_eq(list_refs(&it), "refs/heads/c/d ");
	rt_ok(reftable_iterator_seek_ref(&it, "A"));
	ck_assert_str_eq(list_refs(&it), "refs/heads/b refs/heads/c/d ");
	/* A ref iterator has no logs. */
	{
		struct reftable_log_record log = { 0 };
		rt_fails(reftable_iterator_next_log(&it, &log),
			 REFTABLE_API_ERROR);
	}
	reftable_iterator_destroy(&it);

	rt_ok(reftable_refdb_init_ref_iterator(db, &it, "refs/nothing/"));
	ck_assert_str_eq(list_refs(&it), "");
	reftable_iterator_destroy(&it);

	rt_ok(reftable_refdb_init_refs_for_iterator(db, &it, rt_oid(1)));
	ck_assert_str_eq(list_refs(&it),
			 "refs/heads/b refs/heads/c/d refs/headsx ");
	reftable_iterator_destroy(&it);
}
END_TEST

/* An iterator keeps its snapshot across a reload. */
START_TEST(iterator_survives_reload)
{
	struct reftable_refdb *other = rt_open(dir);
	struct reftable_iterator it = { 0 };

	rt_ok(rt_update(db, "refs/heads/a", rt_oid(1), NULL, NULL));
	rt_ok(reftable_refdb_init_ref_iterator(db, &it, "refs/"));
	rt_ok(rt_update(other, "refs/heads/b", rt_oid(1), NULL, NULL));
	rt_ok(reftable_refdb_reload(db));
	ck_assert_str_eq(list_refs(&it), "refs/heads/a ");
	reftable_iterator_destroy(&it);
	rt_ok(reftable_refdb_init_ref_iterator(db, &it, "refs/"));
	ck_assert_str_eq(list_refs(&it), "refs/heads/a refs/heads/b ");
	reftable_iterator_destroy(&it);
	reftable_refdb_close(other);
}
END_TEST

static int reloads;
static int count_reload(void *arg)
{
	(void)arg;
	reloads++;
	return 0;
}

START_TEST(on_reload_passes_through)
{
	struct reftable_refdb_options o;
	struct reftable_refdb *watcher = NULL;
	struct reftable_ref_record ref = { 0 };

	rt_options(&o);
	o.stack.on_reload = count_reload;
	reloads = 0;
	rt_ok(reftable_refdb_open(&watcher, dir, &o));
	ck_assert_int_eq(reloads, 0);
	rt_assert_absent(watcher, "refs/heads/x");
	ck_assert_int_eq(reloads, 0); /* nothing changed */
	rt_ok(rt_update(db, "refs/heads/x", rt_oid(1), NULL, NULL));
	rt_ok(reftable_refdb_read_ref(watcher, "refs/heads/x", &ref));
	ck_assert_int_eq(reloads, 1);
	rt_ok(reftable_refdb_read_ref(watcher, "refs/heads/x", &ref));
	ck_assert_int_eq(reloads, 1);
	reftable_ref_record_release(&ref);
	reftable_refdb_close(watcher);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("refdb");
	TCase *tc = tcase_create("refdb");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, open_empty);
	tcase_add_test(tc, open_errors);
	tcase_add_test(tc, sha256_database);
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
	tcase_add_test(tc, df_conflicts_with_existing_refs);
	tcase_add_test(tc, df_conflicts_within_a_transaction);
	tcase_add_test(tc, symref_read_and_resolve);
	tcase_add_test(tc, symref_depth_limit);
	tcase_add_test(tc, symref_cycles);
	tcase_add_test(tc, symref_compare_and_swap);
	tcase_add_test(tc, updates_follow_symrefs);
	tcase_add_test(tc, reflog_entries_as_git_writes_them);
	tcase_add_test(tc, per_update_committer_and_long_messages);
	tcase_add_test(tc, log_policy);
	tcase_add_test(tc, head_reflog);
	tcase_add_test(tc, delete_removes_reflog);
	tcase_add_test(tc, symref_update_logs);
	tcase_add_test(tc, iterate_by_prefix);
	tcase_add_test(tc, iterator_survives_reload);
	tcase_add_test(tc, on_reload_passes_through);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
