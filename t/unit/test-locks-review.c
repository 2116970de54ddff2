/*
 * Races found by an outside review of the stack protocol, each staged at
 * its exact step by a filesystem hook (another process waits on a pipe
 * where one is needed). Each failed on the protocol before the fix it
 * names.
 */

#include <sys/types.h>

#include "test-locks-window.h"

/* --- the window after a raced swap ------------------------------------ */

static void clean_now(struct window *w)
{
	w->err = reftable_stack_clean(w->third);
}

/*
 * A clean that runs while W's list is in place judged X's table unlisted
 * and covered (it has W's update index) and removed it, and W's list
 * file, which held X's list, as a dead writer's; W's swap back then
 * failed or restored a list naming a missing table. Clean now leaves
 * lists aside (tables.list.*.tmp, *.kept) and the tables they name, and
 * W restores X's list under the lock. Precondition: W's lock removed
 * from outside.
 */
START_TEST(clean_in_the_window_loses_nothing)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *fresh;
	struct window w = { 0 };
	struct hook_fs h;
	char why[512];
	int werr, err;

	window_init(&w, &h, dir, &o);
	w.in_window = clean_now;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/base", 1, 0));

	w.on = 1;
	werr = test_add_ref(st, "refs/heads/w", 2, 0);
	snprintf(why, sizeof(why), "%s", reftable_error_detail());
	ck_assert_int_ge(w.calls, 2);

	o.fs = NULL;
	err = reftable_stack_new(&fresh, dir, &o);
	ck_assert_msg(err == 0, "stack damaged: %s (W said %s)",
		      reftable_error_detail(), why);
	ck_assert_msg(test_ref_fill(fresh, "refs/heads/taker") == 7,
		      "the taker's acknowledged ref is lost (W: %d %s; the "
		      "clean in the window: %d)", werr, why, w.err);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/base"), 1);
	reftable_stack_destroy(fresh);
	reftable_stack_destroy(st);
	window_release(&w);
	tl_rmtree(dir);
}
END_TEST

/* --- a writer that publishes by rename, in the window ----------------- */

/* Past its check, right before it publishes: say so and wait. */
static void pause_at_publish(struct hook_fs *h, const char *from,
			     const char *to)
{
	struct pause *p = h->data;

	if (!p->done && has_end(to, "/tables.list"))
		pause_here(p);
}

/*
 * Y, another process: this library where there is no RENAME_EXCHANGE
 * (built without renameat2, say), so it publishes by rename, as Git
 * does. It locks, reads W's list, checks it, and stops right before its
 * rename until told to go.
 */
static int renamer(struct window *w, struct pause *p)
{
	struct reftable_stack_options o = test_options();
	struct reftable_stack *y;
	struct hook_fs h;

	hook_fs_init(&h);
	h.no_exchange = 1;
	h.before_rename = pause_at_publish;
	h.data = p;
	o.fs = &h.fs;
	o.disable_auto_compact = 1;
	if (reftable_stack_new(&y, w->dir, &o))
		return 100;
	return test_add_ref(y, "refs/heads/renamer", 4, 0) ? 102 : 0;
}

static void renamer_checks_now(struct window *w)
{
	fork_until_paused(w, renamer);
}

/*
 * Y takes the lock while W's list is in place and checks it, right
 * before W would take the lock to put X's list back. With the old undo
 * (a swap back, without the lock), W then said nothing of its change was
 * published and removed its table, and Y's list, built on W's, named
 * that table: the stack could not be read. Now W cannot take the lock,
 * so W's list stays (Y builds on it), X's list is kept for the user with
 * its table, and W says so with a committed error. X's change is hidden,
 * not lost: the limit of what can be done once a lock is removed from
 * outside. Git publishes by rename as Y does (it re-reads tables.list
 * under its lock right before its rename).
 */
START_TEST(renamer_in_the_window_damages_nothing)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *fresh;
	struct window w = { 0 };
	struct hook_fs h;
	char why[512];
	int err, status;

	window_init(&w, &h, dir, &o);
	w.in_window = renamer_checks_now;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/base", 1, 0));

	w.on = 1;
	err = test_add_ref(st, "refs/heads/w", 2, 0);
	snprintf(why, sizeof(why), "%d %s", err, reftable_error_detail());
	ck_assert_msg(err == REFTABLE_COMMITTED_ERROR &&
		      strstr(why, "named in"), "W said: %s", why);
	ck_assert_int_eq(w.calls, 2);
	ck_assert_int_eq(write(w.go, "x", 1), 1);
	close(w.go);
	ck_assert_int_eq(waitpid(w.child, &status, 0), w.child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the renamer failed: %d", status);

	o.fs = NULL;
	err = reftable_stack_new(&fresh, dir, &o);
	ck_assert_msg(err == 0, "stack damaged: %s (W said: %s)",
		      reftable_error_detail(), why);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/renamer"), 4);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/w"), 2);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/taker"), -1);
	ck_assert_int_eq(test_count_suffix(dir, ".kept"), 1);
	CHECK_OK(reftable_stack_clean(fresh));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 4);
	reftable_stack_destroy(fresh);
	reftable_stack_destroy(st);
	window_release(&w);
	tl_rmtree(dir);
}
END_TEST

/* --- the list kept when several writers raced ------------------------ */

/*
 * When a third writer published on W's list before W could put X's list
 * back, W keeps X's list (tables.list.XXXXXXXX.kept) and names it in its
 * error for the user to recover from. Routine housekeeping must not
 * destroy it: break_stale_locks removed it as a temporary, clean as a
 * dead writer's list, with X's table as unlisted and covered.
 */
START_TEST(the_list_kept_for_recovery_survives_housekeeping)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *fresh;
	struct window w = { 0 };
	struct hook_fs h;
	char kept[4096];

	window_init(&w, &h, dir, &o);
	w.in_window = third_commits_now;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/base", 1, 0));
	w.on = 1;
	ck_assert_int_eq(test_add_ref(st, "refs/heads/w", 2, 0),
			 REFTABLE_COMMITTED_ERROR);
	kept_path(kept, sizeof(kept));
	ck_assert_msg(*kept, "%s", reftable_error_detail());
	ck_assert_msg(test_exists(kept), "%s", kept);
	ck_assert_int_eq(missing_tables(dir, kept), 0);

	o.fs = NULL;
	CHECK_OK(reftable_stack_new(&fresh, dir, &o));
	ck_assert_int_ge(reftable_stack_break_stale_locks(fresh, NULL), 0);
	ck_assert_msg(test_exists(kept), "break_stale_locks removed %s", kept);
	CHECK_OK(reftable_stack_clean(fresh));
	ck_assert_msg(test_exists(kept), "clean removed %s", kept);
	ck_assert_msg(missing_tables(dir, kept) == 0,
		      "clean removed the taker's table");
	reftable_stack_destroy(fresh);
	reftable_stack_destroy(st);
	window_release(&w);
	tl_rmtree(dir);
}
END_TEST

/* --- a breaker and an owner's own release ----------------------------- */

struct aside_race {
	struct reftable_stack *breaker;
	int armed, err;
};

static void break_while_aside(struct hook_fs *h, const char *path)
{
	struct aside_race *r = h->data;

	if (!r->armed || !has_end(path, ".gone"))
		return;
	r->armed = 0;
	r->err = reftable_stack_break_stale_locks(r->breaker, NULL);
}

/*
 * No lock removed from outside here: a plain `reftable unlock` (no
 * --force) runs while a writer releases its lock. The writer has moved
 * its lock aside (LOCK.PID-X-N.gone) and is about to check it; the
 * breaker finds no lock, takes the .gone for a dead remover's and
 * removes it; the writer, whose change is published, is told
 * REFTABLE_COMMITTED_ERROR. (Had the file aside been another owner's
 * lock, moved by mistake and about to be put back, that owner's live
 * lock would be gone for good, and that owner would fail at its next
 * check.) The remover now takes a .gone file that vanished as its lock
 * removed: its check before moving it said it was its own.
 */
START_TEST(breaker_leaves_a_releasing_owners_lock_alone)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct aside_race r = { 0 };
	struct hook_fs h;
	int err;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&r.breaker, dir, &o));
	hook_fs_init(&h);
	h.before_stat = break_while_aside;
	h.data = &r;
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	r.armed = 1;
	err = test_add_ref(st, "refs/heads/a", 1, 0);
	ck_assert_int_eq(r.armed, 0);
	ck_assert_int_eq(r.err, 0); /* it broke no lock */
	ck_assert_msg(err == 0, "a clean commit reported %d: %s", err,
		      reftable_error_detail());
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 1);
	reftable_stack_destroy(st);
	reftable_stack_destroy(r.breaker);
	tl_rmtree(dir);
}
END_TEST

/* --- an owner that exited, not yet reaped ----------------------------- */

/*
 * A writer that exits holding its lock (killed, or a bug) stays a zombie
 * until its parent reaps it. kill(pid, 0) succeeds on a zombie and its
 * start time is unchanged, so the lock was judged held by a running
 * process: a parent that waits for the lock before it reaps (lock
 * timeout -1) would wait forever, and no breaker could help.
 */
START_TEST(exited_owners_lock_is_broken_before_it_is_reaped)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	const char *lock = test_path(dir, "tables.list.lock");
	struct reftable_stack *st;
	struct reports rs;
	siginfo_t info;
	int status;
	pid_t pid;

	CHECK_OK(reftable_stack_new(&st, dir, &o));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		struct reftable_stack *cst;
		struct reftable_addition *add;

		if (reftable_stack_new(&cst, dir, &o) ||
		    reftable_stack_new_addition(&add, cst, 0))
			_exit(1);
		_exit(0); /* holding the lock */
	}
	/* Exited, and left unreaped: a zombie. */
	memset(&info, 0, sizeof(info));
	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(info.si_status, 0);
	ck_assert(test_exists(lock));
	ck_assert_int_eq(break_locks(st, 0, &rs), 1);
	ck_assert_msg(strstr(rs.why[0], "exited"), "%s", rs.why[0]);
	ck_assert(!test_exists(lock));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * A lock whose evidence has no start time (its owner could not read
 * /proc when it took the lock) proves nothing about a live pid: the
 * process with that pid may be the owner.
 */
START_TEST(unknown_start_time_proves_nothing)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	const char *lock = test_path(dir, "tables.list.lock");
	struct reftable_stack *st;
	struct reports rs;
	char line[512], *start;
	size_t skip;

	CHECK_OK(reftable_stack_new(&st, dir, &o));
	snprintf(line, sizeof(line), "%s", owner_evidence());
	start = strstr(line, "start=");
	ck_assert(start != NULL);
	skip = strcspn(start, " ");
	memmove(start + strlen("start=-"), start + skip,
		strlen(start + skip) + 1);
	memcpy(start, "start=-", strlen("start=-"));
	test_write_file(lock, line);
	ck_assert_int_eq(break_locks(st, 0, &rs), 0);
	ck_assert_msg(strstr(rs.why[0], "cannot be told apart"), "%s",
		      rs.why[0]);
	ck_assert(test_exists(lock));
	ck_assert_int_eq(unlink(lock), 0);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * Without RENAME_EXCHANGE the check before the rename is all there is.
 * W's lock is moved away while W writes its list, another writer
 * commits, and W's lock is put back (a remover's put_back by rename,
 * where there are no hard links): the lock is W's again, so only the
 * list's content tells. W publishes nothing, the other ref stays, and
 * W's retry publishes by rename.
 */
struct moved_lock {
	struct reftable_stack *other;
	const char *lock;
	int armed;
};

static void commit_while_lock_is_away(struct hook_fs *h, const char *path,
				      int flags)
{
	struct moved_lock *m = h->data;
	char away[4096];

	if (!m->armed || !strstr(path, "/tables.list.") ||
	    !has_end(path, ".tmp"))
		return;
	m->armed = 0;
	snprintf(away, sizeof(away), "%s.away", m->lock);
	ck_assert_int_eq(rename(m->lock, away), 0);
	CHECK_OK(test_add_ref(m->other, "refs/heads/other", 5,
			      REFTABLE_ADDITION_RELOAD));
	ck_assert_int_eq(rename(away, m->lock), 0);
}

START_TEST(without_exchange_a_list_changed_under_our_lock_stays)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct moved_lock m = { 0 };
	struct hook_fs h;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&m.other, dir, &o));
	m.lock = test_path(dir, "tables.list.lock");
	hook_fs_init(&h);
	h.no_exchange = 1;
	h.before_open = commit_while_lock_is_away;
	h.data = &m;
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/base", 1, 0));

	m.armed = 1;
	ck_assert_int_eq(test_add_ref(st, "refs/heads/w", 2, 0),
			 REFTABLE_LOCK_ERROR);
	ck_assert_int_eq(m.armed, 0);
	CHECK_OK(reftable_stack_reload(m.other));
	ck_assert_int_eq(test_ref_fill(m.other, "refs/heads/other"), 5);
	ck_assert_int_eq(test_ref_fill(m.other, "refs/heads/w"), -1);
	/* The retry publishes, by rename. */
	CHECK_OK(test_add_ref(st, "refs/heads/w", 2, REFTABLE_ADDITION_RELOAD));
	CHECK_OK(reftable_stack_reload(m.other));
	ck_assert_int_eq(test_ref_fill(m.other, "refs/heads/other"), 5);
	ck_assert_int_eq(test_ref_fill(m.other, "refs/heads/w"), 2);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	reftable_stack_destroy(m.other);
	tl_rmtree(dir);
}
END_TEST

static Suite *review_suite(void)
{
	Suite *s = suite_create("locks review");
	TCase *tc = tcase_create("guards no test had");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, exited_owners_lock_is_broken_before_it_is_reaped);
	tcase_add_test(tc, unknown_start_time_proves_nothing);
	tcase_add_test(tc, without_exchange_a_list_changed_under_our_lock_stays);
	suite_add_tcase(s, tc);
	tc = tcase_create("the window after a race");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, clean_in_the_window_loses_nothing);
	tcase_add_test(tc, renamer_in_the_window_damages_nothing);
	tcase_add_test(tc, the_list_kept_for_recovery_survives_housekeeping);
	tcase_add_test(tc, breaker_leaves_a_releasing_owners_lock_alone);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(review_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
