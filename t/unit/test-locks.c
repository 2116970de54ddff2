/*
 * The lock protocol: who may break a lock (only an owner proven dead),
 * and what a commit says when its lock was lost after the publish. Each
 * case is staged by a forked process or a filesystem hook.
 */

#include "test-locks-helpers.h"

/* --- who may break a lock ---------------------------------------------- */

/* A killed writer's lock blocks every writer until it is broken; the
 * evidence in it proves the owner gone, and so does the temporary table
 * it was writing, once no lock is left. */
START_TEST(dead_writers_lock_is_broken_by_evidence)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	const char *lock = test_path(dir, "tables.list.lock");
	const char *tmp = test_path(
		dir, "0x000000000009-0x000000000009-00000000.ref.tmp");
	struct reftable_stack *st;
	struct reports rs;

	o.lock_timeout_ms = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	dead_writer(dir, 1);
	test_write_file(tmp, "REFT half-written");

	ck_assert_int_eq(test_add_ref(st, "refs/heads/b", 2, 0),
			 REFTABLE_LOCK_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), lock));
	ck_assert_int_eq(reftable_stack_clean(st), REFTABLE_LOCK_ERROR);

	/* A dry run judges and keeps. */
	ck_assert_int_eq(break_locks(st, REFTABLE_BREAK_DRY_RUN, &rs), 0);
	ck_assert_int_eq(rs.stale, 1);
	ck_assert(test_exists(lock));
	ck_assert_int_eq(break_locks(st, 0, &rs), 1);
	ck_assert_int_eq(rs.removed, 1);
	ck_assert_ptr_nonnull(strstr(rs.why[0], "is gone"));
	ck_assert(!test_exists(lock));
	ck_assert(!test_exists(tmp));
	CHECK_OK(test_add_ref(st, "refs/heads/b", 2, 0));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/b"), 2);
	/* The dead writer's renamed table is garbage once covered. */
	CHECK_OK(reftable_stack_clean(st));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), test_list_lines(dir));
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* A live owner keeps its lock however old it is: a slow writer is not a
 * dead one. Nor is a lock from another host, or with an unknown owner. */
START_TEST(live_or_unprovable_owners_keep_their_locks)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	const char *ref[] = { "refs/heads/live" };
	const char *lock = test_path(dir, "tables.list.lock");
	struct reftable_stack *st, *breaker;
	struct reftable_addition *add;
	struct timeval old[2] = { { 1000, 0 }, { 1000, 0 } };
	struct reports rs;
	char line[512];

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(reftable_stack_new(&breaker, dir, &o));
	start_addition(st, &add, ref, 1);
	ck_assert_int_eq(utimes(lock, old), 0); /* decades old */
	ck_assert_int_eq(break_locks(breaker, 0, &rs), 0);
	ck_assert_int_eq(rs.n, 1);
	ck_assert_ptr_nonnull(strstr(rs.why[0], "running"));
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/live"), 1);

	/* Our pid, but another start time: the pid was reused. */
	snprintf(line, sizeof(line), "%s", owner_evidence());
	*strstr(line, "start=") = '\0';
	snprintf(line + strlen(line), sizeof(line) - strlen(line),
		 "start=99999999999 %s", strstr(owner_evidence(), "boot="));
	test_write_file(lock, line);
	ck_assert_int_eq(break_locks(breaker, 0, &rs), 1);
	ck_assert_ptr_nonnull(strstr(rs.why[0], "another process"));

	/* Another host: nothing to check it against. */
	snprintf(line, sizeof(line), "%s", owner_evidence());
	*strstr(line, "host=") = '\0';
	strcat(line, "host=elsewhere\n");
	test_write_file(lock, line);
	ck_assert_int_eq(break_locks(breaker, 0, &rs), 0);
	ck_assert_ptr_nonnull(strstr(rs.why[0], "elsewhere"));
	ck_assert(test_exists(lock));
	/* Only force removes it. */
	ck_assert_int_eq(break_locks(breaker, REFTABLE_BREAK_FORCE, &rs), 1);
	ck_assert(!test_exists(lock));
	reftable_stack_destroy(st);
	reftable_stack_destroy(breaker);
	tl_rmtree(dir);
}
END_TEST

/* A pid that no process has (a child, reaped). */
static long dead_pid(void)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (!pid)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return (long)pid;
}

/* In an evidence line, the value of key replaced by value. */
static void set_field(char *line, size_t cap, const char *key,
		      const char *value)
{
	char *at = strstr(line, key), rest[512];

	ck_assert(at != NULL);
	at += strlen(key);
	snprintf(rest, sizeof(rest), "%s", at + strcspn(at, " \n"));
	snprintf(at, cap - (size_t)(at - line), "%s%s", value, rest);
}

/*
 * A pid means nothing in another pid namespace or another boot: the
 * process may be alive there. Such a lock is kept even though no
 * process here has the pid (a lock of a boot before the last one, on a
 * local filesystem, would be stale; its ctime cannot be staged).
 */
START_TEST(pids_of_other_namespaces_or_boots_prove_nothing)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	const char *lock = test_path(dir, "tables.list.lock");
	struct reftable_stack *breaker;
	struct reports rs;
	char line[512], pid[32];

	CHECK_OK(reftable_stack_new(&breaker, dir, &o));
	snprintf(pid, sizeof(pid), "%ld", dead_pid());

	snprintf(line, sizeof(line), "%s", owner_evidence());
	set_field(line, sizeof(line), "pid=", pid);
	test_write_file(lock, line);
	ck_assert_int_eq(break_locks(breaker, REFTABLE_BREAK_DRY_RUN, &rs), 0);
	ck_assert_msg(rs.stale == 1, "%s", rs.why[0]); /* here, it is dead */

	set_field(line, sizeof(line), "ns=", "pid:[1]");
	test_write_file(lock, line);
	ck_assert_int_eq(break_locks(breaker, 0, &rs), 0);
	ck_assert_msg(strstr(rs.why[0], "namespace"), "%s", rs.why[0]);
	ck_assert(test_exists(lock));

	snprintf(line, sizeof(line), "%s", owner_evidence());
	set_field(line, sizeof(line), "pid=", pid);
	set_field(line, sizeof(line), "boot=", "another-boot");
	test_write_file(lock, line);
	ck_assert_int_eq(break_locks(breaker, 0, &rs), 0);
	ck_assert_msg(strstr(rs.why[0], "another boot"), "%s", rs.why[0]);
	ck_assert(test_exists(lock));
	reftable_stack_destroy(breaker);
	tl_rmtree(dir);
}
END_TEST

/* The temporary files of a writer whose lock stays are its own: a
 * breaker removes temporaries only once no lock is left. */
START_TEST(temporaries_of_a_live_writer_are_kept)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	const char *table_tmp = test_path(dir, "0x1-0x1-0.ref.tmp");
	const char *list_tmp = test_path(dir, "tables.list.01234567.tmp");
	struct reftable_stack *st, *breaker;
	struct reftable_addition *add;
	struct reports rs;

	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(reftable_stack_new(&breaker, dir, &o));
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	test_write_file(table_tmp, "being written");
	test_write_file(list_tmp, "being written");
	ck_assert_int_eq(break_locks(breaker, 0, &rs), 0);
	ck_assert(test_exists(table_tmp) && test_exists(list_tmp));
	reftable_addition_destroy(add);
	ck_assert_int_eq(break_locks(breaker, 0, &rs), 0);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(breaker);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * A writer that takes the lock and starts a table right after a breaker
 * looked for temporary files, and before it checked for locks, keeps its
 * file: the breaker only removes what it listed before finding no lock.
 */
struct late_writer {
	struct reftable_stack *st;
	struct reftable_addition *add;
	const char *tmp;
	int calls;
};

static void writer_starts_late(struct hook_fs *h, const char *dir)
{
	struct late_writer *lw = h->data;

	if (++lw->calls != 3) /* the locks, the temporaries, the locks again */
		return;
	CHECK_OK(reftable_stack_new_addition(&lw->add, lw->st, 0));
	test_write_file(lw->tmp, "being written");
}

START_TEST(temporaries_started_after_the_listing_are_kept)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *breaker;
	struct late_writer lw = { 0 };
	struct reports rs;
	struct hook_fs h;

	lw.tmp = test_path(dir, "0x2-0x2-0.ref.tmp");
	dead_writer(dir, 0);
	CHECK_OK(reftable_stack_new(&lw.st, dir, &o));
	hook_fs_init(&h);
	h.before_list_dir = writer_starts_late;
	h.data = &lw;
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&breaker, dir, &o));
	ck_assert_int_eq(break_locks(breaker, 0, &rs), 1);
	ck_assert(lw.add != NULL);
	ck_assert(test_exists(lw.tmp));
	ck_assert(test_exists(test_path(dir, "tables.list.lock")));
	reftable_addition_destroy(lw.add);
	ck_assert_int_eq(unlink(lw.tmp), 0);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(breaker);
	reftable_stack_destroy(lw.st);
	tl_rmtree(dir);
}
END_TEST

/* Breakers take turns (flock on the directory): one that cannot get
 * its turn within the lock timeout fails and touches nothing. */
START_TEST(breakers_take_turns)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	const char *lock = test_path(dir, "tables.list.lock");
	struct reftable_stack *breaker;
	struct reports rs;
	int turn;

	o.lock_timeout_ms = 0;
	dead_writer(dir, 1);
	CHECK_OK(reftable_stack_new(&breaker, dir, &o));
	turn = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(turn, 0);
	ck_assert_int_eq(flock(turn, LOCK_EX), 0); /* another breaker's turn */
	ck_assert_int_eq(break_locks(breaker, 0, &rs), REFTABLE_LOCK_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "breaking"));
	ck_assert(test_exists(lock));
	close(turn);
	ck_assert_int_eq(break_locks(breaker, 0, &rs), 1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(breaker);
	tl_rmtree(dir);
}
END_TEST

/* Git leaves its lock empty until it commits, and another process holds
 * it open meanwhile: such a lock is never broken without force. */
START_TEST(empty_lock_held_by_git_is_kept_without_force)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	const char *lock = test_path(dir, "tables.list.lock");
	struct reftable_stack *st;
	struct reports rs;
	int ready[2], go[2], status;
	char c;
	pid_t pid;

	CHECK_OK(reftable_stack_new(&st, dir, &o));
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL, 0666);
		if (write(ready[1], "x", 1) != 1 || fd < 0)
			_exit(1);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(break_locks(st, 0, &rs), 0);
	ck_assert_ptr_nonnull(strstr(rs.why[0], "empty"));
	ck_assert(test_exists(lock));
	ck_assert_int_eq(break_locks(st, REFTABLE_BREAK_FORCE, &rs), 1);
	ck_assert(!test_exists(lock));
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * An empty lock created before this machine last booted is stale, by the
 * clocks. But a clock stepped forward after boot (no real-time clock, set
 * by NTP) makes a lock of this boot look older than the boot: one that a
 * process here holds open is alive whatever the clocks say. Staged with
 * a boot time an hour ahead.
 */
START_TEST(a_lock_held_open_is_alive_whatever_the_clock)
{
	char *dir = tl_tmpdir();
	const char *lock = test_path(dir, "tables.list.lock");
	int ready[2], go[2], status, fd;
	time_t later = time(NULL) + 3600;
	struct buf why = BUF_INIT;
	struct stat sb;
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int held = open(lock, O_WRONLY | O_CREAT | O_EXCL, 0666);
		if (write(ready[1], "x", 1) != 1 || held < 0)
			_exit(1);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	fd = open(lock, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &sb), 0);
	ck_assert_int_eq(owner_judge_booted("", 0, &sb, fd, &why, later),
			 OWNER_UNKNOWN);
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	/* The control: nobody holds it now, and by the clocks it is old. */
	ck_assert_int_eq(owner_judge_booted("", 0, &sb, fd, &why, later),
			 OWNER_DEAD);
	ck_assert_ptr_nonnull(strstr((const char *)why.data, "booted"));
	close(fd);
	buf_release(&why);
	tl_rmtree(dir);
}
END_TEST

/* --- failures after the commit ------------------------------------------ */

/* A stack over h, with an empty tables.list, fsyncs on and no
 * auto-compaction: one commit, one publish. */
static struct reftable_stack *syncing_stack(const char *dir,
					    struct hook_fs *h)
{
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;

	o.fs = &h->fs;
	o.disable_fsync = 0;
	o.disable_auto_compact = 1;
	o.create = 0;
	test_write_file(test_path(dir, "tables.list"), "");
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	return st;
}

/* A fresh handle on the real filesystem reads refs/heads/a as 1. */
static void fresh_reads_a(const char *dir)
{
	struct reftable_stack_options o = test_options();
	struct reftable_stack *fresh;

	o.create = 0;
	CHECK_OK(reftable_stack_new(&fresh, dir, &o));
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/a"), 1);
	reftable_stack_destroy(fresh);
}

/* A failing directory fsync after the rename: the change is committed,
 * and the caller is told so, not that nothing happened. */
START_TEST(failure_after_publish_says_committed)
{
	char *dir = tl_tmpdir();
	struct reftable_stack *st;
	struct hook_fs h;

	hook_fs_init(&h);
	h.fail_dir_fsync_after_publish = 1;
	st = syncing_stack(dir, &h);
	ck_assert_int_eq(test_add_ref(st, "refs/heads/a", 1, 0),
			 REFTABLE_COMMITTED_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "fsync"));
	fresh_reads_a(dir);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * A failing directory fsync before the rename (the one that makes the
 * new table's rename durable first): nothing is published, the error
 * says so, and the same change then commits.
 */
START_TEST(dir_fsync_failing_before_publish_commits_nothing)
{
	char *dir = tl_tmpdir();
	struct reftable_stack *st;
	struct hook_fs h;

	hook_fs_init(&h);
	h.fail_dir_fsync_before_publish = 1;
	st = syncing_stack(dir, &h);
	ck_assert_int_eq(test_add_ref(st, "refs/heads/a", 1, 0),
			 REFTABLE_IO_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "fsync"));
	ck_assert_int_eq(h.list_replaced, 0);
	ck_assert_uint_eq(test_list_lines(dir), 0);
	h.fail_dir_fsync_before_publish = 0;
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	fresh_reads_a(dir);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* A lock that cannot be removed blocks every writer: clean says so. */
START_TEST(clean_reports_a_lock_it_cannot_remove)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;

	hook_fs_init(&h);
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	h.fail_unlink_substr = "tables.list.lock";
	ck_assert_int_eq(reftable_stack_clean(st), REFTABLE_IO_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "lock"));
	h.fail_unlink_substr = NULL;
	/* What it moved aside is marked released: a breaker removes it. */
	ck_assert_int_eq(test_count_suffix(dir, ".gone"), 1);
	ck_assert_int_eq(reftable_stack_break_stale_locks(st, NULL), 1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* --- reading the list ---------------------------------------------------- */

/*
 * A writer renames a new list in between a reader's open of tables.list
 * and its fstat. The reader's identity must be that of what it read
 * (fstat of the descriptor), or it would believe itself current.
 */
struct rename_in {
	struct reftable_stack *writer;
	int armed;
};

static void rename_after_open(struct hook_fs *h, const char *path, int fd)
{
	struct rename_in *ri = h->data;

	if (!ri->armed || !has_end(path, "/tables.list"))
		return;
	ri->armed = 0;
	CHECK_OK(test_add_ref(ri->writer, "refs/heads/b", 2,
			      REFTABLE_ADDITION_RELOAD));
}

START_TEST(reader_sees_list_renamed_between_open_and_fstat)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *reader;
	struct rename_in ri = { 0 };
	struct hook_fs h;

	/* No compaction: the reader's old list must stay readable. */
	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&ri.writer, dir, &o));
	hook_fs_init(&h);
	h.after_open = rename_after_open;
	h.data = &ri;
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&reader, dir, &o));
	CHECK_OK(test_add_ref(ri.writer, "refs/heads/a", 1, 0));
	ri.armed = 1;
	CHECK_OK(reftable_stack_reload(reader));
	ck_assert_int_eq(ri.armed, 0);
	ck_assert_int_eq(test_ref_fill(reader, "refs/heads/a"), 1);
	ck_assert_int_eq(test_ref_fill(reader, "refs/heads/b"), -1);
	ck_assert_int_eq(reftable_stack_up_to_date(reader), 0);
	CHECK_OK(reftable_stack_reload(reader));
	ck_assert_int_eq(test_ref_fill(reader, "refs/heads/b"), 2);
	reftable_stack_destroy(reader);
	reftable_stack_destroy(ri.writer);
	tl_rmtree(dir);
}
END_TEST

static Suite *locks_suite(void)
{
	Suite *s = suite_create("locks");
	TCase *tc = tcase_create("breaking");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, dead_writers_lock_is_broken_by_evidence);
	tcase_add_test(tc, live_or_unprovable_owners_keep_their_locks);
	tcase_add_test(tc, empty_lock_held_by_git_is_kept_without_force);
	tcase_add_test(tc, pids_of_other_namespaces_or_boots_prove_nothing);
	tcase_add_test(tc, breakers_take_turns);
	tcase_add_test(tc, a_lock_held_open_is_alive_whatever_the_clock);
	tcase_add_test(tc, temporaries_of_a_live_writer_are_kept);
	tcase_add_test(tc, temporaries_started_after_the_listing_are_kept);
	suite_add_tcase(s, tc);

	tc = tcase_create("after the commit");
	tcase_add_test(tc, failure_after_publish_says_committed);
	tcase_add_test(tc, dir_fsync_failing_before_publish_commits_nothing);
	tcase_add_test(tc, clean_reports_a_lock_it_cannot_remove);
	tcase_add_test(tc, reader_sees_list_renamed_between_open_and_fstat);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(locks_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
