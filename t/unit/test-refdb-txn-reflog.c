/* The reflog entries transactions write, as Git writes them. */

#define RT_DB_FIXTURE
#include "test-refdb-helpers.h"

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

static Suite *suite(void)
{
	Suite *s = suite_create("refdb-txn-reflog");
	TCase *tc = tcase_create("txn-reflog");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reflog_entries_as_git_writes_them);
	tcase_add_test(tc, per_update_committer_and_long_messages);
	tcase_add_test(tc, log_policy);
	tcase_add_test(tc, head_reflog);
	tcase_add_test(tc, delete_removes_reflog);
	tcase_add_test(tc, symref_update_logs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(suite());
}
