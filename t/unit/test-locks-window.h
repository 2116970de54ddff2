#ifndef TEST_LOCKS_WINDOW_H
#define TEST_LOCKS_WINDOW_H

/*
 * The window after a raced swap, shared by the review tests. W's lock
 * is removed from outside; a taker X locks, publishes and is told so,
 * all before W's swap, which hands back X's list R. in_window runs at
 * W's next step: its read of R (at_read), or its take of the lock to put
 * R back. Then W's list is in place and no lock is held.
 */

#include <fcntl.h>

#include "test-locks-helpers.h"

struct window {
	struct swap sw; /* first: the swap helpers take h->data as one */
	void (*in_window)(struct window *w);
	struct reftable_stack *third;
	int on, calls, at_read, err;
	const char *dir;
	pid_t child; /* a process forked in the window, if any */
	int go;      /* write a byte to let it go on */
};

static inline void taker_commits_at_the_swap(struct hook_fs *h,
					     const char *from, const char *to)
{
	struct window *w = h->data;

	if (!w->on || !has_end(to, "/tables.list") || ++w->calls != 1)
		return;
	w->sw.armed = 1;
	swap_lock(h, w->sw.lock);
	commit_taker(&w->sw);
}

static inline int is_list_tmp(const char *path)
{
	return strstr(path, "/tables.list.") && has_end(path, ".tmp");
}

static inline void open_in_the_window(struct hook_fs *h, const char *path,
				      int flags)
{
	struct window *w = h->data;
	int hit;

	if (!w->on || w->calls != 1)
		return;
	hit = w->at_read ? is_list_tmp(path) && !(flags & O_CREAT) :
			   !strcmp(path, w->sw.lock) && (flags & O_CREAT);
	if (!hit)
		return;
	w->calls = 2;
	w->in_window(w);
}

/* The handle under test on dir, with w's hooks; *o keeps them. */
static inline void window_init(struct window *w, struct hook_fs *h,
			       const char *dir,
			       struct reftable_stack_options *o)
{
	w->dir = dir;
	o->disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&w->third, dir, o));
	swap_init(&w->sw, h, dir, o);
	h->before_rename = taker_commits_at_the_swap;
	h->before_open = open_in_the_window;
	h->before_unlink = NULL;
	h->data = w;
}

static inline void window_release(struct window *w)
{
	reftable_stack_destroy(w->third);
	reftable_stack_destroy(w->sw.other);
}

/* A third writer commits on the list in place (W's, in the window). */
static inline void third_commits_now(struct window *w)
{
	const char *ref[] = { "refs/heads/third" };
	struct reftable_addition *add;

	start_addition(w->sw.other, &add, ref, 8);
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
}

/* The path of the kept list W's error names, or "" if none. */
static inline void kept_path(char *out, size_t n)
{
	const char *at = strstr(reftable_error_detail(), "named in ");

	if (!at) {
		snprintf(out, n, "%s", "");
		return;
	}
	snprintf(out, n, "%.*s", (int)strcspn(at + 9, " "), at + 9);
}

/* How many of the tables a list file names are missing from dir. */
static inline int missing_tables(const char *dir, const char *list)
{
	char *data = test_read_file(list, NULL), *p, *nl;
	int missing = 0;

	for (p = data; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		missing += !test_exists(test_path(dir, p));
	}
	free(data);
	return missing;
}

/* --- another process, paused at a step of its own ---------------------- */

struct pause {
	int ready, go, done;
};

/* In the forked process: say it reached its step, wait to go on. */
static inline void pause_here(struct pause *p)
{
	char c = 'x';

	p->done = 1;
	if (write(p->ready, &c, 1) != 1 || read(p->go, &c, 1) != 1)
		_exit(101);
}

/*
 * Fork a process running body(w, p) (its exit code), whose hooks call
 * pause_here(p) at the step to stop at; return once it stopped there.
 * w->child and w->go then let it go on and wait for it.
 */
static inline void fork_until_paused(struct window *w,
				     int (*body)(struct window *w,
						 struct pause *p))
{
	int ready[2], go[2];
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	w->child = fork();
	ck_assert_int_ge(w->child, 0);
	if (!w->child) {
		struct pause p = { ready[1], go[0], 0 };

		_exit(body(w, &p));
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	w->go = go[1];
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
}

#endif
