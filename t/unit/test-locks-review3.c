/*
 * The second adversarial review of the released mark (lockfile.c,
 * let_go() and lock_put_back()): the windows it found, each staged at
 * its exact system call by a filesystem hook, each failing on the
 * library it reviewed (3d35d19). All need a lock removed from outside
 * (a user's rm, `unlock --force`) to set up a remover with a stale
 * pre-stat. The last, older than the mark, is a known limitation of
 * filesystems without hard links: it runs only with
 * REFTABLE_TEST_KNOWN_DEFECTS=1.
 */

#include <fcntl.h>

#include "test-locks-helpers.h"

/* A lock, and the name a remover moves it aside to. */
struct aside_of {
	const char *lock, *aside;
	int done;
};

static int known_defects(void)
{
	return getenv("REFTABLE_TEST_KNOWN_DEFECTS") != NULL;
}

/*
 * A remover R moved our lock L aside (its pre-stat saw an older lock,
 * removed from outside since) and we released: L is marked. R puts L
 * back, reads the mark, unlinks its aside name and removes L "again by
 * identity" - with nothing holding L's inode: no name of R's, no
 * descriptor. Right before R's stat of the path, L is removed there (a
 * breaker takes the marked lock for stale; our own second look, run in
 * parallel, does the same) and a writer W takes the lock. ext4 hands
 * W's new file the inode number L just freed, so R's removal by
 * identity takes W's lock, which W holds and has not released: W is
 * only told at its check, and an owner that renames by path (Git) is
 * never told (a third writer takes the lock, and Git publishes that
 * writer's file).
 */
struct reuse_race {
	const char *lock;
	struct reftable_stack *breaker;
	struct lockfile *w;
	ino_t old;
	int done, reused;
};

static void breaker_and_writer_before_restat(struct hook_fs *h,
					     const char *path)
{
	struct reuse_race *r = h->data;
	struct reports rs;

	if (strcmp(path, r->lock) || r->done++)
		return;
	ck_assert_int_eq(break_locks(r->breaker, 0, &rs), 1);
	ck_assert_msg(strstr(rs.why[0], "released by process") != NULL, "%s",
		      rs.why[0]);
	CHECK_OK(lockfile_acquire(r->w, reftable_fs_posix(), r->lock, 0666, 0));
	r->reused = inode_of(r->lock) == r->old;
}

START_TEST(put_back_removal_takes_a_new_lock_on_a_reused_inode)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	char *lock = test_path(dir, "tables.list.lock"), aside[4096];
	struct lockfile lk = LOCKFILE_INIT, w = LOCKFILE_INIT;
	struct reuse_race r = { lock, NULL, &w, 0, 0, 0 };
	struct hook_fs h;
	struct stat sb;

	CHECK_OK(reftable_stack_new(&r.breaker, dir, &o));
	CHECK_OK(lockfile_acquire(&lk, reftable_fs_posix(), lock, 0666, 0));
	ck_assert_int_eq(stat(lock, &sb), 0);
	r.old = sb.st_ino;
	move_aside(lock, aside, sizeof(aside)); /* R moves it aside */
	ck_assert_int_eq(lockfile_release(&lk), REFTABLE_LOCK_ERROR);

	hook_fs_init(&h);
	h.data = &r;
	h.before_stat = breaker_and_writer_before_restat;
	lock_put_back(&h.fs, aside, lock, sb.st_dev, sb.st_ino);
	ck_assert_int_eq(r.done, 1);
	/* Only a filesystem that reuses a freed inode number at once (ext4
	 * does) stages the race; a fixed library keeps L's inode in use. */
	if (!r.reused)
		fprintf(stderr, "W's lock did not get L's inode: the race "
			"was not staged (fixed, or another filesystem)\n");
	ck_assert_msg(lockfile_is_ours(&w) == 1,
		      "a remover without --force removed a live lock that "
		      "its owner holds and has not released");
	CHECK_OK(lockfile_release(&w));
	reftable_stack_destroy(r.breaker);
	tl_rmtree(dir);
}
END_TEST

/*
 * R moved our lock L aside and we released (marked; our second look
 * found nothing). A breaker lists R's aside name as a leftover while the
 * path is empty, and unlinks it after R's link put L back but before
 * R's read of the mark. R used to read through that name: it found no
 * file, took L for unreleased and left it at the path, naming us (marked,
 * so `reftable unlock` removed it; until then every writer failed). R
 * now reads through a descriptor it opened before its link.
 */
struct unlinked_aside {
	const char *lock, *aside;
	const struct reftable_fs *remover;
	dev_t dev;
	ino_t ino;
	int done;
};

/* The breaker's unlink of R's aside name lands right after R's link
 * put L back: at R's next call on that name, an open or a read. */
static void breaker_unlinks_after_the_link(struct hook_fs *h,
					   const char *path)
{
	struct unlinked_aside *u = h->data;

	if (strcmp(path, u->aside) || !test_exists(u->lock) ||
	    !test_exists(u->aside))
		return;
	ck_assert_int_eq(unlink(u->aside), 0);
}

static void breaker_unlinks_at_the_open(struct hook_fs *h, const char *path,
					int flags)
{
	breaker_unlinks_after_the_link(h, path);
}

static void remover_puts_back_at_the_unlink(struct hook_fs *h,
					    const char *path)
{
	struct unlinked_aside *u = h->data;

	if (strcmp(path, u->aside) || u->done++)
		return;
	lock_put_back(u->remover, u->aside, u->lock, u->dev, u->ino);
}

/* The breaker moves the marked file aside to remove it (it is judged
 * as a lock): R's put-back comes first. */
static void remover_puts_back_at_the_rename(struct hook_fs *h,
					    const char *from, const char *to)
{
	remover_puts_back_at_the_unlink(h, from);
}

START_TEST(breaker_unlinking_the_aside_name_leaves_a_released_lock)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	char *lock = test_path(dir, "tables.list.lock"), aside[4096];
	struct lockfile lk = LOCKFILE_INIT;
	struct unlinked_aside u = { lock, aside, NULL, 0, 0, 0 };
	struct reftable_stack *breaker;
	struct hook_fs hb, hr;
	struct reports rs;
	struct stat sb;

	hook_fs_init(&hr);
	hr.data = &u;
	hr.before_open = breaker_unlinks_at_the_open;
	hr.before_read = breaker_unlinks_after_the_link;
	u.remover = &hr.fs;
	hook_fs_init(&hb);
	hb.data = &u;
	hb.before_unlink = remover_puts_back_at_the_unlink;
	hb.before_rename = remover_puts_back_at_the_rename;
	o.fs = &hb.fs;
	CHECK_OK(reftable_stack_new(&breaker, dir, &o));

	CHECK_OK(lockfile_acquire(&lk, reftable_fs_posix(), lock, 0666, 0));
	ck_assert_int_eq(stat(lock, &sb), 0);
	u.dev = sb.st_dev;
	u.ino = sb.st_ino;
	move_aside(lock, aside, sizeof(aside)); /* R moves it aside */
	ck_assert_int_eq(lockfile_release(&lk), REFTABLE_LOCK_ERROR);

	/* No lock at the path: the breaker goes for R's aside name. */
	ck_assert_int_eq(break_locks(breaker, 0, &rs), 0);
	ck_assert_int_eq(u.done, 1);
	ck_assert_msg(!test_exists(lock),
		      "our released lock is back at its path, naming us");
	reftable_stack_destroy(breaker);
	tl_rmtree(dir);
}
END_TEST

/*
 * W's swap hands back the taker's list R (someone removed W's lock): W
 * puts R back as a change of its own, the undo. The undo's lock is
 * removed too, and a writer Y commits on W's list right before the
 * undo's swap, which hands back Y's list. The undo cannot put that back
 * (a third writer Z built on R meanwhile), so Y's acknowledged change
 * is hidden and its tables kept, and the undo's publish says where. W
 * then decides "R is back" from undo.published and reports only that
 * nothing of its own was published: the report of Y's hidden change,
 * and of the kept list naming its tables, is dropped.
 */
static void commit_one(struct reftable_stack *st, const char *name,
		       uint8_t fill)
{
	const char *ref[] = { name };
	struct reftable_addition *add;

	start_addition(st, &add, ref, fill);
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
}

static void writers_at_each_swap(struct hook_fs *h, const char *from,
				 const char *to)
{
	struct swap *sw = h->data;

	if (!has_end(to, "/tables.list") || (sw->armed != 1 && sw->armed != 2))
		return;
	ck_assert_int_eq(unlink(sw->lock), 0);
	if (sw->armed == 1) {
		CHECK_OK(reftable_stack_new_addition(&sw->taker, sw->other,
						     REFTABLE_ADDITION_RELOAD));
		commit_taker(sw);
	} else {
		commit_one(sw->other, "refs/heads/y", 5);
	}
	sw->armed++;
}

static void third_before_the_second_undo(struct hook_fs *h, const char *path,
					 int flags)
{
	struct swap *sw = h->data;

	if (sw->armed != 3 || strcmp(path, sw->lock) || !(flags & O_CREAT))
		return;
	sw->armed = 0;
	commit_one(sw->other, "refs/heads/z", 8);
}

START_TEST(undo_of_an_undo_drops_the_report_of_the_kept_change)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *fresh;
	struct swap sw = { 0 };
	struct hook_fs h;
	int err;

	o.disable_auto_compact = 1;
	swap_init(&sw, &h, dir, &o);
	h.before_rename = writers_at_each_swap;
	h.before_unlink = NULL;
	h.before_open = third_before_the_second_undo;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/base", 1, 0));

	sw.armed = 1;
	err = test_add_ref(st, "refs/heads/w", 2, 0);
	ck_assert_int_eq(sw.armed, 0);

	o.fs = NULL;
	CHECK_OK(reftable_stack_new(&fresh, dir, &o));
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/taker"), 7);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/z"), 8);
	/* W's own change is not in: W says so, rightly. */
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/w"), -1);
	ck_assert_int_eq(err, REFTABLE_LOCK_ERROR);
	/* Y's acknowledged change is hidden, its tables kept... */
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/y"), -1);
	ck_assert_int_eq(test_count_suffix(dir, ".kept"), 1);
	/* ...and nobody is told where. */
	ck_assert_msg(strstr(reftable_error_detail(), ".kept") != NULL,
		      "an acknowledged change was hidden and kept, and W's "
		      "error does not say so: %s", reftable_error_detail());
	reftable_stack_destroy(fresh);
	reftable_stack_destroy(st);
	reftable_stack_destroy(sw.other);
	tl_rmtree(dir);
}
END_TEST

/*
 * lockfile_acquire()'s own failure paths remove the new lock with a
 * bare lock_remove_if_same(), without the mark: if a remover with a
 * stale pre-stat holds it aside at that moment, it puts it back later,
 * and the lock names us, alive, with no mark. Staged with the path's
 * copy failing for lack of memory (the evidence is written, so the lock
 * names us). No breaker without --force removes it until we exit.
 */
static int fail_next_alloc;

static void *failing_malloc(size_t n)
{
	if (fail_next_alloc) {
		fail_next_alloc = 0;
		return NULL;
	}
	return malloc(n);
}

static void *failing_realloc(void *p, size_t n)
{
	return realloc(p, n);
}

static void moved_aside_at_the_evidence(struct hook_fs *h, const char *path)
{
	struct aside_of *a = h->data;

	if (strcmp(path, a->lock) || a->done++)
		return;
	ck_assert_int_eq(rename(a->lock, a->aside), 0);
	fail_next_alloc = 1; /* the copy of the path, right after */
}

START_TEST(acquire_failing_after_the_evidence_leaves_a_live_lock)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	char *lock = test_path(dir, "tables.list.lock"), aside[4096];
	struct aside_of a = { lock, aside, 0 };
	struct lockfile lk = LOCKFILE_INIT;
	struct reftable_stack *breaker;
	struct hook_fs h;
	struct reports rs;
	struct stat sb;

	CHECK_OK(reftable_stack_new(&breaker, dir, &o));
	aside_name(lock, aside, sizeof(aside));
	hook_fs_init(&h);
	h.data = &a;
	h.before_write = moved_aside_at_the_evidence;
	ck_assert_int_eq(lockfile_acquire(&lk, &h.fs, lock, 0666, 0),
			 REFTABLE_NOMEM_ERROR);
	ck_assert_int_ge(a.done, 1); /* the mark's write comes here too */
	ck_assert_int_eq(stat(aside, &sb), 0);
	/* The remover, whose pre-stat saw an older lock, puts it back. */
	lock_put_back(reftable_fs_posix(), aside, lock, sb.st_dev, sb.st_ino);
	if (test_exists(lock))
		break_locks(breaker, 0, &rs);
	ck_assert_msg(!test_exists(lock),
		      "a lock naming us, alive, with no mark, stays after "
		      "our acquire failed: every writer fails until we exit");
	reftable_stack_destroy(breaker);
	tl_rmtree(dir);
}
END_TEST

/*
 * Without hard links (some FUSE and network filesystems) the put-back is
 * stat, then rename. A writer W that takes the lock between the two has
 * its lock replaced by the one put back: W holds a lock that is gone,
 * while the put-back lock's owner still holds its own (two holders).
 * W is told at its check; Git, which renames its lock by path, would
 * publish the put-back lock's owner line as tables.list. Older than the
 * mark (the checked rename was there before); the mark only changes
 * what happens when the lock put back was released.
 */
static void writer_between_stat_and_rename(struct hook_fs *h, const char *from,
					   const char *to)
{
	struct reuse_race *r = h->data;

	if (strcmp(to, r->lock) || r->done++)
		return;
	CHECK_OK(lockfile_acquire(r->w, reftable_fs_posix(), r->lock, 0666, 0));
}

START_TEST(put_back_by_rename_replaces_a_lock_taken_meanwhile)
{
	char *dir = tl_tmpdir();
	char *lock = test_path(dir, "tables.list.lock"), aside[4096];
	struct lockfile lk = LOCKFILE_INIT, w = LOCKFILE_INIT;
	struct reuse_race r = { lock, NULL, &w, 0, 0, 0 };
	struct hook_fs h;
	struct stat sb;

	CHECK_OK(lockfile_acquire(&lk, reftable_fs_posix(), lock, 0666, 0));
	ck_assert_int_eq(stat(lock, &sb), 0);
	move_aside(lock, aside, sizeof(aside)); /* R moves it aside */

	hook_fs_init(&h);
	h.fs.link = NULL;
	h.data = &r;
	h.before_rename = writer_between_stat_and_rename;
	lock_put_back(&h.fs, aside, lock, sb.st_dev, sb.st_ino);
	ck_assert_int_eq(r.done, 1);
	ck_assert_int_eq(lockfile_is_ours(&lk), 1);
	ck_assert_msg(lockfile_is_ours(&w) == 1,
		      "the put-back replaced the lock a writer took meanwhile: "
		      "two processes hold the lock");
	CHECK_OK(lockfile_release(&w));
	CHECK_OK(lockfile_release(&lk));
	tl_rmtree(dir);
}
END_TEST

static Suite *review_suite(void)
{
	Suite *s = suite_create("locks review 3");
	TCase *tc = tcase_create("put-back");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, put_back_removal_takes_a_new_lock_on_a_reused_inode);
	tcase_add_test(tc,
		       breaker_unlinking_the_aside_name_leaves_a_released_lock);
	tcase_add_test(tc, undo_of_an_undo_drops_the_report_of_the_kept_change);
	tcase_add_test(tc, acquire_failing_after_the_evidence_leaves_a_live_lock);
	suite_add_tcase(s, tc);
	if (!known_defects()) {
		fprintf(stderr, "test-locks-review3: 1 reproducer of a known "
			"limitation skipped; REFTABLE_TEST_KNOWN_DEFECTS=1 "
			"runs it\n");
		return s;
	}
	tc = tcase_create("known limitation");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, put_back_by_rename_replaces_a_lock_taken_meanwhile);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	/* Before any other library call, as reftable-alloc.h asks. */
	reftable_set_alloc(failing_malloc, failing_realloc, free);
	sr = srunner_create(review_suite());

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
