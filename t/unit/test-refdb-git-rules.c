/*
 * The ref database's transactions as Git 2.55's reftable backend runs
 * them (issue 19): prepare, the HEAD-and-referent rule, HEAD's reflog
 * entries, symref updates through a symref, and the reflog policy from
 * core.logAllRefUpdates. Each expectation is what `git update-ref
 * --stdin` did on a reftable repository (t/cli/update-git.cases holds the
 * same cases run through Git itself).
 */

#define RT_DB_FIXTURE
#include "test-refdb-helpers.h"

static int lock_exists(void)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/tables.list.lock", dir);
	return !stat(path, &st);
}

static struct reftable_refdb_txn *begin(void)
{
	struct reftable_refdb_txn *txn = NULL;

	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	return txn;
}

/* Git: "start, verify (wrong), prepare" fails at prepare; prepare holds
 * the lock until commit or abort. */
START_TEST(prepare_locks_and_checks)
{
	struct reftable_refdb_txn *txn;
	uint64_t idx;

	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), NULL, NULL));
	idx = rt_next_index(db);

	txn = begin();
	rt_ok(reftable_refdb_txn_verify(txn, "refs/heads/main", rt_oid(2), 0));
	rt_fails(reftable_refdb_txn_prepare(txn), REFTABLE_CAS_ERROR);
	ck_assert(!lock_exists());
	/* A failed prepare closes the transaction. */
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_API_ERROR);
	reftable_refdb_txn_free(txn);

	txn = begin();
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/main", rt_oid(3),
					rt_oid(1), 0, NULL));
	rt_ok(reftable_refdb_txn_prepare(txn));
	ck_assert(lock_exists());
	/* After prepare, nothing more may be queued or prepared. */
	rt_fails(reftable_refdb_txn_verify(txn, "refs/heads/x", rt_oid(0), 0),
		 REFTABLE_API_ERROR);
	rt_fails(reftable_refdb_txn_prepare(txn), REFTABLE_API_ERROR);
	rt_ok(reftable_refdb_txn_commit(txn));
	ck_assert(!lock_exists());
	reftable_refdb_txn_free(txn);
	rt_assert_ref(db, "refs/heads/main", 3);
	ck_assert_uint_eq(rt_next_index(db), idx + 1);

	/* Prepared, then dropped (Git's abort): the lock goes, nothing is
	 * written. */
	txn = begin();
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/main", rt_oid(4),
					NULL, 0, NULL));
	rt_ok(reftable_refdb_txn_prepare(txn));
	ck_assert(lock_exists());
	reftable_refdb_txn_free(txn);
	ck_assert(!lock_exists());
	rt_assert_ref(db, "refs/heads/main", 3);
	ck_assert_uint_eq(rt_next_index(db), idx + 1);
}
END_TEST

/* Git: "verify refs/heads/main B" + no-deref "delete HEAD" fails with
 * "multiple updates for 'HEAD' (including one via its referent ...)",
 * in either order, whatever the update of the referent does. */
START_TEST(head_and_its_referent)
{
	struct reftable_refdb_txn *txn;
	int order;

	rt_ok(rt_symref(db, "HEAD", "refs/heads/main"));
	rt_ok(rt_update(db, "refs/heads/main", rt_oid(2), NULL, NULL));
	for (order = 0; order < 2; order++) {
		txn = begin();
		if (order)
			rt_ok(reftable_refdb_txn_delete(txn, "HEAD", NULL,
							REFTABLE_REFDB_NO_DEREF,
							NULL));
		rt_ok(reftable_refdb_txn_verify(txn, "refs/heads/main",
						rt_oid(2), 0));
		if (!order)
			rt_ok(reftable_refdb_txn_delete(txn, "HEAD", NULL,
							REFTABLE_REFDB_NO_DEREF,
							NULL));
		rt_fails(reftable_refdb_txn_commit(txn),
			 REFTABLE_NAME_CONFLICT_ERROR);
		rt_detail_has("multiple updates for 'HEAD' (including one via "
			      "its referent 'refs/heads/main')");
		reftable_refdb_txn_free(txn);
	}
	/* A no-op update of the referent counts too. */
	txn = begin();
	rt_ok(reftable_refdb_txn_update(txn, "refs/heads/main", rt_oid(2),
					NULL, 0, NULL));
	rt_ok(reftable_refdb_txn_symref(txn, "HEAD", "refs/heads/other", NULL,
					0, NULL));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_NAME_CONFLICT_ERROR);
	reftable_refdb_txn_free(txn);
	/* Through HEAD itself is the one way to name both. */
	rt_ok(rt_update(db, "HEAD", rt_oid(3), rt_oid(2), NULL));
	rt_assert_ref(db, "refs/heads/main", 3);
	/* A verify of the referent alone writes nothing. */
	txn = begin();
	rt_ok(reftable_refdb_txn_verify(txn, "refs/heads/main", rt_oid(3), 0));
	rt_ok(reftable_refdb_txn_commit(txn));
	ck_assert_uint_eq(reftable_refdb_txn_update_index(txn), 0);
	reftable_refdb_txn_free(txn);
}
END_TEST

/* Git: HEAD -> refs/heads/sym -> refs/heads/feature; `update
 * refs/heads/sym B` logs "A B" to HEAD, sym and feature. */
START_TEST(head_logs_a_chain)
{
	uint64_t idx;

	rt_ok(rt_update(db, "refs/heads/feature", rt_oid(1), NULL, NULL));
	rt_ok(rt_symref(db, "refs/heads/sym", "refs/heads/feature"));
	rt_ok(rt_symref(db, "HEAD", "refs/heads/sym"));
	idx = rt_next_index(db);
	rt_ok(rt_update(db, "refs/heads/sym", rt_oid(2), NULL, "via sym"));
	rt_assert_ref(db, "refs/heads/feature", 2);
	ck_assert_uint_eq(idx, 4);
	ck_assert_str_eq(rt_newest_table_logs(db),
			 "HEAD 4 01 02 [via sym]|\n"
			 "refs/heads/feature 4 01 02 [via sym]|\n"
			 "refs/heads/sym 4 01 02 [via sym]|\n");
}
END_TEST

/* Git writes HEAD entries with a null id: deleting an unborn HEAD's
 * branch logs "Z Z"; a no-deref symref-update of HEAD's branch logs
 * "B Z". */
START_TEST(head_null_id_entries)
{
	struct reftable_refdb_txn *txn;

	rt_ok(rt_symref(db, "HEAD", "refs/heads/unborn"));
	txn = begin();
	rt_ok(reftable_refdb_txn_delete(txn, "refs/heads/unborn", NULL, 0,
					"gone"));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	ck_assert_str_eq(rt_newest_table_logs(db), "HEAD 2 00 00 [gone]|\n");

	rt_ok(rt_symref(db, "HEAD", "refs/heads/main"));
	rt_ok(rt_update(db, "refs/heads/main", rt_oid(2), NULL, "b"));
	txn = begin();
	rt_ok(reftable_refdb_txn_symref(txn, "refs/heads/main",
					"refs/heads/x", NULL, 0, "repoint"));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	/* main's own entry is skipped: its new target does not resolve. */
	ck_assert_str_eq(rt_newest_table_logs(db), "HEAD 5 02 00 [repoint]|\n");
}
END_TEST

/* Git: `symref-update refs/heads/s refs/heads/other` without no-deref,
 * s -> main: main becomes a symref to other, s stays. An expected old
 * target is checked on s itself too. */
START_TEST(symref_update_through_a_symref)
{
	struct reftable_refdb_update u = { 0 };
	struct reftable_refdb_txn *txn;
	struct reftable_ref_record ref = { 0 };

	rt_ok(rt_update(db, "refs/heads/main", rt_oid(1), NULL, NULL));
	rt_ok(rt_symref(db, "refs/heads/s", "refs/heads/main"));
	u.refname = "refs/heads/s";
	u.new_kind = REFTABLE_REFDB_NEW_SYMREF;
	u.new_target = "refs/heads/other";
	txn = begin();
	rt_ok(reftable_refdb_txn_add(txn, &u));
	rt_ok(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
	rt_ok(reftable_refdb_read_ref(db, "refs/heads/s", &ref));
	ck_assert_str_eq(ref.target, "refs/heads/main");
	rt_ok(reftable_refdb_read_ref(db, "refs/heads/main", &ref));
	ck_assert_int_eq(ref.value_type, REFTABLE_REF_SYMREF);
	ck_assert_str_eq(ref.target, "refs/heads/other");
	reftable_ref_record_release(&ref);

	/* "ref refs/heads/other" as the old value: s points to main, not
	 * other, so the check on s fails (Git: "expected symref with target
	 * 'refs/heads/other'"). */
	u.new_target = "refs/heads/third";
	u.old_kind = REFTABLE_REFDB_OLD_SYMREF;
	u.old_target = "refs/heads/other";
	txn = begin();
	rt_ok(reftable_refdb_txn_add(txn, &u));
	rt_fails(reftable_refdb_txn_commit(txn), REFTABLE_CAS_ERROR);
	rt_detail_has("refs/heads/s");
	reftable_refdb_txn_free(txn);
}
END_TEST

/* core.logAllRefUpdates as Git reads it. */
START_TEST(log_policy_from_config)
{
	static const struct {
		int present;
		const char *value;
		int bare;
		int want; /* -1: refused */
	} cases[] = {
		{ 0, NULL, 0, REFTABLE_REFDB_LOG_NORMAL },
		{ 0, NULL, 1, REFTABLE_REFDB_LOG_EXISTING },
		{ 1, NULL, 1, REFTABLE_REFDB_LOG_NORMAL }, /* key alone: true */
		{ 1, "true", 1, REFTABLE_REFDB_LOG_NORMAL },
		{ 1, "YES", 0, REFTABLE_REFDB_LOG_NORMAL },
		{ 1, "1", 0, REFTABLE_REFDB_LOG_NORMAL },
		{ 1, "2k", 0, REFTABLE_REFDB_LOG_NORMAL },
		{ 1, "0x0", 0, REFTABLE_REFDB_LOG_EXISTING },
		{ 1, "0x10", 0, REFTABLE_REFDB_LOG_NORMAL },
		{ 1, "false", 0, REFTABLE_REFDB_LOG_EXISTING },
		{ 1, "off", 0, REFTABLE_REFDB_LOG_EXISTING },
		{ 1, "0", 0, REFTABLE_REFDB_LOG_EXISTING },
		{ 1, "", 0, REFTABLE_REFDB_LOG_EXISTING },
		{ 1, "always", 1, REFTABLE_REFDB_LOG_ALWAYS },
		{ 1, "Always", 0, REFTABLE_REFDB_LOG_ALWAYS },
		{ 1, "sometimes", 0, -1 },
		{ 1, "1x", 0, -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum reftable_refdb_log_policy p = 99;
		int err = reftable_refdb_log_policy_from_config(
			&p, cases[i].present, cases[i].value, cases[i].bare);

		if (cases[i].want < 0) {
			ck_assert_int_eq(err, REFTABLE_API_ERROR);
			continue;
		}
		ck_assert_msg(!err && (int)p == cases[i].want,
			      "case %zu ('%s'): policy %d, want %d", i,
			      cases[i].value ? cases[i].value : "(none)",
			      (int)p, cases[i].want);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("refdb-git-rules");
	TCase *tc = tcase_create("git-rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, prepare_locks_and_checks);
	tcase_add_test(tc, head_and_its_referent);
	tcase_add_test(tc, head_logs_a_chain);
	tcase_add_test(tc, head_null_id_entries);
	tcase_add_test(tc, symref_update_through_a_symref);
	tcase_add_test(tc, log_policy_from_config);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(suite());
}
