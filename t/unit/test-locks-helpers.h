#ifndef TEST_LOCKS_HELPERS_H
#define TEST_LOCKS_HELPERS_H

/*
 * Helpers of the lock tests: dead writers, breaking with a report, and
 * the "swap": another process's lock put in place of ours at the exact
 * step a hook names.
 */

#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "owner.h"
#include "stack-internal.h"
#include "test-stack-helpers.h"

static inline ino_t inode_of(const char *path)
{
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_ino;
}

/* An addition of one ref, not yet committed. */
static inline void start_addition(struct reftable_stack *st,
			   struct reftable_addition **add, const char **ref,
			   uint8_t fill)
{
	struct test_write tw = { 0 };

	CHECK_OK(reftable_stack_new_addition(add, st,
					     REFTABLE_ADDITION_RELOAD));
	tw.add = *add;
	tw.refs = ref;
	tw.n = 1;
	tw.fill = fill;
	CHECK_OK(reftable_addition_add(*add, test_write_fn, &tw));
}

/* A process that took the list lock (and, if ref, wrote a table) and was
 * killed before it could release anything. */
static inline void dead_writer(const char *dir, int with_table)
{
	struct reftable_stack_options o = test_options();
	const char *ref[] = { "refs/heads/dead" };
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct reftable_stack *st;
		struct reftable_addition *add;

		o.disable_auto_compact = 1;
		if (reftable_stack_new(&st, dir, &o))
			_exit(1);
		if (with_table)
			start_addition(st, &add, ref, 9);
		else if (reftable_stack_new_addition(&add, st, 0))
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
}

struct reports {
	int n, stale, removed;
	char why[8][256];
};

static inline void collect_report(void *arg,
				  const struct reftable_lock_report *r)
{
	struct reports *rs = arg;

	if (rs->n < 8)
		snprintf(rs->why[rs->n], sizeof(rs->why[0]), "%s: %s",
			 r->name, r->why);
	rs->n++;
	rs->stale += r->stale;
	rs->removed += r->removed;
}

/* The name a remover (pid 99999) gives a lock it moves aside. */
static inline void aside_name(const char *lock, char *aside, size_t size)
{
	snprintf(aside, size, "%s.99999-1-0.gone", lock);
}

/* Such a remover moves the lock aside. */
static inline void move_aside(const char *lock, char *aside, size_t size)
{
	aside_name(lock, aside, size);
	ck_assert_int_eq(rename(lock, aside), 0);
}

static inline int break_locks(struct reftable_stack *st, unsigned flags,
		       struct reports *rs)
{
	struct reftable_break_options bo = { 0 };

	memset(rs, 0, sizeof(*rs));
	bo.flags = flags;
	bo.report = collect_report;
	bo.report_arg = rs;
	return reftable_stack_break_stale_locks(st, &bo);
}



/*
 * Another process's lock, swapped in right before our first step that
 * would remove our own (the unlink, or the move aside): someone removed
 * ours, and a writer took the lock meanwhile.
 */
struct swap {
	struct reftable_stack *other;
	struct reftable_addition *taker;
	struct reftable_stack *third_st; /* a third writer, if any */
	struct reftable_addition *third;
	const char *lock;
	ino_t theirs; /* the taker's lock */
	int armed;
};

static inline void swap_lock(struct hook_fs *h, const char *path)
{
	struct swap *sw = h->data;

	if (!sw->armed || strcmp(path, sw->lock))
		return;
	sw->armed = 0;
	ck_assert_int_eq(unlink(sw->lock), 0);
	CHECK_OK(reftable_stack_new_addition(&sw->taker, sw->other,
					     REFTABLE_ADDITION_RELOAD));
	sw->theirs = inode_of(sw->lock);
}

static inline void swap_before_rename(struct hook_fs *h, const char *from,
			       const char *to)
{
	swap_lock(h, from);
}

static inline void swap_before_unlink(struct hook_fs *h, const char *path)
{
	swap_lock(h, path);
}

/* The taker's handle on dir (opened with *o), and h to give the handle
 * under test: *o then uses it. */
static inline void swap_init(struct swap *sw, struct hook_fs *h,
			     const char *dir, struct reftable_stack_options *o)
{
	hook_fs_init(h);
	h->before_rename = swap_before_rename;
	h->before_unlink = swap_before_unlink;
	h->data = sw;
	sw->lock = test_path(dir, "tables.list.lock");
	CHECK_OK(reftable_stack_new(&sw->other, dir, o));
	o->fs = &h->fs;
}

static inline void commit_taker(struct swap *sw)
{
	const char *ref[] = { "refs/heads/taker" };
	struct test_write tw = { 0 };

	tw.add = sw->taker;
	tw.refs = ref;
	tw.n = 1;
	tw.fill = 7;
	CHECK_OK(reftable_addition_add(sw->taker, test_write_fn, &tw));
	CHECK_OK(reftable_addition_commit(sw->taker));
	reftable_addition_destroy(sw->taker);
	CHECK_OK(reftable_stack_reload(sw->other));
	ck_assert_int_eq(test_ref_fill(sw->other, "refs/heads/taker"), 7);
}

/* Giving up an addition must not remove the lock another writer took
 * after ours was removed: that writer then commits as usual. */

#endif
