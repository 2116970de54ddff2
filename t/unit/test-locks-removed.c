/*
 * Locks removed from outside: every removal removes exactly the file it
 * judged, and a lock removed at any step of a writer, a compaction or a
 * clean never costs an acknowledged change. Each race is staged at its
 * exact step by a filesystem hook.
 */

#include <fcntl.h>

#include "test-locks-helpers.h"

START_TEST(release_leaves_a_lock_taken_meanwhile)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_addition *add;
	struct swap sw = { 0 };
	struct hook_fs h;

	swap_init(&sw, &h, dir, &o);
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	sw.armed = 1;
	reftable_addition_destroy(add);
	ck_assert(sw.taker != NULL);
	ck_assert(test_exists(sw.lock));
	ck_assert_uint_eq(inode_of(sw.lock), sw.theirs);
	commit_taker(&sw);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	reftable_stack_destroy(sw.other);
	tl_rmtree(dir);
}
END_TEST

/* Counts moves of the lock, and the lock's inode at the first. */
static void count_lock_moves(struct hook_fs *h, const char *from,
			     const char *to)
{
	struct swap *sw = h->data;

	if (!strcmp(from, sw->lock))
		sw->armed++;
}

/*
 * A lock taken by another writer after ours was removed is not even
 * moved aside by our release: while it is aside a third writer could
 * take the lock, and an owner that renames its lock by path (Git) would
 * then publish that writer's file.
 */
START_TEST(release_does_not_move_a_lock_that_is_not_ours)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_addition *add;
	struct swap sw = { 0 };
	struct hook_fs h;

	swap_init(&sw, &h, dir, &o);
	h.before_rename = count_lock_moves;
	h.before_unlink = NULL;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	sw.armed = 1; /* swap_lock() runs once, then disarms */
	swap_lock(&h, sw.lock);
	reftable_addition_destroy(add);
	ck_assert_int_eq(sw.armed, 0);
	ck_assert_uint_eq(inode_of(sw.lock), sw.theirs);
	commit_taker(&sw);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	reftable_stack_destroy(sw.other);
	tl_rmtree(dir);
}
END_TEST

/* Two breakers judged one dead lock; the first removed it and a writer
 * took the lock. The second, acting on its old judgement, must leave the
 * writer's lock alone. */
START_TEST(second_breaker_leaves_the_new_lock)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *breaker;
	struct swap sw = { 0 };
	struct reports rs;
	struct hook_fs h;

	swap_init(&sw, &h, dir, &o);
	dead_writer(dir, 0);
	CHECK_OK(reftable_stack_new(&breaker, dir, &o));
	sw.armed = 1;
	ck_assert_int_eq(break_locks(breaker, 0, &rs), 0);
	ck_assert(sw.taker != NULL);
	ck_assert(test_exists(sw.lock));
	ck_assert_uint_eq(inode_of(sw.lock), sw.theirs);
	commit_taker(&sw);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(breaker);
	reftable_stack_destroy(sw.other);
	tl_rmtree(dir);
}
END_TEST

/*
 * A breaker moved aside a lock that turned out to be a new one (a taker's)
 * and puts it back; a third writer took the lock in between. Putting
 * back must not replace the third writer's lock (link, not rename): the
 * taker, whose lock is gone, then fails, and the third writer commits.
 */
static void third_takes_while_aside(struct hook_fs *h, const char *from,
				    const char *to)
{
	struct swap *sw = h->data;

	if (sw->armed == 1 && !strcmp(from, sw->lock)) {
		swap_lock(h, sw->lock);
		sw->armed = 2;
	} else if (sw->armed == 2 && !strcmp(to, sw->lock)) {
		sw->armed = 0;
		CHECK_OK(reftable_stack_new_addition(&sw->third, sw->third_st,
						     REFTABLE_ADDITION_RELOAD));
	}
}

/*
 * A remover whose pre-stat saw its own lock, which someone then removed
 * and we took anew, moves our lock aside and, seeing another file, puts
 * it back. If we released in between, the put-back lock would name us,
 * alive, and nobody would release it: every writer would fail until we
 * exit (found by the protocol model, Documentation/model, "Findings").
 * Our release marks the file released; the remover reads the mark after
 * putting it back and removes it again.
 */

/* Our lock, and the file it is moved aside to. */
struct aside_race {
	const char *lock, *aside, *aside2;
	int done;
};

START_TEST(release_marks_our_lock_held_aside)
{
	char *dir = tl_tmpdir();
	char *lock = test_path(dir, "tables.list.lock"), aside[4096];
	struct lockfile lk = LOCKFILE_INIT;
	struct stat sb;

	CHECK_OK(lockfile_acquire(&lk, reftable_fs_posix(), lock, 0666, 0));
	ck_assert_int_eq(stat(lock, &sb), 0);
	move_aside(lock, aside, sizeof(aside));
	/* Not at its path: "removed by someone else", as before. */
	ck_assert_int_eq(lockfile_release(&lk), REFTABLE_LOCK_ERROR);
	/* The remover puts it back, as the library does: it must not stay. */
	lock_put_back(reftable_fs_posix(), aside, lock, sb.st_dev, sb.st_ino);
	ck_assert_msg(!test_exists(lock),
		      "our released lock is back at its path, naming us");
	CHECK_NO_LEFTOVERS(dir);
	tl_rmtree(dir);
}
END_TEST

/* The remover puts our lock back (reading no mark yet) right before we
 * mark it. */
static void put_back_before_the_mark(struct hook_fs *h, const char *path)
{
	struct aside_race *r = h->data;

	if (strcmp(path, r->lock) || r->done++)
		return;
	ck_assert_int_eq(link(r->aside, r->lock), 0);
	ck_assert_int_eq(unlink(r->aside), 0);
}

START_TEST(release_removes_our_lock_put_back_meanwhile)
{
	char *dir = tl_tmpdir();
	char *lock = test_path(dir, "tables.list.lock"), aside[4096];
	struct lockfile lk = LOCKFILE_INIT;
	struct aside_race r = { lock, aside, NULL, 0 };
	struct hook_fs h;

	hook_fs_init(&h);
	h.data = &r;
	CHECK_OK(lockfile_acquire(&lk, &h.fs, lock, 0666, 0));
	move_aside(lock, aside, sizeof(aside));
	h.before_write = put_back_before_the_mark;
	/* Back at its path when we look again: ours, so removed; but it
	 * was gone for a while, and the caller is told so (a publish by
	 * rename may have replaced another writer's list meanwhile). */
	ck_assert_int_eq(lockfile_release(&lk), REFTABLE_LOCK_ERROR);
	ck_assert_int_eq(r.done, 1);
	ck_assert(!test_exists(lock));
	CHECK_NO_LEFTOVERS(dir);
	tl_rmtree(dir);
}
END_TEST

/*
 * Two removers whose pre-stats both saw the same old lock (since
 * removed): the first moved our new lock aside. Right before we mark
 * it, the first puts it back and the second moves it aside again, so
 * our second look finds nothing. The second remover then puts it back:
 * it reads our mark and removes it again (four actors, found by an
 * adversarial review of the release).
 */
static void second_remover_moves_put_back(struct hook_fs *h, const char *path)
{
	struct aside_race *r = h->data;

	if (strcmp(path, r->lock) || r->done++)
		return;
	ck_assert_int_eq(link(r->aside, r->lock), 0);
	ck_assert_int_eq(unlink(r->aside), 0);
	ck_assert_int_eq(rename(r->lock, r->aside2), 0);
}

START_TEST(release_defeats_a_second_remover)
{
	char *dir = tl_tmpdir();
	char *lock = test_path(dir, "tables.list.lock");
	char aside[4096], aside2[4096];
	struct lockfile lk = LOCKFILE_INIT;
	struct aside_race r = { lock, aside, aside2, 0 };
	struct hook_fs h;
	struct stat sb;

	hook_fs_init(&h);
	h.data = &r;
	snprintf(aside2, sizeof(aside2), "%s.99998-2-0.gone", lock);
	CHECK_OK(lockfile_acquire(&lk, &h.fs, lock, 0666, 0));
	ck_assert_int_eq(stat(lock, &sb), 0);
	move_aside(lock, aside, sizeof(aside));
	h.before_write = second_remover_moves_put_back;
	ck_assert_int_eq(lockfile_release(&lk), REFTABLE_LOCK_ERROR);
	ck_assert_int_eq(r.done, 1);
	ck_assert(!test_exists(lock));
	lock_put_back(reftable_fs_posix(), aside2, lock, sb.st_dev, sb.st_ino);
	ck_assert_msg(!test_exists(lock),
		      "our released lock is back at its path, naming us");
	CHECK_NO_LEFTOVERS(dir);
	tl_rmtree(dir);
}
END_TEST

/*
 * A remover that died between putting our released lock back and
 * reading the mark: the lock names us, alive, but it is marked, so a
 * breaker removes it without --force and the next writer gets the lock.
 */
START_TEST(released_lock_left_by_a_dead_remover_is_stale)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	char *lock = test_path(dir, "tables.list.lock");
	struct lockfile lk = LOCKFILE_INIT;
	struct reftable_stack *st;
	struct reftable_addition *add;
	struct reports rs;
	char aside[4096];

	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(lockfile_acquire(&lk, reftable_fs_posix(), lock, 0666, 0));
	move_aside(lock, aside, sizeof(aside));
	ck_assert_int_eq(lockfile_release(&lk), REFTABLE_LOCK_ERROR);
	ck_assert_int_eq(link(aside, lock), 0); /* put back, then killed */
	ck_assert_int_eq(unlink(aside), 0);

	ck_assert_int_eq(break_locks(st, 0, &rs), 1);
	ck_assert_int_eq(rs.stale, 1);
	ck_assert_int_eq(rs.removed, 1);
	ck_assert_msg(strstr(rs.why[0], "released by process") != NULL,
		      "%s", rs.why[0]);
	ck_assert(!test_exists(lock));
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	reftable_addition_destroy(add);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* A lock that its live owner still holds stays, whatever a second line
 * in it says: only the exact mark after the evidence counts. */
START_TEST(live_lock_with_other_text_is_kept)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	char *lock = test_path(dir, "tables.list.lock");
	struct lockfile lk = LOCKFILE_INIT;
	struct reftable_stack *st;
	struct reports rs;
	const char *text[] = { "released", "released\nx\n", "releasedx\n" };
	size_t i;

	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(lockfile_acquire(&lk, reftable_fs_posix(), lock, 0666, 0));
	for (i = 0; i < sizeof(text) / sizeof(*text); i++) {
		ck_assert_int_eq(ftruncate(lk.fd, 0), 0);
		ck_assert_int_eq(pwrite(lk.fd, owner_evidence(),
					strlen(owner_evidence()), 0),
				 (ssize_t)strlen(owner_evidence()));
		ck_assert_int_eq(pwrite(lk.fd, text[i], strlen(text[i]),
					(off_t)strlen(owner_evidence())),
				 (ssize_t)strlen(text[i]));
		ck_assert_int_eq(break_locks(st, 0, &rs), 0);
		ck_assert_int_eq(rs.removed, 0);
		ck_assert(test_exists(lock));
	}
	CHECK_OK(lockfile_release(&lk));
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

START_TEST(putting_back_never_replaces_a_lock_taken_meanwhile)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	const char *ref[] = { "refs/heads/third" };
	struct reftable_stack *breaker;
	struct test_write tw = { 0 };
	struct swap sw = { 0 };
	struct hook_fs h;
	struct reports rs;
	ino_t third;

	CHECK_OK(reftable_stack_new(&sw.third_st, dir, &o));
	swap_init(&sw, &h, dir, &o);
	h.before_rename = third_takes_while_aside;
	h.before_unlink = NULL;
	dead_writer(dir, 0);
	CHECK_OK(reftable_stack_new(&breaker, dir, &o));
	sw.armed = 1;
	ck_assert_int_eq(break_locks(breaker, 0, &rs), 0);
	ck_assert(sw.taker != NULL && sw.third != NULL);
	third = inode_of(sw.lock);
	ck_assert_uint_ne(third, sw.theirs);

	tw.add = sw.taker;
	tw.refs = ref;
	tw.n = 1;
	tw.fill = 6;
	CHECK_OK(reftable_addition_add(sw.taker, test_write_fn, &tw));
	ck_assert_int_eq(reftable_addition_commit(sw.taker),
			 REFTABLE_LOCK_ERROR);
	reftable_addition_destroy(sw.taker);
	ck_assert_uint_eq(inode_of(sw.lock), third);
	tw.add = sw.third;
	tw.fill = 5;
	CHECK_OK(reftable_addition_add(sw.third, test_write_fn, &tw));
	CHECK_OK(reftable_addition_commit(sw.third));
	reftable_addition_destroy(sw.third);
	ck_assert_int_eq(test_ref_fill(sw.third_st, "refs/heads/third"), 5);
	reftable_stack_destroy(breaker);
	reftable_stack_destroy(sw.other);
	reftable_stack_destroy(sw.third_st);
	tl_rmtree(dir);
}
END_TEST

/*
 * The audit's six steps: W checked its lock; someone removed it; X took
 * the lock; W then publishes. W must publish its own list (never X's
 * empty lock), say that its lock was lost, and X, based on the list W
 * replaced, must publish nothing. W's ref survives, and the stack opens.
 */
static void swap_before_publish(struct hook_fs *h, const char *from,
				const char *to)
{
	if (has_end(to, "/tables.list"))
		swap_lock(h, ((struct swap *)h->data)->lock);
}

START_TEST(lock_removed_at_publish_loses_nothing)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	const char *ref[] = { "refs/heads/taker" };
	struct reftable_stack *st, *fresh;
	struct test_write tw = { 0 };
	struct swap sw = { 0 };
	struct hook_fs h;

	o.disable_auto_compact = 1;
	swap_init(&sw, &h, dir, &o);
	h.before_rename = swap_before_publish;
	h.before_unlink = NULL;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/base", 1, 0));

	sw.armed = 1;
	ck_assert_int_eq(test_add_ref(st, "refs/heads/w", 2, 0),
			 REFTABLE_COMMITTED_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "removed"));
	ck_assert(sw.taker != NULL);
	tw.add = sw.taker;
	tw.refs = ref;
	tw.n = 1;
	tw.fill = 7;
	CHECK_OK(reftable_addition_add(sw.taker, test_write_fn, &tw));
	ck_assert_int_eq(reftable_addition_commit(sw.taker),
			 REFTABLE_LOCK_ERROR);
	reftable_addition_destroy(sw.taker);

	o.fs = NULL;
	CHECK_OK(reftable_stack_new(&fresh, dir, &o));
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/base"), 1);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/w"), 2);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/taker"), -1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(fresh);
	reftable_stack_destroy(st);
	reftable_stack_destroy(sw.other);
	tl_rmtree(dir);
}
END_TEST

/*
 * The lock is lost while the new list is written, before the check: the
 * list itself has not changed, so only the lock's identity tells. W
 * publishes nothing; the taker, based on the same list, commits.
 */
static void swap_at_new_list(struct hook_fs *h, const char *path, int flags)
{
	struct swap *sw = h->data;

	if (sw->armed && strstr(path, "/tables.list.") && has_end(path, ".tmp"))
		swap_lock(h, sw->lock);
}

START_TEST(lock_lost_before_the_check_publishes_nothing)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *fresh;
	struct swap sw = { 0 };
	struct hook_fs h;

	o.disable_auto_compact = 1;
	swap_init(&sw, &h, dir, &o);
	h.before_rename = NULL;
	h.before_unlink = NULL;
	h.before_open = swap_at_new_list;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/base", 1, 0));

	sw.armed = 1;
	ck_assert_int_eq(test_add_ref(st, "refs/heads/w", 2, 0),
			 REFTABLE_LOCK_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "removed"));
	commit_taker(&sw);

	o.fs = NULL;
	CHECK_OK(reftable_stack_new(&fresh, dir, &o));
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/base"), 1);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/w"), -1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(fresh);
	reftable_stack_destroy(st);
	reftable_stack_destroy(sw.other);
	tl_rmtree(dir);
}
END_TEST

/*
 * The rest of the audit's window: W passed its check; someone removed
 * W's lock; a taker locked, published and was told so, all before W's
 * publish. W's swap hands back a list that is not W's base: W puts it
 * back and publishes nothing, so the taker's acknowledged ref stays.
 */
static void taker_publishes_first(struct hook_fs *h, const char *from,
				  const char *to)
{
	struct swap *sw = h->data;

	if (sw->armed && has_end(to, "/tables.list")) {
		swap_lock(h, sw->lock);
		commit_taker(sw);
	}
}

static void lock_taken_over_before_publish(int with_list)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *fresh;
	struct swap sw = { 0 };
	struct hook_fs h;

	o.disable_auto_compact = 1;
	swap_init(&sw, &h, dir, &o);
	h.before_rename = taker_publishes_first;
	h.before_unlink = NULL;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	if (with_list)
		CHECK_OK(test_add_ref(st, "refs/heads/base", 1, 0));
	else /* the list is created by link, which cannot replace */
		ck_assert_int_eq(unlink(test_path(dir, "tables.list")), 0);

	sw.armed = 1;
	ck_assert_int_eq(test_add_ref(st, "refs/heads/w", 2, 0),
			 REFTABLE_LOCK_ERROR);
	ck_assert_msg(strstr(reftable_error_detail(),
			     with_list ? "back in place" : "appeared"),
		      "%s", reftable_error_detail());

	o.fs = NULL;
	CHECK_OK(reftable_stack_new(&fresh, dir, &o));
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/base"),
			 with_list ? 1 : -1);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/taker"), 7);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/w"), -1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(fresh);
	reftable_stack_destroy(st);
	reftable_stack_destroy(sw.other);
	tl_rmtree(dir);
}

START_TEST(lock_taken_over_before_publish_loses_nothing)
{
	lock_taken_over_before_publish(1);
}
END_TEST

START_TEST(first_list_taken_over_before_publish_loses_nothing)
{
	lock_taken_over_before_publish(0);
}
END_TEST

/*
 * As above, and the lock W takes to put the taker's list back is removed
 * too, right after that list is back: W's release of it fails, but the
 * taker's list is in place and W's ref is not, so W must say that
 * nothing of its own was published (not that it was, with the taker's
 * tables kept aside: a caller would count a ref that is not there).
 */
static void undo_lock_removed_too(struct hook_fs *h, const char *from,
				  const char *to)
{
	struct swap *sw = h->data;

	if (!has_end(to, "/tables.list"))
		return;
	if (sw->armed == 1) {
		swap_lock(h, sw->lock);
		commit_taker(sw);
		sw->armed = 2;
	} else if (sw->armed == 2) {
		sw->armed = 0;
		ck_assert_int_eq(unlink(sw->lock), 0);
	}
}

START_TEST(undo_whose_lock_is_removed_publishes_nothing)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *fresh;
	struct swap sw = { 0 };
	struct hook_fs h;

	o.disable_auto_compact = 1;
	swap_init(&sw, &h, dir, &o);
	h.before_rename = undo_lock_removed_too;
	h.before_unlink = NULL;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/base", 1, 0));

	sw.armed = 1;
	ck_assert_int_eq(test_add_ref(st, "refs/heads/w", 2, 0),
			 REFTABLE_LOCK_ERROR);
	ck_assert_int_eq(sw.armed, 0);
	ck_assert_msg(strstr(reftable_error_detail(), "back in place"), "%s",
		      reftable_error_detail());

	o.fs = NULL;
	CHECK_OK(reftable_stack_new(&fresh, dir, &o));
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/base"), 1);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/taker"), 7);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/w"), -1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(fresh);
	reftable_stack_destroy(st);
	reftable_stack_destroy(sw.other);
	tl_rmtree(dir);
}
END_TEST

/*
 * The limit of what a swap can undo: between W's swap and its swap back,
 * a third writer locked and published on top of W's list. W leaves that
 * list in place (it holds W's ref) and says, with a committed error, that
 * the taker's tables may be missing and where the list naming them is.
 */
/* The taker commits right before W's swap (armed 1), the third writer
 * right before W takes the lock to put the taker's list back (armed 2):
 * then tables.list was W's, and the lock free. */
static void taker_at_the_swap(struct hook_fs *h, const char *from,
			      const char *to)
{
	struct swap *sw = h->data;

	if (sw->armed == 1 && has_end(to, "/tables.list")) {
		swap_lock(h, sw->lock);
		commit_taker(sw);
		sw->armed = 2;
	}
}

static void third_before_the_restore(struct hook_fs *h, const char *path,
				     int flags)
{
	struct swap *sw = h->data;
	const char *ref[] = { "refs/heads/third" };
	struct reftable_addition *add;

	if (sw->armed != 2 || strcmp(path, sw->lock) || !(flags & O_CREAT))
		return;
	sw->armed = 0;
	start_addition(sw->other, &add, ref, 8);
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
}

START_TEST(writers_racing_past_a_removed_lock_are_reported)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *fresh;
	struct swap sw = { 0 };
	struct reports rs;
	struct hook_fs h;
	char *kept;

	o.disable_auto_compact = 1;
	swap_init(&sw, &h, dir, &o);
	h.before_rename = taker_at_the_swap;
	h.before_unlink = NULL;
	h.before_open = third_before_the_restore;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/base", 1, 0));

	sw.armed = 1;
	ck_assert_int_eq(test_add_ref(st, "refs/heads/w", 2, 0),
			 REFTABLE_COMMITTED_ERROR);
	ck_assert_int_eq(sw.armed, 0);
	kept = strstr(reftable_error_detail(), "named in ");
	ck_assert_msg(kept != NULL, "%s", reftable_error_detail());
	ck_assert_int_eq(test_count_suffix(dir, ".kept"), 1);
	ck_assert_int_eq(test_count_suffix(dir, ".tmp"), 0);

	/* The third writer built on W's list: both stay. The taker's
	 * tables are no longer listed; the kept list and they survive
	 * housekeeping until the user puts them back. */
	o.fs = NULL;
	CHECK_OK(reftable_stack_new(&fresh, dir, &o));
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/w"), 2);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/third"), 8);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/taker"), -1);
	CHECK_OK(reftable_stack_clean(fresh));
	ck_assert_int_ge(break_locks(fresh, 0, &rs), 0);
	ck_assert_int_eq(test_count_suffix(dir, ".kept"), 1);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 4);
	reftable_stack_destroy(fresh);
	reftable_stack_destroy(st);
	reftable_stack_destroy(sw.other);
	tl_rmtree(dir);
}
END_TEST

/*
 * Clean judges tables against the list it read under its lock. If that
 * lock is removed from outside and a compaction publishes meanwhile, the
 * compaction's output is a table clean's list does not name: removing
 * it would leave tables.list naming a missing table. Clean checks its
 * lock and the list again before it removes anything.
 */
static void compact_behind_cleans_back(struct hook_fs *h, const char *dir)
{
	struct swap *sw = h->data;

	if (!sw->armed)
		return;
	sw->armed = 0;
	ck_assert_int_eq(unlink(sw->lock), 0);
	CHECK_OK(reftable_stack_compact_all(sw->other, NULL));
}

START_TEST(clean_whose_lock_was_removed_removes_nothing)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *fresh;
	struct swap sw = { 0 };
	struct hook_fs h;

	o.disable_auto_compact = 1;
	swap_init(&sw, &h, dir, &o);
	h.before_rename = NULL;
	h.before_unlink = NULL;
	h.before_list_dir = compact_behind_cleans_back;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/b", 2, 0));
	CHECK_OK(reftable_stack_reload(sw.other));

	sw.armed = 1;
	ck_assert_int_eq(reftable_stack_clean(st), REFTABLE_LOCK_ERROR);
	ck_assert_int_eq(sw.armed, 0);

	o.fs = NULL;
	CHECK_OK(reftable_stack_new(&fresh, dir, &o));
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/a"), 1);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/b"), 2);
	ck_assert_int_eq(test_list_lines(dir), 1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(fresh);
	reftable_stack_destroy(st);
	reftable_stack_destroy(sw.other);
	tl_rmtree(dir);
}
END_TEST

/* A forked child shares the addition's descriptors, not its ownership:
 * destroying its copy leaves the parent's lock and table alone. */
START_TEST(forked_child_cannot_destroy_the_parents_addition)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	const char *ref[] = { "refs/heads/parent" };
	struct reftable_stack *st;
	struct reftable_addition *add;
	int status;
	pid_t pid;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	start_addition(st, &add, ref, 3);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int r = reftable_addition_commit(add);
		reftable_addition_destroy(add);
		_exit(r == REFTABLE_API_ERROR ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert(test_exists(test_path(dir, "tables.list.lock")));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/parent"), 3);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

static Suite *locks_suite(void)
{
	Suite *s = suite_create("locks removed");
	TCase *tc = tcase_create("removal");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, release_leaves_a_lock_taken_meanwhile);
	tcase_add_test(tc, release_does_not_move_a_lock_that_is_not_ours);
	tcase_add_test(tc, second_breaker_leaves_the_new_lock);
	tcase_add_test(tc, putting_back_never_replaces_a_lock_taken_meanwhile);
	tcase_add_test(tc, release_marks_our_lock_held_aside);
	tcase_add_test(tc, release_removes_our_lock_put_back_meanwhile);
	tcase_add_test(tc, lock_removed_at_publish_loses_nothing);
	tcase_add_test(tc, lock_lost_before_the_check_publishes_nothing);
	tcase_add_test(tc, lock_taken_over_before_publish_loses_nothing);
	tcase_add_test(tc, first_list_taken_over_before_publish_loses_nothing);
	tcase_add_test(tc, undo_whose_lock_is_removed_publishes_nothing);
	tcase_add_test(tc, writers_racing_past_a_removed_lock_are_reported);
	tcase_add_test(tc, clean_whose_lock_was_removed_removes_nothing);
	tcase_add_test(tc, forked_child_cannot_destroy_the_parents_addition);
	tcase_add_test(tc, release_defeats_a_second_remover);
	tcase_add_test(tc, released_lock_left_by_a_dead_remover_is_stale);
	tcase_add_test(tc, live_lock_with_other_text_is_kept);
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
