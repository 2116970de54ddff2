/*
 * An addition folded into the compaction it triggers, the table held in
 * memory until then, and the order in which files are made durable.
 */

#include <check.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include "stack-internal.h"
#include "test-stack-helpers.h"


/* ---------------------------------------------------------------------- */
/* Fsync and errors                                                        */
/* ---------------------------------------------------------------------- */

/*
 * With auto-compaction, a commit makes four fsyncs, the directory last:
 * the addition's table, the new list and the directory (the table's
 * rename before the list's), or, where the addition triggers a
 * compaction, the merged table (the addition folded in, never synced on
 * its own), the one list that replaces the merged tables and the
 * directory.
 */
START_TEST(fsync_once_per_dir)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;
	int i;

	hook_fs_init(&h);
	o.fs = &h.fs;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	for (i = 0; i < 16; i++) {
		char name[32];

		snprintf(name, sizeof(name), "refs/heads/b%02d", i);
		h.fsyncs = h.dir_fsyncs = 0;
		CHECK_OK(test_add_ref(st, name, 1, 0));
		ck_assert_int_eq(h.dir_fsyncs, 2);
		ck_assert(h.last_fsync_dir);
		ck_assert_msg(h.fsyncs == 4, "addition %d: %d fsyncs", i,
			      h.fsyncs);
	}
	/* The additions were folded: few tables, all of them merged. */
	ck_assert_uint_gt(reftable_stack_compaction_stats(st)->bytes, 0);
	ck_assert_uint_le(test_table_count(st), 5);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"),
			 (int)test_table_count(st));
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * Folding an addition into the compaction it triggers: the tables below
 * it are merged with it above the bottom, so its tombstones stay; a
 * table locked by another compactor, or a run too large to merge under
 * the list lock, leaves the addition to be published on its own.
 */
START_TEST(fold_keeps_tombstones_above_bottom)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *auto_st;
	struct reftable_log_record log = { 0 };
	const char *const other[] = { "refs/heads/other" };
	struct test_write tw = { 0 };
	struct hook_fs h;
	int drefs, dlogs;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	test_add_big_bottom(st);
	/* Without a reflog entry: small enough beside the tombstones'
	 * table that Git's rule merges the two. */
	tw.st = st;
	tw.refs = other;
	tw.n = 1;
	tw.fill = 5;
	CHECK_OK(reftable_stack_add(st, test_write_fn, &tw, 0));
	ck_assert_uint_eq(test_table_count(st), 2);

	hook_fs_init(&h);
	o.fs = &h.fs;
	o.disable_auto_compact = 0;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&auto_st, dir, &o));
	CHECK_OK(reftable_stack_add(auto_st, write_tombstones, auto_st, 0));
	/* One merged table, one list, the directory twice (the table's
	 * rename before the list's, then the list's); and no claims: the
	 * fold holds the list lock, so checking for others' is enough. */
	ck_assert_int_eq(h.fsyncs, 4);
	ck_assert_int_eq(h.table_lock_opens, 0);
	ck_assert_uint_eq(test_table_count(auto_st), 2);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 2);
	count_deletions(reftable_merged_table(reftable_stack_merged(auto_st),
					      1),
			&drefs, &dlogs);
	ck_assert_int_eq(drefs, 1);
	ck_assert_int_eq(dlogs, 1);
	ck_assert_int_eq(test_ref_fill(auto_st, "refs/heads/gone"), -1);
	ck_assert_int_eq(reftable_stack_read_log(auto_st, "refs/heads/gone",
						 &log),
			 1);
	ck_assert_int_eq(test_ref_fill(auto_st, "refs/heads/other"), 5);
	ck_assert_int_eq(test_ref_fill(auto_st, "refs/tags/t07"), 4);
	reftable_log_record_release(&log);
	reftable_stack_destroy(auto_st);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* Two tables, x1 then x2, written without compaction; the newest one's
 * name into newest (may be NULL). */
static void two_tables(const char *dir, char *newest, size_t size)
{
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/x1", 1, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/x2", 2, 0));
	ck_assert_uint_eq(test_table_count(st), 2);
	if (newest)
		snprintf(newest, size, "%s",
			 reftable_table_name(reftable_merged_table(
				 reftable_stack_merged(st), 1)));
	reftable_stack_destroy(st);
}

START_TEST(fold_skips_locked_tables)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	char newest[256], lock[4096];

	/* Another compactor holds the newest table. */
	two_tables(dir, newest, sizeof(newest));
	snprintf(lock, sizeof(lock), "%s/%s.lock", dir, newest);
	test_write_file(lock, "");

	o.lock_timeout_ms = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/x3", 3, 0));
	/* Published on its own, nothing merged, the lock left alone. */
	ck_assert_uint_eq(test_list_lines(dir), 3);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 3);
	ck_assert(test_exists(lock));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x3"), 3);

	/* Released: the next addition folds all of them. */
	unlink(lock);
	CHECK_OK(test_add_ref(st, "refs/heads/x4", 4, 0));
	ck_assert_uint_eq(test_list_lines(dir), 1);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x1"), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x4"), 4);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * A fold whose directory fsync fails has renamed the new list, but the
 * list on disk may still be the old one after a crash: the tables it
 * merged must stay until a clean finds them unlisted.
 */
START_TEST(fold_keeps_inputs_when_dir_fsync_fails)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;

	two_tables(dir, NULL, 0);
	hook_fs_init(&h);
	h.fail_dir_fsync_after_publish = 1;
	o.fs = &h.fs;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	/* Published, and said so: a retry would apply it twice. */
	ck_assert_int_eq(test_add_ref(st, "refs/heads/x3", 3, 0),
			 REFTABLE_COMMITTED_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "committed"));
	/* Listed: the merged table alone. On disk: it and the two inputs;
	 * the addition's own table, never listed, is gone. */
	ck_assert_uint_eq(test_list_lines(dir), 1);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 3);
	reftable_stack_destroy(st);

	h.fail_dir_fsync_after_publish = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(reftable_stack_clean(st));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x1"), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x3"), 3);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* One table of n refs named prefix%06d. */
static void add_many(struct reftable_stack *st, const char *prefix, int n)
{
	char **names = calloc((size_t)n, sizeof(*names));
	struct test_write tw = { 0 };
	int i;

	ck_assert_ptr_nonnull(names);
	for (i = 0; i < n; i++) {
		names[i] = malloc(64);
		ck_assert_ptr_nonnull(names[i]);
		snprintf(names[i], 64, "%s%06d", prefix, i);
	}
	tw.st = st;
	tw.refs = (const char *const *)names;
	tw.n = (size_t)n;
	tw.fill = 7;
	CHECK_OK(reftable_stack_add(st, test_write_fn, &tw, 0));
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

START_TEST(fold_only_small_runs)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;

	hook_fs_init(&h);
	o.fs = &h.fs;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	add_many(st, "refs/heads/a", 30000);
	/* Over half the bound of a fold (1 MiB). */
	ck_assert_uint_gt(reftable_table_size(reftable_merged_table(
				  reftable_stack_merged(st), 0)),
			  512 << 10);
	/* As large again: merging both is over the bound, so the addition
	 * is published first and compacted after, with its own fsyncs:
	 * table, list, directory; merged table, list, directory twice. */
	h.fsyncs = 0;
	add_many(st, "refs/heads/b", 30000);
	ck_assert_int_eq(h.fsyncs, 7);
	ck_assert_uint_eq(test_table_count(st), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a000017"), 7);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/b029999"), 7);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * With auto-compaction on, an addition's first small table is held in
 * memory until the commit: a fold merges it without it ever being a file.
 */
START_TEST(fold_writes_no_addition_file)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;

	two_tables(dir, NULL, 0);
	hook_fs_init(&h);
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/x3", 3, 0));
	ck_assert_uint_eq(test_table_count(st), 1);
	/* Only the merged table was ever written to a file. */
	ck_assert_uint_eq(h.tmp_bytes,
			  reftable_table_size(reftable_merged_table(
				  reftable_stack_merged(st), 0)));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x1"), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x3"), 3);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* Counts opens of finished tables for reading. */
static void count_table_reads(struct hook_fs *h, const char *path, int flags)
{
	if (has_end(path, ".ref") && (flags & O_ACCMODE) == O_RDONLY)
		(*(int *)h->data)++;
}

/*
 * The reload after a commit opens the small tables the commit wrote,
 * folded or not, from the bytes it wrote instead of reading them back;
 * what it sees is what a new handle reads from the files.
 */
START_TEST(reload_after_commit_reads_back_no_table)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *other;
	struct hook_fs h;
	char name[32];
	int reads = 0, i;

	hook_fs_init(&h);
	h.before_open = count_table_reads;
	h.data = &reads;
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "refs/heads/b%02d", i);
		CHECK_OK(test_add_ref(st, name, (uint8_t)(i + 1), 0));
	}
	ck_assert_int_eq(reads, 0);
	/* Some additions were folded, the first was not. */
	ck_assert_uint_gt(reftable_stack_compaction_stats(st)->bytes, 0);
	CHECK_OK(reftable_stack_new(&other, dir, &o));
	ck_assert_int_gt(reads, 0);
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "refs/heads/b%02d", i);
		ck_assert_int_eq(test_ref_fill(st, name), i + 1);
		ck_assert_int_eq(test_ref_fill(other, name), i + 1);
	}
	reftable_stack_destroy(other);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* What a commit makes durable, in order: 'w' the writeback asked for of
 * a table or the list, 't' a table's fsync ('T' once the new list is
 * written), 'l' the list's, 'R' the rename of the list into place. */
struct sync_order {
	char seen[16];
	size_t len;
	char dir[4096];
};

static int is_new_list(const char *path)
{
	return strstr(path, "/tables.list.") && has_end(path, ".tmp");
}

/* Whether the new list (tables.list.XXXXXXXX.tmp) is written already. */
static int new_list_written(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat sb;
	char path[8192];
	int found = 0;

	while (d && !found && (e = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		found = is_new_list(path) && !stat(path, &sb) && sb.st_size;
	}
	if (d)
		closedir(d);
	return found;
}

static void note_event(struct hook_fs *h, char what)
{
	struct sync_order *o = h->data;

	if (o->len + 1 < sizeof(o->seen))
		o->seen[o->len++] = what;
}

static void order_after_fsync(struct hook_fs *h, const char *path)
{
	struct sync_order *o = h->data;

	if (has_end(path, ".ref.tmp") || has_end(path, ".ref"))
		note_event(h, new_list_written(o->dir) ? 'T' : 't');
	else if (is_new_list(path))
		note_event(h, 'l');
	else if (!strcmp(path, o->dir))
		note_event(h, 'D');
}

static void order_before_writeback(struct hook_fs *h, const char *path)
{
	note_event(h, has_end(path, ".ref.tmp") || has_end(path, ".ref") ||
				      is_new_list(path) ?
			      'w' :
			      '?');
}

static void order_before_rename(struct hook_fs *h, const char *from,
				const char *to)
{
	(void)from;
	if (has_end(to, "tables.list"))
		note_event(h, 'R');
	else if (has_end(to, ".ref"))
		note_event(h, 'r');
}

/*
 * The tables a commit adds are fsynced before the list that names them,
 * and that list before its rename: after the list is written, so that
 * the filesystem may write them out together (all writeback started at
 * once), in a plain addition and in a fold alike. The directory is
 * fsynced between the tables' renames and the list's (a crash must not
 * keep the list's and lose a table's), and again before returning.
 */
START_TEST(tables_synced_before_their_list)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct sync_order order = { { 0 }, 0, { 0 } };
	struct hook_fs h;

	snprintf(order.dir, sizeof(order.dir), "%s", dir);
	hook_fs_init(&h);
	h.data = &order;
	h.after_fsync = order_after_fsync;
	h.before_writeback = order_before_writeback;
	h.before_rename = order_before_rename;
	o.fs = &h.fs;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	order.len = 0; /* creating tables.list fsynced the directory */
	memset(order.seen, 0, sizeof(order.seen));
	/* Nothing to fold into: the table itself. */
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	ck_assert_str_eq(order.seen, "rwwTlDRD");
	ck_assert_int_eq(h.writebacks, 2);
	/* Folded: the merged table. */
	order.len = 0;
	memset(order.seen, 0, sizeof(order.seen));
	h.writebacks = 0;
	CHECK_OK(test_add_ref(st, "refs/heads/b", 2, 0));
	ck_assert_uint_eq(test_table_count(st), 1);
	ck_assert_str_eq(order.seen, "rwwTlDRD");
	ck_assert_int_eq(h.writebacks, 2);

	/* A writeback that fails fails the commit, as an fsync would. */
	h.fail_writeback = 1;
	ck_assert_int_eq(test_add_ref(st, "refs/heads/c", 3, 0),
			 REFTABLE_IO_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "writeback"));
	h.fail_writeback = 0;
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/c"), -1);
	CHECK_OK(test_add_ref(st, "refs/heads/c", 4, 0));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/c"), 4);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* Add one ref in its own table to add. */
static int add_one(struct reftable_addition *add, const char *name,
		   uint8_t fill)
{
	const char *refs[1];
	struct test_write tw = { 0 };

	refs[0] = name;
	tw.add = add;
	tw.refs = refs;
	tw.n = 1;
	tw.fill = fill;
	return reftable_addition_add(add, test_write_fn, &tw);
}

/* A held table that is not folded reaches its file at the commit; a
 * second table sends the first there before it is written. */
START_TEST(held_table_written_when_not_folded)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_addition *add;
	struct hook_fs h;

	hook_fs_init(&h);
	o.fs = &h.fs;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));

	/* Nothing to fold into: published alone, durable as ever. */
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	CHECK_OK(add_one(add, "refs/heads/a", 1));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 0);
	ck_assert_int_eq(test_count_suffix(dir, ".tmp"), 0);
	h.fsyncs = 0;
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_int_eq(h.fsyncs, 4);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 1);

	/* Two tables: both on disk before the commit, both published. */
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	CHECK_OK(add_one(add, "refs/heads/b", 2));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	CHECK_OK(add_one(add, "refs/heads/c", 3));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 3);
	ck_assert_uint_eq(reftable_addition_update_index(add), 4);
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/b"), 2);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/c"), 3);
	ck_assert_uint_eq(reftable_stack_next_update_index(st), 4);

	/* Aborted while held: nothing to remove, nothing left. */
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	CHECK_OK(add_one(add, "refs/heads/d", 4));
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/d"), -1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * A held table whose file cannot be made stays held: a commit that fails
 * so names the file, publishes nothing and leaves nothing behind, and can
 * be retried; a second add that fails so leaves the first to be
 * published; an addition given up after such a failure leaves nothing.
 */
START_TEST(held_table_survives_failed_write_to_file)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_addition *add;
	struct hook_fs h;

	hook_fs_init(&h);
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&st, dir, &o));

	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	CHECK_OK(add_one(add, "refs/heads/a", 1));
	h.fail_write_suffix = ".tmp";
	ck_assert_int_eq(reftable_addition_commit(add), REFTABLE_IO_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), ".tmp"));
	ck_assert_int_eq(test_count_suffix(dir, ".tmp"), 0);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 0);
	ck_assert_uint_eq(test_list_lines(dir), 0);
	h.fail_write_suffix = NULL;
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 1);

	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	CHECK_OK(add_one(add, "refs/heads/b", 2));
	h.fail_write_suffix = ".tmp";
	ck_assert_int_eq(add_one(add, "refs/heads/c", 3), REFTABLE_IO_ERROR);
	h.fail_write_suffix = NULL;
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/b"), 2);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/c"), -1);

	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	CHECK_OK(add_one(add, "refs/heads/d", 4));
	h.fail_write_suffix = ".tmp";
	ck_assert_int_eq(reftable_addition_commit(add), REFTABLE_IO_ERROR);
	h.fail_write_suffix = NULL;
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/d"), -1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* A table that outgrows what a fold may merge goes to its file while it
 * is written, what was held first. */
START_TEST(large_table_written_while_added)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_addition *add;
	struct test_write tw = { 0 };
	char **names = calloc(60000, sizeof(*names));
	struct hook_fs h;
	int i;

	ck_assert_ptr_nonnull(names);
	for (i = 0; i < 60000; i++) {
		names[i] = malloc(32);
		ck_assert_ptr_nonnull(names[i]);
		snprintf(names[i], 32, "refs/heads/a%06d", i);
	}
	hook_fs_init(&h);
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	tw.add = add;
	tw.refs = (const char *const *)names;
	tw.n = 60000;
	tw.fill = 9;
	CHECK_OK(reftable_addition_add(add, test_write_fn, &tw));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	ck_assert_uint_gt(h.tmp_bytes, 1 << 20);
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_uint_eq(h.tmp_bytes, reftable_table_size(reftable_merged_table(
					       reftable_stack_merged(st), 0)));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a000000"), 9);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a059999"), 9);
	for (i = 0; i < 60000; i++)
		free(names[i]);
	free(names);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

static Suite *stack_suite(void)
{
	Suite *s = suite_create("stack fold");
	TCase *tc = tcase_create("fold");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fsync_once_per_dir);
	tcase_add_test(tc, fold_keeps_tombstones_above_bottom);
	tcase_add_test(tc, fold_skips_locked_tables);
	tcase_add_test(tc, fold_only_small_runs);
	tcase_add_test(tc, fold_writes_no_addition_file);
	tcase_add_test(tc, reload_after_commit_reads_back_no_table);
	tcase_add_test(tc, held_table_written_when_not_folded);
	tcase_add_test(tc, held_table_survives_failed_write_to_file);
	tcase_add_test(tc, tables_synced_before_their_list);
	tcase_add_test(tc, large_table_written_while_added);
	tcase_add_test(tc, fold_keeps_inputs_when_dir_fsync_fails);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stack_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
