#ifndef LOCKFILE_H
#define LOCKFILE_H

/*
 * Internal: a lock is a file created with O_CREAT|O_EXCL next to the file
 * it protects, holding one line of evidence about its owner (owner.h).
 * A lock is never renamed over anything: a change is published from a
 * file of its own, so an owner can never publish someone else's lock.
 * A lock is only ever removed through lock_remove_if_same(), which
 * removes exactly the file that was judged, never one created after it.
 * Every call goes through a struct reftable_fs.
 */

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "basics.h"
#include "fs.h"

struct lockfile {
	const struct reftable_fs *fs;
	char *path; /* NULL when not held */
	int fd;
	dev_t dev; /* the file we created */
	ino_t ino;
	pid_t owner; /* the process that created it; a forked child is not */
};

#define LOCKFILE_INIT { NULL, NULL, -1, 0, 0, 0 }

/*
 * Create path exclusively and write our evidence into it. If it exists,
 * retry with a growing, jittered delay for up to timeout_ms milliseconds
 * (0: try once; negative: wait forever). REFTABLE_LOCK_ERROR names the
 * lock file when it stays taken.
 */
int lockfile_acquire(struct lockfile *lk, const struct reftable_fs *fs,
		     const char *path, mode_t mode, int64_t timeout_ms);

/*
 * Whether the file at the lock's path is still the one we created, and
 * we are the process that created it: 1 yes, 0 no, < 0 an error.
 */
int lockfile_is_ours(struct lockfile *lk);

/*
 * Remove the lock if it is still ours and close it; safe to call twice.
 * REFTABLE_LOCK_ERROR when the file at its path was no longer ours (it
 * is left alone), an I/O error when it could not be removed. In a forked
 * child the lock is only closed: it belongs to the parent.
 */
int lockfile_release(struct lockfile *lk);

static inline int lockfile_held(const struct lockfile *lk)
{
	return lk->path != NULL;
}

/*
 * Remove path only if it is the file (dev, ino): it is first renamed to
 * a name of its own, and put back (with link, which never replaces) if
 * it turns out to be another file. 1 removed, 0 not that file (or no
 * file), < 0 an error.
 */
int lock_remove_if_same(const struct reftable_fs *fs, const char *path,
			dev_t dev, ino_t ino);

/*
 * lock_remove_if_same()'s last step when the file it moved aside is not
 * the one it judged: put it back from aside to path, unless a new lock
 * took path meanwhile (its owner, who lost it, finds out when it checks
 * before publishing). (dev, ino) is the file aside; if its owner has
 * released it (the mark of let_go(), lockfile.c), it is removed again. Tests
 * play a second remover with it.
 */
void lock_put_back(const struct reftable_fs *fs, const char *aside,
		   const char *path, dev_t dev, ino_t ino);

/* Whether name is what lock_remove_if_same() leaves after a crash. */
int lock_is_removal_leftover(const char *name);

/* Helpers shared by the stack files. */

/* Milliseconds of a monotonic clock. */
int64_t reftable_now_ms(void);
void reftable_sleep_ms(int64_t ms);

/* Waiting for something another process holds: randomized, growing
 * naps, never past the deadline. */
struct backoff {
	int64_t start, delay;
};
void backoff_start(struct backoff *b);
/* Nap before the next try and return 0; or, once timeout_ms (< 0: no
 * limit) has passed, return -1 at once. *waited: ms since the start. */
int backoff_wait(struct backoff *b, int64_t timeout_ms, int64_t *waited);

#endif
