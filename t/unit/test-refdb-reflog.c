/*
 * Reflog operations of the ref database: reading newest first, deleting
 * one entry, expiring, deleting a whole reflog, existence.
 */

#include "test-refdb-helpers.h"

static char *dir;
static struct reftable_refdb *db;

/* refs/heads/main with entries at update indexes 1..5: 0->1, 1->2, ...
 * 4->5, at times 1000, 2000, ... 5000. */
static void setup(void)
{
	int i;

	dir = tl_tmpdir();
	db = rt_open(dir);
	for (i = 1; i <= 5; i++) {
		struct reftable_refdb_ident who = { "N", "e@x", 1000u * i, 100 };
		struct reftable_refdb_txn *txn = NULL;
		char msg[32];

		snprintf(msg, sizeof(msg), "step %d", i);
		rt_ok(reftable_refdb_txn_begin(&txn, db, &who));
		rt_ok(reftable_refdb_txn_update(txn, "refs/heads/main",
						rt_oid((uint8_t)i),
						rt_oid((uint8_t)(i - 1)), 0, msg));
		rt_ok(reftable_refdb_txn_commit(txn));
		reftable_refdb_txn_free(txn);
	}
}

static void teardown(void)
{
	reftable_refdb_close(db);
	db = NULL;
	tl_rmtree(dir);
	dir = NULL;
}

/* "idx:old>new " for each entry, newest first. */
static const char *entries(const char *name)
{
	static char out[1024];
	struct reftable_log_record *logs = NULL;
	size_t n = 0, i, len = 0;

	out[0] = '\0';
	rt_ok(reftable_refdb_read_reflog(db, name, &logs, &n));
	for (i = 0; i < n; i++) {
		int w = snprintf(out + len, sizeof(out) - len, "%llu:%d>%d ",
				 (unsigned long long)logs[i].update_index,
				 logs[i].old_id[0], logs[i].new_id[0]);
		ck_assert(w > 0 && (size_t)w < sizeof(out) - len);
		len += (size_t)w;
	}
	reftable_refdb_reflog_free(logs, n);
	return out;
}

START_TEST(read_newest_first)
{
	struct reftable_iterator it = { 0 };
	struct reftable_log_record log = { 0 };

	ck_assert_str_eq(entries("refs/heads/main"),
			 "5:4>5 4:3>4 3:2>3 2:1>2 1:0>1 ");
	ck_assert_str_eq(entries("refs/heads/none"), "");

	/* The iterator: entries of this ref only, seekable inside it. */
	rt_ok(rt_update(db, "refs/heads/main2", rt_oid(9), NULL, "x"));
	rt_ok(reftable_refdb_init_reflog_iterator(db, &it, "refs/heads/main"));
	rt_ok(reftable_iterator_next_log(&it, &log));
	ck_assert_uint_eq(log.update_index, 5);
	ck_assert_str_eq(log.message, "step 5\n");
	ck_assert_uint_eq(log.time, 5000);
	ck_assert_int_eq(log.tz_offset, 100);
	rt_ok(reftable_iterator_seek_log_at(&it, "refs/heads/main", 2));
	rt_ok(reftable_iterator_next_log(&it, &log));
	ck_assert_uint_eq(log.update_index, 2);
	rt_ok(reftable_iterator_next_log(&it, &log));
	ck_assert_uint_eq(log.update_index, 1);
	ck_assert_int_eq(reftable_iterator_next_log(&it, &log), 1);
	rt_fails(reftable_iterator_seek_log(&it, "refs/heads/main2"),
		 REFTABLE_API_ERROR);
	{
		struct reftable_ref_record ref = { 0 };
		rt_fails(reftable_iterator_next_ref(&it, &ref),
			 REFTABLE_API_ERROR);
	}
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&log);
	rt_fails(reftable_refdb_init_reflog_iterator(db, &it, NULL),
		 REFTABLE_API_ERROR);
}
END_TEST

START_TEST(delete_one_entry)
{
	uint64_t idx = rt_next_index(db);

	rt_ok(reftable_refdb_reflog_delete_entry(db, "refs/heads/main", 3, 0));
	ck_assert_str_eq(entries("refs/heads/main"), "5:4>5 4:3>4 2:1>2 1:0>1 ");
	/* One table holding one log deletion record. */
	ck_assert_uint_eq(rt_next_index(db), idx + 1);
	ck_assert_str_eq(rt_newest_table_logs(db), "refs/heads/main 3 delete\n");
	/* The ref itself is untouched. */
	rt_assert_ref(db, "refs/heads/main", 5);

	/* Gone already, or never there. */
	ck_assert_int_eq(
		reftable_refdb_reflog_delete_entry(db, "refs/heads/main", 3, 0), 1);
	ck_assert_int_eq(
		reftable_refdb_reflog_delete_entry(db, "refs/heads/x", 1, 0), 1);
	ck_assert_uint_eq(rt_next_index(db), idx + 1);
	rt_fails(reftable_refdb_reflog_delete_entry(db, NULL, 1, 0),
		 REFTABLE_API_ERROR);
}
END_TEST

START_TEST(delete_entry_rewrite)
{
	/* Like git reflog delete --rewrite: the next newer entry takes the
	 * old id of the removed one, so the chain stays whole. */
	rt_ok(reftable_refdb_reflog_delete_entry(db, "refs/heads/main", 3,
						 REFTABLE_REFLOG_REWRITE));
	ck_assert_str_eq(entries("refs/heads/main"), "5:4>5 4:2>4 2:1>2 1:0>1 ");
	ck_assert_str_eq(rt_newest_table_logs(db),
			 "refs/heads/main 4 02 04 [step 4]|\n"
			 "refs/heads/main 3 delete\n");
}
END_TEST

START_TEST(deleting_the_last_entry_keeps_the_reflog)
{
	rt_ok(rt_update(db, "refs/heads/one", rt_oid(1), NULL, "only"));
	ck_assert_int_eq(reftable_refdb_reflog_exists(db, "refs/heads/one"), 1);
	rt_ok(reftable_refdb_reflog_delete_entry(db, "refs/heads/one", 6, 0));
	ck_assert_str_eq(entries("refs/heads/one"), "");
	/* Git's marker: the reflog exists, empty. */
	ck_assert_int_eq(reftable_refdb_reflog_exists(db, "refs/heads/one"), 1);
	ck_assert_str_eq(rt_newest_table_logs(db),
			 "refs/heads/one 7 00 00 []\n"
			 "refs/heads/one 6 delete\n");
}
END_TEST

START_TEST(expire_by_time_and_count)
{
	struct reftable_reflog_expiry ex = { 0 };
	size_t removed = 99;
	uint64_t idx;

	/* Older than 2500: entries at 1000 and 2000. */
	ex.expire_time = 2500;
	rt_ok(reftable_refdb_reflog_expire(db, "refs/heads/main", &ex, &removed));
	ck_assert_uint_eq(removed, 2);
	ck_assert_str_eq(entries("refs/heads/main"), "5:4>5 4:3>4 3:2>3 ");

	/* Keep the newest two. */
	memset(&ex, 0, sizeof(ex));
	ex.keep_newest = 2;
	rt_ok(reftable_refdb_reflog_expire(db, "refs/heads/main", &ex, &removed));
	ck_assert_uint_eq(removed, 1);
	ck_assert_str_eq(entries("refs/heads/main"), "5:4>5 4:3>4 ");

	/* Nothing to expire: nothing written. */
	idx = rt_next_index(db);
	rt_ok(reftable_refdb_reflog_expire(db, "refs/heads/main", &ex, &removed));
	ck_assert_uint_eq(removed, 0);
	ck_assert_uint_eq(rt_next_index(db), idx);

	/* Everything: the reflog stays, empty. */
	memset(&ex, 0, sizeof(ex));
	ex.expire_time = 100000;
	rt_ok(reftable_refdb_reflog_expire(db, "refs/heads/main", &ex, NULL));
	ck_assert_str_eq(entries("refs/heads/main"), "");
	ck_assert_int_eq(reftable_refdb_reflog_exists(db, "refs/heads/main"), 1);
	/* New updates log again after the marker. */
	rt_ok(rt_update(db, "refs/heads/main", rt_oid(6), rt_oid(5), "again"));
	ck_assert_str_eq(entries("refs/heads/main"), "9:5>6 ");
}
END_TEST

static int prune_even(const struct reftable_log_record *log, void *arg)
{
	int *calls = arg;
	(*calls)++;
	return log->update_index % 2 == 0;
}

START_TEST(expire_with_callback_rewrite_and_dry_run)
{
	struct reftable_reflog_expiry ex = { 0 };
	size_t removed = 0;
	int calls = 0;
	uint64_t idx = rt_next_index(db);

	ex.should_prune = prune_even;
	ex.should_prune_arg = &calls;
	ex.flags = REFTABLE_REFLOG_DRY_RUN;
	rt_ok(reftable_refdb_reflog_expire(db, "refs/heads/main", &ex, &removed));
	ck_assert_uint_eq(removed, 2);
	ck_assert_int_eq(calls, 5);
	ck_assert_uint_eq(rt_next_index(db), idx);
	ck_assert_str_eq(entries("refs/heads/main"),
			 "5:4>5 4:3>4 3:2>3 2:1>2 1:0>1 ");

	ex.flags = REFTABLE_REFLOG_REWRITE;
	rt_ok(reftable_refdb_reflog_expire(db, "refs/heads/main", &ex, &removed));
	ck_assert_uint_eq(removed, 2);
	ck_assert_str_eq(entries("refs/heads/main"), "5:3>5 3:1>3 1:0>1 ");

	ex.flags = 1u << 9;
	rt_fails(reftable_refdb_reflog_expire(db, "refs/heads/main", &ex, NULL),
		 REFTABLE_API_ERROR);
	rt_fails(reftable_refdb_reflog_expire(db, "refs/heads/main", NULL, NULL),
		 REFTABLE_API_ERROR);
}
END_TEST

START_TEST(expire_every_reflog_in_one_table)
{
	struct reftable_reflog_expiry ex = { 0 };
	size_t removed = 0;
	uint64_t idx;

	rt_ok(rt_symref(db, "HEAD", "refs/heads/main"));
	rt_ok(rt_update(db, "refs/heads/main", rt_oid(6), rt_oid(5), "six"));
	rt_ok(rt_update(db, "refs/heads/other", rt_oid(7), NULL, "seven"));
	idx = rt_next_index(db);
	ex.keep_newest = 1;
	rt_ok(reftable_refdb_reflog_expire(db, NULL, &ex, &removed));
	/* main's five oldest, and HEAD's entry of the symref update (at 6:
	 * HEAD came to point at main's id 5). */
	ck_assert_uint_eq(removed, 6);
	ck_assert_uint_eq(rt_next_index(db), idx + 1);
	ck_assert_str_eq(entries("refs/heads/main"), "7:5>6 ");
	ck_assert_str_eq(entries("HEAD"), "7:5>6 ");
	ck_assert_str_eq(entries("refs/heads/other"), "8:0>7 ");
}
END_TEST

START_TEST(delete_whole_reflog)
{
	rt_ok(reftable_refdb_reflog_delete(db, "refs/heads/main"));
	ck_assert_int_eq(reftable_refdb_reflog_exists(db, "refs/heads/main"), 0);
	ck_assert_str_eq(entries("refs/heads/main"), "");
	ck_assert_str_eq(rt_newest_table_logs(db),
			 "refs/heads/main 5 delete\n"
			 "refs/heads/main 4 delete\n"
			 "refs/heads/main 3 delete\n"
			 "refs/heads/main 2 delete\n"
			 "refs/heads/main 1 delete\n");
	rt_assert_ref(db, "refs/heads/main", 5);
	/* Nothing left to delete: nothing written. */
	{
		uint64_t idx = rt_next_index(db);
		rt_ok(reftable_refdb_reflog_delete(db, "refs/heads/main"));
		ck_assert_uint_eq(rt_next_index(db), idx);
	}
	rt_fails(reftable_refdb_reflog_delete(db, NULL), REFTABLE_API_ERROR);
}
END_TEST

START_TEST(create_and_exists)
{
	uint64_t idx;

	ck_assert_int_eq(reftable_refdb_reflog_exists(db, "refs/tags/t"), 0);
	rt_ok(reftable_refdb_reflog_create(db, "refs/tags/t"));
	ck_assert_int_eq(reftable_refdb_reflog_exists(db, "refs/tags/t"), 1);
	ck_assert_str_eq(entries("refs/tags/t"), "");
	ck_assert_str_eq(rt_newest_table_logs(db), "refs/tags/t 6 00 00 []\n");
	/* Exists already: nothing written. */
	idx = rt_next_index(db);
	rt_ok(reftable_refdb_reflog_create(db, "refs/tags/t"));
	rt_ok(reftable_refdb_reflog_create(db, "refs/heads/main"));
	ck_assert_uint_eq(rt_next_index(db), idx);
	rt_fails(reftable_refdb_reflog_create(db, "refs/tags/bad..name"),
		 REFTABLE_REFNAME_ERROR);
	rt_fails(reftable_refdb_reflog_create(db, NULL), REFTABLE_API_ERROR);
	/* Deleting it removes the marker too. */
	rt_ok(reftable_refdb_reflog_delete(db, "refs/tags/t"));
	ck_assert_int_eq(reftable_refdb_reflog_exists(db, "refs/tags/t"), 0);
}
END_TEST

/* The stack moved before the reflog change: it is computed under the
 * lock from the reloaded view, so a newer entry is not lost. */
START_TEST(reflog_changes_see_the_reloaded_stack)
{
	struct reftable_refdb *other = rt_open(dir);

	ck_assert_str_eq(entries("refs/heads/main"),
			 "5:4>5 4:3>4 3:2>3 2:1>2 1:0>1 ");
	rt_ok(rt_update(other, "refs/heads/main", rt_oid(6), rt_oid(5), "six"));
	rt_ok(reftable_refdb_reflog_delete(db, "refs/heads/main"));
	ck_assert_int_eq(reftable_refdb_reflog_exists(other, "refs/heads/main"), 0);
	reftable_refdb_close(other);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("refdb-reflog");
	TCase *tc = tcase_create("reflog");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, read_newest_first);
	tcase_add_test(tc, delete_one_entry);
	tcase_add_test(tc, delete_entry_rewrite);
	tcase_add_test(tc, deleting_the_last_entry_keeps_the_reflog);
	tcase_add_test(tc, expire_by_time_and_count);
	tcase_add_test(tc, expire_with_callback_rewrite_and_dry_run);
	tcase_add_test(tc, expire_every_reflog_in_one_table);
	tcase_add_test(tc, delete_whole_reflog);
	tcase_add_test(tc, create_and_exists);
	tcase_add_test(tc, reflog_changes_see_the_reloaded_stack);
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
