/*
 * reftable_error_detail() describes the failure just returned, never an
 * older one. Each test first leaves a detailed failure behind (a bad ref
 * name), then makes one allocation fail and checks the detail of what
 * the call returns.
 */

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reftable.h"
#include "testlib.h"

/* --- an allocator that fails one chosen call --------------------------- */

static uint64_t alloc_calls; /* malloc and realloc calls */
static uint64_t fail_call;   /* this call fails (0: none) */

static void *counting_malloc(size_t n)
{
	return ++alloc_calls == fail_call ? NULL : malloc(n);
}

static void *counting_realloc(void *p, size_t n)
{
	return ++alloc_calls == fail_call ? NULL : realloc(p, n);
}

/* The stale failure: a detail that no later failure may repeat. */
static char stale[512];

static void leave_a_detailed_failure(void)
{
	ck_assert_int_eq(reftable_refname_check_format("refs/heads/a..b", 0),
			 REFTABLE_REFNAME_ERROR);
	snprintf(stale, sizeof(stale), "%s", reftable_error_detail());
	ck_assert_msg(stale[0], "the bad name left no detail");
}

/* err failed: its detail must be its own. */
static void check_fresh_detail(int err, const char *op, uint64_t n)
{
	const char *d = reftable_error_detail();

	ck_assert_msg(d[0] && strcmp(d, stale),
		      "%s, allocation %llu failed: %s, detail \"%s\" is the "
		      "earlier failure's", op, (unsigned long long)n,
		      reftable_error_str(err), d);
	if (err == REFTABLE_NOMEM_ERROR)
		ck_assert_msg(strstr(d, "out of memory"),
			      "%s, allocation %llu: NOMEM with detail \"%s\"",
			      op, (unsigned long long)n, d);
}

/* One of the library's bare NOMEM returns: the table handle's calloc. */
START_TEST(nomem_after_a_detailed_error_has_its_own_detail)
{
	static const uint8_t bytes[1];
	struct reftable_table *t = NULL;

	leave_a_detailed_failure();
	fail_call = alloc_calls + 1;
	ck_assert_int_eq(reftable_table_from_buffer(&t, bytes, sizeof(bytes),
						    "x.ref"),
			 REFTABLE_NOMEM_ERROR);
	fail_call = 0;
	ck_assert_ptr_null(t);
	check_fresh_detail(REFTABLE_NOMEM_ERROR, "table_from_buffer", 1);
}
END_TEST

/* --- every allocation of an operation, failed in turn ---------------- */

static void oid_of(uint8_t *oid, uint64_t i)
{
	memset(oid, (int)(i % 255) + 1, REFTABLE_HASH_SIZE_SHA1);
}

/* Create refs/heads/b<i>; each call a new name, so a change that a
 * failed call still committed is never in the way of the next. */
static int commit_one(struct reftable_refdb *db, uint64_t i)
{
	struct reftable_refdb_txn *txn = NULL;
	uint8_t oid[REFTABLE_HASH_SIZE_SHA1];
	char name[64];
	int err;

	oid_of(oid, i);
	snprintf(name, sizeof(name), "refs/heads/b%llu", (unsigned long long)i);
	err = reftable_refdb_txn_begin(&txn, db, NULL);
	if (!err)
		err = reftable_refdb_txn_create(txn, name, oid, 0, "create");
	if (!err)
		err = reftable_refdb_txn_commit(txn);
	reftable_refdb_txn_free(txn);
	return err;
}

static int compact(struct reftable_refdb *db, uint64_t i)
{
	return reftable_stack_compact_all(reftable_refdb_stack(db), NULL);
}

static int open_and_read(struct reftable_refdb *db, uint64_t i)
{
	const char *dir = reftable_stack_dir(reftable_refdb_stack(db));
	struct reftable_refdb_options o;
	struct reftable_refdb *other = NULL;
	struct reftable_ref_record ref = { 0 };
	int err;

	reftable_refdb_options_init(&o);
	o.stack.disable_fsync = 1;
	err = reftable_refdb_open(&other, dir, &o);
	if (!err)
		err = reftable_refdb_read_ref(other, "refs/heads/b1", &ref);
	reftable_ref_record_release(&ref);
	reftable_refdb_close(other);
	return err < 0 ? err : 0;
}

static const struct {
	const char *name;
	int (*run)(struct reftable_refdb *db, uint64_t i);
} ops[] = {
	{ "transaction commit", commit_one },
	{ "full compaction", compact },
	{ "open and read", open_and_read },
};

START_TEST(every_failure_under_failing_allocations_has_its_own_detail)
{
	struct reftable_refdb_options o;
	struct reftable_refdb *db = NULL;
	char *dir = tl_tmpdir(), *lock = tl_path(dir, "tables.list.lock");
	uint64_t n, clean_calls, failures = 0, i = 1;
	int err;

	reftable_refdb_options_init(&o);
	o.stack.create = 1;
	o.stack.disable_fsync = 1;
	ck_assert_int_eq(reftable_refdb_open(&db, dir, &o), 0);
	ck_assert_int_eq(commit_one(db, i++), 0);
	ck_assert_int_eq(commit_one(db, i++), 0);

	/* How many allocations the operation makes when none fails. */
	alloc_calls = 0;
	ck_assert_int_eq(ops[_i].run(db, i++), 0);
	clean_calls = alloc_calls;
	for (n = 1; n <= clean_calls; n++) {
		leave_a_detailed_failure();
		alloc_calls = 0;
		fail_call = n;
		err = ops[_i].run(db, i++);
		fail_call = 0;
		if (err < 0) {
			check_fresh_detail(err, ops[_i].name, n);
			failures++;
		}
		/* A failure releases the list lock like a success. */
		ck_assert_msg(access(lock, F_OK) < 0,
			      "%s, allocation %llu failed: %s left behind",
			      ops[_i].name, (unsigned long long)n, lock);
		/* The next round starts from what is on disk. */
		ck_assert_int_eq(reftable_refdb_reload(db), 0);
	}
	ck_assert_uint_gt(failures, 0);
	reftable_refdb_close(db);
	free(lock);
	tl_rmtree(dir);
}
END_TEST

#define SWEEP every_failure_under_failing_allocations_has_its_own_detail

static Suite *error_detail_suite(void)
{
	Suite *s = suite_create("error-detail");
	TCase *tc = tcase_create("allocation failures");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, nomem_after_a_detailed_error_has_its_own_detail);
	tcase_add_loop_test(tc, SWEEP, 0,
			    (int)(sizeof(ops) / sizeof(ops[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	/* Before any other library call, as reftable-alloc.h asks. */
	reftable_set_alloc(counting_malloc, counting_realloc, free);
	sr = srunner_create(error_detail_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
