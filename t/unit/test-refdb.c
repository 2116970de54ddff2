/*
 * The ref database: opening, reading, iterating by prefix, reloads seen by
 * iterators and callbacks.
 */

#define RT_DB_FIXTURE
#include "test-refdb-helpers.h"

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
	tcase_add_test(tc, iterate_by_prefix);
	tcase_add_test(tc, iterator_survives_reload);
	tcase_add_test(tc, on_reload_passes_through);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(suite());
}
