#ifndef LOCKFILE_H
#define LOCKFILE_H

/*
 * Internal: a lock is a file created with O_CREAT|O_EXCL next to the file
 * it protects. Whoever created it owns it; the owner either renames it
 * over the protected file (commit) or removes it (release). Every call
 * goes through a struct reftable_fs.
 */

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fs.h"

struct lockfile {
	const struct reftable_fs *fs;
	char *path; /* NULL when not held */
	int fd;
};

#define LOCKFILE_INIT { NULL, NULL, -1 }

/*
 * Create path exclusively. If it exists, retry with a growing, jittered
 * delay for up to timeout_ms milliseconds (0: try once; negative: wait
 * forever). REFTABLE_LOCK_ERROR names the lock file when it stays taken.
 */
int lockfile_acquire(struct lockfile *lk, const struct reftable_fs *fs,
		     const char *path, mode_t mode, int64_t timeout_ms);

/* Write all of buf into the lock file. */
int lockfile_write(struct lockfile *lk, const void *buf, size_t len);

/*
 * Make the lock file's contents durable (unless do_fsync is 0), close it
 * and rename it over target. The lock is released either way. With
 * keep_fd, a successful commit may instead leave the descriptor open, now
 * one of target, in *keep_fd with its fstat in *kept (-1 if it did not).
 */
int lockfile_commit(struct lockfile *lk, const char *target, int do_fsync,
		    int *keep_fd, struct stat *kept);

/* Close and remove the lock file if held. Safe to call twice. */
void lockfile_release(struct lockfile *lk);

static inline int lockfile_held(const struct lockfile *lk)
{
	return lk->path != NULL;
}

/* Helpers shared by the stack files. */

/* Milliseconds of a monotonic clock. */
int64_t reftable_now_ms(void);
void reftable_sleep_ms(int64_t ms);

#endif
