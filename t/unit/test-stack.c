/*
 * The stack: additions, reloads, the lock wait, and compaction's rules.
 * The races are in test-stack-races.c, the fold of an addition into a
 * compaction and the order of syncs in test-stack-fold.c.
 */

#include <check.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include "stack-internal.h"
#include "test-stack-helpers.h"


/* ---------------------------------------------------------------------- */
/* Unit pieces                                                             */
/* ---------------------------------------------------------------------- */

START_TEST(segment_rule)
{
	/* Already geometric from newest to oldest: nothing to do. */
	uint64_t geo[] = { 64, 32, 16, 8, 4, 2, 1 };
	/* The example of Git's own tests for factor 2. */
	uint64_t git[] = { 512, 64, 17, 16, 9, 9, 9, 16, 2, 16 };
	uint64_t two[] = { 10, 10 };
	uint64_t tail_ok[] = { 100, 10, 10, 4 };
	struct segment s;

	s = suggest_compaction_segment(geo, 7, 2);
	ck_assert_uint_eq(s.end - s.start, 0);
	s = suggest_compaction_segment(geo, 1, 2);
	ck_assert_uint_eq(s.end - s.start, 0);

	s = suggest_compaction_segment(git, 10, 2);
	ck_assert_uint_eq(s.start, 1);
	ck_assert_uint_eq(s.end, 10);

	s = suggest_compaction_segment(two, 2, 2);
	ck_assert_uint_eq(s.start, 0);
	ck_assert_uint_eq(s.end, 2);
	ck_assert_uint_eq(s.bytes, 20);

	/* 4 is fine below 10 (factor 2), the two 10s are not: merge them;
	 * 100 stays since 100 >= 2 * 20. */
	s = suggest_compaction_segment(tail_ok, 4, 2);
	ck_assert_uint_eq(s.start, 1);
	ck_assert_uint_eq(s.end, 3);

	/* With factor 3, 64 vs 32 already breaks the sequence everywhere. */
	s = suggest_compaction_segment(geo, 7, 3);
	ck_assert_uint_eq(s.start, 0);
	ck_assert_uint_eq(s.end, 7);
}
END_TEST

START_TEST(table_names)
{
	char name[80];
	uint64_t min, max;

	table_name_format(name, sizeof(name), 1, 0x2a, 0xdeadbeef);
	ck_assert_str_eq(name, "0x000000000001-0x00000000002a-deadbeef.ref");
	ck_assert_int_eq(table_name_parse(name, &min, &max), 0);
	ck_assert_uint_eq(min, 1);
	ck_assert_uint_eq(max, 0x2a);
	/* The older form without a random part. */
	ck_assert_int_eq(table_name_parse("0x000000000003-0x000000000004.ref",
					  &min, &max), 0);
	ck_assert_uint_eq(max, 4);
	ck_assert_int_eq(table_name_parse("tables.list", &min, &max), -1);
	ck_assert_int_eq(table_name_parse("0x1-0x2-ab.ref.lock", &min, &max), -1);
}
END_TEST

START_TEST(list_parsing)
{
	char **names;
	size_t n;

	CHECK_OK(names_parse(&names, &n, "a.ref\nb.ref\n", 12, "x"));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[1], "b.ref");
	names_free(names, n);
	/* A name leaving the directory is refused. */
	ck_assert_int_eq(names_parse(&names, &n, "../x.ref\n", 9, "x"),
			 REFTABLE_FORMAT_ERROR);
	ck_assert_int_eq(names_parse(&names, &n, "a/b.ref\n", 8, "x"),
			 REFTABLE_FORMAT_ERROR);
	CHECK_OK(names_parse(&names, &n, "", 0, "x"));
	ck_assert_uint_eq(n, 0);
	names_free(names, n);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Basics                                                                  */
/* ---------------------------------------------------------------------- */

START_TEST(open_create)
{
	char *dir = tl_tmpdir();
	char sub[4096];
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;

	snprintf(sub, sizeof(sub), "%s/reftable", dir);
	o.create = 0;
	ck_assert_int_eq(reftable_stack_new(&st, sub, &o),
			 REFTABLE_NOT_EXIST_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), sub));

	o.create = 1;
	CHECK_OK(reftable_stack_new(&st, sub, &o));
	ck_assert(test_exists(test_path(sub, "tables.list")));
	ck_assert_uint_eq(test_table_count(st), 0);
	ck_assert_uint_eq(reftable_stack_next_update_index(st), 1);
	ck_assert_int_eq(reftable_stack_up_to_date(st), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x"), -1);
	reftable_stack_destroy(st);

	o.auto_compaction_factor = 257;
	ck_assert_int_eq(reftable_stack_new(&st, sub, &o), REFTABLE_RANGE_ERROR);
	o.auto_compaction_factor = 1;
	ck_assert_int_eq(reftable_stack_new(&st, sub, &o), REFTABLE_RANGE_ERROR);

	unlink(test_path(sub, "tables.list"));
	rmdir(sub);
	tl_rmtree(dir);
}
END_TEST

START_TEST(add_and_read)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	char name[80];
	uint64_t min, max;
	char *list;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/b", 2, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/a", 3, 0));
	ck_assert_uint_eq(test_table_count(st), 3);
	ck_assert_uint_eq(reftable_stack_next_update_index(st), 4);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 3);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/b"), 2);

	/* Names: 0x{min}-0x{max}-{random}.ref, update indexes 1, 2, 3. */
	list = test_read_file(test_path(dir, "tables.list"), NULL);
	ck_assert_uint_eq(strlen(list), 3 * 43);
	memcpy(name, list + 2 * 43, 42);
	name[42] = '\0';
	ck_assert_int_eq(table_name_parse(name, &min, &max), 0);
	ck_assert_uint_eq(min, 3);
	ck_assert_uint_eq(max, 3);
	free(list);

	/* The newest reflog entry of a. */
	{
		struct reftable_log_record log = { 0 };
		CHECK_OK(reftable_stack_read_log(st, "refs/heads/a", &log));
		ck_assert_uint_eq(log.update_index, 3);
		ck_assert_uint_eq(log.new_id[0], 3);
		reftable_log_record_release(&log);
	}

	/* Deleting hides the ref. */
	CHECK_OK(test_del_ref(st, "refs/heads/a"));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), -1);

	/* No temporary files or locks are left behind. */
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

static int write_nothing(struct reftable_writer *w, void *arg)
{
	return 0;
}

START_TEST(empty_addition_writes_nothing)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct stat before, after;

	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	ck_assert_int_eq(stat(test_path(dir, "tables.list"), &before), 0);
	CHECK_OK(reftable_stack_add(st, write_nothing, NULL, 0));
	ck_assert_int_eq(stat(test_path(dir, "tables.list"), &after), 0);
	/* The very same tables.list: not even rewritten. */
	ck_assert_uint_eq(before.st_ino, after.st_ino);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	CHECK_NO_LEFTOVERS(dir);
	ck_assert_uint_eq(reftable_stack_next_update_index(st), 2);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

START_TEST(two_tables_in_one_addition)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_addition *add;
	const char *r1[] = { "refs/heads/one" }, *r2[] = { "refs/heads/two" };
	struct test_write tw = { 0 };

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	ck_assert_uint_eq(reftable_addition_update_index(add), 1);
	tw.add = add;
	tw.refs = r1;
	tw.n = 1;
	tw.fill = 1;
	CHECK_OK(reftable_addition_add(add, test_write_fn, &tw));
	ck_assert_uint_eq(reftable_addition_update_index(add), 2);
	tw.refs = r2;
	tw.fill = 2;
	CHECK_OK(reftable_addition_add(add, test_write_fn, &tw));
	/* Not visible before commit. */
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/one"), -1);
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_uint_eq(test_table_count(st), 2);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/two"), 2);
	ck_assert_uint_eq(reftable_stack_next_update_index(st), 3);

	/* An aborted addition leaves nothing: no table, no lock. */
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	tw.add = add;
	CHECK_OK(reftable_addition_add(add, test_write_fn, &tw));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 3);
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 2);
	ck_assert_int_eq(test_count_suffix(dir, ".lock"), 0);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

START_TEST(outdated_and_reload_flag)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *a, *b;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&a, dir, &o));
	CHECK_OK(reftable_stack_new(&b, dir, &o));
	CHECK_OK(test_add_ref(a, "refs/heads/x", 1, 0));

	/* b's snapshot is older than the stack. */
	ck_assert_int_eq(reftable_stack_up_to_date(b), 0);
	ck_assert_int_eq(test_add_ref(b, "refs/heads/y", 2, 0),
			 REFTABLE_OUTDATED_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "tables.list"));
	ck_assert_int_eq(test_count_suffix(dir, ".lock"), 0);
	ck_assert_uint_eq(test_list_lines(dir), 1);

	/* With the flag it reloads under the lock and uses index 2. */
	CHECK_OK(test_add_ref(b, "refs/heads/y", 2, REFTABLE_ADDITION_RELOAD));
	ck_assert_uint_eq(reftable_stack_next_update_index(b), 3);
	ck_assert_int_eq(test_ref_fill(b, "refs/heads/x"), 1);
	CHECK_OK(reftable_stack_reload(a));
	ck_assert_int_eq(test_ref_fill(a, "refs/heads/y"), 2);
	reftable_stack_destroy(a);
	reftable_stack_destroy(b);
	tl_rmtree(dir);
}
END_TEST

static int count_reload(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

START_TEST(reload_reuses_tables_and_calls_back)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *w, *r;
	struct reftable_table *first;
	int calls = 0;

	o.disable_auto_compact = 1;
	o.force_content_reload = _i;
	CHECK_OK(reftable_stack_new(&w, dir, &o));
	CHECK_OK(test_add_ref(w, "refs/heads/a", 1, 0));
	o.on_reload = count_reload;
	o.on_reload_arg = &calls;
	CHECK_OK(reftable_stack_new(&r, dir, &o));
	ck_assert_int_eq(calls, 0);
	first = reftable_merged_table(reftable_stack_merged(r), 0);

	CHECK_OK(reftable_stack_reload(r)); /* nothing changed */
	ck_assert_int_eq(calls, 0);

	CHECK_OK(test_add_ref(w, "refs/heads/b", 2, 0));
	ck_assert_int_eq(reftable_stack_up_to_date(r), 0);
	CHECK_OK(reftable_stack_reload(r));
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(reftable_stack_up_to_date(r), 1);
	ck_assert_uint_eq(test_table_count(r), 2);
	/* The table already open is the same object, not reopened. */
	ck_assert_ptr_eq(reftable_merged_table(reftable_stack_merged(r), 0),
			 first);
	ck_assert_int_eq(test_ref_fill(r, "refs/heads/b"), 2);

	/* A compaction by w: r sees one table afterwards. */
	CHECK_OK(reftable_stack_compact_all(w, NULL));
	ck_assert_int_eq(reftable_stack_up_to_date(r), 0);
	CHECK_OK(reftable_stack_reload(r));
	ck_assert_uint_eq(test_table_count(r), 1);
	ck_assert_int_eq(calls, 2);
	ck_assert_int_eq(test_ref_fill(r, "refs/heads/a"), 1);
	reftable_stack_destroy(w);
	reftable_stack_destroy(r);
	tl_rmtree(dir);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Waiting for tables.list.lock (the lock protocol: test-locks.c)         */
/* ---------------------------------------------------------------------- */

/* Waiting forever (negative timeout) ends when the holder goes: the hook
 * plays the holder, removing the lock after three refused attempts. */
START_TEST(lock_wait_forever_ends_when_released)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;

	hook_fs_init(&h);
	h.unlock_after_busy = 3;
	o.fs = &h.fs;
	o.lock_timeout_ms = -1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	test_write_file(test_path(dir, "tables.list.lock"), "");
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	ck_assert_int_eq(h.lock_busy, 3);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 1);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST


/* ---------------------------------------------------------------------- */
/* Compaction semantics                                                    */
/* ---------------------------------------------------------------------- */

START_TEST(deletions_kept_above_bottom_dropped_at_bottom)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_log_record log = { 0 };
	int drefs, dlogs;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	/* A big bottom table, so that auto-compaction leaves it alone. */
	test_add_big_bottom(st);
	ck_assert_uint_eq(test_table_count(st), 1);

	CHECK_OK(reftable_stack_add(st, write_tombstones, st, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/other", 5, 0));
	ck_assert_uint_eq(test_table_count(st), 3);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/gone"), -1);
	ck_assert_int_eq(reftable_stack_read_log(st, "refs/heads/gone", &log), 1);

	/* Above the bottom: the two small tables merge, tombstones stay
	 * (they still hide the records of the bottom table). */
	CHECK_OK(reftable_stack_auto_compact(st));
	ck_assert_uint_eq(test_table_count(st), 2);
	count_deletions(reftable_merged_table(reftable_stack_merged(st), 1),
			&drefs, &dlogs);
	ck_assert_int_eq(drefs, 1);
	ck_assert_int_eq(dlogs, 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/gone"), -1);
	ck_assert_int_eq(reftable_stack_read_log(st, "refs/heads/gone", &log), 1);

	/* At the bottom: nothing below to hide, the tombstones go, and what
	 * they hid is gone too. */
	CHECK_OK(reftable_stack_compact_all(st, NULL));
	ck_assert_uint_eq(test_table_count(st), 1);
	count_deletions(reftable_merged_table(reftable_stack_merged(st), 0),
			&drefs, &dlogs);
	ck_assert_int_eq(drefs, 0);
	ck_assert_int_eq(dlogs, 0);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/gone"), -1);
	ck_assert_int_eq(reftable_stack_read_log(st, "refs/heads/gone", &log), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/other"), 5);
	ck_assert_int_eq(test_ref_fill(st, "refs/tags/t39"), 4);
	reftable_log_record_release(&log);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

static int count_logs(struct reftable_stack *st)
{
	struct reftable_iterator it = { 0 };
	struct reftable_log_record log = { 0 };
	int n = 0, err;

	CHECK_OK(reftable_stack_init_log_iterator(st, &it));
	CHECK_OK(reftable_iterator_seek_log(&it, ""));
	while ((err = reftable_iterator_next_log(&it, &log)) == 0)
		n++;
	ck_assert_int_eq(err, 1);
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&log);
	return n;
}

START_TEST(log_expiry)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_log_expiry ex = { 0 };
	int i;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	/* Update i (1..6) writes a log entry of time 1700000000 + i. */
	for (i = 1; i <= 6; i++)
		CHECK_OK(test_add_ref(st, "refs/heads/a", (uint8_t)i, 0));
	ck_assert_int_eq(count_logs(st), 6);

	ex.time = 1700000000 + 3; /* drops the entries of times +1, +2 */
	CHECK_OK(reftable_stack_compact_all(st, &ex));
	ck_assert_int_eq(count_logs(st), 4);

	/* A single table is rewritten too, to expire by update index. */
	ex.time = 0;
	ex.min_update_index = 5;
	CHECK_OK(reftable_stack_compact_all(st, &ex));
	ck_assert_uint_eq(test_table_count(st), 1);
	ck_assert_int_eq(count_logs(st), 2);
	/* The refs are untouched, and the update index keeps counting. */
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 6);
	ck_assert_uint_eq(reftable_stack_next_update_index(st), 7);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

START_TEST(auto_compaction_factor)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	char name[64];
	int i;

	o.auto_compaction_factor = _i ? 256 : 2;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "refs/heads/b%03d", i);
		CHECK_OK(test_add_ref(st, name, (uint8_t)i, 0));
		/* After every addition the sizes form the sequence. */
		{
			struct reftable_merged *m = reftable_stack_merged(st);
			size_t k, n = reftable_merged_table_count(m);
			for (k = 1; k < n; k++) {
				/* Git's measure: no footer, header
				 * but one byte. */
				uint64_t older = reftable_table_size(
					reftable_merged_table(m, k - 1)) - 68 - 23;
				uint64_t newer = reftable_table_size(
					reftable_merged_table(m, k)) - 68 - 23;
				ck_assert_uint_ge(older,
						  newer * o.auto_compaction_factor);
			}
		}
	}
	ck_assert_uint_le(test_table_count(st), _i ? 2 : 7);
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "refs/heads/b%03d", i);
		ck_assert_int_eq(test_ref_fill(st, name), i);
	}
	ck_assert_uint_gt(reftable_stack_compaction_stats(st)->attempts, 0);
	ck_assert_uint_eq(reftable_stack_compaction_stats(st)->failures, 0);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

static int write_head_and_log(struct reftable_writer *w, void *arg)
{
	struct reftable_stack *st = arg;
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };
	int err;

	ref.refname = (char *)"HEAD";
	ref.update_index = reftable_stack_next_update_index(st);
	ref.value_type = REFTABLE_REF_SYMREF;
	ref.target = (char *)"refs/heads/main";
	err = reftable_writer_add_ref(w, &ref);
	if (err)
		return err;
	log.refname = (char *)"HEAD";
	log.update_index = ref.update_index;
	log.value_type = REFTABLE_LOG_UPDATE;
	memset(log.new_id, 0x5a, sizeof(log.new_id));
	log.name = (char *)"A U Thor";
	log.email = (char *)"author@example.com";
	log.time = 1112354055;
	log.tz_offset = 200;
	log.message = (char *)"reset: moving to HEAD\n";
	return reftable_writer_add_log(w, &log);
}

/*
 * Git measures a table for auto-compaction without its footer: a table
 * holding only HEAD and its reflog entry (a new worktree's stack after
 * pack-refs: 308 bytes written by Git) and an addition of one ref without
 * a reflog (166 bytes) stay two tables, as in Git (its t0610 worktree
 * tests count them). Counting the footer, 68 bytes of both, made them
 * look alike and compacted them.
 */
START_TEST(small_tables_are_measured_without_their_footer)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_merged *m;
	const char *const refs[] = { "refs/bisect/per-worktree" };
	struct test_write tw = { 0 };
	uint64_t older, newer;

	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(reftable_stack_add(st, write_head_and_log, st, 0));
	/* A ref without a reflog, as Git writes one under refs/bisect/. */
	tw.st = st;
	tw.refs = refs;
	tw.n = 1;
	tw.fill = 1;
	CHECK_OK(reftable_stack_add(st, test_write_fn, &tw, 0));
	ck_assert_uint_eq(test_table_count(st), 2);
	/* Git's rule holds for these two by its measure... */
	m = reftable_stack_merged(st);
	older = reftable_table_size(reftable_merged_table(m, 0)) - 68 - 23;
	newer = reftable_table_size(reftable_merged_table(m, 1)) - 68 - 23;
	ck_assert_uint_ge(older, 2 * newer);
	/* ...and would not with the footer counted. */
	ck_assert_uint_lt(older + 68, 2 * (newer + 68));
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

START_TEST(fsync_option)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;

	hook_fs_init(&h);
	o.fs = &h.fs;
	o.disable_auto_compact = 1;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	h.fsyncs = 0;
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	/* The table, the directory (the table before the list that names
	 * it), the new list, the directory. */
	ck_assert_int_eq(h.fsyncs, 4);
	h.fsyncs = 0;
	CHECK_OK(test_add_ref(st, "refs/heads/b", 1, 0));
	CHECK_OK(reftable_stack_compact_all(st, NULL));
	ck_assert_int_eq(h.fsyncs, 8); /* 4 for the addition, 4 for the compaction */
	reftable_stack_destroy(st);

	o.disable_fsync = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	h.fsyncs = 0;
	CHECK_OK(test_add_ref(st, "refs/heads/c", 1, 0));
	CHECK_OK(reftable_stack_compact_all(st, NULL));
	ck_assert_int_eq(h.fsyncs, 0);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

START_TEST(write_error_names_the_file)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;
	int err;

	hook_fs_init(&h);
	o.fs = &h.fs;
	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));

	h.fail_write_suffix = ".tmp";
	err = test_add_ref(st, "refs/heads/b", 2, 0);
	ck_assert_int_eq(err, REFTABLE_IO_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), ".tmp"));
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), dir));
	CHECK_NO_LEFTOVERS(dir);
	ck_assert_uint_eq(test_list_lines(dir), 1);

	/* The list itself cannot be written: nothing changes either. */
	h.fail_write_suffix = "tables.list.lock";
	err = test_add_ref(st, "refs/heads/b", 2, 0);
	ck_assert_int_eq(err, REFTABLE_IO_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(),
				     "tables.list.lock"));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	ck_assert_int_eq(test_count_suffix(dir, ".lock"), 0);

	/* A failed compaction leaves the stack as it was. */
	h.fail_write_suffix = NULL;
	CHECK_OK(test_add_ref(st, "refs/heads/b", 2, 0));
	h.fail_write_suffix = ".tmp";
	ck_assert_int_eq(reftable_stack_compact_all(st, NULL),
			 REFTABLE_IO_ERROR);
	ck_assert_uint_eq(test_list_lines(dir), 2);
	CHECK_NO_LEFTOVERS(dir);
	ck_assert_uint_eq(reftable_stack_compaction_stats(st)->failures, 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/b"), 2);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

static Suite *stack_suite(void)
{
	Suite *s = suite_create("stack");
	TCase *tc = tcase_create("units");

	tcase_add_test(tc, segment_rule);
	tcase_add_test(tc, table_names);
	tcase_add_test(tc, list_parsing);
	suite_add_tcase(s, tc);

	tc = tcase_create("basics");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, open_create);
	tcase_add_test(tc, add_and_read);
	tcase_add_test(tc, empty_addition_writes_nothing);
	tcase_add_test(tc, two_tables_in_one_addition);
	tcase_add_test(tc, outdated_and_reload_flag);
	/* Loop index 1: the content-comparison reload (reproducer 6). */
	tcase_add_loop_test(tc, reload_reuses_tables_and_calls_back, 0, 2);
	tcase_add_test(tc, fsync_option);
	tcase_add_test(tc, write_error_names_the_file);
	tcase_add_test(tc, lock_wait_forever_ends_when_released);
	suite_add_tcase(s, tc);

	tc = tcase_create("compaction");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, deletions_kept_above_bottom_dropped_at_bottom);
	tcase_add_test(tc, log_expiry);
	tcase_add_loop_test(tc, auto_compaction_factor, 0, 2);
	tcase_add_test(tc, small_tables_are_measured_without_their_footer);
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
