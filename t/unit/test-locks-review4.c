/*
 * The third adversarial review of the released mark (after 846579a and
 * aa53490): windows left by the fixes, each staged at its exact system
 * call by a filesystem hook. All need a lock removed from outside (a
 * user's rm) to set up the race, as the earlier reviews' did; in the
 * first two, the process hurt is not the one whose lock was removed.
 * Each failed on the library it reviewed.
 */

#include <fcntl.h>

#include "test-locks-helpers.h"


/*
 * Our lock L is removed from outside right after our release's pre-stat,
 * and Git takes the lock (an empty file, held open until Git renames it
 * over tables.list). Our rename moves Git's lock aside, to our .gone
 * name, and we are about to put it back. A plain `reftable unlock` (no
 * --force) runs then: it finds no lock at the path, takes our .gone name
 * for a dead remover's leftover (remove_temporaries(), stack-clean.c)
 * and unlinks it: Git's live lock is gone, although the breaker, judging
 * it, would have kept it ("only --force removes it"). Our put-back then
 * finds nothing. A writer C takes the lock, and Git's commit renames C's
 * lock, C's owner line, over tables.list: the stack no longer opens.
 * The same unlink between our rename and our stat of the aside name
 * makes our release report success (lockfile.c, "a breaker took it").
 */
struct git_aside {
	const char *dir, *lock;
	struct reftable_stack *breaker;
	int git_fd, moved, broke, removed;
	ino_t git_ino;
};

static void rm_and_git_takes_the_lock(struct hook_fs *h, const char *from,
				      const char *to)
{
	struct git_aside *g = h->data;

	if (strcmp(from, g->lock) || !has_end(to, ".gone") || g->moved++)
		return;
	ck_assert_int_eq(unlink(g->lock), 0); /* a user's rm */
	g->git_fd = open(g->lock, O_WRONLY | O_CREAT | O_EXCL, 0666);
	ck_assert_int_ge(g->git_fd, 0);
	g->git_ino = inode_of(g->lock);
}

static void plain_unlock_before_the_put_back(struct hook_fs *h,
					     const char *path, int flags)
{
	struct git_aside *g = h->data;
	struct reports rs;

	if (!has_end(path, ".gone") || g->broke++)
		return;
	g->removed = break_locks(g->breaker, 0, &rs);
}

START_TEST(plain_unlock_removes_a_git_lock_held_aside_by_a_put_back)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	char *lock = test_path(dir, "tables.list.lock");
	char *list = test_path(dir, "tables.list");
	struct git_aside g = { dir, lock, NULL, -1, 0, 0, 0, 0 };
	struct lockfile a = LOCKFILE_INIT, c = LOCKFILE_INIT;
	struct reftable_stack *st, *fresh = NULL;
	struct hook_fs h;
	struct stat sb;
	char *base;
	size_t len;
	int lost, c_holds, err;

	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/base", 1, 0));
	CHECK_OK(reftable_stack_new(&g.breaker, dir, &o));
	base = test_read_file(list, &len);

	hook_fs_init(&h);
	h.data = &g;
	h.before_rename = rm_and_git_takes_the_lock;
	h.before_open = plain_unlock_before_the_put_back;
	CHECK_OK(lockfile_acquire(&a, &h.fs, lock, 0666, 0));
	ck_assert_int_eq(lockfile_release(&a), REFTABLE_LOCK_ERROR);
	ck_assert_int_eq(g.moved, 1);
	ck_assert_int_eq(g.broke, 1);

	/* Git holds its lock open: is it still named? */
	ck_assert_int_eq(fstat(g.git_fd, &sb), 0);
	lost = sb.st_nlink == 0;
	/* A writer tries the lock; Git then commits its (unchanged) list by
	 * renaming its lock, by path, as Git does. */
	c_holds = lockfile_acquire(&c, reftable_fs_posix(), lock, 0666, 0) == 0;
	ck_assert_int_eq(write(g.git_fd, base, len), (ssize_t)len);
	ck_assert_int_eq(close(g.git_fd), 0);
	ck_assert_int_eq(rename(lock, list), 0);
	lockfile_release(&c);
	o.fs = NULL;
	err = reftable_stack_new(&fresh, dir, &o);

	ck_assert_msg(!lost && !c_holds && err == 0,
		      "a breaker without --force removed Git's live lock (held "
		      "aside by a put-back) as a leftover: lost=%d; a writer "
		      "took the lock while Git held it: %d; Git's commit then "
		      "left tables.list unreadable: %s (%s)",
		      lost, c_holds, reftable_error_str(err),
		      err ? reftable_error_detail() : "");
	ck_assert_int_eq(g.removed, 0); /* it reported removing nothing */
	if (fresh)
		reftable_stack_destroy(fresh);
	free(base);
	reftable_stack_destroy(g.breaker);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * lock_stamp(): should the fstat of the lock just created fail (EIO on a
 * network or FUSE filesystem), the lock is removed by path ("created a
 * moment ago"), the one removal in lockfile.c that is not by identity.
 * If our new lock was removed from outside in that moment and Git took
 * the lock, we unlink Git's live lock: a writer can then take the lock
 * while Git holds it, and Git publishes that writer's owner line.
 */
struct fstat_race {
	const char *lock;
	int done, git_fd;
	ino_t git_ino;
};

static int rm_git_and_failing_fstat(void *ctx, int fd, struct stat *sb)
{
	struct hook_fs *h = ctx;
	struct fstat_race *f = h->data;

	if (f->done++)
		return fstat(fd, sb);
	ck_assert_int_eq(unlink(f->lock), 0); /* a user's rm */
	f->git_fd = open(f->lock, O_WRONLY | O_CREAT | O_EXCL, 0666);
	ck_assert_int_ge(f->git_fd, 0);
	f->git_ino = inode_of(f->lock);
	errno = EIO;
	return -1;
}

START_TEST(failing_fstat_at_acquire_unlinks_a_lock_by_path)
{
	char *dir = tl_tmpdir();
	char *lock = test_path(dir, "tables.list.lock");
	struct fstat_race f = { lock, 0, -1, 0 };
	struct lockfile c = LOCKFILE_INIT;
	struct hook_fs h;
	struct stat sb;
	int there;

	hook_fs_init(&h);
	h.data = &f;
	h.fs.fstat = rm_git_and_failing_fstat;
	ck_assert_int_eq(lockfile_acquire(&c, &h.fs, lock, 0666, 0),
			 REFTABLE_IO_ERROR);
	ck_assert_int_eq(f.done, 1);
	there = stat(lock, &sb) == 0 && sb.st_ino == f.git_ino;
	ck_assert_int_eq(close(f.git_fd), 0);
	ck_assert_msg(there, "a failed acquire unlinked, by path, the lock "
		      "another process (Git) took meanwhile and holds");
	tl_rmtree(dir);
}
END_TEST

/*
 * let_go() marks the lock only when its first look found nothing (0);
 * an I/O error there (a stat failing with EIO or ESTALE on a network
 * filesystem) returns at once, unmarked. If a remover holds the lock
 * aside at that moment (its pre-stat saw an older lock, removed from
 * outside), it puts it back later, reads no mark, and leaves a lock
 * naming us, alive: no breaker without --force removes it while we
 * run, and every writer fails (the release reported an I/O error, not
 * where the lock went).
 */
struct stat_fails {
	const char *lock;
	int fail;
};

static int stat_failing_once(void *ctx, const char *path, struct stat *sb)
{
	struct hook_fs *h = ctx;
	struct stat_fails *f = h->data;

	if (f->fail && !strcmp(path, f->lock)) {
		f->fail = 0;
		errno = EIO;
		return -1;
	}
	return stat(path, sb);
}

START_TEST(release_failing_its_first_look_leaves_the_lock_unmarked)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	char *lock = test_path(dir, "tables.list.lock"), aside[4096];
	struct stat_fails f = { lock, 0 };
	struct lockfile lk = LOCKFILE_INIT;
	struct reftable_stack *breaker;
	struct hook_fs h;
	struct reports rs = { 0 };
	struct stat sb;

	CHECK_OK(reftable_stack_new(&breaker, dir, &o));
	hook_fs_init(&h);
	h.data = &f;
	h.fs.stat = stat_failing_once;
	CHECK_OK(lockfile_acquire(&lk, &h.fs, lock, 0666, 0));
	ck_assert_int_eq(stat(lock, &sb), 0);
	move_aside(lock, aside, sizeof(aside)); /* R moves it aside */
	f.fail = 1;
	/* An I/O error now; a fixed release may say LOCK_ERROR instead. */
	ck_assert_int_lt(lockfile_release(&lk), 0);
	/* R puts it back (link, read, no mark). */
	lock_put_back(reftable_fs_posix(), aside, lock, sb.st_dev, sb.st_ino);
	if (test_exists(lock))
		break_locks(breaker, 0, &rs);
	ck_assert_msg(!test_exists(lock),
		      "a lock naming us, alive, with no mark, stays after our "
		      "release failed its first look: %s", rs.why[0]);
	reftable_stack_destroy(breaker);
	tl_rmtree(dir);
}
END_TEST

static Suite *review_suite(void)
{
	Suite *s = suite_create("locks review 4");
	TCase *tc = tcase_create("removers");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		       plain_unlock_removes_a_git_lock_held_aside_by_a_put_back);
	tcase_add_test(tc, failing_fstat_at_acquire_unlinks_a_lock_by_path);
	tcase_add_test(tc,
		       release_failing_its_first_look_leaves_the_lock_unmarked);
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
