/*
 * Failed allocations, one at a time, against two promises of the public
 * headers. reftable_error_detail() describes the failure just returned,
 * never an older one: each test first leaves a detailed failure behind
 * (a bad ref name), then makes one allocation fail and checks the detail
 * of what the call returns. And a commit that failed without publishing
 * can be committed again (reftable-stack.h).
 */

#include <check.h>
#include <errno.h>
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

/* --- committing again after a failure that published nothing -------- */

struct one_ref {
	const char *name;
	uint64_t update_index;
};

static int write_one_ref(struct reftable_writer *w, void *arg)
{
	const struct one_ref *r = arg;
	struct reftable_ref_record ref = { 0 };

	ref.refname = (char *)r->name;
	ref.update_index = r->update_index;
	ref.value_type = REFTABLE_REF_VAL1;
	oid_of(ref.value, r->update_index);
	return reftable_writer_add_ref(w, &ref);
}

/* 0 if a fresh handle on dir sees name, 1 if not. */
static int visible(const char *dir, const char *name)
{
	struct reftable_stack *st = NULL;
	struct reftable_ref_record ref = { 0 };
	int err;

	ck_assert_int_eq(reftable_stack_new(&st, dir, NULL), 0);
	err = reftable_stack_read_ref(st, name, &ref);
	ck_assert_int_ge(err, 0);
	reftable_ref_record_release(&ref);
	reftable_stack_destroy(st);
	return err;
}

START_TEST(a_commit_that_published_nothing_can_be_committed_again)
{
	struct reftable_stack_options o;
	struct reftable_stack *st = NULL;
	char *dir = tl_tmpdir();
	uint64_t n, clean_calls = 0, retried = 0;
	char name[64];
	int err;

	reftable_stack_options_init(&o);
	o.create = 1;
	o.disable_fsync = 1;
	ck_assert_int_eq(reftable_stack_new(&st, dir, &o), 0);
	for (n = 0; n == 0 || n <= clean_calls; n++) {
		struct reftable_addition *add = NULL;
		struct one_ref r = { name, 0 };

		snprintf(name, sizeof(name), "refs/heads/r%llu",
			 (unsigned long long)n);
		ck_assert_int_eq(reftable_stack_new_addition(&add, st, 0), 0);
		r.update_index = reftable_addition_update_index(add);
		ck_assert_int_eq(reftable_addition_add(add, write_one_ref, &r),
				 0);
		alloc_calls = 0;
		fail_call = n; /* round 0: no failure, to count */
		err = reftable_addition_commit(add);
		fail_call = 0;
		if (n == 0)
			clean_calls = alloc_calls;
		if (err < 0 && err != REFTABLE_COMMITTED_ERROR) {
			ck_assert_msg(visible(dir, name) == 1,
				      "allocation %llu: %s, yet %s is visible",
				      (unsigned long long)n,
				      reftable_error_str(err), name);
			err = reftable_addition_commit(add);
			ck_assert_msg(err == 0, "allocation %llu: committed "
				      "again: %s (%s)", (unsigned long long)n,
				      reftable_error_str(err),
				      reftable_error_detail());
			retried++;
		}
		ck_assert_msg(err == 0 || err == REFTABLE_COMMITTED_ERROR,
			      "allocation %llu: %s (%s)", (unsigned long long)n,
			      reftable_error_str(err), reftable_error_detail());
		reftable_addition_destroy(add);
		ck_assert_int_eq(visible(dir, name), 0);
		ck_assert_int_eq(reftable_stack_reload(st), 0);
	}
	ck_assert_uint_gt(retried, 0);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* A disk that fails the new list's writes or fsync while armed. */
static int new_list_fd = -1;
static int disk_error; /* errno to fail with; 0: none */
static int fail_fsync; /* fail the fsync instead of the write */

static int is_new_list(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	return !strncmp(base, "tables.list.", 12) && n > 4 &&
	       !strcmp(base + n - 4, ".tmp");
}

static int failing_open(void *ctx, const char *path, int flags, mode_t mode)
{
	int fd = reftable_fs_posix()->open(ctx, path, flags, mode);

	if (fd >= 0 && is_new_list(path))
		new_list_fd = fd;
	return fd;
}

static ssize_t failing_write(void *ctx, int fd, const void *buf, size_t len)
{
	if (disk_error && !fail_fsync && fd == new_list_fd) {
		errno = disk_error;
		return -1;
	}
	return reftable_fs_posix()->write(ctx, fd, buf, len);
}

static int failing_fsync(void *ctx, int fd)
{
	if (disk_error && fail_fsync && fd == new_list_fd) {
		errno = disk_error;
		return -1;
	}
	return reftable_fs_posix()->fsync(ctx, fd);
}

/* A full disk, then an I/O error on the fsync, each once: the commit
 * fails with nothing published, and succeeds when committed again. */
START_TEST(a_commit_after_a_disk_error_can_be_committed_again)
{
	struct reftable_stack_options o;
	struct reftable_stack *st = NULL;
	struct reftable_addition *add = NULL;
	struct reftable_fs fs;
	struct one_ref r = { "refs/heads/disk", 0 };
	char *dir = tl_tmpdir();
	int err;

	REFTABLE_FS_INIT(&fs);
	fs.open = failing_open;
	fs.write = failing_write;
	fs.fsync = failing_fsync;
	reftable_stack_options_init(&o);
	o.create = 1;
	o.fs = &fs;
	ck_assert_int_eq(reftable_stack_new(&st, dir, &o), 0);
	ck_assert_int_eq(reftable_stack_new_addition(&add, st, 0), 0);
	r.update_index = reftable_addition_update_index(add);
	ck_assert_int_eq(reftable_addition_add(add, write_one_ref, &r), 0);
	for (fail_fsync = 0; fail_fsync < 2; fail_fsync++) {
		disk_error = fail_fsync ? EIO : ENOSPC;
		err = reftable_addition_commit(add);
		disk_error = 0;
		ck_assert_int_eq(err, REFTABLE_IO_ERROR);
		ck_assert_int_eq(visible(dir, r.name), 1);
	}
	err = reftable_addition_commit(add);
	ck_assert_msg(err == 0, "committed again: %s (%s)",
		      reftable_error_str(err), reftable_error_detail());
	reftable_addition_destroy(add);
	ck_assert_int_eq(visible(dir, r.name), 0);
	reftable_stack_destroy(st);
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

	tc = tcase_create("committing again");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc,
		       a_commit_that_published_nothing_can_be_committed_again);
	tcase_add_test(tc, a_commit_after_a_disk_error_can_be_committed_again);
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
