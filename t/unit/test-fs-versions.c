/*
 * struct reftable_fs grows at its end and carries its size: a program
 * built against an older header hands the library a shorter table, and
 * the library must work with it while reading nothing past its end.
 *
 * Each old-sized table here ends exactly where a page without access
 * begins, so a read of a member the caller never had faults at once, in
 * every build (not only under AddressSanitizer).
 */

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "reftable.h"
#include "testlib.h"

#define CHECK_OK(expr)                                                      \
	do {                                                                \
		int check_ok_err_ = (expr);                                 \
		ck_assert_msg(check_ok_err_ == 0, "%s: %d %s (%s)", #expr,  \
			      check_ok_err_,                                \
			      reftable_error_str(check_ok_err_),            \
			      reftable_error_detail());                     \
	} while (0)

/* The layouts of earlier headers: up to munmap (the first), then with
 * start_writeback, then with link. */
static const size_t old_sizes[] = {
	offsetof(struct reftable_fs, start_writeback),
	offsetof(struct reftable_fs, link),
	offsetof(struct reftable_fs, exchange),
};

/* --- a table of size bytes that ends at an inaccessible page --------- */

struct guarded {
	void *map;
	size_t map_len;
	struct reftable_fs *fs;
};

static int fsyncs;

static int counting_fsync(void *ctx, int fd)
{
	fsyncs++;
	return reftable_fs_posix()->fsync(ctx, fd);
}

static void guarded_fs(struct guarded *g, size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *base;

	g->map_len = 2 * (size_t)page;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(g->map, MAP_FAILED);
	base = g->map;
	ck_assert_int_eq(mprotect(base + page, (size_t)page, PROT_NONE), 0);
	ck_assert_int_eq(size % _Alignof(struct reftable_fs), 0);
	g->fs = (struct reftable_fs *)(base + page - size);
	/* What a caller built against the old header does. */
	reftable_fs_init(g->fs, size);
	ck_assert_uint_eq(g->fs->size, size);
	g->fs->fsync = counting_fsync;
}

static void guarded_release(struct guarded *g)
{
	munmap(g->map, g->map_len);
}

/* --- what a ref database does through it ---------------------------- */

static void oid_of(uint8_t *oid, int i)
{
	memset(oid, 0x11 * (i + 1), REFTABLE_HASH_SIZE_SHA1);
}

static void create_ref(struct reftable_refdb *db, const char *name, int i)
{
	uint8_t oid[REFTABLE_HASH_SIZE_SHA1];
	struct reftable_refdb_txn *txn = NULL;

	oid_of(oid, i);
	CHECK_OK(reftable_refdb_txn_begin(&txn, db, NULL));
	CHECK_OK(reftable_refdb_txn_create(txn, name, oid, 0, "create"));
	CHECK_OK(reftable_refdb_txn_commit(txn));
	reftable_refdb_txn_free(txn);
}

static void check_ref(struct reftable_refdb *db, const char *name, int i)
{
	struct reftable_ref_record ref = { 0 };
	uint8_t oid[REFTABLE_HASH_SIZE_SHA1];

	oid_of(oid, i);
	CHECK_OK(reftable_refdb_read_ref(db, name, &ref));
	ck_assert_int_eq(ref.value_type, REFTABLE_REF_VAL1);
	ck_assert_mem_eq(ref.value, oid, sizeof(oid));
	reftable_ref_record_release(&ref);
}

/* Opens, additions with their auto-compactions, a full compaction, a
 * clean, breaking locks and a table opened alone: every path that looks
 * for the optional members. */
static void use_stack_through(const struct reftable_fs *fs)
{
	static const char *names[] = { "refs/heads/a", "refs/heads/b",
				       "refs/heads/c", "refs/tags/d" };
	struct reftable_refdb_options o;
	struct reftable_refdb *db = NULL, *other = NULL;
	struct reftable_stack *st;
	struct reftable_merged *m;
	struct reftable_table *t = NULL;
	char *dir = tl_tmpdir(), *path;
	size_t i;

	reftable_refdb_options_init(&o);
	o.stack.create = 1;
	o.stack.fs = fs;
	CHECK_OK(reftable_refdb_open(&db, dir, &o));
	CHECK_OK(reftable_refdb_open(&other, dir, &o));
	fsyncs = 0;
	for (i = 0; i < 4; i++)
		create_ref(i % 2 ? other : db, names[i], (int)i);
	ck_assert_int_gt(fsyncs, 0); /* the table given is the one used */
	st = reftable_refdb_stack(db);
	CHECK_OK(reftable_refdb_reload(db));
	CHECK_OK(reftable_stack_compact_all(st, NULL));
	ck_assert_int_ge(reftable_stack_clean(st), 0);
	ck_assert_int_ge(reftable_stack_break_stale_locks(st, NULL), 0);
	for (i = 0; i < 4; i++)
		check_ref(other, names[i], (int)i);

	m = reftable_stack_merged(st);
	ck_assert_uint_eq(reftable_merged_table_count(m), 1);
	path = tl_path(dir, reftable_table_name(reftable_merged_table(m, 0)));
	CHECK_OK(reftable_table_open_fs(&t, fs, path));
	ck_assert_uint_eq(reftable_table_max_update_index(t), 4);
	reftable_table_decref(t);
	free(path);
	reftable_refdb_close(other);
	reftable_refdb_close(db);
	tl_rmtree(dir);
}

START_TEST(an_old_sized_table_still_works)
{
	struct guarded g;

	guarded_fs(&g, old_sizes[_i]);
	use_stack_through(g.fs);
	guarded_release(&g);
}
END_TEST

START_TEST(a_table_without_its_size_is_refused)
{
	struct reftable_fs fs;
	struct reftable_stack *st = NULL;
	struct reftable_table *t = NULL;
	char *dir = tl_tmpdir();
	struct reftable_stack_options o;

	REFTABLE_FS_INIT(&fs);
	fs.size = 0; /* as a table filled member by member, size forgotten */
	reftable_stack_options_init(&o);
	o.create = 1;
	o.fs = &fs;
	ck_assert_int_eq(reftable_stack_new(&st, dir, &o), REFTABLE_API_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "reftable_fs"));
	ck_assert_ptr_null(st);
	fs.size = offsetof(struct reftable_fs, munmap); /* munmap missing */
	ck_assert_int_eq(reftable_table_open_fs(&t, &fs, "x.ref"),
			 REFTABLE_API_ERROR);
	tl_rmtree(dir);
}
END_TEST

/* A newer caller's table: its members beyond ours are left alone by
 * reftable_fs_init and ignored by the library. */
START_TEST(a_newer_callers_table_keeps_its_tail)
{
	size_t ours = sizeof(struct reftable_fs), theirs = ours + 16;
	uint8_t *buf = aligned_alloc(_Alignof(struct reftable_fs), theirs);
	struct reftable_fs *fs = (struct reftable_fs *)buf;
	size_t i;

	memset(buf, 0xab, theirs);
	reftable_fs_init(fs, theirs);
	ck_assert_uint_eq(fs->size, theirs);
	ck_assert_ptr_eq(fs->exchange, reftable_fs_posix()->exchange);
	for (i = ours; i < theirs; i++)
		ck_assert_uint_eq(buf[i], 0xab);
	fs->fsync = counting_fsync;
	use_stack_through(fs);
	free(buf);
}
END_TEST

/* reftable_fs_init writes nothing past the size it is given. */
START_TEST(init_writes_only_the_size_given)
{
	size_t size = offsetof(struct reftable_fs, link), i;
	uint8_t buf[sizeof(struct reftable_fs)];
	struct reftable_fs *fs = (struct reftable_fs *)buf;

	memset(buf, 0xcd, sizeof(buf));
	reftable_fs_init(fs, size);
	ck_assert_uint_eq(fs->size, size);
	ck_assert_ptr_eq(fs->start_writeback,
			 reftable_fs_posix()->start_writeback);
	for (i = size; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0xcd);
}
END_TEST

static Suite *fs_versions_suite(void)
{
	Suite *s = suite_create("fs-versions");
	TCase *tc = tcase_create("sizes");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, an_old_sized_table_still_works, 0,
			    (int)(sizeof(old_sizes) / sizeof(old_sizes[0])));
	tcase_add_test(tc, a_table_without_its_size_is_refused);
	tcase_add_test(tc, a_newer_callers_table_keeps_its_tail);
	tcase_add_test(tc, init_writes_only_the_size_given);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fs_versions_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
